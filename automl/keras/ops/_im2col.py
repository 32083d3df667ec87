"""Window kernels of the convolution and pooling ops and layers (channels_last, 1 to 3 spatial axes).

Every window layer works on ``(N, *spatial, C)`` arrays: 2-D layers on
``(N, H, W, C)``, 3-D layers on ``(N, D, H, W, C)``; 1-D layers add a unit
height axis and run the 2-D code. A convolution is one GEMM of the patch matrix
with the reshaped kernel:

* :func:`extract_patches` copies the receptive fields of a padded input into an
  ``(N * prod(out), prod(kernel) * C)`` matrix in a single ``copyto`` from an
  ``as_strided`` window view. With many channels the copy runs over
  ``kernel[-1] * C`` contiguous values per window row; with few channels (grey
  or RGB images, volumes) it builds the transpose, one contiguous row per
  kernel tap, instead.
* :func:`gemm_col2im` is the adjoint of "extract, then multiply by the kernel":
  it scatters ``grad @ kernel.T`` back onto the padded input with one GEMM and
  one strided, vectorized ``+=`` per kernel offset (``prod(kernel)`` of each,
  never a loop over pixels), so that the patch gradient is never materialized.
  :func:`col2im` does the same from a given patch gradient (grouped
  convolutions).
* :func:`depthwise_forward` / :func:`depthwise_backward`: one vectorized
  multiply-add per kernel offset, channel by channel.

Geometry follows Keras (TensorFlow's rules): ``"valid"`` keeps the windows that
fit, ``"same"`` gives ``ceil(length / stride)`` outputs and pads
``max((out - 1) * stride + effective_kernel - length, 0)`` in total, the smaller
half before; ``"causal"`` (1-D) pads ``effective_kernel - 1`` before.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "conv_output_length",
    "conv_geometry",
    "pad_spatial",
    "crop_spatial",
    "window_view",
    "offset_slices",
    "extract_patches",
    "col2im",
    "gemm_col2im",
    "matrix_view",
    "depthwise_forward",
    "depthwise_backward",
]


# -- geometry ---------------------------------------------------------------
def _axis_geometry(length, kernel, stride, dilation, padding):
    """(output length, padding before, padding after) along one spatial axis."""
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        return (length - effective) // stride + 1, 0, 0
    if padding == "causal":
        before = effective - 1
        return (length + before - effective) // stride + 1, before, 0
    out = -(-length // stride)
    total = max((out - 1) * stride + effective - length, 0)
    return out, total // 2, total - total // 2


def conv_output_length(length, kernel, stride, dilation, padding):
    """Keras's output length of a convolution or pooling window along one axis (None stays None)."""
    if length is None:
        return None
    return _axis_geometry(length, kernel, stride, dilation, padding)[0]


def conv_geometry(in_hw, kernel, strides, dilation, padding, owner="Conv2D"):
    """Output size and paddings of a window operation over ``len(in_hw)`` spatial axes.

    Returns ``(out_sizes, pads)`` with one ``(before, after)`` pair per axis, e.g.
    ``pads = ((top, bottom), (left, right))`` in 2-D.
    """
    out, pads = [], []
    for length, k, s, d in zip(in_hw, kernel, strides, dilation):
        o, before, after = _axis_geometry(length, k, s, d, padding)
        if o < 1:
            raise ValueError(
                f"{owner} cannot slide a window of size {tuple(kernel)} (dilation {tuple(dilation)}) "
                f"over inputs of spatial size {tuple(in_hw)} with padding={padding!r}: the output "
                "would be empty."
            )
        out.append(o)
        pads.append((before, after))
    return tuple(out), tuple(pads)


# -- padding ---------------------------------------------------------------
def _border_slices(sizes, pads):
    """The index of the interior (unpadded) region of an ``(N, *padded, C)`` array."""
    return (slice(None), *(slice(before, before + size) for size, (before, _) in zip(sizes, pads)))


def pad_spatial(x, pads, value=0.0):
    """``x`` (N, *spatial, C) padded with ``value`` by ``pads = ((before, after), ...)``, one pair per axis."""
    if not any(before or after for before, after in pads):
        return x
    sizes = x.shape[1:-1]
    shape = (x.shape[0], *(size + before + after for size, (before, after) in zip(sizes, pads)), x.shape[-1])
    if value == 0.0:
        out = np.zeros(shape, dtype=x.dtype)
    else:
        out = np.empty(shape, dtype=x.dtype)
        out.fill(value)
    out[_border_slices(sizes, pads)] = x
    return out


def crop_spatial(xp, pads):
    """The inverse of :func:`pad_spatial`: a view of ``xp`` without its borders."""
    if not any(before or after for before, after in pads):
        return xp
    return xp[(slice(None), *(slice(before, size - after) for size, (before, after) in zip(xp.shape[1:], pads)))]


