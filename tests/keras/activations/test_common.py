"""Every registered activation beyond the basic five: values, gradients, parameters, serialization."""

import functools
import json
import math
import pickle

import numpy as np
import pytest

from automl.keras import activations
from automl.keras.layers import Dense
from automl.testing import check_activation_gradients, check_layer_gradients
from tests.keras.activations.activation_helpers import away_from_kinks

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def _softplus(v):
    return math.log1p(math.exp(v))


# Scalar reference formulas, written independently of the implementation.
REFERENCE = {
    "relu": lambda v: max(v, 0.0),
    "leaky_relu": lambda v: v if v >= 0 else 0.2 * v,
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "elu": lambda v: v if v > 0 else math.exp(v) - 1.0,
    "selu": lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * (math.exp(v) - 1.0)),
    "gelu": lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))),
    "silu": lambda v: v * _sig(v),
    "mish": lambda v: v * math.tanh(_softplus(v)),
    "softplus": _softplus,
    "softsign": lambda v: v / (abs(v) + 1.0),
    "sigmoid": _sig,
    "hard_sigmoid": lambda v: min(max(v + 3.0, 0.0), 6.0) / 6.0,
    "hard_silu": lambda v: v * min(max(v + 3.0, 0.0), 6.0) / 6.0,
    "tanh": math.tanh,
    "exponential": math.exp,
    "linear": lambda v: v,
}
ELEMENTWISE = sorted(REFERENCE)
# glu halves an axis and threshold needs its parameters: tests/keras/test_activations_more.py
ALL_NAMES = sorted(set(activations.ACTIVATIONS.names()) - {"glu", "threshold"})
POINTS = np.array([-7.5, -3.2, -2.9, -1.0, -0.3, 0.4, 1.0, 2.5, 3.3, 6.7])


_away_from_kinks = functools.partial(away_from_kinks, kinks=(0.0, -3.0, 3.0, 6.0), scale=3.0)


def test_every_keras_3_activation_is_registered_with_its_aliases():
    expected = {
        "elu", "exponential", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu",
        "linear", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "softmax",
        "softplus", "softsign", "swish", "tanh",
    }
    assert expected <= set(ALL_NAMES)
    assert activations.get("swish") is activations.silu is activations.swish
    assert activations.get("hard_swish") is activations.hard_silu is activations.hard_swish


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_match_hand_formulas(name):
    got = activations.get(name)(POINTS)
    expected = [REFERENCE[name](float(v)) for v in POINTS]
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("shape", [(9,), (3, 4)])
def test_gradients_of_every_registered_activation(name, shape):
    check_activation_gradients(name, _away_from_kinks(shape), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "make",
    [
        lambda: activations.relu.with_params(negative_slope=0.1),
        lambda: activations.relu.with_params(max_value=2.0),
        lambda: activations.relu.with_params(threshold=0.5),
        lambda: activations.relu.with_params(negative_slope=0.2, max_value=3.0, threshold=1.0),
        lambda: activations.relu.with_params(negative_slope=-0.5),
        lambda: activations.relu.with_params(threshold=-1.0, max_value=2.0),
        lambda: activations.leaky_relu.with_params(negative_slope=0.0),
        lambda: activations.leaky_relu.with_params(negative_slope=-0.3),
        lambda: activations.leaky_relu.with_params(negative_slope=1.7),
        lambda: activations.elu.with_params(alpha=0.5),
        lambda: activations.elu.with_params(alpha=-0.5),
        lambda: activations.gelu.with_params(approximate=True),
        lambda: activations.softmax.with_params(axis=0),
        lambda: activations.softmax.with_params(axis=[0, 1]),
        lambda: activations.log_softmax.with_params(axis=1),
    ],
    ids=["relu_slope", "relu_cap", "relu_threshold", "relu_all", "relu_negative_slope",
         "relu_negative_threshold", "leaky_0", "leaky_negative", "leaky_steep", "elu_0.5",
         "elu_negative", "gelu_tanh", "softmax_axis0", "softmax_axes01", "log_softmax_axis1"],
)
def test_gradients_of_parametrized_activations(make):
    act = make()
    kinks = (0.0, -1.0, 0.5, 1.0, 2.0, 3.0)
    check_activation_gradients(act, _away_from_kinks((3, 4, 5), kinks=kinks), rtol=1e-6, atol=1e-8)


