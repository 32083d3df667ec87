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
on a tape of its own. Example::

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

import numpy as np

from ..layers import _base
from ..layers._base import KerasTensor, Layer
from ..ops import _tensor
from ..ops._tensor import Tensor, value_of
from ._accumulate import GradientSums

__all__ = ["Tape", "setup_class", "tracked_layers"]

#: Attributes never scanned for sublayers (engine state that may hold layers or tensors).
_UNTRACKED = frozenset({"_local_tape", "_shape_cache", "_init_call", "optimizer", "history",
                        "compiled_metrics", "_heads", "_train_state", "_loss_fn"})


def tracked_layers(owner) -> list[Layer]:
    """Layers held by ``owner``'s attributes (also in lists, tuples and dicts), in order."""
    found, seen = [], {id(owner)}

    def visit(value, depth):
        if isinstance(value, Layer):
            if id(value) not in seen:
                seen.add(id(value))
                found.append(value)
        elif depth < 4 and isinstance(value, (list, tuple)):
            for item in value:
                visit(item, depth + 1)
        elif depth < 4 and isinstance(value, dict):
            for item in value.values():
                visit(item, depth + 1)

    for key, value in vars(owner).items():
        if key not in _UNTRACKED:
            visit(value, 0)
    return found


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
        # Only ``call(self, inputs, ...)``: RNN cells' ``call(inputs, states)`` keep their contract.
        traced = len(required) == 2 and (
            cls.backward is Layer.backward or getattr(cls.backward, "_composite", False))
    if not traced:
        cls._traced = False
        return
    cls._traced = True
    if "call" in cls.__dict__:
        cls.call = _traced_call(cls.__dict__["call"])
    if "_local_tape" not in cls._cache_attrs:
        cls._cache_attrs = (*cls._cache_attrs, "_local_tape")
    if cls.compute_output_shape in (Layer.compute_output_shape, Model.compute_output_shape):
        cls.compute_output_shape = _dummy_output_shape
    if not issubclass(cls, Model) and cls.backward is Layer.backward:
        cls.backward = _composite_backward


def _traced_call(call):
    """Wrap a traced class's ``call``: in training outside any tape, record on the layer's own tape."""
    if getattr(call, "_traced_call", False):
        return call

    @functools.wraps(call)
    def traced(self, inputs, training=False, **kwargs):
        if training and self.trainable and any(v.trainable for v in self._variables):
            _refuse_own_weights(self)
        if not training or _base._recording is not None:
            return call(self, inputs, training=training, **kwargs)
        tape = Tape(self, self._input_grad_needed)
        leaves = tape.leaves(inputs)
        with tape.recording():
            out = call(self, leaves, training=True, **kwargs)
        self._local_tape = tape
        return tape.finish(out)

    traced._traced_call = True
    return traced


