"""Keras 3's shrinkage, piecewise and gated activations, with their derivatives.

Same contract as :mod:`._activations`: ``forward(z)`` may work in place in
``z``, ``backward(grad, y, z)`` maps the gradient w.r.t. the output to the
gradient w.r.t. the input and reads ``z`` only when ``needs_input`` is set.
:class:`_Glu` (``glu``) halves the split axis, so its gradient has the input's shape,
not the output's.

``threshold`` needs its two parameters (``with_params`` or a config dict), as
in Keras.
"""

from __future__ import annotations

import numpy as np

from ..._validation import Interval, check_param
from ._activations import ACTIVATIONS, Activation, _axis, _real, _register, _sigmoid, _softplus

__all__ = [
    "celu",
    "glu",
    "hard_shrink",
    "hard_tanh",
    "log_sigmoid",
    "soft_shrink",
    "sparse_plus",
    "sparsemax",
    "squareplus",
    "tanh_shrink",
    "threshold",
]


@_register
class squareplus(Activation):  # noqa: N801 (Keras names activations in lower case)
    """Squareplus: ``(x + sqrt(x**2 + b)) / 2``, a smooth ReLU.

    Parameters
    ----------
    b : float, default=4
        Smoothness (``>= 0``); ``b=0`` is the ReLU.

    Examples
    --------
    >>> from automl.keras import activations
    >>> import numpy as np
    >>> activations.squareplus(np.array([-2.0, 0.0, 2.0])).round(4).tolist()
    [0.4142, 1.0, 2.4142]
    """

    __name__ = "squareplus"
    _param_names = ("b",)
    needs_input = True

    def __init__(self, b=4):
        self.b = _real("b", b, "squareplus", low=0)

    def forward(self, z):
        root = np.square(z)
        root += self.b
        np.sqrt(root, out=root)
        z += root
        z *= 0.5
        return z

    def backward(self, grad, y, z):
        # d/dx = (1 + x / sqrt(x**2 + b)) / 2 and sqrt(x**2 + b) = 2y - x.
        root = np.multiply(y, 2.0)
        root -= z
        factor = np.divide(z, root, out=np.zeros_like(z), where=root != 0)
        factor += 1.0
        factor *= 0.5
        grad *= factor
        return grad


@_register
class sparse_plus(Activation):  # noqa: N801
    """SparsePlus: 0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``.

    >>> from automl.keras import activations
    >>> activations.sparse_plus([-2.0, 0.0, 2.0]).tolist()
    [0.0, 0.25, 2.0]
    """

    __name__ = "sparse_plus"

    def forward(self, z):
        quad = np.clip(z, -1.0, 1.0)
        quad += 1.0
        np.square(quad, out=quad)
        quad *= 0.25
        np.copyto(z, quad, where=z < 1.0)
        return z

    def backward(self, grad, y, z):
        # (x + 1) / 2 = sqrt(y) in the quadratic piece, 0 below, 1 above: sqrt(min(y, 1)).
        factor = np.minimum(y, 1.0)
        np.sqrt(factor, out=factor)
        grad *= factor
        return grad


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
class celu(Activation):  # noqa: N801
    """Continuously differentiable ELU: ``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``.

    Parameters
    ----------
    alpha : float, default=1.0
        Scale of the negative part, ``> 0``.

    Examples
    --------
    >>> from automl.keras import activations
    >>> import numpy as np
    >>> activations.celu(np.array([-1.0, 2.0]), alpha=2.0).round(4).tolist()
    [-0.7869, 2.0]
    """

    __name__ = "celu"
    _param_names = ("alpha",)

    def __init__(self, alpha=1.0):
        check_param("alpha", alpha, [Interval(float, 0, None, closed="neither")], "celu")
        self.alpha = float(alpha)

    def forward(self, z):
        neg = np.minimum(z, 0.0)
        neg *= 1.0 / self.alpha
        np.exp(neg, out=neg)  # exp(x) - 1: np.expm1 is several times slower
        neg -= 1.0
        neg *= self.alpha
        np.maximum(z, 0.0, out=z)
        z += neg
        return z

    def backward(self, grad, y, z):
        # exp(x / alpha) = y / alpha + 1 below 0 (y <= 0 iff x <= 0 as alpha > 0); 1 above.
        factor = np.minimum(y, 0.0)
        factor *= 1.0 / self.alpha
        factor += 1.0
        grad *= factor
        return grad


