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
behaves as in the other recurrent layers. Differences from Keras 3: only
``data_format="channels_last"``; ``dropout`` / ``recurrent_dropout`` draw one
mask per sample (fixed over the timesteps, as Keras) shared by the four gates,
where Keras draws one per gate.
"""

from __future__ import annotations

import math

import numpy as np

from .. import activations as _activations
from .. import constraints as _constraints
from .. import initializers as _initializers
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

_INIT = _initializers.serialize
_REG = _regularizers.serialize
_CON = _constraints.serialize
_INPUT_KINDS = {
    1: "(batch, time, steps, channels)",
    2: "(batch, time, height, width, channels)",
    3: "(batch, time, depth, height, width, channels)",
}


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
        super().__init__(**kwargs)
        owner, rank = type(self).__name__, self.rank
        self.filters = check_positive_int(filters, "filters", owner)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, rank, "strides", owner)
        self.padding = normalize_padding(padding, owner)
        self.data_format = check_data_format(data_format, owner)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"The 'strides' and 'dilation_rate' parameters of {owner} cannot both exceed 1. "
                f"Got strides={self.strides} and dilation_rate={self.dilation_rate} instead."
            )
        self._init_rnn(self.filters, activation, recurrent_activation, use_bias, kernel_initializer,
                       recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                       bias_regularizer, activity_regularizer, kernel_constraint, recurrent_constraint,
                       bias_constraint, dropout, recurrent_dropout, seed, return_sequences, return_state,
                       go_backwards, stateful, False, False)
        self.unit_forget_bias = bool(unit_forget_bias)
        self._out_spatial = None

    # -- shapes ----------------------------------------------------------------
    def _check_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 3 or None in input_shape[2:]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of shape {_INPUT_KINDS[self.rank]} "
                f"with defined spatial and channel dimensions. Got input shape {input_shape} instead."
            )
        return input_shape

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
        dmask = rmask = None
        if training and 0.0 < self.dropout < 1.0:
            dmask = self._dropout_mask(xt.shape[1:], self.dropout, dtype)
            xt = xt * dmask
        xp = pad_spatial(np.ascontiguousarray(xt, dtype=dtype).reshape(t_steps * n, *xt.shape[2:]), self._pads)
        patches = extract_patches(xp, self.kernel_size, self.strides, self.dilation_rate, out)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            rmask = self._dropout_mask((rows, f), self.recurrent_dropout, dtype)
        w = self._weights()
        z = patches @ w.get("kernel_fw", w["kernel"])
        if w["bias_in"] is not None:
            z += w["bias_in"]
        z = z.reshape(t_steps, rows, 4 * f)
        if keep is not None:  # one mask row per (sample, output position)
            keep = np.repeat(keep.reshape(t_steps, n, 1), rows // n, axis=1)
            notm = ~keep
        taps = math.prod(self.kernel_size)
        cache = {"x2": patches, "z": z, "dmask": dmask, "rmask": rmask, "keep": keep, "notm": notm,
                 "n": rows, "t": t_steps, "d": patches.shape[1], "batch": n, "padded_shape": xp.shape,
                 "kernel": w["kernel"], "recurrent": w["recurrent"], "bias_rec": None,
                 "recurrent_fw": w.get("recurrent_fw", w["recurrent"]),
                 "hpatch": np.empty((t_steps, rows, taps * f), dtype=dtype)}
        h_all = self._loop(cache, [np.asarray(s, dtype=dtype).reshape(rows, f) for s in states])
        seq = h_all[1:].reshape(t_steps, n, *out, f)
        finals = [s.reshape(n, *out, f) for s in self._final_states(cache)]
        return seq, finals, {"inner": cache}

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
    def _recurrent_product(self, cache, rec):
        n, out, f, hpatch = cache["batch"], self._out_spatial, self.filters, cache["hpatch"]
        ones = (1,) * self.rank

        def product(hp, result, t):
            padded = pad_spatial(hp.reshape(n, *out, f), self._rec_pads)
            hpatch[t] = extract_patches(padded, self.kernel_size, ones, ones, out)
            np.matmul(hpatch[t], rec, out=result)
        return product

    def _recurrent_product_t(self, cache, rec):
        n, out, f, rows = cache["batch"], self._out_spatial, self.filters, cache["n"]
        ones = (1,) * self.rank
        kernel = rec.reshape(*self.kernel_size, f, 4 * f)
        padded_shape = (n, *(o + a + b for o, (a, b) in zip(out, self._rec_pads)), f)

        def adjoint(dz_t, t):
            grad = gemm_col2im(dz_t, kernel, padded_shape, ones, ones, out)
            return np.ascontiguousarray(crop_spatial(grad, self._rec_pads)).reshape(rows, f)
        return adjoint

    def _recurrent_grad(self, cache, h_prev, drz):
        t_steps, rows = cache["t"], cache["n"]
        return cache["hpatch"].reshape(t_steps * rows, -1).T @ drz.reshape(t_steps * rows, -1)

    def _input_grad(self, cache, dz2):
        padded_shape = cache["padded_shape"]
        kernel = cache["kernel"].reshape(*self.kernel_size, padded_shape[-1], 4 * self.filters)
        grad = gemm_col2im(dz2, kernel, padded_shape, self.strides, self.dilation_rate, self._out_spatial)
        dx = np.ascontiguousarray(crop_spatial(grad, self._pads))
        dx = dx.reshape(cache["t"], cache["batch"], *dx.shape[1:])
        if cache["dmask"] is not None:
            dx *= cache["dmask"]
        return dx

    # -- config ----------------------------------------------------------------
    def get_config(self):
        return {
            **super(_RNN, self).get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": _activations.serialize(self.activation),
            "recurrent_activation": _activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _INIT(self.kernel_initializer),
            "recurrent_initializer": _INIT(self.recurrent_initializer),
            "bias_initializer": _INIT(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": _REG(self.kernel_regularizer),
            "recurrent_regularizer": _REG(self.recurrent_regularizer),
            "bias_regularizer": _REG(self.bias_regularizer),
            "activity_regularizer": _REG(self.activity_regularizer),
            "kernel_constraint": _CON(self.kernel_constraint),
            "recurrent_constraint": _CON(self.recurrent_constraint),
            "bias_constraint": _CON(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
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
    data_format : {{"channels_last", None}}, default=None
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
        "    {doc}\n", _DOC.format(rank=_cls.rank, inputs=_INPUT_KINDS[_cls.rank]).lstrip("\n"))
del _cls
