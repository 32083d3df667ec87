"""Sparsemax: the Euclidean projection onto the simplex."""


import numpy as np

from automl.keras import activations


def _sparsemax_reference(row):
    """Projection onto the simplex by bisection on tau: sum(max(x - tau, 0)) = 1."""
    lo, hi = row.min() - 1.0, row.max()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.maximum(row - mid, 0).sum() > 1.0 else (lo, mid)
    return np.maximum(row - 0.5 * (lo + hi), 0.0)


def test_sparsemax_is_the_simplex_projection():
    x = np.random.default_rng(1).standard_normal((6, 5)) * 2
    y = activations.sparsemax(x)
    np.testing.assert_allclose(y, np.array([_sparsemax_reference(r) for r in x]), atol=1e-12)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    assert (y == 0).any()  # sparse, unlike softmax
    np.testing.assert_allclose(activations.sparsemax(x, axis=0),
                               activations.sparsemax(x.T).T, atol=1e-15)
    np.testing.assert_allclose(activations.sparsemax([[1.0, 2.0, 5.0], [0.5, 0.75, 0.0]]),
                               [[0.0, 0.0, 1.0], [0.375, 0.625, 0.0]])
