"""Pooling layers: Max/AveragePooling1D/2D and the global poolings (channels_last).

Window pooling works on 2-D ``(N, H, W, C)`` arrays (1-D layers add a unit
height axis) with one vectorized operation per window offset
(``pool_h * pool_w`` in all), never a loop over pixels:

* forward: ``np.maximum`` / ``+=`` of the strided slices of the input that each
  offset reads;
* max backward, non-overlapping windows (``strides == pool_size``, no padding,
  the common case): an equality mask between the input seen as
  ``(N, OH, ph, OW, pw, C)`` and the broadcast output, multiplied by the
  broadcast gradient; ties (frequent after a ReLU) keep only the first maximum
  of each window in row-major order, as TensorFlow's argmax does;
* max backward otherwise: a scan over the offsets routing each window's
  gradient to its first maximum, accumulated with strided ``+=``.

Average pooling with ``"same"`` padding divides by the number of real (unpadded)
values in each window, as Keras does.
"""

from __future__ import annotations

import numpy as np

from ..._validation import param_error
from ._base import LAYERS, Layer
from ._im2col import (
    check_data_format,
    conv_geometry,
    conv_output_length,
    normalize_padding,
    normalize_tuple,
    state_without_caches,
)

__all__ = [
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "MaxPool1D",
    "MaxPool2D",
    "AvgPool1D",
    "AvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
]


def _offsets(pool, strides, out_hw):
    """Yield ``(i, j, slices)``: the strided slices of the padded input read by window offset (i, j)."""
    (ph, pw), (sh, sw) = pool, strides
    h_span, w_span = sh * (out_hw[0] - 1) + 1, sw * (out_hw[1] - 1) + 1
    for i in range(ph):
        for j in range(pw):
            yield i, j, (slice(None), slice(i, i + h_span, sh), slice(j, j + w_span, sw))


def _pad(x, pads, value):
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    out = np.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    out[:, top:top + h, left:left + w] = x
    return out


def _window_counts(length, pool, stride, out, before):
    """Number of real (unpadded) entries in each window along one axis."""
    start = np.arange(out) * stride - before
    return (np.minimum(start + pool, length) - np.maximum(start, 0)).astype(np.float64)


