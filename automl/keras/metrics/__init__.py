"""Metrics (``automl.keras.metrics``)."""

from ..losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from ._confusion import *  # noqa: F403
from ._confusion import __all__ as _confusion_names
from ._correlation_metrics import *  # noqa: F403
from ._correlation_metrics import __all__ as _correlation_names
from ._f_score import *  # noqa: F403
from ._f_score import __all__ as _f_score_names
from ._iou_metrics import *  # noqa: F403
from ._iou_metrics import __all__ as _iou_names
from ._loss_metrics import *  # noqa: F403
from ._loss_metrics import __all__ as _loss_metric_names
from ._metrics import *  # noqa: F403
from ._metrics import METRICS as _METRICS
from ._metrics import Accuracy as _Accuracy
from ._metrics import __all__ as _names
from ._metrics import deserialize, serialize
from ._metrics import get as _get_metric_instance  # noqa: F401  (compile, internal callers)
from ._regression import *  # noqa: F403
from ._regression import __all__ as _regression_names
from ._threshold_metrics import *  # noqa: F403
from ._threshold_metrics import __all__ as _threshold_names

__all__ = [*_names, *_confusion_names, *_f_score_names, *_loss_metric_names, *_regression_names,
           *_iou_names, *_threshold_names, *_correlation_names, "deserialize", "get", "serialize"]
# Per-sample functions shared with ``losses``, exported here as in ``keras.metrics``.
__all__ += [
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_hinge", "hinge", "huber", "kl_divergence",
    "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy", "squared_hinge",
]


def get(identifier):
    """Retrieve a metric as Keras 3 does: a :class:`Metric` instance, or a function.

    A class name (``"MeanSquaredError"``), its snake-case name
    (``"mean_squared_error"``, ``"accuracy"``, ``"auc"``), an alias
    (``"mse"``, ``"mae"``, ...), a class or a config dict gives an instance
    of the class with its default name; functions and instances are returned
    as they are; None gives None. (``compile(metrics=[...])`` resolves names
    itself: ``"accuracy"`` there follows the loss, and a metric is logged
    under the string that named it.)

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.get("mse")
    >>> type(m).__name__, m.name
    ('MeanSquaredError', 'mean_squared_error')
    >>> type(metrics.get("accuracy")).__name__
    'Accuracy'
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier == "accuracy":
            return _Accuracy(name="accuracy")  # Keras's default name for Accuracy
        obj = _METRICS.lookup(identifier)
        return obj() if isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, Metric):  # noqa: F405
            return identifier()
    elif callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}.")
