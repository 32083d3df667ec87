"""Noise layers active only in training: AlphaDropout, GaussianDropout, GaussianNoise.

Each is the identity when ``training`` is false. Its noise comes from a
Generator made lazily by ``backend.make_rng(seed)`` at the first training
call, so a seeded layer draws the same noise sequence on every run.
"""

from __future__ import annotations

import math

import numpy as np

from ..._validation import Interval, check_param
from ..backend import make_rng
from ._base import LAYERS, Layer
from ._core import dropout_config

__all__ = ["AlphaDropout", "GaussianDropout", "GaussianNoise"]

# SELU's constants: the negative saturation value of selu is -_ALPHA * _SCALE.
_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946


def _check_seed(seed, owner):
    return check_param("seed", seed, [None, Interval(int, 0, None)], owner)


def _float_draw(dtype):
    # Generators draw float32 or float64 directly; other float types are cast.
    return dtype if dtype in (np.float32, np.float64) else np.float64


class _NoiseLayer(Layer):
    """Shared state of the noise layers: a seed and a lazily made Generator.

    As in Keras, the noise layers pass the input mask through unchanged.
    """

    supports_masking = True

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _check_seed(seed, type(self).__name__)
        self._rng = None

    def _generator(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = make_rng(self.seed)
        return self._rng


@LAYERS.register
class AlphaDropout(_NoiseLayer):
    """Dropout that keeps the mean and variance of its inputs (for SELU networks).

    In training, each entry is kept with probability ``1 - rate`` or replaced by
    SELU's negative saturation value ``alpha' = -alpha * scale``, and the result
    goes through the affine map ``a * x + b`` with
    ``a = ((1 - rate) * (1 + rate * alpha'**2)) ** -0.5`` and ``b = -a * alpha' * rate``,
    which restores zero mean and unit variance for standardized inputs.

    Parameters
    ----------
    rate : float
        Probability of dropping an entry, in [0, 1).
    noise_shape : tuple, optional
        Shape of the keep mask, broadcast to the input (``None`` entries follow the input).
    seed : int, optional
        Seed of this layer's random generator.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import AlphaDropout
    >>> x = np.random.default_rng(0).standard_normal((2000, 50))
    >>> y = AlphaDropout(0.2, seed=0)(x, training=True)
    >>> bool(abs(y.mean()) < 0.05 and abs(y.std() - 1.0) < 0.05)
    True
    >>> bool(np.array_equal(AlphaDropout(0.2)(x), x.astype("float32")))
    True
    """

    _cache_attrs = ("_slope",)

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = float(check_param("rate", rate, [Interval(float, 0, 1, closed="left")],
                                      "AlphaDropout"))
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self._slope = None

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            self._slope = None
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        rate = self.rate
        alpha_p = -_ALPHA * _SCALE
        a = ((1.0 - rate) * (1.0 + rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * rate
        keep = self._generator().random(shape, dtype=np.float32) >= rate
        # y = a * (x * keep + alpha_p * (1 - keep)) + b, i.e. slope * x + offset.
        slope = keep.astype(inputs.dtype)
        offset = (1.0 - slope) * (a * alpha_p) + b
        slope *= a
        self._slope = slope
        out = inputs * slope
        out += offset
        return out

    def backward(self, grad):
        return grad if self._slope is None else grad * self._slope

    def get_config(self):
        return {**super().get_config(), **dropout_config(self)}


@LAYERS.register
class GaussianDropout(_NoiseLayer):
    """Multiplies its inputs by 1-centered Gaussian noise in training.

    The noise has standard deviation ``sqrt(rate / (1 - rate))``.

    Parameters
    ----------
    rate : float
        Drop probability (as for ``Dropout``), in [0, 1).
    seed : int, optional
        Seed of this layer's random generator.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import GaussianDropout
    >>> y = GaussianDropout(0.5, seed=0)(np.ones((1000, 10)), training=True)
    >>> bool(abs(y.mean() - 1.0) < 0.05 and abs(y.std() - 1.0) < 0.05)
    True
    """

    _cache_attrs = ("_noise",)

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = float(check_param("rate", rate, [Interval(float, 0, 1, closed="left")],
                                      "GaussianDropout"))
        self._noise = None

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            self._noise = None
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self._generator().standard_normal(inputs.shape, dtype=_float_draw(inputs.dtype))
        noise = noise.astype(inputs.dtype, copy=False)
        noise *= stddev
        noise += 1.0
        self._noise = noise
        return inputs * noise

    def backward(self, grad):
        return grad if self._noise is None else grad * self._noise

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@LAYERS.register
class GaussianNoise(_NoiseLayer):
    """Adds zero-centered Gaussian noise of standard deviation ``stddev`` in training.

    Parameters
    ----------
    stddev : float
        Standard deviation of the noise, in [0, 1] (as in Keras).
    seed : int, optional
        Seed of this layer's random generator.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import GaussianNoise
    >>> y = GaussianNoise(0.1, seed=0)(np.zeros((1000, 10)), training=True)
    >>> bool(abs(y.std() - 0.1) < 0.01)
    True
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = float(check_param("stddev", stddev, [Interval(float, 0, 1)], "GaussianNoise"))

    def call(self, inputs, training=False):
        if not training or self.stddev == 0.0:
            return inputs
        noise = self._generator().standard_normal(inputs.shape, dtype=_float_draw(inputs.dtype))
        noise = noise.astype(inputs.dtype, copy=False)
        noise *= self.stddev
        noise += inputs
        return noise

    def backward(self, grad):
        return grad

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
