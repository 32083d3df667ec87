"""Convolution layers: Conv1D/2D/3D, DepthwiseConv1D/2D, SeparableConv1D/2D, Conv1D/2D/3DTranspose.

All work in ``channels_last`` layout; 1-D layers run the 2-D kernels on a unit
height axis, 3-D layers run the same (rank-generic) kernels on three spatial
axes. The forward pass of a convolution is one GEMM of the patch matrix
``(N * prod(out), prod(kernel) * C)`` (see :mod:`._im2col`) with the kernel
reshaped to ``(prod(kernel) * C, F)``; the patch matrix is kept (after training calls only)
for the backward pass, where

* the kernel gradient is ``patches.T @ grad_z``, written in place into the
  kernel's gradient buffer (a view into the model's packed gradient buffer);
* the bias gradient is ``ones @ grad_z`` (a GEMV, also in place);
* the input gradient is ``grad_z @ kernel.T`` scattered back onto the input by
  ``gemm_col2im``, skipped when no layer upstream needs it
  (``_input_grad_needed`` is False, e.g. for the first layer of a model).

A transposed convolution is the adjoint: ``gemm_col2im`` forward, patch
extraction then GEMMs backward. Grouped convolutions use one batched GEMM over
the groups.
"""

from __future__ import annotations

import math

import numpy as np

from ..._validation import param_error
from .. import activations as _activations
from ..ops import kernels
from ._base import LAYERS, Layer, check_positive_int
from ._im2col import (
    INPUT_KINDS,
    check_data_format,
    conv_geometry,
    conv_output_length,
    crop_spatial,
    depthwise_backward,
    depthwise_forward,
    extract_patches,
    gemm_col2im,
    matrix_view,
    normalize_padding,
    normalize_tuple,
    pad_spatial,
    state_without_caches,
)
from ._weight_spec import WeightOptions

__all__ = [
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "Convolution1D",
    "Convolution2D",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
    "Convolution3D",
    "Convolution1DTranspose",
    "Convolution2DTranspose",
    "Convolution3DTranspose",
]


