"""Batch, layer, group and unit normalization: formulas, moving statistics, gradients, models, config."""

import json

import numpy as np
import pytest

from automl.keras import (
    Input,
    Model,
    Sequential,
    initializers,
    layers,
    models,
    regularizers,
    saving,
)
from automl.keras.layers import (
    BatchNormalization,
    Dense,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope


def _random_bn(**kwargs):
    """A BatchNormalization with non-trivial gamma, beta and moving statistics."""
    return BatchNormalization(
        gamma_initializer=initializers.RandomNormal(mean=1.0, stddev=0.5, seed=1),
        beta_initializer=initializers.RandomNormal(stddev=0.5, seed=2),
        moving_mean_initializer=initializers.RandomNormal(stddev=0.5, seed=3),
        moving_variance_initializer=initializers.RandomUniform(0.5, 2.0, seed=4),
        **kwargs,
    )


def _random_ln(**kwargs):
    return LayerNormalization(
        gamma_initializer=initializers.RandomNormal(mean=1.0, stddev=0.5, seed=1),
        beta_initializer=initializers.RandomNormal(stddev=0.5, seed=2),
        **kwargs,
    )


# -- BatchNormalization: gradients ---------------------------------------------

BN_CASES = [
    ((8, 5), -1),
    ((4, 3, 5), -1),
    ((4, 3, 5), 1),
    ((3, 4, 4, 2), -1),
    ((3, 2, 4, 4), 1),
    ((3, 4, 3, 2), 2),
]


@pytest.mark.parametrize("input_shape, axis", BN_CASES)
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batch_norm_gradients(input_shape, axis, training):
    errors = check_layer_gradients(lambda: _random_bn(axis=axis), input_shape, training=training)
    # inputs, gamma and beta; the moving statistics are not trainable.
    assert sorted(k.split("/")[-1] for k in errors) == ["beta", "gamma", "inputs"]


@pytest.mark.parametrize("center, scale", [(False, True), (True, False), (False, False)])
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batch_norm_gradients_without_center_or_scale(center, scale, training):
    errors = check_layer_gradients(lambda: _random_bn(center=center, scale=scale), (6, 3),
                                   training=training)
    assert len(errors) == 1 + center + scale


def test_batch_norm_gradients_with_a_nonzero_mean_batch():
    # Inputs far from zero mean / unit variance exercise the mean and variance terms.
    x = np.random.default_rng(3).normal(5.0, 3.0, size=(10, 4))
    check_layer_gradients(lambda: _random_bn(), x.shape, x=x)


# -- BatchNormalization: forward values and moving statistics ------------------


def test_batch_norm_training_uses_batch_statistics(float64, rng):
    layer = _random_bn(axis=1, epsilon=1e-3)
    x = rng.normal(3.0, 2.0, size=(6, 3, 4))
    y = layer(x, training=True)
    mean = x.mean(axis=(0, 2), keepdims=True)
    var = x.var(axis=(0, 2), keepdims=True)  # biased variance
    gamma, beta = layer.gamma.value[None, :, None], layer.beta.value[None, :, None]
    np.testing.assert_allclose(y, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-12)


def test_batch_norm_inference_uses_moving_statistics(float64, rng):
    layer = _random_bn()
    x = rng.normal(size=(5, 3))
    y = layer(x, training=False)
    mm, mv = layer.moving_mean.value, layer.moving_variance.value
    expected = layer.gamma.value * (x - mm) / np.sqrt(mv + 0.001) + layer.beta.value
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    # Inference never touches the moving statistics.
    np.testing.assert_array_equal(layer.moving_mean.value, mm)


def test_moving_statistics_update_values(float64, rng):
    momentum = 0.9
    layer = BatchNormalization(momentum=momentum)
    x1, x2 = rng.normal(2.0, 3.0, size=(8, 4)), rng.normal(-1.0, 0.5, size=(8, 4))
    mean_buffer = None
    layer(x1, training=True)
    mean_buffer = layer.moving_mean.value
    expected_mean = 0.0 * momentum + x1.mean(axis=0) * (1 - momentum)
    expected_var = 1.0 * momentum + x1.var(axis=0) * (1 - momentum)
    np.testing.assert_allclose(layer.moving_mean.value, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.value, expected_var, rtol=1e-12)
    layer(x2, training=True)
    expected_mean = expected_mean * momentum + x2.mean(axis=0) * (1 - momentum)
    expected_var = expected_var * momentum + x2.var(axis=0) * (1 - momentum)
    np.testing.assert_allclose(layer.moving_mean.value, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.value, expected_var, rtol=1e-12)
    assert layer.moving_mean.value is mean_buffer  # updated in place, never rebound
    layer(x1, training=False)
    np.testing.assert_allclose(layer.moving_mean.value, expected_mean, rtol=1e-12)


def test_moving_statistics_converge_to_the_data_statistics(rng):
    layer = BatchNormalization(momentum=0.5)
    x = rng.normal(4.0, 2.0, size=(256, 3)).astype(np.float32)
    for _ in range(40):
        layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), x.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(layer.moving_variance.numpy(), x.var(axis=0), rtol=1e-4)
    # Then inference normalizes like training did.
    np.testing.assert_allclose(layer(x, training=False), layer(x, training=True), atol=1e-3)


