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

from ... import _limits
from ..._registry import Registry
from ..._validation import param_error
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..backend import floatx, to_snake_case, unique_object_name
from ..ops import Tensor, value_of
from . import recording

__all__ = ["Layer", "Variable", "KerasTensor", "LAYERS", "MaskedArray", "attach_mask", "record_training", "symbolic_outputs"]

LAYERS = Registry("layer")


class Variable(Tensor):
    """A weight: its value, the gradient buffer of the same shape, and its options.

    As in Keras 3, ``Variable(initializer, shape=None, dtype=None, trainable=True,
    name=None)`` takes an array (or any array-like value) or an initializer (a
    name, an instance or a callable of ``(shape, dtype)``) with a ``shape``. A
    Variable is a leaf of the :mod:`automl.keras.ops` autodiff: ops on it inside
    a traced ``call`` (a user-defined layer or model written with ``ops``) make
    its gradient, which training writes into ``grad``.

    The model may re-point ``value`` and ``grad`` at views of one contiguous
    buffer; code must therefore write into them in place (``assign``).

    Examples
    --------
    >>> from automl.keras import Variable
    >>> v = Variable(initializer="ones", shape=(2,), name="w")
    >>> v.assign_add([1.0, 2.0]); v.numpy().tolist()
    [2.0, 3.0]
    """

    __slots__ = ("grad", "name", "trainable", "regularizer", "constraint")

    def __init__(self, initializer=None, shape=None, dtype=None, trainable=True, name=None, *,
                 regularizer=None, constraint=None):
        if isinstance(shape, str):  # the engine's older ``Variable(value, name)``
            name, shape = shape, None
        if initializer is None:
            raise ValueError("The 'initializer' argument of Variable must be an array or an initializer. "
                             "Got None instead.")
        if isinstance(initializer, str) or (callable(initializer) and not isinstance(initializer, Tensor)):
            if shape is None:
                raise ValueError(
                    f"The 'shape' argument of Variable must be a tuple when the initializer is "
                    f"{initializer!r}. Got None instead.")
            init = _initializers.get(initializer)
            value = init(tuple(shape), dtype=dtype or floatx())
        else:
            value = initializer.value if isinstance(initializer, Tensor) else initializer
            # An array is kept as it is (the engine points variables at views of packed buffers).
            value = np.asarray(value, dtype=dtype or (None if np.asarray(value).dtype.kind == "f" else floatx()))
            if shape is not None and tuple(value.shape) != tuple(shape):
                raise ValueError(f"The 'shape' argument of Variable is {tuple(shape)}, but the initial "
                                 f"value has shape {value.shape}.")
        super().__init__(value if value.flags.c_contiguous else np.ascontiguousarray(value))
        self.grad = np.zeros_like(self.value) if trainable else None
        self.name = name or "variable"
        self.trainable = bool(trainable)
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
        value = np.asarray(value.value if isinstance(value, Tensor) else value)
        if value.shape != self.value.shape and value.size != 1:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to the variable {self.name!r} "
                f"of shape {self.value.shape}."
            )
        self.value[...] = value

    def assign_add(self, value) -> None:
        self.assign(self.value + np.asarray(value.value if isinstance(value, Tensor) else value))

    def assign_sub(self, value) -> None:
        self.assign(self.value - np.asarray(value.value if isinstance(value, Tensor) else value))

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul and method == "__call__" and not kwargs:  # ``array @ variable``
            from ..ops import matmul

            return matmul(*inputs)
        return super().__array_ufunc__(ufunc, method, *inputs, **kwargs)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __repr__(self):
        return f"<Variable {self.name} shape={self.value.shape} dtype={self.value.dtype}>"


def _symbolic(name, *args):
    from ..models.symbolic import resolve_op, symbolic_call

    return symbolic_call(resolve_op(name), args, {})


