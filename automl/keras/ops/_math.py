"""``keras.ops.math``: segment reductions, top-k, logsumexp, special functions, FFTs, STFT.

As in Keras, complex values travel as ``(real, imag)`` pairs of float arrays, so every
op here stays in real dtypes and the FFTs are differentiable.
"""

from __future__ import annotations

import numpy as np

from ..backend import floatx
from . import _numpy as N
from . import _special
from ._registry import Spec, convert, elementwise_spec, op, to_float
from ._samples import SPD, I, P, S, U

_ns = "math"


def _segments(segment_ids, num_segments):
    ids = np.asarray(convert(segment_ids)).astype(np.int64)
    n = int(ids.max()) + 1 if num_segments is None else int(num_segments)
    return ids, n


def _segment_sum_vjp(g, out, needs, data, segment_ids, num_segments, sorted):
    ids, n = _segments(segment_ids, num_segments)
    g = np.asarray(g)
    valid = (ids >= 0) & (ids < n)
    grad = np.zeros(np.shape(data), dtype=g.dtype)
    grad[valid] = g[ids[valid]]
    return (grad,)


@op(_ns, vjp=_segment_sum_vjp, spec=lambda data, segment_ids, num_segments=None, sorted=False: Spec(
    (num_segments, *data.shape[1:]), data.dtype), samples=S((5, 2), I([0, 0, 1, 3, 1])) + S((4,), I([1, 1, 0, 0]), 3))
def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Sums of the rows of ``data`` that share a segment id."""
    data = convert(data)
    ids, n = _segments(segment_ids, num_segments)
    out = np.zeros((n, *data.shape[1:]), dtype=data.dtype)
    valid = (ids >= 0) & (ids < n)
    np.add.at(out, ids[valid], data[valid])
    return out


def _segment_max_vjp(g, out, needs, data, segment_ids, num_segments, sorted):
    ids, n = _segments(segment_ids, num_segments)
    data = np.asarray(data)
    g = np.asarray(g)
    valid = (ids >= 0) & (ids < n)
    hit = np.zeros(data.shape, dtype=bool)
    hit[valid] = data[valid] == out[ids[valid]]
    count = np.zeros(out.shape)
    np.add.at(count, ids[valid], hit[valid])
    grad = np.zeros(data.shape, dtype=g.dtype)
    grad[valid] = hit[valid] * g[ids[valid]] / np.maximum(count[ids[valid]], 1)
    return (grad,)


@op(_ns, vjp=_segment_max_vjp, spec=lambda data, segment_ids, num_segments=None, sorted=False: Spec(
    (num_segments, *data.shape[1:]), data.dtype),
    samples=S((5, 2), I([0, 0, 1, 2, 1])) + S((4,), I([1, 1, 0, 0]), 2))
def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Maxima of the rows of ``data`` that share a segment id (-inf... for empty segments:
    the dtype's lowest value, as Keras)."""
    data = convert(data)
    ids, n = _segments(segment_ids, num_segments)
    low = np.finfo(data.dtype).min if data.dtype.kind == "f" else np.iinfo(data.dtype).min
    out = np.full((n, *data.shape[1:]), low, dtype=data.dtype)
    valid = (ids >= 0) & (ids < n)
    np.maximum.at(out, ids[valid], data[valid])
    return out


def _top_k_vjp(g, out, needs, x, k, sorted):
    x = np.asarray(x)
    grad = np.zeros(x.shape, dtype=np.asarray(g[0]).dtype)
    np.put_along_axis(grad, out[1].astype(np.int64), g[0], axis=-1)
    return (grad,)


@op(_ns, vjp=_top_k_vjp, samples=S((3, 5), 2) + S((4,), 3))
def top_k(x, k, sorted=True):  # noqa: A002
    """The ``k`` largest values of ``x`` along its last axis and their int32 indices."""
    x = convert(x)
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, order, axis=-1), order.astype(np.int32)


@op(_ns, samples=S(I([0, 3, 1]), (3, 5), 2))
def in_top_k(targets, predictions, k):
    """Whether each target class is among the ``k`` largest predictions of its row."""
    predictions = convert(predictions)
    targets = np.asarray(convert(targets)).astype(np.int64)
    target_values = np.take_along_axis(predictions, targets[:, None], axis=-1)
    return np.sum(predictions > target_values, axis=-1) < k