def test_frozen_batch_norm_runs_in_inference_mode(float64, rng):
    layer = _random_bn()
    x = rng.normal(size=(6, 3))
    inference = layer(x, training=False)
    moving = [w.copy() for w in layer.get_weights()[2:]]
    layer.trainable = False
    np.testing.assert_allclose(layer(x, training=True), inference, rtol=1e-12)
    for w, saved in zip(layer.get_weights()[2:], moving):
        np.testing.assert_array_equal(w, saved)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batch_norm_output_dtype_follows_the_input(rng):
    layer = BatchNormalization()
    y = layer(rng.normal(size=(4, 3)).astype(np.float32), training=True)
    assert y.dtype == np.float32 and layer.moving_mean.dtype == np.float32


# -- BatchNormalization: weights, summary, config ------------------------------


@pytest.mark.parametrize("input_shape, axis, size", [((None, 7), -1, 7), ((None, 2, 3, 5), 1, 2),
                                                     ((None, 2, 3, 5), -1, 5)])
def test_batch_norm_weight_order_and_shapes(input_shape, axis, size):
    layer = BatchNormalization(axis=axis)
    layer(Input(shape=input_shape[1:]))
    names = [v.name.split("/")[-1] for v in layer.weights]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.shape for w in layer.get_weights()] == [(size,)] * 4
    assert [v.trainable for v in layer.weights] == [True, True, False, False]
    assert layer.gamma is layer.weights[0] and layer.moving_variance is layer.weights[3]
    np.testing.assert_array_equal(layer.get_weights()[0], 1.0)
    np.testing.assert_array_equal(layer.get_weights()[1], 0.0)
    np.testing.assert_array_equal(layer.get_weights()[2], 0.0)
    np.testing.assert_array_equal(layer.get_weights()[3], 1.0)


@pytest.mark.parametrize("center, scale, names", [
    (False, True, ["gamma", "moving_mean", "moving_variance"]),
    (True, False, ["beta", "moving_mean", "moving_variance"]),
    (False, False, ["moving_mean", "moving_variance"]),
])
def test_batch_norm_center_and_scale_drop_weights(center, scale, names):
    layer = BatchNormalization(center=center, scale=scale)
    layer(np.zeros((2, 3)))
    assert [v.name.split("/")[-1] for v in layer.weights] == names


