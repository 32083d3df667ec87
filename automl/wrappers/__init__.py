"""Scikit-learn estimators around ``automl.keras`` models.

>>> from automl.wrappers import KerasClassifier, KerasRegressor
"""

from ._base import BaseWrapper
from ._builders import (
    BUILDERS,
    SCHEDULE_NAMES,
    build_cnn,
    build_mlp,
    make_lr_callbacks,
    make_schedule,
)
from ._classifier import KerasClassifier
from ._onnx import export_pipeline, pipeline_to_onnx
from ._regressor import KerasRegressor
from ._transfer import BaseFeatures, base_model, build_transfer, to_images

BUILDERS["transfer"] = build_transfer

__all__ = [
    "BUILDERS",
    "SCHEDULE_NAMES",
    "BaseFeatures",
    "BaseWrapper",
    "KerasClassifier",
    "KerasRegressor",
    "build_cnn",
    "base_model",
    "build_mlp",
    "build_transfer",
    "export_pipeline",
    "make_lr_callbacks",
    "make_schedule",
    "pipeline_to_onnx",
    "to_images",
]
