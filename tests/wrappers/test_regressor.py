"""KerasRegressor: learning, target shapes, sklearn integration, errors."""

import pickle
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from automl.keras import Model, Sequential
from automl.keras.layers import Dense, Input
from automl.keras.wrappers.scikit_learn import KerasRegressor as ClassicKerasRegressor
from automl.wrappers import KerasRegressor

from .builders import user_regressor


def test_diabetes_r2(diabetes):
    X_train, X_test, y_train, y_test = diabetes
    reg = KerasRegressor(hidden_layer_sizes=(32,), epochs=30, random_state=0).fit(X_train, y_train)
    pred = reg.predict(X_test)
    assert pred.shape == (len(X_test),)
    assert pred.dtype == np.float64
    assert reg.score(X_test, y_test) > 0.3
    assert reg.model_.compiled_loss_name == "mean_squared_error"
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_two_dimensional_targets_keep_their_shape(diabetes, n_outputs):
    X_train, X_test, y_train, _ = diabetes
    Y = np.column_stack([y_train * (k + 1) for k in range(n_outputs)])
    reg = KerasRegressor(hidden_layer_sizes=(16,), epochs=5, random_state=0).fit(X_train, Y)
    assert reg.n_outputs_ == n_outputs
    assert reg.model_.output_shape == (None, n_outputs)
    assert reg.predict(X_test).shape == (len(X_test), n_outputs)


def test_multi_output_is_learned(diabetes):
    X_train, X_test, y_train, y_test = diabetes
    Y_train = np.column_stack([y_train, -y_train])
    Y_test = np.column_stack([y_test, -y_test])
    reg = KerasRegressor(hidden_layer_sizes=(32,), epochs=30, random_state=0).fit(X_train, Y_train)
    assert reg.score(X_test, Y_test) > 0.3
    pred = reg.predict(X_test)
    assert np.corrcoef(pred[:, 0], pred[:, 1])[0, 1] < -0.9


def test_build_fn_grid_search(diabetes):
    X_train, _, y_train, _ = diabetes

    def create_model(units=8, activation="relu"):
        model = Sequential([Input(shape=(10,)), Dense(units, activation=activation), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    reg = ClassicKerasRegressor(build_fn=create_model, epochs=5, random_state=0)
    grid = GridSearchCV(reg, {"units": [2, 16], "activation": ["relu", "tanh"]}, cv=2)
    grid.fit(X_train, y_train)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.model_.layers[0].units == grid.best_params_["units"]


def test_multi_output_user_model_gets_its_columns(diabetes):
    X_train, X_test, y_train, _ = diabetes

    def two_heads(n_features_in_):
        inputs = Input(shape=(n_features_in_,))
        hidden = Dense(16, activation="relu")(inputs)
        model = Model(inputs, [Dense(1, name="first")(hidden), Dense(2, name="rest")(hidden)])
        model.compile(optimizer="adam", loss="mse")
        return model

    Y = np.column_stack([y_train, -y_train, 2 * y_train])
    reg = KerasRegressor(model=two_heads, epochs=30, random_state=0).fit(X_train, Y)
    pred = reg.predict(X_test)
    assert pred.shape == (len(X_test), 3)
    assert np.corrcoef(pred[:, 0], pred[:, 1])[0, 1] < -0.8
    assert sorted(reg.history_) == ["first_loss", "loss", "rest_loss"]

    def wrong_units(n_features_in_):
        inputs = Input(shape=(n_features_in_,))
        model = Model(inputs, [Dense(1)(inputs), Dense(1)(inputs)])
        model.compile(optimizer="adam", loss="mse")
        return model

    with pytest.raises(ValueError, match="outputs whose units add up to it"):
        KerasRegressor(model=wrong_units, epochs=1).fit(X_train, Y)


def test_user_regressor_compiled_with_estimator_settings(diabetes):
    X_train, X_test, y_train, y_test = diabetes
    reg = KerasRegressor(model=user_regressor, units=32, activation="tanh", epochs=30,
                         loss="mae", metrics=["mse"], random_state=0).fit(X_train, y_train)
    assert reg.model_.compiled_loss_name == "mean_absolute_error"
    assert str(reg.model_.layers[0].activation) == "<activation tanh>"
    assert sorted(reg.history_) == ["loss", "mse"]
    assert reg.score(X_test, y_test) > 0.2


def test_pickle_and_clone(diabetes):
    X_train, X_test, y_train, _ = diabetes
    reg = KerasRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0, fit__shuffle=False)
    assert clone(reg).get_params() == reg.get_params()
    reg.fit(X_train, y_train)
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X_test), reg.predict(X_test))


