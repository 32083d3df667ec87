"""Sensitivity/specificity and precision/recall at a fixed rate: Keras examples, a threshold sweep."""

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.keras import metrics

from .helpers import class_scores, streamed

# -- thresholded rates -----------------------------------------------------------------


def test_rates_at_keras_examples():
    y, p = [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]
    cases = [
        (metrics.SensitivityAtSpecificity(0.5), 0.5, [1, 1, 2, 2, 1], 0.333333),
        (metrics.SpecificityAtSensitivity(0.5), 0.66666667, [1, 1, 2, 2, 2], 0.5),
        (metrics.PrecisionAtRecall(0.5), 0.5, [2, 2, 2, 1, 1], 0.33333333),
    ]
    for m, plain, sw, weighted in cases:
        m.update_state(y, p)
        assert m.result() == pytest.approx(plain, rel=1e-6)
        m.reset_state()
        m.update_state(y, p, sample_weight=sw)
        assert m.result() == pytest.approx(weighted, rel=1e-5)
    m = metrics.RecallAtPrecision(0.8)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.5)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)


def _rates_reference(y, p, sw, thresholds):
    """tp/fp/tn/fn per threshold from sklearn's confusion matrix of (p > t)."""
    rows = [skm.confusion_matrix(y, p > t, labels=[0, 1], sample_weight=sw).ravel() for t in thresholds]
    tn, fp, fn, tp = np.array(rows, dtype=float).T
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = {"sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp), "precision": tp / (tp + fp)}
    return {k: np.nan_to_num(v) for k, v in rates.items()}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_rates_at_match_a_sklearn_threshold_sweep(weighted):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 250)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 250), 0, 1)
    sw = rng.uniform(0.1, 2.0, 250) if weighted else None
    thresholds = np.r_[0.0, np.arange(1, 40) / 40, 1.0]
    ref = _rates_reference(y, p, sw, thresholds)

    def best(dependent, constrained, value):
        ok = ref[constrained] >= value
        return ref[dependent][ok].max() if ok.any() else 0.0

    for cls, dep, con in [(metrics.SensitivityAtSpecificity, "sensitivity", "specificity"),
                          (metrics.SpecificityAtSensitivity, "specificity", "sensitivity"),
                          (metrics.PrecisionAtRecall, "precision", "sensitivity"),
                          (metrics.RecallAtPrecision, "sensitivity", "precision")]:
        for value in (0.3, 0.8, 0.95):
            got = streamed(cls(value, num_thresholds=41), y, p, sw, batch=37)
            assert got == pytest.approx(best(dep, con, value), rel=1e-9, abs=1e-12), (cls.__name__, value)


def test_rates_at_class_id_and_unreachable_precision():
    labels, scores, _ = class_scores(seed=4)
    onehot = np.eye(4)[labels]
    m = metrics.SensitivityAtSpecificity(0.7, class_id=2)
    ref = metrics.SensitivityAtSpecificity(0.7)
    assert streamed(m, onehot, scores, batch=37) == pytest.approx(streamed(ref, onehot[:, 2], scores[:, 2], batch=37))
    m = metrics.RecallAtPrecision(1.0)
    m.update_state([0, 1], [0.9, 0.1])  # the negative always scores higher
    assert m.result() == 0.0
    assert metrics.PrecisionAtRecall(0.5, num_thresholds=1).thresholds == [0.5]
    with pytest.raises(ValueError, match="'recall' parameter of PrecisionAtRecall"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="'num_thresholds' parameter of SensitivityAtSpecificity"):
        metrics.SensitivityAtSpecificity(0.5, num_thresholds=0)
