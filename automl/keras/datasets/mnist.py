"""MNIST handwritten digits dataset (``automl.keras.datasets.mnist``)."""

from __future__ import annotations

from ..utils import downloads as _download
from ._formats import load_xy_npz

__all__ = ["load_data"]

_REMOTE = _download.RemoteFile(
    fname="mnist.npz",
    origins=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",),
    checksum="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
)


def load_data(path="mnist.npz"):
    """Load the MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale digits.

    Parameters
    ----------
    path : str or path-like, default="mnist.npz"
        As in Keras, a file name inside the cache directory (``$AUTOML_DATA_DIR``
        or ``~/.automl/datasets``) where the download is kept. An absolute path,
        or a relative path to an existing file, is read as a local copy: an
        ``.npz`` with the four arrays ``x_train, y_train, x_test, y_test`` (the
        Keras file or any re-save of the same arrays).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_*`` are uint8 arrays of shape ``(n, 28, 28)`` with pixel values in
        0..255; ``y_*`` are uint8 digit labels 0..9 of shape ``(n,)``; n is
        60,000 for training and 10,000 for test.

    Notes
    -----
    Where the data comes from, in order: an existing file named by ``path``;
    ``$AUTOML_DATASETS_DIR/mnist.npz`` when that variable is set (same array
    layout); the checksum-verified copy in the cache directory; a download from
    the Keras mirror, verified by SHA-256 before it is stored. Without network
    access or a local copy a ``DatasetNotAvailableError`` (an ``OSError``)
    explains how to provide the file.

    MNIST is by Yann LeCun and Corinna Cortes, made available under the terms of
    the Creative Commons Attribution-Share Alike 3.0 license.

    Examples
    --------
    >>> from automl.keras.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train[:5]  # doctest: +SKIP
    ((60000, 28, 28), array([5, 0, 4, 1, 9], dtype=uint8))
    """
    source = _download.obtain(
        path, _REMOTE, owner="automl.keras.datasets.mnist.load_data", shared_name="mnist"
    )
    return load_xy_npz(source, "MNIST", image_shape=(28, 28))
