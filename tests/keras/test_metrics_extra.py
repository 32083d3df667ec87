"""Confusion, F-score, regression, top-k and loss metrics: scikit-learn agreement, streaming, fit."""

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.keras import Sequential, losses, metrics
from automl.keras.layers import Dense

RNG = np.random.default_rng(0)
N = 400


def _binary(n=N, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + rng.uniform(0.0, 0.65, n), 0.0, 1.0)
    return y, p, rng.uniform(0.1, 2.0, n)


def _multiclass(n=N, k=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), n)
    probs[np.arange(n), labels] += 0.3  # better than chance
    return labels, probs / probs.sum(1, keepdims=True), rng.uniform(0.1, 2.0, n)


def _streamed(metric, y_true, y_pred, sample_weight=None, batch=67):
    """Update batch by batch; also check that one batch gives the same result."""
    metric.reset_state()
    for start in range(0, len(y_pred), batch):
        sl = slice(start, start + batch)
        metric.update_state(y_true[sl], y_pred[sl], None if sample_weight is None else sample_weight[sl])
    streamed = metric.result()
    metric.reset_state()
    metric.update_state(y_true, y_pred, sample_weight)
    np.testing.assert_allclose(metric.result(), streamed, rtol=1e-9, atol=1e-12)
    return streamed


# -- Precision / Recall / confusion counts -------------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("column", [False, True], ids=["flat", "column"])
def test_precision_recall_match_sklearn(weighted, column):
    y, p, sw = _binary()
    sw = sw if weighted else None
    yp = p[:, None] if column else p
    for threshold in (0.5, 0.3):
        expected_p = skm.precision_score(y, p > threshold, sample_weight=sw)
        expected_r = skm.recall_score(y, p > threshold, sample_weight=sw)
        assert _streamed(metrics.Precision(thresholds=threshold), y, yp, sw) == pytest.approx(expected_p, rel=1e-12)
        assert _streamed(metrics.Recall(thresholds=threshold), y, yp, sw) == pytest.approx(expected_r, rel=1e-12)


def test_precision_recall_with_several_thresholds_return_arrays():
    y, p, _ = _binary()
    prec = _streamed(metrics.Precision(thresholds=[0.2, 0.5, 0.8]), y, p)
    rec = _streamed(metrics.Recall(thresholds=[0.2, 0.5, 0.8]), y, p)
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
    labels, probs, sw = _multiclass()
    onehot = np.eye(4)[labels]
    for c in range(4):
        expected = skm.precision_score(labels == c, probs[:, c] > 0.5, sample_weight=sw)
        assert _streamed(metrics.Precision(class_id=c), onehot, probs, sw) == pytest.approx(expected)
        expected = skm.recall_score(labels == c, probs[:, c] > 0.5, sample_weight=sw)
        assert _streamed(metrics.Recall(class_id=c), onehot, probs, sw) == pytest.approx(expected)


def test_top_k_precision_and_recall():
    labels, probs, _ = _multiclass()
    onehot = np.eye(4)[labels]
    top2 = np.argsort(-probs, axis=1)[:, :2]
    hits = (top2 == labels[:, None]).any(axis=1).sum()
    # Every top-2 prediction is a positive: 2 per sample; one true label per sample.
    assert _streamed(metrics.Precision(top_k=2), onehot, probs) == pytest.approx(hits / (2 * N))
    assert _streamed(metrics.Recall(top_k=2), onehot, probs) == pytest.approx(hits / N)
    # top_k=1 recall is the categorical accuracy.
    assert _streamed(metrics.Recall(top_k=1), onehot, probs) == pytest.approx(
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
    y, p, sw = _binary()
    thresholds = [0.1, 0.5, 0.9]
    counts = [_streamed(cls(thresholds=thresholds), y, p, sw) for cls in
              (metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives, metrics.FalseNegatives)]
    np.testing.assert_allclose(np.sum(counts, axis=0), sw.sum())
    tn, fp, fn, tp = skm.confusion_matrix(y, p > 0.5, sample_weight=sw).ravel()
    np.testing.assert_allclose([c[1] for c in counts], [tp, fp, tn, fn])


# -- AUC ---------------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_roc_auc_matches_sklearn(weighted):
    y, p, sw = _binary(n=2000, seed=1)
    sw = sw if weighted else None
    result = _streamed(metrics.AUC(), y, p, sw, batch=300)
    assert result == pytest.approx(skm.roc_auc_score(y, p, sample_weight=sw), abs=2e-3)
    # With predictions on the threshold grid the 200-threshold trapezoids are exact.
    grid = np.round(p * 199) / 199
    assert _streamed(metrics.AUC(), y, grid, sw) == pytest.approx(
        skm.roc_auc_score(y, grid, sample_weight=sw), abs=1e-9)


def test_pr_auc_matches_average_precision():
    y, p, sw = _binary(n=2000, seed=2)
    result = _streamed(metrics.AUC(curve="PR"), y, p, sw, batch=300)
    assert result == pytest.approx(skm.average_precision_score(y, p, sample_weight=sw), abs=1e-2)


def test_auc_keras_example_and_summation_methods():
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)
    y, p, _ = _binary(seed=3)
    low, mid, high = (_streamed(metrics.AUC(num_thresholds=20, summation_method=s), y, p)
                      for s in ("minoring", "interpolation", "majoring"))
    assert low < mid < high
    assert mid == pytest.approx((low + high) / 2)
    assert _streamed(metrics.AUC(curve="pr", summation_method="majoring"), y, p) > 0


