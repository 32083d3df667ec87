"""The identity and exponential activations.
"""

from __future__ import annotations

import numpy as np

from ._base import (
    Activation,
    _register,
)

__all__ = [
    "linear",
    "exponential",
]


# -- activations ------------------------------------------------------------


@_register
class linear(Activation):  # noqa: N801 (Keras names activations in lower case)
    """Identity: ``linear(x) = x``."""

    __name__ = "linear"

    def forward(self, z):
        return z

    def backward(self, grad, y, z):
        return grad


@_register
class exponential(Activation):  # noqa: N801
    """Exponential: ``exp(x)``."""

    __name__ = "exponential"

    def forward(self, z):
        return np.exp(z, out=z)

    def backward(self, grad, y, z):
        grad *= y
        return grad


# The registered objects are instances: point doctest at their classes' docstrings.
__test__ = {obj.__name__: type(obj) for obj in map(globals().get, __all__)}
