"""Small sample inputs of the registered ops (for the registry-wide tests).

``S(arg, ..., key=value)`` describes one call: each positional argument is either a
shape tuple (standard normal float64), a :class:`Draw` (a shape with a domain) or a
literal value; ``S(...) + S(...)`` lists several calls.
"""

from __future__ import annotations

import numpy as np

__all__ = ["S", "Draw", "L", "P", "U", "A", "G1", "I", "SPD", "M"]


class L:
    """A literal positional argument (a tuple that is not a shape to draw)."""

    def __init__(self, value):
        self.value = value


class Draw:
    """A float64 array of ``shape`` drawn from ``domain``."""

    def __init__(self, shape, domain="any"):
        self.shape = tuple(shape)
        self.domain = domain

    def __call__(self, rng):
        s, d = self.shape, self.domain
        if d == "any":
            return rng.standard_normal(s)
        if d == "pos":
            return rng.uniform(0.3, 2.0, s)
        if d == "unit":
            return rng.uniform(-0.8, 0.8, s)
        if d == "prob":
            return rng.uniform(0.1, 0.9, s)
        if d == "away":  # away from kinks at 0 and from ties
            return rng.uniform(0.2, 2.0, s) * rng.choice([-1.0, 1.0], s)
        if d == "gt1":
            return rng.uniform(1.2, 3.0, s)
        if d == "spd":  # batches of symmetric positive definite matrices
            a = rng.standard_normal(s)
            return a @ np.swapaxes(a, -1, -2) + s[-1] * np.eye(s[-1])
        if d == "matrix":  # well-conditioned square matrices
            return rng.standard_normal(s) + 3 * np.eye(s[-1])
        raise ValueError(f"Unknown sample domain {d!r}.")


def _domain(domain):
    """``f(*shape)``: a :class:`Draw` of that shape from ``domain``."""

    def draw(*shape):
        return Draw(shape, domain)

    return draw


# Shorthands of the sample tables: P(2, 3) is a (2, 3) draw of positive values, etc.
P, U, A, G1, SPD, M = map(_domain, ("pos", "unit", "away", "gt1", "spd", "matrix"))


def I(values, dtype="int32"):  # noqa: E743 (an integer literal)
    return np.asarray(values, dtype=dtype)


class S:
    """Sample calls: ``S(shape_or_draw_or_value, ..., **kwargs)``."""

    def __init__(self, *args, **kwargs):
        self.calls = [(args, kwargs)]

    def __add__(self, other):
        merged = S()
        merged.calls = self.calls + other.calls
        return merged

    @staticmethod
    def _make(a, rng):
        if isinstance(a, Draw):
            return a(rng)
        if isinstance(a, L):
            return a.value
        if isinstance(a, tuple) and all(isinstance(d, int) for d in a):
            return rng.standard_normal(a)
        if isinstance(a, list) and any(isinstance(i, (Draw, tuple)) for i in a):
            return [S._make(i, rng) for i in a]
        return a

    def __call__(self, rng):
        return [(tuple(self._make(a, rng) for a in args),
                 {k: self._make(v, rng) if isinstance(v, Draw) else v for k, v in kwargs.items()})
                for args, kwargs in self.calls]
