"""Metrics that average a loss's per-sample values: cross-entropies, divergences, hinges.

:class:`LossMetric` wraps any :class:`~automl.keras.losses.Loss` (so that
``metrics=["huber"]`` or ``metrics=[losses.Huber(delta=2.0)]`` work); the
Keras metric classes below are the named, configurable special cases.
"""

from __future__ import annotations

import numpy as np

from .. import losses as _losses
from ._metrics import METRICS, Mean

__all__ = [
    "LossMetric",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
]


def loss_values(loss, y_true, y_pred, owner):
    """Per-sample values of ``loss`` (no reduction, no sample weights)."""
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float32)
    y_true = loss.prepare_targets(np.asarray(y_true), y_pred.shape, owner=owner)
    values, _ = loss._values_and_grads(y_true, y_pred, need_grad=False)
    return values


@METRICS.register
class LossMetric(Mean):
    """The weighted mean of a loss's per-sample values over the samples seen.

    Parameters
    ----------
    loss : str, dict or Loss
        Resolved with :func:`automl.keras.losses.get`; its reduction is ignored.
    name : str, optional
        Defaults to the loss's name.
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import losses, metrics
    >>> m = metrics.LossMetric(losses.Huber(delta=0.5))
    >>> m.update_state([[0.0], [1.0]], [[0.2], [3.0]])
    >>> round(m.result(), 4)
    0.4475
    """

    _sign = 1.0

    def __init__(self, loss, name=None, dtype=None):
        self.loss = _losses._get_loss_instance(loss)
        super().__init__(name=name or self.loss.name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = loss_values(self.loss, y_true, y_pred, f"{type(self).__name__}.update_state")
        if self._sign != 1.0:
            values = values * self._sign
        super().update_state(values, sample_weight)

    def get_config(self):
        return {**super().get_config(), "loss": _losses.serialize(self.loss)}


class _KerasLossMetric(LossMetric):
    """A Keras metric class defined by a loss class and its keyword arguments."""

    _loss_class = None

    def __init__(self, name, dtype, **loss_kwargs):
        self._loss_kwargs = loss_kwargs
        super().__init__(self._loss_class(reduction="none", **loss_kwargs), name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._loss_kwargs}


@METRICS.register(aliases=("binary_crossentropy", "bce", "BCE"))
class BinaryCrossentropy(_KerasLossMetric):
    """Mean binary cross-entropy (see :class:`automl.keras.losses.BinaryCrossentropy`)."""

    _loss_class = _losses.BinaryCrossentropy

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


@METRICS.register(aliases=("categorical_crossentropy",))
class CategoricalCrossentropy(_KerasLossMetric):
    """Mean categorical cross-entropy (see :class:`automl.keras.losses.CategoricalCrossentropy`)."""

    _loss_class = _losses.CategoricalCrossentropy

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


@METRICS.register(aliases=("sparse_categorical_crossentropy",))
class SparseCategoricalCrossentropy(_KerasLossMetric):
    """Mean sparse categorical cross-entropy of integer labels."""

    _loss_class = _losses.SparseCategoricalCrossentropy

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 axis=-1):
        super().__init__(name, dtype, from_logits=from_logits, axis=axis)


@METRICS.register(aliases=("kl_divergence",))
class KLDivergence(_KerasLossMetric):
    """Mean Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``."""

    _loss_class = _losses.KLDivergence

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name, dtype)


@METRICS.register(aliases=("poisson",))
class Poisson(_KerasLossMetric):
    """Mean Poisson loss ``y_pred - y_true * log(y_pred)``."""

    _loss_class = _losses.Poisson

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name, dtype)


@METRICS.register(aliases=("hinge",))
class Hinge(_KerasLossMetric):
    """Mean hinge loss (0/1 labels are read as -1/1)."""

    _loss_class = _losses.Hinge

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name, dtype)


@METRICS.register(aliases=("squared_hinge",))
class SquaredHinge(_KerasLossMetric):
    """Mean squared hinge loss (0/1 labels are read as -1/1)."""

    _loss_class = _losses.SquaredHinge

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name, dtype)


@METRICS.register(aliases=("categorical_hinge",))
class CategoricalHinge(_KerasLossMetric):
    """Mean categorical hinge loss of one-hot targets."""

    _loss_class = _losses.CategoricalHinge

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name, dtype)
