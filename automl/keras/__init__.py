"""automl.keras: a pure-NumPy engine with Keras's API.

Keras code runs after replacing the ``keras.`` / ``tensorflow.keras.`` prefix
with ``automl.keras.``.

``automl.keras.__version__`` (and :func:`version`) is the Keras API version
this engine mirrors (Keras 3: names, argument order, defaults and config
layout), so version checks in Keras code take the Keras 3 branches. It is not
the version of the ``automl`` package (``automl.__version__``) and does not
promise every Keras 3 feature.
"""

from . import (
    activations,
    applications,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    export,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    utils,
)
from .initializers import Initializer
from .layers import Input, KerasTensor, Layer, Variable
from .losses import Loss
from .metrics import Metric
from .models import Model, Sequential
from .optimizers import Optimizer
from .regularizers import Regularizer

#: The Keras API version this engine mirrors (not ``automl.__version__``).
__version__ = "3.0.0"


def version() -> str:
    """The Keras API version this engine mirrors (``__version__``).

    >>> import automl.keras
    >>> automl.keras.version().split(".")[0]
    '3'
    """
    return __version__


__all__ = [
    "Initializer",
    "Input",
    "KerasTensor",
    "Layer",
    "Loss",
    "Metric",
    "Model",
    "Optimizer",
    "Regularizer",
    "Sequential",
    "Variable",
    "__version__",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "export",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "random",
    "regularizers",
    "saving",
    "utils",
    "version",
]
