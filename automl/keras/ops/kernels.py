"""The built-in layers' fused kernels, registered as ops (``automl.keras.ops.kernels``).

Each kernel is one registry entry made with :func:`~automl.keras.ops._registry.fused`:
a forward that returns ``(out, saved)`` and a hand-written backward from ``saved``
(the patch matrix of a convolution, the pre-activation of a dense layer). The layers
call these functions for their forward and backward passes; the same entries run on
traced tensors (a custom layer calling ``ops.kernels.dense`` or ``ops.nn.conv``), so a
custom layer gets the layers' speed and the registry tests check the layers' gradients.

* :func:`dense`: ``activation(inputs @ kernel + bias)`` over the last axis.
* :func:`conv`: an N-D convolution (channels_last, 1 to 3 spatial axes, grouped when the
  input has a multiple of the kernel's input channels) + bias + activation, as one GEMM
  of the im2col patch matrix (:mod:`._im2col`); ``ops.nn.conv`` is this kernel.
* :func:`dropout`: multiplication by a given keep mask scaled by ``1 / (1 - rate)``.

``needs`` (aligned with each kernel's differentiable arguments) says which gradients to
compute; ``into`` gives buffers to write them in (the layers' gradient buffers).

>>> import numpy as np
>>> from automl.keras import ops
>>> x = ops.Tensor(np.ones((2, 3)))
>>> w = ops.Tensor(np.full((3, 1), 0.5))
>>> y = ops.kernels.dense(x, w, None, "relu")
>>> ops.gradient(ops.sum(y), w).ravel().tolist()
[2.0, 2.0, 2.0]
"""

from __future__ import annotations

import math

import numpy as np

from ._im2col import (
    col2im,
    conv_geometry,
    conv_output_length,
    crop_spatial,
    depthwise_backward,
    depthwise_forward,
    extract_patches,
    gemm_col2im,
    matrix_view,
    offset_slices,
    pad_spatial,
    window_view,
)
from ._registry import Spec, fused, to_float
from ._samples import S

__all__ = [
    "ConvSaved",
    "DenseSaved",
    "col2im",
    "conv",
    "conv_backward",
    "conv_backward_from_logits",
    "conv_call",
    "conv_call_backward",
    "conv_forward",
    "conv_geometry",
    "conv_output_length",
    "crop_spatial",
    "dense",
    "dense_backward",
    "dense_backward_from_logits",
    "dense_forward",
    "depthwise_backward",
    "depthwise_forward",
    "dropout",
    "dropout_backward",
    "dropout_forward",
    "extract_patches",
    "gemm_col2im",
    "matrix_view",
    "offset_slices",
    "pad_spatial",
    "window_view",
]

_ns = "kernels"


def _activation(activation):
    """None (identity), or an activation object with ``forward`` / ``backward``."""
    if activation is None:
        return None
    if isinstance(activation, (str, dict)):
        from .. import activations  # activations sit beside ops; resolved on use only

        activation = activations.get(activation)
    return None if getattr(activation, "__name__", None) == "linear" else activation


def _activate(z, act):
    """``(y, z kept for backward or None)``; the activation may work in place in ``z``."""
    if act is None:
        return z, None
    kept = z.copy() if act.needs_input else None
    return act.forward(z), kept


def _logit_grad(g, y, z, act, into):
    g = g.reshape(y.shape)
    if act is None:
        return g
    return act.backward(g if into is not None else g.copy(), y, z)  # backward may overwrite


def _sum_rows(grad2d, out=None):
    """``grad2d.sum(axis=0)`` as a GEMV with ones (several times faster on small batches)."""
    return np.matmul(np.ones(grad2d.shape[0], dtype=grad2d.dtype), grad2d, out=out)


# -- dense ---------------------------------------------------------------------------------
class DenseSaved:
    """What :func:`dense_backward` needs: the 2-D input, pre-activation (if the activation
    reads it), output, activation, input shape, kernel and whether there is a bias."""

    __slots__ = ("x2", "z", "y", "act", "in_shape", "kernel", "has_bias")

    def __init__(self, x2, z, y, act, in_shape, kernel, has_bias):
        self.x2, self.z, self.y, self.act = x2, z, y, act
        self.in_shape, self.kernel, self.has_bias = in_shape, kernel, has_bias


def dense_forward(inputs, kernel, bias=None, activation=None):
    """``(activation(inputs @ kernel + bias), DenseSaved)``."""
    act = _activation(activation)
    x2 = inputs.reshape(-1, inputs.shape[-1])
    z = x2 @ kernel
    if bias is not None:
        z += bias
    y, kept = _activate(z, act)
    out = y.reshape(*inputs.shape[:-1], kernel.shape[-1])
    return out, DenseSaved(x2, kept, y, act, inputs.shape, kernel, bias is not None)


