"""utils.to_categorical, seeding and backend configuration."""

import random

import numpy as np
import pytest

from automl.keras import backend, utils
from automl.keras.layers import Dense


def test_to_categorical_matches_keras():
    out = utils.to_categorical([0, 2, 1, 2])
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert out.dtype.kind == "f"
    assert utils.to_categorical([0, 1], num_classes=4).shape == (2, 4)


def test_to_categorical_shapes():
    assert utils.to_categorical(np.array([[0], [2]]), 3).shape == (2, 3)  # (n, 1) labels
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    out = utils.to_categorical(labels, 3)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.argmax(axis=-1), labels)
    np.testing.assert_array_equal(utils.to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])


def test_to_categorical_errors():
    with pytest.raises(ValueError, match=r"label 3, which does not fit num_classes=3; expected labels in \[0, 2\]"):
        utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match=r"The 'x' parameter of to_categorical must be non-negative class labels\. Got -1"):
        utils.to_categorical([-1, 0])
    with pytest.raises(ValueError, match=r"The 'x' parameter of to_categorical must be integer class labels"):
        utils.to_categorical([0.5, 1.0])
    with pytest.raises(ValueError, match=r"The 'x' parameter of to_categorical must be integer class labels"):
        utils.to_categorical(["a", "b"])


def test_set_random_seed_seeds_the_engine_python_and_numpy():
    utils.set_random_seed(3)
    a = (Dense(4)(np.ones((1, 2))), random.random(), np.random.random())
    utils.set_random_seed(3)
    b = (Dense(4)(np.ones((1, 2))), random.random(), np.random.random())
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:] == b[1:]


def test_set_random_seed_rejects_non_integers():
    for bad in (1.5, "1", None, True):
        with pytest.raises(TypeError, match=r"The 'seed' parameter of set_random_seed must be an int"):
            utils.set_random_seed(bad)


def test_seed_scope_restores_the_previous_global_generator():
    utils.set_random_seed(0)
    expected = backend.make_rng().random()
    utils.set_random_seed(0)
    with backend.seed_scope(123):
        inside = backend.make_rng().random()
    assert backend.make_rng().random() == expected  # the scope did not consume the outer stream
    with backend.seed_scope(123):
        assert backend.make_rng().random() == inside


def test_make_rng():
    gen = np.random.default_rng(0)
    assert backend.make_rng(gen) is gen
    assert backend.make_rng(5).random() == np.random.default_rng(5).random()
    with backend.seed_scope(None):
        assert backend.draw_seed() is None
        assert isinstance(backend.make_rng(), np.random.Generator)


def test_floatx_and_epsilon():
    assert backend.floatx() == "float32" and backend.epsilon() == 1e-7
    backend.set_floatx("float64")
    assert backend.floatx() == "float64"
    with pytest.raises(ValueError, match=r"The 'value' parameter of set_floatx"):
        backend.set_floatx("int8")
    backend.set_epsilon(1e-5)
    assert backend.epsilon() == 1e-5


def test_clear_session_resets_layer_names():
    backend.clear_session()
    assert Dense(1).name == "dense" and Dense(1).name == "dense_1"
    backend.clear_session()
    assert Dense(1).name == "dense"
