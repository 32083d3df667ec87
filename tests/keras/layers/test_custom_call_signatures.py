"""User-defined layers and models written with ops, called as Keras calls them.

Patterns of the Keras guides "Making new layers and models via subclassing"
and "The Functional API": weights made with ``add_weight`` (in ``__init__``
or ``build``) or ``Variable``, calls on a list, several positional tensors,
tensor keyword arguments and dicts, ``training`` and ``mask`` arguments, and
subclassed models with dict inputs and several outputs. Gradients are
checked against float64 central differences of the whole model's loss.
"""

import numpy as np
import pytest

from automl import keras
from automl.keras import Input, Model, Sequential, layers, ops, utils
from automl.testing import check_model_gradients


class Linear(keras.layers.Layer):
    """The guide's first layer: weights created in ``build`` from the input shape."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class EagerLinear(keras.layers.Layer):
    """Weights created in ``__init__`` from a known input size, one as a bare Variable."""

    def __init__(self, units=3, input_dim=4):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
        self.b = keras.Variable(initializer="zeros", shape=(units,), trainable=True)

    def call(self, inputs):
        return ops.tanh(inputs @ self.w + self.b)


class ComputeSum(keras.layers.Layer):
    """A non-trainable state updated in ``call``."""

    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(shape=(input_dim,), initializer="zeros", trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return inputs


class Gate(keras.layers.Layer):
    """Takes a list: ``build`` gets the list of shapes."""

    def build(self, input_shape):
        self.seen_shape = input_shape
        self.proj = layers.Dense(input_shape[0][-1])

    def call(self, inputs):
        x, g = inputs
        return x * ops.sigmoid(self.proj(g))


class Mix(keras.layers.Layer):
    """Several positional tensors and a tensor keyword argument."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(3)

    def call(self, x, y, context=None, training=False):
        out = self.dense(x) + y
        if context is not None:
            out = out * context
        return out


class DictSum(keras.layers.Layer):
    def call(self, inputs):
        return inputs["left"] - 2.0 * inputs["right"]


def _xy(shapes, out=1, n=6, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((n, *s)) for s in shapes]
    return xs if len(xs) > 1 else xs[0], rng.standard_normal((n, out))


def _check(model, x, y):
    model.compile(optimizer="sgd", loss="mse")
    check_model_gradients(model, x, y)


def test_linear_layer_with_weights_made_in_build(float64):
    utils.set_random_seed(0)
    layer = Linear(4)
    assert layer(np.ones((2, 3))).shape == (2, 4)
    assert [w.shape for w in layer.trainable_weights] == [(3, 4), (4,)]
    _check(Sequential([Input((3,)), Linear(4), Linear(1)]), *_xy([(3,)]))


def test_weights_made_in_init_and_bare_variables(float64):
    utils.set_random_seed(1)
    layer = EagerLinear()
    assert len(layer.weights) == 2 and len(layer.trainable_weights) == 2
    _check(Sequential([Input((4,)), layers.Dense(4), EagerLinear(), layers.Dense(1)]), *_xy([(4,)]))


def test_non_trainable_state_updates_and_is_not_trained():
    layer = ComputeSum(2)
    layer(np.ones((2, 2)))
    layer(np.ones((2, 2)))
    np.testing.assert_array_equal(layer.total.numpy(), [4.0, 4.0])
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1


def test_layer_called_on_a_list_builds_from_shapes_and_passes_gradients(float64):
    utils.set_random_seed(2)
    a, b = Input((4,)), Input((2,))
    gate = Gate()
    # Dense layers before the gate: their gradients need the gate's gradient w.r.t. both inputs.
    out = gate([layers.Dense(4)(a), layers.Dense(2)(b)])
    assert gate.seen_shape == [(None, 4), (None, 2)]
    assert out.shape == (None, 4)
    _check(Model([a, b], layers.Dense(1)(out)), *_xy([(4,), (2,)]))


def test_several_positional_tensors_and_tensor_keyword(float64):
    utils.set_random_seed(3)
    a, b, c = Input((4,)), Input((3,)), Input((3,))
    out = Mix()(layers.Dense(4)(a), layers.Dense(3)(b), context=layers.Dense(3)(c))
    model = Model([a, b, c], layers.Dense(1)(out))
    _check(model, *_xy([(4,), (3,), (3,)]))


def test_dict_of_tensors(float64):
    utils.set_random_seed(4)
    a, b = Input((3,)), Input((3,))
    out = DictSum()({"left": layers.Dense(3)(a), "right": layers.Dense(3)(b)})
    _check(Model([a, b], layers.Dense(1)(out)), *_xy([(3,), (3,)]))


