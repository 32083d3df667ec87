"""The one registry of operations: forward (NumPy), vector-Jacobian product and output spec.

Each op is an :class:`Op` record. Its public function dispatches on its arguments:

- none traced: the NumPy forward, nothing recorded;
- an argument's type defines ``_automl_symbolic_call(fn, args, kwargs)`` (a symbolic
  ``KerasTensor``): that method builds the graph node;
- a traced :class:`~automl.keras.ops.Tensor` among the differentiable arguments: the
  forward runs on the values and a tape node records ``vjp``.

``vjp(g, out, needs, **arguments)`` gets the output gradient ``g``, the forward's result,
which differentiable inputs need a gradient (``needs``, aligned with ``Op.diff``) and every
argument by name (values, never Tensors); it returns one gradient (or None) per name in
``Op.diff`` (a list of gradients for a list argument). Gradients with broadcast shapes are
summed back to the input shape here, in one reduction, and take their input's float dtype.

A *fused kernel* (:func:`fused`, the built-in layers' hand-written kernels) is registered
as a pair ``fwd(**arguments) -> (out, saved)`` and ``bwd(g, saved, needs, into=None)``: the
traced call keeps ``saved`` (patch matrices, pre-activations) for its backward, so the
fast path of the layers and the general path of the tape are one mechanism; ``into``
(aligned with ``diff``) lets a layer receive weight gradients in its own buffers.

``spec(**arguments)`` gets each array argument as an object with ``shape`` (None for an
unknown size) and ``dtype`` and returns a :class:`Spec` (or a tuple of them) without data.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ..backend import floatx
from ._tensor import Pieces, Tensor, unbroadcast

__all__ = ["Op", "REGISTRY", "Spec", "compute_output_spec", "fused", "op"]

#: name -> Op, filled at import and never changed afterwards.
REGISTRY: dict[str, Op] = {}


class Spec:
    """An output's shape (None for an unknown size) and dtype name."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype).name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"Spec(shape={self.shape}, dtype={self.dtype!r})"

    def __eq__(self, other):
        return isinstance(other, Spec) and (self.shape, self.dtype) == (other.shape, other.dtype)

    __hash__ = None


