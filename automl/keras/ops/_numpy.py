"""``keras.ops.numpy``: creation, elementwise math, reductions, indexing, shapes, products.

Each op is a NumPy forward registered with its VJP and output-spec rule
(:mod:`._registry`); Keras's names, signatures, defaults and dtype rules (float32 by
default, integer inputs of float math become floatx, Python scalars are weakly typed).
"""

from __future__ import annotations

import builtins

import numpy as np

from ..backend import floatx
from ._registry import (
    Spec,
    convert,
    elementwise_spec,
    fix_float,
    float_result,
    op,
    reduction_spec,
    to_float,
)
from ._samples import G1, A, I, L, M, P, S, U

_ns = "numpy"
_bmax, _bmin, _bsum, _babs, _bround = builtins.max, builtins.min, builtins.sum, builtins.abs, builtins.round


def _dtype(dtype, default=None):
    if dtype is None:
        return np.dtype(default or floatx())
    return np.dtype(getattr(dtype, "name", dtype))


def _operand(x):
    """A binary op's operand: Python scalars stay weak, everything else becomes an array."""
    t = type(x)
    if t is np.ndarray or t is float or t is int or t is bool:
        return x
    if isinstance(x, (float, int)) and not isinstance(x, np.ndarray):
        return bool(x) if isinstance(x, (bool, np.bool_)) else (
            float(x) if isinstance(x, float) else int(x))  # NumPy scalars: weak, as Keras
    return convert(x)


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(a % ndim if ndim else 0 for a in axis)


def _expand(g, axis, ndim, keepdims):
    """A reduction's output gradient reshaped to broadcast against its input."""
    g = np.asarray(g)
    if keepdims:
        return g
    return np.expand_dims(g, _axes(axis, ndim)) if ndim else g


def gather_grad(f, shape, g):
    """The VJP of a gather ``f`` (a shape op that copies input elements, zero-filling the
    rest): run ``f`` on 1-based element numbers, then sum ``g`` back per source element."""
    size = int(np.prod(shape))
    index = f(np.arange(1, size + 1, dtype=np.int64).reshape(shape))
    index = np.asarray(index).ravel()
    g = np.asarray(g).ravel()
    hit = index > 0
    grad = np.bincount(index[hit] - 1, weights=g[hit], minlength=size)
    return grad.reshape(shape).astype(g.dtype if g.dtype.kind == "f" else floatx(), copy=False)


# -- elementwise: unary ---------------------------------------------------------------

def _unary(name, fn, grad, *, floats=True, domain=None, differentiable=True):
    """Register ``name(x)``: ``fn`` elementwise, ``grad(g, x, out)`` its VJP."""
    if floats:
        def forward(x):
            return fn(to_float(x))
    else:
        def forward(x):
            return fn(convert(x))
    forward.__name__ = name
    forward.__doc__ = f"Elementwise ``{name}`` of ``x`` (``keras.ops.{name}``)."
    vjp = None
    if differentiable and grad is not None:
        def vjp(g, out, needs, x):
            return (grad(g, x, out),)
    return op(_ns, vjp=vjp, spec=elementwise_spec(forward),
              samples=S(domain if domain is not None else (3, 4)), name=name)(forward)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


absolute = _unary("absolute", np.abs, lambda g, x, o: g * np.sign(x), floats=False, domain=A(3, 4))
abs = _unary("abs", np.abs, lambda g, x, o: g * np.sign(x), floats=False, domain=A(3, 4))  # noqa: A001
negative = _unary("negative", np.negative, lambda g, x, o: -g, floats=False)
positive = _unary("positive", np.positive, lambda g, x, o: g, floats=False)
square = _unary("square", np.square, lambda g, x, o: 2 * g * x, floats=False)
sqrt = _unary("sqrt", np.sqrt, lambda g, x, o: g * 0.5 / np.where(o > 0, o, np.inf), domain=P(3, 4))
cbrt = _unary("cbrt", np.cbrt, lambda g, x, o: g / (3 * np.where(o != 0, o * o, np.inf)), domain=A(3, 4))
exp = _unary("exp", np.exp, lambda g, x, o: g * o)
exp2 = _unary("exp2", np.exp2, lambda g, x, o: g * o * np.log(2.0))
expm1 = _unary("expm1", np.expm1, lambda g, x, o: g * (o + 1))
log = _unary("log", np.log, lambda g, x, o: g / x, domain=P(3, 4))
log2 = _unary("log2", np.log2, lambda g, x, o: g / (x * np.log(2.0)), domain=P(3, 4))
log10 = _unary("log10", np.log10, lambda g, x, o: g / (x * np.log(10.0)), domain=P(3, 4))
log1p = _unary("log1p", np.log1p, lambda g, x, o: g / (1 + x), domain=P(3, 4))
sin = _unary("sin", np.sin, lambda g, x, o: g * np.cos(x))
cos = _unary("cos", np.cos, lambda g, x, o: -g * np.sin(x))
tan = _unary("tan", np.tan, lambda g, x, o: g * (1 + o * o), domain=U(3, 4))
arcsin = _unary("arcsin", np.arcsin, lambda g, x, o: g / np.sqrt(1 - x * x), domain=U(3, 4))
arccos = _unary("arccos", np.arccos, lambda g, x, o: -g / np.sqrt(1 - x * x), domain=U(3, 4))
arctan = _unary("arctan", np.arctan, lambda g, x, o: g / (1 + x * x))
sinh = _unary("sinh", np.sinh, lambda g, x, o: g * np.cosh(x))
cosh = _unary("cosh", np.cosh, lambda g, x, o: g * np.sinh(x))
tanh = _unary("tanh", np.tanh, lambda g, x, o: g * (1 - o * o))
arcsinh = _unary("arcsinh", np.arcsinh, lambda g, x, o: g / np.sqrt(x * x + 1))
arccosh = _unary("arccosh", np.arccosh, lambda g, x, o: g / np.sqrt(x * x - 1), domain=G1(3, 4))
arctanh = _unary("arctanh", np.arctanh, lambda g, x, o: g / (1 - x * x), domain=U(3, 4))
reciprocal = _unary("reciprocal", lambda x: 1 / x, lambda g, x, o: -g * o * o, domain=A(3, 4))
deg2rad = _unary("deg2rad", np.deg2rad, lambda g, x, o: g * (np.pi / 180))
rad2deg = _unary("rad2deg", np.rad2deg, lambda g, x, o: g * (180 / np.pi))
sinc = _unary("sinc", np.sinc, lambda g, x, o: g * np.where(
    x == 0, 0.0, (np.cos(np.pi * x) - o) / np.where(x == 0, 1.0, x)), domain=A(3, 4))
conj = _unary("conj", np.conj, lambda g, x, o: g, floats=False)
conjugate = _unary("conjugate", np.conjugate, lambda g, x, o: g, floats=False)
real = _unary("real", np.real, lambda g, x, o: g, floats=False)
imag = _unary("imag", np.imag, None, floats=False, differentiable=False)
copy = _unary("copy", np.copy, lambda g, x, o: g, floats=False)
# Piecewise constant: zero gradient (as Keras's backends), i.e. no gradient recorded.
floor = _unary("floor", np.floor, None, differentiable=False)
ceil = _unary("ceil", np.ceil, None, differentiable=False)
trunc = _unary("trunc", np.trunc, None, floats=False, differentiable=False)
sign = _unary("sign", np.sign, None, floats=False, differentiable=False)
signbit = _unary("signbit", np.signbit, None, floats=False, differentiable=False)
isfinite = _unary("isfinite", np.isfinite, None, floats=False, differentiable=False)
isinf = _unary("isinf", np.isinf, None, floats=False, differentiable=False)
isnan = _unary("isnan", np.isnan, None, floats=False, differentiable=False)
isreal = _unary("isreal", np.isreal, None, floats=False, differentiable=False)
logical_not = _unary("logical_not", np.logical_not, None, floats=False, differentiable=False)
bitwise_invert = _unary("bitwise_invert", np.invert, None, floats=False, differentiable=False,
                        domain=I([[1, 2], [3, 4]]))
bitwise_not = _unary("bitwise_not", np.invert, None, floats=False, differentiable=False,
                     domain=I([[1, 2], [3, 4]]))
angle = _unary("angle", np.angle, None, differentiable=False)


@op(_ns, vjp=None, spec=None, samples=S((3, 4), decimals=1))
def round(x, decimals=0):  # noqa: A001
    """Round ``x`` to ``decimals`` decimals, halves to even (zero gradient)."""
    return np.round(convert(x), decimals)