def test_same_random_state_same_predictions(diabetes):
    X_train, X_test, y_train, _ = diabetes
    preds = [
        KerasRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=seed)
        .fit(X_train, y_train)
        .predict(X_test)
        for seed in (0, 0, 1)
    ]
    np.testing.assert_array_equal(preds[0], preds[1])
    assert not np.allclose(preds[0], preds[2])


def test_sample_weight_changes_the_fit(diabetes):
    X_train, X_test, y_train, _ = diabetes
    params = {"hidden_layer_sizes": (8,), "epochs": 3, "random_state": 0}
    plain = KerasRegressor(**params).fit(X_train, y_train).predict(X_test)
    ones = (
        KerasRegressor(**params)
        .fit(X_train, y_train, sample_weight=np.ones(len(y_train)))
        .predict(X_test)
    )
    weights = np.where(y_train > 0, 5.0, 0.1)
    weighted = KerasRegressor(**params).fit(X_train, y_train, sample_weight=weights).predict(X_test)
    np.testing.assert_allclose(ones, plain, rtol=1e-5, atol=1e-6)
    assert weighted.mean() > plain.mean()
    with pytest.raises(ValueError, match=re.escape("must have shape (331,). Got shape (3,)")):
        KerasRegressor(**params).fit(X_train, y_train, sample_weight=[1.0, 2.0, 3.0])


def test_output_layer_must_match_targets(diabetes):
    X_train, _, y_train, _ = diabetes

    def two_outputs():
        model = Sequential([Input(shape=(10,)), Dense(2)])
        model.compile(optimizer="adam", loss="mse")
        return model

    message = "the model output shape is (None, 2), but y has 1 output(s). Expected an output shape of (None, 1)"
    with pytest.raises(ValueError, match=re.escape(message)):
        KerasRegressor(model=two_outputs, epochs=1).fit(X_train, y_train)


def test_errors(diabetes):
    X_train, _, y_train, _ = diabetes
    with pytest.raises(NotFittedError):
        KerasRegressor().predict(X_train)
    bad_y = y_train.copy()
    bad_y[0] = np.inf
    with pytest.raises(ValueError, match="Input y contains infinity"):
        KerasRegressor(epochs=1).fit(X_train, bad_y)
    message = "The 'learning_rate' parameter of KerasRegressor must be None or a float in the range (0, inf)"
    with pytest.raises(ValueError, match=re.escape(message)):
        KerasRegressor(epochs=1, learning_rate=-1.0).fit(X_train, y_train)


def test_a_fit_that_diverges_raises_with_a_hint():
    # As scikit-learn's MLP: a non-finite loss is an error at fit, not NaN predictions.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    model = KerasRegressor(learning_rate=1e6, optimizer="sgd", epochs=3, verbose=0, random_state=0)
    with np.errstate(all="ignore"), pytest.raises(
        ValueError, match=r"KerasRegressor.fit diverged: the training loss became non-finite \(nan\) at epoch "
    ) as info:
        model.fit(X, X @ [1.0, 2.0, 3.0])
    assert "Lower the learning rate (learning_rate=1000000.0)" in str(info.value)
    assert "\n" not in str(info.value)


def test_the_divergence_check_reads_the_loss_once_per_epoch():
    from automl.wrappers._base import _Divergence

    check = _Divergence("KerasRegressor", 0.1)
    check.on_epoch_end(0, {"loss": 1.0})
    check.on_epoch_end(1, {})
    with pytest.raises(ValueError, match=r"loss became non-finite \(inf\) at epoch 3"):
        check.on_epoch_end(2, {"loss": float("inf")})
