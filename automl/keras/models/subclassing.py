"""Model subclassing and layers composed of sublayers (Keras's imperative API).

A subclassed model (or a custom layer) assigns layers to its attributes in
``__init__`` (directly, or in lists, tuples and dicts) and composes them in
``call``; it owns them, as Keras tracks them: ``layers``, ``weights`` and
``summary()`` see them (:func:`tracked_layers`).

At inference ``call`` runs eagerly on NumPy arrays. In training the forward
pass is recorded on a :class:`Tape`: the inputs become traced
:class:`~automl.keras.ops.Tensor` leaves, every layer call made while the tape
records is run on plain arrays and its output wrapped in a Tensor whose
backward restores that call's cache (``_cache_attrs``) and calls the layer's
``backward``; math between layer outputs (``+``, slicing,
``ops.concatenate``, ...) is traced by the ops autodiff. The backward pass
walks that record once, summing the weight gradients of a layer called
several times. A custom layer without a ``backward`` of its own is traced the
same way, inside a model's tape or, inside a Sequential or functional model,
on a tape of its own.

User-defined layers and models take any call signature (:func:`generic_call`):
a tensor, lists / tuples / dicts of tensors, several positional tensors and
tensor keyword arguments; ``build`` gets the matching shapes, and on symbolic
tensors the call becomes one functional node whose inputs are all the
KerasTensors of the arguments (the rest of the arguments are recorded). The
weights a class makes itself (``add_weight``, ``Variable``) are leaves of the
ops autodiff, so ``ops.matmul(inputs, self.w)`` trains ``self.w``; terms given
to ``add_loss`` are extra outputs of the tape, seeded with ones. Example::

    class MyModel(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = layers.Dense(32, activation="relu")
            self.out = layers.Dense(3, activation="softmax")

        def call(self, inputs, training=False):
            x = self.hidden(inputs)
            return self.out(x + inputs[:, :1])
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ..backend import floatx
from ..layers import (
    KerasTensor,
    Layer,
    Variable,
    attach_mask,
    record_training,
    recording,
    symbolic_outputs,
)
from ..ops import Tensor, tracing, value_of
from ._accumulate import GradientSums

__all__ = ["Tape", "call_node", "generic_call", "map_structure", "setup_class", "tracked_layers"]

#: Attributes never scanned for sublayers (engine state that may hold layers or tensors).
_UNTRACKED = frozenset({"_local_tape", "_shape_cache", "_init_call", "optimizer", "history",
                        "compiled_metrics", "_heads", "_train_state", "_loss_fn", "_inbound_nodes",
                        "_added_losses", "_caches", "_states", "_node_variables", "_reuse",
                        "_tape_trainable"})


#: Attribute values that never hold layers or variables (skipped without a type check).
_LEAF_TYPES = frozenset({str, int, float, bool, type(None), np.ndarray})


def _tracked(owner, kinds, skip=frozenset()) -> list:
    """For each class in ``kinds``, its instances held by ``owner``'s attributes (also in lists,
    tuples and dicts), in order, each once, ``owner`` excluded; attributes in ``_UNTRACKED``
    or ``skip`` are not scanned. One pass over the attributes for all the kinds.
    """
    found = [[] for _ in kinds]
    seen = {id(owner)}
    leaf_types = _LEAF_TYPES

    def visit(value, depth):
        t = type(value)
        if t in leaf_types:
            return
        if t is list or t is tuple:
            if depth < 4:
                for item in value:
                    if type(item) not in leaf_types:
                        visit(item, depth + 1)
            return
        if t is dict:
            if depth < 4:
                for item in value.values():
                    visit(item, depth + 1)
            return
        for i, kind in enumerate(kinds):
            if isinstance(value, kind):
                if id(value) not in seen:
                    seen.add(id(value))
                    found[i].append(value)
                return
        if depth < 4 and isinstance(value, (list, tuple, dict)):  # subclasses of the containers
            for item in (value.values() if isinstance(value, dict) else value):
                visit(item, depth + 1)

    for key, value in vars(owner).items():
        if type(value) not in leaf_types and key not in _UNTRACKED and key not in skip:
            visit(value, 0)
    return found


def tracked_layers(owner) -> list[Layer]:
    """Layers held by ``owner``'s attributes (also in lists, tuples and dicts), in order."""
    return _tracked(owner, (Layer,))[0]


