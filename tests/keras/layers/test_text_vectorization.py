"""TextVectorization: standardize / split / ngrams, adapt, output modes, padding, config round trip."""

import numpy as np
import pytest

from automl.keras import layers, saving
from automl.keras.layers import TextVectorization

CORPUS = ["foo bar", "bar baz", "baz bada boom"]


def test_keras_docstring_examples():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(CORPUS)
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == np.int64 and out.tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]
    given = TextVectorization(max_tokens=5000, output_sequence_length=4, vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert given.vocabulary_size() == 6


def test_standardize_and_split_options():
    text = np.array(["Hello, World!  It's  ME."])
    assert TextVectorization(vocabulary=["hello", "world", "its", "me"])(text).tolist() == [[2, 3, 4, 5]]
    lower = TextVectorization(standardize="lower", vocabulary=["hello,", "world!"])
    assert lower(text).tolist() == [[2, 3, 1, 1]]
    strip = TextVectorization(standardize="strip_punctuation", vocabulary=["Hello", "World"])
    assert strip(text).tolist() == [[2, 3, 1, 1]]
    raw = TextVectorization(standardize=None, split=None, vocabulary=["Hello, World!  It's  ME."])
    assert raw(text).tolist() == [2]
    chars = TextVectorization(split="character", standardize=None, vocabulary=["a", "b"])
    assert chars(["abca", "b"]).tolist() == [[2, 3, 1, 2], [3, 0, 0, 0]]


def test_callables():
    def upper(x):
        return np.char.upper(x)

    def on_commas(x):
        return [s.split(",") for s in x]

    layer = TextVectorization(standardize=upper, split=on_commas, vocabulary=["A", "B C"])
    assert layer(["a,b c,d"]).tolist() == [[2, 3, 1]]
    config = layer.get_config()
    clone = TextVectorization.from_config(config, custom_objects={"upper": upper, "on_commas": on_commas})
    assert clone(["a,b c,d"]).tolist() == [[2, 3, 1]]
    with pytest.raises(ValueError, match="custom_objects"):
        TextVectorization.from_config(config)


def test_ngrams():
    layer = TextVectorization(ngrams=2)
    layer.adapt(["a b c"])
    assert sorted(layer.get_vocabulary(include_special_tokens=False)) == ["a", "a b", "b", "b c", "c"]
    vocab = layer.get_vocabulary()
    out = layer(["a b c"])[0].tolist()
    assert [vocab[i] for i in out] == ["a", "b", "c", "a b", "b c"]
    only_pairs = TextVectorization(ngrams=(2,), vocabulary=["x y"])
    assert only_pairs(["x y z", "x"]).tolist() == [[2, 1], [0, 0]]


def test_sequence_length_pads_and_truncates():
    layer = TextVectorization(vocabulary=["a", "b", "c"])
    assert layer(["a b", "c", "a b c a"]).tolist() == [[2, 3, 0, 0], [4, 0, 0, 0], [2, 3, 4, 2]]
    cut = TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=2)
    assert cut(np.array([["a b c"], [""]])).tolist() == [[2, 3], [0, 0]]
    assert cut.compute_output_shape((None, 1)) == (None, 2)
    assert cut.compute_output_shape((None,)) == (None, 2)


def test_multi_hot_count_and_tf_idf():
    docs = ["the cat", "the the dog", "a cat"]
    multi = TextVectorization(output_mode="multi_hot")
    multi.adapt(docs)
    vocab = multi.get_vocabulary()
    assert vocab == ["[UNK]", "the", "cat", "dog", "a"]
    assert multi(["the the cat zebra"]).tolist() == [[1, 1, 1, 0, 0]]
    assert multi.compute_output_shape((None, 1)) == (None, 5)
    count = TextVectorization(output_mode="count", vocabulary=vocab[1:])
    assert count(["the the cat zebra"]).tolist() == [[1, 2, 1, 0, 0]]
    tfidf = TextVectorization(output_mode="tf_idf")
    tfidf.adapt(docs)
    df = np.array([2.0, 2.0, 1.0, 1.0])  # the, cat, dog, a
    idf = np.log1p(3 / (1 + df))
    weights = np.r_[idf.mean(), idf]
    np.testing.assert_allclose(tfidf(["the the cat zebra"]), [[1, 2, 1, 0, 0] * weights], rtol=1e-6)
    padded = TextVectorization(output_mode="multi_hot", max_tokens=10, pad_to_max_tokens=True)
    padded.adapt(docs)
    assert padded(["cat"]).shape == (1, 10)
    assert padded.compute_output_shape((None,)) == (None, 10)


