"""OrthogonalRegularizer: Keras formula, gradient, validation, config, use in a model."""

import json

import numpy as np
import pytest

from automl.keras import Sequential, regularizers
from automl.keras.layers import Dense
from automl.testing import check_model_gradients, floatx_scope, numeric_gradient


def _reference(w, factor, mode):
    """Mean absolute cosine similarity over distinct pairs of rows (or columns), times factor."""
    vecs = w if mode == "rows" else w.T
    n = len(vecs)
    total = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            total += abs(vecs[i] @ vecs[j]) / (np.linalg.norm(vecs[i]) * np.linalg.norm(vecs[j]))
    return factor * total / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_penalty_matches_the_pairwise_formula(mode):
    w = np.random.default_rng(0).standard_normal((5, 3))
    reg = regularizers.OrthogonalRegularizer(factor=0.3, mode=mode)
    np.testing.assert_allclose(reg(w), _reference(w, 0.3, mode), rtol=1e-12)


def test_orthogonal_vectors_cost_nothing_and_parallel_ones_cost_factor():
    reg = regularizers.OrthogonalRegularizer(factor=0.5)
    assert reg(np.eye(3) * 2.0) == 0.0
    np.testing.assert_allclose(reg(np.array([[1.0, 1.0], [2.0, 2.0], [-3.0, -3.0]])), 0.5)
    # columns mode looks at the transpose
    w = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(regularizers.OrthogonalRegularizer(mode="columns")(w),
                               regularizers.OrthogonalRegularizer(mode="rows")(w.T))


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 6), (2, 2)])
def test_gradient_matches_central_differences(mode, shape):
    w = np.random.default_rng(1).standard_normal(shape)
    reg = regularizers.OrthogonalRegularizer(factor=0.7, mode=mode)
    grad = np.full(shape, 0.25)  # the gradient is added to what is there
    reg.add_gradient(w, grad)
    np.testing.assert_allclose(grad - 0.25, numeric_gradient(reg, w.copy()), rtol=1e-6, atol=1e-9)


def test_single_vector_has_no_pairs():
    reg = regularizers.OrthogonalRegularizer()
    w = np.ones((1, 4))
    grad = np.zeros_like(w)
    reg.add_gradient(w, grad)
    assert reg(w) == 0.0 and not grad.any()


def test_rank_and_parameters_are_validated():
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="The 'mode' parameter of OrthogonalRegularizer"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="The 'factor' parameter of OrthogonalRegularizer"):
        regularizers.OrthogonalRegularizer(factor=-1.0)


def test_names_defaults_and_config_round_trip():
    reg = regularizers.get("orthogonal_regularizer")
    assert type(reg) is regularizers.OrthogonalRegularizer
    assert type(regularizers.get("OrthogonalRegularizer")) is regularizers.OrthogonalRegularizer
    assert reg.get_config() == {"factor": 0.01, "mode": "rows"}
    custom = regularizers.OrthogonalRegularizer(0.2, "columns")
    config = json.loads(json.dumps(regularizers.serialize(custom)))
    clone = regularizers.deserialize(config)
    assert type(clone) is regularizers.OrthogonalRegularizer
    assert clone.get_config() == {"factor": 0.2, "mode": "columns"}
    layer = Dense(3, kernel_regularizer=custom)
    rebuilt = Dense.from_config(json.loads(json.dumps(layer.get_config())))
    assert rebuilt.kernel_regularizer.get_config() == custom.get_config()


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_model_gradient_includes_the_penalty(mode):
    with floatx_scope("float64"):
        model = Sequential([Dense(4, input_shape=(3,), activation="tanh",
                                  kernel_regularizer=regularizers.OrthogonalRegularizer(0.5, mode)),
                            Dense(1)])
        model.compile("sgd", "mse")
    rng = np.random.default_rng(2)
    check_model_gradients(model, rng.standard_normal((6, 3)), rng.standard_normal((6, 1)))


def test_training_decorrelates_the_kernel():
    rng = np.random.default_rng(3)
    model = Sequential([Dense(4, input_shape=(4,), use_bias=False, kernel_initializer="ones",
                              kernel_regularizer=regularizers.OrthogonalRegularizer(1.0, "columns"))])
    model.layers[0].build((None, 4))
    kernel = model.layers[0].kernel
    kernel.value[...] += 0.1 * rng.standard_normal((4, 4))
    before = regularizers.OrthogonalRegularizer(1.0, "columns")(kernel.value)
    model.compile("adam", "mse")
    x = rng.standard_normal((32, 4)).astype("float32")
    model.fit(x, np.zeros((32, 4), "float32"), epochs=5, batch_size=32, verbose=0)
    assert regularizers.OrthogonalRegularizer(1.0, "columns")(kernel.value) < before
