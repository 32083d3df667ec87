"""Stateful recurrent layers (Keras semantics): states carried across batches, fixed batch
size, reset_state, truncated backpropagation through time, fit with shuffle=False."""

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential
from automl.keras.layers import GRU, LSTM, RNN, Dense, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from automl.testing import floatx_scope, numeric_gradient

CASES = [
    (SimpleRNN, {}),
    (LSTM, {}),
    (GRU, {}),
    (GRU, {"reset_after": False}),
]
CELLS = [SimpleRNNCell, LSTMCell, GRUCell]


@pytest.mark.parametrize("cls,kw", CASES)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_two_halves_equal_one_full_sequence(float64, cls, kw, return_sequences):
    x = np.random.default_rng(0).standard_normal((4, 6, 3))
    full = cls(5, bias_initializer="random_normal", return_sequences=return_sequences, **kw)
    expected = full(x)
    layer = cls(5, stateful=True, batch_size=4, return_sequences=return_sequences, **kw)
    layer(x[:, :3])
    layer.set_weights(full.get_weights())
    layer.reset_state()
    first = layer(x[:, :3])
    second = layer(x[:, 3:])
    if return_sequences:
        np.testing.assert_allclose(np.concatenate([first, second], axis=1), expected, rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(second, expected, rtol=1e-12, atol=1e-14)
    layer.reset_states()  # the Keras 2 name
    np.testing.assert_allclose(layer(x[:, :3]), first, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_rnn_with_a_cell_carries_state(float64, cell):
    x = np.random.default_rng(1).standard_normal((2, 6, 3))
    full = RNN(cell(4))
    expected = full(x)
    inputs = Input(batch_shape=(2, 3, 3))
    layer = RNN(cell(4), stateful=True)
    model = Model(inputs, layer(inputs))
    layer.set_weights(full.get_weights())
    model.predict(x[:, :3], batch_size=2, verbose=0)
    np.testing.assert_allclose(model.predict(x[:, 3:], batch_size=2, verbose=0), expected, rtol=1e-12)
    n_states = 2 if cell is LSTMCell else 1
    assert len(layer.states) == n_states and layer.states[0].shape == (2, 4)
    layer.reset_state()
    assert all(not s.any() for s in layer.states)


@pytest.mark.parametrize("cls,kw", CASES)
def test_gradient_of_a_step_treats_carried_states_as_constants(cls, kw):
    # Truncated BPTT as Keras: the gradient of a batch stops at the states it started from.
    with floatx_scope("float64"):
        rng = np.random.default_rng(2)
        layer = cls(3, stateful=True, batch_size=2, return_sequences=True,
                    bias_initializer="random_normal", **kw)
        layer(rng.standard_normal((2, 4, 3)))  # non-zero carried states
        carried = [s.copy() for s in layer.states]
        assert all(np.abs(s).sum() > 0 for s in carried)
        x = rng.standard_normal((2, 4, 3))
        upstream = rng.standard_normal((2, 4, 3))

        def objective(_=None):
            layer.states = [s.copy() for s in carried]
            return float(np.sum(upstream * layer.call(x, training=True)))

        objective()
        dx = layer.backward(upstream)
        assert isinstance(dx, np.ndarray)  # no gradient w.r.t. the carried states
        np.testing.assert_allclose(dx, numeric_gradient(objective, x), rtol=1e-5, atol=1e-7)
        analytic = {v.name: v.grad.copy() for v in layer.trainable_weights}
        for var in layer.trainable_weights:
            np.testing.assert_allclose(analytic[var.name], numeric_gradient(objective, var.value),
                                       rtol=1e-5, atol=1e-7)


def test_missing_batch_size_is_a_clear_error():
    with pytest.raises(ValueError, match=r"stateful=True and needs a fixed batch size.*batch_shape"):
        Sequential([Input((6, 3)), LSTM(4, stateful=True)])
    with pytest.raises(ValueError, match="fixed batch size"):
        Model(*(lambda i: (i, GRU(4, stateful=True)(i)))(Input((3, 1))))
    layer = GRU(4, stateful=True)
    layer(np.zeros((2, 3, 1)))  # called on data: the batch size is the data's, as in Keras
    assert layer.states[0].shape == (2, 4)


def test_wrong_batch_size_is_a_clear_error():
    model = Sequential([Input(batch_shape=(4, 6, 3)), LSTM(5, stateful=True), Dense(1)])
    with pytest.raises(ValueError, match="built for batches of 4 samples. Got a batch of 3"):
        model.predict(np.zeros((3, 6, 3)), verbose=0)


def test_batch_size_from_input_batch_size_and_legacy_arguments():
    assert Model(*(lambda i: (i, SimpleRNN(2, stateful=True)(i)))(Input((5, 1), batch_size=3))
                 ).layers[1].states[0].shape == (3, 2)
    legacy = Sequential([LSTM(2, stateful=True, batch_input_shape=(6, 5, 1))])
    legacy.build((None, 5, 1))
    assert legacy.layers[0].states[0].shape == (6, 2)


def test_explicit_initial_state_takes_precedence(float64):
    x = np.random.default_rng(3).standard_normal((2, 4, 3))
    layer = GRU(3, stateful=True, batch_size=2)
    layer(x)
    start = np.random.default_rng(4).standard_normal((2, 3))
    plain = GRU(3)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, initial_state=[start]), plain(x, initial_state=[start]), rtol=1e-12)


