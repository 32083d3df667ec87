"""Losses (``automl.keras.losses``).

The base class, cross-entropies and mean squared error are in ``_losses``;
the other families are in ``_regression``, ``_hinge``, ``_probabilistic``,
``_overlap`` (segmentation) and ``_metric_learning``.
"""

import inspect as _inspect

from . import _hinge, _losses, _metric_learning, _overlap, _probabilistic, _regression
from ._custom import LossFunctionWrapper
from ._hinge import *  # noqa: F403
from ._losses import *  # noqa: F403
from ._losses import LOSSES as _LOSSES
from ._losses import deserialize, mse, serialize
from ._losses import get as _get_loss_instance  # compile and internal callers need instances
from ._metric_learning import *  # noqa: F403
from ._overlap import *  # noqa: F403
from ._probabilistic import *  # noqa: F403
from ._regression import *  # noqa: F403

__all__ = [
    *_losses.__all__,
    *_regression.__all__,
    *_hinge.__all__,
    *_probabilistic.__all__,
    *_overlap.__all__,
    *_metric_learning.__all__,
    "LossFunctionWrapper",
    "deserialize",
    "get",
    "mse",
    "serialize",
]


def _functions() -> dict:
    """The per-sample loss functions by name, with Keras 3's extra aliases."""
    table = {name: obj for name, obj in globals().items()
             if name in __all__ and _inspect.isfunction(obj) and name not in ("get", "serialize", "deserialize")}
    for alias, name in (("MSE", "mse"), ("MAE", "mae"), ("MAPE", "mape"), ("MSLE", "msle"),
                        ("kld", "kl_divergence"), ("KLD", "kl_divergence"),
                        ("bce", "binary_crossentropy"), ("BCE", "binary_crossentropy")):
        table[alias] = table[name]
    return table


def get(identifier):
    """Retrieve a loss as Keras 3 does: a per-sample function or a :class:`Loss` instance.

    The name of a loss function (``"mean_squared_error"``, ``"mse"``,
    ``"categorical_crossentropy"``) gives that function; a class name
    (``"MeanSquaredError"``), a class or a config dict gives an instance of
    the class; functions and instances are returned as they are; None gives
    None. ``compile(loss=...)`` accepts all of these.

    Examples
    --------
    >>> from automl.keras import losses
    >>> losses.get("mean_squared_error") is losses.mean_squared_error
    True
    >>> type(losses.get("MeanSquaredError")).__name__
    'MeanSquaredError'
    >>> losses.get({"class_name": "Huber", "config": {"delta": 0.5}}).delta
    0.5
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        function = _functions().get(identifier)
        if function is not None:
            return function
        obj = _LOSSES.lookup(identifier)  # a class name, or a custom object; unknown names raise
        return obj() if isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        return _get_loss_instance(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, Loss):  # noqa: F405
            return identifier()
    elif callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}.")
