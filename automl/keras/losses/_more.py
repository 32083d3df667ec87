"""Overlap, noise-robust and metric-learning losses, each with its gradient w.r.t. ``y_pred``.

* :class:`Dice` and :class:`Tversky` reduce over ``axis`` (all axes by
  default, giving one value for the whole batch, as in Keras);
* :class:`CategoricalGeneralizedCrossEntropy` takes integer labels;
* :class:`Circle` compares every pair of embeddings in the batch, so its
  per-sample values depend on every row of ``y_pred`` and its gradient is
  back-propagated from the reduced loss rather than row by row.
"""

from __future__ import annotations

import numpy as np

from ..._validation import Interval, check_param
from ..backend import epsilon
from ._losses import LOSSES, Loss, _functional

__all__ = [
    "Dice",
    "Tversky",
    "CategoricalGeneralizedCrossEntropy",
    "Circle",
    "dice",
    "tversky",
    "categorical_generalized_cross_entropy",
    "circle",
]


def _real(name, value, owner, constraint=None):
    return float(check_param(name, value, [constraint or Interval(float, None, None)], owner))


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


# -- Generalized cross-entropy ---------------------------------------------------


@LOSSES.register(aliases=("categorical_generalized_cross_entropy",))
class CategoricalGeneralizedCrossEntropy(Loss):
    """Generalized cross-entropy ``(1 - p**q) / q`` of the true class's probability ``p``.

    Noise-robust (Zhang & Sabuncu, 2018): it tends to the cross-entropy as
    ``q -> 0`` and to the mean absolute error as ``q -> 1``. ``y_true``
    holds integer class indices (shape ``(batch,)`` or ``(batch, 1)``),
    ``y_pred`` class probabilities. The gradient ``-p**(q - 1)`` is taken
    at ``max(p, eps)`` so that it stays finite.

    Parameters
    ----------
    q : float, default=0.5
        In the open interval (0, 1).
    reduction : str, default="sum_over_batch_size"
    name : str, default="categorical_generalized_cross_entropy"
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import losses
    >>> loss = losses.CategoricalGeneralizedCrossEntropy(q=0.5)
    >>> round(float(loss([0, 1], [[0.64, 0.36], [0.19, 0.81]])), 4)
    0.3
    """

    function_name = "categorical_generalized_cross_entropy"

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.q = _real("q", q, type(self).__name__, Interval(float, 0, 1, closed="neither"))

    def prepare_targets(self, y_true, output_shape, owner="fit"):
        y = _sparse_labels(y_true, output_shape, self, owner)
        k = output_shape[-1]
        if k is not None and y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(
                f"The 'y' argument of {owner} must hold class labels in [0, {k - 1}] to match the "
                f"model's {k} output units. Got labels in [{y.min()}, {y.max()}] instead."
            )
        return y

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        labels = np.asarray(y_true).astype(np.intp, copy=False)[..., None]
        p = np.take_along_axis(y_pred, labels, axis=-1)[..., 0]
        q = self.q
        values = (1.0 - p ** q) / q
        if not need_grad:
            return values, None
        grads = np.zeros_like(y_pred)
        np.put_along_axis(grads, labels, -(np.maximum(p, epsilon()) ** (q - 1.0))[..., None], axis=-1)
        return values, grads

    def get_config(self):
        return {**super().get_config(), "q": self.q}


# -- Circle loss -------------------------------------------------------------------


