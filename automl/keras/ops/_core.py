"""``keras.ops.core``: tensors, casts, gradients' control, structured updates and control flow.

Control flow (``cond``, ``scan``, ``fori_loop``, ``while_loop``, ``map``,
``vectorized_map``, ``switch``, ``associative_scan``) runs the Python functions
eagerly; on traced Tensors the ops those functions call record themselves, so
the loops are differentiated through.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..backend import floatx
from ._registry import Spec, convert, op
from ._samples import I, L, S
from ._tensor import Tensor, value_of

_ns = "core"
_slice = builtins.slice


def _dtype_name(dtype):
    return np.dtype(getattr(dtype, "name", dtype) if dtype is not None else floatx())


def _cast_vjp(g, out, needs, x, dtype):
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        return (None,)
    return (np.asarray(g).astype(x.dtype, copy=False),)


@op(_ns, vjp=_cast_vjp, samples=S((3, 4), "float64"))
def cast(x, dtype):
    """``x`` as ``dtype`` (a float-to-float cast passes the gradient; to integers, none)."""
    return convert(x).astype(_dtype_name(dtype))


def _saturate_vjp(g, out, needs, x, dtype):
    x = np.asarray(x)
    info = np.finfo(_dtype_name(dtype)) if _dtype_name(dtype).kind == "f" else None
    if x.dtype.kind not in "fc" or info is None:
        return (None,)
    return (np.asarray(g) * ((x >= info.min) & (x <= info.max)),)


@op(_ns, vjp=_saturate_vjp, samples=S((3, 4), "float64"))
def saturate_cast(x, dtype):
    """``x`` clipped to the range of ``dtype``, then cast to it."""
    x = convert(x)
    target = _dtype_name(dtype)
    info = np.iinfo(target) if target.kind in "iu" else np.finfo(target)
    return np.clip(x, info.min, info.max).astype(target)


@op(_ns, vjp=lambda g, out, needs, x, dtype, sparse, ragged: (g,), samples=S((3, 4)))
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as an array (Python floats as floatx, Python ints as int32); a Tensor stays traced."""
    return convert(x, None if dtype is None else _dtype_name(dtype))


def convert_to_numpy(x):
    """``x`` as a NumPy array (a traced Tensor gives its value, without gradient)."""
    return np.asarray(value_of(x))


def is_tensor(x):
    """Whether ``x`` is an array this engine computes on (a NumPy array or a traced Tensor)."""
    return isinstance(x, (np.ndarray, Tensor))


def shape(x):
    """The shape of ``x`` as a tuple (None for an unknown size of a symbolic tensor)."""
    return tuple(np.shape(x) if not hasattr(x, "shape") else x.shape)


def dtype(x):
    """The dtype name of ``x`` (``"float32"``, ...)."""
    return np.dtype(getattr(x, "dtype", None) or convert(x).dtype).name


@op(_ns, samples=S((3, 4)))
def stop_gradient(variable):
    """``variable`` as a constant: no gradient flows through it."""
    return convert(variable)


def _block(start_indices, shape):
    return tuple(_slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape))


def _slice_vjp(g, out, needs, inputs, start_indices, shape):
    grad = np.zeros(np.shape(inputs), dtype=np.asarray(g).dtype)
    grad[_block(start_indices, shape)] = g
    return (grad,)


@op(_ns, vjp=_slice_vjp, samples=S((4, 5), L((1, 2)), L((2, 3))))
def slice(inputs, start_indices, shape):  # noqa: A001 (Keras's name)
    """The block of ``inputs`` of ``shape`` starting at ``start_indices``."""
    return convert(inputs)[_block(start_indices, shape)].copy()


def _overwrite_vjp(g, needs, index):
    """Gradients of ``inputs`` with ``inputs[index]`` overwritten by ``updates``."""
    gi = None
    if needs[0]:
        gi = np.array(g, copy=True)
        gi[index] = 0
    gu = np.asarray(g)[index] if needs[1] else None
    return gi, gu


def _slice_update_vjp(g, out, needs, inputs, start_indices, updates):
    return _overwrite_vjp(g, needs, _block(start_indices, np.shape(updates)))


@op(_ns, vjp=_slice_update_vjp, diff=("inputs", "updates"), samples=S((4, 5), L((1, 2)), (2, 3)))
def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    x = np.array(convert(inputs), copy=True)
    u = convert(updates)
    x[_block(start_indices, u.shape)] = u
    return x


def _scatter_index(indices):
    indices = np.asarray(convert(indices))
    return tuple(indices[..., i] for i in range(indices.shape[-1]))


def _scatter_vjp(g, out, needs, indices, values, shape):
    return (np.asarray(g)[_scatter_index(indices)],)


