"""Dropout, Flatten, Activation, Identity, ActivityRegularization: behaviour, gradient checks, config."""

import json

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, backend, layers, saving
from automl.keras.layers import (
    Activation,
    ActivityRegularization,
    Dense,
    Dropout,
    Flatten,
    Identity,
    Masking,
)
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope

from .helpers import assert_leaves_arrays_alone


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax"])
@pytest.mark.parametrize("input_shape", [(5, 4), (2, 3, 4)], ids=["2d", "3d"])
def test_activation_layer_gradients(activation, input_shape):
    check_layer_gradients(lambda: Activation(activation), input_shape)


def test_activation_layer_forward_and_config():
    layer = Activation("relu")
    np.testing.assert_array_equal(layer(np.array([[-1.0, 2.0]])), [[0.0, 2.0]])
    assert layer.count_params() == 0 and layer.weights == []
    config = layer.get_config()
    assert config["activation"] == "relu"
    assert Activation.from_config(config).get_config() == config


def test_activation_layer_does_not_modify_its_input_or_upstream_gradient(float64):
    assert_leaves_arrays_alone(Activation("sigmoid"), (3, 2))


# -- Flatten ------------------------------------------------------------------


@pytest.mark.parametrize("input_shape", [(3, 4), (2, 3, 4), (2, 2, 3, 2)])
def test_flatten_gradients(input_shape):
    check_layer_gradients(Flatten, input_shape)


def test_flatten_shapes():
    layer = Flatten()
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(layer(x), x.reshape(2, 12))
    assert layer.compute_output_shape((None, 3, 4)) == (None, 12)
    assert layer.compute_output_shape((None, None, 4)) == (None, None)
    np.testing.assert_array_equal(layer.backward(np.ones((2, 12))), np.ones((2, 3, 4)))


# -- Dropout ------------------------------------------------------------------


def test_dropout_is_identity_at_inference_and_at_rate_zero():
    x = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    np.testing.assert_array_equal(Dropout(0.5, seed=0)(x, training=False), x)
    np.testing.assert_array_equal(Dropout(0.0, seed=0)(x, training=True), x)


def test_dropout_training_mask_values_and_rate():
    rate = 0.3
    x = np.ones((400, 50), dtype=np.float32)
    y = Dropout(rate, seed=1)(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1.0 / (1.0 - rate), rtol=1e-6)
    assert kept.mean() == pytest.approx(1.0 - rate, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.02)  # inverted dropout keeps the expectation


def test_dropout_backward_multiplies_by_the_forward_mask(float64):
    rng = np.random.default_rng(0)
    layer = Dropout(0.4, seed=3)
    x = rng.uniform(0.5, 2.0, size=(6, 7))  # no zeros, so y / x is the mask
    y = layer(x, training=True)
    mask = y / x
    assert set(np.unique(mask).round(12)) <= {0.0, round(1 / 0.6, 12)}
    upstream = rng.standard_normal((6, 7))
    np.testing.assert_allclose(layer.backward(upstream.copy()), upstream * mask, rtol=1e-15)
    # A second training call draws a new mask, and backward follows it.
    y2 = layer(x, training=True)
    assert not np.array_equal(y2, y)
    np.testing.assert_allclose(layer.backward(upstream.copy()), upstream * (y2 / x), rtol=1e-15)


def test_dropout_gradient_check_with_a_fixed_mask(float64):
    # With its mask fixed, dropout is linear: check it against central differences
    # by replaying the generator state before every forward pass.
    import copy

    layer = Dropout(0.5, seed=11)
    x = np.random.default_rng(0).standard_normal((4, 5))
    layer(x, training=True)
    saved_rng = copy.deepcopy(layer._rng)

    class Replayed(Dropout):
        def call(self, inputs, training=False):
            self._rng = copy.deepcopy(saved_rng)
            return super().call(inputs, training)

    errors = check_layer_gradients(lambda: Replayed(0.5, seed=11), (4, 5), x=x)
    assert errors["inputs"] < 1e-8


def test_dropout_seed_makes_masks_reproducible():
    x = np.ones((20, 20), dtype=np.float32)
    a = Dropout(0.5, seed=5)(x, training=True)
    b = Dropout(0.5, seed=5)(x, training=True)
    c = Dropout(0.5, seed=6)(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_unseeded_dropout_follows_the_global_seed():
    x = np.ones((20, 20), dtype=np.float32)
    with backend.seed_scope(1):
        a = Dropout(0.5)(x, training=True)
    with backend.seed_scope(1):
        b = Dropout(0.5)(x, training=True)
    np.testing.assert_array_equal(a, b)


def test_dropout_noise_shape_broadcasts_the_mask():
    x = np.ones((30, 4, 6), dtype=np.float32)
    y = Dropout(0.5, noise_shape=(None, 1, 6), seed=0)(x, training=True)
    # One mask per (sample, feature), shared along axis 1.
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1, :], y.shape))
    assert 0 < (y == 0).mean() < 1


