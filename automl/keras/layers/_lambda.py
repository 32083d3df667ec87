"""Lambda: wraps a function of the inputs as a layer.

Backward comes from the small tracing autodiff of :mod:`automl.keras.ops`: in a
training forward the input is wrapped in a traced :class:`~automl.keras.ops.Tensor`,
the function records the operations it applies (``automl.keras.ops`` and
``automl.keras.backend`` functions, arithmetic operators, indexing and the
NumPy ufuncs the tracer knows), and ``backward`` walks that record with the
upstream gradient as seed. A function written with other NumPy calls still
runs forward (its trace is simply lost); only a backward pass that needs the
input gradient is impossible, and says so.

Saving never stores code: ``get_config`` records the function's name and
module, and ``from_config`` resolves that name through ``custom_objects`` only
(plus the public functions of ``automl.keras.ops``, which are part of the
engine). Python lambdas have no usable name: they resolve through
``custom_objects`` keyed by the layer's name.
"""

from __future__ import annotations

import inspect

import numpy as np

from .. import ops as _ops
from ..ops import Tensor, gradient
from ._base import LAYERS, Layer

__all__ = ["Lambda"]

_OPS_MODULE = "automl.keras.ops"
#: Sizes given to the unknown (``None``) input dimensions by the two shape probes.
_PROBE_SIZES = (2, 3)


def _engine_op_name(fn):
    """The public name of ``fn`` in ``automl.keras.ops``, or None."""
    for name in _ops.__all__:
        if getattr(_ops, name) is fn and callable(fn):
            return name
    return None


def _function_config(fn, layer_name, what):
    if not callable(fn):
        raise TypeError(
            f"The {what!r} of Lambda layer {layer_name!r} must be callable to be serialized. "
            f"Got {fn!r} instead."
        )
    op_name = _engine_op_name(fn)
    if op_name is not None:
        return {"class_name": "function", "config": op_name, "module": _OPS_MODULE,
                "registered_name": op_name}
    name = getattr(fn, "__name__", None)
    if name is None:
        raise TypeError(
            f"Cannot serialize the {what!r} of Lambda layer {layer_name!r}: {fn!r} has no "
            "__name__. Use a named function."
        )
    module = getattr(fn, "__module__", None)
    if name == "<lambda>":
        return {"class_name": "__lambda__",
                "config": {"module": module, "qualname": getattr(fn, "__qualname__", name)}}
    return {"class_name": "function", "config": name, "module": module, "registered_name": name}


def _lambda_key(layer_name, what):
    return layer_name if what == "function" else f"{layer_name}.{what}"


def _resolve_function(spec, custom_objects, layer_name, what):
    """The callable described by ``spec``; never imports a module named in a file."""
    if callable(spec):
        return spec
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise ValueError(
            f"The {what!r} entry of the config of Lambda layer {layer_name!r} must be a function "
            f"config dict (as written by get_config). Got {spec!r} instead."
        )
    custom = custom_objects or {}
    if spec["class_name"] == "__lambda__":
        key = _lambda_key(layer_name, what)
        if key in custom:
            return custom[key]
        raise ValueError(
            f"The {what!r} of Lambda layer {layer_name!r} was saved as a Python lambda. Keras would "
            "rebuild it from bytecode; automl never runs code from a saved file. Pass the function "
            f"in custom_objects under the key {key!r} (custom_objects={{{key!r}: fn}}), or use a "
            "named function."
        )
    name, module = spec.get("config"), spec.get("module")
    if not isinstance(name, str):
        raise ValueError(
            f"The {what!r} config of Lambda layer {layer_name!r} names no function. Got {spec!r}."
        )
    if name in custom:
        return custom[name]
    if module == _OPS_MODULE and name in _ops.__all__:
        return getattr(_ops, name)
    raise ValueError(
        f"Could not resolve the {what!r} {name!r} (from module {module!r}) of Lambda layer "
        f"{layer_name!r}: functions are never imported from a saved file. Pass it in "
        f"custom_objects, e.g. load_model(path, custom_objects={{{name!r}: {name}}})."
    )


def _param_names(fn):
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # some builtins have no signature
        return set()