@_register
class tanh_shrink(Activation):  # noqa: N801
    """Tanh shrink: ``x - tanh(x)``.

    >>> from automl.keras import activations
    >>> import numpy as np
    >>> activations.tanh_shrink(np.array([0.0, 1.0])).round(4).tolist()
    [0.0, 0.2384]
    """

    __name__ = "tanh_shrink"
    needs_input = True

    def forward(self, z):
        z -= np.tanh(z)
        return z

    def backward(self, grad, y, z):
        factor = np.tanh(z)  # 1 - (1 - tanh**2) = tanh**2
        np.square(factor, out=factor)
        grad *= factor
        return grad


class _Threshold(Activation):
    """Threshold: ``x`` where ``x > threshold``, ``default_value`` elsewhere.

    Both parameters are required, as in Keras: the registered ``"threshold"``
    has none and raises when applied; use
    ``activations.threshold(x, threshold, default_value)`` or a config dict
    ``{"class_name": "threshold", "config": {"threshold": 0.0, "default_value": 0.0}}``.

    Examples
    --------
    >>> from automl.keras import activations
    >>> activations.threshold([-1.0, 0.5, 2.0], 1.0, -5.0).tolist()
    [-5.0, -5.0, 2.0]
    """

    __name__ = "threshold"
    _param_names = ("threshold", "default_value")
    needs_input = True

    def __init__(self, threshold=None, default_value=None):
        self.threshold = None if threshold is None else _real("threshold", threshold, "threshold")
        self.default_value = (
            None if default_value is None else _real("default_value", default_value, "threshold")
        )

    def _check(self):
        if self.threshold is None or self.default_value is None:
            raise TypeError(
                "threshold() requires its 'threshold' and 'default_value' parameters: "
                "use activations.threshold(x, threshold, default_value) or a config dict."
            )

    def forward(self, z):
        self._check()
        np.copyto(z, self.default_value, where=~(z > self.threshold))
        return z

    def backward(self, grad, y, z):
        grad *= z > self.threshold
        return grad


threshold = _Threshold()
ACTIVATIONS.register(threshold, name="threshold")


class _Shrink(Activation):
    _param_names = ("threshold",)

    def __init__(self, threshold=0.5):
        self.threshold = _real("threshold", threshold, self.__name__)
        # With a non-negative threshold y != 0 exactly where the slope is 1.
        self.needs_input = self.threshold < 0.0

    def backward(self, grad, y, z):
        if self.needs_input:
            grad *= np.abs(z) > self.threshold
        else:
            grad *= y != 0
        return grad


@_register
class soft_shrink(_Shrink):  # noqa: N801
    """Soft shrink: ``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0.

    >>> from automl.keras import activations
    >>> activations.soft_shrink([-1.0, 0.2, 2.0]).tolist()
    [-0.5, 0.0, 1.5]
    """

    __name__ = "soft_shrink"

    def forward(self, z):
        t = self.threshold
        if t >= 0.0:
            z -= np.clip(z, -t, t)  # x - t above t, x + t below -t, 0 between
            return z
        out = np.where(z > t, z - t, np.where(z < -t, z + t, 0.0))
        z[...] = out
        return z


@_register
class hard_shrink(_Shrink):  # noqa: N801
    """Hard shrink: ``x`` where ``|x| > threshold``, else 0.

    >>> from automl.keras import activations
    >>> activations.hard_shrink([-1.0, 0.2, 2.0]).tolist()
    [-1.0, 0.0, 2.0]
    """

    __name__ = "hard_shrink"

    def forward(self, z):
        np.copyto(z, 0.0, where=~(np.abs(z) > self.threshold))
        return z


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


@_register
class sparsemax(Activation):  # noqa: N801
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
    _param_names = ("axis",)

    def __init__(self, axis=-1):
        axis = _axis(axis, "sparsemax")
        if isinstance(axis, tuple):
            raise TypeError(
                f"The 'axis' parameter of sparsemax must be an int. Got {list(axis)!r} instead."
            )
        self.axis = axis

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
__test__ = {name: type(globals()[name]) for name in __all__}