def test_summary_counts_non_trainable_params():
    model = Sequential([Input(shape=(64,)), BatchNormalization()])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert " Total params: 256 " in text
    assert " Trainable params: 128 " in text
    assert " Non-trainable params: 128 " in text
    assert sum(v.value.size for v in model.trainable_weights) == 128
    assert sum(v.value.size for v in model.non_trainable_weights) == 128
    assert model.count_params() == 256


def test_batch_norm_config_round_trip():
    layer = BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5, center=False,
                               gamma_initializer=initializers.RandomNormal(stddev=0.1, seed=3),
                               gamma_regularizer=regularizers.L2(0.01), name="bn")
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["axis"] == 1 and config["momentum"] == 0.9 and config["epsilon"] == 1e-5
    assert config["center"] is False and config["synchronized"] is False
    assert config["moving_variance_initializer"]["class_name"] == "Ones"
    clone = layers.deserialize(layers.serialize(layer))
    assert isinstance(clone, BatchNormalization) and clone.get_config() == config
    assert isinstance(layers.get("BatchNormalization"), BatchNormalization)


def test_batch_norm_defaults_match_keras():
    config = BatchNormalization().get_config()
    assert (config["axis"], config["momentum"], config["epsilon"]) == (-1, 0.99, 0.001)
    assert config["center"] is True and config["scale"] is True


@pytest.mark.parametrize("kwargs, match", [
    ({"momentum": 1.5}, r"The 'momentum' parameter of BatchNormalization must be a float in the range \[0, 1\]"),
    ({"epsilon": -1.0}, r"The 'epsilon' parameter of BatchNormalization must be"),
    ({"synchronized": True}, r"The 'synchronized' parameter of BatchNormalization must be False"),
])
def test_batch_norm_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNormalization(**kwargs)


def test_batch_norm_axis_errors():
    with pytest.raises(ValueError, match="The 'axis' parameter of BatchNormalization must be an axis"):
        BatchNormalization(axis=3)(Input(shape=(4,)))
    with pytest.raises(ValueError, match="must have a defined size"):
        BatchNormalization()(Input(shape=(None,)))
    with pytest.raises(TypeError, match="The 'axis' parameter of BatchNormalization"):
        BatchNormalization(axis=[1, 2])


# -- BatchNormalization inside models ------------------------------------------


