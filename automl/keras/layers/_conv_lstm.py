"""Convolutional LSTM layers: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (Shi et al., 2015).

An LSTM whose input and recurrent transformations are convolutions: for
inputs ``(batch, time, *spatial, channels)`` every timestep computes
``x_t * W + h_{t-1} * U + b`` (``*`` a convolution; ``W`` with the layer's
``strides``, ``padding`` and ``dilation_rate``, ``U`` with stride 1 and
``"same"`` padding so that the state keeps the output's spatial size), then the
LSTM gates ``i, f, o = recurrent_activation(...)``, the candidate
``g = activation(...)``, ``c_t = f * c_{t-1} + i * g`` and
``h_t = o * activation(c_t)``. The states ``h`` and ``c`` and the output have
shape ``(batch, *output_spatial, filters)``. Weights are laid out as in Keras:
``kernel`` ``(*kernel_size, channels, 4 * filters)``, ``recurrent_kernel``
``(*kernel_size, filters, 4 * filters)``, ``bias`` ``(4 * filters,)``, gates in
the order ``i, f, c, o``.

How it runs
-----------
The layer is the LSTM of :mod:`._recurrent` with its rows being
``(sample, output position)`` pairs: the input convolution of every timestep
is one patch matrix (the im2col of :mod:`._im2col`, shared with the
convolution layers) times the kernel, before the time loop; in the loop the
recurrent product is the convolution of the state (its patch matrix times the
recurrent kernel) and the gate maths are the LSTM's own, in place, with its
fast path for the default activations. Backward is the LSTM's
backpropagation through time with the adjoint convolutions: the recurrent
kernel's gradient is one GEMM over the saved state patches of every step, the
state gradient of a step a ``col2im`` of its gate gradients, and the input
gradient one ``col2im`` for all timesteps.

Everything about the sequence as a whole (``return_sequences``,
``return_state``, ``go_backwards``, ``initial_state``, masks, ``stateful``)
behaves as in the other recurrent layers. As in Keras, ``dropout`` and
``recurrent_dropout`` draw one mask per gate (four for the inputs, four for the
state), fixed over the timesteps of a call; the input convolution then has
one patch matrix per gate, and so has the recurrent one at every step.

With ``data_format="channels_first"`` (inputs ``(batch, time, channels,
*spatial)``, outputs and states ``(batch, filters, *output_spatial)``) the call
moves the channel axis of the inputs last, runs as above and moves it back in
the outputs (and the backward pass does the same with the gradients); the
weights have the same layout in both formats, as in Keras. The kept states of
a stateful layer (``layer.states``) are stored channels last.
"""

from __future__ import annotations

import math

import numpy as np

from .. import regularizers as _regularizers
from ._base import LAYERS, check_positive_int
from ._im2col import (
    check_data_format,
    conv_geometry,
    conv_output_length,
    crop_spatial,
    extract_patches,
    gemm_col2im,
    normalize_padding,
    normalize_tuple,
    pad_spatial,
)
from ._recurrent import _RNN, _LSTMKernel, _unit_forget_bias

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]

_REG = _regularizers.serialize
_INPUT_KINDS = {
    1: "(batch, time, steps, channels)",
    2: "(batch, time, height, width, channels)",
    3: "(batch, time, depth, height, width, channels)",
}
_FIRST_KINDS = {
    1: "(batch, time, channels, steps)",
    2: "(batch, time, channels, height, width)",
    3: "(batch, time, channels, depth, height, width)",
}


def _last(a, axis):
    """``a`` with its channel axis ``axis`` moved last (channels_first -> channels_last)."""
    return None if a is None else np.moveaxis(np.asarray(a), axis, -1)


def _first(a, axis):
    """``a`` with its last axis moved to ``axis`` (channels_last -> channels_first)."""
    return None if a is None else np.ascontiguousarray(np.moveaxis(a, -1, axis))


def _shape_last(shape, axis):
    shape = tuple(shape)
    return (*shape[:axis], *shape[axis + 1:], shape[axis])


