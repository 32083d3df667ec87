"""Losses: Keras reference values, reductions, sample weights, gradients, fused paths."""

import json

import numpy as np
import pytest

from automl.keras import activations, losses
from automl.testing import check_fused_loss_gradients, check_loss_gradients

N, K = 5, 4
REDUCTIONS = ["sum", "sum_over_batch_size", "mean_with_sample_weight", "none"]


def _data(kind, shape=(N, K), seed=0):
    """(y_true, y_pred) for a loss kind, with predictions well inside any clipping."""
    rng = np.random.default_rng(seed)
    lead, k = shape[:-1], shape[-1]
    labels = rng.integers(0, k, size=lead)
    if kind == "mse":
        return rng.standard_normal(shape), rng.standard_normal(shape)
    if kind == "cce":  # unnormalized positive scores: the loss normalizes them
        return np.eye(k)[labels], rng.uniform(0.1, 1.0, size=shape)
    if kind == "sparse":
        return labels, rng.uniform(0.1, 1.0, size=shape)
    if kind == "bce":
        return rng.integers(0, 2, size=shape).astype(float), rng.uniform(0.05, 0.95, size=shape)
    if kind == "logits_cce":
        return np.eye(k)[labels], 2.0 * rng.standard_normal(shape)
    if kind == "logits_sparse":
        return labels, 2.0 * rng.standard_normal(shape)
    if kind == "logits_bce":
        return rng.integers(0, 2, size=shape).astype(float), 2.0 * rng.standard_normal(shape)
    raise AssertionError(kind)


LOSS_CASES = [
    ("mse", lambda **kw: losses.MeanSquaredError(**kw)),
    ("cce", lambda **kw: losses.CategoricalCrossentropy(**kw)),
    ("cce", lambda **kw: losses.CategoricalCrossentropy(label_smoothing=0.1, **kw)),
    ("logits_cce", lambda **kw: losses.CategoricalCrossentropy(from_logits=True, **kw)),
    ("logits_cce", lambda **kw: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2, **kw)),
    ("sparse", lambda **kw: losses.SparseCategoricalCrossentropy(**kw)),
    ("logits_sparse", lambda **kw: losses.SparseCategoricalCrossentropy(from_logits=True, **kw)),
    ("bce", lambda **kw: losses.BinaryCrossentropy(**kw)),
    ("bce", lambda **kw: losses.BinaryCrossentropy(label_smoothing=0.2, **kw)),
    ("logits_bce", lambda **kw: losses.BinaryCrossentropy(from_logits=True, **kw)),
    ("logits_bce", lambda **kw: losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, **kw)),
]
LOSS_IDS = ["mse", "cce", "cce_smooth", "cce_logits", "cce_logits_smooth", "sparse", "sparse_logits",
            "bce", "bce_smooth", "bce_logits", "bce_logits_smooth"]


# -- gradients -----------------------------------------------------------------


def _each_reduction_and_weighting(test):
    """Parametrize ``test`` over every reduction, without and with sample weights."""
    test = pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])(test)
    return pytest.mark.parametrize("reduction", REDUCTIONS)(test)


def _sample_weight(weighted):
    return np.random.default_rng(1).uniform(0.1, 2.0, size=N) if weighted else None


