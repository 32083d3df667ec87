"""Regression on a standardized target: :func:`standardized_target`."""

from __future__ import annotations

from sklearn.base import is_classifier
from sklearn.compose import TransformedTargetRegressor
from sklearn.preprocessing import StandardScaler

__all__ = ["standardized_target"]


def standardized_target(regressor) -> TransformedTargetRegressor:
    """Wrap ``regressor`` so that it learns a standardized target.

    scikit-learn's :class:`~sklearn.compose.TransformedTargetRegressor` with a
    :class:`~sklearn.preprocessing.StandardScaler`: at ``fit`` the target is
    centred and scaled to unit variance on the training rows, the regressor is
    fitted on that, and ``predict`` maps its output back, so predictions are in
    the target's original units. Networks train badly on raw targets (values in
    the hundreds or thousands put the initial outputs far from them); linear
    models and trees are indifferent to it.

    Parameters
    ----------
    regressor : estimator
        An unfitted regressor (anything with ``fit`` and ``predict``).

    Returns
    -------
    sklearn.compose.TransformedTargetRegressor
        Unfitted; after ``fit``, ``regressor_`` is the fitted regressor (which
        predicts standardized values) and ``transformer_`` the fitted scaler.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from automl.tabular import standardized_target
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> y = 1000.0 + 50.0 * X.ravel()
    >>> model = standardized_target(Ridge(alpha=1e-6)).fit(X, y)
    >>> print(np.round(model.predict(X[:2]), 3))
    [1000. 1050.]
    >>> print(np.round(model.regressor_.predict(X[:2]), 3))  # standardized units
    [-1.567 -1.219]
    """
    if not (hasattr(regressor, "fit") and hasattr(regressor, "predict")):
        raise TypeError(
            "The 'regressor' argument of standardized_target must be an estimator with fit "
            f"and predict. Got {regressor!r} instead."
        )
    if is_classifier(regressor):
        raise ValueError(
            "The 'regressor' argument of standardized_target must be a regressor. "
            f"Got the classifier {regressor!r} instead."
        )
    return TransformedTargetRegressor(regressor=regressor, transformer=StandardScaler())
