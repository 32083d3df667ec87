"""Regression, hinge, divergence and focal losses together: Keras values, formulas, gradients, config."""

import json
import math

import numpy as np
import pytest

from automl.keras import Sequential, activations, losses
from automl.keras.layers import Dense
from automl.testing import check_loss_gradients

N, K = 5, 4
REDUCTIONS = ["sum", "sum_over_batch_size", "mean_with_sample_weight", "none"]


def _data(kind, shape=(N, K), seed=0):
    """(y_true, y_pred) for a loss kind, away from kinks and clipping boundaries."""
    rng = np.random.default_rng(seed)
    lead, k = shape[:-1], shape[-1]
    if kind == "real":
        return rng.standard_normal(shape), rng.standard_normal(shape)
    if kind == "positive":  # MAPE, MSLE, Poisson: positive targets and predictions
        return rng.uniform(0.5, 3.0, shape), rng.uniform(0.5, 3.0, shape)
    if kind == "binary":  # 0/1 labels, probabilities
        return rng.integers(0, 2, shape).astype(float), rng.uniform(0.05, 0.95, shape)
    if kind == "binary_logits":
        return rng.integers(0, 2, shape).astype(float), 2.0 * rng.standard_normal(shape)
    if kind == "signs":  # -1/1 labels, margins
        return rng.choice([-1.0, 1.0], shape), 1.5 * rng.standard_normal(shape)
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, lead)], rng.uniform(0.1, 1.0, shape)
    if kind == "onehot_logits":
        return np.eye(k)[rng.integers(0, k, lead)], 2.0 * rng.standard_normal(shape)
    if kind == "dist":  # two probability distributions
        return rng.dirichlet(np.ones(k), lead), rng.dirichlet(np.ones(k), lead)
    raise AssertionError(kind)


CASES = {
    "mae": ("real", lambda **kw: losses.MeanAbsoluteError(**kw)),
    "mape": ("positive", lambda **kw: losses.MeanAbsolutePercentageError(**kw)),
    "msle": ("positive", lambda **kw: losses.MeanSquaredLogarithmicError(**kw)),
    "huber": ("real", lambda **kw: losses.Huber(**kw)),
    "huber_delta": ("real", lambda **kw: losses.Huber(delta=0.3, **kw)),
    "log_cosh": ("real", lambda **kw: losses.LogCosh(**kw)),
    "hinge": ("signs", lambda **kw: losses.Hinge(**kw)),
    "hinge01": ("binary_logits", lambda **kw: losses.Hinge(**kw)),
    "squared_hinge": ("signs", lambda **kw: losses.SquaredHinge(**kw)),
    "squared_hinge01": ("binary_logits", lambda **kw: losses.SquaredHinge(**kw)),
    "categorical_hinge": ("onehot_logits", lambda **kw: losses.CategoricalHinge(**kw)),
    "kld": ("dist", lambda **kw: losses.KLDivergence(**kw)),
    "poisson": ("positive", lambda **kw: losses.Poisson(**kw)),
    "cosine": ("real", lambda **kw: losses.CosineSimilarity(**kw)),
    "bfce": ("binary", lambda **kw: losses.BinaryFocalCrossentropy(**kw)),
    "bfce_balanced": ("binary", lambda **kw: losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.3, gamma=1.5, label_smoothing=0.1, **kw)),
    "bfce_logits": ("binary_logits", lambda **kw: losses.BinaryFocalCrossentropy(from_logits=True, **kw)),
    "bfce_logits_balanced": ("binary_logits", lambda **kw: losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, gamma=3.0, from_logits=True, label_smoothing=0.2, **kw)),
    "cfce": ("onehot", lambda **kw: losses.CategoricalFocalCrossentropy(**kw)),
    "cfce_alpha_list": ("onehot", lambda **kw: losses.CategoricalFocalCrossentropy(
        alpha=[0.1, 0.2, 0.3, 0.4], gamma=0.5, label_smoothing=0.1, **kw)),
    "cfce_logits": ("onehot_logits", lambda **kw: losses.CategoricalFocalCrossentropy(
        from_logits=True, label_smoothing=0.2, **kw)),
}
IDS = list(CASES)


# -- gradients -----------------------------------------------------------------


