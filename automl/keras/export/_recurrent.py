"""ONNX converters of SimpleRNN, LSTM, GRU and Bidirectional.

Each layer becomes one ONNX ``RNN`` / ``LSTM`` / ``GRU`` node on the
time-major input (``Transpose`` to ``(T, N, D)``). Weights are transposed to
ONNX's ``(gates * units, D)`` layout with the gates reordered: Keras's LSTM
gates are (i, f, c, o), ONNX's (i, o, f, c); both GRUs order them (z, r, h).
Keras's ``reset_after`` GRU (its default, two bias vectors) is ONNX's
``linear_before_reset=1``. ``go_backwards`` reverses the input along time
and, as Keras, returns the outputs in processing order. Bidirectional runs
its forward and backward layers and merges them as Keras does (the backward
sequence flipped back to input order). Masks are not exported.
"""

from __future__ import annotations

import numpy as np

from .. import layers as L
from ._activations import activation_name
from ._converter import LayerCall, converts

__all__: list = []

_INT64_MAX = np.iinfo(np.int64).max

#: Keras activation name -> (ONNX RNN activation, alpha, beta) (None where the op takes none).
_RNN_ACTIVATIONS = {
    "tanh": ("Tanh", None, None),
    "sigmoid": ("Sigmoid", None, None),
    "softsign": ("Softsign", None, None),
    "softplus": ("Softplus", None, None),
    "hard_sigmoid": ("HardSigmoid", 1.0 / 6.0, 0.5),
    "linear": ("Affine", 1.0, 0.0),
}


def _rnn_activation(call, act, what):
    name = activation_name(act)
    if name == "relu" and act._plain:
        return ("Relu", None, None)
    if name in _RNN_ACTIVATIONS:
        return _RNN_ACTIVATIONS[name]
    raise call.error(
        f"its {what} {name!r} is not one of the activations of ONNX's recurrent ops "
        f"({', '.join(sorted([*_RNN_ACTIVATIONS, 'relu']))})"
    )


def _activation_attrs(specs):
    attrs = {"activations": [s[0] for s in specs]}
    if any(s[1] is not None for s in specs):
        # onnxruntime reads one alpha/beta per activation that takes them, in order
        attrs["activation_alpha"] = [float(s[1]) for s in specs if s[1] is not None]
        attrs["activation_beta"] = [float(s[2]) for s in specs if s[2] is not None]
    return attrs


def _blocks(matrix, order, units):
    """Columns of ``matrix`` ``(rows, G * units)`` regrouped in gate ``order``."""
    return np.concatenate([matrix[..., k * units:(k + 1) * units] for k in order], axis=-1)


_KINDS = {L.LSTM: "LSTM", L.LSTMCell: "LSTM", L.GRU: "GRU", L.GRUCell: "GRU", L.SimpleRNN: "RNN",
          L.SimpleRNNCell: "RNN"}


def _onnx_weights(cell):
    """(op type, W, R, B, extra attrs) of a SimpleRNN / LSTM / GRU layer or cell in ONNX's layout."""
    u = cell.units
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    op = _KINDS[type(cell)]
    order, n_gates = {"LSTM": ((0, 3, 1, 2), 4), "GRU": ((0, 1, 2), 3), "RNN": ((0,), 1)}[op]
    w = _blocks(kernel, order, u).T[None]
    r = _blocks(recurrent, order, u).T[None]
    zeros = np.zeros(n_gates * u, dtype=np.float32)
    attrs = {}
    if not cell.use_bias:
        b_in, b_rec = zeros, zeros
    elif op == "GRU" and cell.reset_after:
        bias = cell.bias.numpy()
        b_in, b_rec = _blocks(bias[0], order, u), _blocks(bias[1], order, u)
    else:
        b_in, b_rec = _blocks(cell.bias.numpy(), order, u), zeros
    if op == "GRU":
        attrs["linear_before_reset"] = int(cell.reset_after)
    b = np.concatenate([b_in, b_rec])[None]
    return op, w, r, b, attrs


def _reverse_time(g, x, base, axis=0):
    return g.op("Slice", [x, g.ints([-1]), g.ints([-_INT64_MAX]), g.ints([axis]), g.ints([-1])], base)


