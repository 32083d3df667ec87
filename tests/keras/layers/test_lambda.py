"""Lambda: forward, traced backward, shape inference, masks, models, saving."""

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, backend, ops, saving
from automl.keras.layers import Dense, Lambda
from automl.keras.utils import set_random_seed
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope


def double_relu(x):
    return ops.relu(x) * 2.0


def numpy_features(x):
    # np.concatenate has no gradient in the tracer: the trace is lost.
    return np.concatenate([x, x * x], axis=-1)


def _regression(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype("float32")
    y = (np.abs(x[:, :1]) + 0.5 * x[:, 1:2]).astype("float32")
    return x, y


# -- forward and gradients ----------------------------------------------------


def test_forward_applies_the_function_with_arguments():
    layer = Lambda(lambda x, scale: x * scale, arguments={"scale": 3.0})
    np.testing.assert_allclose(layer(np.array([[1.0, -2.0]])), [[3.0, -6.0]])


@pytest.mark.parametrize(
    "function",
    [
        lambda x: ops.relu(x) * 2.0,
        lambda x: ops.mean(ops.square(x), axis=-1, keepdims=True) + x,
        lambda x: backend.sum(backend.abs(x) * x, axis=1),
        lambda x: ops.sigmoid(x[:, 1:]) - np.tanh(x[:, :1]),
        lambda x: x / 255.0,
        lambda x: x,
    ],
    ids=["relu", "mean_square", "backend_sum", "indexing_ufunc", "scaling", "identity"],
)
def test_traced_gradients(function):
    check_layer_gradients(lambda: Lambda(function), (3, 4))


def test_traced_gradients_of_a_list_of_inputs():
    layer = Lambda(lambda t: ops.abs(t[0] - t[1]) * t[0], dtype="float64")
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4))
    out = layer([a, b], training=True)
    np.testing.assert_allclose(out, np.abs(a - b) * a, rtol=1e-6)
    upstream = np.ones_like(out)
    grad_a, grad_b = layer.backward(upstream)
    np.testing.assert_allclose(grad_b, -np.sign(a - b) * a, rtol=1e-6)
    np.testing.assert_allclose(grad_a, np.sign(a - b) * a + np.abs(a - b), rtol=1e-6)
    assert layer.compute_output_shape([(None, 4), (None, 4)]) == (None, 4)


def test_gradient_follows_the_input_dtype():
    layer = Lambda(double_relu)
    x = np.array([[-1.0, 2.0]], dtype="float32")
    layer(x, training=True)
    grad = layer.backward(np.ones((1, 2), dtype="float32"))
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(grad, [[0.0, 2.0]])


def test_floating_outputs_keep_the_layer_dtype():
    layer = Lambda(lambda x: x * np.float64(2.0))
    assert layer(np.ones((1, 2), dtype="float32"), training=True).dtype == np.float32
    assert Lambda(lambda x: x > 0)(np.ones((1, 2))).dtype == bool


def test_plain_numpy_function_predicts_but_cannot_backpropagate():
    layer = Lambda(numpy_features, name="np_features")
    x = np.array([[1.0, -2.0]])
    np.testing.assert_allclose(layer(x), [[1.0, -2.0, 1.0, 4.0]])
    np.testing.assert_allclose(layer(x, training=True), [[1.0, -2.0, 1.0, 4.0]])
    with pytest.raises(RuntimeError, match=r"'np_features'.*automl\.keras\.ops"):
        layer.backward(np.ones((1, 4)))


def test_backward_without_a_training_forward_is_a_clear_error():
    layer = Lambda(double_relu, name="untraced")
    layer(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="'untraced'.*training=True"):
        layer.backward(np.ones((1, 2)))


# -- shapes and masks -----------------------------------------------------------


def test_output_shape_is_inferred_from_dummy_batches():
    assert Lambda(double_relu).compute_output_shape((None, 4)) == (None, 4)
    layer = Lambda(lambda x: ops.mean(x, axis=1))
    assert layer.compute_output_shape((None, None, 5)) == (None, 5)
    assert Lambda(lambda x: x[:, -1]).compute_output_shape((None, 7, 3)) == (None, 3)
    assert Lambda(numpy_features).compute_output_shape((None, 3)) == (None, 6)


def test_explicit_output_shape_tuple_or_function():
    assert Lambda(double_relu, output_shape=(4,)).compute_output_shape((None, 4)) == (None, 4)
    layer = Lambda(double_relu, output_shape=lambda s: (s[0], 99))
    assert layer.compute_output_shape((None, 4)) == (None, 99)


def test_uninferable_output_shape_asks_for_output_shape():
    def reshape_to_five(x):
        return np.reshape(x, (-1, 5))

    with pytest.raises(NotImplementedError, match="output_shape"):
        Lambda(reshape_to_five).compute_output_shape((None, 3))


