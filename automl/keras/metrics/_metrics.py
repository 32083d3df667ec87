"""Stateful metrics streamed over batches (``update_state`` / ``result`` / ``reset_state``).

This module holds the base classes, the accuracies and :func:`get`; the
confusion-matrix metrics, F-scores, regression metrics and loss-based metrics
live in sibling modules and register themselves in :data:`METRICS`.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

from ..._registry import Registry
from ..._validation import Interval, check_param
from .. import losses as _losses
from ..backend import to_snake_case
from ..ops import Tensor

__all__ = [
    "Metric",
    "Mean",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "METRICS",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
]

METRICS = Registry("metric")


class Metric:
    """Base class: accumulate with ``update_state``, read with ``result``.

    As in Keras 3, a subclass creates its state in ``__init__`` with
    :meth:`add_variable` (after calling ``super().__init__``), updates it in
    ``update_state`` (``variable.assign_add(...)``) and reads it in ``result``;
    the base ``reset_state`` sets every variable back to its initial value.
    The base constructor does not call ``reset_state`` for such subclasses
    (their variables do not exist yet); the engine's own metrics, which keep
    their state in plain attributes, are reset by it.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import metrics, ops
    >>> class TruePositives(metrics.Metric):
    ...     def __init__(self, name="true_positives", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.count = self.add_variable(shape=(), initializer="zeros", name="count")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         hits = ops.cast((np.asarray(y_true) == 1) & (np.asarray(y_pred) > 0.5), "float32")
    ...         self.count.assign_add(ops.sum(hits))
    ...     def result(self):
    ...         return self.count
    >>> m = TruePositives()
    >>> m.update_state([1, 0, 1], [0.9, 0.8, 0.2]); m.result()
    1.0
    >>> m.reset_state(); m.result()
    0.0
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "result" in cls.__dict__:
            cls.result = _plain_result(cls.__dict__["result"])

    def __init__(self, name=None, dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self.dtype = dtype
        self._variables = []
        if _engine_class(type(self)):
            self.reset_state()

    # -- state variables (Keras 3) ---------------------------------------------
    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A state variable of this metric, reset to its initial value by ``reset_state``."""
        from ..layers import Variable

        var = Variable(initializer=initializer, shape=tuple(shape or ()), dtype=dtype or self.dtype or "float32",
                       trainable=False, name=f"{self.name}/{name or 'variable'}")
        self._variables.append((var, var.numpy()))
        return var

    add_weight = add_variable

    @property
    def variables(self) -> list:
        return [var for var, _ in self.__dict__.get("_variables", [])]

    def reset_state(self) -> None:
        variables = self.__dict__.get("_variables", [])
        if not variables and type(self).reset_state is Metric.reset_state and _engine_class(type(self)):
            raise NotImplementedError(f"{type(self).__name__} must implement reset_state().")
        for var, initial in variables:
            var.assign(initial)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()


def _engine_class(cls) -> bool:
    """Whether ``cls`` is one of the engine's metrics (state in attributes, reset by ``__init__``)."""
    if not cls.__module__.startswith("automl."):
        return False
    return "<locals>" in cls.__qualname__ or getattr(sys.modules.get(cls.__module__), cls.__name__, None) is cls


def _plain_result(result):
    """A user-defined ``result``, giving floats / arrays (not the metric's live variables)."""
    @functools.wraps(result)
    def plain(self):
        value = result(self)
        if isinstance(value, dict):
            return {k: _plain_value(v) for k, v in value.items()}
        return _plain_value(value)

    return plain


def _plain_value(value):
    return _as_scalar_or_array(value.value) if isinstance(value, Tensor) else value


def _as_scalar_or_array(value):
    """A Python float for a single value, else a float array (as Keras's ``result()``)."""
    value = np.asarray(value, dtype=np.float64)
    return float(value) if value.ndim == 0 else value


def _divide_no_nan(num, den):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast_shapes(num.shape, den.shape))
    np.divide(num, den, out=out, where=den != 0)
    return out


def _match_rank(y_true, y_pred):
    """Keras's squeeze-or-expand: make ``y_true`` and ``y_pred`` the same rank when a
    trailing axis of size 1 is all that differs."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def _same_shape(y_true, y_pred, owner):
    """Float arrays of one shape (after :func:`_match_rank`), or a clear error."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float32)
    y_true, y_pred = _match_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"The 'y_true' argument of {owner}.update_state must have the shape of y_pred "
            f"{y_pred.shape}. Got y_true of shape {y_true.shape} instead (integer class labels "
            "need a one-hot encoding for this metric)."
        )
    return y_true, y_pred


