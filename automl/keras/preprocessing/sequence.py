"""Sequence preprocessing (``automl.keras.preprocessing.sequence``)."""

from ..utils._sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
