"""ONNX converters of the core, activation, normalization, reshaping, merging and preprocessing layers.

Layers that only act in training (dropout and noise layers, activity
regularization) are the identity at inference and add no node.
"""

from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from .. import layers as L
from ..backend import epsilon
from ._activations import apply_activation
from ._converter import LayerCall, convert_layer, converts, describe

__all__: list = []


def _act(g, call, activation, x):
    return apply_activation(g, activation, x, call.base, describe(call.layer))


def _weight(variable):
    return np.asarray(variable.numpy() if hasattr(variable, "numpy") else variable)


# -- core ----------------------------------------------------------------------
@converts(L.Dense)
def _dense(g, call):
    layer = call.layer
    y = g.op("MatMul", [call.x, g.const(_weight(layer.kernel), f"{call.base}/kernel")], f"{call.base}/matmul")
    if layer.use_bias:
        y = g.op("Add", [y, g.const(_weight(layer.bias), f"{call.base}/bias")], f"{call.base}/bias_add")
    return _act(g, call, layer.activation, y)


@converts(L.EinsumDense)
def _einsum_dense(g, call):
    layer = call.layer
    kernel = g.const(_weight(layer.kernel), f"{call.base}/kernel")
    y = g.op("Einsum", [call.x, kernel], f"{call.base}/einsum", equation=layer._forward_eq)
    if layer.bias is not None:
        y = g.op("Add", [y, g.const(_weight(layer.bias), f"{call.base}/bias")], f"{call.base}/bias_add")
    return _act(g, call, layer.activation, y)


@converts(L.Activation, L.ReLU, L.LeakyReLU, L.ELU, L.Softmax)
def _activation(g, call):
    return _act(g, call, call.layer.activation, call.x)


@converts(L.PReLU)
def _prelu(g, call):
    return g.op("PRelu", [call.x, g.const(_weight(call.layer.alpha), f"{call.base}/alpha")], call.base)


@converts(L.Dropout, L.SpatialDropout1D, L.SpatialDropout2D, L.SpatialDropout3D, L.GaussianNoise,
          L.GaussianDropout, L.AlphaDropout, L.ActivityRegularization, L.Identity, L.RandomFlip,
          L.RandomRotation, L.RandomZoom, L.RandomTranslation, L.RandomContrast, L.RandomBrightness,
          takes_ints=True)
def _identity(g, call):
    return call.x  # training-only behaviour: the identity at inference


# -- normalization -------------------------------------------------------------
def _param_shape(ndim, axes, sizes):
    shape = [1] * ndim
    for a, d in zip(axes, sizes):
        shape[a] = d
    return shape


@converts(L.BatchNormalization, masks="ignore")  # masks only change the training statistics
def _batch_norm(g, call):
    layer = call.layer
    ndim = len(call.shape)
    axis = layer.axis % ndim
    var = _weight(layer.moving_variance).astype(np.float64)
    inv = 1.0 / np.sqrt(var + layer.epsilon)
    scale = inv * (_weight(layer.gamma) if layer.scale else 1.0)
    shift = -_weight(layer.moving_mean) * scale
    if layer.center:
        shift = shift + _weight(layer.beta)
    shape = _param_shape(ndim, [axis], [len(var)])
    y = g.op("Mul", [call.x, g.const(scale.reshape(shape), f"{call.base}/scale")], f"{call.base}/scaled")
    return g.op("Add", [y, g.const(shift.reshape(shape), f"{call.base}/shift")], call.base)


@converts(L.LayerNormalization)
def _layer_norm(g, call):
    layer, x, base = call.layer, call.x, call.base
    ndim = len(call.shape)
    given = layer.axis if isinstance(layer.axis, list) else [layer.axis]
    axes = sorted(a % ndim for a in given)
    mean = g.op("ReduceMean", [x], f"{base}/mean", axes=axes, keepdims=1)
    centered = g.op("Sub", [x, mean], f"{base}/centered")
    var = g.op("ReduceMean", [g.op("Mul", [centered, centered], f"{base}/sq")], f"{base}/var", axes=axes,
               keepdims=1)
    std = g.op("Sqrt", [g.op("Add", [var, g.const(layer.epsilon)], f"{base}/var_eps")], f"{base}/std")
    y = g.op("Div", [x if layer.rms_scaling else centered, std], f"{base}/normalized")
    pshape = _param_shape(ndim, axes, [call.shape[a] for a in axes])
    if layer.gamma is not None:
        y = g.op("Mul", [y, g.const(_weight(layer.gamma).reshape(pshape), f"{base}/gamma")], f"{base}/scaled")
    if layer.beta is not None:
        y = g.op("Add", [y, g.const(_weight(layer.beta).reshape(pshape), f"{base}/beta")], base)
    return y