def _shape_first(shape, axis):
    shape = tuple(shape)
    return (*shape[:axis], shape[-1], *shape[axis:-1])


class _ConvLSTM(_LSTMKernel, _RNN):
    """The N-D convolutional LSTM (``rank`` spatial axes); see the module notes."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        # As in Keras, the RNN options not in the signature come as keyword arguments.
        unroll = kwargs.pop("unroll", False)
        zero_output_for_mask = kwargs.pop("zero_output_for_mask", False)
        super().__init__(**kwargs)
        owner, rank = type(self).__name__, self.rank
        self.filters = check_positive_int(filters, "filters", owner)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, rank, "strides", owner)
        self.padding = normalize_padding(padding, owner)
        self.data_format = ("channels_first" if data_format == "channels_first"
                            else check_data_format(data_format, owner))
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"The 'strides' and 'dilation_rate' parameters of {owner} cannot both exceed 1. "
                f"Got strides={self.strides} and dilation_rate={self.dilation_rate} instead."
            )
        self._init_rnn({**locals(), "units": self.filters})
        self.unit_forget_bias = bool(unit_forget_bias)
        self._out_spatial = None

    # -- shapes ----------------------------------------------------------------
    @property
    def _channels_first(self):
        return self.data_format == "channels_first"

    def _check_shape(self, input_shape):
        """The input shape, checked, channels last (the layout the layer computes in)."""
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 3 or None in input_shape[2:]:
            kinds = _FIRST_KINDS if self._channels_first else _INPUT_KINDS
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of shape {kinds[self.rank]} "
                f"with defined spatial and channel dimensions. Got input shape {input_shape} instead."
            )
        return _shape_last(input_shape, 2) if self._channels_first else input_shape

    def compute_output_shape(self, input_shape):
        if not self._channels_first:
            return super().compute_output_shape(input_shape)
        shape = super().compute_output_shape(_shape_last(input_shape, 2))
        if not self.return_state:
            return _shape_first(shape, 2 if self.return_sequences else 1)
        return [_shape_first(shape[0], 2 if self.return_sequences else 1),
                *(_shape_first(s, 1) for s in shape[1:])]

    # -- channels_first: the call and its backward on channels_last arrays -------
    def call(self, inputs, training=False, mask=None, initial_state=None):
        if not self._channels_first:
            return super().call(inputs, training=training, mask=mask, initial_state=initial_state)
        if isinstance(inputs, (list, tuple)):
            inputs = [_last(inputs[0], 2), *(_last(s, 1) for s in inputs[1:])]
        else:
            inputs = _last(inputs, 2)
        if initial_state is not None:
            initial_state = [_last(s, 1) for s in initial_state]
        out = super().call(inputs, training=training, mask=mask, initial_state=initial_state)
        axis = 2 if self.return_sequences else 1
        if self.return_state:
            return [_first(out[0], axis), *(_first(s, 1) for s in out[1:])]
        return _first(out, axis)

    def backward(self, grad):
        if not self._channels_first:
            return super().backward(grad)
        axis = 2 if self.return_sequences else 1
        if self.return_state:
            grad = [_last(grad[0], axis), *(_last(g, 1) for g in grad[1:])]
        else:
            grad = _last(grad, axis)
        dx = super().backward(grad)
        if dx is None:
            return None
        if isinstance(dx, list):
            return [_first(dx[0], 2), *(_first(g, 1) for g in dx[1:])]
        return _first(dx, 2)

    def _spatial_output(self, spatial):
        return tuple(conv_output_length(length, k, s, d, self.padding)
                     for length, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def _step_output_shape(self, input_shape):
        return (*self._spatial_output(tuple(input_shape)[2:-1]), self.filters)

    @property
    def _state_shapes(self):
        return [(*self._out_spatial, self.filters)] * 2

    def build(self, input_shape):
        input_shape = self._check_shape(input_shape)
        owner, ones = type(self).__name__, (1,) * self.rank
        self._in_spatial, channels = input_shape[2:-1], input_shape[-1]
        self._out_spatial, self._pads = conv_geometry(self._in_spatial, self.kernel_size, self.strides,
                                                      self.dilation_rate, self.padding, owner)
        _, self._rec_pads = conv_geometry(self._out_spatial, self.kernel_size, ones, ones, "same", owner)
        gu = 4 * self.filters
        self.kernel = self.add_weight((*self.kernel_size, channels, gu), self.kernel_initializer, "kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            (*self.kernel_size, self.filters, gu), self.recurrent_initializer, "recurrent_kernel",
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            init = (_unit_forget_bias(self.bias_initializer, self.filters) if self.unit_forget_bias
                    else self.bias_initializer)
            self.bias = self.add_weight((gu,), init, "bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self._build_states(input_shape)

    # -- the whole sequence ------------------------------------------------------
    def _run_forward(self, xt, keep, notm, states, training):
        t_steps, n = xt.shape[:2]
        dtype = np.dtype(self.dtype)
        f, out = self.filters, self._out_spatial
        rows = n * math.prod(out)
        # Dropout: one mask per gate (in the internal gate order), fixed over the timesteps.
        dmasks = rmasks = None
        if training and 0.0 < self.dropout < 1.0:
            dmasks = [self._dropout_mask(xt.shape[1:], self.dropout, dtype) for _ in range(4)]
        if training and 0.0 < self.recurrent_dropout < 1.0:
            rmasks = [self._dropout_mask((rows, f), self.recurrent_dropout, dtype) for _ in range(4)]
        w = self._weights()
        kernel = w.get("kernel_fw", w["kernel"])
        if dmasks is None:
            patches, xp_shape = self._input_patches(xt, dtype)
            z = patches @ kernel
        else:
            patches = [self._input_patches(xt * m, dtype)[0] for m in dmasks]
            xp_shape = (t_steps * n, *(size + a + b for size, (a, b) in zip(xt.shape[2:-1], self._pads)),
                        xt.shape[-1])
            z = np.empty((patches[0].shape[0], 4 * f), dtype=dtype)
            for j, p in enumerate(patches):
                z[:, j * f:(j + 1) * f] = p @ kernel[:, j * f:(j + 1) * f]
        if w["bias_in"] is not None:
            z += w["bias_in"]
        z = z.reshape(t_steps, rows, 4 * f)
        if keep is not None:  # one mask row per (sample, output position)
            keep = np.repeat(keep.reshape(t_steps, n, 1), rows // n, axis=1)
            notm = ~keep
        taps = math.prod(self.kernel_size)
        n_patch = 1 if rmasks is None else 4
        cache = {"x2": patches, "z": z, "dmask": dmasks, "rmask": None, "rmasks": rmasks, "keep": keep,
                 "notm": notm, "n": rows, "t": t_steps, "batch": n, "padded_shape": xp_shape,
                 "kernel": w["kernel"], "recurrent": w["recurrent"], "bias_rec": None,
                 "recurrent_fw": w.get("recurrent_fw", w["recurrent"]),
                 "hpatch": np.empty((n_patch, t_steps, rows, taps * f), dtype=dtype)}
        h_all = self._loop(cache, [np.asarray(s, dtype=dtype).reshape(rows, f) for s in states])
        seq = h_all[1:].reshape(t_steps, n, *out, f)
        finals = [s.reshape(n, *out, f) for s in self._final_states(cache)]
        return seq, finals, {"inner": cache}

    def _input_patches(self, xt, dtype):
        """The patch matrix of the input convolution of every timestep, and the padded shape."""
        t_steps, n = xt.shape[:2]
        xp = pad_spatial(np.ascontiguousarray(xt, dtype=dtype).reshape(t_steps * n, *xt.shape[2:]), self._pads)
        return extract_patches(xp, self.kernel_size, self.strides, self.dilation_rate, self._out_spatial), xp.shape

    def _run_backward(self, cache, d_seq, d_last, d_states, need_dx):
        inner = cache["inner"]
        t_steps, rows, n, f = inner["t"], inner["n"], inner["batch"], self.filters
        if d_seq is not None:
            d_seq = np.ascontiguousarray(d_seq).reshape(t_steps, rows, f)
        if d_last is not None:
            d_last = np.ascontiguousarray(d_last).reshape(rows, f)
        d_states = [np.array(g).reshape(rows, f) for g in d_states]
        dx, d_init = self._seq_backward(inner, d_seq, d_last, d_states, need_dx)
        return dx, [g.reshape(n, *self._out_spatial, f) for g in d_init]

    # The LSTM loop's recurrent product as a convolution of the state, and its adjoint.
    # (With recurrent dropout each gate convolves its own masked state: four patch matrices.)
    def _recurrent_product(self, cache, rec):
        n, out, f, hpatch, masks = (cache["batch"], self._out_spatial, self.filters, cache["hpatch"],
                                    cache["rmasks"])
        ones = (1,) * self.rank

        def patches(h):
            return extract_patches(pad_spatial(h.reshape(n, *out, f), self._rec_pads), self.kernel_size,
                                   ones, ones, out)

        def product(hp, result, t):
            if masks is None:
                hpatch[0, t] = patches(hp)
                np.matmul(hpatch[0, t], rec, out=result)
                return
            for j, mask in enumerate(masks):
                hpatch[j, t] = patches(hp * mask)
                result[:, j * f:(j + 1) * f] = hpatch[j, t] @ rec[:, j * f:(j + 1) * f]
        return product

    def _recurrent_product_t(self, cache, rec):
        n, out, f, rows, masks = cache["batch"], self._out_spatial, self.filters, cache["n"], cache["rmasks"]
        ones = (1,) * self.rank
        kernel = rec.reshape(*self.kernel_size, f, 4 * f)
        padded_shape = (n, *(o + a + b for o, (a, b) in zip(out, self._rec_pads)), f)

        def col2im(dz, k):
            grad = gemm_col2im(dz, k, padded_shape, ones, ones, out)
            return np.ascontiguousarray(crop_spatial(grad, self._rec_pads)).reshape(rows, f)

        def adjoint(dz_t, t):
            if masks is None:
                return col2im(dz_t, kernel)
            total = np.zeros((rows, f), dtype=dz_t.dtype)
            for j, mask in enumerate(masks):
                sl = slice(j * f, (j + 1) * f)
                total += col2im(np.ascontiguousarray(dz_t[:, sl]), np.ascontiguousarray(kernel[..., sl])) * mask
            return total
        return adjoint

    def _recurrent_grad(self, cache, h_prev, drz):
        t_steps, rows, f, hpatch = cache["t"], cache["n"], self.filters, cache["hpatch"]
        drz2 = drz.reshape(t_steps * rows, -1)
        if cache["rmasks"] is None:
            return hpatch[0].reshape(t_steps * rows, -1).T @ drz2
        out = np.empty((hpatch.shape[-1], 4 * f), dtype=drz.dtype)
        for j in range(4):
            out[:, j * f:(j + 1) * f] = hpatch[j].reshape(t_steps * rows, -1).T @ drz2[:, j * f:(j + 1) * f]
        return out

    def _kernel_grad(self, cache, dz2):
        patches, f = cache["x2"], self.filters
        if not isinstance(patches, list):
            return patches.T @ dz2
        out = np.empty((patches[0].shape[1], 4 * f), dtype=dz2.dtype)
        for j, p in enumerate(patches):
            out[:, j * f:(j + 1) * f] = p.T @ dz2[:, j * f:(j + 1) * f]
        return out

    def _input_grad(self, cache, dz2):
        padded_shape, f, masks = cache["padded_shape"], self.filters, cache["dmask"]
        kernel = cache["kernel"].reshape(*self.kernel_size, padded_shape[-1], 4 * f)

        def col2im(dz, k):
            grad = gemm_col2im(dz, k, padded_shape, self.strides, self.dilation_rate, self._out_spatial)
            dx = np.ascontiguousarray(crop_spatial(grad, self._pads))
            return dx.reshape(cache["t"], cache["batch"], *dx.shape[1:])

        if masks is None:
            return col2im(dz2, kernel)
        total = None
        for j, mask in enumerate(masks):
            sl = slice(j * f, (j + 1) * f)
            part = col2im(np.ascontiguousarray(dz2[:, sl]), np.ascontiguousarray(kernel[..., sl]))
            part *= mask
            total = part if total is None else total + part
        return total

    # -- config ----------------------------------------------------------------
    def get_config(self):
        cell = self._cell_config()
        del cell["units"]  # ``filters`` here
        return {
            **super(_RNN, self).get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            **cell,
            "unit_forget_bias": self.unit_forget_bias,
            "activity_regularizer": _REG(self.activity_regularizer),
            **self._layer_config(),
        }


_DOC = """
    Parameters
    ----------
    filters : int
        Number of output channels (of each of the four gates).
    kernel_size : int or tuple of {rank} ints
    strides : int or tuple of {rank} ints, default=1
        Strides of the input convolution (the recurrent one has stride 1).
        Cannot exceed 1 together with ``dilation_rate``.
    padding : {{"valid", "same"}}, default="valid"
        Padding of the input convolution (the recurrent one is "same").
    data_format : {{"channels_last", "channels_first", None}}, default=None
        ``"channels_first"`` takes inputs ``{first}`` and gives outputs and
        states ``(batch, filters, *output_spatial)``; None means channels_last.
    dilation_rate : int or tuple of {rank} ints, default=1
    activation : str or Activation, default="tanh"
    recurrent_activation : str or Activation, default="sigmoid"
    use_bias : bool, default=True
    kernel_initializer, recurrent_initializer, bias_initializer : default "glorot_uniform", "orthogonal", "zeros"
    unit_forget_bias : bool, default=True
        Initialize the forget-gate bias to one.
    kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer : optional
    kernel_constraint, recurrent_constraint, bias_constraint : optional
    dropout, recurrent_dropout : float, default=0.0
        Fractions of the input / state values dropped (one mask per sample, fixed over time).
    seed : int, optional
        Seed of the dropout masks.
    return_sequences, return_state, go_backwards, stateful : bool, default=False
        As in :class:`LSTM`.
    **kwargs
        Layer arguments (``name``, ``dtype``, ...) and, as in Keras, ``unroll``
        (ignored) and ``zero_output_for_mask``.

    Notes
    -----
    Inputs ``{inputs}``; the output of a timestep and the states ``h``, ``c`` are
    ``(batch, *output_spatial, filters)`` (with a time axis after the batch for
    ``return_sequences``).