def test_auc_from_logits_and_explicit_thresholds():
    y, p, _ = _binary(seed=4)
    logits = np.log(p + 1e-3) - np.log1p(-p + 1e-3)
    assert _streamed(metrics.AUC(from_logits=True), y, logits) == pytest.approx(
        _streamed(metrics.AUC(), y, 1 / (1 + np.exp(-logits))), abs=1e-12)
    even = [i / 9 for i in range(1, 9)]
    assert _streamed(metrics.AUC(thresholds=even), y, p) == pytest.approx(
        _streamed(metrics.AUC(num_thresholds=10), y, p), abs=1e-9)
    m = metrics.AUC(thresholds=[0.7, 0.2])
    assert m.num_thresholds == 4 and m.thresholds[1:3] == [0.2, 0.7]


def test_multi_label_auc_averages_per_label_aucs():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, (600, 3))
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, y.shape), 0, 1)
    grid = np.round(p * 199) / 199
    per_label = [skm.roc_auc_score(y[:, j], grid[:, j]) for j in range(3)]
    assert _streamed(metrics.AUC(multi_label=True), y, grid) == pytest.approx(np.mean(per_label), abs=1e-9)
    weighted = metrics.AUC(multi_label=True, num_labels=3, label_weights=[1.0, 0.0, 3.0])
    assert _streamed(weighted, y, grid) == pytest.approx((per_label[0] + 3 * per_label[2]) / 4, abs=1e-9)
    # Without multi_label the entries are flattened into one binary problem.
    assert _streamed(metrics.AUC(), y, grid) == pytest.approx(skm.roc_auc_score(y.ravel(), grid.ravel()), abs=1e-9)


# -- F-scores ----------------------------------------------------------------------------


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_matches_sklearn_on_multiclass(average):
    labels, probs, sw = _multiclass(seed=6)
    result = _streamed(metrics.F1Score(average=average), np.eye(4)[labels], probs, sw)
    expected = skm.f1_score(labels, probs.argmax(1), average=average, sample_weight=sw)
    np.testing.assert_allclose(result, expected, rtol=1e-5)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_fbeta_matches_sklearn_on_multilabel(average):
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, (N, 3))
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, y.shape), 0, 1)
    result = _streamed(metrics.FBetaScore(average=average, beta=2.0, threshold=0.5), y, p)
    expected = skm.fbeta_score(y, p > 0.5, beta=2.0, average=average)
    np.testing.assert_allclose(result, expected, rtol=1e-5)


def test_f1_on_a_single_sigmoid_output_is_the_binary_f1():
    y, p, sw = _binary(seed=8)
    result = _streamed(metrics.F1Score(threshold=0.5), y[:, None], p[:, None], sw)
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


# -- regression ------------------------------------------------------------------------


def _regression(n=N, k=3, seed=9):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.5, 3.0, (n, k))
    return y, y + 0.4 * rng.standard_normal((n, k)), rng.uniform(0.1, 2.0, n)


@pytest.mark.parametrize("aggregation, multioutput", [
    ("uniform_average", "uniform_average"), ("variance_weighted_average", "variance_weighted"),
    (None, "raw_values")])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_r2_matches_sklearn(aggregation, multioutput, weighted):
    y, p, sw = _regression()
    sw = sw if weighted else None
    result = _streamed(metrics.R2Score(class_aggregation=aggregation), y, p, sw, batch=33)
    np.testing.assert_allclose(result, skm.r2_score(y, p, sample_weight=sw, multioutput=multioutput), rtol=1e-9)


