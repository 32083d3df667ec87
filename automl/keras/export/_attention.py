"""ONNX converters of MultiHeadAttention, Attention and AdditiveAttention (``(batch, steps, dim)`` inputs).

The projections are Einsum nodes on Keras's kernels ``(dim, heads, head_dim)``;
scores ``q k^T / sqrt(key_dim)`` get ``-1e9`` where the attention mask (an
extra input, and/or the causal mask) is False, as the engine does, before the
softmax over the value steps. Dropout is the identity at inference.
"""

from __future__ import annotations

import math

import numpy as np

from .. import layers as L
from ._converter import converts

__all__: list = []

_LARGE_NEGATIVE = 1e9


def _causal(g, query, value, base):
    """``(Tq, Tv)`` booleans, True where ``j <= i``, from the inputs' step counts."""
    steps = [g.op("Slice", [g.op("Shape", [t], f"{base}/shape"), g.ints([1]), g.ints([2])], f"{base}/steps")
             for t in (query, value)]
    ones = g.op("ConstantOfShape", [g.op("Concat", steps, f"{base}/tqtv", axis=0)], f"{base}/ones",
                value=_tensor_attr(np.ones(1, dtype=np.int64)))
    return g.op("Cast", [g.op("Trilu", [ones], f"{base}/lower", upper=0)], f"{base}/causal", to=9)


def _masked_softmax(g, scores, keep, base):
    """Softmax over the last axis of ``scores - 1e9 * (not keep)`` (the engine's masked softmax)."""
    if keep is not None:
        drop = g.op("Cast", [g.op("Not", [keep], f"{base}/masked")], f"{base}/masked_f", to=1)
        scores = g.op("Sub", [scores, g.op("Mul", [drop, g.const(_LARGE_NEGATIVE)], f"{base}/penalty")],
                      f"{base}/masked_scores")
    return g.op("Softmax", [scores], f"{base}/weights", axis=-1)


@converts(L.Attention, L.AdditiveAttention, call_options=("return_attention_scores", "use_causal_mask"))
def _attention(g, call):
    layer, base = call.layer, call.base
    if any(len(s) != 3 for s in call.shapes):
        raise call.error(f"only inputs of shape (batch, steps, dim) are exported, got {call.shapes}")
    q, v = call.inputs[0], call.inputs[1]
    k = call.inputs[2] if len(call.inputs) == 3 else v
    if type(layer) is L.Attention and layer.score_mode == "dot":
        scores = g.op("MatMul", [q, g.op("Transpose", [k], f"{base}/keys", perm=[0, 2, 1])], f"{base}/scores")
        if layer.scale is not None:
            scores = g.op("Mul", [scores, g.const(layer.scale.numpy())], f"{base}/scaled")
    else:  # tanh of every query + key pair: (B, Tq, Tv, dim)
        pairs = g.op("Add", [g.op("Unsqueeze", [q, g.ints([2])], f"{base}/q"),
                             g.op("Unsqueeze", [k, g.ints([1])], f"{base}/k")], f"{base}/pairs")
        if type(layer) is L.Attention:
            if layer.scale is not None:
                pairs = g.op("Mul", [pairs, g.const(layer.scale.numpy())], f"{base}/scaled")
            e = g.op("Tanh", [pairs], f"{base}/tanh")
            total = g.op("ReduceSum", [e, g.ints([-1])], f"{base}/sum", keepdims=0)
            scores = g.op("Mul", [total, g.const(layer.concat_score_weight.numpy())], f"{base}/scores")
        else:
            e = g.op("Tanh", [pairs], f"{base}/tanh")
            if layer.scale is None:
                scores = g.op("ReduceSum", [e, g.ints([-1])], f"{base}/scores", keepdims=0)
            else:
                scores = g.op("MatMul", [e, g.const(layer.scale.numpy(), f"{base}/scale")], f"{base}/scores")
    keep = _causal(g, q, v, base) if call.kwargs.get("use_causal_mask") else None
    weights = _masked_softmax(g, scores, keep, base)
    out = g.op("MatMul", [weights, v], base)
    if call.kwargs.get("return_attention_scores"):
        return [out, weights]
    return out


def _projection(g, x, kernel, bias, base):
    """``x (B, T, D) -> (B, N, T, H)``."""
    y = g.op("Einsum", [x, g.const(kernel.numpy(), f"{base}/kernel")], f"{base}/proj", equation="btd,dnh->bnth")
    if bias is not None:
        b = bias.numpy()
        y = g.op("Add", [y, g.const(b.reshape(1, b.shape[0], 1, b.shape[1]), f"{base}/bias")], base)
    return y


@converts(L.MultiHeadAttention, call_options=("return_attention_scores", "use_causal_mask"))
def _multi_head_attention(g, call):
    layer, base = call.layer, call.base
    inputs = list(call.inputs)
    shapes = [tuple(s) for s in call.shapes]
    mask = inputs.pop() if len(inputs) == 4 else None
    if len(shapes) == 4:
        shapes.pop()
    if any(len(s) != 3 for s in shapes):
        raise call.error(f"only query/value/key of shape (batch, steps, dim) are exported, got {shapes}")
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) == 3 else value
    proj = layer._projections
    q = _projection(g, query, *proj["query"], f"{base}/query")
    k = _projection(g, key, *proj["key"], f"{base}/key")
    v = _projection(g, value, *proj["value"], f"{base}/value")
    q = g.op("Mul", [q, g.const(1.0 / math.sqrt(float(layer.key_dim)))], f"{base}/scaled_query")
    scores = g.op("Einsum", [q, k], f"{base}/scores", equation="bnqh,bnkh->bnqk")
    keep = None
    if mask is not None:  # (B, Tq, Tv) -> (B, 1, Tq, Tv)
        m = g.op("Cast", [mask], f"{base}/mask", to=9)  # BOOL
        keep = g.op("Unsqueeze", [m, g.ints([1])], f"{base}/mask_heads")
    if call.kwargs.get("use_causal_mask"):
        causal = _causal(g, query, value, base)
        keep = causal if keep is None else g.op("And", [keep, causal], f"{base}/keep")
    weights = _masked_softmax(g, scores, keep, base)
    ctx = g.op("Einsum", [weights, v], f"{base}/context", equation="bnqk,bnkh->bnqh")
    kernel, bias = proj["attention_output"]
    w = kernel.numpy()
    out_dims = w.shape[2:]
    w3 = w.reshape(w.shape[0], w.shape[1], -1)
    out = g.op("Einsum", [ctx, g.const(w3, f"{base}/output/kernel")], f"{base}/output", equation="bnqh,nho->bqo")
    if bias is not None:
        out = g.op("Add", [out, g.const(bias.numpy().reshape(-1), f"{base}/output/bias")], f"{base}/output")
    if len(out_dims) > 1:
        out = g.op("Reshape", [out, g.ints([0, 0, *out_dims])], base)
    if call.kwargs.get("return_attention_scores"):
        return [out, weights]
    return out


def _tensor_attr(array):
    from onnx import numpy_helper

    return numpy_helper.from_array(array)