"""


@LAYERS.register
class ConvLSTM2D(_ConvLSTM):
    """2-D convolutional LSTM over sequences of images.
    {doc}
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ConvLSTM2D
    >>> x = np.zeros((2, 5, 8, 8, 3))  # (batch, time, height, width, channels)
    >>> ConvLSTM2D(4, 3, padding="same")(x).shape
    (2, 8, 8, 4)
    >>> ConvLSTM2D(4, 3, return_sequences=True)(x).shape
    (2, 5, 6, 6, 4)
    """

    rank = 2


@LAYERS.register
class ConvLSTM1D(_ConvLSTM):
    """1-D convolutional LSTM over sequences of 1-D signals.
    {doc}
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ConvLSTM1D
    >>> ConvLSTM1D(4, 3)(np.zeros((2, 5, 10, 3))).shape  # (batch, time, steps, channels)
    (2, 8, 4)
    """

    rank = 1


@LAYERS.register
class ConvLSTM3D(_ConvLSTM):
    """3-D convolutional LSTM over sequences of volumes.
    {doc}
    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ConvLSTM3D
    >>> ConvLSTM3D(2, 3, padding="same")(np.zeros((1, 3, 4, 4, 4, 1))).shape
    (1, 4, 4, 4, 2)
    """

    rank = 3


for _cls in (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D):
    _cls.__doc__ = _cls.__doc__.replace(
        "    {doc}\n", _DOC.format(rank=_cls.rank, inputs=_INPUT_KINDS[_cls.rank],
                                           first=_FIRST_KINDS[_cls.rank]).lstrip("\n"))
del _cls