def tracked_variables(owner) -> list:
    """Variables held by ``owner``'s attributes (also in lists, tuples and dicts), as Keras tracks them."""
    return _tracked(owner, (Variable,), skip=frozenset({"_variables"}))[0]


def tracked_parts(owner):
    """``(tracked_variables(owner), tracked_layers(owner))`` from one scan of the attributes."""
    layers, variables = _tracked(owner, (Layer, Variable), skip=frozenset({"_variables"}))
    return variables, layers


def _is_subclassed_model(cls) -> bool:
    from ._model import Model

    return issubclass(cls, Model) and cls._forward is Model._forward


def setup_class(cls) -> None:
    """Make a Layer subclass defined outside automl track its sublayers (and trace its call)."""
    cls._auto_track = True
    from ._model import Model

    if issubclass(cls, Model):
        traced = _is_subclassed_model(cls)
    else:
        params = inspect.signature(cls.call).parameters.values()
        required = [p for p in params if p.default is p.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in required]
        # Any ``call(self, inputs, ...)`` or ``call(self, a, b, ...)``; RNN cells'
        # ``call(inputs, states)`` keep their contract (see ``layers.RNN``).
        traced = len(required) >= 2 and "states" not in names and (
            cls.backward is Layer.backward or getattr(cls.backward, "_composite", False))
    if not traced:
        cls._traced = False
        return
    cls._traced = True
    cls._generic_call = True
    if "build" in cls.__dict__:
        cls.build = _marking_build(cls.__dict__["build"])
    if "call" in cls.__dict__:
        cls.call = _traced_call(cls.__dict__["call"])
    if "_local_tape" not in cls._cache_attrs:
        cls._cache_attrs = (*cls._cache_attrs, "_local_tape")
    if cls.compute_output_shape in (Layer.compute_output_shape, Model.compute_output_shape):
        cls.compute_output_shape = _dummy_output_shape
    if not issubclass(cls, Model) and cls.backward is Layer.backward:
        cls.backward = _composite_backward


def _marking_build(build):
    """A user-defined ``build``, marking the layer built (so that it runs once, as in Keras)."""
    if getattr(build, "_marking", False):
        return build

    @functools.wraps(build)
    def marking(self, *args, **kwargs):
        out = build(self, *args, **kwargs)
        self.built = True
        if self.input_shape is None and args:
            self.input_shape = args[0]
        return out

    marking._marking = True
    return marking


def _call_options(call):
    """``(takes_training, position of training among the positional parameters or None)``."""
    params = list(inspect.signature(call).parameters.values())[1:]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    position = positional.index("training") if "training" in positional else None
    return ("training" in [p.name for p in params] or takes_any), position


def _traced_call(call):
    """Wrap a traced class's ``call``: in training outside any tape, record on the layer's own tape.

    The wrapper takes ``training`` as a keyword (or at its place among the
    positional parameters) and passes it on only when ``call`` accepts it.
    Every array of the call's arguments (positional, in lists, tuples and
    dicts, and keyword arguments other than ``mask``) becomes a traced leaf,
    so ``backward`` returns one gradient per tensor argument, in the order of
    :func:`flat_leaves`.
    """
    if getattr(call, "_traced_call", False):
        return call
    takes_training, position = _call_options(call)

    @functools.wraps(call)
    def traced(self, *args, **kwargs):
        training = kwargs.pop("training", None)
        if position is not None and len(args) > position:
            training, args = args[position], (*args[:position], *args[position + 1:])
        if takes_training:
            kwargs["training"] = bool(training)
        if recording.STATE.tape is not None:
            return call(self, *args, **kwargs)
        if not (training or recording.STATE.record_inference):  # plain values out (ops on Variables: Tensors)
            return map_structure(value_of, call(self, *args, **kwargs))
        tape = Tape(self, self._input_grad_needed, training=bool(training))
        mask = kwargs.pop("mask", None)
        args, kwargs = tape.leaves((args, kwargs))
        if mask is not None:
            kwargs["mask"] = mask
        with tape.recording():
            out = call(self, *args, **kwargs)
        self._local_tape = tape
        return tape.finish(out)

    traced._traced_call = True
    return traced


