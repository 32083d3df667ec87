"""Masking layer, the Layer mask contract, and the masked-loss weights helper."""

import warnings

import numpy as np
import pytest

from automl.keras import layers
from automl.keras.layers import Dense, Flatten, Layer
from automl.keras.layers._embedding import Embedding
from automl.keras.layers._masking import Masking, mask_to_sample_weight
from automl.keras.layers._recurrent import LSTM
from automl.testing import check_layer_gradients


def _padded():
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    x[0, :2] = 0.0  # left padding
    x[1, 3] = 0.0  # right padding
    return x


def test_masking_output_and_mask():
    x = _padded()
    layer = Masking()
    out = layer(x)
    np.testing.assert_array_equal(out, x.astype(np.float32))
    expected = np.array([[False, False, True, True], [True, True, True, False], [True] * 4])
    np.testing.assert_array_equal(layer.compute_mask(x), expected)
    x2 = np.full((1, 2, 2), -1.0)
    x2[0, 1, 0] = 3.0
    out = Masking(mask_value=-1.0)(x2)
    np.testing.assert_array_equal(out, [[[0.0, 0.0], [3.0, -1.0]]])


def test_masking_gradient_and_config():
    check_layer_gradients(lambda: Masking(mask_value=0.5), (2, 3, 2),
                          x=np.where(np.arange(12).reshape(2, 3, 2) % 5 == 0, 0.5, 1.3))
    config = Masking(mask_value=2.0).get_config()
    assert layers.get({"class_name": "Masking", "config": config}).mask_value == 2.0


def test_call_masked_contract():
    mask = np.array([[True, False]])
    x = np.ones((1, 2, 3), dtype=np.float32)
    # A layer whose call takes mask= receives it; its compute_mask gives the output mask.
    lstm = LSTM(2, return_sequences=True)
    lstm(x)
    out, out_mask = lstm._call_masked(x, False, mask)
    np.testing.assert_allclose(out[:, 1], out[:, 0])  # the masked step repeats the previous output
    assert out_mask is mask
    # Masks are produced without an input mask.
    emb = Embedding(5, 2, mask_zero=True)
    emb(np.array([[1, 0]]))
    _, produced = emb._call_masked(np.array([[1.0, 0.0]]), False, None)
    np.testing.assert_array_equal(produced, [[True, False]])
    # A layer without masking support drops the mask, with a warning (once).
    flat = Flatten()
    flat(x)
    with pytest.warns(UserWarning, match="does not support masking"):
        _, dropped = flat._call_masked(x, False, mask)
    assert dropped is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flat._call_masked(x, False, mask)


def test_supports_masking_defaults():
    class PassThrough(Layer):
        def compute_mask(self, inputs, mask=None):
            return mask

        def call(self, inputs, training=False):
            return inputs

    class Consumer(Layer):
        def call(self, inputs, training=False, mask=None):
            return inputs

    assert PassThrough.supports_masking and PassThrough()._call_takes_mask is False
    assert Consumer._call_takes_mask and not Consumer.supports_masking
    assert Dense.supports_masking and not Flatten.supports_masking and not Layer.supports_masking
    assert Masking.supports_masking and LSTM(2).supports_masking


def test_mask_to_sample_weight_matches_keras_scaling():
    mask = np.array([[True, True, False], [True, False, False]])
    w = mask_to_sample_weight(mask)
    np.testing.assert_allclose(w, mask * 6 / (3 + 1e-7), rtol=1e-6)
    # sum over the valid steps / number of entries == mean over the valid steps
    values = np.arange(6.0).reshape(2, 3)
    assert (values * w).sum() / values.size == pytest.approx(values[mask].mean(), rel=1e-6)
    np.testing.assert_array_equal(mask_to_sample_weight(mask, reduction="sum"), mask.astype(np.float32))
    w = mask_to_sample_weight(mask, sample_weight=[1.0, 3.0], reduction="sum")
    np.testing.assert_array_equal(w, [[1, 1, 0], [3, 0, 0]])
