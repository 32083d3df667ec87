"""GLU (the gated activation): values, gradient, pickling, resolution with parameters (also of threshold)."""

import pickle

import numpy as np
import pytest

from automl.keras import activations
from automl.testing import numeric_gradient


def test_glu_splits_the_axis_in_two():
    x = np.random.default_rng(0).standard_normal((3, 4, 6))
    np.testing.assert_allclose(activations.glu(x), x[..., :3] / (1 + np.exp(-x[..., 3:])))
    np.testing.assert_allclose(activations.glu(x, axis=1), x[:, :2] / (1 + np.exp(-x[:, 2:])))
    with pytest.raises(ValueError, match="even size along axis"):
        activations.glu(np.ones((2, 3)))


@pytest.mark.parametrize("axis", [-1, 1])
def test_glu_gradient(axis):
    act = activations.glu.with_params(axis=axis)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 6))
    upstream = rng.standard_normal(act(x).shape)
    grad = act.backward(upstream.copy(), act.forward(x.copy()), x.copy())
    numeric = numeric_gradient(lambda z: float(np.sum(upstream * act.forward(z.copy()))), x.copy())
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_unregistered_glu_and_threshold_pickle_with_their_parameters():
    for act in (activations.glu.with_params(axis=1), activations.threshold.with_params(0.5, 1.0)):
        restored = pickle.loads(pickle.dumps(act))
        assert type(restored) is type(act) and restored.get_config() == act.get_config()


def test_glu_and_threshold_resolve_by_name_and_round_trip_with_parameters():
    assert activations.get("glu") is activations.glu
    with_params = activations.threshold.with_params(0.1, 0.0)
    restored = activations.get(activations.serialize(with_params))
    x = np.array([-1.0, 0.05, 0.5])
    np.testing.assert_array_equal(restored(x), with_params(x))
