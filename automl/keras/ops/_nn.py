"""``keras.ops.nn``: activations, softmax, one-hot, convolutions, pooling, normalization, losses.

Activations carry hand-written VJPs written from their outputs; ``conv`` is the convolution
layers' fused im2col kernel (:mod:`.kernels`); depthwise and transposed convolutions and
pooling loop over the kernel offsets (one vectorized matmul per offset, forward and backward);
composite ops (normalizations, cross-entropies, attention) are written with the public
ops and differentiated by tracing them.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..backend import epsilon as _epsilon
from ..backend import floatx
from . import _numpy as N
from . import _special
from . import kernels as _kernels
from ._registry import Spec, convert, elementwise_spec, fused, op, to_float
from ._samples import A, Draw, I, L, P, S

_ns = "nn"


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _act(name, fn, grad, *, domain=None, extra=None, doc=None):
    """Register activation ``name(x, **extra)``; ``grad(g, x, out, **extra)`` is its VJP."""
    extra = extra or {}
    params = ", ".join(f"{k}={v!r}" for k, v in extra.items())
    namespace = {"fn": fn, "to_float": to_float}
    exec(  # noqa: S102 (builds a function with Keras's signature; no user input)
        f"def {name}(x{', ' if params else ''}{params}):\n"
        f"    return fn(to_float(x){''.join(f', {k}={k}' for k in extra)})\n", namespace)
    forward = namespace[name]
    forward.__doc__ = doc or f"The ``{name}`` activation of ``x`` (``keras.ops.{name}``)."
    forward.__module__ = __name__

    def vjp(g, out, needs, x, **kw):
        return (grad(g, x, out, **kw),)

    return op(_ns, vjp=vjp, spec=elementwise_spec(forward, arrays=("x",)),
              samples=S(domain if domain is not None else A(3, 4)), name=name)(forward)


relu = _act("relu", lambda x: np.maximum(x, 0), lambda g, x, o: g * (x > 0))
relu6 = _act("relu6", lambda x: np.clip(x, 0, 6), lambda g, x, o: g * ((x > 0) & (x < 6)),
             domain=S._make(A(3, 4), np.random.default_rng(1)) * 4)
sigmoid = _act("sigmoid", _sigmoid, lambda g, x, o: g * o * (1 - o))
softplus = _act("softplus", lambda x: np.logaddexp(0, x), lambda g, x, o: g * _sigmoid(x))
softsign = _act("softsign", lambda x: x / (1 + np.abs(x)), lambda g, x, o: g / (1 + np.abs(x)) ** 2)
silu = _act("silu", lambda x: x * _sigmoid(x),
            lambda g, x, o: g * (_sigmoid(x) * (1 + x * (1 - _sigmoid(x)))))
swish = _act("swish", lambda x: x * _sigmoid(x),
             lambda g, x, o: g * (_sigmoid(x) * (1 + x * (1 - _sigmoid(x)))))
log_sigmoid = _act("log_sigmoid", lambda x: -np.logaddexp(0, -x), lambda g, x, o: g * _sigmoid(-x))
leaky_relu = _act("leaky_relu", lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
                  lambda g, x, o, negative_slope: g * np.where(x > 0, 1, negative_slope),
                  extra={"negative_slope": 0.2})
hard_sigmoid = _act("hard_sigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1),
                    lambda g, x, o: g * ((x > -3) & (x < 3)) / 6)
hard_silu = _act("hard_silu", lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
                 lambda g, x, o: g * np.where(x <= -3, 0, np.where(x >= 3, 1, x / 3 + 0.5)))
hard_swish = _act("hard_swish", lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
                  lambda g, x, o: g * np.where(x <= -3, 0, np.where(x >= 3, 1, x / 3 + 0.5)))
elu = _act("elu", lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
           lambda g, x, o, alpha: g * np.where(x > 0, 1, o + alpha), extra={"alpha": 1.0})
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805
selu = _act("selu", lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
            lambda g, x, o: g * _SELU_SCALE * np.where(x > 0, 1, _SELU_ALPHA * np.exp(np.minimum(x, 0))))
celu = _act("celu", lambda x, alpha: np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha),
            lambda g, x, o, alpha: g * np.where(x > 0, 1, np.exp(np.minimum(x, 0) / alpha)),
            extra={"alpha": 1.0})


def _gelu(x, approximate=True):
    if approximate:
        c = np.sqrt(2 / np.pi)
        return 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _special.erf(x / np.sqrt(2)))


def _gelu_grad(g, x, o, approximate=True):
    if approximate:
        c = np.sqrt(2 / np.pi)
        t = np.tanh(c * (x + 0.044715 * x ** 3))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x))
    return g * (0.5 * (1 + _special.erf(x / np.sqrt(2))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi))


gelu = _act("gelu", lambda x, approximate: _gelu(x, approximate).astype(x.dtype), _gelu_grad,
            extra={"approximate": True})
tanh_shrink = _act("tanh_shrink", lambda x: x - np.tanh(x), lambda g, x, o: g * np.tanh(x) ** 2)
hard_tanh = _act("hard_tanh", lambda x: np.clip(x, -1, 1), lambda g, x, o: g * (np.abs(x) < 1))
hard_shrink = _act("hard_shrink", lambda x, threshold: np.where(np.abs(x) > threshold, x, 0),
                   lambda g, x, o, threshold: g * (np.abs(x) > threshold), extra={"threshold": 0.5})
soft_shrink = _act("soft_shrink",
                   lambda x, threshold: np.where(x > threshold, x - threshold,
                                                 np.where(x < -threshold, x + threshold, 0)),
                   lambda g, x, o, threshold: g * (np.abs(x) > threshold), extra={"threshold": 0.5})
squareplus = _act("squareplus", lambda x, b: (x + np.sqrt(x * x + b)) / 2,
                  lambda g, x, o, b: g * 0.5 * (1 + x / np.sqrt(x * x + b)), extra={"b": 4})
sparse_plus = _act("sparse_plus",
                   lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
                   lambda g, x, o: g * np.where(x <= -1, 0, np.where(x >= 1, 1, (x + 1) / 2)))
sparse_sigmoid = _act("sparse_sigmoid", lambda x: np.clip(0.5 * (x + 1), 0, 1),
                      lambda g, x, o: g * 0.5 * (np.abs(x) < 1))


@op(_ns, vjp=lambda g, out, needs, x, threshold, default_value: (g * (x > threshold),),
    spec=None, samples=S(A(3, 4), 0.1, -1.0))
def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    x = to_float(x)
    return np.where(x > threshold, x, np.asarray(default_value, dtype=x.dtype))


def _glu_vjp(g, out, needs, x, axis):
    a, b = np.split(x, 2, axis=axis)
    s = _sigmoid(b)
    return (np.concatenate([g * s, g * a * s * (1 - s)], axis=axis),)


@op(_ns, vjp=_glu_vjp, samples=S((3, 4)) + S((4, 3), axis=0))
def glu(x, axis=-1):
    """Gated linear unit: the first half of ``x`` along ``axis`` times the sigmoid of the second."""
    a, b = np.split(to_float(x), 2, axis=axis)
    return a * _sigmoid(b)


def _softmax_vjp(g, out, needs, x, axis):
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


@op(_ns, vjp=_softmax_vjp, samples=S((3, 4)) + S((3, 4), axis=0) + S((2, 3, 4), axis=(1, 2)))
def softmax(x, axis=-1):
    """Softmax of ``x`` over ``axis``."""
    x = to_float(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_vjp(g, out, needs, x, axis):
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


@op(_ns, vjp=_log_softmax_vjp, samples=S((3, 4)) + S((3, 4), axis=0))
def log_softmax(x, axis=-1):
    """Log of the softmax of ``x`` over ``axis``."""
    x = to_float(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _sparsemax_vjp(g, out, needs, x, axis):
    support = out > 0
    count = np.sum(support, axis=axis, keepdims=True)
    mean_g = np.sum(g * support, axis=axis, keepdims=True) / count
    return (support * (g - mean_g),)


@op(_ns, vjp=_sparsemax_vjp, samples=S(S._make((3, 4), np.random.default_rng(2)) * 0.6))
def sparsemax(x, axis=-1):
    """Sparsemax of ``x`` over ``axis`` (a Euclidean projection onto the simplex)."""
    x = np.moveaxis(to_float(x), axis, -1)
    z = np.sort(x, axis=-1)[..., ::-1]
    k = np.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    cum = np.cumsum(z, axis=-1)
    support = 1 + k * z > cum
    k_max = np.sum(support, axis=-1, keepdims=True).astype(x.dtype)
    tau = (np.take_along_axis(cum, k_max.astype(np.int64) - 1, axis=-1) - 1) / k_max
    return np.moveaxis(np.maximum(x - tau, 0), -1, axis)


# -- encodings -----------------------------------------------------------------------------

@op(_ns, samples=S(I([0, 2, 1]), 3) + S(I([[0, 1], [2, 2]]), 3, axis=0))
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot vectors of the integer labels ``x`` (``num_classes`` wide, on ``axis``)."""
    x = np.asarray(convert(x)).astype(np.int64)
    out = (x[..., None] == np.arange(num_classes)).astype(np.dtype(dtype or floatx()))
    return np.moveaxis(out, -1, axis) if axis != -1 else out