def test_r2_keras_example_adjusted_and_far_from_zero_targets():
    m = metrics.R2Score()
    m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    assert m.result() == pytest.approx(0.57142854, rel=1e-6)
    y, p, _ = _regression(k=1)
    r2 = skm.r2_score(y, p)
    adjusted = _streamed(metrics.R2Score(num_regressors=5), y, p)
    assert adjusted == pytest.approx(1 - (1 - r2) * (N - 1) / (N - 5 - 1))
    # Batched sums stay accurate for targets with a large offset.
    assert _streamed(metrics.R2Score(), y + 1e6, p + 1e6, batch=7) == pytest.approx(r2, rel=1e-6)
    assert _streamed(metrics.R2Score(), y[:, 0], p[:, 0]) == pytest.approx(r2)  # 1D is one column
    with pytest.warns(UserWarning, match="More independent predictors"):
        m = metrics.R2Score(num_regressors=10)
        m.update_state([[1.0], [2.0], [4.0]], [[1.0], [2.0], [3.0]])
        m.result()


def test_regression_metrics_match_sklearn():
    y, p, sw = _regression()
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
        assert _streamed(metric, y, p, sw) == pytest.approx(expected, rel=1e-9), metric.name


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


# -- top-k accuracy ----------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracies_match_sklearn(k):
    labels, probs, sw = _multiclass(seed=10)
    expected = skm.top_k_accuracy_score(labels, probs, k=k, sample_weight=sw, labels=range(4))
    assert _streamed(metrics.TopKCategoricalAccuracy(k=k), np.eye(4)[labels], probs, sw) == pytest.approx(expected)
    assert _streamed(metrics.SparseTopKCategoricalAccuracy(k=k), labels, probs, sw) == pytest.approx(expected)
    assert _streamed(metrics.SparseTopKCategoricalAccuracy(k=k), labels[:, None], probs, sw) == pytest.approx(
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


# -- losses as metrics -------------------------------------------------------------------


@pytest.mark.parametrize("name, loss", [
    ("binary_crossentropy", losses.BinaryCrossentropy()), ("bce", losses.BinaryCrossentropy()),
    ("hinge", losses.Hinge()), ("squared_hinge", losses.SquaredHinge()), ("poisson", losses.Poisson()),
    ("huber", losses.Huber()), ("log_cosh", losses.LogCosh()),
    ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy()),
])
def test_loss_names_work_as_metrics_on_binary_outputs(name, loss):
    y, p, sw = _binary(seed=11)
    metric = metrics._get_metric_instance(name)
    assert metric.name == name
    expected = np.average(loss.call(y[:, None], p[:, None]), weights=sw)
    assert _streamed(metric, y[:, None], p[:, None], sw) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("name, loss, sparse", [
    ("categorical_crossentropy", losses.CategoricalCrossentropy(), False),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy(), True),
    ("kl_divergence", losses.KLDivergence(), False), ("categorical_hinge", losses.CategoricalHinge(), False),
    ("categorical_focal_crossentropy", losses.CategoricalFocalCrossentropy(), False),
])
def test_loss_names_work_as_metrics_on_categorical_outputs(name, loss, sparse):
    labels, probs, sw = _multiclass(seed=12)
    y = labels if sparse else np.eye(4)[labels]
    metric = metrics._get_metric_instance(name)
    assert metric.name == name
    assert _streamed(metric, y, probs, sw) == pytest.approx(np.average(loss.call(y, probs), weights=sw), rel=1e-9)


def test_loss_instances_and_functions_become_mean_metrics():
    y, p, sw = _regression(seed=13)
    metric = metrics._get_metric_instance(losses.Huber(delta=0.3, name="h03"))
    assert isinstance(metric, metrics.LossMetric) and metric.name == "h03"
    expected = np.average(losses.huber(y, p, delta=0.3), weights=sw)
    assert _streamed(metric, y, p, sw) == pytest.approx(expected, rel=1e-9)
    fn_metric = metrics._get_metric_instance(losses.log_cosh)
    assert fn_metric.name == "log_cosh"
    assert _streamed(fn_metric, y, p, sw) == pytest.approx(np.average(losses.log_cosh(y, p), weights=sw))
    assert metrics.deserialize(metrics.serialize(fn_metric)).get_config() == fn_metric.get_config()
    assert metrics._get_metric_instance(losses.Huber).name == "huber_loss"
    assert metrics._get_metric_instance("mse").name == "mse" and isinstance(metrics._get_metric_instance("mse"), metrics.MeanSquaredError)