@pytest.mark.parametrize("case", IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_value_and_grad_matches_central_differences(case, reduction, weighted):
    kind, make = CASES[case]
    y_true, y_pred = _data(kind)
    sw = np.random.default_rng(1).uniform(0.1, 2.0, size=N) if weighted else None
    check_loss_gradients(make(reduction=reduction), y_true, y_pred, sw)


@pytest.mark.parametrize("case", IDS)
def test_value_and_grad_on_3d_outputs(case):
    kind, make = CASES[case]
    y_true, y_pred = _data(kind, shape=(3, 2, K), seed=3)
    check_loss_gradients(make(), y_true, y_pred, np.array([0.5, 1.0, 2.0]))


def test_cosine_similarity_gradient_along_another_axis():
    y_true, y_pred = _data("real", shape=(3, 4, 2))
    loss = losses.CosineSimilarity(axis=1)
    np.testing.assert_allclose(loss.call(y_true, y_pred), losses.CosineSimilarity().call(
        np.moveaxis(y_true, 1, -1), np.moveaxis(y_pred, 1, -1)), rtol=1e-12)
    check_loss_gradients(loss, y_true, y_pred)


def test_gradients_at_the_clipping_boundaries_are_zero():
    # KLD, MSLE clip y_pred at eps; below it the loss is flat in y_pred.
    _, grad = losses.KLDivergence().value_and_grad(np.array([[0.5, 0.5]]), np.array([[0.0, 1e-9]]))
    np.testing.assert_array_equal(grad, 0.0)
    _, grad = losses.MeanSquaredLogarithmicError().value_and_grad(np.array([[1.0]]), np.array([[-2.0]]))
    np.testing.assert_array_equal(grad, 0.0)


@pytest.mark.parametrize("case", IDS)
def test_float32_in_float32_out(case):
    kind, make = CASES[case]
    y_true, y_pred = (a.astype(np.float32) for a in _data(kind))
    loss = make()
    values, grads = loss._values_and_grads(loss.prepare_targets(y_true, y_pred.shape), y_pred)
    assert values.dtype == np.float32 and grads.dtype == np.float32
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(grads))


@pytest.mark.parametrize("case", IDS)
def test_value_and_grad_value_equals_call(case):
    kind, make = CASES[case]
    y_true, y_pred = _data(kind)
    loss = make()
    sw = np.linspace(0.5, 1.5, N)
    value, _ = loss.value_and_grad(loss.prepare_targets(np.asarray(y_true), y_pred.shape), y_pred.copy(), sw)
    assert value == pytest.approx(loss(y_true, y_pred, sample_weight=sw), rel=1e-12)


# -- values: Keras's documented examples -------------------------------------------

A = [[0.0, 1.0], [0.0, 0.0]]
B = [[0.6, 0.4], [0.4, 0.6]]

KERAS_EXAMPLES = [
    # cls, y_true, y_pred, sample_weight, (mean, weighted mean, sum, per-sample)
    (losses.MeanAbsoluteError, A, [[1.0, 1.0], [1.0, 0.0]], [0.7, 0.3], (0.5, 0.25, 1.0, [0.5, 0.5])),
    (losses.MeanAbsolutePercentageError, [[2.0, 1.0], [2.0, 3.0]], [[1.0, 1.0], [1.0, 0.0]], [0.7, 0.3],
     (50.0, 20.0, 100.0, [25.0, 75.0])),
    (losses.MeanSquaredLogarithmicError, A, [[1.0, 1.0], [1.0, 0.0]], [0.7, 0.3],
     (0.240, 0.120, 0.480, [0.240, 0.240])),
    (losses.Huber, A, B, [1.0, 0.0], (0.155, 0.09, 0.31, [0.18, 0.13])),
    (losses.LogCosh, A, [[1.0, 1.0], [0.0, 0.0]], [0.8, 0.2], (0.108, 0.087, 0.217, [0.217, 0.0])),
    (losses.Hinge, A, B, [1.0, 0.0], (1.3, 0.55, 2.6, [1.1, 1.5])),
    (losses.SquaredHinge, A, B, [1.0, 0.0], (1.86, 0.73, 3.72, [1.46, 2.26])),
    (losses.CategoricalHinge, A, B, [1.0, 0.0], (1.4, 0.6, 2.8, [1.2, 1.6])),
    (losses.KLDivergence, A, B, [0.8, 0.2], (0.458, 0.366, 0.916, [0.916, -3.08e-06])),
    (losses.Poisson, A, [[1.0, 1.0], [0.0, 0.0]], [0.8, 0.2], (0.5, 0.4, 0.999, [0.999, 0.0])),
    (losses.CosineSimilarity, [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], [0.8, 0.2],
     (-0.5, -0.1, -1.0, [0.0, -1.0])),
]


