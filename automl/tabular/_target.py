"""Regression on a standardized target: :func:`standardized_target`."""

from __future__ import annotations

import numpy as np
from sklearn.base import is_classifier
from sklearn.compose import TransformedTargetRegressor
from sklearn.preprocessing import StandardScaler

__all__ = ["StandardizedTargetRegressor", "standardized_target"]


class StandardizedTargetRegressor(TransformedTargetRegressor):
    """A regressor fitted on the standardized target; predictions in the original units.

    scikit-learn's :class:`~sklearn.compose.TransformedTargetRegressor` with a
    :class:`~sklearn.preprocessing.StandardScaler` as its transformer, and one
    addition: a ``validation_data=(X_val, y_val)`` fit argument (the Keras
    wrappers' per-epoch validation) has its ``y_val`` standardized with the
    training statistics too, so the network's validation loss is in the units
    it trains in. Build it with :func:`standardized_target`.

    Parameters
    ----------
    regressor : estimator
        The regressor to fit on the standardized target.
    """

    def __init__(self, regressor=None):
        super().__init__(regressor=regressor, transformer=StandardScaler())

    def get_params(self, deep=True):
        params = {"regressor": self.regressor}
        if deep and hasattr(self.regressor, "get_params"):
            params.update(
                (f"regressor__{k}", v) for k, v in self.regressor.get_params(deep=True).items()
            )
        return params

    def fit(self, X, y, **fit_params):
        """Standardize ``y`` (and ``validation_data``'s targets) and fit the regressor.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        **fit_params
            Passed to the regressor's ``fit``; ``validation_data=(X_val, y_val)``
            gets ``y_val`` standardized.

        Returns
        -------
        self : StandardizedTargetRegressor
        """
        validation = fit_params.get("validation_data")
        if validation is not None:
            X_val, y_val = validation[0], validation[1]
            y_fit = np.asarray(y, dtype=np.float64)
            scaler = StandardScaler().fit(y_fit.reshape(len(y_fit), -1))
            y_val = np.asarray(y_val, dtype=np.float64)
            y_val_t = scaler.transform(y_val.reshape(len(y_val), -1))
            fit_params["validation_data"] = (X_val, y_val_t.reshape(y_val.shape),
                                             *validation[2:])
        return super().fit(X, y, **fit_params)



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
    StandardizedTargetRegressor
        A :class:`~sklearn.compose.TransformedTargetRegressor`, unfitted; after
        ``fit``, ``regressor_`` is the fitted regressor (which predicts
        standardized values) and ``transformer_`` the fitted scaler. A
        ``validation_data`` fit argument has its targets standardized too.

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
    return StandardizedTargetRegressor(regressor)
