"""Metric-learning losses: Circle, with its gradient w.r.t. ``y_pred``.

:class:`Circle` compares every pair of embeddings in the batch, so its
per-sample values depend on every row of ``y_pred`` and its gradient is
back-propagated from the reduced loss rather than row by row.
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_param
from ..backend import epsilon
from ._losses import LOSSES, Loss, _real, _sparse_labels

__all__ = [
    "Circle",
    "circle",
]


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
