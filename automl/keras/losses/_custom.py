"""Custom losses: any ``fn(y_true, y_pred)`` trains, its gradient derived automatically.

How the gradient w.r.t. ``y_pred`` is obtained, in order:

1. **Traced (exact).** ``y_pred`` is passed as an :class:`automl.keras.ops.Tensor`.
   A loss written with ``automl.keras.ops`` / ``automl.keras.backend`` operations
   (``K.mean``, ``K.square``, ``K.log``, ``K.clip``, ...), with Python operators, or with
   the NumPy functions the Tensor understands (``np.square``, ``np.log``, ``np.exp``,
   ``np.abs``, ``np.sqrt``, ``np.maximum``, ``np.minimum``, ``np.mean``, ``np.sum``,
   ``np.clip``, ``np.where``, ...) is differentiated exactly.
2. **Finite differences (plain NumPy fallback).** If the function uses anything
   else (e.g. ``np.sort`` or converts to an array), it is called on plain arrays and
   its gradient is estimated by central differences, one output column at a time
   for all samples at once (``2 * n_outputs`` calls per batch). This needs the
   function to return one value per sample, which Keras losses do; a warning says
   once that the fallback is in use.

The function should return per-sample values (shape ``(batch,)``), as Keras losses
do; element-wise values (the shape of ``y_pred``) are averaged over the last axis;
a scalar is taken as already reduced.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..ops import Tensor, gradient
from ._losses import Loss

__all__ = ["LossFunctionWrapper"]


class LossFunctionWrapper(Loss):
    """Wrap a loss function ``fn(y_true, y_pred, **kwargs)`` as a :class:`Loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import backend as K
    >>> from automl.keras.losses import LossFunctionWrapper
    >>> def my_mse(y_true, y_pred):
    ...     return K.mean(K.square(y_pred - y_true), axis=-1)
    >>> loss = LossFunctionWrapper(my_mse)
    >>> value, grad = loss.value_and_grad(np.zeros((2, 1)), np.array([[1.0], [3.0]]))
    >>> float(value), grad.ravel().tolist()
    (5.0, [1.0, 3.0])
    """

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "custom_loss"), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self.function_name = self.name
        self._fn_kwargs = kwargs
        self._warned = False

    def _call_plain(self, y_true, y_pred):
        return np.asarray(self.fn(y_true, y_pred, **self._fn_kwargs), dtype=np.float64)

    def _shape_values(self, values, y_pred):
        if values.shape == y_pred.shape and y_pred.ndim > 1:
            return values.mean(axis=-1), y_pred.shape[-1]
        if values.ndim == 0 or values.shape == y_pred.shape[: values.ndim]:
            return values, 1
        raise ValueError(
            f"The custom loss {self.name!r} must return one value per sample (shape "
            f"{y_pred.shape[:1]}) or per output element (shape {y_pred.shape}). "
            f"Got shape {values.shape} instead."
        )

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        if not need_grad:
            values, _ = self._shape_values(self._call_plain(y_true, y_pred), y_pred)
            return values.astype(y_pred.dtype), None
        leaf = Tensor(y_pred)
        try:
            out = self.fn(y_true, leaf, **self._fn_kwargs)
        except TypeError as exc:
            return self._finite_differences(y_true, y_pred, exc)
        if not isinstance(out, Tensor):
            out_values = np.asarray(out, dtype=np.float64)
            values, per = self._shape_values(out_values, y_pred)
            return values.astype(y_pred.dtype), np.zeros_like(y_pred)
        values, per = self._shape_values(out.value, y_pred)
        grads = gradient(out, leaf).astype(y_pred.dtype, copy=False)
        if per != 1:
            grads = grads / per
        if values.ndim == 0:
            # Already reduced over the batch: undo the base class's per-sample averaging.
            return np.asarray(values, dtype=y_pred.dtype).reshape(1), grads
        return values.astype(y_pred.dtype, copy=False), grads

    def _finite_differences(self, y_true, y_pred, reason):
        if not self._warned:
            warnings.warn(
                f"Custom loss {self.name!r} cannot be traced ({reason}); its gradient is "
                "estimated by central differences. Use automl.keras.ops / backend operations "
                "for an exact and faster gradient.",
                UserWarning,
                stacklevel=4,
            )
            self._warned = True
        x = np.asarray(y_pred, dtype=np.float64)
        values, per = self._shape_values(self._call_plain(y_true, x), x)
        if values.ndim == 0:
            raise ValueError(
                f"The custom loss {self.name!r} returns a scalar and cannot be traced; return one "
                "value per sample, or write it with automl.keras.ops operations."
            )
        flat = x.reshape(x.shape[0], -1)
        grads = np.empty_like(flat)
        eps = 1e-6 * np.maximum(1.0, np.abs(flat).max())
        for j in range(flat.shape[1]):
            saved = flat[:, j].copy()
            flat[:, j] = saved + eps
            plus, _ = self._shape_values(self._call_plain(y_true, x), x)
            flat[:, j] = saved - eps
            minus, _ = self._shape_values(self._call_plain(y_true, x), x)
            flat[:, j] = saved
            grads[:, j] = (plus - minus).reshape(x.shape[0], -1).sum(axis=1) / (2 * eps)
        return values.astype(y_pred.dtype), grads.reshape(y_pred.shape).astype(y_pred.dtype)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}
