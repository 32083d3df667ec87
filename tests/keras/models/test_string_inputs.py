"""Models whose inputs are strings or integers: the text classification tutorials end to end."""

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, optimizers, saving, utils
from automl.keras.layers import Hashing, IntegerLookup, StringLookup, TextVectorization

_POSITIVE = ["great", "wonderful", "loved", "excellent", "brilliant", "enjoyable"]
_NEGATIVE = ["terrible", "awful", "hated", "boring", "dreadful", "waste"]
_FILLER = ["the", "movie", "was", "plot", "acting", "film", "really", "and", "this", "a"]


def _corpus(n, seed):
    """Sentences of filler words and one or two sentiment words; label 1 for positive."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(2))
        words = list(rng.choice(_FILLER, size=int(rng.integers(3, 8))))
        for _ in range(int(rng.integers(1, 3))):
            words.insert(int(rng.integers(len(words) + 1)), rng.choice(_POSITIVE if label else _NEGATIVE))
        text = " ".join(words)
        texts.append(text.capitalize() + ("!" if label else "."))
        labels.append(label)
    return np.array(texts), np.array(labels)


@pytest.fixture(scope="module")
def corpus():
    return _corpus(240, 0), _corpus(60, 1)


def _vectorizer(texts, length=12):
    layer = TextVectorization(max_tokens=100, output_mode="int", output_sequence_length=length)
    layer.adapt(texts)
    return layer


@pytest.mark.parametrize("shape", [(1,), ()])
def test_string_input_model_fits_and_predicts_raw_strings(corpus, shape, tmp_path):
    (x, y), (x_test, y_test) = corpus
    utils.set_random_seed(0)
    vectorize = _vectorizer(x)
    inputs = Input(shape=shape, dtype="string")
    h = vectorize(inputs)
    h = layers.Embedding(vectorize.vocabulary_size(), 8)(h)
    h = layers.GlobalAveragePooling1D()(h)
    outputs = layers.Dense(1, activation="sigmoid")(h)
    model = Model(inputs, outputs)
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    data = x[:, None] if shape else x
    history = model.fit(data, y, epochs=25, batch_size=16, verbose=0, validation_data=(x_test, y_test))
    assert history.history["accuracy"][-1] > 0.95
    assert history.history["val_accuracy"][-1] > 0.9
    proba = model.predict(np.array(["A wonderful, brilliant film", "A boring and awful movie"]), verbose=0)
    assert proba.shape == (2, 1) and proba[0, 0] > 0.5 > proba[1, 0]
    # a plain list of strings and the (n, 1) layout work too
    np.testing.assert_array_equal(model.predict(["A wonderful, brilliant film"], verbose=0), proba[:1])
    np.testing.assert_array_equal(model.predict(np.array([["A boring and awful movie"]]), verbose=0), proba[1:])
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.9
    # saved and loaded: the vocabulary travels in the config
    path = tmp_path / "text.keras"
    model.save(path)
    loaded = saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
    assert loaded.layers[1].get_vocabulary() == vectorize.get_vocabulary()


def test_vectorize_up_front_then_embedding_model(corpus):
    (x, y), (x_test, y_test) = corpus
    utils.set_random_seed(0)
    vectorize = _vectorizer(x)
    ids, ids_test = vectorize(x), vectorize(x_test)
    assert ids.dtype == np.int64 and ids.shape == (len(x), 12)
    model = Sequential([
        layers.Embedding(vectorize.vocabulary_size(), 8),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(ids, y, epochs=25, batch_size=16, verbose=0)
    assert model.evaluate(ids_test, y_test, verbose=0)[1] > 0.9
    # the tutorial's export model: vectorizer + trained model on raw strings
    export = Sequential([Input(shape=(1,), dtype="string"), vectorize, *model.layers])
    np.testing.assert_allclose(export.predict(x_test, verbose=0), model.predict(ids_test, verbose=0))


def test_sequential_without_input_takes_strings(corpus):
    (x, y), _ = corpus
    vectorize = _vectorizer(x, length=6)
    model = Sequential([vectorize, layers.Embedding(vectorize.vocabulary_size(), 4), layers.Flatten(),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert model.predict(x[:3], verbose=0).shape == (3, 1)


def test_multi_hot_text_model(corpus):
    (x, y), (x_test, y_test) = corpus
    utils.set_random_seed(0)
    vectorize = TextVectorization(output_mode="multi_hot")
    vectorize.adapt(x)
    inputs = Input(shape=(1,), dtype="string")
    outputs = layers.Dense(1, activation="sigmoid")(vectorize(inputs))
    model = Model(inputs, outputs)
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.9


def test_integer_and_string_lookup_inputs_keep_their_dtype():
    ints = Input(shape=(1,), dtype="int64")
    assert ints.layer.dtype == "int64"
    lookup = IntegerLookup(vocabulary=[10**12, 7, 3])  # beyond float32 precision
    model = Model(ints, layers.Dense(1, kernel_initializer="ones")(lookup(ints)))
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[10**12], [10**12 + 1], [3]])
    np.testing.assert_allclose(model.predict(x, verbose=0)[:, 0], [1.0, 0.0, 3.0])
    model.fit(x, np.zeros(3), epochs=1, verbose=0)

    words = Input(shape=(), dtype="string")
    one_hot = StringLookup(vocabulary=["a", "b"], output_mode="one_hot")(words)
    hashed = Hashing(num_bins=4, output_mode="one_hot")(words)
    merged = layers.Concatenate()([one_hot, hashed])
    model = Model(words, layers.Dense(2, activation="softmax")(merged))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(np.array(["a", "b", "c", "a"]), np.array([0, 1, 1, 0]), epochs=2, batch_size=2, verbose=0)
    assert model.predict(np.array(["b", "zzz"]), verbose=0).shape == (2, 2)


def test_string_input_errors_and_eager_model_call(corpus):
    (x, _), _ = corpus
    vectorize = _vectorizer(x, length=5)
    inputs = Input(shape=(1,), dtype="string")
    model = Model(inputs, layers.Embedding(vectorize.vocabulary_size(), 2)(vectorize(inputs)))
    with pytest.raises(ValueError, match="array of strings"):
        model.predict(np.zeros((2, 1)), verbose=0)
    assert model(np.array([["good movie"]])).shape == (1, 5, 2)
    float_model = Sequential([Input(shape=(2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="numeric"):
        float_model.predict(np.array([["a", "b"]]), verbose=0)
    # float inputs still arrive as floatx
    assert float_model.predict(np.ones((2, 2), dtype=np.float64), verbose=0).dtype == np.float32


def test_gradient_through_a_lookup_is_an_error():
    words = Input(shape=(1,))
    lookup = IntegerLookup(vocabulary=[1, 2], output_mode="one_hot")
    h = layers.Dense(1)(words)
    out = layers.Dense(1)(lookup(h))
    model = Model(words, out)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="no gradient"):
        model.fit(np.ones((4, 1)), np.zeros(4), epochs=1, verbose=0)
