"""Intersection-over-Union metrics from a weighted class confusion matrix.

Every update adds the weighted ``(true class, predicted class)`` counts of the
batch to a ``(num_classes, num_classes)`` matrix (rows: true class, columns:
predicted class), so a streamed result equals the one-batch result. The IoU of
class ``c`` is ``tp / (tp + fp + fn)``; the metrics average it over target
classes that occur (a class with neither labels nor predictions is skipped).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..._validation import Interval, check_param, param_error
from ..backend import epsilon
from ._metrics import METRICS, Metric, _sample_weights

__all__ = ["IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU", "BinaryIoU"]


def _class_ids(ids, num_classes, owner):
    """``target_class_ids`` as a list of ints in ``[0, num_classes)``."""
    try:
        values = list(ids)
    except TypeError:
        values = None
    if not values or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= v < num_classes
        for v in values
    ):
        raise param_error("target_class_ids", owner,
                          f"a non-empty list of class ids in [0, {num_classes})", ids)
    return [int(v) for v in values]


class _IoUBase(Metric):
    """Accumulates the weighted confusion matrix shared by the IoU metrics."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        owner = type(self).__name__
        self.num_classes = int(check_param("num_classes", num_classes, [Interval(int, 1, None)], owner))
        if ignore_class is not None:
            check_param("ignore_class", ignore_class, [Interval(int)], owner)
            ignore_class = int(ignore_class)
        self.ignore_class = ignore_class
        self.sparse_y_true = bool(sparse_y_true)
        self.sparse_y_pred = bool(sparse_y_pred)
        self.axis = int(check_param("axis", axis, [Interval(int)], owner))
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def _labels(self, values, sparse):
        values = np.asarray(values)
        if not sparse:
            values = np.argmax(values, axis=self.axis)
        if values.dtype.kind == "f":
            values = values.astype(np.int64)  # Keras casts class ids to integers (truncation)
        return values.astype(np.int64, copy=False)

    def update_state(self, y_true, y_pred, sample_weight=None):
        owner = type(self).__name__
        true = self._labels(y_true, self.sparse_y_true)
        pred = self._labels(y_pred, self.sparse_y_pred)
        if true.size != pred.size:
            raise ValueError(
                f"The 'y_true' and 'y_pred' arguments of {owner}.update_state must hold as many "
                f"class ids. Got shapes {true.shape} and {pred.shape} (after argmax) instead."
            )
        sw = _sample_weights(sample_weight, true.shape, owner)
        w = np.ones(true.size) if sw is None else np.asarray(sw, dtype=np.float64).ravel()
        true = true.ravel()
        pred = pred.ravel()
        if self.ignore_class is not None:
            keep = true != self.ignore_class
            true, pred, w = true[keep], pred[keep], w[keep]
        c = self.num_classes
        for arg, ids in (("y_true", true), ("y_pred", pred)):
            if ids.size and (ids.min() < 0 or ids.max() >= c):
                raise ValueError(
                    f"The '{arg}' argument of {owner}.update_state must hold class ids in "
                    f"[0, {c}). Got ids from {ids.min()} to {ids.max()} instead."
                )
        self.total_cm += np.bincount(true * c + pred, weights=w, minlength=c * c).reshape(c, c)

    def _per_class(self):
        """(tp, tp + fp + fn) of each class."""
        cm = self.total_cm
        tp = np.diagonal(cm)
        return tp, cm.sum(axis=0) + cm.sum(axis=1) - tp

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@METRICS.register
class IoU(_IoUBase):
    """Mean Intersection-over-Union ``tp / (tp + fp + fn)`` over some target classes.

    Predictions and labels are class ids (or, with ``sparse_y_true=False`` /
    ``sparse_y_pred=False``, scores whose argmax over ``axis`` is the class).
    The weighted confusion matrix is accumulated over batches; ``result()`` is
    the mean IoU of the ``target_class_ids`` that have labels or predictions.

    Parameters
    ----------
    num_classes : int
        Number of classes (the confusion matrix is ``num_classes`` square).
    target_class_ids : list of int
        Classes whose IoUs are averaged; one id gives that class's IoU.
    name : str, optional
    dtype : str, optional
    ignore_class : int, optional
        Label of entries to leave out (e.g. a "void" class such as -1 or 255).
    sparse_y_true, sparse_y_pred : bool, default=True
        Whether labels / predictions are integer class ids; if False the
        argmax over ``axis`` is taken.
    axis : int, default=-1
        The class axis of dense inputs.

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result(), 4)
    0.3333
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        self.target_class_ids = _class_ids(target_class_ids, self.num_classes, type(self).__name__)

    def result(self):
        tp, union = self._per_class()
        ids = self.target_class_ids
        tp, union = tp[ids], union[ids]
        eps = epsilon()
        valid = np.count_nonzero(union > 1e-9)
        return float((tp / (union + eps)).sum() / (valid + eps))

    #: Arguments a subclass fixes or derives, so left out of its config.
    _implied_config = ()

    def get_config(self):
        config = {**super().get_config(), "target_class_ids": list(self.target_class_ids)}
        for key in self._implied_config:
            del config[key]
        return config


@METRICS.register
class MeanIoU(IoU):
    """Mean Intersection-over-Union over all ``num_classes`` classes (see :class:`IoU`).

    Parameters
    ----------
    num_classes : int
    name : str, optional
    dtype : str, optional
    ignore_class : int, optional
    sparse_y_true, sparse_y_pred : bool, default=True
    axis : int, default=-1

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    >>> round(m.result(), 4)
    0.2381
    """

    _implied_config = ("target_class_ids",)

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        check_param("num_classes", num_classes, [Interval(int, 1, None)], type(self).__name__)
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)


@METRICS.register
class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels: the argmax over ``axis`` of ``y_true`` is the class.

    Parameters
    ----------
    num_classes : int
    target_class_ids : list of int
    name : str, optional
    dtype : str, optional
    ignore_class : int, optional
    sparse_y_pred : bool, default=False
        Whether predictions are class ids rather than per-class scores.
    axis : int, default=-1

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
    ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]],
    ...                sample_weight=[0.1, 0.2, 0.3, 0.4])
    >>> round(m.result(), 3)
    0.071
    """

    _implied_config = ("sparse_y_true",)

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)


@METRICS.register
class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (see :class:`OneHotIoU`).

    Parameters
    ----------
    num_classes : int
    name : str, optional
    dtype : str, optional
    ignore_class : int, optional
    sparse_y_pred : bool, default=False
    axis : int, default=-1

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.OneHotMeanIoU(num_classes=3)
    >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
    ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]],
    ...                sample_weight=[0.1, 0.2, 0.3, 0.4])
    >>> round(m.result(), 3)
    0.048
    """

    _implied_config = ("target_class_ids", "sparse_y_true")

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)


@METRICS.register
class BinaryIoU(IoU):
    """:class:`IoU` of a binary task: predictions ``>= threshold`` are class 1, others class 0.

    Parameters
    ----------
    target_class_ids : list of int, default=(0, 1)
        ``[0]``, ``[1]`` or ``[0, 1]`` (the mean of both IoUs).
    threshold : float, default=0.5
        Use 0 for logits.
    name : str, optional
    dtype : str, optional

    Examples
    --------
    >>> from automl.keras import metrics
    >>> m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> round(m.result(), 4)
    0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise param_error("threshold", type(self).__name__, "a float", threshold)
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = (np.asarray(y_pred, dtype=np.float64) >= self.threshold).astype(np.int64)
        super().update_state(y_true, pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": list(self.target_class_ids), "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}