@op(_ns, samples=S(I([[0, 2], [1, 1]]), 3))
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False):
    """Multi-hot vectors: 1 for each class present in the last axis of ``inputs``."""
    x = np.asarray(convert(inputs)).astype(np.int64)
    batched = x.ndim > 1
    x2 = x.reshape(-1, x.shape[-1]) if batched else x.reshape(1, -1)
    out = np.zeros((x2.shape[0], num_classes), dtype=np.dtype(dtype or floatx()))
    valid = (x2 >= 0) & (x2 < num_classes)
    rows = np.broadcast_to(np.arange(x2.shape[0])[:, None], x2.shape)
    out[rows[valid], x2[valid]] = 1
    out = out.reshape(*x.shape[:-1], num_classes) if batched else out[0]
    return np.moveaxis(out, -1, axis) if axis != -1 else out


# -- losses (composites: the clip gives no gradient where it is active, as Keras) -----------

@op(_ns, vjp="traced", diff=("target", "output"),
    samples=S(Draw((3, 4), "prob"), Draw((3, 4), "prob")) + S(Draw((3, 4), "prob"), (3, 4), from_logits=True))
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy of probabilities (or logits) ``output``."""
    if from_logits:
        return N.add(N.subtract(N.maximum(output, 0.0), N.multiply(output, target)),
                     N.log1p(N.exp(N.negative(N.absolute(output)))))
    eps = _epsilon()
    p = N.clip(output, eps, 1.0 - eps)
    return N.negative(N.add(N.multiply(target, N.log(p)),
                            N.multiply(N.subtract(1.0, target), N.log(N.subtract(1.0, p)))))


@op(_ns, vjp="traced", diff=("target", "output"),
    samples=S(Draw((3, 4), "prob"), Draw((3, 4), "prob")) + S(Draw((3, 4), "prob"), (3, 4), from_logits=True)
    + S(Draw((4, 3), "prob"), Draw((4, 3), "prob"), axis=0))
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy of one-hot (or soft) ``target`` and probabilities (or logits) ``output``."""
    if from_logits:
        return N.negative(N.sum(N.multiply(target, log_softmax(output, axis=axis)), axis=axis))
    output = N.divide(output, N.sum(output, axis=axis, keepdims=True))
    eps = _epsilon()
    p = N.clip(output, eps, 1.0 - eps)
    return N.negative(N.sum(N.multiply(target, N.log(p)), axis=axis))


