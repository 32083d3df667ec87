"""Weight initializers (Keras 3 names, arguments and defaults), seeded through Generators.

Strings resolve as in Keras 3's ``initializers.get``: the class names, their
snake_case forms, and Keras's short aliases ``"uniform"`` (RandomUniform),
``"normal"`` (RandomNormal), ``"zero"``, ``"one"``, plus the alternative
class names ``OrthogonalInitializer`` and ``IdentityInitializer``. The module
also exposes Keras's lowercase names (``initializers.random_uniform`` is
``RandomUniform``, ...).
"""

from __future__ import annotations

import math

import numpy as np

from ..._registry import Registry
from ..._validation import Interval, Options, check_param
from ..backend import floatx, make_rng

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
    "OrthogonalInitializer",
    "Identity",
    "IdentityInitializer",
    "zeros",
    "ones",
    "constant",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "identity",
    "INITIALIZERS",
]

INITIALIZERS = Registry("initializer")


class Initializer:
    """Base class: ``initializer(shape, dtype=None) -> np.ndarray``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _Seeded(Initializer):
    def __init__(self, seed=None):
        check_param("seed", seed, [None, Interval(int, 0, None)], type(self).__name__)
        self.seed = seed

    def _rng(self):
        # An int seed gives the same values on every call, as in Keras 3.
        return make_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


@INITIALIZERS.register(aliases=("zeros", "zero"))
class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=dtype or floatx())


@INITIALIZERS.register(aliases=("ones", "one"))
class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=dtype or floatx())


@INITIALIZERS.register(aliases=("constant",))
class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=dtype or floatx())

    def get_config(self):
        return {"value": self.value}


@INITIALIZERS.register(aliases=("random_normal", "normal"))
class RandomNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        x = self._rng().normal(self.mean, self.stddev, size=shape)
        return x.astype(dtype or floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@INITIALIZERS.register(aliases=("random_uniform", "uniform"))
class RandomUniform(_Seeded):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        x = self._rng().uniform(self.minval, self.maxval, size=shape)
        return x.astype(dtype or floatx())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


def _truncated_normal(rng, stddev, shape):
    # Resample values beyond two standard deviations, as Keras does.
    x = rng.standard_normal(size=shape)
    bad = np.abs(x) > 2.0
    while bad.any():
        x[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(x) > 2.0
    return x * stddev


@INITIALIZERS.register(aliases=("truncated_normal",))
class TruncatedNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        x = _truncated_normal(self._rng(), self.stddev, shape) + self.mean
        return x.astype(dtype or floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


def compute_fans(shape) -> tuple[float, float]:
    """Fan-in and fan-out of a weight shape (kernel dims last, as in Keras)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


@INITIALIZERS.register(aliases=("variance_scaling",))
class VarianceScaling(_Seeded):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        owner = type(self).__name__
        check_param("scale", scale, [Interval(float, 0, None, closed="neither")], owner)
        check_param("mode", mode, [Options(("fan_in", "fan_out", "fan_avg"))], owner)
        check_param(
            "distribution",
            distribution,
            [Options(("truncated_normal", "untruncated_normal", "uniform", "normal"))],
            owner,
        )
        self.scale, self.mode = scale, mode
        self.distribution = "truncated_normal" if distribution == "normal" else distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        denom = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, denom[self.mode])
        rng = self._rng()
        if self.distribution == "truncated_normal":
            # 0.879... is the stddev of a standard normal truncated to [-2, 2].
            x = _truncated_normal(rng, math.sqrt(scale) / 0.87962566103423978, shape)
        elif self.distribution == "untruncated_normal":
            x = rng.normal(0.0, math.sqrt(scale), size=shape)
        else:
            limit = math.sqrt(3.0 * scale)
            x = rng.uniform(-limit, limit, size=shape)
        return np.asarray(x, dtype=dtype or floatx())

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            **super().get_config(),
        }


def _variance_preset(name, scale, mode, distribution, alias):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    cls = type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config})
    cls.__doc__ = f"{name}: variance scaling with scale={scale}, mode={mode!r}, {distribution}."
    cls.__module__ = __name__
    return INITIALIZERS.register(cls, aliases=(alias,))


GlorotUniform = _variance_preset("GlorotUniform", 1.0, "fan_avg", "uniform", "glorot_uniform")
GlorotNormal = _variance_preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal", "glorot_normal")
HeUniform = _variance_preset("HeUniform", 2.0, "fan_in", "uniform", "he_uniform")
HeNormal = _variance_preset("HeNormal", 2.0, "fan_in", "truncated_normal", "he_normal")
LecunUniform = _variance_preset("LecunUniform", 1.0, "fan_in", "uniform", "lecun_uniform")
LecunNormal = _variance_preset("LecunNormal", 1.0, "fan_in", "truncated_normal", "lecun_normal")


@INITIALIZERS.register(aliases=("orthogonal", "OrthogonalInitializer", "orthogonal_initializer"))
class Orthogonal(_Seeded):
    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        cols = shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(dtype or floatx())

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


@INITIALIZERS.register(aliases=("identity", "IdentityInitializer"))
class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(
                f"The 'shape' argument of Identity must be 2D. Got {tuple(shape)!r} instead."
            )
        return (self.gain * np.eye(*shape)).astype(dtype or floatx())

    def get_config(self):
        return {"gain": self.gain}


# Keras's other public names of the same classes.
OrthogonalInitializer, IdentityInitializer = Orthogonal, Identity
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, glorot_uniform, glorot_normal = VarianceScaling, GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
orthogonal, identity = Orthogonal, Identity


def get(identifier) -> Initializer:
    """Resolve a name, config dict, class or instance to an initializer instance.

    >>> from automl.keras import initializers
    >>> initializers.get("zeros")((2,))
    array([0., 0.], dtype=float32)
    """
    return INITIALIZERS.get(identifier)


def serialize(initializer):
    return Registry.serialize(initializer)


def deserialize(config, custom_objects=None):
    return INITIALIZERS.get(config, custom_objects=custom_objects)

INITIALIZERS.base = Initializer
