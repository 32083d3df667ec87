"""BatchNormalization, LayerNormalization, GroupNormalization and UnitNormalization.

Both normalize ``x`` to ``x_hat = (x - mean) / sqrt(var + epsilon)`` and
return ``gamma * x_hat + beta``. BatchNormalization takes the statistics over
every axis but ``axis`` (the batch statistics in training, the moving ones in
inference); LayerNormalization takes them over ``axis`` for each sample.

With ``g = dL/dy * gamma`` and means taken over the ``m`` normalized entries,
the input gradient through the batch statistics is::

    dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + epsilon)

With a mask ``m`` (BatchNormalization in training, as Keras), the statistics
are weighted by ``m``: ``mean = sum(m x) / c`` and ``var = sum(m (x - mean)**2) / c``
with ``c = sum(m) + backend.epsilon()``; with ``s = mean * backend.epsilon() / c / sqrt(var + epsilon)``
(the tiny effect of the epsilon in ``c``) the input gradient becomes::

    dL/dx = (g - m / c * (sum(g) + sum(g * x_hat) * (x_hat - s))) * gamma / sqrt(var + epsilon)

GroupNormalization splits the channels into groups and takes the same
statistics per sample and group (the first formula, means over each group's
entries). UnitNormalization returns ``y = x * r`` with
``r = 1 / sqrt(max(sum(x**2), 1e-12))`` over ``axis``, whose input gradient is
``r * (g - y * sum(g * y))`` (just ``r * g`` where the floor is active).
"""

from __future__ import annotations

import numpy as np

from ..._registry import Registry
from ..._validation import Interval, check_param, param_error
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..backend import epsilon as _epsilon
from ._base import LAYERS, Layer
from ._weight_spec import WeightOptions

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "UnitNormalization"]

_BETA_AND_GAMMA = WeightOptions("beta", "gamma")


def _check_axis(axis, ndim, owner, input_shape):
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"The 'axis' parameter of {owner} must be an axis of the inputs, in the range "
            f"[{-ndim}, {ndim}). Got {axis!r} instead for input shape {tuple(input_shape)}."
        )
    return axis % ndim


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _axis_list(axis, owner):
    if isinstance(axis, (list, tuple)) and axis and all(_is_int(a) for a in axis):
        return [int(a) for a in axis]
    if _is_int(axis):
        return int(axis)
    raise TypeError(
        f"The 'axis' parameter of {owner} must be an int or a non-empty list of ints. "
        f"Got {axis!r} instead."
    )


