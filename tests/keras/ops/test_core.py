"""Core ops: control flow traced through the ops it calls, custom gradients, casts, tracing."""

import numpy as np
import pytest

from automl.keras import ops
from automl.testing import numeric_gradient

RNG = np.random.default_rng(0)


def _check(fn, x):
    leaf = ops.Tensor(x)
    analytic = ops.gradient(fn(leaf), leaf)
    numeric = numeric_gradient(lambda _=None: float(np.sum(ops.value_of(fn(x)))), x)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fn", [
    lambda x: ops.scan(lambda c, row: (c * row + 1.0, ops.sum(c)), ops.ones(3, "float64"), x)[0],
    lambda x: ops.scan(lambda c, row: (c + row, c * row), ops.zeros(3, "float64"), x, reverse=True)[1],
    lambda x: ops.fori_loop(0, 3, lambda i, v: ops.sin(v) * (i + 1.0), x),
    lambda x: ops.while_loop(lambda v, k: k < 3, lambda v, k: (v * v * 0.5, k + 1), (x, 0))[0],
    lambda x: ops.cond(True, lambda: ops.exp(x), lambda: x),
    lambda x: ops.switch(1, [ops.sin, ops.cos], x),
    lambda x: ops.vectorized_map(lambda row: ops.sum(row * row), x),
    lambda x: ops.map(lambda row: ops.softmax(row), x),
    lambda x: ops.associative_scan(lambda a, b: a * b, x, axis=1),
    lambda x: ops.cast(x * x, "float64"),
])
def test_control_flow_is_differentiated_through_its_ops(fn):
    _check(fn, RNG.uniform(0.5, 1.5, (4, 3)))


def test_custom_gradient_replaces_the_vjp():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)
        return ops.log(1 + e), lambda g: g * (1 - 1 / (1 + e))

    x = ops.Tensor(np.array([0.0, 100.0]))
    np.testing.assert_allclose(ops.gradient(ops.sum(log1pexp(x)), x), [0.5, 1.0])
    np.testing.assert_allclose(log1pexp(np.array([0.0])), [np.log(2.0)])


def test_integer_results_carry_no_gradient():
    x = ops.Tensor(RNG.standard_normal((3, 4)))
    assert not isinstance(ops.argmax(x, axis=1), ops.Tensor)
    assert isinstance(ops.greater(x, 0), np.ndarray)
    floor = ops.floor(x)
    assert isinstance(floor, ops.Tensor) and not floor.parents  # a constant: zero gradient
    np.testing.assert_array_equal(ops.gradient(ops.sum(floor * 1.0), x), 0)
    np.testing.assert_allclose(ops.gradient(ops.sum(ops.stop_gradient(x) * x), x), x.value)


def test_tensor_operators_reach_the_registered_ops():
    x = ops.Tensor(np.array([[1.2, 2.3], [3.4, 0.6]]))
    out = ((x // 1.0) + x % 1.5 - 2 ** x + (x @ x)[0] + abs(-x)[:, 0:1]).sum()
    grad = ops.gradient(out, x)
    numeric = numeric_gradient(
        lambda _=None: float(((v // 1.0) + v % 1.5 - 2 ** v + (v @ v)[0] + abs(-v)[:, 0:1]).sum()),
        v := np.array([[1.2, 2.3], [3.4, 0.6]]))
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_a_value_used_twice_gets_the_sum_of_its_gradients():
    x = ops.Tensor(np.array([2.0, 3.0]))
    y = ops.multiply(x, x) + ops.sin(x) + x
    np.testing.assert_allclose(ops.gradient(ops.sum(y), x), 2 * x.value + np.cos(x.value) + 1)


def test_gradient_of_several_leaves_and_unused_leaf():
    a, b, c = (ops.Tensor(RNG.standard_normal((2, 2))) for _ in range(3))
    ga, gb, gc = ops.gradient(ops.sum(ops.matmul(a, b)), [a, b, c])
    np.testing.assert_allclose(ga, np.ones((2, 2)) @ b.value.T)
    np.testing.assert_allclose(gb, a.value.T @ np.ones((2, 2)))
    np.testing.assert_array_equal(gc, 0)


def test_tracing_location_names_the_place_in_errors():
    with ops.tracing.location("the call of model 'demo'"):
        with pytest.raises(TypeError, match="model 'demo'.*automl.keras.ops"):
            np.asarray(ops.Tensor(np.ones(2)), dtype=float)
    assert ops.tracing.current_location() is None


def test_sub_namespaces_hold_their_ops():
    assert ops.numpy.matmul is ops.matmul and ops.nn.softmax is ops.softmax
    assert ops.linalg.inv is ops.inv and ops.math.fft is ops.fft and ops.image.resize is ops.resize
    assert ops.core.scan is ops.scan and ops.reduce_mean is ops.mean and ops.abs(-1.0) == 1.0


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="padding"):
        ops.conv(np.ones((1, 4, 1)), np.ones((2, 1, 1)), padding="full")
    with pytest.raises(ValueError, match="real, imag"):
        ops.fft(np.ones(4))
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(np.ones((4, 4, 1)), (2, 2), interpolation="area")


def test_rearrange_matches_explicit_reshapes():
    x = RNG.standard_normal((2, 4, 6, 3))
    out = ops.rearrange(x, "b (h p) (w q) c -> b (h w) (p q c)", p=2, q=3)
    expected = x.reshape(2, 2, 2, 2, 3, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 4, 18)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(ops.rearrange(x, "b ... c -> c b ..."), np.moveaxis(x, -1, 0))
    _check(lambda v: ops.rearrange(v, "(a b) c -> c (b a)", b=2) * np.arange(12.0).reshape(3, 4), x[0, :, :3, 0])
    with pytest.raises(ValueError, match="same axes"):
        ops.rearrange(x, "b h w c -> b h w")
