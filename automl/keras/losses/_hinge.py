"""Hinge losses for maximum-margin classification, with gradients w.r.t. ``y_pred``.

Targets that are all 0/1 become -1/1 (per call, as Keras does).
"""

from __future__ import annotations

import numpy as np

from ._losses import LOSSES, Loss, _functional, _MeanOverLastAxis

__all__ = [
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
]


def _hinge_labels(y_true):
    """Keras's convention: labels that are all 0/1 become -1/1; others are used as given."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true


@LOSSES.register(aliases=("hinge",))
class Hinge(_MeanOverLastAxis):
    """``mean(maximum(1 - y_true * y_pred, 0))`` over the last axis.

    ``y_true`` is expected in {-1, 1}; targets that are all 0/1 are converted
    to -1/1 (per call, as Keras does), so metrics still see the labels as given.

    Examples
    --------
    >>> from automl.keras import losses
    >>> float(losses.Hinge()([[0.0, 1.0]], [[-0.5, 0.5]]))
    0.5
    """

    function_name = "hinge"

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _elementwise(self, y_true, y_pred, need_grad):
        t = _hinge_labels(y_true)
        margin = 1.0 - t * y_pred
        elem = np.maximum(margin, 0.0)
        return elem, (-t * (margin > 0) if need_grad else None)


@LOSSES.register(aliases=("squared_hinge",))
class SquaredHinge(_MeanOverLastAxis):
    """``mean(square(maximum(1 - y_true * y_pred, 0)))`` over the last axis (0/1 labels → -1/1)."""

    function_name = "squared_hinge"

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def _elementwise(self, y_true, y_pred, need_grad):
        t = _hinge_labels(y_true)
        pos = np.maximum(1.0 - t * y_pred, 0.0)
        return pos * pos, (-2.0 * t * pos if need_grad else None)


@LOSSES.register(aliases=("categorical_hinge",))
class CategoricalHinge(Loss):
    """``maximum(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)``, ``neg = max((1 - y_true) * y_pred)``.

    ``y_true`` is one-hot (no label conversion, as in Keras).
    """

    function_name = "categorical_hinge"

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        pos = (y_true * y_pred).sum(axis=-1)
        others = (1.0 - y_true) * y_pred
        idx = others.argmax(axis=-1)[..., None]
        neg = np.take_along_axis(others, idx, axis=-1)[..., 0]
        values = np.maximum(neg - pos + 1.0, 0.0).astype(y_pred.dtype, copy=False)
        if not need_grad:
            return values, None
        grads = -y_true.astype(y_pred.dtype)
        np.put_along_axis(grads, idx, np.take_along_axis(grads, idx, axis=-1)
                          + 1.0 - np.take_along_axis(y_true, idx, axis=-1), axis=-1)
        grads *= (values > 0)[..., None]
        return values, grads
hinge = _functional(Hinge)
squared_hinge = _functional(SquaredHinge)
categorical_hinge = _functional(CategoricalHinge)
