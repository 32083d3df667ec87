"""Sum and the correlation metrics: Keras examples, scipy references, streaming."""

import numpy as np
import pytest
from scipy import stats

from automl.keras import metrics

from .helpers import streamed

# -- Sum and correlations --------------------------------------------------------------


def test_sum_keras_examples_and_streaming():
    m = metrics.Sum()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 16.0
    m = metrics.Sum()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 4.0
    rng = np.random.default_rng(5)
    values, w = rng.normal(size=(50, 3)), rng.uniform(size=50)
    m.reset_state()
    for i in range(0, 50, 7):
        m.update_state(values[i:i + 7], w[i:i + 7])  # one weight per row
    assert m.result() == pytest.approx(float((values * w[:, None]).sum()), rel=1e-12)
    assert m.name == "sum" and isinstance(metrics.get("sum"), metrics.Sum)


def test_correlation_keras_examples():
    y_true = [[0, 1, 0.5], [1, 1, 0.2]]
    y_pred = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    np.testing.assert_allclose(metrics.concordance_correlation(y_true, y_pred), [0.97560976, 0.98765432], rtol=1e-6)
    pcc = metrics.PearsonCorrelation(axis=-1)
    pcc.update_state(y_true, y_pred)
    assert pcc.result() == pytest.approx(0.9966996338993913, rel=1e-6)
    ccc = metrics.ConcordanceCorrelation(axis=-1)
    ccc.update_state(y_true, y_pred)
    assert ccc.result() == pytest.approx(0.9816320385426076, rel=1e-6)


def _lin_ccc(a, b):
    return 2 * np.cov(a, b, bias=True)[0, 1] / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_correlations_match_scipy_per_sample_then_mean(weighted):
    rng = np.random.default_rng(6)
    y = rng.normal(size=(120, 6))
    p = 0.7 * y + 0.2 + 0.5 * rng.normal(size=(120, 6))
    sw = rng.uniform(0.1, 2.0, 120) if weighted else None
    r = np.array([stats.pearsonr(a, b)[0] for a, b in zip(y, p)])
    c = np.array([_lin_ccc(a, b) for a, b in zip(y, p)])
    assert streamed(metrics.PearsonCorrelation(), y, p, sw, batch=37) == pytest.approx(np.average(r, weights=sw), rel=1e-5)
    assert streamed(metrics.ConcordanceCorrelation(), y, p, sw, batch=37) == pytest.approx(np.average(c, weights=sw),
                                                                                  rel=1e-5)
    # axis=0: one coefficient per column of the batch.
    np.testing.assert_allclose(metrics.pearson_correlation(y, p, axis=0),
                               [stats.pearsonr(y[:, j], p[:, j])[0] for j in range(6)], rtol=1e-5)
    # A constant sample has zero correlation rather than NaN.
    assert metrics.pearson_correlation([[1.0, 1.0, 1.0]], [[0.1, 0.5, 0.9]])[0] == 0.0
