"""The functional API: Model(inputs, outputs) graphs, shared and nested layers, several heads."""

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, backend, layers, models, utils
from automl.testing import check_model_gradients


def _shared_graph():
    inputs = Input(shape=(5,))
    first = layers.Dense(4, activation="tanh")
    shared = layers.Dense(4, activation="sigmoid")
    outputs = layers.Dense(3, activation="softmax")(shared(shared(first(inputs))))
    return Model(inputs, outputs)


def test_model_with_inputs_and_outputs_is_functional():
    model = _shared_graph()
    assert isinstance(model, models.Functional)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense", "Dense"]
    assert model.input_shape == (None, 5) and model.output_shape == (None, 3)


def test_shared_layer_gradients_sum_over_calls(float64):
    model = _shared_graph()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    rng = np.random.default_rng(1)
    x = rng.random((6, 5))
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    check_model_gradients(model, x, y)


def test_functional_trains_and_round_trips_config_and_file(tmp_path, digits_split):
    x_train, x_test, y_train, _ = digits_split
    utils.set_random_seed(0)
    inputs = Input(shape=(64,))
    hidden = layers.Dense(32, activation="relu")(inputs)
    outputs = layers.Dense(10, activation="softmax")(hidden)
    model = Model(inputs, outputs)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=10, batch_size=32, verbose=0, validation_split=0.2)
    assert history.history["val_accuracy"][-1] > 0.85
    clone = models.Functional.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
    model.save(tmp_path / "m.keras")
    loaded = models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0))


def test_frozen_nested_base_is_not_trained(digits_split):
    x_train, _, y_train, _ = digits_split
    base = Sequential([Input(shape=(64,)), layers.Dense(16, activation="relu")])
    base.trainable = False
    before = base.get_weights()
    inputs = Input(shape=(64,))
    model = Model(inputs, layers.Dense(10, activation="softmax")(base(inputs)))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x_train, y_train, epochs=1, verbose=0)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    for a, b in zip(before, base.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_nested_trainable_model_receives_gradients(float64):
    inner = Sequential([Input(shape=(3,)), layers.Dense(4, activation="tanh")])
    inputs = Input(shape=(3,))
    hidden = layers.Dense(3, activation="tanh")(inputs)
    model = Model(inputs, layers.Dense(2, activation="softmax")(inner(hidden)))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    check_model_gradients(model, rng.random((5, 3)), np.eye(2)[[0, 1, 0, 1, 1]])


def _two_headed():
    a, b = Input(shape=(4,), name="a"), Input(shape=(3,), name="b")
    cls = layers.Dense(3, activation="softmax", name="cls")(layers.Dense(8, activation="relu")(a))
    reg = layers.Dense(1, name="reg")(layers.Dense(8, activation="relu")(b))
    return Model([a, b], [cls, reg])


def test_multi_input_multi_output_logs_and_weights():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    xa, xb = rng.random((200, 4)), rng.random((200, 3))
    y_cls = (xa[:, 0] * 3).astype(int)
    y_reg = xb.sum(axis=1, keepdims=True)
    model = _two_headed()
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    history = model.fit({"a": xa, "b": xb}, [y_cls, y_reg], epochs=30, batch_size=32, verbose=0,
                        validation_split=0.25)
    assert sorted(history.history) == sorted([
        "cls_accuracy", "cls_loss", "loss", "reg_loss",
        "val_cls_accuracy", "val_cls_loss", "val_loss", "val_reg_loss"])
    total = history.history["loss"][-1]
    assert total == pytest.approx(history.history["cls_loss"][-1] + 0.5 * history.history["reg_loss"][-1],
                                  rel=1e-5)
    assert history.history["reg_loss"][-1] < history.history["reg_loss"][0]
    probs, values = model.predict([xa[:5], xb[:5]], verbose=0)
    assert probs.shape == (5, 3) and values.shape == (5, 1)
    result = model.evaluate([xa, xb], [y_cls, y_reg], verbose=0, return_dict=True)
    assert set(result) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}


def test_multi_output_gradients(float64):
    model = _two_headed()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"], loss_weights=[1.0, 2.0])
    rng = np.random.default_rng(3)
    x = [rng.random((5, 4)), rng.random((5, 3))]
    y = [np.eye(3)[[0, 1, 2, 1, 0]], rng.random((5, 1))]
    check_model_gradients(model, x, y)


def test_multi_input_errors_name_the_problem():
    model = _two_headed()
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"])
    with pytest.raises(ValueError, match=r"list of 2 arrays"):
        model.predict(np.zeros((2, 4)), verbose=0)
    with pytest.raises(ValueError, match=r"shape \(None, 3\) \(input 1, 'b'\)"):
        model.predict([np.zeros((2, 4)), np.zeros((2, 5))], verbose=0)
    with pytest.raises(ValueError, match=r"'loss' parameter of compile must be a list of 2"):
        model.compile(optimizer="adam", loss=["mse"])
    with pytest.raises(ValueError, match=r"unknown outputs \['nope'\]"):
        model.compile(optimizer="adam", loss={"nope": "mse"})


def test_inputs_must_come_from_input():
    with pytest.raises(TypeError, match="tensors made by Input"):
        Model(layers.Dense(2), layers.Dense(2))
    backend.clear_session()


def test_get_layer_and_deprecated_sequential_predictors():
    model = Sequential([Input(shape=(3,)), layers.Dense(4, name="hidden"), layers.Dense(2, activation="softmax")])
    assert model.get_layer("hidden") is model.layers[0]
    assert model.get_layer(index=1) is model.layers[1]
    with pytest.raises(ValueError, match="No such layer: 'nope'"):
        model.get_layer("nope")
    x = np.random.default_rng(0).random((5, 3))
    with pytest.warns(DeprecationWarning, match="predict_classes"):
        classes = model.predict_classes(x)
    np.testing.assert_array_equal(classes, model.predict(x, verbose=0).argmax(axis=1))
    with pytest.warns(DeprecationWarning, match="predict_proba"):
        np.testing.assert_array_equal(model.predict_proba(x), model.predict(x, verbose=0))


def test_layers_are_in_keras_order_by_depth_then_first_reach_from_the_outputs():
    # Real Keras 3.15 lists these models' layers as asserted (a ResNet shortcut
    # convolution comes after the longer branch's first layer, as in Keras's weight files).
    x = Input((3,))
    a = layers.Dense(2, name="short")(x)
    b = layers.Dense(2, name="long2")(layers.Dense(2, name="long1")(x))
    out = layers.Add(name="add")([a, b])
    model = Model(x, out)
    assert model.layers[0] is x.layer
    assert [la.name for la in model.layers][1:] == ["long1", "short", "long2", "add"]
    shared = layers.Dense(2, name="shared")
    c = layers.Dense(3, name="c")(x)
    model = Model(x, [layers.Add(name="add2")([shared(c), shared(x)]), a])
    assert [la.name for la in model.layers][1:] == ["c", "shared", "add2", "short"]