def test_metric_classes_keep_keras_names_and_sign():
    assert metrics.BinaryCrossentropy(from_logits=True).get_config() == {
        "name": "binary_crossentropy", "dtype": None, "from_logits": True, "label_smoothing": 0}
    assert metrics.LogCoshError().name == "logcosh"
    m = metrics.CosineSimilarity()
    m.update_state([[1.0, 1.0]], [[2.0, 2.0]])
    assert m.result() == pytest.approx(1.0)  # the loss of the same name gives -1


# -- names, registry, config -----------------------------------------------------------

KERAS_NAMES = {
    "precision": metrics.Precision, "recall": metrics.Recall, "auc": metrics.AUC, "AUC": metrics.AUC,
    "f1_score": metrics.F1Score, "F1Score": metrics.F1Score, "f_beta_score": metrics.FBetaScore,
    "root_mean_squared_error": metrics.RootMeanSquaredError, "r2_score": metrics.R2Score,
    "mean_absolute_percentage_error": metrics.MeanAbsolutePercentageError, "mape": metrics.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": metrics.MeanSquaredLogarithmicError, "msle": metrics.MeanSquaredLogarithmicError,
    "top_k_categorical_accuracy": metrics.TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": metrics.SparseTopKCategoricalAccuracy,
    "true_positives": metrics.TruePositives, "false_negatives": metrics.FalseNegatives,
    "cosine_similarity": metrics.CosineSimilarity, "log_cosh_error": metrics.LogCoshError,
    "kl_divergence": metrics.KLDivergence, "poisson": metrics.Poisson, "hinge": metrics.Hinge,
}


@pytest.mark.parametrize("name, cls", list(KERAS_NAMES.items()))
def test_strings_resolve_and_name_the_metric(name, cls):
    metric = metrics._get_metric_instance(name)
    assert type(metric) is cls and metric.name == name


CONFIGURED = [
    metrics.Precision(thresholds=[0.3, 0.6], class_id=1, name="p"), metrics.Recall(top_k=2),
    metrics.AUC(curve="PR", summation_method="minoring", num_thresholds=50, multi_label=True, num_labels=3,
                label_weights=[1.0, 2.0, 3.0], from_logits=True),
    metrics.AUC(thresholds=[0.25, 0.5, 0.75]), metrics.TruePositives(thresholds=0.3),
    metrics.F1Score(average="macro", threshold=0.4), metrics.FBetaScore(average="weighted", beta=0.5),
    metrics.R2Score(class_aggregation=None, num_regressors=2), metrics.RootMeanSquaredError(),
    metrics.MeanAbsolutePercentageError(), metrics.MeanSquaredLogarithmicError(), metrics.LogCoshError(),
    metrics.CosineSimilarity(axis=1), metrics.TopKCategoricalAccuracy(k=3),
    metrics.SparseTopKCategoricalAccuracy(k=2), metrics.BinaryCrossentropy(label_smoothing=0.1),
    metrics.CategoricalCrossentropy(from_logits=True), metrics.SparseCategoricalCrossentropy(),
    metrics.KLDivergence(), metrics.Poisson(), metrics.Hinge(), metrics.SquaredHinge(), metrics.CategoricalHinge(),
    metrics.LossMetric(losses.BinaryFocalCrossentropy(gamma=3.0)), metrics.MeanSquaredError(),
    metrics.MeanAbsoluteError(),
]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    config = metric.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = metrics.deserialize(metrics.serialize(metric))
    assert type(clone) is type(metric) and clone.get_config() == config
    assert type(metric).from_config(config).get_config() == config


def test_auc_keras_config():
    assert metrics.AUC().get_config() == {
        "name": "auc", "dtype": None, "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None,
        "label_weights": None, "from_logits": False}
    assert metrics.Precision().get_config() == {"name": "precision", "dtype": None, "thresholds": None,
                                                "top_k": None, "class_id": None}