def _masked_logsumexp(v, mask):
    """Row-wise log-sum-exp over ``mask`` (-inf for empty rows) and the softmax weights."""
    vm = np.where(mask, v, -np.inf)
    top = vm.max(axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    e = np.exp(vm - top)
    total = e.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        lse = np.log(total) + top
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return lse[:, 0], weights


def _circle_forward(labels, emb, ref_labels, ref_emb, remove_diagonal, gamma, margin):
    """Per-row circle loss and what its backward pass needs."""
    sim = emb @ ref_emb.T
    dist = np.maximum(1.0 - sim, 0.0)
    same = labels[:, None] == ref_labels[None, :]
    pos = same.copy()
    if remove_diagonal:
        n = min(pos.shape)
        pos[np.arange(n), np.arange(n)] = False
    neg = ~same
    w_pos = np.maximum((margin + dist) * pos, 0.0)
    w_neg = np.maximum((1.0 + margin - dist) * neg, 0.0)
    logit_pos = -gamma * w_pos * (margin - dist)
    logit_neg = gamma * w_neg * (1.0 - margin - dist)
    lse_pos, a = _masked_logsumexp(logit_pos, pos)
    lse_neg, b = _masked_logsumexp(logit_neg, neg)
    s = lse_pos + lse_neg  # -inf when a row has no positive or no negative
    values = np.logaddexp(0.0, s)  # softplus
    cache = (sim, dist, w_pos, w_neg, a, b, s)
    return values, cache


@LOSSES.register(aliases=("circle",))
class Circle(Loss):
    """Circle loss (Sun et al., 2020) between integer labels and L2-normalized embeddings.

    For every embedding, same-label embeddings of the batch are positives and
    the others negatives; with cosine distances ``d = max(1 - cos, 0)``,

    ``loss_i = softplus(LSE_pos(-gamma * w_p * (margin - d)) + LSE_neg(gamma * w_n * (1 - margin - d)))``

    with ``w_p = max(margin + d, 0)`` and ``w_n = max(1 + margin - d, 0)``.
    As in Keras, rows whose loss is exactly 0 (no positive or no negative
    in the batch) are masked out of the averaging reductions. ``y_true``
    holds integer labels of shape ``(batch,)`` or ``(batch, 1)``, ``y_pred``
    the embeddings ``(batch, dim)``; the model should end with an L2
    normalization.

    Parameters
    ----------
    gamma : float, default=80.0
        Scale of the similarity scores.
    margin : float, default=0.4
        Relaxation margin.
    remove_diagonal : bool, default=True
        Whether an embedding's similarity to itself is left out of its positives.
    reduction : str, default="sum_over_batch_size"
    name : str, default="circle"
    dtype : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import losses
    >>> emb = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    >>> float(losses.Circle(gamma=2.0)([0, 0, 1, 1], emb)) > 0
    True
    """

    function_name = "circle"

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        owner = type(self).__name__
        self.gamma = _real("gamma", gamma, owner)
        self.margin = _real("margin", margin, owner)
        self.remove_diagonal = bool(check_param("remove_diagonal", remove_diagonal,
                                                [bool, np.bool_], owner))

    def prepare_targets(self, y_true, output_shape, owner="fit"):
        if len(output_shape) != 2:
            raise ValueError(
                f"Loss {self.name!r} needs model outputs of shape (batch, dim). "
                f"Got {tuple(output_shape)} instead."
            )
        return _sparse_labels(y_true, output_shape, self, owner, per_row=True)

    def _mask_scale(self, values):
        """Keras's output mask ``values > 0``, as per-row factors for the averaging reductions."""
        valid = values > 0
        scale = valid.astype(values.dtype)
        if self.reduction in ("sum_over_batch_size", "mean"):
            scale *= valid.size / (valid.sum() + epsilon())
        return scale

    def _reduce(self, values, grads, sample_weight):
        if self.reduction == "mean_with_sample_weight":
            # Keras folds the mask into the weights: divide by the weight of the kept rows.
            mask = (values > 0).astype(values.dtype)
            sample_weight = mask if sample_weight is None else (
                np.asarray(sample_weight, dtype=values.dtype).reshape(values.shape) * mask)
        return super()._reduce(values, grads, sample_weight)

    def _forward(self, y_true, y_pred):
        labels = np.asarray(y_true).astype(np.intp, copy=False).reshape(-1)
        return _circle_forward(labels, y_pred, labels, y_pred, self.remove_diagonal,
                               self.gamma, self.margin)

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        raw, cache = self._forward(y_true, y_pred)
        values = (raw * self._mask_scale(raw)).astype(y_pred.dtype, copy=False)
        if not need_grad:
            return values, None
        return values, self._backward(y_pred, cache, self._mask_scale(raw))

    def value_and_grad(self, y_true, y_pred, sample_weight=None):
        # Each row's value depends on every row of y_pred: back-propagate the
        # reduced loss's sensitivity to each value instead of scaling rows.
        raw, cache = self._forward(y_true, y_pred)
        scale = self._mask_scale(raw)
        values = (raw * scale).astype(y_pred.dtype, copy=False)
        sensitivity = np.ones((values.size, 1), dtype=values.dtype)
        reduced, sensitivity = self._reduce(values, sensitivity, sample_weight)
        return reduced, self._backward(y_pred, cache, sensitivity[:, 0] * scale)

    def _backward(self, emb, cache, upstream):
        """Gradient w.r.t. the embeddings of ``sum(upstream * raw_values)``."""
        sim, dist, w_pos, w_neg, a, b, s = cache
        gamma, margin = self.gamma, self.margin
        sig = 0.5 * (1.0 + np.tanh(0.5 * s))  # softplus'; 0 where s = -inf
        # d logit / d dist, through the weights where they are not clipped at 0.
        d_pos = -gamma * ((margin - dist) * (w_pos > 0) - w_pos)
        d_neg = gamma * (-(1.0 - margin - dist) * (w_neg > 0) - w_neg)
        g_dist = (a * d_pos + b * d_neg) * (upstream * sig)[:, None]
        g_sim = -g_dist * (1.0 - sim > 0)
        grads = (g_sim + g_sim.T) @ emb
        return grads.astype(emb.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}


# -- functional forms ---------------------------------------------------------------


dice = _functional(Dice, axis=None)
tversky = _functional(Tversky, alpha=0.5, beta=0.5, axis=None)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per-sample generalized cross-entropy ``(1 - p**q) / q`` (functional form of
    :class:`CategoricalGeneralizedCrossEntropy`; ``q`` is required, as in Keras)."""
    loss = CategoricalGeneralizedCrossEntropy(q=q, reduction="none")
    return loss.call(y_true, y_pred)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """Per-sample circle loss (functional form of :class:`Circle`).

    ``ref_labels`` / ``ref_embeddings`` default to ``y_true`` / ``y_pred``;
    the values are not masked (the class's reductions drop zero rows).
    """
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float32)
    labels = np.asarray(y_true).astype(np.intp).reshape(-1)
    ref_emb = y_pred if ref_embeddings is None else np.asarray(ref_embeddings, dtype=y_pred.dtype)
    ref_lab = labels if ref_labels is None else np.asarray(ref_labels).astype(np.intp).reshape(-1)
    values, _ = _circle_forward(labels, y_pred, ref_lab, ref_emb, bool(remove_diagonal),
                                float(gamma), float(margin))
    return values.astype(y_pred.dtype, copy=False)
