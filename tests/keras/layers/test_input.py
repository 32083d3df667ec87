"""Input and InputLayer: shapes are checked where they are given."""

import pytest

from automl.keras import Input, Sequential, layers


@pytest.mark.parametrize("shape", [(-1,), (0,), (4, 0), (2.5,), (True,), ("3",), 0, -2, "ab"])
def test_invalid_shapes_are_refused_at_input(shape):
    with pytest.raises(ValueError, match="The 'shape' parameter of InputLayer must be a tuple of "
                                         r"positive ints or None .* Got .* instead\.$"):
        Input(shape=shape)


@pytest.mark.parametrize("shape, expected", [((3,), (None, 3)), (4, (None, 4)),
                                             ((None, 2), (None, None, 2)), ((2.0,), (None, 2))])
def test_valid_shapes(shape, expected):
    assert Input(shape=shape).shape == expected


def test_invalid_batch_size_and_input_shape_keyword():
    with pytest.raises(ValueError, match="'batch_size' parameter of InputLayer"):
        Input(shape=(3,), batch_size=0)
    with pytest.raises(ValueError, match=r"Got \(0,\) instead"):
        Sequential([layers.InputLayer(input_shape=(0,)), layers.Dense(2)])