@op(_ns, vjp=lambda g, out, needs, x, nan, posinf, neginf: (g * np.isfinite(x),),
    samples=S((3, 4)))
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replace NaN and infinities of ``x`` by finite numbers."""
    return np.nan_to_num(convert(x), nan=nan, posinf=posinf, neginf=neginf)


@op(_ns, vjp=lambda g, out, needs, x, x_min, x_max: (
    g * ((x >= (-np.inf if x_min is None else x_min)) & (x <= (np.inf if x_max is None else x_max))),),
    samples=S((3, 4), -0.5, 0.5))
def clip(x, x_min, x_max):
    """Clip the values of ``x`` to ``[x_min, x_max]`` (gradient 1 inside, 0 outside)."""
    x = convert(x)
    out = np.clip(x, x_min, x_max)
    return out if x.dtype.kind != "b" else out.astype(np.int32)


# -- elementwise: binary ----------------------------------------------------------------

def _binary(name, fn, ga, gb, *, kind="promote", domain=((3, 4), (4,)), differentiable=True):
    """Register ``name(x1, x2)``; ``ga/gb(g, a, b, out)`` are the VJPs before unbroadcasting."""
    if kind == "float":
        def forward(x1, x2):
            a, b = _operand(x1), _operand(x2)
            return float_result(fn(a, b), a, b)
    elif kind == "bool":
        def forward(x1, x2):
            return np.asarray(fn(_operand(x1), _operand(x2)))
    else:
        def forward(x1, x2):
            a, b = _operand(x1), _operand(x2)
            return fix_float(fn(a, b), a, b)
    forward.__name__ = name
    forward.__doc__ = f"Elementwise ``{name}`` of ``x1`` and ``x2``, broadcast (``keras.ops.{name}``)."
    vjp = None
    if differentiable:
        def vjp(g, out, needs, x1, x2):
            a, b = _operand(x1), _operand(x2)
            return (ga(g, a, b, out) if needs[0] else None,
                    gb(g, a, b, out) if needs[1] else None)
    return op(_ns, vjp=vjp, diff=("x1", "x2"), spec=elementwise_spec(forward),
              samples=S(*domain), name=name)(forward)


def _safe_log(a):
    a = np.asarray(a)
    return np.log(np.where(a > 0, a, 1))


add = _binary("add", np.add, lambda g, a, b, o: g, lambda g, a, b, o: g)
subtract = _binary("subtract", np.subtract, lambda g, a, b, o: g, lambda g, a, b, o: -g)
multiply = _binary("multiply", np.multiply, lambda g, a, b, o: g * b, lambda g, a, b, o: g * a)
divide = _binary("divide", np.true_divide, lambda g, a, b, o: g / b,
                 lambda g, a, b, o: -g * o / b, kind="float", domain=((3, 4), A(4)))
true_divide = _binary("true_divide", np.true_divide, lambda g, a, b, o: g / b,
                      lambda g, a, b, o: -g * o / b, kind="float", domain=((3, 4), A(4)))


def _no_nan(a, b):
    b = np.asarray(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0, np.true_divide(a, np.where(b == 0, 1, b)))


divide_no_nan = _binary(
    "divide_no_nan", _no_nan,
    lambda g, a, b, o: np.where(np.asarray(b) == 0, 0, g / np.where(np.asarray(b) == 0, 1, b)),
    lambda g, a, b, o: np.where(np.asarray(b) == 0, 0, -g * o / np.where(np.asarray(b) == 0, 1, b)),
    kind="float", domain=((3, 4), A(4)))
power = _binary("power", np.power,
                lambda g, a, b, o: g * b * np.power(a, np.asarray(b) - 1),
                lambda g, a, b, o: g * o * _safe_log(a), domain=(P(3, 4), (4,)))
float_power = _binary("float_power", lambda a, b: np.power(to_float(a), to_float(b)),
                      lambda g, a, b, o: g * b * np.power(a, np.asarray(b) - 1.0),
                      lambda g, a, b, o: g * o * _safe_log(a), kind="float", domain=(P(3, 4), (4,)))
maximum = _binary("maximum", np.maximum, lambda g, a, b, o: g * (np.asarray(a) >= b),
                  lambda g, a, b, o: g * (np.asarray(a) < b))
minimum = _binary("minimum", np.minimum, lambda g, a, b, o: g * (np.asarray(a) <= b),
                  lambda g, a, b, o: g * (np.asarray(a) > b))
mod = _binary("mod", np.mod, lambda g, a, b, o: g,
              lambda g, a, b, o: -g * np.floor_divide(a, b), domain=(P(3, 4), G1(4)))
fmod = _binary("fmod", np.fmod, lambda g, a, b, o: g,
               lambda g, a, b, o: -g * np.trunc(np.true_divide(a, b)), domain=(P(3, 4), G1(4)))
floor_divide = _binary("floor_divide", np.floor_divide, None, None, differentiable=False,
                       domain=(P(3, 4), G1(4)))
arctan2 = _binary("arctan2", np.arctan2, lambda g, a, b, o: g * b / (a * a + b * b),
                  lambda g, a, b, o: -g * a / (a * a + b * b), kind="float")
hypot = _binary("hypot", np.hypot, lambda g, a, b, o: g * a / o, lambda g, a, b, o: g * b / o,
                kind="float", domain=(A(3, 4), A(4)))
logaddexp = _binary("logaddexp", np.logaddexp, lambda g, a, b, o: g * np.exp(a - o),
                    lambda g, a, b, o: g * np.exp(b - o), kind="float")
logaddexp2 = _binary("logaddexp2", np.logaddexp2, lambda g, a, b, o: g * np.exp2(a - o),
                     lambda g, a, b, o: g * np.exp2(b - o), kind="float")
copysign = _binary("copysign", np.copysign, lambda g, a, b, o: g * np.sign(a) * np.sign(o),
                   lambda g, a, b, o: np.zeros(np.shape(b)), domain=(A(3, 4), A(4)))
heaviside = _binary("heaviside", np.heaviside, None, None, differentiable=False)
nextafter = _binary("nextafter", np.nextafter, None, None, differentiable=False)
ldexp = _binary("ldexp", np.ldexp, None, None, differentiable=False,
                domain=((3, 4), I([1, 2, 0, -1])))

for _name, _fn in [("equal", np.equal), ("not_equal", np.not_equal), ("greater", np.greater),
                   ("greater_equal", np.greater_equal), ("less", np.less),
                   ("less_equal", np.less_equal), ("logical_and", np.logical_and),
                   ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]:
    globals()[_name] = _binary(_name, _fn, None, None, kind="bool", differentiable=False)
for _name, _fn in [("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                   ("bitwise_xor", np.bitwise_xor), ("bitwise_left_shift", np.left_shift),
                   ("bitwise_right_shift", np.right_shift), ("left_shift", np.left_shift),
                   ("right_shift", np.right_shift), ("gcd", np.gcd), ("lcm", np.lcm)]:
    globals()[_name] = _binary(_name, _fn, None, None, differentiable=False,
                               domain=(I([[1, 2, 3], [4, 5, 6]]), I([1, 2, 3])))
equal = globals()["equal"]
not_equal = globals()["not_equal"]
greater = globals()["greater"]
greater_equal = globals()["greater_equal"]
less = globals()["less"]
less_equal = globals()["less_equal"]


@op(_ns, vjp=None, diff=("x1", "x2"), samples=S((3, 4), (4,)))
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether ``x1`` and ``x2`` are equal within tolerances, elementwise."""
    return np.isclose(convert(x1), convert(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


@op(_ns, vjp=None, diff=("x1", "x2"), samples=S((3, 4), (3, 4)))
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether all of ``x1`` and ``x2`` are equal within tolerances."""
    return np.asarray(np.allclose(convert(x1), convert(x2), rtol=rtol, atol=atol,
                                  equal_nan=equal_nan))


@op(_ns, vjp=None, diff=("x1", "x2"), samples=S((3, 4), (3, 4)))
def array_equal(x1, x2, equal_nan=False):
    """Whether ``x1`` and ``x2`` have the same shape and elements."""
    return np.asarray(np.array_equal(convert(x1), convert(x2), equal_nan=equal_nan))


# -- creation -----------------------------------------------------------------------------

@op(_ns, samples=S(L((2, 3))))
def ones(shape, dtype=None):
    """An array of ones (floatx unless ``dtype``)."""
    return np.ones(shape, _dtype(dtype))


@op(_ns, samples=S(L((2, 3))))
def zeros(shape, dtype=None):
    """An array of zeros (floatx unless ``dtype``)."""
    return np.zeros(shape, _dtype(dtype))


@op(_ns, samples=S(L((2, 3))))
def empty(shape, dtype=None):
    """An array of the given shape (filled with zeros here)."""
    return np.zeros(shape, _dtype(dtype))


@op(_ns, diff=("fill_value",), vjp=lambda g, out, needs, shape, fill_value, dtype: (g,),
    samples=S(L((2, 3)), (3,)))
def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value`` (broadcast)."""
    fill = convert(fill_value)
    if dtype is None:
        dtype = fill.dtype if isinstance(fill_value, np.ndarray) else (
            floatx() if fill.dtype.kind == "f" else fill.dtype)
    return np.full(shape, fill, dtype=_dtype(dtype))


def _like(name, value):
    def forward(x, dtype=None):
        x = convert(x)
        return np.full(x.shape, value, dtype=_dtype(dtype, x.dtype))
    forward.__name__ = name
    forward.__doc__ = f"An array of {value}s shaped like ``x`` (its dtype unless ``dtype``)."
    return op(_ns, vjp=None, samples=S((2, 3)), name=name)(forward)


ones_like = _like("ones_like", 1)
zeros_like = _like("zeros_like", 0)
empty_like = _like("empty_like", 0)


@op(_ns, diff=("fill_value",), vjp=lambda g, out, needs, x, fill_value, dtype: (g,),
    samples=S((2, 3), (3,)))
def full_like(x, fill_value, dtype=None):
    """An array shaped like ``x`` filled with ``fill_value``."""
    x = convert(x)
    return np.full(x.shape, convert(fill_value), dtype=_dtype(dtype, x.dtype))


@op(_ns, samples=S(1, 7, 2) + S(0.5, 2.0, 0.25))
def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in ``[start, stop)`` (int32 for integer bounds, else floatx)."""
    if dtype is None:
        values = [v for v in (start, stop, step) if v is not None]
        is_float = builtins.any(np.asarray(v).dtype.kind == "f" for v in values)
        dtype = floatx() if is_float else "int32"
    return np.arange(start, stop, step).astype(_dtype(dtype))


@op(_ns, samples=S(0.0, 1.0, 5))
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop``."""
    out = np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, axis=axis)
    if retstep:
        return out[0].astype(_dtype(dtype)), out[1]
    return out.astype(_dtype(dtype))


@op(_ns, samples=S(0.0, 2.0, 5))
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``num`` values spaced evenly on a log scale."""
    return np.logspace(start, stop, num, endpoint=endpoint, base=base, axis=axis).astype(_dtype(dtype))


@op(_ns, samples=S(1.0, 100.0, 5))
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values spaced evenly on a log scale between the two end points."""
    return np.geomspace(start, stop, num, endpoint=endpoint, axis=axis).astype(_dtype(dtype))


@op(_ns, samples=S(3) + S(3, 4, 1))
def eye(N, M=None, k=0, dtype=None):  # noqa: N803 (Keras's names)
    """A 2-D array with ones on the ``k``-th diagonal."""
    return np.eye(N, M, k, dtype=_dtype(dtype))


@op(_ns, samples=S(3))
def identity(n, dtype=None):
    """The ``n`` x ``n`` identity matrix."""
    return np.identity(n, dtype=_dtype(dtype))


@op(_ns, samples=S(3) + S(3, 4, -1))
def tri(N, M=None, k=0, dtype=None):  # noqa: N803
    """Ones at and below the ``k``-th diagonal."""
    return np.tri(N, M, k, dtype=_dtype(dtype))


@op(_ns, diff=("x",), vjp=lambda g, out, needs, x, dtype: (g,), samples=S((2, 3)))
def array(x, dtype=None):
    """``x`` as an array (Python floats become floatx)."""
    return convert(x, None if dtype is None else _dtype(dtype))


for _name, _fn in [("bartlett", np.bartlett), ("blackman", np.blackman),
                   ("hamming", np.hamming), ("hanning", np.hanning)]:
    def _window(x, _fn=_fn):
        return _fn(int(x)).astype(floatx())
    _window.__name__ = _name
    _window.__doc__ = f"The {_name} window of ``x`` points."
    globals()[_name] = op(_ns, samples=S(5), name=_name)(_window)
bartlett, blackman = globals()["bartlett"], globals()["blackman"]
hamming, hanning = globals()["hamming"], globals()["hanning"]


@op(_ns, samples=S(5, 2.0))
def kaiser(x, beta):
    """The Kaiser window of ``x`` points and shape ``beta``."""
    return np.kaiser(int(x), beta).astype(floatx())


def _vander_vjp(g, out, needs, x, N, increasing):  # noqa: N803
    x = np.asarray(x)
    n = x.shape[0] if N is None else N
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    lower = np.where(powers > 0, x[:, None] ** np.maximum(powers - 1, 0), 0.0)
    return (np.sum(np.asarray(g) * powers * lower, axis=1),)


@op(_ns, vjp=_vander_vjp, samples=S((3,)) + S((3,), N=4, increasing=True))
def vander(x, N=None, increasing=False):  # noqa: N803
    """The Vandermonde matrix of ``x``."""
    x = convert(x)
    out = np.vander(x, N, increasing)
    return out.astype(x.dtype) if x.dtype.kind == "f" else out


# -- reductions ----------------------------------------------------------------------------

def _sum_vjp(g, out, needs, x, axis, keepdims, **_):
    x = np.asarray(x)
    return (np.broadcast_to(_expand(g, axis, x.ndim, keepdims), x.shape),)


@op(_ns, vjp=_sum_vjp, spec=None, samples=S((3, 4)) + S((3, 4), axis=1) + S((2, 3, 4), axis=(0, 2), keepdims=True))
def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum of ``x`` over ``axis`` (all axes when None)."""
    x = convert(x)
    return np.sum(x, axis=axis, keepdims=keepdims, dtype="int32" if x.dtype.kind == "b" else None)


def _mean_vjp(g, out, needs, x, axis, keepdims):
    x = np.asarray(x)
    count = int(np.prod([x.shape[a] for a in _axes(axis, x.ndim)])) or 1
    return (np.broadcast_to(_expand(g, axis, x.ndim, keepdims) / count, x.shape),)


@op(_ns, vjp=_mean_vjp, samples=S((3, 4)) + S((3, 4), axis=-1) + S((2, 3, 4), axis=(0, 1), keepdims=True))
def mean(x, axis=None, keepdims=False):
    """Mean of ``x`` over ``axis`` (integers give floatx)."""
    x = to_float(x)
    return np.mean(x, axis=axis, keepdims=keepdims)


def _extreme_vjp(g, out, needs, x, axis, keepdims, **_):
    x = np.asarray(x)
    full = _expand(out, axis, x.ndim, keepdims)
    hit = x == full
    count = hit.sum(axis=_axes(axis, x.ndim), keepdims=True)
    return (hit * (_expand(g, axis, x.ndim, keepdims) / count),)


def _extreme(name, fn):
    def forward(x, axis=None, keepdims=False, initial=None):
        kw = {} if initial is None else {"initial": initial}
        return fn(convert(x), axis=axis, keepdims=keepdims, **kw)
    forward.__name__ = name
    forward.__doc__ = f"The {name} of ``x`` over ``axis`` (the gradient is shared by ties)."
    return op(_ns, vjp=_extreme_vjp, spec=reduction_spec(forward), name=name,
              samples=S((3, 4)) + S((3, 4), axis=0) + S((2, 3, 4), axis=(1, 2), keepdims=True))(forward)


max = _extreme("max", np.max)  # noqa: A001
min = _extreme("min", np.min)  # noqa: A001


@op(_ns, vjp=_extreme_vjp, samples=S((3, 4), axis=1))
def amax(x, axis=None, keepdims=False):
    """The maximum of ``x`` over ``axis``."""
    return np.max(convert(x), axis=axis, keepdims=keepdims)


@op(_ns, vjp=_extreme_vjp, samples=S((3, 4), axis=1))
def amin(x, axis=None, keepdims=False):
    """The minimum of ``x`` over ``axis``."""
    return np.min(convert(x), axis=axis, keepdims=keepdims)


def _prod_vjp(g, out, needs, x, axis, keepdims, dtype):
    x = np.asarray(x)
    return (_expand(g, axis, x.ndim, keepdims) * _expand(out, axis, x.ndim, keepdims) / x,)


@op(_ns, vjp=_prod_vjp, samples=S(A(3, 4)) + S(A(3, 4), axis=0))
def prod(x, axis=None, keepdims=False, dtype=None):
    """Product of ``x`` over ``axis``."""
    x = convert(x)
    return np.prod(x, axis=axis, keepdims=keepdims, dtype=None if dtype is None else _dtype(dtype))


def _var_vjp(g, out, needs, x, axis, keepdims):
    x = np.asarray(x)
    count = int(np.prod([x.shape[a] for a in _axes(axis, x.ndim)])) or 1
    centered = x - np.mean(x, axis=axis, keepdims=True)
    return (2 * _expand(g, axis, x.ndim, keepdims) * centered / count,)


@op(_ns, vjp=_var_vjp, samples=S((3, 4)) + S((3, 4), axis=0, keepdims=True))
def var(x, axis=None, keepdims=False):
    """Variance of ``x`` over ``axis``."""
    return np.var(to_float(x), axis=axis, keepdims=keepdims)


def _std_vjp(g, out, needs, x, axis, keepdims):
    (gv,) = _var_vjp(np.asarray(g) / (2 * np.where(out > 0, out, np.inf)), None, needs, x, axis, keepdims)
    return (gv,)


@op(_ns, vjp=_std_vjp, samples=S((3, 4)) + S((3, 4), axis=1))
def std(x, axis=None, keepdims=False):
    """Standard deviation of ``x`` over ``axis``."""
    return np.std(to_float(x), axis=axis, keepdims=keepdims)


def _quantile_vjp(g, out, needs, x, q, axis, method, keepdims):
    # The quantile is a weighted sum of the order statistics: differentiate through the sort.
    x = np.asarray(x)
    q = np.asarray(q)
    ax = None if axis is None else _axes(axis, x.ndim)
    if ax is None:
        flat = x.reshape(-1, 1)
        moved = flat
    else:
        rest = [i for i in range(x.ndim) if i not in ax]
        moved = np.transpose(x, ax + tuple(rest)).reshape(-1, int(np.prod([x.shape[i] for i in rest])))
    n = moved.shape[0]
    order = np.argsort(moved, axis=0, kind="stable")
    pos = np.atleast_1d(q) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    if method == "lower":
        weights = [(lo, np.ones_like(frac))]
    elif method == "higher":
        weights = [(np.ceil(pos).astype(int), np.ones_like(frac))]
    elif method == "nearest":
        weights = [(np.round(pos).astype(int), np.ones_like(frac))]
    elif method == "midpoint":
        weights = [(lo, 0.5 + 0 * frac), (hi, np.where(hi == lo, 0.5, 0.5))]
    else:
        weights = [(lo, 1 - frac), (hi, frac)]
    g = np.asarray(g)
    if keepdims:
        g = np.squeeze(g, axis=tuple(range(q.ndim, q.ndim + x.ndim)) if ax is None else tuple(
            q.ndim + a for a in ax))
    g = g.reshape(np.atleast_1d(q).size, -1)
    gm = np.zeros_like(moved, dtype=g.dtype)
    cols = np.arange(moved.shape[1])
    for k in range(np.atleast_1d(q).size):
        for idx, w in weights:
            np.add.at(gm, (order[idx[k]], cols), w[k] * g[k])
    if ax is None:
        return (gm.reshape(x.shape),)
    shape = [x.shape[i] for i in ax] + [x.shape[i] for i in rest]
    inverse = np.argsort(ax + tuple(rest))
    return (np.transpose(gm.reshape(shape), inverse),)


@op(_ns, vjp=_quantile_vjp, samples=S((5, 3), 0.3) + S((4, 3), 0.75, axis=0)
    + S((4, 3), L(np.array([0.2, 0.5])), axis=1, keepdims=True))
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantile(s) of ``x`` over ``axis`` (``method`` as NumPy's)."""
    x = to_float(x)
    return np.quantile(x, q, axis=axis, method=method, keepdims=keepdims).astype(x.dtype)


def _median_vjp(g, out, needs, x, axis, keepdims):
    return _quantile_vjp(g, out, needs, x, 0.5, axis, "linear", keepdims)


@op(_ns, vjp=_median_vjp, samples=S((5, 3)) + S((4, 3), axis=0) + S((4, 3), axis=1, keepdims=True))
def median(x, axis=None, keepdims=False):
    """The median of ``x`` over ``axis``."""
    x = to_float(x)
    return np.median(x, axis=axis, keepdims=keepdims).astype(x.dtype)


@op(_ns, diff=("x", "weights"), vjp="traced", samples=S((3, 4)) + S((3, 4), axis=1, weights=P(4)))
def average(x, axis=None, weights=None):
    """The (weighted) average of ``x`` over ``axis``."""
    if weights is None:
        return mean(x, axis=axis)
    if axis is not None and ndim(weights) == 1 and ndim(x) > 1:
        shape = [1] * ndim(x)
        shape[axis] = -1
        weights = reshape(weights, shape)
    return divide(sum(multiply(x, weights), axis=axis),
                  sum(multiply(ones_like(x), weights), axis=axis))


def _logical_reduction(name, fn):
    def forward(x, axis=None, keepdims=False):
        return np.asarray(fn(convert(x), axis=axis, keepdims=keepdims))
    forward.__name__ = name
    forward.__doc__ = f"Whether {name} of ``x`` are true over ``axis``."
    return op(_ns, spec=reduction_spec(forward), samples=S((3, 4), axis=1), name=name)(forward)


all = _logical_reduction("all", np.all)  # noqa: A001
any = _logical_reduction("any", np.any)  # noqa: A001


def _arg(name, fn):
    def forward(x, axis=None, keepdims=False):
        return np.asarray(fn(convert(x), axis=axis, keepdims=keepdims)).astype(np.int32)
    forward.__name__ = name
    forward.__doc__ = f"Indices of the {name[3:]}ima of ``x`` over ``axis`` (int32, no gradient)."
    return op(_ns, samples=S((3, 4)) + S((3, 4), axis=1), name=name)(forward)


argmax = _arg("argmax", np.argmax)
argmin = _arg("argmin", np.argmin)


@op(_ns, samples=S((3, 4), axis=1))
def count_nonzero(x, axis=None):
    """The number of non-zero entries of ``x`` over ``axis`` (int32)."""
    return np.asarray(np.count_nonzero(convert(x), axis=axis)).astype(np.int32)


def _cum_axis(x, axis):
    return (np.ravel(x), 0) if axis is None else (x, axis)


def _cumsum_vjp(g, out, needs, x, axis, dtype):
    x = np.asarray(x)
    flat, ax = _cum_axis(x, axis)
    g = np.asarray(g)
    rev = np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)
    return (rev.reshape(x.shape),)


