"""Dice and Tversky losses, and the registry, config and validation of the overlap, generalized cross-entropy and Circle losses."""

import json

import numpy as np
import pytest

from automl.keras import Sequential, losses, utils
from automl.keras.layers import Dense
from automl.testing import check_loss_gradients

from .helpers import REDUCTIONS, embeddings, segmentation_data

# The Keras docstring example of Dice.
DICE_TRUE = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
DICE_PRED = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])


def _masks(seed=0, shape=(5, 4)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, shape).astype(float), rng.uniform(0.05, 0.95, shape)


# -- independent references ------------------------------------------------------------


def _ref_tversky(t, p, alpha, beta, axis):
    inter = np.sum(t * p, axis=axis)
    return 1 - inter / (inter + alpha * np.sum(t * (1 - p), axis=axis)
                        + beta * np.sum((1 - t) * p, axis=axis) + 1e-7)


# -- Keras documented values --------------------------------------------------------------


def test_dice_keras_docstring_example():
    per_sample = losses.dice(DICE_TRUE, DICE_PRED, axis=(1, 2, 3))
    np.testing.assert_allclose(per_sample, [0.5, 0.75757575], rtol=1e-6)
    whole = losses.dice(DICE_TRUE, DICE_PRED)
    assert np.shape(whole) == ()
    np.testing.assert_allclose(whole, 0.6164384, rtol=1e-6)
    np.testing.assert_allclose(losses.Dice(axis=(1, 2, 3), reduction=None)(DICE_TRUE, DICE_PRED),
                               [0.5, 0.75757575], rtol=1e-6)
    np.testing.assert_allclose(losses.Dice()(DICE_TRUE, DICE_PRED), 0.6164384, rtol=1e-6)


def test_tversky_with_equal_weights_is_dice():
    # Equal to Dice up to where eps enters: 1 - I / (I + (A + B) / 2) = 1 - 2I / (sum t + sum p).
    np.testing.assert_allclose(losses.tversky(DICE_TRUE, DICE_PRED, axis=(1, 2, 3)),
                               losses.dice(DICE_TRUE, DICE_PRED, axis=(1, 2, 3)), rtol=1e-6)


def test_tversky_weights_follow_keras():
    # Keras: alpha weights sum(y_true * (1 - y_pred)), beta weights sum((1 - y_true) * y_pred).
    t, p = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[0.5, 0.5], [1.0, 0.0]])
    # I = 1.5, sum t(1-p) = 1.5, sum (1-t)p = 0.5
    np.testing.assert_allclose(losses.Tversky(alpha=0.7, beta=0.3)(t, p), 1 - 1.5 / 2.7, rtol=1e-6)
    np.testing.assert_allclose(losses.Tversky(alpha=0.3, beta=0.7)(t, p), 1 - 1.5 / 2.3, rtol=1e-6)


@pytest.mark.parametrize("axis", [None, -1, (1,), (0, 1)])
@pytest.mark.parametrize("alpha, beta", [(0.5, 0.5), (0.7, 0.2)])
def test_tversky_matches_numpy_reference(axis, alpha, beta):
    t, p = _masks()
    got = losses.tversky(t, p, alpha=alpha, beta=beta, axis=axis)
    np.testing.assert_allclose(got, _ref_tversky(t, p, alpha, beta, axis), rtol=1e-6)


# -- gradients ----------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("make", [
    lambda r: losses.Dice(reduction=r), lambda r: losses.Dice(reduction=r, axis=-1),
    lambda r: losses.Tversky(0.7, 0.2, reduction=r), lambda r: losses.Tversky(0.3, 0.6, reduction=r, axis=(1,)),
])
def test_overlap_gradients(make, reduction, weighted):
    t, p = _masks()
    sw = np.linspace(0.5, 2.0, 5) if weighted else None
    check_loss_gradients(make(reduction), t, p, sw)


def test_overlap_gradients_on_4d_per_sample_axes():
    sw = np.array([0.3, 1.2])
    check_loss_gradients(losses.Dice(axis=(1, 2, 3)), DICE_TRUE, DICE_PRED * 0.8 + 0.1, sw)
    check_loss_gradients(losses.Tversky(0.6, 0.4, axis=(1, 2, 3)), DICE_TRUE, DICE_PRED * 0.8 + 0.1, sw)


