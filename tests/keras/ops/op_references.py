"""NumPy / SciPy references of the nn, math, linalg and image ops, written independently
of the implementations (plain formulas, SciPy routines and index-by-index loops)."""

import colorsys
import itertools

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.ndimage
import scipy.signal
import scipy.special
import scipy.stats

EPS = 1e-7
SELU = (1.6732632423543772, 1.0507009873554805)


def _t(v, n):
    return (v,) * n if np.isscalar(v) else tuple(v)


def _same_pads(n, k, s, d=1):
    eff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    return total // 2, total - total // 2


def _dilate(kernel, d, axes):
    for ax, rate in zip(axes, d):
        if rate > 1:
            shape = list(kernel.shape)
            shape[ax] = (shape[ax] - 1) * rate + 1
            grown = np.zeros(shape)
            index = [slice(None)] * kernel.ndim
            index[ax] = slice(None, None, rate)
            grown[tuple(index)] = kernel
            kernel = grown
    return kernel


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    x = np.moveaxis(inputs, 1, -1) if data_format == "channels_first" else inputs
    nd = x.ndim - 2
    s, d = _t(strides, nd), _t(dilation_rate, nd)
    k = _dilate(kernel, d, range(nd))
    if padding == "same":
        x = np.pad(x, [(0, 0)] + [_same_pads(n, kk, ss, dd) for n, kk, ss, dd in
                                  zip(x.shape[1:-1], kernel.shape[:nd], s, d)] + [(0, 0)])
    elif padding == "causal":
        x = np.pad(x, [(0, 0), (k.shape[0] - 1, 0), (0, 0)])
    cg, f = kernel.shape[-2:]
    groups = x.shape[-1] // cg
    outs = []
    for b in range(x.shape[0]):
        per_out = []
        for o in range(f):
            group = o // (f // groups)  # output channel o reads input channels of its group
            acc = sum(scipy.signal.correlate(x[b, ..., group * cg + c], k[..., c, o], mode="valid")
                      for c in range(cg))
            per_out.append(acc[tuple(slice(None, None, ss) for ss in s)])
        outs.append(np.stack(per_out, -1))
    out = np.stack(outs)
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    c, m = kernel.shape[-2:]
    parts = []
    for ch in range(c):
        for j in range(m):
            kk = np.zeros(kernel.shape[:-2] + (1, 1))
            kk[..., 0, 0] = kernel[..., ch, j]
            parts.append(conv(inputs[..., ch:ch + 1], kk, strides, padding, None, dilation_rate))
    return np.concatenate(parts, -1)


def separable_conv(inputs, dk, pk, strides=1, padding="valid", data_format=None, dilation_rate=1):
    return conv(depthwise_conv(inputs, dk, strides, padding, None, dilation_rate), pk)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1):
    x = inputs
    nd = x.ndim - 2
    s, d = _t(strides, nd), _t(dilation_rate, nd)
    op = [None] * nd if output_padding is None else _t(output_padding, nd)
    ks = kernel.shape[:nd]
    lengths, befores = [], []
    for n, k, ss, dd, o in zip(x.shape[1:-1], ks, s, d, op):
        eff = (k - 1) * dd + 1
        if o is None:
            lengths.append(n * ss + max(eff - ss, 0) if padding == "valid" else n * ss)
            befores.append(0 if padding == "valid" else max(eff - ss, 0) // 2)
        else:
            pad = eff // 2 if padding == "same" else 0
            lengths.append((n - 1) * ss + eff - 2 * pad + o)
            befores.append(pad)
    out = np.zeros((x.shape[0], *lengths, kernel.shape[-2]))
    for b in range(x.shape[0]):
        for pos in itertools.product(*[range(n) for n in x.shape[1:-1]]):
            for off in itertools.product(*[range(k) for k in ks]):
                target = tuple(p * ss + f * dd - bf for p, ss, f, dd, bf in zip(pos, s, off, d, befores))
                if all(0 <= t < n for t, n in zip(target, lengths)):
                    out[(b, *target)] += kernel[off] @ x[(b, *pos)]
    return out


def _pool(inputs, pool_size, strides, padding, data_format, reduce):
    x = np.moveaxis(inputs, 1, -1) if data_format == "channels_first" else inputs
    nd = x.ndim - 2
    ks = _t(pool_size, nd)
    s = ks if strides is None else _t(strides, nd)
    pads = [(0, 0)] * nd if padding == "valid" else [
        _same_pads(n, k, ss) for n, k, ss in zip(x.shape[1:-1], ks, s)]
    outs = [(n + a + b - k) // ss + 1 for n, (a, b), k, ss in zip(x.shape[1:-1], pads, ks, s)]
    out = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for pos in itertools.product(*[range(o) for o in outs]):
        lo = [p * ss - a for p, ss, (a, _) in zip(pos, s, pads)]
        index = (slice(None),) + tuple(slice(max(lv, 0), min(lv + k, n)) for lv, k, n in
                                       zip(lo, ks, x.shape[1:-1]))
        win = x[index].reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None), *pos)] = reduce(win, axis=1)
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool(inputs, pool_size, strides, padding, data_format, np.max)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool(inputs, pool_size, strides, padding, data_format, np.mean)