def test_relu_parameters_follow_keras_examples():
    x = np.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    np.testing.assert_array_equal(activations.relu(x), [0.0, 0.0, 0.0, 5.0, 10.0])
    np.testing.assert_array_equal(activations.relu(x, negative_slope=0.5), [-5.0, -2.5, 0.0, 5.0, 10.0])
    np.testing.assert_array_equal(activations.relu(x, max_value=5.0), [0.0, 0.0, 0.0, 5.0, 5.0])
    np.testing.assert_array_equal(activations.relu(x, threshold=5.0), [0.0, 0.0, 0.0, 0.0, 10.0])
    # Positional parameters follow Keras's order (negative_slope, max_value, threshold).
    np.testing.assert_array_equal(activations.relu(x, 0.5, 4.0), [-5.0, -2.5, 0.0, 4.0, 4.0])
    # Slope below a threshold: negative_slope * (x - threshold).
    np.testing.assert_allclose(
        activations.relu(x, negative_slope=0.1, threshold=2.0), [-1.2, -0.7, -0.2, 5.0, 10.0]
    )


def test_parametrized_calls_leave_the_registered_objects_unchanged():
    x = np.array([-2.0, 1.0])
    activations.relu(x, negative_slope=0.5)
    activations.softmax(np.ones((2, 2)), axis=0)
    assert activations.relu.get_config() == {"negative_slope": 0.0, "max_value": None, "threshold": 0.0}
    assert activations.softmax.axis == -1
    np.testing.assert_array_equal(activations.relu(x), [0.0, 1.0])


@pytest.mark.parametrize(
    "name, params, expected",
    [
        ("leaky_relu", {}, [-0.4, 3.0]),
        ("leaky_relu", {"negative_slope": 0.5}, [-1.0, 3.0]),
        ("elu", {"alpha": 2.0}, [2.0 * (math.exp(-2.0) - 1.0), 3.0]),
        ("gelu", {"approximate": True},
         [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))) for v in (-2.0, 3.0)]),
        ("log_softmax", {}, [-2.0 - math.log(math.exp(-2.0) + math.exp(3.0)),
                             3.0 - math.log(math.exp(-2.0) + math.exp(3.0))]),
    ],
)
def test_parametrized_values(name, params, expected):
    np.testing.assert_allclose(activations.get(name)(np.array([-2.0, 3.0]), **params), expected, rtol=1e-13)


def test_softmax_and_log_softmax_along_other_axes():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    np.testing.assert_allclose(activations.softmax(x, axis=1).sum(axis=1), np.ones((2, 4)))
    np.testing.assert_allclose(activations.softmax(x, axis=[1, 2]).sum(axis=(1, 2)), np.ones(2))
    np.testing.assert_allclose(
        activations.log_softmax(x, axis=0), np.log(activations.softmax(x, axis=0)), rtol=1e-12
    )


def test_gelu_erf_accuracy_without_scipy():
    x = np.linspace(-9.0, 9.0, 2001)
    ref = np.array([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x])
    np.testing.assert_allclose(activations.gelu(x), ref, rtol=1e-13, atol=1e-15)
    # The lower tail is accurate relative to its size (computed from erfc, not 1 - erf).
    tail = np.array([-20.0, -30.0])
    ref_tail = [v * 0.5 * math.erfc(-v / math.sqrt(2.0)) for v in tail]
    np.testing.assert_allclose(activations.gelu(tail), ref_tail, rtol=1e-11)
    got32 = activations.gelu(x.astype(np.float32))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, ref, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_extreme_inputs_stay_finite_without_warnings(name):
    if name == "exponential":
        pytest.skip("exp overflows by definition")
    x = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    for dtype in (np.float64, np.float32):
        act = activations.get(name)
        z = x.astype(dtype)
        y = act.forward(z.copy())
        grad = act.backward(np.ones_like(z), y, z.copy() if act.needs_input else None)
        assert y.dtype == dtype and grad.dtype == dtype
        assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_call_keeps_float_dtype_and_does_not_modify_its_argument(name):
    act = activations.get(name)
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    before = x.copy()
    assert act(x).dtype == np.float32
    np.testing.assert_array_equal(x, before)
    assert act([[0.5, -0.5]]).dtype == np.float32  # lists become floatx


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "linear", "elu", "selu",
                                  "softplus", "relu6", "hard_sigmoid", "exponential", "gelu"])