@LAYERS.register
class Lambda(Layer):
    """Wraps a function of the inputs as a layer.

    Parameters
    ----------
    function : callable
        ``function(inputs, **arguments)``; it also gets ``mask=`` and
        ``training=`` when its signature names them. ``inputs`` is an array, or
        a list of arrays when the layer is called on a list of tensors. It
        returns one array.
    output_shape : tuple, callable or None, default=None
        Output shape without the batch dimension (the batch dimension is the
        input's), or a function of the full input shape returning the full
        output shape. When None the shape is inferred by running ``function``
        twice on small dummy batches of ones, with the unknown (``None``) input
        dimensions set to 2 then 3: output dimensions that differ between the two
        runs are reported as ``None``.
    mask : callable, array or None, default=None
        The output mask: ``mask(inputs, input_mask)``, or a fixed array. When
        None the layer does not propagate masks.
    arguments : dict, optional
        Extra keyword arguments passed to ``function``.

    Notes
    -----
    Gradients are traced: write ``function`` with ``automl.keras.ops`` (or
    ``automl.keras.backend``) operations, arithmetic operators, indexing and
    NumPy ufuncs. With other NumPy calls the layer still predicts and can be
    the first layer of a model (no input gradient is needed there), but a
    backward pass through it raises a ``RuntimeError``.

    Serialization stores the function's name, never its code. Loading resolves
    the name through ``custom_objects`` (``load_model(path,
    custom_objects={"my_fn": my_fn})``); a Python lambda is looked up under the
    layer's name (``custom_objects={"lambda": fn}``), and ``output_shape`` or
    ``mask`` lambdas under ``"<layer name>.output_shape"`` / ``".mask"``.
    Functions of ``automl.keras.ops`` resolve by themselves.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import ops
    >>> from automl.keras.layers import Lambda
    >>> layer = Lambda(lambda x: ops.relu(x) * 2.0)
    >>> layer(np.array([[-1.0, 3.0]])).tolist()
    [[0.0, 6.0]]
    >>> layer.compute_output_shape((None, 2))
    (None, 2)
    """

    _cache_attrs = ("_traced", "_leaves", "_trace_state")
    supports_masking = False  # True when a ``mask`` is given (set per instance)

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"The 'function' parameter of Lambda must be a callable. Got {function!r} instead."
            )
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(
                f"The 'arguments' parameter of Lambda must be a dict or None. Got {arguments!r} instead."
            )
        if output_shape is not None and not callable(output_shape):
            if isinstance(output_shape, (int, np.integer)):
                output_shape = (int(output_shape),)
            output_shape = tuple(None if d is None else int(d) for d in output_shape)
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        params = _param_names(function)
        self._fn_expects_training = "training" in params
        self._fn_expects_mask = "mask" in params
        self._traced = self._leaves = self._trace_state = None
        self._inferred_shapes = {}

    def __call__(self, inputs, training=False, mask=None):
        if isinstance(inputs, (list, tuple)):
            self._multi_input = True  # Keras: a Lambda may take a list of tensors
        return super().__call__(inputs, training=training, mask=mask)

    # -- forward -----------------------------------------------------------
    def _kwargs(self, training, mask):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask:
            kwargs["mask"] = mask
        if self._fn_expects_training:
            kwargs["training"] = training
        return kwargs

    def call(self, inputs, training=False, mask=None):
        kwargs = self._kwargs(training, mask)
        self._traced = self._leaves = None
        if not (training and self._input_grad_needed):
            # Nothing will ask for the input gradient: no trace to keep.
            self._trace_state = None if not training else "untraced"
            return self._as_output(self.function(inputs, **kwargs))
        multi = isinstance(inputs, list)
        leaves = [Tensor(x) for x in inputs] if multi else Tensor(inputs)
        try:
            out = self.function(leaves, **kwargs)
        except TypeError:
            # The function converted a traced Tensor to NumPy (or called a NumPy
            # function without a gradient): run it untraced.
            out = None
        if isinstance(out, Tensor):
            self._traced, self._leaves, self._trace_state = out, leaves, "traced"
            return self._as_output(out.value)
        self._trace_state = "lost"
        if out is None:
            out = self.function(inputs, **kwargs)
        return self._as_output(out)

    def _as_output(self, out):
        # Floating outputs keep the layer's dtype (a float64 constant must not
        # turn a float32 model into float64); other dtypes pass unchanged.
        out = np.asarray(out)
        if out.dtype.kind == "f" and out.dtype != self.dtype:
            out = out.astype(self.dtype)
        return out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        if self._trace_state != "traced":
            if self._trace_state == "lost":
                reason = (
                    "its function did not build a gradient trace (it uses NumPy operations the "
                    "tracer cannot follow, such as np.dot, np.concatenate or np.asarray)"
                )
            else:
                reason = "its last forward pass did not trace it (run it with training=True first)"
            raise RuntimeError(
                f"Cannot backpropagate through the Lambda layer {self.name!r}: {reason}. Write its "
                "function with automl.keras.ops (or automl.keras.backend) operations, e.g. "
                "ops.relu(x) * 2.0 or ops.mean(x, axis=-1), so that its gradient can be traced."
            )
        grad = np.asarray(grad)
        if isinstance(self._leaves, list):
            return [self._input_gradient(grad, leaf) for leaf in self._leaves]
        return self._input_gradient(grad, self._leaves)

    def _input_gradient(self, grad, leaf):
        out = gradient(self._traced, leaf, seed=grad)
        out = np.asarray(out, dtype=leaf.value.dtype)
        if out is grad or out.shape != leaf.shape:
            out = np.broadcast_to(out, leaf.shape).copy()
        return out

    # -- shapes and masks --------------------------------------------------
    def compute_output_shape(self, input_shape):
        multi = isinstance(input_shape, list)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        if self._output_shape is not None:
            batch = (input_shape[0] if multi else input_shape)[0]
            return (batch, *self._output_shape)
        key = repr(input_shape)
        if key not in self._inferred_shapes:
            self._inferred_shapes[key] = self._infer_output_shape(input_shape, multi)
        return self._inferred_shapes[key]

    def _infer_output_shape(self, input_shape, multi):
        def probe(size):
            def dummy(shape):
                return np.ones(tuple(size if d is None else d for d in shape), dtype=self.dtype)

            x = [dummy(s) for s in input_shape] if multi else dummy(input_shape)
            with np.errstate(all="ignore"):
                return np.shape(self.function(x, **self._kwargs(False, None)))

        try:
            first, second = (probe(size) for size in _PROBE_SIZES)
        except Exception as exc:
            raise NotImplementedError(
                f"Could not infer the output shape of the Lambda layer {self.name!r} by running its "
                f"function on a dummy batch ({type(exc).__name__}: {exc}). Pass the "
                "'output_shape' argument."
            ) from exc
        if len(first) != len(second):
            raise NotImplementedError(
                f"Could not infer the output shape of the Lambda layer {self.name!r}: its rank "
                "depends on the unknown input dimensions. Pass the 'output_shape' argument."
            )
        return tuple(a if a == b else None for a, b in zip(first, second))

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return None if self.mask is None else np.asarray(self.mask, dtype=bool)

    # -- serialization -----------------------------------------------------
    def get_config(self):
        config = {**super().get_config(),
                  "function": _function_config(self.function, self.name, "function")}
        if self._output_shape is not None:
            config["output_shape"] = (
                _function_config(self._output_shape, self.name, "output_shape")
                if callable(self._output_shape) else list(self._output_shape)
            )
        if self.mask is not None:
            config["mask"] = (
                _function_config(self.mask, self.name, "mask")
                if callable(self.mask) else np.asarray(self.mask, dtype=bool).tolist()
            )
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the layer; functions resolve only through ``custom_objects`` (see Notes)."""
        config = dict(config)
        name = config.get("name", "lambda")
        config["function"] = _resolve_function(config.get("function"), custom_objects, name, "function")
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = _resolve_function(shape, custom_objects, name, "output_shape")
        mask = config.get("mask")
        if isinstance(mask, dict):
            config["mask"] = _resolve_function(mask, custom_objects, name, "mask")
        elif isinstance(mask, list):
            config["mask"] = np.asarray(mask, dtype=bool)
        return cls(**config)