def test_max_tokens_caps_the_vocabulary():
    layer = TextVectorization(max_tokens=4)
    layer.adapt(["x x x y y z", "w"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    multi = TextVectorization(max_tokens=4, output_mode="multi_hot")
    multi.adapt(["x x x y y z", "w"])
    assert multi.get_vocabulary() == ["[UNK]", "x", "y", "z"]


def test_adapt_inputs():
    layer = TextVectorization()
    layer.adapt(np.array([["Foo bar"], ["bar"]]))
    assert layer.get_vocabulary() == ["", "[UNK]", "bar", "foo"]
    batches = (np.array(["b b", "a"]) for _ in range(10))
    layer.adapt(batches, steps=3)
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a"]
    layer.adapt(iter([(np.array(["q"]), np.array([1]))]))  # (x, y) batches give x
    assert layer.get_vocabulary() == ["", "[UNK]", "q"]
    assert TextVectorization().adapt(np.array([b"bytes here"])) is None
    with pytest.raises(ValueError, match="static vocabulary"):
        TextVectorization(vocabulary=["a"]).adapt(["a"])


def test_invalid_inputs_and_arguments():
    layer = TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match="last axis of size 1"):
        layer(np.array([["a", "b"]]))
    for kwargs, match in [
        ({"standardize": "upper"}, "standardize"),
        ({"split": "comma"}, "split"),
        ({"ngrams": 0}, "ngrams"),
        ({"output_mode": "count", "output_sequence_length": 3}, "output_sequence_length"),
        ({"output_sequence_length": 0}, "output_sequence_length"),
        ({"ragged": True}, "ragged"),
        ({"sparse": True, "output_mode": "count"}, "sparse"),
    ]:
        with pytest.raises(ValueError, match=match):
            TextVectorization(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"output_sequence_length": 5},
    {"output_mode": "tf_idf", "ngrams": (1, 2)},
    {"output_mode": "count", "max_tokens": 6, "pad_to_max_tokens": True, "standardize": "lower"},
])
def test_config_round_trip(kwargs):
    layer = TextVectorization(**kwargs)
    layer.adapt(CORPUS + ["Foo, FOO! boom"])
    config = layer.get_config()
    clone = layers.LAYERS.deserialize({"class_name": "TextVectorization", "config": config})
    assert clone.get_config() == config
    texts = ["foo boom qux", "Baz bar"]
    np.testing.assert_array_equal(clone(texts), layer(texts))


def test_saved_sequential_with_text_vectorization_predicts_identically(tmp_path):
    from automl.keras import Input, Sequential

    layer = TextVectorization(max_tokens=20, output_sequence_length=3)
    layer.adapt(CORPUS)
    model = Sequential([Input(shape=(1,), dtype="string"), layer, layers.Embedding(20, 2), layers.Flatten()])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = saving.load_model(path)
    texts = np.array(["foo baz", "boom qux bar bada"])
    np.testing.assert_array_equal(loaded.predict(texts, verbose=0), model.predict(texts, verbose=0))
    assert loaded.layers[0].get_vocabulary() == layer.get_vocabulary()


def test_symbolic_call_and_no_gradient():
    from automl.keras import Input

    layer = TextVectorization(vocabulary=["a"], output_sequence_length=7)
    assert layer(Input(shape=(1,), dtype="string")).shape == (None, 7)
    layer(["a"])
    layer._input_grad_needed = True
    with pytest.raises(ValueError, match="no gradient"):
        layer.backward(np.ones((1, 7)))
