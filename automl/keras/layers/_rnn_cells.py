"""Keras's generic recurrent API: ``RNN(cell)``, the built-in cells and ``StackedRNNCells``.

How a cell is run
-----------------
``RNN`` owns everything that is about the sequence as a whole (the layout of
the input, ``go_backwards``, masks, initial and returned states, which outputs
are returned) through the same machinery as ``SimpleRNN``/``LSTM``/``GRU``
(``_recurrent._RNN``); the cell only runs the recurrence:

* the built-in cells (:class:`SimpleRNNCell`, :class:`LSTMCell`,
  :class:`GRUCell`) share the fused sequence kernels of the recurrent layers
  (one input-projection GEMM for all timesteps, then the time loop, and the
  hand-written backpropagation through time), so ``RNN(LSTMCell(8))`` computes
  exactly what ``LSTM(8)`` computes, with the same weights in the same layout;
* :class:`StackedRNNCells` runs its cells one after the other over the whole
  sequence (the output sequence of a cell is the input sequence of the next).
  This equals Keras's step-by-step stacking, since a cell never sees the states
  of the cells above it, and a timestep masked for one cell is masked for all;
* any other cell (a user-defined ``Layer`` with ``state_size`` and
  ``call(inputs, states)``) is called once per timestep.

Custom cells
------------
A custom cell is a ``Layer`` subclass with

* ``state_size``: an int (one state) or a list of ints;
* optionally ``output_size`` (default: the first state size);
* ``build(input_shape)`` (called with ``(batch, features)``) creating the weights;
* ``call(inputs, states, training=False)`` taking one timestep ``(batch, features)``
  and the list of states, and returning ``(output, new_states)`` (``new_states``
  a list, or one array when there is one state).

A cell written with ``automl.keras.ops`` (the Keras RNN guide's
``MinimalRNNCell``) trains as it is: ``RNN`` traces its calls over the whole
sequence (from the input and the initial states to the outputs and final
states) and differentiates that trace, as a user-defined layer is. A cell may
instead define ``backward(grad_output, grad_states)``: it receives the
gradients w.r.t. the output and the list of new states of its latest ``call``,
writes the gradients of its weights into their buffers (``var.grad[...] = ...``,
as every layer does) and returns ``(grad_inputs, grad_states)``, the gradients
w.r.t. the step input and the list of incoming states. ``RNN`` then calls it on
arrays, saves the attributes listed in the cell's ``_cache_attrs`` after every
step and restores them before calling ``backward`` for that step, and sums the
weight gradients over the timesteps.

Differences from Keras 3
------------------------
``RNN.state_size`` is the flat list of the state widths (for
``StackedRNNCells`` too), and ``return_state`` returns the flat list
``[output, *states]`` (e.g. ``[output, h1, c1, h2, c2]`` for two stacked LSTM
cells, where Keras nests the states of each cell). ``initial_state`` takes the
same flat list; so do the kept states of ``stateful=True`` (``layer.states``).
``unroll`` is ignored.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..._validation import param_error
from .. import ops
from ..ops import Tensor, value_of
from ._base import LAYERS, Layer
from ._recurrent import _RNN, _GRUKernel, _LSTMKernel, _SimpleRNNKernel

__all__ = ["RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"]


def _flat_sizes(state_size) -> list[int]:
    """The state widths of a cell (nested for stacked cells) as a flat list of ints."""
    if isinstance(state_size, (list, tuple)):
        return [s for item in state_size for s in _flat_sizes(item)]
    return [int(state_size)]


def _output_size(cell) -> int:
    size = getattr(cell, "output_size", None)
    return int(size) if size is not None else _flat_sizes(cell.state_size)[0]


def _check_cell(cell, owner):
    if isinstance(cell, type) or not callable(getattr(cell, "call", None)):
        raise param_error("cell", owner, "an RNN cell instance (with a call(inputs, states) method)", cell)
    if getattr(cell, "state_size", None) is None:
        raise ValueError(
            f"The RNN cell {getattr(cell, 'name', cell)!r} of {owner} must have a 'state_size' "
            "attribute (an int, or a list of ints with one per state)."
        )
    return cell


def _build_cell(cell, input_dim):
    if isinstance(cell, Layer):
        cell._maybe_build((None, input_dim))
    elif hasattr(cell, "build"):
        cell.build((None, input_dim))


def _prefix_names(variables, name):
    """Name the cells' weights by their path, as Keras does (``rnn/lstm_cell/kernel``): the
    cells of two copies of a layer (e.g. in ``Bidirectional``) may have the same name."""
    for var in variables:
        if not var.name.startswith(name + "/"):
            var.name = f"{name}/{var.name}"


# -- running any cell over a whole sequence -------------------------------------
def _seq_forward(cell, xt, keep, notm, states, training):
    if hasattr(cell, "_seq_forward"):
        return cell._seq_forward(xt, keep, notm, states, training)
    return _generic_seq_forward(cell, xt, keep, states, training)


def _seq_backward(cell, cache, d_seq, d_last, d_states, need_dx):
    if hasattr(cell, "_seq_backward"):
        return cell._seq_backward(cache, d_seq, d_last, d_states, need_dx)
    return _generic_seq_backward(cell, cache, d_seq, d_last, d_states)


def _has_backward(cell) -> bool:
    return getattr(type(cell), "backward", Layer.backward) is not Layer.backward


def _raw_step(cell, x, states, training):
    """One step of a generic cell as it returns it: ``(output, new_states as a list)``."""
    if "training" in inspect.signature(cell.call).parameters:
        out, new = cell.call(x, list(states), training=training)
    else:
        out, new = cell.call(x, list(states))
    return out, list(new) if isinstance(new, (list, tuple)) else [new]


def _call_step(cell, x, states, training):
    """One step of a cell with its own backward pass, as arrays."""
    out, new = _raw_step(cell, x, states, training)
    return np.asarray(value_of(out)), [np.asarray(value_of(s)) for s in new]


def _generic_seq_forward(cell, xt, keep, states, training):
    """Step-by-step loop for user-defined cells (Keras masking: masked steps carry the
    states and repeat the previous output, zeros before the first one)."""
    if not _has_backward(cell):
        return _traced_seq_forward(cell, xt, keep, states, training)
    attrs = tuple(getattr(cell, "_cache_attrs", ()))
    snapshots, outputs = [], []
    prev = None
    for t in range(xt.shape[0]):
        out, new = _call_step(cell, xt[t], states, training)
        snapshots.append({a: getattr(cell, a, None) for a in attrs})
        if keep is not None:
            if prev is None:
                prev = np.zeros_like(out)
            new = [np.where(keep[t], s, old) for s, old in zip(new, states)]
            out = np.where(keep[t], out, prev)
        outputs.append(out)
        prev, states = out, new
    return np.stack(outputs), states, {"snapshots": snapshots, "keep": keep}


def _traced_seq_forward(cell, xt, keep, states, training):
    """The loop for a cell without a backward pass (written with ``ops``): its calls are
    traced, from the input sequence and the initial states to the outputs and final states,
    and the backward pass differentiates that trace."""
    x_leaf = Tensor(xt)
    leaves = [Tensor(s) for s in states]
    states = list(leaves)
    outputs = []
    prev = None
    for t in range(xt.shape[0]):
        out, new = _raw_step(cell, x_leaf[t], states, training)
        if keep is not None:
            if prev is None:
                prev = np.zeros(np.shape(value_of(out)), dtype=xt.dtype)
            new = [ops.where(keep[t], s, old) for s, old in zip(new, states)]
            out = ops.where(keep[t], out, prev)
        outputs.append(out)
        prev, states = out, new
    seq = ops.stack(outputs)
    final = [np.asarray(value_of(s), dtype=xt.dtype) for s in states]
    trace = {"seq": seq, "final": states, "x": x_leaf, "init": leaves}
    return np.asarray(value_of(seq), dtype=xt.dtype), final, {"trace": trace, "keep": keep}


def _reaches(output, wanted) -> bool:
    """Whether any tensor whose id is in ``wanted`` is an ancestor of the traced ``output``."""
    stack, seen = [output], set()
    while stack:
        node = stack.pop()
        if not isinstance(node, Tensor) or id(node) in seen:
            continue
        if id(node) in wanted:
            return True
        seen.add(id(node))
        stack.extend(node.parents)
    return False


def _traced_seq_backward(cell, trace, d_seq, d_last, d_states):
    seq = trace["seq"]
    total = 0.0
    if d_seq is not None:
        total = total + ops.sum(seq * d_seq)
    if d_last is not None:
        total = total + ops.sum(seq[-1] * d_last)
    for state, g in zip(trace["final"], d_states):
        if g is not None:
            total = total + ops.sum(state * g)
    variables = cell.trainable_weights if isinstance(cell, Layer) else []
    if variables and not _reaches(total, {id(v) for v in variables}):
        raise NotImplementedError(
            f"Cannot train through the RNN cell {getattr(cell, 'name', cell)!r} (of type "
            f"{type(cell).__name__}): no gradient reaches its weights from its calls, which use "
            "their arrays (var.value, NumPy functions) rather than automl.keras.ops on the weights. "
            "Write call with automl.keras.ops, or define backward(grad_output, grad_states) returning "
            "(grad_inputs, grad_states) (see automl.keras.layers.RNN)."
        )
    leaves = [trace["x"], *trace["init"]]
    grads = ops.gradient(total, leaves + list(variables))
    for var, g in zip(variables, grads[len(leaves):]):
        var.grad[...] = g
    dtype = trace["x"].dtype
    return np.asarray(grads[0], dtype=dtype), [np.asarray(g, dtype=dtype) for g in grads[1:len(leaves)]]


def _generic_seq_backward(cell, cache, d_seq, d_last, d_states):
    if "trace" in cache:
        return _traced_seq_backward(cell, cache["trace"], d_seq, d_last, d_states)
    snapshots, keep, seq_shape = cache["snapshots"], cache["keep"], cache["seq_shape"]
    variables = cell.trainable_weights if isinstance(cell, Layer) else []
    totals = [np.zeros_like(v.grad) for v in variables]
    if isinstance(cell, Layer):
        cell._input_grad_needed = True
    d_carry = np.zeros(seq_shape[1:], dtype=cache["dtype"])  # gradient of the repeated output
    dx = []
    for t in range(len(snapshots) - 1, -1, -1):
        d_out = d_carry if d_seq is None else d_carry + d_seq[t]
        if d_last is not None and t == len(snapshots) - 1:
            d_out = d_out + d_last
        d_new = d_states
        if keep is not None:
            k = keep[t]
            d_carry, d_out = d_out * ~k, d_out * k
            passed = [g * ~k for g in d_states]
            d_new = [g * k for g in d_states]
        else:
            d_carry = np.zeros_like(d_out)
        for attr, value in snapshots[t].items():
            setattr(cell, attr, value)
        d_x, d_prev = cell.backward(d_out, d_new)
        d_prev = list(d_prev) if isinstance(d_prev, (list, tuple)) else [d_prev]
        for total, var in zip(totals, variables):
            total += var.grad
        d_states = [np.asarray(g) for g in d_prev]
        if keep is not None:
            d_states = [g + p for g, p in zip(d_states, passed)]
        dx.append(d_x)
    for total, var in zip(totals, variables):
        var.grad[...] = total
    return np.stack(dx[::-1]), d_states


# -- the built-in cells ---------------------------------------------------------
class _Cell(Layer):
    """A built-in cell: one step as Keras's ``cell(inputs, states)``, the whole sequence
    through the fused kernels shared with the recurrent layers (see the module notes)."""

    def build(self, input_shape):
        self._build_weights(tuple(input_shape)[-1])

    @property
    def output_size(self):
        return self.units

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0], self.units)

    def __call__(self, inputs, states, training=False):
        return self.call(inputs, states, training=training)

    def call(self, inputs, states, training=False):
        """One timestep: ``(output, new_states)`` for ``inputs`` of shape ``(batch, features)``.

        ``new_states`` is a list when ``states`` is a list, else one array (as in Keras).
        """
        x = np.asarray(inputs, dtype=self.dtype)
        self._maybe_build((None, x.shape[-1]))
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        seq, final, _ = self._seq_forward(x[None], None, None, states, training)
        new = [s.copy() for s in final]
        return seq[0].copy(), (new if nested or len(new) > 1 else new[0])

    def get_config(self):
        return {**super().get_config(), **self._cell_config()}


_CELL_DOC = """
    use_bias : bool, default=True
    kernel_initializer : str or Initializer, default="glorot_uniform"
    recurrent_initializer : str or Initializer, default="orthogonal"
    bias_initializer : str or Initializer, default="zeros"
    kernel_regularizer, recurrent_regularizer, bias_regularizer : optional
    kernel_constraint, recurrent_constraint, bias_constraint : optional
    dropout : float, default=0.0
        Fraction of the input units to drop (one mask per sample, fixed over the
        timesteps of an ``RNN`` call).
    recurrent_dropout : float, default=0.0
        Fraction of the recurrent-state units to drop in the recurrent product.
    seed : int, optional
        Seed of the dropout masks.
