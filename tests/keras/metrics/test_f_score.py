"""F-beta and F1 scores: scikit-learn agreement, Keras examples."""

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.keras import metrics

from .helpers import N, binary_problem, multiclass_problem, streamed

# -- F-scores ----------------------------------------------------------------------------


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_matches_sklearn_on_multiclass(average):
    labels, probs, sw = multiclass_problem(seed=6)
    result = streamed(metrics.F1Score(average=average), np.eye(4)[labels], probs, sw)
    expected = skm.f1_score(labels, probs.argmax(1), average=average, sample_weight=sw)
    np.testing.assert_allclose(result, expected, rtol=1e-5)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_fbeta_matches_sklearn_on_multilabel(average):
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, (N, 3))
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, y.shape), 0, 1)
    result = streamed(metrics.FBetaScore(average=average, beta=2.0, threshold=0.5), y, p)
    expected = skm.fbeta_score(y, p > 0.5, beta=2.0, average=average)
    np.testing.assert_allclose(result, expected, rtol=1e-5)


def test_f1_on_a_single_sigmoid_output_is_the_binary_f1():
    y, p, sw = binary_problem(seed=8)
    result = streamed(metrics.F1Score(threshold=0.5), y[:, None], p[:, None], sw)
    assert result.shape == (1,)
    assert result[0] == pytest.approx(skm.f1_score(y, p > 0.5, sample_weight=sw), rel=1e-5)


def test_fbeta_keras_examples():
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    m = metrics.FBetaScore(beta=2.0, threshold=0.5)
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(m.result(), [0.3846154, 0.90909094, 0.8333334], rtol=1e-5)
    m = metrics.F1Score(threshold=0.5)
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(m.result(), [0.5, 0.8, 0.6666667], rtol=1e-5)
    assert "beta" not in m.get_config()
