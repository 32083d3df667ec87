"""Model subclassing and custom layers composed of sublayers."""

import numpy as np
import pytest

from automl import keras
from automl.keras import layers, ops
from automl.testing import check_model_gradients, floatx_scope


class MyModel(keras.Model):
    def __init__(self, num_classes=10, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = layers.Dense(64, activation="relu")
        self.dropout = layers.Dropout(0.5)
        self.blocks = [layers.Dense(32, activation="relu") for _ in range(2)]
        self.out = layers.Dense(num_classes, activation="softmax")

    def call(self, inputs, training=False):
        x = self.dense1(inputs)
        x = self.dropout(x, training=training)
        for block in self.blocks:
            x = block(x) + x[:, :32]
        return self.out(x)


class Shared(keras.Model):
    """A residual, a layer called twice, and ops between layer outputs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inp = layers.Dense(6, activation="tanh")
        self.shared = layers.Dense(6, activation="tanh")
        self.head = layers.Dense(3, activation="softmax")

    def call(self, inputs):
        h = self.inp(inputs)
        a = self.shared(h)
        b = self.shared(a * 0.5 + h)
        return self.head(ops.concatenate([a[:, :3], b[:, 3:]], axis=1) + h)


class Block(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units, activation="tanh")
        self.proj = layers.Dense(units)

    def call(self, inputs):
        return self.dense(inputs) + self.proj(inputs)


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 0.5).astype(int)
    return x, y


def test_book_example_trains_and_predicts(capsys):
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = MyModel(num_classes=3)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, validation_split=0.2, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < loss[0]
    assert "val_accuracy" in history.history
    _, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.6  # three classes: chance is about 0.4 here
    assert model.predict(x[:5], verbose=0).shape == (5, 3)
    assert [la.name for la in model.layers][:2] == [model.dense1.name, model.dropout.name]
    assert len(model.layers) == 5
    assert model.count_params() == (8 * 64 + 64) + (64 * 32 + 32) + (32 * 32 + 32) + (32 * 3 + 3)
    model.summary()
    out = capsys.readouterr().out
    assert model.dense1.name in out and "Total params" in out
    with pytest.raises(ValueError, match="shape"):
        model.predict(np.zeros((2, 5)), verbose=0)


def test_gradients_residual_and_shared_layer():
    with floatx_scope("float64"):
        keras.utils.set_random_seed(1)
        model = Shared()
        model.compile("sgd", "sparse_categorical_crossentropy")
        x, y = _data(16)
        model.build((None, 8))
        assert len(model.trainable_weights) == 6
        check_model_gradients(model, x.astype("float64"), y)


def test_custom_layer_with_sublayers_in_sequential():
    with floatx_scope("float64"):
        keras.utils.set_random_seed(2)
        block = Block(5)
        model = keras.Sequential([keras.Input(shape=(8,)), block, Block(4), layers.Dense(1)])
        model.compile("sgd", "mse")
        assert block.output_shape == (None, 5)
        assert len(block.trainable_weights) == 4
        assert model.count_params() == 2 * (8 * 5 + 5) + 2 * (5 * 4 + 4) + 5
        x, y = _data(12)
        check_model_gradients(model, x.astype("float64"), y.astype("float64"))
    x, y = _data()
    model = keras.Sequential([keras.Input(shape=(8,)), Block(16), layers.Dense(1)])
    model.compile("adam", "mse")
    loss = model.fit(x, y.astype("float32"), epochs=5, verbose=0).history["loss"]
    assert loss[-1] < loss[0]


def test_custom_layer_inside_subclassed_and_functional():
    with floatx_scope("float64"):
        keras.utils.set_random_seed(3)

        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.block = Block(4)
                self.out = layers.Dense(1)

            def call(self, inputs):
                return self.out(self.block(inputs) * 2.0)

        model = Net()
        model.compile("sgd", "mse")
        model.build((None, 8))
        x, y = _data(10)
        x = x.astype("float64")
        check_model_gradients(model, x, y.astype("float64"))
        inputs = keras.Input(shape=(8,))
        functional = keras.Model(inputs, layers.Dense(1)(Block(3)(inputs)))
        functional.compile("sgd", "mse")
        check_model_gradients(functional, x, y.astype("float64"))


def test_untraced_numpy_math_is_a_clear_error():
    class Bad(keras.Model):
        def __init__(self):
            super().__init__(name="bad_model")
            self.a = layers.Dense(4)
            self.b = layers.Dense(2)

        def call(self, inputs):
            return self.b(np.cumsum(self.a(inputs), axis=1))

    model = Bad()
    model.compile("sgd", "mse")
    x = np.ones((4, 3), "float32")
    assert model.predict(x, verbose=0).shape == (4, 2)  # inference runs eagerly on arrays
    with pytest.raises(TypeError, match="bad_model.*automl.keras.ops"):
        model.fit(x, np.ones((4, 2)), verbose=0)

    class Detached(Bad):
        def call(self, inputs):
            return ops.value_of(self.b(self.a(inputs))) * 2

    model = Detached()
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="not a traced tensor"):
        model.fit(x, np.ones((4, 2)), verbose=0)


def test_save_weights_round_trip_and_config(tmp_path):
    x, y = _data(32)
    model = MyModel(num_classes=3)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    other = MyModel(num_classes=3)
    other.build((None, 8))
    other.load_weights(path)
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    config = model.get_config()
    assert config["num_classes"] == 3
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"MyModel": MyModel})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)

    class Holder(keras.Model):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def call(self, inputs):
            return self.inner(inputs)

    holder = Holder(layers.Dense(2))
    holder.build((None, 8))
    with pytest.raises(NotImplementedError, match="get_config"):
        holder.save(tmp_path / "h.keras")


def test_weights_made_with_add_weight_train_and_untraced_uses_warn():
    # Ops on a Variable are traced, so a class's own weights train; a weight used through
    # its plain ``.value`` array gets no gradient, and training says so (as Keras warns).
    class Scale(layers.Layer):
        def __init__(self, traced=True, **kwargs):
            super().__init__(**kwargs)
            self.traced = traced

        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],), "ones", "w")

        def call(self, inputs):
            return inputs * (self.w if self.traced else self.w.value)

    class Scaled(keras.Model):
        def __init__(self, traced=True, **kwargs):
            super().__init__(**kwargs)
            self.out = layers.Dense(2)
            self.traced = traced

        def build(self, input_shape):
            self.s = self.add_weight((input_shape[-1],), "ones", "s")

        def call(self, inputs):
            return self.out(inputs * (self.s if self.traced else self.s.value))

    x = np.random.default_rng(0).standard_normal((8, 3)).astype("float32")
    y = np.ones((8, 2), dtype="float32")
    for traced in (True, False):
        in_sequential = keras.Sequential([keras.Input((3,)), layers.Dense(3), Scale(traced), layers.Dense(2)])
        scaled = Scaled(traced)
        scaled.build((None, 3))
        for model, weight in ((in_sequential, in_sequential.layers[1].w), (scaled, scaled.s)):
            model.compile("sgd", "mse")
            before = weight.numpy()
            if traced:
                model.fit(x, y, epochs=1, verbose=0)
                assert np.abs(weight.numpy() - before).max() > 0
            else:
                with pytest.warns(UserWarning, match="Gradients do not exist for variables"):
                    model.fit(x, y, epochs=1, verbose=0)
                np.testing.assert_array_equal(weight.numpy(), before)
            assert model.predict(x, verbose=0).shape == (8, 2)