@pytest.mark.parametrize("cls, y_true, y_pred, sw, expected", KERAS_EXAMPLES,
                         ids=[c[0].__name__ for c in KERAS_EXAMPLES])
def test_keras_documented_values(cls, y_true, y_pred, sw, expected):
    mean, weighted, total, per_sample = expected
    assert cls()(y_true, y_pred) == pytest.approx(mean, abs=1e-3)
    assert cls()(y_true, y_pred, sample_weight=sw) == pytest.approx(weighted, abs=1e-3)
    assert cls(reduction="sum")(y_true, y_pred) == pytest.approx(total, abs=1e-3)
    np.testing.assert_allclose(cls(reduction="none")(y_true, y_pred), per_sample, atol=1e-3)


def test_binary_focal_crossentropy_keras_examples():
    y1, z1 = [0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8]
    BFCE = losses.BinaryFocalCrossentropy
    assert BFCE(gamma=2, from_logits=True)(y1, z1) == pytest.approx(0.691, abs=1e-3)
    assert BFCE(apply_class_balancing=True, gamma=2, from_logits=True)(y1, z1) == pytest.approx(0.51, abs=1e-2)
    y2, z2 = [[0, 1], [0, 0]], [[-18.6, 0.51], [2.94, -12.8]]
    assert BFCE(gamma=3, from_logits=True)(y2, z2) == pytest.approx(0.647, abs=1e-3)
    assert BFCE(apply_class_balancing=True, gamma=3, from_logits=True)(y2, z2) == pytest.approx(0.482, abs=1e-3)
    assert BFCE(gamma=3, from_logits=True)(y2, z2, sample_weight=[0.8, 0.2]) == pytest.approx(0.133, abs=1e-3)
    assert BFCE(apply_class_balancing=True, gamma=3, from_logits=True)(
        y2, z2, sample_weight=[0.8, 0.2]) == pytest.approx(0.097, abs=1e-3)
    assert BFCE(gamma=4, from_logits=True, reduction="sum")(y2, z2) == pytest.approx(1.222, abs=1e-3)
    assert BFCE(apply_class_balancing=True, gamma=4, from_logits=True, reduction="sum")(
        y2, z2) == pytest.approx(0.914, abs=1e-3)
    np.testing.assert_allclose(BFCE(gamma=5, from_logits=True, reduction=None)(y2, z2), [0.0017, 1.1561],
                               atol=1e-4)
    np.testing.assert_allclose(BFCE(apply_class_balancing=True, gamma=5, from_logits=True, reduction=None)(
        y2, z2), [0.0004, 0.8670], atol=1e-4)
    np.testing.assert_allclose(losses.binary_focal_crossentropy(A, B, gamma=2), [0.330, 0.206], atol=1e-3)


def test_categorical_focal_crossentropy_keras_examples():
    y_true, y_pred = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    CFCE = losses.CategoricalFocalCrossentropy
    assert CFCE()(y_true, y_pred) == pytest.approx(0.23315276, rel=1e-5)
    assert CFCE()(y_true, y_pred, sample_weight=[0.3, 0.7]) == pytest.approx(0.1632, abs=1e-4)
    assert CFCE(reduction="sum")(y_true, y_pred) == pytest.approx(0.46631, abs=1e-5)
    np.testing.assert_allclose(CFCE(reduction=None)(y_true, y_pred), [3.2058331e-05, 4.6627346e-01], rtol=1e-5)
    np.testing.assert_allclose(
        losses.categorical_focal_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]),
        [2.63401289e-04, 6.75912094e-01], rtol=1e-5)


# -- values: the formulas on random data ---------------------------------------------

EPS = 1e-7


