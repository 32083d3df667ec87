"""Spatial layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D, SpatialDropout1D/2D/3D.

All work on channels_last ``(batch, *spatial, channels)`` arrays with 1, 2 or 3
spatial axes; each forward and backward pass is one slice assignment or one
broadcast copy / reshape-sum, never a loop over pixels.
"""

from __future__ import annotations

import numpy as np

from ..._validation import param_error
from ._base import LAYERS, Layer, check_positive_int
from ._core import Dropout
from ._im2col import check_data_format, check_input_rank, normalize_tuple

__all__ = [
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _normalize_borders(value, name, owner, rank=2):
    """One ``(before, after)`` pair per spatial axis, all >= 0.

    For ``rank`` 2 or 3: an int (everywhere), ``rank`` ints (symmetric per
    axis) or ``rank`` pairs of ints. For ``rank`` 1 (Keras's 1-D layers): an int
    or one ``(before, after)`` pair.
    """
    pairs = None
    if _is_int(value):
        pairs = ((value, value),) * rank
    elif rank == 1:
        try:
            pairs = (tuple(value),)
        except TypeError:
            pairs = None
    else:
        try:
            items = tuple(value)
            pairs = tuple((v, v) if _is_int(v) else tuple(v) for v in items)
        except TypeError:
            pairs = None
    if (
        pairs is None
        or len(pairs) != rank
        or not all(len(p) == 2 and all(_is_int(v) and v >= 0 for v in p) for p in pairs)
    ):
        what = ("an int or a tuple of 2 ints" if rank == 1
                else f"an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints")
        raise param_error(name, owner, f"{what}, all in the range [0, inf)", value)
    return tuple((int(a), int(b)) for a, b in pairs)


def _interior(sizes, borders):
    """The index of the region of an ``(N, *padded, C)`` array left after removing ``borders``."""
    return (slice(None), *(slice(before, before + size) for size, (before, _) in zip(sizes, borders)))


class _ZeroPadding(Layer):
    """Zero padding of the ``_rank`` spatial axes; ``_borders`` holds one (before, after) pair per axis."""

    _rank = 2
    _cache_attrs = ("_in_shape",)

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self._borders = _normalize_borders(padding, "padding", owner, self._rank)
        self.padding = self._borders[0] if self._rank == 1 else self._borders
        self.data_format = check_data_format(data_format, owner)

    def build(self, input_shape):
        check_input_rank(self, input_shape, self._rank)

    def compute_output_shape(self, input_shape):
        n, *spatial, c = tuple(input_shape)
        return (n, *(None if size is None else size + a + b for size, (a, b) in zip(spatial, self._borders)), c)

    def call(self, inputs, training=False):
        n, *spatial, c = inputs.shape
        shape = (n, *(size + a + b for size, (a, b) in zip(spatial, self._borders)), c)
        out = np.zeros(shape, dtype=inputs.dtype)
        out[_interior(spatial, self._borders)] = inputs
        self._in_shape = inputs.shape
        return out

    def backward(self, grad):
        return grad[_interior(self._in_shape[1:-1], self._borders)]

    def get_config(self):
        padding = list(self.padding) if self._rank == 1 else [list(p) for p in self.padding]
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class _Cropping(Layer):
    """Cropping of the ``_rank`` spatial axes; ``_borders`` holds one (before, after) pair per axis."""

    _rank = 2
    _cache_attrs = ("_in_shape",)

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self._borders = _normalize_borders(cropping, "cropping", owner, self._rank)
        self.cropping = self._borders[0] if self._rank == 1 else self._borders
        self.data_format = check_data_format(data_format, owner)

    def build(self, input_shape):
        check_input_rank(self, input_shape, self._rank)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        n, *spatial, c = tuple(input_shape)
        out = []
        for size, (a, b) in zip(spatial, self._borders):
            if size is not None and size - a - b < 1:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} cannot crop {self.cropping} from inputs of shape "
                    f"{tuple(input_shape)}: nothing would be left."
                )
            out.append(None if size is None else size - a - b)
        return (n, *out, c)

    def call(self, inputs, training=False):
        spatial = inputs.shape[1:-1]
        if any(size - a - b < 1 for size, (a, b) in zip(spatial, self._borders)):
            self.compute_output_shape(inputs.shape)
        self._in_shape = inputs.shape
        return inputs[(slice(None), *(slice(a, size - b) for size, (a, b) in zip(spatial, self._borders)))]

    def backward(self, grad):
        dx = np.zeros(self._in_shape, dtype=grad.dtype)
        dx[_interior(grad.shape[1:-1], self._borders)] = grad
        return dx

    def _config_cropping(self):
        return list(self.cropping) if self._rank == 1 else [list(p) for p in self.cropping]

    def get_config(self):
        return {**super().get_config(), "cropping": self._config_cropping(), "data_format": self.data_format}


