"""Small core layers: Activation, Dropout, Flatten, Identity, ActivityRegularization."""

from __future__ import annotations

import math

import numpy as np

from ..._validation import Interval, check_param
from .. import activations as _activations
from .. import regularizers as _regularizers
from ..backend import make_rng
from ..ops import kernels
from ._base import LAYERS, Layer

__all__ = ["Activation", "ActivityRegularization", "Dropout", "Flatten", "Identity"]


def dropout_config(layer) -> dict:
    """The ``rate``, ``noise_shape`` and ``seed`` of a dropout layer, as its config holds them."""
    noise_shape = None if layer.noise_shape is None else list(layer.noise_shape)
    return {"rate": layer.rate, "noise_shape": noise_shape, "seed": layer.seed}


@LAYERS.register
class Activation(Layer):
    """Applies an activation function to its input.

    >>> from automl.keras.layers import Activation
    >>> Activation("relu")([[-1.0, 3.0]]).tolist()
    [[0.0, 3.0]]
    """

    _cache_attrs = ("_z", "_y")
    supports_masking = True  # the input mask passes through (Keras)

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)

    def call(self, inputs, training=False):
        act = self.activation
        self._z = inputs.copy() if act.needs_input else None
        self._y = act.forward(inputs.copy())
        return self._y

    def backward(self, grad):
        return self.activation.backward(grad.copy(), self._y, self._z)

    def backward_from_logits(self, grad_z):
        return grad_z

    def get_config(self):
        return {**super().get_config(), "activation": _activations.serialize(self.activation)}


@LAYERS.register
class Dropout(Layer):
    """Sets a fraction ``rate`` of inputs to 0 during training, scaling the rest by 1/(1-rate).

    Parameters
    ----------
    rate : float
        Fraction of the inputs to drop, in [0, 1).
    noise_shape : tuple, optional
        Shape of the binary mask, broadcast to the input (``None`` entries follow the input).
    seed : int, optional
        Seed of this layer's random generator.
    """

    _cache_attrs = ("_mask",)
    supports_masking = True  # the input mask passes through (Keras); so do SpatialDropout1D/2D

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(check_param("rate", rate, [Interval(float, 0, 1, closed="left")], "Dropout"))
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            self._mask = None
            return inputs
        if self._rng is None:
            self._rng = make_rng(self.seed)
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = self._rng.random(shape, dtype=np.float32) >= self.rate
        out, self._mask = kernels.dropout_forward(inputs, keep, self.rate)
        return out

    def backward(self, grad):
        return grad if self._mask is None else kernels.dropout_backward(grad, self._mask, (True,))[0]

    def get_config(self):
        return {**super().get_config(), **dropout_config(self)}


@LAYERS.register
class Flatten(Layer):
    """Flattens every sample to one dimension (``data_format`` channels_last only)."""

    _cache_attrs = ("_in_shape",)

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def call(self, inputs, training=False):
        self._in_shape = inputs.shape
        return inputs.reshape(inputs.shape[0], -1)

    def backward(self, grad):
        return grad.reshape(self._in_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


@LAYERS.register
class Identity(Layer):
    """Returns its input unchanged (a placeholder, e.g. for an optional block).

    >>> from automl.keras.layers import Identity
    >>> Identity()([[1.0, 2.0]]).tolist()
    [[1.0, 2.0]]
    """

    supports_masking = True

    def call(self, inputs, training=False):
        return inputs

    def backward(self, grad):
        return grad if self._input_grad_needed else None


@LAYERS.register
class ActivityRegularization(Layer):
    """Returns its input unchanged and adds ``l1 * sum(|x|) + l2 * sum(x**2)`` to the loss.

    As in Keras 3, the penalty is taken over the whole batch (it is not divided
    by the batch size); the model adds it to the training loss and its gradient
    ``l1 * sign(x) + 2 * l2 * x`` to the input gradient.

    Parameters
    ----------
    l1 : float, default=0.0
        L1 regularization factor (non-negative).
    l2 : float, default=0.0
        L2 regularization factor (non-negative).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ActivityRegularization
    >>> layer = ActivityRegularization(l1=0.1)
    >>> layer(np.array([[1.0, -2.0]]), training=True).tolist()
    [[1.0, -2.0]]
    >>> round(float(layer.activity_penalty), 6)
    0.3
    """

    _cache_attrs = ("_x", "activity_penalty")
    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        owner = "ActivityRegularization"
        self.l1 = float(check_param("l1", l1, [Interval(float, 0, None)], owner))
        self.l2 = float(check_param("l2", l2, [Interval(float, 0, None)], owner))
        #: The model collects layers with an ``activity_regularizer`` and adds their penalty.
        self.activity_regularizer = _regularizers.L1L2(l1=self.l1, l2=self.l2)
        self._x = None

    def call(self, inputs, training=False):
        self._x = inputs
        self.activity_penalty = self.activity_regularizer(inputs)
        return inputs

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        grad = np.array(grad, dtype=self._x.dtype)
        self.activity_regularizer.add_gradient(self._x, grad)
        return grad

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
