"""Data shared by the loss tests: reductions, unit embeddings, a small segmentation problem."""

import numpy as np

REDUCTIONS = ["sum", "sum_over_batch_size", "mean_with_sample_weight", "none"]


def embeddings(seed=0, n=8, dim=3):
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, dim))
    return np.array([0, 0, 1, 1, 2, 2, 2, 3])[:n], emb / np.linalg.norm(emb, axis=1, keepdims=True)


def segmentation_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype("float32")
    y = (x @ rng.standard_normal((3, 4)) > 0).astype("float32")
    return x, y
