"""SimpleRNN, LSTM, GRU: forward values against per-timestep NumPy loops, BPTT gradient
checks in float64, Keras weight layout and parameter counts, masks, dropout, config."""

import numpy as np
import pytest

from automl.keras import layers
from automl.keras.layers import Layer
from automl.keras.layers._recurrent import GRU, LSTM, SimpleRNN
from automl.testing import check_layer_gradients, floatx_scope, numeric_gradient

from .helpers import Probe


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# -- independent references: one timestep at a time, Keras gate layouts ----------------
def _cell_simple(layer, x_t, states):
    w, u, b = layer.get_weights()
    h = np.tanh(x_t @ w + states[0] @ u + b)
    return h, [h]


def _cell_lstm(layer, x_t, states):
    w, u, b = layer.get_weights()
    h_prev, c_prev = states
    n = layer.units
    z = x_t @ w + h_prev @ u + b
    i, f = _sigmoid(z[:, :n]), _sigmoid(z[:, n:2 * n])
    g, o = np.tanh(z[:, 2 * n:3 * n]), _sigmoid(z[:, 3 * n:])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, [h, c]


def _cell_gru(layer, x_t, states):
    w, u, b = layer.get_weights()
    h_prev = states[0]
    n = layer.units
    if layer.reset_after:
        xz = x_t @ w + b[0]
        hz = h_prev @ u + b[1]
        z = _sigmoid(xz[:, :n] + hz[:, :n])
        r = _sigmoid(xz[:, n:2 * n] + hz[:, n:2 * n])
        hh = np.tanh(xz[:, 2 * n:] + r * hz[:, 2 * n:])
    else:
        xz = x_t @ w + b
        z = _sigmoid(xz[:, :n] + h_prev @ u[:, :n])
        r = _sigmoid(xz[:, n:2 * n] + h_prev @ u[:, n:2 * n])
        hh = np.tanh(xz[:, 2 * n:] + (r * h_prev) @ u[:, 2 * n:])
    h = z * h_prev + (1 - z) * hh
    return h, [h]


_CELLS = {SimpleRNN: _cell_simple, LSTM: _cell_lstm, GRU: _cell_gru}


def reference(layer, x, mask=None, initial_state=None, zero_output=False):
    """Keras semantics: go_backwards processes and returns the reversed sequence; a masked
    step keeps the states and outputs the previous h (zeros with zero_output)."""
    n, t_steps, _ = x.shape
    states = [np.zeros((n, layer.units)) for _ in range(2 if isinstance(layer, LSTM) else 1)]
    if initial_state is not None:
        states = [np.array(s, dtype=float) for s in initial_state]
    order = range(t_steps - 1, -1, -1) if layer.go_backwards else range(t_steps)
    outputs = []
    for t in order:
        h, new_states = _CELLS[type(layer)](layer, x[:, t], states)
        if mask is not None:
            m = mask[:, t][:, None]
            new_states = [np.where(m, s_new, s_old) for s_new, s_old in zip(new_states, states)]
            h = np.where(m, h, 0.0 if zero_output else states[0])
        states = new_states
        outputs.append(h)
    seq = np.stack(outputs, axis=1)
    out = seq if layer.return_sequences else seq[:, -1]
    return [out, *states] if layer.return_state else out


CASES = [
    (SimpleRNN, {}),
    (LSTM, {}),
    (GRU, {}),
    (GRU, {"reset_after": False}),
]


def _make(cls, kw, units=3, **extra):
    return cls(units, **kw, **extra)


@pytest.fixture
def x64():
    return np.random.default_rng(1).standard_normal((3, 5, 4))


@pytest.mark.parametrize("cls,kw", CASES)
@pytest.mark.parametrize("options", [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
    {"return_state": True, "return_sequences": True},
])
def test_forward_matches_reference(float64, x64, cls, kw, options):
    layer = _make(cls, kw, bias_initializer="random_normal", **options)
    out = layer(x64)
    expected = reference(layer, x64)
    if layer.return_state:
        assert len(out) == len(expected) == (3 if cls is LSTM else 2)
        for a, b in zip(out, expected):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls,kw", CASES)
