"""Rectifier-like activations: ReLU and its smooth and exponential variants.

ReLU, leaky ReLU, ReLU6, ELU, SELU, CELU, GELU (with a scipy-free normal CDF),
SiLU/swish, hard SiLU, mish, softplus, squareplus and SparsePlus.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.chebyshev import cheb2poly as _cheb2poly

from ..._validation import Interval, check_param
from ._base import (
    Activation,
    _real,
    _register,
    _sigmoid,
    _softplus,
)

__all__ = [
    "relu",
    "leaky_relu",
    "relu6",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "swish",
    "hard_silu",
    "hard_swish",
    "mish",
    "softplus",
    "squareplus",
    "sparse_plus",
]


# -- the normal CDF, without scipy ------------------------------------------
#
# erfc(z) for z >= 0 is written as t * exp(-z**2 + g(s)) with t = 2 / (2 + z)
# and s = 2t - 1 = (2 - z) / (2 + z) in (-1, 1]; g is smooth on [-1, 1] (it tends
# to log(1 / (2 sqrt(pi))) as z -> inf) and is expanded in Chebyshev polynomials
# T_k(s) (the form of Numerical Recipes' ``erfccheb``). The coefficients below
# are a least-squares Chebyshev fit of g computed offline (20000 Chebyshev
# nodes, reference values from an independent erfcx implementation). The
# relative error of erfc is ~1e-15 for z <= 5 and grows to ~1e-13 at z = 26
# (the rounding of z**2); truncated to 13 terms for float32/float16 inputs it
# is ~6e-9, below float32's resolution. The series is evaluated by Horner's
# rule in powers of s: its power coefficients decay like the Chebyshev ones
# (all below 0.68 in size), so the conversion costs no accuracy.
_ERFC_CHEB = (
    -6.5132685989085470e-01, 6.4196979235649021e-01, 1.9476473204186009e-02,
    -9.5615147868086652e-03, -9.4659534448174039e-04, 3.6683949785290012e-04,
    4.2523324806953529e-05, -2.0278578112630766e-05, -1.6242900044413779e-06,
    1.3036558355604270e-06, 1.5626441822958493e-08, -8.5238096066285254e-08,
    6.5290544323343463e-09, 5.0593434524624723e-09, -9.9136418825090015e-10,
    -2.2736501537818355e-10, 9.6467882991284699e-11, 2.3939605853229297e-12,
    -6.8860472879350709e-12, 8.9439566863802611e-13, 3.1306512937590016e-13,
    -1.1279255307528047e-13, 3.5527136788005011e-16, 7.1009864655025013e-15,
    -1.4566126083082053e-15,
)
# Power-series coefficients, highest degree first, as Python floats (so that
# float32 arrays stay float32).
_ERFC_POWERS_64 = tuple(float(c) for c in _cheb2poly(_ERFC_CHEB)[::-1])
_ERFC_POWERS_32 = tuple(float(c) for c in _cheb2poly(_ERFC_CHEB[:13])[::-1])
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _erfc_nonneg(z: np.ndarray) -> np.ndarray:
    """erfc(z) for ``z >= 0`` (a new array of z's dtype); see the note above."""
    powers = _ERFC_POWERS_64 if z.dtype.itemsize >= 8 else _ERFC_POWERS_32
    z = np.minimum(z, 30.0)  # erfc(30) underflows in float64; avoids overflow in z*z
    t = z + 2.0
    s = np.subtract(2.0, z)
    s /= t
    np.divide(2.0, t, out=t)
    g = np.full_like(s, powers[0])
    for c in powers[1:]:
        g *= s
        g += c
    np.multiply(z, z, out=s)
    g -= s
    np.exp(g, out=g)
    g *= t
    return g


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF ``0.5 * erfc(-x / sqrt(2))``, accurate in both tails."""
    half = _erfc_nonneg(np.abs(x) * _SQRT_HALF)
    half *= 0.5  # Phi(-|x|)
    np.subtract(1.0, half, out=half, where=x > 0)
    return half


def _normal_pdf(x: np.ndarray) -> np.ndarray:
    out = np.minimum(np.abs(x), 40.0)  # exp(-800) underflows to 0: same value, no overflow
    np.square(out, out=out)
    out *= -0.5
    np.exp(out, out=out)
    out *= _INV_SQRT_2PI
    return out


@_register
class relu(Activation):  # noqa: N801
    """Rectified linear unit, with Keras 3's optional slope, cap and threshold.

    ``relu(x) = max(x, 0)`` with the defaults. In general, ``x`` where
    ``x > threshold`` and 0 elsewhere, clipped to ``[0, max_value]`` when
    ``max_value`` is set, minus ``negative_slope * max(threshold - x, 0)``.

    Parameters
    ----------
    negative_slope : float, default=0.0
        Slope below the threshold.
    max_value : float, optional
        Saturation value (>= 0); unbounded when None.
    threshold : float, default=0.0
        Values at or below it are damped (or set to 0).

    Examples
    --------
    >>> from automl.keras import activations
    >>> x = [-10.0, -5.0, 0.0, 5.0, 10.0]
    >>> activations.relu(x).tolist()
    [0.0, 0.0, 0.0, 5.0, 10.0]
    >>> activations.relu(x, negative_slope=0.5).tolist()
    [-5.0, -2.5, 0.0, 5.0, 10.0]
    >>> activations.relu(x, max_value=5.0).tolist()
    [0.0, 0.0, 0.0, 5.0, 5.0]
    """

    __name__ = "relu"
    _param_names = ("negative_slope", "max_value", "threshold")

    def __init__(self, negative_slope=0.0, max_value=None, threshold=0.0):
        self.negative_slope = _real("negative_slope", negative_slope, "relu")
        self.max_value = None if max_value is None else _real("max_value", max_value, "relu", low=0)
        self.threshold = _real("threshold", threshold, "relu")
        self._plain = self.negative_slope == 0.0 and self.max_value is None and self.threshold == 0.0
        # With threshold 0 and a non-negative slope, sign(y) = sign(x): derive from y.
        self.needs_input = self.threshold != 0.0 or self.negative_slope < 0.0

    def forward(self, z):
        if self._plain:
            return np.maximum(z, 0, out=z)
        slope, cap, thr = self.negative_slope, self.max_value, self.threshold
        below = None
        if slope != 0.0:
            below = np.subtract(thr, z)
            np.maximum(below, 0.0, out=below)
            below *= slope
        if thr != 0.0:
            z *= z > thr
        else:
            np.maximum(z, 0, out=z)
        if cap is not None:
            np.clip(z, 0.0, cap, out=z)
        if below is not None:
            z -= below
        return z

    def backward(self, grad, y, z):
        if self._plain:
            grad *= y > 0
            return grad
        slope, cap, thr = self.negative_slope, self.max_value, self.threshold
        if not self.needs_input:  # threshold 0, slope >= 0: read the regions off y
            if cap is None:
                factor = (y > 0).astype(grad.dtype)
            else:
                factor = ((y > 0) & (y < cap)).astype(grad.dtype)
            if slope != 0.0:
                factor += (y < 0) * slope
            grad *= factor
            return grad
        factor = z > thr
        if cap is not None:
            factor &= (z > 0) & (z < cap)
        factor = factor.astype(grad.dtype)
        if slope != 0.0:
            factor += (z < thr) * slope
        grad *= factor
        return grad


@_register
class leaky_relu(Activation):  # noqa: N801
    """Leaky ReLU: ``x`` for ``x >= 0``, ``negative_slope * x`` below.

    >>> import numpy as np
    >>> from automl.keras import activations
    >>> activations.leaky_relu(np.array([-10.0, 5.0])).tolist()
    [-2.0, 5.0]
    """

    __name__ = "leaky_relu"
    _param_names = ("negative_slope",)

    def __init__(self, negative_slope=0.2):
        self.negative_slope = _real("negative_slope", negative_slope, "leaky_relu")
        self.needs_input = self.negative_slope <= 0.0

    def forward(self, z):
        neg = np.minimum(z, 0.0)
        neg *= self.negative_slope - 1.0
        z += neg
        return z

    def backward(self, grad, y, z):
        source = z if self.needs_input else y
        factor = (source < 0).astype(grad.dtype)
        factor *= self.negative_slope - 1.0
        factor += 1.0
        grad *= factor
        return grad


@_register
class relu6(Activation):  # noqa: N801
    """ReLU capped at 6: ``min(max(x, 0), 6)``."""

    __name__ = "relu6"

    def forward(self, z):
        return np.clip(z, 0.0, 6.0, out=z)

    def backward(self, grad, y, z):
        grad *= (y > 0) & (y < 6)
        return grad


@_register
class elu(Activation):  # noqa: N801
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    >>> import numpy as np
    >>> from automl.keras import activations
    >>> activations.elu(np.array([-1.0, 2.0]), alpha=2.0).round(4).tolist()
    [-1.2642, 2.0]
    """

    __name__ = "elu"
    _param_names = ("alpha",)

    def __init__(self, alpha=1.0):
        self.alpha = _real("alpha", alpha, "elu")
        self.needs_input = self.alpha <= 0.0  # else y > 0 iff x > 0

    def forward(self, z):
        neg = np.minimum(z, 0.0)
        np.exp(neg, out=neg)  # exp(x) - 1: np.expm1 is several times slower
        neg -= 1.0
        neg *= self.alpha
        np.maximum(z, 0.0, out=z)
        z += neg
        return z

    def backward(self, grad, y, z):
        if self.needs_input:
            factor = np.minimum(z, 0.0)
            np.exp(factor, out=factor)
            factor *= self.alpha
            np.copyto(factor, 1.0, where=z > 0)
        else:
            factor = np.minimum(y, 0.0)
            factor += self.alpha  # alpha * exp(x) = y + alpha below 0
            if self.alpha != 1.0:
                factor += (y > 0) * (1.0 - self.alpha)  # 1 above 0
        grad *= factor
        return grad


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@_register
class selu(Activation):  # noqa: N801
    """Scaled ELU: ``scale * elu(x, alpha)`` with ``alpha = 1.67326324``, ``scale = 1.05070098``."""

    __name__ = "selu"

    def forward(self, z):
        neg = np.minimum(z, 0.0)
        np.exp(neg, out=neg)  # exp(x) - 1: np.expm1 is several times slower
        neg -= 1.0
        neg *= _SELU_ALPHA
        np.maximum(z, 0.0, out=z)
        z += neg
        z *= _SELU_SCALE
        return z

    def backward(self, grad, y, z):
        factor = np.minimum(y, 0.0)
        factor += _SELU_SCALE * _SELU_ALPHA  # scale * alpha * exp(x) = y + scale * alpha below 0
        factor += (y > 0) * (_SELU_SCALE - _SELU_SCALE * _SELU_ALPHA)  # scale above 0
        grad *= factor
        return grad


@_register
class gelu(Activation):  # noqa: N801
    """Gaussian error linear unit ``x * Phi(x)``, ``Phi`` the standard normal CDF.

    With ``approximate=False`` (Keras's default) ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``
    is evaluated from a Chebyshev expansion of erfc (pure NumPy, no scipy;
    absolute error below 1e-15 in float64, a few float32 ulps in float32,
    and accurate relative to its size in the lower tail). With
    ``approximate=True`` it is the tanh form
    ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))``.

    >>> import numpy as np
    >>> from automl.keras import activations
    >>> activations.gelu(np.array([-1.0, 0.0, 1.0])).round(4).tolist()
    [-0.1587, 0.0, 0.8413]
    """

    __name__ = "gelu"
    _param_names = ("approximate",)
    needs_input = True
    _C = math.sqrt(2.0 / math.pi)
    _K = 0.044715

    def __init__(self, approximate=False):
        self.approximate = bool(check_param("approximate", approximate, [bool, np.bool_], "gelu"))

    def _tanh_arg(self, z):
        # tanh saturates for |z| >= 20 in every float type: clipping changes nothing
        # but avoids overflow in z**3.
        zc = np.clip(z, -20.0, 20.0)
        u = np.square(zc)
        u *= self._K
        u += 1.0
        u *= zc
        u *= self._C
        return zc, u

    def forward(self, z):
        if self.approximate:
            _, u = self._tanh_arg(z)
            np.tanh(u, out=u)
            u += 1.0
            u *= 0.5
            z *= u
            return z
        z *= _normal_cdf(z)
        return z

    def backward(self, grad, y, z):
        if self.approximate:
            zc, u = self._tanh_arg(z)
            th = np.tanh(u, out=u)
            # d/dz = (1 + th)/2 + z/2 * (1 - th**2) * C * (1 + 3 K z**2)
            du = np.square(zc)
            du *= 3.0 * self._K
            du += 1.0
            du *= self._C * 0.5
            du *= zc
            sech2 = np.square(th)
            np.subtract(1.0, sech2, out=sech2)
            du *= sech2
            th += 1.0
            th *= 0.5
            th += du
            grad *= th
            return grad
        factor = _normal_pdf(z)
        factor *= z
        factor += _normal_cdf(z)
        grad *= factor
        return grad


@_register(aliases=("swish",))
class silu(Activation):  # noqa: N801
    """Sigmoid-weighted linear unit (swish): ``x * sigmoid(x)``."""

    __name__ = "silu"
    needs_input = True

    def forward(self, z):
        z *= _sigmoid(z)
        return z

    def backward(self, grad, y, z):
        s = _sigmoid(z)
        # d/dz = s + z s (1 - s) = s + y (1 - s)
        factor = np.subtract(1.0, s)
        factor *= y
        factor += s
        grad *= factor
        return grad


@_register
class mish(Activation):  # noqa: N801
    """Mish: ``x * tanh(softplus(x))``."""

    __name__ = "mish"
    needs_input = True

    def forward(self, z):
        t = _softplus(z)
        np.tanh(t, out=t)
        z *= t
        return z

    def backward(self, grad, y, z):
        t = _softplus(z)
        np.tanh(t, out=t)
        # d/dz = tanh(sp) + z * (1 - tanh(sp)**2) * sigmoid(z)
        factor = np.square(t)
        np.subtract(1.0, factor, out=factor)
        factor *= _sigmoid(z)
        factor *= z
        factor += t
        grad *= factor
        return grad


@_register
class softplus(Activation):  # noqa: N801
    """Softplus: ``log(exp(x) + 1)``, computed without overflow."""

    __name__ = "softplus"

    def forward(self, z):
        return _softplus(z, out=z)

    def backward(self, grad, y, z):
        # sigmoid(x) = 1 - exp(-softplus(x))
        factor = np.negative(y)
        np.exp(factor, out=factor)
        np.subtract(1.0, factor, out=factor)
        grad *= factor
        return grad


@_register(aliases=("hard_swish",))
class hard_silu(Activation):  # noqa: N801
    """Hard SiLU (hard swish): ``x * relu6(x + 3) / 6``."""

    __name__ = "hard_silu"
    needs_input = True

    def forward(self, z):
        gate = np.add(z, 3.0)
        np.clip(gate, 0.0, 6.0, out=gate)
        gate *= 1.0 / 6.0
        z *= gate
        return z

    def backward(self, grad, y, z):
        # 0 below -3, 1 above 3, (2x + 3) / 6 in between
        factor = np.clip(z, -3.0, 3.0)
        factor *= 1.0 / 3.0
        factor += 0.5
        np.copyto(factor, 0.0, where=z < -3.0)
        np.copyto(factor, 1.0, where=z > 3.0)
        grad *= factor
        return grad


swish = silu
hard_swish = hard_silu


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


# The registered objects are instances: point doctest at their classes' docstrings.
__test__ = {obj.__name__: type(obj) for obj in map(globals().get, __all__)}