@pytest.mark.parametrize("loss", [losses.Dice(), losses.Tversky(0.7, 0.3, axis=-1)])
def test_value_and_grad_value_equals_call(loss):
    t, p = _masks()
    value, _ = loss.value_and_grad(t, p.copy())
    np.testing.assert_allclose(value, loss(t, p), rtol=1e-12)


def test_float32_stays_float32():
    t, p = _masks()
    labels, emb = embeddings()
    for loss, yt, yp in [(losses.Dice(), t, p), (losses.Tversky(axis=-1), t, p),
                         (losses.Circle(), labels, emb)]:
        yp32 = yp.astype(np.float32)
        _, grad = loss.value_and_grad(loss.prepare_targets(yt, yp32.shape), yp32)
        assert grad.dtype == np.float32


# -- registry, functional forms, config -----------------------------------------------------


CLASSES = [losses.Dice, losses.Tversky, losses.CategoricalGeneralizedCrossEntropy, losses.Circle]


@pytest.mark.parametrize("name, cls", [
    ("dice", losses.Dice), ("Dice", losses.Dice), ("tversky", losses.Tversky),
    ("Tversky", losses.Tversky), ("circle", losses.Circle), ("Circle", losses.Circle),
    ("categorical_generalized_cross_entropy", losses.CategoricalGeneralizedCrossEntropy),
    ("CategoricalGeneralizedCrossEntropy", losses.CategoricalGeneralizedCrossEntropy),
])
def test_get_by_name(name, cls):
    assert type(losses._get_loss_instance(name)) is cls


@pytest.mark.parametrize("fn, cls", [
    (losses.dice, losses.Dice), (losses.tversky, losses.Tversky), (losses.circle, losses.Circle),
    (losses.categorical_generalized_cross_entropy, losses.CategoricalGeneralizedCrossEntropy),
])
def test_functional_forms_resolve_to_their_class(fn, cls):
    assert type(losses._get_loss_instance(fn)) is cls


@pytest.mark.parametrize("cls", CLASSES)
def test_config_round_trip(cls):
    config = cls().get_config()
    rebuilt = cls.from_config(json.loads(json.dumps(config)))
    assert rebuilt.get_config() == config
    assert type(losses.deserialize(losses.serialize(cls()))) is cls


def test_keras_default_names_and_configs():
    assert losses.Dice().get_config() == {"name": "dice", "reduction": "sum_over_batch_size",
                                          "dtype": None, "axis": None}
    assert losses.Tversky().get_config() == {"name": "tversky", "reduction": "sum_over_batch_size",
                                             "dtype": None, "axis": None, "alpha": 0.5, "beta": 0.5}
    gce = losses.CategoricalGeneralizedCrossEntropy()
    assert (gce.name, gce.q) == ("categorical_generalized_cross_entropy", 0.5)
    circle = losses.Circle()
    assert (circle.name, circle.gamma, circle.margin, circle.remove_diagonal) == ("circle", 80.0, 0.4, True)
    # Keras positional order.
    assert losses.Tversky(0.2, 0.8, "sum").get_config()["reduction"] == "sum"
    assert losses.Dice("sum", "d", (1, 2)).get_config()["axis"] == [1, 2]
    assert losses.Circle(10.0, 0.3, False).remove_diagonal is False


@pytest.mark.parametrize("make, match", [
    (lambda: losses.CategoricalGeneralizedCrossEntropy(q=0.0), "'q' parameter"),
    (lambda: losses.CategoricalGeneralizedCrossEntropy(q=1.0), "'q' parameter"),
    (lambda: losses.Dice(axis="last"), "'axis' parameter"),
    (lambda: losses.Tversky(alpha="a"), "'alpha' parameter"),
    (lambda: losses.Circle(remove_diagonal="yes"), "'remove_diagonal' parameter"),
])
def test_invalid_parameters(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


@pytest.mark.parametrize("loss", ["dice", "tversky", losses.Tversky(alpha=0.7, beta=0.3, axis=-1)])
def test_overlap_losses_train(loss):
    x, y = segmentation_data()
    utils.set_random_seed(0)
    model = Sequential([Dense(4, input_shape=(3,), activation="sigmoid")])
    model.compile("adam", loss)
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