@LAYERS.register
class BatchNormalization(Layer):
    """Normalizes its inputs with batch statistics in training, moving statistics in inference.

    In training (``training=True`` and a trainable layer) the output is
    ``gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta`` with the mean and
    (biased) variance of the batch, taken over every axis but ``axis``; each such
    call also updates, in place::

        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_variance = moving_variance * momentum + var * (1 - momentum)

    In inference, and whenever the layer is frozen (``trainable=False``, as in
    Keras), the moving statistics replace the batch ones.

    ``call`` takes Keras's optional ``mask`` (one axis less than the inputs,
    True = keep, e.g. the ``(batch, timesteps)`` mask of padded sequences): the
    batch statistics are then taken over the kept entries only (Keras's
    weighted moments, with ``backend.epsilon()`` added to the count); the mask
    is passed on to the next layer. (With ``axis`` other than the last one,
    Keras divides by the number of kept steps instead of kept entries; here
    the statistics stay the mean and variance of the kept entries.)

    Parameters
    ----------
    axis : int, default=-1
        The features axis (one ``gamma``/``beta`` entry per index along it).
    momentum : float, default=0.99
        Momentum of the moving averages, in [0, 1].
    epsilon : float, default=0.001
        Added to the variance before the square root.
    center : bool, default=True
        Whether to add the trainable offset ``beta``.
    scale : bool, default=True
        Whether to multiply by the trainable scale ``gamma``.
    beta_initializer, gamma_initializer : str or Initializer
        Defaults ``"zeros"`` and ``"ones"``.
    moving_mean_initializer, moving_variance_initializer : str or Initializer
        Defaults ``"zeros"`` and ``"ones"``.
    beta_regularizer, gamma_regularizer : Regularizer, optional
    beta_constraint, gamma_constraint : callable, optional
        Applied to the weight after each optimizer step.
    synchronized : bool, default=False
        Cross-device statistics; only ``False`` is supported (as with Keras's
        non-TensorFlow backends).

    Attributes
    ----------
    gamma, beta, moving_mean, moving_variance : Variable
        The weights, in this order (``gamma``/``beta`` only when ``scale``/``center``);
        the moving statistics are non-trainable.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import BatchNormalization
    >>> layer = BatchNormalization(momentum=0.5)
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> y = layer(x, training=True)
    >>> bool(np.allclose(y.mean(axis=0), 0.0))
    True
    >>> layer.moving_mean.numpy().tolist()
    [1.0, 10.0]
    >>> [w.shape for w in layer.get_weights()]
    [(2,), (2,), (2,), (2,)]
    """

    _cache_attrs = ("_xhat", "_inv", "_batch_stats", "_masked")
    supports_masking = True

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=0.001,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = "BatchNormalization"
        if not _is_int(axis):
            raise param_error("axis", owner, "an int", axis, TypeError)
        self.axis = int(axis)
        self.momentum = float(check_param("momentum", momentum, [Interval(float, 0, 1)], owner))
        self.epsilon = float(check_param("epsilon", epsilon, [Interval(float, 0, None)], owner))
        if synchronized:
            raise ValueError(
                "The 'synchronized' parameter of BatchNormalization must be False: synchronized "
                "statistics are only supported with the TensorFlow backend. Got True instead."
            )
        self.synchronized = False
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.moving_mean_initializer = _initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = _initializers.get(moving_variance_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        axis = _check_axis(self.axis, ndim, "BatchNormalization", input_shape)
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of the inputs to BatchNormalization {self.name!r} must have a "
                f"defined size. Got input shape {input_shape} instead."
            )
        shape = (dim,)
        if self.scale:
            self.gamma = _BETA_AND_GAMMA.add_weight(self, "gamma", shape)
        if self.center:
            self.beta = _BETA_AND_GAMMA.add_weight(self, "beta", shape)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer, "moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer,
                                               "moving_variance", trainable=False)
        self._reduction_axes = tuple(i for i in range(ndim) if i != axis)
        self._param_shape = tuple(dim if i == axis else 1 for i in range(ndim))

    def call(self, inputs, training=False, mask=None):
        if inputs.ndim != len(self._param_shape):
            raise ValueError(
                f"BatchNormalization {self.name!r} was built for inputs of rank "
                f"{len(self._param_shape)}. Got an input of shape {inputs.shape} instead."
            )
        red, pshape = self._reduction_axes, self._param_shape
        batch_stats = bool(training) and self.trainable
        self._masked = None
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != inputs.shape[:-1]:
                raise ValueError(
                    f"The mask of BatchNormalization {self.name!r} must have one axis less than "
                    f"the inputs (shape {inputs.shape[:-1]}). Got a mask of shape {mask.shape} "
                    "instead."
                )
        if batch_stats and mask is not None:
            mean, var = self._masked_moments(inputs, mask)
            xhat = inputs - mean.reshape(pshape)
        elif batch_stats:
            mean = inputs.mean(axis=red)
            xhat = inputs - mean.reshape(pshape)
            var = np.square(xhat).mean(axis=red)
        if batch_stats:
            m = self.momentum
            for var_, stat in ((self.moving_mean, mean), (self.moving_variance, var)):
                moving = var_.value
                moving *= m
                moving += stat * (1.0 - m)
        else:
            var = self.moving_variance.value
            xhat = inputs - self.moving_mean.value.reshape(pshape)
        inv = 1.0 / np.sqrt(var + self.epsilon)
        xhat *= inv.reshape(pshape)
        self._xhat, self._inv, self._batch_stats = xhat, inv, batch_stats
        if batch_stats and mask is not None:
            weights, count = self._masked
            shift = (mean * (_epsilon() * inv)).reshape(pshape) / count  # see the module docstring
            self._masked = (weights, count, shift)
        out = xhat * self.gamma.value.reshape(pshape) if self.scale else xhat.copy()
        if self.center:
            out += self.beta.value.reshape(pshape)
        return out

    def _masked_moments(self, inputs, mask):
        """Mean and variance over the kept entries (Keras's weighted moments); keeps the weights."""
        red = self._reduction_axes
        weights = mask.astype(inputs.dtype).reshape(*mask.shape, 1)
        count = weights.sum(axis=red, keepdims=True)
        if inputs.ndim - 1 in red:  # each kept step holds that many entries
            count *= inputs.shape[-1]
        count += _epsilon()
        mean = (inputs * weights).sum(axis=red, keepdims=True) / count
        centered = inputs - mean
        np.square(centered, out=centered)
        centered *= weights
        var = centered.sum(axis=red, keepdims=True) / count
        self._masked = (weights, count)
        return mean.reshape(-1), var.reshape(-1)

    def backward(self, grad):
        red, pshape, xhat = self._reduction_axes, self._param_shape, self._xhat
        grad = grad.reshape(xhat.shape)
        need_sums = self._trainable or self._batch_stats
        dbeta = grad.sum(axis=red) if need_sums else None
        dgamma = (grad * xhat).sum(axis=red) if need_sums else None
        if self._trainable:
            if self.scale:
                self.gamma.grad[...] = dgamma
            if self.center:
                self.beta.grad[...] = dbeta
        if not self._input_grad_needed:
            return None
        factor = self._inv if not self.scale else self._inv * self.gamma.value
        if not self._batch_stats:
            return grad * factor.reshape(pshape)
        if self._masked is not None:
            weights, count, shift = self._masked
            inner = xhat - shift
            inner *= dgamma.reshape(pshape)
            inner += dbeta.reshape(pshape)
            inner *= weights / count
            dx = np.subtract(grad, inner, out=inner)
            dx *= factor.reshape(pshape)
            return dx
        count = xhat.size // self._inv.size
        dx = xhat * (dgamma / count).reshape(pshape)
        np.subtract(grad, dx, out=dx)
        dx -= (dbeta / count).reshape(pshape)
        dx *= factor.reshape(pshape)
        return dx

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": Registry.serialize(self.beta_initializer),
            "gamma_initializer": Registry.serialize(self.gamma_initializer),
            "moving_mean_initializer": Registry.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": Registry.serialize(self.moving_variance_initializer),
            "beta_regularizer": Registry.serialize(self.beta_regularizer),
            "gamma_regularizer": Registry.serialize(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
            "synchronized": self.synchronized,
        }


