"""Sequence models: masks through Sequential and functional graphs, multi-output (return_state)
nodes, an IMDB-shaped LSTM sentiment model, gradients, config and file round trips."""

import io
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from automl.keras import Input, Model, Sequential, optimizers, saving, utils
from automl.keras.layers import Dense, Flatten
from automl.keras.layers._embedding import Embedding
from automl.keras.layers._masking import Masking
from automl.keras.layers._recurrent import GRU, LSTM, SimpleRNN
from automl.keras.layers._rnn_wrappers import Bidirectional, TimeDistributed
from automl.testing import check_model_gradients


def _token_data(n, steps, seed=0, vocab=1000, signal=7, pad="left"):
    """Sequences of random tokens (8..vocab-1) padded with 0; label 1 iff token ``signal`` appears."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, steps + 1, n)
    x = np.zeros((n, steps), dtype=np.int64)
    y = (rng.random(n) < 0.5).astype(np.float32)
    for i, length in enumerate(lengths):
        start = steps - length if pad == "left" else 0
        x[i, start:start + length] = rng.integers(8, vocab, length)
        if y[i]:
            x[i, rng.integers(start, start + length)] = signal
    return x, y


def test_imdb_shaped_lstm_sentiment_model_learns():
    utils.set_random_seed(0)
    x, y = _token_data(1200, 30)
    model = Sequential([Input(shape=(30,)), Embedding(1000, 16, mask_zero=True), LSTM(16),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    lines = []
    model.summary(print_fn=lines.append)
    assert "16,000" in lines[0] and "2,112" in lines[0] and "Total params: 18,129" in lines[0]
    with threadpool_limits(1):  # small GEMMs: one BLAS thread is fastest
        history = model.fit(x[:1000], y[:1000], epochs=3, batch_size=32, verbose=0,
                            validation_data=(x[1000:], y[1000:]))
    assert history.history["val_accuracy"][-1] > 0.9


def _unpadded_predictions(model, x):
    """Predictions of each sequence alone, without its padding (zeros)."""
    return np.concatenate([model.predict(row[row != 0][None], verbose=0) for row in x])


@pytest.mark.parametrize("make_rnn", [
    lambda: LSTM(5),
    lambda: GRU(5),
    lambda: SimpleRNN(5),
    lambda: GRU(5, go_backwards=True),
    lambda: Bidirectional(LSTM(4)),
])
@pytest.mark.parametrize("pad", ["left", "right"])
def test_padded_and_unpadded_sequences_give_the_same_outputs(make_rnn, pad):
    utils.set_random_seed(1)
    x, _ = _token_data(6, 8, seed=2, vocab=50, pad=pad)
    model = Sequential([Input(shape=(None,)), Embedding(50, 4, mask_zero=True), make_rnn(), Dense(2)])
    np.testing.assert_allclose(model.predict(x, verbose=0), _unpadded_predictions(model, x), rtol=1e-5, atol=1e-6)


def test_masking_layer_model_padded_equals_unpadded():
    utils.set_random_seed(2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    x[0, :2] = 0.0
    x[2, 4:] = 0.0
    model = Sequential([Input(shape=(None, 3)), Masking(), LSTM(4), Dense(1)])
    expected = [model.predict(x[i][np.any(x[i] != 0, axis=-1)][None], verbose=0) for i in range(4)]
    np.testing.assert_allclose(model.predict(x, verbose=0), np.concatenate(expected), rtol=1e-5, atol=1e-6)


def test_masks_reach_the_output_of_sequential_and_functional_models():
    x = np.array([[3, 4, 0, 0], [1, 0, 2, 5]], dtype=np.float32)
    seq = Sequential([Input(shape=(4,)), Embedding(6, 3, mask_zero=True), LSTM(2, return_sequences=True),
                      TimeDistributed(Dense(2))])
    seq.predict(x, verbose=0)
    np.testing.assert_array_equal(seq._output_mask, x != 0)
    inputs = Input(shape=(4,))
    hidden = Bidirectional(GRU(2, return_sequences=True))(Embedding(6, 3, mask_zero=True)(inputs))
    model = Model(inputs, [TimeDistributed(Dense(2))(hidden), LSTM(2)(hidden)])
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(model._output_masks[0], x != 0)
    assert model._output_masks[1] is None
    # Unmasked models keep no mask.
    plain = Sequential([Input(shape=(4, 2)), LSTM(2)])
    plain.predict(np.ones((1, 4, 2)), verbose=0)
    assert plain._output_mask is None


def test_mask_dropped_by_a_layer_without_masking_support_warns():
    model = Sequential([Input(shape=(4,)), Embedding(6, 3, mask_zero=True), Flatten(), Dense(1)])
    with pytest.warns(UserWarning, match="does not support masking"):
        model.predict(np.array([[1, 2, 0, 0]]), verbose=0)
    assert model._output_mask is None


def test_nested_model_receives_and_returns_masks():
    inner = Sequential([Input(shape=(None, 3)), LSTM(4, return_sequences=True)])
    inputs = Input(shape=(None,))
    outputs = GRU(2)(inner(Embedding(7, 3, mask_zero=True)(inputs)))
    model = Model(inputs, outputs)
    x = np.array([[1, 2, 3, 0, 0]], dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x[:, :3], verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_masked_model_gradients(float64):
    inputs = Input(shape=(5,))
    hidden = Embedding(6, 3, mask_zero=True, embeddings_initializer="random_normal")(inputs)
    hidden = Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode="sum")(hidden)
    hidden = TimeDistributed(Dense(2, activation="tanh"))(hidden)
    outputs = Dense(2, activation="softmax")(GRU(2)(hidden))
    model = Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.array([[1, 2, 3, 0, 0], [0, 0, 4, 5, 1], [2, 0, 3, 0, 5]], dtype=np.float64)
    check_model_gradients(model, x, np.array([0, 1, 1]))


def _seq2seq():
    enc_in, dec_in = Input(shape=(5,), name="enc"), Input(shape=(4, 3), name="dec")
    encoded = Embedding(9, 4, mask_zero=True, embeddings_initializer="random_normal")(enc_in)
    _, h, c = LSTM(3, return_state=True)(encoded)
    decoded = LSTM(3, return_sequences=True)(dec_in, initial_state=[h, c])
    outputs = TimeDistributed(Dense(4, activation="softmax"))(decoded)
    return Model([enc_in, dec_in], outputs)


def _seq2seq_data(seed=0):
    rng = np.random.default_rng(seed)
    enc = rng.integers(1, 9, (6, 5)).astype(np.float64)
    enc[:2, 3:] = 0
    return [enc, rng.standard_normal((6, 4, 3))], rng.integers(0, 4, (6, 4))


def test_return_state_and_initial_state_graph_gradients(float64):
    model = _seq2seq()
    assert [type(la).__name__ for la in model.layers].count("LSTM") == 2
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _seq2seq_data()
    check_model_gradients(model, x, y)


def test_state_outputs_as_model_outputs(float64):
    inputs = Input(shape=(4, 2))
    seq, h = GRU(3, return_sequences=True, return_state=True)(inputs)
    model = Model(inputs, [Dense(1)(seq), h])
    model.compile(optimizer="sgd", loss=["mse", "mse"])
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    out = model.predict(x, verbose=0)
    assert out[0].shape == (3, 4, 1) and out[1].shape == (3, 3)
    check_model_gradients(model, x, [np.zeros((3, 4, 1)), np.ones((3, 3))])


def test_multi_output_graph_config_and_file_round_trip(tmp_path):
    utils.set_random_seed(3)
    model = _seq2seq()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _seq2seq_data()
    x = [a.astype(np.float32) for a in x]
    model.fit(x, y, epochs=1, batch_size=3, verbose=0)
    config = model.get_config()
    clone = Model.from_config(config)
    assert clone.get_config() == config
    refs = [ref for node in config["nodes"] for ref in node["inputs"]]
    assert any(len(ref) == 3 and ref[2] == 2 for ref in refs)  # the c state: output 2 of the encoder
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    path = tmp_path / "seq2seq.keras"
    model.save(path)
    loaded = saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_sequential_with_all_sequence_layers_saves_and_loads(tmp_path):
    utils.set_random_seed(4)
    model = Sequential([
        Input(shape=(6,)),
        Embedding(20, 4, mask_zero=True),
        Bidirectional(GRU(3, return_sequences=True, reset_after=False), merge_mode="concat"),
        TimeDistributed(Dense(5, activation="relu")),
        SimpleRNN(3, return_sequences=True, go_backwards=True),
        LSTM(2, dropout=0.2, recurrent_dropout=0.2, seed=1),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x, y = _token_data(16, 6, seed=5, vocab=20)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    buf = io.BytesIO()
    model.save(buf)
    buf.seek(0)
    loaded = saving.load_model(buf)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert loaded.count_params() == model.count_params()


def test_sequential_rejects_layers_with_several_outputs():
    with pytest.raises(ValueError, match="single output tensor"):
        Sequential([Input(shape=(3, 2)), LSTM(2, return_state=True)])


def test_time_distributed_softmax_uses_the_fused_gradient():
    model = Sequential([Input(shape=(4, 3)), LSTM(5, return_sequences=True),
                        TimeDistributed(Dense(3, activation="softmax"))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((8, 4, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, np.zeros((8, 4), dtype=int), epochs=1, verbose=0)
    assert model._heads[0].fused


def test_masked_timesteps_do_not_count_in_loss_or_metrics():
    """A tagger on padded sequences: loss and accuracy are means over the real tokens only."""
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, (16, 6))
    x[:, 4:] = 0  # the last two steps are padding
    y = rng.integers(0, 3, (16, 6))
    model = Sequential([Input(shape=(6,)), Embedding(20, 4, mask_zero=True),
                        LSTM(5, return_sequences=True), TimeDistributed(Dense(3, activation="softmax"))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    probs = model.predict(x, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    real = (slice(None), slice(0, 4))
    expected_loss = -np.log(np.take_along_axis(probs, y[..., None], -1)[..., 0])[real].mean()
    expected_accuracy = (probs.argmax(-1) == y)[real].mean()
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert accuracy == pytest.approx(expected_accuracy, rel=1e-6)
    y_other_padding = y.copy()
    y_other_padding[:, 4:] = (y[:, 4:] + 1) % 3  # targets under the mask do not matter
    assert model.evaluate(x, y_other_padding, verbose=0) == pytest.approx([loss, accuracy])
    history = model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0).history
    assert history["loss"][0] == pytest.approx(expected_loss, rel=1e-5)