@pytest.mark.parametrize("kind, make", LOSS_CASES, ids=LOSS_IDS)
@_each_reduction_and_weighting
def test_value_and_grad_matches_central_differences(kind, make, reduction, weighted):
    y_true, y_pred = _data(kind)
    sw = _sample_weight(weighted)
    check_loss_gradients(make(reduction=reduction), y_true, y_pred, sw, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kind, make", LOSS_CASES, ids=LOSS_IDS)
def test_value_and_grad_on_3d_outputs(kind, make):
    y_true, y_pred = _data(kind, shape=(3, 2, K))
    sw = np.array([0.5, 1.0, 2.0])
    check_loss_gradients(make(), y_true, y_pred, sw)


FUSED_CASES = [
    ("logits_cce", lambda **kw: losses.CategoricalCrossentropy(**kw)),
    ("logits_cce", lambda **kw: losses.CategoricalCrossentropy(label_smoothing=0.1, **kw)),
    ("logits_sparse", lambda **kw: losses.SparseCategoricalCrossentropy(**kw)),
    ("logits_bce", lambda **kw: losses.BinaryCrossentropy(**kw)),
    ("logits_bce", lambda **kw: losses.BinaryCrossentropy(label_smoothing=0.2, **kw)),
]


@pytest.mark.parametrize("kind, make", FUSED_CASES, ids=["cce", "cce_smooth", "sparse", "bce", "bce_smooth"])
@_each_reduction_and_weighting
def test_fused_gradient_is_the_gradient_wrt_the_logits(kind, make, reduction, weighted):
    # fused_value_and_grad(y, softmax(z)) must be d loss(softmax(z)) / dz (sigmoid for BCE).
    y_true, logits = _data(kind)
    sw = _sample_weight(weighted)
    check_fused_loss_gradients(make(reduction=reduction), y_true, logits, sw, rtol=1e-5, atol=1e-7)


def test_fused_activations_are_declared():
    assert losses.CategoricalCrossentropy.fused_activation == "softmax"
    assert losses.SparseCategoricalCrossentropy.fused_activation == "softmax"
    assert losses.BinaryCrossentropy.fused_activation == "sigmoid"
    assert losses.MeanSquaredError.fused_activation is None
    with pytest.raises(NotImplementedError, match="no fused gradient"):
        losses.MeanSquaredError().fused_value_and_grad(np.zeros((2, 2)), np.zeros((2, 2)))


@pytest.mark.parametrize("kind, make", LOSS_CASES, ids=LOSS_IDS)
def test_value_and_grad_value_equals_call(kind, make):
    y_true, y_pred = _data(kind)
    loss = make()
    sw = np.linspace(0.5, 1.5, N)
    value, _ = loss.value_and_grad(loss.prepare_targets(np.asarray(y_true), y_pred.shape), y_pred.copy(), sw)
    assert value == pytest.approx(loss(y_true, y_pred, sample_weight=sw), rel=1e-12)


# -- values against Keras's documented examples ----------------------------------


def test_mean_squared_error_keras_example():
    y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
    assert losses.MeanSquaredError()(y_true, y_pred) == pytest.approx(0.5)
    assert losses.MeanSquaredError()(y_true, y_pred, sample_weight=[0.7, 0.3]) == pytest.approx(0.25)
    assert losses.MeanSquaredError(reduction="sum")(y_true, y_pred) == pytest.approx(1.0)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(y_true, y_pred), [0.5, 0.5])