@op(_ns, vjp=_cumsum_vjp, samples=S((3, 4)) + S((3, 4), axis=1))
def cumsum(x, axis=None, dtype=None):
    """Cumulative sum of ``x`` along ``axis`` (flattened when None)."""
    return np.cumsum(convert(x), axis=axis, dtype=None if dtype is None else _dtype(dtype))


def _cumprod_vjp(g, out, needs, x, axis, dtype):
    x = np.asarray(x)
    flat, ax = _cum_axis(x, axis)
    g = np.asarray(g)
    rev = np.flip(np.cumsum(np.flip(g * out, ax), axis=ax), ax)
    return ((rev / flat).reshape(x.shape),)


@op(_ns, vjp=_cumprod_vjp, samples=S(A(3, 4)) + S(A(3, 4), axis=0))
def cumprod(x, axis=None, dtype=None):
    """Cumulative product of ``x`` along ``axis`` (flattened when None)."""
    return np.cumprod(convert(x), axis=axis, dtype=None if dtype is None else _dtype(dtype))


def _diff_vjp(g, out, needs, a, n, axis):
    g = np.asarray(g)
    for _ in range(n):
        pad = [(0, 0)] * g.ndim
        pad[axis] = (1, 0)
        before = np.pad(g, pad)
        pad[axis] = (0, 1)
        g = before - np.pad(g, pad)
    return (g,)