class _UpSampling(Layer):
    """Nearest-neighbour upsampling: entry ``i`` of spatial axis ``k`` repeated ``_factors[k]`` times."""

    _rank = 2
    _cache_attrs = ("_in_shape",)

    def build(self, input_shape):
        check_input_rank(self, input_shape, self._rank)

    def compute_output_shape(self, input_shape):
        n, *spatial, c = tuple(input_shape)
        return (n, *(None if size is None else size * f for size, f in zip(spatial, self._factors)), c)

    def call(self, inputs, training=False):
        n, *spatial, c = inputs.shape
        self._in_shape = inputs.shape
        # (N, D1, f1, D2, f2, ..., C) filled by one broadcast copy, then merged pairwise.
        split = (n, *(v for size, f in zip(spatial, self._factors) for v in (size, f)), c)
        out = np.empty(split, dtype=inputs.dtype)
        out[...] = inputs.reshape((n, *(v for size in spatial for v in (size, 1)), c))
        return out.reshape(n, *(size * f for size, f in zip(spatial, self._factors)), c)

    def backward(self, grad):
        n, *spatial, c = self._in_shape
        split = (n, *(v for size, f in zip(spatial, self._factors) for v in (size, f)), c)
        return grad.reshape(split).sum(axis=tuple(range(2, 2 * len(spatial) + 1, 2)))


@LAYERS.register
class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of each sequence of ``(batch, steps, channels)`` inputs.

    Parameters
    ----------
    padding : int or tuple of 2 ints, default=1
        The same number of zero steps on both sides, or ``(before, after)``.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported; ``"channels_first"`` raises.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ZeroPadding1D
    >>> ZeroPadding1D((1, 2))(np.ones((1, 2, 1)))[0, :, 0].tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


@LAYERS.register
class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around each image.

    Parameters
    ----------
    padding : int, tuple of 2 ints or tuple of 2 tuples of 2 ints, default=(1, 1)
        The same amount on every side; ``(rows, cols)`` on both sides; or
        ``((top, bottom), (left, right))``.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported; ``"channels_first"`` raises.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ZeroPadding2D
    >>> ZeroPadding2D(((1, 0), (2, 1)))(np.ones((1, 2, 2, 3))).shape
    (1, 3, 5, 3)
    """

    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


@LAYERS.register
class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around each volume of ``(batch, depth, height, width, channels)`` inputs.

    Parameters
    ----------
    padding : int, tuple of 3 ints or tuple of 3 tuples of 2 ints, default=((1, 1), (1, 1), (1, 1))
        The same amount on every side; ``(depth, rows, cols)`` on both sides;
        or ``((front, back), (top, bottom), (left, right))``.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported; ``"channels_first"`` raises.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ZeroPadding3D
    >>> ZeroPadding3D((1, 0, 2))(np.ones((1, 2, 2, 2, 3))).shape
    (1, 4, 2, 6, 3)
    """

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


@LAYERS.register
class Cropping1D(_Cropping):
    """Removes steps at the start and end of each sequence of ``(batch, steps, channels)`` inputs.

    Parameters
    ----------
    cropping : int or tuple of 2 ints, default=(1, 1)
        The same number of steps on both sides, or ``(before, after)``.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Cropping1D
    >>> Cropping1D((1, 2))(np.arange(5.0).reshape(1, 5, 1))[0, :, 0].tolist()
    [1.0, 2.0]
    """

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")  # Keras's Cropping1D has no data_format
        return config


