"""Data and a streaming check shared by the metric tests."""

import numpy as np

N = 400


def binary_problem(n=N, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + rng.uniform(0.0, 0.65, n), 0.0, 1.0)
    return y, p, rng.uniform(0.1, 2.0, n)


def multiclass_problem(n=N, k=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), n)
    probs[np.arange(n), labels] += 0.3  # better than chance
    return labels, probs / probs.sum(1, keepdims=True), rng.uniform(0.1, 2.0, n)


def streamed(metric, y_true, y_pred, sample_weight=None, batch=67):
    """Update batch by batch; also check that one batch gives the same result."""
    metric.reset_state()
    for start in range(0, len(y_pred), batch):
        sl = slice(start, start + batch)
        metric.update_state(y_true[sl], y_pred[sl], None if sample_weight is None else sample_weight[sl])
    streamed = metric.result()
    metric.reset_state()
    metric.update_state(y_true, y_pred, sample_weight)
    np.testing.assert_allclose(metric.result(), streamed, rtol=1e-9, atol=1e-12)
    return streamed


# -- regression ------------------------------------------------------------------------


def regression_problem(n=N, k=3, seed=9):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.5, 3.0, (n, k))
    return y, y + 0.4 * rng.standard_normal((n, k)), rng.uniform(0.1, 2.0, n)


def class_scores(n=300, k=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    scores = rng.dirichlet(np.ones(k), n)
    scores[np.arange(n), labels] += 0.4
    return labels, scores, rng.uniform(0.1, 2.0, n)
