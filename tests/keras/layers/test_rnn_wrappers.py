"""Bidirectional and TimeDistributed: forward values, gradients (float64), weights, config."""

import numpy as np
import pytest

from automl.keras import layers
from automl.keras.layers import Conv1D, Dense
from automl.keras.layers._recurrent import GRU, LSTM, SimpleRNN
from automl.keras.layers._rnn_wrappers import Bidirectional, TimeDistributed
from automl.testing import check_layer_gradients, floatx_scope, numeric_gradient

from .helpers import Probe

MODES = ["concat", "sum", "mul", "ave"]


def _x(shape=(3, 5, 4), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("mode", MODES + [None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_merges_forward_and_flipped_backward(float64, mode, return_sequences):
    x = _x()
    bi = Bidirectional(LSTM(3, return_sequences=return_sequences), merge_mode=mode)
    out = bi(x)
    y = bi.forward_layer(x)
    y_rev = bi.backward_layer(x)
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    if return_sequences:
        y_rev = y_rev[:, ::-1]
    expected = {"concat": np.concatenate([y, y_rev], -1), "sum": y + y_rev, "mul": y * y_rev,
                "ave": (y + y_rev) / 2}
    if mode is None:
        assert isinstance(out, list) and len(out) == 2
        np.testing.assert_allclose(out[0], y)
        np.testing.assert_allclose(out[1], y_rev)
    else:
        np.testing.assert_allclose(out, expected[mode], rtol=1e-12)
    shapes = bi.compute_output_shape((None, 5, 4))
    outs = out if mode is None else [out]
    shapes = shapes if mode is None else [shapes]
    assert [s[1:] for s in shapes] == [o.shape[1:] for o in outs]


def test_bidirectional_output_shapes():
    bi = Bidirectional(LSTM(3, return_sequences=True, return_state=True))
    assert bi.compute_output_shape((None, 5, 4)) == [(None, 5, 6), (None, 3), (None, 3), (None, 3), (None, 3)]
    bi = Bidirectional(GRU(3), merge_mode=None)
    assert bi.compute_output_shape((None, 5, 4)) == [(None, 3), (None, 3)]
    assert Bidirectional(SimpleRNN(3), merge_mode="sum").compute_output_shape((None, 5, 4)) == (None, 3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_bidirectional_gradients(mode, cls):
    check_layer_gradients(lambda: Bidirectional(cls(3, return_sequences=True), merge_mode=mode), (2, 4, 3))


def test_bidirectional_gradients_last_output():
    check_layer_gradients(lambda: Bidirectional(GRU(3), merge_mode="concat"), (2, 4, 3))


def test_bidirectional_gradients_merge_none_states_and_mask():
    mask = np.array([[1, 1, 1, 0], [0, 1, 1, 1]], dtype=bool)
    check_layer_gradients(
        lambda: Probe(Bidirectional(LSTM(3, return_sequences=True, return_state=True), merge_mode=None), mask),
        (2, 4, 3))
    check_layer_gradients(lambda: Probe(Bidirectional(GRU(2, return_sequences=True)), mask), (2, 4, 3))


def test_bidirectional_masked_sequences_output_zeros(float64):
    x = _x((2, 4, 3))
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    bi = Bidirectional(LSTM(3, return_sequences=True))
    out = bi(x, mask=mask)
    assert np.all(out[0, 3] == 0)  # zero_output_for_mask is forced when returning sequences
    np.testing.assert_allclose(bi(x[:1, :3])[0], out[0, :3], rtol=1e-10)
    assert bi.compute_mask(x, mask) is mask
    assert Bidirectional(LSTM(3)).compute_mask(x, mask) is None


def test_bidirectional_initial_state_halves(float64):
    x = _x((2, 4, 3))
    rng = np.random.default_rng(1)
    states = [rng.standard_normal((2, 3)) for _ in range(4)]
    bi = Bidirectional(LSTM(3, return_sequences=True), merge_mode=None)
    out = bi(x, initial_state=states)
    np.testing.assert_allclose(out[0], bi.forward_layer(x, initial_state=states[:2]))
    np.testing.assert_allclose(out[1], bi.backward_layer(x, initial_state=states[2:])[:, ::-1])


def test_bidirectional_weights_order_names_and_counts():
    bi = Bidirectional(LSTM(4, name="enc"))
    bi(np.zeros((1, 2, 3)))
    assert [v.name for v in bi.weights] == [f"forward_enc/{n}" for n in ("kernel", "recurrent_kernel", "bias")] + [
        f"backward_enc/{n}" for n in ("kernel", "recurrent_kernel", "bias")]
    assert bi.count_params() == 2 * 4 * 4 * (3 + 4 + 1)
    weights = [np.full(w.shape, i, dtype=np.float32) for i, w in enumerate(bi.get_weights())]
    init = Bidirectional(LSTM(4), weights=weights)
    init(np.zeros((1, 2, 3)))
    for a, b in zip(init.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_bidirectional_config_round_trip_and_backward_layer():
    bi = Bidirectional(GRU(3, return_sequences=True, dropout=0.1), merge_mode="ave")
    config = bi.get_config()
    clone = layers.get({"class_name": "Bidirectional", "config": config})
    assert clone.get_config() == config and clone.merge_mode == "ave"
    assert clone.forward_layer.name == bi.forward_layer.name
    custom = Bidirectional(LSTM(3, return_sequences=True),
                           backward_layer=LSTM(3, activation="relu", return_sequences=True, go_backwards=True))
    assert custom.backward_layer.activation.__name__ == "relu"
    config = custom.get_config()
    assert Bidirectional.from_config(config).backward_layer.activation.__name__ == "relu"


def test_bidirectional_errors():
    with pytest.raises(ValueError, match="different `go_backwards`"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="'merge_mode' parameter of Bidirectional"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="'layer' parameter of Bidirectional"):
        Bidirectional("lstm")


def test_bidirectional_trainable_flag_reaches_inner_layers():
    bi = Bidirectional(LSTM(2), trainable=False)
    bi(np.zeros((1, 2, 3)))
    assert not bi.forward_layer.trainable and bi.trainable_weights == []
    bi.trainable = True
    assert bi.backward_layer.trainable and len(bi.trainable_weights) == 6


# -- TimeDistributed ---------------------------------------------------------------------
def test_time_distributed_dense_equals_per_timestep(float64):
    x = _x((2, 5, 4))
    td = TimeDistributed(Dense(3, activation="relu"))
    out = td(x)
    inner = td.layer
    expected = np.stack([inner(x[:, t]) for t in range(5)], axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert td.compute_output_shape((None, 5, 4)) == (None, 5, 3)
    assert td.count_params() == inner.count_params() == 15


def test_time_distributed_gradients():
    check_layer_gradients(lambda: TimeDistributed(Dense(3, activation="tanh")), (2, 4, 5))
    check_layer_gradients(lambda: TimeDistributed(Conv1D(2, 3, padding="same")), (2, 3, 5, 2))


def test_time_distributed_fused_logits_backward():
    with floatx_scope("float64"):
        td = TimeDistributed(Dense(3, activation="softmax"))
        x = _x((2, 4, 5))
        td(x)
        assert td.activation.__name__ == "softmax"
        grad_z = np.random.default_rng(2).standard_normal((2, 4, 3))
        analytic_in = td.backward_from_logits(grad_z)
        kernel = td.layer.kernel

        def objective(_=None):
            x2 = x.reshape(-1, 5)
            return float(np.sum(grad_z.reshape(-1, 3) * (x2 @ kernel.value + td.layer.bias.value)))

        np.testing.assert_allclose(kernel.grad, numeric_gradient(objective, kernel.value), rtol=1e-6)
        np.testing.assert_allclose(analytic_in, (grad_z.reshape(-1, 3) @ kernel.value.T).reshape(x.shape))
    assert TimeDistributed(LSTM(2)).activation is None


def test_time_distributed_mask_passes_through_and_errors():
    td = TimeDistributed(Dense(2))
    mask = np.ones((2, 3), dtype=bool)
    assert td.supports_masking and td.compute_mask(None, mask) is mask
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        td(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="'layer' parameter of TimeDistributed"):
        TimeDistributed(Dense)


def test_time_distributed_config_round_trip_and_trainable():
    td = TimeDistributed(Dense(4, activation="relu", kernel_regularizer="l2"), name="td")
    config = td.get_config()
    clone = layers.get({"class_name": "TimeDistributed", "config": config})
    assert isinstance(clone.layer, Dense) and clone.get_config() == config
    td(np.zeros((1, 2, 3)))
    assert td.weights[0].regularizer is not None
    td.trainable = False
    assert td.trainable_weights == [] and not td.layer.trainable