def _refuse_own_weights(owner) -> None:
    """The tape differentiates through sublayers only: weights made with add_weight would
    silently get no gradient, so training such a class needs its own ``backward``."""
    kind = "Model" if hasattr(owner, "compile") else "Layer"
    names = ", ".join(v.name for v in owner._variables if v.trainable)
    raise NotImplementedError(
        f"{kind} {owner.name!r} ({type(owner).__name__}) creates trainable weights with "
        f"add_weight ({names}) and has no backward(): the engine differentiates a subclassed "
        "call only through the layers it calls, so these weights would not train. "
        + ("Move them into a layer that has a backward() (or use built-in layers such as Dense)."
           if kind == "Model" else
           "Use built-in layers for them (e.g. Dense), or implement backward(self, grad) "
           "returning the input gradient and filling each weight's .grad.")
    )


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
    """Output shape(s) of a traced layer, from one eager call on a batch of zeros."""
    key = repr(input_shape)
    cache = self.__dict__.setdefault("_shape_cache", {})
    if key not in cache:
        if isinstance(input_shape, list):
            dummy = [np.zeros(tuple(1 if d is None else d for d in s), dtype=self.dtype) for s in input_shape]
        else:
            dummy = np.zeros(tuple(1 if d is None else d for d in input_shape), dtype=self.dtype)
        saved, _base._recording = _base._recording, None
        try:
            out = type(self).call(self, dummy, training=False)
        finally:
            _base._recording = saved
        if isinstance(out, (list, tuple)):
            cache[key] = [(None, *np.shape(o)[1:]) for o in out]
        else:
            cache[key] = (None, *np.shape(out)[1:])
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

    def __init__(self, owner, input_grad_needed=False):
        self.owner = owner
        self.input_grad_needed = bool(input_grad_needed)
        self._leaves = []
        self._structure = None
        self._outputs = None
        self._no_grad: set[int] = set()
        self._sums = GradientSums()
        self._batch = None

    @property
    def where(self) -> str:
        kind = "model" if hasattr(self.owner, "compile") else "layer"
        return f"the training forward pass of {kind} {self.owner.name!r} ({type(self.owner).__name__}.call)"

    # -- forward -----------------------------------------------------------
    def leaves(self, inputs):
        """Wrap the inputs (an array, or a list / tuple / dict of arrays) as traced leaves."""
        def wrap(x):
            if isinstance(x, Tensor):
                leaf = x
            else:
                leaf = Tensor(x)
            self._leaves.append(leaf)
            if not self.input_grad_needed:
                self._no_grad.add(id(leaf))
            if self._batch is None and leaf.ndim:
                self._batch = leaf.shape[0]
            return leaf

        if isinstance(inputs, dict):
            return {k: wrap(v) for k, v in inputs.items()}
        if isinstance(inputs, (list, tuple)):
            return type(inputs)(wrap(v) for v in inputs)
        return wrap(inputs)

    class _Recording:
        def __init__(self, tape):
            self.tape = tape

        def __enter__(self):
            self.saved = (_base._recording, _tensor._CONTEXT["where"])
            _base._recording = self.tape
            _tensor._CONTEXT["where"] = self.tape.where

        def __exit__(self, *exc):
            _base._recording, _tensor._CONTEXT["where"] = self.saved

    def recording(self):
        return Tape._Recording(self)

    def _unwrap(self, value, parents, layer):
        if isinstance(value, Tensor):
            parents.append(value)
            return value.value
        if isinstance(value, (list, tuple)):
            return [self._unwrap(v, parents, layer) for v in value]
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
            kwargs = {**kwargs, "training": True}
        if layer._traced:
            # A composite layer: trace its call on this tape (its sublayers record here).
            x = args[0] if args else kwargs.get("inputs")
            if not layer.built:
                shape = value_of(x).shape if not isinstance(x, (list, tuple)) else None
                saved = _base._recording
                _base._recording = None
                try:
                    if shape is not None:
                        layer._maybe_build((None, *shape[1:]))
                    else:
                        layer._maybe_build([(None, *value_of(v).shape[1:]) for v in x])
                finally:
                    _base._recording = saved
            if kwargs.get("mask") is None:
                kwargs.pop("mask", None)
            return layer.call(*args, **kwargs)
        # Which entries of a list input are traced (the others get no gradient).
        positions = None
        if layer._multi_input and isinstance(_listed(args, kwargs), (list, tuple)):
            positions = [i for i, v in enumerate(_listed(args, kwargs)) if isinstance(v, Tensor)]
        parents: list[Tensor] = []
        args = tuple(self._unwrap(a, parents, layer) for a in args)
        kwargs = {k: (self._unwrap(v, parents, layer) if k not in ("training", "mask") else v)
                  for k, v in kwargs.items()}
        n_positions = len(parents)
        if n_positions > 1 and not layer._multi_input:
            raise NotImplementedError(
                f"Layer {layer.name!r} ({type(layer).__name__}) takes several traced tensors "
                f"in {self.where}; subclassed models support layers called on one tensor or on a "
                "list of tensors (merging layers)."
            )
        needs = any(id(p) not in self._no_grad for p in parents)
        layer._input_grad_needed = needs
        saved = _base._recording
        _base._recording = None
        try:
            out = method(layer, *args, **kwargs)
        finally:
            _base._recording = saved
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

    # -- backward ----------------------------------------------------------
    def backward(self, grad):
        """Backpropagate ``grad`` (one array, or a list per output); return input gradients."""
        grads = grad if self._structure else [grad]
        self._sums = GradientSums()
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

        for o in self._outputs:
            visit(o)
        acc: dict = {}
        for o, g in zip(self._outputs, grads):
            if g is not None:
                acc[id(o)] = g if id(o) not in acc else acc[id(o)] + g
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
        self._zero_untouched()  # layers not reached this step get zero gradients
        if not self.input_grad_needed:
            return None
        ins = [acc.get(id(leaf)) for leaf in self._leaves]
        ins = [np.zeros_like(leaf.value) if g is None else g for g, leaf in zip(ins, self._leaves)]
        return ins[0] if len(ins) == 1 else ins

    def _zero_untouched(self):
        self._sums.zero_untouched(self.owner.trainable_weights)


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