# -- calls with any structure of tensors -------------------------------------------
class _Slot:
    """The place of the ``index``-th tensor in a recorded call's arguments."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _is_leaf(value) -> bool:
    return isinstance(value, (np.ndarray, Tensor, KerasTensor, _Slot))


def map_structure(fn, value):
    """``value`` with ``fn`` applied to every tensor in it (lists, tuples and dicts are walked)."""
    if _is_leaf(value):
        return fn(value)
    if isinstance(value, list):
        return [map_structure(fn, v) for v in value]
    if isinstance(value, tuple):
        return tuple(map_structure(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: map_structure(fn, v) for k, v in value.items()}
    return value


def flat_leaves(value) -> list:
    """The tensors of a structure, in the order :func:`map_structure` visits them."""
    found = []
    map_structure(found.append, value)
    return found


def _is_shape(value) -> bool:
    return isinstance(value, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in value)


def _batch_shape(value):
    shape = value.shape if isinstance(value, KerasTensor) else np.shape(value_of(value))
    return (None, *tuple(shape)[1:]) if len(shape) else tuple(shape)


def _build_generic(layer, args):
    """Build ``layer`` from the shapes of its call's arguments (Keras's ``build`` contract).

    ``build(input_shape)`` gets the shape structure of the first argument; a
    ``build`` with several shape parameters gets one per positional argument.
    """
    if layer.built:
        return
    saved, recording.STATE.tape = recording.STATE.tape, None
    try:
        shapes = [map_structure(_batch_shape, a) for a in args]
        params = [p for p in list(inspect.signature(layer.build).parameters.values())
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        first = shapes[0] if shapes else None
        if len(params) > 1 and len(shapes) > 1:
            layer.build(*shapes[:len(params)])
        else:
            layer.build(first)
        layer.built = True
        layer.input_shape = first if len(shapes) < 2 else shapes
        if layer._initial_weights is not None:
            layer.set_weights(layer._initial_weights)
            layer._initial_weights = None
    finally:
        recording.STATE.tape = saved


def _cast(layer, value):
    if isinstance(value, np.ndarray) and layer._cast_inputs and value.dtype.kind == "f" \
            and value.dtype != layer.dtype:
        return value.astype(layer.dtype)
    return value


def generic_call(layer, args, kwargs):
    """A call of a user-defined (traced) layer or model on any structure of tensors.

    On symbolic tensors it adds one node to the functional graph, whose inputs
    are every ``KerasTensor`` of the arguments; otherwise it runs ``call``.
    ``mask`` goes to ``call`` only when it takes one.
    """
    kwargs = dict(kwargs)
    training = kwargs.pop("training", None)
    mask = kwargs.pop("mask", None)
    structure = (args, kwargs)
    if any(isinstance(t, KerasTensor) for t in flat_leaves(structure)):
        return _symbolic_generic(layer, args, kwargs, mask, training)
    if mask is None and args:
        mask = getattr(args[0], "_keras_mask", None)  # attached by the layer before (eager calls)
    args, kwargs = map_structure(lambda v: _cast(layer, v) if isinstance(v, np.ndarray) else v, structure)
    _build_generic(layer, args)
    if mask is not None and layer._call_takes_mask:
        kwargs["mask"] = mask
    global _call_depth
    if _call_depth == 0 and recording.STATE.losses_used:  # a new outermost call: fresh add_loss terms
        for sub in (layer, *layer._all_sublayers()):
            sub.__dict__.pop("_added_losses", None)
    _call_depth += 1
    try:
        out = layer.call(*args, training=bool(training), **kwargs)
    finally:
        _call_depth -= 1
    out = map_structure(value_of, out)
    if layer.supports_masking and args and isinstance(out, np.ndarray):
        out = attach_mask(layer, args[0], mask, out)
    return out


#: How many user-defined layer calls are running (0 outside any: the next call is outermost).
_call_depth = 0


class _probing:
    """A shape-probing call on dummy data: no tape, and the layer's state variables restored."""

    def __init__(self, layer):
        self.layer = layer

    def __enter__(self):
        self.saved = recording.STATE.tape
        recording.STATE.tape = None
        self.state = [(v, v.value.copy()) for v in self.layer.non_trainable_weights]
        self.errstate = np.errstate(all="ignore")
        self.errstate.__enter__()

    def __exit__(self, *exc):
        self.errstate.__exit__(*exc)
        recording.STATE.tape = self.saved
        for var, value in self.state:
            var.value[...] = value