@LAYERS.register
class LayerNormalization(Layer):
    """Normalizes each sample over ``axis``: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    The mean and (biased) variance are taken per sample over the axes in
    ``axis``; ``gamma`` and ``beta`` span those axes. Training and inference
    behave the same.

    Parameters
    ----------
    axis : int or list of int, default=-1
        The axis or axes to normalize over.
    epsilon : float, default=0.001
        Added to the variance before the square root.
    center : bool, default=True
        Whether to add the trainable offset ``beta``.
    scale : bool, default=True
        Whether to multiply by the trainable scale ``gamma``.
    rms_scaling : bool, default=False
        As in Keras: ignore ``center`` and ``scale`` and return
        ``gamma * x / sqrt(var + epsilon)`` (no centering, no ``beta``).
    beta_initializer, gamma_initializer : str or Initializer
        Defaults ``"zeros"`` and ``"ones"``.
    beta_regularizer, gamma_regularizer : Regularizer, optional
    beta_constraint, gamma_constraint : callable, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import LayerNormalization
    >>> layer = LayerNormalization()
    >>> y = layer(np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 60.0]]))
    >>> bool(np.allclose(y.mean(axis=-1), 0.0))
    True
    >>> [w.shape for w in layer.get_weights()]
    [(3,), (3,)]
    """

    _cache_attrs = ("_x", "_centered", "_xhat", "_inv")
    supports_masking = True  # per-sample statistics: the mask passes through (Keras)

    def __init__(
        self,
        axis=-1,
        epsilon=0.001,
        center=True,
        scale=True,
        rms_scaling=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = "LayerNormalization"
        self.axis = _axis_list(axis, owner)
        self.epsilon = float(check_param("epsilon", epsilon, [Interval(float, 0, None)], owner))
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.gamma = self.beta = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = [_check_axis(a, ndim, "LayerNormalization", input_shape) for a in given]
        if len(set(axes)) != len(axes):
            raise ValueError(
                f"The 'axis' parameter of LayerNormalization must not repeat an axis. "
                f"Got {self.axis!r} instead."
            )
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(
                f"The normalized axes {self.axis!r} of the inputs to LayerNormalization "
                f"{self.name!r} must have defined sizes. Got input shape {input_shape} instead."
            )
        if self.scale or self.rms_scaling:
            self.gamma = _BETA_AND_GAMMA.add_weight(self, "gamma", shape)
        if self.center and not self.rms_scaling:
            self.beta = _BETA_AND_GAMMA.add_weight(self, "beta", shape)
        self._axes = tuple(sorted(axes))
        self._other_axes = tuple(i for i in range(ndim) if i not in axes)
        # gamma/beta are reshaped (not transposed) to broadcast, as Keras does.
        self._param_shape = tuple(input_shape[i] if i in axes else 1 for i in range(ndim))

    def call(self, inputs, training=False):
        axes, pshape = self._axes, self._param_shape
        mean = inputs.mean(axis=axes, keepdims=True)
        centered = inputs - mean
        inv = 1.0 / np.sqrt(np.square(centered).mean(axis=axes, keepdims=True) + self.epsilon)
        gamma = None if self.gamma is None else self.gamma.value.reshape(pshape)
        if self.rms_scaling:
            self._x, self._centered, self._inv, self._xhat = inputs, centered, inv, None
            out = inputs * inv
            if gamma is not None:
                out *= gamma
            return out
        centered *= inv
        self._xhat, self._inv, self._x, self._centered = centered, inv, None, None
        out = centered * gamma if gamma is not None else centered.copy()
        if self.beta is not None:
            out += self.beta.value.reshape(pshape)
        return out

    def backward(self, grad):
        axes, pshape, inv = self._axes, self._param_shape, self._inv
        normalized = self._x * inv if self.rms_scaling else self._xhat
        grad = grad.reshape(normalized.shape)
        if self._trainable:
            if self.gamma is not None:
                dgamma = (grad * normalized).sum(axis=self._other_axes, keepdims=True)
                self.gamma.grad[...] = dgamma.reshape(self.gamma.shape)
            if self.beta is not None:
                self.beta.grad[...] = grad.sum(axis=self._other_axes, keepdims=True).reshape(self.beta.shape)
        if not self._input_grad_needed:
            return None
        h = grad * self.gamma.value.reshape(pshape) if self.gamma is not None else grad.copy()
        if self.rms_scaling:
            # y = x * inv (* gamma), with inv depending on the variance of x.
            coupling = (h * self._x).mean(axis=axes, keepdims=True) * inv ** 3
            h *= inv
            h -= self._centered * coupling
            return h
        xhat = self._xhat
        proj = (h * xhat).mean(axis=axes, keepdims=True)
        h -= h.mean(axis=axes, keepdims=True)
        h -= xhat * proj
        h *= inv
        return h

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": Registry.serialize(self.beta_initializer),
            "gamma_initializer": Registry.serialize(self.gamma_initializer),
            "beta_regularizer": Registry.serialize(self.beta_regularizer),
            "gamma_regularizer": Registry.serialize(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
        }


@LAYERS.register
class GroupNormalization(Layer):
    """Normalizes each sample over groups of channels (Wu & He, 2018).

    The ``C`` channels along ``axis`` are split into ``groups`` groups of
    ``C // groups`` consecutive channels; each sample is normalized with the
    mean and variance of each group, taken over the group's channels and every
    other non-batch axis, then scaled by ``gamma`` and shifted by ``beta``
    (one value per channel). ``groups=1`` is close to LayerNormalization and
    ``groups=-1`` (one group per channel) is instance normalization.

    Parameters
    ----------
    groups : int, default=32
        Number of groups, in ``[1, C]``, dividing ``C``; -1 for ``C`` groups.
    axis : int, default=-1
        The channel axis (not the batch axis).
    epsilon : float, default=1e-3
        Added to the variance.
    center : bool, default=True
        Whether to add the learned offset ``beta``.
    scale : bool, default=True
        Whether to multiply by the learned ``gamma``.
    beta_initializer, gamma_initializer : str or Initializer
        Defaults ``"zeros"`` and ``"ones"``.
    beta_regularizer, gamma_regularizer : Regularizer, optional
    beta_constraint, gamma_constraint : Constraint, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import GroupNormalization
    >>> layer = GroupNormalization(groups=2)
    >>> y = layer(np.arange(8.0).reshape(1, 2, 4))
    >>> y.shape, [w.shape for w in layer.get_weights()]
    ((1, 2, 4), [(4,), (4,)])
    >>> bool(np.allclose(y[..., :2].mean(), 0.0))
    True
    """

    _cache_attrs = ("_xhat", "_inv")
    supports_masking = True  # per-sample statistics: the mask passes through (Keras)

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = "GroupNormalization"
        if not _is_int(groups) or not (groups >= 1 or groups == -1):
            raise param_error("groups", owner, "an int in the range [1, inf) or -1", groups)
        if not _is_int(axis):
            raise param_error("axis", owner, "an int", axis, TypeError)
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = float(check_param("epsilon", epsilon, [Interval(float, 0, None)], owner))
        self.center = bool(center)
        self.scale = bool(scale)
        _BETA_AND_GAMMA.resolve(self, locals())
        self.gamma = self.beta = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        axis = _check_axis(self.axis, ndim, "GroupNormalization", input_shape)
        if axis == 0:
            raise ValueError(
                f"The 'axis' parameter of GroupNormalization must not be the batch axis. "
                f"Got {self.axis!r} instead for input shape {input_shape}."
            )
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of the inputs to GroupNormalization {self.name!r} must have a "
                f"defined size. Got input shape {input_shape} instead."
            )
        groups = dim if self.groups == -1 else self.groups
        if groups > dim or dim % groups:
            raise ValueError(
                f"The number of groups of GroupNormalization {self.name!r} ({groups}) must divide "
                f"the number of channels ({dim}) and not exceed it."
            )
        if self.scale:
            self.gamma = _BETA_AND_GAMMA.add_weight(self, "gamma", (dim,))
        if self.center:
            self.beta = _BETA_AND_GAMMA.add_weight(self, "beta", (dim,))
        # The inputs are viewed as (..., groups, dim // groups, ...) along ``axis``.
        self._split = (axis, groups, dim // groups)
        grouped_ndim = ndim + 1
        self._reduce = tuple(i for i in range(1, grouped_ndim) if i != axis)
        self._param_axes = tuple(i for i in range(grouped_ndim) if i not in (axis, axis + 1))
        self._param_shape = tuple(
            groups if i == axis else dim // groups if i == axis + 1 else 1 for i in range(grouped_ndim)
        )

    def _grouped(self, x):
        axis, groups, size = self._split
        return x.reshape(*x.shape[:axis], groups, size, *x.shape[axis + 1:])

    def call(self, inputs, training=False):
        x = self._grouped(inputs)
        red = self._reduce
        centered = x - x.mean(axis=red, keepdims=True)
        inv = 1.0 / np.sqrt(np.square(centered).mean(axis=red, keepdims=True) + self.epsilon)
        centered *= inv
        self._xhat, self._inv = centered, inv
        out = centered * self.gamma.value.reshape(self._param_shape) if self.scale else centered.copy()
        if self.center:
            out += self.beta.value.reshape(self._param_shape)
        return out.reshape(inputs.shape)

    def backward(self, grad):
        xhat, red = self._xhat, self._reduce
        grad = grad.reshape(xhat.shape)
        if self._trainable:
            if self.scale:
                self.gamma.grad[...] = (grad * xhat).sum(axis=self._param_axes).reshape(-1)
            if self.center:
                self.beta.grad[...] = grad.sum(axis=self._param_axes).reshape(-1)
        if not self._input_grad_needed:
            return None
        h = grad * self.gamma.value.reshape(self._param_shape) if self.scale else grad.copy()
        proj = (h * xhat).mean(axis=red, keepdims=True)
        h -= h.mean(axis=red, keepdims=True)
        h -= xhat * proj
        h *= self._inv
        shape = list(xhat.shape)
        axis = self._split[0]
        shape[axis:axis + 2] = [shape[axis] * shape[axis + 1]]
        return h.reshape(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **_BETA_AND_GAMMA.config(self),
        }


#: Floor of the squared norm in UnitNormalization (Keras's value).
_UNIT_NORM_FLOOR = 1e-12


@LAYERS.register
class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``.

    ``y = x / sqrt(max(sum(x**2, axis), 1e-12))``.

    Parameters
    ----------
    axis : int or list of int, default=-1
        The axis or axes whose norm is made 1.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import UnitNormalization
    >>> y = UnitNormalization()(np.array([[3.0, 4.0], [0.0, 2.0]]))
    >>> np.round(y.astype(float), 3).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    """

    _cache_attrs = ("_y", "_r", "_active")
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_list(axis, "UnitNormalization")

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = [_check_axis(a, len(input_shape), "UnitNormalization", input_shape) for a in given]
        self._axes = tuple(sorted(set(axes)))

    def call(self, inputs, training=False):
        square_sum = np.square(inputs).sum(axis=self._axes, keepdims=True)
        active = square_sum > _UNIT_NORM_FLOOR
        np.maximum(square_sum, _UNIT_NORM_FLOOR, out=square_sum)
        r = 1.0 / np.sqrt(square_sum)
        y = inputs * r
        self._y, self._r, self._active = y, r, active
        return y

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        y = self._y
        proj = (grad * y).sum(axis=self._axes, keepdims=True)
        proj *= self._active
        out = grad - y * proj
        out *= self._r
        return out

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
