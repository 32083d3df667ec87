"""Regularizers: penalties, gradients, Keras defaults, config round trips."""

import numpy as np
import pytest

from automl.keras import regularizers
from automl.testing import numeric_gradient


def _w(seed=0):
    w = np.random.default_rng(seed).standard_normal((4, 3))
    # sign(w) is not differentiable at 0: keep entries away from it.
    return np.where(np.abs(w) < 0.05, 0.05, w)


@pytest.mark.parametrize(
    "reg, expected",
    [
        (regularizers.L1(0.3), lambda w: 0.3 * np.abs(w).sum()),
        (regularizers.L2(0.3), lambda w: 0.3 * np.square(w).sum()),
        (regularizers.L1L2(l1=0.2, l2=0.7), lambda w: 0.2 * np.abs(w).sum() + 0.7 * np.square(w).sum()),
    ],
    ids=["L1", "L2", "L1L2"],
)
def test_penalty_and_gradient(reg, expected):
    w = _w()
    assert reg(w) == pytest.approx(expected(w), rel=1e-12)
    grad = np.full_like(w, 0.25)
    reg.add_gradient(w, grad)  # adds to what is already there
    numeric = numeric_gradient(lambda v: reg(v), w.copy())
    np.testing.assert_allclose(grad - 0.25, numeric, rtol=1e-6, atol=1e-8)


def test_keras_defaults():
    assert regularizers.L1().get_config() == {"l1": 0.01}
    assert regularizers.L2().get_config() == {"l2": 0.01}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.get("l2").get_config() == {"l2": 0.01}
    assert regularizers.get("l1").get_config() == {"l1": 0.01}
    assert type(regularizers.get("l1_l2")).__name__ == "L1L2"
    assert regularizers.l2 is regularizers.L2


def test_get_resolves_none_instances_and_configs():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.5)
    assert regularizers.get(reg) is reg
    clone = regularizers.get({"class_name": "L2", "config": {"l2": 0.5}})
    assert isinstance(clone, regularizers.L2) and clone.l2 == 0.5


@pytest.mark.parametrize("cls", [regularizers.L1, regularizers.L2, regularizers.L1L2])
def test_config_round_trip(cls):
    reg = cls()
    config = regularizers.serialize(reg)
    clone = regularizers.deserialize(config)
    assert type(clone) is cls and clone.get_config() == reg.get_config()


def test_zero_strength_means_no_penalty_and_no_gradient():
    w = _w()
    grad = np.zeros_like(w)
    reg = regularizers.L1L2(0.0, 0.0)
    assert reg(w) == 0.0
    reg.add_gradient(w, grad)
    np.testing.assert_array_equal(grad, 0.0)


def test_negative_strength_is_rejected():
    with pytest.raises(ValueError, match=r"The 'l2' parameter of L2 must be a float in the range \[0, inf\)\. Got -0\.1"):
        regularizers.L2(-0.1)
    with pytest.raises(ValueError, match=r"'l1' parameter of L1L2"):
        regularizers.L1L2(l1=-1.0)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret regularizer identifier: 'l3'.*l1_l2.*l2"):
        regularizers.get("l3")
