"""Scikit-learn estimators around ``automl.keras`` models.

>>> from automl.wrappers import KerasClassifier, KerasRegressor
"""

from ._base import BaseWrapper
from ._builders import SCHEDULE_NAMES, build_cnn, build_mlp, make_lr_callbacks, make_schedule
from ._classifier import KerasClassifier
from ._regressor import KerasRegressor

__all__ = [
    "SCHEDULE_NAMES",
    "BaseWrapper",
    "KerasClassifier",
    "KerasRegressor",
    "build_cnn",
    "build_mlp",
    "make_lr_callbacks",
    "make_schedule",
]
