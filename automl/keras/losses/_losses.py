"""Losses: per-sample values, their gradient w.r.t. ``y_pred``, and reductions.

A loss implements ``_values_and_grads(y_true, y_pred) -> (values, grads)``:
``values`` has shape ``y_pred.shape[:-1]`` and ``grads`` is the gradient of
each value w.r.t. ``y_pred``. The base class applies sample weights and the
reduction. Cross-entropies paired with their natural output activation
(softmax, sigmoid) also offer ``fused_value_and_grad``, the numerically stable
gradient w.r.t. the logits (``probs - targets``).
"""

from __future__ import annotations

import inspect

import numpy as np

from ..._registry import Registry
from ..._validation import Interval, Options, check_param
from ..backend import epsilon

__all__ = [
    "Loss",
    "MeanSquaredError",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy",
    "LOSSES",
    "mean_squared_error",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
]

LOSSES = Registry("loss")
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    """Base class of losses.

    Parameters
    ----------
    name : str, optional
    reduction : str, default="sum_over_batch_size"
        ``"sum_over_batch_size"`` / ``"mean"`` (weighted sum / number of values),
        ``"sum"``, ``"mean_with_sample_weight"`` (weighted sum / sum of weights),
        or ``"none"``/None (per-sample values).
    """

    fused_activation: str | None = None
    function_name = "loss"

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or self.function_name
        self.reduction = check_param("reduction", reduction, [Options(_REDUCTIONS)], type(self).__name__)
        self.dtype = dtype

    # -- public API --------------------------------------------------------
    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        if y_pred.dtype.kind != "f":
            y_pred = y_pred.astype(np.float32)
        y_true = self.prepare_targets(np.asarray(y_true), y_pred.shape)
        values, _ = self._values_and_grads(y_true, y_pred, need_grad=False)
        return self._reduce(values, None, sample_weight)[0]

    def call(self, y_true, y_pred):
        """Per-sample loss values (no reduction)."""
        y_pred = np.asarray(y_pred, dtype=np.result_type(np.asarray(y_pred).dtype, np.float32))
        y_true = self.prepare_targets(np.asarray(y_true), y_pred.shape)
        return self._values_and_grads(y_true, y_pred, need_grad=False)[0]

    def value_and_grad(self, y_true, y_pred, sample_weight=None):
        """Reduced loss value and its gradient w.r.t. ``y_pred``."""
        values, grads = self._values_and_grads(y_true, y_pred, need_grad=True)
        return self._reduce(values, grads, sample_weight)

    def fused_value_and_grad(self, y_true, probs, sample_weight=None):
        """Reduced loss value and its gradient w.r.t. the logits behind ``probs``."""
        values, grads = self._fused(y_true, probs)
        return self._reduce(values, grads, sample_weight)

    def prepare_targets(self, y_true, output_shape, owner="fit"):
        """Check ``y_true`` against the model output shape; return it in the loss's layout.

        Dimensions the model leaves undefined (``None``, as for variable-length
        sequences) accept any size.
        """
        y_true = _as_float(y_true)
        if y_true.ndim == len(output_shape) - 1 and output_shape[-1] == 1:
            y_true = y_true.reshape(*y_true.shape, 1)
        if not _shape_matches(y_true.shape[1:], output_shape[1:]):
            raise ValueError(
                f"The 'y' argument of {owner} must have shape {_shape_str(output_shape)} to match "
                f"the model output for loss {self.name!r}. Got y of shape {y_true.shape} instead."
            )
        return y_true

    # -- to implement ------------------------------------------------------
    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        raise NotImplementedError

    def _fused(self, y_true, probs):
        raise NotImplementedError(f"{type(self).__name__} has no fused gradient.")

    # -- helpers -----------------------------------------------------------
    def _reduce(self, values, grads, sample_weight):
        n = values.size
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=values.dtype)
            if not (1 < sw.ndim <= values.ndim and sw.shape == values.shape[:sw.ndim]):
                sw = sw.reshape(values.shape[:1])  # one weight per sample
            sw = sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
            values = values * sw
            if grads is not None:
                grads *= sw.reshape(sw.shape + (1,))
        red = self.reduction
        if red in ("none", None):
            return values, grads
        total = float(values.sum())
        if red == "sum":
            return total, grads
        if red == "mean_with_sample_weight" and sample_weight is not None:
            denom = float(np.broadcast_to(sw, values.shape).sum()) or 1.0
        else:
            denom = float(n) or 1.0
        if grads is not None:
            grads *= 1.0 / denom
        return total / denom, grads

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _shape_matches(shape, expected) -> bool:
    """Whether ``shape`` has the rank of ``expected`` and its size wherever that is known."""
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))


