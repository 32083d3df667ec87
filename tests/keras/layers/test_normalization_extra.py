"""GroupNormalization and UnitNormalization: formulas, gradients, models, config."""

import json

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, initializers, layers, saving
from automl.keras.layers import Dense, GroupNormalization, LayerNormalization, UnitNormalization
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope


def _random_gn(**kwargs):
    return GroupNormalization(
        gamma_initializer=initializers.RandomNormal(mean=1.0, stddev=0.5, seed=1),
        beta_initializer=initializers.RandomNormal(stddev=0.5, seed=2),
        **kwargs,
    )


def _reference_group_norm(x, groups, epsilon=1e-3):
    """Channels-last reference: normalize each sample and group over all other axes."""
    n, c = x.shape[0], x.shape[-1]
    grouped = x.reshape(n, -1, groups, c // groups)
    mean = grouped.mean(axis=(1, 3), keepdims=True)
    var = grouped.var(axis=(1, 3), keepdims=True)
    return ((grouped - mean) / np.sqrt(var + epsilon)).reshape(x.shape)


# -- GroupNormalization -------------------------------------------------------------


def test_group_normalization_defaults_follow_keras():
    layer = GroupNormalization()
    assert (layer.groups, layer.axis, layer.epsilon, layer.center, layer.scale) == (32, -1, 1e-3, True, True)


@pytest.mark.parametrize(("shape", "groups"), [((3, 8), 4), ((2, 5, 6), 3), ((2, 3, 3, 4), 2), ((2, 4, 6), -1)])
def test_group_normalization_matches_the_formula(shape, groups):
    x = np.random.default_rng(0).standard_normal(shape)
    layer = GroupNormalization(groups=groups, dtype="float64")
    expected = _reference_group_norm(x, shape[-1] if groups == -1 else groups)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-10, atol=1e-12)


def test_one_group_is_layer_normalization_over_all_axes():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    gn = GroupNormalization(groups=1, dtype="float64")
    ln = LayerNormalization(axis=[1, 2], dtype="float64")
    np.testing.assert_allclose(gn(x), ln(x), rtol=1e-10)


@pytest.mark.parametrize(
    ("shape", "groups", "axis"),
    [((4, 6), 3, -1), ((3, 4, 6), 2, -1), ((2, 3, 3, 4), 4, -1), ((3, 6, 4), 3, 1), ((2, 4, 3, 2), 2, 1)],
)
def test_group_normalization_gradients(shape, groups, axis):
    check_layer_gradients(lambda: _random_gn(groups=groups, axis=axis), shape)


def test_group_normalization_gradients_without_center_or_scale():
    check_layer_gradients(lambda: GroupNormalization(groups=2, center=False, scale=False), (3, 4, 4))


def test_group_normalization_validation():
    with pytest.raises(ValueError, match="'groups' parameter of GroupNormalization"):
        GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="must divide"):
        GroupNormalization(groups=4)(np.ones((2, 6)))
    with pytest.raises(ValueError, match="must divide"):
        GroupNormalization()(np.ones((2, 8)))  # 32 groups > 8 channels
    with pytest.raises(ValueError, match="batch axis"):
        GroupNormalization(groups=1, axis=0)(np.ones((2, 8)))


def test_group_normalization_in_a_model_and_config(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 5, 4)).astype("float32")
    y = x.mean(axis=(1, 2))[:, None]
    inputs = Input((5, 4))
    hidden = GroupNormalization(groups=2, gamma_regularizer="l2")(Dense(4)(inputs))
    model = Model(inputs, Dense(1)(layers.Flatten()(hidden)))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    layer = model.layers[2]
    config = layer.get_config()
    json.dumps(config)
    assert config["groups"] == 2 and config["gamma_regularizer"]["class_name"] == "L2"
    assert GroupNormalization.from_config(config).get_config() == config
    saving.save_model(model, tmp_path / "gn.keras")
    np.testing.assert_allclose(saving.load_model(tmp_path / "gn.keras").predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-5)
    with floatx_scope("float64"):
        small = Sequential([Input((3, 4)), Dense(4), _random_gn(groups=2), layers.Flatten(), Dense(1)])
        small.compile(optimizer="sgd", loss="mse")
    check_model_gradients(small, x[:6, :3].astype("float64"), y[:6].astype("float64"))


# -- UnitNormalization ----------------------------------------------------------------


def test_unit_normalization_makes_unit_norms():
    x = np.arange(6.0).reshape(2, 3)
    y = UnitNormalization(dtype="float64")(x)
    np.testing.assert_allclose(np.sum(y**2, axis=-1), 1.0)
    y2 = UnitNormalization(axis=[1, 2], dtype="float64")(np.arange(1.0, 25.0).reshape(2, 3, 4))
    np.testing.assert_allclose(np.sum(y2**2, axis=(1, 2)), 1.0)


def test_unit_normalization_of_zeros_is_zero():
    layer = UnitNormalization(dtype="float64")
    np.testing.assert_array_equal(layer(np.zeros((1, 3)), training=True), 0.0)
    np.testing.assert_allclose(layer.backward(np.ones((1, 3))), 1e6)  # 1 / sqrt(1e-12)


@pytest.mark.parametrize(("shape", "axis"), [((4, 5), -1), ((3, 4, 5), 1), ((2, 3, 4), [1, 2]), ((3, 4, 2), (0, 2))])
def test_unit_normalization_gradients(shape, axis):
    check_layer_gradients(lambda: UnitNormalization(axis=axis), shape)


def test_unit_normalization_validation_and_config():
    with pytest.raises(TypeError, match="'axis' parameter of UnitNormalization"):
        UnitNormalization(axis="last")
    with pytest.raises(ValueError, match="'axis' parameter of UnitNormalization"):
        UnitNormalization(axis=3)(np.ones((2, 3)))
    layer = UnitNormalization(axis=[1, 2])
    config = layer.get_config()
    assert config["axis"] == [1, 2]
    assert UnitNormalization.from_config(config).get_config() == config
    assert layers.LAYERS.lookup("UnitNormalization") is UnitNormalization
    assert layers.LAYERS.lookup("GroupNormalization") is GroupNormalization


def test_unit_normalization_in_a_sequential():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3))
    y = rng.standard_normal((8, 1))
    with floatx_scope("float64"):
        model = Sequential([Input((3,)), Dense(4), UnitNormalization(), Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
    check_model_gradients(model, x, y)