class _SpatialConv(Layer):
    """Arguments, geometry and the activation / activity-regularizer steps shared by the conv layers.

    Subclasses set ``_rank`` (1, 2 or 3). Internally a layer works on
    ``max(_rank, 2)`` spatial axes: ``_k2``, ``_s2`` and ``_d2`` are the kernel
    size, strides and dilation with a unit height prepended for 1-D layers
    (unchanged for 2-D and 3-D layers).
    """

    _rank = 2
    _allow_causal = False

    def _init_spatial(self, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias):
        owner = type(self).__name__
        rank = self._rank
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        self.padding = normalize_padding(padding, owner, allow_causal=self._allow_causal)
        self.data_format = check_data_format(data_format, owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner} does not support strides > 1 together with dilation_rate > 1 (as in Keras). "
                f"Got strides={self.strides} and dilation_rate={self.dilation_rate}."
            )
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)
        pad = (1,) * (self._inner_rank() - rank)
        self._k2 = pad + self.kernel_size
        self._s2 = pad + self.strides
        self._d2 = pad + self.dilation_rate
        self._geometries: dict = {}
        self._ones = None

    @classmethod
    def _inner_rank(cls):
        """Number of spatial axes of the internal arrays (1-D layers run as 2-D)."""
        return max(cls._rank, 2)

    @staticmethod
    def _add_bias(z, bias):
        """``z += bias`` over the rows of ``z`` (M, F), on a wide view so that numpy's inner loop is long."""
        m, f = z.shape
        reps = math.gcd(m, max(1, 2048 // f))
        if reps > 1 and z.flags.c_contiguous:
            z.reshape(m // reps, reps * f).__iadd__(np.tile(bias, reps))
        else:
            z += bias

    def _sum_rows(self, grad2d, out):
        """``out[...] = grad2d.sum(axis=0)`` as a GEMV with a ones vector (several times faster)."""
        ones = self._ones
        if ones is None or ones.shape[0] != grad2d.shape[0] or ones.dtype != grad2d.dtype:
            ones = self._ones = np.ones(grad2d.shape[0], dtype=grad2d.dtype)
        np.matmul(ones, grad2d, out=out)

    def __getstate__(self):
        return state_without_caches(self)

    def _check_input_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self._rank + 2 or input_shape[-1] is None:
            kind = INPUT_KINDS[self._rank]
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of shape {kind} with a defined "
                f"channel dimension. Got input shape {input_shape} instead."
            )
        return input_shape

    def _spatial_out(self, input_shape):
        """Output spatial dims of a convolution for ``input_shape`` (None stays None).

        Raises a clear error when the kernel does not fit the input.
        """
        spatial = tuple(input_shape)[1:-1]
        out = tuple(
            conv_output_length(length, k, s, d, self.padding)
            for length, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )
        if any(o is not None and o < 1 for o in out):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} cannot apply a kernel of size {self.kernel_size} "
                f"(dilation {self.dilation_rate}, padding {self.padding!r}) to inputs of shape "
                f"{tuple(input_shape)}: the output would be empty."
            )
        return out

    def _geometry(self, hw):
        """(out_sizes, pads) of the internal convolution for spatial size ``hw`` (memoized)."""
        geometry = self._geometries.get(hw)
        if geometry is None:
            geometry = conv_geometry(hw, self._k2, self._s2, self._d2, self.padding, type(self).__name__)
            self._geometries[hw] = geometry
        return geometry

    def _as_2d(self, x):
        return x[:, None] if self._rank == 1 else x

    def _as_inner(self, kernel):
        """A view of a ``(*kernel_size, ...)`` weight (or gradient) with the unit height of 1-D layers prepended."""
        return kernel if self._rank > 1 else matrix_view(kernel, (1, *kernel.shape))

    def _out_shape(self, n, out_hw, channels):
        return (n, *out_hw[len(out_hw) - self._rank:], channels)

    # -- activation and activity regularizer on the (M, F) pre-activation ----------
    def _activate(self, z):
        act = self.activation
        self._z = z.copy() if act.needs_input else None
        y = act.forward(z)
        self._y = y
        if self.activity_regularizer is not None:
            self.activity_penalty = self.activity_regularizer(y)
        return y

    def _grad_z(self, grad):
        grad = grad.reshape(self._y.shape)
        if self.activity_regularizer is not None:
            grad = grad.copy()
            self.activity_regularizer.add_gradient(self._y, grad)
        return self.activation.backward(grad, self._y, self._z)

    def backward(self, grad):
        return self.backward_from_logits(self._grad_z(grad))

    def _bias_weight(self, size):
        if not self.use_bias:
            return None
        return self._weight_options.add_weight(self, "bias", (size,))

    def _spatial_config(self):
        return {
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
        }


_KERNEL_AND_BIAS = WeightOptions("kernel", "bias", activity_regularizer=True)


