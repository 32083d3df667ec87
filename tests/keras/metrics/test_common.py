"""Every metric: names, registry, config round trips, validation, shape errors, fit and evaluate."""

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.keras import Sequential, losses, metrics
from automl.keras.layers import Dense


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


def _assert_config_round_trip(metric):
    """The config is JSON, and serialize/deserialize and from_config rebuild the same metric."""
    config = metric.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = metrics.deserialize(metrics.serialize(metric))
    assert type(clone) is type(metric) and clone.get_config() == config
    assert type(metric).from_config(config).get_config() == config
    return config


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    _assert_config_round_trip(metric)


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


CONFIGURED_IOU_RATES_CORRELATION = [
    metrics.IoU(3, [0, 2], name="iou", ignore_class=-1, sparse_y_pred=False, axis=1),
    metrics.MeanIoU(4, sparse_y_true=False), metrics.OneHotIoU(3, [1]), metrics.OneHotMeanIoU(5, ignore_class=0),
    metrics.BinaryIoU([1], threshold=0.25), metrics.SensitivityAtSpecificity(0.4, num_thresholds=50, class_id=1),
    metrics.SpecificityAtSensitivity(0.6), metrics.PrecisionAtRecall(0.7, name="p_at_r"),
    metrics.RecallAtPrecision(0.9, num_thresholds=10), metrics.Sum(name="total"),
    metrics.PearsonCorrelation(axis=0), metrics.ConcordanceCorrelation(),
]


@pytest.mark.parametrize("metric", CONFIGURED_IOU_RATES_CORRELATION, ids=lambda m: type(m).__name__)
def test_config_round_trip_and_registry(metric):
    config = _assert_config_round_trip(metric)
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
