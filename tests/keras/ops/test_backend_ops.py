"""Keras-2 backend functions (``K.*``) on the ops: values, shapes and traced gradients."""

import numpy as np
import pytest

from automl.keras import backend as K
from automl.keras import ops
from automl.testing import numeric_gradient

RNG = np.random.default_rng(0)


def test_batch_dot_matches_keras_2_shapes():
    x, y = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))
    np.testing.assert_allclose(K.batch_dot(x, y), x @ y)
    a, b = RNG.standard_normal((2, 4)), RNG.standard_normal((2, 4))
    np.testing.assert_allclose(K.batch_dot(a, b), np.sum(a * b, axis=1, keepdims=True))
    np.testing.assert_allclose(K.batch_dot(x, x, axes=(2, 2)), x @ np.swapaxes(x, 1, 2))


def test_keras_2_defaults():
    x = RNG.standard_normal((2, 3))
    assert K.concatenate([x, x]).shape == (2, 6)
    assert K.expand_dims(x).shape == (2, 3, 1)
    np.testing.assert_array_equal(K.argmax(x), np.argmax(x, axis=-1))
    np.testing.assert_allclose(K.relu(x, alpha=0.1, max_value=0.5),
                               np.minimum(np.where(x > 0, x, 0.1 * x), 0.5))
    np.testing.assert_allclose(K.l2_normalize(x, axis=1), x / np.linalg.norm(x, axis=1, keepdims=True))
    assert K.int_shape(K.batch_flatten(np.ones((2, 3, 4)))) == (2, 12)
    assert K.arange(3).dtype == np.int32


@pytest.mark.parametrize("fn", [
    lambda x: K.sum(K.square(K.l2_normalize(x, axis=-1)) * K.softmax(x), axis=-1),
    lambda x: K.mean(K.batch_dot(K.reshape(x, (4, 3, 1)), K.reshape(x, (4, 1, 3))), axis=(1, 2)),
    lambda x: K.logsumexp(K.concatenate([x, K.reverse(x, 1)]), axis=-1),
    lambda x: K.categorical_crossentropy(K.softmax(np.ones((4, 3))), K.softmax(x)),
])
def test_backend_functions_are_traced(fn):
    x = RNG.standard_normal((4, 3))
    leaf = ops.Tensor(x)
    analytic = ops.gradient(fn(leaf), leaf)
    numeric = numeric_gradient(lambda _=None: float(np.sum(fn(x))), x)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)