def test_eager_calls_with_any_signature():
    x, y = np.ones((2, 4)), np.ones((2, 3))
    assert Mix()(x, y, context=y).shape == (2, 3)
    assert Gate()([x, np.ones((2, 5))]).shape == (2, 4)
    assert DictSum()({"left": y, "right": y}).tolist() == (-y).tolist()


def test_functional_graph_with_custom_calls_round_trips_config(float64):
    utils.set_random_seed(5)
    a, b = Input((4,)), Input((3,))
    out = Mix()(layers.Dense(4)(a), b, context=b)
    model = Model([a, b], Linear(2)(out))
    clone = Model.from_config(model.get_config(), custom_objects={"Mix": Mix, "Linear": Linear})
    clone.set_weights(model.get_weights())
    x, _ = _xy([(4,), (3,)])
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return inputs * 0.0
        return inputs


def test_training_argument_is_passed_as_keras_passes_it():
    model = Sequential([Input((2,)), CustomDropout(0.5)])
    x = np.ones((3, 2))
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    np.testing.assert_array_equal(model(x, training=True), np.zeros_like(x))
    np.testing.assert_array_equal(CustomDropout(0.5)(x, training=True), np.zeros_like(x))


class MaskedMean(keras.layers.Layer):
    def call(self, inputs, mask=None):
        self.got_mask = mask is not None
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.cast(mask, inputs.dtype)[:, :, None]
        return ops.sum(inputs * weights, axis=1) / ops.sum(weights, axis=1)


def test_mask_reaches_a_custom_layer_in_a_sequential():
    utils.set_random_seed(6)
    masked = MaskedMean()
    model = Sequential([Input((4,), dtype="int32"), layers.Embedding(10, 3, mask_zero=True), masked,
                        layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    model.fit(x, np.ones((2, 1)), epochs=1, verbose=0)
    assert masked.got_mask
    embedded = model.layers[0](x)
    expected = embedded[0, :2].mean(axis=0)
    np.testing.assert_allclose(masked(embedded, mask=x != 0)[0], expected, rtol=1e-6)


class TwoHeads(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.left = layers.Dense(4, activation="relu")
        self.right = Linear(4)
        self.regression = layers.Dense(1)
        self.classes = layers.Dense(3, activation="softmax")

    def call(self, inputs):
        hidden = ops.concatenate([self.left(inputs["a"]), self.right(inputs["b"])], axis=-1)
        return [self.regression(hidden), self.classes(hidden)]


def test_subclassed_model_with_dict_inputs_and_two_outputs(float64):
    utils.set_random_seed(7)
    model = TwoHeads()
    rng = np.random.default_rng(0)
    x = {"a": rng.standard_normal((12, 5)), "b": rng.standard_normal((12, 2))}
    y = [rng.standard_normal((12, 1)), np.eye(3)[rng.integers(0, 3, 12)]]
    model.compile(optimizer="adam", loss=["mse", "categorical_crossentropy"], metrics=[["mae"], ["accuracy"]])
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert {"loss", "output_1_loss", "output_2_loss", "output_2_accuracy"} <= set(history.history)
    predictions = model.predict(x, verbose=0)
    assert [p.shape for p in predictions] == [(12, 1), (12, 3)]
    check_model_gradients(model, x, y)


@pytest.mark.parametrize("where", ["sequential", "functional", "subclassed"])
def test_linear_layer_trains(where):
    utils.set_random_seed(8)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((128, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    if where == "sequential":
        model = Sequential([Input((3,)), Linear(1)])
    elif where == "functional":
        inputs = Input((3,))
        model = Model(inputs, Linear(1)(inputs))
    else:
        class Wrapper(keras.Model):
            def __init__(self):
                super().__init__()
                self.linear = Linear(1)

            def call(self, inputs):
                return self.linear(inputs)

        model = Wrapper()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 1e-3


class TransformerBlock(keras.layers.Layer):
    """The keras.io text-classification block: attention called on (inputs, inputs)."""

    def __init__(self, embed_dim, num_heads, ff_dim, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)

    def call(self, inputs):
        out1 = self.layernorm1(inputs + self.att(inputs, inputs))
        return self.layernorm2(out1 + self.ffn(out1))


def test_layer_calling_attention_on_two_positional_tensors(float64):
    utils.set_random_seed(9)
    inputs = Input(shape=(5, 4))
    x = TransformerBlock(4, 2, 6)(layers.Dense(4)(inputs))
    model = Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(x)))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    check_model_gradients(model, rng.standard_normal((3, 5, 4)), rng.standard_normal((3, 1)))
