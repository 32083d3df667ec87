"""Utilities (``automl.keras.utils``)."""

from ..backend._random import set_random_seed
from ._py_dataset import PyDataset, Sequence
from ._utils import to_categorical

__all__ = ["PyDataset", "Sequence", "set_random_seed", "to_categorical"]
