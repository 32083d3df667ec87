"""The built-in layers' fused kernels as registry ops: one mechanism for layers and traced code.

The registry-wide tests (test_registry.py) check each kernel's VJP against central
differences and a NumPy reference; these tests check that a layer and a custom layer
written with the same kernel op (or with ``ops.nn.conv``) compute the same values and
the same weight gradients, in one training step of a model.
"""

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, ops
from automl.testing import floatx_scope


@pytest.fixture
def float64():
    with floatx_scope("float64"):
        yield


def test_layer_kernels_are_fused_registry_ops():
    for name in ("kernels.dense", "kernels.conv", "kernels.dropout", "conv"):
        entry = ops.REGISTRY[name]
        assert entry.fwd is not None and entry.bwd is not None and entry.differentiable, name


def test_traced_kernel_keeps_its_forward_state(monkeypatch):
    """On traced tensors the backward uses what the forward saved (no second im2col)."""
    from automl.keras.ops import _im2col

    calls = []
    original = _im2col.extract_patches
    monkeypatch.setattr("automl.keras.ops.kernels.extract_patches",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    x = ops.Tensor(np.random.default_rng(0).standard_normal((2, 5, 5, 3)))
    k = ops.Tensor(np.random.default_rng(1).standard_normal((3, 3, 3, 4)))
    ops.gradient(ops.sum(ops.nn.conv(x, k, padding="same")), [x, k])
    assert len(calls) == 1


class _OpsDense(layers.Layer):
    """A Dense written with the kernel op, in a user-defined (traced) layer."""

    def __init__(self, units, activation=None):
        super().__init__()
        self.units, self.activation = units, activation

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

    def call(self, inputs):
        return ops.kernels.dense(inputs, self.w, self.b, self.activation)


class _OpsConv(layers.Layer):
    """A Conv2D written with ``ops.nn.conv`` plus a bias."""

    def __init__(self, filters, groups=1):
        super().__init__()
        self.filters, self.groups = filters, groups

    def build(self, input_shape):
        shape = (3, 3, input_shape[-1] // self.groups, self.filters)
        self.k = self.add_weight(shape=shape, initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.filters,), initializer="random_normal")

    def call(self, inputs):
        return ops.nn.relu(ops.nn.conv(inputs, self.k, padding="same") + self.b)


def _one_step_gradients(model, x, y):
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    after = model.get_weights()
    lr = float(model.optimizer.learning_rate)
    return [(b - a) / lr for b, a in zip(before, after)]


@pytest.mark.parametrize("activation", ["tanh", "relu", None])
def test_custom_dense_on_the_kernel_trains_as_dense(float64, activation):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    custom = Sequential([Input((4,)), _OpsDense(3, activation)])
    builtin = Sequential([Input((4,)), layers.Dense(3, activation=activation)])
    builtin.set_weights(custom.get_weights())
    np.testing.assert_allclose(custom.predict(x, verbose=0), builtin.predict(x, verbose=0), atol=1e-12)
    for g_custom, g_builtin in zip(_one_step_gradients(custom, x, y), _one_step_gradients(builtin, x, y)):
        np.testing.assert_allclose(g_custom, g_builtin, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("groups", [1, 2])
def test_custom_conv_on_ops_trains_as_conv2d(float64, groups):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((3, 6, 6, 4)), rng.standard_normal((3, 6, 6, 2))
    custom = Sequential([Input((6, 6, 4)), _OpsConv(2, groups)])
    builtin = Sequential([Input((6, 6, 4)), layers.Conv2D(2, 3, padding="same", groups=groups,
                                                           activation="relu")])
    builtin.set_weights(custom.get_weights())
    np.testing.assert_allclose(custom.predict(x, verbose=0), builtin.predict(x, verbose=0), atol=1e-12)
    for g_custom, g_builtin in zip(_one_step_gradients(custom, x, y), _one_step_gradients(builtin, x, y)):
        np.testing.assert_allclose(g_custom, g_builtin, rtol=1e-7, atol=1e-10)


def test_kernel_op_on_symbolic_tensors_saves_and_loads(float64, tmp_path):
    from automl.keras.models import load_model

    inputs = Input((5, 5, 2))
    k = np.random.default_rng(2).standard_normal((3, 3, 2, 3))
    outputs = ops.kernels.conv(inputs, k, np.ones(3), padding="same", activation="relu")
    assert outputs.shape == (None, 5, 5, 3)
    model = Model(inputs, outputs)
    x = np.random.default_rng(3).standard_normal((2, 5, 5, 2))
    expected = np.maximum(ops.nn.conv(x, k, padding="same") + 1.0, 0.0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-12)
    path = tmp_path / "conv.keras"
    model.save(path)
    np.testing.assert_allclose(load_model(path).predict(x, verbose=0), expected, atol=1e-12)


def test_grouped_conv_op_matches_per_group_convolutions(float64):
    rng = np.random.default_rng(4)
    x, k = rng.standard_normal((2, 6, 7, 6)), rng.standard_normal((3, 2, 2, 6))  # 3 groups
    got = ops.nn.conv(x, k, strides=(2, 1))
    parts = [ops.nn.conv(x[..., 2 * g:2 * g + 2], k[..., 2 * g:2 * g + 2], strides=(2, 1)) for g in range(3)]
    np.testing.assert_allclose(got, np.concatenate(parts, axis=-1), atol=1e-12)
    with pytest.raises(ValueError, match="multiple of the kernel's input channels"):
        ops.nn.conv(x, rng.standard_normal((3, 3, 4, 2)))


def test_linalg_jvp_is_the_jacobian_times_the_tangent(float64):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    ta, tb = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))

    def fun(x, y):
        return ops.tanh(ops.matmul(x, y)), ops.sum(x)

    (out, total), (t_out, t_total), aux = ops.linalg.jvp(
        lambda x, y: (fun(x, y), "aux"), (a, b), (ta, tb), has_aux=True)
    eps = 1e-6
    plus = np.tanh((a + eps * ta) @ (b + eps * tb))
    minus = np.tanh((a - eps * ta) @ (b - eps * tb))
    np.testing.assert_allclose(out, np.tanh(a @ b))
    np.testing.assert_allclose(t_out, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(t_total, ta.sum())
    assert aux == "aux"
    with pytest.raises(ValueError, match="as many tangents"):
        ops.linalg.jvp(ops.tanh, (a,), ())
