"""Initializers: Keras 3 distributions, seeding, dtype, config round trips."""

import math

import numpy as np
import pytest

from automl.keras import backend, initializers

CLASSES = sorted({cls for cls in initializers.INITIALIZERS._objects.values()}, key=lambda c: c.__name__)
SEEDED = [c for c in CLASSES if "seed" in c().get_config()]


def test_every_keras_initializer_is_registered_by_class_and_snake_case_name():
    names = set(initializers.INITIALIZERS.names())
    for cls_name, alias in [("Zeros", "zeros"), ("Ones", "ones"), ("Constant", "constant"),
                            ("RandomNormal", "random_normal"), ("RandomUniform", "random_uniform"),
                            ("TruncatedNormal", "truncated_normal"),
                            ("VarianceScaling", "variance_scaling"),
                            ("GlorotUniform", "glorot_uniform"), ("GlorotNormal", "glorot_normal"),
                            ("HeUniform", "he_uniform"), ("HeNormal", "he_normal"),
                            ("LecunUniform", "lecun_uniform"), ("LecunNormal", "lecun_normal"),
                            ("Orthogonal", "orthogonal"), ("Identity", "identity")]:
        assert {cls_name, alias} <= names
        assert type(initializers.get(alias)).__name__ == cls_name


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_shape_and_default_dtype_follow_floatx(cls):
    init = cls()
    assert init((5, 5)).shape == (5, 5)
    assert init((5, 5)).dtype == np.float32
    assert init((5, 5), dtype="float64").dtype == np.float64
    backend.set_floatx("float64")
    assert init((5, 5)).dtype == np.float64


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    init = cls()
    config = init.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    via_registry = initializers.deserialize(initializers.serialize(init))
    assert type(via_registry) is cls and via_registry.get_config() == config


@pytest.mark.parametrize("cls", SEEDED, ids=lambda c: c.__name__)
def test_int_seed_gives_the_same_values_on_every_call(cls):
    a = cls(seed=3)((20, 10))
    b = cls(seed=3)((20, 10))
    c = cls(seed=4)((20, 10))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(cls(seed=3)((20, 10)), a)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("cls", SEEDED, ids=lambda c: c.__name__)
def test_unseeded_values_follow_the_global_seed(cls):
    with backend.seed_scope(7):
        a = cls()((8, 6))
    with backend.seed_scope(7):
        b = cls()((8, 6))
    with backend.seed_scope(8):
        c = cls()((8, 6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_zeros_ones_constant():
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("ones")((2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(initializers.Constant(2.5)((4,)), np.full(4, 2.5))


def _variance_scaling_sample(name, mode, fan_in=300, fan_out=200):
    """A (fan_in, fan_out) sample of the named initializer (seed 0) and its ``mode``'s fan."""
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return initializers.get(name).__class__(seed=0)((fan_in, fan_out)), n


@pytest.mark.parametrize(
    "name, scale, mode",
    [("glorot_uniform", 1.0, "fan_avg"), ("he_uniform", 2.0, "fan_in"), ("lecun_uniform", 1.0, "fan_in")],
)
def test_uniform_variance_scaling_limits_and_variance(name, scale, mode):
    w, n = _variance_scaling_sample(name, mode)
    limit = math.sqrt(3.0 * scale / n)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert w.std() == pytest.approx(math.sqrt(scale / n), rel=0.02)
    assert abs(w.mean()) < 0.01 * limit


@pytest.mark.parametrize(
    "name, scale, mode",
    [("glorot_normal", 1.0, "fan_avg"), ("he_normal", 2.0, "fan_in"), ("lecun_normal", 1.0, "fan_in")],
)
def test_truncated_normal_variance_scaling(name, scale, mode):
    # Keras draws from N(0, sqrt(scale/n) / 0.8796) truncated at 2 stddevs, so the
    # samples have stddev sqrt(scale / n).
    w, n = _variance_scaling_sample(name, mode)
    stddev = math.sqrt(scale / n)
    assert w.std() == pytest.approx(stddev, rel=0.02)
    assert np.abs(w).max() <= 2 * stddev / 0.87962566103423978 + 1e-6


def test_variance_scaling_fans_of_a_convolution_kernel():
    # (kh, kw, in, out): fan_in = kh * kw * in.
    w = initializers.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=0)((3, 3, 16, 32))
    assert np.abs(w).max() <= math.sqrt(3.0 / (3 * 3 * 16))
    assert initializers._initializers.compute_fans((3, 3, 16, 32)) == (144.0, 288.0)


def test_random_normal_uniform_and_truncated_defaults_match_keras():
    assert initializers.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert initializers.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    w = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=0)((200, 200))
    assert w.mean() == pytest.approx(1.0, abs=0.01) and w.std() == pytest.approx(0.5, rel=0.02)
    u = initializers.RandomUniform(minval=-2.0, maxval=3.0, seed=0)((200, 200))
    assert u.min() >= -2.0 and u.max() < 3.0 and u.mean() == pytest.approx(0.5, abs=0.05)
    t = initializers.TruncatedNormal(mean=0.0, stddev=1.0, seed=0)((200, 200))
    assert np.abs(t).max() <= 2.0 and t.std() == pytest.approx(0.8796, rel=0.02)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (2, 3, 5)])
def test_orthogonal(shape):
    w = initializers.Orthogonal(gain=2.0, seed=0)(shape)
    assert w.shape == shape
    flat = w.reshape(-1, shape[-1]).astype(np.float64)
    if flat.shape[0] >= flat.shape[1]:
        np.testing.assert_allclose(flat.T @ flat, 4.0 * np.eye(flat.shape[1]), atol=1e-5)
    else:
        np.testing.assert_allclose(flat @ flat.T, 4.0 * np.eye(flat.shape[0]), atol=1e-5)


def test_identity():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3.0 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 3, 4))


def test_unknown_name_and_bad_arguments():
    with pytest.raises(ValueError, match=r"Could not interpret initializer identifier: 'glorot'.*glorot_uniform"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match=r"'mode' parameter of VarianceScaling"):
        initializers.VarianceScaling(mode="fan_max")
    with pytest.raises(ValueError, match=r"'scale' parameter of VarianceScaling"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match=r"'seed' parameter of RandomNormal"):
        initializers.RandomNormal(seed=-1)