def _sample_weights(sample_weight, shape, owner):
    """``sample_weight`` (one per sample, or broadcastable) as float64 of ``shape``."""
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 1 and len(shape) > 1:
        sw = sw.reshape(sw.shape + (1,) * (len(shape) - 1))
    try:
        return np.broadcast_to(sw, shape)
    except ValueError:
        raise ValueError(
            f"The 'sample_weight' argument of {owner}.update_state must hold one weight per "
            f"sample (or broadcast to {shape}). Got shape {np.shape(sample_weight)} instead."
        ) from None


@METRICS.register
class Mean(Metric):
    """Weighted mean of the values given to ``update_state(values, sample_weight)``."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            w = np.asarray(sample_weight, dtype=np.float64)
            if not (1 < w.ndim <= values.ndim and w.shape == values.shape[:w.ndim]):
                w = w.reshape(values.shape[:1])  # one weight per sample
            w = np.broadcast_to(w.reshape(w.shape + (1,) * (values.ndim - w.ndim)), values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Mean of a per-sample function ``fn(y_true, y_pred)`` over all samples seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    return np.mean((y_pred > threshold) == (y_true > 0.5), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    y_true = np.asarray(y_true)
    if y_true.ndim == np.ndim(y_pred):
        y_true = y_true[..., 0]
    return (y_true == np.argmax(y_pred, axis=-1)).astype(np.float32)


def accuracy(y_true, y_pred):
    return (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float32)


def _in_top_k(labels, y_pred, k):
    """Whether each label's score is among the ``k`` largest (ties count as inside)."""
    scores = np.asarray(y_pred).reshape(-1, np.shape(y_pred)[-1])
    labels = np.asarray(labels).reshape(-1).astype(np.intp)
    target = np.take_along_axis(scores, labels[:, None], axis=1)
    return (scores > target).sum(axis=1) < k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the ``k`` highest predictions."""
    y_true = np.asarray(y_true)
    labels = np.argmax(y_true, axis=-1)
    return _in_top_k(labels, y_pred, k).reshape(labels.shape).astype(np.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer target is among the ``k`` highest predictions."""
    y_true = np.asarray(y_true)
    if y_true.ndim == np.ndim(y_pred):
        y_true = y_true[..., 0]
    return _in_top_k(y_true, y_pred, k).reshape(y_true.shape).astype(np.float32)


def _wrapper_class(class_name, fn, alias, extra=()):
    def __init__(self, name=alias, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **kwargs)

    def from_config(cls, config):
        return cls(**config)

    cls = type(class_name, (MeanMetricWrapper,), {
        "__init__": __init__,
        "from_config": classmethod(from_config),
        "__doc__": f"Mean of :func:`{fn.__name__}` over the samples seen.",
        "__module__": __name__,
    })
    return METRICS.register(cls, aliases=(alias, *extra))


Accuracy = _wrapper_class("Accuracy", accuracy, "exact_accuracy")
BinaryAccuracy = _wrapper_class("BinaryAccuracy", binary_accuracy, "binary_accuracy")
CategoricalAccuracy = _wrapper_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper_class(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy, "sparse_categorical_accuracy"
)


class _TopK(MeanMetricWrapper):
    def __init__(self, fn, k, name, dtype):
        check_param("k", k, [Interval(int, 1, None)], type(self).__name__)
        self.k = int(k)
        super().__init__(fn, name=name, dtype=dtype, k=self.k)


@METRICS.register(aliases=("top_k_categorical_accuracy",))
class TopKCategoricalAccuracy(_TopK):
    """How often the one-hot target is among the ``k`` highest predictions.

    Parameters
    ----------
    k : int, default=5
    name : str, default="top_k_categorical_accuracy"
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.TopKCategoricalAccuracy(k=1)
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, k, name, dtype)


@METRICS.register(aliases=("sparse_top_k_categorical_accuracy",))
class SparseTopKCategoricalAccuracy(_TopK):
    """How often the integer target is among the ``k`` highest predictions.

    Parameters
    ----------
    k : int, default=5
    name : str, default="sparse_top_k_categorical_accuracy"
    dtype : str, optional
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, k, name, dtype)