def _shape_str(shape):
    return "(" + ", ".join("None" if i == 0 else str(d) for i, d in enumerate(shape)) + ("," if len(shape) == 1 else "") + ")"


def _as_float(y):
    return y if y.dtype.kind == "f" else y.astype(np.float32)


@LOSSES.register(aliases=("mse", "MSE", "mean_squared_error"))
class MeanSquaredError(Loss):
    """Mean of squared errors over the last axis."""

    function_name = "mean_squared_error"

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        diff = y_pred - y_true
        values = np.mean(diff * diff, axis=-1)
        if not need_grad:
            return values, None
        diff *= 2.0 / diff.shape[-1]
        return values, diff


class _Crossentropy(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(
            check_param("label_smoothing", label_smoothing, [Interval(float, 0, 1)], type(self).__name__)
        )
        self.axis = axis

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@LOSSES.register(aliases=("categorical_crossentropy",))
class CategoricalCrossentropy(_Crossentropy):
    """Cross-entropy between one-hot (or soft) targets and predicted probabilities."""

    function_name = "categorical_crossentropy"
    fused_activation = "softmax"

    def _smooth(self, y_true):
        if self.label_smoothing:
            k = y_true.shape[-1]
            return y_true * (1.0 - self.label_smoothing) + self.label_smoothing / k
        return y_true

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        t = self._smooth(y_true)
        if self.from_logits:
            logp = _log_softmax(y_pred)
            values = -np.einsum("...i,...i->...", t, logp)
            if not need_grad:
                return values, None
            p = np.exp(logp)
            return values, p * t.sum(axis=-1, keepdims=True) - t
        eps = epsilon()
        total = y_pred.sum(axis=-1, keepdims=True)
        p = np.clip(y_pred / total, eps, 1.0 - eps)
        values = -np.einsum("...i,...i->...", t, np.log(p))
        if not need_grad:
            return values, None
        inside = (y_pred / total > eps) & (y_pred / total < 1.0 - eps)
        grads = -(t / p) * inside / total + t.sum(axis=-1, keepdims=True) / total
        return values, grads.astype(y_pred.dtype, copy=False)

    def _fused(self, y_true, probs):
        t = self._smooth(y_true)
        eps = epsilon()
        values = -np.einsum("...i,...i->...", t, np.log(np.clip(probs, eps, 1.0 - eps)))
        # As Keras: probabilities are clipped to [eps, 1 - eps] and the clip has zero
        # gradient outside, so a saturated class contributes nothing to the logits' gradient.
        inside = (probs > eps) & (probs < 1.0 - eps)
        u = t * inside if not inside.all() else t
        grads = probs * u.sum(axis=-1, keepdims=True) if (self.label_smoothing or u is not t) else probs.copy()
        grads -= u
        return values, grads


@LOSSES.register(aliases=("sparse_categorical_crossentropy",))
class SparseCategoricalCrossentropy(_Crossentropy):
    """Cross-entropy between integer class labels and predicted probabilities."""

    function_name = "sparse_categorical_crossentropy"
    fused_activation = "softmax"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name=None, dtype=None, axis=-1):
        super().__init__(from_logits=from_logits, axis=axis, name=name, reduction=reduction, dtype=dtype)
        self.ignore_class = ignore_class

    def get_config(self):
        config = super().get_config()
        config.pop("label_smoothing")
        return {**config, "ignore_class": self.ignore_class}

    def prepare_targets(self, y_true, output_shape, owner="fit"):
        y = np.asarray(y_true)
        if y.ndim == len(output_shape) and y.shape[-1] == 1:
            y = y.reshape(y.shape[:-1])
        if not _shape_matches(y.shape[1:], output_shape[1:-1]):
            raise ValueError(
                f"The 'y' argument of {owner} must hold integer class labels of shape "
                f"{_shape_str(output_shape[:-1])} for loss {self.name!r} (model output "
                f"{_shape_str(output_shape)}). Got y of shape {y.shape} instead."
            )
        if y.dtype.kind == "f" and y.size and not np.all(np.mod(y, 1) == 0):
            raise ValueError(
                f"The 'y' argument of {owner} must hold integer class labels for loss "
                f"{self.name!r}. Got non-integer values such as {y[np.mod(y, 1) != 0].flat[0]!r}."
            )
        if y.dtype.kind not in "iuf":
            raise ValueError(
                f"The 'y' argument of {owner} must hold integer class labels for loss "
                f"{self.name!r}. Got values of dtype {y.dtype} instead."
            )
        k = output_shape[-1]
        checked = y if self.ignore_class is None else y[y != self.ignore_class]
        if k is not None and checked.size and (checked.min() < 0 or checked.max() >= k):
            raise ValueError(
                f"The 'y' argument of {owner} must hold class labels in [0, {k - 1}] to match the "
                f"model's {k} output units. Got labels in [{checked.min():g}, {checked.max():g}] instead."
            )
        return y.astype(np.intp, copy=False)

    def _onehot_index(self, y_true, shape):
        flat = y_true.reshape(-1)
        if self.ignore_class is not None:
            flat = np.where(flat == self.ignore_class, 0, flat)
        return np.arange(flat.size), flat

    def _mask_ignored(self, y_true, values, grads):
        """Zero the ignored labels' losses; averaging reductions then count only the others."""
        if self.ignore_class is None:
            return values, grads
        valid = y_true != self.ignore_class
        values = np.where(valid, values, 0.0).astype(values.dtype, copy=False)
        if grads is not None:
            grads *= valid[..., None]
        n_valid = int(valid.sum())
        if self.reduction in ("sum_over_batch_size", "mean") and n_valid:
            scale = valid.size / n_valid
            values *= scale
            if grads is not None:
                grads *= scale
        return values, grads

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        values, grads = self._raw_values_and_grads(y_true, y_pred, need_grad)
        return self._mask_ignored(y_true, values, grads)

    def _fused(self, y_true, probs):
        values, grads = self._raw_fused(y_true, probs)
        return self._mask_ignored(y_true, values, grads)

    def _raw_values_and_grads(self, y_true, y_pred, need_grad=True):
        k = y_pred.shape[-1]
        rows, cols = self._onehot_index(y_true, y_pred.shape)
        if self.from_logits:
            logp = _log_softmax(y_pred).reshape(-1, k)
            values = -logp[rows, cols].reshape(y_true.shape)
            if not need_grad:
                return values, None
            grads = np.exp(logp)
            grads[rows, cols] -= 1.0
            return values, grads.reshape(y_pred.shape)
        eps = epsilon()
        p2 = y_pred.reshape(-1, k)
        total = p2.sum(axis=-1)
        picked = p2[rows, cols] / total
        clipped = np.clip(picked, eps, 1.0 - eps)
        values = -np.log(clipped).reshape(y_true.shape)
        if not need_grad:
            return values, None
        grads = np.broadcast_to((1.0 / total)[:, None], p2.shape).copy()
        inside = (picked > eps) & (picked < 1.0 - eps)
        grads[rows, cols] -= inside / (clipped * total)
        return values, grads.reshape(y_pred.shape).astype(y_pred.dtype, copy=False)

    def _raw_fused(self, y_true, probs):
        k = probs.shape[-1]
        rows, cols = self._onehot_index(y_true, probs.shape)
        grads = probs.reshape(-1, k).copy()
        eps = epsilon()
        picked = grads[rows, cols]
        values = -np.log(np.clip(picked, eps, 1.0 - eps)).reshape(y_true.shape)
        grads[rows, cols] -= 1.0
        inside = (picked > eps) & (picked < 1.0 - eps)
        if not inside.all():  # Keras's clip: no gradient from a saturated probability
            grads *= inside[:, None]
        return values, grads.reshape(probs.shape)