def test_reset_state_and_results_before_any_update():
    for metric in (metrics.Precision(), metrics.AUC(), metrics.AUC(multi_label=True), metrics.F1Score(),
                   metrics.R2Score(), metrics.RootMeanSquaredError()):
        assert metric.result() == 0.0
    m = metrics.AUC()
    m.update_state([0, 1], [0.2, 0.9])
    assert m.result() == 1.0
    m.reset_state()
    assert m.result() == 0.0


@pytest.mark.parametrize("make, match", [
    (lambda: metrics.Precision(thresholds=1.5), r"'thresholds' parameter of Precision must be a float in \[0, 1\]"),
    (lambda: metrics.Recall(top_k=0), r"'top_k' parameter of Recall must be an int in the range \[1, inf\)"),
    (lambda: metrics.AUC(curve="XY"), r"'curve' parameter of AUC must be one of \{'ROC', 'PR'\}"),
    (lambda: metrics.AUC(summation_method="simpson"), r"'summation_method' parameter of AUC"),
    (lambda: metrics.AUC(num_thresholds=1), r"'num_thresholds' parameter of AUC"),
    (lambda: metrics.AUC(num_labels=3), r"'num_labels' parameter of AUC is only used with multi_label"),
    (lambda: metrics.F1Score(average="samples"), r"'average' parameter of F1Score"),
    (lambda: metrics.FBetaScore(beta=0), r"'beta' parameter of FBetaScore must be a float > 0"),
    (lambda: metrics.F1Score(threshold=0.0), r"'threshold' parameter of F1Score must be None or a float in \(0, 1\]"),
    (lambda: metrics.R2Score(class_aggregation="mean"), r"'class_aggregation' parameter of R2Score"),
    (lambda: metrics.R2Score(num_regressors=-1), r"'num_regressors' parameter of R2Score"),
    (lambda: metrics.TopKCategoricalAccuracy(k=0), r"'k' parameter of TopKCategoricalAccuracy"),
])
def test_invalid_parameters(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match=r"'y_true' argument of Precision.update_state must have the shape of y_pred"):
        metrics.Precision().update_state(np.array([0, 1, 2]), np.ones((3, 3)) / 3)
    with pytest.raises(ValueError, match=r"'y_true' argument of F1Score.update_state.*one-hot"):
        metrics.F1Score().update_state(np.array([0, 1, 2]), np.ones((3, 3)) / 3)
    with pytest.raises(ValueError, match=r"'class_id' parameter of Precision must index the last axis"):
        metrics.Precision(class_id=3).update_state(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match=r"R2Score.update_state must be 2D"):
        metrics.R2Score().update_state(np.ones((2, 2, 2)), np.ones((2, 2, 2)))


# -- through compile / fit / evaluate ----------------------------------------------------


def _classification_data(n=240, seed=14):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype("float32")
    return x, (x[:, 0] - 0.7 * x[:, 1] + 0.3 * rng.standard_normal(n) > 0).astype(int)


