"""Confusion counts, precision, recall and AUC: scikit-learn agreement, Keras examples, streaming."""

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.keras import metrics

from .helpers import N, binary_problem, multiclass_problem, streamed

# -- Precision / Recall / confusion counts -------------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("column", [False, True], ids=["flat", "column"])
def test_precision_recall_match_sklearn(weighted, column):
    y, p, sw = binary_problem()
    sw = sw if weighted else None
    yp = p[:, None] if column else p
    for threshold in (0.5, 0.3):
        expected_p = skm.precision_score(y, p > threshold, sample_weight=sw)
        expected_r = skm.recall_score(y, p > threshold, sample_weight=sw)
        assert streamed(metrics.Precision(thresholds=threshold), y, yp, sw) == pytest.approx(expected_p, rel=1e-12)
        assert streamed(metrics.Recall(thresholds=threshold), y, yp, sw) == pytest.approx(expected_r, rel=1e-12)


def test_precision_recall_with_several_thresholds_return_arrays():
    y, p, _ = binary_problem()
    prec = streamed(metrics.Precision(thresholds=[0.2, 0.5, 0.8]), y, p)
    rec = streamed(metrics.Recall(thresholds=[0.2, 0.5, 0.8]), y, p)
    assert prec.shape == rec.shape == (3,)
    for i, t in enumerate([0.2, 0.5, 0.8]):
        assert prec[i] == pytest.approx(skm.precision_score(y, p > t))
        assert rec[i] == pytest.approx(skm.recall_score(y, p > t))


def test_precision_recall_keras_examples():
    m = metrics.Precision()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert m.result() == pytest.approx(2 / 3)
    m.reset_state()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert m.result() == 1.0
    m = metrics.Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.0
    m = metrics.Precision(top_k=4)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.5
    r = metrics.Recall()
    r.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert r.result() == pytest.approx(2 / 3)
    # Positive means strictly above the threshold.
    r.reset_state()
    r.update_state([1, 1], [0.5, 0.6])
    assert r.result() == 0.5


def test_precision_recall_class_id_is_one_vs_rest_of_that_column():
    labels, probs, sw = multiclass_problem()
    onehot = np.eye(4)[labels]
    for c in range(4):
        expected = skm.precision_score(labels == c, probs[:, c] > 0.5, sample_weight=sw)
        assert streamed(metrics.Precision(class_id=c), onehot, probs, sw) == pytest.approx(expected)
        expected = skm.recall_score(labels == c, probs[:, c] > 0.5, sample_weight=sw)
        assert streamed(metrics.Recall(class_id=c), onehot, probs, sw) == pytest.approx(expected)


def test_top_k_precision_and_recall():
    labels, probs, _ = multiclass_problem()
    onehot = np.eye(4)[labels]
    top2 = np.argsort(-probs, axis=1)[:, :2]
    hits = (top2 == labels[:, None]).any(axis=1).sum()
    # Every top-2 prediction is a positive: 2 per sample; one true label per sample.
    assert streamed(metrics.Precision(top_k=2), onehot, probs) == pytest.approx(hits / (2 * N))
    assert streamed(metrics.Recall(top_k=2), onehot, probs) == pytest.approx(hits / N)
    # top_k=1 recall is the categorical accuracy.
    assert streamed(metrics.Recall(top_k=1), onehot, probs) == pytest.approx(
        np.mean(probs.argmax(1) == labels))


def test_confusion_counts_keras_examples():
    for cls, y_true, y_pred, plain, weighted in [
        (metrics.FalsePositives, [0, 1, 0, 0], [0, 0, 1, 1], 2.0, 1.0),
        (metrics.FalseNegatives, [0, 1, 1, 1], [0, 1, 0, 0], 2.0, 1.0),
        (metrics.TrueNegatives, [0, 1, 0, 0], [1, 1, 0, 0], 2.0, 1.0),
        (metrics.TruePositives, [0, 1, 1, 1], [1, 0, 1, 1], 2.0, 1.0),
    ]:
        m = cls()
        m.update_state(y_true, y_pred)
        assert m.result() == plain
        m.reset_state()
        m.update_state(y_true, y_pred, sample_weight=[0, 0, 1, 0])
        assert m.result() == weighted


