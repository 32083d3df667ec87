"""SGD, Adam and RMSprop with Keras 3's update rules and defaults."""

from __future__ import annotations

import math

import numpy as np

from ..._validation import Interval, check_param
from ._base import OPTIMIZERS, Optimizer

__all__ = ["SGD", "Adam", "RMSprop"]


@OPTIMIZERS.register
class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    ``velocity = momentum * velocity - lr * grad``; ``param += velocity``
    (Nesterov: ``param += momentum * velocity - lr * grad``).

    >>> from automl.keras import optimizers
    >>> optimizers.SGD(learning_rate=0.1, momentum=0.9).learning_rate
    0.1
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = float(check_param("momentum", momentum, [Interval(float, 0, 1)], "SGD"))
        self.nesterov = bool(nesterov)

    def build_slots(self, param):
        return [np.zeros_like(param)] if self.momentum else []

    def update_step(self, param, grad, slots, lr, tmp):
        np.multiply(grad, lr, out=tmp)
        if not self.momentum:
            param -= tmp
            return
        (velocity,) = slots
        velocity *= self.momentum
        velocity -= tmp
        if self.nesterov:
            np.multiply(velocity, self.momentum, out=grad)
            grad -= tmp
            param += grad
        else:
            param += velocity

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


@OPTIMIZERS.register
class Adam(Optimizer):
    """Adam, with Keras's epsilon placement and optional AMSGrad.

    ``m += (g - m)(1 - beta_1)``, ``v += (g^2 - v)(1 - beta_2)``,
    ``param -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)``.

    The moment slots in :attr:`variables` hold ``m / (1 - beta_1)`` and
    ``v / (1 - beta_2)`` (Keras's ``m`` and ``v`` times a constant), which gives
    the same updates with fewer passes over the weights.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        for key, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            check_param(key, value, [Interval(float, 0, 1, closed="left")], type(self).__name__)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def build_slots(self, param):
        slots = [np.zeros_like(param), np.zeros_like(param)]
        if self.amsgrad:
            slots.append(np.zeros_like(param))
        return slots

    def update_step(self, param, grad, slots, lr, tmp):
        # The slots hold m / (1 - beta_1) and v / (1 - beta_2): the same update
        # with the constant factors folded into alpha and epsilon saves two
        # passes over the parameters per step.
        m, v = slots[:2]
        b1, b2 = self.beta_1, self.beta_2
        t = self.iterations + 1
        root = math.sqrt(1.0 - b2)
        alpha = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t) * (1.0 - b1) / root
        m *= b1
        m += grad
        v *= b2
        np.square(grad, out=tmp)
        v += tmp
        if self.amsgrad:
            np.maximum(slots[2], v, out=slots[2])
            v = slots[2]
        np.sqrt(v, out=tmp)
        tmp += self.epsilon / root
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        param -= tmp

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


@OPTIMIZERS.register
class RMSprop(Optimizer):
    """RMSprop: ``v = rho v + (1 - rho) g^2``; ``param -= lr g / sqrt(v + epsilon)``."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = float(check_param("rho", rho, [Interval(float, 0, 1)], "RMSprop"))
        self.momentum = float(check_param("momentum", momentum, [Interval(float, 0, 1)], "RMSprop"))
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def build_slots(self, param):
        return [
            np.zeros_like(param),
            np.zeros_like(param) if self.momentum else None,
            np.zeros_like(param) if self.centered else None,
        ]

    def update_step(self, param, grad, slots, lr, tmp):
        v, velocity, avg_grad = slots
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.rho
        v *= self.rho
        v += tmp
        denom = tmp
        if self.centered:
            avg_grad *= self.rho
            avg_grad += (1.0 - self.rho) * grad
            np.multiply(avg_grad, avg_grad, out=denom)
            np.subtract(v, denom, out=denom)
        else:
            denom[...] = v
        denom += self.epsilon
        np.sqrt(denom, out=denom)
        np.divide(grad, denom, out=denom)
        denom *= lr
        if self.momentum:
            velocity *= self.momentum
            velocity += denom
            param -= velocity
        else:
            param -= denom

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
