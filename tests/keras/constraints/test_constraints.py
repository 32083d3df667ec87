"""Weight constraints: projections, Keras defaults, registry and config round trips."""

import json

import numpy as np
import pytest

from automl.keras import backend, constraints

EPS = 1e-7  # backend.epsilon() in the Keras formulas


def _w(shape=(4, 5), seed=0, scale=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def test_max_norm_caps_column_norms_along_axis_0():
    w = _w()
    w[:, 0] *= 1e-2  # a column well under the cap
    norms = np.linalg.norm(w, axis=0)
    out = constraints.MaxNorm(max_value=2.0)(w)
    new_norms = np.linalg.norm(out, axis=0)
    np.testing.assert_allclose(new_norms, np.minimum(norms, 2.0) * norms / (norms + EPS), rtol=1e-12)
    assert new_norms[0] == pytest.approx(norms[0], rel=1e-5)  # unchanged (up to epsilon)
    assert np.all(new_norms <= 2.0 + 1e-12) and np.any(norms > 2.0)
    # Directions are kept: each column is only rescaled.
    np.testing.assert_allclose(out / np.linalg.norm(out, axis=0), w / norms, rtol=1e-10)


@pytest.mark.parametrize("axis, keep", [(1, (4, 1, 3)), ([0, 1], (1, 1, 3)), ([0, 2], (1, 5, 1))])
def test_norms_are_taken_along_the_given_axes(axis, keep):
    w = _w((4, 5, 3))
    ax = tuple(axis) if isinstance(axis, list) else axis
    norms = np.sqrt((w**2).sum(axis=ax, keepdims=True))
    assert np.all(norms > 1.0)
    out = constraints.MaxNorm(1.0, axis=axis)(w)
    new_norms = np.sqrt((out**2).sum(axis=ax, keepdims=True))
    assert new_norms.shape == keep
    np.testing.assert_allclose(new_norms, norms / (norms + EPS), rtol=1e-12)


def test_non_neg_clips_at_zero():
    w = np.array([[-1.5, 0.0], [2.0, -0.1]])
    np.testing.assert_array_equal(constraints.NonNeg()(w), [[0.0, 0.0], [2.0, 0.0]])


def test_unit_norm_normalizes_every_column():
    w = _w()
    out = constraints.UnitNorm()(w)
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), 1.0, rtol=1e-6)
    out1 = constraints.UnitNorm(axis=1)(w)
    np.testing.assert_allclose(np.linalg.norm(out1, axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("rate", [1.0, 0.5, 0.0])
def test_min_max_norm_moves_norms_into_the_interval_at_the_given_rate(rate):
    w = _w((3, 6))
    w[:, :2] *= 0.05  # small columns, below min_value
    norms = np.linalg.norm(w, axis=0)
    assert np.any(norms < 0.5) and np.any(norms > 1.5)
    out = constraints.MinMaxNorm(min_value=0.5, max_value=1.5, rate=rate)(w)
    desired = rate * np.clip(norms, 0.5, 1.5) + (1 - rate) * norms
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), desired * norms / (norms + EPS), rtol=1e-10)
    if rate == 1.0:
        new = np.linalg.norm(out, axis=0)
        assert np.all(new >= 0.5 - 1e-6) and np.all(new <= 1.5 + 1e-12)


def test_min_max_norm_defaults_bound_norms_by_one():
    out = constraints.MinMaxNorm()(np.array([[3.0, 0.3], [4.0, 0.4]]))
    np.testing.assert_allclose(out, [[0.6, 0.3], [0.8, 0.4]], rtol=1e-6)


def test_epsilon_comes_from_the_backend():
    backend.set_epsilon(0.5)  # restored by the conftest fixture
    np.testing.assert_allclose(constraints.UnitNorm()(np.array([[3.0], [4.0]])), [[3.0 / 5.5], [4.0 / 5.5]])


@pytest.mark.parametrize("name", ["MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "Constraint"])
def test_dtype_and_shape_follow_the_weight_and_input_is_untouched(name):
    w = _w((3, 4)).astype(np.float32)
    before = w.copy()
    out = constraints.get(name)(w)
    assert out.dtype == np.float32 and out.shape == w.shape
    np.testing.assert_array_equal(w, before)


def test_base_constraint_is_the_identity():
    w = _w()
    np.testing.assert_array_equal(constraints.Constraint()(w), w)


def test_keras_defaults_and_aliases():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.MinMaxNorm().get_config() == {
        "min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.NonNeg().get_config() == {}
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm
    for alias, cls in [("max_norm", constraints.MaxNorm), ("min_max_norm", constraints.MinMaxNorm),
                       ("non_neg", constraints.NonNeg), ("unit_norm", constraints.UnitNorm)]:
        assert type(constraints.get(alias)) is cls


def test_get_resolves_every_kind_of_identifier():
    assert constraints.get(None) is None
    c = constraints.MaxNorm(3.0)
    assert constraints.get(c) is c
    assert type(constraints.get(constraints.UnitNorm)) is constraints.UnitNorm
    clone = constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3.0, "axis": 1}})
    assert type(clone) is constraints.MaxNorm and clone.get_config() == {"max_value": 3.0, "axis": 1}

    def clip(w):
        return np.clip(w, -1, 1)

    assert constraints.get(clip) is clip  # plain callables work as in Keras


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret constraint identifier: 'max'.*MaxNorm.*unit_norm"):
        constraints.get("max")


@pytest.mark.parametrize("name", sorted(constraints.CONSTRAINTS.names()))
def test_config_round_trip_of_every_registered_constraint(name):
    c = constraints.get(name)
    config = json.loads(json.dumps(constraints.serialize(c)))
    assert config["class_name"] == type(c).__name__
    clone = constraints.deserialize(config)
    assert type(clone) is type(c) and clone.get_config() == c.get_config()
    assert type(c).from_config(c.get_config()).get_config() == c.get_config()


def test_non_default_configs_round_trip():
    for c in (constraints.MaxNorm(1.5, axis=[0, 1]),
              constraints.MinMaxNorm(0.2, 0.9, rate=0.3, axis=1),
              constraints.UnitNorm(axis=[1, 2])):
        clone = constraints.deserialize(json.loads(json.dumps(constraints.serialize(c))))
        assert clone.get_config() == c.get_config()
        w = _w((3, 4, 2))
        np.testing.assert_array_equal(clone(w), c(w))
    assert constraints.serialize(None) is None


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: constraints.MaxNorm(-1.0), r"The 'max_value' parameter of MaxNorm must be a float in the range \[0, inf\)\. Got -1\.0 instead\."),
        (lambda: constraints.MinMaxNorm(min_value=-0.1), r"The 'min_value' parameter of MinMaxNorm"),
        (lambda: constraints.MinMaxNorm(min_value=2.0, max_value=1.0), r"The 'max_value' parameter of MinMaxNorm must be a float in the range \[2\.0, inf\)"),
        (lambda: constraints.MinMaxNorm(rate=1.5), r"The 'rate' parameter of MinMaxNorm must be a float in the range \[0, 1\]"),
        (lambda: constraints.UnitNorm(axis=0.5), r"The 'axis' parameter of UnitNorm must be an int or a non-empty list of ints"),
        (lambda: constraints.MaxNorm(axis=[]), r"The 'axis' parameter of MaxNorm"),
    ],
)
def test_invalid_arguments_are_rejected(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