def _ref_hinge_labels(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def _norm(x, axis=-1):
    return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), EPS)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _ref_bfce(t, p, balance=False, alpha=0.25, gamma=2.0, smoothing=0.0):
    t = t * (1 - smoothing) + 0.5 * smoothing
    pc = np.clip(p, EPS, 1 - EPS)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    p_t = t * p + (1 - t) * (1 - p)
    out = (1 - p_t) ** gamma * bce
    if balance:
        out = out * (t * alpha + (1 - t) * (1 - alpha))
    return out.mean(-1)


def _ref_cfce(t, p, alpha=0.25, gamma=2.0, smoothing=0.0):
    t = t * (1 - smoothing) + smoothing / t.shape[-1]
    o = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return (np.asarray(alpha) * (1 - o) ** gamma * -t * np.log(o)).sum(-1)


REFERENCES = [
    ("real", losses.MeanAbsoluteError(), lambda t, p: np.abs(t - p).mean(-1)),
    ("positive", losses.MeanAbsolutePercentageError(), lambda t, p: 100 * np.abs((t - p) / t).mean(-1)),
    ("positive", losses.MeanSquaredLogarithmicError(), lambda t, p: ((np.log1p(p) - np.log1p(t)) ** 2).mean(-1)),
    ("real", losses.Huber(delta=0.7), lambda t, p: np.where(
        np.abs(p - t) <= 0.7, 0.5 * (p - t) ** 2, 0.7 * np.abs(p - t) - 0.5 * 0.49).mean(-1)),
    ("real", losses.LogCosh(), lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    ("signs", losses.Hinge(), lambda t, p: np.maximum(1 - t * p, 0).mean(-1)),
    ("binary_logits", losses.Hinge(), lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)),
    ("binary_logits", losses.SquaredHinge(), lambda t, p: (np.maximum(1 - (2 * t - 1) * p, 0) ** 2).mean(-1)),
    ("onehot_logits", losses.CategoricalHinge(),
     lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
    ("dist", losses.KLDivergence(), lambda t, p: (t * np.log(t / p)).sum(-1)),
    ("positive", losses.Poisson(), lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    ("real", losses.CosineSimilarity(), lambda t, p: -(_norm(t) * _norm(p)).sum(-1)),
    ("binary", losses.BinaryFocalCrossentropy(), _ref_bfce),
    ("binary", losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.0,
                                              label_smoothing=0.2),
     lambda t, p: _ref_bfce(t, p, True, 0.4, 1.0, 0.2)),
    ("binary_logits", losses.BinaryFocalCrossentropy(from_logits=True, gamma=2.5),
     lambda t, z: _ref_bfce(t, 1 / (1 + np.exp(-z)), gamma=2.5)),
    ("onehot", losses.CategoricalFocalCrossentropy(), _ref_cfce),
    ("onehot", losses.CategoricalFocalCrossentropy(alpha=[0.5, 1.0, 1.5, 2.0, 0.1], gamma=1.0,
                                                   label_smoothing=0.1),
     lambda t, p: _ref_cfce(t, p, [0.5, 1.0, 1.5, 2.0, 0.1], 1.0, 0.1)),
    ("onehot_logits", losses.CategoricalFocalCrossentropy(from_logits=True),
     lambda t, z: _ref_cfce(t, _softmax(z))),
]


@pytest.mark.parametrize("kind, loss, reference", REFERENCES,
                         ids=[f"{type(r[1]).__name__}-{i}" for i, r in enumerate(REFERENCES)])
def test_per_sample_values_follow_the_keras_formulas(kind, loss, reference):
    y_true, y_pred = _data(kind, shape=(8, 5), seed=7)
    np.testing.assert_allclose(loss.call(y_true, y_pred), reference(y_true, y_pred), rtol=1e-9, atol=1e-12)


def test_focal_losses_reduce_to_crossentropy():
    t, p = _data("binary", seed=2)
    np.testing.assert_allclose(losses.BinaryFocalCrossentropy(gamma=0.0).call(t, p),
                               losses.BinaryCrossentropy().call(t, p), rtol=1e-12)
    t, p = _data("onehot", seed=2)
    p = p / p.sum(-1, keepdims=True)
    np.testing.assert_allclose(losses.CategoricalFocalCrossentropy(alpha=1.0, gamma=0.0).call(t, p),
                               losses.CategoricalCrossentropy().call(t, p), rtol=1e-12)


def test_focal_from_logits_equals_probabilities():
    t, z = _data("binary_logits", seed=4)
    bf = losses.BinaryFocalCrossentropy(apply_class_balancing=True)
    assert losses.BinaryFocalCrossentropy(apply_class_balancing=True, from_logits=True)(t, z) == pytest.approx(
        bf(t, activations.sigmoid(z)), rel=1e-9)
    t, z = _data("onehot_logits", seed=4)
    assert losses.CategoricalFocalCrossentropy(from_logits=True)(t, z) == pytest.approx(
        losses.CategoricalFocalCrossentropy()(t, activations.softmax(z)), rel=1e-9)


def test_focal_down_weights_easy_examples():
    easy = losses.BinaryFocalCrossentropy(reduction="none")([[1.0]], [[0.95]])[0]
    hard = losses.BinaryFocalCrossentropy(reduction="none")([[1.0]], [[0.3]])[0]
    bce_ratio = math.log(0.3) / math.log(0.95)
    assert hard / easy > 10 * bce_ratio


def test_large_errors_stay_finite():
    assert losses.LogCosh()([[0.0]], [[1000.0]]) == pytest.approx(1000.0 - math.log(2.0))
    z = np.array([[800.0, -800.0]])
    value, grad = losses.BinaryFocalCrossentropy(from_logits=True).value_and_grad(np.array([[0.0, 1.0]]), z)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert losses.CosineSimilarity()([[1.0, 0.0]], [[0.0, 0.0]]) == 0.0


# -- hinge labels ------------------------------------------------------------------


def test_hinge_converts_01_labels_but_not_signed_or_other_labels():
    p = np.array([[0.3, -0.8]])
    assert losses.Hinge()([[1.0, 0.0]], p) == pytest.approx(losses.Hinge()([[1.0, -1.0]], p))
    # Labels that are not all 0/1 are used as given (0 stays 0: margin 1 - 0 * p = 1).
    assert losses.Hinge(reduction="none")([[0.0, -1.0]], p)[0] == pytest.approx((1.0 + 0.2) / 2)
    assert losses.hinge([[1.0, 0.0]], p)[0] == pytest.approx((0.7 + 0.2) / 2)


def test_hinge_targets_reach_metrics_unconverted():
    # prepare_targets only checks the shape: fit's metrics see the 0/1 labels as given.
    y = losses.Hinge().prepare_targets(np.array([0, 1, 1]), (3, 1))
    np.testing.assert_array_equal(y[:, 0], [0, 1, 1])
    with pytest.raises(ValueError, match=r"'y' argument of fit must have shape \(None, 2\)"):
        losses.SquaredHinge().prepare_targets(np.zeros((3, 3)), (3, 2))


# -- functional forms, registry, config ------------------------------------------------

FUNCTIONS = {
    "mean_absolute_error": losses.MeanAbsoluteError, "mae": losses.MeanAbsoluteError,
    "MAE": losses.MeanAbsoluteError, "mean_absolute_percentage_error": losses.MeanAbsolutePercentageError,
    "mape": losses.MeanAbsolutePercentageError, "MAPE": losses.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": losses.MeanSquaredLogarithmicError,
    "msle": losses.MeanSquaredLogarithmicError, "MSLE": losses.MeanSquaredLogarithmicError,
    "huber": losses.Huber, "Huber": losses.Huber, "log_cosh": losses.LogCosh, "logcosh": losses.LogCosh,
    "hinge": losses.Hinge, "squared_hinge": losses.SquaredHinge, "categorical_hinge": losses.CategoricalHinge,
    "kl_divergence": losses.KLDivergence, "kld": losses.KLDivergence, "KLD": losses.KLDivergence,
    "kullback_leibler_divergence": losses.KLDivergence, "poisson": losses.Poisson,
    "cosine_similarity": losses.CosineSimilarity, "binary_focal_crossentropy": losses.BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": losses.CategoricalFocalCrossentropy,
    "BinaryFocalCrossentropy": losses.BinaryFocalCrossentropy,
}


@pytest.mark.parametrize("name, cls", list(FUNCTIONS.items()))
def test_get_by_name_and_alias(name, cls):
    assert type(losses._get_loss_instance(name)) is cls


@pytest.mark.parametrize("fn, cls", [
    (losses.mean_absolute_error, losses.MeanAbsoluteError), (losses.mae, losses.MeanAbsoluteError),
    (losses.mape, losses.MeanAbsolutePercentageError), (losses.msle, losses.MeanSquaredLogarithmicError),
    (losses.huber, losses.Huber), (losses.log_cosh, losses.LogCosh), (losses.logcosh, losses.LogCosh),
    (losses.hinge, losses.Hinge), (losses.squared_hinge, losses.SquaredHinge),
    (losses.categorical_hinge, losses.CategoricalHinge), (losses.kl_divergence, losses.KLDivergence),
    (losses.kld, losses.KLDivergence), (losses.poisson, losses.Poisson),
    (losses.cosine_similarity, losses.CosineSimilarity),
    (losses.binary_focal_crossentropy, losses.BinaryFocalCrossentropy),
    (losses.categorical_focal_crossentropy, losses.CategoricalFocalCrossentropy),
])
def test_functional_forms_give_per_sample_values_and_resolve(fn, cls):
    kind = {losses.CategoricalHinge: "onehot", losses.KLDivergence: "dist",
            losses.CategoricalFocalCrossentropy: "onehot", losses.BinaryFocalCrossentropy: "binary",
            losses.MeanAbsolutePercentageError: "positive", losses.Poisson: "positive"}.get(cls, "real")
    y_true, y_pred = _data(kind)
    np.testing.assert_allclose(fn(y_true, y_pred), cls(reduction="none")(y_true, y_pred))
    assert type(losses._get_loss_instance(fn)) is cls


def test_functional_forms_take_keras_keyword_arguments():
    y_true, y_pred = _data("real")
    np.testing.assert_allclose(losses.huber(y_true, y_pred, delta=0.5), losses.Huber(0.5, reduction="none")(y_true, y_pred))
    np.testing.assert_allclose(losses.cosine_similarity(y_true, y_pred, axis=-1),
                               losses.CosineSimilarity(reduction="none")(y_true, y_pred))
    t, z = _data("binary_logits")
    np.testing.assert_allclose(
        losses.binary_focal_crossentropy(t, z, apply_class_balancing=True, alpha=0.4, gamma=1.0, from_logits=True),
        losses.BinaryFocalCrossentropy(True, 0.4, 1.0, True, reduction="none")(t, z))
    with pytest.raises(TypeError, match="unexpected keyword argument 'delta'"):
        losses.mean_absolute_error(y_true, y_pred, delta=1.0)


ALL_CLASSES = [losses.MeanAbsoluteError, losses.MeanAbsolutePercentageError, losses.MeanSquaredLogarithmicError,
               losses.Huber, losses.LogCosh, losses.Hinge, losses.SquaredHinge, losses.CategoricalHinge,
               losses.KLDivergence, losses.Poisson, losses.CosineSimilarity, losses.BinaryFocalCrossentropy,
               losses.CategoricalFocalCrossentropy]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    loss = cls(reduction="sum", name="custom")
    config = loss.get_config()
    assert json.loads(json.dumps(config)) == config
    assert cls.from_config(config).get_config() == config
    clone = losses.deserialize(losses.serialize(loss))
    assert type(clone) is cls and clone.get_config() == config


def test_keras_default_names_and_configs():
    assert losses.Huber().name == "huber_loss" and losses.Huber().function_name == "huber"
    assert losses.LogCosh().name == "log_cosh"
    assert losses.KLDivergence().name == "kl_divergence"
    assert losses.MeanAbsolutePercentageError().name == "mean_absolute_percentage_error"
    base = {"reduction": "sum_over_batch_size", "dtype": None}
    assert losses.Huber().get_config() == {"name": "huber_loss", **base, "delta": 1.0}
    assert losses.CosineSimilarity().get_config() == {"name": "cosine_similarity", **base, "axis": -1}
    assert losses.BinaryFocalCrossentropy().get_config() == {
        "name": "binary_focal_crossentropy", **base, "from_logits": False, "label_smoothing": 0.0, "axis": -1,
        "apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0}
    assert losses.CategoricalFocalCrossentropy().get_config() == {
        "name": "categorical_focal_crossentropy", **base, "from_logits": False, "label_smoothing": 0.0,
        "axis": -1, "alpha": 0.25, "gamma": 2.0}
    assert losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.8]).get_config()["alpha"] == [0.2, 0.8]


