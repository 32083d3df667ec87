"""IoU, sensitivity/specificity-at, Sum and correlation metrics: Keras examples, references, fit."""

import json

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from automl.keras import Sequential, metrics
from automl.keras.layers import Dense


def _streamed(metric, y_true, y_pred, sample_weight=None, batch=37):
    """Update batch by batch, check the one-batch result is the same, return it."""
    metric.reset_state()
    for start in range(0, len(y_pred), batch):
        sl = slice(start, start + batch)
        metric.update_state(y_true[sl], y_pred[sl], None if sample_weight is None else sample_weight[sl])
    streamed = metric.result()
    metric.reset_state()
    metric.update_state(y_true, y_pred, sample_weight)
    np.testing.assert_allclose(metric.result(), streamed, rtol=1e-9, atol=1e-12)
    return streamed


def _classes(n=300, k=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    scores = rng.dirichlet(np.ones(k), n)
    scores[np.arange(n), labels] += 0.4
    return labels, scores, rng.uniform(0.1, 2.0, n)


# -- IoU family ------------------------------------------------------------------------


def test_iou_keras_examples():
    m = metrics.IoU(num_classes=2, target_class_ids=[0])
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert m.result() == pytest.approx(0.33333334, rel=1e-6)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert m.result() == pytest.approx(0.33333334, rel=1e-6)

    m = metrics.MeanIoU(num_classes=2)
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert m.result() == pytest.approx(0.33333334, rel=1e-6)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert m.result() == pytest.approx(0.23809525, rel=1e-6)

    m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    assert m.result() == pytest.approx(0.33333334, rel=1e-6)
    m.reset_state()
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1])
    assert m.result() == pytest.approx(0.17361112, rel=1e-6)

    y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    y_pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    sw = [0.1, 0.2, 0.3, 0.4]
    m = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    m.update_state(y_true, y_pred, sw)
    assert m.result() == pytest.approx((0.1 / 0.7) / 2, rel=1e-5)  # Keras prints 0.071
    m = metrics.OneHotMeanIoU(num_classes=3)
    m.update_state(y_true, y_pred, sw)
    assert m.result() == pytest.approx((0.1 / 0.7) / 3, rel=1e-5)  # Keras prints 0.048


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_iou_matches_sklearn_jaccard(weighted):
    labels, scores, sw = _classes()
    sw = sw if weighted else None
    pred = scores.argmax(1)
    per_class = skm.jaccard_score(labels, pred, average=None, labels=[0, 1, 2, 3], sample_weight=sw)
    assert _streamed(metrics.MeanIoU(4), labels, pred, sw) == pytest.approx(per_class.mean(), rel=1e-6)
    assert _streamed(metrics.IoU(4, [1, 3]), labels, pred, sw) == pytest.approx(
        per_class[[1, 3]].mean(), rel=1e-6)
    assert _streamed(metrics.IoU(4, [2]), labels, pred, sw) == pytest.approx(per_class[2], rel=1e-6)
    onehot = np.eye(4)[labels]
    assert _streamed(metrics.OneHotMeanIoU(4), onehot, scores, sw) == pytest.approx(per_class.mean(), rel=1e-6)
    assert _streamed(metrics.OneHotIoU(4, [0, 2]), onehot, scores, sw) == pytest.approx(
        per_class[[0, 2]].mean(), rel=1e-6)
    assert _streamed(metrics.MeanIoU(4, sparse_y_true=False, sparse_y_pred=False), onehot, scores, sw) == (
        pytest.approx(per_class.mean(), rel=1e-6))


def test_binary_iou_matches_sklearn_and_threshold_is_inclusive():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 200), 0, 1)
    sw = rng.uniform(0.1, 2.0, 200)
    per_class = skm.jaccard_score(y, p >= 0.4, average=None, sample_weight=sw)
    assert _streamed(metrics.BinaryIoU(threshold=0.4), y, p[:, None], sw) == pytest.approx(per_class.mean(), rel=1e-6)
    assert _streamed(metrics.BinaryIoU([1], threshold=0.4), y, p, sw) == pytest.approx(per_class[1], rel=1e-6)
    m = metrics.BinaryIoU([1], threshold=0.5)
    m.update_state([1], [0.5])  # 0.5 >= threshold: predicted class 1
    assert m.result() == pytest.approx(1.0, rel=1e-6)


