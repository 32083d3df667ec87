"""ReLU, LeakyReLU, PReLU, ELU, Softmax layers: values, gradients, config, training."""

import json
import math

import numpy as np
import pytest

from automl.keras import (
    Input,
    Sequential,
    activations,
    backend,
    constraints,
    initializers,
    layers,
    optimizers,
)
from automl.keras.layers import Dense, _activation_layers
from automl.keras.layers._activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope

from .helpers import assert_leaves_arrays_alone


def _away_from(shape, kinks=(0.0,), seed=0, gap=0.05):
    x = np.random.default_rng(seed).standard_normal(shape) * 2.0
    for k in kinks:
        close = np.abs(x - k) < gap
        x[close] = k + np.where(x[close] >= k, 2 * gap, -2 * gap)
    return x


# -- values -------------------------------------------------------------------------


def test_relu_layer_values_follow_the_keras_formula():
    x = np.array([[-10.0, -5.0, 0.0, 0.5, 5.0, 20.0]])
    np.testing.assert_array_equal(ReLU()(x), [[0.0, 0.0, 0.0, 0.5, 5.0, 20.0]])
    np.testing.assert_array_equal(ReLU(max_value=10, negative_slope=0.5)(x),
                                  [[-5.0, -2.5, 0.0, 0.5, 5.0, 10.0]])
    # negative_slope * (x - threshold) below the threshold, x above it.
    np.testing.assert_allclose(ReLU(negative_slope=0.1, threshold=1.0)(x),
                               [[-1.1, -0.6, -0.1, -0.05, 5.0, 20.0]], rtol=1e-6)


def test_leaky_relu_layer_default_slope_is_keras_3s():
    layer = LeakyReLU()
    assert layer.negative_slope == 0.3
    np.testing.assert_allclose(layer(np.array([[-10.0, 4.0]])), [[-3.0, 4.0]], rtol=1e-6)


def test_leaky_relu_accepts_the_deprecated_alpha_with_a_warning():
    with pytest.warns(UserWarning, match="'alpha' argument of LeakyReLU is deprecated"):
        layer = LeakyReLU(alpha=0.5)
    assert layer.negative_slope == 0.5


def test_elu_layer_values():
    out = ELU(alpha=2.0)(np.array([[-1.0, 0.0, 3.0]], dtype=np.float64))
    np.testing.assert_allclose(out, [[2.0 * (math.exp(-1.0) - 1.0), 0.0, 3.0]], rtol=1e-6)
    assert out.dtype == np.float32  # the layer's dtype (floatx)