def _logsumexp_vjp(g, out, needs, x, axis, keepdims):
    x = np.asarray(x)
    ax = tuple(range(x.ndim)) if axis is None else axis
    g = np.asarray(g) if keepdims else np.expand_dims(g, ax)
    o = np.asarray(out) if keepdims else np.expand_dims(out, ax)
    return (g * np.exp(x - o),)


@op(_ns, vjp=_logsumexp_vjp, samples=S((3, 4)) + S((3, 4), axis=1) + S((2, 3), axis=0, keepdims=True))
def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    x = to_float(x)
    return np.asarray(_special.logsumexp(x, axis=axis, keepdims=keepdims)).astype(x.dtype)


def _unary(name, fn, grad, domain):
    def forward(x):
        x = to_float(x)
        return np.asarray(fn(x)).astype(x.dtype)
    forward.__name__ = name
    forward.__doc__ = f"Elementwise ``{name}`` of ``x``."

    def vjp(g, out, needs, x):
        return (grad(g, x, out),)

    return op(_ns, vjp=vjp, spec=elementwise_spec(forward), samples=S(domain), name=name)(forward)


rsqrt = _unary("rsqrt", lambda x: 1 / np.sqrt(x), lambda g, x, o: -0.5 * g * o ** 3, P(3, 4))
erf = _unary("erf", _special.erf, lambda g, x, o: g * 2 / np.sqrt(np.pi) * np.exp(-x * x), (3, 4))
erfinv = _unary("erfinv", _special.erfinv, lambda g, x, o: g * np.sqrt(np.pi) / 2 * np.exp(o * o),
                U(3, 4))


def _logdet_vjp(g, out, needs, x):
    return (np.asarray(g)[..., None, None] * np.swapaxes(np.linalg.inv(x), -1, -2),)


@op(_ns, vjp=_logdet_vjp, spec=lambda x: Spec(x.shape[:-2], to_float(np.zeros((), x.dtype)).dtype),
    samples=S(SPD(3, 3)) + S(SPD(2, 3, 3)))
def logdet(x):
    """The log of the determinant of the (positive-definite) matrices ``x``."""
    return np.asarray(np.linalg.slogdet(to_float(x))[1])


# -- sequences and FFTs -------------------------------------------------------------------

def _frames_index(length, sequence_length, sequence_stride):
    count = 1 + (length - sequence_length) // sequence_stride
    return np.arange(count)[:, None] * sequence_stride + np.arange(sequence_length)[None, :]


def _extract_vjp(g, out, needs, x, sequence_length, sequence_stride):
    x = np.asarray(x)
    index = _frames_index(x.shape[-1], sequence_length, sequence_stride)
    g = np.asarray(g).reshape(-1, *index.shape)
    grad = np.zeros((g.shape[0], x.shape[-1]), dtype=g.dtype)
    np.add.at(grad, (slice(None), index), g)
    return (grad.reshape(x.shape),)


