"""ONNX converters of the convolution and pooling layers.

Keras layers work channels last, ONNX's Conv and pooling ops channels first:
each layer is wrapped in a Transpose to ``(N, C, *spatial)`` and one back, so
the exported model takes the Keras layout (onnxruntime removes the
back-to-back transposes between consecutive layers). Paddings are explicit
(Keras's "same" puts the extra row/column after, as ONNX's SAME_UPPER) when
the spatial size is known, ``auto_pad="SAME_UPPER"`` otherwise; "causal"
pads ``(kernel - 1) * dilation`` before.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .. import layers as L
from ._activations import apply_activation
from ._converter import converts, describe

__all__: list = []


def _to_channels_first(g, x, rank, base):
    return g.op("Transpose", [x], f"{base}/nchw", perm=[0, rank + 1, *range(1, rank + 1)])


def _to_channels_last(g, x, rank, base):
    return g.op("Transpose", [x], f"{base}/nhwc", perm=[0, *range(2, rank + 2), 1])


def _padding_attrs(layer, spatial, kernel, strides, dilation):
    """``{"pads": [...]}`` or ``{"auto_pad": ...}`` reproducing Keras's padding."""
    padding = layer.padding
    rank = len(kernel)
    if padding == "valid":
        return {"pads": [0] * (2 * rank)}
    if padding == "causal":
        before = [(k - 1) * d for k, d in zip(kernel, dilation)]
        return {"pads": before + [0] * rank}
    if any(s is None for s in spatial):
        return {"auto_pad": "SAME_UPPER"}
    before, after = [], []
    for length, k, s, d in zip(spatial, kernel, strides, dilation):
        out = -(-length // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - length, 0)
        before.append(total // 2)
        after.append(total - total // 2)
    return {"pads": before + after}


def _conv_node(g, x, weight, bias, call, *, groups=1, strides=None, dilation=None, base=None, kernel=None):
    layer = call.layer
    rank = layer._rank
    kernel = tuple(layer.kernel_size) if kernel is None else kernel
    strides = tuple(layer.strides) if strides is None else strides
    dilation = tuple(layer.dilation_rate) if dilation is None else dilation
    attrs = _padding_attrs(layer, call.shape[1:1 + rank], kernel, strides, dilation)
    inputs = [x, g.const(weight, f"{base}/weight")]
    if bias is not None:
        inputs.append(g.const(bias, f"{base}/bias"))
    return g.op("Conv", inputs, f"{base}/conv", kernel_shape=list(kernel), strides=list(strides),
                dilations=list(dilation), group=groups, **attrs)


def _oihw(kernel):
    """Keras kernel ``(*k, C_in, C_out)`` as ONNX's ``(C_out, C_in, *k)``."""
    rank = kernel.ndim - 2
    return np.transpose(kernel, (rank + 1, rank, *range(rank)))


def _finish(g, call, y):
    layer = call.layer
    y = _to_channels_last(g, y, layer._rank, call.base)
    return apply_activation(g, layer.activation, y, call.base, describe(layer))


@converts(L.Conv1D, L.Conv2D, L.Conv3D)
def _conv(g, call):
    layer = call.layer
    x = _to_channels_first(g, call.x, layer._rank, call.base)
    bias = layer.bias.numpy() if layer.use_bias else None
    y = _conv_node(g, x, _oihw(layer.kernel.numpy()), bias, call, groups=layer.groups, base=call.base)
    return _finish(g, call, y)


def _depthwise_weight(kernel):
    """Keras depthwise kernel ``(*k, C, M)`` as a grouped ONNX weight ``(C * M, 1, *k)``."""
    rank = kernel.ndim - 2
    flat = kernel.reshape(*kernel.shape[:rank], -1)  # output channel c * M + m
    return np.transpose(flat, (rank, *range(rank)))[:, None]


@converts(L.DepthwiseConv1D, L.DepthwiseConv2D)
def _depthwise(g, call):
    layer = call.layer
    channels = call.shape[-1]
    x = _to_channels_first(g, call.x, layer._rank, call.base)
    bias = layer.bias.numpy() if layer.use_bias else None
    y = _conv_node(g, x, _depthwise_weight(layer.kernel.numpy()), bias, call, groups=channels, base=call.base)
    return _finish(g, call, y)


@converts(L.SeparableConv1D, L.SeparableConv2D)
def _separable(g, call):
    layer = call.layer
    rank = layer._rank
    channels = call.shape[-1]
    x = _to_channels_first(g, call.x, rank, call.base)
    d = _conv_node(g, x, _depthwise_weight(layer.depthwise_kernel.numpy()), None, call, groups=channels,
                   base=f"{call.base}/depthwise")
    bias = layer.bias.numpy() if layer.use_bias else None
    point = g.const(_oihw(layer.pointwise_kernel.numpy()), f"{call.base}/pointwise")
    inputs = [d, point] + ([g.const(bias, f"{call.base}/bias")] if bias is not None else [])
    y = g.op("Conv", inputs, f"{call.base}/pointwise", kernel_shape=[1] * rank)
    return _finish(g, call, y)


# -- pooling -------------------------------------------------------------------
@converts(L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D, L.AveragePooling1D, L.AveragePooling2D,
          L.AveragePooling3D)
def _pooling(g, call):
    layer = call.layer
    rank = layer._rank
    kernel, strides = tuple(layer.pool_size), tuple(layer.strides)
    attrs = _padding_attrs(layer, call.shape[1:1 + rank], kernel, strides, (1,) * rank)
    x = _to_channels_first(g, call.x, rank, call.base)
    if layer._mode == "max":
        y = g.op("MaxPool", [x], f"{call.base}/pool", kernel_shape=list(kernel), strides=list(strides), **attrs)
    else:  # Keras averages over the window's entries inside the input only
        y = g.op("AveragePool", [x], f"{call.base}/pool", kernel_shape=list(kernel), strides=list(strides),
                 count_include_pad=0, **attrs)
    return _to_channels_last(g, y, rank, call.base)


@converts(L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D, L.GlobalAveragePooling1D,
          L.GlobalAveragePooling2D, L.GlobalAveragePooling3D, masks="handle")
def _global_pooling(g, call):
    layer = call.layer
    mask = call.masks[0] if call.masks else None
    if mask is not None and isinstance(layer, L.GlobalAveragePooling1D):
        # the mean over the kept steps (0 / 0 = NaN for a fully masked sample, as the engine)
        keep = g.op("Unsqueeze", [g.op("Cast", [mask], f"{call.base}/keep", to=1), g.ints([-1])], f"{call.base}/keep")
        total = g.op("ReduceSum", [g.op("Mul", [call.x, keep], f"{call.base}/kept"), g.ints([1])],
                     f"{call.base}/sum", keepdims=int(layer.keepdims))
        count = g.op("ReduceSum", [keep, g.ints([1])], f"{call.base}/count", keepdims=int(layer.keepdims))
        return g.op("Div", [total, count], call.base)
    if mask is not None and layer.supports_masking:
        raise call.error("masked inputs of this pooling layer are not exported")
    op = "ReduceMax" if layer._mode == "max" else "ReduceMean"
    axes = list(range(1, layer._rank + 1))
    return g.op(op, [call.x], call.base, axes=axes, keepdims=int(layer.keepdims))


@converts(L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)
def _conv_transpose(g, call):
    layer = call.layer
    rank = layer._rank
    spatial = call.shape[1:1 + rank]
    if any(s is None for s in spatial):
        raise call.error(f"transposed convolutions need a known spatial input size, got {spatial}")
    begin, end, extra = [], [], []
    for length, k, s, d, (out, crop) in zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate,
                                            layer._axes(spatial)):
        natural = (length - 1) * s + (k - 1) * d + 1
        begin.append(crop)
        end.append(max(natural - crop - out, 0))
        extra.append(max(crop + out - natural, 0))  # zeros past the last window
    x = _to_channels_first(g, call.x, rank, call.base)
    inputs = [x, g.const(_oihw(layer.kernel.numpy()), f"{call.base}/weight")]
    if layer.use_bias:
        inputs.append(g.const(layer.bias.numpy(), f"{call.base}/bias"))
    y = g.op("ConvTranspose", inputs, f"{call.base}/conv_transpose", kernel_shape=list(layer.kernel_size),
             strides=list(layer.strides), dilations=list(layer.dilation_rate), pads=begin + end,
             output_padding=extra)
    return _finish(g, call, y)


# -- resampling ----------------------------------------------------------------
def _sample_axis(g, x, sampler, axis, base):
    """The engine's half-pixel sampling along ``axis``: gathers of the two neighbours, mixed by weight."""
    lo = g.op("Gather", [x, g.const(sampler.lo, f"{base}/lo", dtype=np.int64)], f"{base}/at_lo", axis=axis)
    if sampler.frac is None:
        return lo
    shape = [-1] + [1] * (3 - axis)  # broadcast the weights over the axes after ``axis``
    frac = np.asarray(sampler.frac, dtype=np.float32).reshape(shape)
    hi = g.op("Gather", [x, g.const(sampler.hi, f"{base}/hi", dtype=np.int64)], f"{base}/at_hi", axis=axis)
    mixed_lo = g.op("Mul", [lo, g.const(1.0 - frac, f"{base}/w_lo")], f"{base}/mixed_lo")
    mixed_hi = g.op("Mul", [hi, g.const(frac, f"{base}/w_hi")], f"{base}/mixed_hi")
    return g.op("Add", [mixed_lo, mixed_hi], base)


@converts(L.Resizing, L.CenterCrop, L.RandomCrop)
def _resample(g, call):
    layer = call.layer
    _, h, w, _ = call.shape
    if h is None or w is None:
        raise call.error(f"resizing needs a known input height and width, got {call.shape}")
    if isinstance(layer, L.RandomCrop):  # at inference: the largest centred window, resized (Resizing's plan)
        spec = SimpleNamespace(height=layer.height, width=layer.width, interpolation="bilinear",
                               crop_to_aspect_ratio=True, pad_to_aspect_ratio=False, fill_value=0.0)
        plan = L.Resizing._make_plan(spec, h, w, np.dtype(np.float32))
    else:
        plan = layer._make_plan(h, w, np.dtype(np.float32))
    x = call.x
    if plan.crop is not None:
        top, ch, left, cw = plan.crop
        x = g.op("Slice", [x, g.ints([top, left]), g.ints([top + ch, left + cw]), g.ints([1, 2])],
                 f"{call.base}/crop")
    elif plan.pad is not None:
        top, left = plan.pad
        x = g.op("Pad", [x, g.ints([0, top, left, 0, 0, top, left, 0]), g.const(plan.fill_value)],
                 f"{call.base}/pad", mode="constant")
    if plan.rows is not None:
        x = _sample_axis(g, x, plan.rows, 1, f"{call.base}/rows")
    if plan.cols is not None:
        x = _sample_axis(g, x, plan.cols, 2, f"{call.base}/cols")
    return x if x != call.x else g.op("Identity", [x], call.base)
