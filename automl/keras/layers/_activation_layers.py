"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from __future__ import annotations

import warnings

import numpy as np

from ..._validation import Interval, check_param, param_error
from .. import activations as _activations
from ._base import LAYERS, Layer
from ._weight_spec import WeightOptions

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]

_ALPHA = WeightOptions("alpha")

_NON_NEGATIVE = Interval(float, 0, None)


class _ActivationLayer(Layer):
    """A weightless layer applying ``self.activation`` (an :class:`~automl.keras.activations.Activation`).

    ``call`` keeps the output and, when the activation's backward needs it,
    a reference to the input (the engine never modifies a layer's input in
    place). Exposing ``activation`` and ``backward_from_logits`` lets a model
    fuse a final ``Softmax()`` with a cross-entropy loss, as it does for
    ``Dense(..., activation="softmax")``.
    """

    _cache_attrs = ("_y", "_z")
    activation: _activations.Activation
    supports_masking = True  # the input mask passes through (Keras)

    def call(self, inputs, training=False):
        act = self.activation
        self._z = inputs if act.needs_input else None
        self._y = act.forward(inputs.copy())
        return self._y

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        return self.activation.backward(grad.copy(), self._y, self._z)

    def backward_from_logits(self, grad_z):
        """Backward from the gradient w.r.t. the pre-activation input (fused losses)."""
        return grad_z