def dense_backward_from_logits(gz, saved, needs, into=None):
    """Gradients ``(inputs, kernel, bias)`` from the gradient of the pre-activation."""
    gz = gz.reshape(saved.y.shape)
    gx = gk = gb = None
    if needs[1]:
        gk = np.matmul(saved.x2.T, gz, out=None if into is None else into[1])
    if saved.has_bias and len(needs) > 2 and needs[2]:
        gb = _sum_rows(gz, None if into is None else into[2])
    if needs[0]:
        gx = (gz @ saved.kernel.T).reshape(saved.in_shape)
    return gx, gk, gb


def dense_backward(g, saved, needs, into=None):
    """Gradients ``(inputs, kernel, bias)`` from the output gradient ``g``."""
    return dense_backward_from_logits(_logit_grad(g, saved.y, saved.z, saved.act, into),
                                      saved, needs, into)


def _dense_fwd(inputs, kernel, bias=None, activation=None):
    x = to_float(inputs)
    return dense_forward(x, to_float(kernel), None if bias is None else to_float(bias), activation)


def _dense_spec(inputs, kernel, bias=None, activation=None):
    return Spec((*inputs.shape[:-1], kernel.shape[-1]), np.result_type(inputs.dtype, kernel.dtype))


dense = fused(_ns, bwd=dense_backward, diff=("inputs", "kernel", "bias"), spec=_dense_spec, name="kernels.dense",
              samples=S((4, 3), (3, 2), (2,), "tanh") + S((2, 2, 3), (3, 4), None, "sigmoid")
              + S((3, 3), (3, 2), (2,)) + S((3, 4), (4, 2), (2,), "gelu"))(_dense_fwd)
dense.__doc__ = """``activation(inputs @ kernel + bias)`` over the last axis (the Dense layer's kernel)."""


# -- convolution (im2col) --------------------------------------------------------------------
class ConvSaved:
    """What :func:`conv_backward` needs (the patch matrix and the geometry of the call)."""

    __slots__ = ("cols", "y", "z", "act", "in_shape", "padded_shape", "out_sizes", "pads",
                 "kernel", "strides", "dilation", "groups", "has_bias")

    def __init__(self, cols, y, z, act, in_shape, padded_shape, out_sizes, pads, kernel, strides,
                 dilation, groups, has_bias):
        self.cols, self.y, self.z, self.act = cols, y, z, act
        self.in_shape, self.padded_shape, self.out_sizes, self.pads = in_shape, padded_shape, out_sizes, pads
        self.kernel, self.strides, self.dilation = kernel, strides, dilation
        self.groups, self.has_bias = groups, has_bias


