"""automl: hyperparameter search and AutoML for Keras-style neural networks.

Three layers, each usable on its own:

- :mod:`automl.keras`, a pure-NumPy Keras engine;
- :class:`KerasClassifier` / :class:`KerasRegressor`, scikit-learn estimators around it;
- :class:`AutoClassifier` / :class:`AutoRegressor`, estimators that search networks for
  a table (a DataFrame or arrays) within a time budget;
- :func:`run_study`, declarative Optuna / scikit-learn studies over those estimators,
  with their dashboard (:func:`resume_study` continues one, :class:`StudyResult`
  reopens its outputs); :mod:`automl.search` and :mod:`automl.reports` underneath.
"""

from importlib import import_module

__version__ = "0.1.0"

__all__ = [
    "AutoClassifier",
    "AutoRegressor",
    "KerasClassifier",
    "KerasRegressor",
    "StudyResult",
    "resume_study",
    "run_study",
    "__version__",
]

_LAZY = {
    "AutoClassifier": "automl._auto",
    "AutoRegressor": "automl._auto",
    "KerasClassifier": "automl.wrappers",
    "KerasRegressor": "automl.wrappers",
    "StudyResult": "automl.search",
    "resume_study": "automl._study",
    "run_study": "automl._study",
}


def __getattr__(name):
    # Lazy so that `import automl.keras` never pulls in scikit-learn or Optuna.
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'automl' has no attribute {name!r}")