@op(_ns, vjp=_diff_vjp, samples=S((3, 5)) + S((4, 3), n=2, axis=0))
def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference of ``a`` along ``axis``."""
    return np.diff(convert(a), n=n, axis=axis)


@op(_ns, vjp=lambda g, out, needs, y, x, dx, axis: (_trapezoid_weights(np.shape(y), x, dx, axis)
                                                     * np.expand_dims(np.asarray(g), axis),),
    samples=S((3, 5)) + S((3, 5), dx=0.5, axis=0))
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule."""
    y = to_float(y)
    return np.asarray(np.trapezoid(y, x=x, dx=dx, axis=axis)).astype(y.dtype)


def _trapezoid_weights(shape, x, dx, axis):
    n = shape[axis]
    d = np.full(n - 1, float(dx)) if x is None else np.diff(np.asarray(x, dtype=float))
    w = np.zeros(n)
    w[:-1] += d / 2
    w[1:] += d / 2
    shape_w = [1] * len(shape)
    shape_w[axis] = n
    return w.reshape(shape_w)


# -- shape manipulation ------------------------------------------------------------------

@op(_ns, vjp=lambda g, out, needs, x, newshape: (np.reshape(g, np.shape(x)),),
    samples=S((3, 4), L((2, 6))) + S((2, 3, 2), L((-1,))))
def reshape(x, newshape):
    """``x`` with a new shape (one entry may be -1)."""
    return np.reshape(convert(x), newshape)


def _transpose_vjp(g, out, needs, x, axes):
    return (np.transpose(g, None if axes is None else np.argsort(axes)),)


@op(_ns, vjp=_transpose_vjp, samples=S((3, 4)) + S((2, 3, 4), axes=(1, 2, 0)))
def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed when ``axes`` is None)."""
    return np.transpose(convert(x), axes)


@op(_ns, vjp=lambda g, out, needs, x, axis: (np.reshape(g, np.shape(x)),),
    samples=S((3, 4), 1) + S((3, 4), L((0, 3))))
def expand_dims(x, axis):
    """``x`` with size-1 axes inserted at ``axis``."""
    return np.expand_dims(convert(x), axis)


@op(_ns, vjp=lambda g, out, needs, x, axis: (np.reshape(g, np.shape(x)),),
    samples=S((3, 1, 4)) + S((1, 3, 1), axis=0))
def squeeze(x, axis=None):
    """``x`` without its size-1 axes (or only those in ``axis``)."""
    return np.squeeze(convert(x), axis)


@op(_ns, vjp=lambda g, out, needs, x: (np.reshape(g, np.shape(x)),), samples=S((3, 4)))
def ravel(x):
    """``x`` flattened."""
    return np.ravel(convert(x))


def _concat_vjp(g, out, needs, xs, axis):
    shapes = [np.shape(x) for x in xs]
    if axis is None:
        bounds = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
        return ([p.reshape(s) for p, s in zip(np.split(np.ravel(g), bounds), shapes)],)
    bounds = np.cumsum([s[axis] for s in shapes])[:-1]
    return (np.split(g, bounds, axis=axis),)


@op(_ns, vjp=_concat_vjp, diff=("xs",), samples=S([(2, 3), (4, 3)]) + S([(2, 3), (2, 1)], axis=1))
def concatenate(xs, axis=0):
    """Join the arrays ``xs`` along ``axis``."""
    return np.concatenate([convert(x) for x in xs], axis=axis)


def _stack_vjp(g, out, needs, x, axis):
    return ([np.take(g, i, axis=axis) for i in range(len(x))],)


@op(_ns, vjp=_stack_vjp, diff=("x",), samples=S([(2, 3), (2, 3)]) + S([(2, 3), (2, 3)], axis=-1))
def stack(x, axis=0):
    """Join the arrays ``x`` along a new ``axis``."""
    return np.stack([convert(v) for v in x], axis=axis)


@op(_ns, vjp="traced", diff=("xs",), samples=S([(2, 3), (2, 1)]) + S([(3,), (2,)]))
def hstack(xs):
    """Stack arrays horizontally (along axis 1, or 0 for 1-D arrays)."""
    return concatenate(xs, axis=0 if ndim(xs[0]) == 1 else 1)


@op(_ns, vjp="traced", diff=("xs",), samples=S([(2, 3), (1, 3)]) + S([(3,), (3,)]))
def vstack(xs):
    """Stack arrays vertically (1-D arrays become rows)."""
    return concatenate([reshape(x, (1, -1)) if ndim(x) == 1 else x for x in xs], axis=0)


@op(_ns, vjp="traced", diff=("x1", "x2"), samples=S((2, 3), (1, 3), axis=0) + S((2, 2), (3,)))
def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (flattened when None)."""
    if axis is None:
        return concatenate([ravel(x1), ravel(x2)], axis=0)
    return concatenate([x1, x2], axis=axis)