def test_keras_positional_argument_order():
    assert losses.Huber(2.0, "sum").delta == 2.0
    assert losses.CosineSimilarity(1, "sum").axis == 1
    loss = losses.BinaryFocalCrossentropy(True, 0.4, 3.0, True, 0.1)
    assert (loss.apply_class_balancing, loss.alpha, loss.gamma, loss.from_logits, loss.label_smoothing) == (
        True, 0.4, 3.0, True, 0.1)
    loss = losses.CategoricalFocalCrossentropy(0.5, 1.0, True)
    assert (loss.alpha, loss.gamma, loss.from_logits) == (0.5, 1.0, True)
    assert losses.CategoricalCrossentropy(True, 0.1, -1, "sum").reduction == "sum"
    assert losses.SparseCategoricalCrossentropy(True, 3, "sum").reduction == "sum"
    assert losses.MeanSquaredError("sum").reduction == "sum"


@pytest.mark.parametrize("make, match", [
    (lambda: losses.Huber(delta=0.0), r"'delta' parameter of Huber must be a float in the range \(0, inf\)"),
    (lambda: losses.Huber(delta="1"), r"'delta' parameter of Huber"),
    (lambda: losses.BinaryFocalCrossentropy(alpha=1.5), r"'alpha' parameter of BinaryFocalCrossentropy"),
    (lambda: losses.BinaryFocalCrossentropy(gamma=-1), r"'gamma' parameter of BinaryFocalCrossentropy"),
    (lambda: losses.CategoricalFocalCrossentropy(alpha=[0.5, -1]), r"'alpha' parameter of CategoricalFocal"),
    (lambda: losses.CategoricalFocalCrossentropy(label_smoothing=2), r"'label_smoothing' parameter"),
    (lambda: losses.MeanAbsoluteError(reduction="avg"), r"'reduction' parameter of MeanAbsoluteError"),
    (lambda: losses.CategoricalFocalCrossentropy(alpha=[0.5, 0.5])([[0, 0, 1]], [[0.2, 0.2, 0.6]]),
     r"'alpha' parameter of CategoricalFocalCrossentropy must hold one weight per class \(3 for"),
])
def test_invalid_parameters(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_cosine_axis_must_be_an_int():
    with pytest.raises(TypeError, match=r"'axis' parameter of CosineSimilarity must be an int"):
        losses.CosineSimilarity(axis=(1, 2))


# -- training --------------------------------------------------------------------


def _regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype("float32")
    return x, x @ np.array([1.0, -2.0, 0.5]) + 0.1


@pytest.mark.parametrize("loss", ["mae", "huber", "log_cosh", losses.Huber(delta=0.5), "mape", "msle", "poisson"])
def test_regression_losses_train(loss):
    x, y = _regression_data()
    positive = loss in ("mape", "msle", "poisson")
    if positive:
        y = np.abs(y) + 1.0
    model = Sequential([Dense(1, input_shape=(3,), activation="softplus" if positive else None)])
    model.compile("adam", loss)
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0) < before