class Op:
    """One registered operation.

    Attributes
    ----------
    name, namespace : str
        The public name and the Keras sub-namespace (``"numpy"``, ``"nn"``, ...).
    forward : callable
        The NumPy computation, with the public signature.
    vjp : callable or None
        See the module docstring; None for a non-differentiable op (its result on traced
        inputs is a constant: zero gradient, as ``stop_gradient``).
    diff : tuple of str
        The differentiable array arguments.
    spec : callable
        The output-spec rule.
    samples : callable
        ``rng -> list of (args, kwargs)``: small float64 inputs for the registry tests.
    fwd, bwd : callable or None
        A fused kernel's forward returning ``(out, saved)`` and its backward from ``saved``
        (see the module docstring); None for other ops.
    """

    __slots__ = ("name", "namespace", "forward", "vjp", "diff", "spec", "samples", "params",
                 "defaults", "public", "varargs", "fwd", "bwd")

    def __init__(self, name, namespace, forward, vjp, diff, spec, samples):
        self.name = name
        self.namespace = namespace
        self.forward = forward
        self.vjp = vjp
        self.diff = tuple(diff)
        self.spec = spec
        self.samples = samples
        sig = inspect.signature(forward)
        self.params = [p.name for p in sig.parameters.values()
                       if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.defaults = {p.name: p.default for p in sig.parameters.values()
                         if p.default is not p.empty}
        self.varargs = next((p.name for p in sig.parameters.values()
                             if p.kind is p.VAR_POSITIONAL), None)
        self.public = None
        self.fwd = self.bwd = None

    def call(self, full):
        """The forward on arguments given by name (the ``*varargs`` under their name)."""
        if self.varargs is None:
            return self.forward(**full)
        rest = {k: v for k, v in full.items() if k not in self.params and k != self.varargs}
        return self.forward(*[full[p] for p in self.params], *full[self.varargs], **rest)

    @property
    def differentiable(self) -> bool:
        return self.vjp is not None

    def __repr__(self):
        return f"Op({self.namespace}.{self.name})"


_PLAIN = frozenset({np.ndarray, float, int, bool, type(None), str, np.float32, np.float64,
                    np.int32, np.int64, np.bool_, slice, type(Ellipsis)})


def _scan(args, kwargs):
    """0: plain; 1: a traced Tensor somewhere; else the symbolic argument."""
    found = 0
    for a in (*args, *kwargs.values()) if kwargs else args:
        t = type(a)
        if t in _PLAIN:
            continue
        if t is Tensor:
            found = 1
        elif t is list or t is tuple:
            for item in a:
                ti = type(item)
                if ti is Tensor or (ti not in _PLAIN and isinstance(item, Tensor)):
                    found = 1
                elif ti not in _PLAIN and ti is not list and ti is not tuple \
                        and hasattr(ti, "_automl_symbolic_call"):
                    return item
        elif hasattr(t, "_automl_symbolic_call"):
            return a
        elif isinstance(a, Tensor):
            found = 1
    return found


def _is_tensor(v, t):
    """``isinstance(v, Tensor)``, fast for the exact class (Variables are Tensor subclasses)."""
    return t is Tensor or (t not in _PLAIN and isinstance(v, Tensor))


def _unwrap(v):
    t = type(v)
    if _is_tensor(v, t):
        return v.value
    if (t is list or t is tuple) and any(_is_tensor(i, type(i)) for i in v):
        return t(i.value if _is_tensor(i, type(i)) else i for i in v)
    return v


def constant(out):
    """A forward result on traced inputs that has no gradient (a float one stays traced)."""
    if isinstance(out, np.ndarray) and out.dtype.kind in "fc":
        return Tensor(out)
    return out


_NEEDS_ONE = (True,)


def _traced_call(op, args, kwargs):
    full = dict(op.defaults)
    params = op.params
    if len(args) > len(params):
        if op.varargs is None:
            raise TypeError(f"{op.name}() takes {len(params)} positional arguments but "
                            f"{len(args)} were given.")
        full.update(zip(params, args))
        full[op.varargs] = tuple(args[len(params):])
    else:
        full.update(zip(params, args))
        if op.varargs is not None:
            full[op.varargs] = ()
    if kwargs:
        full.update(kwargs)
    parents, slots = [], []  # slots: (index in op.diff, index in a list argument or None)
    if op.vjp is not None:
        for k, name in enumerate(op.diff):
            v = full.get(name)
            t = type(v)
            if _is_tensor(v, t):
                parents.append(v)
                slots.append((k, None))
            elif t is list or t is tuple:
                for i, item in enumerate(v):
                    if _is_tensor(item, type(item)):
                        parents.append(item)
                        slots.append((k, i))
    for name in full:
        v = full[name]
        t = type(v)
        if _is_tensor(v, t):
            full[name] = v.value
        elif t is list or t is tuple:
            full[name] = _unwrap(v)
    saved = None
    if op.fwd is not None:
        out, saved = op.fwd(**full)
    else:
        out = op.forward(**full) if op.varargs is None else op.call(full)
    if not parents:
        if isinstance(out, (tuple, list)):
            return type(out)(constant(o) for o in out)
        return constant(out)
    if len(op.diff) == 1:
        needs, simple = _NEEDS_ONE, slots[0][1] is None and len(slots) == 1
    else:
        flags = [False] * len(op.diff)
        simple = True
        for k, i in slots:
            flags[k] = True
            if i is not None:
                simple = False
        needs = tuple(flags)
    vjp = op.vjp
    multi = isinstance(out, (tuple, list))

    def backward(g):
        if multi:
            g = [g.get(i) if isinstance(g, dict) else None for i in range(len(out))]
            g = [np.zeros_like(o) if gi is None and isinstance(o, np.ndarray) else gi
                 for gi, o in zip(g, out)]
        grads = vjp(g, out, needs, **full) if saved is None else op.bwd(g, saved, needs)
        result = []
        for (k, i), parent in zip(slots, parents):
            gr = grads[k]
            if not simple and gr is not None and i is not None:
                gr = gr[i]
            if gr is not None:
                value = parent.value
                if type(gr) is not np.ndarray:
                    gr = np.asarray(gr)
                if gr.shape != value.shape:
                    gr = unbroadcast(gr, value.shape)
                if gr.dtype != value.dtype and value.dtype.kind == "f":
                    gr = gr.astype(value.dtype)  # a cotangent has its primal's dtype
            result.append(gr)
        return result

    if not multi:
        return Tensor(out, tuple(parents), backward)
    node = Tensor(np.empty(0), tuple(parents), backward)
    return type(out)(
        Tensor(o, (node,), functools.partial(_piece, i))
        if isinstance(o, np.ndarray) and o.dtype.kind in "fc" else o
        for i, o in enumerate(out))


def _piece(i, g):
    return (Pieces({i: g}),)


def _traced_vjp(entry):
    """The VJP of a composite op (its forward written with public ops): trace the forward."""
    from ._tensor import gradient

    def vjp(g, out, needs, **full):
        args = dict(full)
        leaves, layout = [], []
        for name, need in zip(entry.diff, needs):
            v = args.get(name)
            if not need or v is None:
                layout.append((name, None))
                continue
            if isinstance(v, (list, tuple)):
                wrapped = [Tensor(np.asarray(i)) for i in v]
                args[name] = type(v)(wrapped)
                layout.append((name, [len(leaves) + k for k in range(len(wrapped))]))
                leaves.extend(wrapped)
            else:
                args[name] = Tensor(v)
                layout.append((name, len(leaves)))
                leaves.append(args[name])
        result = entry.call(args)
        if isinstance(result, (tuple, list)):
            total = 0.0
            for r, gi in zip(result, g):
                if isinstance(r, Tensor) and gi is not None:
                    total = total + (r * gi).sum()
            grads = gradient(total, leaves, seed=np.ones(()))
        else:
            grads = gradient(result, leaves, seed=g)
        out_grads = []
        for _, where in layout:
            if where is None:
                out_grads.append(None)
            elif isinstance(where, list):
                out_grads.append([grads[k] for k in where])
            else:
                out_grads.append(grads[where])
        return tuple(out_grads)

    return vjp


def op(namespace, *, vjp=None, diff=None, spec=None, samples=None, name=None):
    """Register the decorated NumPy forward as an op; return its public function.

    ``diff`` defaults to the first parameter. ``spec`` defaults to :func:`probe_spec`.
    """

    def decorate(forward):
        entry_name = name or forward.__name__.rstrip("_")
        params = list(inspect.signature(forward).parameters)
        entry = Op(entry_name, namespace, forward, vjp,
                   diff if diff is not None else params[:1],
                   spec or probe_spec(forward), samples)
        if vjp == "traced":
            entry.vjp = _traced_vjp(entry)

        @functools.wraps(forward)
        def public(*args, **kwargs):
            kind = _scan(args, kwargs)
            if kind == 0:
                return forward(*args, **kwargs)
            if kind == 1:
                return _traced_call(entry, args, kwargs)
            return kind._automl_symbolic_call(public, args, kwargs)

        public.__name__ = entry_name
        public.__qualname__ = entry_name
        public._op = entry
        entry.public = public
        if entry_name in REGISTRY:
            raise ValueError(f"The op {entry_name!r} is registered twice.")
        REGISTRY[entry_name] = entry
        return public

    return decorate


def fused(namespace, *, bwd, diff, samples=None, spec=None, name=None):
    """Register a fused kernel: the decorated ``fwd`` returns ``(out, saved)``, ``bwd(g, saved,
    needs, into=None)`` returns one gradient per name in ``diff``.

    The public function returns ``out`` only; on traced arguments the tape keeps ``saved``
    for ``bwd``. The plain ``vjp`` (for direct callers) recomputes ``saved``.
    """

    def decorate(fwd):
        @functools.wraps(fwd)
        def forward(*args, **kwargs):
            return fwd(*args, **kwargs)[0]

        def vjp(g, out, needs, **full):
            return bwd(g, fwd(**full)[1], needs)

        public = op(namespace, vjp=vjp, diff=diff, spec=spec, samples=samples,
                    name=name or fwd.__name__.rstrip("_"))(forward)
        public._op.fwd, public._op.bwd = fwd, bwd
        return public

    return decorate


# -- dtypes -------------------------------------------------------------------

def convert(x, dtype=None):
    """``x`` as an array with Keras's defaults: Python floats -> floatx, Python ints -> int32."""
    if type(x) is np.ndarray:
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    if isinstance(x, Tensor):
        x = x.value
    elif hasattr(x, "value") and isinstance(x.value, np.ndarray):
        x = x.value  # a Variable
    if dtype is not None:
        return np.asarray(x, dtype=dtype)
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        return arr.astype(floatx())
    if arr.dtype == np.int64:
        return arr.astype(np.int32)
    return arr


def to_float(x):
    """``x`` as a float array (integers and booleans become floatx)."""
    x = convert(x)
    return x if x.dtype.kind in "fc" else x.astype(floatx())


def fix_float(out, *inputs):
    """Cast ``out`` to floatx when NumPy promoted to float64 where Keras keeps floatx."""
    if type(out) is np.ndarray or isinstance(out, np.generic):
        if out.dtype == np.float64 and not any(
                getattr(i, "dtype", None) == np.float64 for i in inputs):
            return np.asarray(out, dtype=floatx())
        return out if type(out) is np.ndarray else np.asarray(out)
    return out


def float_result(out, *inputs):
    """Like :func:`fix_float`, and integer or boolean results become floatx."""
    out = fix_float(out, *inputs)
    if out.dtype.kind not in "fc":
        return out.astype(floatx())
    return out


# -- output-spec rules ---------------------------------------------------------

_PROBES = (2, 4, 6)


def _is_spec(v):
    return hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, (np.ndarray, Tensor))


