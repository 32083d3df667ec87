"""Boston Housing price regression dataset (``automl.keras.datasets.boston_housing``)."""

from __future__ import annotations

from ..._validation import Interval, check_param
from ..utils import downloads as _download
from ._splits import keras_order, load_x_y, train_test_split

__all__ = ["load_data"]

_REMOTE = _download.RemoteFile(
    fname="boston_housing.npz",
    origins=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz",),
    checksum="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
)


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Load the Boston Housing dataset: 506 areas, 13 attributes, median home value in k$.

    The data comes from the StatLib library (Carnegie Mellon University). It
    has an ethical problem: one attribute, "B", encodes an assumption that
    racial self-segregation influences house prices; use it only to discuss
    such issues, not as a benchmark.

    Parameters
    ----------
    path : str or path-like, default="boston_housing.npz"
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
        ``x_*`` of shape ``(n, 13)`` and targets ``y_*`` of shape ``(n,)``, as
        stored (float64); with the defaults n is 404 for training, 102 for test.

    Examples
    --------
    >>> from automl.keras.datasets import boston_housing
    >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data()  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((404, 13), (102, 13))
    """
    check_param(
        "test_split", test_split, [Interval(float, 0, 1, closed="left")],
        "boston_housing.load_data",
    )
    source = _download.obtain(
        path, _REMOTE, owner="automl.keras.datasets.boston_housing.load_data"
    )
    x, y = load_x_y(source, "Boston Housing")
    order = keras_order(len(x), seed)
    return train_test_split(x[order], y[order], test_split)
