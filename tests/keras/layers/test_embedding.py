"""Embedding: gather forward, scatter-add backward (checked by central differences), masks, config."""

import numpy as np
import pytest

from automl.keras import layers
from automl.keras.layers._embedding import Embedding
from automl.testing import floatx_scope, numeric_gradient


def test_forward_gathers_rows_and_keeps_integer_indices():
    layer = Embedding(6, 3)
    idx = np.array([[1, 5, 1], [0, 2, 4]])
    out = layer(idx)
    table = layer.get_weights()[0]
    assert out.shape == (2, 3, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, table[idx])
    # Float indices (as fit passes them) select the same rows.
    np.testing.assert_array_equal(layer(idx.astype(np.float32)), out)


def test_default_uniform_initializer_and_param_count():
    layer = Embedding(1000, 16)
    layer(np.array([[1]]))
    table = layer.get_weights()[0]
    assert table.shape == (1000, 16) and layer.count_params() == 16000
    assert np.abs(table).max() <= 0.05 and table.std() > 0.02  # RandomUniform(-0.05, 0.05)


def test_scatter_add_gradient_with_repeated_indices():
    with floatx_scope("float64"):
        layer = Embedding(5, 3, embeddings_initializer="random_normal")
        idx = np.array([[1, 1, 4, 0], [4, 1, 2, 2]])
        out = layer(idx)
        upstream = np.random.default_rng(0).standard_normal(out.shape)

        def objective(_=None):
            return float(np.sum(upstream * layer.call(idx)))

        objective()
        layer._input_grad_needed = False
        assert layer.backward(upstream) is None
        numeric = numeric_gradient(objective, layer.embeddings.value)
        np.testing.assert_allclose(layer.embeddings.grad, numeric, rtol=1e-6, atol=1e-8)
        assert np.all(layer.embeddings.grad[3] == 0)  # row 3 never used


def test_input_gradient_is_zero_when_requested():
    layer = Embedding(4, 2)
    layer(np.array([[1, 2]]))
    grad = layer.backward(np.ones((1, 2, 2), dtype=np.float32))
    assert grad.shape == (1, 2) and not grad.any()


def test_mask_zero():
    idx = np.array([[3, 0, 2], [0, 0, 1]])
    assert Embedding(4, 2).compute_mask(idx) is None
    layer = Embedding(4, 2, mask_zero=True)
    assert layer.supports_masking
    np.testing.assert_array_equal(layer.compute_mask(idx), idx != 0)
    assert not Embedding(4, 2).supports_masking


def test_out_of_range_indices_raise():
    layer = Embedding(4, 2)
    with pytest.raises(ValueError, match=r"index 4, outside \[0, 3\]"):
        layer(np.array([[1, 4]]))
    with pytest.raises(ValueError, match="index -1"):
        layer(np.array([[-1, 2]]))


def test_initial_weights_and_config_round_trip():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    layer = Embedding(4, 3, weights=[table], mask_zero=True, embeddings_regularizer="l2", name="emb")
    np.testing.assert_array_equal(layer.get_weights()[0], table)
    np.testing.assert_array_equal(Embedding(4, 3, weights=table).get_weights()[0], table)
    config = layer.get_config()
    assert config["mask_zero"] is True and config["input_dim"] == 4 and config["output_dim"] == 3
    clone = layers.get({"class_name": "Embedding", "config": config})
    assert isinstance(clone, Embedding) and clone.get_config() == config


def test_regularizer_reaches_the_weight_and_activity_penalty():
    layer = Embedding(4, 2, embeddings_regularizer="l2", activity_regularizer="l1")
    out = layer(np.array([[1, 2]]))
    assert layer.embeddings.regularizer is not None
    assert layer.activity_penalty == pytest.approx(0.01 * np.abs(out).sum(), rel=1e-5)


def test_keras_arguments():
    with pytest.warns(UserWarning, match="input_length"):
        Embedding(4, 2, input_length=10)
    with pytest.raises(NotImplementedError, match="LoRA"):
        Embedding(4, 2, lora_rank=2)
    with pytest.raises(ValueError, match="'output_dim' parameter of Embedding"):
        Embedding(4, 0)
    assert Embedding(4, 2).compute_output_shape((None, 7)) == (None, 7, 2)


def test_scatter_add_matches_add_at_on_many_repeats():
    rng = np.random.default_rng(5)
    layer = Embedding(50, 4)
    idx = rng.integers(0, 50, (16, 40))
    layer(idx)
    grad = rng.standard_normal((16, 40, 4)).astype(np.float32)
    layer.backward(grad)
    expected = np.zeros((50, 4))
    np.add.at(expected, idx.ravel(), grad.reshape(-1, 4).astype(np.float64))
    np.testing.assert_allclose(layer.embeddings.grad, expected, rtol=1e-5, atol=1e-5)
