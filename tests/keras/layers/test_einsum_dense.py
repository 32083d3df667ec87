"""EinsumDense: shapes as in Keras, equivalence with Dense, gradients, models, config."""

import json

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, initializers, layers, optimizers, saving
from automl.keras.layers import Dense, EinsumDense
from automl.keras.utils import set_random_seed
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope

CASES = [
    # equation, output_shape, bias_axes, input shape (batch included), expected output shape
    ("ab,bc->ac", 5, "c", (4, 3), (4, 5)),
    ("abc,cd->abd", (None, 5), "d", (2, 3, 4), (2, 3, 5)),
    ("abc,cde->abde", (None, 2, 5), "de", (2, 3, 4), (2, 3, 2, 5)),
    ("abc,cde->abde", (3, 2, 5), "e", (2, 3, 4), (2, 3, 2, 5)),
    ("abcd,cde->abe", (3, 5), "e", (2, 3, 2, 4), (2, 3, 5)),
    ("...b,bc->...c", 5, "c", (2, 3, 4), (2, 3, 5)),
    ("ab...,bc->ac...", 5, "c", (2, 4, 3), (2, 5, 3)),
    ("abc,bd->ad", 5, None, (2, 3, 4), (2, 5)),  # the 'c' axis is summed out
]
IDS = [c[0] + ("" if c[2] else ":nobias") for c in CASES]


@pytest.mark.parametrize(("equation", "output_shape", "bias_axes", "shape", "expected"), CASES, ids=IDS)
def test_gradients(equation, output_shape, bias_axes, shape, expected):
    check_layer_gradients(
        lambda: EinsumDense(equation, output_shape, activation="tanh", bias_axes=bias_axes,
                            bias_initializer=initializers.RandomNormal(seed=1)),
        shape,
    )


@pytest.mark.parametrize(("equation", "output_shape", "bias_axes", "shape", "expected"), CASES, ids=IDS)
def test_output_shapes(equation, output_shape, bias_axes, shape, expected):
    layer = EinsumDense(equation, output_shape, bias_axes=bias_axes)
    assert layer(np.ones(shape, dtype="float32")).shape == expected
    assert layer.compute_output_shape((None, *shape[1:])) == (None, *expected[1:])


def test_keras_docstring_shapes_and_weights():
    layer = EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
    assert layer(Input((32, 128))).shape == (None, 32, 64)
    assert [w.shape for w in layer.weights] == [(128, 64), (64,)]
    heads = EinsumDense("abc,cde->abde", output_shape=(None, 4, 8), bias_axes="de")
    heads(Input((10, 16)))
    assert [w.shape for w in heads.weights] == [(16, 4, 8), (4, 8)]
    # The bias covers the output axes from the first bias axis on (Keras): "d" -> (4, 1).
    partial = EinsumDense("abc,cde->abde", output_shape=(None, 4, 8), bias_axes="d")
    partial(Input((10, 16)))
    assert partial.weights[1].shape == (4, 1)


def test_matches_dense():
    x = np.random.default_rng(0).standard_normal((6, 4)).astype("float32")
    dense = Dense(3, activation="relu")
    einsum = EinsumDense("ab,bc->ac", 3, activation="relu", bias_axes="c")
    dense(x)
    einsum(x)
    einsum.set_weights([dense.kernel.value, np.arange(3.0)])
    dense.bias.assign(np.arange(3.0))
    np.testing.assert_allclose(einsum(x), dense(x), rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"equation": "ab->b", "output_shape": 3}, "'equation' parameter"),
        ({"equation": "ab,bc->ac", "output_shape": 0}, "'output_shape' parameter"),
        ({"equation": "ab,bc->ac", "output_shape": 3, "bias_axes": "z"}, "'bias_axes' parameter"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EinsumDense(**kwargs)


def test_shape_mismatches_are_reported():
    with pytest.raises(ValueError, match="shared axis 'b'"):
        EinsumDense("abc,cd->abd", (7, 5)).compute_output_shape((None, 3, 4))
    with pytest.raises(ValueError, match="does not fit"):
        EinsumDense("ab,bc->ac", 5).compute_output_shape((None, 3, 4))
    with pytest.raises(ValueError, match="kernel axis 'e'"):
        EinsumDense("ab,bce->ac", 5).compute_output_shape((None, 3))


def test_sequential_trains_and_gradients_check():
    set_random_seed(0)  # the initial weights
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None]
    model = Sequential([
        Input((5, 3)),
        EinsumDense("abc,cde->abde", (None, 2, 4), activation="relu", bias_axes="de"),
        layers.Flatten(),
        Dense(1),
    ])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.02), loss="mse")
    losses = model.fit(x, y, epochs=20, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    with floatx_scope("float64"):
        small = Sequential([Input((3, 2)), EinsumDense("abc,cd->abd", (None, 3), bias_axes="d",
                                                       activation="tanh"),
                            EinsumDense("abc,bcd->ad", 1)])
        small.compile(optimizer="sgd", loss="mse")
    check_model_gradients(small, x[:8, :3, :2].astype("float64"), y[:8].astype("float64"))


def test_functional_config_round_trip_and_saving(tmp_path):
    inputs = Input((4, 6))
    outputs = EinsumDense("...b,bc->...c", 2, bias_axes="c", activation="sigmoid",
                          kernel_regularizer="l2")(inputs)
    model = Model(inputs, outputs)
    layer = model.layers[-1]
    config = layer.get_config()
    json.dumps(config)
    assert config["equation"] == "...b,bc->...c" and config["output_shape"] == [2]
    assert EinsumDense.from_config(config).get_config() == config
    assert layers.LAYERS.lookup("EinsumDense") is EinsumDense
    path = tmp_path / "einsum.keras"
    saving.save_model(model, path)
    x = np.random.default_rng(0).standard_normal((3, 4, 6)).astype("float32")
    np.testing.assert_allclose(saving.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
