"""Shared by the optimizer tests: noisy gradients, a separable problem and a small model."""

import numpy as np

from automl.keras import Input, Sequential, backend
from automl.keras.layers import Dense

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
