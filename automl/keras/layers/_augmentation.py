"""Image augmentation layers, active only in training (channels_last).

RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast,
RandomBrightness and RandomCrop follow Keras 3: they take batches
``(batch, height, width, channels)`` or single images ``(height, width,
channels)``, draw their random parameters per image on every training call
(RandomCrop: one crop window per batch, as in Keras) and are the identity at
inference (RandomCrop: a centre crop, see its docstring).

Randomness comes from a Generator made lazily by ``backend.make_rng(seed)``
at the first training call, so a seeded layer repeats its draws run after
run, and unseeded layers follow ``utils.set_random_seed``. The draws of the
last training call are cached, so ``backward`` is the exact adjoint of that
call: flips and crops move gradients back, contrast and brightness scale and
mask them, and the geometric layers scatter-add the gradient with the
bilinear (or nearest) weights of their sampling.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..._validation import Interval, Options, check_param, param_error
from ..backend import make_rng
from ..backend.image import (
    FILL_MODES,
    ResizePlan,
    affine_matrices,
    affine_resample,
    affine_resample_adjoint,
    is_identity,
)
from ._base import LAYERS, Layer, check_positive_int
from ._im2col import check_data_format

__all__ = [
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
]

_INTERPOLATIONS = ("nearest", "bilinear")
_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


# -- argument helpers --------------------------------------------------------
def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _factor_bounds(factor, name, owner, low=-1.0, high=1.0, symmetric=True):
    """``(lower, upper)`` from a number or a pair of numbers, each in ``[low, high]``.

    A number ``f`` gives ``(-|f|, |f|)`` (``(f, f)`` when not ``symmetric``); a
    pair is sorted.
    """
    expected = f"a float or a tuple of 2 floats, all in the range [{low}, {high}]"
    if _is_number(factor):
        if not low <= factor <= high:
            raise param_error(name, owner, expected, factor)
        f = abs(float(factor))
        return (-f, f) if symmetric else (f, f)
    if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(
        _is_number(v) and low <= v <= high for v in factor
    ):
        lower, upper = sorted(float(v) for v in factor)
        return lower, upper
    raise param_error(name, owner, expected, factor)


def _serializable(value):
    """Tuples as lists (JSON configs); numbers and None unchanged."""
    return list(value) if isinstance(value, tuple) else value


def _value_range(value_range, owner):
    if (
        isinstance(value_range, (tuple, list))
        and len(value_range) == 2
        and all(_is_number(v) for v in value_range)
        and value_range[0] != value_range[1]
    ):
        return [float(v) for v in sorted(value_range)]
    raise param_error("value_range", owner, "a tuple of 2 different floats", value_range)


def _check_seed(seed, owner):
    return check_param("seed", seed, [None, Interval(int, 0, None)], owner)


# -- the shared base -----------------------------------------------------------
class _RandomImageLayer(Layer):
    """A seed, a lazily made Generator, and the batched/unbatched handling.

    Subclasses implement ``_augment(x, rng)`` on a batch ``(B, H, W, C)``,
    returning the output and storing in ``self._state`` what ``_adjoint``
    needs; ``_adjoint(grad)`` returns the input gradient of that call.
    """

    _cache_attrs = ("_state", "_unbatched")

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _check_seed(seed, type(self).__name__)
        self._rng = None
        self._state = None
        self._unbatched = False

    def _generator(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = make_rng(self.seed)
        return self._rng

    def _as_batch(self, inputs):
        if inputs.ndim not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects images of shape (batch, height, width, "
                f"channels) or (height, width, channels). Got shape {inputs.shape} instead."
            )
        self._unbatched = inputs.ndim == 3
        return inputs[None] if self._unbatched else inputs

    def call(self, inputs, training=False):
        if not training:
            self._state = None
            return inputs
        out = self._augment(self._as_batch(inputs), self._generator())
        return out[0] if self._unbatched else out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        if self._state is None:
            return grad
        g = self._adjoint(grad[None] if self._unbatched else grad)
        return g[0] if self._unbatched else g

    def _augment(self, x, rng):
        raise NotImplementedError

    def _adjoint(self, grad):
        raise NotImplementedError


@LAYERS.register
class RandomFlip(_RandomImageLayer):
    """Flips each image left-right and/or top-bottom with probability 1/2, in training.

    Parameters
    ----------
    mode : {"horizontal_and_vertical", "horizontal", "vertical"}, default="horizontal_and_vertical"
        ``"horizontal"`` flips the width axis, ``"vertical"`` the height axis; with
        both, each image gets an independent draw for each axis.
    seed : int, optional
        Seed of this layer's random generator.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import RandomFlip
    >>> x = np.arange(12, dtype="float32").reshape(1, 2, 2, 3)
    >>> flip = RandomFlip("horizontal", seed=0)
    >>> y = flip(x, training=True)
    >>> any(np.array_equal(y, v) for v in (x, x[:, :, ::-1]))
    True
    >>> bool(np.array_equal(flip(x), x))  # inference: the identity
    True
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.mode = check_param("mode", mode, [Options(_FLIP_MODES)], "RandomFlip")
        self.data_format = check_data_format(data_format, "RandomFlip")

    def _flip(self, x):
        horizontal, vertical = self._state
        out = x.copy()
        if horizontal is not None:
            out[horizontal] = out[horizontal, :, ::-1]
        if vertical is not None:
            out[vertical] = out[vertical, ::-1]
        return out

    def _augment(self, x, rng):
        n = x.shape[0]
        draws = rng.random((n, 2) if self.mode == "horizontal_and_vertical" else (n, 1)) < 0.5
        horizontal = vertical = None
        if self.mode == "horizontal":
            horizontal = draws[:, 0]
        elif self.mode == "vertical":
            vertical = draws[:, 0]
        else:
            horizontal, vertical = draws[:, 0], draws[:, 1]
        self._state = (horizontal, vertical)
        return self._flip(x)

    def _adjoint(self, grad):
        # Each flip is its own inverse and transpose; the two flips commute.
        return self._flip(grad)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed,
                "data_format": self.data_format}


# -- geometric (affine) augmentations ------------------------------------------
class _AffineAugmentation(_RandomImageLayer):
    """A random affine map per image, resampled by ``backend.image``.

    Subclasses implement ``_matrices(rng, batch, height, width)``.
    """

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        owner = type(self).__name__
        self.fill_mode = check_param("fill_mode", fill_mode, [Options(FILL_MODES)], owner)
        self.interpolation = check_param("interpolation", interpolation, [Options(_INTERPOLATIONS)], owner)
        if not _is_number(fill_value):
            raise param_error("fill_value", owner, "a float", fill_value)
        self.fill_value = float(fill_value)
        self.data_format = check_data_format(data_format, owner)

    @property
    def _order(self):
        return 1 if self.interpolation == "bilinear" else 0

    def _augment(self, x, rng):
        n, h, w, _ = x.shape
        matrices = self._matrices(rng, n, h, w)
        if is_identity(matrices).all():
            self._state = None  # identity: backward passes the gradient through
            return x
        self._state = matrices
        return affine_resample(x, matrices, self.fill_mode, self.fill_value, self._order)

    def _adjoint(self, grad):
        return affine_resample_adjoint(grad, self._state, self.fill_mode, self._order)

    def _matrices(self, rng, n, h, w):
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }


@LAYERS.register
class RandomRotation(_AffineAugmentation):
    """Rotates each image about its centre by a random angle, in training.

    Parameters
    ----------
    factor : float or tuple of 2 floats
        Angle bounds as fractions of a full turn, in [-1, 1]: ``f`` draws from
        ``[-|f| * 360, |f| * 360]`` degrees, ``(lo, hi)`` from
        ``[lo * 360, hi * 360]``. Positive angles rotate counter-clockwise.
    fill_mode : {"reflect", "constant", "nearest", "wrap"}, default="reflect"
        How points outside the image are filled (``"reflect"`` repeats the edge
        pixel: ``dcba|abcd|dcba``).
    interpolation : {"bilinear", "nearest"}, default="bilinear"
    seed : int, optional
        Seed of this layer's random generator.
    fill_value : float, default=0.0
        The value outside the image for ``fill_mode="constant"``.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import RandomRotation
    >>> x = np.random.default_rng(0).random((4, 8, 8, 3))
    >>> layer = RandomRotation(0.1, seed=0)
    >>> layer(x, training=True).shape
    (4, 8, 8, 3)
    >>> bool(np.array_equal(layer(x), x.astype("float32")))
    True
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self._bounds = _factor_bounds(factor, "factor", "RandomRotation")
        self.factor = factor

    def _matrices(self, rng, n, h, w):
        lower, upper = self._bounds
        angles = rng.uniform(lower * 360.0, upper * 360.0, n)
        return affine_matrices(h, w, theta=angles)

    def get_config(self):
        return {**super().get_config(), "factor": _serializable(self.factor)}


@LAYERS.register
class RandomZoom(_AffineAugmentation):
    """Zooms each image in or out about its centre by a random factor per axis, in training.

    Parameters
    ----------
    height_factor : float or tuple of 2 floats
        Vertical zoom bounds in [-1, 1]: the rows are scaled by ``1 + z`` with
        ``z`` drawn from ``[-|f|, |f|]`` (or ``[lo, hi]``). Positive values zoom
        out (the content shrinks), negative values zoom in.
    width_factor : float or tuple of 2 floats, optional
        Horizontal zoom bounds, as ``height_factor``; ``None`` zooms both axes by
        the same draw (keeps the aspect ratio).
    fill_mode : {"reflect", "constant", "nearest", "wrap"}, default="reflect"
    interpolation : {"bilinear", "nearest"}, default="bilinear"
    seed : int, optional
        Seed of this layer's random generator.
    fill_value : float, default=0.0
        The value outside the image for ``fill_mode="constant"``.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self._height_bounds = _factor_bounds(height_factor, "height_factor", "RandomZoom")
        self._width_bounds = (None if width_factor is None
                              else _factor_bounds(width_factor, "width_factor", "RandomZoom"))
        self.height_factor = height_factor
        self.width_factor = width_factor

    def _matrices(self, rng, n, h, w):
        lower, upper = self._height_bounds
        zy = rng.uniform(1.0 + lower, 1.0 + upper, n)
        if self._width_bounds is None:
            zx = zy
        else:
            lower, upper = self._width_bounds
            zx = rng.uniform(1.0 + lower, 1.0 + upper, n)
        return affine_matrices(h, w, zx=zx, zy=zy)

    def get_config(self):
        return {**super().get_config(), "height_factor": _serializable(self.height_factor),
                "width_factor": _serializable(self.width_factor)}