@op(_ns, vjp=_extract_vjp, samples=S((2, 10), 4, 3) + S((7,), 3, 2))
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` along the last axis of ``x``, every ``sequence_stride``."""
    x = convert(x)
    return x[..., _frames_index(x.shape[-1], sequence_length, sequence_stride)]


def _pair(x, name="x"):
    if not isinstance(x, (list, tuple)) or len(x) != 2:
        raise ValueError(f"The {name!r} argument must be a tuple (real, imag) of two arrays. "
                         f"Got {type(x).__name__} instead.")
    real, imag = to_float(x[0]), to_float(x[1])
    if real.shape != imag.shape:
        raise ValueError(f"The real and imaginary parts of {name!r} must have the same shape. "
                         f"Got {real.shape} and {imag.shape} instead.")
    return real + 1j * imag, real.dtype


def _split(z, dtype):
    return np.real(z).astype(dtype), np.imag(z).astype(dtype)


def _fft_vjp(axes, inverse):
    def vjp(g, out, needs, x):
        gz = np.asarray(g[0]) + 1j * np.asarray(g[1])
        n = int(np.prod([gz.shape[a] for a in axes]))
        # The adjoint of the DFT is n * inverse DFT (and that of the inverse DFT is DFT / n).
        back = np.fft.fftn(gz, axes=axes) / n if inverse else np.fft.ifftn(gz, axes=axes) * n
        return ([np.real(back), np.imag(back)],)
    return vjp


_PAIR = S([(3, 4), (3, 4)])


@op(_ns, vjp=_fft_vjp((-1,), False), samples=_PAIR)
def fft(x):
    """The FFT along the last axis of the complex ``x = (real, imag)``; returns ``(real, imag)``."""
    z, dtype = _pair(x)
    return _split(np.fft.fft(z, axis=-1), dtype)


@op(_ns, vjp=_fft_vjp((-2, -1), False), samples=_PAIR)
def fft2(x):
    """The 2-D FFT over the last two axes of ``x = (real, imag)``; returns ``(real, imag)``."""
    z, dtype = _pair(x)
    return _split(np.fft.fft2(z), dtype)


@op(_ns, vjp=_fft_vjp((-1,), True), samples=_PAIR)
def ifft(x):
    """The inverse FFT along the last axis of ``x = (real, imag)``."""
    z, dtype = _pair(x)
    return _split(np.fft.ifft(z, axis=-1), dtype)


@op(_ns, vjp=_fft_vjp((-2, -1), True), samples=_PAIR)
def ifft2(x):
    """The inverse 2-D FFT over the last two axes of ``x = (real, imag)``."""
    z, dtype = _pair(x)
    return _split(np.fft.ifft2(z), dtype)


def _fit_length(x, n):
    """``x`` cropped or zero-padded to ``n`` along its last axis."""
    if x.shape[-1] >= n:
        return x[..., :n]
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - x.shape[-1])])


def _rfft_vjp(g, out, needs, x, fft_length):
    x = np.asarray(x)
    n = x.shape[-1] if fft_length is None else int(fft_length)
    gz = np.asarray(g[0]) + 1j * np.asarray(g[1])
    full = np.zeros((*gz.shape[:-1], n), dtype=complex)
    full[..., : gz.shape[-1]] = gz
    grad = np.real(np.fft.ifft(full, axis=-1) * n)  # w.r.t. x cropped / zero-padded to n
    return (_fit_length(grad, x.shape[-1]),)


@op(_ns, vjp=_rfft_vjp, samples=S((3, 8)) + S((2, 5), fft_length=8) + S((2, 6), fft_length=4))
def rfft(x, fft_length=None):
    """The FFT of the real ``x`` along its last axis (non-negative frequencies); returns
    ``(real, imag)``."""
    x = to_float(x)
    return _split(np.fft.rfft(x, n=fft_length, axis=-1), x.dtype)


def _irfft_vjp(g, out, needs, x, fft_length):
    real = np.asarray(x[0])
    m = real.shape[-1]
    n = 2 * (m - 1) if fft_length is None else int(fft_length)
    g = np.asarray(g)
    spectrum = np.fft.rfft(g, n=n, axis=-1)  # sum_t g_t e^{-2 pi i k t / n}
    k = spectrum.shape[-1]
    weight = np.full(k, 2.0)
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    gr = np.real(spectrum) * weight / n
    gi = np.imag(spectrum) * weight / n
    gi[..., 0] = 0.0
    if n % 2 == 0:
        gi[..., -1] = 0.0
    gr, gi = _fit_length(gr, m), _fit_length(gi, m)
    return ([gr, gi],)


@op(_ns, vjp=_irfft_vjp, samples=S([(3, 5), (3, 5)]) + S([(2, 4), (2, 4)], fft_length=7))
def irfft(x, fft_length=None):
    """The inverse of :func:`rfft`: a real signal from the half spectrum ``x = (real, imag)``."""
    z, dtype = _pair(x)
    return np.fft.irfft(z, n=fft_length, axis=-1).astype(dtype)


def _window(window, sequence_length, fft_length, dtype):
    if window is None:
        win = np.ones(sequence_length)
    elif isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"The 'window' argument must be 'hann', 'hamming', an array or None. "
                             f"Got {window!r} instead.")
        win = _special.periodic_window(window, sequence_length)
    else:
        win = np.asarray(window, dtype=float)
        if win.shape != (sequence_length,):
            raise ValueError(f"The window must have shape ({sequence_length},). Got {win.shape}.")
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left)).astype(dtype)


@op(_ns, vjp="traced", samples=S((2, 16), 8, 4, 8) + S((12,), 6, 3, 8, window="hamming", center=False))
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform of the real ``x`` along its last axis; returns
    ``(real, imag)`` of shape ``(..., frames, fft_length // 2 + 1)``."""
    dtype = to_float(np.zeros((), getattr(x, "dtype", None) or np.float32)).dtype
    if center:
        pad_width = [(0, 0)] * (len(np.shape(getattr(x, "value", x))) - 1) + [(fft_length // 2,) * 2]
        x = N.pad(x, pad_width, mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    frames = N.multiply(frames, _window(window, sequence_length, fft_length, dtype))
    return rfft(frames, fft_length)


def _overlap_add_vjp(g, out, needs, frames, sequence_stride):
    frames = np.asarray(frames)
    index = _frames_index(np.shape(g)[-1], frames.shape[-1], sequence_stride)
    return (np.asarray(g)[..., index],)


@op(_ns, vjp=_overlap_add_vjp, samples=S((2, 3, 4), 2))
def overlap_add(frames, sequence_stride):
    """Sum of the frames ``(..., count, length)`` placed every ``sequence_stride`` samples
    (the adjoint of :func:`extract_sequences`)."""
    frames = convert(frames)
    count, length = frames.shape[-2:]
    total = (count - 1) * sequence_stride + length
    flat = frames.reshape(-1, count, length)
    out = np.zeros((flat.shape[0], total), dtype=frames.dtype)
    index = np.arange(count)[:, None] * sequence_stride + np.arange(length)[None, :]
    np.add.at(out, (slice(None), index), flat)
    return out.reshape(*frames.shape[:-2], total)


@op(_ns, vjp="traced", samples=S([(2, 5, 5), (2, 5, 5)], 8, 4, 8) + S([(3, 5), (3, 5)], 8, 4, 8, length=12))
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """The inverse of :func:`stft` (overlap-add of windowed inverse FFTs, normalized by the
    summed squared window)."""
    dtype = to_float(np.zeros((), getattr(x[0], "dtype", None) or np.float32)).dtype
    frames = irfft(x, fft_length)
    win = _window(window, sequence_length, fft_length, dtype)
    frames = N.multiply(frames, win)
    count = np.shape(getattr(frames, "value", frames))[-2]
    signal = overlap_add(frames, sequence_stride)
    norm = overlap_add(np.broadcast_to(win * win, (count, fft_length)), sequence_stride)
    norm = np.where(norm > 1e-10, norm, 1.0)
    signal = N.divide(signal, norm)
    start = fft_length // 2 if center else 0
    total = np.shape(getattr(signal, "value", signal))[-1]
    end = total - (fft_length // 2 if center else 0)
    if length is not None:
        end = start + length
    signal = N.get_item(signal, (Ellipsis, slice(start, min(end, total))))
    if length is not None and end > total:
        signal = N.pad(signal, [(0, 0)] * (len(np.shape(getattr(signal, "value", signal))) - 1)
                       + [(0, end - total)])
    return signal


@op(_ns, samples=S((3, 2)))
def view_as_complex(x):
    """The last axis of size 2 of ``x`` as (real, imaginary) complex numbers (no gradient)."""
    x = to_float(x)
    if x.shape[-1] != 2:
        raise ValueError(f"view_as_complex expects a last axis of size 2. Got shape {x.shape}.")
    return (x[..., 0] + 1j * x[..., 1]).astype(np.result_type(x.dtype, np.complex64))


@op(_ns, samples=S((3,)))
def view_as_real(x):
    """Complex ``x`` as real arrays with a last axis (real, imaginary) (no gradient)."""
    z = np.asarray(x)
    real = np.real(z)
    return np.stack([real, np.imag(z)], axis=-1).astype(real.dtype if real.dtype.kind == "f" else floatx())


__all__ = sorted(
    name for name, value in dict(globals()).items()
    if callable(value) and hasattr(value, "_op") and value._op.namespace == _ns
)
