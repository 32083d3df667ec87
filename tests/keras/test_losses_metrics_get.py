"""losses.get / metrics.get return what Keras 3 returns for each identifier."""

import numpy as np
import pytest

from automl.keras import Sequential, losses, metrics
from automl.keras.layers import Dense


@pytest.mark.parametrize("name, fn", [
    ("mean_squared_error", losses.mean_squared_error), ("mse", losses.mean_squared_error),
    ("MSE", losses.mean_squared_error), ("mae", losses.mean_absolute_error), ("MAE", losses.mean_absolute_error),
    ("categorical_crossentropy", losses.categorical_crossentropy), ("bce", losses.binary_crossentropy),
    ("BCE", losses.binary_crossentropy), ("kld", losses.kl_divergence), ("KLD", losses.kl_divergence),
    ("huber", losses.huber), ("log_cosh", losses.log_cosh),
])
def test_loss_function_names_give_the_per_sample_function(name, fn):
    assert losses.get(name) is fn
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert np.shape(losses.get(name)(y, np.full((2, 2), 0.5))) == (2,)


def test_sparse_categorical_crossentropy_name_gives_the_function():
    fn = losses.get("sparse_categorical_crossentropy")
    assert fn is losses.sparse_categorical_crossentropy
    np.testing.assert_allclose(fn(np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]])),
                               -np.log([0.8, 0.6]), rtol=1e-6)


@pytest.mark.parametrize("name, cls", [
    ("MeanSquaredError", losses.MeanSquaredError), ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
    ("Huber", losses.Huber), ("KLDivergence", losses.KLDivergence),
])
def test_loss_class_names_give_instances(name, cls):
    assert type(losses.get(name)) is cls


def test_loss_get_other_identifiers():
    assert losses.get(None) is None
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    loss = losses.Huber(delta=0.3)
    assert losses.get(loss) is loss
    assert losses.get(losses.huber) is losses.huber
    assert losses.get({"class_name": "Huber", "config": {"delta": 0.7}}).delta == 0.7
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 'hingee'"):
        losses.get("hingee")
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 3"):
        losses.get(3)


@pytest.mark.parametrize("name, cls, default_name", [
    ("mse", metrics.MeanSquaredError, "mean_squared_error"), ("MSE", metrics.MeanSquaredError, "mean_squared_error"),
    ("mean_squared_error", metrics.MeanSquaredError, "mean_squared_error"),
    ("MeanSquaredError", metrics.MeanSquaredError, "mean_squared_error"),
    ("accuracy", metrics.Accuracy, "accuracy"), ("auc", metrics.AUC, "auc"),
    ("categorical_crossentropy", metrics.CategoricalCrossentropy, "categorical_crossentropy"),
    ("binary_accuracy", metrics.BinaryAccuracy, "binary_accuracy"),
])
def test_metric_names_give_instances_with_default_names(name, cls, default_name):
    metric = metrics.get(name)
    assert type(metric) is cls and metric.name == default_name


def test_metric_get_other_identifiers():
    assert metrics.get(None) is None
    assert isinstance(metrics.get(metrics.AUC), metrics.AUC)
    auc = metrics.AUC(num_thresholds=10)
    assert metrics.get(auc) is auc
    assert metrics.get(losses.log_cosh) is losses.log_cosh  # functions are returned as they are
    assert metrics.get({"class_name": "AUC", "config": {"num_thresholds": 7}}).num_thresholds == 7
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'f2'"):
        metrics.get("f2")


@pytest.mark.parametrize("loss", ["mse", "mean_squared_error", "MeanSquaredError", losses.get("mse"),
                                  losses.get("MeanSquaredError"), losses.mean_squared_error])
def test_compile_accepts_what_get_returns(loss):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", loss=loss, metrics=["mse", metrics.get("mae")])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.mean((model.predict(x, verbose=0) - y) ** 2), rtol=1e-5)
    assert logs["mse"] == pytest.approx(logs["loss"], rel=1e-5)
    assert "mean_absolute_error" in logs
