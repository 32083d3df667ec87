"""Adafactor: factored second moments, relative step sizes and update clipping (Keras 3)."""

from __future__ import annotations

import math

import numpy as np

from ..._validation import Interval, check_param
from ._base import OPTIMIZERS
from ._per_variable import PerVariableOptimizer

__all__ = ["Adafactor"]


def _rms(x) -> float:
    return math.sqrt(float(np.vdot(x, x)) / x.size)


@OPTIMIZERS.register
class Adafactor(PerVariableOptimizer):
    """Adafactor (Shazeer & Stern, 2018), with Keras 3's update rule.

    For each variable ``w`` at step ``t`` (1-based), with ``g2 = g**2 + epsilon_1``
    and ``beta_2_t = 1 - t**beta_2_decay``::

        rho = min(lr, 1 / sqrt(t));   alpha = max(epsilon_2, rms(w)) * rho
        rank >= 2:  r = beta_2_t r + (1 - beta_2_t) mean(g2, axis=-1)
                    c = beta_2_t c + (1 - beta_2_t) mean(g2, axis=-2)
                    v = (r / mean(r, axis=-1))[..., None] * c[..., None, :]
        rank < 2:   v = beta_2_t v + (1 - beta_2_t) g2
        u = g / sqrt(v);   w -= alpha * u / max(1, rms(u) / clip_threshold)

    so matrices (and higher-rank weights, factored over their last two axes)
    keep only row and column statistics of the squared gradients.

    The state is two arrays shaped like the parameters: unfactored variables
    keep ``v`` in the first one; factored variables keep ``r`` at the start of
    their slice of the first one and ``c`` at the start of their slice of the
    second one (``v`` is recomputed from them at every step, as in Keras).

    Parameters
    ----------
    learning_rate : float or callable, default=0.001
        A float, or a schedule called with the iteration count.
    beta_2_decay : float, default=-0.8
        Exponent of the second-moment decay schedule ``1 - t**beta_2_decay``.
    epsilon_1 : float, default=1e-30
        Added to the squared gradients.
    epsilon_2 : float, default=1e-3
        Lower bound of the RMS of a variable in its step size.
    clip_threshold : float, default=1.0
        Updates whose RMS exceeds this value are scaled down to it (independent
        of ``clipnorm`` / ``clipvalue``).
    relative_step : bool, default=True
        With a constant learning rate, use ``min(learning_rate, 1 / sqrt(t))``.
    **kwargs
        Base optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``...).

    References
    ----------
    Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory
    Cost", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import optimizers
    >>> w = np.ones((3, 2))
    >>> optimizers.Adafactor(learning_rate=0.1).apply_gradients([(np.full((3, 2), 0.5), w)])
    >>> bool(np.all(w < 1.0))
    True
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_param("beta_2_decay", beta_2_decay, [Interval(float, None, 0)], "Adafactor")
        check_param("epsilon_1", epsilon_1, [Interval(float, 0, None)], "Adafactor")
        check_param("epsilon_2", epsilon_2, [Interval(float, 0, None)], "Adafactor")
        check_param("clip_threshold", clip_threshold, [Interval(float, 0, None, closed="neither")], "Adafactor")
        self.beta_2_decay = float(beta_2_decay)
        self.epsilon_1 = float(epsilon_1)
        self.epsilon_2 = float(epsilon_2)
        self.clip_threshold = float(clip_threshold)
        self.relative_step = bool(relative_step)

    def build_slots(self, param):
        return [np.zeros_like(param), np.zeros_like(param)]

    def update_variable(self, param, grad, slots, lr, tmp):
        t = self.iterations + 1
        inv_sqrt_t = 1.0 / math.sqrt(t)
        if self.relative_step and not callable(self._learning_rate):
            lr = min(lr, inv_sqrt_t)
        alpha = max(self.epsilon_2, _rms(param)) * min(lr, inv_sqrt_t)
        decay = 1.0 - t**self.beta_2_decay  # beta_2_t
        np.square(grad, out=tmp)
        tmp += self.epsilon_1
        if param.ndim >= 2:
            *lead, rows, cols = param.shape
            r = slots[0].reshape(-1)[:param.size // cols].reshape(*lead, rows)
            c = slots[1].reshape(-1)[:param.size // rows].reshape(*lead, cols)
            r *= decay
            r += (1.0 - decay) * tmp.mean(axis=-1)
            c *= decay
            c += (1.0 - decay) * tmp.mean(axis=-2)
            np.multiply((r / r.mean(axis=-1, keepdims=True))[..., None], c[..., None, :], out=tmp)
        else:
            v = slots[0]
            v *= decay
            tmp *= 1.0 - decay
            v += tmp
            tmp[...] = v
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)  # u
        tmp *= alpha / max(1.0, _rms(tmp) / self.clip_threshold)
        param -= tmp

    def get_config(self):
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }
