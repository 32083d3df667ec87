"""A small reverse-mode autodiff used to differentiate custom losses.

A :class:`Tensor` wraps a NumPy array and remembers the operation that made
it. The operations in :mod:`automl.keras.ops` (and NumPy ufuncs such as
``np.square`` or ``np.log``, through ``__array_ufunc__``, plus ``np.mean``,
``np.sum``, ``np.clip``, ... through ``__array_function__``) build that record
when any argument is a Tensor and are plain NumPy otherwise. :func:`gradient`
walks the record backwards.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Tensor", "gradient", "is_tensor", "value_of"]

#: Where traced Tensors currently flow (set while a subclassed model records its
#: training forward pass), so that errors can say what to do instead.
_CONTEXT = {"where": None}


def _untraced_hint(what):
    where = _CONTEXT["where"]
    if where is None:
        return f"{what} inside a differentiated loss; use automl.keras.ops / backend operations or NumPy ufuncs."
    return (f"{what} in {where}: layer outputs are traced there so that training can "
            "differentiate the math between layers. Use automl.keras.ops (ops.concatenate, ops.matmul, "
            "ops.mean, ...) or Python operators for math between layers, not plain NumPy functions.")


class Tensor:
    """An array plus the operation that produced it (``parents`` and ``backward``)."""

    __slots__ = ("value", "parents", "backward")
    __array_priority__ = 1000

    def __init__(self, value, parents=(), backward=None):
        self.value = np.asarray(value)
        self.parents = parents
        self.backward = backward  # grad_out -> tuple of grads, one per parent

    # -- array-like surface ------------------------------------------------
    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    dtype = property(lambda self: self.value.dtype)
    size = property(lambda self: self.value.size)

    def __len__(self):
        return len(self.value)

    def __repr__(self):
        return f"Tensor({self.value!r})"

    def numpy(self):
        return self.value

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_untraced_hint("A traced Tensor cannot be converted to a NumPy array"))

    # -- operators ---------------------------------------------------------
    def __add__(self, other):
        return add(self, other)

    __radd__ = __add__

    def __sub__(self, other):
        return subtract(self, other)

    def __rsub__(self, other):
        return subtract(other, self)

    def __mul__(self, other):
        return multiply(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return divide(self, other)

    def __rtruediv__(self, other):
        return divide(other, self)

    def __pow__(self, other):
        return power(self, other)

    def __rpow__(self, other):
        return power(other, self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return negative(self)

    def __abs__(self):
        return absolute(self)

    def __getitem__(self, index):
        def backward(g):
            out = np.zeros_like(self.value, dtype=g.dtype)
            np.add.at(out, index, g)
            return (out,)

        return Tensor(self.value[index], (self,), backward)

    def __lt__(self, other):
        return self.value < value_of(other)

    def __le__(self, other):
        return self.value <= value_of(other)

    def __gt__(self, other):
        return self.value > value_of(other)

    def __ge__(self, other):
        return self.value >= value_of(other)

    @property
    def T(self):  # noqa: N802
        return transpose(self)

    def reshape(self, *shape):
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def sum(self, axis=None, keepdims=False):
        return reduce_sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return reduce_mean(self, axis, keepdims)

    # -- NumPy protocol ----------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            return NotImplemented
        op = _UFUNCS.get(ufunc)
        if op is None:
            raise TypeError(_untraced_hint(f"np.{ufunc.__name__} has no gradient"))
        extra = {k: v for k, v in kwargs.items() if k not in ("dtype", "casting")}
        if extra:
            return NotImplemented
        return op(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        op = _FUNCTIONS.get(func)
        if op is None:
            raise TypeError(_untraced_hint(f"np.{func.__name__} has no gradient"))
        return op(*args, **kwargs)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def value_of(x):
    return x.value if isinstance(x, Tensor) else x


def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (undo NumPy broadcasting)."""
    if grad.shape == shape:
        return grad
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _make(value, parents, backward):
    tensors = tuple(p for p in parents if isinstance(p, Tensor))
    if not tensors:
        return value

    def routed(g):
        grads = backward(g)
        return tuple(gr for p, gr in zip(parents, grads) if isinstance(p, Tensor))

    return Tensor(value, tensors, routed)


def _binary(fn, grad_a, grad_b):
    def op(a, b):
        va, vb = value_of(a), value_of(b)
        out = fn(va, vb)
        if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
            return out
        sa, sb = np.shape(va), np.shape(vb)

        def backward(g):
            return (
                _unbroadcast(grad_a(g, va, vb, out), sa) if isinstance(a, Tensor) else None,
                _unbroadcast(grad_b(g, va, vb, out), sb) if isinstance(b, Tensor) else None,
            )

        return _make(out, (a, b), backward)

    return op


def _unary(fn, grad):
    def op(x):
        vx = value_of(x)
        out = fn(vx)
        if not isinstance(x, Tensor):
            return out
        return Tensor(out, (x,), lambda g: (grad(g, vx, out),))

    return op


