"""Regression losses: absolute, percentage, logarithmic, Huber, log-cosh and cosine.

Each returns per-sample values plus their gradient w.r.t. ``y_pred``; all but
:class:`CosineSimilarity` are element-wise and averaged over the last axis.
Clipped quantities follow Keras's clipping and get a zero gradient where the
clip is active. (:class:`~automl.keras.losses.MeanSquaredError` lives with the
base class.)
"""

from __future__ import annotations

import math

import numpy as np

from ..._validation import Interval, check_param
from ..backend import epsilon
from ._losses import LOSSES, Loss, _functional, _MeanOverLastAxis

__all__ = [
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "CosineSimilarity",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "cosine_similarity",
    "mae",
    "mape",
    "msle",
    "logcosh",
]


_LOG2 = math.log(2.0)


@LOSSES.register(aliases=("mean_absolute_error", "mae", "MAE"))
class MeanAbsoluteError(_MeanOverLastAxis):
    """Mean of absolute errors over the last axis: ``mean(abs(y_true - y_pred))``.

    Examples
    --------
    >>> from automl.keras import losses
    >>> float(losses.MeanAbsoluteError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]))
    0.5
    """

    function_name = "mean_absolute_error"

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _elementwise(self, y_true, y_pred, need_grad):
        diff = y_pred - y_true
        return np.abs(diff), (np.sign(diff) if need_grad else None)


@LOSSES.register(aliases=("mean_absolute_percentage_error", "mape", "MAPE"))
class MeanAbsolutePercentageError(_MeanOverLastAxis):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)))`` over the last axis."""

    function_name = "mean_absolute_percentage_error"

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _elementwise(self, y_true, y_pred, need_grad):
        scale = 100.0 / np.maximum(np.abs(y_true), epsilon())
        diff = y_pred - y_true
        return np.abs(diff) * scale, (np.sign(diff) * scale if need_grad else None)


@LOSSES.register(aliases=("mean_squared_logarithmic_error", "msle", "MSLE"))
class MeanSquaredLogarithmicError(_MeanOverLastAxis):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)))`` over the last axis."""

    function_name = "mean_squared_logarithmic_error"

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _elementwise(self, y_true, y_pred, need_grad):
        eps = epsilon()
        shifted = np.maximum(y_pred, eps) + 1.0
        diff = np.log(shifted) - np.log(np.maximum(y_true, eps) + 1.0)
        if not need_grad:
            return diff * diff, None
        grads = 2.0 * diff / shifted
        grads *= y_pred > eps
        return diff * diff, grads


@LOSSES.register(aliases=("huber",))
class Huber(_MeanOverLastAxis):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond, averaged over the last axis.

    Element-wise ``0.5 * e**2`` if ``|e| <= delta`` else ``delta * |e| - 0.5 * delta**2``,
    with ``e = y_pred - y_true``.

    Parameters
    ----------
    delta : float, default=1.0
        Where the loss changes from quadratic to linear; ``> 0``.
    reduction : str, default="sum_over_batch_size"
    name : str, default="huber_loss"
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import losses
    >>> round(float(losses.Huber()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])), 3)
    0.155
    """

    function_name = "huber"

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.delta = float(check_param(
            "delta", delta, [Interval(float, 0, None, closed="neither")], type(self).__name__
        ))

    def _elementwise(self, y_true, y_pred, need_grad):
        d = self.delta
        err = y_pred - y_true
        abs_err = np.abs(err)
        elem = np.where(abs_err <= d, 0.5 * err * err, d * abs_err - 0.5 * d * d)
        return elem, (np.clip(err, -d, d) if need_grad else None)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


@LOSSES.register(aliases=("log_cosh", "logcosh"))
class LogCosh(_MeanOverLastAxis):
    """``mean(log(cosh(y_pred - y_true)))`` over the last axis, computed without overflow.

    Examples
    --------
    >>> from automl.keras import losses
    >>> round(float(losses.LogCosh()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])), 3)
    0.108
    """

    function_name = "log_cosh"

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _elementwise(self, y_true, y_pred, need_grad):
        err = y_pred - y_true
        abs_err = np.abs(err)
        # log(cosh(x)) = |x| + log1p(exp(-2|x|)) - log(2)
        elem = abs_err + np.log1p(np.exp(-2.0 * abs_err)) - _LOG2
        return elem, (np.tanh(err) if need_grad else None)


@LOSSES.register(aliases=("cosine_similarity",))
class CosineSimilarity(Loss):
    """Negative cosine similarity ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``.

    Values lie in [-1, 1]; -1 means the vectors point the same way. Norms are
    floored at ``eps``, so a zero vector gives 0.

    Parameters
    ----------
    axis : int, default=-1
        The features axis along which the similarity is computed.
    reduction : str, default="sum_over_batch_size"
    name : str, default="cosine_similarity"
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import losses
    >>> loss = losses.CosineSimilarity(reduction="none")
    >>> [round(float(v), 4) for v in loss([[1., 1.], [1., 0.]], [[2., 2.], [-3., 0.]])]
    [-1.0, 1.0]
    """

    function_name = "cosine_similarity"

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(
                f"The 'axis' parameter of {type(self).__name__} must be an int. Got {axis!r} instead."
            )
        self.axis = int(axis)

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        eps = epsilon()
        ax = self.axis
        t_unit = y_true / np.maximum(np.sqrt((y_true * y_true).sum(axis=ax, keepdims=True)), eps)
        norm = np.sqrt((y_pred * y_pred).sum(axis=ax, keepdims=True))
        denom = np.maximum(norm, eps)
        dot = (t_unit * y_pred).sum(axis=ax, keepdims=True)
        values = -np.squeeze(dot / denom, axis=ax)
        if not need_grad:
            return values, None
        # d/dp of -(a . p) / max(|p|, eps); the norm term only where |p| > eps.
        grads = -t_unit / denom
        grads += np.where(norm > eps, dot / denom**3, 0.0) * y_pred
        return values, grads.astype(y_pred.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


mean_absolute_error = _functional(MeanAbsoluteError)
mean_absolute_percentage_error = _functional(MeanAbsolutePercentageError)
mean_squared_logarithmic_error = _functional(MeanSquaredLogarithmicError)
huber = _functional(Huber, delta=1.0)
log_cosh = _functional(LogCosh)
cosine_similarity = _functional(CosineSimilarity, axis=-1)
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
logcosh = log_cosh