@LAYERS.register
class ReLU(_ActivationLayer):
    """Rectified linear unit layer, with an optional cap, slope and threshold.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for
    ``threshold < x < max_value`` and ``negative_slope * (x - threshold)``
    otherwise (see :func:`automl.keras.activations.relu`).

    Parameters
    ----------
    max_value : float, optional
        Maximum activation (>= 0); unbounded when None.
    negative_slope : float, default=0.0
        Slope below the threshold (>= 0).
    threshold : float, default=0.0
        Threshold of the activation (>= 0).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ReLU
    >>> ReLU(max_value=10, negative_slope=0.5)(np.array([[-10.0, -5.0, 0.0, 5.0, 20.0]])).tolist()
    [[-5.0, -2.5, 0.0, 5.0, 10.0]]
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        check_param("max_value", max_value, [None, _NON_NEGATIVE], "ReLU")
        check_param("negative_slope", negative_slope, [_NON_NEGATIVE], "ReLU")
        check_param("threshold", threshold, [_NON_NEGATIVE], "ReLU")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        if max_value is None and negative_slope == 0 and threshold == 0:
            self.activation = _activations.relu  # the fast parameter-free path
        else:
            self.activation = _activations.relu.with_params(
                negative_slope=negative_slope, max_value=max_value, threshold=threshold
            )

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


@LAYERS.register
class LeakyReLU(_ActivationLayer):
    """Leaky ReLU layer: ``x`` for ``x >= 0``, ``negative_slope * x`` below.

    Parameters
    ----------
    negative_slope : float, default=0.3
        Slope below 0 (>= 0). Keras's deprecated ``alpha`` keyword is accepted
        with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import LeakyReLU
    >>> LeakyReLU(negative_slope=0.5)(np.array([[-10.0, 5.0]])).tolist()
    [[-5.0, 5.0]]
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "The 'alpha' argument of LeakyReLU is deprecated; use 'negative_slope' instead.",
                UserWarning,
                stacklevel=2,
            )
        super().__init__(**kwargs)
        check_param("negative_slope", negative_slope, [_NON_NEGATIVE], "LeakyReLU")
        self.negative_slope = negative_slope
        self.activation = _activations.leaky_relu.with_params(negative_slope=negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


@LAYERS.register
class ELU(_ActivationLayer):
    """Exponential linear unit layer: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Parameters
    ----------
    alpha : float, default=1.0
        Scale of the negative part.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import ELU
    >>> ELU(alpha=2.0)(np.array([[-1.0, 3.0]])).astype(float).round(3).tolist()
    [[-1.264, 3.0]]
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.elu.with_params(alpha=alpha)
        self.alpha = alpha

    def get_config(self):
        # Keras's ELU leaves alpha out of its config (so it is lost on reload); it is kept here.
        return {**super().get_config(), "alpha": self.alpha}


@LAYERS.register
class Softmax(_ActivationLayer):
    """Softmax layer: ``exp(x) / sum(exp(x))`` along ``axis``.

    Parameters
    ----------
    axis : int or list of int, default=-1
        Axis (axes) along which the normalization is applied.

    Notes
    -----
    ``call`` takes Keras's optional boolean ``mask`` (True = keep): a large
    negative number (``-1e9``, ``-3e4`` in float16) is added to the masked
    entries before the softmax, so they get (almost) zero probability. The
    mask has the shape of the inputs; a mask with fewer axes (the
    ``(batch, timesteps)`` mask a model passes along) covers the leading axes
    and is broadcast over the others. The added constant does not depend on
    the inputs, so the backward pass is the softmax's.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Softmax
    >>> Softmax()(np.array([[1.0, 2.0, 1.0]])).astype(float).round(4).tolist()
    [[0.2119, 0.5761, 0.2119]]
    >>> mask = np.array([[True, True, False]])
    >>> Softmax()(np.array([[1.0, 1.0, 5.0]]), mask=mask).astype(float).round(4).tolist()
    [[0.5, 0.5, 0.0]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.softmax.with_params(axis=axis)
        if self.activation.axis == -1:
            self.activation = _activations.softmax  # the registered one, so losses can fuse
        self.axis = list(axis) if isinstance(axis, tuple) else axis

    def call(self, inputs, training=False, mask=None):
        if mask is None:
            return super().call(inputs, training)
        act = self.activation
        shifted = inputs + _mask_adder(mask, inputs)
        self._z = shifted.copy() if act.needs_input else None
        self._y = act.forward(shifted)
        return self._y

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _mask_adder(mask, inputs):
    """``0`` where ``mask`` keeps an entry, a large negative number elsewhere (Keras's values)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim < inputs.ndim and mask.shape == inputs.shape[: mask.ndim]:
        mask = mask.reshape(mask.shape + (1,) * (inputs.ndim - mask.ndim))
    try:
        np.broadcast_shapes(mask.shape, inputs.shape)
    except ValueError:
        raise ValueError(
            f"The 'mask' argument of Softmax must have the shape of the inputs {inputs.shape} "
            f"(or of their leading axes). Got a mask of shape {mask.shape} instead."
        ) from None
    large_negative = -3e4 if inputs.dtype == np.float16 else -1e9
    return np.where(mask, 0.0, large_negative).astype(inputs.dtype, copy=False)


@LAYERS.register
class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` below, with a learned ``alpha``.

    ``alpha`` has the shape of one sample, except along ``shared_axes``
    where it has size 1 (one value shared across those axes).

    Parameters
    ----------
    alpha_initializer : str or Initializer, default="Zeros"
    alpha_regularizer : Regularizer, optional
    alpha_constraint : Constraint, optional
    shared_axes : int or list of int, optional
        Axes (1 = the first axis after the batch) along which ``alpha`` is
        shared; ``[1, 2]`` shares it over the spatial axes of image feature maps.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import PReLU
    >>> layer = PReLU(alpha_initializer="constant")  # Constant(0.0)
    >>> layer(np.array([[-2.0, 3.0]])).tolist()
    [[0.0, 3.0]]
    >>> layer.alpha.shape
    (2,)
    """

    _cache_attrs = ("_neg",)
    supports_masking = True

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _ALPHA.resolve(self, locals())
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not axes or not all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 1 for a in axes
            ):
                raise param_error(
                    "shared_axes", "PReLU", "None, an int >= 1 or a list of ints >= 1", shared_axes
                )
            self.shared_axes = [int(a) for a in axes]
        self.alpha = None

    def build(self, input_shape):
        ndim = len(input_shape)
        shared = set(self.shared_axes or ())
        if any(a >= ndim for a in shared):
            raise ValueError(
                f"The 'shared_axes' parameter of PReLU must name axes of the inputs (1 to "
                f"{ndim - 1} for inputs of shape {tuple(input_shape)}). "
                f"Got {self.shared_axes!r} instead."
            )
        param_shape = tuple(1 if i in shared else d for i, d in enumerate(input_shape) if i > 0)
        if any(d is None for d in param_shape):
            raise ValueError(
                f"The inputs to PReLU {self.name!r} must have defined dimensions outside "
                f"'shared_axes'. Got input shape {tuple(input_shape)} with shared_axes="
                f"{self.shared_axes!r}."
            )
        self.alpha = _ALPHA.add_weight(self, "alpha", param_shape)
        self._reduce_axes = (0, *sorted(shared))

    def call(self, inputs, training=False):
        neg = np.minimum(inputs, 0)
        y = np.maximum(inputs, 0)
        y += neg * self.alpha.value
        self._neg = neg
        return y

    def backward(self, grad):
        neg = self._neg
        alpha = self.alpha
        if self._trainable:
            alpha.grad[...] = (grad * neg).sum(axis=self._reduce_axes, keepdims=True)[0]
        if not self._input_grad_needed:
            return None
        factor = (neg < 0) * (alpha.value - 1.0)  # alpha below 0, 1 above
        factor += 1.0
        factor *= grad
        return factor

    def get_config(self):
        return {
            **super().get_config(),
            **_ALPHA.config(self),
            "shared_axes": self.shared_axes,
        }