"""


@LAYERS.register
class SimpleRNNCell(_SimpleRNNKernel, _Cell):
    """Cell of :class:`SimpleRNN`: ``h_t = activation(x_t W + h_{t-1} U + b)``.

    Parameters
    ----------
    units : int
    activation : str or Activation, default="tanh"
    {common}
    See Also
    --------
    RNN : runs a cell over a sequence.
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_cell({**locals(), "recurrent_activation": "linear"})

    @property
    def state_size(self):
        return self.units


@LAYERS.register
class LSTMCell(_LSTMKernel, _Cell):
    """Cell of :class:`LSTM` (states ``[h, c]``, kernels laid out ``i, f, c, o``).

    Parameters
    ----------
    units : int
    activation : str or Activation, default="tanh"
    recurrent_activation : str or Activation, default="sigmoid"
    unit_forget_bias : bool, default=True
        Initialize the forget-gate bias to one (and the rest with ``bias_initializer``).
    {common}
    See Also
    --------
    RNN : runs a cell over a sequence.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_cell(locals())
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


@LAYERS.register
class GRUCell(_GRUKernel, _Cell):
    """Cell of :class:`GRU` (kernels laid out ``z, r, h``).

    Parameters
    ----------
    units : int
    activation : str or Activation, default="tanh"
    recurrent_activation : str or Activation, default="sigmoid"
    {common}
    reset_after : bool, default=True
        Apply the reset gate after the recurrent product; the bias then has
        shape ``(2, 3 * units)`` (input bias, recurrent bias).

    See Also
    --------
    RNN : runs a cell over a sequence.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self._init_cell(locals())
        self.reset_after = bool(reset_after)

    @property
    def state_size(self):
        return self.units

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


