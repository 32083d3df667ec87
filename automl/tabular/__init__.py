"""Building blocks of AutoML on tables: preprocessing, ensembles, baselines.

- :class:`TabularPreprocessor` builds a scikit-learn ``ColumnTransformer`` from
  a table's dtypes and contents (imputation, scaling, one-hot and target
  encoding, datetime parts; ID-like and constant columns dropped);
- :func:`standardized_target` wraps a regressor so that it learns a
  standardized target and predicts in the original units;
- :class:`EnsembleSelection` picks a weighted ensemble greedily from models'
  validation predictions (Caruana et al., 2004), and :class:`WeightedEnsemble`
  is the fitted estimator that averages those models;
- :func:`baseline_estimators` returns the gradient-boosting and regularized
  linear baselines a search should beat.
"""

from ._baselines import baseline_estimators
from ._ensemble_selection import EnsembleSelection
from ._preprocessor import ColumnsDroppedWarning, TabularPreprocessor
from ._target import StandardizedTargetRegressor, standardized_target
from ._weighted_ensemble import WeightedEnsemble

__all__ = [
    "ColumnsDroppedWarning",
    "EnsembleSelection",
    "StandardizedTargetRegressor",
    "TabularPreprocessor",
    "WeightedEnsemble",
    "baseline_estimators",
    "standardized_target",
]