@op(_ns, vjp="traced", diff=("output",),
    samples=S(I([0, 2, 1]), Draw((3, 4), "prob")) + S(I([[0], [3], [1]]), (3, 4), from_logits=True))
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy of integer labels ``target`` and probabilities (or logits) ``output``."""
    labels = np.asarray(convert(target)).astype(np.int64)
    out_shape = output.shape if hasattr(output, "shape") else np.shape(output)
    n = out_shape[axis]
    if labels.ndim == len(out_shape) and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis)
    return categorical_crossentropy(one_hot(labels, n, axis=axis, dtype=np.dtype(
        getattr(output, "dtype", floatx())).name), output, from_logits=from_logits, axis=axis)


# -- statistics and normalization -----------------------------------------------------------

@op(_ns, vjp="traced", samples=S((3, 4), L([0])) + S((2, 3, 4), L([0, 1]), keepdims=True))
def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of ``x`` over ``axes``."""
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    m = N.mean(x, axis=axes, keepdims=True)
    v = N.mean(N.square(N.subtract(x, m)), axis=axes, keepdims=keepdims)
    return (m if keepdims else N.squeeze(m, axes)), v


@op(_ns, vjp="traced", diff=("x", "mean", "variance", "offset", "scale"),
    samples=S((4, 3), (3,), P(3), -1, offset=(3,), scale=(3,)))
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the statistics on ``axis``."""
    ndim = len(np.shape(x)) if not hasattr(x, "ndim") else x.ndim
    shape = [1] * ndim
    shape[axis] = -1

    def b(v):
        return v if v is None or np.ndim(getattr(v, "value", v)) != 1 else N.reshape(v, shape)

    inv = N.divide(1.0, N.sqrt(N.add(b(variance), epsilon)))
    if scale is not None:
        inv = N.multiply(inv, b(scale))
    out = N.multiply(N.subtract(x, b(mean)), inv)
    return out if offset is None else N.add(out, b(offset))


@op(_ns, vjp="traced", samples=S((3, 4)) + S((3, 4), axis=0, order=1))
def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm along ``axis``."""
    eps = _epsilon() if epsilon is None else epsilon
    if order == 2:
        norm = N.sqrt(N.maximum(N.sum(N.square(x), axis=axis, keepdims=True), eps * eps))
    else:
        norm = N.maximum(N.power(N.sum(N.power(N.absolute(x), float(order)), axis=axis,
                                       keepdims=True), 1.0 / order), eps)
    return N.divide(x, norm)


@op(_ns, vjp="traced", diff=("x", "scale"), samples=S((3, 4)) + S((3, 4), scale=(4,)))
def rms_normalization(x, scale=1, axis=-1, epsilon=None):
    """``x`` divided by its root mean square along ``axis``, times ``scale``."""
    eps = _epsilon() if epsilon is None else epsilon
    out = N.multiply(x, N.divide(1.0, N.sqrt(N.add(N.mean(N.square(x), axis=axis, keepdims=True), eps))))
    return N.multiply(out, scale)


@op(_ns, vjp="traced", diff=("x", "gamma", "beta"), samples=S((3, 4)) + S((3, 4), gamma=(4,), beta=(4,)))
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    """``x`` standardized along ``axis``, then scaled by ``gamma`` and shifted by ``beta``."""
    eps = 1e-3 if epsilon is None else epsilon
    m = N.mean(x, axis=axis, keepdims=True)
    v = N.mean(N.square(N.subtract(x, m)), axis=axis, keepdims=True)
    out = N.divide(N.subtract(x, m), N.sqrt(N.add(v, eps)))
    if gamma is not None:
        out = N.multiply(out, gamma)
    return out if beta is None else N.add(out, beta)