def test_batch_norm_in_a_model_gradient_check(rng):
    with floatx_scope("float64"):
        model = Sequential([Input(shape=(4,)), Dense(6, activation="tanh"), _random_bn(),
                            Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        x, y = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
        assert check_model_gradients(model, x, y) < 1e-6


def test_fit_updates_moving_statistics_but_not_by_the_optimizer(rng):
    model = Sequential([Input(shape=(3,)), BatchNormalization(momentum=0.5), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = rng.normal(5.0, 2.0, size=(64, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    gamma_before = model.layers[0].gamma.numpy()
    model.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0)
    bn = model.layers[0]
    # Three full-batch steps with momentum 0.5: 1 - 0.5**3 of the way to the data mean.
    np.testing.assert_allclose(bn.moving_mean.numpy(), x.mean(axis=0) * (1 - 0.5**3), rtol=1e-4)
    assert not np.array_equal(bn.gamma.numpy(), gamma_before)  # gamma is trained
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_and_load_restore_moving_statistics(tmp_path, rng):
    model = Sequential([Input(shape=(3,)), BatchNormalization(), Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(2.0, 1.0, size=(32, 3)).astype(np.float32)
    model.fit(x, rng.normal(size=(32, 2)), epochs=2, verbose=0)
    path = tmp_path / "bn.keras"
    model.save(path)
    loaded = models.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


# -- LayerNormalization ----------------------------------------------------------

LN_CASES = [
    ((5, 4), -1),
    ((3, 4, 5), -1),
    ((3, 4, 5), 1),
    ((2, 3, 4, 2), [1, 2]),
    ((2, 3, 2, 4), [1, 2, 3]),
    ((2, 3, 4), [-1, -2]),
]


@pytest.mark.parametrize("input_shape, axis", LN_CASES)
def test_layer_norm_gradients(input_shape, axis):
    errors = check_layer_gradients(lambda: _random_ln(axis=axis), input_shape)
    assert len(errors) == 3


@pytest.mark.parametrize("center, scale", [(False, True), (True, False), (False, False)])
def test_layer_norm_gradients_without_center_or_scale(center, scale):
    errors = check_layer_gradients(lambda: _random_ln(center=center, scale=scale), (4, 5))
    assert len(errors) == 1 + center + scale


@pytest.mark.parametrize("input_shape, axis", [((4, 5), -1), ((2, 3, 4), [1, 2])])
def test_layer_norm_rms_scaling_gradients(input_shape, axis):
    x = np.random.default_rng(1).normal(1.0, 2.0, size=input_shape)
    errors = check_layer_gradients(lambda: _random_ln(axis=axis, rms_scaling=True), input_shape, x=x)
    assert len(errors) == 2  # inputs and gamma: no beta with rms_scaling


def test_layer_norm_values(float64, rng):
    layer = _random_ln(axis=[1, 2], epsilon=1e-3)
    x = rng.normal(3.0, 2.0, size=(4, 3, 5, 2))
    y = layer(x)
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    gamma, beta = layer.gamma.value[None, :, :, None], layer.beta.value[None, :, :, None]
    np.testing.assert_allclose(y, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-12)
    np.testing.assert_array_equal(layer(x, training=True), y)  # same in training


def test_layer_norm_rms_scaling_values(float64, rng):
    layer = _random_ln(rms_scaling=True)
    x = rng.normal(1.0, 2.0, size=(4, 6))
    y = layer(x)
    expected = x / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-3) * layer.gamma.value
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    assert layer.beta is None


def test_layer_norm_weight_shapes_follow_the_axes():
    layer = LayerNormalization(axis=[1, 2, 3])
    layer(Input(shape=(3, 4, 5)))
    assert [v.name.split("/")[-1] for v in layer.weights] == ["gamma", "beta"]
    assert [w.shape for w in layer.get_weights()] == [(3, 4, 5), (3, 4, 5)]
    assert layer.compute_output_shape((None, 3, 4, 5)) == (None, 3, 4, 5)


def test_layer_norm_config_round_trip():
    layer = LayerNormalization(axis=[1, 2], epsilon=1e-5, scale=False,
                               beta_regularizer=regularizers.L1(0.1), name="ln")
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["axis"] == [1, 2] and config["epsilon"] == 1e-5 and config["rms_scaling"] is False
    clone = layers.deserialize(layers.serialize(layer))
    assert isinstance(clone, LayerNormalization) and clone.get_config() == config
    defaults = LayerNormalization().get_config()
    assert (defaults["axis"], defaults["epsilon"], defaults["center"], defaults["scale"]) == (-1, 0.001, True, True)


def test_layer_norm_invalid_axis():
    with pytest.raises(TypeError, match="The 'axis' parameter of LayerNormalization"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="must be an axis of the inputs"):
        LayerNormalization(axis=2)(Input(shape=(4,)))
    with pytest.raises(ValueError, match="must not repeat an axis"):
        LayerNormalization(axis=[1, -1])(Input(shape=(4,)))


def test_shared_layer_norm_in_a_branched_graph_gradient_check(rng):
    # A layer called twice must restore its per-call cache in backward.
    with floatx_scope("float64"):
        x = Input(shape=(4,))
        norm = _random_ln()
        a = norm(Dense(4, activation="tanh")(x))
        b = norm(Dense(4)(x))
        out = Dense(1)(layers.Concatenate()([a, b]))
        model = Model(x, out)
        model.compile(optimizer="sgd", loss="mse")
        assert check_model_gradients(model, rng.normal(size=(6, 4)), rng.normal(size=(6, 1))) < 1e-6


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
