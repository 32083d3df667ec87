"""Scikit-learn estimators around ``automl.keras`` models.

>>> from automl.wrappers import KerasClassifier, KerasRegressor
"""

from ._base import BaseWrapper
from ._builders import BUILDERS, build_cnn, build_mlp
from ._classifier import KerasClassifier
from ._onnx import export_pipeline, pipeline_to_onnx
from ._regressor import KerasRegressor

__all__ = ["BUILDERS", "BaseWrapper", "KerasClassifier", "KerasRegressor", "build_cnn", "build_mlp",
           "export_pipeline", "pipeline_to_onnx"]