def test_forward_works_in_place(name):
    z = np.random.default_rng(3).standard_normal((4, 5))
    assert activations.get(name).forward(z) is z


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "softmax",
                                  "softplus", "softsign", "relu6", "hard_sigmoid", "exponential",
                                  "linear", "log_softmax"])
def test_derivative_is_written_from_the_output(name):
    act = activations.get(name)
    assert act.needs_input is False
    z = _away_from_kinks((3, 4))
    y = act.forward(z.copy())
    grad = act.backward(np.ones_like(z), y, None)  # must not read z
    assert grad.shape == z.shape


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "hard_silu"])
def test_activations_needing_the_input_say_so(name):
    assert activations.get(name).needs_input is True


@pytest.mark.parametrize("name", ALL_NAMES)
def test_dense_uses_every_activation_with_correct_gradients(name):
    check_layer_gradients(lambda: Dense(3, activation=name), (5, 4), rtol=1e-6, atol=1e-8)


def test_dense_with_a_parametrized_activation_round_trips_its_config():
    act = activations.get({"class_name": "leaky_relu", "config": {"negative_slope": 0.1}})
    layer = Dense(2, activation=act)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["activation"] == {"class_name": "leaky_relu", "config": {"negative_slope": 0.1}}
    clone = Dense.from_config(config)
    assert clone.activation.negative_slope == 0.1
    assert clone.get_config() == config
    assert Dense(2, activation="gelu").get_config()["activation"] == "gelu"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_serialize_round_trip_of_registered_activations(name):
    act = activations.get(name)
    config = activations.serialize(act)
    assert config == act.__name__  # aliases serialize to the canonical name
    assert activations.deserialize(config) is act
    assert pickle.loads(pickle.dumps(act)) is act


@pytest.mark.parametrize(
    "act",
    [
        activations.relu.with_params(negative_slope=0.1, max_value=6.0, threshold=0.5),
        activations.leaky_relu.with_params(0.4),
        activations.elu.with_params(alpha=0.7),
        activations.gelu.with_params(approximate=True),
        activations.softmax.with_params(axis=[1, 2]),
        activations.log_softmax.with_params(axis=0),
    ],
    ids=repr,
)
def test_serialize_round_trip_of_parametrized_activations(act):
    config = json.loads(json.dumps(activations.serialize(act)))
    assert config == {"class_name": act.__name__, "config": act.get_config()}
    clone = activations.deserialize(config)
    assert type(clone) is type(act) and clone.get_config() == act.get_config()
    assert activations.get(config).get_config() == act.get_config()
    restored = pickle.loads(pickle.dumps(act))
    assert restored.get_config() == act.get_config()
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    np.testing.assert_array_equal(restored(x), act(x))


def test_default_parameters_resolve_to_the_registered_object():
    assert activations.get({"class_name": "relu", "config": {}}) is activations.relu
    assert activations.get({"class_name": "leaky_relu", "config": {"negative_slope": 0.2}}) is (
        activations.leaky_relu
    )
    assert activations.serialize(activations.relu.with_params()) == "relu"
    assert activations.get({"module": "keras.activations", "class_name": "function",
                            "config": "gelu", "registered_name": "function"}) is activations.gelu


def test_bad_parameters_are_rejected_with_the_template():
    with pytest.raises(TypeError, match="unexpected keyword argument.*slope.*negative_slope"):
        activations.relu(np.ones(2), slope=0.1)
    with pytest.raises(TypeError, match="at most 1 parameter"):
        activations.leaky_relu(np.ones(2), 0.1, 0.2)
    with pytest.raises(TypeError, match="at most 0 parameter"):
        activations.tanh(np.ones(2), 1.0)
    with pytest.raises(ValueError, match=r"The 'max_value' parameter of relu must be a float in the range \[0, inf\)"):
        activations.relu(np.ones(2), max_value=-1.0)
    with pytest.raises(TypeError, match="The 'approximate' parameter of gelu"):
        activations.gelu(np.ones(2), approximate="yes")
    with pytest.raises(TypeError, match="The 'axis' parameter of softmax"):
        activations.softmax(np.ones(2), axis=1.5)
