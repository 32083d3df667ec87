"""Layer wrappers: Wrapper (base), Bidirectional and TimeDistributed.

A wrapper owns its inner layer(s): their weights are the wrapper's weights
(same ``Variable`` objects, so the model's packed buffers reach them), the
wrapper's ``trainable`` flag is passed down, and the inner layers' per-call
caches are snapshotted after each call so that a shared wrapper can be run
backward for each of its calls.
"""

from __future__ import annotations

import copy

import numpy as np

from ..._validation import Options, check_param, param_error
from ._base import LAYERS, KerasTensor, Layer, symbolic_outputs
from ._recurrent import _split_call_inputs

__all__ = ["Wrapper", "Bidirectional", "TimeDistributed"]


def _serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _deserialize(config, custom_objects=None):
    return LAYERS.deserialize(config, custom_objects=custom_objects)


def _snapshot(layer):
    return layer._call_state()  # a nested model's includes its layers' states


def _restore(layer, cache):
    layer._restore_call_state(cache)


@LAYERS.register
class Wrapper(Layer):
    """Base class of layers that wrap another layer.

    Parameters
    ----------
    layer : Layer
        The wrapped layer.
    """

    _cache_attrs = ("_inner_caches", "activity_penalty")

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise param_error("layer", type(self).__name__, "a Layer instance", layer)
        super().__init__(**kwargs)
        self.layer = layer
        self._inner_caches = ()

    @property
    def _inner(self) -> list[Layer]:
        return [self.layer]

    @property
    def activity_regularizer(self):
        """The inner layers' activity regularizer (their penalty is this layer's)."""
        for inner in self._inner:
            reg = getattr(inner, "activity_regularizer", None)
            if reg is not None:
                return reg
        return None

    def _collect_weights(self):
        self._variables = [v for inner in self._inner for v in inner.weights]

    def _prepare_inner(self):
        for inner in self._inner:
            inner._input_grad_needed = self._input_grad_needed
            if not self._trainable:
                inner.trainable = False

    def _after_call(self):
        inners = self._inner
        self._inner_caches = tuple(_snapshot(inner) for inner in inners)
        self.activity_penalty = float(sum(getattr(inner, "activity_penalty", 0.0) for inner in inners))

    def _before_backward(self):
        for inner, cache in zip(self._inner, self._inner_caches):
            _restore(inner, cache)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_inner_caches"] = ()
        return state

    def get_config(self):
        return {**super().get_config(), "layer": _serialize(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = _deserialize(config["layer"], custom_objects)
        return cls(**config)


@LAYERS.register
class TimeDistributed(Wrapper):
    """Applies a layer to every temporal slice of an input.

    The time axis (axis 1) is folded into the batch axis, the wrapped layer
    runs once on the ``(batch * timesteps, ...)`` array, and the result is
    unfolded, so the same weights serve every timestep. A mask passes through
    unchanged (and into the wrapped layer, folded the same way, when its
    ``call`` takes one).

    Parameters
    ----------
    layer : Layer
        The layer to apply (it sees inputs of shape ``(batch, *input_shape[2:])``).

    Notes
    -----
    Folding time into the batch is exact for layers that treat samples
    independently (Dense, convolutions, Dropout, ...). A ``BatchNormalization``
    wrapped here normalizes over batch and time together.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Dense, TimeDistributed
    >>> TimeDistributed(Dense(3))(np.ones((2, 5, 4))).shape
    (2, 5, 3)
    """

    supports_masking = True
    _cache_attrs = ("_inner_caches", "_in_shape", "activity_penalty")

    def _child_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed {self.name!r} needs inputs of at least 3 dimensions (batch, time, ...). "
                f"Got input shape {input_shape} instead."
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._child_shape(input_shape))
        self._collect_weights()

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], tuple(input_shape)[1], *child[1:])

    def call(self, inputs, training=False, mask=None):
        n, t = inputs.shape[:2]
        self._prepare_inner()
        folded = inputs.reshape(n * t, *inputs.shape[2:])
        if mask is not None and self.layer._call_takes_mask:
            mask = np.asarray(mask)
            y = self.layer.call(folded, training, mask=mask.reshape(n * t, *mask.shape[2:]))
        else:
            y = self.layer.call(folded, training)
        self._in_shape = inputs.shape
        self._after_call()
        return y.reshape(n, t, *y.shape[1:])

    def backward(self, grad):
        self._before_backward()
        g = self.layer.backward(grad.reshape(-1, *grad.shape[2:]))
        return None if g is None else g.reshape(self._in_shape)

    @property
    def activation(self):
        """The wrapped layer's activation when it has a logits backward (fused losses)."""
        if hasattr(self.layer, "backward_from_logits"):
            return getattr(self.layer, "activation", None)
        return None

    def backward_from_logits(self, grad_z):
        self._before_backward()
        g = self.layer.backward_from_logits(grad_z.reshape(-1, *grad_z.shape[2:]))
        return None if g is None else g.reshape(self._in_shape)


