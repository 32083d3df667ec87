"""split_dataset, pack/unpack_x_y_sample_weight and the Progbar export."""

import numpy as np
import pytest

from automl.keras import callbacks, utils


def test_split_dataset_fraction_and_counts():
    x = np.arange(20).reshape(10, 2)
    left, right = utils.split_dataset(x, left_size=0.8)
    np.testing.assert_array_equal(left, x[:8])
    np.testing.assert_array_equal(right, x[8:])
    left, right = utils.split_dataset(x, right_size=3)
    assert len(left) == 7 and len(right) == 3
    left, right = utils.split_dataset(x, left_size=2, right_size=3)  # the middle is dropped
    np.testing.assert_array_equal(left, x[:2])
    np.testing.assert_array_equal(right, x[7:])


def test_split_dataset_keeps_tuple_and_dict_structure_and_shuffles_pairs_together():
    x, y = np.arange(10), np.arange(10) * 10
    (lx, ly), (rx, ry) = utils.split_dataset((x, y), left_size=0.5, shuffle=True, seed=3)
    np.testing.assert_array_equal(ly, lx * 10)
    np.testing.assert_array_equal(ry, rx * 10)
    assert sorted(np.concatenate([lx, rx]).tolist()) == list(range(10))
    assert lx.tolist() != list(range(5))  # shuffled
    again = utils.split_dataset((x, y), left_size=0.5, shuffle=True, seed=3)
    np.testing.assert_array_equal(again[0][0], lx)
    left, right = utils.split_dataset({"a": x, "b": y}, right_size=0.2)
    assert set(left) == {"a", "b"} and right["b"].tolist() == [80, 90]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({}, ValueError, "at least one"),
    ({"left_size": 0}, ValueError, "'left_size' parameter of split_dataset"),
    ({"left_size": 1.0}, ValueError, r"range \(0, 1\)"),
    ({"right_size": 10}, ValueError, r"range \(0, 10\)"),
    ({"left_size": 0.7, "right_size": 0.5}, ValueError, "sum to at most 1"),
    ({"left_size": 6, "right_size": 6}, ValueError, "more than the 10"),
    ({"left_size": 0.01}, ValueError, "left split empty"),
    ({"left_size": "half"}, TypeError, "'left_size'"),
])
def test_split_dataset_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        utils.split_dataset(np.arange(10), **kwargs)


def test_split_dataset_rejects_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="same length"):
        utils.split_dataset((np.arange(3), np.arange(4)), left_size=1)


def test_pack_and_unpack_x_y_sample_weight_round_trip():
    x, y, w = np.ones(2), np.zeros(2), np.full(2, 0.5)
    assert utils.pack_x_y_sample_weight(x) is x
    assert utils.pack_x_y_sample_weight((x, x)) == ((x, x),)
    packed = utils.pack_x_y_sample_weight(x, y, w)
    assert utils.unpack_x_y_sample_weight(packed) == (x, y, w)
    assert utils.unpack_x_y_sample_weight(utils.pack_x_y_sample_weight(x, y)) == (x, y, None)
    assert utils.unpack_x_y_sample_weight(x) == (x, None, None)
    assert utils.unpack_x_y_sample_weight([x]) == (x, None, None)
    with pytest.raises(ValueError, match="4 items"):
        utils.unpack_x_y_sample_weight((x, y, w, w))


def test_progbar_is_exported():
    assert utils.Progbar is callbacks.Progbar
