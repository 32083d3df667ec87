"""Optimizers (``automl.keras.optimizers``)."""

from ..._registry import Registry
from . import schedules
from ._adadelta import Adadelta
from ._adafactor import Adafactor
from ._adagrad import Adagrad
from ._adamax import Adamax
from ._adamw import AdamW
from ._base import OPTIMIZERS, Optimizer
from ._ftrl import Ftrl
from ._lamb import Lamb
from ._lion import Lion
from ._nadam import Nadam
from ._optimizers import SGD, Adam, RMSprop

__all__ = [
    "OPTIMIZERS",
    "Optimizer",
    "SGD",
    "Adam",
    "RMSprop",
    "AdamW",
    "Nadam",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Lion",
    "Ftrl",
    "Adafactor",
    "Lamb",
    "get",
    "schedules",
    "serialize",
    "deserialize",
]


def get(identifier) -> Optimizer:
    """Resolve a name (case-insensitive), config dict or instance to an optimizer.

    >>> from automl.keras import optimizers
    >>> type(optimizers.get("adam")).__name__
    'Adam'
    """
    return OPTIMIZERS.get(identifier, case_insensitive=True, allow_callable=False)


def serialize(optimizer):
    return Registry.serialize(optimizer)


def deserialize(config, custom_objects=None):
    return OPTIMIZERS.get(config, custom_objects=custom_objects, case_insensitive=True)
