"""Identity and ActivityRegularization: pass-through, penalty in the loss, gradients, config."""

import json

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, saving
from automl.keras.layers import ActivityRegularization, Dense, Identity, Masking
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope

# -- Identity -------------------------------------------------------------------


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