def _resolve_accuracy(loss_name, output_shape, y_shape):
    """Pick the accuracy variant Keras would for this loss and these shapes."""
    if loss_name in ("binary_crossentropy", "binary_focal_crossentropy") or output_shape[-1] == 1:
        return BinaryAccuracy
    if loss_name == "sparse_categorical_crossentropy":
        return SparseCategoricalAccuracy
    if loss_name in ("categorical_crossentropy", "categorical_focal_crossentropy"):
        return CategoricalAccuracy
    if y_shape is not None and tuple(y_shape[1:]) == tuple(output_shape[1:]):
        return CategoricalAccuracy
    return SparseCategoricalAccuracy


def get(identifier, *, loss_name=None, output_shape=None, y_shape=None) -> Metric:
    """Resolve a metric identifier; ``"accuracy"``/``"acc"`` follow the loss and shapes.

    Strings name a metric (``"auc"``, ``"AUC"``, ``"mse"``) or, failing that,
    a loss (``"huber"``): a loss becomes the mean of its per-sample values.
    A metric given by string is named after that string. Loss instances and
    plain functions ``fn(y_true, y_pred) -> per-sample values`` are wrapped too.

    What ``compile`` uses (the package's public ``metrics.get`` follows Keras 3).

    >>> from automl.keras import metrics
    >>> type(metrics._get_metric_instance("accuracy", loss_name="categorical_crossentropy")).__name__
    'CategoricalAccuracy'
    """
    if identifier in ("accuracy", "acc"):
        cls = _resolve_accuracy(loss_name, output_shape or (None, 2), y_shape)
        return cls(name=identifier)
    if isinstance(identifier, Metric):
        return identifier
    from ._loss_metrics import LossMetric  # _loss_metrics imports this module

    if isinstance(identifier, _losses.Loss) or (
        isinstance(identifier, type) and issubclass(identifier, _losses.Loss)
    ):
        return LossMetric(identifier)
    if callable(identifier) and not isinstance(identifier, type) and getattr(
        identifier, "__module__", ""
    ).startswith(_losses.__name__) and getattr(identifier, "__name__", None) in _losses.LOSSES:
        # A functional loss form (losses.huber): a serializable mean of the loss.
        return LossMetric(_losses._get_loss_instance(identifier), name=identifier.__name__)
    if isinstance(identifier, str):
        if identifier not in METRICS and identifier in _losses.LOSSES:
            # Any loss works as a metric: the mean of its per-sample values.
            return LossMetric(_losses._get_loss_instance(identifier), name=identifier)
        # Keras logs a metric given by string under that string ("mse", not "mean_squared_error").
        cls = METRICS.lookup(identifier)
        return cls(name=identifier) if isinstance(cls, type) else MeanMetricWrapper(cls, name=identifier)
    obj = METRICS.get(identifier, allow_callable=True)
    if isinstance(obj, Metric):
        return obj
    if callable(obj):
        return MeanMetricWrapper(obj)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}.")


def serialize(metric):
    if isinstance(metric, type):  # a class given as a metric: its name resolves back through get()
        return metric.__name__
    return Registry.serialize(metric)


def deserialize(config, custom_objects=None):
    """Rebuild a metric from :func:`serialize`'s output; a serialized loss becomes its mean."""
    name = config.get("class_name") if isinstance(config, dict) else None
    inner = (config.get("config") or {}) if name is not None else {}
    # A serialized loss (metrics=[losses.Hinge()]) has a "reduction"; metric configs never do.
    is_loss = name in _losses.LOSSES and (name not in METRICS or "reduction" in inner)
    if is_loss and not (custom_objects and name in custom_objects):
        from ._loss_metrics import LossMetric  # _loss_metrics imports this module

        return LossMetric(_losses.deserialize(config))
    return METRICS.get(config, custom_objects=custom_objects)

METRICS.base = Metric
