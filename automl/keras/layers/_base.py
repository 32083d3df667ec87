"""The layer contract.

``build(input_shape)`` creates the weights; ``call(inputs, training=False)``
computes the outputs and keeps what backward needs; ``backward(grad)`` fills
the gradients of the trainable weights and returns the gradient w.r.t. the
inputs (``None`` when the model says nobody needs it).

Masks (Keras semantics) are boolean arrays of shape ``(batch, timesteps)``
(or the input's leading dimensions) that travel *beside* the data: models
call :meth:`Layer._call_masked`, which passes the incoming mask to ``call``
when ``call`` has a ``mask`` parameter, and asks ``compute_mask`` for the
output mask when the layer ``supports_masking``. A layer that neither takes
nor propagates masks drops them (with a warning, as in Keras). Layers that
return several outputs (an RNN with ``return_state``) return a list from
``call``, a list of shapes from ``compute_output_shape``, and take a list of
output gradients (``None`` for outputs nobody used) in ``backward``.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ..._registry import Registry
from ..._validation import param_error
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..backend import floatx
from ..backend._config import to_snake_case, unique_object_name

__all__ = ["Layer", "Variable", "KerasTensor", "LAYERS", "symbolic_outputs"]

LAYERS = Registry("layer")


class Variable:
    """A weight: its value, the gradient buffer of the same shape, and its options.

    The model may re-point ``value`` and ``grad`` at views of one contiguous
    buffer; code must therefore write into them in place (``assign``).
    """

    __slots__ = ("value", "grad", "name", "trainable", "regularizer", "constraint")

    def __init__(self, value, name, trainable=True, regularizer=None, constraint=None):
        self.value = value
        self.grad = np.zeros_like(value) if trainable else None
        self.name = name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    def numpy(self) -> np.ndarray:
        return self.value.copy()

    def assign(self, value) -> None:
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to the variable {self.name!r} "
                f"of shape {self.value.shape}."
            )
        self.value[...] = value

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __repr__(self):
        return f"<Variable {self.name} shape={self.value.shape} dtype={self.value.dtype}>"


class KerasTensor:
    """A symbolic tensor: a shape and the layer call that produced it (functional API).

    A layer call with several outputs makes one tensor per output; they share
    ``siblings`` (the tuple of all of them, in output order) and each has its
    ``index`` in it. The first sibling stands for the call (``node``).
    """

    multi = False  # whether the producing layer took a list of inputs
    index = None  # position among the outputs of a multi-output call
    siblings = None  # all outputs of a multi-output call
    call_kwargs = None  # keyword options of the layer call (e.g. use_causal_mask=True), or None

    @property
    def node(self) -> KerasTensor:
        """The tensor that stands for the layer call that produced this one."""
        return self if self.siblings is None else self.siblings[0]

    def __init__(self, shape, layer=None, inputs=(), name=None):
        self.shape = tuple(shape)
        self.layer = layer
        self.inputs = tuple(inputs)
        self.name = name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, name={self.name}>"


#: The tape recording a subclassed model's training forward pass (see
#: ``models._subclassed``), or None. Eager layer calls check it once.
_recording = None


def _taped(call_method):
    """``__call__`` of a Layer subclass that overrides it, routed to the tape while one records."""

    @functools.wraps(call_method)
    def __call__(self, *args, **kwargs):  # noqa: N807
        if _recording is not None:
            return _recording.call(self, call_method, args, kwargs)
        return call_method(self, *args, **kwargs)

    __call__._taped = True
    return __call__


_LAYER_KWARGS = {"name", "trainable", "dtype", "input_shape", "input_dim", "batch_input_shape", "weights"}



def _accepting_training(call):
    """``call`` itself, or a wrapper taking (and dropping) ``training`` when it has none.

    Keras layers may define ``call(self, inputs)`` (or ``call(self, inputs, mask=None)``);
    the engine always passes ``training``. Calls with more positional parameters
    (RNN cells' ``call(inputs, states)``) are left as they are.
    """
    params = inspect.signature(call).parameters
    required = [p for p in params.values() if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_any = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params.values())
    if "training" in params or takes_any or len(required) != 2:  # (self, inputs) only
        return call

    @functools.wraps(call)
    def call_without_training(self, inputs, training=False, **kwargs):
        return call(self, inputs, **kwargs)

    return call_without_training

class Layer:
    """Base class of all layers.

    Layers that take a list of inputs (merging layers) set ``_multi_input``;
    their ``backward`` returns a list of input gradients.

    Parameters
    ----------
    name : str, optional
        Unique name; ``dense``, ``dense_1``, ... when omitted.
    trainable : bool, default=True
        Whether the layer's weights are updated by training.
    dtype : str, optional
        Float type of the weights (``backend.floatx()`` when omitted).
    input_shape : tuple, optional
        Shape of one sample, for the first layer of a ``Sequential``.
    """

    _multi_input = False
    #: Attributes written by ``call`` and read by ``backward``; a model that calls a
    #: layer more than once (shared layers) saves and restores them per call.
    _cache_attrs: tuple = ()
    #: Whether the layer propagates masks (through ``compute_mask``), as in Keras.
    #: Layers that override ``compute_mask`` get True unless they set it themselves.
    supports_masking = False
    #: Whether ``call`` accepts ``mask=`` (set from its signature for each subclass).
    _call_takes_mask = False
    #: Whether ``call`` multiplies activations by each other (attention scores, ``Dot``):
    #: matrix products the kernels do not show, so the BLAS thread count is left alone.
    _multiplies_activations = False
    #: Whether eager calls cast numeric inputs to the layer's dtype. Layers taking strings
    #: or integer tokens (lookups, hashing) set False; string inputs are never cast.
    _cast_inputs = True
    #: Whether the layer's own attributes holding layers (directly or in lists, tuples and
    #: dicts) make sublayers whose weights it owns: true for classes defined outside
    #: automl (user layers and subclassed models), as Keras tracks them.
    _auto_track = False
    #: Whether training differentiates ``call`` by tracing it (layers composed of sublayers
    #: without a ``backward`` of their own, and subclassed models).
    _traced = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._call_takes_mask = "mask" in inspect.signature(cls.call).parameters
        if "call" in cls.__dict__:
            cls.call = _accepting_training(cls.call)
        if "supports_masking" not in cls.__dict__ and "compute_mask" in cls.__dict__:
            cls.supports_masking = True
        if "__call__" in cls.__dict__ and not getattr(cls.__call__, "_taped", False):
            cls.__call__ = _taped(cls.__dict__["__call__"])
        if not cls.__module__.startswith("automl."):
            from ..models._subclassed import setup_class

            setup_class(cls)

    def __init__(self, *, name=None, trainable=True, dtype=None, **kwargs):
        unknown = set(kwargs) - _LAYER_KWARGS
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s): "
                f"{', '.join(sorted(unknown))}."
            )
        self.name = name or unique_object_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = np.dtype(dtype or floatx()).name
        self.built = False
        self._variables: list[Variable] = []
        self._input_grad_needed = True
        self._initial_weights = kwargs.get("weights")
        shape = kwargs.get("batch_input_shape")
        if shape is not None:
            shape = tuple(shape)[1:]
        elif kwargs.get("input_shape") is not None:
            shape = tuple(kwargs["input_shape"])
        elif kwargs.get("input_dim") is not None:
            shape = (int(kwargs["input_dim"]),)
        self._declared_input_shape = shape
        self.input_shape = None
        self.output_shape = None
        self.activity_penalty = 0.0

    # -- weights -----------------------------------------------------------
    def add_weight(
        self,
        shape,
        initializer="glorot_uniform",
        name=None,
        trainable=True,
        regularizer=None,
        constraint=None,
        dtype=None,
    ) -> Variable:
        init = _initializers.get(initializer)
        value = np.require(init(tuple(shape), dtype=dtype or self.dtype), requirements="C")
        var = Variable(
            value,
            f"{self.name}/{name or 'variable'}",
            trainable=trainable,
            regularizer=_regularizers.get(regularizer),
            constraint=constraint,
        )
        self._variables.append(var)
        return var

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)

    def _tracked_layers(self) -> list[Layer]:
        """The sublayers this layer owns (``_auto_track`` classes), in assignment order."""
        if not self._auto_track:
            return []
        from ..models._subclassed import tracked_layers

        return tracked_layers(self)

    @property
    def weights(self) -> list[Variable]:
        if self._auto_track:
            return _unique([*self._variables, *(v for la in self._tracked_layers() for v in la.weights)])
        return list(self._variables)

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        own = [v for v in self._variables if v.trainable]
        if self._auto_track:
            return _unique([*own, *(v for la in self._tracked_layers() for v in la.trainable_weights)])
        return own

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return self.weights
        own = [v for v in self._variables if not v.trainable]
        if self._auto_track:
            return _unique([*own, *(v for la in self._tracked_layers() for v in la.non_trainable_weights)])
        return own

    def get_weights(self) -> list[np.ndarray]:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        variables = self.weights
        if len(weights) != len(variables):
            raise ValueError(
                f"Layer {self.name!r} expects {len(variables)} weight arrays "
                f"({', '.join(str(v.shape) for v in variables)}). "
                f"Got {len(weights)} instead."
            )
        for var, w in zip(variables, weights):
            var.assign(w)

    def count_params(self) -> int:
        return int(sum(v.value.size for v in self.weights))

    # -- contract ----------------------------------------------------------
    def build(self, input_shape) -> None:
        self.built = True

    def _maybe_build(self, input_shape) -> None:
        if not self.built:
            input_shape = [tuple(s) for s in input_shape] if self._multi_input else tuple(input_shape)
            self.build(input_shape)
            self.built = True
            self.input_shape = input_shape
            self.output_shape = self.compute_output_shape(input_shape)
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None

    def call(self, inputs, training=False):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} has no backward pass.")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    # -- per-call state (layers called more than once) ----------------------
    def _call_state(self):
        """What ``backward`` needs from the last call, to be restored before its backward.

        A layer called several times in one forward pass (a shared layer, or a
        layer inside a model used several times) has each call's state saved
        after the call and restored before that call's backward. The default
        holds the ``_cache_attrs``; containers add their sublayers' states, so
        that the state of a whole nested model is saved at once. References
        only, no copies: layers make fresh arrays on each call.
        """
        own = {a: getattr(self, a, None) for a in self._cache_attrs}
        subs = self._state_sublayers()
        if not subs:
            return own
        return own, [(layer, layer._call_state()) for layer in subs]

    def _restore_call_state(self, state) -> None:
        if isinstance(state, tuple):
            state, subs = state
            for layer, sub in subs:
                layer._restore_call_state(sub)
        for attr, value in state.items():
            setattr(self, attr, value)

    def _state_sublayers(self) -> list:
        """The sublayers whose per-call state belongs to this layer's (see ``_call_state``)."""
        if self._auto_track and not self._traced:
            return self._tracked_layers()
        return []

    # -- masks -------------------------------------------------------------
    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs, given the inputs and their mask (Keras semantics).

        Only called when ``supports_masking``; the default passes the mask through.
        Multi-output layers return a list (one mask or None per output).
        """
        return mask

    def _call_masked(self, inputs, training, mask):
        """Forward as a model runs it: ``(outputs, output mask or None)``.

        ``mask`` is None, an array, or (for layers taking a list of inputs) a
        list with one mask or None per input.
        """
        if mask is not None and self._call_takes_mask:
            outputs = self.call(inputs, training, mask=mask)
        else:
            outputs = self.call(inputs, training)
        if self.supports_masking:
            return outputs, self.compute_mask(inputs, mask)
        if mask is not None and not getattr(self, "_mask_warned", False):
            self._mask_warned = True
            warnings.warn(
                f"Layer {self.name!r} (of type {type(self).__name__}) was passed an input with a "
                "mask attached to it. However, this layer does not support masking and will "
                "therefore destroy the mask information. Downstream layers will not see the mask.",
                UserWarning,
                stacklevel=3,
            )
        return outputs, None

    def __call__(self, inputs, training=None, mask=None):
        if _recording is not None:
            return _recording.call(self, Layer._eager_call, (inputs,), {"training": training, "mask": mask})
        return self._eager_call(inputs, training, mask)

    def _eager_call(self, inputs, training=None, mask=None):
        training = bool(training)
        if self._multi_input:
            return self._call_multi(list(inputs), training, mask)
        if isinstance(inputs, KerasTensor):
            self._maybe_build(inputs.shape)
            return symbolic_outputs(self, self.compute_output_shape(inputs.shape), (inputs,))
        x = np.asarray(inputs)
        if x.dtype != self.dtype and self._cast_inputs and x.dtype.kind not in "USO":
            x = x.astype(self.dtype)
        self._maybe_build((None, *x.shape[1:]))
        if mask is not None and self._call_takes_mask:
            return self.call(x, training=training, mask=np.asarray(mask, dtype=bool))
        return self.call(x, training=training)

    def _call_multi(self, inputs, training, mask=None):
        if all(isinstance(t, KerasTensor) for t in inputs):
            shapes = [t.shape for t in inputs]
            self._maybe_build(shapes)
            return symbolic_outputs(self, self.compute_output_shape(shapes), tuple(inputs), multi=True)
        xs = [np.asarray(x, dtype=self.dtype) for x in inputs]
        self._maybe_build([(None, *x.shape[1:]) for x in xs])
        if mask is not None and self._call_takes_mask:
            masks = [None if m is None else np.asarray(m, dtype=bool) for m in mask]
            return self.call(xs, training=training, mask=masks)
        return self.call(xs, training=training)

    # -- serialization -----------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._declared_input_shape is not None:
            config["input_shape"] = list(self._declared_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _unique(variables):
    seen = set()
    return [v for v in variables if not (id(v) in seen or seen.add(id(v)))]


def symbolic_outputs(layer, shape, inputs, multi=False):
    """The KerasTensor(s) of a symbolic call: one per output shape.

    ``shape`` is a tuple for a single output, a list of tuples for several
    (then the tensors are linked as siblings of one call).
    """
    if isinstance(shape, list):
        outputs = tuple(KerasTensor(s, layer, inputs, layer.name) for s in shape)
        for i, tensor in enumerate(outputs):
            tensor.index = i
            tensor.siblings = outputs
            tensor.multi = multi
        return list(outputs)
    out = KerasTensor(shape, layer, inputs, layer.name)
    out.multi = multi
    return out


def check_positive_int(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise param_error(name, owner, "an int in the range [1, inf)", value)
    return int(value)

LAYERS.base = Layer