@op(_ns, vjp=_scatter_vjp, diff=("values",), samples=S(I([[0, 1], [2, 0], [0, 1]]), (3,), L((3, 2))))
def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (duplicates summed)."""
    v = convert(values)
    out = np.zeros(shape, dtype=v.dtype)
    np.add.at(out, _scatter_index(indices), v)
    return out


def _scatter_update_vjp(g, out, needs, inputs, indices, updates):
    return _overwrite_vjp(g, needs, _scatter_index(indices))


@op(_ns, vjp=_scatter_update_vjp, diff=("inputs", "updates"),
    samples=S((3, 4), I([[0, 1], [2, 3]]), (2,)) + S((3, 4), I([[1]]), (1, 4)))
def scatter_update(inputs, indices, updates):
    """``inputs`` with the entries (or slices) at ``indices`` replaced by ``updates``."""
    x = np.array(convert(inputs), copy=True)
    x[_scatter_index(indices)] = convert(updates)
    return x


def _unstack_vjp(g, out, needs, x, num, axis):
    return (np.stack(g, axis=axis),)


def _unstack_spec(x, num=None, axis=0):
    n = x.shape[axis] if num is None else num
    if n is None:
        raise ValueError(f"unstack needs the size of axis {axis} (or num); it is unknown in {x.shape}.")
    rest = tuple(d for i, d in enumerate(x.shape) if i != axis % len(x.shape))
    return [Spec(rest, x.dtype) for _ in range(n)]


@op(_ns, vjp=_unstack_vjp, spec=_unstack_spec, samples=S((3, 4)) + S((3, 4), axis=1))
def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    x = convert(x)
    return [np.take(x, i, axis=axis) for i in range(x.shape[axis])]


# -- control flow (eager; traced through the ops it calls) ---------------------------------

def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``."""
    return true_fn() if bool(np.asarray(value_of(pred))) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)`` (``index`` clamped to the valid range)."""
    i = int(np.clip(int(np.asarray(value_of(index))), 0, len(branches) - 1))
    return branches[i](*operands)


def _tree_map(fn, *trees):
    first = trees[0]
    if isinstance(first, dict):
        return {k: _tree_map(fn, *[t[k] for t in trees]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_tree_map(fn, *items) for items in zip(*trees))
    return fn(*trees)


def _leaves(tree):
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in _leaves(v)]
    if isinstance(tree, (list, tuple)):
        return [x for v in tree for x in _leaves(v)]
    return [tree]


def _stack_outputs(items):
    from ._numpy import stack as _stack

    if not items:
        return None
    return _tree_map(lambda *xs: _stack(list(xs), axis=0), *items)


def _index(x, i):
    from ._numpy import get_item

    return get_item(x, i)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``; return
    ``(final_carry, stacked_ys)``."""
    if xs is None:
        if length is None:
            raise ValueError("scan: give xs or length.")
        n = int(length)
    else:
        n = len(value_of(_leaves(xs)[0]))
    steps = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in steps:
        x = None if xs is None else _tree_map(lambda a, i=i: _index(a, i), xs)
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, (_stack_outputs(ys) if ys and ys[0] is not None else None)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive prefix scan of ``elems`` along ``axis`` with the associative ``f``."""
    from ._numpy import moveaxis
    from ._numpy import stack as _stack

    if axis != 0:
        elems = _tree_map(lambda a: moveaxis(a, axis, 0), elems)
    n = len(value_of(_leaves(elems)[0]))
    order = range(n - 1, -1, -1) if reverse else range(n)
    out, acc = [], None
    for i in order:
        x = _tree_map(lambda a, i=i: _index(a, i), elems)
        acc = x if acc is None else (f(x, acc) if reverse else f(acc, x))
        out.append(acc)
    if reverse:
        out.reverse()
    result = _tree_map(lambda *xs: _stack(list(xs), axis=0), *out)
    if axis != 0:
        result = _tree_map(lambda a: moveaxis(a, 0, axis), result)
    return result


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most ``maximum_iterations``)."""
    is_tuple = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    count = 0
    while bool(np.asarray(value_of(cond(*state)))):
        if maximum_iterations is not None and count >= maximum_iterations:
            break
        state = body(*state)
        state = tuple(state) if isinstance(state, (list, tuple)) else (state,)
        count += 1
    return type(loop_vars)(state) if is_tuple else state[0]


def map(f, xs):  # noqa: A001 (Keras's name)
    """``f`` applied to each slice of ``xs`` along its leading axis, results stacked."""
    n = len(value_of(_leaves(xs)[0]))
    return _stack_outputs([f(_tree_map(lambda a, i=i: _index(a, i), xs)) for i in range(n)])


def vectorized_map(function, elements):
    """``function`` over the leading axis of ``elements`` (a loop here), results stacked."""
    return map(function, elements)


