"""CIFAR-100 small images classification dataset (``automl.keras.datasets.cifar100``)."""

from __future__ import annotations

import numpy as np

from ..._validation import Options, check_param
from ..utils import downloads as _download
from . import _cifar

__all__ = ["load_data"]

_REMOTE = _download.RemoteFile(
    fname="cifar-100-python.tar.gz",
    origins=("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
    checksum="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
)
_FOLDER = "cifar-100-python"


def load_data(label_mode="fine", *, path=None):
    """Load CIFAR-100: 50,000 training and 10,000 test 32x32 colour images.

    Parameters
    ----------
    label_mode : {"fine", "coarse"}, default="fine"
        ``"fine"`` gives the 100 fine-grained classes, ``"coarse"`` the 20
        superclasses they are grouped into.
    path : str or path-like, optional
        Not in Keras. A local copy to read instead of downloading: the archive
        ``cifar-100-python.tar.gz`` or the folder ``cifar-100-python/``
        extracted from it (or its parent).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_*`` are uint8 arrays of shape ``(n, 32, 32, 3)`` (channels last);
        ``y_*`` are int64 labels of shape ``(n, 1)`` (0..99 fine, 0..19 coarse);
        n is 50,000 for training and 10,000 for test. (Keras documents uint8
        labels but its loader returns the int64 array built from the label
        lists, as this one does.)

    Notes
    -----
    Without ``path`` the archive is kept in the cache directory
    (``$AUTOML_DATA_DIR`` or ``~/.automl/datasets``), downloaded from the
    CIFAR homepage and verified by SHA-256 when missing, and read without being
    extracted, with an unpickler that can only rebuild NumPy arrays.

    Examples
    --------
    >>> from automl.keras.datasets import cifar100
    >>> (x_train, y_train), _ = cifar100.load_data(label_mode="coarse")  # doctest: +SKIP
    >>> int(y_train.max())  # doctest: +SKIP
    19
    """
    check_param("label_mode", label_mode, [Options(("fine", "coarse"))], "cifar100.load_data")
    src = _cifar.source(path, _REMOTE, _FOLDER, owner="automl.keras.datasets.cifar100.load_data")
    batches = _cifar.load_batches(src, _FOLDER, ("train", "test"), f"{label_mode}_labels")
    out = []
    for name in ("train", "test"):
        x, labels = batches[name]
        out.append((_cifar.to_image_format(x), np.asarray(labels, dtype=np.int64).reshape(-1, 1)))
    return tuple(out)
