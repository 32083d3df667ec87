"""automl.keras: a pure-NumPy engine with Keras's API.

Keras code runs after replacing the ``keras.`` / ``tensorflow.keras.`` prefix
with ``automl.keras.``.
"""

from . import (
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    regularizers,
    saving,
    utils,
)
from .layers import Input
from .models import Model, Sequential

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "activations",
    "backend",
    "callbacks",
    "constraints",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "regularizers",
    "saving",
    "utils",
]