def _dummy(spec_like, size):
    shape = tuple(size if d is None else d for d in spec_like.shape)
    dtype = np.dtype(getattr(spec_like.dtype, "name", spec_like.dtype) or floatx())
    n = int(np.prod(shape)) if shape else 1
    if dtype.kind in "fc":
        values = 0.1 + 0.8 * np.arange(n) / max(n, 1)  # increasing: valid bins, sorted sequences
        return values.reshape(shape).astype(dtype)
    if dtype.kind == "b":
        return np.ones(shape, dtype)
    return np.zeros(shape, dtype)


def _materialize(v, size):
    if _is_spec(v):
        return _dummy(v, size)
    if isinstance(v, (list, tuple)) and any(_is_spec(i) for i in v):
        return type(v)(_materialize(i, size) for i in v)
    return v


def _to_spec(out, other=None):
    if isinstance(out, (tuple, list)):
        others = other if other is not None else [None] * len(out)
        return type(out)(_to_spec(o, p) for o, p in zip(out, others))
    out = np.asarray(out)
    shape = out.shape
    if other is not None:
        other = np.asarray(other).shape
        shape = tuple(a if a == b else None for a, b in zip(shape, other))
    return Spec(shape, out.dtype)


def _merge(a, b):
    if isinstance(a, (tuple, list)):
        return type(a)(_merge(x, y) for x, y in zip(a, b))
    return Spec(tuple(d if d == e else None for d, e in zip(a.shape, b.shape)), a.dtype)