def test_categorical_crossentropy_keras_example():
    y_true, y_pred = [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    assert losses.CategoricalCrossentropy()(y_true, y_pred) == pytest.approx(1.177, abs=1e-3)
    assert losses.CategoricalCrossentropy()(y_true, y_pred, sample_weight=[0.3, 0.7]) == pytest.approx(0.814, abs=1e-3)
    assert losses.CategoricalCrossentropy(reduction="sum")(y_true, y_pred) == pytest.approx(2.354, abs=1e-3)
    np.testing.assert_allclose(losses.CategoricalCrossentropy(reduction="none")(y_true, y_pred),
                               [0.0513, 2.3026], atol=1e-4)


def test_sparse_categorical_crossentropy_keras_example():
    y_true, y_pred = [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    assert losses.SparseCategoricalCrossentropy()(y_true, y_pred) == pytest.approx(1.177, abs=1e-3)
    assert losses.SparseCategoricalCrossentropy()(y_true, y_pred, sample_weight=[0.3, 0.7]) == pytest.approx(
        0.814, abs=1e-3)
    np.testing.assert_allclose(losses.SparseCategoricalCrossentropy(reduction="none")(y_true, y_pred),
                               [0.0513, 2.3026], atol=1e-4)


def test_binary_crossentropy_keras_examples():
    y_true, y_pred = [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]
    assert losses.BinaryCrossentropy()(y_true, y_pred) == pytest.approx(0.815, abs=1e-3)
    assert losses.BinaryCrossentropy()(y_true, y_pred, sample_weight=[1, 0]) == pytest.approx(0.458, abs=1e-3)
    assert losses.BinaryCrossentropy(reduction="sum")(y_true, y_pred) == pytest.approx(1.630, abs=1e-3)
    np.testing.assert_allclose(losses.BinaryCrossentropy(reduction="none")(y_true, y_pred), [0.916, 0.714],
                               atol=1e-3)
    logits_loss = losses.BinaryCrossentropy(from_logits=True)
    assert logits_loss([0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8]) == pytest.approx(0.865, abs=1e-3)


def test_crossentropies_clip_probabilities_at_epsilon():
    # log(1e-7) bounds the loss of a zero probability on the true class, as in Keras.
    value = losses.CategoricalCrossentropy(reduction="none")([[1.0, 0.0]], [[0.0, 1.0]])
    np.testing.assert_allclose(value, [-np.log(1e-7)], rtol=1e-5)
    value = losses.BinaryCrossentropy(reduction="none")([[1.0]], [[0.0]])
    np.testing.assert_allclose(value, [-np.log(1e-7)], rtol=1e-5)


def test_from_logits_equals_probabilities_of_softmax_and_sigmoid():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 3))
    t = np.eye(3)[rng.integers(0, 3, 6)]
    cce_logits = losses.CategoricalCrossentropy(from_logits=True)(t, z)
    assert cce_logits == pytest.approx(losses.CategoricalCrossentropy()(t, activations.softmax(z)), rel=1e-9)
    b = rng.integers(0, 2, (6, 3)).astype(float)
    bce_logits = losses.BinaryCrossentropy(from_logits=True)(b, z)
    assert bce_logits == pytest.approx(losses.BinaryCrossentropy()(b, activations.sigmoid(z)), rel=1e-9)


def test_from_logits_is_stable_for_large_logits():
    z = np.array([[1000.0, -1000.0]])
    assert np.isfinite(losses.CategoricalCrossentropy(from_logits=True)([[0.0, 1.0]], z))
    assert losses.CategoricalCrossentropy(from_logits=True)([[0.0, 1.0]], z) == pytest.approx(2000.0)
    assert losses.BinaryCrossentropy(from_logits=True)([[1.0, 0.0]], z) == pytest.approx(0.0, abs=1e-12)


def test_label_smoothing_formulas():
    t, p = np.array([[0.0, 1.0, 0.0]]), np.array([[0.2, 0.5, 0.3]])
    smoothed = t * 0.7 + 0.3 / 3
    expected = -(smoothed * np.log(p)).sum()
    assert losses.CategoricalCrossentropy(label_smoothing=0.3)(t, p) == pytest.approx(expected, rel=1e-9)
    b, q = np.array([[1.0, 0.0]]), np.array([[0.8, 0.4]])
    sb = b * 0.8 + 0.1
    expected = -(sb * np.log(q) + (1 - sb) * np.log(1 - q)).mean()
    assert losses.BinaryCrossentropy(label_smoothing=0.2)(b, q) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("kind, make", LOSS_CASES, ids=LOSS_IDS)
def test_reductions_relate_to_per_sample_values(kind, make):
    y_true, y_pred = _data(kind)
    sw = np.random.default_rng(2).uniform(0.0, 2.0, size=N)
    values = make(reduction="none")(y_true, y_pred)
    assert values.shape == (N,)
    weighted = make(reduction="none")(y_true, y_pred, sample_weight=sw)
    np.testing.assert_allclose(weighted, values * sw, rtol=1e-12)
    assert make(reduction="sum")(y_true, y_pred, sample_weight=sw) == pytest.approx((values * sw).sum())
    # Keras 3: sum_over_batch_size divides by the number of values, not the weights.
    assert make()(y_true, y_pred, sample_weight=sw) == pytest.approx((values * sw).sum() / N)
    assert make(reduction="mean_with_sample_weight")(y_true, y_pred, sample_weight=sw) == pytest.approx(
        (values * sw).sum() / sw.sum())


