"""Shrinkage and threshold activations: soft, hard and tanh shrink, threshold.
"""

from __future__ import annotations

import numpy as np

from ._base import (
    ACTIVATIONS,
    Activation,
    _real,
    _register,
)

__all__ = [
    "soft_shrink",
    "hard_shrink",
    "tanh_shrink",
    "threshold",
]


@_register
class tanh_shrink(Activation):  # noqa: N801
    """Tanh shrink: ``x - tanh(x)``.

    >>> from automl.keras import activations
    >>> import numpy as np
    >>> activations.tanh_shrink(np.array([0.0, 1.0])).round(4).tolist()
    [0.0, 0.2384]
    """

    __name__ = "tanh_shrink"
    needs_input = True

    def forward(self, z):
        z -= np.tanh(z)
        return z

    def backward(self, grad, y, z):
        factor = np.tanh(z)  # 1 - (1 - tanh**2) = tanh**2
        np.square(factor, out=factor)
        grad *= factor
        return grad


class _Threshold(Activation):
    """Threshold: ``x`` where ``x > threshold``, ``default_value`` elsewhere.

    Both parameters are required, as in Keras: the registered ``"threshold"``
    has none and raises when applied; use
    ``activations.threshold(x, threshold, default_value)`` or a config dict
    ``{"class_name": "threshold", "config": {"threshold": 0.0, "default_value": 0.0}}``.

    Examples
    --------
    >>> from automl.keras import activations
    >>> activations.threshold([-1.0, 0.5, 2.0], 1.0, -5.0).tolist()
    [-5.0, -5.0, 2.0]
    """

    __name__ = "threshold"
    _param_names = ("threshold", "default_value")
    needs_input = True

    def __init__(self, threshold=None, default_value=None):
        self.threshold = None if threshold is None else _real("threshold", threshold, "threshold")
        self.default_value = (
            None if default_value is None else _real("default_value", default_value, "threshold")
        )

    def _check(self):
        if self.threshold is None or self.default_value is None:
            raise TypeError(
                "threshold() requires its 'threshold' and 'default_value' parameters: "
                "use activations.threshold(x, threshold, default_value) or a config dict."
            )

    def forward(self, z):
        self._check()
        np.copyto(z, self.default_value, where=~(z > self.threshold))
        return z

    def backward(self, grad, y, z):
        grad *= z > self.threshold
        return grad


threshold = _Threshold()
ACTIVATIONS.register(threshold, name="threshold")


class _Shrink(Activation):
    _param_names = ("threshold",)

    def __init__(self, threshold=0.5):
        self.threshold = _real("threshold", threshold, self.__name__)
        # With a non-negative threshold y != 0 exactly where the slope is 1.
        self.needs_input = self.threshold < 0.0

    def backward(self, grad, y, z):
        if self.needs_input:
            grad *= np.abs(z) > self.threshold
        else:
            grad *= y != 0
        return grad


@_register
class soft_shrink(_Shrink):  # noqa: N801
    """Soft shrink: ``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0.

    >>> from automl.keras import activations
    >>> activations.soft_shrink([-1.0, 0.2, 2.0]).tolist()
    [-0.5, 0.0, 1.5]
    """

    __name__ = "soft_shrink"

    def forward(self, z):
        t = self.threshold
        if t >= 0.0:
            z -= np.clip(z, -t, t)  # x - t above t, x + t below -t, 0 between
            return z
        out = np.where(z > t, z - t, np.where(z < -t, z + t, 0.0))
        z[...] = out
        return z


@_register
class hard_shrink(_Shrink):  # noqa: N801
    """Hard shrink: ``x`` where ``|x| > threshold``, else 0.

    >>> from automl.keras import activations
    >>> activations.hard_shrink([-1.0, 0.2, 2.0]).tolist()
    [-1.0, 0.0, 2.0]
    """

    __name__ = "hard_shrink"

    def forward(self, z):
        np.copyto(z, 0.0, where=~(np.abs(z) > self.threshold))
        return z


# The registered objects are instances: point doctest at their classes' docstrings.
__test__ = {obj.__name__: type(obj) for obj in map(globals().get, __all__)}