# -- im2col / col2im ----------------------------------------------------------
def window_view(xp, kernel, strides, dilation, out_sizes):
    """A read-only ``(N, *out_sizes, *kernel, C)`` view of the windows of ``xp`` (N, *padded, C)."""
    sn, *spatial, sc = xp.strides
    return as_strided(
        xp,
        (xp.shape[0], *out_sizes, *kernel, xp.shape[-1]),
        (sn, *(s * st for s, st in zip(spatial, strides)), *(s * d for s, d in zip(spatial, dilation)), sc),
        writeable=False,
    )


def offset_slices(kernel, strides, dilation, out_sizes):
    """For each kernel offset ``idx`` (row-major): ``(idx, slices)``, the strided slices of the padded input it reads."""
    spans = [st * (o - 1) + 1 for st, o in zip(strides, out_sizes)]
    for idx in np.ndindex(*kernel):
        yield idx, (slice(None), *(slice(i * d, i * d + span, st)
                                   for i, d, span, st in zip(idx, dilation, spans, strides)))


#: Up to this many channels, patch matrices are built column-major (see extract_patches).
SMALL_CHANNELS = 4


def extract_patches(xp, kernel, strides, dilation, out_sizes, groups=1):
    """The patch matrix ``(N * prod(out_sizes), prod(kernel) * C)`` of ``xp`` (N, *padded, C), in one copy.

    Works for any number of spatial axes (``len(kernel)``). Column order is
    ``(*kernel, c)``, the row-major order of a ``(*kernel, C, F)`` kernel, so
    that ``patches @ kernel.reshape(-1, F)`` is the convolution.

    With many channels the matrix is C-contiguous: each window row is one run
    of ``kernel[-1] * C`` contiguous values (when the last dilation is 1). With
    few channels (``C <= SMALL_CHANNELS``, e.g. grey or RGB images) such runs are
    too short to copy fast, so the matrix is built transposed, one contiguous
    row of ``N * prod(out_sizes)`` values per kernel tap, and returned as its
    (Fortran-ordered) transpose view; BLAS takes either layout without a copy.

    With ``groups > 1`` the result is group-major instead,
    ``(groups, N * prod(out_sizes), prod(kernel) * C // groups)``, ready for one
    batched GEMM.
    """
    rank = len(kernel)
    n, c = xp.shape[0], xp.shape[-1]
    m = n * math.prod(out_sizes)
    taps = math.prod(kernel)
    if groups > 1:
        cg = c // groups
        view = window_view(xp, kernel, strides, dilation, out_sizes)
        view = view.reshape(n, *out_sizes, *kernel, groups, cg)
        view = view.transpose(2 * rank + 1, *range(2 * rank + 1), 2 * rank + 2)
        out = np.empty((groups, m, taps * cg), dtype=xp.dtype)
        np.copyto(out.reshape(view.shape), view)
        return out
    if c <= SMALL_CHANNELS:
        view = window_view(xp, kernel, strides, dilation, out_sizes)
        view = view.transpose(*range(rank + 1, 2 * rank + 2), *range(rank + 1))
        out = np.empty((taps * c, m), dtype=xp.dtype)
        np.copyto(out.reshape(view.shape), view)
        return out.T
    if dilation[-1] == 1 and xp.strides[-1] == xp.itemsize and xp.strides[-2] == c * xp.itemsize:
        # A window row is kernel[-1] * C consecutive values: copy it as one run.
        sn, *spatial, _ = xp.strides
        view = as_strided(
            xp,
            (n, *out_sizes, *kernel[:-1], kernel[-1] * c),
            (sn, *(s * st for s, st in zip(spatial, strides)),
             *(s * d for s, d in zip(spatial[:-1], dilation[:-1])), xp.itemsize),
            writeable=False,
        )
    else:
        view = window_view(xp, kernel, strides, dilation, out_sizes)
    out = np.empty((m, taps * c), dtype=xp.dtype)
    np.copyto(out.reshape(view.shape), view)
    return out


