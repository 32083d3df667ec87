"""Overlap losses for segmentation: Dice and Tversky, with gradients w.r.t. ``y_pred``.

Both reduce over ``axis`` (all axes by default, giving one value for the
whole batch, as in Keras).
"""

from __future__ import annotations

import numpy as np

from ..backend import epsilon
from ._losses import LOSSES, Loss, _functional, _real

__all__ = [
    "Dice",
    "Tversky",
    "dice",
    "tversky",
]


def _axis_param(axis, owner):
    """None, an int, or a tuple of ints (a one-element list becomes an int)."""
    def _is_int(a):
        return isinstance(a, (int, np.integer)) and not isinstance(a, bool)

    if axis is None or _is_int(axis):
        return None if axis is None else int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(_is_int(a) for a in axis):
        return tuple(int(a) for a in axis)
    raise TypeError(
        f"The 'axis' parameter of {owner} must be None, an int or a non-empty list of ints. "
        f"Got {axis!r} instead."
    )


# -- Dice and Tversky ----------------------------------------------------------


class _Overlap(Loss):
    """``1 - overlap ratio`` summed over ``axis``; all axes (one value per batch) when None."""

    def __init__(self, axis=None, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = _axis_param(axis, type(self).__name__)

    def _axes(self, ndim):
        if self.axis is None:
            return tuple(range(ndim))
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        return tuple(sorted(a % ndim for a in axes))

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        t = np.asarray(y_true, dtype=y_pred.dtype)
        axes = self._axes(y_pred.ndim)
        values, grads = self._ratio(t, y_pred, axes, need_grad)
        values = np.squeeze(values, axis=axes)
        return values, (grads.astype(y_pred.dtype, copy=False) if need_grad else None)

    def _ratio(self, t, p, axes, need_grad):
        raise NotImplementedError

    def _reduce(self, values, grads, sample_weight):
        """The base reduction, with weights broadcast through the summed axes.

        A single value for the whole batch (``axis=None``) is scaled by the
        weights as Keras broadcasts it: ``value * sum(w)``, divided by the
        number of weights for the averaging reductions.
        """
        if sample_weight is None:
            return super()._reduce(values, grads, None)
        sw = np.asarray(sample_weight, dtype=values.dtype)
        if values.ndim == 0:
            total_w = float(sw.sum())
            red = self.reduction
            if red in ("none", None):
                if grads is not None:
                    grads *= total_w
                return values * sw, grads
            scale = total_w
            if red in ("sum_over_batch_size", "mean"):
                scale /= float(sw.size) or 1.0
            elif red == "mean_with_sample_weight":
                scale = 1.0 if total_w else 0.0
            if grads is not None:
                grads *= scale
            return float(values) * scale, grads
        if not (1 < sw.ndim <= values.ndim and sw.shape == values.shape[:sw.ndim]):
            sw = sw.reshape(values.shape[:1])
        sw = sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
        if grads is not None:
            grads *= np.expand_dims(sw, self._axes(grads.ndim))
        weighted = values * sw
        red = self.reduction
        if red in ("none", None):
            return weighted, grads
        total = float(weighted.sum())
        if red == "sum":
            return total, grads
        if red == "mean_with_sample_weight":
            denom = float(np.broadcast_to(sw, values.shape).sum()) or 1.0
        else:
            denom = float(values.size) or 1.0
        if grads is not None:
            grads *= 1.0 / denom
        return total / denom, grads

    def get_config(self):
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {**super().get_config(), "axis": axis}


@LOSSES.register(aliases=("dice",))
class Dice(_Overlap):
    """Dice loss: ``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)``.

    The sums run over ``axis``; with ``axis=None`` over every axis, so the
    whole batch gives a single value.

    Parameters
    ----------
    reduction : str, default="sum_over_batch_size"
    name : str, default="dice"
    axis : int or tuple of int, optional
        Axes summed over; every axis when None.
    dtype : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import losses
    >>> y_true = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    >>> y_pred = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    >>> losses.dice(y_true, y_pred, axis=(1, 2, 3)).round(4).tolist()
    [0.5, 0.7576]
    >>> round(float(losses.Dice()(y_true, y_pred)), 4)
    0.6164
    """

    function_name = "dice"

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(axis=axis, reduction=reduction, name=name, dtype=dtype)

    def _ratio(self, t, p, axes, need_grad):
        inter = np.sum(t * p, axis=axes, keepdims=True)
        denom = np.sum(t, axis=axes, keepdims=True)
        denom += np.sum(p, axis=axes, keepdims=True)
        denom += epsilon()
        values = 1.0 - 2.0 * inter / denom
        if not need_grad:
            return values, None
        # d/dp = -2 t / D + 2 I / D**2
        grads = t * (-2.0 / denom)
        grads += 2.0 * inter / (denom * denom)
        return values, grads


@LOSSES.register(aliases=("tversky",))
class Tversky(_Overlap):
    """Tversky loss: ``1 - I / (I + alpha * A + beta * B + eps)``, Keras's weighting.

    With ``I = sum(y_true * y_pred)``, ``A = sum(y_true * (1 - y_pred))`` and
    ``B = sum((1 - y_true) * y_pred)`` over ``axis`` (every axis when None).
    As in Keras, ``alpha`` weights ``A`` and ``beta`` weights ``B``;
    ``alpha = beta = 0.5`` is the Dice loss (up to where ``eps`` enters).

    Parameters
    ----------
    alpha : float, default=0.5
    beta : float, default=0.5
    reduction : str, default="sum_over_batch_size"
    name : str, default="tversky"
    axis : int or tuple of int, optional
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import losses
    >>> loss = losses.Tversky(alpha=0.7, beta=0.3)
    >>> round(float(loss([[1.0, 0.0], [1.0, 1.0]], [[0.5, 0.5], [1.0, 0.0]])), 4)
    0.4444
    """

    function_name = "tversky"

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(axis=axis, reduction=reduction, name=name, dtype=dtype)
        owner = type(self).__name__
        self.alpha = _real("alpha", alpha, owner)
        self.beta = _real("beta", beta, owner)

    def _ratio(self, t, p, axes, need_grad):
        a, b = self.alpha, self.beta
        inter = np.sum(t * p, axis=axes, keepdims=True)
        missed = np.sum(t, axis=axes, keepdims=True) - inter  # sum(t * (1 - p))
        extra = np.sum(p, axis=axes, keepdims=True) - inter  # sum((1 - t) * p)
        denom = inter + a * missed + b * extra + epsilon()
        values = 1.0 - inter / denom
        if not need_grad:
            return values, None
        # dI/dp = t, dA/dp = -t, dB/dp = 1 - t:
        # d/dp = -t / D + I * ((1 - a) t + b (1 - t)) / D**2
        grads = t * ((1.0 - a - b) * inter / (denom * denom) - 1.0 / denom)
        grads += b * inter / (denom * denom)
        return values, grads

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


# -- functional forms ---------------------------------------------------------------


dice = _functional(Dice, axis=None)
tversky = _functional(Tversky, alpha=0.5, beta=0.5, axis=None)
