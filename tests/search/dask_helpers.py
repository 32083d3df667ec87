"""Helpers of the Dask tests: a slow model builder and a dataset too large to pickle.

``model: "dask_helpers:slow_mlp"`` sleeps ``SLEEP_S`` seconds in each build, so that
a test can kill a Dask worker while it is surely in the middle of a trial;
``dataset: "dask_helpers:blobs"`` is data the pool memory-maps (or a worker on
another machine loads from this reference).
"""

import time

SLEEP_S = 1.0


def slow_mlp(meta, units=8):
    """``Input → Dense(units, relu) → Dense(n_classes, softmax)``, after a pause."""
    from automl import keras
    from automl.keras import layers

    time.sleep(SLEEP_S)
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            layers.Dense(units, activation="relu"),
            layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def blobs(n=3000, d=256):
    """A seeded two-class dataset whose training part (~1.8 MB) is memory-mapped, not pickled."""
    import numpy as np

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    X = (rng.standard_normal((n, d)) + y[:, None] * 0.5).astype(np.float32)
    return X, y