def _dummy_value(tensor, size=2):
    shape = tuple(size if d is None else d for d in tensor.shape)
    dtype = getattr(tensor, "dtype", None) or floatx()
    if dtype == "string":
        return np.full(shape, "", dtype=object)
    return np.ones(shape, dtype=dtype)


def _output_spec(layer, args, kwargs, mask):
    """Output shape(s) and dtype(s) of a call on symbolic tensors, from eager calls on dummy arrays.

    Unknown input dimensions (the batch) are tried at sizes 2 and 3; output
    dimensions that differ between the two calls are unknown (None).
    """
    unknown = any(d is None for t in flat_leaves((args, kwargs)) if isinstance(t, KerasTensor) for d in t.shape)
    first = _output_spec_at(layer, args, kwargs, mask, 2)
    if not unknown:
        return first
    second = _output_spec_at(layer, args, kwargs, mask, 3)

    def merge(a, b):
        if len(a) != len(b):
            raise NotImplementedError(
                f"Could not infer the output shape of {layer.name!r} ({type(layer).__name__}) on "
                "symbolic tensors: its rank depends on the unknown dimensions of its inputs.")
        return tuple(x if x == y else None for x, y in zip(a, b))

    if isinstance(first[0], list):
        return [merge(a, b) for a, b in zip(first[0], second[0])], first[1]
    return merge(first[0], second[0]), first[1]


def _output_spec_at(layer, args, kwargs, mask, size):
    dummy_args, dummy_kwargs = map_structure(
        lambda v: _dummy_value(v, size) if isinstance(v, KerasTensor) else v, (args, kwargs))
    if mask is not None and layer._call_takes_mask:
        dummy_kwargs["mask"] = map_structure(lambda m: np.ones(_dummy_value(m, size).shape, dtype=bool)
                                             if isinstance(m, KerasTensor) else m, mask)
    with _probing(layer):
        out = layer.call(*dummy_args, training=False, **dummy_kwargs)
    if isinstance(out, dict):
        raise NotImplementedError(
            f"Layer {layer.name!r} ({type(layer).__name__}) returns a dict from call() on symbolic "
            "tensors; return a tensor or a list of tensors.")
    if isinstance(out, (list, tuple)):
        return [tuple(np.shape(value_of(o))) for o in out], [np.asarray(value_of(o)).dtype for o in out]
    value = np.asarray(value_of(out))
    return tuple(value.shape), value.dtype


def _symbolic_generic(layer, args, kwargs, mask, training=None):
    _build_generic(layer, args)
    slots: list[KerasTensor] = []

    def to_slot(value):
        if isinstance(value, KerasTensor):
            slots.append(value)
            return _Slot(len(slots) - 1)
        return value

    template = map_structure(to_slot, (args, kwargs))
    first = slots[0] if slots else None
    if mask is None and first is not None and layer._call_takes_mask:
        mask = first._keras_mask  # masks reach custom layers while the graph is built
    shape, dtype = _output_spec(layer, args, kwargs, mask)
    if layer.output_shape is None:
        layer.output_shape = shape
    outputs = symbolic_outputs(layer, shape, tuple(slots), multi=len(slots) > 1)
    for tensor, dt in zip(outputs if isinstance(outputs, list) else [outputs],
                          dtype if isinstance(dtype, list) else [dtype]):
        tensor.dtype = np.dtype(dt).name
    node = (outputs[0] if isinstance(outputs, list) else outputs).node
    node.call_spec = template
    record_training(outputs, training)
    if first is not None and not isinstance(outputs, list):
        attach_mask(layer, first, mask if isinstance(mask, KerasTensor) else None, outputs)
    return outputs