class _Conv(_SpatialConv):
    """N-D convolution (cross-correlation) with ``filters`` output channels; see Conv2D."""

    _cache_attrs = ("_saved", "_y", "_in_shape", "activity_penalty")
    _weight_options = _KERNEL_AND_BIAS

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = check_positive_int(filters, "filters", owner)
        self.groups = check_positive_int(groups, "groups", owner)
        if self.filters % self.groups:
            raise param_error("groups", owner, f"a divisor of filters={self.filters}", groups)
        self._init_spatial(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias)
        self._weight_options.resolve(self, locals())
        self.kernel = self.bias = None
        self._saved = self._y = self._in_shape = None

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        channels = input_shape[-1]
        if channels % self.groups:
            raise ValueError(
                f"The number of input channels of {type(self).__name__} {self.name!r} must be divisible "
                f"by groups={self.groups}. Got input shape {input_shape} ({channels} channels) instead."
            )
        self.compute_output_shape(input_shape)  # fail early on too-small inputs
        shape = (*self.kernel_size, channels // self.groups, self.filters)
        self.kernel = self._weight_options.add_weight(self, "kernel", shape)
        self.bias = self._bias_weight(self.filters)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        out = self._spatial_out(input_shape)
        return (input_shape[0], *out, self.filters)

    def call(self, inputs, training=False):
        x = self._as_2d(inputs)
        n, *spatial, c = x.shape
        out_hw, pads = self._geometry(tuple(spatial))
        kernel = self._as_inner(self.kernel.value)
        bias = self.bias.value if self.use_bias else None
        # The patch matrix is only needed by a backward pass, i.e. after a training call.
        y, saved = kernels.conv_forward(x, kernel, bias, self._s2, self._d2, out_hw, pads, self.activation,
                                        keep=bool(training))
        self._saved, self._y, self._in_shape = saved, saved.y, inputs.shape
        if self.activity_regularizer is not None:
            self.activity_penalty = self.activity_regularizer(y)
        return y.reshape(self._out_shape(n, out_hw, self.filters))

    def backward(self, grad):
        if self.activity_regularizer is not None:
            grad = grad.reshape(self._y.shape).copy()
            self.activity_regularizer.add_gradient(self._y, grad)
        saved = self._saved
        grad = grad.reshape(self._y.shape)
        if saved is not None and saved.act is not None:  # conv_backward = this + from_logits
            grad = saved.act.backward(grad, saved.y, saved.z)
        return self.backward_from_logits(grad)

    def backward_from_logits(self, grad_z):
        """Backward from the gradient w.r.t. the pre-activation output (fused losses)."""
        return self._kernel_backward(kernels.conv_backward_from_logits, grad_z)

    def _kernel_backward(self, backward, grad):
        saved = self._saved
        if saved is None or saved.cols is None:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r}: backward() needs a preceding call with training=True."
            )
        needs = (self._input_grad_needed, self._trainable, self._trainable and self.use_bias)
        into = (None, self._as_inner(self.kernel.grad), self.bias.grad if self.use_bias else None)
        gx = backward(grad, saved, needs, into)[0]
        return None if gx is None else gx.reshape(self._in_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._spatial_config(),
            "groups": self.groups,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **self._weight_options.config(self),
        }


@LAYERS.register(aliases=("Convolution2D",))
class Conv2D(_Conv):
    """2-D convolution over ``(batch, height, width, channels)`` inputs.

    ``outputs = activation(cross_correlation(inputs, kernel) + bias)`` with a
    kernel of shape ``(*kernel_size, channels // groups, filters)``.

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int or tuple of 2 ints
        Height and width of the window.
    strides : int or tuple of 2 ints, default=(1, 1)
    padding : {"valid", "same"}, default="valid"
        ``"same"`` pads evenly (the extra row/column after) so that the output
        has ``ceil(size / stride)`` rows and columns.
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported; ``"channels_first"`` raises.
    dilation_rate : int or tuple of 2 ints, default=(1, 1)
        Spacing between kernel taps; > 1 is incompatible with strides > 1.
    groups : int, default=1
        Split the input channels into ``groups`` groups, each convolved with
        ``filters // groups`` filters.
    activation : str or Activation, default=None
    use_bias : bool, default=True
    kernel_initializer, bias_initializer : str or Initializer
        Defaults ``"glorot_uniform"`` and ``"zeros"``.
    kernel_regularizer, bias_regularizer, activity_regularizer : Regularizer, optional
    kernel_constraint, bias_constraint : Constraint, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Conv2D
    >>> layer = Conv2D(4, 3, padding="same", activation="relu")
    >>> layer(np.ones((2, 8, 8, 3))).shape
    (2, 8, 8, 4)
    >>> Conv2D(4, (3, 3), strides=2).compute_output_shape((None, 9, 9, 3))
    (None, 4, 4, 4)
    """

    _rank = 2