@pytest.mark.parametrize("loss, activation, labels", [
    ("hinge", "tanh", "01"), ("squared_hinge", "tanh", "signs"), ("binary_focal_crossentropy", "sigmoid", "01"),
    (losses.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True), None, "01"),
])
def test_binary_losses_train(loss, activation, labels):
    x, score = _regression_data(seed=1)
    y = (score > 0).astype(float)
    if labels == "signs":
        y = 2 * y - 1
    model = Sequential([Dense(1, input_shape=(3,), activation=activation)])
    model.compile("adam", loss, metrics=["accuracy"] if labels == "01" else [])
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("loss", ["categorical_hinge", "categorical_focal_crossentropy", "kl_divergence",
                                  losses.CategoricalFocalCrossentropy(from_logits=True)])
def test_categorical_losses_train(loss):
    x, score = _regression_data(seed=2)
    y = np.eye(3)[np.digitize(score, [-1.0, 1.0])]
    logits = isinstance(loss, losses.Loss)
    model = Sequential([Dense(3, input_shape=(3,), activation=None if logits else "softmax")])
    model.compile("adam", loss)
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_cosine_similarity_trains_towards_minus_one():
    x, _ = _regression_data(seed=3)
    y = x @ np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("adam", "cosine_similarity")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert -1.0 <= history.history["loss"][-1] <= 1.0
