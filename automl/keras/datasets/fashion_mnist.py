"""Fashion-MNIST dataset (``automl.keras.datasets.fashion_mnist``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..utils import downloads as _download
from ._formats import DatasetFormatError, load_xy_npz, read_idx_file

__all__ = ["load_data"]

_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_SUBDIR = "fashion-mnist"
# The four gzip-compressed IDX files and their published SHA-256 digests.
_FILES = {
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
_REMOTES = {
    name: _download.RemoteFile(fname=name, origins=(_BASE + name,), checksum=digest)
    for name, digest in _FILES.items()
}
_OWNER = "automl.keras.datasets.fashion_mnist.load_data"


def load_data(*, path=None):
    """Load Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale clothing images.

    The labels are 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat,
    5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.

    Parameters
    ----------
    path : str or path-like, optional
        Not in Keras (whose ``load_data()`` takes no argument). A local copy to
        read instead of downloading: a directory holding the four IDX files
        ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
        ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz`` (also
        accepted without the ``.gz``), or an ``.npz`` with the arrays
        ``x_train, y_train, x_test, y_test``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_*`` are uint8 arrays of shape ``(n, 28, 28)``; ``y_*`` are uint8
        labels 0..9 of shape ``(n,)``; n is 60,000 for training, 10,000 for test.

    Notes
    -----
    Without ``path``: ``$AUTOML_DATASETS_DIR/fashion_mnist.npz`` when that
    variable is set, else the four files in ``fashion-mnist/`` under the cache
    directory (``$AUTOML_DATA_DIR`` or ``~/.automl/datasets``), each downloaded
    from the Keras mirror and verified by SHA-256 when missing.

    Fashion-MNIST is copyright Zalando SE and licensed under the MIT license.

    Examples
    --------
    >>> from automl.keras.datasets import fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
    >>> x_test.shape  # doctest: +SKIP
    (10000, 28, 28)
    """
    if path is not None:
        local = Path(os.fspath(path)).expanduser()
        if local.is_dir():
            return _read_idx_dir(local)
        if local.is_file():
            return load_xy_npz(local, "Fashion-MNIST", image_shape=(28, 28))
        raise FileNotFoundError(
            f"The 'path' given to fashion_mnist.load_data does not exist: {local}. Expected a "
            f"directory holding {sorted(_FILES)} or an .npz with x_train, y_train, x_test, y_test."
        )
    shared = _download.shared_npz("fashion_mnist")
    if shared is not None:
        return load_xy_npz(shared, "Fashion-MNIST", image_shape=(28, 28))
    hints = (
        f"set the environment variable {_download.DATASETS_DIR_ENV} to a directory holding "
        "fashion_mnist.npz with the arrays x_train, y_train, x_test, y_test",
    )
    folder = _download.cache_dir() / _SUBDIR
    for name, remote in _REMOTES.items():
        _download.fetch(
            remote,
            folder / name,
            owner=_OWNER,
            path_hint='fashion_mnist.load_data(path="/path/to/dir"), where dir holds '
            f"the four files {sorted(_FILES)}",
            extra_hints=hints,
        )
    return _read_idx_dir(folder)


def _read_idx_dir(folder: Path):
    """Read the four IDX files (gzipped or not) from ``folder``."""
    arrays = []
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        candidates = (folder / f"{name}.gz", folder / name)
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise FileNotFoundError(
                f"{folder} does not hold the Fashion-MNIST file {name}.gz (nor {name}); "
                f"expected the four files {sorted(_FILES)}."
            )
        arrays.append(read_idx_file(found))
    x_train, y_train, x_test, y_test = arrays
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (x.shape[0],):
            raise DatasetFormatError(
                f"{folder}: the {split} IDX files hold images {x.shape} and labels {y.shape}; "
                "expected (n, 28, 28) and (n,)."
            )
    return (x_train, y_train), (x_test, y_test)
