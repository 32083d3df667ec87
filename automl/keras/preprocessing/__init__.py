"""Data preprocessing (``automl.keras.preprocessing``, mirrors ``keras.preprocessing``).

:mod:`.image` augmentation, :mod:`.sequence` padding, and the dataset
builders also found in :mod:`automl.keras.utils`.
"""

from ..utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from . import image, sequence

__all__ = [
    "image",
    "sequence",
    "image_dataset_from_directory",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