def test_dropout_config_round_trip():
    layer = Dropout(0.25, noise_shape=(None, 1), seed=4, name="drop")
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["rate"] == 0.25 and config["seed"] == 4 and config["noise_shape"] == [None, 1]
    clone = layers.deserialize(layers.serialize(layer))
    assert isinstance(clone, Dropout) and clone.get_config() == config


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1, "half"])
def test_dropout_rate_outside_0_1_is_rejected(rate):
    with pytest.raises(ValueError, match=r"The 'rate' parameter of Dropout must be a float in the range \[0, 1\)"):
        Dropout(rate)


def test_add_weight_keeps_a_scalar_shape():
    from automl.keras.layers import Layer

    layer = Layer()
    assert layer.add_weight((), "ones", "scale").value.shape == ()


def test_custom_layers_may_define_call_without_training():
    # Keras tutorials write `def call(self, inputs):`; the engine passes `training` anyway.
    from automl.keras import Input, Sequential
    from automl.keras.layers import Dense, Layer

    class Double(Layer):
        def call(self, inputs):
            return 2.0 * inputs

        def backward(self, grad):
            return 2.0 * grad

    class MaskedDouble(Double):
        def call(self, inputs, mask=None):
            return 2.0 * inputs

    x = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
    for layer in (Double(), MaskedDouble()):
        model = Sequential([Input((3,)), Dense(4), layer, Dense(1)])
        model.compile("sgd", "mse")
        model.fit(x, x[:, :1], epochs=1, verbose=0)
        np.testing.assert_allclose(layer(x, training=True), 2.0 * x)
        assert model.predict(x, verbose=0).shape == (8, 1)


def test_identity_passes_inputs_masks_and_gradients_through():
    layer = Identity()
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(layer(x), x)
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    assert layer.count_params() == 0 and layer.supports_masking
    check_layer_gradients(Identity, (3, 2, 4))


def test_identity_keeps_the_mask_in_a_model():
    inputs = Input((3, 2))
    hidden = Identity()(Masking()(inputs))
    model = Model(inputs, hidden)
    x = np.ones((1, 3, 2), dtype="float32")
    x[0, 1] = 0.0
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(model._output_masks[0], [[True, False, True]])


def test_identity_config():
    config = Identity(name="skip").get_config()
    assert Identity.from_config(config).get_config() == config
    assert layers.LAYERS.lookup("Identity") is Identity


# -- ActivityRegularization -------------------------------------------------------


def test_activity_regularization_penalty_is_over_the_whole_batch():
    layer = ActivityRegularization(l1=0.1, l2=0.5)
    x = np.array([[1.0, -2.0], [0.5, 0.0]])
    np.testing.assert_array_equal(layer(x, training=True), x)
    expected = 0.1 * np.abs(x).sum() + 0.5 * np.square(x).sum()
    assert layer.activity_penalty == pytest.approx(expected)
    assert ActivityRegularization().compute_output_shape((None, 2)) == (None, 2)


@pytest.mark.parametrize(("l1", "l2"), [(0.1, 0.0), (0.0, 0.3), (0.05, 0.2)])
def test_activity_regularization_gradients(l1, l2):
    check_layer_gradients(lambda: ActivityRegularization(l1=l1, l2=l2), (4, 3))


def test_activity_regularization_adds_to_the_training_loss_and_gradients():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3))
    y = rng.standard_normal((16, 1))
    with floatx_scope("float64"):
        model = Sequential([Input((3,)), Dense(4, activation="tanh"),
                            ActivityRegularization(l1=0.01, l2=0.05), Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
    check_model_gradients(model, x, y)
    plain = Sequential([Input((3,)), Dense(4, activation="tanh"), Dense(1)])
    plain.compile(optimizer="sgd", loss="mse")
    plain.set_weights(model.get_weights())
    reg_loss = model.evaluate(x, y, verbose=0)
    plain_loss = plain.evaluate(x, y, verbose=0)
    hidden = np.tanh(x @ model.layers[0].kernel.value + model.layers[0].bias.value)
    penalty = 0.01 * np.abs(hidden).sum() + 0.05 * np.square(hidden).sum()
    assert reg_loss == pytest.approx(plain_loss + penalty, rel=1e-4)


def test_activity_regularization_shrinks_activations():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = rng.standard_normal((64, 1)).astype("float32")

    def hidden_norm(reg):
        model = Sequential([Input((4,)), Dense(8, kernel_initializer="ones"),
                            ActivityRegularization(l2=reg), Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, epochs=5, batch_size=16, verbose=0)
        return float(np.abs(x @ model.layers[0].kernel.value).mean())

    assert hidden_norm(0.01) < hidden_norm(0.0)


def test_activity_regularization_validation_config_and_saving(tmp_path):
    with pytest.raises(ValueError, match="'l1' parameter of ActivityRegularization"):
        ActivityRegularization(l1=-1.0)
    layer = ActivityRegularization(l1=0.2, name="act_reg")
    config = layer.get_config()
    json.dumps(config)
    assert config["l1"] == 0.2 and config["l2"] == 0.0 and "activity_regularizer" not in config
    assert ActivityRegularization.from_config(config).get_config() == config
    model = Sequential([Input((2,)), Dense(2), ActivityRegularization(l2=0.1)])
    model.compile(optimizer="sgd", loss="mse")
    saving.save_model(model, tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[-1].l2 == 0.1