add = _binary(np.add, lambda g, a, b, o: g, lambda g, a, b, o: g)
subtract = _binary(np.subtract, lambda g, a, b, o: g, lambda g, a, b, o: -g)
multiply = _binary(np.multiply, lambda g, a, b, o: g * b, lambda g, a, b, o: g * a)
divide = _binary(np.divide, lambda g, a, b, o: g / b, lambda g, a, b, o: -g * a / (b * b))
power = _binary(
    np.power,
    lambda g, a, b, o: g * b * np.power(a, b - 1),
    lambda g, a, b, o: g * o * np.log(np.where(a > 0, a, 1)),
)
maximum = _binary(np.maximum, lambda g, a, b, o: g * (a >= b), lambda g, a, b, o: g * (a < b))
minimum = _binary(np.minimum, lambda g, a, b, o: g * (a <= b), lambda g, a, b, o: g * (a > b))
negative = _unary(np.negative, lambda g, x, o: -g)
absolute = _unary(np.abs, lambda g, x, o: g * np.sign(x))
square = _unary(np.square, lambda g, x, o: 2 * g * x)
sqrt = _unary(np.sqrt, lambda g, x, o: g * 0.5 / np.where(o > 0, o, np.inf))
exp = _unary(np.exp, lambda g, x, o: g * o)
log = _unary(np.log, lambda g, x, o: g / x)
log1p = _unary(np.log1p, lambda g, x, o: g / (1 + x))
expm1 = _unary(np.expm1, lambda g, x, o: g * (o + 1))
tanh = _unary(np.tanh, lambda g, x, o: g * (1 - o * o))
sign = _unary(np.sign, lambda g, x, o: np.zeros_like(g))
cosh = _unary(np.cosh, lambda g, x, o: g * np.sinh(x))
sinh = _unary(np.sinh, lambda g, x, o: g * np.cosh(x))
sigmoid = _unary(lambda x: 0.5 * (1 + np.tanh(0.5 * x)), lambda g, x, o: g * o * (1 - o))
softplus = _unary(lambda x: np.logaddexp(0, x), lambda g, x, o: g * 0.5 * (1 + np.tanh(0.5 * x)))
relu = _unary(lambda x: np.maximum(x, 0), lambda g, x, o: g * (x > 0))


def clip(x, x_min, x_max):
    vx = value_of(x)
    out = np.clip(vx, x_min, x_max)
    if not isinstance(x, Tensor):
        return out
    return Tensor(out, (x,), lambda g: (g * ((vx >= x_min) & (vx <= x_max)),))


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(a % ndim for a in axis)


def reduce_sum(x, axis=None, keepdims=False):
    vx = value_of(x)
    out = np.sum(vx, axis=axis, keepdims=keepdims)
    if not isinstance(x, Tensor):
        return out
    axes = _axes(axis, vx.ndim)

    def backward(g):
        g = np.asarray(g)
        if not keepdims:
            g = np.expand_dims(g, axes)
        return (np.broadcast_to(g, vx.shape).copy(),)

    return Tensor(out, (x,), backward)


def reduce_mean(x, axis=None, keepdims=False):
    vx = value_of(x)
    count = int(np.prod([vx.shape[a] for a in _axes(axis, vx.ndim)])) or 1
    return multiply(reduce_sum(x, axis, keepdims), 1.0 / count) if isinstance(x, Tensor) else np.mean(
        vx, axis=axis, keepdims=keepdims
    )


def reshape(x, shape):
    vx = value_of(x)
    out = np.reshape(vx, shape)
    if not isinstance(x, Tensor):
        return out
    return Tensor(out, (x,), lambda g: (np.reshape(g, vx.shape),))


def transpose(x, axes=None):
    vx = value_of(x)
    out = np.transpose(vx, axes)
    if not isinstance(x, Tensor):
        return out
    inverse = None if axes is None else np.argsort(axes)
    return Tensor(out, (x,), lambda g: (np.transpose(g, inverse),))


def where(condition, x, y):
    cond = value_of(condition)
    vx, vy = value_of(x), value_of(y)
    out = np.where(cond, vx, vy)
    if not (isinstance(x, Tensor) or isinstance(y, Tensor)):
        return out

    def backward(g):
        return (
            _unbroadcast(np.where(cond, g, 0), np.shape(vx)) if isinstance(x, Tensor) else None,
            _unbroadcast(np.where(cond, 0, g), np.shape(vy)) if isinstance(y, Tensor) else None,
        )

    return _make(out, (x, y), backward)


def cast(x, dtype):
    if isinstance(x, Tensor):
        return Tensor(x.value.astype(dtype), (x,), lambda g: (g,))
    return np.asarray(x).astype(dtype)