def test_confusion_counts_sum_to_the_total_weight():
    y, p, sw = binary_problem()
    thresholds = [0.1, 0.5, 0.9]
    counts = [streamed(cls(thresholds=thresholds), y, p, sw) for cls in
              (metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives, metrics.FalseNegatives)]
    np.testing.assert_allclose(np.sum(counts, axis=0), sw.sum())
    tn, fp, fn, tp = skm.confusion_matrix(y, p > 0.5, sample_weight=sw).ravel()
    np.testing.assert_allclose([c[1] for c in counts], [tp, fp, tn, fn])


# -- AUC ---------------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_roc_auc_matches_sklearn(weighted):
    y, p, sw = binary_problem(n=2000, seed=1)
    sw = sw if weighted else None
    result = streamed(metrics.AUC(), y, p, sw, batch=300)
    assert result == pytest.approx(skm.roc_auc_score(y, p, sample_weight=sw), abs=2e-3)
    # With predictions on the threshold grid the 200-threshold trapezoids are exact.
    grid = np.round(p * 199) / 199
    assert streamed(metrics.AUC(), y, grid, sw) == pytest.approx(
        skm.roc_auc_score(y, grid, sample_weight=sw), abs=1e-9)


def test_pr_auc_matches_average_precision():
    y, p, sw = binary_problem(n=2000, seed=2)
    result = streamed(metrics.AUC(curve="PR"), y, p, sw, batch=300)
    assert result == pytest.approx(skm.average_precision_score(y, p, sample_weight=sw), abs=1e-2)


def test_auc_keras_example_and_summation_methods():
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)
    y, p, _ = binary_problem(seed=3)
    low, mid, high = (streamed(metrics.AUC(num_thresholds=20, summation_method=s), y, p)
                      for s in ("minoring", "interpolation", "majoring"))
    assert low < mid < high
    assert mid == pytest.approx((low + high) / 2)
    assert streamed(metrics.AUC(curve="pr", summation_method="majoring"), y, p) > 0


def test_auc_from_logits_and_explicit_thresholds():
    y, p, _ = binary_problem(seed=4)
    logits = np.log(p + 1e-3) - np.log1p(-p + 1e-3)
    assert streamed(metrics.AUC(from_logits=True), y, logits) == pytest.approx(
        streamed(metrics.AUC(), y, 1 / (1 + np.exp(-logits))), abs=1e-12)
    even = [i / 9 for i in range(1, 9)]
    assert streamed(metrics.AUC(thresholds=even), y, p) == pytest.approx(
        streamed(metrics.AUC(num_thresholds=10), y, p), abs=1e-9)
    m = metrics.AUC(thresholds=[0.7, 0.2])
    assert m.num_thresholds == 4 and m.thresholds[1:3] == [0.2, 0.7]


def test_multi_label_auc_averages_per_label_aucs():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, (600, 3))
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, y.shape), 0, 1)
    grid = np.round(p * 199) / 199
    per_label = [skm.roc_auc_score(y[:, j], grid[:, j]) for j in range(3)]
    assert streamed(metrics.AUC(multi_label=True), y, grid) == pytest.approx(np.mean(per_label), abs=1e-9)
    weighted = metrics.AUC(multi_label=True, num_labels=3, label_weights=[1.0, 0.0, 3.0])
    assert streamed(weighted, y, grid) == pytest.approx((per_label[0] + 3 * per_label[2]) / 4, abs=1e-9)
    # Without multi_label the entries are flattened into one binary problem.
    assert streamed(metrics.AUC(), y, grid) == pytest.approx(skm.roc_auc_score(y.ravel(), grid.ravel()), abs=1e-9)


def test_auc_keras_config():
    assert metrics.AUC().get_config() == {
        "name": "auc", "dtype": None, "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None,
        "label_weights": None, "from_logits": False}
    assert metrics.Precision().get_config() == {"name": "precision", "dtype": None, "thresholds": None,
                                                "top_k": None, "class_id": None}
