"""CIFAR-10 small images classification dataset (``automl.keras.datasets.cifar10``)."""

from __future__ import annotations

import numpy as np

from ..utils import downloads as _download
from . import _cifar

__all__ = ["load_data"]

_REMOTE = _download.RemoteFile(
    fname="cifar-10-python.tar.gz",
    origins=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    checksum="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
)
_FOLDER = "cifar-10-batches-py"
_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))


def load_data(*, path=None):
    """Load CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    The labels are 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog,
    6 frog, 7 horse, 8 ship, 9 truck.

    Parameters
    ----------
    path : str or path-like, optional
        Not in Keras (whose ``load_data()`` takes no argument). A local copy to
        read instead of downloading: the archive ``cifar-10-python.tar.gz`` or
        the folder ``cifar-10-batches-py/`` extracted from it (or its parent).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_*`` are uint8 arrays of shape ``(n, 32, 32, 3)`` (channels last);
        ``y_*`` are uint8 labels 0..9 of shape ``(n, 1)``; n is 50,000 for
        training and 10,000 for test.

    Notes
    -----
    Without ``path`` the archive is kept in the cache directory
    (``$AUTOML_DATA_DIR`` or ``~/.automl/datasets``), downloaded from the
    CIFAR homepage and verified by SHA-256 when missing, and read without
    being extracted. The batches are pickles; they are read with an unpickler
    that can only rebuild NumPy arrays, never arbitrary objects.

    Examples
    --------
    >>> from automl.keras.datasets import cifar10
    >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape  # doctest: +SKIP
    ((50000, 32, 32, 3), (50000, 1))
    """
    src = _cifar.source(path, _REMOTE, _FOLDER, owner="automl.keras.datasets.cifar10.load_data")
    batches = _cifar.load_batches(src, _FOLDER, (*_TRAIN, "test_batch"), "labels")
    x_train = np.concatenate([batches[name][0] for name in _TRAIN])
    y_train = np.concatenate([np.asarray(batches[name][1], dtype=np.uint8) for name in _TRAIN])
    x_test, test_labels = batches["test_batch"]
    y_test = np.asarray(test_labels, dtype=np.uint8)
    return (
        (_cifar.to_image_format(x_train), y_train.reshape(-1, 1)),
        (_cifar.to_image_format(x_test), y_test.reshape(-1, 1)),
    )