@LAYERS.register(aliases=("Convolution1D",))
class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)`` inputs (temporal convolution).

    Same parameters as :class:`Conv2D` with single ints, plus ``padding="causal"``
    (``(kernel_size - 1) * dilation_rate`` zeros before the sequence, so that
    output ``t`` never sees inputs after ``t``).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Conv1D
    >>> Conv1D(8, 3, padding="causal")(np.ones((2, 10, 4))).shape
    (2, 10, 8)
    """

    _rank = 1
    _allow_causal = True


@LAYERS.register(aliases=("Convolution3D",))
class Conv3D(_Conv):
    """3-D convolution over ``(batch, depth, height, width, channels)`` inputs (volumes, videos).

    ``outputs = activation(cross_correlation(inputs, kernel) + bias)`` with a
    kernel of shape ``(*kernel_size, channels // groups, filters)``. Same
    parameters as :class:`Conv2D`, with tuples of 3 ints.

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int or tuple of 3 ints
        Depth, height and width of the window.
    strides : int or tuple of 3 ints, default=(1, 1, 1)
    padding : {"valid", "same"}, default="valid"
    data_format : {"channels_last", None}, default=None
        Only channels_last is supported; ``"channels_first"`` raises.
    dilation_rate : int or tuple of 3 ints, default=(1, 1, 1)
        Spacing between kernel taps; > 1 is incompatible with strides > 1.
    groups : int, default=1
    activation : str or Activation, default=None
    use_bias : bool, default=True
    kernel_initializer, bias_initializer : str or Initializer
        Defaults ``"glorot_uniform"`` and ``"zeros"``.
    kernel_regularizer, bias_regularizer, activity_regularizer : Regularizer, optional
    kernel_constraint, bias_constraint : Constraint, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Conv3D
    >>> Conv3D(4, 3, activation="relu")(np.ones((2, 5, 6, 7, 1))).shape
    (2, 3, 4, 5, 4)
    >>> Conv3D(4, 3, strides=2, padding="same").compute_output_shape((None, 5, 6, 7, 1))
    (None, 3, 3, 4, 4)
    """

    _rank = 3


class _DepthwiseConv(_SpatialConv):
    """Depthwise convolution over ``_rank`` spatial axes; see DepthwiseConv2D."""

    _cache_attrs = ("_xp", "_y", "_z", "_meta", "activity_penalty")
    _weight_options = WeightOptions("depthwise", "bias", activity_regularizer=True)

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier", owner)
        self._init_spatial(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias)
        self._weight_options.resolve(self, locals())
        self.kernel = self.bias = None
        self._xp = self._y = self._z = self._meta = None

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        self.compute_output_shape(input_shape)
        channels = input_shape[-1]
        shape = (*self.kernel_size, channels, self.depth_multiplier)
        self.kernel = self._weight_options.add_weight(self, "depthwise", shape, name="kernel")
        self.bias = self._bias_weight(channels * self.depth_multiplier)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        out = self._spatial_out(input_shape)
        channels = input_shape[-1]
        return (input_shape[0], *out, None if channels is None else channels * self.depth_multiplier)

    def call(self, inputs, training=False):
        x = self._as_2d(inputs)
        n, *spatial, c = x.shape
        out_hw, pads = self._geometry(tuple(spatial))
        xp = pad_spatial(x, pads)
        z = depthwise_forward(xp, self._as_inner(self.kernel.value), self._s2, self._d2, out_hw)
        if self.use_bias:
            self._add_bias(z, self.bias.value)
        y = self._activate(z)
        self._xp = xp if training else None
        self._meta = (inputs.shape, out_hw, pads)
        return y.reshape(self._out_shape(n, out_hw, z.shape[1]))

    def backward_from_logits(self, grad_z):
        if self._xp is None:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r}: backward() needs a preceding call with training=True."
            )
        in_shape, out_hw, pads = self._meta
        grad_z = grad_z.reshape(-1, self._y.shape[-1])
        trainable = self._trainable
        if trainable and self.use_bias:
            self._sum_rows(grad_z, self.bias.grad)
        dxp = depthwise_backward(self._xp, self._as_inner(self.kernel.value), grad_z, self._s2, self._d2,
                                 out_hw, kernel_grad=self._as_inner(self.kernel.grad) if trainable else None,
                                 need_input=self._input_grad_needed)
        return None if dxp is None else crop_spatial(dxp, pads).reshape(in_shape)

    def get_config(self):
        return {
            **super().get_config(),
            **self._spatial_config(),
            "depth_multiplier": self.depth_multiplier,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **self._weight_options.config(self),
        }


class _SeparableConv(_SpatialConv):
    """Depthwise separable convolution over ``_rank`` spatial axes; see SeparableConv2D."""

    _cache_attrs = ("_xp", "_d", "_y", "_z", "_meta", "activity_penalty")
    _weight_options = WeightOptions("depthwise", "pointwise", "bias", activity_regularizer=True)

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = check_positive_int(filters, "filters", owner)
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier", owner)
        self._init_spatial(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias)
        self._weight_options.resolve(self, locals())
        self.depthwise_kernel = self.pointwise_kernel = self.bias = None
        self._xp = self._d = self._y = self._z = self._meta = None

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        self.compute_output_shape(input_shape)
        channels = input_shape[-1]
        options = self._weight_options
        depthwise = (*self.kernel_size, channels, self.depth_multiplier)
        self.depthwise_kernel = options.add_weight(self, "depthwise", depthwise, name="depthwise_kernel")
        pointwise = (1,) * self._rank + (channels * self.depth_multiplier, self.filters)
        self.pointwise_kernel = options.add_weight(self, "pointwise", pointwise, name="pointwise_kernel")
        self.bias = self._bias_weight(self.filters)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        out = self._spatial_out(input_shape)
        return (input_shape[0], *out, self.filters)

    def _pointwise_matrix(self):
        kernel = self.pointwise_kernel.value
        return kernel.reshape(kernel.shape[-2], kernel.shape[-1])

    def call(self, inputs, training=False):
        x = self._as_2d(inputs)
        n, *spatial, c = x.shape
        out_hw, pads = self._geometry(tuple(spatial))
        xp = pad_spatial(x, pads)
        d = depthwise_forward(xp, self._as_inner(self.depthwise_kernel.value), self._s2, self._d2, out_hw)
        z = d @ self._pointwise_matrix()
        if self.use_bias:
            self._add_bias(z, self.bias.value)
        y = self._activate(z)
        self._xp, self._d = (xp, d) if training else (None, None)
        self._meta = (inputs.shape, out_hw, pads)
        return y.reshape(self._out_shape(n, out_hw, self.filters))

    def backward_from_logits(self, grad_z):
        if self._xp is None:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r}: backward() needs a preceding call with training=True."
            )
        in_shape, out_hw, pads = self._meta
        grad_z = grad_z.reshape(-1, self.filters)
        pointwise = self._pointwise_matrix()
        trainable = self._trainable
        if trainable:
            np.matmul(self._d.T, grad_z, out=matrix_view(self.pointwise_kernel.grad, pointwise.shape))
            if self.use_bias:
                self._sum_rows(grad_z, self.bias.grad)
        grad_d = grad_z @ pointwise.T
        dxp = depthwise_backward(self._xp, self._as_inner(self.depthwise_kernel.value), grad_d, self._s2,
                                 self._d2, out_hw,
                                 kernel_grad=self._as_inner(self.depthwise_kernel.grad) if trainable else None,
                                 need_input=self._input_grad_needed)
        return None if dxp is None else crop_spatial(dxp, pads).reshape(in_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._spatial_config(),
            "depth_multiplier": self.depth_multiplier,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **self._weight_options.config(self),
        }


@LAYERS.register
class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: each input channel convolved with its own ``depth_multiplier`` filters.

    The kernel has shape ``(*kernel_size, channels, depth_multiplier)``; output
    channel ``c * depth_multiplier + m`` is input channel ``c`` filtered by
    ``kernel[..., c, m]``.

    Parameters
    ----------
    kernel_size : int or tuple of 2 ints
    strides : int or tuple of 2 ints, default=(1, 1)
    padding : {"valid", "same"}, default="valid"
    depth_multiplier : int, default=1
    data_format : {"channels_last", None}, default=None
    dilation_rate : int or tuple of 2 ints, default=(1, 1)
    activation, use_bias : as in :class:`Conv2D`
    depthwise_initializer, bias_initializer : str or Initializer
        Defaults ``"glorot_uniform"`` and ``"zeros"``.
    depthwise_regularizer, bias_regularizer, activity_regularizer : Regularizer, optional
    depthwise_constraint, bias_constraint : Constraint, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import DepthwiseConv2D
    >>> DepthwiseConv2D(3, depth_multiplier=2)(np.ones((1, 5, 5, 3))).shape
    (1, 3, 3, 6)
    """

    _rank = 2


@LAYERS.register
class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution: each input channel of ``(batch, steps, channels)`` filtered on its own.

    The kernel has shape ``(kernel_size, channels, depth_multiplier)``; output
    channel ``c * depth_multiplier + m`` is input channel ``c`` filtered by
    ``kernel[:, c, m]``. Same parameters as :class:`DepthwiseConv2D`, with
    single ints.

    Parameters
    ----------
    kernel_size : int
    strides : int, default=1
    padding : {"valid", "same"}, default="valid"
    depth_multiplier : int, default=1
    data_format : {"channels_last", None}, default=None
    dilation_rate : int, default=1
    activation, use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
    bias_regularizer, activity_regularizer, depthwise_constraint, bias_constraint : as in
    :class:`DepthwiseConv2D`

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import DepthwiseConv1D
    >>> DepthwiseConv1D(3, depth_multiplier=3, strides=2)(np.ones((4, 10, 12))).shape
    (4, 4, 36)
    """

    _rank = 1


@LAYERS.register(aliases=("SeparableConvolution2D",))
class SeparableConv2D(_SeparableConv):
    """Depthwise separable 2-D convolution: a depthwise convolution, then a 1x1 pointwise one.

    Weights: ``depthwise_kernel`` of shape ``(*kernel_size, channels, depth_multiplier)``,
    ``pointwise_kernel`` of shape ``(1, 1, channels * depth_multiplier, filters)`` and
    ``bias`` of shape ``(filters,)`` (added after the pointwise step).

    Parameters
    ----------
    filters : int
    kernel_size, strides, padding, data_format, dilation_rate : as in :class:`Conv2D`
    depth_multiplier : int, default=1
    activation, use_bias : as in :class:`Conv2D`
    depthwise_initializer, pointwise_initializer, bias_initializer : str or Initializer
    depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer : optional
    depthwise_constraint, pointwise_constraint, bias_constraint : optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import SeparableConv2D
    >>> SeparableConv2D(8, 3, padding="same")(np.ones((1, 6, 6, 3))).shape
    (1, 6, 6, 8)
    """

    _rank = 2


@LAYERS.register(aliases=("SeparableConvolution1D",))
class SeparableConv1D(_SeparableConv):
    """Depthwise separable 1-D convolution: a depthwise convolution, then a pointwise (size 1) one.

    Weights: ``depthwise_kernel`` of shape ``(kernel_size, channels, depth_multiplier)``,
    ``pointwise_kernel`` of shape ``(1, channels * depth_multiplier, filters)`` and
    ``bias`` of shape ``(filters,)``. Same parameters as :class:`SeparableConv2D`,
    with single ints.

    Parameters
    ----------
    filters : int
    kernel_size : int
    strides : int, default=1
    padding : {"valid", "same"}, default="valid"
    data_format : {"channels_last", None}, default=None
    dilation_rate : int, default=1
    depth_multiplier : int, default=1
    activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
    depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
    depthwise_constraint, pointwise_constraint, bias_constraint : as in :class:`SeparableConv2D`

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import SeparableConv1D
    >>> SeparableConv1D(8, 3, padding="same")(np.ones((2, 10, 4))).shape
    (2, 10, 8)
    """

    _rank = 1


def _transpose_axis(length, kernel, stride, dilation, padding, output_padding):
    """(output length, crop before) of a transposed convolution along one axis (Keras's rules).

    The uncropped ("full") output has ``(length - 1) * stride + effective_kernel``
    entries; Keras keeps ``length_out`` of them starting at ``crop``.
    """
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return (length - 1) * stride + effective + extra, 0
    if output_padding is None:
        out, pad_len = length * stride, stride + effective - 2
    else:
        out = (length - 1) * stride + effective % 2 + output_padding
        pad_len = effective + effective % 2 - 2 + output_padding
    before = min(pad_len // 2 + pad_len % 2, effective - 1)
    return out, effective - 1 - before


class _ConvTranspose(_SpatialConv):
    """Transposed convolution over ``_rank`` spatial axes; see Conv2DTranspose."""

    _cache_attrs = ("_x2d", "_y", "_z", "_meta", "activity_penalty")
    _weight_options = _KERNEL_AND_BIAS

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = check_positive_int(filters, "filters", owner)
        self._init_spatial(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias)
        self._weight_options.resolve(self, locals())
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = normalize_tuple(output_padding, self._rank, "output_padding", owner,
                                                  allow_zero=True)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise param_error("output_padding", owner, f"smaller than strides={self.strides}",
                                  output_padding)
        self.kernel = self.bias = None
        self._x2d = self._y = self._z = self._meta = None

    def _axes(self, spatial):
        ops = self.output_padding or (None,) * self._rank
        return [
            None if length is None else _transpose_axis(length, k, s, d, self.padding, p)
            for length, k, s, d, p in zip(spatial, self.kernel_size, self.strides, self.dilation_rate, ops)
        ]

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        shape = (*self.kernel_size, self.filters, input_shape[-1])
        self.kernel = self._weight_options.add_weight(self, "kernel", shape)
        self.bias = self._bias_weight(self.filters)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        out = [None if a is None else a[0] for a in self._axes(input_shape[1:-1])]
        return (input_shape[0], *out, self.filters)

    def _layout(self, hw):
        """Output size, crop offsets and full-buffer shape for input spatial size ``hw`` (memoized)."""
        layout = self._geometries.get(hw)
        if layout is None:
            extra = len(hw) - self._rank  # unit axes prepended for 1-D layers
            axes = [(1, 0)] * extra + self._axes(hw[extra:])
            out_hw = tuple(a[0] for a in axes)
            crops = tuple(a[1] for a in axes)
            full = tuple(
                max((length - 1) * s + (k - 1) * d + 1, crop + out)
                for length, k, s, d, crop, out in zip(hw, self._k2, self._s2, self._d2, crops, out_hw)
            )
            window = (slice(None), *(slice(crop, crop + out) for crop, out in zip(crops, out_hw)))
            layout = self._geometries[hw] = (out_hw, window, full)
        return layout

    def _kernel_matrix(self):
        kernel = self.kernel.value
        return kernel.reshape(-1, kernel.shape[-1])  # (prod(kernel_size) * F, C)

    def call(self, inputs, training=False):
        x = self._as_2d(inputs)
        n, *spatial, c = x.shape
        spatial = tuple(spatial)
        out_hw, window, full = self._layout(spatial)
        x2d = x.reshape(-1, c)
        kernel_nd = self.kernel.value.reshape(*self._k2, self.filters, c)
        buf = gemm_col2im(x2d, kernel_nd, (n, *full, self.filters), self._s2, self._d2, spatial)
        z = buf[window].reshape(-1, self.filters)
        if self.use_bias:
            self._add_bias(z, self.bias.value)
        y = self._activate(z)
        self._x2d = x2d if training else None
        self._meta = (inputs.shape, spatial, out_hw, window, full)
        return y.reshape(self._out_shape(n, out_hw, self.filters))

    def backward_from_logits(self, grad_z):
        if self._x2d is None:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r}: backward() needs a preceding call with training=True."
            )
        in_shape, in_hw, out_hw, window, full = self._meta
        f = self.filters
        grad_z = grad_z.reshape(-1, f)
        n = in_shape[0]
        g_nd = grad_z.reshape(n, *out_hw, f)
        if tuple(full) != tuple(out_hw):  # the output is a crop of the full buffer
            padded = np.zeros((n, *full, f), dtype=grad_z.dtype)
            padded[window] = g_nd
            g_nd = padded
        cols = extract_patches(g_nd, self._k2, self._s2, self._d2, in_hw)  # (N * prod(in), prod(k) * F)
        kernel2d = self._kernel_matrix()
        if self._trainable:
            np.matmul(cols.T, self._x2d, out=matrix_view(self.kernel.grad, kernel2d.shape))
            if self.use_bias:
                self._sum_rows(grad_z, self.bias.grad)
        if not self._input_grad_needed:
            return None
        return (cols @ kernel2d).reshape(in_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._spatial_config(),
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **self._weight_options.config(self),
        }


@LAYERS.register(aliases=("Convolution2DTranspose",))
class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (a.k.a. deconvolution): the adjoint of :class:`Conv2D`.

    Each input pixel spreads ``kernel[..., :, c]``-weighted copies of its value
    over a ``kernel_size`` window of the (``strides``-times larger) output. The
    kernel has shape ``(*kernel_size, filters, channels)``. Output sizes follow
    Keras: with ``padding="same"`` and no ``output_padding`` the output is
    ``size * stride``; with ``"valid"`` it is
    ``(size - 1) * stride + max(effective_kernel, stride)``.

    Parameters
    ----------
    filters : int
    kernel_size, strides, padding, data_format, dilation_rate : as in :class:`Conv2D`
    output_padding : int or tuple of 2 ints, optional
        Extra rows/columns at the end of the output, each smaller than the stride.
    activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
    bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint : as in :class:`Conv2D`

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Conv2DTranspose
    >>> Conv2DTranspose(4, 3, strides=2, padding="same")(np.ones((1, 5, 5, 2))).shape
    (1, 10, 10, 4)
    """

    _rank = 2


@LAYERS.register(aliases=("Convolution1DTranspose",))
class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution over ``(batch, steps, channels)`` inputs: the adjoint of :class:`Conv1D`.

    Each input step spreads ``kernel[:, :, c]``-weighted copies of its value
    over ``kernel_size`` steps of the (``strides``-times longer) output; the
    kernel has shape ``(kernel_size, filters, channels)``. Output lengths follow
    Keras: ``steps * strides`` with ``padding="same"`` and no
    ``output_padding``, ``(steps - 1) * strides + max(effective_kernel, strides)``
    with ``"valid"``.

    Parameters
    ----------
    filters : int
    kernel_size : int
    strides : int, default=1
    padding : {"valid", "same"}, default="valid"
    output_padding : int, optional
        Extra steps at the end of the output, smaller than the stride.
    data_format : {"channels_last", None}, default=None
    dilation_rate : int, default=1
    activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
    bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint : as in :class:`Conv2D`

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Conv1DTranspose
    >>> Conv1DTranspose(4, 3, strides=2, padding="same")(np.ones((2, 5, 3))).shape
    (2, 10, 4)
    """

    _rank = 1


@LAYERS.register(aliases=("Convolution3DTranspose",))
class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution over ``(batch, depth, height, width, channels)``: the adjoint of :class:`Conv3D`.

    Each input voxel spreads ``kernel[..., :, c]``-weighted copies of its value
    over a ``kernel_size`` window of the (``strides``-times larger) output; the
    kernel has shape ``(*kernel_size, filters, channels)``. Output sizes follow
    Keras, as in :class:`Conv2DTranspose`.

    Parameters
    ----------
    filters : int
    kernel_size : int or tuple of 3 ints
    strides : int or tuple of 3 ints, default=(1, 1, 1)
    padding : {"valid", "same"}, default="valid"
    output_padding : int or tuple of 3 ints, optional
        Extra planes/rows/columns at the end of the output, each smaller than the stride.
    data_format : {"channels_last", None}, default=None
    dilation_rate : int or tuple of 3 ints, default=(1, 1, 1)
    activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
    bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint : as in :class:`Conv2D`

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Conv3DTranspose
    >>> Conv3DTranspose(4, 2, strides=2)(np.ones((1, 3, 4, 5, 2))).shape
    (1, 6, 8, 10, 4)
    """

    _rank = 3


# Keras's alternative names.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
