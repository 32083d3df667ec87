"""Scikit-learn estimators around ``automl.keras`` models.

>>> from automl.wrappers import KerasClassifier, KerasRegressor
"""

from ._base import BaseWrapper
from ._builders import BUILDERS, build_cnn, build_mlp
from ._classifier import KerasClassifier
from ._regressor import KerasRegressor

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor", "build_cnn", "build_mlp"]
__all__ += ["BUILDERS"]