def _split_vjp(g, out, needs, x, indices_or_sections, axis):
    return (np.concatenate(g, axis=axis),)


@op(_ns, vjp=_split_vjp, samples=S((4, 3), 2) + S((5, 3), L([1, 3]), axis=0) + S((2, 6), 3, axis=1))
def split(x, indices_or_sections, axis=0):
    """Split ``x`` into a list of arrays along ``axis``."""
    return list(np.split(convert(x), indices_or_sections, axis=axis))


def _array_split_vjp(g, out, needs, x, indices_or_sections, axis):
    return (np.concatenate(g, axis=axis),)


@op(_ns, vjp=_array_split_vjp, samples=S((5, 3), 2))
def array_split(x, indices_or_sections, axis=0):
    """Split ``x`` into nearly equal parts along ``axis``."""
    return list(np.array_split(convert(x), indices_or_sections, axis=axis))


def _register_gather(fn, samples):
    name = fn.__name__

    def vjp(g, out, needs, **kw):
        first = fn.__code__.co_varnames[0]
        x = kw.pop(first)
        return (gather_grad(lambda i: fn(i, **kw), np.shape(x), g),)

    return op(_ns, vjp=vjp, samples=samples, name=name)(fn)


def _tile(x, repeats):
    """``x`` repeated ``repeats`` times along each axis."""
    return np.tile(convert(x), repeats)


def _repeat(x, repeats, axis=None):
    """Each element of ``x`` repeated ``repeats`` times along ``axis``."""
    return np.repeat(convert(x), repeats, axis=axis)


def _flip(x, axis=None):
    """``x`` with the order of ``axis`` reversed."""
    return np.flip(convert(x), axis)


def _roll(x, shift, axis=None):
    """``x`` rolled by ``shift`` along ``axis``."""
    return np.roll(convert(x), shift, axis)


def _rot90(array, k=1, axes=(0, 1)):
    """``array`` rotated by 90 degrees ``k`` times in the plane ``axes``."""
    return np.rot90(convert(array), k, axes)


def _moveaxis(x, source, destination):
    """``x`` with axes moved from ``source`` to ``destination``."""
    return np.moveaxis(convert(x), source, destination)


def _swapaxes(x, axis1, axis2):
    """``x`` with two axes interchanged."""
    return np.swapaxes(convert(x), axis1, axis2)


def _broadcast_to(x, shape):
    """``x`` broadcast to ``shape``."""
    return np.broadcast_to(convert(x), shape)


def _diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset``-th diagonal of ``x`` in the plane ``(axis1, axis2)``."""
    return np.diagonal(convert(x), offset, axis1, axis2).copy()


def _diag(x, k=0):
    """The ``k``-th diagonal of a 2-D ``x``, or a 2-D array with 1-D ``x`` on it."""
    return np.diag(convert(x), k)


def _diagflat(x, k=0):
    """A 2-D array with the flattened ``x`` on its ``k``-th diagonal."""
    return np.diagflat(convert(x), k)


def _tril(x, k=0):
    """``x`` with the entries above the ``k``-th diagonal zeroed."""
    return np.tril(convert(x), k)


def _triu(x, k=0):
    """``x`` with the entries below the ``k``-th diagonal zeroed."""
    return np.triu(convert(x), k)


for _fn, _name, _samples in [
    (_tile, "tile", S((2, 3), L((2, 1))) + S((3,), 2)),
    (_repeat, "repeat", S((2, 3), 2) + S((2, 3), L([1, 2, 0]), axis=1)),
    (_flip, "flip", S((2, 3)) + S((2, 3), axis=1)),
    (_roll, "roll", S((2, 3), 1) + S((2, 3), -1, axis=1)),
    (_rot90, "rot90", S((2, 3)) + S((2, 3, 2), k=3, axes=(1, 2))),
    (_moveaxis, "moveaxis", S((2, 3, 4), 0, -1)),
    (_swapaxes, "swapaxes", S((2, 3, 4), 0, 2)),
    (_broadcast_to, "broadcast_to", S((3, 1), L((2, 3, 4)))),
    (_diagonal, "diagonal", S((3, 4)) + S((2, 3, 3), offset=1, axis1=1, axis2=2)),
    (_diag, "diag", S((3,)) + S((3, 4), k=1)),
    (_diagflat, "diagflat", S((2, 2))),
    (_tril, "tril", S((3, 4)) + S((2, 3, 3), k=-1)),
    (_triu, "triu", S((3, 4)) + S((2, 3, 3), k=1)),
]:
    _fn.__name__ = _name
    globals()[_name] = _register_gather(_fn, _samples)
tile, repeat, flip, roll, rot90 = (globals()[n] for n in ("tile", "repeat", "flip", "roll", "rot90"))
moveaxis, swapaxes, broadcast_to = (globals()[n] for n in ("moveaxis", "swapaxes", "broadcast_to"))
diagonal, diag, diagflat, tril, triu = (globals()[n] for n in ("diagonal", "diag", "diagflat", "tril", "triu"))


def _pad_vjp(g, out, needs, x, pad_width, mode, constant_values):
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"ops.pad has no gradient for mode={mode!r}; use 'constant', "
                                  "'edge', 'reflect', 'symmetric' or 'wrap'.")
    return (gather_grad(lambda i: np.pad(i, pad_width, mode=mode), np.shape(x), g),)


@op(_ns, vjp=_pad_vjp, samples=S((2, 3), L(((1, 0), (1, 2)))) + S((3, 4), 1, mode="reflect")
    + S((3, 4), 2, mode="symmetric") + S((3, 4), L(((1, 1), (0, 2))), mode="edge"))
def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` padded by ``pad_width`` (``mode`` as NumPy's)."""
    x = convert(x)
    kw = {"constant_values": constant_values} if mode == "constant" and constant_values is not None else {}
    return np.pad(x, pad_width, mode=mode, **kw)


@op(_ns, samples=S((2, 3, 4)))
def ndim(x):
    """The number of dimensions of ``x``."""
    return np.ndim(x)


@op(_ns, samples=S((2, 3, 4)))
def size(x):
    """The number of elements of ``x``."""
    return int(np.size(x))


def _meshgrid_vjp(g, out, needs, x, indexing="xy", **_):
    n = len(x)
    grads = []
    for i in range(n):
        axis = i
        if indexing == "xy" and n >= 2 and i < 2:
            axis = 1 - i
        gi = np.asarray(g[i])
        grads.append(gi.sum(axis=tuple(a for a in range(gi.ndim) if a != axis)).reshape(np.shape(x[i])))
    return (grads,)


@op(_ns, vjp=_meshgrid_vjp, diff=("x",), samples=S((3,), (4,)) + S((2,), (3,), indexing="ij"))
def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from coordinate vectors."""
    return list(np.meshgrid(*[convert(v) for v in x], indexing=indexing))


# -- indexing --------------------------------------------------------------------------

def _index_key(key):
    if isinstance(key, tuple):
        return tuple(np.asarray(k) if isinstance(k, list) else k for k in key)
    return np.asarray(key) if isinstance(key, list) else key


def _advanced(key):
    keys = key if isinstance(key, tuple) else (key,)
    return builtins.any(isinstance(k, np.ndarray) and k.dtype != bool or isinstance(k, list) for k in keys)


def _get_item_vjp(g, out, needs, x, key):
    x = np.asarray(x)
    grad = np.zeros(x.shape, dtype=np.result_type(g, np.float32) if x.dtype.kind != "f" else
                    np.result_type(g, x.dtype))
    key = _index_key(key)
    if _advanced(key):
        np.add.at(grad, key, g)
    else:
        grad[key] = g
    return (grad,)


@op(_ns, vjp=_get_item_vjp, samples=S((3, 4), L((slice(1, None), 0))) + S((4, 3), I([0, 2, 2])))
def get_item(x, key):
    """``x[key]`` (basic and advanced indexing)."""
    return np.asarray(convert(x)[_index_key(key)])


def _gather_vjp(axis_grad):
    """The vjp of a gather of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None).

    ``axis_grad(g, x, indices, axis)`` gives the gradient for a (non-negative) axis.
    """

    def vjp(g, out, needs, x, indices, axis):
        x = np.asarray(x)
        indices = np.asarray(indices)
        if axis is None:
            grad = np.zeros(x.size, dtype=np.result_type(g, np.float32))
            np.add.at(grad, indices.ravel() % x.size, np.ravel(g))
            return (grad.reshape(x.shape),)
        return (axis_grad(g, x, indices, axis % x.ndim),)

    return vjp


@_gather_vjp
def _take_vjp(g, x, indices, axis):
    grad = np.zeros(x.shape, dtype=np.result_type(g, np.float32))
    np.add.at(grad, (slice(None),) * axis + (indices % x.shape[axis],), g)
    return grad


@op(_ns, vjp=_take_vjp, samples=S((4, 3), I([0, 2, 2])) + S((3, 4), I([[1, 0], [3, 3]]), axis=1)
    + S((2, 3), I([5, 0, -1])))
def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None)."""
    return np.take(convert(x), np.asarray(convert(indices)), axis=axis)