def test_mask_callable_or_array():
    layer = Lambda(double_relu, mask=lambda inputs, mask: inputs[:, :, 0] > 0)
    assert layer.supports_masking
    x = np.array([[[1.0], [-1.0]]])
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, False]])
    fixed = Lambda(double_relu, mask=np.array([True, False]))
    np.testing.assert_array_equal(fixed.compute_mask(x), [True, False])
    assert not Lambda(double_relu).supports_masking


def test_function_receives_mask_and_training_when_it_asks():
    seen = {}

    def fn(x, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x

    layer = Lambda(fn)
    layer(np.ones((1, 2, 1)), training=True, mask=np.array([[True, False]]))
    np.testing.assert_array_equal(seen["mask"], [[True, False]])
    assert seen["training"] is True


def test_invalid_arguments():
    with pytest.raises(TypeError, match="'function' parameter of Lambda"):
        Lambda(3)
    with pytest.raises(TypeError, match="'arguments' parameter of Lambda"):
        Lambda(double_relu, arguments=[1])


# -- models ---------------------------------------------------------------------


def test_sequential_with_a_traced_lambda_trains():
    set_random_seed(0)  # the initial weights
    x, y = _regression()
    model = Sequential([Input((4,)), Dense(8), Lambda(lambda t: ops.relu(t) * 2.0), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert model.predict(x[:3], verbose=0).shape == (3, 1)


def test_model_gradients_through_a_lambda():
    x, y = _regression(16)
    with floatx_scope("float64"):
        model = Sequential([Input((4,)), Dense(5), Lambda(lambda t: ops.relu(t) * 2.0), Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
    check_model_gradients(model, x.astype("float64"), y.astype("float64"))


def test_functional_model_with_a_lambda_on_two_tensors():
    set_random_seed(0)  # the initial weights
    a, b = Input((3,)), Input((3,))
    ha, hb = Dense(4)(a), Dense(4)(b)
    distance = Lambda(lambda t: ops.abs(t[0] - t[1]))([ha, hb])
    model = Model([a, b], Dense(1)(distance))
    assert distance.shape == (None, 4)
    rng = np.random.default_rng(0)
    xa, xb = rng.standard_normal((2, 64, 3)).astype("float32")
    y = np.sum(np.abs(xa - xb), axis=1, keepdims=True)
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit([xa, xb], y, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_plain_numpy_lambda_as_first_layer_trains():
    set_random_seed(0)  # the initial weights
    x, y = _regression()
    model = Sequential([Input((4,)), Lambda(numpy_features), Dense(1)])
    assert model.output_shape == (None, 1)
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit(x, y, epochs=5, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_plain_numpy_lambda_after_a_trainable_layer_fails_clearly():
    x, y = _regression(32)
    model = Sequential([Input((4,)), Dense(3), Lambda(numpy_features, name="plain"), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(RuntimeError, match=r"Lambda layer 'plain'.*automl\.keras\.ops"):
        model.fit(x, y, epochs=1, verbose=0)


# -- serialization ----------------------------------------------------------------


def test_config_names_the_function_and_never_stores_code():
    layer = Lambda(double_relu, output_shape=(4,))
    config = layer.get_config()
    assert config["function"] == {"class_name": "function", "config": "double_relu",
                                  "module": __name__, "registered_name": "double_relu"}
    assert config["output_shape"] == [4]
    restored = Lambda.from_config(config, custom_objects={"double_relu": double_relu})
    assert restored.function is double_relu
    assert restored.get_config() == config


def test_from_config_without_custom_objects_is_a_clear_error():
    config = Lambda(double_relu, name="dr").get_config()
    with pytest.raises(ValueError, match=r"'double_relu'.*never imported.*custom_objects"):
        Lambda.from_config(config)


def test_python_lambda_resolves_by_layer_name_only():
    fn = lambda x: x * 2.0  # noqa: E731
    config = Lambda(fn, name="times_two").get_config()
    assert config["function"]["class_name"] == "__lambda__"
    assert "code" not in str(config)
    with pytest.raises(ValueError, match="never runs code from a saved file"):
        Lambda.from_config(config)
    assert Lambda.from_config(config, custom_objects={"times_two": fn}).function is fn


def test_ops_functions_resolve_without_custom_objects():
    config = Lambda(ops.relu).get_config()
    assert config["function"]["module"] == "automl.keras.ops"
    assert Lambda.from_config(config).function is ops.relu


def test_save_and_load_with_custom_objects(tmp_path):
    x, y = _regression(32)
    model = Sequential([Input((4,)), Dense(3), Lambda(double_relu), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    saving.save_model(model, path)
    with pytest.raises(ValueError, match="double_relu"):
        saving.load_model(path)
    loaded = saving.load_model(path, custom_objects={"double_relu": double_relu})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    loaded.fit(x, y, epochs=1, verbose=0)
