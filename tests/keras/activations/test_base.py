"""The activation base, registry and resolution, and the basic activations: values, gradients."""

import numpy as np
import pytest

from automl.keras import activations
from automl.testing import check_activation_gradients

NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax"]


def _reference(name, x):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _away_from_zero(shape, seed=0):
    # relu is not differentiable at 0: keep every entry at least 0.1 away.
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(x) < 0.1, np.sign(x) * 0.1 + x, x)


@pytest.mark.parametrize("name", NAMES)
def test_values_match_reference_formulas(name):
    x = np.random.default_rng(1).standard_normal((4, 5)) * 3
    np.testing.assert_allclose(activations.get(name)(x), _reference(name, x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4)])
def test_gradients(name, shape):
    check_activation_gradients(name, _away_from_zero(shape), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_call_does_not_modify_its_argument(name):
    x = np.random.default_rng(2).standard_normal((3, 4))
    before = x.copy()
    activations.get(name)(x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("name", NAMES)
def test_dtype_follows_float_input_and_ints_become_float32(name):
    act = activations.get(name)
    assert act(np.ones((2, 3), dtype=np.float64)).dtype == np.float64
    assert act(np.ones((2, 3), dtype=np.float32)).dtype == np.float32
    assert act(np.ones((2, 3), dtype=np.int64)).dtype == np.float32


def test_softmax_is_stable_for_large_logits_and_sums_to_one():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1e4, 0.0, 1e4]])
    y = activations.softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    np.testing.assert_allclose(y[0], [0.5, 0.5, 0.0], atol=1e-12)


def test_softmax_acts_on_the_last_axis():
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    np.testing.assert_allclose(activations.softmax(x).sum(axis=-1), np.ones((2, 3)))


def test_sigmoid_saturates_without_overflow():
    y = activations.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0], atol=1e-300)


def test_relu_gradient_is_zero_for_negative_and_one_for_positive_inputs():
    relu = activations.relu
    z = np.array([-2.0, -0.5, 0.5, 2.0])
    y = relu.forward(z.copy())
    np.testing.assert_array_equal(relu.backward(np.ones(4), y, None), [0.0, 0.0, 1.0, 1.0])


def test_get_resolves_none_names_dicts_and_instances():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get(activations.tanh) is activations.tanh
    assert activations.get({"class_name": "sigmoid", "config": {}}) is activations.sigmoid


@pytest.mark.parametrize("name", NAMES)
def test_serialize_deserialize_round_trip(name):
    act = activations.get(name)
    assert activations.serialize(act) == name
    assert activations.deserialize(activations.serialize(act)) is act


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret activation identifier: 'swishy'.*relu.*softmax"):
        activations.get("swishy")


def test_plain_callable_is_rejected_with_guidance():
    with pytest.raises(TypeError, match="Plain callables have no gradient"):
        activations.get(lambda x: x)


def test_activations_pickle_to_the_registered_singletons():
    import pickle

    for name in NAMES:
        act = activations.get(name)
        assert pickle.loads(pickle.dumps(act)) is act
