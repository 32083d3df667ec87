"""standardized_target: the regressor learns a standardized target, predictions are in units."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPRegressor

from automl.tabular import standardized_target


def test_predictions_come_back_in_original_units():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = 5000.0 + X @ np.array([300.0, -200.0, 100.0]) + rng.normal(scale=10.0, size=200)
    model = standardized_target(Ridge(alpha=1e-3)).fit(X, y)
    assert isinstance(model, TransformedTargetRegressor)
    pred = model.predict(X)
    assert abs(pred.mean() - y.mean()) < 1.0
    assert np.corrcoef(pred, y)[0, 1] > 0.99
    # The inner regressor saw the standardized target: mean 0, std 1 on the training rows.
    inner = model.regressor_.predict(X)
    assert abs(inner.mean()) < 1e-6 and 0.95 < inner.std() < 1.0
    np.testing.assert_allclose(pred, inner * y.std() + y.mean(), rtol=1e-9)
    assert model.transformer_.mean_[0] == pytest.approx(y.mean())


def test_a_network_on_a_raw_large_target_is_helped():
    # A small MLP with few iterations on a target in the thousands: the raw fit is far
    # off, the standardized one is close.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = 3000.0 + 400.0 * X[:, 0] - 250.0 * X[:, 1]
    mlp = MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits
        raw = clone(mlp).fit(X, y).score(X, y)
        scaled = standardized_target(clone(mlp)).fit(X, y).score(X, y)
    assert scaled > 0.95 > raw


def test_bad_regressor():
    with pytest.raises(TypeError, match="'regressor' argument of standardized_target"):
        standardized_target("ridge")
    with pytest.raises(ValueError, match="must be a regressor"):
        standardized_target(LogisticRegression())
