"""StringLookup and IntegerLookup: Keras's docstring examples, adapt ordering, modes, OOV, mask, invert, config."""

import numpy as np
import pytest

from automl.keras import layers
from automl.keras.layers import IntegerLookup, StringLookup
from automl.keras.layers._hashing import hash_buckets

from .helpers import assert_no_input_gradient

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
COUNT_DATA = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
INT_VOCAB = [12, 36, 1138, 42]


# -- StringLookup ---------------------------------------------------------------------
def test_string_lookup_known_vocabulary():
    layer = StringLookup(vocabulary=VOCAB)
    out = layer(DATA)
    assert out.dtype == np.int64 and out.tolist() == [[1, 3, 4], [4, 0, 2]]
    assert layer.get_vocabulary() == ["[UNK]", *VOCAB]
    assert layer.get_vocabulary(include_special_tokens=False) == VOCAB
    assert layer.vocabulary_size() == 5


def test_adapt_orders_by_count_then_token_high_to_low():
    layer = StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer(DATA).tolist() == [[5, 3, 1], [1, 2, 4]]
    capped = StringLookup(max_tokens=3)
    capped.adapt(np.array(DATA))
    assert capped.get_vocabulary() == ["[UNK]", "d", "z"]


def test_adapt_on_batches_and_steps_and_special_tokens_removed():
    layer = StringLookup(mask_token="", oov_token="[UNK]")
    batches = (np.array([["x", "y", ""], ["[UNK]", "y", "y"]]) for _ in range(5))
    layer.adapt(batches, steps=2)
    assert layer.get_vocabulary() == ["", "[UNK]", "y", "x"]


def test_num_oov_indices():
    layer = StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    assert layer([["a", "c", "d"], ["m", "z", "b"]]).tolist() == [[2, 4, 5], [0, 1, 3]]
    assert layer.get_vocabulary()[:2] == ["[UNK]", "[UNK]"]
    many = StringLookup(vocabulary=VOCAB, num_oov_indices=5)
    words = np.array([f"w{i}" for i in range(40)])
    np.testing.assert_array_equal(many(words), hash_buckets(words, 5))
    strict = StringLookup(vocabulary=VOCAB, num_oov_indices=0)
    assert strict(["a", "d"]).tolist() == [0, 3]
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        strict(["a", "zz"])


def test_mask_token():
    layer = StringLookup(vocabulary=VOCAB, mask_token="[MASK]")
    assert layer.get_vocabulary() == ["[MASK]", "[UNK]", *VOCAB]
    assert layer([["a", "c", "d"], ["[MASK]", "z", "b"]]).tolist() == [[2, 4, 5], [0, 1, 3]]
    # other modes drop the mask token
    multi = StringLookup(vocabulary=VOCAB, mask_token="[MASK]", output_mode="multi_hot")
    assert multi.get_vocabulary() == ["[UNK]", *VOCAB]
    assert multi([["a", "[MASK]"]]).tolist() == [[0.0, 1.0, 0.0, 0.0, 0.0]]
    one_hot = StringLookup(vocabulary=VOCAB, mask_token="[MASK]", output_mode="one_hot")
    assert one_hot(["[MASK]"]).tolist() == [[0.0] * 5]


@pytest.mark.parametrize(("mode", "expected"), [
    ("multi_hot", [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]),
    ("count", [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]),
])
def test_multi_hot_and_count(mode, expected):
    out = StringLookup(vocabulary=VOCAB, output_mode=mode)(COUNT_DATA)
    assert out.dtype == np.float32
    assert out.tolist() == expected


def test_one_hot():
    layer = StringLookup(vocabulary=VOCAB, output_mode="one_hot")
    out = layer(["a", "b", "c", "d", "z"])
    np.testing.assert_array_equal(out, np.eye(5)[[1, 2, 3, 4, 0]])
    assert layer([["a"], ["z"]]).shape == (2, 5)  # a last axis of size 1 is replaced
    assert layer([["a", "b"]]).shape == (1, 2, 5)
    assert layer.compute_output_shape((None, 1)) == (None, 5)


def test_tf_idf_with_given_weights():
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(layer(COUNT_DATA), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(["[UNK]", *VOCAB], idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(layer(COUNT_DATA), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6)


def test_tf_idf_adapt():
    docs = [["a", "b"], ["a", "c"], ["a", "a"]]
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt(np.array(docs))
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    idf = np.log1p(3 / (1 + np.array([3.0, 1.0, 1.0])))
    expected_idf = np.r_[idf.mean(), idf]
    np.testing.assert_allclose(layer.idf_weights, expected_idf, rtol=1e-6)
    np.testing.assert_allclose(layer([["a", "a", "z"]]), [[expected_idf[0], 2 * expected_idf[1], 0, 0]], rtol=1e-6)


def test_pad_to_max_tokens():
    layer = StringLookup(vocabulary=VOCAB, output_mode="multi_hot", pad_to_max_tokens=True, max_tokens=8)
    out = layer(COUNT_DATA)
    assert out.shape == (2, 8) and out[:, 5:].sum() == 0
    with pytest.raises(ValueError, match="max_tokens"):
        StringLookup(pad_to_max_tokens=True)


def test_encoded_modes_need_a_vocabulary():
    with pytest.raises(RuntimeError, match="vocabulary"):
        StringLookup(output_mode="multi_hot")(["a"])
    # int mode without a vocabulary: everything is OOV, as in Keras
    assert StringLookup()(["a", "b"]).tolist() == [0, 0]


def test_invert_and_round_trip():
    layer = StringLookup(vocabulary=VOCAB, invert=True)
    assert layer([[1, 3, 4], [4, 0, 2]]).tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]
    assert layer([9, -1]).tolist() == ["[UNK]", "[UNK]"]
    forward = StringLookup(vocabulary=VOCAB)
    inverse = StringLookup(vocabulary=forward.get_vocabulary(), invert=True)
    assert inverse(forward(DATA)).tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]
    masked = StringLookup(vocabulary=VOCAB, mask_token="", invert=True)
    assert masked([0, 1, 2]).tolist() == ["", "[UNK]", "a"]
    with pytest.raises(ValueError, match="output_mode"):
        StringLookup(invert=True, output_mode="count")