@LOSSES.register(aliases=("binary_crossentropy", "bce"))
class BinaryCrossentropy(_Crossentropy):
    """Element-wise cross-entropy of 0/1 targets, averaged over the last axis."""

    function_name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def _smooth(self, y_true):
        if self.label_smoothing:
            return y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y_true

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        t = self._smooth(y_true)
        k = y_pred.shape[-1]
        if self.from_logits:
            z = y_pred
            elem = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
            values = elem.mean(axis=-1)
            if not need_grad:
                return values, None
            p = 0.5 * (1.0 + np.tanh(0.5 * z))
            return values, (p - t) / k
        eps = epsilon()
        p = np.clip(y_pred, eps, 1.0 - eps)
        values = -(t * np.log(p) + (1.0 - t) * np.log(1.0 - p)).mean(axis=-1)
        if not need_grad:
            return values, None
        inside = (y_pred > eps) & (y_pred < 1.0 - eps)
        grads = (p - t) / (p * (1.0 - p)) * inside / k
        return values, grads.astype(y_pred.dtype, copy=False)

    def _fused(self, y_true, probs):
        t = self._smooth(y_true)
        eps = epsilon()
        p = np.clip(probs, eps, 1.0 - eps)
        values = -(t * np.log(p) + (1.0 - t) * np.log(1.0 - p)).mean(axis=-1)
        grads = probs - t
        grads *= 1.0 / probs.shape[-1]
        inside = (probs > eps) & (probs < 1.0 - eps)
        if not inside.all():  # Keras's clip: no gradient from a saturated probability
            grads *= inside
        return values, grads


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _focal_power_grad(u, gamma):
    """``d(u ** gamma) / du``, taken as 0 where ``u == 0`` (``gamma`` != 1)."""
    if gamma == 1:
        return np.ones_like(u)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = gamma * u ** (gamma - 1.0)
    grad[u == 0] = 0.0
    return grad