def test_softmax_layer_values_and_axes():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    e = np.exp(x)
    np.testing.assert_allclose(Softmax()(x), e / e.sum(axis=-1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(Softmax(axis=1)(x), e / e.sum(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(Softmax(axis=[1, 2])(x), e / e.sum(axis=(1, 2), keepdims=True), rtol=1e-6)


def test_prelu_values_with_a_learned_alpha():
    layer = PReLU(alpha_initializer=initializers.Constant(0.25))
    x = np.array([[-4.0, 2.0, -1.0]])
    np.testing.assert_allclose(layer(x), [[-1.0, 2.0, -0.25]])
    assert layer.alpha.shape == (3,) and layer.count_params() == 3
    layer.alpha.assign([1.0, 1.0, -2.0])
    np.testing.assert_allclose(layer(x), [[-4.0, 2.0, 2.0]])


def test_prelu_default_alpha_is_zero_so_it_starts_as_relu():
    layer = PReLU()
    x = np.array([[-4.0, 2.0]])
    np.testing.assert_array_equal(layer(x), [[0.0, 2.0]])
    np.testing.assert_array_equal(layer.alpha.value, 0.0)


@pytest.mark.parametrize(
    "shared_axes, input_shape, alpha_shape",
    [(None, (2, 3, 4), (3, 4)), (1, (2, 3, 4), (1, 4)), ([1, 2], (2, 3, 4, 5), (1, 1, 5)),
     ((2,), (2, 3, 4), (3, 1))],
)
def test_prelu_alpha_shape_follows_shared_axes(shared_axes, input_shape, alpha_shape):
    layer = PReLU(shared_axes=shared_axes)
    layer(np.ones(input_shape))
    assert layer.alpha.shape == alpha_shape


def test_prelu_shared_axes_can_leave_unshared_dimensions_only_defined():
    layer = PReLU(shared_axes=[1])
    layer.build((None, None, 3))
    assert layer.alpha.shape == (1, 3)
    with pytest.raises(ValueError, match="must have defined dimensions outside 'shared_axes'"):
        PReLU().build((None, None, 3))


# -- gradients ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, kinks",
    [
        (lambda: ReLU(), (0.0,)),
        (lambda: ReLU(max_value=1.5), (0.0, 1.5)),
        (lambda: ReLU(negative_slope=0.2), (0.0,)),
        (lambda: ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5), (0.0, 0.5, 2.0)),
        (lambda: LeakyReLU(), (0.0,)),
        (lambda: LeakyReLU(negative_slope=0.0), (0.0,)),
        (lambda: ELU(), (0.0,)),
        (lambda: ELU(alpha=0.4), (0.0,)),
        (lambda: Softmax(), ()),
        (lambda: Softmax(axis=1), ()),
        (lambda: Softmax(axis=[1, 2]), ()),
    ],
    ids=["relu", "relu_cap", "relu_slope", "relu_all", "leaky", "leaky_0", "elu", "elu_0.4",
         "softmax", "softmax_axis1", "softmax_axes12"],
)
def test_weightless_layer_gradients(make, kinks):
    shape = (3, 4, 5)
    check_layer_gradients(make, shape, x=_away_from(shape, kinks), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "shared_axes, input_shape",
    [(None, (4, 5)), (None, (3, 2, 4)), ([1], (3, 2, 4)), (2, (3, 2, 4)), ([1, 2], (2, 3, 2, 4))],
)
def test_prelu_gradients_for_inputs_and_alpha(shared_axes, input_shape):
    errors = check_layer_gradients(
        lambda: PReLU(alpha_initializer=initializers.RandomUniform(-0.8, 0.8, seed=3),
                      shared_axes=shared_axes),
        input_shape, x=_away_from(input_shape), rtol=1e-6, atol=1e-8,
    )
    assert set(errors) == {"inputs", next(k for k in errors if k.endswith("alpha"))}


def test_prelu_computes_alpha_gradient_even_when_no_input_gradient_is_needed(float64):
    layer = PReLU()
    x = np.array([[-2.0, 3.0], [-1.0, -4.0]])
    layer(x, training=True)
    layer._input_grad_needed = False
    assert layer.backward(np.ones((2, 2))) is None
    np.testing.assert_allclose(layer.alpha.grad, [-3.0, -4.0])  # sum of grad * min(x, 0)


def test_frozen_prelu_leaves_its_gradient_buffer_alone(float64):
    layer = PReLU(trainable=False)
    layer(np.array([[-2.0, 3.0]]), training=True)
    layer.alpha.grad = np.full(2, 7.0)
    layer.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(layer.alpha.grad, 7.0)


@pytest.mark.parametrize("make", [ReLU, LeakyReLU, ELU, Softmax, PReLU])
def test_call_does_not_modify_its_input_or_the_upstream_gradient(make, float64):
    assert_leaves_arrays_alone(make(), (3, 4))


@pytest.mark.parametrize("make", [lambda: ReLU(threshold=0.5), LeakyReLU, ELU, Softmax, PReLU])
def test_cache_attrs_are_what_call_writes(make):
    layer = make()
    before = {a: getattr(layer, a, "missing") for a in layer._cache_attrs}
    layer(np.ones((2, 3)), training=True)
    assert layer._cache_attrs
    for attr in layer._cache_attrs:
        assert hasattr(layer, attr) and before[attr] == "missing"


def test_model_of_activation_layers_has_correct_gradients():
    with floatx_scope("float64"), backend.seed_scope(0):
        model = Sequential([
            Input(shape=(4,)),
            Dense(5), PReLU(alpha_initializer=initializers.Constant(0.2)),
            Dense(5), LeakyReLU(), Dense(5), ELU(), Dense(5), ReLU(max_value=3.0, negative_slope=0.05),
            Dense(3), Softmax(),
        ])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    state = model._prepare_training()
    assert state["fused"] is True  # Softmax() fuses with the cross-entropy like Dense(softmax)
    x = np.random.default_rng(1).standard_normal((6, 4))
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    check_model_gradients(model, x, y, rtol=1e-5, atol=1e-7)


def test_softmax_over_another_axis_is_not_fused():
    with floatx_scope("float64"), backend.seed_scope(0):
        model = Sequential([Input(shape=(3,)), Dense(3), Softmax(axis=1)])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model._prepare_training()["fused"] is False
    check_model_gradients(model, np.ones((2, 3)), np.eye(3)[[0, 2]])


@pytest.mark.parametrize("constraint", [None, "non_neg"])
def test_prelu_alpha_constraint_is_applied_after_each_training_step(constraint):
    # The target -x (x < 0) pulls alpha towards -1; NonNeg keeps it at 0.
    model = Sequential([
        Input(shape=(3,)),
        PReLU(alpha_initializer=initializers.Constant(0.5), alpha_constraint=constraint),
    ])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    x = -np.abs(np.random.default_rng(0).standard_normal((32, 3))) - 0.5
    model.fit(x, -x, epochs=5, batch_size=8, verbose=0)
    alpha = model.layers[0].alpha.value
    if constraint is None:
        assert np.all(alpha < -0.5)
    else:
        np.testing.assert_array_equal(alpha, 0.0)


def test_prelu_alpha_regularizer_enters_the_model_gradient():
    with floatx_scope("float64"), backend.seed_scope(0):
        model = Sequential([
            Input(shape=(3,)),
            PReLU(alpha_initializer=initializers.Constant(0.3), alpha_regularizer="l2"),
            Dense(2),
        ])
    model.compile(optimizer="sgd", loss="mse")
    x = _away_from((4, 3))
    check_model_gradients(model, x, np.ones((4, 2)))


# -- config ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: ReLU(),
        lambda: ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5),
        lambda: LeakyReLU(negative_slope=0.1),
        lambda: ELU(alpha=0.5),
        lambda: Softmax(axis=[1, 2]),
        lambda: PReLU(),
        lambda: PReLU(alpha_initializer="ones", alpha_regularizer="l2",
                      alpha_constraint=constraints.MaxNorm(3.0, axis=[0, 1]), shared_axes=[1]),
    ],
    ids=["relu", "relu_params", "leaky", "elu", "softmax", "prelu", "prelu_params"],
)
def test_config_round_trip(make):
    layer = make()
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    via_registry = layers.LAYERS.deserialize({"class_name": type(layer).__name__, "config": config})
    assert type(via_registry) is type(layer) and via_registry.get_config() == config