def _compact(g, x, mask, base):
    """Each row's kept steps moved to the front in order: (x, lengths (N,) int32, positions (N, T)).

    A masked step carries the state, so the recurrence over the kept steps alone gives
    the same states; ``positions[n, t]`` is the index, in the compacted sequence, of
    the step whose output step ``t`` carries (-1 before the first kept step).
    """
    kept = g.op("Cast", [mask], f"{base}/kept", to=7)  # INT64
    steps = g.op("Slice", [g.op("Shape", [x], f"{base}/shape"), g.ints([1]), g.ints([2])], f"{base}/steps")
    arange = g.op("Range", [g.const(0, dtype=np.int64), g.op("Squeeze", [steps], f"{base}/t"),
                            g.const(1, dtype=np.int64)], f"{base}/arange")
    # kept steps first, each group in time order: sort the keys (1 - kept) * T + t
    dropped = g.op("Sub", [g.const(1, dtype=np.int64), kept], f"{base}/dropped")
    key = g.op("Add", [g.op("Mul", [dropped, steps], f"{base}/key_hi"), arange], f"{base}/key")
    _, order = g.op("TopK", [key, steps], f"{base}/order", n_out=2, axis=1, largest=0, sorted=1)
    index = g.op("Expand", [g.op("Unsqueeze", [order, g.ints([2])], f"{base}/order3"), g.op("Shape", [x], f"{base}/xs")],
                 f"{base}/index")
    compact = g.op("GatherElements", [x, index], f"{base}/compact", axis=1)
    lengths = g.op("Cast", [g.op("ReduceSum", [kept, g.ints([1])], f"{base}/count", keepdims=0)],
                   f"{base}/lengths", to=6)  # INT32
    positions = g.op("Sub", [g.op("CumSum", [kept, g.const(1, dtype=np.int64)], f"{base}/cumsum"),
                             g.const(1, dtype=np.int64)], f"{base}/positions")
    return compact, lengths, positions


def _expand_masked_sequence(g, seq_bm, positions, mask, first, zero_masked, base):
    """Per input step, the output it carries (``first`` before any kept step; 0 at masked steps if asked)."""
    clamped = g.op("Max", [positions, g.const(0, dtype=np.int64)], f"{base}/clamped")
    index = g.op("Expand", [g.op("Unsqueeze", [clamped, g.ints([2])], f"{base}/pos3"),
                            g.op("Shape", [seq_bm], f"{base}/ys")], f"{base}/pos_index")
    out = g.op("GatherElements", [seq_bm, index], f"{base}/carried", axis=1)
    before = g.op("Unsqueeze", [g.op("Less", [positions, g.const(0, dtype=np.int64)], f"{base}/before"),
                                g.ints([2])], f"{base}/before3")
    out = g.op("Where", [before, first, out], f"{base}/with_initial")
    if zero_masked:
        keep = g.op("Unsqueeze", [g.op("Cast", [mask], f"{base}/keep_f", to=1), g.ints([2])], f"{base}/keep3")
        out = g.op("Mul", [out, keep], f"{base}/zeroed")
    return out


def _run_cell(g, call, cell, xt, states, base, lengths=None):
    """One ONNX recurrent node over the time-major ``xt``: (sequence (T, N, U), [final states (N, U)])."""
    op, w, r, b, attrs = _onnx_weights(cell)
    if op == "LSTM":
        ract = _rnn_activation(call, cell.recurrent_activation, "recurrent_activation")
        act = _rnn_activation(call, cell.activation, "activation")
        specs = [ract, act, act]
    elif op == "GRU":
        specs = [_rnn_activation(call, cell.recurrent_activation, "recurrent_activation"),
                 _rnn_activation(call, cell.activation, "activation")]
    else:
        specs = [_rnn_activation(call, cell.activation, "activation")]
    attrs.update(_activation_attrs(specs))
    init = [g.op("Unsqueeze", [s, g.ints([0])], f"{base}/initial_state") for s in states]
    inputs = [xt, g.const(w, f"{base}/W"), g.const(r, f"{base}/R"), g.const(b, f"{base}/B"), lengths or ""]
    inputs += init[:1] or [""]
    if op == "LSTM":
        inputs += init[1:2] or [""]
    n_out = 3 if op == "LSTM" else 2
    outs = g.op(op, inputs, f"{base}/{op.lower()}", n_out=n_out, hidden_size=cell.units, **attrs)
    seq = g.op("Squeeze", [outs[0], g.ints([1])], f"{base}/seq")  # (T, 1, N, U) -> (T, N, U)
    return seq, [g.op("Squeeze", [s, g.ints([0])], f"{base}/state") for s in outs[1:]]


def _cells(call, layer):
    """The built-in cells run by ``layer`` (a recurrent layer, or RNN over a cell or stacked cells)."""
    if type(layer) in _KINDS:
        return [layer]
    cell = layer.cell
    cells = list(cell.cells) if isinstance(cell, L.StackedRNNCells) else [cell]
    for c in cells:
        if type(c) not in _KINDS:
            raise call.error(f"its cell {getattr(c, 'name', c)!r} ({type(c).__name__}) is not exported "
                             "(only SimpleRNNCell, LSTMCell and GRUCell are)")
    return cells


