"""Graph accessors, frozen nested models, from_config without names, masks (Keras guides).

Patterns of the guides "The Sequential model" (feature extraction from
``layer.output``), "Transfer learning & fine-tuning" (a frozen base model
nested in a new model, then unfrozen) and "Understanding masking & padding".
"""

import numpy as np
import pytest

from automl import keras
from automl.keras import Input, Model, Sequential, layers, ops, utils


def test_layer_and_model_inputs_and_outputs():
    inputs = Input((3,))
    dense = layers.Dense(2)
    outputs = dense(inputs)
    assert dense.input is inputs and dense.output is outputs
    assert dense.input_shape == (None, 3) and dense.output_shape == (None, 2)
    model = Model(inputs, outputs)
    assert model.input is inputs and model.output is outputs
    assert model.inputs == [inputs] and model.outputs == [outputs]
    with pytest.raises(AttributeError, match="never been called"):
        _ = layers.Dense(2).output


def test_feature_extraction_from_a_sequential():
    utils.set_random_seed(0)
    initial = Sequential([Input((4,)), layers.Dense(5, activation="relu"), layers.Dense(3, name="middle"),
                          layers.Dense(1)])
    assert initial.inputs[0].shape == (None, 4) and initial.outputs[0].shape == (None, 1)
    extractor = Model(inputs=initial.inputs, outputs=[layer.output for layer in initial.layers])
    x = np.random.default_rng(0).random((2, 4))
    features = extractor.predict(x, verbose=0)
    assert [f.shape for f in features] == [(2, 5), (2, 3), (2, 1)]
    np.testing.assert_allclose(features[-1], initial.predict(x, verbose=0), rtol=1e-6)
    middle = Model(initial.input, initial.get_layer("middle").output)
    np.testing.assert_allclose(middle.predict(x, verbose=0), features[1], rtol=1e-6)
    with pytest.raises(AttributeError, match="no defined inputs"):
        _ = Sequential([layers.Dense(2)]).inputs


def test_freezing_a_model_freezes_every_nested_layer(digits_split):
    x_train, _, y_train, _ = digits_split
    utils.set_random_seed(1)
    inner = Sequential([Input((64,)), layers.Dense(8, activation="relu")])
    base = Sequential([Input((64,)), inner, layers.Dense(8, activation="relu")])
    base.trainable = False
    assert not inner.trainable and not inner.layers[0].trainable and not base.layers[1].trainable
    assert base.trainable_weights == [] and len(base.non_trainable_weights) == 4
    inputs = Input((64,))
    model = Model(inputs, layers.Dense(10, activation="softmax")(base(inputs, training=False)))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    frozen = base.get_weights()
    model.fit(x_train[:128], y_train[:128], epochs=1, verbose=0)
    for before, after in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(before, after)
    base.trainable = True  # fine-tuning: everything trains again
    assert inner.layers[0].trainable and len(model.trainable_weights) == 6
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="categorical_crossentropy")
    model.fit(x_train[:128], y_train[:128], epochs=1, verbose=0)
    assert any(np.abs(b - a).max() > 0 for b, a in zip(frozen, base.get_weights()))


class NoNameLayer(keras.layers.Layer):
    def __init__(self, units=2):
        super().__init__()
        self.units = units
        self.dense = layers.Dense(units)

    def call(self, inputs):
        return self.dense(inputs)

    def get_config(self):
        return {"units": self.units}  # no name, as many custom layers write it


def test_from_config_when_a_custom_get_config_has_no_name():
    inputs = Input((3,))
    first, second = NoNameLayer(), NoNameLayer()
    outputs = layers.Dense(1)(second(first(inputs)) + first(inputs))
    model = Model(inputs, outputs)
    clone = Model.from_config(model.get_config(), custom_objects={"NoNameLayer": NoNameLayer})
    assert [la.name for la in clone.layers] == [la.name for la in model.layers]
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((2, 3))
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_eager_masks_are_attached_as_keras_mask():
    padded = np.array([[711, 632, 71, 0, 0], [73, 8, 3215, 55, 927]])
    embedded = layers.Embedding(input_dim=5000, output_dim=4, mask_zero=True)(padded)
    np.testing.assert_array_equal(embedded._keras_mask, padded != 0)
    values = np.repeat(padded[:, :, None], 2, axis=-1).astype("float32")
    masked = layers.Masking()(values)
    np.testing.assert_array_equal(masked._keras_mask, padded != 0)


class TemporalSoftmax(keras.layers.Layer):
    """The masking guide's layer: a softmax over the unmasked timesteps only."""

    def call(self, inputs, mask=None):
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        exps = ops.exp(inputs) * weights
        return exps / ops.sum(exps, axis=1, keepdims=True)


def test_masks_reach_a_custom_layer_while_the_graph_is_built_and_at_run_time():
    utils.set_random_seed(2)
    inputs = Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=4, mask_zero=True)(inputs)
    assert x._keras_mask is not None and x._keras_mask.shape == (None, None)
    x = layers.Dense(1)(x)
    assert x._keras_mask is not None  # passed through by a layer that supports masking
    model = Model(inputs, TemporalSoftmax()(x))
    tokens = np.array([[3, 4, 0, 0], [1, 2, 5, 0]])
    out = model.predict(tokens, verbose=0)[..., 0]
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out[tokens == 0], 0.0)


class Scale(keras.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs, training=False):
        return inputs * self.w * (2.0 if training else 1.0)


def test_training_false_in_the_graph_is_kept_and_gradients_still_flow(float64):
    # Transfer learning: ``base(inputs, training=False)`` runs the base in inference mode
    # (BatchNormalization statistics frozen, custom training branches off) even during fit,
    # while the gradients still reach the layers before it.
    utils.set_random_seed(3)
    inputs = Input((4,))
    first = layers.Dense(4)
    base = Sequential([Input((4,)), layers.BatchNormalization(), Scale()])
    outputs = layers.Dense(1)(base(first(inputs), training=False) + Scale()(inputs))
    model = Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 1))
    moving = base.layers[0].moving_mean.numpy()
    from automl.testing import check_model_gradients

    check_model_gradients(model, x, y)
    np.testing.assert_array_equal(base.layers[0].moving_mean.numpy(), moving)
    clone = Model.from_config(model.get_config(), custom_objects={"Scale": Scale})
    assert [n.call_training for n in clone._nodes if n.layer.name == base.name] == [False]
