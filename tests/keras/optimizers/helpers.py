"""Shared by the optimizer tests: noisy gradients, a separable problem and a small model."""

import math

import numpy as np

from automl.keras import Input, Sequential, backend
from automl.keras.layers import Dense, Variable

N_STEPS = 5


def noisy_gradients(seed=1):
    """Fixed random gradients whose scale changes from step to step (sign flips, shrinking norms)."""
    rng = np.random.default_rng(seed)
    scales = [1.0, 3.0, 0.1, 0.5, 0.01]
    seq = [[rng.standard_normal((3, 2)) * s, rng.standard_normal(2) * s] for s in scales]
    p0 = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    return p0, lambda _params, step: seq[step]


def separable_problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    y = (x @ np.array([1.5, -2.0]) + 0.3 > 0).astype(np.float64)[:, None]
    return x, y


def small_model(optimizer, seed=0):
    with backend.seed_scope(seed):
        model = Sequential([Input(shape=(2,)), Dense(4, activation="tanh"), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    return model


def quadratic_problem(seed=0):
    """A random convex quadratic over a (3, 2) matrix and a (2,) vector; returns p0, grads_fn."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((8, 8))
    hessian = a @ a.T / 8 + 0.5 * np.eye(8)
    target = rng.standard_normal(8)
    p0 = [rng.standard_normal((3, 2)), rng.standard_normal(2)]

    def grads_fn(params, _step):
        flat = np.concatenate([q.ravel() for q in params])
        g = hessian @ (flat - target)
        return [g[:6].reshape(3, 2), g[6:]]

    return p0, grads_fn


def run_engine(optimizer, p0, grads_fn, as_variables=True, dtype=np.float64):
    if as_variables:
        holders = [Variable(x.astype(dtype), f"w{i}") for i, x in enumerate(p0)]
        values = [h.value for h in holders]
    else:
        holders = values = [x.astype(dtype) for x in p0]
    for t in range(N_STEPS):
        grads = grads_fn([v.astype(np.float64) for v in values], t)
        optimizer.apply_gradients(list(zip(grads, holders)))
    assert optimizer.iterations == N_STEPS
    return values


def adam_reference(params, grads_fn, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                   weight_decay=0.0):
    """Keras 3's Adam (AdamW with ``weight_decay``, applied before the step), in float64.

    alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t); the step is alpha_t m / (sqrt(v) + eps).
    """
    p = [x.copy() for x in params]
    m = [np.zeros_like(x) for x in p]
    v = [np.zeros_like(x) for x in p]
    vhat = [np.zeros_like(x) for x in p]
    for t in range(1, N_STEPS + 1):
        alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for i, g in enumerate(grads_fn(p, t - 1)):
            if weight_decay:
                p[i] = p[i] * (1 - lr * weight_decay)
            m[i] = m[i] + (g - m[i]) * (1 - beta_1)
            v[i] = v[i] + (g * g - v[i]) * (1 - beta_2)
            denom = v[i]
            if amsgrad:
                vhat[i] = np.maximum(vhat[i], v[i])
                denom = vhat[i]
            p[i] = p[i] - alpha * m[i] / (np.sqrt(denom) + epsilon)
    return p
