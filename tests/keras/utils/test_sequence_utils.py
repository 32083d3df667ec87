"""pad_sequences and normalize against Keras's documented results."""

import numpy as np
import pytest

from automl.keras import preprocessing, utils

SEQ = [[1], [2, 3], [4, 5, 6]]


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, [[0, 0, 1], [0, 2, 3], [4, 5, 6]]),
    ({"value": -1}, [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]),
    ({"padding": "post"}, [[1, 0, 0], [2, 3, 0], [4, 5, 6]]),
    ({"maxlen": 2}, [[0, 1], [2, 3], [5, 6]]),
    ({"maxlen": 2, "truncating": "post"}, [[0, 1], [2, 3], [4, 5]]),
    ({"maxlen": 4, "padding": "post", "truncating": "post"},
     [[1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 0]]),
])
def test_pad_sequences_matches_the_keras_docstring(kwargs, expected):
    out = utils.pad_sequences(SEQ, **kwargs)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, expected)


def test_pad_sequences_is_also_in_preprocessing_sequence():
    assert preprocessing.sequence.pad_sequences is utils.pad_sequences


def test_pad_sequences_empty_sequences_dtype_and_sample_shape():
    np.testing.assert_array_equal(utils.pad_sequences([[], [7]], maxlen=2), [[0, 0], [0, 7]])
    out = utils.pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32", value=-1.0)
    np.testing.assert_array_equal(out, [[-1.0, 0.5, 1.5]])
    vec = utils.pad_sequences([[[1, 2]], [[3, 4], [5, 6]]], padding="post")
    assert vec.shape == (2, 2, 2)
    np.testing.assert_array_equal(vec[0], [[1, 2], [0, 0]])
    assert utils.pad_sequences([]).shape == (0, 0)


def test_pad_sequences_strings():
    out = utils.pad_sequences([["a", "bb"], ["c"]], dtype=object, value="<pad>")
    assert out.tolist() == [["a", "bb"], ["<pad>", "c"]]
    with pytest.raises(ValueError, match="dtype=object"):
        utils.pad_sequences([["a"]], value="x")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"padding": "middle"}, "'padding' parameter of pad_sequences"),
    ({"truncating": "x"}, "'truncating' parameter of pad_sequences"),
    ({"maxlen": -1}, "'maxlen' parameter of pad_sequences"),
])
def test_pad_sequences_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        utils.pad_sequences(SEQ, **kwargs)


def test_pad_sequences_rejects_inconsistent_sample_shapes_and_scalars():
    with pytest.raises(ValueError, match="shape"):
        utils.pad_sequences([[[1, 2]], [[1, 2, 3]]])
    with pytest.raises(ValueError, match="position 1"):
        utils.pad_sequences([[1], 5])


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [0, 0], [1, 0]])
    np.testing.assert_allclose(utils.normalize(x, axis=0, order=1)[:, 0], [0.75, 0, 0.25])
    assert utils.normalize([[1, 1]]).dtype == np.float32
    assert utils.normalize(x.astype("float64")).dtype == np.float64