def matmul(a, b):
    va, vb = value_of(a), value_of(b)
    out = np.matmul(va, vb)
    if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
        return out

    def backward(g):
        ga = gb = None
        if isinstance(a, Tensor):
            ga = np.matmul(g, np.swapaxes(vb, -1, -2)) if vb.ndim > 1 else np.multiply.outer(g, vb)
            ga = _unbroadcast(ga, va.shape)
        if isinstance(b, Tensor):
            if va.ndim > 1:
                gb = np.matmul(np.swapaxes(va, -1, -2), g if vb.ndim > 1 else g[..., None])
                gb = _unbroadcast(gb if vb.ndim > 1 else gb[..., 0], vb.shape)
            else:
                gb = np.multiply.outer(va, g)
        return ga, gb

    return _make(out, (a, b), backward)


def concatenate(xs, axis=0):
    xs = list(xs)
    values = [value_of(x) for x in xs]
    out = np.concatenate(values, axis=axis)
    if not any(isinstance(x, Tensor) for x in xs):
        return out
    bounds = np.cumsum([v.shape[axis] for v in values])[:-1]

    def backward(g):
        return tuple(np.split(g, bounds, axis=axis))

    return _make(out, xs, backward)


def stack(xs, axis=0):
    xs = list(xs)
    out = np.stack([value_of(x) for x in xs], axis=axis)
    if not any(isinstance(x, Tensor) for x in xs):
        return out

    def backward(g):
        return tuple(np.take(g, i, axis=axis) for i in range(len(xs)))

    return _make(out, xs, backward)


def expand_dims(x, axis):
    vx = value_of(x)
    out = np.expand_dims(vx, axis)
    if not isinstance(x, Tensor):
        return out
    return Tensor(out, (x,), lambda g: (np.reshape(g, vx.shape),))


def squeeze(x, axis=None):
    vx = value_of(x)
    out = np.squeeze(vx, axis)
    if not isinstance(x, Tensor):
        return out
    return Tensor(out, (x,), lambda g: (np.reshape(g, vx.shape),))


def _reduce_extreme(fn):
    def op(x, axis=None, keepdims=False):
        vx = value_of(x)
        out = fn(vx, axis=axis, keepdims=keepdims)
        if not isinstance(x, Tensor):
            return out
        axes = _axes(axis, vx.ndim)

        def backward(g):
            full = fn(vx, axis=axes, keepdims=True)
            hit = vx == full
            g = np.asarray(g) if keepdims else np.expand_dims(g, axes)
            return (hit * (g / hit.sum(axis=axes, keepdims=True)),)

        return Tensor(out, (x,), backward)

    return op


reduce_max = _reduce_extreme(np.max)
reduce_min = _reduce_extreme(np.min)


def softmax(x, axis=-1):
    vx = value_of(x)
    e = np.exp(vx - vx.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    if not isinstance(x, Tensor):
        return out
    return Tensor(out, (x,), lambda g: (out * (g - (g * out).sum(axis=axis, keepdims=True)),))


def gradient(output: Tensor, leaf: Tensor, seed=None) -> np.ndarray:
    """d(sum(seed * output)) / d leaf, by reverse accumulation."""
    order, seen = [], set()

    def visit(t):
        if id(t) in seen:
            return
        seen.add(id(t))
        for p in t.parents:
            visit(p)
        order.append(t)

    visit(output)
    grads = {id(output): np.ones_like(output.value, dtype=np.float64) if seed is None else seed}
    for t in reversed(order):
        g = grads.pop(id(t), None)
        if g is None or t.backward is None:
            if t is leaf:
                grads[id(t)] = g
            continue
        for parent, pg in zip(t.parents, t.backward(g)):
            if pg is None:
                continue
            grads[id(parent)] = pg if id(parent) not in grads else grads[id(parent)] + pg
    result = grads.get(id(leaf))
    return np.zeros_like(leaf.value) if result is None else result


_UFUNCS = {
    np.add: add,
    np.subtract: subtract,
    np.multiply: multiply,
    np.true_divide: divide,
    np.power: power,
    np.maximum: maximum,
    np.minimum: minimum,
    np.negative: negative,
    np.absolute: absolute,
    np.square: square,
    np.sqrt: sqrt,
    np.exp: exp,
    np.log: log,
    np.log1p: log1p,
    np.expm1: expm1,
    np.tanh: tanh,
    np.sign: sign,
    np.cosh: cosh,
    np.sinh: sinh,
}

_FUNCTIONS = {
    np.sum: lambda a, axis=None, keepdims=False, **kw: reduce_sum(a, axis, keepdims),
    np.mean: lambda a, axis=None, keepdims=False, **kw: reduce_mean(a, axis, keepdims),
    np.clip: lambda a, a_min=None, a_max=None, **kw: clip(a, a_min, a_max),
    np.where: lambda c, x, y: where(c, x, y),
    np.reshape: lambda a, shape=None, **kw: reshape(a, shape if shape is not None else kw.get("newshape")),
    np.transpose: lambda a, axes=None: transpose(a, axes),
    np.abs: absolute,
    np.maximum: maximum,
    np.minimum: minimum,
}
