"""Ops on symbolic tensors: each makes one node of the functional graph.

``inputs + 1``, ``x[:, 0]`` or ``ops.concatenate([a, b], axis=-1)`` on
:class:`~automl.keras.KerasTensor` objects call :func:`symbolic_call`, which
wraps the op in an :class:`OpLayer` and calls it on the tensors, as a
user-defined layer is called (``models.subclassing.generic_call``): the node's
inputs are the KerasTensors among the arguments, the rest of the arguments
are kept as they are. Output shapes and dtypes come from evaluating the op on
small dummy arrays (unknown dimensions tried at two sizes). In training the
op is applied to traced tensors and differentiated by the ops autodiff.

Saving stores the op's public name in ``automl.keras.ops`` (and the few
engine-internal operators, such as indexing, by their names here); loading
resolves those names only, never code.
"""

from __future__ import annotations

import numpy as np

from .. import ops as _ops
from ..layers import LAYERS, Layer
from ..ops import Tensor, gradient, value_of
from .subclassing import flat_leaves, generic_call, map_structure

__all__ = ["OpLayer", "numpy_op", "resolve_op", "symbolic_call"]


def _getitem(x, key):
    return x[key]


def _no_gradient(np_fn):
    def op(*args):
        return np_fn(*(value_of(a) for a in args))

    op.__name__ = np_fn.__name__
    return op


#: Operators with no ``automl.keras.ops`` function (yet): used when ops has none of that name.
_FALLBACKS = {
    "getitem": _getitem,
    "floor_divide": _no_gradient(np.floor_divide),
    "greater": _no_gradient(np.greater),
    "greater_equal": _no_gradient(np.greater_equal),
    "less": _no_gradient(np.less),
    "less_equal": _no_gradient(np.less_equal),
}


def _mod(a, b):
    # a - floor(a / b) * b, differentiable in ``a`` (the floor has zero gradient).
    quotient = np.floor_divide(value_of(a), value_of(b))
    return _ops.subtract(a, _ops.multiply(quotient, b))


_FALLBACKS["mod"] = _mod


_UFUNC_NAMES = {"true_divide": "divide", "absolute": "absolute", "floor_divide": "floor_divide",
                "remainder": "mod"}


def resolve_op(name):
    """The op called ``name`` (``"add"``, ``"image.resize"``): a public function of
    ``automl.keras.ops`` or of one of its namespaces, else an internal operator."""
    fn = _ops
    for part in name.split("."):
        fn = None if part.startswith("_") else getattr(fn, part, None)
        if fn is None:
            break
    if callable(fn) and not isinstance(fn, type(_ops)):
        return fn
    if name in _FALLBACKS:
        return _FALLBACKS[name]
    raise ValueError(
        f"Unknown op {name!r} in a functional graph: expected the name of a function of "
        "automl.keras.ops."
    )


def op_name(fn) -> str:
    """The name under which ``fn`` is saved; raises if loading could not resolve it."""
    for name in (*getattr(_ops, "__all__", ()), *dir(_ops)):
        if not name.startswith("_") and getattr(_ops, name, None) is fn:
            return name
    for space in dir(_ops):  # the namespaces: ops.nn, ops.image, ops.linalg, ...
        module = getattr(_ops, space, None)
        if space.startswith("_") or not isinstance(module, type(_ops)):
            continue
        for name in dir(module):
            if not name.startswith("_") and getattr(module, name, None) is fn:
                return f"{space}.{name}"
    for name, op in _FALLBACKS.items():
        if op is fn:
            return name
    raise TypeError(
        f"Cannot add {fn!r} to a functional graph: only functions of automl.keras.ops apply to "
        "symbolic tensors (wrap other code in a Lambda layer or a custom layer)."
    )


def numpy_op(func):
    """The ``automl.keras.ops`` function standing for a NumPy function or ufunc, or None."""
    name = getattr(func, "__name__", "")
    name = _UFUNC_NAMES.get(name, name)
    try:
        return resolve_op(name)
    except ValueError:
        return None


@LAYERS.register
class OpLayer(Layer):
    """One op of ``automl.keras.ops`` applied to symbolic tensors (a functional-graph node).

    Parameters
    ----------
    function : str or callable
        The op, or its name in ``automl.keras.ops``.

    Examples
    --------
    >>> from automl.keras import Input, ops
    >>> x = Input(shape=(3,))
    >>> y = ops.concatenate([x, x * 2.0], axis=-1)
    >>> y.shape, type(y.layer).__name__
    ((None, 6), 'OpLayer')
    """

    _generic_call = True
    _slot_leaves = True  # a node passes its inputs as traced leaves in training (see call_node)
    _cache_attrs = ("_out", "_leaves")

    def __init__(self, function, **kwargs):
        name = function if isinstance(function, str) else op_name(function)
        kwargs.setdefault("name", _unique_op_name(name))
        super().__init__(**kwargs)
        self.function = resolve_op(name) if isinstance(function, str) else function
        self.op = name
        self._out = self._leaves = None

    def call(self, *args, training=False, **kwargs):
        leaves = [v for v in flat_leaves((args, kwargs)) if type(v) is Tensor]
        out = self.function(*args, **kwargs)
        if leaves:  # traced leaves: a training step (see call_node)
            self._out, self._leaves = out, leaves
            return value_of(out)
        self._out = self._leaves = None
        return map_structure(value_of, out)

    def backward(self, grad):
        if not self._input_grad_needed or not self._leaves:
            return None
        out, leaves = self._out, self._leaves
        grads = []
        for leaf in leaves:
            if isinstance(out, Tensor):
                g = np.asarray(gradient(out, leaf, seed=np.asarray(grad)), dtype=leaf.value.dtype)
                if g.shape != leaf.shape:
                    g = np.broadcast_to(g, leaf.shape).copy()
            else:  # an op without a gradient (comparisons, floor division)
                g = np.zeros_like(leaf.value)
            grads.append(g)
        return grads if len(grads) > 1 else grads[0]

    def compute_output_shape(self, input_shape):
        return self.output_shape

    def get_config(self):
        return {"name": self.name, "function": self.op}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


def _unique_op_name(name):
    from ..backend import unique_object_name

    return unique_object_name(name.strip("_"))


def symbolic_call(fn, args, kwargs):
    """Apply the op ``fn`` to arguments holding KerasTensors: a new node of the graph."""
    return generic_call(OpLayer(fn), args, kwargs)