def _add_bias(z, bias):
    """``z += bias`` over the rows of ``z`` (M, F), on a wide view so that numpy's inner loop is long."""
    m, f = z.shape
    reps = math.gcd(m, max(1, 2048 // f))
    if reps > 1 and z.flags.c_contiguous:
        z.reshape(m // reps, reps * f).__iadd__(np.tile(bias, reps))
    else:
        z += bias


def conv_forward(x, kernel, bias, strides, dilation, out_sizes, pads, activation=None, keep=True):
    """The convolution of ``x`` (N, *spatial, C) with ``kernel`` (*kernel_size, C // groups, F).

    Geometry is given (``out_sizes`` and ``pads`` from :func:`conv_geometry`). Returns
    ``(y2d, ConvSaved)`` with ``y2d`` of shape ``(N * prod(out_sizes), F)``; the patch
    matrix is kept only when ``keep`` (a training call).
    """
    act = _activation(activation)
    *ks, cg, f = kernel.shape
    groups = x.shape[-1] // cg
    xp = pad_spatial(x, pads)
    cols = extract_patches(xp, tuple(ks), strides, dilation, out_sizes, groups)
    if groups == 1:
        z = cols @ kernel.reshape(cols.shape[1], f)
    else:
        zg = np.matmul(cols, kernel.reshape(cols.shape[2], groups, f // groups).transpose(1, 0, 2))
        z = zg.transpose(1, 0, 2).reshape(-1, f)
    if bias is not None:
        _add_bias(z, bias)
    y, kept = _activate(z, act)
    saved = ConvSaved(cols if keep else None, y, kept, act, x.shape, xp.shape, tuple(out_sizes), pads,
                      kernel, tuple(strides), tuple(dilation), groups, bias is not None)
    return y, saved


def conv_backward_from_logits(gz, saved, needs, into=None):
    """Gradients ``(inputs, kernel, bias)`` of :func:`conv_forward` from the pre-activation's."""
    cols, kernel, g = saved.cols, saved.kernel, saved.groups
    if cols is None:
        raise RuntimeError("The convolution's backward pass needs a forward call made for training.")
    *ks, _, f = kernel.shape
    ks = tuple(ks)
    gz = gz.reshape(-1, f)
    gx = gk = gb = None
    if needs[1]:
        gk = into[1] if into is not None else np.empty(kernel.shape, dtype=np.result_type(gz, cols))
        if g == 1:
            np.matmul(cols.T, gz, out=matrix_view(gk, (cols.shape[1], f)))
        else:
            grad_g = gz.reshape(-1, g, f // g).transpose(1, 0, 2)
            dk = np.matmul(cols.transpose(0, 2, 1), grad_g)
            matrix_view(gk, (cols.shape[2], g, f // g))[...] = dk.transpose(1, 0, 2)
    if saved.has_bias and len(needs) > 2 and needs[2]:
        gb = _sum_rows(gz, None if into is None else into[2])
    if needs[0]:
        padded_shape, out_sizes = saved.padded_shape, saved.out_sizes
        if g == 1:
            dxp = gemm_col2im(gz, kernel.reshape(*ks, padded_shape[-1], f), padded_shape,
                              saved.strides, saved.dilation, out_sizes)
        else:
            n, kg = padded_shape[0], cols.shape[2]
            w_g = kernel.reshape(kg, g, f // g).transpose(1, 2, 0)  # (g, F/g, Kg)
            dcols = np.matmul(gz.reshape(-1, g, f // g).transpose(1, 0, 2), w_g)
            # (g, N, *out, *kernel, C/g) -> (N, *out, *kernel, g, C/g)
            last = 2 * len(out_sizes) + 1
            dcols = dcols.reshape(g, n, *out_sizes, *ks, -1).transpose(*range(1, last + 1), 0, last + 1)
            dxp = col2im(dcols, padded_shape, ks, saved.strides, saved.dilation)
        gx = crop_spatial(dxp, saved.pads).reshape(saved.in_shape)
    return gx, gk, gb


def conv_backward(g, saved, needs, into=None):
    """Gradients ``(inputs, kernel, bias)`` of :func:`conv_forward` from the output gradient."""
    return conv_backward_from_logits(_logit_grad(g, saved.y, saved.z, saved.act, into), saved, needs, into)


def _tuple(v, n, what):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(i) for i in v)
    if len(v) != n:
        raise ValueError(f"The {what!r} argument must be an int or a tuple of {n} ints. Got {v!r}.")
    return v


def conv_call(inputs, kernel, bias=None, strides=1, padding="valid", data_format=None, dilation_rate=1,
              activation=None):
    """``(out, saved)`` of the public convolution (any layout, 1 to 3 spatial axes)."""
    fmt = data_format or "channels_last"
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"The 'data_format' argument must be 'channels_last' or 'channels_first'. "
                         f"Got {data_format!r} instead.")
    first = fmt == "channels_first"
    x = to_float(inputs)
    kernel = to_float(kernel)
    if first:
        x = np.moveaxis(x, 1, -1)
    nd = x.ndim - 2
    if nd < 1 or kernel.ndim != nd + 2:
        raise ValueError(f"conv expects inputs with 1 to 3 spatial axes and a kernel of rank "
                         f"inputs.ndim. Got inputs of shape {np.shape(inputs)} and a kernel of shape "
                         f"{kernel.shape}.")
    if x.shape[-1] % kernel.shape[-2] or kernel.shape[-1] % (x.shape[-1] // kernel.shape[-2]):
        raise ValueError(f"conv: the input channels ({x.shape[-1]}) must be a multiple of the kernel's "
                         f"input channels ({kernel.shape[-2]}) and the groups must divide its output "
                         f"channels ({kernel.shape[-1]}).")
    padding = padding.lower() if isinstance(padding, str) else padding
    if padding not in ("valid", "same", "causal"):
        raise ValueError(f"The 'padding' argument must be 'valid' or 'same'. Got {padding!r} instead.")
    strides = _tuple(strides, nd, "strides")
    dilation = _tuple(dilation_rate, nd, "dilation_rate")
    ks = kernel.shape[:-2]
    if nd == 1:  # 1-D runs as 2-D with a unit height (as the layers do)
        x, kernel = x[:, None], kernel[None]
        ks, strides, dilation = (1, *ks), (1, *strides), (1, *dilation)
    out_sizes, pads = conv_geometry(x.shape[1:-1], ks, strides, dilation, padding, "conv")
    if bias is not None:
        bias = to_float(bias)
    y, saved = conv_forward(np.ascontiguousarray(x), kernel, bias, strides, dilation, out_sizes, pads,
                            activation)
    out = y.reshape(x.shape[0], *out_sizes, kernel.shape[-1])
    if nd == 1:
        out = out[:, 0]
    saved_outer = (saved, first, nd, np.shape(inputs))
    return (np.moveaxis(out, -1, 1) if first else out), saved_outer


def conv_call_backward(g, saved_outer, needs, into=None):
    """Gradients ``(inputs, kernel, bias)`` of :func:`conv_call`."""
    saved, first, nd, in_shape = saved_outer
    g = np.asarray(g)
    if first:
        g = np.moveaxis(g, 1, -1)
    gx, gk, gb = conv_backward(np.ascontiguousarray(g), saved, needs, into)
    if gx is not None:
        gx = gx.reshape(saved.in_shape)
        if nd == 1:
            gx = gx[:, 0]
        if first:
            gx = np.moveaxis(gx, -1, 1)
    if gk is not None and nd == 1:
        gk = gk[0]
    return gx, gk, gb


_CONV_SAMPLES = (S((2, 5, 3), (3, 3, 2), (2,), 1, "valid", None, 1, "tanh")
                 + S((1, 5, 6, 2), (3, 2, 2, 3), None, strides=(2, 1), padding="same")
                 + S((1, 6, 6, 2), (2, 2, 2, 2), (2,), dilation_rate=2, activation="relu")
                 + S((1, 2, 5, 5), (3, 3, 2, 1), padding="same", data_format="channels_first")
                 + S((1, 4, 4, 4, 1), (2, 2, 2, 1, 2))
                 + S((2, 5, 5, 4), (3, 3, 2, 6), (6,), padding="same")  # two groups
                 + S((2, 7, 6), (3, 2, 3), None, 2, "causal"))


def _conv_spec(inputs, kernel, bias=None, strides=1, padding="valid", data_format=None, dilation_rate=1,
               activation=None):
    first = (data_format or "channels_last") == "channels_first"
    shape = tuple(inputs.shape)
    spatial = shape[2:] if first else shape[1:-1]
    nd = len(spatial)
    s, d = _tuple(strides, nd, "strides"), _tuple(dilation_rate, nd, "dilation_rate")
    out = tuple(conv_output_length(n, k, st, di, padding.lower())
                for n, k, st, di in zip(spatial, kernel.shape[:-2], s, d))
    f = kernel.shape[-1]
    shape = (shape[0], f, *out) if first else (shape[0], *out, f)
    return Spec(shape, np.result_type(inputs.dtype, kernel.dtype))


conv = fused(_ns, bwd=conv_call_backward, diff=("inputs", "kernel", "bias"), spec=_conv_spec, name="kernels.conv",
             samples=_CONV_SAMPLES)(conv_call)
conv.__doc__ = """N-D convolution + bias + activation (the convolution layers' kernel); grouped when the
input channels are a multiple of the kernel's input channels; padding ``"valid"``, ``"same"`` or
``"causal"`` (1-D)."""


# -- dropout ----------------------------------------------------------------------------------
def dropout_forward(inputs, keep, rate):
    """``(inputs * keep / (1 - rate), the scaled mask)``."""
    scale = np.asarray(keep, dtype=np.result_type(inputs, np.float32) if np.asarray(inputs).dtype.kind != "f"
                       else np.asarray(inputs).dtype)
    scale *= 1.0 / (1.0 - rate)
    return inputs * scale, scale


def dropout_backward(g, scale, needs, into=None):
    """The input gradient of :func:`dropout_forward` (a one-tuple)."""
    return (g * scale,)


dropout = fused(_ns, bwd=dropout_backward, diff=("inputs",), name="kernels.dropout",
                samples=lambda rng: [((rng.standard_normal((3, 4)), rng.random((3, 4)) > 0.4, 0.4), {}),
                                     ((rng.standard_normal((2, 3, 2)), rng.random((1, 3, 1)) > 0.5, 0.5), {})],
                )(dropout_forward)
dropout.__doc__ = """``inputs * keep / (1 - rate)`` (the Dropout layer's kernel; ``keep`` is the boolean
mask of kept entries, broadcast to the inputs)."""
