"""R2 and the regression metrics: scikit-learn agreement, Keras examples."""

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.keras import metrics

from .helpers import N, regression_problem, streamed


@pytest.mark.parametrize("aggregation, multioutput", [
    ("uniform_average", "uniform_average"), ("variance_weighted_average", "variance_weighted"),
    (None, "raw_values")])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_r2_matches_sklearn(aggregation, multioutput, weighted):
    y, p, sw = regression_problem()
    sw = sw if weighted else None
    result = streamed(metrics.R2Score(class_aggregation=aggregation), y, p, sw, batch=33)
    np.testing.assert_allclose(result, skm.r2_score(y, p, sample_weight=sw, multioutput=multioutput), rtol=1e-9)


def test_r2_keras_example_adjusted_and_far_from_zero_targets():
    m = metrics.R2Score()
    m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    assert m.result() == pytest.approx(0.57142854, rel=1e-6)
    y, p, _ = regression_problem(k=1)
    r2 = skm.r2_score(y, p)
    adjusted = streamed(metrics.R2Score(num_regressors=5), y, p)
    assert adjusted == pytest.approx(1 - (1 - r2) * (N - 1) / (N - 5 - 1))
    # Batched sums stay accurate for targets with a large offset.
    assert streamed(metrics.R2Score(), y + 1e6, p + 1e6, batch=7) == pytest.approx(r2, rel=1e-6)
    assert streamed(metrics.R2Score(), y[:, 0], p[:, 0]) == pytest.approx(r2)  # 1D is one column
    with pytest.warns(UserWarning, match="More independent predictors"):
        m = metrics.R2Score(num_regressors=10)
        m.update_state([[1.0], [2.0], [4.0]], [[1.0], [2.0], [3.0]])
        m.result()


def test_regression_metrics_match_sklearn():
    y, p, sw = regression_problem()
    p = np.abs(p)
    checks = [
        (metrics.RootMeanSquaredError(), np.sqrt(skm.mean_squared_error(y, p, sample_weight=sw))),
        (metrics.MeanSquaredError(), skm.mean_squared_error(y, p, sample_weight=sw)),
        (metrics.MeanAbsoluteError(), skm.mean_absolute_error(y, p, sample_weight=sw)),
        (metrics.MeanAbsolutePercentageError(), 100 * skm.mean_absolute_percentage_error(y, p, sample_weight=sw)),
        (metrics.MeanSquaredLogarithmicError(), skm.mean_squared_log_error(y, p, sample_weight=sw)),
        (metrics.LogCoshError(), np.average(np.log(np.cosh(p - y)).mean(1), weights=sw)),
        (metrics.CosineSimilarity(), np.average(
            (y * p).sum(1) / np.linalg.norm(y, axis=1) / np.linalg.norm(p, axis=1), weights=sw)),
    ]
    for metric, expected in checks:
        assert streamed(metric, y, p, sw) == pytest.approx(expected, rel=1e-9), metric.name


def test_regression_keras_examples():
    y_true, y_pred = [[0, 1], [0, 0]], [[1, 1], [0, 0]]
    for metric, plain, weighted in [
        (metrics.RootMeanSquaredError(), 0.5, 0.70710677),
        (metrics.MeanAbsolutePercentageError(), 250000000.0, 500000000.0),
        (metrics.MeanSquaredLogarithmicError(), 0.12011322, 0.24022643),
        (metrics.LogCoshError(), 0.10844523, 0.21689045),
    ]:
        metric.update_state(y_true, y_pred)
        assert metric.result() == pytest.approx(plain, rel=1e-6)
        metric.reset_state()
        metric.update_state(y_true, y_pred, sample_weight=[1, 0])
        assert metric.result() == pytest.approx(weighted, rel=1e-6)
    m = metrics.CosineSimilarity(axis=1)
    m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], sample_weight=[0.3, 0.7])
    assert m.result() == pytest.approx(0.7, rel=1e-6)