def call_node(layer, template, values, training, mask=None):
    """Run a recorded generic call (a functional node) on the values of its input tensors.

    ``mask`` (the mask of the first input, or None) goes to ``call`` when it takes one.
    Returns ``(outputs, output mask or None)``.
    """
    if (training or recording.STATE.record_inference) and (layer._traced or getattr(layer, "_slot_leaves", False)):
        leaves = [Tensor(v) for v in values]  # exactly the node's inputs are the tape's leaves
        args, kwargs = map_structure(lambda v: leaves[v.index] if isinstance(v, _Slot) else v, template)
    else:
        args, kwargs = map_structure(lambda v: values[v.index] if isinstance(v, _Slot) else v, template)
    if mask is not None and layer._call_takes_mask and "mask" not in kwargs:
        kwargs = {**kwargs, "mask": mask}
    out = map_structure(value_of, layer.call(*args, training=bool(training), **kwargs))
    out_mask = None
    if layer.supports_masking and values:
        out_mask = layer.compute_mask(values[0], mask)
    return out, out_mask


def serialize_template(template):
    """The JSON form of a recorded call's arguments (tensors as ``{"__tensor__": i}``)."""
    def encode(value):
        if isinstance(value, _Slot):
            return {"__tensor__": value.index}
        if isinstance(value, list):
            return [encode(v) for v in value]
        if isinstance(value, tuple):
            return {"__tuple__": [encode(v) for v in value]}
        if isinstance(value, slice):
            return {"__slice__": [encode(value.start), encode(value.stop), encode(value.step)]}
        if value is Ellipsis:
            return {"__ellipsis__": True}
        if isinstance(value, dict):
            return {"__dict__": {k: encode(v) for k, v in value.items()}}
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        return value

    args, kwargs = template
    return {"args": [encode(a) for a in args], "kwargs": {k: encode(v) for k, v in kwargs.items()}}


def deserialize_template(spec, tensors):
    """``(args, kwargs)`` of a recorded call, with its tensors taken from ``tensors``."""
    def decode(value):
        if isinstance(value, dict) and "__tensor__" in value:
            return tensors[value["__tensor__"]]
        if isinstance(value, dict) and "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
        if isinstance(value, dict) and "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        if isinstance(value, dict) and "__slice__" in value:
            return slice(*(decode(v) for v in value["__slice__"]))
        if isinstance(value, dict) and "__ellipsis__" in value:
            return Ellipsis
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    return [decode(a) for a in spec["args"]], {k: decode(v) for k, v in spec["kwargs"].items()}


def _composite_backward(self, grad):
    tape = getattr(self, "_local_tape", None)
    if tape is None:
        raise RuntimeError(
            f"Layer {self.name!r} has no recorded training forward pass to differentiate: call it "
            "with training=True first."
        )
    return tape.backward(grad)


_composite_backward._composite = True


def _dummy_output_shape(self, input_shape):
    """Output shape(s) of a traced layer, from one eager call on a batch of ones."""
    key = repr(input_shape)
    cache = self.__dict__.setdefault("_shape_cache", {})
    if key not in cache:
        def dummy(shape):
            return np.ones(tuple(1 if d is None else d for d in shape), dtype=self.dtype)

        def convert(value):
            if _is_shape(value):
                return dummy(value)
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, tuple):
                return tuple(convert(v) for v in value)
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            return value

        with _probing(self):
            out = type(self).call(self, convert(input_shape), training=False)
        if isinstance(out, (list, tuple)):
            cache[key] = [(None, *np.shape(value_of(o))[1:]) for o in out]
        else:
            cache[key] = (None, *np.shape(value_of(out))[1:])
    return cache[key]


class _Pieces(dict):
    """The output gradients of a multi-output layer call, by output index (summed on ``+``)."""

    def __add__(self, other):
        merged = _Pieces(self)
        for i, g in other.items():
            merged[i] = g if i not in merged else merged[i] + g
        return merged