def gemm_col2im(a2d, kernel, padded_shape, strides, dilation, out_sizes):
    """``col2im(a2d @ kernel.reshape(-1, A).T)`` without the ``(M, prod(kernel) * B)`` intermediate.

    Parameters
    ----------
    a2d : ndarray of shape (N * prod(out_sizes), A)
        Per-window values (a convolution's output gradient, or a transposed
        convolution's input).
    kernel : ndarray of shape (*kernel_size, B, A)
    padded_shape : tuple
        ``(N, *padded, B)`` of the result.

    Returns
    -------
    ndarray of ``padded_shape``: for every kernel offset ``idx``, the window
    values ``a2d @ kernel[idx].T`` added at that offset. With many channels
    ``B`` that is one ``(M, A) @ (A, B)`` GEMM and one contiguous-source strided
    ``+=`` per offset; with few channels one GEMM for all offsets
    ``(prod(kernel_size) * B, A) @ (A, M)`` gives each offset a contiguous row
    per channel.
    """
    *sizes, b, a = kernel.shape
    taps = math.prod(sizes)
    n = padded_shape[0]
    out = np.zeros(padded_shape, dtype=a2d.dtype)
    slices = offset_slices(sizes, strides, dilation, out_sizes)
    if b <= SMALL_CHANNELS:
        rows = kernel.reshape(taps * b, a) @ a2d.T  # (taps * B, M)
        rows = rows.reshape(taps, b, n, *out_sizes)
        for tap, (_, sl) in enumerate(slices):
            dst = out[sl]
            if b == 1:
                dst[..., 0] += rows[tap, 0]
            else:
                dst += np.moveaxis(rows[tap], 0, -1)
        return out
    kernel3 = kernel.reshape(taps, b, a)
    tmp = np.empty((a2d.shape[0], b), dtype=a2d.dtype)
    tmp_n = tmp.reshape(n, *out_sizes, b)
    for tap, (_, sl) in enumerate(slices):
        np.matmul(a2d, kernel3[tap].T, out=tmp)
        out[sl] += tmp_n
    return out


def col2im(cols, padded_shape, kernel, strides, dilation, out=None):
    """Scatter-add patch values back onto an ``(N, *padded, C)`` array (the adjoint of im2col).

    Parameters
    ----------
    cols : ndarray of shape (N, *out_sizes, *kernel, *channels)
        Any strides; the trailing channel axes (``C``, or ``(groups, C // groups)``)
        multiply to ``C``.
    padded_shape : tuple
        ``(N, *padded, C)`` of the result.
    kernel : tuple of ints
        The window size (its length is the number of spatial axes).
    out : ndarray, optional
        Accumulate into this array (of ``padded_shape``) instead of fresh zeros.
    """
    if out is None:
        out = np.zeros(padded_shape, dtype=cols.dtype)
    rank = len(kernel)
    n = cols.shape[0]
    out_sizes = cols.shape[1:rank + 1]
    channels = cols.shape[2 * rank + 1:]
    lead = (slice(None),) * (rank + 1)
    for idx, sl in offset_slices(kernel, strides, dilation, out_sizes):
        dst = out[sl]
        if len(channels) != 1:
            dst = dst.reshape(n, *out_sizes, *channels)
        dst += cols[lead + idx]
    return out


def matrix_view(array, shape):
    """A view of ``array`` with a new shape, never a copy (for in-place ``out=`` writes)."""
    view = array.view()
    view.shape = shape  # raises if a copy would be needed
    return view


# -- depthwise convolution ------------------------------------------------------
def depthwise_forward(xp, kernel, strides, dilation, out_sizes):
    """Depthwise convolution of ``xp`` (N, *padded, C) with ``kernel`` (*kernel_size, C, M).

    Returns ``(N * prod(out_sizes), C * M)``; output channel ``c * M + m`` is input
    channel ``c`` filtered by ``kernel[..., c, m]``. One vectorized multiply-add
    per kernel offset, no patch matrix.
    """
    *sizes, c, m = kernel.shape
    n = xp.shape[0]
    out = np.empty((n, *out_sizes, c, m), dtype=xp.dtype)
    tmp = np.empty_like(out)
    for idx, sl in offset_slices(sizes, strides, dilation, out_sizes):
        first = not any(idx)
        target = out if first else tmp
        np.multiply(xp[sl][..., None], kernel[idx], out=target)
        if not first:
            out += tmp
    return out.reshape(-1, c * m)


def depthwise_backward(xp, kernel, grad, strides, dilation, out_sizes, kernel_grad=None, need_input=True):
    """Gradients of :func:`depthwise_forward` for the upstream ``grad`` (N * prod(out_sizes), C * M).

    Writes the kernel gradient into ``kernel_grad`` (in place) when given and
    returns the gradient w.r.t. the padded input (None unless ``need_input``).
    """
    *sizes, c, m = kernel.shape
    n = xp.shape[0]
    g = grad.reshape(n, *out_sizes, c, m)
    dxp = np.zeros(xp.shape, dtype=grad.dtype) if need_input else None
    pos = "n" + "dhw"[3 - len(sizes):]  # einsum letters of the batch and spatial axes
    for idx, sl in offset_slices(sizes, strides, dilation, out_sizes):
        xs = xp[sl]
        if kernel_grad is not None:
            if m == 1:
                kernel_grad[idx + (slice(None), 0)] = np.einsum(f"{pos}c,{pos}c->c", xs, g[..., 0])
            else:
                kernel_grad[idx] = np.einsum(f"{pos}c,{pos}cm->cm", xs, g)
        if need_input:
            if m == 1:
                dxp[sl] += g[..., 0] * kernel[idx + (slice(None), 0)]
            else:
                dxp[sl] += np.einsum(f"{pos}cm,cm->{pos}c", g, kernel[idx])
    return dxp

