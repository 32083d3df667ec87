"""The baselines a search on a table must beat: gradient boosting and a tuned linear model."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.pipeline import Pipeline

from .._validation import Interval, Options, check_param
from ._preprocessor import TabularPreprocessor

__all__ = ["baseline_estimators", "RIDGE_ALPHAS"]

#: The ridge penalties RidgeCV chooses from (by efficient leave-one-out), 1e-3 .. 1e4.
RIDGE_ALPHAS = tuple(np.logspace(-3, 4, 15))


def _logistic_regression_cv(random_state) -> LogisticRegressionCV:
    params = dict(Cs=10, cv=5, scoring="neg_log_loss", max_iter=2000, random_state=random_state)
    if "use_legacy_attributes" in LogisticRegressionCV().get_params():  # scikit-learn >= 1.9
        params.update(l1_ratios=(0.0,), use_legacy_attributes=False)
    return LogisticRegressionCV(**params)


def baseline_estimators(task, *, random_state=None) -> dict:
    """Named, unfitted baseline pipelines for a classification or regression table.

    Each is a :class:`~sklearn.pipeline.Pipeline` of a
    :class:`TabularPreprocessor` (step ``"preprocess"``) and a model (step
    ``"model"``):

    - ``"hist_gradient_boosting"``: scikit-learn's
      :class:`~sklearn.ensemble.HistGradientBoostingClassifier` /
      :class:`~sklearn.ensemble.HistGradientBoostingRegressor` with its
      defaults (early stopping on a validation split from 10,000 rows on);
    - ``"logistic_regression"`` (classification):
      :class:`~sklearn.linear_model.LogisticRegressionCV`, L2 penalty chosen
      among 10 values by 5-fold cross-validated log-loss (the probabilities
      matter to ensembles); as ``LogisticRegressionCV`` does, its ``score``
      reports that scoring (negated log-loss), not accuracy;
    - ``"ridge"`` (regression): :class:`~sklearn.linear_model.RidgeCV`,
      penalty chosen among :data:`RIDGE_ALPHAS` by leave-one-out.

    Both use the same automatic preprocessing as the searched models, rather
    than gradient boosting's native categorical support: the leaderboard then
    compares models on identical features, one treatments table describes
    them all, and the trees lose little (one-hot columns up to 20 levels,
    target encoding beyond, and scaling is harmless to trees).
    For regression the preprocessor's target encoding is told the target is
    continuous (an integer target such as a price would otherwise be taken
    for classes).

    Parameters
    ----------
    task : {"classification", "regression"}
    random_state : int or None, default=None
        Seeds gradient boosting, the logistic regression's solver and the
        target encoder's folds.

    Returns
    -------
    dict of str to Pipeline

    Examples
    --------
    >>> import numpy as np
    >>> from automl.tabular import baseline_estimators
    >>> baselines = baseline_estimators("regression", random_state=0)
    >>> sorted(baselines)
    ['hist_gradient_boosting', 'ridge']
    >>> X = np.random.default_rng(0).normal(size=(80, 3))
    >>> y = X @ [1.0, 2.0, 0.0] + 10.0
    >>> r2 = baselines["ridge"].fit(X, y).score(X, y)
    >>> print(round(r2, 3))
    1.0
    """
    check_param("task", task, [Options(("classification", "regression"))], "baseline_estimators")
    check_param("random_state", random_state, [None, Interval(int, 0, None)], "baseline_estimators")
    if task == "classification":
        pre = TabularPreprocessor(random_state=random_state)
        models = {
            "hist_gradient_boosting": HistGradientBoostingClassifier(random_state=random_state),
            "logistic_regression": _logistic_regression_cv(random_state),
        }
    else:
        pre = TabularPreprocessor(target_type="continuous", random_state=random_state)
        models = {
            "hist_gradient_boosting": HistGradientBoostingRegressor(random_state=random_state),
            "ridge": RidgeCV(alphas=RIDGE_ALPHAS),
        }
    return {
        name: Pipeline([("preprocess", clone(pre)), ("model", model)])
        for name, model in models.items()
    }
