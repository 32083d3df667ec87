"""Custom loss functions train with an automatically derived gradient."""

import numpy as np
import pytest

from automl.keras import Sequential, optimizers, utils
from automl.keras import backend as K
from automl.keras.layers import Dense
from automl.keras.losses import LossFunctionWrapper, get
from automl.testing import check_loss_gradients


def keras_style_mse(y_true, y_pred):
    return K.mean(K.square(y_pred - y_true), axis=-1)


def keras_style_crossentropy(y_true, y_pred):
    y_pred = K.clip(y_pred, K.epsilon(), 1 - K.epsilon())
    return -K.sum(y_true * K.log(y_pred), axis=-1)


def numpy_style_huber(y_true, y_pred, delta=1.0):
    err = np.abs(y_true - y_pred)
    return np.mean(np.where(err < delta, 0.5 * err**2, delta * (err - 0.5 * delta)), axis=-1)


def untraceable_mae(y_true, y_pred):
    # np.asarray breaks tracing: the engine falls back to finite differences.
    return np.mean(np.abs(np.asarray(y_pred) - y_true), axis=-1)


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("fn", [keras_style_mse, numpy_style_huber])
def test_traced_custom_loss_gradients(fn, float64):
    y_true = RNG.standard_normal((5, 3))
    y_pred = RNG.standard_normal((5, 3)) * 2
    check_loss_gradients(LossFunctionWrapper(fn), y_true, y_pred)
    check_loss_gradients(LossFunctionWrapper(fn), y_true, y_pred, sample_weight=RNG.random(5))


def test_custom_crossentropy_value_and_exact_gradient(float64):
    probs = RNG.dirichlet(np.ones(4), size=6)
    y = np.eye(4)[RNG.integers(0, 4, 6)]
    custom = LossFunctionWrapper(keras_style_crossentropy)
    value, grads = custom.value_and_grad(y, probs)
    # Same value as the built-in loss on normalized probabilities; the gradient of
    # -sum(y log p) itself (the built-in one also differentiates its normalization).
    assert value == pytest.approx(get("CategoricalCrossentropy")(y, probs), rel=1e-9)
    np.testing.assert_allclose(grads, -y / probs / 6, rtol=1e-10)


def test_untraceable_loss_falls_back_to_finite_differences(float64):
    y_true = RNG.standard_normal((5, 2))
    y_pred = RNG.standard_normal((5, 2))
    loss = LossFunctionWrapper(untraceable_mae)
    with pytest.warns(UserWarning, match="central differences"):
        _, grads = loss.value_and_grad(y_true, y_pred)
    np.testing.assert_allclose(grads, np.sign(y_pred - y_true) / 2 / 5, rtol=1e-5)


def test_compile_with_a_custom_function_trains():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.Adam(0.05), loss=keras_style_mse)
    history = model.fit(x, y, epochs=60, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0) == pytest.approx(history.history["loss"][-1], rel=0.5)


def test_custom_loss_with_wrong_output_shape_is_a_clear_error():
    loss = LossFunctionWrapper(lambda t, p: K.sum(p, axis=0))
    with pytest.raises(ValueError, match="one value per sample"):
        loss.value_and_grad(np.zeros((4, 3)), np.ones((4, 3)))