@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_forward_matches_reference(float64, x64, cls, kw, zero_output):
    mask = np.array([[1, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], dtype=bool)
    for go_backwards in (False, True):
        layer = _make(cls, kw, return_sequences=True, return_state=True, go_backwards=go_backwards,
                      zero_output_for_mask=zero_output)
        out = layer(x64, mask=mask)
        expected = reference(layer, x64, mask=mask, zero_output=zero_output)
        for a, b in zip(out, expected):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls,kw", CASES)
def test_initial_state_matches_reference(float64, x64, cls, kw):
    layer = _make(cls, kw, return_sequences=True)
    rng = np.random.default_rng(2)
    states = [rng.standard_normal((3, 3)) for _ in range(2 if cls is LSTM else 1)]
    out = layer(x64, initial_state=states)
    np.testing.assert_allclose(out, reference(layer, x64, initial_state=states), rtol=1e-10, atol=1e-12)
    # the same through the list form [x, *states]
    np.testing.assert_allclose(layer([x64, *states]), out)


@pytest.mark.parametrize("cls,kw", CASES)
@pytest.mark.parametrize("options", [
    {},
    {"return_sequences": True},
    {"go_backwards": True, "return_sequences": True},
    {"go_backwards": True},
])
def test_gradients(cls, kw, options):
    errors = check_layer_gradients(lambda: _make(cls, kw, bias_initializer="random_normal", **options),
                                   (2, 4, 3))
    assert len(errors) == 4  # inputs, kernel, recurrent_kernel, bias


@pytest.mark.parametrize("cls,kw", CASES)
def test_gradients_generic_activations(cls, kw):
    # gelu needs its input in backward (pre-activations kept); hard_sigmoid is piecewise linear.
    acts = {"activation": "gelu"}
    if cls is not SimpleRNN:
        acts["recurrent_activation"] = "hard_sigmoid"
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=bool)
    check_layer_gradients(lambda: Probe(_make(cls, kw, return_sequences=True, **acts), mask=mask), (2, 4, 3))


def test_generic_activations_forward_matches_fast_path(float64, x64):
    fast = LSTM(3, return_sequences=True)
    fast(x64)
    generic = LSTM(3, return_sequences=True, activation=type(fast.activation)(),
                   recurrent_activation=type(fast.recurrent_activation)())
    generic(x64)
    generic.set_weights(fast.get_weights())
    assert fast._tanh_sigmoid and not generic._tanh_sigmoid
    np.testing.assert_allclose(generic(x64), fast(x64), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls,kw", CASES)
@pytest.mark.parametrize("options", [
    {"return_sequences": True},
    {},
    {"return_sequences": True, "go_backwards": True, "zero_output_for_mask": True},
    {"zero_output_for_mask": True},
])
def test_gradients_with_mask(cls, kw, options):
    # Left padding, right padding, a hole and a fully masked sample.
    mask = np.array([[0, 1, 1, 1], [1, 1, 0, 0], [1, 0, 1, 1], [0, 0, 0, 0]], dtype=bool)
    check_layer_gradients(lambda: Probe(_make(cls, kw, **options), mask=mask), (4, 4, 3))


@pytest.mark.parametrize("cls,kw", CASES)
def test_gradients_return_state_and_initial_state(cls, kw):
    with floatx_scope("float64"):
        rng = np.random.default_rng(3)
        states = [rng.standard_normal((2, 3)) for _ in range(2 if cls is LSTM else 1)]
        mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=bool)
        layer = _make(cls, kw, return_sequences=True, return_state=True)
        probe = Probe(layer, mask=mask, initial_state=states)
        x = rng.standard_normal((2, 4, 3))
        out = probe(x)
        upstream = rng.standard_normal(out.shape)
        upstream[:, 12:15] = 0.0  # the final h gets no gradient: passed as None below

        def objective(_=None):
            return float(np.sum(upstream * probe.call(x)))

        objective()
        pieces = [upstream[:, :12].reshape(2, 4, 3), None] + [upstream[:, 15:18]] * (len(states) - 1)
        grads = layer.backward(pieces)
        assert isinstance(grads, list) and len(grads) == 1 + len(states)
        np.testing.assert_allclose(grads[0], numeric_gradient(objective, x), rtol=1e-5, atol=1e-7)
        for analytic, state in zip(grads[1:], states):
            np.testing.assert_allclose(analytic, numeric_gradient(objective, state), rtol=1e-5, atol=1e-7)
        analytic = {v.name: v.grad.copy() for v in layer.trainable_weights}
        for var in layer.trainable_weights:
            np.testing.assert_allclose(analytic[var.name], numeric_gradient(objective, var.value),
                                       rtol=1e-5, atol=1e-7)


