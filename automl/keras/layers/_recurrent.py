"""Recurrent layers: SimpleRNN, LSTM and GRU, with hand-written backpropagation through time.

Layout and cost
---------------
The sequence is processed time-major. The input projection of every timestep
is one GEMM, ``(T * N, D) @ (D, G * U)`` (G gates of U units), before the
loop; the loop over time then does one ``(N, U) @ (U, G * U)`` product and a
few in-place element-wise operations per step. Backward first forms, for all
timesteps at once, every factor that does not depend on the incoming gradient
(activation derivatives times the values they multiply), runs the loop in
reverse to get the gradients w.r.t. the gate pre-activations of every step
(a handful of products and one ``(N, G * U) @ (G * U, U)`` per step), then
forms the kernel, recurrent-kernel and bias gradients and the input gradient
with one GEMM each over all timesteps.

The LSTM works internally with its gates in the order (i, f, o, c) so that the
three recurrent-activation gates are one contiguous block; the weights keep
Keras's (i, f, c, o) layout, and gradients are written back in that layout.
With the default activations (tanh, sigmoid) the gate columns of the sigmoid
gates are pre-scaled by 1/2 so that one ``tanh`` over all gates gives every
activation (``sigmoid(z) = (1 + tanh(z / 2)) / 2``, exactly as the generic path).

Code layout
-----------
Each recurrence (``_SimpleRNNKernel``, ``_LSTMKernel``, ``_GRUKernel``, all
``_CellKernel``) holds the weights and runs a whole sequence, forward and
backward; ``_RNN`` is the layer around it (input layout, masks, states,
outputs). The layers combine the two; the cells of ``_rnn_cells`` (``LSTMCell``
...) reuse the recurrences and ``RNN(cell)`` reuses ``_RNN``, so
``RNN(LSTMCell(n))`` and ``LSTM(n)`` run the same code.

Semantics (as Keras 3)
----------------------
* ``go_backwards`` processes the reversed sequence and returns the outputs in
  processing order (the reversed sequence).
* A mask (``(batch, timesteps)``, True = keep) makes a masked timestep carry the
  previous state, and output the previous output (the carried ``h``); with
  ``zero_output_for_mask`` the output of a masked timestep is zero instead.
* ``dropout`` / ``recurrent_dropout`` draw one inverted-dropout mask per sample
  for the inputs / the recurrent state, fixed over the timesteps (one mask shared
  by the gates).
* ``return_state`` returns ``[output, *final_states]``; ``initial_state`` (call
  argument, or extra inputs ``[x, *states]``) sets the states at the first step
  and receives gradients.
* ``stateful=True`` keeps the final states of a batch as the initial states of
  the next one (sample ``i`` continues sample ``i``), for ``fit`` (use
  ``shuffle=False``), ``evaluate``, ``predict`` and direct calls alike, until
  ``reset_state()`` / ``reset_states()`` sets them back to zeros. The batch size
  must be fixed: from ``Input(batch_shape=...)`` / ``Input(batch_size=...)``,
  or the legacy ``batch_input_shape=`` / ``batch_size=`` layer arguments. An
  explicit ``initial_state`` takes precedence over the kept states. Gradients
  stop at the start of the batch (truncated backpropagation through time): the
  kept states are constants of the next batch. The kept states are not weights
  (as in Keras 3 they are not saved).
* ``unroll`` is accepted and ignored.
"""

from __future__ import annotations

import numpy as np

from ..._validation import Interval, Options, check_param
from .. import activations as _activations
from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..backend import make_rng
from ._base import LAYERS, KerasTensor, Layer, check_positive_int, symbolic_outputs

__all__ = ["SimpleRNN", "LSTM", "GRU"]

_INIT = _initializers.serialize
_REG = _regularizers.serialize
_CON = _constraints.serialize


def _forward_act(act, view):
    """Apply ``act`` to ``view`` in place."""
    out = act.forward(view)
    if out is not view:
        view[...] = out


def _derivative(act, y, z):
    """``act'(z)`` for every entry, from the activation's backward pass on ones.

    Used to form all timesteps' derivative factors in one vectorized pass
    before the backward loop, which then needs a single product per factor.
    """
    return act.backward(np.ones_like(y), y, z)


def _matrix(array, columns):
    """``array`` as a ``(-1, columns)`` view, never a copy (so that writes reach it)."""
    view = array.view()
    view.shape = (-1, columns)
    return view


def _check_elementwise(act, name, owner):
    if act.__name__ in ("softmax", "log_softmax"):
        raise ValueError(f"The {name!r} parameter of {owner} must be an element-wise activation. "
                         f"Got {act.__name__!r} instead.")
    return act


def _unit_forget_bias(bias_initializer, units):
    """Keras's LSTM bias initializer with ``unit_forget_bias``: ones for the forget gate."""

    def init(shape, dtype=None):
        parts = [bias_initializer((units,), dtype=dtype), np.ones((units,), dtype=dtype),
                 bias_initializer((2 * units,), dtype=dtype)]
        return np.concatenate(parts).astype(dtype)

    return init


def _split_call_inputs(inputs, mask, initial_state):
    """``call``'s ``[x, *initial_state]`` inputs and ``[mask, ...]`` masks, split into their parts."""
    if isinstance(inputs, (list, tuple)):
        inputs, initial_state = inputs[0], list(inputs[1:])
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    return inputs, mask, initial_state