@converts(L.UnitNormalization)
def _unit_norm(g, call):
    layer = call.layer
    ndim = len(call.shape)
    given = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    axes = sorted(a % ndim for a in given)
    x, base = call.x, call.base
    sq = g.op("ReduceSum", [g.op("Mul", [x, x], f"{base}/sq"), g.ints(axes)], f"{base}/sumsq", keepdims=1)
    floor = g.op("Max", [sq, g.const(1e-12)], f"{base}/floored")  # Keras's floor of the squared norm
    return g.op("Div", [x, g.op("Sqrt", [floor], f"{base}/norm")], base)


@converts(L.GroupNormalization)
def _group_norm(g, call):
    layer, x, base = call.layer, call.x, call.base
    shape = call.shape
    ndim = len(shape)
    axis = layer.axis % ndim
    groups = layer.groups
    dims = list(shape[1:])
    if sum(d is None for d in dims) > 1:
        raise call.error("more than one unknown dimension besides the batch")
    dims = [-1 if d is None else d for d in dims]
    grouped = [0, *dims[:axis - 1], groups, dims[axis - 1] // groups, *dims[axis:]]
    xg = g.op("Reshape", [x, g.ints(grouped)], f"{base}/grouped")
    red = [i for i in range(1, ndim + 1) if i != axis]
    mean = g.op("ReduceMean", [xg], f"{base}/mean", axes=red, keepdims=1)
    centered = g.op("Sub", [xg, mean], f"{base}/centered")
    var = g.op("ReduceMean", [g.op("Mul", [centered, centered], f"{base}/sq")], f"{base}/var", axes=red,
               keepdims=1)
    std = g.op("Sqrt", [g.op("Add", [var, g.const(layer.epsilon)], f"{base}/var_eps")], f"{base}/std")
    y = g.op("Div", [centered, std], f"{base}/normalized")
    pshape = [groups if i == axis else shape[axis] // groups if i == axis + 1 else 1 for i in range(ndim + 1)]
    if layer.scale:
        y = g.op("Mul", [y, g.const(_weight(layer.gamma).reshape(pshape), f"{base}/gamma")], f"{base}/scaled")
    if layer.center:
        y = g.op("Add", [y, g.const(_weight(layer.beta).reshape(pshape), f"{base}/beta")], f"{base}/shifted")
    return g.op("Reshape", [y, g.op("Shape", [x], f"{base}/shape")], base)


def _l2_normalize(g, x, axes, base):
    """``x / max(||x||, epsilon)`` along ``axes`` (as the engine's Dot and UnitNormalization)."""
    sq = g.op("ReduceSum", [g.op("Mul", [x, x], f"{base}/sq"), g.ints(axes)], f"{base}/sumsq", keepdims=1)
    norm = g.op("Max", [g.op("Sqrt", [sq], f"{base}/norm"), g.const(epsilon())], f"{base}/norm_eps")
    return g.op("Div", [x, norm], f"{base}/l2")


# -- reshaping -----------------------------------------------------------------
@converts(L.Flatten)
def _flatten(g, call):
    if len(call.shape) == 2:
        return call.x
    return g.op("Flatten", [call.x], call.base, axis=1)


@converts(L.Reshape)
def _reshape(g, call):
    return g.op("Reshape", [call.x, g.ints([0, *call.layer.target_shape])], call.base)


@converts(L.Permute)
def _permute(g, call):
    return g.op("Transpose", [call.x], call.base, perm=[0, *call.layer.dims])


@converts(L.RepeatVector)
def _repeat_vector(g, call):
    y = g.op("Unsqueeze", [call.x, g.ints([1])], f"{call.base}/unsqueeze")
    return g.op("Tile", [y, g.ints([1, call.layer.n, 1])], call.base)


@converts(L.Embedding, takes_ints=True)
def _embedding(g, call):
    layer = call.layer
    table = g.const(_weight(layer.embeddings), f"{call.base}/embeddings")
    idx = g.op("Cast", [call.x], f"{call.base}/indices", to=7)  # INT64 (floats truncate, as astype)
    out = g.op("Gather", [table, idx], call.base, axis=0)
    if layer.mask_zero:  # Keras's mask: the non-zero indices
        zero = g.op("Equal", [idx, g.const(0, dtype=np.int64)], f"{call.base}/padding")
        g.masks[out] = g.op("Not", [zero], f"{call.base}/mask")
    return out


@converts(L.Masking, masks="handle")
def _masking(g, call):
    """Steps whose features all equal ``mask_value`` are zeroed and masked."""
    x, base = call.x, call.base
    differs = g.op("Not", [g.op("Equal", [x, g.const(call.layer.mask_value)], f"{base}/equal")], f"{base}/differs")
    keep = g.op("ReduceMax", [g.op("Cast", [differs], f"{base}/differs_f", to=1)], f"{base}/keep", axes=[-1],
                keepdims=1)
    out = g.op("Mul", [x, keep], base)
    g.masks[out] = g.op("Cast", [g.op("Squeeze", [keep, g.ints([-1])], f"{base}/keep_steps")], f"{base}/mask",
                        to=9)
    return out


# -- spatial padding, cropping, upsampling ---------------------------------------
@converts(L.ZeroPadding1D, L.ZeroPadding2D, L.ZeroPadding3D)
def _zero_padding(g, call):
    borders = call.layer._borders
    before = [0, *(a for a, _ in borders), 0]
    after = [0, *(b for _, b in borders), 0]
    return g.op("Pad", [call.x, g.ints(before + after)], call.base, mode="constant")


@converts(L.Cropping1D, L.Cropping2D, L.Cropping3D)
def _cropping(g, call):
    borders = call.layer._borders
    axes = list(range(1, len(borders) + 1))
    starts = [a for a, _ in borders]
    ends = [-b if b else np.iinfo(np.int64).max for _, b in borders]
    return g.op("Slice", [call.x, g.ints(starts), g.ints(ends), g.ints(axes)], call.base)


@converts(L.UpSampling1D, L.UpSampling2D, L.UpSampling3D)
def _upsampling(g, call):
    layer = call.layer
    if getattr(layer, "interpolation", "nearest") != "nearest":
        raise call.error(f"interpolation={layer.interpolation!r} is not exported (only 'nearest')")
    factors = layer._factors if hasattr(layer, "_factors") else (layer.size,)
    scales = g.const([1.0, *map(float, factors), 1.0], f"{call.base}/scales")
    return g.op("Resize", [call.x, "", scales], call.base, mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor")


# -- merging -------------------------------------------------------------------
def _aligned(g, call):
    """The inputs with size-1 axes inserted after the batch axis up to the largest rank (as the engine)."""
    ndim = max(len(s) for s in call.shapes)
    out = []
    for name, shape in zip(call.inputs, call.shapes):
        missing = ndim - len(shape)
        if missing:
            name = g.op("Unsqueeze", [name, g.ints(list(range(1, missing + 1)))], f"{call.base}/align")
        out.append(name)
    return out


def _fold(g, op, names, base):
    y = names[0]
    for other in names[1:]:
        y = g.op(op, [y, other], base)
    return y


def _merged_mask(g, call, out):
    """The engine's mask of an element-wise merge: the OR of the input masks when every input has one."""
    masks = call.masks
    if masks and all(m is not None for m in masks):
        mask = masks[0]
        for other in masks[1:]:
            mask = g.op("Or", [mask, other], f"{call.base}/mask")
        g.masks[out] = mask
    return out


@converts(L.Add, masks="handle")
def _add(g, call):
    return _merged_mask(g, call, _fold(g, "Add", _aligned(g, call), call.base))


@converts(L.Subtract, masks="handle")
def _subtract(g, call):
    a, b = _aligned(g, call)
    return _merged_mask(g, call, g.op("Sub", [a, b], call.base))


@converts(L.Multiply)
def _multiply(g, call):
    return _fold(g, "Mul", _aligned(g, call), call.base)


@converts(L.Average, masks="handle")
def _average(g, call):
    names = _aligned(g, call)
    total = _fold(g, "Add", names, f"{call.base}/sum")
    return _merged_mask(g, call, g.op("Mul", [total, g.const(1.0 / len(names))], call.base))


@converts(L.Maximum)
def _maximum(g, call):
    return g.op("Max", _aligned(g, call), call.base)


@converts(L.Minimum)
def _minimum(g, call):
    return g.op("Min", _aligned(g, call), call.base)


@converts(L.Concatenate, masks="handle")
def _concatenate(g, call):
    ndim = len(call.shapes[0])
    axis = call.layer.axis % ndim
    out = g.op("Concat", list(call.inputs), call.base, axis=axis)
    if any(m is not None for m in call.masks):  # the engine's mask of a concatenation, for step masks
        if any(len(s) < 2 or s[-1] == 0 for s in call.shapes):
            raise call.error("masked inputs without features are not exported")
        per_step = []
        for name, mask in zip(call.inputs, call.masks):
            if mask is None:  # an unmasked input keeps every step
                lead = g.op("Slice", [g.op("Shape", [name], f"{call.base}/shape"), g.ints([0]), g.ints([-1])],
                            f"{call.base}/steps")
                mask = g.op("ConstantOfShape", [lead], f"{call.base}/all_kept",
                            value=numpy_helper.from_array(np.ones(1, dtype=bool)))
            per_step.append(mask)
        if axis == ndim - 1:
            mask = per_step[0]
            for other in per_step[1:]:
                mask = g.op("Or", [mask, other], f"{call.base}/mask")
        else:
            mask = g.op("Concat", per_step, f"{call.base}/mask", axis=axis)
        g.masks[out] = mask
    return out


@converts(L.Dot)
def _dot(g, call):
    layer = call.layer
    (s0, s1), (x, y) = call.shapes, call.inputs
    a0, a1 = layer._resolve_axes(len(s0), len(s1), [s0, s1])
    if layer.normalize:
        x = _l2_normalize(g, x, [a0], f"{call.base}/x")
        y = _l2_normalize(g, y, [a1], f"{call.base}/y")
    e1, e2, eo = layer._einsum_spec(len(s0), len(s1), a0, a1)
    out = g.op("Einsum", [x, y], f"{call.base}/einsum", equation=f"{e1},{e2}->{eo}")
    if len(eo) == 1:
        out = g.op("Unsqueeze", [out, g.ints([1])], call.base)
    return out


# -- preprocessing -------------------------------------------------------------
@converts(L.Rescaling)
def _rescaling(g, call):
    layer = call.layer
    y = g.op("Mul", [call.x, g.const(layer.scale, f"{call.base}/scale")], f"{call.base}/scaled")
    return g.op("Add", [y, g.const(layer.offset, f"{call.base}/offset")], call.base)


@converts(L.Normalization)
def _normalization(g, call):
    layer = call.layer
    mean, denom = layer._stats()  # raises the layer's own error when it was never adapted
    mean = g.const(mean, f"{call.base}/mean")
    denom = g.const(denom, f"{call.base}/denom")
    if layer.invert:
        return g.op("Add", [g.op("Mul", [call.x, denom], f"{call.base}/scaled"), mean], call.base)
    return g.op("Div", [g.op("Sub", [call.x, mean], f"{call.base}/centered"), denom], call.base)


# -- wrappers --------------------------------------------------------------------
@converts(L.TimeDistributed)
def _time_distributed(g, call):
    inner = call.layer.layer
    shape = call.shape
    if any(d is None for d in shape[2:]):
        raise call.error(f"the per-step shape {shape[2:]} must be known")
    inner_in = (None, *shape[2:])
    inner_out = inner.compute_output_shape(inner_in)
    if isinstance(inner_out, list) or any(d is None for d in inner_out[1:]):
        raise call.error(f"the inner layer's per-step output shape {inner_out} must be one known shape")
    folded = g.op("Reshape", [call.x, g.ints([-1, *shape[2:]])], f"{call.base}/folded")
    (y,) = convert_layer(g, LayerCall(inner, [folded], [inner_in], [tuple(inner_out)]))
    leading = g.op("Slice", [g.op("Shape", [call.x], f"{call.base}/shape"), g.ints([0]), g.ints([2])],
                   f"{call.base}/batch_steps")
    target = g.op("Concat", [leading, g.ints(list(inner_out[1:]))], f"{call.base}/unfolded_shape", axis=0)
    return g.op("Reshape", [y, target], call.base)


# -- index encodings -------------------------------------------------------------
def _encode(g, idx, shape, mode, depth, base):
    """Int64 ``idx`` encoded as the engine's ``encode_indices`` (negative indices give zeros)."""
    if mode == "int":
        return g.mark_int(idx)
    tokens = g.const(np.arange(depth), f"{base}/tokens", dtype=np.int64)
    if mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            idx = g.op("Squeeze", [idx, g.ints([-1])], f"{base}/squeezed")
        hits = g.op("Equal", [g.op("Unsqueeze", [idx, g.ints([-1])], f"{base}/expanded"), tokens], f"{base}/hits")
        return g.op("Cast", [hits], base, to=1)
    if len(shape) == 1:
        idx = g.op("Unsqueeze", [idx, g.ints([-1])], f"{base}/rows")
    hits = g.op("Cast", [g.op("Equal", [g.op("Unsqueeze", [idx, g.ints([-1])], f"{base}/expanded"), tokens],
                              f"{base}/hits")], f"{base}/hits_f", to=1)
    op = "ReduceMax" if mode == "multi_hot" else "ReduceSum"
    if op == "ReduceMax":
        return g.op(op, [hits], base, axes=[-2], keepdims=0)
    return g.op(op, [hits, g.ints([-2])], base, keepdims=0)


@converts(L.CategoryEncoding, takes_ints=True)
def _category_encoding(g, call):
    layer = call.layer
    idx = g.op("Cast", [call.x], f"{call.base}/indices", to=7)  # INT64 (floats truncate, as astype)
    return _encode(g, idx, call.shape, layer.output_mode, layer.num_tokens, call.base)


@converts(L.Discretization)
def _discretization(g, call):
    layer = call.layer
    if layer.bin_boundaries is None:
        raise call.error("it has no bin boundaries yet (adapt it or pass bin_boundaries=)")
    bins = g.const(np.asarray(layer.bin_boundaries, dtype=np.float32), f"{call.base}/boundaries")
    above = g.op("GreaterOrEqual", [g.op("Unsqueeze", [call.x, g.ints([-1])], f"{call.base}/x"), bins],
                 f"{call.base}/above")
    idx = g.op("ReduceSum", [g.op("Cast", [above], f"{call.base}/above_i", to=7), g.ints([-1])],
               f"{call.base}/bins", keepdims=0)  # np.digitize: how many boundaries are <= x
    return _encode(g, idx, call.shape, layer.output_mode, layer._depth, call.base)


@converts(L.IntegerLookup, L.StringLookup, takes_ints=True)
def _lookup(g, call):
    """Token -> index with ONNX-ML's LabelEncoder; OOV and mask tokens as the engine maps them."""
    layer, base = call.layer, call.base
    string = isinstance(layer, L.StringLookup)
    if layer.invert or layer.output_mode == "tf_idf":
        raise call.error("invert=True and output_mode='tf_idf' are not exported")
    keys, values = layer._table_keys, layer._table_values
    if keys is None or not len(keys):
        raise call.error("it has no vocabulary (adapt it or pass vocabulary=)")
    n_oov = layer.num_oov_indices
    if n_oov == 0 or (string and n_oov > 1):
        raise call.error(f"num_oov_indices={n_oov} is not exported for {type(layer).__name__} "
                         "(1 is; integers also take more)")
    if string:
        if call.x not in g.strings:
            raise call.error("its input must be a string model input (Input(dtype='string'))")
        tokens = call.x
        attrs = {"keys_strings": [str(k) for k in keys]}
    else:
        tokens = g.op("Cast", [call.x], f"{base}/tokens", to=7)
        attrs = {"keys_int64s": [int(k) for k in keys]}
    idx = g.op("LabelEncoder", [tokens], f"{base}/indices", domain="ai.onnx.ml",
               values_int64s=[int(v) for v in values], default_int64=-2, **attrs)
    missing = g.op("Equal", [idx, g.const(-2, dtype=np.int64)], f"{base}/missing")
    if layer.mask_token is not None:
        if string:  # Equal takes strings from opset 19 only: a one-key LabelEncoder
            hit = g.op("LabelEncoder", [tokens], f"{base}/is_mask", domain="ai.onnx.ml",
                       keys_strings=[str(layer.mask_token)], values_int64s=[1], default_int64=0)
            masked = g.op("Cast", [hit], f"{base}/masked", to=9)
        else:
            masked = g.op("Equal", [tokens, g.const(layer.mask_token, dtype=np.int64)], f"{base}/masked")
        masked_value = g.const(0 if layer.output_mode == "int" else -1, dtype=np.int64)
        idx = g.op("Where", [masked, masked_value, idx], f"{base}/with_mask")
        missing = g.op("And", [missing, g.op("Not", [masked], f"{base}/unmasked")], f"{base}/oov")
    start = layer._oov_start()
    if n_oov == 1:
        oov = g.const(start, dtype=np.int64)
    else:  # the engine's floormod buckets
        oov = g.op("Add", [g.op("Mod", [tokens, g.const(n_oov, dtype=np.int64)], f"{base}/bucket", fmod=0),
                          g.const(start, dtype=np.int64)], f"{base}/oov_index")
    idx = g.op("Where", [missing, oov, idx], f"{base}/looked_up")
    return _encode(g, idx, call.shape, layer.output_mode, layer._depth(), base)
