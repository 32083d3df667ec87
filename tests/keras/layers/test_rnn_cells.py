"""RNN(cell), the built-in cells and StackedRNNCells: equivalence with the recurrent layers,
gradient checks in float64, custom cells, training, config and saving."""

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, optimizers, utils
from automl.keras.layers import (
    RNN,
    Dense,
    Embedding,
    GRUCell,
    Layer,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
)
from automl.keras.layers._base import LAYERS
from automl.keras.layers._recurrent import GRU, LSTM, SimpleRNN
from automl.keras.layers._rnn_wrappers import Bidirectional
from automl.keras.saving import load_model
from automl.testing import check_layer_gradients, floatx_scope, numeric_gradient

from .helpers import Probe, padded_sequences

KINDS = [
    (SimpleRNN, SimpleRNNCell, {}),
    (LSTM, LSTMCell, {}),
    (GRU, GRUCell, {}),
    (GRU, GRUCell, {"reset_after": False}),
]
# Left padding, right padding, a hole and a fully masked sample.
MASK = np.array([[0, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)


def _x(shape=(4, 5, 3), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _as_list(out):
    return out if isinstance(out, list) else [out]


def _twins(layer_cls, cell_cls, kw, units=4, **options):
    """A recurrent layer and RNN(cell) with the same options and the same weights."""
    layer = layer_cls(units, **kw, **options)
    rnn = RNN(cell_cls(units, **kw), **options)
    layer._maybe_build((None, 5, 3))
    rnn._maybe_build((None, 5, 3))
    rnn.set_weights(layer.get_weights())
    return layer, rnn


# -- equivalence with the recurrent layers -------------------------------------------------------
@pytest.mark.parametrize("layer_cls,cell_cls,kw", KINDS)
@pytest.mark.parametrize("options", [
    {},
    {"return_sequences": True},
    {"return_state": True},
    {"go_backwards": True, "return_sequences": True, "return_state": True},
    {"zero_output_for_mask": True, "return_sequences": True},
])
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_of_cell_equals_recurrent_layer(float64, layer_cls, cell_cls, kw, options, masked):
    layer, rnn = _twins(layer_cls, cell_cls, kw, **options)
    mask = MASK if masked else None
    expected, got = _as_list(layer(_x(), mask=mask)), _as_list(rnn(_x(), mask=mask))
    assert len(got) == len(expected) == (1 + len(layer.state_size) if rnn.return_state else 1)
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    assert rnn.compute_output_shape((None, 5, 3)) == layer.compute_output_shape((None, 5, 3))
    assert rnn.compute_mask(None, MASK) is not None or not rnn.return_sequences


@pytest.mark.parametrize("layer_cls,cell_cls,kw", KINDS)
def test_initial_state_and_float32_equal_recurrent_layer(layer_cls, cell_cls, kw):
    layer, rnn = _twins(layer_cls, cell_cls, kw, return_state=True)
    x = _x().astype(np.float32)
    states = [np.full((4, 4), 0.5, np.float32)] * len(layer.state_size)
    for a, b in zip(layer(x, initial_state=states), rnn(x, initial_state=states)):
        assert b.dtype == np.float32
        np.testing.assert_array_equal(a, b)


def test_weights_layout_matches_keras_and_transfers_both_ways():
    layer, rnn = _twins(GRU, GRUCell, {})
    assert [w.shape for w in rnn.get_weights()] == [(3, 12), (4, 12), (2, 12)]
    assert [v.name for v in rnn.weights] == [v.name for v in rnn.cell.weights]
    assert rnn.cell.kernel is rnn.weights[0]
    lstm = RNN(LSTMCell(2))
    lstm._maybe_build((None, 5, 3))
    np.testing.assert_array_equal(lstm.get_weights()[2], [0, 0, 1, 1, 0, 0, 0, 0])  # unit_forget_bias
    other = LSTM(2)
    other(_x())
    other.set_weights(lstm.get_weights())
    np.testing.assert_allclose(other(_x()), lstm(_x()), rtol=1e-6)


@pytest.mark.parametrize("cell_cls,n_states", [(SimpleRNNCell, 1), (LSTMCell, 2), (GRUCell, 1)])
def test_cell_called_on_one_step_as_keras(float64, cell_cls, n_states):
    cell = cell_cls(4)
    x = _x()[:, 0]
    states = [np.full((4, 4), 0.1) for _ in range(n_states)]
    out, new = cell(x, states)
    assert isinstance(new, list) and len(new) == n_states
    np.testing.assert_array_equal(out, new[0])
    rnn = RNN(cell, return_state=True)
    expected = rnn(x[:, None], initial_state=states)
    np.testing.assert_array_equal(out, expected[0])
    for a, b in zip(new, expected[1:]):
        np.testing.assert_array_equal(a, b)
    if n_states == 1:  # a single state passed bare comes back bare
        assert isinstance(cell(x, states[0])[1], np.ndarray)
    assert cell.state_size == (4 if n_states == 1 else [4, 4]) and cell.output_size == 4


# -- stacked cells --------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "go_backwards": True}])
def test_stacked_cells_equal_two_stacked_layers(float64, options):
    # With go_backwards the stack processes the reversed sequence: the first layer reverses it,
    # the second runs over the first's outputs (in processing order) as they come.
    backwards = options.get("go_backwards", False)
    first = LSTM(4, return_sequences=True, go_backwards=backwards)
    second = GRU(3, return_sequences=options.get("return_sequences", False))
    x = _x()
    h1 = first(x, mask=MASK)
    mask2 = MASK[:, ::-1] if first.go_backwards else MASK  # outputs come in processing order
    expected = second(h1, mask=mask2)
    stacked = RNN(StackedRNNCells([LSTMCell(4), GRUCell(3)]), **options)
    stacked._maybe_build(x.shape)
    stacked.set_weights(first.get_weights() + second.get_weights())
    np.testing.assert_array_equal(stacked(x, mask=MASK), expected)
    listed = RNN([LSTMCell(4), GRUCell(3)], **options)
    listed(x)
    listed.set_weights(stacked.get_weights())
    np.testing.assert_array_equal(listed(x, mask=MASK), expected)


def test_stacked_cells_return_state_is_flat_and_initial_state_round_trips(float64):
    rnn = RNN([LSTMCell(4), SimpleRNNCell(2)], return_state=True)
    assert rnn.state_size == [4, 4, 2]
    assert rnn.cell.state_size == [[4, 4], 2]
    out, h1, c1, h2 = rnn(_x())
    assert (out.shape, h1.shape, c1.shape, h2.shape) == ((4, 2), (4, 4), (4, 4), (4, 2))
    np.testing.assert_array_equal(out, h2)
    assert rnn.compute_output_shape((None, 5, 3)) == [(None, 2), (None, 4), (None, 4), (None, 2)]
    # Continuing from the returned states equals running the concatenated sequence.
    x = _x((4, 10, 3), seed=2)
    full = rnn(x)
    half = rnn(x[:, :5])
    cont = rnn(x[:, 5:], initial_state=half[1:])
    for a, b in zip(full, cont):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    step_out, step_states = rnn.cell(x[:, 0], [[np.zeros((4, 4))] * 2, np.zeros((4, 2))])
    assert step_out.shape == (4, 2) and len(step_states) == 2 and len(step_states[0]) == 2


# -- gradients (float64) --------------------------------------------------------------------------
@pytest.mark.parametrize("layer_cls,cell_cls,kw", KINDS)
@pytest.mark.parametrize("options", [
    {"return_sequences": True},
    {"go_backwards": True, "zero_output_for_mask": True},
])
def test_gradients_with_mask(layer_cls, cell_cls, kw, options):
    check_layer_gradients(lambda: Probe(RNN(cell_cls(3, **kw), **options), mask=MASK), (4, 5, 3))


def test_gradients_stacked_cells_with_mask_and_dropout():
    check_layer_gradients(
        lambda: Probe(RNN([GRUCell(3, dropout=0.3, recurrent_dropout=0.2), LSTMCell(2, recurrent_dropout=0.4)],
                          return_sequences=True, return_state=True), mask=MASK, seed=5),
        (4, 5, 3),
    )


def test_gradients_of_initial_states():
    with floatx_scope("float64"):
        rng = np.random.default_rng(3)
        states = [rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))]
        rnn = RNN([LSTMCell(3), SimpleRNNCell(2)], return_sequences=True, return_state=True)
        probe = Probe(rnn, mask=MASK, initial_state=states)
        x = _x()
        upstream = rng.standard_normal(probe(x).shape)

        def objective(_=None):
            return float(np.sum(upstream * probe.call(x)))

        objective()
        pieces, start = [], 0
        for shape in probe._shapes:
            size = int(np.prod(shape[1:]))
            pieces.append(upstream[:, start:start + size].reshape(shape))
            start += size
        grads = rnn.backward(pieces)
        assert len(grads) == 4
        np.testing.assert_allclose(grads[0], numeric_gradient(objective, x), rtol=1e-5, atol=1e-7)
        for analytic, state in zip(grads[1:], states):
            np.testing.assert_allclose(analytic, numeric_gradient(objective, state), rtol=1e-5, atol=1e-7)


def test_no_input_gradient_when_not_needed_and_trainable_propagates():
    rnn = RNN([LSTMCell(3), GRUCell(2)])
    rnn(_x())
    rnn._input_grad_needed = False
    assert rnn.backward(np.ones((4, 2))) is None
    assert np.any(rnn.cell.cells[0].kernel.grad != 0)
    rnn.trainable = False
    assert not rnn.cell.cells[0].trainable and rnn.trainable_weights == []


# -- user-defined cells ---------------------------------------------------------------------------
class MinimalCell(Layer):
    """``h = tanh(x W + h_prev U)``, output ``2 h``; with a backward pass (the documented contract)."""

    _cache_attrs = ("_step",)

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), "glorot_uniform", "kernel")
        self.recurrent_kernel = self.add_weight((self.units, self.units), "orthogonal", "recurrent_kernel")

    def call(self, inputs, states, training=False):
        h = np.tanh(inputs @ self.kernel.value + states[0] @ self.recurrent_kernel.value)
        self._step = (inputs, states[0], h)
        return 2.0 * h, [h]

    def backward(self, grad_output, grad_states):
        x, h_prev, h = self._step
        dz = (2.0 * grad_output + grad_states[0]) * (1.0 - h * h)
        self.kernel.grad[...] = x.T @ dz
        self.recurrent_kernel.grad[...] = h_prev.T @ dz
        return dz @ self.kernel.value.T, [dz @ self.recurrent_kernel.value.T]