def sparsemax(x, axis=-1):
    x = np.moveaxis(x, axis, -1)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        z = x[idx]
        lo, hi = z.min() - 1, z.max()
        for _ in range(200):  # bisection on tau: sum(max(z - tau, 0)) = 1
            tau = (lo + hi) / 2
            lo, hi = (tau, hi) if np.maximum(z - tau, 0).sum() > 1 else (lo, tau)
        out[idx] = np.maximum(z - (lo + hi) / 2, 0)
    return np.moveaxis(out, -1, axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    return np.moveaxis(np.eye(num_classes)[x], -1, axis)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False):
    out = np.zeros((*inputs.shape[:-1], num_classes))
    for idx in np.ndindex(inputs.shape[:-1]):
        for c in inputs[idx]:
            out[idx][c] = 1
    return out


def bce(target, output, from_logits=False):
    p = scipy.special.expit(output) if from_logits else np.clip(output, EPS, 1 - EPS)
    return -(target * np.log(p) + (1 - target) * np.log(1 - p))


def cce(target, output, from_logits=False, axis=-1):
    if from_logits:
        return -np.sum(target * scipy.special.log_softmax(output, axis=axis), axis=axis)
    p = np.clip(output / output.sum(axis=axis, keepdims=True), EPS, 1 - EPS)
    return -np.sum(target * np.log(p), axis=axis)


def scce(target, output, from_logits=False, axis=-1):
    labels = target.reshape(-1)
    return cce(np.eye(output.shape[-1])[labels], output, from_logits, axis)


def attention(q, k, v, bias=None, mask=None, scale=None, is_causal=False, **_):
    b, tq, h, dk = q.shape
    out = np.zeros((b, tq, h, v.shape[-1]))
    for i in range(b):
        for j in range(h):
            logits = q[i, :, j] @ k[i, :, j].T / np.sqrt(dk)
            if is_causal:
                logits = np.where(np.tril(np.ones(logits.shape, bool)), logits, -1e30)
            out[i, :, j] = scipy.special.softmax(logits, axis=-1) @ v[i, :, j]
    return out


def _gelu(x, approximate=True):
    if approximate:
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return x * scipy.stats.norm.cdf(x)


def _bn(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    y = (x - mean) / np.sqrt(variance + epsilon)
    y = y if scale is None else y * scale
    return y if offset is None else y + offset


def _normalize(x, axis=-1, order=2, epsilon=None):
    return x / np.maximum(np.linalg.norm(x, ord=order, axis=axis, keepdims=True), 1e-7)


def _layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=None):
    y = (x - x.mean(axis, keepdims=True)) / np.sqrt(x.var(axis, keepdims=True) + 1e-3)
    y = y if gamma is None else y * gamma
    return y if beta is None else y + beta


def _activation(name):
    """The reference of a layer activation by name (Keras's activations: exact GELU)."""
    if name is None:
        return lambda z: z
    if name == "gelu":
        return lambda z: _gelu(z, approximate=False)
    return np.tanh if name == "tanh" else REFERENCES[name]


