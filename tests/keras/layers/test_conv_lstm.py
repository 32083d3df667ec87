"""ConvLSTM1D/2D/3D: forward against a naive per-timestep reference (loops over output
positions), float64 gradient checks, Keras weight layout, config, masks, states, training."""

import json

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, optimizers, utils
from automl.keras.layers import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, Layer
from automl.testing import check_layer_gradients, floatx_scope, numeric_gradient

CLASSES = {1: ConvLSTM1D, 2: ConvLSTM2D, 3: ConvLSTM3D}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _naive_conv(x, w, strides, padding, dilation):
    """Direct convolution of x (N, *S, C) with w (*k, C, F): a loop over output positions."""
    rank = x.ndim - 2
    k = w.shape[:rank]
    eff = [(kk - 1) * d + 1 for kk, d in zip(k, dilation)]
    if padding == "same":
        out = [-(-s // st) for s, st in zip(x.shape[1:-1], strides)]
        pads = [max((o - 1) * st + e - s, 0) for o, st, e, s in zip(out, strides, eff, x.shape[1:-1])]
        x = np.pad(x, [(0, 0)] + [(p // 2, p - p // 2) for p in pads] + [(0, 0)])
    out = [(s - e) // st + 1 for s, e, st in zip(x.shape[1:-1], eff, strides)]
    y = np.zeros((x.shape[0], *out, w.shape[-1]))
    for pos in np.ndindex(*out):
        for tap in np.ndindex(*k):
            idx = tuple(p * st + t * d for p, st, t, d in zip(pos, strides, tap, dilation))
            y[(slice(None), *pos)] += x[(slice(None), *idx)] @ w[tap]
    return y


def reference(layer, x, initial_state=None, masks=None, rec_masks=None):
    """Keras's ConvLSTM cell, one timestep at a time (gates i, f, c, o; with dropout, one
    input mask and one state mask per gate)."""
    w, u, b = layer.get_weights()
    f = layer.filters
    ones = (1,) * layer.rank
    seq = x[:, ::-1] if layer.go_backwards else x
    h = c = None
    outs = []
    for t in range(seq.shape[1]):
        if masks is None:
            zx = _naive_conv(seq[:, t], w, layer.strides, layer.padding, layer.dilation_rate) + b
        else:
            zx = np.concatenate([_naive_conv(seq[:, t] * masks[g], w[..., g * f:(g + 1) * f], layer.strides,
                                             layer.padding, layer.dilation_rate) for g in range(4)], -1) + b
        if h is None:
            h = np.zeros(zx.shape[:-1] + (f,)) if initial_state is None else initial_state[0]
            c = np.zeros_like(h) if initial_state is None else initial_state[1]
        if rec_masks is None:
            z = zx + _naive_conv(h, u, ones, "same", ones)
        else:
            z = zx + np.concatenate([_naive_conv(h * rec_masks[g], u[..., g * f:(g + 1) * f], ones, "same",
                                                 ones) for g in range(4)], -1)
        i, fg = _sigmoid(z[..., :f]), _sigmoid(z[..., f:2 * f])
        g, o = np.tanh(z[..., 2 * f:3 * f]), _sigmoid(z[..., 3 * f:])
        c = fg * c + i * g
        h = o * np.tanh(c)
        outs.append(h)
    out = np.stack(outs, axis=1) if layer.return_sequences else h
    return [out, h, c] if layer.return_state else out


SHAPES = {1: (2, 3, 7, 2), 2: (2, 3, 5, 4, 2), 3: (1, 2, 4, 3, 3, 2)}


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("options", [
    {},
    {"padding": "same", "return_sequences": True},
    {"strides": 2, "go_backwards": True, "return_state": True},
    {"dilation_rate": 2, "padding": "same"},
])
def test_forward_matches_reference(float64, rank, options):
    x = np.random.default_rng(0).standard_normal(SHAPES[rank])
    layer = CLASSES[rank](3, 2, bias_initializer="random_normal", **options)
    out = layer(x)
    expected = reference(layer, x)
    if layer.return_state:
        for a, b in zip(out, expected):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_compute_output_shape_matches_the_call(float64, rank):
    x = np.zeros(SHAPES[rank])
    for options in ({}, {"padding": "same", "strides": 2, "return_sequences": True}, {"return_state": True}):
        layer = CLASSES[rank](3, 2, **options)
        out = layer(x)
        shapes = layer.compute_output_shape((None, *x.shape[1:]))
        outs, shapes = (out, shapes) if layer.return_state else ([out], [shapes])
        for o, s in zip(outs, shapes):
            assert o.shape[1:] == tuple(s[1:])


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("options", [
    {},
    {"padding": "same", "return_sequences": True},
    {"strides": 2, "go_backwards": True, "return_sequences": True},
    {"dilation_rate": 2, "padding": "same", "activation": "gelu", "recurrent_activation": "hard_sigmoid"},
])
def test_gradients(rank, options):
    errors = check_layer_gradients(
        lambda: CLASSES[rank](2, 2, bias_initializer="random_normal", **options), SHAPES[rank])
    assert len(errors) == 4  # inputs, kernel, recurrent_kernel, bias


def test_gradients_with_many_channels():
    # > 4 channels and filters: the other patch-matrix and col2im layouts of the conv kernels.
    check_layer_gradients(lambda: ConvLSTM2D(5, 3, padding="same", return_sequences=True),
                          (1, 2, 4, 4, 6))


class _Probe(Layer):
    """Calls the wrapped layer with fixed extra call arguments (mask, initial_state)."""

    def __init__(self, inner, **call_kwargs):
        super().__init__()
        self.inner, self.call_kwargs = inner, call_kwargs

    def build(self, input_shape):
        self.inner._maybe_build(input_shape)
        self._variables = self.inner.weights

    def call(self, inputs, training=False):
        if "seed_rng" in self.call_kwargs:
            self.inner._rng = np.random.default_rng(7)
        kwargs = {k: v for k, v in self.call_kwargs.items() if k != "seed_rng"}
        out = self.inner.call(inputs, training=training, **kwargs)
        return out

    def backward(self, grad):
        return self.inner.backward(grad)


def test_gradients_with_mask():
    mask = np.array([[1, 0, 1], [0, 1, 1]], dtype=bool)
    check_layer_gradients(lambda: _Probe(ConvLSTM2D(2, 2, return_sequences=True), mask=mask),
                          (2, 3, 4, 4, 2))


@pytest.mark.parametrize("filters, shape", [(3, (2, 3, 6, 2)), (5, (1, 2, 5, 6))])  # few / many channels
def test_gradients_with_dropout(filters, shape):
    check_layer_gradients(
        lambda: _Probe(ConvLSTM1D(filters, 3, padding="same", dropout=0.3, recurrent_dropout=0.4,
                                  return_sequences=True), seed_rng=True),
        shape)


def test_dropout_draws_one_mask_per_gate_as_keras(float64):
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 5, 2))
    layer = ConvLSTM2D(3, 3, padding="same", dropout=0.4, recurrent_dropout=0.3, return_sequences=True)
    layer(x)
    layer._rng = np.random.default_rng(11)
    out = layer(x, training=True)
    # Redraw the masks the call used: four for the inputs, then four for the state, in the
    # internal gate order (i, f, o, c); Keras's gate g (order i, f, c, o) is internal [0, 1, 3, 2][g].
    layer._rng = np.random.default_rng(11)
    dtype = np.dtype("float64")
    drawn = [layer._dropout_mask((2, 5, 5, 2), 0.4, dtype) for _ in range(4)]
    rec = [layer._dropout_mask((2 * 25, 3), 0.3, dtype).reshape(2, 5, 5, 3) for _ in range(4)]
    order = [0, 1, 3, 2]
    expected = reference(layer, x, masks=[drawn[order[g]] for g in range(4)],
                         rec_masks=[rec[order[g]] for g in range(4)])
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert not np.allclose(out, layer(x))  # inference: no dropout
    assert len({m.tobytes() for m in drawn}) == 4  # the gates' masks differ


def test_gradients_of_initial_and_final_states():
    with floatx_scope("float64"):
        rng = np.random.default_rng(3)
        layer = ConvLSTM2D(2, 3, padding="same", return_sequences=True, return_state=True)
        x = rng.standard_normal((2, 3, 4, 4, 2))
        states = [rng.standard_normal((2, 4, 4, 2)) for _ in range(2)]
        out = layer(x, initial_state=states)
        np.testing.assert_allclose(out[0], reference(layer, x, states)[0], rtol=1e-10)
        ups = [rng.standard_normal(o.shape) for o in out]

        def objective(_=None):
            values = layer.call([x, *states], training=True)
            return float(sum(np.sum(u * v) for u, v in zip(ups, values)))

        objective()
        grads = layer.backward([u.copy() for u in ups])
        np.testing.assert_allclose(grads[0], numeric_gradient(objective, x), rtol=1e-5, atol=1e-7)
        for g, s in zip(grads[1:], states):
            np.testing.assert_allclose(g, numeric_gradient(objective, s), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_keras_weight_layout(rank):
    layer = CLASSES[rank](4, 3)
    layer(np.zeros(SHAPES[rank]))
    k = (3,) * rank
    assert [w.shape for w in layer.get_weights()] == [(*k, 2, 16), (*k, 4, 16), (16,)]
    assert [v.name.split("/")[-1] for v in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    np.testing.assert_array_equal(layer.get_weights()[2], np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    assert layer.count_params() == 3 ** rank * 2 * 16 + 3 ** rank * 4 * 16 + 16


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_config_round_trip(rank):
    layer = CLASSES[rank](4, 3, strides=1, padding="same", dilation_rate=2, activation="relu",
                          recurrent_activation="hard_sigmoid", unit_forget_bias=False, dropout=0.1,
                          recurrent_dropout=0.2, seed=3, return_sequences=True, return_state=True,
                          go_backwards=True, kernel_regularizer="l2", name=f"clstm{rank}")
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    for key in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                "unit_forget_bias", "return_sequences", "stateful"):
        assert key in config
    assert config["kernel_size"] == [3] * rank
    clone = CLASSES[rank].from_config(config)
    assert clone.get_config() == config
    assert layers.get({"class_name": f"ConvLSTM{rank}D", "config": config}).get_config() == config


def test_keras_config_with_unroll_and_zero_output_for_mask_loads(float64):
    # Keras 3 writes the RNN base options into a ConvLSTM's config.
    config = ConvLSTM2D(2, 3).get_config()
    assert config["unroll"] is False and config["zero_output_for_mask"] is False
    layer = ConvLSTM2D.from_config({**config, "zero_output_for_mask": True, "return_sequences": True})
    mask = np.array([[1, 0, 1]], dtype=bool)
    out = layer(np.ones((1, 3, 4, 4, 1)), mask=mask)
    assert not out[:, 1].any() and out[:, 0].any()


def test_invalid_arguments():
    with pytest.raises(ValueError, match="'filters' parameter of ConvLSTM2D"):
        ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="'kernel_size' parameter of ConvLSTM2D"):
        ConvLSTM2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="'strides' and 'dilation_rate' parameters of ConvLSTM1D"):
        ConvLSTM1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="'padding' parameter of ConvLSTM3D"):
        ConvLSTM3D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="'data_format' parameter of ConvLSTM2D"):
        ConvLSTM2D(2, 3, data_format="channels_middle")
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, time, height, width, channels\)"):
        ConvLSTM2D(2, 3)(np.zeros((2, 3, 4, 4)))


def test_stateful_carries_state(float64):
    x = np.random.default_rng(1).standard_normal((2, 6, 5, 5, 1))
    full = ConvLSTM2D(2, 3, padding="same")
    expected = full(x)
    layer = ConvLSTM2D(2, 3, padding="same", stateful=True, batch_size=2)
    layer(x[:, :3])
    layer.set_weights(full.get_weights())
    layer.reset_state()
    layer(x[:, :3])
    np.testing.assert_allclose(layer(x[:, 3:]), expected, rtol=1e-12)
    assert layer.states[0].shape == (2, 5, 5, 2)


def test_a_small_model_trains():
    # A bright dot moves right or left over 4 frames: only the dynamics tell which.
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n, t, size = 64, 4, 6
    x = np.zeros((n, t, size, size, 1), dtype="float32")
    y = rng.integers(0, 2, n)
    for i in range(n):
        row, start = rng.integers(0, size), rng.integers(0, size - 3)
        for step in range(t):
            x[i, step, row, start + step if y[i] else start + 3 - step, 0] = 1.0
    model = Sequential([Input((t, size, size, 1)), ConvLSTM2D(4, 3, padding="same"),
                        layers.GlobalMaxPooling2D(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.2 * before
    assert history.history["accuracy"][-1] > 0.95


def test_functional_model_saves_and_loads(tmp_path):
    from automl.keras.saving import load_model

    inputs = Input((3, 6, 2))
    x = ConvLSTM1D(3, 3, padding="same", return_sequences=True)(inputs)
    outputs = ConvLSTM1D(2, 2)(x)
    model = Model(inputs, outputs)
    data = np.random.default_rng(2).standard_normal((4, 3, 6, 2)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6)


def test_bidirectional_gradients():
    check_layer_gradients(lambda: layers.Bidirectional(ConvLSTM1D(2, 2, return_sequences=True)), (2, 3, 5, 2))