def test_functional_forms_return_per_sample_values():
    y_true, y_pred = _data("cce")
    np.testing.assert_allclose(losses.categorical_crossentropy(y_true, y_pred),
                               losses.CategoricalCrossentropy(reduction="none")(y_true, y_pred))
    y_true, y_pred = _data("mse")
    np.testing.assert_allclose(losses.mean_squared_error(y_true, y_pred), np.mean((y_true - y_pred) ** 2, axis=-1))
    assert losses.mse is losses.mean_squared_error
    y_true, y_pred = _data("bce")
    assert losses.binary_crossentropy(y_true, y_pred).shape == (N,)
    y_true, y_pred = _data("sparse")
    assert losses.sparse_categorical_crossentropy(y_true, y_pred).shape == (N,)



def test_sparse_ignore_class_masks_those_labels():
    # Keras 3: entries whose label is ignore_class get loss 0 (and are left out of the mean).
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3]])
    values = losses.SparseCategoricalCrossentropy(ignore_class=0, reduction="none")([0, 1], probs)
    np.testing.assert_allclose(values, [0.0, -np.log(0.5)], rtol=1e-6)


# -- registry and config -------------------------------------------------------


@pytest.mark.parametrize(
    "identifier, cls",
    [("mse", "MeanSquaredError"), ("MSE", "MeanSquaredError"), ("mean_squared_error", "MeanSquaredError"),
     ("MeanSquaredError", "MeanSquaredError"), ("categorical_crossentropy", "CategoricalCrossentropy"),
     ("CategoricalCrossentropy", "CategoricalCrossentropy"),
     ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"),
     ("binary_crossentropy", "BinaryCrossentropy"), ("bce", "BinaryCrossentropy")],
)
def test_get_by_name(identifier, cls):
    assert type(losses._get_loss_instance(identifier)).__name__ == cls


def test_get_from_functional_form_and_config_dict():
    assert isinstance(losses._get_loss_instance(losses.categorical_crossentropy), losses.CategoricalCrossentropy)
    loss = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(loss, losses.CategoricalCrossentropy) and loss.from_logits


def test_get_accepts_instances_and_classes():
    loss = losses.CategoricalCrossentropy(from_logits=True)
    assert losses.get(loss) is loss
    assert isinstance(losses.get(losses.BinaryCrossentropy), losses.BinaryCrossentropy)


@pytest.mark.parametrize("kind, make", LOSS_CASES, ids=LOSS_IDS)
def test_config_round_trip(kind, make):
    loss = make(reduction="sum", name="my_loss")
    config = loss.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    assert losses.deserialize(losses.serialize(loss)).get_config() == config


def test_keras_default_configs():
    assert losses.CategoricalCrossentropy().get_config() == {
        "name": "categorical_crossentropy", "reduction": "sum_over_batch_size", "dtype": None,
        "from_logits": False, "label_smoothing": 0.0, "axis": -1}
    assert losses.SparseCategoricalCrossentropy().get_config() == {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size", "dtype": None,
        "from_logits": False, "axis": -1, "ignore_class": None}


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret loss identifier: 'hingee'.*categorical_crossentropy.*mse"):
        losses.get("hingee")


def test_bad_reduction_and_label_smoothing():
    with pytest.raises(ValueError, match=r"'reduction' parameter of MeanSquaredError.*Got 'avg'"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match=r"'label_smoothing' parameter of CategoricalCrossentropy"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)


def test_prepare_targets_checks_shapes_and_labels():
    with pytest.raises(ValueError, match=r"'y' argument of fit must have shape \(None, 3\).*Got y of shape \(4, 2\)"):
        losses.CategoricalCrossentropy().prepare_targets(np.zeros((4, 2)), (4, 3))
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\].*3 output units"):
        losses.SparseCategoricalCrossentropy().prepare_targets(np.array([0, 3]), (2, 3))
    with pytest.raises(ValueError, match="non-integer values"):
        losses.SparseCategoricalCrossentropy().prepare_targets(np.array([0.5, 1.0]), (2, 3))
    # A (n,) target for a 1-unit output is reshaped to (n, 1); (n, 1) labels for sparse to (n,).
    assert losses.BinaryCrossentropy().prepare_targets(np.array([0, 1]), (2, 1)).shape == (2, 1)
    assert losses.SparseCategoricalCrossentropy().prepare_targets(np.array([[0], [2]]), (2, 3)).shape == (2,)