class _CellKernel:
    """Shared part of a built-in recurrence (mixin of the layers and of the cells).

    Holds the cell-level arguments (units, activations, initializers,
    regularizers, constraints, dropout rates, seed) and the weights, and runs
    the whole sequence at once: :meth:`_seq_forward` does the input projection
    of every timestep as one GEMM and the time loop, :meth:`_seq_backward` the
    backpropagation through time. Both work time-major, in processing order
    (already reversed for ``go_backwards``), and keep nothing on ``self``: the
    caller stores the returned cache. Subclasses set ``_n_gates`` and
    ``_n_states`` and implement the weight creation (``_build_weights``), the
    internal weight layout (``_weights``), the time loop (``_loop``) and its
    reverse (``_loop_backward``), and the scatter of internal gradients into
    the weights' buffers (``_store_grads``).
    """

    _n_gates = 1
    _n_states = 1

    def _init_cell(self, arguments):
        """Check and set the cell-level arguments, read from ``arguments`` (the constructor's ``locals()``)."""
        a = arguments
        units, activation, recurrent_activation = a["units"], a["activation"], a["recurrent_activation"]
        dropout, recurrent_dropout, seed = a["dropout"], a["recurrent_dropout"], a["seed"]
        owner = type(self).__name__
        self.units = check_positive_int(units, "units", owner)
        self.activation = _check_elementwise(_activations.get(activation), "activation", owner)
        self.recurrent_activation = _check_elementwise(
            _activations.get(recurrent_activation), "recurrent_activation", owner)
        self.use_bias = bool(a["use_bias"])
        for option, get in (("initializer", _initializers.get), ("regularizer", _regularizers.get),
                            ("constraint", _constraints.get)):
            for weight in ("kernel", "recurrent", "bias"):
                key = f"{weight}_{option}"
                setattr(self, key, get(a[key]))
        rate = [Interval(float, 0, 1, closed="both")]
        self.dropout = float(check_param("dropout", dropout, rate, owner))
        self.recurrent_dropout = float(check_param("recurrent_dropout", recurrent_dropout, rate, owner))
        check_param("seed", seed, [None, Interval(int, 0, None)], owner)
        self.seed = seed
        self.kernel = self.recurrent_kernel = self.bias = None
        self._rng = None

    @property
    def _tanh_sigmoid(self):
        """Whether the activations are Keras's defaults (tanh, sigmoid): enables fast paths."""
        return (self.activation is _activations.get("tanh")
                and self.recurrent_activation is _activations.get("sigmoid"))

    def _dropout_mask(self, shape, rate, dtype):
        if self._rng is None:
            self._rng = make_rng(self.seed)
        keep = self._rng.random(shape, dtype=np.float32) >= rate
        return keep.astype(dtype) * dtype.type(1.0 / (1.0 - rate))

    def _add_kernels(self, input_dim, bias_shape, bias_initializer):
        gu = self._n_gates * self.units
        self.kernel = self.add_weight((input_dim, gu), self.kernel_initializer, "kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, gu), self.recurrent_initializer,
                                                "recurrent_kernel", regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(bias_shape, bias_initializer, "bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _cell_config(self):
        return {
            "units": self.units,
            "activation": _activations.serialize(self.activation),
            "recurrent_activation": _activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _INIT(self.kernel_initializer),
            "recurrent_initializer": _INIT(self.recurrent_initializer),
            "bias_initializer": _INIT(self.bias_initializer),
            "kernel_regularizer": _REG(self.kernel_regularizer),
            "recurrent_regularizer": _REG(self.recurrent_regularizer),
            "bias_regularizer": _REG(self.bias_regularizer),
            "kernel_constraint": _CON(self.kernel_constraint),
            "recurrent_constraint": _CON(self.recurrent_constraint),
            "bias_constraint": _CON(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }

    # -- the whole sequence ---------------------------------------------------
    def _seq_forward(self, xt, keep, notm, states, training):
        """Run the recurrence over ``xt`` ``(T, N, D)``; ``(outputs (T, N, U), final states, cache)``.

        ``keep``/``notm`` are the ``(T, N, 1)`` mask and its negation (or None),
        ``states`` the initial states (arrays of shape ``(N, units)``).
        """
        t_steps, n, d = xt.shape
        dtype = np.dtype(self.dtype)
        units = self.units
        dmask = rmask = None
        if training and 0.0 < self.dropout < 1.0:
            dmask = self._dropout_mask((n, d), self.dropout, dtype)
            x2 = (xt * dmask).reshape(t_steps * n, d)
        else:
            x2 = np.ascontiguousarray(xt, dtype=dtype).reshape(t_steps * n, d)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            rmask = self._dropout_mask((n, units), self.recurrent_dropout, dtype)
        w = self._weights()
        z = x2 @ w.get("kernel_fw", w["kernel"])
        if w["bias_in"] is not None:
            z += w["bias_in"]
        z = z.reshape(t_steps, n, -1)
        cache = {"x2": x2, "z": z, "dmask": dmask, "rmask": rmask, "keep": keep, "notm": notm,
                 "n": n, "t": t_steps, "d": d,
                 "kernel": w["kernel"], "recurrent": w["recurrent"], "bias_rec": w["bias_rec"],
                 "recurrent_fw": w.get("recurrent_fw", w["recurrent"])}
        h_all = self._loop(cache, [np.asarray(s, dtype=dtype).reshape(n, units) for s in states])
        return h_all[1:], self._final_states(cache), cache

    def _seq_backward(self, cache, d_seq, d_last, d_states, need_dx):
        """Backpropagation through time: ``(dx (T, N, D) or None, gradients of the initial states)``.

        ``d_seq`` is the gradient of the outputs of every step (or None),
        ``d_last`` the one of the last output (or None), ``d_states`` the ones
        of the final states (owned arrays, modified in place). The weights'
        gradients are written into their buffers.
        """
        n, t_steps = cache["n"], cache["t"]
        if d_last is not None:
            d_states[0] += d_last  # the last output is the final hidden state
        dz, drz, d_init = self._loop_backward(cache, d_seq, d_states)
        dz2 = dz.reshape(t_steps * n, dz.shape[-1])
        if self._trainable:
            d_kernel = self._kernel_grad(cache, dz2)
            h_prev = cache["h"][:t_steps]
            if cache["rmask"] is not None:
                h_prev = h_prev * cache["rmask"]
            d_recurrent = self._recurrent_grad(cache, h_prev, drz)
            d_bias_in = dz2.sum(axis=0) if self.use_bias else None
            d_bias_rec = (drz.reshape(t_steps * n, -1).sum(axis=0)
                          if self.use_bias and cache["bias_rec"] is not None else None)
            self._store_grads(d_kernel, d_recurrent, d_bias_in, d_bias_rec)
        if not need_dx:
            return None, d_init
        return self._input_grad(cache, dz2), d_init

    def _kernel_grad(self, cache, dz2):
        """The kernel gradient (as a matrix) from the gate pre-activation gradients."""
        return cache["x2"].T @ dz2

    def _input_grad(self, cache, dz2):
        """The gradient w.r.t. the (time-major) inputs from the gate pre-activation gradients."""
        dx = (dz2 @ cache["kernel"].T).reshape(cache["t"], cache["n"], cache["d"])
        if cache["dmask"] is not None:
            dx *= cache["dmask"]
        return dx

    def _recurrent_grad(self, cache, h_prev, drz):
        t_steps, n = cache["t"], cache["n"]
        return h_prev.reshape(t_steps * n, -1).T @ drz.reshape(t_steps * n, -1)


class _RNN(Layer):
    """Layer-level machinery of the recurrent layers (call, masks, states, outputs, backward).

    The recurrence itself is run by :meth:`_run_forward` / :meth:`_run_backward`,
    which default to the layer's own :class:`_CellKernel` methods (SimpleRNN,
    LSTM, GRU) and are overridden by ``RNN`` to run its cell. Sizes come from
    ``_state_sizes`` (flat list of the state widths) and ``_output_size``.
    """

    _cache_attrs = ("_cache", "activity_penalty")

    def __init__(self, **kwargs):
        # The legacy ways to fix the batch size of a stateful layer (tf.keras):
        # ``batch_size=`` and the first entry of ``batch_input_shape=``.
        batch = kwargs.pop("batch_size", None)
        if batch is None and kwargs.get("batch_input_shape") is not None:
            batch = tuple(kwargs["batch_input_shape"])[0]
        super().__init__(**kwargs)
        self._batch_hint = None if batch is None else int(batch)
        self.states = None

    def _init_rnn(self, arguments):
        """Check and set the cell and layer arguments, read from the constructor's ``locals()``."""
        self._init_cell(arguments)
        self.activity_regularizer = _regularizers.get(arguments["activity_regularizer"])
        self._init_layer(arguments["return_sequences"], arguments["return_state"],
                         arguments["go_backwards"], arguments["stateful"], arguments["unroll"],
                         arguments["zero_output_for_mask"])

    def _init_layer(self, return_sequences, return_state, go_backwards, stateful, unroll,
                    zero_output_for_mask):
        owner = type(self).__name__
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        del owner
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self._cache = None

    @property
    def state_size(self):
        return [self.units] * self._n_states

    @property
    def _state_sizes(self):
        return self.state_size

    @property
    def _state_shapes(self):
        """The shape of each state without the batch axis (``(units,)``; spatial for ConvLSTM)."""
        return [(size,) for size in self._state_sizes]

    @property
    def _output_size(self):
        return self.units

    def _step_output_shape(self, input_shape):
        """The shape of one timestep's output without the batch axis."""
        return (self._output_size,)

    # -- shapes and masks ---------------------------------------------------
    def _check_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of shape (batch, timesteps, "
                f"features) with a defined feature dimension. Got input shape {input_shape} instead."
            )
        return input_shape

    def build(self, input_shape):
        input_shape = self._check_shape(input_shape)
        self._build_weights(input_shape[-1])
        self._build_states(input_shape)

    # -- stateful layers ------------------------------------------------------
    def _build_states(self, input_shape):
        """Create the kept states of a stateful layer, once its batch size is known."""
        if not self.stateful:
            return
        batch = input_shape[0] if input_shape[0] is not None else getattr(self, "_batch_hint", None)
        if batch is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} has stateful=True and needs a fixed batch size. "
                f"Got input shape {tuple(input_shape)} (batch size None) instead: start the model with "
                "Input(batch_shape=(batch, timesteps, features)) or Input(shape=..., batch_size=batch)."
            )
        dtype = np.dtype(self.dtype)
        self.states = [np.zeros((int(batch), *shape), dtype=dtype) for shape in self._state_shapes]

    def reset_state(self):
        """Set the kept states of a stateful layer back to zeros (no-op when not stateful)."""
        if self.states is not None:
            for state in self.states:
                state[...] = 0.0

    def reset_states(self):
        """Alias of :meth:`reset_state` (the Keras 2 name)."""
        self.reset_state()

    def _kept_states(self, n):
        """The states a stateful layer carries into a batch of ``n`` samples."""
        if self.states is None:
            self._build_states((None,))
        batch = self.states[0].shape[0]
        if n != batch:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} has stateful=True and was built for batches of "
                f"{batch} samples. Got a batch of {n} samples instead: every batch of a stateful "
                f"model must have {batch} samples (use a number of samples divisible by the batch size)."
            )
        return [s.copy() for s in self.states]

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        batch, step = input_shape[0], self._step_output_shape(input_shape)
        out = (batch, input_shape[1], *step) if self.return_sequences else (batch, *step)
        if self.return_state:
            return [out, *((batch, *shape) for shape in self._state_shapes)]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out, *([None] * len(self._state_sizes))]
        return out

    # -- calling ------------------------------------------------------------
    def __call__(self, inputs, initial_state=None, mask=None, training=False):
        if isinstance(inputs, (list, tuple)):
            inputs, rest = inputs[0], list(inputs[1:])
            if rest:
                if initial_state is not None:
                    raise ValueError(f"{type(self).__name__} got initial states both in the inputs list "
                                     "and as initial_state=.")
                initial_state = rest
        if initial_state is not None and not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        n_states = len(self._state_sizes)
        if initial_state is not None and len(initial_state) != n_states:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects {n_states} initial state(s). "
                f"Got {len(initial_state)} instead."
            )
        if isinstance(inputs, KerasTensor):
            if mask is not None:
                raise NotImplementedError(
                    "Passing mask= to a layer call on symbolic tensors is not supported; masks come "
                    "from Embedding(mask_zero=True) or Masking layers upstream."
                )
            self._maybe_build(inputs.shape)
            shape = self.compute_output_shape(inputs.shape)
            if initial_state:
                if not all(isinstance(s, KerasTensor) for s in initial_state):
                    raise TypeError("The initial_state of a symbolic call must hold symbolic tensors.")
                return symbolic_outputs(self, shape, (inputs, *initial_state), multi=True)
            return symbolic_outputs(self, shape, (inputs,))
        x = np.asarray(inputs)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        # A stateful layer called on data learns its batch size from it (as Keras builds with it).
        self._maybe_build((x.shape[0] if self.stateful else None, *x.shape[1:]))
        if initial_state:
            x = [x, *(np.asarray(s, dtype=self.dtype) for s in initial_state)]
        mask = None if mask is None else np.asarray(mask, dtype=bool)
        return self.call(x, training=training, mask=mask)

    def _run_forward(self, xt, keep, notm, states, training):
        return self._seq_forward(xt, keep, notm, states, training)

    def _run_backward(self, cache, d_seq, d_last, d_states, need_dx):
        return self._seq_backward(cache, d_seq, d_last, d_states, need_dx)

    def call(self, inputs, training=False, mask=None, initial_state=None):
        x, mask, initial_state = _split_call_inputs(inputs, mask, initial_state)
        n, t_steps, d = x.shape[:3]
        dtype = np.dtype(self.dtype)
        if x.dtype != dtype:
            x = x.astype(dtype)
        xt = x.swapaxes(0, 1)  # time-major
        if self.go_backwards:
            xt = xt[::-1]
        keep = notm = None
        if mask is not None:
            m = np.asarray(mask, dtype=bool).T
            if self.go_backwards:
                m = m[::-1]
            keep = m.reshape(m.shape + (1,) * (x.ndim - 2))  # (T, N, 1, ...): broadcasts over a step
            notm = ~keep
        shapes = self._state_shapes
        if initial_state:
            states = [np.asarray(s, dtype=dtype).reshape(n, *shape) for s, shape in zip(initial_state, shapes)]
        elif self.stateful:
            states = self._kept_states(n)
        else:
            states = [np.zeros((n, *shape), dtype=dtype) for shape in shapes]
        seq, final_states, cache = self._run_forward(xt, keep, notm, states, training)
        if self.stateful:
            # The next batch starts from these; no gradient flows back into this batch.
            self.states = [np.array(s, dtype=dtype) for s in final_states]
        cache.update({"n": n, "t": t_steps, "d": d, "keep": keep, "with_states": bool(initial_state)})
        self._cache = cache
        if self.return_sequences:
            y = seq
            if self.zero_output_for_mask and keep is not None:
                y = y * keep
            output = np.ascontiguousarray(y.swapaxes(0, 1))
        else:
            output = seq[t_steps - 1].copy()
            if self.zero_output_for_mask and keep is not None:
                output *= keep[t_steps - 1]
        outputs = [output]
        if self.return_state:
            outputs += [s.copy() for s in final_states]
        if self.activity_regularizer is not None:
            self.activity_penalty = float(sum(self.activity_regularizer(o) for o in outputs))
            cache["outputs"] = outputs
        return outputs if self.return_state else output

    def backward(self, grad):
        cache = self._cache
        n, t_steps = cache["n"], cache["t"]
        grads = list(grad) if self.return_state else [grad]
        if self.activity_regularizer is not None:
            for i, out in enumerate(cache["outputs"]):
                g = np.zeros_like(out) if grads[i] is None else np.array(grads[i], dtype=out.dtype)
                self.activity_regularizer.add_gradient(out, g)
                grads[i] = g
        dtype = np.dtype(self.dtype)
        g_out = grads[0]
        keep = cache["keep"]
        d_seq = d_last = None
        shapes = self._state_shapes
        d_states = [np.zeros((n, *s), dtype=dtype) if g is None else np.array(g, dtype=dtype)
                    for g, s in zip(grads[1:], shapes)] or [np.zeros((n, *s), dtype=dtype) for s in shapes]
        if g_out is not None:
            if self.return_sequences:
                d_seq = g_out.swapaxes(0, 1)  # outputs are in processing order
                if self.zero_output_for_mask and keep is not None:
                    d_seq = d_seq * keep
            else:
                d_last = g_out * keep[t_steps - 1] if (self.zero_output_for_mask and keep is not None) else g_out
        dx, d_init = self._run_backward(cache, d_seq, d_last, d_states, self._input_grad_needed)
        if not self._input_grad_needed:
            return None
        if self.go_backwards:
            dx = dx[::-1]
        dx = np.ascontiguousarray(dx.swapaxes(0, 1))
        if cache["with_states"]:
            return [dx, *d_init]
        return dx

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_cache"] = None
        return state

    def _layer_config(self):
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    # -- config ------------------------------------------------------------
    def get_config(self):
        config = {**super().get_config(), **self._layer_config(), **self._cell_config()}
        config["activity_regularizer"] = _REG(self.activity_regularizer)
        return config


