"""A slow model builder for the Dask tests: ``model: "dask_helpers:slow_mlp"``.

Each build sleeps ``SLEEP_S`` seconds first, so that a test can kill a Dask
worker while it is surely in the middle of a trial.
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
