"""Piecewise, shrinkage and sparse activations (Keras 3's celu ... tanh_shrink): values, gradients, names, config."""

import functools
import json
import math
import pickle

import numpy as np
import pytest

from automl.keras import Sequential, activations
from automl.keras.layers import Dense
from automl.keras.utils import set_random_seed
from automl.testing import check_activation_gradients, check_layer_gradients
from tests.keras.activations.activation_helpers import away_from_kinks

REGISTERED = ["celu", "hard_shrink", "hard_tanh", "log_sigmoid", "soft_shrink", "sparse_plus",
              "sparsemax", "squareplus", "tanh_shrink"]


def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


# Scalar reference formulas, written independently of the implementation.
REFERENCE = {
    "squareplus": lambda v: (v + math.sqrt(v * v + 4.0)) / 2.0,
    "sparse_plus": lambda v: 0.0 if v <= -1 else ((v + 1) ** 2 / 4.0 if v < 1 else v),
    "hard_tanh": lambda v: min(max(v, -1.0), 1.0),
    "celu": lambda v: v if v >= 0 else math.expm1(v),
    "tanh_shrink": lambda v: v - math.tanh(v),
    "soft_shrink": lambda v: v - 0.5 if v > 0.5 else (v + 0.5 if v < -0.5 else 0.0),
    "hard_shrink": lambda v: v if abs(v) > 0.5 else 0.0,
    "log_sigmoid": lambda v: math.log(_sig(v)),
}
POINTS = np.array([-7.5, -3.2, -1.0, -0.7, -0.3, 0.0, 0.4, 0.6, 1.0, 2.5, 6.7])
KINKS = (-1.0, -0.5, 0.0, 0.5, 1.0)


_away_from_kinks = functools.partial(away_from_kinks, kinks=KINKS, scale=2.0)


# -- values -------------------------------------------------------------------------------


def test_new_activations_are_registered_by_name():
    assert set(REGISTERED) <= set(activations.ACTIVATIONS.names())
    for name in REGISTERED:
        assert activations.get(name) is getattr(activations, name)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_values_match_hand_formulas(name):
    got = activations.get(name)(POINTS)
    expected = [REFERENCE[name](float(v)) for v in POINTS]
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


def test_parametrized_values():
    x = np.array([-2.0, -0.8, 0.0, 0.8, 2.0])
    np.testing.assert_allclose(activations.squareplus(x, b=1.0), (x + np.sqrt(x * x + 1.0)) / 2)
    np.testing.assert_allclose(activations.squareplus(x, 0.0), np.maximum(x, 0))  # b=0: relu
    np.testing.assert_allclose(activations.celu(x, alpha=2.0), np.where(x >= 0, x, 2.0 * np.expm1(x / 2.0)))
    np.testing.assert_allclose(activations.soft_shrink(x, threshold=1.0), [-1.0, 0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(activations.hard_shrink(x, 1.0), [-2.0, 0.0, 0.0, 0.0, 2.0])
    np.testing.assert_allclose(activations.threshold(x, 0.5, -9.0), [-9.0, -9.0, -9.0, 0.8, 2.0])
    np.testing.assert_allclose(activations.threshold(x, threshold=-1.0, default_value=0.0),
                               [0.0, -0.8, 0.0, 0.8, 2.0])


def test_extreme_inputs_stay_finite():
    x = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    for name in REGISTERED:
        for dtype in (np.float64, np.float32):
            act = activations.get(name)
            z = x.astype(dtype)
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                y = act.forward(z.copy())
                grad = act.backward(np.ones_like(z), y, z.copy() if act.needs_input else None)
            assert y.dtype == dtype and grad.dtype == dtype
            assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(activations.log_sigmoid(np.array([-1e4, 1e4])), [-1e4, 0.0])


# -- gradients (float64) ---------------------------------------------------------------------


@pytest.mark.parametrize("name", REGISTERED)
@pytest.mark.parametrize("shape", [(9,), (3, 4)])
def test_gradients_of_registered_activations(name, shape):
    check_activation_gradients(name, _away_from_kinks(shape), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("make", [
    lambda: activations.squareplus.with_params(b=0.5),
    lambda: activations.celu.with_params(alpha=0.3),
    lambda: activations.soft_shrink.with_params(threshold=1.2),
    lambda: activations.soft_shrink.with_params(threshold=-0.3),
    lambda: activations.hard_shrink.with_params(threshold=1.2),
    lambda: activations.hard_shrink.with_params(threshold=-0.3),
    lambda: activations.threshold.with_params(0.3, -2.0),
    lambda: activations.sparsemax.with_params(axis=0),
], ids=["squareplus_b", "celu_alpha", "soft_1.2", "soft_neg", "hard_1.2", "hard_neg", "threshold",
        "sparsemax_axis0"])
def test_gradients_of_parametrized_activations(make):
    kinks = KINKS + (-1.2, -0.3, 0.3, 1.2)
    check_activation_gradients(make(), _away_from_kinks((3, 4, 5), kinks=kinks), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["celu", "hard_tanh", "log_sigmoid", "sparse_plus", "sparsemax"])
def test_derivative_is_written_from_the_output(name):
    act = activations.get(name)
    assert act.needs_input is False
    z = _away_from_kinks((3, 4))
    grad = act.backward(np.ones_like(z), act.forward(z.copy()), None)
    assert grad.shape == z.shape


# -- in layers and models ---------------------------------------------------------------------


@pytest.mark.parametrize("name", REGISTERED)
def test_dense_by_name_with_correct_gradients(name):
    check_layer_gradients(lambda: Dense(3, activation=name), (5, 4), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["celu", "squareplus", "log_sigmoid"])
def test_model_trains_with_activation_by_name(name):
    set_random_seed(0)  # the initial weights
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 3)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5])
    model = Sequential([Dense(8, input_shape=(3,), activation=name), Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# -- serialization ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", REGISTERED)
def test_serialize_round_trip_of_registered_activations(name):
    act = activations.get(name)
    assert activations.serialize(act) == name
    assert activations.deserialize(name) is act
    assert pickle.loads(pickle.dumps(act)) is act


@pytest.mark.parametrize("act", [
    activations.squareplus.with_params(b=2.0), activations.celu.with_params(alpha=0.5),
    activations.soft_shrink.with_params(0.2), activations.hard_shrink.with_params(0.7),
    activations.sparsemax.with_params(axis=0),
], ids=repr)
def test_serialize_round_trip_of_parametrized_activations(act):
    config = json.loads(json.dumps(activations.serialize(act)))
    assert config == {"class_name": act.__name__, "config": act.get_config()}
    clone = activations.deserialize(config)
    assert type(clone) is type(act) and clone.get_config() == act.get_config()
    layer = Dense(2, activation=act)
    assert Dense.from_config(json.loads(json.dumps(layer.get_config()))).activation.get_config() == (
        act.get_config())


def test_keras_defaults_and_bad_parameters():
    assert activations.squareplus.b == 4.0
    assert activations.celu.alpha == 1.0
    assert activations.soft_shrink.threshold == activations.hard_shrink.threshold == 0.5
    assert activations.glu.axis == activations.sparsemax.axis == -1
    with pytest.raises(ValueError, match="The 'alpha' parameter of celu"):
        activations.celu(np.ones(2), alpha=0.0)
    with pytest.raises(ValueError, match="The 'b' parameter of squareplus"):
        activations.squareplus(np.ones(2), b=-1.0)
    with pytest.raises(TypeError, match="The 'axis' parameter of sparsemax"):
        activations.sparsemax(np.ones(2), axis=[0, 1])