class _FixedDropout(Layer):
    """Re-seeds the wrapped layer's dropout generator before every call (deterministic masks)."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def build(self, input_shape):
        self.inner._maybe_build(input_shape)
        self._variables = self.inner.weights

    def call(self, inputs, training=False):
        self.inner._rng = np.random.default_rng(7)
        return self.inner.call(inputs, training)

    def backward(self, grad):
        return self.inner.backward(grad)


@pytest.mark.parametrize("cls,kw", CASES)
def test_gradients_with_dropout(cls, kw):
    check_layer_gradients(
        lambda: _FixedDropout(_make(cls, kw, dropout=0.3, recurrent_dropout=0.4, return_sequences=True)),
        (3, 4, 3),
    )


@pytest.mark.parametrize("cls,kw", CASES)
def test_dropout_masks_fixed_over_time_and_seeded(float64, x64, cls, kw):
    layer = _make(cls, kw, dropout=0.5, seed=3, return_sequences=True)
    out = layer(x64, training=True)
    dmask = layer._cache["dmask"]
    assert dmask.shape == (3, 4) and set(np.unique(dmask)) <= {0.0, 2.0}
    # One input mask per sample, the same at every timestep: the reference on x * mask agrees.
    np.testing.assert_allclose(out, reference(layer, x64 * dmask[:, None, :]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer(x64), reference(layer, x64), rtol=1e-10)  # inference: no dropout
    twin = _make(cls, kw, dropout=0.5, seed=3, return_sequences=True)
    twin(x64)
    twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(twin(x64, training=True), out)


def test_recurrent_dropout_changes_training_output_only(float64, x64):
    layer = LSTM(3, recurrent_dropout=0.5, seed=0)
    assert not np.allclose(layer(x64, training=True), reference(layer, x64))
    np.testing.assert_allclose(layer(x64), reference(layer, x64), rtol=1e-10)


@pytest.mark.parametrize("cls,kw,shapes,count", [
    (SimpleRNN, {}, [(16, 8), (8, 8), (8,)], 8 * (16 + 8 + 1)),
    (LSTM, {}, [(16, 32), (8, 32), (32,)], 4 * 8 * (16 + 8 + 1)),
    (GRU, {}, [(16, 24), (8, 24), (2, 24)], 3 * 8 * (16 + 8 + 2)),
    (GRU, {"reset_after": False}, [(16, 24), (8, 24), (24,)], 3 * 8 * (16 + 8 + 1)),
    (LSTM, {"use_bias": False}, [(16, 32), (8, 32)], 4 * 8 * (16 + 8)),
])
def test_keras_weight_layout_and_param_count(cls, kw, shapes, count):
    layer = cls(8, **kw)
    layer(np.zeros((1, 5, 16)))
    assert [w.shape for w in layer.get_weights()] == shapes
    assert [v.name.split("/")[-1] for v in layer.weights][:2] == ["kernel", "recurrent_kernel"]
    assert layer.count_params() == count


def test_lstm_parameter_count_as_keras_summary():
    # keras.layers.LSTM(16) on 16 features: 2,112 parameters.
    layer = LSTM(16)
    layer(np.zeros((1, 3, 16)))
    assert layer.count_params() == 2112


def test_lstm_unit_forget_bias_and_initializers():
    layer = LSTM(4)
    layer(np.zeros((1, 2, 3)))
    kernel, recurrent, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    assert np.allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)  # orthogonal rows
    layer = LSTM(4, unit_forget_bias=False, bias_initializer="ones")
    layer(np.zeros((1, 2, 3)))
    np.testing.assert_array_equal(layer.get_weights()[2], np.ones(16))


def test_weights_transfer_gives_identical_outputs(x64):
    a, b = LSTM(3, return_sequences=True), LSTM(3, return_sequences=True)
    a(x64)
    b(x64)
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a(x64), b(x64))


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_dtype_follows_floatx_and_default_is_float32(cls):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    assert cls(3)(x).dtype == np.float32
    with floatx_scope("float64"):
        assert cls(3)(x).dtype == np.float64


@pytest.mark.parametrize("cls,kw", CASES + [(LSTM, {"return_state": True, "go_backwards": True,
                                                    "dropout": 0.25, "seed": 4, "unit_forget_bias": False}),
                                          (GRU, {"kernel_regularizer": "l2", "recurrent_dropout": 0.1}),
                                          (SimpleRNN, {"activation": "relu", "return_sequences": True})])
def test_config_round_trip(cls, kw):
    layer = cls(5, **kw)
    config = layer.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert type(layers.get({"class_name": cls.__name__, "config": config})) is cls
    for key in ("units", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                "dropout", "recurrent_dropout", "seed", "kernel_initializer", "recurrent_initializer"):
        assert key in config
    if cls is GRU:
        assert config["reset_after"] is kw.get("reset_after", True)
    if cls is LSTM:
        assert "unit_forget_bias" in config


def test_registered_names_resolve():
    for name in ("SimpleRNN", "LSTM", "GRU"):
        assert layers.get({"class_name": name, "config": {"units": 2}}).units == 2


def test_keras_positional_order():
    layer = LSTM(4, "relu", "hard_sigmoid", False)
    assert layer.activation.__name__ == "relu" and layer.recurrent_activation.__name__ == "hard_sigmoid"
    assert layer.use_bias is False
    assert GRU(3).reset_after is True
    assert SimpleRNN(3).activation.__name__ == "tanh"


def test_invalid_arguments():
    with pytest.raises(ValueError, match="'units' parameter of LSTM"):
        LSTM(0)
    with pytest.raises(ValueError, match="'dropout' parameter of GRU"):
        GRU(3, dropout=1.5)
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\)"):
        LSTM(3)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="expects 2 initial state"):
        LSTM(3)(np.zeros((2, 3, 1)), initial_state=[np.zeros((2, 3))])


def test_compute_output_shape_and_mask():
    layer = LSTM(4, return_sequences=True, return_state=True)
    assert layer.compute_output_shape((None, 7, 3)) == [(None, 7, 4), (None, 4), (None, 4)]
    mask = np.ones((2, 7), dtype=bool)
    assert layer.compute_mask(None, mask)[0] is mask
    assert GRU(4).compute_mask(None, mask) is None
    assert GRU(4, return_state=True).compute_output_shape((None, 7, 3)) == [(None, 4), (None, 4)]


def test_activity_regularizer_penalty_and_gradient():
    check_layer_gradients(lambda: GRU(3, return_sequences=True, activity_regularizer="l2"), (2, 3, 2))
    layer = LSTM(3, activity_regularizer="l2")
    out = layer(np.ones((2, 3, 2)))
    assert layer.activity_penalty == pytest.approx(0.01 * float(np.sum(out ** 2)), rel=1e-5)


def test_no_input_gradient_when_not_needed():
    layer = GRU(3)
    layer(np.ones((2, 3, 2)))
    layer._input_grad_needed = False
    assert layer.backward(np.ones((2, 3))) is None
    assert np.any(layer.kernel.grad != 0)