def custom_gradient(f):
    """Decorate ``f(*args)`` returning ``(output, grad_fn)``; ``grad_fn(upstream)`` gives
    the gradients of the arguments. On plain arrays only the output is returned.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import ops
    >>> @ops.custom_gradient
    ... def clipped_identity(x):
    ...     return x, lambda g: ops.clip(g, -1.0, 1.0)
    >>> x = ops.Tensor(np.array([2.0]))
    >>> ops.gradient(clipped_identity(x) * 5.0, x).tolist()
    [1.0]
    """
    import functools

    @functools.wraps(f)
    def wrapped(*args):
        plain = [value_of(a) for a in args]
        out, grad_fn = f(*plain)
        traced = [a for a in args if isinstance(a, Tensor)]
        if not traced:
            return out
        out_value = np.asarray(value_of(out))

        def backward(g):
            grads = grad_fn(g)
            grads = grads if isinstance(grads, (list, tuple)) else (grads,)
            by_arg = [value_of(gr) for gr in grads]
            return tuple(gr for a, gr in zip(args, by_arg) if isinstance(a, Tensor))

        return Tensor(out_value, tuple(traced), backward)

    return wrapped


def _rearrange_side(side):
    groups, current, depth = [], None, 0
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if depth:
                raise ValueError(f"rearrange: nested parentheses in {side!r}.")
            current, depth = [], 1
        elif token == ")":
            if not depth:
                raise ValueError(f"rearrange: unbalanced parentheses in {side!r}.")
            groups.append(current)
            current, depth = None, 0
        elif depth:
            current.append(token)
        else:
            groups.append([token])
    if depth:
        raise ValueError(f"rearrange: unbalanced parentheses in {side!r}.")
    return groups


def rearrange(tensor, pattern, **axes_lengths):
    """Reorder, split and merge axes by an einops pattern, e.g. ``"b h w c -> b (h w) c"``.

    Axes split on the left (``"(h p) -> h p"``) take their sizes from ``axes_lengths``.
    Written with ``reshape`` and ``transpose``, so it is traced and symbolic like them.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import ops
    >>> ops.rearrange(np.zeros((2, 4, 6, 3)), "b (h p) (w q) c -> b (h w) (p q c)", p=2, q=3).shape
    (2, 4, 18)
    """
    from ._numpy import reshape, transpose

    if pattern.count("->") != 1:
        raise ValueError(f"rearrange: the pattern must have one '->'. Got {pattern!r}.")
    left, right = (_rearrange_side(side) for side in pattern.split("->"))
    shape = list(tensor.shape if hasattr(tensor, "shape") else np.shape(tensor))
    if any(g == ["..."] for g in left):
        at = left.index(["..."])
        extra = len(shape) - (len(left) - 1)
        names = [f"...{i}" for i in range(extra)]
        left = left[:at] + [[n] for n in names] + left[at + 1:]
        at_r = right.index(["..."]) if ["..."] in right else None
        if at_r is None:
            raise ValueError("rearrange: '...' must appear on both sides.")
        right = right[:at_r] + [[n] for n in names] + right[at_r + 1:]
    if len(left) != len(shape):
        raise ValueError(f"rearrange: {len(left)} axes on the left of {pattern!r} but the tensor has "
                         f"{len(shape)} ({tuple(shape)}).")
    sizes = {}
    for group, dim in zip(left, shape):
        known = [axes_lengths.get(n) for n in group]
        missing = [n for n, k in zip(group, known) if k is None]
        if len(missing) > 1:
            raise ValueError(f"rearrange: give the sizes of all but one of {group} in axes_lengths.")
        for n, k in zip(group, known):
            if k is not None:
                sizes[n] = int(k)
        if missing:
            prod = int(np.prod([k for k in known if k is not None])) if len(group) > 1 else 1
            sizes[missing[0]] = None if dim is None else dim // prod
    elementary = [n for group in left for n in group]
    right_names = [n for group in right for n in group]
    if sorted(elementary) != sorted(right_names):
        raise ValueError(f"rearrange: the two sides of {pattern!r} must name the same axes.")

    def target(groups):
        dims = []
        for group in groups:
            if any(sizes[n] is None for n in group):
                dims.append(-1)
            else:
                dims.append(int(np.prod([sizes[n] for n in group])))
        return tuple(dims)

    x = reshape(tensor, target([[n] for n in elementary]))
    x = transpose(x, tuple(elementary.index(n) for n in right_names))
    return reshape(x, target(right))


__all__ = sorted(
    [name for name, value in dict(globals()).items()
     if callable(value) and hasattr(value, "_op") and value._op.namespace == _ns]
    + ["convert_to_numpy", "is_tensor", "shape", "dtype", "cond", "switch", "scan",
       "associative_scan", "fori_loop", "while_loop", "map", "vectorized_map", "custom_gradient",
       "rearrange"]
)
