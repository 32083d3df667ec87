"""Squashing activations: sigmoid, hard sigmoid, log-sigmoid, tanh, hard tanh and softsign.
"""

from __future__ import annotations

import numpy as np

from ._base import (
    Activation,
    _register,
    _sigmoid,
    _softplus,
)

__all__ = [
    "sigmoid",
    "hard_sigmoid",
    "log_sigmoid",
    "tanh",
    "hard_tanh",
    "softsign",
]


@_register
class softsign(Activation):  # noqa: N801
    """Softsign: ``x / (|x| + 1)``."""

    __name__ = "softsign"

    def forward(self, z):
        denom = np.abs(z)
        denom += 1.0
        z /= denom
        return z

    def backward(self, grad, y, z):
        factor = np.abs(y)  # 1 / (1 + |x|) = 1 - |y|
        np.subtract(1.0, factor, out=factor)
        np.square(factor, out=factor)
        grad *= factor
        return grad


@_register
class sigmoid(Activation):  # noqa: N801
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed as ``(1 + tanh(x/2)) / 2``."""

    __name__ = "sigmoid"

    def forward(self, z):
        return _sigmoid(z, out=z)

    def backward(self, grad, y, z):
        grad *= y * (1.0 - y)
        return grad


@_register
class hard_sigmoid(Activation):  # noqa: N801
    """Hard sigmoid (Keras 3): ``relu6(x + 3) / 6``, i.e. ``clip(x / 6 + 0.5, 0, 1)``."""

    __name__ = "hard_sigmoid"

    def forward(self, z):
        z *= 1.0 / 6.0
        z += 0.5
        return np.clip(z, 0.0, 1.0, out=z)

    def backward(self, grad, y, z):
        grad *= (y > 0) & (y < 1)
        grad *= 1.0 / 6.0
        return grad


@_register
class tanh(Activation):  # noqa: N801
    """Hyperbolic tangent."""

    __name__ = "tanh"

    def forward(self, z):
        return np.tanh(z, out=z)

    def backward(self, grad, y, z):
        grad *= 1.0 - y * y
        return grad


@_register
class hard_tanh(Activation):  # noqa: N801
    """Hard tanh: ``clip(x, -1, 1)``.

    >>> from automl.keras import activations
    >>> activations.hard_tanh([-2.0, 0.5, 3.0]).tolist()
    [-1.0, 0.5, 1.0]
    """

    __name__ = "hard_tanh"

    def forward(self, z):
        return np.clip(z, -1.0, 1.0, out=z)

    def backward(self, grad, y, z):
        grad *= np.abs(y) < 1.0
        return grad


@_register
class log_sigmoid(Activation):  # noqa: N801
    """Log-sigmoid: ``log(sigmoid(x)) = -softplus(-x)``, computed without overflow.

    >>> from automl.keras import activations
    >>> import numpy as np
    >>> activations.log_sigmoid(np.array([0.0])).round(4).tolist()
    [-0.6931]
    """

    __name__ = "log_sigmoid"

    def forward(self, z):
        np.negative(z, out=z)
        _softplus(z, out=z)
        np.negative(z, out=z)
        return z

    def backward(self, grad, y, z):
        factor = np.exp(y)  # sigmoid(x); the derivative is 1 - sigmoid(x)
        np.subtract(1.0, factor, out=factor)
        grad *= factor
        return grad


# The registered objects are instances: point doctest at their classes' docstrings.
__test__ = {obj.__name__: type(obj) for obj in map(globals().get, __all__)}