class ForwardOnlyCell(MinimalCell):
    backward = Layer.backward


def test_custom_cell_forward_and_masks(float64):
    rnn = RNN(MinimalCell(3), return_sequences=True)
    x = _x()
    y = rnn(x, mask=MASK)
    cell = rnn.cell
    h = np.zeros((4, 3))
    prev = np.zeros((4, 3))
    for t in range(5):  # Keras: masked steps keep the state and repeat the previous output
        new = np.tanh(x[:, t] @ cell.kernel.value + h @ cell.recurrent_kernel.value)
        keep = MASK[:, t:t + 1]
        h = np.where(keep, new, h)
        prev = np.where(keep, 2.0 * new, prev)
        np.testing.assert_allclose(y[:, t], prev, rtol=1e-12)


@pytest.mark.parametrize("options", [{"return_sequences": True}, {"go_backwards": True, "return_state": True}])
def test_custom_cell_gradients(options):
    check_layer_gradients(lambda: Probe(RNN(MinimalCell(3), **options), mask=MASK), (4, 5, 3))


def test_custom_cell_inside_stacked_cells_gradients():
    check_layer_gradients(lambda: Probe(RNN([LSTMCell(3), MinimalCell(2)], return_sequences=True)), (2, 4, 3))


def test_custom_cell_without_backward_predicts_but_training_explains():
    utils.set_random_seed(0)
    model = Sequential([Input(shape=(5, 3)), RNN(ForwardOnlyCell(4, name="my_cell")), Dense(1)])
    assert model.predict(_x(), verbose=0).shape == (4, 1)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotImplementedError, match="'my_cell'.*ForwardOnlyCell.*backward"):
        model.fit(_x(), np.zeros((4, 1)), epochs=1, verbose=0)