def test_fit_with_shuffle_false_carries_state_and_config_round_trips(float64):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((8, 5, 2)), rng.standard_normal((8, 1))
    model = Sequential([Input(batch_shape=(4, 5, 2)), LSTM(3, stateful=True, seed=0), Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    lstm = model.layers[0]
    assert np.abs(lstm.states[0]).sum() > 0
    # The states after a batch are those of the second batch's samples started from the first's.
    lstm.reset_state()
    model.predict(x, batch_size=4, verbose=0)
    carried = [s.copy() for s in lstm.states]
    clone = LSTM.from_config(lstm.get_config())
    assert clone.stateful is True
    whole = np.concatenate([x[:4], x[4:]], axis=1)
    ref = LSTM(3, return_state=True)
    ref(whole)
    ref.set_weights(lstm.get_weights())
    _, h, c = ref(whole)
    np.testing.assert_allclose(carried[0], h, rtol=1e-10)
    np.testing.assert_allclose(carried[1], c, rtol=1e-10)


def test_saved_stateful_model_keeps_its_batch_size(tmp_path):
    from automl.keras.saving import load_model

    model = Sequential([Input(batch_shape=(2, 4, 3)), GRU(2, stateful=True), Dense(1)])
    model.compile("adam", "mse")
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.layers[0].stateful and loaded.layers[0].states[0].shape == (2, 2)
    x = np.random.default_rng(6).standard_normal((2, 4, 3)).astype("float32")
    first = loaded.predict(x, batch_size=2, verbose=0)
    assert not np.allclose(loaded.predict(x, batch_size=2, verbose=0), first)  # the state moved on
    loaded.layers[0].reset_state()
    np.testing.assert_allclose(loaded.predict(x, batch_size=2, verbose=0), first, rtol=1e-6)


def test_bidirectional_reset_state_resets_both_directions():
    from automl.keras.layers import Bidirectional
    from automl.keras.utils import set_random_seed

    set_random_seed(0)
    layer = Bidirectional(LSTM(3, stateful=True))
    model = Sequential([Input(batch_shape=(2, 4, 5)), layer])
    x = np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32")
    first = model.predict(x, batch_size=2, verbose=0)
    carried = model.predict(x, batch_size=2, verbose=0)
    assert not np.allclose(first, carried)  # both directions start from the kept states
    layer.reset_state()
    np.testing.assert_allclose(model.predict(x, batch_size=2, verbose=0), first, rtol=1e-6)
    model.predict(x, batch_size=2, verbose=0)
    layer.reset_states()
    np.testing.assert_allclose(model.predict(x, batch_size=2, verbose=0), first, rtol=1e-6)
