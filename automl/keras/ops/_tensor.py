"""The reverse-mode tape: a traced :class:`Tensor` and :func:`gradient`.

A :class:`Tensor` wraps a NumPy array and remembers the operation that made it
(``parents`` and a ``backward`` closure mapping the output gradient to one
gradient per parent). Every registered op (:mod:`automl.keras.ops`) records
such a node when any argument is a Tensor; NumPy ufuncs (``np.square``,
``np.log``, ...) and a few NumPy functions (``np.mean``, ``np.sum``,
``np.clip``, ...) reach the same ops through ``__array_ufunc__`` /
``__array_function__``. :func:`gradient` walks the record backwards once,
summing the gradients of a value used several times.
"""

from __future__ import annotations

import numpy as np

from .tracing import CONTEXT, untraced_hint

__all__ = ["Tensor", "gradient", "is_tensor", "value_of"]

#: Kept for older imports; the tracing state lives in :mod:`automl.keras.ops.tracing`.
_CONTEXT = CONTEXT
_untraced_hint = untraced_hint


class _Namespace:
    """Filled by ``automl.keras.ops`` with the public ops the Tensor operators call."""


#: The public ops (``add``, ``get_item``, ...) behind the Tensor's Python operators.
OPS = _Namespace()
#: NumPy ufunc -> public op; NumPy function -> adapter to the public op (filled by the package).
UFUNCS: dict = {}
FUNCTIONS: dict = {}