@LOSSES.register(aliases=("binary_focal_crossentropy",))
class BinaryFocalCrossentropy(_Crossentropy):
    """Binary cross-entropy down-weighting easy examples by a focal factor.

    Element-wise ``(1 - p_t) ** gamma * bce``, where ``p_t`` is the predicted
    probability of the true class, averaged over the last axis (Lin et al.,
    2018). With ``apply_class_balancing`` each element is further weighted by
    ``alpha`` (class 1) or ``1 - alpha`` (class 0). ``gamma=0`` without class
    balancing is plain binary cross-entropy.

    Parameters
    ----------
    apply_class_balancing : bool, default=False
    alpha : float, default=0.25
        Weight of class 1 when ``apply_class_balancing``; class 0 gets ``1 - alpha``.
    gamma : float, default=2.0
        Focusing parameter, ``>= 0``.
    from_logits : bool, default=False
        ``y_pred`` holds logits (a sigmoid is applied inside the loss).
    label_smoothing : float, default=0.0
        Squeezes the targets towards 0.5: ``y * (1 - s) + 0.5 * s``.
    axis : int, default=-1
    reduction : str, default="sum_over_batch_size"
    name : str, default="binary_focal_crossentropy"
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import losses
    >>> loss = losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
    >>> round(float(loss([0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8])), 3)
    0.691
    """

    function_name = "binary_focal_crossentropy"

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         reduction=reduction, name=name, dtype=dtype)
        owner = type(self).__name__
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha = float(check_param("alpha", alpha, [Interval(float, 0, 1)], owner))
        self.gamma = float(check_param("gamma", gamma, [Interval(float, 0, None)], owner))

    def _smooth(self, y_true):
        if self.label_smoothing:
            return y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y_true

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        t = self._smooth(y_true)
        eps = epsilon()
        if self.from_logits:
            z = y_pred
            p = _sigmoid(z)
            bce = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        else:
            p = y_pred
            pc = np.clip(p, eps, 1.0 - eps)
            bce = -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))
        u = t * (1.0 - p) + (1.0 - t) * p  # 1 - p_t
        focal = u ** self.gamma
        elem = focal * bce
        weight = None
        if self.apply_class_balancing:
            weight = t * self.alpha + (1.0 - t) * (1.0 - self.alpha)
            elem *= weight
        values = elem.mean(axis=-1)
        if not need_grad:
            return values, None
        dfocal_dp = _focal_power_grad(u, self.gamma) * (1.0 - 2.0 * t)
        if self.from_logits:
            grads = dfocal_dp * (p * (1.0 - p)) * bce + focal * (p - t)
        else:
            inside = (p > eps) & (p < 1.0 - eps)
            grads = dfocal_dp * bce + focal * ((pc - t) / (pc * (1.0 - pc)) * inside)
        if weight is not None:
            grads *= weight
        grads *= 1.0 / y_pred.shape[-1]
        return values, grads.astype(y_pred.dtype, copy=False)

    def get_config(self):
        return {
            **super().get_config(),
            "apply_class_balancing": self.apply_class_balancing,
            "alpha": self.alpha,
            "gamma": self.gamma,
        }