def _run_rnn(g, call, layer, x, states, base, mask=None):
    """Outputs of one recurrent layer: [output, *final states] (Keras order), batch-major.

    With a mask (``(N, T)`` booleans), masked steps carry the state as in Keras: the
    recurrence runs over each row's kept steps (``sequence_lens``) and every step
    outputs the output it carries.
    """
    if getattr(layer, "stateful", False):
        raise call.error("stateful recurrent layers are not exported")
    cells = _cells(call, layer)
    lengths = positions = None
    if layer.go_backwards:
        x = _reverse_time(g, x, f"{base}/reversed", axis=1)
        if mask is not None:
            mask = _reverse_time(g, mask, f"{base}/reversed_mask", axis=1)
    if mask is not None:
        x, lengths, positions = _compact(g, x, mask, f"{base}/mask")
    seq = g.op("Transpose", [x], f"{base}/time_major", perm=[1, 0, 2])
    final, offset, firsts = [], 0, []
    for i, cell in enumerate(cells):
        n_states = 2 if _KINDS[type(cell)] == "LSTM" else 1
        given = list(states[offset:offset + n_states])
        offset += n_states
        seq, cell_states = _run_cell(g, call, cell, seq, given, base if len(cells) == 1 else f"{base}/cell{i}",
                                     lengths)
        firsts.append(given[0] if given else None)
        final += cell_states
    if mask is not None:  # a fully masked row keeps its initial states (zeros unless given)
        empty = g.op("Unsqueeze", [g.op("Equal", [lengths, g.const(0, dtype=np.int32)], f"{base}/empty"),
                                   g.ints([1])], f"{base}/empty2")
        fixed, offset = [], 0
        for cell in cells:
            n_states = 2 if _KINDS[type(cell)] == "LSTM" else 1
            for j in range(n_states):
                init = states[offset + j] if offset + j < len(states) else g.const(0.0)
                fixed.append(g.op("Where", [empty, init, final[offset + j]], f"{base}/final_state"))
            offset += n_states
        final = fixed
    if layer.return_sequences:
        output = g.op("Transpose", [seq], f"{base}/sequences", perm=[1, 0, 2])
        if mask is not None:
            first = g.const(0.0) if firsts[-1] is None else g.op("Unsqueeze", [firsts[-1], g.ints([1])],
                                                                 f"{base}/first")
            output = _expand_masked_sequence(g, output, positions, mask, first, layer.zero_output_for_mask,
                                             f"{base}/mask")
    else:
        output = final[-(2 if _KINDS[type(cells[-1])] == "LSTM" else 1)]  # the last cell's h
    return [output, *final] if layer.return_state else [output]


@converts(L.SimpleRNN, L.LSTM, L.GRU, L.RNN, masks="handle")
def _recurrent(g, call: LayerCall):
    mask = call.masks[0] if call.masks else None
    outs = _run_rnn(g, call, call.layer, call.x, call.inputs[1:], call.base, mask)
    if mask is not None and call.layer.return_sequences:
        g.masks[outs[0]] = mask  # the input mask, as the engine's compute_mask
    return outs


@converts(L.Bidirectional, masks="handle")
def _bidirectional(g, call: LayerCall):
    layer = call.layer
    fw, bw = layer.forward_layer, layer.backward_layer
    for inner in (fw, bw):
        if type(inner) not in (L.SimpleRNN, L.LSTM, L.GRU, L.RNN):
            raise call.error(f"its inner layer {inner.name!r} ({type(inner).__name__}) is not exported")
    states = call.inputs[1:]
    half = len(states) // 2
    mask = call.masks[0] if call.masks else None
    y_fw = _run_rnn(g, call, fw, call.x, states[:half], f"{call.base}/forward", mask)
    y_bw = _run_rnn(g, call, bw, call.x, states[half:], f"{call.base}/backward", mask)
    a, b = y_fw[0], y_bw[0]
    if layer.return_sequences:
        b = _reverse_time(g, b, f"{call.base}/backward_aligned", axis=1)
    mode = layer.merge_mode
    if mode == "concat":
        merged = [g.op("Concat", [a, b], call.base, axis=-1)]
    elif mode == "sum":
        merged = [g.op("Add", [a, b], call.base)]
    elif mode == "ave":
        merged = [g.op("Mul", [g.op("Add", [a, b], f"{call.base}/sum"), g.const(0.5)], call.base)]
    elif mode == "mul":
        merged = [g.op("Mul", [a, b], call.base)]
    else:
        merged = [a, b]
    if mask is not None and layer.return_sequences:
        for name in merged:
            g.masks[name] = mask
    return merged + y_fw[1:] + y_bw[1:]