_RNN_DOC_COMMON = """
    use_bias : bool, default=True
    kernel_initializer : str or Initializer, default="glorot_uniform"
    recurrent_initializer : str or Initializer, default="orthogonal"
    bias_initializer : str or Initializer, default="zeros"
    kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer : optional
    kernel_constraint, recurrent_constraint, bias_constraint : optional
    dropout : float, default=0.0
        Fraction of the input units to drop (one mask per sample, fixed over time).
    recurrent_dropout : float, default=0.0
        Fraction of the recurrent-state units to drop in the recurrent product.
    seed : int, optional
        Seed of the dropout masks.
    return_sequences : bool, default=False
        Return the output of every timestep ``(batch, timesteps, units)``
        instead of the last one.
    return_state : bool, default=False
        Also return the final state(s): the call returns ``[output, *states]``.
    go_backwards : bool, default=False
        Process the sequence backwards (and return the reversed sequence).
    stateful : bool, default=False
        Keep the final states of each batch as the initial states of the next
        (needs a fixed batch size, see the module notes); ``reset_state()``
        sets them back to zeros.
    unroll : bool, default=False
        Accepted for compatibility and ignored.
    zero_output_for_mask : bool, default=False
        Whether masked timesteps output zeros instead of the previous output.
"""


class _SimpleRNNKernel(_CellKernel):
    """The SimpleRNN recurrence ``h_t = activation(x_t W + h_{t-1} U + b)`` (layer and cell)."""

    def get_config(self):  # no recurrent activation (Keras's SimpleRNN and SimpleRNNCell)
        config = super().get_config()
        del config["recurrent_activation"]
        return config

    def _build_weights(self, input_dim):
        self._add_kernels(input_dim, (self.units,), self.bias_initializer)

    def _weights(self):
        bias = self.bias.value if self.use_bias else None
        return {"kernel": self.kernel.value, "recurrent": self.recurrent_kernel.value, "bias_in": bias,
                "bias_rec": None}

    def _loop(self, cache, states):
        z, keep, notm, rmask = cache["z"], cache["keep"], cache["notm"], cache["rmask"]
        rec, act = cache["recurrent"], self.activation
        t_steps, n = cache["t"], cache["n"]
        h = np.empty((t_steps + 1, n, self.units), dtype=z.dtype)
        h[0] = states[0]
        pre = np.empty_like(z) if act.needs_input else None
        tmp = np.empty((n, self.units), dtype=z.dtype)
        for t in range(t_steps):
            hp = h[t] if rmask is None else h[t] * rmask
            np.matmul(hp, rec, out=tmp)
            zt = z[t]
            zt += tmp
            if pre is not None:
                pre[t] = zt
            _forward_act(act, zt)
            h[t + 1] = zt
            if keep is not None:
                np.copyto(h[t + 1], h[t], where=notm[t])
        cache["h"], cache["pre"] = h, pre
        return h

    def _final_states(self, cache):
        return [cache["h"][cache["t"]]]

    def _loop_backward(self, cache, d_seq, d_states):
        z, keep, notm, rmask = cache["z"], cache["keep"], cache["notm"], cache["rmask"]
        rec_t = cache["recurrent"].T
        # dz[t] starts as act'(z_t) (zero where masked) and becomes the gradient in place.
        dz = _derivative(self.activation, z, cache["pre"])
        if keep is not None:
            dz *= keep
        dh = d_states[0]
        for t in range(cache["t"] - 1, -1, -1):
            if d_seq is not None:
                dh += d_seq[t]
            dzt = dz[t]
            dzt *= dh
            dh_new = dzt @ rec_t
            if rmask is not None:
                dh_new *= rmask
            if keep is not None:
                np.copyto(dh_new, dh, where=notm[t])
            dh = dh_new
        return dz, dz, [dh]

    def _store_grads(self, d_kernel, d_recurrent, d_bias, _):
        self.kernel.grad[...] = d_kernel
        self.recurrent_kernel.grad[...] = d_recurrent
        if self.use_bias:
            self.bias.grad[...] = d_bias