REFERENCES = {
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "relu6": lambda x: np.minimum(np.maximum(x, 0), 6),
    "sigmoid": scipy.special.expit,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * scipy.special.expit(x),
    "swish": lambda x: x * scipy.special.expit(x),
    "log_sigmoid": scipy.special.log_expit,
    "leaky_relu": lambda x, negative_slope=0.2: np.where(x > 0, x, negative_slope * x),
    "hard_sigmoid": lambda x: np.clip((x + 3) / 6, 0, 1),
    "hard_silu": lambda x: x * np.clip((x + 3) / 6, 0, 1),
    "hard_swish": lambda x: x * np.clip((x + 3) / 6, 0, 1),
    "elu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)),
    "selu": lambda x: SELU[1] * np.where(x > 0, x, SELU[0] * (np.exp(x) - 1)),
    "celu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x / alpha) - 1)),
    "gelu": _gelu,
    "glu": lambda x, axis=-1: np.split(x, 2, axis)[0] * scipy.special.expit(np.split(x, 2, axis)[1]),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_shrink": lambda x, threshold=0.5: x * (np.abs(x) > threshold),
    "soft_shrink": lambda x, threshold=0.5: np.sign(x) * np.maximum(np.abs(x) - threshold, 0),
    "squareplus": lambda x, b=4: (x + np.sqrt(x ** 2 + b)) / 2,
    "sparse_plus": lambda x: np.piecewise(x, [x <= -1, x >= 1], [0, lambda v: v, lambda v: (v + 1) ** 2 / 4]),
    "sparse_sigmoid": lambda x: np.piecewise(x, [x <= -1, x >= 1], [0, 1, lambda v: (v + 1) / 2]),
    "threshold": lambda x, t, v: np.where(x > t, x, v),
    "softmax": lambda x, axis=-1: scipy.special.softmax(x, axis=axis),
    "log_softmax": lambda x, axis=-1: scipy.special.log_softmax(x, axis=axis),
    "sparsemax": sparsemax,
    "one_hot": one_hot,
    "multi_hot": multi_hot,
    "binary_crossentropy": bce,
    "categorical_crossentropy": cce,
    "sparse_categorical_crossentropy": scce,
    "moments": lambda x, axes, keepdims=False: (np.mean(x, tuple(axes), keepdims=keepdims),
                                                np.var(x, tuple(axes), keepdims=keepdims)),
    "batch_normalization": _bn,
    "normalize": _normalize,
    "rms_normalization": lambda x, scale=1, axis=-1, epsilon=None: x / np.sqrt(
        np.mean(x ** 2, axis, keepdims=True) + 1e-7) * scale,
    "layer_normalization": _layer_norm,
    "psnr": lambda a, b, m: 10 * np.log10(m ** 2 / np.mean((a - b) ** 2)),
    "dot_product_attention": attention,
    "conv": conv,
    "kernels.dense": lambda x, w, b=None, act=None: _activation(act)(x @ w + (0 if b is None else b)),
    "kernels.conv": lambda x, k, b=None, strides=1, padding="valid", data_format=None, dilation_rate=1,
    activation=None: _activation(activation)(conv(x, k, strides, padding, data_format, dilation_rate)
                                             + (0 if b is None else b)),
    "kernels.dropout": lambda x, keep, rate: np.where(keep, x / (1 - rate), 0.0),
    "depthwise_conv": depthwise_conv,
    "separable_conv": separable_conv,
    "conv_transpose": conv_transpose,
    "max_pool": max_pool,
    "average_pool": average_pool,
}


def _segment(reduce, empty):
    def ref(data, ids, num_segments=None, sorted=False):
        n = ids.max() + 1 if num_segments is None else num_segments
        return np.stack([reduce(data[ids == s], axis=0) if np.any(ids == s) else
                         np.full(data.shape[1:], empty) for s in range(n)])
    return ref


def _top_k(x, k, sorted=True):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx


def _extract(x, n, stride):
    count = 1 + (x.shape[-1] - n) // stride
    return np.stack([x[..., i * stride: i * stride + n] for i in range(count)], axis=-2)


def _overlap_add(frames, stride):
    count, n = frames.shape[-2:]
    out = np.zeros((*frames.shape[:-2], (count - 1) * stride + n))
    for i in range(count):
        out[..., i * stride: i * stride + n] += frames[..., i, :]
    return out