def _along_index(shape, indices, axis):
    grids = np.ogrid[tuple(slice(n) for n in indices.shape)]
    grids = list(grids)
    grids[axis] = indices % shape[axis]
    return tuple(grids)


@_gather_vjp
def _take_along_axis_vjp(g, x, indices, axis):
    shape = np.broadcast_shapes(tuple(1 if i == axis else n for i, n in enumerate(x.shape)),
                                tuple(1 if i == axis else n for i, n in enumerate(indices.shape)))
    full = tuple(indices.shape[axis] if i == axis else n for i, n in enumerate(shape))
    idx = np.broadcast_to(indices, full)
    grad = np.zeros(x.shape, dtype=np.result_type(g, np.float32))
    np.add.at(grad, _along_index(x.shape, idx, axis), np.broadcast_to(g, full))
    return grad


@op(_ns, vjp=_take_along_axis_vjp, samples=S((3, 4), I([[0], [2], [3]]), axis=1)
    + S((3, 4), I([[0, 1, 1, 2]]), axis=0))
def take_along_axis(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` matched along ``axis``."""
    x = convert(x)
    indices = np.asarray(convert(indices))
    if axis is None:
        return np.take(x.ravel(), indices.ravel())
    return np.take_along_axis(x, indices, axis=axis)


def _where_vjp(g, out, needs, condition, x1, x2):
    cond = np.asarray(condition).astype(bool)
    return (np.where(cond, g, 0) if needs[0] else None,
            np.where(cond, 0, g) if needs[1] else None)


@op(_ns, vjp=_where_vjp, diff=("x1", "x2"), samples=S(I([[True, False, True]], bool), (2, 3), (3,)))
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; the indices of true entries when both are None."""
    if x1 is None and x2 is None:
        return tuple(i.astype(np.int32) for i in np.nonzero(convert(condition)))
    if x1 is None or x2 is None:
        raise ValueError("where: x1 and x2 must be given together (or both omitted).")
    a, b = _operand(x1), _operand(x2)
    return fix_float(np.where(convert(condition), a, b), a, b)


def _unknown_length(dtype="int32", rows=None):
    """A spec rule for an output whose length depends on the data."""
    def spec(x, *args, **kwargs):
        if rows == "per_axis":
            return tuple(Spec((None,), dtype) for _ in x.shape)
        if rows == "ndim":
            return Spec((None, len(x.shape)), dtype)
        return Spec((None,), dtype if dtype != "same" else x.dtype)
    return spec


@op(_ns, spec=_unknown_length(rows="per_axis"), samples=S(I([[1, 0, 2], [0, 3, 0]])))
def nonzero(x):
    """The indices of the non-zero entries of ``x``, one int32 array per axis."""
    return tuple(i.astype(np.int32) for i in np.nonzero(convert(x)))


@op(_ns, spec=_unknown_length(rows="ndim"), samples=S(I([[1, 0, 2], [0, 3, 0]])))
def argwhere(x):
    """The indices of the non-zero entries of ``x`` as rows."""
    return np.argwhere(convert(x)).astype(np.int32)


def _select_vjp(g, out, needs, condlist, choicelist, default):
    conds = [np.asarray(c).astype(bool) for c in condlist]
    taken = np.zeros(np.shape(g), dtype=bool)
    grads = []
    for c in conds:
        pick = c & ~taken
        grads.append(np.where(pick, g, 0))
        taken |= c
    return (grads, np.where(taken, 0, g) if needs[1] else None)


@op(_ns, vjp=_select_vjp, diff=("choicelist", "default"),
    samples=S([I([True, False, False], bool), I([True, True, False], bool)], [(3,), (3,)], (3,)))
def select(condlist, choicelist, default=0):
    """Per element, the first choice whose condition holds (``default`` if none)."""
    choices = [convert(c) for c in choicelist]
    return fix_float(np.select([convert(c) for c in condlist], choices, _operand(default)), *choices)


@op(_ns, samples=S(I([1.0, 2.0, 4.0], "float64"), I([0.5, 2.0, 5.0], "float64")))
def searchsorted(sorted_sequence, values, side="left"):
    """Indices where ``values`` would be inserted to keep ``sorted_sequence`` sorted."""
    return np.searchsorted(convert(sorted_sequence), convert(values), side=side).astype(np.int32)


@op(_ns, samples=S((5,), I([-0.5, 0.0, 0.5], "float64")))
def digitize(x, bins):
    """The index of the bin of each element of ``x``."""
    return np.digitize(convert(x), convert(bins)).astype(np.int32)


@op(_ns, samples=S(I([1, 5, 7]), L((2, 4))))
def unravel_index(indices, shape):
    """Flat ``indices`` as coordinate arrays for ``shape``."""
    return tuple(i.astype(np.int32) for i in np.unravel_index(convert(indices), shape))


def _bincount_spec(x, weights=None, minlength=0, sparse=False):
    return Spec((None,), "int32" if weights is None else weights.dtype)


@op(_ns, spec=_bincount_spec, samples=S(I([1, 2, 2, 5])) + S(I([0, 1, 1]), weights=P(3), minlength=4))
def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts (or sums of ``weights``) of each non-negative integer in ``x``."""
    x = convert(x)
    if weights is None:
        return np.bincount(x.ravel(), minlength=minlength).astype(np.int32)
    weights = convert(weights)
    return np.bincount(x.ravel(), weights=weights.ravel(), minlength=minlength).astype(weights.dtype)


@op(_ns, samples=S((10,), bins=4))
def histogram(x, bins=10, range=None):  # noqa: A002 (NumPy's name)
    """Counts of ``x`` in ``bins`` equal bins, and the bin edges."""
    counts, edges = np.histogram(convert(x), bins=bins, range=range)
    return counts.astype(np.int32), edges.astype(to_float(convert(x)).dtype)


@op(_ns, samples=S(I([1, 2, 3]), I([2, 4])))
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` is in ``x2``."""
    return np.isin(convert(x1), convert(x2), assume_unique=assume_unique, invert=invert)


@op(_ns, spec=_unknown_length("same"), samples=S(I([3, 1, 3, 2])))
def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None, size=None,  # noqa: A002
           fill_value=None):
    """The unique elements of ``x`` (and, as asked, the inverse indices and counts)."""
    res = np.unique(convert(x), return_inverse=return_inverse, return_counts=return_counts, axis=axis)
    return res


# -- products ------------------------------------------------------------------------------

def _flat_matmul(a, b):
    """``a @ b`` for an N-D ``a`` and a 2-D ``b`` as one GEMM on ``a``'s rows."""
    if a.ndim > 2 and b.ndim == 2:
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(*a.shape[:-1], b.shape[-1])
    return np.matmul(a, b)


def _matmul_vjp(g, out, needs, x1, x2):
    a, b = np.asarray(x1), np.asarray(x2)
    g = np.asarray(g)
    ga = gb = None
    if a.ndim >= 2 and b.ndim == 2:  # the common layer case: one GEMM per gradient
        if needs[0]:
            ga = _flat_matmul(g, b.T)
        if needs[1]:
            gb = a.reshape(-1, a.shape[-1]).T @ g.reshape(-1, g.shape[-1])
        return ga, gb
    if needs[0]:
        if b.ndim == 1:
            ga = np.multiply.outer(g, b) if a.ndim > 1 else g * b
        else:
            gg = g if a.ndim > 1 else np.expand_dims(g, -2)
            ga = np.matmul(gg, np.swapaxes(b, -1, -2))
            if a.ndim == 1:
                ga = ga[..., 0, :]
                ga = ga.reshape(-1, a.shape[0]).sum(axis=0) if ga.ndim > 1 else ga
    if needs[1]:
        if a.ndim == 1:
            if b.ndim == 1:
                gb = g * a
            else:
                gb = np.multiply.outer(a, g) if b.ndim == 2 else a[:, None] * np.expand_dims(g, -2)
        else:
            gg = g if b.ndim > 1 else np.expand_dims(g, -1)
            gb = np.matmul(np.swapaxes(a, -1, -2), gg)
            if b.ndim == 1:
                gb = gb[..., 0]
                gb = gb.reshape(-1, b.shape[0]).sum(axis=0) if gb.ndim > 1 else gb
    return ga, gb


@op(_ns, vjp=_matmul_vjp, diff=("x1", "x2"),
    samples=S((3, 4), (4, 2)) + S((2, 3, 4), (4, 5)) + S((4,), (4, 2)) + S((2, 3, 4), (4,))
    + S((4,), (4,)) + S((2, 1, 3, 4), (3, 4, 2)))
def matmul(x1, x2):
    """The matrix product of ``x1`` and ``x2`` (batched over leading axes)."""
    a, b = _operand(x1), _operand(x2)
    if type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype:
        return _flat_matmul(a, b)
    return fix_float(np.matmul(a, b), a, b)


def _tensordot_axes(a_ndim, b_ndim, axes):
    if isinstance(axes, (int, np.integer)):
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    return [i % a_ndim for i in ax_a], [i % b_ndim for i in ax_b]


def _tensordot_vjp(g, out, needs, x1, x2, axes):
    a, b = np.asarray(x1), np.asarray(x2)
    ax_a, ax_b = _tensordot_axes(a.ndim, b.ndim, axes)
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    g = np.asarray(g)
    na = len(free_a)
    ga = gb = None
    if needs[0]:
        # g (free_a..., free_b...) . b over free_b -> (free_a..., ax_b-paired dims = ax_a order)
        ga = np.tensordot(g, b, axes=(list(range(na, g.ndim)), free_b))
        # remaining b axes (ax_b in b's increasing order) pair with the matching ax_a entries
        pairs = sorted(zip(ax_b, ax_a))
        order = free_a + [pa for _, pa in pairs]
        ga = np.transpose(ga, np.argsort(order))
    if needs[1]:
        gb = np.tensordot(a, g, axes=(free_a, list(range(na))))
        pairs = sorted(zip(ax_a, ax_b))
        order = [pb for _, pb in pairs] + free_b
        gb = np.transpose(gb, np.argsort(order))
    return ga, gb


@op(_ns, vjp=_tensordot_vjp, diff=("x1", "x2"),
    samples=S((2, 3, 4), (3, 4, 5)) + S((2, 3), (3, 4), axes=1) + S((2, 3, 4), (4, 2, 3), axes=([1, 2], [2, 0])))
def tensordot(x1, x2, axes=2):
    """The sum of products of ``x1`` and ``x2`` over ``axes``."""
    a, b = _operand(x1), _operand(x2)
    return fix_float(np.tensordot(a, b, axes=axes), a, b)


def _dot_vjp(g, out, needs, x1, x2):
    a, b = np.asarray(x1), np.asarray(x2)
    if a.ndim == 0 or b.ndim == 0:
        return (g * b if needs[0] else None, g * a if needs[1] else None)
    axes = ([a.ndim - 1], [b.ndim - 2 if b.ndim >= 2 else 0])
    return _tensordot_vjp(g, out, needs, a, b, axes)


@op(_ns, vjp=_dot_vjp, diff=("x1", "x2"), samples=S((3, 4), (4, 2)) + S((4,), (4,)) + S((2, 3, 4), (5, 4, 2)))
def dot(x1, x2):
    """The dot product of ``x1`` and ``x2`` (NumPy's ``dot``)."""
    a, b = _operand(x1), _operand(x2)
    return fix_float(np.dot(a, b), a, b)


@op(_ns, vjp=lambda g, out, needs, x1, x2: (
    (np.asarray(g) @ np.ravel(x2)).reshape(np.shape(x1)) if needs[0] else None,
    (np.ravel(x1) @ np.asarray(g)).reshape(np.shape(x2)) if needs[1] else None),
    diff=("x1", "x2"), samples=S((3,), (4,)) + S((2, 2), (3,)))
def outer(x1, x2):
    """The outer product of the flattened ``x1`` and ``x2``."""
    a, b = convert(x1), convert(x2)
    return fix_float(np.outer(a, b), a, b)


def _inner_vjp(g, out, needs, x1, x2):
    a, b = np.asarray(x1), np.asarray(x2)
    if a.ndim == 0 or b.ndim == 0:
        return (g * b if needs[0] else None, g * a if needs[1] else None)
    return _tensordot_vjp(g, out, needs, a, b, ([a.ndim - 1], [b.ndim - 1]))


@op(_ns, vjp=_inner_vjp, diff=("x1", "x2"), samples=S((3, 4), (2, 4)) + S((4,), (4,)))
def inner(x1, x2):
    """The inner product over the last axes of ``x1`` and ``x2``."""
    a, b = _operand(x1), _operand(x2)
    return fix_float(np.inner(a, b), a, b)


@op(_ns, vjp=lambda g, out, needs, x1, x2: (
    (g * np.ravel(x2)).reshape(np.shape(x1)) if needs[0] else None,
    (g * np.ravel(x1)).reshape(np.shape(x2)) if needs[1] else None),
    diff=("x1", "x2"), samples=S((2, 3), (6,)))
def vdot(x1, x2):
    """The dot product of the flattened ``x1`` and ``x2``."""
    a, b = convert(x1), convert(x2)
    return fix_float(np.vdot(a, b), a, b)


def _cross_vjp(g, out, needs, x1, x2, axisa, axisb, axisc, axis):
    if axis is not None:
        axisa = axisb = axisc = axis
    a = np.moveaxis(np.asarray(x1), axisa, -1)
    b = np.moveaxis(np.asarray(x2), axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise NotImplementedError("ops.cross has a gradient for 3-vectors only.")
    g = np.moveaxis(np.asarray(g), axisc, -1)
    ga = np.moveaxis(np.cross(b, g), -1, axisa) if needs[0] else None
    gb = np.moveaxis(np.cross(g, a), -1, axisb) if needs[1] else None
    return ga, gb


@op(_ns, vjp=_cross_vjp, diff=("x1", "x2"), samples=S((2, 3), (2, 3)) + S((3, 2), (3,), axisa=0))
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or 2-vectors) of ``x1`` and ``x2``."""
    a, b = convert(x1), convert(x2)
    return fix_float(np.cross(a, b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis), a, b)


def _kron_vjp(g, out, needs, x1, x2):
    a, b = np.asarray(x1), np.asarray(x2)
    nd = _bmax(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    inter = [d for pair in zip(sa, sb) for d in pair]
    gr = np.asarray(g).reshape(inter)
    even = tuple(range(0, 2 * nd, 2))
    odd = tuple(range(1, 2 * nd, 2))
    ga = np.tensordot(gr, b.reshape(sb), axes=(odd, tuple(range(nd)))).reshape(a.shape) if needs[0] else None
    gb = np.tensordot(gr, a.reshape(sa), axes=(even, tuple(range(nd)))).reshape(b.shape) if needs[1] else None
    return ga, gb


@op(_ns, vjp=_kron_vjp, diff=("x1", "x2"), samples=S((2, 3), (2, 2)) + S((3,), (2,)))
def kron(x1, x2):
    """The Kronecker product of ``x1`` and ``x2``."""
    a, b = convert(x1), convert(x2)
    return fix_float(np.kron(a, b), a, b)


def _trace_vjp(g, out, needs, x, offset, axis1, axis2):
    x = np.asarray(x)
    a1, a2 = axis1 % x.ndim, axis2 % x.ndim
    e = np.eye(x.shape[a1], x.shape[a2], k=offset)
    if a1 > a2:
        e = e.T
    shape = [1] * x.ndim
    shape[a1], shape[a2] = x.shape[a1], x.shape[a2]
    return (np.expand_dims(np.asarray(g), (_bmin(a1, a2), _bmax(a1, a2))) * e.reshape(shape),)


@op(_ns, vjp=_trace_vjp, samples=S((3, 3)) + S((2, 3, 4), offset=1, axis1=1, axis2=2))
def trace(x, offset=0, axis1=0, axis2=1):
    """The sum along a diagonal of ``x``."""
    return np.trace(convert(x), offset, axis1, axis2)


def _einsum_parse(subscripts, shapes):
    subs = subscripts.replace(" ", "")
    if "->" in subs:
        ins, out = subs.split("->")
    else:
        ins = subs
        letters = ins.replace(",", "").replace("...", "")
        out = ("..." if "..." in ins else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    return ins.split(","), out


def _einsum_vjp(g, out, needs, subscripts, operands):
    operands = [np.asarray(o) for o in operands]
    ins, out_sub = _einsum_parse(subscripts, [o.shape for o in operands])
    grads = []
    for i, sub in enumerate(ins):
        letters = sub.replace("...", "")
        diagonal = None
        if len(set(letters)) != len(letters):
            # A repeated letter (a trace or diagonal): the operand enters through its
            # diagonal, a view whose gradient is computed and then written back into zeros.
            unique = "".join(c for k, c in enumerate(sub) if c == "." or c not in sub[:k])
            diagonal = np.zeros(operands[i].shape, dtype=np.result_type(operands[i], g))
            view = np.einsum(f"{sub}->{unique}", diagonal)
            sub, letters = unique, unique.replace("...", "")
        others = [s for j, s in enumerate(ins) if j != i]
        elsewhere = set(out_sub.replace("...", "")) | set("".join(others).replace("...", ""))
        summed = [c for c in letters if c not in elsewhere]
        target = sub
        for c in summed:
            target = target.replace(c, "")
        expr = ",".join([out_sub] + others) + "->" + target
        gi = np.einsum(expr, g, *[o for j, o in enumerate(operands) if j != i], optimize=len(operands) > 1)
        if summed:
            # re-insert the axes the forward summed away, broadcast to the operand's shape
            full = operands[i].shape if diagonal is None else view.shape
            explicit = sub.split("...")
            positions = []
            if len(explicit) == 1:
                positions = [sub.index(c) for c in summed]
            else:
                lead, tail = explicit
                nell = len(full) - len(lead) - len(tail)
                for c in summed:
                    positions.append(lead.index(c) if c in lead else len(lead) + nell + tail.index(c))
            gi = np.broadcast_to(np.expand_dims(gi, tuple(sorted(positions))), full)
        if diagonal is not None:
            view[...] = gi
            gi = diagonal
        grads.append(gi)
    return (grads,)


@op(_ns, vjp=_einsum_vjp, diff=("operands",),
    samples=S("ij,jk->ik", (2, 3), (3, 4)) + S("bij,bkj->bik", (2, 3, 4), (2, 5, 4))
    + S("ij->j", (3, 4)) + S("...ij,jk", (2, 3, 4), (4, 2)) + S("i,i", (3,), (3,))
    + S("ii", (3, 3)) + S("ii->i", (3, 3)) + S("bii->bi", (2, 3, 3)) + S("iij,jk->ik", (3, 3, 2), (2, 4))
    + S("...ii->...", (2, 3, 3)) + S("ij,kjj->ik", (2, 3), (4, 3, 3)))
def einsum(subscripts, *operands):
    """Einstein summation of ``operands`` as described by ``subscripts``."""
    ops_ = [convert(o) for o in operands]
    return fix_float(np.asarray(np.einsum(subscripts, *ops_, optimize=len(ops_) > 2)), *ops_)


# -- sorting ---------------------------------------------------------------------------

def _sort_vjp(g, out, needs, x, axis):
    x = np.asarray(x)
    if axis is None:
        order = np.argsort(x, axis=None, kind="stable")
        grad = np.zeros(x.size, dtype=np.asarray(g).dtype)
        grad[order] = np.ravel(g)
        return (grad.reshape(x.shape),)
    order = np.argsort(x, axis=axis, kind="stable")
    grad = np.zeros(x.shape, dtype=np.asarray(g).dtype)
    np.put_along_axis(grad, order, g, axis=axis)
    return (grad,)


@op(_ns, vjp=_sort_vjp, samples=S((3, 4)) + S((3, 4), axis=0))
def sort(x, axis=-1):
    """``x`` sorted along ``axis``."""
    return np.sort(convert(x), axis=axis, kind="stable")


@op(_ns, samples=S((3, 4)) + S((3, 4), axis=0))
def argsort(x, axis=-1):
    """The indices that sort ``x`` along ``axis`` (int32)."""
    return np.argsort(convert(x), axis=axis, kind="stable").astype(np.int32)


@op(_ns, samples=S((3, 5), 2))
def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` around its ``kth`` element along ``axis``."""
    return np.argpartition(convert(x), kth, axis=axis).astype(np.int32)


def _slogdet_vjp(g, out, needs, x):
    gl = np.asarray(g[1])
    return (gl[..., None, None] * np.swapaxes(np.linalg.inv(x), -1, -2),)


@op(_ns, vjp=_slogdet_vjp, samples=S(M(3, 3)) + S(M(2, 3, 3)))
def slogdet(x):
    """Sign and log absolute value of the determinant of ``x``."""
    sign_, logdet_ = np.linalg.slogdet(to_float(x))
    return np.asarray(sign_), np.asarray(logdet_)



isneginf = _unary("isneginf", np.isneginf, None, floats=False, differentiable=False)
isposinf = _unary("isposinf", np.isposinf, None, floats=False, differentiable=False)

_WITH_NAN = np.array([[0.5, np.nan, -1.2, 2.0], [np.nan, 1.5, 0.3, -0.7], [1.1, -0.4, np.nan, 0.9]])


def _nan_reduction(name, fn, vjp, doc):
    def forward(x, axis=None, keepdims=False):
        return np.asarray(fn(to_float(x), axis=axis, keepdims=keepdims))
    forward.__name__ = name
    forward.__doc__ = doc
    return op(_ns, vjp=vjp, spec=reduction_spec(forward), name=name,
              samples=S(_WITH_NAN) + S(_WITH_NAN, axis=1) + S(_WITH_NAN, axis=0, keepdims=True))(forward)


def _nansum_vjp(g, out, needs, x, axis, keepdims):
    x = np.asarray(x)
    return (np.where(np.isnan(x), 0.0, np.broadcast_to(_expand(g, axis, x.ndim, keepdims), x.shape)),)


def _nanmean_vjp(g, out, needs, x, axis, keepdims):
    x = np.asarray(x)
    count = np.sum(~np.isnan(x), axis=axis, keepdims=True)
    return (np.where(np.isnan(x), 0.0, _expand(g, axis, x.ndim, keepdims) / np.maximum(count, 1)),)


def _nanextreme_vjp(g, out, needs, x, axis, keepdims):
    x = np.asarray(x)
    hit = x == _expand(out, axis, x.ndim, keepdims)
    count = hit.sum(axis=_axes(axis, x.ndim), keepdims=True)
    return (hit * (_expand(g, axis, x.ndim, keepdims) / np.maximum(count, 1)),)


def _nanprod_vjp(g, out, needs, x, axis, keepdims):
    x = np.asarray(x)
    safe = np.where(np.isnan(x), 1.0, x)
    return (np.where(np.isnan(x), 0.0, _expand(g, axis, x.ndim, keepdims) * _expand(out, axis, x.ndim,
                                                                                    keepdims) / safe),)


nansum = _nan_reduction("nansum", np.nansum, _nansum_vjp, "Sum of ``x`` over ``axis``, NaNs as zero.")
nanmean = _nan_reduction("nanmean", np.nanmean, _nanmean_vjp, "Mean of the non-NaN entries of ``x``.")
nanmax = _nan_reduction("nanmax", np.nanmax, _nanextreme_vjp, "Maximum of ``x`` ignoring NaNs.")
nanmin = _nan_reduction("nanmin", np.nanmin, _nanextreme_vjp, "Minimum of ``x`` ignoring NaNs.")
nanprod = _nan_reduction("nanprod", np.nanprod, _nanprod_vjp, "Product of ``x``, NaNs as one.")


@op(_ns, vjp="traced", samples=S((3, 4)) + S((3, 4), axis=1) + S((3, 4), axis=0, keepdims=True))
def ptp(x, axis=None, keepdims=False):
    """Range (maximum minus minimum) of ``x`` over ``axis``."""
    return subtract(max(x, axis=axis, keepdims=keepdims), min(x, axis=axis, keepdims=keepdims))


@op(_ns, vjp="traced", samples=S((3, 6)) + S((2, 5)))
def corrcoef(x):
    """Pearson correlation coefficients of the rows (variables) of ``x``."""
    centered = subtract(x, mean(x, axis=-1, keepdims=True))
    cov = matmul(centered, transpose(centered))
    d = sqrt(diagonal(cov))
    return divide(cov, multiply(expand_dims(d, 1), expand_dims(d, 0)))


@op(_ns, vjp="traced", diff=("x1", "x2"), samples=S((6,), (3,)) + S((5,), (2,), mode="same")
    + S((4,), (3,), mode="full") + S((3,), (5,)))
def correlate(x1, x2, mode="valid"):
    """Cross-correlation of the 1-D ``x1`` and ``x2`` (NumPy's ``correlate``)."""
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"The 'mode' argument must be 'valid', 'same' or 'full'. Got {mode!r}.")
    n, m = np.shape(getattr(x1, "value", x1))[0], np.shape(getattr(x2, "value", x2))[0]
    if m > n:
        return flip(correlate(x2, x1, mode), axis=0)
    if mode == "full":
        x1 = pad(x1, [(m - 1, m - 1)])
    elif mode == "same":
        x1 = pad(x1, [(m // 2, m - 1 - m // 2)])
    from ._math import extract_sequences

    return matmul(extract_sequences(x1, m, 1), x2)


@op(_ns, vjp="traced", diff=("xs",), samples=S([(2, 3), (2, 3)]) + S([(2, 3, 1), (2, 3, 2)]))
def dstack(xs):
    """Stack arrays along the third axis (2-D arrays get a third axis first)."""
    def three(v):
        nd = ndim(v)
        if nd == 1:
            return reshape(v, (1, -1, 1))
        return expand_dims(v, -1) if nd == 2 else v
    return concatenate([three(v) for v in xs], axis=2)


@op(_ns, vjp=lambda g, out, needs, x, indices_or_sections: (np.concatenate(g, axis=0),),
    samples=S((4, 3), 2) + S((5, 2), L([1, 3])))
def vsplit(x, indices_or_sections):
    """Split ``x`` along its first axis."""
    return list(np.split(convert(x), indices_or_sections, axis=0))


def _view_spec(x, dtype=None):
    if dtype is None:
        return Spec(x.shape, x.dtype)
    ratio = np.dtype(x.dtype).itemsize / _dtype(dtype).itemsize
    last = None if x.shape[-1] is None else int(x.shape[-1] * ratio)
    return Spec((*x.shape[:-1], last), _dtype(dtype))


@op(_ns, spec=_view_spec, samples=S((2, 3), "int32"))
def view(x, dtype=None):
    """The bytes of ``x`` reinterpreted as ``dtype`` (no gradient)."""
    x = convert(x)
    return x if dtype is None else x.view(_dtype(dtype))


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` mapped over the leading axis of its array arguments (a loop of op calls, so it
    is traced like any other Python code written with ops)."""
    from ._core import map as _map

    excluded = set(excluded or ())

    def vectorized(*args):
        mapped = [i for i in range(len(args)) if i not in excluded]
        if not mapped:
            return pyfunc(*args)

        def one(items):
            full = list(args)
            for i, item in zip(mapped, items):
                full[i] = item
            return pyfunc(*full)

        return _map(one, [args[i] for i in mapped])

    return vectorized


del _name, _fn, _samples
__all__ = sorted(
    [name for name, value in dict(globals()).items()
     if callable(value) and hasattr(value, "_op") and value._op.namespace == _ns] + ["vectorize"]
)
