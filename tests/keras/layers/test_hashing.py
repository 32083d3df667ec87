"""Hashing: FarmHash / SipHash bins bit-exact with Keras, output modes, config, no gradient."""

import numpy as np
import pytest

from automl.keras import layers
from automl.keras.layers import Hashing
from automl.keras.layers._hashing import fingerprint64, hash_buckets, siphash24

from .helpers import assert_no_input_gradient

# FarmHash Fingerprint64 reference values (farmhashna::Hash64), one per code path (<=16, <=32, <=64, >64 bytes).
_FINGERPRINTS = [
    ("", 0x9AE16A3B2F90404F),
    ("a", 0xB3454265B6DF75E3),
    ("abcd", 0x1A5502DE4A1F8101),
    ("abcdefgh", 0xFEE9D22990C82909),
    ("0123456789+0123456", 0xA4ABB4E0DA2C594C),
    ("C is as portable as Stonehedge!!", 0xB944F8A16261E414),
    ("I wouldn't marry him with a ten foot pole.", 0xA9961670CE2A46D9),
    ("For every action there is an equal and opposite government program.", 0x55182F8859ECA4CE),
    ("The fugacity of a constituent in a mixture of gases at a given temperature is proportional to its "
     "mole fraction.  Lewis-Randall Rule", 0x098EFF6958C5E91A),
]


@pytest.mark.parametrize(("text", "expected"), _FINGERPRINTS)
def test_fingerprint64_reference_values(text, expected):
    assert fingerprint64(text.encode()) == expected


def test_tensorflow_hash_bucket_examples():
    # tf.strings.to_hash_bucket_fast / _strong documentation examples
    assert hash_buckets(np.array(["Hello", "TensorFlow", "2.x"]), 3).tolist() == [0, 2, 2]
    assert hash_buckets(np.array(["Hello", "TF"]), 3, salt=[1, 2]).tolist() == [2, 0]
    assert siphash24((1, 2), b"Hello") % 3 == 2


_INP = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize(("kwargs", "inp", "expected"), [
    ({}, _INP, [1, 0, 1, 1, 2]),
    ({"mask_value": ""}, [["A"], ["B"], [""], ["C"], ["D"]], [1, 1, 0, 2, 2]),
    ({"salt": [133, 137]}, _INP, [1, 2, 1, 0, 2]),
    ({"salt": 133}, _INP, [0, 0, 2, 1, 0]),
])
def test_keras_docstring_examples(kwargs, inp, expected):
    out = Hashing(num_bins=3, **kwargs)(inp)
    assert out.dtype == np.int64 and out.shape == (5, 1)
    assert out.ravel().tolist() == expected


def test_integers_and_floats_hash_as_their_decimal_strings():
    layer = Hashing(num_bins=7)
    ints = np.array([[1, 22], [333, -4]])
    np.testing.assert_array_equal(layer(ints), layer(ints.astype(str)))
    np.testing.assert_array_equal(layer(np.array([[1.7, 22.0]])), layer(np.array([["1", "22"]])))
    assert layer(np.array([b"A", b"B"])).tolist() == layer(np.array(["A", "B"])).tolist()
    assert layer(np.array(["A", "B"], dtype=object)).tolist() == layer(np.array(["A", "B"])).tolist()
    assert np.ndim(layer("A")) == 0


def test_mask_value_with_integers():
    out = Hashing(num_bins=5, mask_value=0)(np.array([[0, 1, 2, 0]]))
    assert out[0, 0] == 0 and out[0, 3] == 0 and (out[0, 1:3] >= 1).all()


@pytest.mark.parametrize(("mode", "shape"), [("one_hot", (5, 3)), ("multi_hot", (5, 3)), ("count", (5, 3))])
def test_output_modes(mode, shape):
    layer = Hashing(num_bins=3, output_mode=mode)
    out = layer(_INP)
    assert out.shape == shape and out.dtype == np.float32
    bins = Hashing(num_bins=3)(_INP).ravel()
    np.testing.assert_array_equal(out.argmax(axis=1), bins)
    assert layer.compute_output_shape((None, 1)) == (None, 3)
    counts = Hashing(num_bins=3, output_mode="count")([["A", "A", "B"]])
    assert counts.tolist() == [[1.0, 2.0, 0.0]]
    assert Hashing(num_bins=3, output_mode="multi_hot")([["A", "A", "B"]]).tolist() == [[1.0, 1.0, 0.0]]
    assert Hashing(num_bins=3, output_mode="one_hot")([["A", "B"]]).shape == (1, 2, 3)


def test_config_round_trip_and_registry():
    layer = Hashing(num_bins=4, mask_value="", salt=5, output_mode="count", name="h")
    config = layer.get_config()
    assert config["salt"] == [5, 5] and config["dtype"] == "float32"
    clone = Hashing.from_config(config)
    assert clone.get_config() == config
    assert isinstance(layers.LAYERS.deserialize({"class_name": "Hashing", "config": config}), Hashing)
    np.testing.assert_array_equal(clone([["x", "y", ""]]), layer([["x", "y", ""]]))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_bins": 0}, "num_bins"),
    ({"num_bins": 3, "output_mode": "tf_idf"}, "output_mode"),
    ({"num_bins": 3, "sparse": True}, "sparse"),
    ({"num_bins": 3, "salt": "x"}, "salt"),
    ({"num_bins": 3, "dtype": "float32"}, "dtype"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Hashing(**kwargs)


def test_backward_only_errors_when_a_gradient_is_needed():
    assert_no_input_gradient(Hashing(num_bins=3), _INP, np.ones((5, 1)))