for _cls in (SimpleRNNCell, LSTMCell, GRUCell):
    _cls.__doc__ = _cls.__doc__.replace("    {common}\n", _CELL_DOC.lstrip("\n"))
del _cls


def _serialize(obj):
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def _deserialize(config, custom_objects=None):
    if isinstance(config, Layer):
        return config
    return LAYERS.deserialize(config, custom_objects=custom_objects)


@LAYERS.register
class StackedRNNCells(Layer):
    """A stack of RNN cells that behaves as one cell (the output of each is the input of the next).

    Parameters
    ----------
    cells : list of cells
        Built-in or user-defined cells, bottom first.

    Notes
    -----
    ``state_size`` is the list of the cells' state sizes (as Keras); ``RNN``
    flattens it. The weights are the cells' weights, bottom cell first, so
    ``RNN(StackedRNNCells([LSTMCell(8), LSTMCell(4)]))`` has the weights of
    ``LSTM(8, return_sequences=True)`` followed by ``LSTM(4)``.
    """

    def __init__(self, cells, **kwargs):
        if not isinstance(cells, (list, tuple)) or not cells:
            raise param_error("cells", "StackedRNNCells", "a non-empty list of RNN cells", cells)
        super().__init__(**kwargs)
        self.cells = [_check_cell(cell, "StackedRNNCells") for cell in cells]

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def _trainable_sublayers(self):
        return [cell for cell in self.cells if isinstance(cell, Layer)]

    def build(self, input_shape):
        dim = tuple(input_shape)[-1]
        for cell in self.cells:
            _build_cell(cell, dim)
            dim = _output_size(cell)
        self._variables = [v for cell in self.cells for v in getattr(cell, "weights", [])]
        _prefix_names(self._variables, self.name)

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0], self.output_size)

    def _split(self, flat):
        """Split a flat list of states into one list per cell."""
        out, i = [], 0
        for cell in self.cells:
            k = len(_flat_sizes(cell.state_size))
            out.append(list(flat[i:i + k]))
            i += k
        return out

    def __call__(self, inputs, states, training=False):
        return self.call(inputs, states, training=training)

    def call(self, inputs, states, training=False):
        """One timestep through every cell: ``(output, [new states of each cell])``."""
        x = np.asarray(inputs, dtype=self.dtype)
        self._maybe_build((None, x.shape[-1]))
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            nested = isinstance(cell_states, (list, tuple))
            x, new = _call_step(cell, x, cell_states if nested else [cell_states], training)
            new_states.append(new if nested else new[0])
        return x, new_states

    def _seq_forward(self, xt, keep, notm, states, training):
        caches, finals = [], []
        for cell, cell_states in zip(self.cells, self._split(states)):
            xt, final, cache = _seq_forward(cell, xt, keep, notm, cell_states, training)
            cache["seq_shape"], cache["dtype"] = xt.shape, xt.dtype
            caches.append(cache)
            finals += list(final)
        return xt, finals, {"caches": caches}

    def _seq_backward(self, cache, d_seq, d_last, d_states, need_dx):
        d_init = []
        dx = None
        for i in range(len(self.cells) - 1, -1, -1):
            cell, cell_cache = self.cells[i], cache["caches"][i]
            d_cell = self._split(d_states)[i]
            dx, d_cell_init = _seq_backward(cell, cell_cache, d_seq, d_last, d_cell, need_dx or i > 0)
            d_seq, d_last = dx, None
            d_init = list(d_cell_init) + d_init
        return dx, d_init

    def get_config(self):
        return {**super().get_config(), "cells": [_serialize(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cells"] = [_deserialize(c, custom_objects) for c in config["cells"]]
        return cls(**config)


@LAYERS.register
class RNN(_RNN):
    """Base class for recurrent layers: runs a cell over the timesteps of a sequence.

    Parameters
    ----------
    cell : cell or list of cells
        A built-in cell (:class:`SimpleRNNCell`, :class:`LSTMCell`,
        :class:`GRUCell`), a :class:`StackedRNNCells`, a list of cells (stacked)
        or a user-defined cell (see Notes).
    return_sequences : bool, default=False
        Return the output of every timestep ``(batch, timesteps, output_size)``
        instead of the last one.
    return_state : bool, default=False
        Also return the final states: the call returns ``[output, *states]``
        (for an LSTM cell ``[output, h, c]``; the states of stacked cells are flattened).
    go_backwards : bool, default=False
        Process the sequence backwards (and return the reversed sequence).
    stateful : bool, default=False
        Keep the final states of each batch as the initial states of the next
        (needs a fixed batch size, from ``Input(batch_shape=...)``);
        ``reset_state()`` sets them back to zeros.
    unroll : bool, default=False
        Accepted for compatibility and ignored.
    zero_output_for_mask : bool, default=False
        Whether masked timesteps output zeros instead of the previous output.

    Notes
    -----
    The call takes ``initial_state=`` (a flat list of arrays, or extra inputs
    ``[x, *states]``) and masks from ``Masking``/``Embedding(mask_zero=True)``
    upstream (a masked timestep keeps the states and repeats the previous
    output). With a built-in cell the layer computes exactly what the matching
    recurrent layer computes (``RNN(LSTMCell(8))`` and ``LSTM(8)``, with the
    same weights in the same order). A user-defined cell is a ``Layer`` with
    ``state_size`` and ``call(inputs, states, training=False) -> (output,
    new_states)``, written with ``automl.keras.ops`` (training differentiates its
    traced calls) or with its own ``backward(grad_output, grad_states) ->
    (grad_inputs, grad_states)`` (the full contract is in the module docstring
    of ``automl.keras.layers._rnn_cells``); it needs registering
    with ``LAYERS.register`` (or ``custom_objects``) to be loaded from a config.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import RNN, LSTMCell
    >>> output, h, c = RNN(LSTMCell(4), return_state=True)(np.ones((2, 5, 3)))
    >>> output.shape, c.shape
    ((2, 4), (2, 4))
    >>> RNN([LSTMCell(4), LSTMCell(2)], return_sequences=True)(np.ones((2, 5, 3))).shape
    (2, 5, 2)
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        _check_cell(cell, "RNN")
        super().__init__(**kwargs)
        self.cell = cell
        self.activity_regularizer = None
        self._init_layer(return_sequences, return_state, go_backwards, stateful, unroll,
                         zero_output_for_mask)

    @property
    def state_size(self):
        return _flat_sizes(self.cell.state_size)

    @property
    def _output_size(self):
        return _output_size(self.cell)

    def _trainable_sublayers(self):
        return [self.cell] if isinstance(self.cell, Layer) else []

    def build(self, input_shape):
        input_shape = self._check_shape(input_shape)
        _build_cell(self.cell, input_shape[-1])
        self._build_states(input_shape)
        if not self._trainable and isinstance(self.cell, Layer):
            self.cell.trainable = False
        self._variables = list(getattr(self.cell, "weights", []))
        _prefix_names(self._variables, self.name)

    def _run_forward(self, xt, keep, notm, states, training):
        seq, final, cache = _seq_forward(self.cell, xt, keep, notm, states, training)
        cache["seq_shape"], cache["dtype"] = seq.shape, seq.dtype
        return seq, final, cache

    def _run_backward(self, cache, d_seq, d_last, d_states, need_dx):
        return _seq_backward(self.cell, cache, d_seq, d_last, d_states, need_dx)

    def get_config(self):
        return {**Layer.get_config(self), **self._layer_config(), "cell": _serialize(self.cell)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cell"] = _deserialize(config["cell"], custom_objects)
        return cls(**config)