@LAYERS.register
class SimpleRNN(_SimpleRNNKernel, _RNN):
    """Fully-connected RNN whose output is fed back: ``h_t = activation(x_t W + h_{t-1} U + b)``.

    Parameters
    ----------
    units : int
    activation : str or Activation, default="tanh"
    {common}
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import SimpleRNN
    >>> SimpleRNN(4, return_sequences=True)(np.ones((2, 5, 3))).shape
    (2, 5, 4)
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, seed=None, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self._init_rnn({**locals(), "recurrent_activation": "linear"})


class _LSTMKernel(_CellKernel):
    """The LSTM recurrence (layer and cell); internally the gates are ordered (i, f, o, c)."""

    _n_gates = 4
    _n_states = 2

    @property
    def _perm(self):
        """Internal gate order (i, f, o, c): the recurrent-activation gates are one block."""
        u = self.units
        return np.r_[0:2 * u, 3 * u:4 * u, 2 * u:3 * u]

    def _build_weights(self, input_dim):
        init = self.bias_initializer
        if self.unit_forget_bias:
            init = _unit_forget_bias(self.bias_initializer, self.units)
        self._add_kernels(input_dim, (4 * self.units,), init)

    def _weights(self):
        p, gu = self._perm, 4 * self.units
        # Kernels as matrices (a view: ConvLSTM kernels are (*kernel_size, channels, 4 * filters)).
        w = {"kernel": self.kernel.value.reshape(-1, gu)[:, p],
             "recurrent": self.recurrent_kernel.value.reshape(-1, gu)[:, p],
             "bias_in": self.bias.value[p] if self.use_bias else None, "bias_rec": None}
        if self._tanh_sigmoid:
            # sigmoid(z) = (1 + tanh(z / 2)) / 2: with the (i, f, o) columns halved, one tanh
            # over all gates gives every activation (exactly the values of the generic path).
            u3 = 3 * self.units
            w["kernel_fw"], w["recurrent_fw"] = w["kernel"].copy(), w["recurrent"].copy()
            w["kernel_fw"][:, :u3] *= 0.5
            w["recurrent_fw"][:, :u3] *= 0.5
            if self.use_bias:
                w["bias_in"][:u3] *= 0.5
        return w

    def _loop(self, cache, states):
        z, keep, notm, rmask = cache["z"], cache["keep"], cache["notm"], cache["rmask"]
        rec = cache["recurrent_fw"]
        act, ract = self.activation, self.recurrent_activation
        fast = self._tanh_sigmoid
        t_steps, n, u = cache["t"], cache["n"], self.units
        dtype = z.dtype
        h = np.empty((t_steps + 1, n, u), dtype=dtype)
        c = np.empty((t_steps + 1, n, u), dtype=dtype)
        tc = np.empty((t_steps, n, u), dtype=dtype)
        h[0], c[0] = states
        pre = np.empty_like(z) if (act.needs_input or ract.needs_input) else None
        tmp = np.empty((n, 4 * u), dtype=dtype)
        tmp_u = np.empty((n, u), dtype=dtype)
        rec_product = self._recurrent_product(cache, rec)
        for t in range(t_steps):
            hp = h[t] if rmask is None else h[t] * rmask
            rec_product(hp, tmp, t)
            zt = z[t]
            zt += tmp
            if fast:
                np.tanh(zt, out=zt)
                gates = zt[:, :3 * u]
                gates += 1.0
                gates *= 0.5
            else:
                if pre is not None:
                    pre[t] = zt
                _forward_act(ract, zt[:, :3 * u])
                _forward_act(act, zt[:, 3 * u:])
            ct = c[t + 1]
            np.multiply(zt[:, u:2 * u], c[t], out=ct)
            np.multiply(zt[:, :u], zt[:, 3 * u:], out=tmp_u)
            ct += tmp_u
            if keep is not None:
                np.copyto(ct, c[t], where=notm[t])
            tct = tc[t]
            if fast:
                np.tanh(ct, out=tct)
            else:
                tct[...] = ct
                _forward_act(act, tct)
            np.multiply(zt[:, 2 * u:3 * u], tct, out=h[t + 1])
            if keep is not None:
                np.copyto(h[t + 1], h[t], where=notm[t])
        cache["h"], cache["c"], cache["tc"], cache["pre"] = h, c, tc, pre
        return h

    def _final_states(self, cache):
        t = cache["t"]
        return [cache["h"][t], cache["c"][t]]

    # The recurrent product of the loop, ``h_prev @ U`` (ConvLSTM: a convolution), and its adjoint.
    def _recurrent_product(self, cache, rec):
        """``f(hp, out, t)`` writing the recurrent pre-activations of step ``t`` into ``out``."""
        def product(hp, out, t):
            np.matmul(hp, rec, out=out)
        return product

    def _recurrent_product_t(self, cache, rec):
        """``f(dz_t, t)``: the gradient w.r.t. ``hp`` of step ``t`` from its pre-activation gradient."""
        rec_t = rec.T

        def adjoint(dz_t, t):
            return dz_t @ rec_t
        return adjoint

    def _loop_backward(self, cache, d_seq, d_states):
        z, keep, notm, rmask, pre = cache["z"], cache["keep"], cache["notm"], cache["rmask"], cache["pre"]
        c, tc = cache["c"], cache["tc"]
        rec_back = self._recurrent_product_t(cache, cache["recurrent"])
        act, ract = self.activation, self.recurrent_activation
        t_steps, n, u = cache["t"], cache["n"], self.units
        i_g, o_g, g_g = z[..., :u], z[..., 2 * u:3 * u], z[..., 3 * u:]
        # Everything that does not depend on the incoming gradients, for all timesteps at
        # once: dz = act'(gates) * [g * dc, c_prev * dc, act(c) * dh, i * dc] (blocks i, f, o, g),
        # with dc = dc_next + dh * o * act'(c). dz[t] is then finished in place in the loop.
        if self._tanh_sigmoid:
            dz = np.subtract(1.0, z)
            dz *= z
            d_g = dz[..., 3 * u:]
            np.multiply(g_g, g_g, out=d_g)
            np.subtract(1.0, d_g, out=d_g)
            oc = tc * tc
            np.subtract(1.0, oc, out=oc)
        else:
            dz = np.empty_like(z)
            dz[..., :3 * u] = _derivative(ract, z[..., :3 * u], None if pre is None else pre[..., :3 * u])
            dz[..., 3 * u:] = _derivative(act, g_g, None if pre is None else pre[..., 3 * u:])
            oc = _derivative(act, tc, c[1:])
        oc *= o_g
        dz4 = dz.reshape(t_steps, n, 4, u)
        dz4[:, :, 0] *= g_g
        dz4[:, :, 1] *= c[:t_steps]
        dz4[:, :, 2] *= tc
        dz4[:, :, 3] *= i_g
        if keep is not None:  # masked steps pass the state gradients through untouched
            dz *= keep
            oc *= keep
        dh, dc = d_states
        tmp_u = np.empty_like(dc)
        for t in range(t_steps - 1, -1, -1):
            if d_seq is not None:
                dh += d_seq[t]
            np.multiply(dh, oc[t], out=tmp_u)
            if keep is None:
                dc += tmp_u  # dc is not needed afterwards
                dc_c = dc
            else:
                dc_c = dc + tmp_u  # dc is kept for the masked rows
            dzt = dz4[t]
            dzt[:, :2] *= dc_c[:, None]
            dzt[:, 2] *= dh
            dzt[:, 3] *= dc_c
            dc_new = dc_c * z[t, :, u:2 * u]
            dh_new = rec_back(dz[t], t)
            if rmask is not None:
                dh_new *= rmask
            if keep is not None:
                np.copyto(dh_new, dh, where=notm[t])
                np.copyto(dc_new, dc, where=notm[t])
            dh, dc = dh_new, dc_new
        return dz, dz, [dh, dc]

    def _store_grads(self, d_kernel, d_recurrent, d_bias, _):
        p, gu = self._perm, 4 * self.units
        _matrix(self.kernel.grad, gu)[:, p] = d_kernel
        _matrix(self.recurrent_kernel.grad, gu)[:, p] = d_recurrent
        if self.use_bias:
            self.bias.grad[p] = d_bias


@LAYERS.register
class LSTM(_LSTMKernel, _RNN):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997).

    With gates ``i, f, o = recurrent_activation(...)`` and the candidate
    ``g = activation(...)`` (each ``x_t W + h_{t-1} U + b`` over its block of
    the kernels, laid out ``i, f, c, o`` as in Keras),
    ``c_t = f * c_{t-1} + i * g`` and ``h_t = o * activation(c_t)``.

    Parameters
    ----------
    units : int
    activation : str or Activation, default="tanh"
    recurrent_activation : str or Activation, default="sigmoid"
    unit_forget_bias : bool, default=True
        Initialize the forget-gate bias to one (and the rest with ``bias_initializer``).
    {common}
    use_cudnn : {"auto", True, False}, default="auto"
        Accepted for compatibility and ignored.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import LSTM
    >>> output, h, c = LSTM(4, return_state=True)(np.ones((2, 5, 3)))
    >>> output.shape, h.shape, c.shape
    ((2, 4), (2, 4), (2, 4))
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, use_cudnn="auto",
                 zero_output_for_mask=False, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(**kwargs)
        self._init_rnn(locals())
        self.unit_forget_bias = bool(unit_forget_bias)
        check_param("use_cudnn", use_cudnn, [Options(("auto", True, False))], "LSTM")
        self.use_cudnn = use_cudnn

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class _GRUKernel(_CellKernel):
    """The GRU recurrence (layer and cell), both ``reset_after`` conventions."""

    _n_gates = 3

    def _build_weights(self, input_dim):
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._add_kernels(input_dim, shape, self.bias_initializer)

    def _weights(self):
        w = {"kernel": self.kernel.value, "recurrent": self.recurrent_kernel.value, "bias_in": None,
             "bias_rec": None}
        if self.use_bias:
            if self.reset_after:
                w["bias_in"], w["bias_rec"] = self.bias.value[0], self.bias.value[1]
            else:
                w["bias_in"] = self.bias.value
        return w

    def _loop(self, cache, states):
        z, keep, notm, rmask = cache["z"], cache["keep"], cache["notm"], cache["rmask"]
        rec, b_rec = cache["recurrent"], cache["bias_rec"]
        act, ract = self.activation, self.recurrent_activation
        t_steps, n, u = cache["t"], cache["n"], self.units
        dtype = z.dtype
        h = np.empty((t_steps + 1, n, u), dtype=dtype)
        h[0] = states[0]
        # reset_after: the recurrent candidate term (h U_h + b_rh) before the reset gate;
        # otherwise the reset state r * h that multiplies U_h.
        rh = np.empty((t_steps, n, u), dtype=dtype)
        pre = np.empty_like(z) if (act.needs_input or ract.needs_input) else None
        tmp = np.empty((n, 3 * u), dtype=dtype)
        tmp_u = np.empty((n, u), dtype=dtype)
        rec_zr, rec_h = rec[:, :2 * u], rec[:, 2 * u:]
        for t in range(t_steps):
            hp = h[t] if rmask is None else h[t] * rmask
            zt = z[t]
            if self.reset_after:
                np.matmul(hp, rec, out=tmp)
                if b_rec is not None:
                    tmp += b_rec
                zt[:, :2 * u] += tmp[:, :2 * u]
                rh[t] = tmp[:, 2 * u:]
            else:
                zt[:, :2 * u] += hp @ rec_zr
            if pre is not None:
                pre[t, :, :2 * u] = zt[:, :2 * u]
            _forward_act(ract, zt[:, :2 * u])
            if self.reset_after:
                np.multiply(zt[:, u:2 * u], rh[t], out=tmp_u)
            else:
                np.multiply(zt[:, u:2 * u], hp, out=rh[t])
                np.matmul(rh[t], rec_h, out=tmp_u)
            hh = zt[:, 2 * u:]
            hh += tmp_u
            if pre is not None:
                pre[t, :, 2 * u:] = hh
            _forward_act(act, hh)
            # h = hh + z * (h_prev - hh)
            ht = h[t + 1]
            np.subtract(h[t], hh, out=ht)
            ht *= zt[:, :u]
            ht += hh
            if keep is not None:
                np.copyto(ht, h[t], where=notm[t])
        cache["h"], cache["rh"], cache["pre"] = h, rh, pre
        return h

    def _final_states(self, cache):
        return [cache["h"][cache["t"]]]

    def _loop_backward(self, cache, d_seq, d_states):
        z, keep, notm, rmask, pre = cache["z"], cache["keep"], cache["notm"], cache["rmask"], cache["pre"]
        h, rh = cache["h"], cache["rh"]
        rec = cache["recurrent"]
        act, ract = self.activation, self.recurrent_activation
        t_steps, u = cache["t"], self.units
        reset_after = self.reset_after
        zg, r, hh = z[..., :u], z[..., u:2 * u], z[..., 2 * u:]
        # Factors of every timestep at once (zero where masked):
        # dz = dh * (h_prev - hh) z'; d(hh pre) = dh * (1 - z) hh'; dr = d(r-term) * r'.
        if self._tanh_sigmoid:
            d_all = np.subtract(1.0, z)
            d_all *= z  # sigmoid' of the z and r blocks (from contiguous data: faster)
            d_zr = d_all[..., :2 * u]
            f_h = hh * hh
            np.subtract(1.0, f_h, out=f_h)
        else:
            d_zr = _derivative(ract, z[..., :2 * u], None if pre is None else pre[..., :2 * u])
            f_h = _derivative(act, hh, None if pre is None else pre[..., 2 * u:])
        f_z = h[:t_steps] - hh
        f_z *= d_zr[..., :u]
        f_h *= 1.0 - zg
        if reset_after:
            f_r = rh * d_zr[..., u:]
        else:
            f_r = h[:t_steps] * d_zr[..., u:]
            if rmask is not None:
                f_r *= rmask
        if keep is not None:
            f_z *= keep
            f_h *= keep
        rec_t, rec_zr_t, rec_h_t = rec.T, rec[:, :2 * u].T, rec[:, 2 * u:].T
        dh = d_states[0]
        tmp_u = np.empty_like(dh)
        if reset_after:
            # The recurrent pre-activation gradient is dh times a factor known in advance:
            # drz = dh * [f_z, f_h * f_r, f_h * r]; the input one differs in its last block only.
            drz = np.empty_like(z)
            drz4 = drz.reshape(t_steps, -1, 3, u)
            drz4[:, :, 0] = f_z
            np.multiply(f_h, f_r, out=drz4[:, :, 1])
            np.multiply(f_h, r, out=drz4[:, :, 2])
            dh_all = np.empty_like(hh)
            for t in range(t_steps - 1, -1, -1):
                if d_seq is not None:
                    dh += d_seq[t]
                dh_all[t] = dh
                drz4[t] *= dh[:, None]
                dh_new = drz[t] @ rec_t
                if rmask is not None:
                    dh_new *= rmask
                np.multiply(dh, zg[t], out=tmp_u)
                dh_new += tmp_u
                if keep is not None:
                    np.copyto(dh_new, dh, where=notm[t])
                dh = dh_new
            dz = drz.copy()
            np.multiply(dh_all, f_h, out=dz[..., 2 * u:])
            return dz, drz, [dh]
        dz = np.empty_like(z)
        for t in range(t_steps - 1, -1, -1):
            if d_seq is not None:
                dh += d_seq[t]
            dzt = dz[t]
            np.multiply(dh, f_z[t], out=dzt[:, :u])
            dah = dzt[:, 2 * u:]
            np.multiply(dh, f_h[t], out=dah)
            d_rh = dah @ rec_h_t  # gradient w.r.t. r * h_prev
            np.multiply(d_rh, f_r[t], out=dzt[:, u:2 * u])
            dh_new = dzt[:, :2 * u] @ rec_zr_t
            d_rh *= r[t]
            dh_new += d_rh
            if rmask is not None:
                dh_new *= rmask
            np.multiply(dh, zg[t], out=tmp_u)
            dh_new += tmp_u
            if keep is not None:
                np.copyto(dh_new, dh, where=notm[t])
            dh = dh_new
        return dz, dz, [dh]

    def _recurrent_grad(self, cache, h_prev, drz):
        if self.reset_after:
            return super()._recurrent_grad(cache, h_prev, drz)
        t_steps, n, u = cache["t"], cache["n"], self.units
        dz2 = drz.reshape(t_steps * n, -1)
        out = np.empty((u, 3 * u), dtype=drz.dtype)
        out[:, :2 * u] = h_prev.reshape(t_steps * n, u).T @ dz2[:, :2 * u]
        out[:, 2 * u:] = cache["rh"].reshape(t_steps * n, u).T @ dz2[:, 2 * u:]
        return out

    def _store_grads(self, d_kernel, d_recurrent, d_bias_in, d_bias_rec):
        self.kernel.grad[...] = d_kernel
        self.recurrent_kernel.grad[...] = d_recurrent
        if self.use_bias:
            if self.reset_after:
                self.bias.grad[0] = d_bias_in
                self.bias.grad[1] = d_bias_rec
            else:
                self.bias.grad[...] = d_bias_in


@LAYERS.register
class GRU(_GRUKernel, _RNN):
    """Gated Recurrent Unit (Cho et al., 2014), Keras's default ``reset_after`` variant.

    Gates ``z, r = recurrent_activation(...)`` (kernels laid out ``z, r, h`` as
    in Keras), candidate ``hh = activation(x_t W_h + r * (h_{t-1} U_h + b_rh))``
    (``reset_after=True``; ``activation(x_t W_h + (r * h_{t-1}) U_h)`` when False)
    and ``h_t = z * h_{t-1} + (1 - z) * hh``. With ``reset_after`` the bias has
    shape ``(2, 3 * units)``: input bias then recurrent bias.

    Parameters
    ----------
    units : int
    activation : str or Activation, default="tanh"
    recurrent_activation : str or Activation, default="sigmoid"
    {common}
    reset_after : bool, default=True
        Apply the reset gate after the recurrent product (cuDNN-compatible convention).
    use_cudnn : {"auto", True, False}, default="auto"
        Accepted for compatibility and ignored.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import GRU
    >>> GRU(4)(np.ones((2, 5, 3))).shape
    (2, 4)
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, reset_after=True, use_cudnn="auto", zero_output_for_mask=False, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(**kwargs)
        self._init_rnn(locals())
        self.reset_after = bool(reset_after)
        check_param("use_cudnn", use_cudnn, [Options(("auto", True, False))], "GRU")
        self.use_cudnn = use_cudnn

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


for _cls in (SimpleRNN, LSTM, GRU):
    _cls.__doc__ = _cls.__doc__.replace("    {common}\n", _RNN_DOC_COMMON.lstrip("\n"))
del _cls