class KerasTensor:
    """A symbolic tensor: a shape, a dtype and the layer call that produced it (functional API).

    A layer call with several outputs makes one tensor per output; they share
    ``siblings`` (the tuple of all of them, in output order) and each has its
    ``index`` in it. The first sibling stands for the call (``node``).

    Python operators (``+ - * / // % ** @``, ``< <= > >=``, unary minus,
    ``abs``, indexing and slicing) and the functions of
    :mod:`automl.keras.ops` applied to KerasTensors add nodes to the graph
    (see ``models.symbolic``). ``==`` and ``!=`` compare identities, so that
    tensors can be looked up in lists.

    Examples
    --------
    >>> from automl.keras import Input
    >>> x = Input(shape=(3,))
    >>> y = (x + 1.0)[:, :2] * 2.0
    >>> y.shape, y.dtype
    ((None, 2), 'float32')
    """

    multi = False  # whether the producing layer took a list of inputs
    index = None  # position among the outputs of a multi-output call
    siblings = None  # all outputs of a multi-output call
    call_kwargs = None  # keyword options of the layer call (e.g. use_causal_mask=True), or None
    call_spec = None  # the arguments of a user-defined layer's call, tensors as slots (or None)
    call_training = None  # ``training=`` given to the symbolic call (fixed for that call), or None
    _keras_mask = None  # the symbolic mask of this tensor (a KerasTensor) when it carries one

    @property
    def node(self) -> KerasTensor:
        """The tensor that stands for the layer call that produced this one."""
        return self if self.siblings is None else self.siblings[0]

    def __init__(self, shape, layer=None, inputs=(), name=None, dtype=None):
        self.shape = tuple(shape)
        self.layer = layer
        self.inputs = tuple(inputs)
        self.name = name
        if dtype is None:
            dtype = getattr(layer, "dtype", None) or floatx()
        self.dtype = dtype if dtype == "string" else np.dtype(dtype).name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # -- ops on symbolic tensors --------------------------------------------
    def _automl_symbolic_call(self, fn, args, kwargs):
        """Apply the ops function ``fn`` to ``args`` / ``kwargs`` holding KerasTensors: a new node."""
        from ..models.symbolic import symbolic_call

        return symbolic_call(fn, args, kwargs)

    def __add__(self, other):
        return _symbolic("add", self, other)

    def __radd__(self, other):
        return _symbolic("add", other, self)

    def __sub__(self, other):
        return _symbolic("subtract", self, other)

    def __rsub__(self, other):
        return _symbolic("subtract", other, self)

    def __mul__(self, other):
        return _symbolic("multiply", self, other)

    def __rmul__(self, other):
        return _symbolic("multiply", other, self)

    def __truediv__(self, other):
        return _symbolic("divide", self, other)

    def __rtruediv__(self, other):
        return _symbolic("divide", other, self)

    def __floordiv__(self, other):
        return _symbolic("floor_divide", self, other)

    def __rfloordiv__(self, other):
        return _symbolic("floor_divide", other, self)

    def __mod__(self, other):
        return _symbolic("mod", self, other)

    def __rmod__(self, other):
        return _symbolic("mod", other, self)

    def __pow__(self, other):
        return _symbolic("power", self, other)

    def __rpow__(self, other):
        return _symbolic("power", other, self)

    def __matmul__(self, other):
        return _symbolic("matmul", self, other)

    def __rmatmul__(self, other):
        return _symbolic("matmul", other, self)

    def __neg__(self):
        return _symbolic("negative", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _symbolic("absolute", self)

    def __lt__(self, other):
        return _symbolic("less", self, other)

    def __le__(self, other):
        return _symbolic("less_equal", self, other)

    def __gt__(self, other):
        return _symbolic("greater", self, other)

    def __ge__(self, other):
        return _symbolic("greater_equal", self, other)

    __hash__ = object.__hash__

    def __getitem__(self, key):
        return _symbolic("getitem", self, key)

    def __iter__(self):
        raise TypeError(f"Iterating over a symbolic tensor ({self!r}) is not supported; index it instead.")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"{self!r} is symbolic (it has a shape but no value): it cannot be converted to a NumPy "
            "array. Use automl.keras.ops functions or Python operators on it, or a Lambda layer."
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from ..models.symbolic import numpy_op, symbolic_call

        fn = numpy_op(ufunc) if method == "__call__" and kwargs.get("out") is None else None
        if fn is None:
            return NotImplemented
        return symbolic_call(fn, inputs, {k: v for k, v in kwargs.items() if k != "out"})

    def __array_function__(self, func, types, args, kwargs):
        from ..models.symbolic import numpy_op, symbolic_call

        fn = numpy_op(func)
        if fn is None:
            raise TypeError(
                f"np.{func.__name__} has no automl.keras.ops counterpart to apply to the symbolic "
                f"tensor {self!r}; use automl.keras.ops functions, or wrap the code in a Lambda layer."
            )
        return symbolic_call(fn, args, kwargs)




def _taped(call_method):
    """``__call__`` of a Layer subclass that overrides it, routed to the tape while one records."""

    @functools.wraps(call_method)
    def __call__(self, *args, **kwargs):  # noqa: N807
        if recording.STATE.tape is not None:
            return recording.STATE.tape.call(self, call_method, args, kwargs)
        out = call_method(self, *args, **kwargs)
        if self.supports_masking and args and getattr(out, "_keras_mask", None) is None:
            out = attach_mask(self, args[0], kwargs.get("mask"), out)
        return out

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
    #: Whether calls take any structure of tensors (several positional tensors, lists,
    #: tuples and dicts of tensors, tensor keyword arguments), as Keras layers do: the
    #: traced user-defined layers and models (see ``models.subclassing.generic_call``).
    _generic_call = False
    #: Whether ``training=`` given to a symbolic call is fixed for that call (Keras semantics,
    #: kept for models, ``base(x, training=False)``, and user-defined layers; built-in layers
    #: whose ``__call__`` passes a default ``training=False`` do not say what the user wrote).
    _records_training = False

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
            from ..models.subclassing import setup_class

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
        shape=None,
        initializer="glorot_uniform",
        name=None,
        trainable=True,
        regularizer=None,
        constraint=None,
        dtype=None,
    ) -> Variable:
        init = _initializers.get(initializer)
        shape = () if shape is None else (int(shape),) if isinstance(shape, (int, np.integer)) else shape
        _limits.charge(shape, dtype or self.dtype, self.name)  # a loader's budget, if any
        value = np.require(init(tuple(shape), dtype=dtype or self.dtype), requirements="C")
        var = Variable(
            value,
            name=f"{self.name}/{name or 'variable'}",
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
        # Keras semantics: setting it on a layer sets it on every layer it contains.
        self._trainable = bool(value)
        for layer in self._trainable_sublayers():
            layer.trainable = value

    def _trainable_sublayers(self) -> list:
        """The layers that setting ``trainable`` on this one also sets."""
        return [layer for layer in self._child_layers() if layer is not self]

    # -- graph accessors (functional API) -------------------------------------
    def _node_tensors(self, which):
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(
                f"Layer {self.name!r} has never been called on symbolic tensors and thus has no "
                f"defined {which}."
            )
        tensors = nodes[0][0 if which == "input" else 1]
        if which == "input":
            tensors = list(tensors)
            return tensors[0] if len(tensors) == 1 else tensors
        return tensors

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call (Keras semantics)."""
        return self._node_tensors("input")

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call (Keras semantics)."""
        return self._node_tensors("output")

    def _tracked_layers(self) -> list[Layer]:
        """The sublayers this layer owns (``_auto_track`` classes), in assignment order."""
        if not self._auto_track:
            return []
        from ..models.subclassing import tracked_layers

        return tracked_layers(self)

    def _own_variables(self) -> list[Variable]:
        """``add_weight`` results, plus (user-defined classes) Variables held by attributes."""
        if not self._auto_track:
            return self._variables
        return self._tracked_parts()[0]

    def _tracked_parts(self):
        """``(own variables, sublayers)`` of an ``_auto_track`` class, from one attribute scan."""
        from ..models.subclassing import tracked_parts

        variables, sublayers = tracked_parts(self)
        return _unique([*self._variables, *variables]), sublayers

    @property
    def weights(self) -> list[Variable]:
        if self._auto_track:
            own, subs = self._tracked_parts()
            return _unique([*own, *(v for la in subs for v in la.weights)]) if subs else own
        return list(self._variables)

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        if self._auto_track:
            own, subs = self._tracked_parts()
            own = [v for v in own if v.trainable]
            found = _unique([*own, *(v for la in subs for v in la.trainable_weights)]) if subs else own
            # A training run's tape reads its owner's weights once per run (weights_epoch): a
            # list found in this run serves it (see models.subclassing.Tape._owner_trainable).
            self.__dict__["_tape_trainable"] = (recording.STATE.weights_epoch, found)
            return list(found)
        return [v for v in self._variables if v.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return self.weights
        if self._auto_track:
            own, subs = self._tracked_parts()
            own = [v for v in own if not v.trainable]
            return _unique([*own, *(v for la in subs for v in la.non_trainable_weights)]) if subs else own
        return [v for v in self._variables if not v.trainable]

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
            if isinstance(input_shape, dict):  # a user-defined layer or model taking a dict
                input_shape = {k: tuple(v) for k, v in input_shape.items()}
            elif self._multi_input or (self._generic_call and isinstance(input_shape, list)
                                       and all(isinstance(v, (list, tuple)) for v in input_shape)):
                input_shape = [tuple(v) for v in input_shape]
            else:
                input_shape = tuple(input_shape)
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

    # -- losses added in call (Keras's add_loss) ------------------------------
    def add_loss(self, loss) -> None:
        """Add a loss term computed in ``call`` (a scalar or a tensor, summed), as in Keras.

        Training adds the terms of the latest forward pass to the compiled loss;
        written with ``automl.keras.ops`` (in a user-defined layer or model,
        whose call is traced), their gradients reach the weights they depend on.
        """
        recording.STATE.losses_used = True
        self.__dict__.setdefault("_added_losses", []).append(loss)
        if recording.STATE.tape is not None and isinstance(loss, Tensor):
            recording.STATE.tape.add_loss(loss)

    @property
    def losses(self) -> list:
        """The loss terms added by this layer and its sublayers in the latest forward pass."""
        found = [*self.__dict__.get("_added_losses", ())]
        for layer in self._all_sublayers():
            found.extend(layer.__dict__.get("_added_losses", ()))
        return [np.asarray(value_of(v)) for v in found]

    def _all_sublayers(self) -> list:
        """Every layer below this one (nested models, tracked sublayers, wrapped layers)."""
        out, seen, stack = [], {id(self)}, list(self._child_layers())
        while stack:
            layer = stack.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(layer._child_layers())
        return out

    def _child_layers(self) -> list:
        children = list(getattr(self, "layers", None) or []) if hasattr(type(self), "layers") else []
        children += self._tracked_layers()
        children += getattr(self, "_inner", None) or []
        return children

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
            outputs = self.call(inputs, training=training, mask=mask)
        else:
            outputs = self.call(inputs, training=training)
        if self.supports_masking:
            return outputs, self.compute_mask(inputs, mask)
        if mask is not None and not self._call_takes_mask and not getattr(self, "_mask_warned", False):
            self._mask_warned = True
            warnings.warn(
                f"Layer {self.name!r} (of type {type(self).__name__}) was passed an input with a "
                "mask attached to it. However, this layer does not support masking and will "
                "therefore destroy the mask information. Downstream layers will not see the mask.",
                UserWarning,
                stacklevel=3,
            )
        return outputs, None

    def __call__(self, *args, **kwargs):
        if recording.STATE.tape is not None:
            return recording.STATE.tape.call(self, Layer._eager_call, args, kwargs)
        return self._eager_call(*args, **kwargs)

    def _eager_call(self, *args, **kwargs):
        if self._generic_call:
            from ..models.subclassing import generic_call

            return generic_call(self, args, kwargs)
        return self._single_call(*args, **kwargs)

    def _single_call(self, inputs, training=None, mask=None):
        training_arg, training = training, bool(training)
        if self._multi_input:
            out = self._call_multi(list(inputs), training, mask)
            if self._records_training:
                record_training(out, training_arg)
            return out
        if isinstance(inputs, KerasTensor):
            self._maybe_build(inputs.shape)
            out = symbolic_outputs(self, self.compute_output_shape(inputs.shape), (inputs,))
            if self._records_training:
                record_training(out, training_arg)
            return attach_mask(self, inputs, mask, out)
        if mask is None:
            mask = getattr(inputs, "_keras_mask", None)  # a mask attached by the layer before
        x = np.asarray(inputs.value if isinstance(inputs, Tensor) else inputs)  # ops on Variables
        if x.dtype != self.dtype and self._cast_inputs and x.dtype.kind not in "USO":
            x = x.astype(self.dtype)
        self._maybe_build((None, *x.shape[1:]))
        if mask is not None and self._call_takes_mask:
            out = self.call(x, training=training, mask=np.asarray(mask, dtype=bool))
        else:
            out = self.call(x, training=training)
        return attach_mask(self, x, mask, out) if self.supports_masking else out

    def _call_multi(self, inputs, training, mask=None):
        if all(isinstance(t, KerasTensor) for t in inputs):
            shapes = [t.shape for t in inputs]
            self._maybe_build(shapes)
            return symbolic_outputs(self, self.compute_output_shape(shapes), tuple(inputs), multi=True)
        xs = [np.asarray(x.value if isinstance(x, Tensor) else x, dtype=self.dtype) for x in inputs]
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
        layer.__dict__.setdefault("_inbound_nodes", []).append((inputs, list(outputs)))
        return list(outputs)
    out = KerasTensor(shape, layer, inputs, layer.name)
    out.multi = multi
    layer.__dict__.setdefault("_inbound_nodes", []).append((inputs, out))
    return out


def record_training(outputs, training) -> None:
    """Fix ``training`` for the node of a symbolic call (Keras: ``base(x, training=False)``)."""
    if training is None:
        return
    first = outputs[0] if isinstance(outputs, list) else outputs
    if isinstance(first, KerasTensor):
        first.node.call_training = bool(training)


class MaskedArray(np.ndarray):
    """An eager layer output carrying its Keras mask in ``_keras_mask`` (the masking guide's API)."""

    _keras_mask = None


def attach_mask(layer, inputs, mask, out):
    """``out`` with the layer's output mask attached as ``_keras_mask`` (Keras semantics).

    Eager outputs (arrays) become :class:`MaskedArray` views; symbolic outputs
    get a boolean KerasTensor of the mask's shape, found from the input's
    mask (passed through by the default ``compute_mask``) or from
    ``compute_mask`` on dummy arrays.
    """
    try:
        if isinstance(out, KerasTensor):
            out._keras_mask = _symbolic_mask(layer, inputs, mask)
            return out
        if not isinstance(out, np.ndarray) or isinstance(inputs, (list, tuple, dict)):
            return out
        out_mask = layer.compute_mask(inputs, mask)
    except Exception:  # noqa: BLE001 -- a mask the layer cannot compute here is no mask
        return out
    if out_mask is None or isinstance(out_mask, (list, tuple)):
        return out
    out = out.view(MaskedArray)
    out._keras_mask = np.asarray(out_mask, dtype=bool)
    return out


def _symbolic_mask(layer, inputs, mask):
    in_mask = mask if mask is not None else getattr(inputs, "_keras_mask", None)
    if not layer.supports_masking or not isinstance(inputs, KerasTensor):
        return None
    if type(layer).compute_mask is Layer.compute_mask:
        return in_mask if isinstance(in_mask, KerasTensor) else None
    shape = tuple(2 if d is None else d for d in inputs.shape)
    dummy = np.ones(shape, dtype=inputs.dtype if inputs.dtype != "string" else object)
    dummy_mask = None if in_mask is None else np.ones(tuple(2 if d is None else d for d in in_mask.shape), bool)
    with np.errstate(all="ignore"):
        out_mask = layer.compute_mask(dummy, dummy_mask)
    if out_mask is None or isinstance(out_mask, (list, tuple)):
        return None
    ndim = np.ndim(out_mask)
    shape = inputs.shape[:ndim] if ndim <= len(inputs.shape) else (None, *np.shape(out_mask)[1:])
    return KerasTensor(shape, dtype="bool")  # masks cover the leading dimensions of the input


def check_positive_int(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise param_error(name, owner, "an int in the range [1, inf)", value)
    return int(value)

LAYERS.base = Layer
