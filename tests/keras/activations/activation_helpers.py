"""Helpers shared by the activation tests."""

import numpy as np


def away_from_kinks(shape, kinks, seed=0, scale=1.0, gap=0.05):
    """Random values, none within ``gap`` of a point where a derivative jumps."""
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    for k in kinks:
        close = np.abs(x - k) < gap
        x[close] = k + np.where(x[close] >= k, gap, -gap) * 2
    return x
