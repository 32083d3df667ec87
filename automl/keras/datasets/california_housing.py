"""California Housing price regression dataset (``automl.keras.datasets.california_housing``)."""

from __future__ import annotations

from ..._validation import Interval, Options, check_param
from ..utils import downloads as _download
from ._splits import keras_order, load_x_y, train_test_split

__all__ = ["load_data"]

_REMOTE = _download.RemoteFile(
    fname="california_housing.npz",
    origins=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz",),
    checksum="1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f",
)
_OWNER = "california_housing.load_data"
_SMALL = 600  # the "small" version: the first 600 block groups


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Load the California Housing dataset: 20,640 block groups, 8 features, median house value.

    From the StatLib repository (1990 U.S. census, one row per block group).
    The features are MedInc, HouseAge, AveRooms, AveBedrms, Population,
    AveOccup, Latitude and Longitude; the target is the median house value in
    dollars.

    Parameters
    ----------
    version : {"large", "small"}, default="large"
        "large" has all 20,640 samples; "small" the first 600 (Keras's
        stand-in for ``boston_housing``).
    path : str or path-like, default="california_housing.npz"
        A file name inside the cache directory (``$AUTOML_DATA_DIR`` or
        ``~/.automl/datasets``); an absolute path, or a relative path to an
        existing file, is read as a local copy (an ``.npz`` with arrays ``x``
        and ``y``).
    test_split : float, default=0.2
        Fraction of the samples put in the test set, in ``[0, 1)``.
    seed : int, default=113
        Seed of the shuffle done before splitting (Keras's exact split).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_*`` of shape ``(n, 8)`` and targets ``y_*`` of shape ``(n,)``, as
        stored; with the defaults n is 16,512 for training and 4,128 for test.

    Examples
    --------
    >>> from automl.keras.datasets import california_housing
    >>> (x_train, y_train), (x_test, y_test) = california_housing.load_data(version="small")  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((480, 8), (120, 8))
    """
    check_param("version", version, [Options(("large", "small"))], _OWNER)
    check_param("test_split", test_split, [Interval(float, 0, 1, closed="left")], _OWNER)
    source = _download.obtain(
        path, _REMOTE, owner="automl.keras.datasets.california_housing.load_data"
    )
    x, y = load_x_y(source, "California Housing")
    if version == "small":
        x, y = x[:_SMALL], y[:_SMALL]
    order = keras_order(len(x), seed)
    return train_test_split(x[order], y[order], test_split)
