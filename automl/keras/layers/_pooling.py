"""Pooling layers: Max/AveragePooling1D/2D/3D and the global poolings (channels_last).

Window pooling works on ``(N, H, W, C)`` or ``(N, D, H, W, C)`` arrays (1-D
layers add a unit height axis) with one vectorized operation per window offset
(``prod(pool_size)`` in all), never a loop over pixels:

* forward: ``np.maximum`` / ``+=`` of the strided slices of the input that each
  offset reads;
* max backward, non-overlapping windows (``strides == pool_size``, no padding,
  the common case): an equality mask between the input seen as
  ``(N, OH, ph, OW, pw, C)`` (one more pair of axes in 3-D) and the broadcast output, multiplied by the
  broadcast gradient; ties (frequent after a ReLU) keep only the first maximum
  of each window in row-major order, as TensorFlow's argmax does;
* max backward otherwise: a scan over the offsets routing each window's
  gradient to its first maximum, accumulated with strided ``+=``.

Average pooling with ``"same"`` padding divides by the number of real (unpadded)
values in each window, as Keras does.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..._validation import param_error
from ._base import LAYERS, Layer
from ._im2col import (
    check_data_format,
    check_input_rank,
    conv_geometry,
    conv_output_length,
    crop_spatial,
    normalize_padding,
    normalize_tuple,
    pad_spatial,
    state_without_caches,
)

__all__ = [
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalAvgPool3D",
]


def _offsets(pool, strides, out_hw):
    """Yield ``(idx, slices)``: the strided slices of the padded input read by window offset ``idx``."""
    spans = [st * (o - 1) + 1 for st, o in zip(strides, out_hw)]
    for idx in np.ndindex(*pool):
        yield idx, (slice(None), *(slice(i, i + span, st) for i, span, st in zip(idx, spans, strides)))


def _window_counts(length, pool, stride, out, before):
    """Number of real (unpadded) entries in each window along one axis."""
    start = np.arange(out) * stride - before
    return (np.minimum(start + pool, length) - np.maximum(start, 0)).astype(np.float64)


def _split_axes(n, out_hw, pool, c):
    """``(N, O1, P1, O2, P2, ..., C)``: the shape of an input whose windows tile it, one axis per window offset."""
    return (n, *(size for o, p in zip(out_hw, pool) for size in (o, p)), c)


def _offset_index(idx):
    """The index of window offset ``idx`` into an array of :func:`_split_axes` shape."""
    return (slice(None), *(item for i in idx for item in (slice(None), i)))



class _Pooling(Layer):
    """Window pooling over 1, 2 or 3 spatial axes (subclasses set ``_rank`` and ``_mode``).

    1-D layers run as 2-D with a unit height; ``_p2`` and ``_s2`` are the pool
    size and strides on those internal axes.
    """

    _rank = 2
    _mode = "max"
    _cache_attrs = ("_x", "_y", "_meta")

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        owner = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self._rank, "pool_size", owner)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self._rank, "strides", owner)
        self.padding = normalize_padding(padding, owner)
        self.data_format = check_data_format(data_format, owner)
        pad = (1,) * (max(self._rank, 2) - self._rank)
        self._p2, self._s2 = pad + self.pool_size, pad + self.strides
        self._plans: dict = {}
        self._x = self._y = self._meta = None

    def __getstate__(self):
        return state_without_caches(self)

    def build(self, input_shape):
        self.compute_output_shape(check_input_rank(self, input_shape, self._rank))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        out = tuple(
            conv_output_length(length, p, s, 1, self.padding)
            for length, p, s in zip(input_shape[1:-1], self.pool_size, self.strides)
        )
        if any(o is not None and o < 1 for o in out):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} cannot pool windows of size {self.pool_size} over "
                f"inputs of shape {input_shape} with padding={self.padding!r}: the output would be empty."
            )
        return (input_shape[0], *out, input_shape[-1])

    def _plan(self, hw):
        """Geometry for spatial size ``hw``: out size, pads, and whether windows tile the input."""
        plan = self._plans.get(hw)
        if plan is None:
            ones = (1,) * len(hw)
            out_hw, pads = conv_geometry(hw, self._p2, self._s2, ones, self.padding, type(self).__name__)
            padded = any(a or b for a, b in pads)
            tiled = self._p2 == self._s2 and not padded
            counts = None
            if self._mode == "avg" and padded:
                per_axis = [_window_counts(length, p, st, o, before)
                            for length, p, st, o, (before, _) in zip(hw, self._p2, self._s2, out_hw, pads)]
                counts = functools.reduce(np.multiply.outer, per_axis)[None, ..., None]
            plan = self._plans[hw] = (out_hw, pads, tiled, counts)
        return plan

    def call(self, inputs, training=False):
        x = inputs[:, None] if self._rank == 1 else inputs
        n, *spatial, c = x.shape
        out_hw, pads, tiled, counts = self._plan(tuple(spatial))
        if self._mode == "max":
            xp = pad_spatial(x, pads, -np.inf)
            slices = _offsets(self._p2, self._s2, out_hw)
            _, first = next(slices)
            y = xp[first].copy()
            for _, sl in slices:
                np.maximum(y, xp[sl], out=y)
        else:
            xp = pad_spatial(x, pads, 0.0)
            y = None
            for _, sl in _offsets(self._p2, self._s2, out_hw):
                if y is None:
                    y = xp[sl].copy()
                else:
                    y += xp[sl]
            if counts is None:
                y *= 1.0 / math.prod(self._p2)
            else:
                y /= counts.astype(y.dtype)
        self._x = xp if (training and self._mode == "max") else None
        self._y = y if self._mode == "max" else None
        self._meta = (inputs.shape, x.shape, out_hw, pads, tiled, counts)
        return y.reshape(n, out_hw[1], c) if self._rank == 1 else y

    def backward(self, grad):
        in_shape, shape_nd, out_hw, pads, tiled, counts = self._meta
        n, *spatial, c = shape_nd
        g = grad.reshape(n, *out_hw, c)
        pool = self._p2
        if tiled:
            # Windows tile the input (minus the rows/columns past the last window, which get 0).
            covered = tuple(o * p for o, p in zip(out_hw, pool))
            exact = covered == tuple(spatial)
            dx = np.empty(shape_nd, dtype=g.dtype) if exact else np.zeros(shape_nd, dtype=g.dtype)
            split = _split_axes(n, out_hw, pool, c)
            # A view (axes are only split): (N, O1, P1, O2, P2, ..., C).
            dx_split = dx[(slice(None), *(slice(0, size) for size in covered))].reshape(split)
            g_split = g.reshape(_split_axes(n, out_hw, (1,) * len(pool), c))
            if self._mode == "avg":
                np.multiply(g_split, 1.0 / math.prod(pool), out=dx_split)
                return dx.reshape(in_shape)
            mask = self._windows(out_hw) == self._y.reshape(g_split.shape)
            if np.count_nonzero(mask) != self._y.size:
                self._first_max_only(mask)
            np.multiply(mask, g_split, out=dx_split)
            return dx.reshape(in_shape)
        padded_shape = (n, *(size + a + b for size, (a, b) in zip(spatial, pads)), c)
        dxp = np.zeros(padded_shape, dtype=g.dtype)
        if self._mode == "avg":
            scaled = g / counts.astype(g.dtype) if counts is not None else g * (1.0 / math.prod(pool))
            for _, sl in _offsets(pool, self._s2, out_hw):
                dxp[sl] += scaled
        else:
            xp, y = self._x, self._y
            taken = np.empty(y.shape, dtype=bool)
            mask = np.empty(y.shape, dtype=bool)
            for idx, sl in _offsets(pool, self._s2, out_hw):
                if not any(idx):
                    np.equal(xp[sl], y, out=taken)
                    dxp[sl] += g * taken
                    continue
                np.equal(xp[sl], y, out=mask)
                np.greater(mask, taken, out=mask)  # a max not preceded by another one in its window
                np.logical_or(taken, mask, out=taken)
                dxp[sl] += g * mask
        return crop_spatial(dxp, pads).reshape(in_shape)

    def _windows(self, out_hw):
        """The input of a tiled max pooling seen as (N, O1, P1, O2, P2, ..., C)."""
        if self._x is None:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r}: backward() needs a preceding call with training=True."
            )
        x = self._x
        covered = (slice(None), *(slice(0, o * p) for o, p in zip(out_hw, self._p2)))
        return x[covered].reshape(_split_axes(x.shape[0], out_hw, self._p2, x.shape[-1]))

    @staticmethod
    def _first_max_only(mask):
        """Keep, in each window of ``mask`` (N, O1, P1, O2, P2, ..., C), only its first True (row-major)."""
        pool = mask.shape[2:-1:2]
        offsets = list(np.ndindex(*pool))
        taken = mask[_offset_index(offsets[0])].copy()
        for idx in offsets[1:]:
            view = mask[_offset_index(idx)]
            np.greater(view, taken, out=view)
            if idx != offsets[-1]:
                np.logical_or(taken, view, out=taken)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "padding": self.padding,
            "strides": list(self.strides),
            "data_format": self.data_format,
        }


_POOL_DOC = """{kind} pooling over {axes} windows of ``(batch, {shape}, channels)`` inputs.

    Parameters
    ----------
    pool_size : int{tuple}{default}
        Size of the pooling window.
    strides : int{tuple}, optional
        Step between windows; ``pool_size`` when None.
    padding : {{"valid", "same"}}, default="valid"
        ``"same"`` pads so that the output has ``ceil(size / stride)`` entries
        per axis{pad_note}.
    data_format : {{"channels_last", None}}, default=None
        Only channels_last is supported; ``"channels_first"`` raises.
{example}"""


@LAYERS.register(aliases=("MaxPool2D",))
class MaxPooling2D(_Pooling):
    _rank, _mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


@LAYERS.register(aliases=("MaxPool1D",))
class MaxPooling1D(_Pooling):
    _rank, _mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


@LAYERS.register(aliases=("MaxPool3D",))
class MaxPooling3D(_Pooling):
    _rank, _mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


@LAYERS.register(aliases=("AvgPool2D",))
class AveragePooling2D(_Pooling):
    _rank, _mode = 2, "avg"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


@LAYERS.register(aliases=("AvgPool1D",))
class AveragePooling1D(_Pooling):
    _rank, _mode = 1, "avg"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


@LAYERS.register(aliases=("AvgPool3D",))
class AveragePooling3D(_Pooling):
    _rank, _mode = 3, "avg"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


_EXAMPLES = {
    MaxPooling2D: """
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import MaxPooling2D
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> MaxPooling2D()(x)[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """,
    MaxPooling1D: """
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import MaxPooling1D
    >>> MaxPooling1D(2)(np.array([[[1.0], [3.0], [2.0], [0.0]]]))[0, :, 0].tolist()
    [3.0, 2.0]
    """,
    AveragePooling2D: """
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import AveragePooling2D
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> AveragePooling2D(2)(x)[0, :, :, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """,
    AveragePooling1D: """
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import AveragePooling1D
    >>> AveragePooling1D(2)(np.array([[[1.0], [3.0], [2.0], [0.0]]]))[0, :, 0].tolist()
    [2.0, 1.0]
    """,
    MaxPooling3D: """
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import MaxPooling3D
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2, 1)
    >>> MaxPooling3D()(x).ravel().tolist()
    [7.0]
    >>> MaxPooling3D(2, padding="same")(np.ones((2, 5, 4, 3, 6))).shape
    (2, 3, 2, 2, 6)
    """,
    AveragePooling3D: """
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import AveragePooling3D
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2, 1)
    >>> AveragePooling3D(2)(x).ravel().tolist()
    [3.5]
    """,
}

_SHAPES = {1: "steps", 2: "height, width", 3: "depth, height, width"}

for _cls in (MaxPooling2D, MaxPooling1D, MaxPooling3D, AveragePooling2D, AveragePooling1D, AveragePooling3D):
    _r = _cls._rank
    _cls.__doc__ = _POOL_DOC.format(
        kind="Max" if _cls._mode == "max" else "Average",
        axes=f"{_r}-D",
        shape=_SHAPES[_r],
        tuple=f" or tuple of {_r} ints" if _r > 1 else "",
        default="" if _cls._mode == "avg" else (f", default={(2,) * _r}" if _r > 1 else ", default=2"),
        pad_note=" (padding is ignored by the max)" if _cls._mode == "max"
        else " (padded entries are left out of the average)",
        example=_EXAMPLES[_cls],
    )
del _EXAMPLES


class _GlobalPooling(Layer):
    """Max or mean over every spatial axis (subclasses set ``_rank`` and ``_mode``)."""

    _rank = 2
    _mode = "max"
    _cache_attrs = ("_x", "_y", "_in_shape")

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)
        if not isinstance(keepdims, (bool, np.bool_)):
            raise param_error("keepdims", type(self).__name__, "a bool", keepdims, TypeError)
        self.keepdims = bool(keepdims)
        self._axes = tuple(range(1, self._rank + 1))
        self._x = self._y = self._in_shape = None

    def __getstate__(self):
        return state_without_caches(self)

    def build(self, input_shape):
        check_input_rank(self, input_shape, self._rank,
                         f"with {self._rank} spatial axes (rank {self._rank + 2})")

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.keepdims:
            return (input_shape[0], *(1,) * self._rank, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def call(self, inputs, training=False):
        if self._mode == "max":
            y = inputs.max(axis=self._axes, keepdims=True)
        else:
            y = inputs.mean(axis=self._axes, keepdims=True)
        self._x = inputs if (training and self._mode == "max") else None
        self._y = y
        self._in_shape = inputs.shape
        return y if self.keepdims else y.reshape(inputs.shape[0], inputs.shape[-1])

    def backward(self, grad):
        g = grad.reshape(self._y.shape)
        shape = self._in_shape
        if self._mode == "avg":
            count = int(np.prod(shape[1:-1]))
            return np.broadcast_to(g * (1.0 / count), shape).copy()
        if self._x is None:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r}: backward() needs a preceding call with training=True."
            )
        mask = self._x == self._y
        # Ties share the gradient equally (the gradient of a max reduction in Keras's backends).
        ties = mask.sum(axis=self._axes, keepdims=True)
        return mask * (g / ties)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


_GLOBAL_DOC = """Global {kind} pooling: the {what} over the {axes} of ``(batch, {shape}, channels)`` inputs.

    Parameters
    ----------
    data_format : {{"channels_last", None}}, default=None
        Only channels_last is supported; ``"channels_first"`` raises.
    keepdims : bool, default=False
        Keep the spatial axes (with size 1) in the output.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import {name}
    >>> {name}()(np.ones({example_shape})).shape
    (2, 3)
    >>> {name}(keepdims=True)(np.ones({example_shape})).shape
    {keep_shape}
    """


@LAYERS.register(aliases=("GlobalMaxPool2D",))
class GlobalMaxPooling2D(_GlobalPooling):
    _rank, _mode = 2, "max"


@LAYERS.register(aliases=("GlobalMaxPool1D",))
class GlobalMaxPooling1D(_GlobalPooling):
    _rank, _mode = 1, "max"


@LAYERS.register(aliases=("GlobalMaxPool3D",))
class GlobalMaxPooling3D(_GlobalPooling):
    _rank, _mode = 3, "max"


@LAYERS.register(aliases=("GlobalAvgPool2D",))
class GlobalAveragePooling2D(_GlobalPooling):
    _rank, _mode = 2, "avg"


@LAYERS.register(aliases=("GlobalAvgPool3D",))
class GlobalAveragePooling3D(_GlobalPooling):
    _rank, _mode = 3, "avg"


@LAYERS.register(aliases=("GlobalAvgPool1D",))
class GlobalAveragePooling1D(_GlobalPooling):
    _rank, _mode = 1, "avg"
    _cache_attrs = (*_GlobalPooling._cache_attrs, "_step_weights")
    # Keras: ``call`` averages over the unmasked steps only and the output has no mask.
    supports_masking = True

    def call(self, inputs, training=False, mask=None):
        if mask is None:
            self._step_weights = None
            return super().call(inputs, training)
        keep = np.asarray(mask, dtype=bool)
        if keep.shape != inputs.shape[:2]:
            raise ValueError(
                f"The mask of GlobalAveragePooling1D {self.name!r} must have the shape (batch, "
                f"steps) = {inputs.shape[:2]} of the inputs. Got a mask of shape {keep.shape} instead."
            )
        count = keep.sum(axis=1, keepdims=True)
        # 1 / count on the kept steps, 0 elsewhere (a fully masked sample has no kept step).
        weights = np.divide(keep, count, out=np.zeros(keep.shape, dtype=inputs.dtype), where=keep)
        y = np.matmul(weights[:, None, :], inputs)  # (batch, 1, features)
        # As in Keras (sum / count), a sample whose steps are all masked averages to 0 / 0 = NaN.
        y[count[:, 0] == 0] = np.nan
        self._step_weights, self._y, self._in_shape, self._x = weights, y, inputs.shape, None
        return y if self.keepdims else y.reshape(inputs.shape[0], inputs.shape[-1])

    def backward(self, grad):
        if self._step_weights is None:
            return super().backward(grad)
        # d(sum_t w_t x_t)/dx_t = w_t: zero on the masked steps (and on fully masked samples).
        return self._step_weights[:, :, None] * grad.reshape(self._y.shape)

    def compute_mask(self, inputs, mask=None):
        return None


_AXES = {1: "steps", 2: "height and width", 3: "depth, height and width"}

for _cls in (GlobalMaxPooling2D, GlobalMaxPooling1D, GlobalMaxPooling3D, GlobalAveragePooling2D,
             GlobalAveragePooling1D, GlobalAveragePooling3D):
    _r = _cls._rank
    _cls.__doc__ = _GLOBAL_DOC.format(
        kind="max" if _cls._mode == "max" else "average",
        what="maximum" if _cls._mode == "max" else "mean",
        axes=_AXES[_r],
        shape=_SHAPES[_r],
        name=_cls.__name__,
        example_shape=str((2, *(4,) * _r, 3)).replace("(2, 4, 3)", "(2, 5, 3)"),
        keep_shape=str((2, *(1,) * _r, 3)),
    )
GlobalAveragePooling1D.__doc__ = GlobalAveragePooling1D.__doc__.replace(
    "    Examples\n", """    Notes
    -----
    ``call`` takes Keras's optional ``mask`` of shape ``(batch, steps)``
    (True = keep, e.g. from ``Embedding(mask_zero=True)``): the mean then runs
    over the kept steps only, and the output carries no mask. As in Keras, a
    sample whose steps are all masked gives NaN (0 / 0). GlobalMaxPooling1D,
    like Keras's, does not support masking: it drops the mask with a warning.

    Examples
""", 1)
del _cls, _r, _SHAPES, _AXES

# Keras's alternative names.
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)
