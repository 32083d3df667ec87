"""Probabilistic losses beyond cross-entropy: KL divergence, Poisson, generalized cross-entropy.

Each returns per-sample values plus their gradient w.r.t. ``y_pred``;
:class:`CategoricalGeneralizedCrossEntropy` takes integer labels.
"""

from __future__ import annotations

import numpy as np

from ..._validation import Interval
from ..backend import epsilon
from ._losses import LOSSES, Loss, _functional, _MeanOverLastAxis, _real, _sparse_labels

__all__ = [
    "KLDivergence",
    "Poisson",
    "kl_divergence",
    "poisson",
    "kld",
    "CategoricalGeneralizedCrossEntropy",
    "categorical_generalized_cross_entropy",
]


@LOSSES.register(aliases=("kl_divergence", "kld", "KLD", "kullback_leibler_divergence"))
class KLDivergence(Loss):
    """``sum(y_true * log(y_true / y_pred))`` over the last axis, both clipped to ``[eps, 1]``.

    Examples
    --------
    >>> from automl.keras import losses
    >>> round(float(losses.KLDivergence()([[0.2, 0.8]], [[0.5, 0.5]])), 4)
    0.1927
    """

    function_name = "kl_divergence"

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        eps = epsilon()
        t = np.clip(y_true, eps, 1.0)
        p = np.clip(y_pred, eps, 1.0)
        values = (t * np.log(t / p)).sum(axis=-1)
        if not need_grad:
            return values, None
        grads = -t / p
        grads *= (y_pred > eps) & (y_pred < 1.0)
        return values, grads.astype(y_pred.dtype, copy=False)


@LOSSES.register(aliases=("poisson",))
class Poisson(_MeanOverLastAxis):
    """``mean(y_pred - y_true * log(y_pred + eps))`` over the last axis."""

    function_name = "poisson"

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _elementwise(self, y_true, y_pred, need_grad):
        shifted = y_pred + epsilon()
        elem = y_pred - y_true * np.log(shifted)
        return elem, (1.0 - y_true / shifted if need_grad else None)


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


kl_divergence = _functional(KLDivergence)
poisson = _functional(Poisson)
kld = kl_divergence


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per-sample generalized cross-entropy ``(1 - p**q) / q`` (functional form of
    :class:`CategoricalGeneralizedCrossEntropy`; ``q`` is required, as in Keras)."""
    loss = CategoricalGeneralizedCrossEntropy(q=q, reduction="none")
    return loss.call(y_true, y_pred)