class Tensor:
    """An array plus the operation that produced it (``parents`` and ``backward``).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import ops
    >>> x = ops.Tensor(np.array([1.0, 2.0]))
    >>> ops.gradient(ops.sum(x * x), x).tolist()
    [2.0, 4.0]
    """

    __slots__ = ("value", "parents", "backward")
    __array_priority__ = 1000

    def __init__(self, value, parents=(), backward=None):
        self.value = value if type(value) is np.ndarray else np.asarray(value)
        self.parents = parents
        self.backward = backward  # grad_out -> tuple of grads, one per parent

    # -- array-like surface ------------------------------------------------
    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    dtype = property(lambda self: self.value.dtype)
    size = property(lambda self: self.value.size)

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self.value)))

    def __repr__(self):
        return f"Tensor({self.value!r})"

    def numpy(self):
        return self.value

    def __array__(self, dtype=None, copy=None):
        raise TypeError(untraced_hint("A traced Tensor cannot be converted to a NumPy array"))

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __bool__(self):
        return bool(self.value)

    # -- operators ---------------------------------------------------------
    def __add__(self, other):
        return OPS.add(self, other)

    def __radd__(self, other):
        return OPS.add(other, self)

    def __sub__(self, other):
        return OPS.subtract(self, other)

    def __rsub__(self, other):
        return OPS.subtract(other, self)

    def __mul__(self, other):
        return OPS.multiply(self, other)

    def __rmul__(self, other):
        return OPS.multiply(other, self)

    def __truediv__(self, other):
        return OPS.divide(self, other)

    def __rtruediv__(self, other):
        return OPS.divide(other, self)

    def __floordiv__(self, other):
        return OPS.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return OPS.floor_divide(other, self)

    def __mod__(self, other):
        return OPS.mod(self, other)

    def __rmod__(self, other):
        return OPS.mod(other, self)

    def __pow__(self, other):
        return OPS.power(self, other)

    def __rpow__(self, other):
        return OPS.power(other, self)

    def __matmul__(self, other):
        return OPS.matmul(self, other)

    def __rmatmul__(self, other):
        return OPS.matmul(other, self)

    def __neg__(self):
        return OPS.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return OPS.absolute(self)

    def __getitem__(self, index):
        return OPS.get_item(self, index)

    def __lt__(self, other):
        return OPS.less(self, other)

    def __le__(self, other):
        return OPS.less_equal(self, other)

    def __gt__(self, other):
        return OPS.greater(self, other)

    def __ge__(self, other):
        return OPS.greater_equal(self, other)

    @property
    def T(self):  # noqa: N802
        return OPS.transpose(self)

    def reshape(self, *shape):
        return OPS.reshape(self, shape[0] if len(shape) == 1 else shape)

    def astype(self, dtype):
        return OPS.cast(self, dtype)

    def sum(self, axis=None, keepdims=False):
        return OPS.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return OPS.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return OPS.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return OPS.min(self, axis, keepdims)

    # -- NumPy protocol ----------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            return NotImplemented
        op = UFUNCS.get(ufunc)
        if op is None:
            raise TypeError(untraced_hint(f"np.{ufunc.__name__} has no gradient"))
        extra = {k: v for k, v in kwargs.items() if k not in ("dtype", "casting")}
        if extra:
            return NotImplemented
        return op(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        op = FUNCTIONS.get(func)
        if op is None:
            raise TypeError(untraced_hint(f"np.{func.__name__} has no gradient"))
        return op(*args, **kwargs)


class Pieces(dict):
    """The gradients of a multi-output op's outputs, by output index (merged on ``+``)."""

    __slots__ = ()

    def __add__(self, other):
        merged = Pieces(self)
        for i, g in other.items():
            merged[i] = g if i not in merged else merged[i] + g
        return merged


def is_tensor(x) -> bool:
    """Whether ``x`` is a traced :class:`Tensor`."""
    return isinstance(x, Tensor)


def value_of(x):
    """The array inside a traced Tensor; anything else unchanged."""
    return x.value if isinstance(x, Tensor) else x


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (undo NumPy broadcasting) in one reduction."""
    gshape = np.shape(grad)
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and gshape[lead + i] != 1)
    if axes:
        grad = np.sum(grad, axis=axes)
    return np.reshape(grad, shape)


def _topological(outputs):
    """Every node the outputs depend on, parents before children (iterative post-order)."""
    order, seen, expanded = [], set(), []
    stack = list(outputs)
    while stack:
        node = stack.pop()
        if node is None:  # all of the node's parents are placed: place the node
            order.append(expanded.pop())
            continue
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        stack.append(None)
        expanded.append(node)
        if node.parents:
            stack.extend(node.parents)
    return order


def gradient(output: Tensor, leaf, seed=None):
    """The gradient of ``sum(seed * output)`` with respect to ``leaf``, by reverse accumulation.

    Parameters
    ----------
    output : Tensor
        The traced result.
    leaf : Tensor or list of Tensor
        What to differentiate with respect to; a list gives a list of gradients.
    seed : array-like, optional
        The output's cotangent; ones (in float64) when omitted.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        Zeros for a leaf the output does not depend on.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import ops
    >>> w = ops.Tensor(np.array([3.0]))
    >>> ops.gradient(ops.square(w) + w, w).tolist()
    [7.0]
    """
    leaves = list(leaf) if isinstance(leaf, (list, tuple)) else [leaf]
    wanted = {id(t) for t in leaves}
    if not isinstance(output, Tensor):
        grads = [np.zeros_like(t.value) for t in leaves]
        return grads if isinstance(leaf, (list, tuple)) else grads[0]
    seed = np.ones_like(output.value, dtype=np.float64) if seed is None else seed
    acc = {id(output): seed}
    owned: set = set()  # accumulators this walk allocated (safe to add into in place)
    keep = {}
    for t in reversed(_topological([output])):
        key = id(t)
        g = acc.pop(key, None)
        if key in wanted:
            keep[key] = g
        if g is None or t.backward is None:
            continue
        for parent, pg in zip(t.parents, t.backward(g)):
            if pg is None:
                continue
            pkey = id(parent)
            have = acc.get(pkey)
            if have is None:
                acc[pkey] = pg
            elif pkey in owned and type(have) is np.ndarray and type(pg) is np.ndarray \
                    and have.shape == pg.shape and have.dtype == pg.dtype:
                have += pg
            else:
                acc[pkey] = have + pg
                owned.add(pkey)
    grads = [keep.get(id(t)) for t in leaves]
    grads = [np.zeros_like(t.value) if g is None else g for g, t in zip(grads, leaves)]
    return grads if isinstance(leaf, (list, tuple)) else grads[0]
