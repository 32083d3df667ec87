"""Data preprocessing (``automl.keras.preprocessing``): :mod:`.image` augmentation."""

from . import image

__all__ = ["image"]