def _stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    # scipy's STFT with a periodic window, no scaling, and the reflect padding of Keras.
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(fft_length // 2,) * 2], mode="reflect")
    win = scipy.signal.get_window(window, sequence_length)
    left = (fft_length - sequence_length) // 2
    win = np.pad(win, (left, fft_length - sequence_length - left))
    frames = _extract(x, fft_length, sequence_stride) * win
    z = np.fft.rfft(frames, n=fft_length, axis=-1)
    return z.real, z.imag


def _istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    frames = np.fft.irfft(x[0] + 1j * x[1], n=fft_length, axis=-1)
    win = scipy.signal.get_window(window, sequence_length)
    left = (fft_length - sequence_length) // 2
    win = np.pad(win, (left, fft_length - sequence_length - left))
    signal = _overlap_add(frames * win, sequence_stride)
    norm = _overlap_add(np.broadcast_to(win ** 2, frames.shape[-2:]), sequence_stride)
    signal = signal / np.where(norm > 1e-10, norm, 1)
    start = fft_length // 2 if center else 0
    end = signal.shape[-1] - (fft_length // 2 if center else 0) if length is None else start + length
    return signal[..., start:end]


def _complex(fn):
    def ref(x, *args, **kwargs):
        z = fn(x[0] + 1j * x[1], *args, **kwargs)
        return z.real, z.imag
    return ref


REFERENCES.update({
    "segment_sum": _segment(np.sum, 0.0),
    "segment_max": _segment(np.max, np.finfo(float).min),
    "top_k": _top_k,
    "in_top_k": lambda t, p, k: np.array([t[i] in np.argsort(-p[i])[:k] for i in range(len(t))]),
    "logsumexp": lambda x, axis=None, keepdims=False: scipy.special.logsumexp(x, axis=axis,
                                                                             keepdims=keepdims),
    "rsqrt": lambda x: x ** -0.5,
    "erf": scipy.special.erf,
    "erfinv": scipy.special.erfinv,
    "logdet": lambda x: np.log(np.linalg.det(x)),
    "extract_sequences": _extract,
    "overlap_add": _overlap_add,
    "fft": _complex(lambda z: scipy.fft.fft(z, axis=-1)),
    "fft2": _complex(lambda z: scipy.fft.fft2(z)),
    "ifft": _complex(lambda z: scipy.fft.ifft(z, axis=-1)),
    "ifft2": _complex(lambda z: scipy.fft.ifft2(z)),
    "rfft": lambda x, fft_length=None: (scipy.fft.rfft(x, n=fft_length).real,
                                        scipy.fft.rfft(x, n=fft_length).imag),
    "irfft": lambda x, fft_length=None: scipy.fft.irfft(x[0] + 1j * x[1], n=fft_length),
    "stft": _stft,
    "istft": _istft,
})


def _lu_factor(x):
    lu, piv = scipy.linalg.lu_factor(x)
    return lu, piv


REFERENCES.update({
    "cholesky": lambda x, upper=False: np.stack([scipy.linalg.cholesky(m, lower=not upper)
                                                  for m in x.reshape(-1, *x.shape[-2:])]).reshape(x.shape),
    "inv": lambda x: np.stack([scipy.linalg.inv(m) for m in x.reshape(-1, *x.shape[-2:])]).reshape(x.shape),
    "det": lambda x: np.array([scipy.linalg.det(m) for m in x.reshape(-1, *x.shape[-2:])]).reshape(
        x.shape[:-2]),
    "lu_factor": _lu_factor,
    "norm": lambda x, ord=None, axis=None, keepdims=False: np.linalg.norm(x, ord, axis, keepdims),
    "solve": lambda a, b: np.stack([scipy.linalg.solve(m, v) for m, v in zip(
        a.reshape(-1, *a.shape[-2:]), b.reshape(-1, *b.shape[a.ndim - 2:]))]).reshape(b.shape),
    "solve_triangular": lambda a, b, lower=False: scipy.linalg.solve_triangular(a, b, lower=lower),
    "svd": lambda x, full_matrices=True, compute_uv=True: np.stack([
        scipy.linalg.svdvals(m) for m in x.reshape(-1, *x.shape[-2:])]).reshape(
        *x.shape[:-2], min(x.shape[-2:])),
    "lstsq": lambda a, b, rcond=None: scipy.linalg.lstsq(a, b)[0],
})


# -- image ----------------------------------------------------------------------------------

def _kernel(name):
    if name == "bilinear":
        return lambda t: max(0.0, 1 - abs(t))
    if name == "bicubic":
        def cubic(t):
            t = abs(t)
            if t <= 1:
                return 1.5 * t ** 3 - 2.5 * t ** 2 + 1
            return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2 if t < 2 else 0.0
        return cubic


def _weights(n_in, n_out, interpolation, antialias):
    scale = n_out / n_in
    w = np.zeros((n_out, n_in))
    for o in range(n_out):
        if interpolation == "nearest":
            w[o, min(int(np.floor((o + 0.5) / scale)), n_in - 1)] = 1
            continue
        center = (o + 0.5) / scale - 0.5
        shrink = min(scale, 1.0) if antialias else 1.0
        for i in range(n_in):
            w[o, i] = _kernel(interpolation)((center - i) * shrink)
        w[o] /= w[o].sum()
    return w


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    x = images[None] if images.ndim == 3 else images
    x = np.moveaxis(x, 1, -1) if data_format == "channels_first" else x
    h, w = x.shape[1:3]
    th, tw = size
    if crop_to_aspect_ratio:
        ch, cw = min(h, round(w * th / tw)), min(w, round(h * tw / th))
        x = x[:, (h - ch) // 2:(h - ch) // 2 + ch, (w - cw) // 2:(w - cw) // 2 + cw]
    if pad_to_aspect_ratio:
        ph, pw = max(h, round(w * th / tw)), max(w, round(h * tw / th))
        x = np.pad(x, [(0, 0), ((ph - h) // 2, ph - h - (ph - h) // 2),
                       ((pw - w) // 2, pw - w - (pw - w) // 2), (0, 0)], constant_values=fill_value)
    wh = _weights(x.shape[1], th, interpolation, antialias)
    ww = _weights(x.shape[2], tw, interpolation, antialias)
    out = np.zeros((x.shape[0], th, tw, x.shape[-1]))
    for i in range(th):
        for j in range(tw):
            out[:, i, j] = np.tensordot(np.outer(wh[i], ww[j]), x, axes=([0, 1], [1, 2]))
    out = np.moveaxis(out, -1, 1) if data_format == "channels_first" else out
    return out[0] if images.ndim == 3 else out


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    x = images[None] if images.ndim == 3 else images
    x = np.moveaxis(x, 1, -1) if data_format == "channels_first" else x
    kh, kw = _t(size, 2)
    sh, sw = _t(size if strides is None else strides, 2)
    d = dilation_rate
    if padding == "same":
        x = np.pad(x, [(0, 0), _same_pads(x.shape[1], kh, sh, d), _same_pads(x.shape[2], kw, sw, d), (0, 0)])
    oh = (x.shape[1] - (kh - 1) * d - 1) // sh + 1
    ow = (x.shape[2] - (kw - 1) * d - 1) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, kh * kw * x.shape[-1]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * sh: i * sh + (kh - 1) * d + 1: d, j * sw: j * sw + (kw - 1) * d + 1: d]
            out[:, i, j] = patch.reshape(x.shape[0], -1)
    out = np.moveaxis(out, -1, 1) if data_format == "channels_first" else out
    return out[0] if images.ndim == 3 else out


def _pad_or_crop(images, top, left, bottom, right, target_height, target_width, crop):
    """Keras's pad_images (``crop=False``) or crop_images on a batch or a single (3-D) image.

    A missing ``bottom``/``right`` is what makes the result ``target_height x target_width``.
    """
    x = images[None] if images.ndim == 3 else images
    h, w = x.shape[1:3]
    sign = -1 if crop else 1
    bottom = sign * (target_height - h) - top if bottom is None else bottom
    right = sign * (target_width - w) - left if right is None else right
    if crop:
        out = x[:, top:h - bottom, left:w - right]
    else:
        out = np.pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)])
    return out[0] if images.ndim == 3 else out


def _pad_images(images, top=None, left=None, bottom=None, right=None, target_height=None,
                target_width=None, data_format=None):
    return _pad_or_crop(images, top, left, bottom, right, target_height, target_width, crop=False)


def _crop_images(images, top=None, left=None, bottom=None, right=None, target_height=None,
                 target_width=None, data_format=None):
    return _pad_or_crop(images, top, left, bottom, right, target_height, target_width, crop=True)


def _colors(fn):
    def ref(images, data_format=None):
        x = np.moveaxis(images, 0 if images.ndim == 3 else 1, -1) if data_format == "channels_first" else images
        out = np.apply_along_axis(lambda p: np.array(fn(*p)), -1, x)
        return np.moveaxis(out, -1, 0 if images.ndim == 3 else 1) if data_format == "channels_first" else out
    return ref


_SCIPY_MODES = {"constant": "grid-constant", "nearest": "nearest", "wrap": "grid-wrap",
                "mirror": "mirror", "reflect": "reflect"}


def _map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    return scipy.ndimage.map_coordinates(inputs, np.stack(coordinates), order=order,
                                         mode=_SCIPY_MODES[fill_mode], cval=fill_value)


def _affine(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
            data_format=None):
    x = images[None] if images.ndim == 3 else images
    t = np.atleast_2d(transform)
    out = np.zeros_like(x)
    h, w = x.shape[1:3]
    for n in range(x.shape[0]):
        a0, a1, a2, b0, b1, b2, c0, c1 = t[n if len(t) > 1 else 0]
        ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        k = c0 * xs + c1 * ys + 1
        coords = np.stack([(b0 * xs + b1 * ys + b2) / k, (a0 * xs + a1 * ys + a2) / k])
        for c in range(x.shape[-1]):
            out[n, ..., c] = scipy.ndimage.map_coordinates(
                x[n, ..., c], coords, order=0 if interpolation == "nearest" else 1,
                mode=_SCIPY_MODES[fill_mode], cval=fill_value)
    return out[0] if images.ndim == 3 else out


REFERENCES.update({
    "resize": resize,
    "extract_patches": extract_patches,
    "pad_images": _pad_images,
    "crop_images": _crop_images,
    "rgb_to_grayscale": _colors(lambda r, g, b: [0.2989 * r + 0.5870 * g + 0.1140 * b]),
    "rgb_to_hsv": _colors(colorsys.rgb_to_hsv),
    "hsv_to_rgb": _colors(colorsys.hsv_to_rgb),
    "map_coordinates": _map_coordinates,
    "affine_transform": _affine,
})


def _adaptive(reduce):
    def ref(inputs, output_size, data_format=None):
        x = np.moveaxis(inputs, 1, -1) if data_format == "channels_first" else inputs
        nd = x.ndim - 2
        sizes = _t(output_size, nd)
        out = np.zeros((x.shape[0], *sizes, x.shape[-1]))
        for index in itertools.product(*[range(s) for s in sizes]):
            window = (slice(None),) + tuple(
                slice(int(np.floor(i * n / s)), int(np.ceil((i + 1) * n / s)))
                for i, n, s in zip(index, x.shape[1:-1], sizes))
            out[(slice(None), *index)] = reduce(x[window].reshape(x.shape[0], -1, x.shape[-1]), axis=1)
        return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out
    return ref


def _depth_to_space(x, b, data_format="channels_last"):
    y = np.moveaxis(x, 1, -1) if data_format == "channels_first" else x
    n, h, w, c = y.shape
    out = np.zeros((n, h * b, w * b, c // (b * b)))
    for i in range(h * b):
        for j in range(w * b):
            k = ((i % b) * b + (j % b)) * (c // (b * b))
            out[:, i, j] = y[:, i // b, j // b, k:k + c // (b * b)]
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def _space_to_depth(x, b, data_format="channels_last"):
    n, h, w, c = x.shape
    out = np.zeros((n, h // b, w // b, b * b * c))
    for i in range(h):
        for j in range(w):
            k = ((i % b) * b + (j % b)) * c
            out[:, i // b, j // b, k:k + c] = x[:, i, j]
    return out


def _unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    kh, kw = _t(kernel_size, 2)
    d, p, s = _t(dilation, 2), _t(padding, 2), _t(stride, 2)
    x = np.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    n, c, h, w = x.shape
    oh = (h - d[0] * (kh - 1) - 1) // s[0] + 1
    ow = (w - d[1] * (kw - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * kh * kw, oh * ow))
    for ch in range(c):
        for i in range(kh):
            for j in range(kw):
                row = (ch * kh + i) * kw + j
                for y in range(oh):
                    for z in range(ow):
                        out[:, row, y * ow + z] = x[:, ch, y * s[0] + i * d[0], z * s[1] + j * d[1]]
    return out


REFERENCES.update({
    "adaptive_average_pool": _adaptive(np.mean),
    "adaptive_max_pool": _adaptive(np.max),
    "depth_to_space": _depth_to_space,
    "space_to_depth": _space_to_depth,
    "unfold": _unfold,
    "polar": lambda r, t: r * np.cos(t) + 1j * r * np.sin(t),
    "cholesky_inverse": lambda x, upper=False: np.linalg.inv(
        np.swapaxes(np.triu(x), -1, -2) @ np.triu(x) if upper else np.tril(x) @ np.swapaxes(np.tril(x), -1, -2)),
    "view_as_complex": lambda x: x[..., 0] + 1j * x[..., 1],
    "view_as_real": lambda x: np.stack([np.real(x), np.imag(x)], -1),
})


def _ctc_brute_force(target, output, target_length, output_length, mask_index=0):
    """-log of the summed probability of every frame-by-frame path that collapses to the target."""
    losses = []
    for b in range(len(output)):
        probs = scipy.special.softmax(output[b, :output_length[b]], axis=-1)
        labels = list(target[b, :target_length[b]])
        total = 0.0
        for path in itertools.product(range(output.shape[-1]), repeat=len(probs)):
            collapsed = [k for i, k in enumerate(path) if (i == 0 or k != path[i - 1]) and k != mask_index]
            if collapsed == labels:
                total += np.prod([probs[t, k] for t, k in enumerate(path)])
        losses.append(-np.log(total))
    return np.array(losses)


REFERENCES["ctc_loss"] = _ctc_brute_force


def _extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    x = volumes[None] if volumes.ndim == 4 else volumes
    ks = _t(size, 3)
    s = _t(size if strides is None else strides, 3)
    if padding == "same":
        x = np.pad(x, [(0, 0)] + [_same_pads(n, k, st) for n, k, st in zip(x.shape[1:4], ks, s)] + [(0, 0)])
    outs = [(n - k) // st + 1 for n, k, st in zip(x.shape[1:4], ks, s)]
    out = np.zeros((x.shape[0], *outs, int(np.prod(ks)) * x.shape[-1]))
    for pos in itertools.product(*[range(o) for o in outs]):
        block = x[(slice(None),) + tuple(slice(p * st, p * st + k) for p, st, k in zip(pos, s, ks))]
        out[(slice(None), *pos)] = block.reshape(x.shape[0], -1)
    return out[0] if volumes.ndim == 4 else out


REFERENCES["extract_patches_3d"] = _extract_patches_3d


def _per_channel(images, data_format, fn):
    """``fn`` (2-D image -> array) over every image and channel, in channels_last order."""
    x = np.moveaxis(images, -3, -1) if data_format == "channels_first" else images
    batch = x if x.ndim == 4 else x[None]
    out = np.stack([np.stack([fn(img[..., c]) for c in range(img.shape[-1])], 2) for img in batch])
    return out if x.ndim == 4 else out[0]


def _gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    ks = _t(kernel_size, 2)
    sg = _t(sigma, 2)

    def k1(n, s):
        w = np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2) / s) ** 2)
        return w / w.sum()

    k = np.outer(k1(ks[1], sg[1]), k1(ks[0], sg[0]))
    pads = [((n - 1) // 2, n - 1 - (n - 1) // 2) for n in k.shape]
    out = _per_channel(images, data_format,
                       lambda img: scipy.signal.convolve2d(np.pad(img, pads), k, mode="valid"))
    return np.moveaxis(out, -1, -3) if data_format == "channels_first" else out


def _sobel_edges(images, data_format=None):
    out = _per_channel(images, data_format,
                       lambda img: np.stack([scipy.ndimage.sobel(img, axis=0), scipy.ndimage.sobel(img, axis=1)], -1))
    return np.moveaxis(out, -2, -4) if data_format == "channels_first" else out


def _ctc_greedy(inputs, lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
                mask_index=0):
    n, t, _ = inputs.shape
    decoded = -np.ones((1, n, t), dtype=np.int32)
    scores = np.zeros((n, 1))
    for b in range(n):
        labels, previous = [], None
        for step in range(int(lengths[b])):
            best = int(np.argmax(inputs[b, step]))
            scores[b, 0] -= inputs[b, step, best]
            if best != mask_index and not (merge_repeated and best == previous):
                labels.append(best)
            previous = best
        decoded[0, b, :len(labels)] = labels
    return decoded, scores


REFERENCES.update({"gaussian_blur": _gaussian_blur, "sobel_edges": _sobel_edges, "ctc_decode": _ctc_greedy})


def _channels_last_ref(fn):
    """``fn`` on channels-last images, for ``data_format="channels_first"`` inputs too."""
    def ref(images, *args, data_format=None, **kwargs):
        if data_format != "channels_first":
            return fn(images, *args, **kwargs)
        axis = 0 if images.ndim == 3 else 1
        return np.moveaxis(fn(np.moveaxis(images, axis, -1), *args, **kwargs), -1, axis)
    return ref


def _warp(images, coords_of, order, mode, cval):
    """Each image's channels sampled at ``coords_of(n) = (ys, xs)`` by SciPy."""
    x = images[None] if images.ndim == 3 else images
    out = np.zeros_like(x)
    for n in range(x.shape[0]):
        coords = np.stack(coords_of(n))
        for c in range(x.shape[-1]):
            out[n, ..., c] = scipy.ndimage.map_coordinates(x[n, ..., c], coords, order=order,
                                                           mode=_SCIPY_MODES[mode], cval=cval)
    return out[0] if images.ndim == 3 else out


def _perspective(images, start_points, end_points, interpolation="bilinear", fill_value=0):
    # The homography end -> start as the null vector of the 8 x 9 direct linear transform.
    s, e = np.reshape(start_points, (-1, 4, 2)), np.reshape(end_points, (-1, 4, 2))
    h, w = images.shape[-3:-1]
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")

    def coords_of(n):
        rows = []
        for (sx, sy), (ex, ey) in zip(s[n % len(s)], e[n % len(e)]):
            rows.append([ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey, -sx])
            rows.append([0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey, -sy])
        m = np.linalg.svd(np.array(rows))[2][-1].reshape(3, 3)
        p = np.einsum("ij,jhw->ihw", m, np.stack([xs, ys, np.ones_like(xs)]))
        return p[1] / p[2], p[0] / p[2]

    return _warp(images, coords_of, 0 if interpolation == "nearest" else 1, "constant", fill_value)


def _elastic(images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
             seed=None):
    x = images[None] if images.ndim == 3 else images
    n, h, w, _ = x.shape
    rng = np.random.default_rng(seed)
    size = int(6 * sigma) | 1
    dx, dy = (_gaussian_blur(rng.standard_normal((n, h, w, 1)) * sigma, (size, size), (sigma, sigma))[..., 0]
              for _ in range(2))
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    out = _warp(x, lambda i: (ys + alpha * dy[i], xs + alpha * dx[i]),
                0 if interpolation == "nearest" else 1, fill_mode, fill_value)
    return out if images.ndim == 4 else out[0]


def _ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03):
    g = np.exp(-0.5 * ((np.arange(filter_size) - (filter_size - 1) / 2) / filter_sigma) ** 2)
    k = np.outer(g, g) / g.sum() ** 2
    a, b = (v[None] if v.ndim == 3 else v for v in (image1, image2))
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    values = np.zeros(a.shape[0])
    for n in range(a.shape[0]):
        for c in range(a.shape[-1]):
            x, y = a[n, ..., c], b[n, ..., c]

            def mean(v):
                return scipy.signal.convolve2d(v, k, mode="valid")

            mx, my = mean(x), mean(y)
            vx, vy, cxy = mean(x * x) - mx ** 2, mean(y * y) - my ** 2, mean(x * y) - mx * my
            smap = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
            values[n] += smap.mean() / a.shape[-1]
    return values if image1.ndim == 4 else values[0]


def _ssim_ref(image1, image2, *args, data_format=None, **kwargs):
    if data_format == "channels_first":
        axis = 0 if image1.ndim == 3 else 1
        image1, image2 = np.moveaxis(image1, axis, -1), np.moveaxis(image2, axis, -1)
    return _ssim(image1, image2, *args, **kwargs)


REFERENCES.update({"perspective_transform": _channels_last_ref(_perspective),
                   "elastic_transform": _channels_last_ref(_elastic), "ssim": _ssim_ref})


def _scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    # Output sample by output sample: the kernel weights of every input sample, normalized.
    def kernel(t):
        if method in ("linear", "bilinear", "trilinear", "triangle"):
            return max(0.0, 1.0 - t)
        if method in ("cubic", "bicubic", "tricubic"):
            return 1.5 * t ** 3 - 2.5 * t ** 2 + 1 if t < 1 else (
                -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2 if t < 2 else 0.0)
        a = 3.0 if method == "lanczos3" else 5.0
        return float(np.sinc(t) * np.sinc(t / a)) if t < a else 0.0

    out = np.asarray(images, dtype=np.float64)
    for d, s, tr in zip(spatial_dims, scale, translation):
        m, n = out.shape[d], output_shape[d]
        w = np.zeros((m, n))
        for j in range(n):
            c = (j + 0.5 - tr) / s - 0.5
            if not -0.5 <= c <= m - 0.5:
                continue
            width = max(1.0 / s, 1.0) if antialias else 1.0
            col = np.array([kernel(abs(c - i) / width) for i in range(m)])
            w[:, j] = col / col.sum() if abs(col.sum()) > 1e-4 else 0.0
        out = np.moveaxis(np.tensordot(out, w, axes=(d, 0)), -1, d)
    return out


REFERENCES["scale_and_translate"] = _scale_and_translate
