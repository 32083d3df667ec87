"""ONNX export of masked sequences: Embedding(mask_zero=True) and Masking into recurrent layers."""

import pytest

from automl.keras import Input, Model, Sequential, layers, utils
from tests.keras.export.onnx_helpers import randomize_weights

utils.set_random_seed(0)


def _tokens(rng, n=6, t=7, vocab=12):
    """Token rows with zeros (the masked steps) before, inside and after, and one fully masked row."""
    x = rng.integers(1, vocab, size=(n, t))
    x[0, :2] = 0  # pre-padding
    x[1, -3:] = 0  # post-padding
    x[2, [1, 4]] = 0  # holes
    x[3] = 0  # nothing kept
    return x


_OPTIONS = [{}, {"return_sequences": True}, {"go_backwards": True}, {"go_backwards": True, "return_sequences": True},
            {"return_sequences": True, "zero_output_for_mask": True}]


@pytest.mark.parametrize("options", _OPTIONS, ids=str)
@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
def test_masked_recurrent_layers(cls, options, rng, check_onnx):
    model = Sequential([Input(shape=(7,)), layers.Embedding(12, 3, mask_zero=True), cls(4, **options)])
    randomize_weights(model, rng)
    check_onnx(model, _tokens(rng).astype("float32"))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
def test_masked_bidirectional_and_stacked(merge_mode, rng, check_onnx):
    tokens = Input(shape=(7,), dtype="int64")
    h = layers.Embedding(12, 3, mask_zero=True)(tokens)
    h = layers.Dense(3, activation="tanh")(h)  # passes the mask through
    out = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode=merge_mode)(h)
    seq = out if merge_mode is not None else layers.Add()(out)
    last = layers.LSTM(3, return_state=True)(seq)
    pooled = layers.GlobalAveragePooling1D()(seq)
    model = Model(tokens, [*last, pooled])
    randomize_weights(model, rng)
    x = _tokens(rng)
    x[3, 0] = 5  # GlobalAveragePooling1D of a fully masked row is NaN in both; keep rows finite
    check_onnx(model, x)


def test_masking_layer_and_rnn_cells(rng, check_onnx):
    x = rng.normal(size=(5, 6, 3)).astype("float32")
    x[0, :2] = 0.0
    x[1, 3:] = 0.0
    x[2, 2] = 0.0
    model = Sequential([Input(shape=(6, 3)), layers.Masking(), layers.RNN([layers.LSTMCell(4), layers.GRUCell(2)],
                                                                           return_sequences=True),
                        layers.GlobalAveragePooling1D()])
    randomize_weights(model, rng)
    check_onnx(model, x)


def test_initial_state_of_a_fully_masked_row(rng, check_onnx):
    tokens = Input(shape=(7,))
    h0 = Input(shape=(4,))
    seq = layers.Embedding(12, 3, mask_zero=True)(tokens)
    out = layers.GRU(4, return_sequences=True, return_state=True)(seq, initial_state=[h0])
    model = Model([tokens, h0], out)
    randomize_weights(model, rng)
    check_onnx(model, [_tokens(rng).astype("float32"), rng.normal(size=(6, 4)).astype("float32")])


def test_layers_that_drop_the_mask(rng, check_onnx):
    model = Sequential([Input(shape=(7,)), layers.Embedding(12, 3, mask_zero=True), layers.Flatten(),
                        layers.Dense(2)])
    randomize_weights(model, rng)
    with pytest.warns(UserWarning, match="does not support masking"):
        check_onnx(model, _tokens(rng).astype("float32"))


def test_unexported_masked_computation_is_named(rng, tmp_path):
    tokens = Input(shape=(7,))
    h = layers.Embedding(12, 4, mask_zero=True)(tokens)
    out = layers.MultiHeadAttention(2, 2, name="mha")(h, h)
    with pytest.raises(ValueError, match=r"layer 'mha' \(MultiHeadAttention\).*mask"):
        Model(tokens, out).export(str(tmp_path / "m.onnx"))


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("both_masked", [True, False])
def test_masked_concatenate(axis, both_masked, rng, check_onnx):
    tokens = Input(shape=(7,))
    a = layers.Embedding(12, 3, mask_zero=True)(tokens)
    b = layers.Embedding(12, 3, mask_zero=both_masked)(tokens)
    merged = layers.Concatenate(axis=axis)([a, b])
    model = Model(tokens, layers.LSTM(3)(merged))
    randomize_weights(model, rng)
    check_onnx(model, _tokens(rng).astype("float32"))