class _Pooling(Layer):
    """Window pooling over 1 or 2 spatial axes (subclasses set ``_rank`` and ``_mode``)."""

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
        pad = (1,) * (2 - self._rank)
        self._p2, self._s2 = pad + self.pool_size, pad + self.strides
        self._plans: dict = {}
        self._x = self._y = self._meta = None

    def __getstate__(self):
        return state_without_caches(self)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self._rank + 2:
            kind = "(batch, steps, channels)" if self._rank == 1 else "(batch, height, width, channels)"
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of shape {kind}. "
                f"Got input shape {input_shape} instead."
            )
        self.compute_output_shape(input_shape)

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
            out_hw, pads = conv_geometry(hw, self._p2, self._s2, (1, 1), self.padding, type(self).__name__)
            tiled = self._p2 == self._s2 and not any(a or b for a, b in pads)
            counts = None
            if self._mode == "avg" and any(a or b for a, b in pads):
                ch = _window_counts(hw[0], self._p2[0], self._s2[0], out_hw[0], pads[0][0])
                cw = _window_counts(hw[1], self._p2[1], self._s2[1], out_hw[1], pads[1][0])
                counts = np.outer(ch, cw)[None, :, :, None]
            plan = self._plans[hw] = (out_hw, pads, tiled, counts)
        return plan

    def call(self, inputs, training=False):
        x = inputs[:, None] if self._rank == 1 else inputs
        n, h, w, c = x.shape
        out_hw, pads, tiled, counts = self._plan((h, w))
        if self._mode == "max":
            xp = _pad(x, pads, -np.inf)
            slices = _offsets(self._p2, self._s2, out_hw)
            _, _, first = next(slices)
            y = xp[first].copy()
            for _, _, sl in slices:
                np.maximum(y, xp[sl], out=y)
        else:
            xp = _pad(x, pads, 0.0)
            y = None
            for _, _, sl in _offsets(self._p2, self._s2, out_hw):
                if y is None:
                    y = xp[sl].copy()
                else:
                    y += xp[sl]
            if counts is None:
                y *= 1.0 / (self._p2[0] * self._p2[1])
            else:
                y /= counts.astype(y.dtype)
        self._x = xp if (training and self._mode == "max") else None
        self._y = y if self._mode == "max" else None
        self._meta = (inputs.shape, (n, h, w, c), out_hw, pads, tiled, counts)
        return y.reshape(n, out_hw[1], c) if self._rank == 1 else y

    def backward(self, grad):
        in_shape, shape4, out_hw, pads, tiled, counts = self._meta
        n, h, w, c = shape4
        g = grad.reshape(n, out_hw[0], out_hw[1], c)
        (ph, pw), (top, _), (left, _) = self._p2, pads[0], pads[1]
        if tiled:
            # Windows tile the input (minus the rows/columns past the last window, which get 0).
            oh, ow = out_hw
            exact = (oh * ph, ow * pw) == (h, w)
            dx = np.empty(shape4, dtype=g.dtype) if exact else np.zeros(shape4, dtype=g.dtype)
            dx6 = dx[:, :oh * ph, :ow * pw].reshape(n, oh, ph, ow, pw, c)  # a view: axes are only split
            g6 = g[:, :, None, :, None]
            if self._mode == "avg":
                np.multiply(g6, 1.0 / (ph * pw), out=dx6)
                return dx.reshape(in_shape)
            mask = self._windows(oh, ow) == self._y[:, :, None, :, None]
            if np.count_nonzero(mask) != self._y.size:
                self._first_max_only(mask)
            np.multiply(mask, g6, out=dx6)
            return dx.reshape(in_shape)
        hp, wp = h + sum(pads[0]), w + sum(pads[1])
        dxp = np.zeros((n, hp, wp, c), dtype=g.dtype)
        if self._mode == "avg":
            scaled = g / counts.astype(g.dtype) if counts is not None else g * (1.0 / (ph * pw))
            for _, _, sl in _offsets(self._p2, self._s2, out_hw):
                dxp[sl] += scaled
        else:
            xp, y = self._x, self._y
            taken = np.empty(y.shape, dtype=bool)
            mask = np.empty(y.shape, dtype=bool)
            for i, j, sl in _offsets(self._p2, self._s2, out_hw):
                if i == j == 0:
                    np.equal(xp[sl], y, out=taken)
                    dxp[sl] += g * taken
                    continue
                np.equal(xp[sl], y, out=mask)
                np.greater(mask, taken, out=mask)  # a max not preceded by another one in its window
                np.logical_or(taken, mask, out=taken)
                dxp[sl] += g * mask
        dx = dxp[:, top:top + h, left:left + w]
        return dx.reshape(in_shape)

    def _windows(self, oh, ow):
        """The input of a tiled max pooling seen as (N, OH, ph, OW, pw, C)."""
        if self._x is None:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r}: backward() needs a preceding call with training=True."
            )
        x = self._x
        (ph, pw) = self._p2
        n, c = x.shape[0], x.shape[3]
        return x[:, :oh * ph, :ow * pw].reshape(n, oh, ph, ow, pw, c)

    @staticmethod
    def _first_max_only(mask):
        """Keep, in each window of ``mask`` (N, OH, ph, OW, pw, C), only its first True (row-major)."""
        ph, pw = mask.shape[2], mask.shape[4]
        taken = mask[:, :, 0, :, 0].copy()
        for i in range(ph):
            for j in range(pw):
                if (i, j) == (0, 0):
                    continue
                view = mask[:, :, i, :, j]
                np.greater(view, taken, out=view)
                if (i, j) != (ph - 1, pw - 1):
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
}

for _cls in (MaxPooling2D, MaxPooling1D, AveragePooling2D, AveragePooling1D):
    _two = _cls._rank == 2
    _cls.__doc__ = _POOL_DOC.format(
        kind="Max" if _cls._mode == "max" else "Average",
        axes="2-D" if _two else "1-D",
        shape="height, width" if _two else "steps",
        tuple=" or tuple of 2 ints" if _two else "",
        default="" if _cls._mode == "avg" else (", default=(2, 2)" if _two else ", default=2"),
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
        if len(tuple(input_shape)) != self._rank + 2:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs with {self._rank} spatial axes "
                f"(rank {self._rank + 2}). Got input shape {tuple(input_shape)} instead."
            )

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


@LAYERS.register(aliases=("GlobalAvgPool2D",))
class GlobalAveragePooling2D(_GlobalPooling):
    _rank, _mode = 2, "avg"


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


for _cls in (GlobalMaxPooling2D, GlobalMaxPooling1D, GlobalAveragePooling2D, GlobalAveragePooling1D):
    _two = _cls._rank == 2
    _cls.__doc__ = _GLOBAL_DOC.format(
        kind="max" if _cls._mode == "max" else "average",
        what="maximum" if _cls._mode == "max" else "mean",
        axes="height and width" if _two else "steps",
        shape="height, width" if _two else "steps",
        name=_cls.__name__,
        example_shape="(2, 4, 4, 3)" if _two else "(2, 5, 3)",
        keep_shape="(2, 1, 1, 3)" if _two else "(2, 1, 3)",
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
del _cls, _two

# Keras's alternative names.
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