def probe_spec(forward):
    """The fallback rule: run ``forward`` on placeholder arrays (unknown sizes 2, 4 and 6)
    and mark as None each output size that differs between them."""

    def spec(*args, **kwargs):
        results = []
        has_none = any(
            None in getattr(v, "shape", ()) for v in (*args, *kwargs.values()) if _is_spec(v)) or any(
            None in getattr(i, "shape", ()) for v in (*args, *kwargs.values())
            if isinstance(v, (list, tuple)) for i in v if _is_spec(i))
        for size in _PROBES if has_none else _PROBES[:1]:
            a = [_materialize(v, size) for v in args]
            k = {n: _materialize(v, size) for n, v in kwargs.items()}
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                results.append(forward(*a, **k))
        spec = _to_spec(results[0], results[1] if len(results) > 1 else None)
        for other in results[2:]:  # a size known only if it agrees across all the probes
            spec = _merge(spec, _to_spec(other))
        return spec

    return spec


def broadcast_shapes(*shapes):
    """NumPy broadcasting of shapes that may hold None (unknown) sizes."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        dims = [s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0]
        known = [d for d in dims if d is not None and d != 1]
        if known:
            if any(d != known[0] for d in known):
                raise ValueError(f"Cannot broadcast shapes {shapes}.")
            out.append(known[0])
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def elementwise_spec(forward, arrays=None):
    """Shape: the broadcast of the array arguments; dtype: the forward on one element each."""
    params = list(inspect.signature(forward).parameters)

    def spec(*args, **kwargs):
        bound = dict(zip(params, args))
        bound.update(kwargs)
        names = arrays if arrays is not None else params
        shapes = [tuple(bound[n].shape) for n in names if n in bound and _is_spec(bound[n])]
        small = {n: (_dummy(v, 1).reshape(-1)[:1].reshape(()) if _is_spec(v) else v)
                 for n, v in bound.items()}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            dtype = np.asarray(forward(**small)).dtype
        return Spec(broadcast_shapes(*shapes), dtype)

    return spec


def reduction_spec(forward, arg="x"):
    """Shape from ``axis`` and ``keepdims``; dtype from the forward on a one-element array."""

    def spec(*args, **kwargs):
        params = list(inspect.signature(forward).parameters)
        bound = dict(zip(params, args))
        bound.update(kwargs)
        x = bound[arg]
        ndim = len(x.shape)
        axis = bound.get("axis", inspect.signature(forward).parameters.get("axis").default
                         if "axis" in params else None)
        keepdims = bound.get("keepdims", False)
        axes = range(ndim) if axis is None else [
            a % ndim for a in ((axis,) if np.isscalar(axis) else axis)]
        axes = set(axes)
        shape = [1 if i in axes else d for i, d in enumerate(x.shape)] if keepdims else [
            d for i, d in enumerate(x.shape) if i not in axes]
        small = dict(bound)
        small[arg] = _dummy(type("S", (), {"shape": (1,) * ndim, "dtype": x.dtype})(), 1)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            dtype = np.asarray(forward(**small)).dtype
        return Spec(shape, dtype)

    return spec


def compute_output_spec(fn, *args, **kwargs):
    """The output shape and dtype of the op ``fn`` on arguments known by shape and dtype only.

    Parameters
    ----------
    fn : callable
        A public op of :mod:`automl.keras.ops` (``ops.matmul``, ``ops.nn.softmax``, ...).
    *args, **kwargs
        The op's arguments; array arguments as any objects with ``shape`` (None for an
        unknown size) and ``dtype``, the other arguments as values.

    Returns
    -------
    Spec or tuple of Spec

    Examples
    --------
    >>> from automl.keras import ops
    >>> x = ops.Spec((None, 3), "float32")
    >>> w = ops.Spec((3, 5), "float32")
    >>> ops.compute_output_spec(ops.matmul, x, w)
    Spec(shape=(None, 5), dtype='float32')
    """
    entry = getattr(fn, "_op", None)
    if entry is None:
        raise TypeError(f"compute_output_spec expects a function of automl.keras.ops. "
                        f"Got {fn!r} instead.")
    return entry.spec(*args, **kwargs)