# -- models, config, saving -----------------------------------------------------------------------
def test_sequence_model_with_stacked_cells_fits():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = padded_sequences(rng, 128, 8, 10, shortest=2)
    y = (x == 3).any(axis=1).astype(np.float32)
    model = Sequential([Input(shape=(8,)), Embedding(10, 8, mask_zero=True),
                        RNN([GRUCell(12), LSTMCell(8)]), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.03), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_bidirectional_rnn_of_cell_equals_bidirectional_layer(float64):
    expected = Bidirectional(LSTM(3, return_sequences=True))
    got = Bidirectional(RNN(LSTMCell(3), return_sequences=True))
    expected(_x())
    got(_x())
    got.set_weights(expected.get_weights())
    np.testing.assert_array_equal(got(_x(), mask=MASK), expected(_x(), mask=MASK))
    check_layer_gradients(lambda: Bidirectional(RNN(GRUCell(2), return_sequences=True)), (2, 4, 3))


@pytest.mark.parametrize("make", [
    lambda: RNN(LSTMCell(3, dropout=0.1, seed=2, unit_forget_bias=False), return_state=True, go_backwards=True),
    lambda: RNN(GRUCell(3, reset_after=False, activation="relu"), zero_output_for_mask=True),
    lambda: RNN(SimpleRNNCell(3, kernel_regularizer="l2"), return_sequences=True),
    lambda: RNN([SimpleRNNCell(3), GRUCell(2)]),
    lambda: LSTMCell(4, recurrent_activation="hard_sigmoid"),
    lambda: StackedRNNCells([LSTMCell(2), SimpleRNNCell(3)]),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = LAYERS.deserialize({"class_name": type(layer).__name__, "config": config})
    assert type(clone) is type(layer)
    assert clone.get_config() == config
    if isinstance(layer, RNN):
        assert config["cell"]["class_name"] == type(layer.cell).__name__
    assert "recurrent_activation" not in SimpleRNNCell(2).get_config()


def test_model_save_and_load(tmp_path):
    utils.set_random_seed(1)
    inputs = Input(shape=(6, 3))
    seq = RNN([LSTMCell(4), GRUCell(3)], return_sequences=True)(inputs)
    out, h = RNN(SimpleRNNCell(2), return_state=True)(Bidirectional(RNN(GRUCell(2), return_sequences=True))(seq))
    model = Model(inputs, Dense(1)(out))
    model.compile(optimizer="adam", loss="mse")
    x = _x((8, 6, 3)).astype(np.float32)
    model.fit(x, np.ones((8, 1)), epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.layers[1].cell, StackedRNNCells)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="'cell' parameter of RNN"):
        RNN(LSTMCell)
    with pytest.raises(ValueError, match="state_size"):
        RNN(Dense(2))
    with pytest.raises(ValueError, match="'units' parameter of LSTMCell"):
        LSTMCell(0)
    with pytest.raises(ValueError, match="initial state"):
        RNN(LSTMCell(2))(_x(), initial_state=[np.zeros((4, 2))])
