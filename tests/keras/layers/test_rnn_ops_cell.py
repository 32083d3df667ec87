"""A custom RNN cell written with ``ops`` (the Keras RNN guide's ``MinimalRNNCell``, without a
backward pass of its own) inside ``RNN``: forward (plain, masked, backwards) and the weights
after one SGD step of ``fit`` equal Keras 3's (``fixtures/rnn_keras.npz``, written by
``fixtures/rnn_keras.py``), and one training step's gradients match float64 central
differences, also for a two-state cell with gates, a cell holding a Dense layer, a mask and
initial states."""

import importlib.util
import pathlib

import numpy as np
import pytest

from automl import keras
from automl.keras import layers, ops
from automl.testing import check_model_gradients, floatx_scope

_HERE = pathlib.Path(__file__).parent / "fixtures"
_spec = importlib.util.spec_from_file_location("rnn_keras", _HERE / "rnn_keras.py")
FIX = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(FIX)
EXPECTED = np.load(_HERE / "rnn_keras.npz")
Cell = FIX.minimal_cell(keras)


class GatedCell(keras.layers.Layer):
    """Two states (h, c) and nonlinear gates, all with ops."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 2 * self.units), initializer="glorot_uniform", name="w")
        self.u = self.add_weight(shape=(self.units, 2 * self.units), initializer="orthogonal", name="u")
        self.b = self.add_weight(shape=(2 * self.units,), initializer="random_normal", name="b")

    def call(self, inputs, states, training=False):
        h, c = states
        z = ops.matmul(inputs, self.w) + ops.matmul(h, self.u) + self.b
        gate, cand = ops.split(z, 2, axis=-1)
        c = ops.sigmoid(gate) * c + ops.tanh(cand)
        h = ops.tanh(c) * 0.5
        return h, [h, c]


def test_forward_matches_keras():
    layer = layers.RNN(Cell(4), return_sequences=True, return_state=True)
    layer(FIX.X_CELL)
    layer.set_weights(FIX.W_CELL)
    seq, state = layer(FIX.X_CELL)
    np.testing.assert_allclose(seq, EXPECTED["cell_seq"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state, EXPECTED["cell_state"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(FIX.X_CELL, mask=FIX.MASK)[0], EXPECTED["cell_masked"], rtol=1e-5, atol=1e-6)
    back = layers.RNN(Cell(4), go_backwards=True)
    back(FIX.X_CELL)
    back.set_weights(FIX.W_CELL)
    np.testing.assert_allclose(back(FIX.X_CELL), EXPECTED["cell_backwards"], rtol=1e-5, atol=1e-6)


def test_one_sgd_step_of_fit_matches_keras():
    inputs = keras.Input((6, 5))
    model = keras.Model(inputs, layers.RNN(Cell(4))(inputs))
    model.set_weights(FIX.W_CELL)
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(FIX.X_CELL, FIX.Y_CELL, batch_size=3, epochs=1, shuffle=False, verbose=0)
    for i, (w, w0) in enumerate(zip(model.get_weights(), before)):
        assert not np.allclose(w, w0)  # the cell's weights train
        np.testing.assert_allclose(w, EXPECTED[f"cell_fit_{i}"], rtol=1e-5, atol=1e-6)


class DenseCell(keras.layers.Layer):
    """A built-in sublayer inside the cell: its weights train through the traced calls too."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size = units, units
        self.dense = layers.Dense(units)

    def build(self, input_shape):
        self.u = self.add_weight(shape=(self.units, self.units), initializer="orthogonal", name="u")

    def call(self, inputs, states):
        h = ops.tanh(self.dense(inputs) + ops.matmul(states[0], self.u))
        return h, [h]


@pytest.mark.parametrize("cell", [Cell, GatedCell, DenseCell])
@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "go_backwards": True}])
def test_training_step_gradients(cell, options):
    rng = np.random.default_rng(0)
    with floatx_scope("float64"):
        inputs = keras.Input((5, 3))
        x = layers.Masking(0.0)(inputs)
        y = layers.RNN(cell(3), **options)(x)
        model = keras.Model(inputs, layers.Dense(2)(y))
        model.compile(optimizer="sgd", loss="mse")
        data = rng.standard_normal((4, 5, 3))
        data[1, 3:] = 0.0  # masked steps
        target = rng.standard_normal(model.predict(data, verbose=0).shape)
        check_model_gradients(model, data, target)


def test_gradients_reach_the_input_and_initial_states():
    rng = np.random.default_rng(1)
    with floatx_scope("float64"):
        x_in, h_in, c_in = keras.Input((4, 3)), keras.Input((2,)), keras.Input((2,))
        pre = layers.Dense(3)(x_in)  # trains only through the input gradient of the RNN
        h0, c0 = layers.Dense(2)(h_in), layers.Dense(2)(c_in)
        out = layers.RNN(GatedCell(2))(pre, initial_state=[h0, c0])
        model = keras.Model([x_in, h_in, c_in], out)
        model.compile(optimizer="sgd", loss="mse")
        data = [rng.standard_normal((3, 4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))]
        check_model_gradients(model, data, rng.standard_normal((3, 2)))
