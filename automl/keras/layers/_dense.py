"""Dense: ``activation(inputs @ kernel + bias)`` over the last axis (the fused kernel
:func:`automl.keras.ops.kernels.dense`, forward and backward)."""

from __future__ import annotations

from .. import activations as _activations
from ..ops import kernels
from ._base import LAYERS, Layer, check_positive_int
from ._weight_spec import WeightOptions

__all__ = ["Dense"]

_WEIGHTS = WeightOptions("kernel", "bias", activity_regularizer=True)


@LAYERS.register
class Dense(Layer):
    """Densely connected layer.

    Parameters
    ----------
    units : int
        Dimensionality of the output.
    activation : str or Activation, default=None
        Activation applied to the output (linear when None).
    use_bias : bool, default=True
    kernel_initializer, bias_initializer : str or Initializer
        Defaults ``"glorot_uniform"`` and ``"zeros"``.
    kernel_regularizer, bias_regularizer, activity_regularizer : Regularizer, optional
    kernel_constraint, bias_constraint : optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Dense
    >>> layer = Dense(3, activation="relu", kernel_initializer="ones")
    >>> layer(np.ones((2, 4))).tolist()
    [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]
    """

    _cache_attrs = ("_saved", "activity_penalty")
    #: Keras semantics: the input mask (e.g. of timesteps) passes through unchanged.
    supports_masking = True

    def __init__(
        self,
        units,
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
        self.units = check_positive_int(units, "units", "Dense")
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)
        _WEIGHTS.resolve(self, locals())
        self.kernel = self.bias = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"The last dimension of the inputs to Dense {self.name!r} must be defined. "
                f"Got input shape {tuple(input_shape)} instead."
            )
        self.kernel = _WEIGHTS.add_weight(self, "kernel", (input_shape[-1], self.units))
        if self.use_bias:
            self.bias = _WEIGHTS.add_weight(self, "bias", (self.units,))

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def call(self, inputs, training=False):
        bias = self.bias.value if self.use_bias else None
        y, self._saved = kernels.dense_forward(inputs, self.kernel.value, bias, self.activation)
        if self.activity_regularizer is not None:
            self.activity_penalty = self.activity_regularizer(self._saved.y)
        return y

    def _needs(self):
        return (self._input_grad_needed, self._trainable, self._trainable and self.use_bias)

    def _into(self):
        return (None, self.kernel.grad, self.bias.grad if self.use_bias else None)

    def backward(self, grad):
        saved = self._saved
        if self.activity_regularizer is not None:
            grad = grad.reshape(saved.y.shape).copy()
            self.activity_regularizer.add_gradient(saved.y, grad)
        grad = grad.reshape(saved.y.shape)
        if saved.act is not None:  # the kernel's own step (dense_backward = this + from_logits)
            grad = saved.act.backward(grad, saved.y, saved.z)
        return self.backward_from_logits(grad)

    def backward_from_logits(self, grad_z):
        """Backward from the gradient w.r.t. the pre-activation output (fused losses)."""
        return kernels.dense_backward_from_logits(grad_z, self._saved, self._needs(), self._into())[0]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **_WEIGHTS.config(self),
        }