def test_bytes_and_object_inputs_and_scalars():
    layer = StringLookup(vocabulary=VOCAB)
    assert layer(np.array([b"a", b"d"])).tolist() == [1, 4]
    assert layer(np.array(["c", b"b"], dtype=object)).tolist() == [3, 2]
    assert layer("c") == 3


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\nd\n\n")
    layer = StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", *VOCAB]
    assert layer.get_config()["vocabulary"] == ["[UNK]", *VOCAB]
    int_path = tmp_path / "ints.txt"
    int_path.write_text("12\n36\n")
    assert IntegerLookup(vocabulary=str(int_path)).get_vocabulary() == [-1, 12, 36]
    with pytest.raises(ValueError, match="does not exist"):
        StringLookup(vocabulary=str(tmp_path / "missing.txt"))


@pytest.mark.parametrize(("vocab", "match"), [
    (["a", "a"], "repeated"),
    (["a", "[MASK]"], "mask"),
    ([], "empty"),
])
def test_invalid_vocabularies(vocab, match):
    with pytest.raises(ValueError, match=match):
        StringLookup(vocabulary=vocab, mask_token="[MASK]")


def test_vocabulary_larger_than_max_tokens_and_static_vocab_not_adaptable():
    with pytest.raises(ValueError, match="max_tokens"):
        StringLookup(vocabulary=VOCAB, max_tokens=3)
    layer = StringLookup(vocabulary=VOCAB)
    with pytest.raises(ValueError, match="static vocabulary"):
        layer.adapt(DATA)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"max_tokens": 1}, "max_tokens"),
    ({"num_oov_indices": -1}, "num_oov_indices"),
    ({"output_mode": "ragged"}, "output_mode"),
    ({"sparse": True}, "sparse"),
    ({"idf_weights": [1.0]}, "idf_weights"),
    ({"vocabulary": VOCAB, "output_mode": "tf_idf"}, "idf_weights"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StringLookup(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {},
    {"mask_token": "", "num_oov_indices": 2},
    {"output_mode": "tf_idf", "pad_to_max_tokens": True, "max_tokens": 10},
    {"output_mode": "count", "invert": False},
])
def test_config_round_trip_keeps_the_adapted_vocabulary(kwargs):
    layer = StringLookup(**kwargs)
    layer.adapt(np.array(COUNT_DATA))
    config = layer.get_config()
    clone = layers.LAYERS.deserialize({"class_name": "StringLookup", "config": config})
    assert clone.get_config() == config
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(clone(COUNT_DATA), layer(COUNT_DATA))
    clone.adapt(np.array([["q"]]))  # an adapted layer stays adaptable
    assert "q" in clone.get_vocabulary()


# -- IntegerLookup --------------------------------------------------------------------
def test_integer_lookup_keras_examples():
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    layer = IntegerLookup(vocabulary=INT_VOCAB)
    assert layer(data).tolist() == [[1, 3, 4], [4, 0, 2]]
    adapted = IntegerLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert adapted(data).tolist() == [[5, 2, 1], [1, 3, 4]]
    oov2 = IntegerLookup(vocabulary=INT_VOCAB, num_oov_indices=2)
    assert oov2(np.array([[12, 1138, 42], [37, 1000, 36]])).tolist() == [[2, 4, 5], [1, 0, 3]]
    masked = IntegerLookup(vocabulary=INT_VOCAB, mask_token=0)
    assert masked(np.array([[12, 1138, 0], [42, 1000, 36]])).tolist() == [[2, 4, 0], [5, 1, 3]]
    assert masked.get_vocabulary() == [0, -1, *INT_VOCAB]


def test_integer_lookup_modes_and_invert():
    data = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])
    count = IntegerLookup(vocabulary=INT_VOCAB, output_mode="count")(data)
    assert count.tolist() == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    tfidf = IntegerLookup(output_mode="tf_idf", vocabulary=INT_VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tfidf(data), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    inverse = IntegerLookup(vocabulary=INT_VOCAB, invert=True)
    out = inverse(np.array([[1, 3, 4], [4, 0, 2]]))
    assert out.dtype == np.int64 and out.tolist() == [[12, 1138, 42], [42, -1, 36]]
    # float inputs are integer tokens too (a float Input feeding the layer)
    assert IntegerLookup(vocabulary=INT_VOCAB)(np.array([12.0, 36.0])).tolist() == [1, 2]
    with pytest.raises(ValueError, match="integer tokens"):
        IntegerLookup(vocabulary=INT_VOCAB)(np.array(["12"]))
    with pytest.raises(ValueError, match="vocabulary_dtype"):
        IntegerLookup(vocabulary_dtype="int32")


def test_integer_lookup_config_round_trip():
    layer = IntegerLookup(mask_token=0, max_tokens=4)
    layer.adapt(np.array([[5, 5, 6], [7, 0, 8]]))
    assert layer.get_vocabulary() == [0, -1, 5, 8]
    config = layer.get_config()
    clone = IntegerLookup.from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(clone(np.array([[5, 8, 9, 0]])), [[2, 3, 1, 0]])


def test_lookup_has_no_gradient():
    assert_no_input_gradient(StringLookup(vocabulary=VOCAB), DATA, np.ones((2, 3)))