@LAYERS.register
class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of each image.

    Parameters
    ----------
    cropping : int, tuple of 2 ints or tuple of 2 tuples of 2 ints, default=((0, 0), (0, 0))
        As ``padding`` in :class:`ZeroPadding2D`.
    data_format : {"channels_last", None}, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Cropping2D
    >>> Cropping2D(((1, 0), (0, 2)))(np.ones((1, 4, 5, 3))).shape
    (1, 3, 3, 3)
    """

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


@LAYERS.register
class Cropping3D(_Cropping):
    """Removes slices at the borders of each volume of ``(batch, depth, height, width, channels)`` inputs.

    Parameters
    ----------
    cropping : int, tuple of 3 ints or tuple of 3 tuples of 2 ints, default=((1, 1), (1, 1), (1, 1))
        As ``padding`` in :class:`ZeroPadding3D`.
    data_format : {"channels_last", None}, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Cropping3D
    >>> Cropping3D((1, (0, 2), 1))(np.ones((1, 4, 5, 6, 3))).shape
    (1, 2, 3, 4, 3)
    """

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


@LAYERS.register
class UpSampling1D(_UpSampling):
    """Repeats each step of ``(batch, steps, channels)`` inputs ``size`` times.

    Parameters
    ----------
    size : int, default=2
        Upsampling factor.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import UpSampling1D
    >>> UpSampling1D(3)(np.array([[[1.0], [2.0]]]))[0, :, 0].tolist()
    [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    """

    _rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = check_positive_int(size, "size", "UpSampling1D")
        self._factors = (self.size,)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@LAYERS.register
class UpSampling2D(_UpSampling):
    """Repeats each row ``size[0]`` times and each column ``size[1]`` times (nearest-neighbour).

    Parameters
    ----------
    size : int or tuple of 2 ints, default=(2, 2)
    data_format : {"channels_last", None}, default=None
    interpolation : {"nearest"}, default="nearest"
        Only nearest-neighbour upsampling is implemented.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import UpSampling2D
    >>> UpSampling2D(2)(np.array([[[[1.0], [2.0]]]]))[0, :, :, 0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]
    """

    _rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = self._factors = normalize_tuple(size, 2, "size", "UpSampling2D")
        self.data_format = check_data_format(data_format, "UpSampling2D")
        if interpolation != "nearest":
            raise param_error("interpolation", "UpSampling2D",
                              "'nearest' (the only interpolation automl.keras implements)", interpolation)
        self.interpolation = interpolation

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": self.data_format,
                "interpolation": self.interpolation}


@LAYERS.register
class UpSampling3D(_UpSampling):
    """Repeats each slice, row and column of ``(batch, depth, height, width, channels)`` inputs.

    Entry ``(d, h, w)`` of the input fills the ``size``-shaped block at
    ``(d * size[0], h * size[1], w * size[2])`` of the output (nearest-neighbour).

    Parameters
    ----------
    size : int or tuple of 3 ints, default=(2, 2, 2)
    data_format : {"channels_last", None}, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import UpSampling3D
    >>> UpSampling3D((1, 2, 3))(np.ones((2, 2, 3, 4, 5))).shape
    (2, 2, 6, 12, 5)
    """

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = self._factors = normalize_tuple(size, 3, "size", "UpSampling3D")
        self.data_format = check_data_format(data_format, "UpSampling3D")

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": self.data_format}


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one keep/drop draw per (sample, channel)."""

    _rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, noise_shape=None, seed=seed, **kwargs)
        self.noise_shape = (None,) + (1,) * self._rank + (None,)

    def build(self, input_shape):
        check_input_rank(self, input_shape, self._rank, f"of rank {self._rank + 2}")

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape", None)
        return config


@LAYERS.register
class SpatialDropout1D(_SpatialDropout):
    """Drops entire channels of ``(batch, steps, channels)`` inputs in training.

    Each (sample, channel) pair is zeroed with probability ``rate`` for every
    step at once; the kept ones are scaled by ``1 / (1 - rate)``.

    Parameters
    ----------
    rate : float
        Fraction of the channels to drop, in [0, 1).
    seed : int, optional
        Seed of this layer's random generator.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import SpatialDropout1D
    >>> y = SpatialDropout1D(0.5, seed=0)(np.ones((4, 6, 8)), training=True)
    >>> bool(np.all(y.std(axis=1) == 0))  # a channel is dropped at every step or none
    True
    """

    _rank = 1


class _ImageSpatialDropout(_SpatialDropout):
    """Spatial dropout of 2-D and 3-D feature maps, which take ``data_format``."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


@LAYERS.register
class SpatialDropout2D(_ImageSpatialDropout):
    """Drops entire feature maps of ``(batch, height, width, channels)`` inputs in training.

    Parameters
    ----------
    rate : float
        Fraction of the channels to drop, in [0, 1).
    data_format : {"channels_last", None}, default=None
    seed : int, optional
        Seed of this layer's random generator.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import SpatialDropout2D
    >>> y = SpatialDropout2D(0.5, seed=0)(np.ones((2, 3, 3, 4)), training=True)
    >>> bool(np.all(y.std(axis=(1, 2)) == 0))
    True
    """

    _rank = 2


@LAYERS.register
class SpatialDropout3D(_ImageSpatialDropout):
    """Drops entire feature volumes of ``(batch, depth, height, width, channels)`` inputs in training.

    Parameters
    ----------
    rate : float
        Fraction of the channels to drop, in [0, 1).
    data_format : {"channels_last", None}, default=None
    seed : int, optional
        Seed of this layer's random generator.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import SpatialDropout3D
    >>> y = SpatialDropout3D(0.5, seed=0)(np.ones((2, 2, 3, 3, 4)), training=True)
    >>> bool(np.all(y.std(axis=(1, 2, 3)) == 0))
    True
    """

    _rank = 3