@LAYERS.register
class RandomTranslation(_AffineAugmentation):
    """Shifts each image by a random fraction of its height and width, in training.

    Parameters
    ----------
    height_factor : float or tuple of 2 floats
        Vertical shift bounds as fractions of the height, in [-1, 1]: ``f``
        draws from ``[-|f|, |f|]``. Positive values move the content down.
    width_factor : float or tuple of 2 floats
        Horizontal shift bounds as fractions of the width; positive values move
        the content right.
    fill_mode : {"reflect", "constant", "nearest", "wrap"}, default="reflect"
    interpolation : {"bilinear", "nearest"}, default="bilinear"
    seed : int, optional
        Seed of this layer's random generator.
    fill_value : float, default=0.0
        The value outside the image for ``fill_mode="constant"``.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self._height_bounds = _factor_bounds(height_factor, "height_factor", "RandomTranslation")
        self._width_bounds = _factor_bounds(width_factor, "width_factor", "RandomTranslation")
        self.height_factor = height_factor
        self.width_factor = width_factor

    def _matrices(self, rng, n, h, w):
        dy = rng.uniform(*self._height_bounds, n) * h
        dx = rng.uniform(*self._width_bounds, n) * w
        # The matrices map output to input pixels: content moved by +d is read at -d.
        return affine_matrices(h, w, tx=-dx, ty=-dy)

    def get_config(self):
        return {**super().get_config(), "height_factor": _serializable(self.height_factor),
                "width_factor": _serializable(self.width_factor)}


# -- colour augmentations --------------------------------------------------------
class _ClippedAugmentation(_RandomImageLayer):
    """Shared value range: outputs are clipped to it, and clipped entries get no gradient."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.value_range = _value_range(value_range, type(self).__name__)
        self.factor = factor

    def _clip(self, out):
        low, high = self.value_range
        inside = (out >= low) & (out <= high)
        np.clip(out, low, high, out=out)
        return inside

    def get_config(self):
        return {**super().get_config(), "factor": _serializable(self.factor),
                "value_range": list(self.value_range), "seed": self.seed}


