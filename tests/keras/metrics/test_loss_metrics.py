"""Losses used as metrics: names, instances and functions become mean metrics."""

import numpy as np
import pytest

from automl.keras import losses, metrics

from .helpers import binary_problem, multiclass_problem, regression_problem, streamed

# -- losses as metrics -------------------------------------------------------------------


@pytest.mark.parametrize("name, loss", [
    ("binary_crossentropy", losses.BinaryCrossentropy()), ("bce", losses.BinaryCrossentropy()),
    ("hinge", losses.Hinge()), ("squared_hinge", losses.SquaredHinge()), ("poisson", losses.Poisson()),
    ("huber", losses.Huber()), ("log_cosh", losses.LogCosh()),
    ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy()),
])
def test_loss_names_work_as_metrics_on_binary_outputs(name, loss):
    y, p, sw = binary_problem(seed=11)
    metric = metrics._get_metric_instance(name)
    assert metric.name == name
    expected = np.average(loss.call(y[:, None], p[:, None]), weights=sw)
    assert streamed(metric, y[:, None], p[:, None], sw) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("name, loss, sparse", [
    ("categorical_crossentropy", losses.CategoricalCrossentropy(), False),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy(), True),
    ("kl_divergence", losses.KLDivergence(), False), ("categorical_hinge", losses.CategoricalHinge(), False),
    ("categorical_focal_crossentropy", losses.CategoricalFocalCrossentropy(), False),
])
def test_loss_names_work_as_metrics_on_categorical_outputs(name, loss, sparse):
    labels, probs, sw = multiclass_problem(seed=12)
    y = labels if sparse else np.eye(4)[labels]
    metric = metrics._get_metric_instance(name)
    assert metric.name == name
    assert streamed(metric, y, probs, sw) == pytest.approx(np.average(loss.call(y, probs), weights=sw), rel=1e-9)


def test_loss_instances_and_functions_become_mean_metrics():
    y, p, sw = regression_problem(seed=13)
    metric = metrics._get_metric_instance(losses.Huber(delta=0.3, name="h03"))
    assert isinstance(metric, metrics.LossMetric) and metric.name == "h03"
    expected = np.average(losses.huber(y, p, delta=0.3), weights=sw)
    assert streamed(metric, y, p, sw) == pytest.approx(expected, rel=1e-9)
    fn_metric = metrics._get_metric_instance(losses.log_cosh)
    assert fn_metric.name == "log_cosh"
    assert streamed(fn_metric, y, p, sw) == pytest.approx(np.average(losses.log_cosh(y, p), weights=sw))
    assert metrics.deserialize(metrics.serialize(fn_metric)).get_config() == fn_metric.get_config()
    assert metrics._get_metric_instance(losses.Huber).name == "huber_loss"
    assert metrics._get_metric_instance("mse").name == "mse" and isinstance(metrics._get_metric_instance("mse"), metrics.MeanSquaredError)
