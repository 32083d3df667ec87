"""ONNX export of SimpleRNN, LSTM, GRU and Bidirectional layers."""

import pytest

from automl.keras import Input, Model, Sequential, layers, utils
from tests.keras.export.onnx_helpers import random_input, randomize_weights

utils.set_random_seed(0)


_OPTIONS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
    {"use_bias": False, "return_sequences": True},
    {"activation": "relu"},
    {"activation": "softsign"},
]
_GATED = [
    {"recurrent_activation": "hard_sigmoid"},
    {"activation": "linear", "recurrent_activation": "hard_sigmoid", "return_sequences": True},
]


@pytest.mark.parametrize("options", _OPTIONS, ids=str)
@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
def test_recurrent_layers(cls, options, rng, check_onnx):
    model = Sequential([Input(shape=(6, 3)), cls(5, **options)])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 4, 6, 3))


@pytest.mark.parametrize("options", _GATED, ids=str)
@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
def test_gate_activations(cls, options, rng, check_onnx):
    model = Sequential([Input(shape=(6, 3)), cls(5, **options)])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 4, 6, 3))


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_reset_after(reset_after, rng, check_onnx):
    model = Sequential([Input(shape=(7, 3)), layers.GRU(4, reset_after=reset_after, return_sequences=True)])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 4, 7, 3))


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
def test_return_state_and_initial_state(cls, rng, check_onnx):
    x = Input(shape=(5, 3))
    out = cls(4, return_state=True, return_sequences=True)(x)
    seq, states = out[0], out[1:]
    second = cls(4)(seq, initial_state=states)
    model = Model(x, [second, *states])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 5, 3))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU, layers.SimpleRNN], ids=lambda c: c.__name__)
def test_bidirectional(cls, return_sequences, merge_mode, rng, check_onnx):
    x = Input(shape=(6, 3))
    out = layers.Bidirectional(cls(4, return_sequences=return_sequences), merge_mode=merge_mode)(x)
    model = Model(x, out)
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 6, 3))


def test_embedding_lstm_classifier_after_training(rng, check_onnx):
    model = Sequential([
        Input(shape=(8,)),
        layers.Embedding(30, 6),
        layers.Bidirectional(layers.LSTM(5, return_sequences=True)),
        layers.GRU(4),
        layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.integers(0, 30, size=(32, 8)).astype("float32")
    model.fit(x, (x[:, 0] > 15).astype(int), epochs=2, verbose=0)
    check_onnx(model, x)


def test_unsupported_rnn_activation_is_named(rng, tmp_path):
    model = Sequential([Input(shape=(4, 2)), layers.LSTM(3, activation="gelu", name="gelu_lstm")])
    with pytest.raises(ValueError, match=r"layer 'gelu_lstm' \(LSTM\).*activation 'gelu'"):
        model.export(str(tmp_path / "m.onnx"))


@pytest.mark.parametrize(
    "cell",
    [lambda: layers.SimpleRNNCell(4), lambda: layers.LSTMCell(4), lambda: layers.GRUCell(4, reset_after=False),
     lambda: [layers.LSTMCell(4), layers.GRUCell(3), layers.SimpleRNNCell(2)]],
    ids=["SimpleRNNCell", "LSTMCell", "GRUCell", "stacked"],
)
@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "go_backwards": True},
                                     {"return_state": True}], ids=str)
def test_rnn_over_cells(cell, options, rng, check_onnx):
    x = Input(shape=(6, 3))
    out = layers.RNN(cell(), **options)(x)
    model = Model(x, out)
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 6, 3))


def test_bidirectional_rnn_over_a_cell(rng, check_onnx):
    model = Sequential([Input(shape=(5, 3)), layers.Bidirectional(layers.RNN(layers.GRUCell(3),
                                                                             return_sequences=True))])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 5, 3))
