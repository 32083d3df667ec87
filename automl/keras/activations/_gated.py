"""Gated activations: the gated linear unit (GLU).
"""

from __future__ import annotations

import numpy as np

from ._base import (
    ACTIVATIONS,
    Activation,
    _axis,
    _sigmoid,
)

__all__ = [
    "glu",
]


class _Glu(Activation):
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the two halves of ``x`` along ``axis``.

    The output has half the input's size along ``axis`` (which must be even).

    Parameters
    ----------
    axis : int, default=-1

    Examples
    --------
    >>> from automl.keras import activations
    >>> activations.glu([[1.0, 2.0, 0.0, 0.0]]).tolist()
    [[0.5, 1.0]]
    """

    __name__ = "glu"
    _param_names = ("axis",)
    needs_input = True

    def __init__(self, axis=-1):
        axis = _axis(axis, "glu")
        if isinstance(axis, tuple):
            raise TypeError(f"The 'axis' parameter of glu must be an int. Got {list(axis)!r} instead.")
        self.axis = axis

    def _halves(self, z):
        size = z.shape[self.axis]
        if size % 2:
            raise ValueError(
                f"The input of glu must have an even size along axis {self.axis}. "
                f"Got shape {z.shape} instead."
            )
        return np.split(z, 2, axis=self.axis)

    def forward(self, z):
        a, b = self._halves(z)
        return a * _sigmoid(b)

    def backward(self, grad, y, z):
        a, b = self._halves(z)
        s = _sigmoid(b)
        grad_a = grad * s
        # d/db of a * s(b) = a s (1 - s) = y (1 - s)
        np.subtract(1.0, s, out=s)
        s *= y
        s *= grad
        return np.concatenate([grad_a, s], axis=self.axis)


glu = _Glu()
ACTIVATIONS.register(glu, name="glu")


# The registered objects are instances: point doctest at their classes' docstrings.
__test__ = {obj.__name__: type(obj) for obj in map(globals().get, __all__)}
