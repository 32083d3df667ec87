"""Weighted Sum, and the Pearson / concordance correlations averaged over samples.

As in Keras, :class:`PearsonCorrelation` and :class:`ConcordanceCorrelation`
compute one coefficient per sample along ``axis`` (by default across the
outputs of each sample) and report the weighted mean of those coefficients
over every sample seen.
"""

from __future__ import annotations

import numpy as np

from ..._validation import Interval, check_param
from ..backend import epsilon
from ._metrics import METRICS, MeanMetricWrapper, Metric, _match_rank

__all__ = [
    "Sum",
    "PearsonCorrelation",
    "ConcordanceCorrelation",
    "pearson_correlation",
    "concordance_correlation",
]


@METRICS.register(aliases=("sum",))
class Sum(Metric):
    """The weighted sum of the values given to ``update_state(values, sample_weight)``.

    Parameters
    ----------
    name : str, default="sum"
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.Sum()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> m.result()
    4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if 0 < w.ndim < values.ndim:  # one weight per sample (leading axes)
                w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
            try:
                values = values * w
            except ValueError:
                raise ValueError(
                    "The 'sample_weight' argument of Sum.update_state must broadcast to the "
                    f"values of shape {values.shape}. Got shape {w.shape} instead."
                ) from None
        self.total += float(values.sum())

    def result(self):
        return float(self.total)


def _moments(y_true, y_pred, axis):
    y_pred = np.asarray(y_pred)
    dtype = y_pred.dtype if y_pred.dtype.kind == "f" else np.float32
    y_true, y_pred = _match_rank(np.asarray(y_true, dtype=dtype), y_pred.astype(dtype, copy=False))
    dt = y_true - y_true.mean(axis=axis, keepdims=True)
    dp = y_pred - y_pred.mean(axis=axis, keepdims=True)
    return y_true, y_pred, dt, dp


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation of ``y_true`` and ``y_pred`` along ``axis``.

    ``mean(z(y_true) * z(y_pred), axis)`` with ``z(x) = (x - mean(x)) / (std(x) + eps)``
    (population standard deviations), so constant inputs give 0.

    >>> from automl.keras import metrics
    >>> r = metrics.pearson_correlation([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> [round(float(v), 4) for v in r]
    [1.0, 0.9934]
    """
    _, _, dt, dp = _moments(y_true, y_pred, axis)
    eps = epsilon()
    zt = dt / (np.sqrt(np.mean(dt * dt, axis=axis, keepdims=True)) + eps)
    zp = dp / (np.sqrt(np.mean(dp * dp, axis=axis, keepdims=True)) + eps)
    return np.mean(zt * zp, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation of ``y_true`` and ``y_pred`` along ``axis``.

    ``2 cov / (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))**2 + eps)``
    with population moments.

    >>> from automl.keras import metrics
    >>> c = metrics.concordance_correlation([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> [round(float(v), 4) for v in c]
    [0.9756, 0.9877]
    """
    y_true, y_pred, dt, dp = _moments(y_true, y_pred, axis)
    gap = y_true.mean(axis=axis) - y_pred.mean(axis=axis)
    norm = np.mean(dt * dt, axis=axis) + np.mean(dp * dp, axis=axis) + gap * gap
    return 2.0 * np.mean(dt * dp, axis=axis) / (norm + epsilon())


class _CorrelationMetric(MeanMetricWrapper):
    _fn = None

    def __init__(self, name, dtype, axis):
        owner = type(self).__name__
        self.axis = int(check_param("axis", axis, [Interval(int)], owner))
        super().__init__(type(self)._fn, name=name, dtype=dtype, axis=self.axis)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@METRICS.register(aliases=("pearson_correlation",))
class PearsonCorrelation(_CorrelationMetric):
    """Mean over samples of the Pearson correlation along ``axis`` (:func:`pearson_correlation`).

    Parameters
    ----------
    name : str, default="pearson_correlation"
    dtype : str, optional
    axis : int, default=-1
        Axis along which each coefficient is computed; the coefficients are
        then averaged (weighted by ``sample_weight``) over batches.

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.PearsonCorrelation(axis=-1)
    >>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> round(m.result(), 4)
    0.9967
    """

    _fn = staticmethod(pearson_correlation)

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(name, dtype, axis)


@METRICS.register(aliases=("concordance_correlation",))
class ConcordanceCorrelation(_CorrelationMetric):
    """Mean over samples of the concordance correlation along ``axis`` (:func:`concordance_correlation`).

    Parameters
    ----------
    name : str, default="concordance_correlation"
    dtype : str, optional
    axis : int, default=-1

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.ConcordanceCorrelation(axis=-1)
    >>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> round(m.result(), 4)
    0.9816
    """

    _fn = staticmethod(concordance_correlation)

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(name, dtype, axis)