class Tape:
    """The record of one training forward pass of ``owner`` (a subclassed model or layer).

    Parameters
    ----------
    owner : Layer
        Whose ``call`` is recorded (named in errors).
    input_grad_needed : bool
        Whether ``backward`` must return the gradient w.r.t. the inputs.
    """

    def __init__(self, owner, input_grad_needed=False, training=True):
        self.owner = owner
        self.input_grad_needed = bool(input_grad_needed)
        self._leaves = []
        self._structure = None
        self._outputs = None
        self._no_grad: set[int] = set()
        self._sums = GradientSums()
        self._batch = None
        self._losses = []
        self.training = training  # the mode of sublayer calls that do not say (False: frozen call)
        self._trainable = None

    @property
    def where(self) -> str:
        kind = "model" if hasattr(self.owner, "compile") else "layer"
        return f"the training forward pass of {kind} {self.owner.name!r} ({type(self.owner).__name__}.call)"

    # -- forward -----------------------------------------------------------
    def leaves(self, inputs):
        """Wrap the arrays of ``inputs`` (any structure of lists, tuples and dicts) as traced leaves.

        When the structure already holds traced Tensors, only those become
        leaves (a functional node passes its inputs so); otherwise every array.
        """
        args, kwargs = inputs if type(inputs) is tuple and len(inputs) == 2 else (None, None)
        if not kwargs and type(args) is tuple and len(args) == 1 and type(args[0]) is np.ndarray:
            leaf = Tensor(args[0])  # the common call(inputs) on one array
            self._leaves.append(leaf)
            if not self.input_grad_needed:
                self._no_grad.add(id(leaf))
            if self._batch is None and leaf.ndim:
                self._batch = leaf.shape[0]
            return (leaf,), {} if kwargs is None else kwargs
        adopt = any(isinstance(v, Tensor) for v in flat_leaves(inputs))

        def wrap(x):
            if isinstance(x, KerasTensor) or (adopt and not isinstance(x, Tensor)):
                return x
            leaf = x if isinstance(x, Tensor) else Tensor(x)
            self._leaves.append(leaf)
            if not self.input_grad_needed:
                self._no_grad.add(id(leaf))
            if self._batch is None and leaf.ndim:
                self._batch = leaf.shape[0]
            return leaf

        return map_structure(wrap, inputs)

    class _Recording:
        def __init__(self, tape):
            self.tape = tape

        def __enter__(self):
            self.saved = (recording.STATE.tape, tracing.CONTEXT["where"])
            recording.STATE.tape = self.tape
            tracing.CONTEXT["where"] = _Where(self.tape)  # formatted only if an error needs it

        def __exit__(self, *exc):
            recording.STATE.tape, tracing.CONTEXT["where"] = self.saved

    def recording(self):
        return Tape._Recording(self)

    def _unwrap(self, value, parents, layer):
        if isinstance(value, Tensor):
            parents.append(value)
            return value.value
        if isinstance(value, (list, tuple)):
            return [self._unwrap(v, parents, layer) for v in value]
        if isinstance(value, dict):
            return {k: self._unwrap(v, parents, layer) for k, v in value.items()}
        if isinstance(value, KerasTensor):
            return value
        if (isinstance(value, np.ndarray) and value.ndim and self._batch is not None
                and value.shape[0] == self._batch and value.dtype.kind == "f"):
            raise TypeError(
                f"Layer {layer.name!r} received a plain NumPy array of {value.shape[0]} samples in "
                f"{self.where}: it looks derived from traced layer outputs by NumPy code, which "
                "training cannot differentiate. Use automl.keras.ops (or Python operators) for math "
                "between layers."
            )
        return value

    def call(self, layer, method, args, kwargs):
        """Run one eager layer call made while recording; return its traced output."""
        if kwargs.get("training", "unset") is None or (
            "training" not in kwargs and "training" in inspect.signature(method).parameters
        ):
            kwargs = {**kwargs, "training": self.training}
        if layer._traced:
            # A composite layer: trace its call on this tape (its sublayers record here).
            if kwargs.get("mask") is None or not layer._call_takes_mask:
                kwargs.pop("mask", None)
            _build_generic(layer, args or [kwargs.get("inputs")])
            return layer.call(*args, **kwargs)
        # Which entries of a list input are traced (the others get no gradient).
        positions = None
        if layer._multi_input and isinstance(_listed(args, kwargs), (list, tuple)):
            positions = [i for i, v in enumerate(_listed(args, kwargs)) if isinstance(v, Tensor)]
        parents: list[Tensor] = []
        args = tuple(self._unwrap(a, parents, layer) for a in args)
        n_positional = len(parents)
        kwargs = {k: (self._unwrap(v, parents, layer) if k not in ("training", "mask") else v)
                  for k, v in kwargs.items()}
        n_positions = len(parents)
        if positions is None and layer._multi_input and n_positions > 1:
            if n_positional != n_positions:
                raise NotImplementedError(
                    f"Layer {layer.name!r} ({type(layer).__name__}) got traced tensors as keyword "
                    f"arguments in {self.where}; pass them positionally (e.g. layer(query, value)).")
            # Several positional tensors (attention(query, value)): backward's list is in their order.
            positions = list(range(n_positions))
        if n_positions > 1 and not layer._multi_input:
            raise NotImplementedError(
                f"Layer {layer.name!r} ({type(layer).__name__}) takes several traced tensors "
                f"in {self.where}; subclassed models support layers called on one tensor or on a "
                "list of tensors (merging layers)."
            )
        needs = any(id(p) not in self._no_grad for p in parents)
        layer._input_grad_needed = needs
        saved = recording.STATE.tape
        recording.STATE.tape = None
        try:
            out = method(layer, *args, **kwargs)
        finally:
            recording.STATE.tape = saved
        cache = layer._call_state()
        tape = self

        def backward(g):
            layer._restore_call_state(cache)
            # Layers may write into the gradient they get; the tracer may share it between
            # branches (``a + b`` hands both the same array), so each call gets its own.
            if isinstance(g, _Pieces):
                g = [None if g.get(i) is None else np.array(g[i]) for i in range(len(out))]
            else:
                g = np.array(g)
            layer._input_grad_needed = needs
            if hasattr(layer, "_mark_input_grads"):
                layer._mark_input_grads()  # a nested model: its layers' input gradients
            g_in = tape._sums.backward(layer.trainable_weights, layer.backward, g)
            if not parents:
                return ()
            if positions is not None:
                return tuple(None if g_in is None else g_in[i] for i in positions)
            return (g_in,)

        if isinstance(out, (list, tuple)):
            node = Tensor(np.empty(0), tuple(parents), backward)
            return [Tensor(o, (node,), functools.partial(_piece, i)) for i, o in enumerate(out)]
        return Tensor(out, tuple(parents), backward)

    def finish(self, out):
        """Check that the outputs are traced; keep them; return their plain values."""
        outs = out if isinstance(out, (list, tuple)) else [out]
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                raise TypeError(
                    f"The output{'' if len(outs) == 1 else f' {i}'} of {self.where} is a plain "
                    f"{type(o).__name__}, not a traced tensor: it was computed outside the trace (NumPy "
                    "functions, .numpy() or .value), so training cannot differentiate it. Use "
                    "automl.keras.ops (or Python operators) for math between layers."
                )
        self._structure = isinstance(out, (list, tuple))
        self._outputs = outs
        values = [o.value for o in outs]
        return values if self._structure else values[0]

    def add_loss(self, loss):
        """A loss term added while recording: backward seeds its gradient with ones."""
        self._losses.append(loss)

    # -- backward ----------------------------------------------------------
    def backward(self, grad):
        """Backpropagate ``grad`` (one array, or a list per output); return input gradients."""
        grads = grad if self._structure else [grad]
        self._sums = GradientSums()
        self._trainable = None
        order, seen = [], set()

        def visit(t):
            stack = [(t, False)]
            while stack:
                node, expanded = stack.pop()
                if expanded:
                    order.append(node)
                    continue
                if id(node) in seen:
                    continue
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)

        for o in (*self._outputs, *self._losses):
            visit(o)
        acc: dict = {}
        for o, g in zip(self._outputs, grads):
            if g is not None:
                acc[id(o)] = g if id(o) not in acc else acc[id(o)] + g
        for loss in self._losses:  # terms of add_loss: d(sum(loss)) / d loss = 1
            g = np.ones_like(loss.value)
            acc[id(loss)] = g if id(loss) not in acc else acc[id(loss)] + g
        for t in reversed(order):
            g = acc.pop(id(t), None)
            if t.backward is None:
                if g is not None:
                    acc[id(t)] = g  # a leaf keeps its gradient
                continue
            if g is None:
                continue
            for parent, pg in zip(t.parents, t.backward(g)):
                if pg is None:
                    continue
                acc[id(parent)] = pg if id(parent) not in acc else acc[id(parent)] + pg
        self._write_variable_gradients(order, acc)
        self._zero_untouched()  # layers not reached this step get zero gradients
        if not self.input_grad_needed:
            return None
        ins = [acc.get(id(leaf)) for leaf in self._leaves]
        ins = [np.zeros_like(leaf.value) if g is None else g for g, leaf in zip(ins, self._leaves)]
        return ins[0] if len(ins) == 1 else ins

    def _write_variable_gradients(self, order, acc):
        """Gradients of the Variables used by ops in the traced call (weights of user layers)."""
        trainable = None
        sums = self._sums
        for t in order:
            if not isinstance(t, Variable) or id(t) not in acc:
                continue
            if trainable is None:
                trainable = {id(v) for v in self._owner_trainable()}
            if id(t) not in trainable or t.grad is None:  # a frozen weight
                continue
            g = np.asarray(acc.pop(id(t)), dtype=t.grad.dtype)
            if g.shape != t.grad.shape:
                g = np.broadcast_to(g, t.grad.shape)
            if id(t) in sums.touched:
                t.grad += g
            else:
                t.grad[...] = g
                sums.touched.add(id(t))

    def _owner_trainable(self):
        """The owner's trainable weights, found once per training run.

        As in Keras, changes of ``trainable`` take effect at the next ``compile`` /
        ``fit``, which starts a new run (``recording.STATE.weights_epoch``).
        """
        if self._trainable is None:
            cached = self.owner.__dict__.get("_tape_trainable")
            if cached is None or cached[0] != recording.STATE.weights_epoch:
                cached = (recording.STATE.weights_epoch, self.owner.trainable_weights)
                self.owner.__dict__["_tape_trainable"] = cached
            self._trainable = cached[1]
        return self._trainable

    def _zero_untouched(self):
        variables = self._owner_trainable()
        touched = self._sums.touched
        if all(id(v) in touched for v in variables):
            return
        self._sums.zero_untouched(variables)
        owner = self.owner
        if owner.trainable and not owner.__dict__.get("_warned_no_gradient"):
            missing = [v.name for v in owner._own_variables() if v.trainable and id(v) not in touched]
            if missing:
                owner._warned_no_gradient = True
                warnings.warn(
                    f"Gradients do not exist for variables {missing} of {type(owner).__name__} "
                    f"{owner.name!r} when minimizing the loss: {self.where} does not use them through "
                    "traced operations. Use the Variable itself in automl.keras.ops calls or Python "
                    "operators (not its .value or .numpy() array).",
                    UserWarning,
                    stacklevel=2,
                )


