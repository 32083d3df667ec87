"""Dense: ``activation(inputs @ kernel + bias)`` over the last axis."""

from __future__ import annotations

import numpy as np

from .. import activations as _activations
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

    _cache_attrs = ("_x", "_y", "_z", "_in_shape", "activity_penalty", "_ones")
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
        x2 = inputs.reshape(-1, inputs.shape[-1])
        z = x2 @ self.kernel.value
        if self.use_bias:
            z += self.bias.value
        act = self.activation
        self._z = z.copy() if act.needs_input else None
        y = act.forward(z)
        self._x, self._y, self._in_shape = x2, y, inputs.shape
        if self.activity_regularizer is not None:
            self.activity_penalty = self.activity_regularizer(y)
        return y.reshape(*inputs.shape[:-1], self.units)

    def backward(self, grad):
        grad = grad.reshape(self._y.shape)
        if self.activity_regularizer is not None:
            grad = grad.copy()
            self.activity_regularizer.add_gradient(self._y, grad)
        grad_z = self.activation.backward(grad, self._y, self._z)
        return self.backward_from_logits(grad_z)

    def backward_from_logits(self, grad_z):
        """Backward from the gradient w.r.t. the pre-activation output (fused losses)."""
        grad_z = grad_z.reshape(self._y.shape)
        if self._trainable:
            np.matmul(self._x.T, grad_z, out=self.kernel.grad)
            if self.use_bias:
                # A matrix-vector product with ones: a few times faster than a
                # column sum on the small batches of training.
                ones = getattr(self, "_ones", None)
                if ones is None or ones.shape[0] != grad_z.shape[0] or ones.dtype != grad_z.dtype:
                    ones = self._ones = np.ones(grad_z.shape[0], grad_z.dtype)
                np.matmul(ones, grad_z, out=self.bias.grad)
        if not self._input_grad_needed:
            return None
        return (grad_z @ self.kernel.value.T).reshape(self._in_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **_WEIGHTS.config(self),
        }