@op(_ns, vjp="traced", diff=("x1", "x2"), samples=S(P(2, 4), P(2, 4), 2.0))
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio of ``x2`` against ``x1`` (in dB)."""
    mse = N.mean(N.square(N.subtract(x1, x2)))
    return N.subtract(20 * np.log10(max_val), N.multiply(10.0 / np.log(10.0), N.log(mse)))


@op(_ns, vjp="traced", diff=("query", "key", "value", "bias"),
    samples=S((2, 3, 2, 4), (2, 5, 2, 4), (2, 5, 2, 4)) + S((1, 4, 1, 2), (1, 4, 1, 2), (1, 4, 1, 3), is_causal=True))
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """Scaled dot-product attention over ``(batch, length, heads, depth)`` tensors."""
    depth = (query.shape if hasattr(query, "shape") else np.shape(query))[-1]
    scale = 1.0 / np.sqrt(depth) if scale is None else scale
    logits = N.multiply(N.einsum("bqhd,bkhd->bhqk", query, key), scale)
    if attn_logits_soft_cap is not None:
        logits = N.multiply(N.tanh(N.divide(logits, attn_logits_soft_cap)), attn_logits_soft_cap)
    if bias is not None:
        logits = N.add(logits, bias)
    q_len, k_len = np.shape(getattr(logits, "value", logits))[-2:]
    keep = None
    if mask is not None:
        keep = np.asarray(convert(mask)).astype(bool)
    if is_causal:
        causal = np.tril(np.ones((q_len, k_len), dtype=bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        logits = N.where(keep, logits, np.finfo(np.dtype(getattr(logits, "dtype", floatx()))).min / 2)
    weights = softmax(logits, axis=-1)
    return N.einsum("bhqk,bkhd->bqhd", weights, value)


# -- convolution and pooling (channels_last inside; offsets loop) --------------------------

def _tuple(v, n, what):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(i) for i in v)
    if len(v) != n:
        raise ValueError(f"The {what!r} argument must be an int or a tuple of {n} ints. Got {v!r}.")
    return v


def _channels_last(x, data_format):
    fmt = data_format or "channels_last"
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"The 'data_format' argument must be 'channels_last' or 'channels_first'. "
                         f"Got {data_format!r} instead.")
    return fmt == "channels_first"


def _to_last(x, first):
    return np.moveaxis(x, 1, -1) if first else x


def _from_last(x, first):
    return np.moveaxis(x, -1, 1) if first else x


def _padding(spatial, kernel, strides, dilation, padding):
    """Per spatial axis: (pad_before, pad_after, output size), TF's 'same' / 'valid'."""
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"The 'padding' argument must be 'valid' or 'same'. Got {padding!r} instead.")
    result = []
    for n, k, s, d in zip(spatial, kernel, strides, dilation):
        eff = (k - 1) * d + 1
        if padding == "valid":
            out = (n - eff) // s + 1
            result.append((0, 0, out))
        else:
            out = -(-n // s)
            total = max((out - 1) * s + eff - n, 0)
            result.append((total // 2, total - total // 2, out))
    return result


def _window(xp, offset, dilation, strides, outs):
    """The slice of the padded input that kernel ``offset`` multiplies (batch, *out, C)."""
    index = (slice(None),) + tuple(
        slice(o * d, o * d + (n - 1) * s + 1, s) for o, d, s, n in zip(offset, dilation, strides, outs))
    return xp[index]


def _prepare(inputs, kernel_spatial, strides, padding, dilation_rate, data_format):
    first = _channels_last(inputs, data_format)
    x = _to_last(to_float(inputs), first)
    nd = x.ndim - 2
    strides = _tuple(strides, nd, "strides")
    dilation = _tuple(dilation_rate, nd, "dilation_rate")
    pads = _padding(x.shape[1:-1], kernel_spatial, strides, dilation, padding)
    xp = np.pad(x, [(0, 0)] + [(a, b) for a, b, _ in pads] + [(0, 0)]) if any(
        a or b for a, b, _ in pads) else x
    outs = [o for _, _, o in pads]
    return first, x, xp, strides, dilation, pads, outs


def _unpad(gp, pads):
    index = (slice(None),) + tuple(slice(a, gp.shape[i + 1] - b) for i, (a, b, _) in enumerate(pads))
    return gp[index]


def _conv_fwd(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (cross-correlation, as Keras) of ``inputs`` with ``kernel`` of shape
    ``(*kernel_size, in_channels // groups, out_channels)``: the convolution layers' im2col
    kernel (:func:`automl.keras.ops.kernels.conv`); grouped when the input has ``groups``
    times the kernel's input channels."""
    return _kernels.conv_call(inputs, kernel, None, strides, padding, data_format, dilation_rate)


def _conv_bwd(g, saved, needs, into=None):
    return _kernels.conv_call_backward(g, saved, (*needs, False))[:2]


_CONV_SAMPLES = (S((2, 5, 3), (3, 3, 2)) + S((1, 5, 6, 2), (3, 2, 2, 3), strides=(2, 1), padding="same")
                 + S((1, 6, 6, 2), (2, 2, 2, 2), dilation_rate=2)
                 + S((1, 2, 5, 5), (3, 3, 2, 1), padding="same", data_format="channels_first")
                 + S((1, 4, 4, 4, 1), (2, 2, 2, 1, 2))
                 + S((1, 5, 5, 4), (3, 3, 1, 4), padding="same"))  # four groups (depthwise-like)

conv = fused(_ns, bwd=_conv_bwd, diff=("inputs", "kernel"), samples=_CONV_SAMPLES, name="conv")(_conv_fwd)


def _depthwise_forward(inputs, kernel, strides, padding, data_format, dilation_rate):
    kernel = to_float(kernel)
    ks = kernel.shape[:-2]
    first, x, xp, strides, dilation, pads, outs = _prepare(inputs, ks, strides, padding,
                                                           dilation_rate, data_format)
    c, m = kernel.shape[-2:]
    out = np.zeros((x.shape[0], *outs, c, m), dtype=np.result_type(x, kernel))
    for offset in itertools.product(*[range(k) for k in ks]):
        out += _window(xp, offset, dilation, strides, outs)[..., None] * kernel[offset]
    return _from_last(out.reshape(*out.shape[:-2], c * m), first)


def _depthwise_vjp(g, out, needs, inputs, kernel, strides, padding, data_format, dilation_rate):
    kernel = np.asarray(kernel)
    ks = kernel.shape[:-2]
    first, x, xp, strides, dilation, pads, outs = _prepare(inputs, ks, strides, padding,
                                                           dilation_rate, data_format)
    c, m = kernel.shape[-2:]
    g = _to_last(np.asarray(g), first)
    g = g.reshape(*g.shape[:-1], c, m)
    gx = np.zeros_like(xp, dtype=np.result_type(g, xp)) if needs[0] else None
    gk = np.zeros_like(kernel, dtype=np.result_type(g, kernel)) if needs[1] else None
    axes = tuple(range(g.ndim - 2))
    for offset in itertools.product(*[range(k) for k in ks]):
        if needs[0]:
            _window(gx, offset, dilation, strides, outs)[...] += np.sum(g * kernel[offset], axis=-1)
        if needs[1]:
            gk[offset] = np.sum(_window(xp, offset, dilation, strides, outs)[..., None] * g, axis=axes)
    if needs[0]:
        gx = _from_last(_unpad(gx, pads), first)
    return gx, gk


@op(_ns, vjp=_depthwise_vjp, diff=("inputs", "kernel"),
    samples=S((2, 5, 3), (3, 3, 2)) + S((1, 5, 5, 2), (3, 3, 2, 1), strides=2, padding="same"))
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution: each input channel with its own ``(*kernel_size, C, multiplier)``
    filters."""
    return _depthwise_forward(inputs, kernel, strides, padding, data_format, dilation_rate)


@op(_ns, vjp="traced", diff=("inputs", "depthwise_kernel", "pointwise_kernel"),
    samples=S((1, 5, 5, 2), (3, 3, 2, 2), (1, 1, 4, 3)) + S((2, 6, 2), (3, 2, 1), (1, 2, 3), padding="same"))
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """Depthwise convolution followed by a pointwise (1x1) convolution."""
    depth = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depth, pointwise_kernel, 1, "valid", data_format, 1)


def _transpose_geometry(spatial, ks, strides, dilation, padding, output_padding):
    geometry = []
    op_ = [None] * len(spatial) if output_padding is None else _tuple(output_padding, len(spatial),
                                                                       "output_padding")
    for n, k, s, d, o in zip(spatial, ks, strides, dilation, op_):
        eff = (k - 1) * d + 1
        full = (n - 1) * s + eff
        if o is None:
            length = n * s + max(eff - s, 0) if padding == "valid" else n * s
            before = 0 if padding == "valid" else max(eff - s, 0) // 2
        else:
            pad = eff // 2 if padding == "same" else 0
            length = (n - 1) * s + eff - 2 * pad + o
            before = pad
        geometry.append((full, before, length))
    return geometry


def _conv_transpose_parts(inputs, kernel, strides, padding, output_padding, data_format, dilation_rate):
    first = _channels_last(inputs, data_format)
    x = _to_last(to_float(inputs), first)
    kernel = to_float(kernel)
    nd = x.ndim - 2
    ks = kernel.shape[:-2]
    strides = _tuple(strides, nd, "strides")
    dilation = _tuple(dilation_rate, nd, "dilation_rate")
    padding = padding.lower()
    geometry = _transpose_geometry(x.shape[1:-1], ks, strides, dilation, padding, output_padding)
    size = [max(full, before + length) for full, before, length in geometry]
    return first, x, kernel, ks, strides, dilation, geometry, size


def _crop(buffer, geometry):
    return buffer[(slice(None),) + tuple(slice(b, b + n) for _, b, n in geometry)]


def _conv_transpose_forward(inputs, kernel, strides, padding, output_padding, data_format,
                            dilation_rate):
    first, x, kernel, ks, strides, dilation, geometry, size = _conv_transpose_parts(
        inputs, kernel, strides, padding, output_padding, data_format, dilation_rate)
    buf = np.zeros((x.shape[0], *size, kernel.shape[-2]), dtype=np.result_type(x, kernel))
    outs = x.shape[1:-1]
    for offset in itertools.product(*[range(k) for k in ks]):
        _window(buf, offset, dilation, strides, outs)[...] += x @ kernel[offset].T
    return _from_last(np.ascontiguousarray(_crop(buf, geometry)), first)


def _conv_transpose_vjp(g, out, needs, inputs, kernel, strides, padding, output_padding, data_format,
                        dilation_rate):
    first, x, kernel, ks, strides, dilation, geometry, size = _conv_transpose_parts(
        inputs, kernel, strides, padding, output_padding, data_format, dilation_rate)
    g = _to_last(np.asarray(g), first)
    buf = np.zeros((g.shape[0], *size, g.shape[-1]), dtype=g.dtype)
    _crop(buf, geometry)[...] = g
    outs = x.shape[1:-1]
    gx = np.zeros_like(x, dtype=np.result_type(g, x)) if needs[0] else None
    gk = np.zeros_like(kernel, dtype=np.result_type(g, kernel)) if needs[1] else None
    x2 = x.reshape(-1, x.shape[-1])
    for offset in itertools.product(*[range(k) for k in ks]):
        win = _window(buf, offset, dilation, strides, outs)
        if needs[0]:
            gx += win @ kernel[offset]
        if needs[1]:
            gk[offset] = win.reshape(-1, win.shape[-1]).T @ x2
    return (_from_last(gx, first) if needs[0] else None), gk


@op(_ns, vjp=_conv_transpose_vjp, diff=("inputs", "kernel"),
    samples=S((2, 4, 3), (3, 2, 3), 2) + S((1, 3, 3, 2), (3, 3, 4, 2), 2, padding="same")
    + S((1, 3, 4, 2), (2, 3, 1, 2), L((2, 1)), output_padding=(1, 0)) + S((1, 4, 2), (3, 2, 2), 1, dilation_rate=2))
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1):
    """Transposed convolution with ``kernel`` of shape ``(*kernel_size, out_channels,
    in_channels)`` (the gradient of ``conv`` with respect to its input)."""
    return _conv_transpose_forward(inputs, kernel, strides, padding, output_padding, data_format,
                                   dilation_rate)


def _pool_parts(inputs, pool_size, strides, padding, data_format, fill):
    first = _channels_last(inputs, data_format)
    x = _to_last(to_float(inputs), first)
    nd = x.ndim - 2
    ks = _tuple(pool_size, nd, "pool_size")
    strides = ks if strides is None else _tuple(strides, nd, "strides")
    pads = _padding(x.shape[1:-1], ks, strides, (1,) * nd, padding)
    xp = np.pad(x, [(0, 0)] + [(a, b) for a, b, _ in pads] + [(0, 0)], constant_values=fill) if any(
        a or b for a, b, _ in pads) else x
    return first, x, xp, ks, strides, pads, [o for _, _, o in pads]


def _max_pool_forward(inputs, pool_size, strides, padding, data_format):
    first, x, xp, ks, strides, pads, outs = _pool_parts(inputs, pool_size, strides, padding,
                                                        data_format, -np.inf)
    out = None
    for offset in itertools.product(*[range(k) for k in ks]):
        win = _window(xp, offset, (1,) * len(ks), strides, outs)
        out = win.copy() if out is None else np.maximum(out, win)
    return _from_last(out, first)


def _max_pool_vjp(g, out, needs, inputs, pool_size, strides, padding, data_format):
    first, x, xp, ks, strides, pads, outs = _pool_parts(inputs, pool_size, strides, padding,
                                                        data_format, -np.inf)
    g = _to_last(np.asarray(g), first)
    best = _to_last(np.asarray(out), first)
    gx = np.zeros_like(xp, dtype=np.result_type(g, xp))
    taken = np.zeros(best.shape, dtype=bool)
    for offset in itertools.product(*[range(k) for k in ks]):
        win = _window(xp, offset, (1,) * len(ks), strides, outs)
        hit = (win == best) & ~taken  # the first maximum of each window gets the gradient
        taken |= hit
        _window(gx, offset, (1,) * len(ks), strides, outs)[...] += g * hit
    return (_from_last(_unpad(gx, pads), first),)


@op(_ns, vjp=_max_pool_vjp, samples=S((2, 6, 3), 2) + S((1, 5, 5, 2), 3, 2, padding="same")
    + S((1, 2, 4, 4), L((2, 2)), data_format="channels_first"))
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D max pooling (``strides`` default to ``pool_size``)."""
    return _max_pool_forward(inputs, pool_size, strides, padding, data_format)


def _avg_counts(x, ks, strides, pads, outs):
    ones = np.pad(np.ones((1, *x.shape[1:-1], 1), dtype=x.dtype),
                  [(0, 0)] + [(a, b) for a, b, _ in pads] + [(0, 0)])
    count = 0
    for offset in itertools.product(*[range(k) for k in ks]):
        count = count + _window(ones, offset, (1,) * len(ks), strides, outs)
    return count


def _average_pool_forward(inputs, pool_size, strides, padding, data_format):
    first, x, xp, ks, strides, pads, outs = _pool_parts(inputs, pool_size, strides, padding,
                                                        data_format, 0.0)
    total = 0
    for offset in itertools.product(*[range(k) for k in ks]):
        total = total + _window(xp, offset, (1,) * len(ks), strides, outs)
    return _from_last(total / _avg_counts(x, ks, strides, pads, outs), first)


def _average_pool_vjp(g, out, needs, inputs, pool_size, strides, padding, data_format):
    first, x, xp, ks, strides, pads, outs = _pool_parts(inputs, pool_size, strides, padding,
                                                        data_format, 0.0)
    g = _to_last(np.asarray(g), first) / _avg_counts(x, ks, strides, pads, outs)
    gx = np.zeros_like(xp, dtype=np.result_type(g, xp))
    for offset in itertools.product(*[range(k) for k in ks]):
        _window(gx, offset, (1,) * len(ks), strides, outs)[...] += g
    return (_from_last(_unpad(gx, pads), first),)


@op(_ns, vjp=_average_pool_vjp, samples=S((2, 6, 3), 2) + S((1, 5, 5, 2), 3, 2, padding="same")
    + S((1, 2, 4, 4), L((2, 2)), data_format="channels_first"))
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D average pooling ('same' padding averages over the valid entries only, as Keras)."""
    return _average_pool_forward(inputs, pool_size, strides, padding, data_format)


def _register_nn_gather(fn, samples):
    first = fn.__code__.co_varnames[0]

    def vjp(g, out, needs, **kw):
        x = kw.pop(first)
        return (N.gather_grad(lambda i: fn(i, **kw), np.shape(x), g),)
    return op(_ns, vjp=vjp, samples=samples, name=fn.__name__)(fn)


def _as_channels_last(x, data_format, fn):
    """``fn`` applied to ``x`` viewed as ``(N, H, W, C)``, the result laid out as ``data_format``."""
    x = convert(x)
    first = data_format == "channels_first"
    out = fn(np.moveaxis(x, 1, -1) if first else x)
    return np.moveaxis(out, -1, 1) if first else out


def depth_to_space(x, block_size, data_format="channels_last"):
    """Move blocks of ``block_size**2`` channels into ``block_size x block_size`` spatial tiles."""
    b = int(block_size)

    def tiles(x):
        n, h, w, c = x.shape
        return x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5).reshape(
            n, h * b, w * b, c // (b * b))

    return _as_channels_last(x, data_format, tiles)


def space_to_depth(x, block_size, data_format="channels_last"):
    """Move ``block_size x block_size`` spatial tiles into the channels (the inverse of
    :func:`depth_to_space`)."""
    b = int(block_size)

    def blocks(x):
        n, h, w, c = x.shape
        return x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5).reshape(
            n, h // b, w // b, b * b * c)

    return _as_channels_last(x, data_format, blocks)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002 (Keras's name)
    """Sliding blocks of a ``(N, C, H, W)`` input as columns ``(N, C * kh * kw, blocks)``."""
    x = convert(input)
    kh, kw = _tuple(kernel_size, 2, "kernel_size")
    dh, dw = _tuple(dilation, 2, "dilation")
    ph, pw = _tuple(padding, 2, "padding")
    sh, sw = _tuple(stride, 2, "stride")
    x = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    n, c, h, w = x.shape
    oh = (h - (kh - 1) * dh - 1) // sh + 1
    ow = (w - (kw - 1) * dw - 1) // sw + 1
    cols = [x[:, :, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw]
            for i in range(kh) for j in range(kw)]
    return np.stack(cols, axis=2).reshape(n, c * kh * kw, oh * ow)


depth_to_space = _register_nn_gather(depth_to_space, S((2, 2, 3, 8), 2)
                                     + S((1, 8, 2, 2), 2, data_format="channels_first"))
space_to_depth = _register_nn_gather(space_to_depth, S((2, 4, 6, 2), 2))
unfold = _register_nn_gather(unfold, S((2, 2, 5, 5), 3) + S((1, 1, 6, 5), L((2, 3)), padding=1, stride=2)
                             + S((1, 2, 6, 6), 2, dilation=2))


def _adaptive_bins(n_in, n_out):
    return [(int(np.floor(i * n_in / n_out)), int(np.ceil((i + 1) * n_in / n_out))) for i in range(n_out)]


def _adaptive_parts(inputs, output_size, data_format):
    first = _channels_last(inputs, data_format)
    x = _to_last(to_float(inputs), first)
    nd = x.ndim - 2
    sizes = _tuple(output_size, nd, "output_size")
    return first, x, [_adaptive_bins(n, m) for n, m in zip(x.shape[1:-1], sizes)]


def _average_matrices(x, bins):
    mats = []
    for n, axis_bins in zip(x.shape[1:-1], bins):
        m = np.zeros((len(axis_bins), n), dtype=x.dtype)
        for i, (a, b) in enumerate(axis_bins):
            m[i, a:b] = 1.0 / (b - a)
        mats.append(m)
    return mats


def _apply_axes(x, mats):
    for axis, m in enumerate(mats, start=1):
        x = np.moveaxis(np.tensordot(m, x, axes=([1], [axis])), 0, axis)
    return x


def _adaptive_average_vjp(g, out, needs, inputs, output_size, data_format):
    first, x, bins = _adaptive_parts(inputs, output_size, data_format)
    mats = [m.T for m in _average_matrices(x, bins)]
    return (_from_last(_apply_axes(_to_last(np.asarray(g), first), mats), first),)


@op(_ns, vjp=_adaptive_average_vjp, samples=S((2, 7, 3), 3) + S((1, 5, 6, 2), L((2, 4)))
    + S((1, 2, 5, 5), 2, data_format="channels_first"))
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size`` (bins ``[floor(i n / m), ceil((i + 1) n / m))``)."""
    first, x, bins = _adaptive_parts(inputs, output_size, data_format)
    return _from_last(_apply_axes(x, _average_matrices(x, bins)), first)


def _adaptive_max_vjp(g, out, needs, inputs, output_size, data_format):
    first, x, bins = _adaptive_parts(inputs, output_size, data_format)
    g = _to_last(np.asarray(g), first)
    grad = np.zeros_like(x, dtype=g.dtype)
    for index in itertools.product(*[range(len(b)) for b in bins]):
        window = (slice(None),) + tuple(slice(*bins[k][i]) for k, i in enumerate(index))
        block = x[window].reshape(x.shape[0], -1, x.shape[-1])
        first_max = np.argmax(block, axis=1)
        hit = np.zeros_like(block, dtype=bool)
        np.put_along_axis(hit, first_max[:, None, :], True, axis=1)
        gi = g[(slice(None), *index)][:, None, :]
        grad[window] += (hit * gi).reshape(x[window].shape)
    return (_from_last(grad, first),)


@op(_ns, vjp=_adaptive_max_vjp, samples=S((2, 7, 3), 3) + S((1, 5, 6, 2), L((2, 4))))
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size`` (the bins of :func:`adaptive_average_pool`)."""
    first, x, bins = _adaptive_parts(inputs, output_size, data_format)
    out = np.empty((x.shape[0], *[len(b) for b in bins], x.shape[-1]), dtype=x.dtype)
    for index in itertools.product(*[range(len(b)) for b in bins]):
        window = (slice(None),) + tuple(slice(*bins[k][i]) for k, i in enumerate(index))
        out[(slice(None), *index)] = x[window].reshape(x.shape[0], -1, x.shape[-1]).max(axis=1)
    return _from_last(out, first)


@op(_ns, samples=S(P(3), (3,)))
def polar(abs_, angle):
    """The complex numbers ``abs_ * exp(1j * angle)`` (complex: no gradient)."""
    r, t = to_float(abs_), to_float(angle)
    return (r * np.exp(1j * t)).astype(np.result_type(r.dtype, np.complex64))


def _ctc_lattice(log_probs, labels, blank):
    """Log alphas and betas of one sequence over its extended labels (blanks around each)."""
    ext = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    ext[1::2] = labels
    t_len, n = log_probs.shape[0], len(ext)
    y = log_probs[:, ext]  # (T, S')
    skip = np.zeros(n, dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.full((t_len, n), -np.inf)
    alpha[0, 0] = y[0, 0]
    if n > 1:
        alpha[0, 1] = y[0, 1]
    for t in range(1, t_len):
        prev = alpha[t - 1]
        acc = prev.copy()
        acc[1:] = np.logaddexp(acc[1:], prev[:-1])
        acc[2:] = np.where(skip[2:], np.logaddexp(acc[2:], prev[:-2]), acc[2:])
        alpha[t] = acc + y[t]
    beta = np.full((t_len, n), -np.inf)
    beta[-1, -1] = y[-1, -1]
    if n > 1:
        beta[-1, -2] = y[-1, -2]
    skip_next = np.zeros(n, dtype=bool)
    skip_next[:-2] = skip[2:]
    for t in range(t_len - 2, -1, -1):
        nxt = beta[t + 1]
        acc = nxt.copy()
        acc[:-1] = np.logaddexp(acc[:-1], nxt[1:])
        acc[:-2] = np.where(skip_next[:-2], np.logaddexp(acc[:-2], nxt[2:]), acc[:-2])
        beta[t] = acc + y[t]
    log_p = np.logaddexp(alpha[-1, -1], alpha[-1, -2]) if n > 1 else alpha[-1, -1]
    return ext, y, alpha, beta, log_p


def _ctc_sequences(target, output, target_length, output_length):
    labels = np.asarray(convert(target)).astype(np.int64)
    logits = to_float(output)
    t_lens = np.asarray(convert(target_length)).astype(np.int64).reshape(-1)
    o_lens = np.asarray(convert(output_length)).astype(np.int64).reshape(-1)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return labels, logits, t_lens, o_lens, log_probs


def _ctc_vjp(g, out, needs, target, output, target_length, output_length, mask_index):
    labels, logits, t_lens, o_lens, log_probs = _ctc_sequences(target, output, target_length,
                                                               output_length)
    grad = np.zeros(logits.shape, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64).reshape(-1)
    for b in range(logits.shape[0]):
        t_len = int(o_lens[b])
        lp = log_probs[b, :t_len]
        ext, y, alpha, beta, log_p = _ctc_lattice(lp, labels[b, :t_lens[b]], mask_index)
        if not np.isfinite(log_p):
            continue  # an impossible alignment: infinite loss, no usable gradient
        post = np.exp(alpha + beta - y - log_p)  # occupation of each extended label, (T, S')
        occupancy = np.zeros((t_len, logits.shape[-1]))
        np.add.at(occupancy, (slice(None), ext), post)
        grad[b, :t_len] = g[b] * (np.exp(lp) - occupancy)
    return None, grad.astype(logits.dtype)


@op(_ns, vjp=lambda g, out, needs, **kw: _ctc_vjp(g, out, needs, **kw), diff=("target", "output"),
    spec=lambda target, output, target_length, output_length, mask_index=0: Spec(
        output.shape[:1], to_float(np.zeros((), np.dtype(getattr(output.dtype, "name", output.dtype)))).dtype),
    samples=S(I([[1, 2], [2, 0]]), (2, 5, 3), I([2, 1]), I([5, 4]))
    + S(I([[1, 1, 2]]), (1, 6, 4), I([3]), I([6]), mask_index=3))
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Connectionist temporal classification loss of the integer ``target`` sequences given the
    ``output`` logits ``(batch, time, classes)``; ``mask_index`` is the blank class."""
    labels, logits, t_lens, o_lens, log_probs = _ctc_sequences(target, output, target_length,
                                                               output_length)
    losses = np.empty(logits.shape[0], dtype=logits.dtype)
    for b in range(logits.shape[0]):
        *_, log_p = _ctc_lattice(log_probs[b, :o_lens[b]], labels[b, :t_lens[b]], mask_index)
        losses[b] = -log_p
    return losses


def _ctc_decode_spec(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
                     merge_repeated=True, mask_index=0):
    return (Spec((1, inputs.shape[0], inputs.shape[1]), "int32"), Spec((inputs.shape[0], 1), inputs.dtype))


@op(_ns, spec=_ctc_decode_spec,
    samples=S((3, 6, 4), I([6, 4, 1])) + S((2, 5, 3), I([5, 5]), merge_repeated=False, mask_index=2))
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
               mask_index=0):
    """Greedy CTC decoding of ``inputs`` ``(batch, time, classes)``: the best class per step, repeats
    merged (``merge_repeated``), blanks (``mask_index``) and steps past ``sequence_lengths`` dropped.

    Returns ``(decoded, log_probabilities)``: ``(1, batch, time)`` int32 labels left-aligned and padded
    with -1, and ``(batch, 1)`` minus the sum of the chosen scores, as Keras.
    """
    if strategy != "greedy":
        raise NotImplementedError(f"ctc_decode supports strategy='greedy' only. Got strategy={strategy!r}.")
    x = to_float(inputs)
    n, t, c = x.shape
    blank = c - 1 if mask_index is None else int(mask_index)
    lengths = np.asarray(convert(sequence_lengths)).astype(np.int64).reshape(-1)
    best = np.argmax(x, axis=-1)
    past = np.arange(t)[None, :] >= lengths[:, None]
    best = np.where(past, blank, best)
    score = -np.sum(np.where(past, 0.0, np.max(x, axis=-1)), axis=1, keepdims=True).astype(x.dtype)
    if merge_repeated:
        best[:, 1:] = np.where(best[:, 1:] == best[:, :-1], blank, best[:, 1:])
    keep = best != blank
    decoded = np.full((n, t), -1, dtype=np.int32)
    rank = np.cumsum(keep, axis=1) - 1  # the kept labels' positions, left-aligned
    rows, cols = np.nonzero(keep)
    decoded[rows, rank[rows, cols]] = best[rows, cols]
    return decoded[None], score


__all__ = sorted(
    name for name, value in dict(globals()).items()
    if callable(value) and hasattr(value, "_op") and value._op.namespace == _ns
)