class _Where:
    """The description of a tape for error messages, made only when one is formatted."""

    __slots__ = ("tape",)

    def __init__(self, tape):
        self.tape = tape

    def __str__(self):
        return self.tape.where

    def __format__(self, spec):
        return format(self.tape.where, spec)


def _listed(args, kwargs):
    return args[0] if args else kwargs.get("inputs")


def _piece(i, g):
    return (_Pieces({i: g}),)


def _plain(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def auto_config(model) -> dict:
    """The config of a subclassed model from the arguments its constructor was called with."""
    args, kwargs = model.__dict__.get("_init_call", ((), {}))
    signature = inspect.signature(type(model).__init__)
    try:
        bound = signature.bind(model, *args, **kwargs)
    except TypeError:
        bound = None
    config = {}
    if bound is not None:
        params = list(signature.parameters.values())[1:]
        for param in params:
            if param.name not in bound.arguments:
                continue
            value = bound.arguments[param.name]
            if param.kind is param.VAR_KEYWORD:
                config.update(value)
            elif param.kind is param.VAR_POSITIONAL:
                bound = None if value else bound
            else:
                config[param.name] = value
    bad = [k for k, v in config.items() if not _plain(v)] if bound is not None else ["*args"]
    if bad:
        raise NotImplementedError(
            f"Model {model.name!r} ({type(model).__name__}) was created with constructor arguments "
            f"that are not plain values ({', '.join(bad)}), so it must implement get_config() (and "
            "from_config() if needed) to be saved as a whole. save_weights() / load_weights() work "
            "without it."
        )
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        config.update({"name": model.name, "trainable": model.trainable, "dtype": model.dtype})
    return config
