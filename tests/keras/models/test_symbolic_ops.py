"""Symbolic tensors in the functional API: operators and ops calls make graph nodes.

The pattern of the Keras functional-API guide with ops on ``KerasTensor``s:
``x = inputs + 1``, slicing, ``ops.concatenate([a, b], axis=-1)``; the models
train, match central-difference gradients, and round-trip through
``get_config`` and ``.keras`` files.
"""

import numpy as np
import pytest

from automl.keras import Input, KerasTensor, Model, layers, models, ops, utils
from automl.testing import check_model_gradients


def test_tensor_attributes_and_operator_shapes():
    x = Input(shape=(3,), name="features")
    assert x.shape == (None, 3) and x.dtype == "float32" and x.name == "features"
    assert Input(shape=(2,), dtype="int32").dtype == "int32"
    assert (x + 1).shape == (None, 3)
    assert (2 - x).shape == (None, 3)
    assert (x * x / 2.0 // 1 % 2 ** x).shape == (None, 3)
    assert (-x).shape == abs(x).shape == (None, 3)
    assert (x @ np.ones((3, 5))).shape == (None, 5)
    assert x[:, 1:].shape == (None, 2)
    assert x[..., 0].shape == (None,)
    assert x[:, None, :].shape == (None, 1, 3)
    assert (x > 0).dtype == "bool" and (x <= 1).shape == (None, 3)


def test_unknown_non_batch_dimensions_stay_unknown():
    seq = Input(shape=(None, 4))
    assert (seq * 2).shape == (None, None, 4)
    assert ops.sum(seq, axis=1).shape == (None, 4)
    assert seq[:, -1].shape == (None, 4)


def test_ops_functions_on_symbolic_tensors_add_nodes():
    a, b = Input((3,)), Input((2,))
    joined = ops.concatenate([a, b], axis=-1)
    assert isinstance(joined, KerasTensor) and joined.shape == (None, 5)
    assert type(joined.layer).__name__ == "OpLayer"
    assert ops.relu(a).shape == (None, 3)
    assert ops.reshape(a, (-1, 3, 1)).shape == (None, 3, 1)
    assert ops.sum(a, axis=-1).shape == (None,)
    # The entry point the ops functions dispatch to.
    stacked = a._automl_symbolic_call(ops.stack, ([a, a],), {"axis": 1})
    assert stacked.shape == (None, 2, 3)


def _graph_model():
    a, b = Input((4,)), Input((3,))
    hidden = layers.Dense(4, activation="tanh")(a)
    x = (hidden + 1.0) * 0.5 - hidden ** 2 / 3.0
    x = ops.concatenate([x, b * hidden[:, :3], abs(-hidden[:, 1:2])], axis=-1)
    x = x @ np.linspace(-1.0, 1.0, 16).reshape(8, 2)
    x = x + ops.mean(hidden, axis=-1, keepdims=True) + (hidden > 0)[:, :2] * hidden[:, 2:]
    return Model([a, b], layers.Dense(1)(ops.tanh(x)))


def _data(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, 4)), rng.standard_normal((n, 3))], rng.standard_normal((n, 1))


def test_graph_of_ops_matches_central_differences(float64):
    utils.set_random_seed(0)
    model = _graph_model()
    model.compile(optimizer="sgd", loss="mse")
    check_model_gradients(model, *_data())


def test_graph_of_ops_trains_and_round_trips(tmp_path):
    utils.set_random_seed(1)
    model = _graph_model()
    model.compile(optimizer="adam", loss="mse")
    x, y = _data(64)
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    expected = model.predict(x, verbose=0)
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), expected, rtol=1e-6)
    model.save(tmp_path / "ops.keras")
    loaded = models.load_model(tmp_path / "ops.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6)


def test_input_plus_one_model_from_the_guide():
    inputs = Input(shape=(2,))
    model = Model(inputs, layers.Dense(1)(inputs + 1))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    assert model.predict(np.zeros((3, 2)), verbose=0).shape == (3, 1)
    assert len(model.layers) == 3  # Input, the op, Dense


def test_symbolic_tensors_have_no_values():
    x = Input((3,))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Iterating"):
        list(x)
    assert x in [Input((3,)), x]  # == is identity