def test_binary_classification_metrics_in_fit_and_evaluate():
    x, y = _classification_data()
    model = Sequential([Dense(1, input_shape=(4,), activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=["precision", "recall", "auc", metrics.AUC(curve="PR", name="pr_auc"),
                           metrics.F1Score(threshold=0.5, average="micro"), "binary_crossentropy"])
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, validation_split=0.25)
    assert sorted(history.history) == sorted(
        ["loss", "precision", "recall", "auc", "pr_auc", "f1_score", "binary_crossentropy"]
        + [f"val_{k}" for k in ("loss", "precision", "recall", "auc", "pr_auc", "f1_score",
                                "binary_crossentropy")])
    logs = model.evaluate(x, y, batch_size=50, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)[:, 0]
    assert logs["precision"] == pytest.approx(skm.precision_score(y, p > 0.5))
    assert logs["recall"] == pytest.approx(skm.recall_score(y, p > 0.5))
    assert logs["auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=5e-3)
    assert logs["f1_score"] == pytest.approx(skm.f1_score(y, p > 0.5), rel=1e-5)
    assert logs["binary_crossentropy"] == pytest.approx(logs["loss"], rel=1e-5)


def test_hinge_model_metrics_see_the_01_labels():
    x, y = _classification_data(seed=15)
    model = Sequential([Dense(1, input_shape=(4,), activation="tanh")])
    model.compile("adam", "hinge", metrics=[metrics.Precision(thresholds=0.0), "hinge", "accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    out = model.predict(x, verbose=0)[:, 0]
    assert logs["precision"] == pytest.approx(skm.precision_score(y, out > 0.0))
    assert logs["hinge"] == pytest.approx(np.mean(np.maximum(1 - (2 * y - 1) * out, 0)), rel=1e-5)


def test_multiclass_metrics_in_fit_and_evaluate():
    x, score = _classification_data(seed=16)
    labels = np.digitize(x[:, 0] + x[:, 2], [-0.7, 0.0, 0.7])
    model = Sequential([Dense(4, input_shape=(4,), activation="softmax")])
    model.compile("adam", "categorical_crossentropy",
                  metrics=[metrics.TopKCategoricalAccuracy(k=2), metrics.F1Score(average="macro"),
                           metrics.F1Score(name="f1_per_class"), metrics.Precision(class_id=2, name="p2"),
                           metrics.AUC(multi_label=True, name="auc_ml")])
    history = model.fit(x, np.eye(4)[labels], epochs=2, batch_size=32, verbose=0)
    assert sorted(history.history) == ["auc_ml", "f1_per_class", "f1_score", "loss", "p2",
                                       "top_k_categorical_accuracy"]
    assert history.history["f1_per_class"][-1].shape == (4,)
    logs = model.evaluate(x, np.eye(4)[labels], batch_size=64, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0)
    assert logs["top_k_categorical_accuracy"] == pytest.approx(
        skm.top_k_accuracy_score(labels, probs, k=2, labels=range(4)))
    assert logs["f1_score"] == pytest.approx(skm.f1_score(labels, probs.argmax(1), average="macro"), rel=1e-5)
    assert logs["p2"] == pytest.approx(skm.precision_score(labels == 2, probs[:, 2] > 0.5, zero_division=0))


def test_sparse_multiclass_metrics_in_fit():
    x, _ = _classification_data(seed=17)
    labels = np.digitize(x[:, 1], [-0.5, 0.5])
    model = Sequential([Dense(3, input_shape=(4,), activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy(k=1, name="top1"),
                           "accuracy", "sparse_categorical_crossentropy"])
    history = model.fit(x, labels, epochs=2, batch_size=32, verbose=0)
    assert history.history["top1"] == pytest.approx(history.history["accuracy"])
    assert history.history["sparse_top_k_categorical_accuracy"] == [1.0, 1.0]  # k=5 > 3 classes


def test_regression_metrics_in_fit_and_evaluate():
    rng = np.random.default_rng(18)
    x = rng.standard_normal((200, 3)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5]) + 3.0
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("adam", "mse", metrics=["root_mean_squared_error", "r2_score", "mape", "msle", "mae",
                                          "huber", metrics.CosineSimilarity()])
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, validation_data=(x[:50], y[:50]))
    assert {"root_mean_squared_error", "r2_score", "val_r2_score", "mape", "msle", "huber",
            "cosine_similarity"} <= set(history.history)
    sw = rng.uniform(0.5, 1.5, 200)
    logs = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True, sample_weight=sw)
    p = model.predict(x, verbose=0)[:, 0]
    assert logs["r2_score"] == pytest.approx(skm.r2_score(y, p, sample_weight=sw), rel=1e-5)
    assert logs["root_mean_squared_error"] == pytest.approx(
        np.sqrt(skm.mean_squared_error(y, p, sample_weight=sw)), rel=1e-5)
    assert logs["mape"] == pytest.approx(100 * skm.mean_absolute_percentage_error(y, p, sample_weight=sw), rel=1e-4)


def test_metrics_in_compile_config_round_trip():
    model = Sequential([Dense(1, input_shape=(2,), activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=[metrics.AUC(num_thresholds=50), "precision",
                                                          losses.Huber(delta=0.5), losses.Hinge(name="h")])
    specs = json.loads(json.dumps(model.get_compile_config()["metrics"]))
    restored = [m if isinstance(m, str) else metrics.deserialize(m) for m in specs]
    assert restored[0].get_config() == metrics.AUC(num_thresholds=50).get_config()
    assert restored[1] == "precision"
    assert isinstance(restored[2], metrics.LossMetric) and restored[2].loss.delta == 0.5
    # A loss class whose name is also a metric class still comes back as the loss's mean.
    assert isinstance(restored[3], metrics.LossMetric) and restored[3].name == "h"
    assert type(metrics.deserialize(metrics.serialize(metrics.Hinge()))) is metrics.Hinge
