"""The best value of one rate subject to a floor on another, over a grid of thresholds.

``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``,
``PrecisionAtRecall`` and ``RecallAtPrecision`` keep weighted tp / fp / tn / fn
counts at ``num_thresholds`` thresholds evenly spread over [0, 1] (counted by
:func:`~automl.keras.metrics._confusion.confusion_counts`, a prediction being
positive when ``y_pred > threshold``) and report the largest value of one rate
among the thresholds where the other rate reaches the requested value (0.0
when none does).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..._validation import Interval, check_param, param_error
from ._confusion import _check_optional_int, _prepare, confusion_counts
from ._metrics import METRICS, Metric, _divide_no_nan

__all__ = [
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "PrecisionAtRecall",
    "RecallAtPrecision",
]

_RATES = {
    "sensitivity": lambda tp, fp, tn, fn: _divide_no_nan(tp, tp + fn),
    "specificity": lambda tp, fp, tn, fn: _divide_no_nan(tn, tn + fp),
    "precision": lambda tp, fp, tn, fn: _divide_no_nan(tp, tp + fp),
}
_RATES["recall"] = _RATES["sensitivity"]


class _SensitivitySpecificityBase(Metric):
    """Counts at evenly spread thresholds; ``result`` = max of ``_dependent`` where
    ``_constrained >= value``."""

    _constrained = ""  # the rate given a floor (and the name of the constructor argument)
    _dependent = ""  # the rate maximized

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
            raise param_error(self._constrained, owner, "a float in the range [0, 1]", value)
        self.value = float(value)
        self.num_thresholds = int(check_param("num_thresholds", num_thresholds,
                                              [Interval(int, 1, None)], owner))
        self.class_id = _check_optional_int("class_id", class_id, 0, owner)
        n = self.num_thresholds
        self.thresholds = [0.5] if n == 1 else [0.0, *((i + 1) / (n - 1) for i in range(n - 2)), 1.0]
        self._thresholds = np.array(self.thresholds)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._counts = np.zeros((4, self.num_thresholds))

    true_positives = property(lambda self: self._counts[0])
    false_positives = property(lambda self: self._counts[1])
    true_negatives = property(lambda self: self._counts[2])
    false_negatives = property(lambda self: self._counts[3])

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sw = _prepare(self, y_true, y_pred, sample_weight, class_id=self.class_id)
        self._counts += confusion_counts(y_true, y_pred, self._thresholds, sw)

    def result(self):
        constrained = _RATES[self._constrained](*self._counts)
        dependent = _RATES[self._dependent](*self._counts)
        feasible = constrained >= self.value
        return float(dependent[feasible].max()) if feasible.any() else 0.0

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._constrained: self.value}


@METRICS.register
class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """Best sensitivity ``tp / (tp + fn)`` among thresholds with specificity ``>= specificity``.

    Parameters
    ----------
    specificity : float
        In [0, 1].
    num_thresholds : int, default=200
        Number of thresholds, evenly spread over [0, 1] (one threshold, 0.5, if 1).
    class_id : int, optional
        Only this column of the last axis is considered.
    name : str, optional
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.SensitivityAtSpecificity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> m.result()
    0.5
    """

    _constrained = "specificity"
    _dependent = "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    @property
    def specificity(self):
        return self.value


@METRICS.register
class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """Best specificity ``tn / (tn + fp)`` among thresholds with sensitivity ``>= sensitivity``.

    Parameters are those of :class:`SensitivityAtSpecificity`, with
    ``sensitivity`` (in [0, 1]) first.

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.SpecificityAtSensitivity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], sample_weight=[1, 1, 2, 2, 2])
    >>> m.result()
    0.5
    """

    _constrained = "sensitivity"
    _dependent = "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    @property
    def sensitivity(self):
        return self.value


@METRICS.register
class PrecisionAtRecall(_SensitivitySpecificityBase):
    """Best precision ``tp / (tp + fp)`` among thresholds with recall ``>= recall``.

    Parameters are those of :class:`SensitivityAtSpecificity`, with
    ``recall`` (in [0, 1]) first.

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.PrecisionAtRecall(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> m.result()
    0.5
    """

    _constrained = "recall"
    _dependent = "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    @property
    def recall(self):
        return self.value


@METRICS.register
class RecallAtPrecision(_SensitivitySpecificityBase):
    """Best recall ``tp / (tp + fn)`` among thresholds with precision ``>= precision``.

    0.0 when no threshold reaches the precision. Parameters are those of
    :class:`SensitivityAtSpecificity`, with ``precision`` (in [0, 1]) first.

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.RecallAtPrecision(0.8)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> m.result()
    0.5
    """

    _constrained = "precision"
    _dependent = "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    @property
    def precision(self):
        return self.value