@LAYERS.register
class RandomContrast(_ClippedAugmentation):
    """Scales each image's deviation from its per-channel mean by a random factor, in training.

    Every channel of every image becomes ``(x - mean) * c + mean`` (``mean``
    over the image's pixels), with one ``c`` per image, and the result is
    clipped to ``value_range``.

    Parameters
    ----------
    factor : float or tuple of 2 floats
        In [0, 1]: ``c`` is drawn from ``[1 - f, 1 + f]`` for a float ``f`` and
        from ``[1 - lo, 1 + hi]`` for a pair ``(lo, hi)``.
    value_range : tuple of 2 floats, default=(0, 255)
        The range of the input values; outputs are clipped to it.
    seed : int, optional
        Seed of this layer's random generator.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor, value_range=value_range, seed=seed, **kwargs)
        self._bounds = _factor_bounds(factor, "factor", "RandomContrast", low=0.0, symmetric=False)

    def _augment(self, x, rng):
        lower, upper = self._bounds
        c = rng.uniform(1.0 - lower, 1.0 + upper, (x.shape[0], 1, 1, 1)).astype(x.dtype)
        mean = x.mean(axis=(1, 2), keepdims=True)
        out = x - mean
        out *= c
        out += mean
        self._state = (c, self._clip(out))
        return out

    def _adjoint(self, grad):
        c, inside = self._state
        g = grad * inside
        # d/dx of c * x + (1 - c) * mean(x): the mean spreads its share evenly over the pixels.
        spread = g.mean(axis=(1, 2), keepdims=True)
        spread *= 1.0 - c
        g *= c
        g += spread
        return g


@LAYERS.register
class RandomBrightness(_ClippedAugmentation):
    """Adds a random offset to each image, clipped to ``value_range``, in training.

    The offset is ``d * (high - low)`` with ``d`` drawn per image from the
    factor's bounds: ``-1`` makes an image black, ``1`` white.

    Parameters
    ----------
    factor : float or tuple of 2 floats
        In [-1, 1]: ``f`` draws ``d`` from ``[-|f|, |f|]``, a pair from ``[lo, hi]``.
    value_range : tuple of 2 floats, default=(0, 255)
        The range of the input values; outputs are clipped to it.
    seed : int, optional
        Seed of this layer's random generator.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import RandomBrightness
    >>> x = np.full((2, 4, 4, 3), 0.5)
    >>> y = RandomBrightness(0.2, value_range=(0, 1), seed=0)(x, training=True)
    >>> bool(0.3 <= y.min() and y.max() <= 0.7)
    True
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor, value_range=value_range, seed=seed, **kwargs)
        self._bounds = _factor_bounds(factor, "factor", "RandomBrightness")

    def _augment(self, x, rng):
        low, high = self.value_range
        delta = rng.uniform(*self._bounds, (x.shape[0], 1, 1, 1)) * (high - low)
        out = x + delta.astype(x.dtype)
        self._state = self._clip(out)
        return out

    def _adjoint(self, grad):
        return grad * self._state


# -- cropping ---------------------------------------------------------------------
@LAYERS.register
class RandomCrop(_RandomImageLayer):
    """Crops a random ``height x width`` window, the same for the whole batch, in training.

    At inference, and in training when the images are not larger than the
    window along both axes, the layer takes the largest centred window with
    the target aspect ratio and resizes it (bilinear) to ``height x width``,
    as in Keras. The output shape is therefore always ``(..., height, width,
    channels)``.

    Parameters
    ----------
    height, width : int
        Output size.
    seed : int, optional
        Seed of this layer's random generator.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import RandomCrop
    >>> x = np.arange(2 * 6 * 6).reshape(2, 6, 6, 1)
    >>> crop = RandomCrop(4, 4, seed=0)
    >>> crop(x, training=True).shape
    (2, 4, 4, 1)
    >>> crop(x).shape  # inference: the whole image (same aspect ratio) resized to 4 x 4
    (2, 4, 4, 1)
    """

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(seed=seed, name=name, **kwargs)
        self.height = check_positive_int(height, "height", "RandomCrop")
        self.width = check_positive_int(width, "width", "RandomCrop")
        self.data_format = check_data_format(data_format, "RandomCrop")

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return (*shape[:-3], self.height, self.width, shape[-1])

    def call(self, inputs, training=False):
        x = self._as_batch(inputs)
        _, h, w, _ = x.shape
        if training and h > self.height and w > self.width:
            rng = self._generator()
            top = int(rng.integers(0, h - self.height + 1))
            left = int(rng.integers(0, w - self.width + 1))
            self._state = (x.shape, (top, left))
            out = x[:, top:top + self.height, left:left + self.width].copy()
        else:
            # The largest centred window with the target aspect ratio, resized: Resizing's plan.
            plan = ResizePlan(h, w, self.height, self.width, "bilinear", True, False, 0.0, x.dtype)
            self._state = (x.shape, plan)
            out = plan.forward(x)
        return out[0] if self._unbatched else out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        g = grad[None] if self._unbatched else grad
        shape, where = self._state
        if isinstance(where, ResizePlan):
            out = where.backward(g)
        else:
            top, left = where
            out = np.zeros(shape, dtype=grad.dtype)
            out[:, top:top + self.height, left:left + self.width] = g
        return out[0] if self._unbatched else out

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "seed": self.seed,
                "data_format": self.data_format}
