"""Lamb: Adam steps rescaled per variable by a trust ratio (Keras 3)."""

from __future__ import annotations

import math

import numpy as np

from ..._validation import Interval, check_param
from ._base import OPTIMIZERS
from ._per_variable import PerVariableOptimizer

__all__ = ["Lamb"]


@OPTIMIZERS.register
class Lamb(PerVariableOptimizer):
    """Lamb (Layer-wise Adaptive Moments for Batch training).

    For each variable ``w`` (each layer weight, not the model as a whole)::

        m += (g - m) * (1 - beta_1);   v += (g**2 - v) * (1 - beta_2)
        update = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + epsilon)
        ratio = ||w|| / ||update||   (1 when either norm is 0)
        w -= ratio * lr * update

    so every variable moves by ``lr`` times its own norm, whatever the scale of
    its gradient. As in Keras, weight decay is the base optimizer's decoupled
    decay, applied before the step.

    Parameters
    ----------
    learning_rate : float or callable, default=0.001
        A float, or a schedule called with the iteration count.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default=1e-7
        Added to the bias-corrected square root of the second moment.
    **kwargs
        Base optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``...).

    References
    ----------
    You et al., "Large Batch Optimization for Deep Learning: Training BERT in
    76 minutes", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import optimizers
    >>> w = np.array([3.0, 4.0])
    >>> optimizers.Lamb(learning_rate=0.1).apply_gradients([(np.array([1.0, -1.0]), w)])
    >>> bool(w[0] < 3.0 and w[1] > 4.0)
    True
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        for key, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            check_param(key, value, [Interval(float, 0, 1, closed="left")], "Lamb")
        check_param("epsilon", epsilon, [Interval(float, 0, None)], "Lamb")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = float(epsilon)

    def build_slots(self, param):
        return [np.zeros_like(param), np.zeros_like(param)]

    def update_variable(self, param, grad, slots, lr, tmp):
        m, v = slots
        b1, b2 = self.beta_1, self.beta_2
        t = self.iterations + 1
        np.subtract(grad, m, out=tmp)
        tmp *= 1.0 - b1
        m += tmp
        np.square(grad, out=tmp)
        tmp -= v
        tmp *= 1.0 - b2
        v += tmp
        np.multiply(v, 1.0 / (1.0 - b2**t), out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= 1.0 / (1.0 - b1**t)  # the update direction
        w_norm = math.sqrt(float(np.vdot(param, param)))
        u_norm = math.sqrt(float(np.vdot(tmp, tmp)))
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        tmp *= ratio * lr
        param -= tmp

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
