"""Activations that normalize along an axis: softmax, log-softmax and sparsemax.
"""

from __future__ import annotations

import numpy as np

from ._base import (
    Activation,
    _axis,
    _register,
)

__all__ = [
    "softmax",
    "log_softmax",
    "sparsemax",
]


class _AlongAxis(Activation):
    """An activation that normalizes along ``axis`` (an int or a list of ints)."""

    _param_names = ("axis",)

    def __init__(self, axis=-1):
        self.axis = _axis(axis, self.__name__)


@_register
class softmax(_AlongAxis):  # noqa: N801
    """Softmax ``exp(x) / sum(exp(x))`` along ``axis`` (an int or a list of ints).

    >>> import numpy as np
    >>> from automl.keras import activations
    >>> activations.softmax(np.array([[0.0, 0.0], [1.0, 1.0]]), axis=0).round(4).tolist()
    [[0.2689, 0.2689], [0.7311, 0.7311]]
    """

    __name__ = "softmax"

    def forward(self, z):
        axis = self.axis
        z -= z.max(axis=axis, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=axis, keepdims=True)
        return z

    def backward(self, grad, y, z):
        if self.axis == -1 or self.axis == y.ndim - 1:
            dot = np.einsum("...i,...i->...", grad, y)[..., None]
        else:
            dot = np.sum(grad * y, axis=self.axis, keepdims=True)
        grad -= dot
        grad *= y
        return grad


@_register
class log_softmax(_AlongAxis):  # noqa: N801
    """Log-softmax ``x - log(sum(exp(x)))`` along ``axis``."""

    __name__ = "log_softmax"

    def forward(self, z):
        axis = self.axis
        z -= z.max(axis=axis, keepdims=True)
        lse = np.exp(z).sum(axis=axis, keepdims=True)
        np.log(lse, out=lse)
        z -= lse
        return z

    def backward(self, grad, y, z):
        total = grad.sum(axis=self.axis, keepdims=True)
        probs = np.exp(y)
        probs *= total
        grad -= probs
        return grad


@_register
class sparsemax(_AlongAxis):  # noqa: N801
    """Sparsemax: the Euclidean projection of ``x`` onto the probability simplex along ``axis``.

    ``max(x - tau, 0)`` with ``tau`` chosen so that the outputs sum to one;
    unlike softmax, small inputs get exactly zero probability (Martins &
    Astudillo, 2016).

    Parameters
    ----------
    axis : int, default=-1

    Examples
    --------
    >>> from automl.keras import activations
    >>> activations.sparsemax([[1.0, 2.0, 5.0], [0.5, 0.75, 0.0]]).tolist()
    [[0.0, 0.0, 1.0], [0.375, 0.625, 0.0]]
    """

    __name__ = "sparsemax"

    def __init__(self, axis=-1):
        super().__init__(axis)
        if isinstance(self.axis, tuple):
            raise TypeError(
                f"The 'axis' parameter of sparsemax must be an int. Got {list(self.axis)!r} instead."
            )

    def forward(self, z):
        moved = np.moveaxis(z, self.axis, -1)
        k = moved.shape[-1]
        srt = -np.sort(-moved, axis=-1)  # descending
        cums = np.cumsum(srt, axis=-1)
        ranks = np.arange(1, k + 1, dtype=z.dtype)
        # The support is the largest r with 1 + r * x_(r) > sum of the r largest.
        support = (1.0 + ranks * srt) > cums
        size = support.sum(axis=-1, keepdims=True)
        tau = np.take_along_axis(cums, size - 1, axis=-1)
        tau -= 1.0
        tau /= size
        moved -= tau  # a view of z
        np.maximum(z, 0.0, out=z)
        return z

    def backward(self, grad, y, z):
        # On the support S: dL/dx_i = g_i - mean_S(g); 0 off it.
        support = y > 0
        grad *= support
        total = grad.sum(axis=self.axis, keepdims=True)
        total /= support.sum(axis=self.axis, keepdims=True)
        grad -= total
        grad *= support
        return grad


# The registered objects are instances: point doctest at their classes' docstrings.
__test__ = {obj.__name__: type(obj) for obj in map(globals().get, __all__)}
