"""Custom Metric subclasses in Keras 3's lifecycle (the guide "Training & evaluation").

The base constructor must not call ``reset_state`` before the subclass has
created its variables with ``add_variable``; ``update_state`` accumulates,
``result`` reads, ``reset_state`` (the base one or the subclass's) restarts.
"""

import numpy as np
import pytest

from automl import keras
from automl.keras import Input, Sequential, layers, ops, utils


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(np.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(np.asarray(y_true).reshape(-1, 1) == y_pred, "float32")
        if sample_weight is not None:
            values = ops.multiply(values, ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1)))
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


class MeanAbsoluteGap(keras.metrics.Metric):
    """Two variables, the base reset_state: the mean gap between targets and predictions."""

    def __init__(self, name="mean_absolute_gap", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true, "float32").reshape(np.shape(y_pred)[0], -1)
        self.total.assign_add(ops.sum(ops.abs(y_true - y_pred)))
        self.count.assign_add(float(np.size(y_pred)))

    def result(self):
        return self.total / self.count


def test_lifecycle_update_result_reset():
    metric = CategoricalTruePositives()
    assert metric.result() == 0.0 and isinstance(metric.result(), float)
    metric.update_state(np.array([0, 1, 2]), np.eye(3)[[0, 1, 0]])
    assert metric.result() == 2.0
    metric.update_state(np.array([2]), np.eye(3)[[2]], sample_weight=np.array([0.5]))
    assert metric.result() == 2.5
    metric.reset_state()
    assert metric.result() == 0.0
    gap = MeanAbsoluteGap()
    gap.update_state([[1.0, 2.0]], np.array([[0.0, 0.0]], "float32"))
    assert gap.result() == pytest.approx(1.5) and len(gap.variables) == 2
    gap.reset_state()
    gap.update_state([[1.0]], np.array([[0.5]], "float32"))
    assert gap.result() == pytest.approx(0.5)


def test_custom_metrics_in_fit_and_evaluate(digits_split):
    x_train, x_test, y_train, y_test = digits_split
    utils.set_random_seed(0)
    labels = y_train.argmax(axis=1)
    model = Sequential([Input((64,)), layers.Dense(16, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=[CategoricalTruePositives()])
    history = model.fit(x_train, labels, batch_size=64, epochs=3, verbose=0)
    positives = history.history["categorical_true_positives"]
    assert all(isinstance(v, float) for v in positives)
    assert 0 < positives[0] < positives[-1] <= len(labels)  # reset each epoch, then counts up
    logs = model.evaluate(x_test, y_test.argmax(axis=1), verbose=0, return_dict=True)
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    assert logs["categorical_true_positives"] == float(np.sum(predicted == y_test.argmax(axis=1)))
    regression = Sequential([Input((64,)), layers.Dense(1)])
    regression.compile(optimizer="adam", loss="mse", metrics=[MeanAbsoluteGap()])
    target = x_train.sum(axis=1, keepdims=True) / 100.0
    regression.fit(x_train, target, epochs=2, verbose=0)
    gap = regression.evaluate(x_train, target, verbose=0, return_dict=True)["mean_absolute_gap"]
    assert gap == pytest.approx(float(np.abs(regression.predict(x_train, verbose=0) - target).mean()), rel=1e-5)