def test_configs_hold_keras_keys_and_defaults():
    assert {k: ReLU().get_config()[k] for k in ("max_value", "negative_slope", "threshold")} == {
        "max_value": None, "negative_slope": 0.0, "threshold": 0.0}
    assert LeakyReLU().get_config()["negative_slope"] == 0.3
    assert ELU().get_config()["alpha"] == 1.0
    assert Softmax().get_config()["axis"] == -1
    config = PReLU(shared_axes=2).get_config()
    assert config["alpha_initializer"] == {"class_name": "Zeros", "config": {}}
    assert config["alpha_regularizer"] is None and config["alpha_constraint"] is None
    assert config["shared_axes"] == [2]


def test_layers_are_registered_and_default_relu_uses_the_fast_activation():
    for name in ("ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"):
        assert layers.LAYERS.lookup(name) is getattr(_activation_layers, name)
    assert ReLU().activation is activations.relu
    assert Softmax().activation is activations.softmax
    assert Softmax(axis=1).activation is not activations.softmax


def test_prelu_resolves_initializer_regularizer_and_constraint_identifiers():
    layer = PReLU(alpha_initializer="ones", alpha_regularizer="l1", alpha_constraint="max_norm")
    assert isinstance(layer.alpha_initializer, initializers.Ones)
    assert type(layer.alpha_constraint) is constraints.MaxNorm
    layer(np.ones((2, 3)))
    assert layer.alpha.constraint is layer.alpha_constraint
    assert layer.alpha.regularizer is layer.alpha_regularizer


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ReLU(max_value=-1.0), r"The 'max_value' parameter of ReLU must be None or a float in the range \[0, inf\)\. Got -1\.0"),
        (lambda: ReLU(negative_slope=-0.1), r"The 'negative_slope' parameter of ReLU must be a float in the range \[0, inf\)"),
        (lambda: ReLU(negative_slope=None), r"'negative_slope' parameter of ReLU"),
        (lambda: ReLU(threshold=-0.5), r"The 'threshold' parameter of ReLU"),
        (lambda: LeakyReLU(negative_slope=-1.0), r"The 'negative_slope' parameter of LeakyReLU"),
        (lambda: PReLU(shared_axes=0), r"The 'shared_axes' parameter of PReLU must be None, an int >= 1"),
        (lambda: PReLU(shared_axes=[1, "a"]), r"The 'shared_axes' parameter of PReLU"),
        (lambda: Softmax(axis="last"), r"The 'axis' parameter of softmax"),
    ],
)
def test_invalid_arguments_are_rejected(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_prelu_shared_axes_beyond_the_input_rank_is_rejected_at_build():
    with pytest.raises(ValueError, match=r"'shared_axes' parameter of PReLU must name axes of the inputs \(1 to 1"):
        PReLU(shared_axes=2)(np.ones((2, 3)))
