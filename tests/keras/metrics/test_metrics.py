"""Metrics: streaming values, sample weights, the "accuracy" shortcut, names."""

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.keras import Sequential, metrics
from automl.keras.layers import Dense

from .helpers import multiclass_problem, streamed

Y_ONEHOT = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=float)
Y_PRED = np.array([[0.1, 0.8, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
# argmax(Y_PRED) = [1, 1, 2, 0]: rows 0 and 2 are right.


def test_categorical_accuracy():
    m = metrics.CategoricalAccuracy()
    assert m(Y_ONEHOT, Y_PRED) == pytest.approx(0.5)
    assert m.name == "categorical_accuracy"


def test_sparse_categorical_accuracy_accepts_flat_and_column_labels():
    labels = Y_ONEHOT.argmax(axis=1)
    assert metrics.SparseCategoricalAccuracy()(labels, Y_PRED) == pytest.approx(0.5)
    assert metrics.SparseCategoricalAccuracy()(labels[:, None].astype(float), Y_PRED) == pytest.approx(0.5)


def test_binary_accuracy_threshold_and_shapes():
    y_true = np.array([1, 1, 0, 0])
    y_pred = np.array([[0.6], [0.8], [0.1], [0.55]])
    assert metrics.BinaryAccuracy()(y_true, y_pred) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy(threshold=0.7)(y_true, y_pred) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy(threshold=0.7)(y_true[:, None], y_pred) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy(threshold=0.9)(y_true, y_pred) == pytest.approx(0.5)


def test_streaming_over_batches_equals_one_pass_and_reset_clears():
    m = metrics.CategoricalAccuracy()
    m.update_state(Y_ONEHOT[:1], Y_PRED[:1])
    m.update_state(Y_ONEHOT[1:], Y_PRED[1:])
    assert m.result() == pytest.approx(0.5)
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(Y_ONEHOT[:1], Y_PRED[:1])
    assert m.result() == pytest.approx(1.0)


def test_sample_weights_weight_the_mean():
    sw = np.array([1.0, 3.0, 0.0, 4.0])  # right on rows 0 and 2 only
    assert metrics.CategoricalAccuracy()(Y_ONEHOT, Y_PRED, sample_weight=sw) == pytest.approx(1.0 / 8.0)
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 1.0])
    assert m.result() == pytest.approx(2.0)


def test_regression_metrics():
    y_true = np.array([[0.0, 1.0], [2.0, 2.0]])
    y_pred = np.array([[1.0, 1.0], [0.0, 2.0]])
    assert metrics.MeanSquaredError()(y_true, y_pred) == pytest.approx((0.5 + 2.0) / 2)
    assert metrics.MeanAbsoluteError()(y_true, y_pred) == pytest.approx((0.5 + 1.0) / 2)


@pytest.mark.parametrize(
    "loss, y_shape, units, expected",
    [
        ("categorical_crossentropy", (None, 3), 3, "CategoricalAccuracy"),
        ("sparse_categorical_crossentropy", (None,), 3, "SparseCategoricalAccuracy"),
        ("binary_crossentropy", (None, 1), 1, "BinaryAccuracy"),
        ("binary_crossentropy", (None, 4), 4, "BinaryAccuracy"),
        ("mse", (None, 1), 1, "BinaryAccuracy"),
    ],
)
def test_accuracy_resolves_by_loss(loss, y_shape, units, expected):
    metric = metrics._get_metric_instance("accuracy", loss_name=loss, output_shape=(None, units), y_shape=y_shape)
    assert type(metric).__name__ == expected and metric.name == "accuracy"
    assert metrics._get_metric_instance("acc", loss_name=loss, output_shape=(None, units)).name == "acc"


@pytest.mark.parametrize(
    "loss, y, units, expected",
    [
        ("categorical_crossentropy", np.eye(3)[[0, 1, 2, 0, 1, 2]], 3, "CategoricalAccuracy"),
        ("sparse_categorical_crossentropy", np.array([0, 1, 2, 0, 1, 2]), 3, "SparseCategoricalAccuracy"),
        ("binary_crossentropy", np.array([0, 1, 1, 0, 1, 0]), 1, "BinaryAccuracy"),
    ],
)
def test_compiled_accuracy_follows_the_loss(loss, y, units, expected):
    model = Sequential([Dense(units, input_shape=(2,), activation="sigmoid" if units == 1 else "softmax")])
    model.compile("sgd", loss, metrics=["accuracy"])
    history = model.fit(np.ones((6, 2)), y, epochs=1, verbose=0)
    assert [type(m).__name__ for m in model.compiled_metrics] == [expected]
    assert sorted(history.history) == ["accuracy", "loss"]


def test_get_resolves_names_instances_and_configs():
    assert isinstance(metrics.get("categorical_accuracy"), metrics.CategoricalAccuracy)
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    m = metrics.BinaryAccuracy(threshold=0.3)
    assert metrics.get(m) is m
    clone = metrics.deserialize(metrics.serialize(m))
    assert isinstance(clone, metrics.BinaryAccuracy) and clone.get_config() == m.get_config()


@pytest.mark.parametrize(
    "cls",
    [metrics.CategoricalAccuracy, metrics.SparseCategoricalAccuracy, metrics.BinaryAccuracy,
     metrics.MeanSquaredError, metrics.MeanAbsoluteError, metrics.Accuracy],
)
def test_config_round_trip(cls):
    m = cls(name="custom")
    config = m.get_config()
    assert cls.from_config(config).get_config() == config
    assert config["name"] == "custom"


def test_unknown_metric_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret metric identifier: 'f2'.*categorical_accuracy"):
        metrics.get("f2")


def test_string_metrics_are_logged_under_the_given_name():
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse", metrics=["mse", "mae"])
    history = model.fit(np.ones((4, 2)), np.ones(4), epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "mae", "mse"]


def mean_abs_gap(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred)), axis=-1)


def test_plain_function_metrics_work_in_fit_with_validation_and_in_evaluate():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=[mean_abs_gap])
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.2)
    assert sorted(history.history) == ["loss", "mean_abs_gap", "val_loss", "val_mean_abs_gap"]
    loss, gap = model.evaluate(x, y, verbose=0)
    assert gap == pytest.approx(mean_abs_gap(y, model.predict(x, verbose=0)).mean(), rel=1e-6)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracies_match_sklearn(k):
    labels, probs, sw = multiclass_problem(seed=10)
    expected = skm.top_k_accuracy_score(labels, probs, k=k, sample_weight=sw, labels=range(4))
    assert streamed(metrics.TopKCategoricalAccuracy(k=k), np.eye(4)[labels], probs, sw) == pytest.approx(expected)
    assert streamed(metrics.SparseTopKCategoricalAccuracy(k=k), labels, probs, sw) == pytest.approx(expected)
    assert streamed(metrics.SparseTopKCategoricalAccuracy(k=k), labels[:, None], probs, sw) == pytest.approx(
        expected)
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(np.eye(4)[labels], probs, k=k),
                                  metrics.sparse_top_k_categorical_accuracy(labels, probs, k=k))


def test_top_k_keras_examples_and_default_k():
    m = metrics.TopKCategoricalAccuracy(k=1)
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert m.result() == pytest.approx(0.3)
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    assert metrics.TopKCategoricalAccuracy().k == 5
    assert metrics.SparseTopKCategoricalAccuracy(k=2).get_config() == {
        "name": "sparse_top_k_categorical_accuracy", "dtype": None, "k": 2}
    # Ties with the k-th largest score count as inside the top k.
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy([2], [[0.5, 0.5, 0.5]], k=1), [1.0])