def _alpha_param(alpha, owner):
    if isinstance(alpha, (list, tuple, np.ndarray)):
        values = [float(a) for a in np.asarray(alpha, dtype=float).ravel()]
        if not values or any(a < 0 for a in values):
            raise ValueError(
                f"The 'alpha' parameter of {owner} must be a float >= 0 or a non-empty list of "
                f"such floats (one per class). Got {alpha!r} instead."
            )
        return values
    return float(check_param("alpha", alpha, [Interval(float, 0, None)], owner))


@LOSSES.register(aliases=("categorical_focal_crossentropy",))
class CategoricalFocalCrossentropy(_Crossentropy):
    """Categorical cross-entropy with a focal factor ``alpha * (1 - p) ** gamma`` per class.

    Per sample: ``-sum(alpha * (1 - p) ** gamma * y * log(p))`` over the last
    axis, where ``p`` are the predictions normalized to sum to one and clipped
    to ``[eps, 1 - eps]``.

    Parameters
    ----------
    alpha : float or list of float, default=0.25
        Weight of every class, or one weight per class.
    gamma : float, default=2.0
        Focusing parameter, ``>= 0``.
    from_logits : bool, default=False
        ``y_pred`` holds logits (a softmax is applied inside the loss).
    label_smoothing : float, default=0.0
        ``y * (1 - s) + s / num_classes``.
    axis : int, default=-1
    reduction : str, default="sum_over_batch_size"
    name : str, default="categorical_focal_crossentropy"
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import losses
    >>> loss = losses.CategoricalFocalCrossentropy()
    >>> round(float(loss([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 4)
    0.2332
    """

    function_name = "categorical_focal_crossentropy"

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         reduction=reduction, name=name, dtype=dtype)
        owner = type(self).__name__
        self.alpha = _alpha_param(alpha, owner)
        self.gamma = float(check_param("gamma", gamma, [Interval(float, 0, None)], owner))

    def prepare_targets(self, y_true, output_shape, owner="fit"):
        if not np.isscalar(self.alpha) and len(self.alpha) != output_shape[-1]:
            raise ValueError(
                f"The 'alpha' parameter of {type(self).__name__} must hold one weight per class "
                f"({output_shape[-1]} for this output). Got {len(self.alpha)} weights instead."
            )
        return super().prepare_targets(y_true, output_shape, owner)

    def _smooth(self, y_true):
        if self.label_smoothing:
            return y_true * (1.0 - self.label_smoothing) + self.label_smoothing / y_true.shape[-1]
        return y_true

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        t = self._smooth(y_true)
        alpha = self.alpha if np.isscalar(self.alpha) else np.asarray(self.alpha, dtype=y_pred.dtype)
        probs = np.exp(_log_softmax(y_pred)) if self.from_logits else y_pred
        eps = epsilon()
        total = probs.sum(axis=-1, keepdims=True)
        q = probs / total
        o = np.clip(q, eps, 1.0 - eps)
        log_o = np.log(o)
        rest = 1.0 - o
        modulating = rest ** self.gamma
        values = -(alpha * modulating * t * log_o).sum(axis=-1)
        if not need_grad:
            return values, None
        # d/do of -alpha * t * (1 - o)^gamma * log(o), through the clipping.
        d_rest = _focal_power_grad(rest, self.gamma)
        g = -alpha * t * (modulating / o - d_rest * log_o)
        g *= (q > eps) & (q < 1.0 - eps)
        # Through the normalization q = probs / sum(probs).
        grads = (g - (g * q).sum(axis=-1, keepdims=True)) / total
        if self.from_logits:  # through the softmax
            grads = probs * (grads - (grads * probs).sum(axis=-1, keepdims=True))
        return values, grads.astype(y_pred.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma}


# -- helpers shared by the loss families ------------------------------------------


def _real(name, value, owner, constraint=None):
    return float(check_param(name, value, [constraint or Interval(float, None, None)], owner))