def test_iou_ignore_class_segmentation_maps_and_absent_classes():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, (6, 5, 5))
    y[:, 0, :] = 255  # a "void" border
    pred = rng.integers(0, 3, (6, 5, 5))
    keep = y != 255
    expected = skm.jaccard_score(y[keep], pred[keep], average=None).mean()
    m = metrics.MeanIoU(3, ignore_class=255)
    assert _streamed(m, y, pred, batch=4) == pytest.approx(expected, rel=1e-6)
    sw = rng.uniform(0.5, 1.5, 6)  # one weight per image
    m.reset_state()
    m.update_state(y, pred, sw)
    w = np.broadcast_to(sw[:, None, None], y.shape)[keep]
    assert m.result() == pytest.approx(skm.jaccard_score(y[keep], pred[keep], average=None, sample_weight=w).mean(),
                                       rel=1e-6)
    # A class with neither labels nor predictions is left out of the mean.
    m = metrics.MeanIoU(3)
    m.update_state([0, 0, 1], [0, 0, 1])
    assert m.result() == pytest.approx(1.0, rel=1e-6)


def test_iou_errors():
    with pytest.raises(ValueError, match="'target_class_ids' parameter of IoU"):
        metrics.IoU(2, [2])
    with pytest.raises(ValueError, match="'num_classes' parameter of MeanIoU"):
        metrics.MeanIoU(0)
    with pytest.raises(ValueError, match=r"class ids in \[0, 2\)"):
        metrics.MeanIoU(2).update_state([0, 3], [0, 1])


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
            got = _streamed(cls(value, num_thresholds=41), y, p, sw)
            assert got == pytest.approx(best(dep, con, value), rel=1e-9, abs=1e-12), (cls.__name__, value)


def test_rates_at_class_id_and_unreachable_precision():
    labels, scores, _ = _classes(seed=4)
    onehot = np.eye(4)[labels]
    m = metrics.SensitivityAtSpecificity(0.7, class_id=2)
    ref = metrics.SensitivityAtSpecificity(0.7)
    assert _streamed(m, onehot, scores) == pytest.approx(_streamed(ref, onehot[:, 2], scores[:, 2]))
    m = metrics.RecallAtPrecision(1.0)
    m.update_state([0, 1], [0.9, 0.1])  # the negative always scores higher
    assert m.result() == 0.0
    assert metrics.PrecisionAtRecall(0.5, num_thresholds=1).thresholds == [0.5]
    with pytest.raises(ValueError, match="'recall' parameter of PrecisionAtRecall"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="'num_thresholds' parameter of SensitivityAtSpecificity"):
        metrics.SensitivityAtSpecificity(0.5, num_thresholds=0)


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
    assert _streamed(metrics.PearsonCorrelation(), y, p, sw) == pytest.approx(np.average(r, weights=sw), rel=1e-5)
    assert _streamed(metrics.ConcordanceCorrelation(), y, p, sw) == pytest.approx(np.average(c, weights=sw),
                                                                                  rel=1e-5)
    # axis=0: one coefficient per column of the batch.
    np.testing.assert_allclose(metrics.pearson_correlation(y, p, axis=0),
                               [stats.pearsonr(y[:, j], p[:, j])[0] for j in range(6)], rtol=1e-5)
    # A constant sample has zero correlation rather than NaN.
    assert metrics.pearson_correlation([[1.0, 1.0, 1.0]], [[0.1, 0.5, 0.9]])[0] == 0.0


# -- registry, configs, fit -------------------------------------------------------------