_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


@LAYERS.register
class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and a copy backwards, and merges their outputs.

    Parameters
    ----------
    layer : Layer
        A recurrent layer (``SimpleRNN``, ``LSTM``, ``GRU``, or any layer with
        ``go_backwards``, ``return_sequences`` and ``return_state``). A fresh
        copy is built from its config, so its weights are not reused.
    merge_mode : {"concat", "sum", "mul", "ave", None}, default="concat"
        How the two outputs are combined; None returns them as a list.
    weights : list of arrays, optional
        Initial weights: the forward layer's, then the backward layer's.
    backward_layer : Layer, optional
        The layer processing the reversed sequence (default: a copy of
        ``layer`` with ``go_backwards=True``).

    Notes
    -----
    When returning sequences, the backward outputs are flipped back to the
    input's time order before merging, and masked timesteps output zeros
    (``zero_output_for_mask``), as in Keras. With an ``initial_state``, its
    first half goes to the forward layer and its second half to the backward one.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Bidirectional, LSTM
    >>> Bidirectional(LSTM(4, return_sequences=True))(np.ones((2, 5, 3))).shape
    (2, 5, 8)
    """

    _cache_attrs = ("_inner_caches", "_with_states", "_outputs", "_out_spec", "activity_penalty")

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise param_error("layer", "Bidirectional", "a Layer instance", layer)
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise param_error("backward_layer", "Bidirectional", "a Layer instance or None", backward_layer)
        check_param("merge_mode", merge_mode, [Options(_MERGE_MODES)], "Bidirectional")
        for attr in ("go_backwards", "return_sequences", "return_state"):
            if not hasattr(layer, attr):
                raise ValueError(f"Bidirectional needs a recurrent layer with a {attr!r} attribute. "
                                 f"Got {type(layer).__name__} instead.")
        config = _serialize(layer)
        config["config"]["name"] = "forward_" + _removeprefix(layer.name, "forward_")
        forward = _deserialize(config)
        if backward_layer is None:
            config = _serialize(layer)
            config["config"]["go_backwards"] = True
            config["config"]["name"] = "backward_" + _removeprefix(layer.name, "backward_")
            backward_layer = _deserialize(config)
        super().__init__(forward, **kwargs)
        self.forward_layer = forward
        self.backward_layer = backward_layer
        if forward.go_backwards == backward_layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` values. Got "
                f"forward_layer.go_backwards={forward.go_backwards}, "
                f"backward_layer.go_backwards={backward_layer.go_backwards}."
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            fv, bv = getattr(forward, attr, None), getattr(backward_layer, attr, None)
            if fv != bv:
                raise ValueError(
                    f"Forward layer and backward layer are expected to have the same value for "
                    f"attribute {attr!r}. Got {fv!r} for the forward layer and {bv!r} for the backward layer."
                )
        for inner in (forward, backward_layer):
            if hasattr(inner, "zero_output_for_mask"):
                inner.zero_output_for_mask = inner.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state
        self.stateful = getattr(forward, "stateful", False)
        self.supports_masking = True
        if not self._trainable:
            self.trainable = False
        if weights is not None:
            half = len(weights) // 2
            self._pending_weights = (list(weights[:half]), list(weights[half:]))
        else:
            self._pending_weights = None
        self._with_states = False
        self._outputs = self._out_spec = None

    def reset_state(self):
        """Set the kept states of both directions back to zeros (stateful layers)."""
        for inner in (self.forward_layer, self.backward_layer):
            inner.reset_state()

    def reset_states(self):
        """Alias of :meth:`reset_state` (the Keras 2 name)."""
        self.reset_state()

    @property
    def _inner(self) -> list[Layer]:
        return [self.forward_layer, self.backward_layer]

    @property
    def _n_states(self) -> int:
        return len(getattr(self.forward_layer, "state_size", [])) if self.return_state else 0

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        if self._pending_weights is not None:
            self.forward_layer.set_weights(self._pending_weights[0])
            self.backward_layer.set_weights(self._pending_weights[1])
            self._pending_weights = None
        self._collect_weights()

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(tuple(input_shape))
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            outputs = [(*shape[:-1], shape[-1] * 2)]
        elif self.merge_mode is None:
            outputs = [tuple(shape), tuple(shape)]
        else:
            outputs = [tuple(shape)]
        outputs += states + states
        return outputs[0] if len(outputs) == 1 else outputs

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        masks = [out, out] if self.merge_mode is None else [out]
        masks += [None] * (2 * self._n_states)
        return masks[0] if len(masks) == 1 else masks

    def __call__(self, inputs, initial_state=None, mask=None, training=False):
        if isinstance(inputs, (list, tuple)):
            inputs, rest = inputs[0], list(inputs[1:])
            if rest:
                initial_state = rest
        if initial_state is not None and not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        if isinstance(inputs, KerasTensor):
            if mask is not None:
                raise NotImplementedError("Passing mask= to a layer call on symbolic tensors is not supported.")
            self._maybe_build(inputs.shape)
            shape = self.compute_output_shape(inputs.shape)
            if initial_state:
                return symbolic_outputs(self, shape, (inputs, *initial_state), multi=True)
            return symbolic_outputs(self, shape, (inputs,))
        x = np.asarray(inputs, dtype=self.dtype)
        self._maybe_build((None, *x.shape[1:]))
        if initial_state:
            x = [x, *(np.asarray(s, dtype=self.dtype) for s in initial_state)]
        mask = None if mask is None else np.asarray(mask, dtype=bool)
        return self.call(x, training=training, mask=mask)

    def call(self, inputs, training=False, mask=None, initial_state=None):
        x, mask, initial_state = _split_call_inputs(inputs, mask, initial_state)
        self._prepare_inner()
        self._with_states = bool(initial_state)
        fw_in, bw_in = x, x
        if initial_state:
            half = len(initial_state) // 2
            fw_in, bw_in = [x, *initial_state[:half]], [x, *initial_state[half:]]
        y = self._call_inner(self.forward_layer, fw_in, training, mask)
        y_rev = self._call_inner(self.backward_layer, bw_in, training, mask)
        states = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        self._out_spec = (y.shape, y_rev.shape, y.dtype)
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        self._outputs = (y, y_rev) if self.merge_mode == "mul" else None
        mode = self.merge_mode
        if mode == "concat":
            outputs = [np.concatenate([y, y_rev], axis=-1)]
        elif mode == "sum":
            outputs = [y + y_rev]
        elif mode == "ave":
            outputs = [(y + y_rev) * 0.5]
        elif mode == "mul":
            outputs = [y * y_rev]
        else:
            outputs = [y, np.ascontiguousarray(y_rev)]
        outputs += states
        self._after_call()
        return outputs[0] if len(outputs) == 1 else outputs

    def backward(self, grad):
        self._before_backward()
        grads = list(grad) if isinstance(grad, (list, tuple)) else [grad]
        n_out = 2 if self.merge_mode is None else 1
        g_out, g_states = grads[:n_out], grads[n_out:]
        mode = self.merge_mode
        if mode is None:
            gy, gy_rev = g_out
        else:
            g = g_out[0]
            if g is None:
                gy = gy_rev = None
            elif mode == "concat":
                units = g.shape[-1] // 2
                gy, gy_rev = g[..., :units], g[..., units:]
            elif mode == "sum":
                gy, gy_rev = g, g
            elif mode == "ave":
                gy = gy_rev = g * 0.5
            else:
                y, y_rev = self._outputs
                gy, gy_rev = g * y_rev, g * y
        if gy_rev is not None and self.return_sequences:
            gy_rev = gy_rev[:, ::-1]
        n_states = self._n_states
        fw_grad = self._inner_grad(gy, g_states[:n_states], 0)
        bw_grad = self._inner_grad(gy_rev, g_states[n_states:], 1)
        dx_f = self.forward_layer.backward(fw_grad)
        dx_b = self.backward_layer.backward(bw_grad)
        if dx_f is None or dx_b is None:
            return None
        if self._with_states:
            return [dx_f[0] + dx_b[0], *dx_f[1:], *dx_b[1:]]
        return dx_f + dx_b

    @staticmethod
    def _call_inner(layer, inputs, training, mask):
        if mask is not None and layer._call_takes_mask:
            return layer.call(inputs, training, mask=mask)
        return layer.call(inputs, training)

    def _inner_grad(self, g, g_states, which):
        if not self.return_state:
            if g is None:
                spec = self._out_spec
                g = np.zeros(spec[which], dtype=spec[2])
            return np.ascontiguousarray(g)
        return [None if g is None else np.ascontiguousarray(g), *g_states]

    def get_config(self):
        config = super().get_config()
        config["layer"] = _serialize(self.forward_layer)
        config["merge_mode"] = self.merge_mode
        config["backward_layer"] = _serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = _deserialize(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize(config["backward_layer"], custom_objects)
        return cls(**config)


def _removeprefix(text, prefix):
    return text[len(prefix):] if text.startswith(prefix) else text