def _sparse_labels(y_true, output_shape, loss, owner, per_row=False):
    """Integer labels of shape ``output_shape[:-1]`` (a trailing 1 is dropped), as ``intp``."""
    y = np.asarray(y_true)
    if y.ndim == len(output_shape) and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    expected = output_shape[:1] if per_row else output_shape[:-1]
    if y.ndim != len(expected) or any(e is not None and s != e for s, e in zip(y.shape[1:], expected[1:])):
        raise ValueError(
            f"The 'y' argument of {owner} must hold integer labels of shape "
            f"{tuple(expected)} for loss {loss.name!r} (model output {tuple(output_shape)}). "
            f"Got y of shape {y.shape} instead."
        )
    if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and y.size and np.any(np.mod(y, 1) != 0)):
        raise ValueError(
            f"The 'y' argument of {owner} must hold integer labels for loss {loss.name!r}."
        )
    return y.astype(np.intp, copy=False)


class _MeanOverLastAxis(Loss):
    """A loss ``mean(f(y_true, y_pred), axis=-1)`` of an element-wise ``f``.

    Subclasses implement ``_elementwise(y_true, y_pred, need_grad)`` returning
    ``f`` and, when asked, ``df/dy_pred`` as a fresh array.
    """

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        elem, grads = self._elementwise(y_true, y_pred, need_grad)
        values = elem.mean(axis=-1)
        if not need_grad:
            return values, None
        grads *= 1.0 / y_pred.shape[-1]
        return values, grads.astype(y_pred.dtype, copy=False)

    def _elementwise(self, y_true, y_pred, need_grad):
        raise NotImplementedError


def _functional(cls, **options):
    """The functional form of ``cls``: per-sample values, ``options`` passed to ``cls``."""
    name = cls.function_name

    def fn(y_true, y_pred, **kwargs):
        unknown = set(kwargs) - set(options)
        if unknown:
            raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        return cls(reduction="none", **kwargs).call(y_true, y_pred)

    params = [inspect.Parameter("y_true", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("y_pred", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v)
               for k, v in options.items()]
    fn.__signature__ = inspect.Signature(params)
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = cls.__module__
    fn.__doc__ = f"Per-sample {name} (functional form of :class:`{cls.__name__}`)."
    return fn


_CE = {"from_logits": False, "label_smoothing": 0.0, "axis": -1}
mean_squared_error = _functional(MeanSquaredError)
categorical_crossentropy = _functional(CategoricalCrossentropy, **_CE)
sparse_categorical_crossentropy = _functional(
    SparseCategoricalCrossentropy, from_logits=False, ignore_class=None, axis=-1
)
binary_crossentropy = _functional(BinaryCrossentropy, **_CE)
binary_focal_crossentropy = _functional(
    BinaryFocalCrossentropy, apply_class_balancing=False, alpha=0.25, gamma=2.0, **_CE
)
categorical_focal_crossentropy = _functional(CategoricalFocalCrossentropy, alpha=0.25, gamma=2.0, **_CE)
mse = mean_squared_error


def get(identifier) -> Loss:
    """Resolve a name, config dict, class or instance to a :class:`Loss` instance.

    What ``compile`` uses (the package's public ``losses.get`` follows Keras 3
    and returns functions for function names). Function names
    (``"categorical_crossentropy"``) and class names
    (``"CategoricalCrossentropy"``) both resolve to an instance.

    >>> from automl.keras import losses
    >>> type(losses._get_loss_instance("mse")).__name__
    'MeanSquaredError'

    A plain function ``fn(y_true, y_pred) -> per-sample values`` becomes a
    :class:`LossFunctionWrapper` (gradient traced or by finite differences);
    the functional forms of this package (``losses.huber``) resolve to their class.
    """
    if callable(identifier) and not isinstance(identifier, (Loss, type)):
        ours = getattr(identifier, "__module__", "").startswith(__name__.rsplit(".", 1)[0])
        if ours and getattr(identifier, "__name__", None) in LOSSES:
            identifier = identifier.__name__
        else:
            from ._custom import LossFunctionWrapper

            return LossFunctionWrapper(identifier)
    loss = LOSSES.get(identifier, allow_callable=False)
    if not isinstance(loss, Loss):
        raise ValueError(f"Could not interpret loss identifier: {identifier!r}.")
    return loss


def serialize(loss):
    return Registry.serialize(loss)


def deserialize(config, custom_objects=None):
    return LOSSES.get(config, custom_objects=custom_objects)

LOSSES.base = Loss