CONFIGURED = [
    metrics.IoU(3, [0, 2], name="iou", ignore_class=-1, sparse_y_pred=False, axis=1),
    metrics.MeanIoU(4, sparse_y_true=False), metrics.OneHotIoU(3, [1]), metrics.OneHotMeanIoU(5, ignore_class=0),
    metrics.BinaryIoU([1], threshold=0.25), metrics.SensitivityAtSpecificity(0.4, num_thresholds=50, class_id=1),
    metrics.SpecificityAtSensitivity(0.6), metrics.PrecisionAtRecall(0.7, name="p_at_r"),
    metrics.RecallAtPrecision(0.9, num_thresholds=10), metrics.Sum(name="total"),
    metrics.PearsonCorrelation(axis=0), metrics.ConcordanceCorrelation(),
]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip_and_registry(metric):
    config = metric.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = metrics.deserialize(metrics.serialize(metric))
    assert type(clone) is type(metric) and clone.get_config() == config
    assert type(metric).from_config(config).get_config() == config
    assert metrics.get({"class_name": type(metric).__name__, "config": config}).get_config() == config


def test_keras_config_keys_and_default_names():
    assert metrics.IoU(2, [0]).get_config() == {
        "name": "io_u", "dtype": None, "num_classes": 2, "target_class_ids": [0], "ignore_class": None,
        "sparse_y_true": True, "sparse_y_pred": True, "axis": -1}
    assert set(metrics.OneHotMeanIoU(2).get_config()) == {"name", "dtype", "num_classes", "ignore_class",
                                                          "sparse_y_pred", "axis"}
    assert metrics.BinaryIoU().get_config() == {"target_class_ids": [0, 1], "threshold": 0.5,
                                                "name": "binary_io_u", "dtype": None}
    assert metrics.RecallAtPrecision(0.8).get_config() == {
        "name": "recall_at_precision", "dtype": None, "class_id": None, "num_thresholds": 200, "precision": 0.8}
    assert metrics.PearsonCorrelation().get_config() == {"name": "pearson_correlation", "dtype": None, "axis": -1}
    for name, cls in [("pearson_correlation", metrics.PearsonCorrelation),
                      ("concordance_correlation", metrics.ConcordanceCorrelation),
                      ("BinaryIoU", metrics.BinaryIoU)]:
        assert type(metrics.get(name)) is cls


def test_new_metrics_in_fit_and_evaluate():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(160, 4)).astype(np.float32)
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(np.float32)
    model = Sequential([Dense(1, input_shape=(4,), activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=[metrics.BinaryIoU(), metrics.MeanIoU(2, name="miou"),
                           metrics.SensitivityAtSpecificity(0.5), metrics.PrecisionAtRecall(0.5),
                           metrics.RecallAtPrecision(0.6), metrics.SpecificityAtSensitivity(0.5)])
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert {"binary_io_u", "miou", "sensitivity_at_specificity", "precision_at_recall",
            "recall_at_precision", "specificity_at_sensitivity"} <= set(history.history)
    logs = model.evaluate(x, y, batch_size=50, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)[:, 0]
    assert logs["binary_io_u"] == pytest.approx(skm.jaccard_score(y, p >= 0.5, average=None).mean(), rel=1e-5)

    yr = np.stack([x[:, 0] + x[:, 1], x[:, 2], -x[:, 3]], axis=1)
    reg = Sequential([Dense(3, input_shape=(4,))])
    reg.compile("adam", "mse", metrics=["pearson_correlation", metrics.ConcordanceCorrelation(name="ccc")])
    reg.fit(x, yr, epochs=2, batch_size=32, verbose=0)
    logs = reg.evaluate(x, yr, batch_size=40, verbose=0, return_dict=True)
    out = reg.predict(x, verbose=0)
    assert logs["pearson_correlation"] == pytest.approx(float(metrics.pearson_correlation(yr, out).mean()), rel=1e-4)
    assert logs["ccc"] == pytest.approx(float(metrics.concordance_correlation(yr, out).mean()), rel=1e-4)
