"""ConvLSTM1D/2D/3D with ``data_format="channels_first"``: forward outputs and states equal
Keras 3's on the same weights (``fixtures/rnn_keras.npz``, written by ``fixtures/rnn_keras.py``)
and the channels_last layer's on transposed data; float64 gradient checks of the inputs,
weights and initial states; symbolic shapes, config, a model that trains."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

from automl.keras import Input, Model, layers
from automl.keras.layers import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from automl.testing import (
    check_layer_gradients,
    check_model_gradients,
    floatx_scope,
    numeric_gradient,
)

from .helpers import Probe

_HERE = pathlib.Path(__file__).parent / "fixtures"
_spec = importlib.util.spec_from_file_location("rnn_keras", _HERE / "rnn_keras.py")
FIX = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(FIX)
EXPECTED = np.load(_HERE / "rnn_keras.npz")
CLASSES = {1: ConvLSTM1D, 2: ConvLSTM2D, 3: ConvLSTM3D}


def _layer(rank, **options):
    return CLASSES[rank](3, data_format="channels_first", **{**FIX.CONV[rank][1], **options})


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_forward_matches_keras(rank):
    layer = _layer(rank, return_sequences=True, return_state=True)
    x = FIX.conv_input(rank)
    layer(x)
    layer.set_weights(FIX.conv_weights(rank))
    seq, h, c = layer(x)
    for name, value in (("seq", seq), ("h", h), ("c", c)):
        expected = EXPECTED[f"conv{rank}_{name}"]
        assert value.shape == expected.shape
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_equals_channels_last_on_transposed_data(rank):
    x = FIX.conv_input(rank).astype(np.float64)
    with floatx_scope("float64"):
        first, last = _layer(rank, go_backwards=True), CLASSES[rank](3, **FIX.CONV[rank][1], go_backwards=True)
        first(x)
        last(np.moveaxis(x, 2, -1))
        last.set_weights(first.get_weights())
        np.testing.assert_allclose(first(x), np.moveaxis(last(np.moveaxis(x, 2, -1)), -1, 1), rtol=1e-12)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("options", [{}, {"return_sequences": True}])
def test_gradients(rank, options):
    errors = check_layer_gradients(
        lambda: _layer(rank, bias_initializer="random_normal", **options), FIX.CONV[rank][0])
    assert len(errors) == 4  # inputs, kernel, recurrent_kernel, bias


def test_gradients_with_mask_and_states_output():
    mask = np.array([[1, 0, 1], [1, 1, 0]], dtype=bool)
    check_layer_gradients(lambda: Probe(_layer(2, return_sequences=True, return_state=True), mask=mask),
                          FIX.CONV[2][0])


def test_gradients_of_initial_states():
    with floatx_scope("float64"):
        rng = np.random.default_rng(3)
        layer = ConvLSTM2D(2, 3, padding="same", data_format="channels_first", return_state=True)
        x = rng.standard_normal((2, 3, 2, 4, 5))
        states = [rng.standard_normal((2, 2, 4, 5)) for _ in range(2)]
        out = layer(x, initial_state=states)
        assert [o.shape for o in out] == [(2, 2, 4, 5)] * 3
        ups = [rng.standard_normal(o.shape) for o in out]

        def objective(_=None):
            values = layer.call([x, *states], training=True)
            return float(sum(np.sum(u * v) for u, v in zip(ups, values)))

        objective()
        grads = layer.backward([u.copy() for u in ups])
        np.testing.assert_allclose(grads[0], numeric_gradient(objective, x), rtol=1e-5, atol=1e-7)
        for g, s in zip(grads[1:], states):
            np.testing.assert_allclose(g, numeric_gradient(objective, s), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "return_state": True}])
def test_symbolic_shapes_match_the_call(options):
    layer = _layer(2, **options)
    x = FIX.conv_input(2)
    out = layer(Input(x.shape[1:]))
    values = layer(x)
    outs, values = (out, values) if layer.return_state else ([out], [values])
    for o, v in zip(outs, values):
        assert tuple(o.shape[1:]) == v.shape[1:]


def test_config_round_trip_and_model_trains():
    layer = _layer(1, return_sequences=True)
    config = json.loads(json.dumps(layers.serialize(layer)))
    assert layers.deserialize(config).get_config()["data_format"] == "channels_first"
    with floatx_scope("float64"):
        inputs = Input(FIX.CONV[1][0][1:])
        y = _layer(1)(inputs)
        model = Model(inputs, layers.Dense(1)(layers.Flatten()(y)))
        model.compile(optimizer="sgd", loss="mse")
        x = FIX.conv_input(1).astype(np.float64)
        check_model_gradients(model, x, np.ones((2, 1)))


def test_rejects_a_wrong_rank_naming_the_layout():
    with pytest.raises(ValueError, match=r"\(batch, time, channels, height, width\)"):
        ConvLSTM2D(2, 2, data_format="channels_first")(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="data_format"):
        ConvLSTM2D(2, 2, data_format="channels_middle")
