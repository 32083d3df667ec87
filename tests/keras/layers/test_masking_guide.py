"""The Keras masking guide's patterns, against real Keras on the same weights.

Embedding(mask_zero=True) -> a custom ``supports_masking`` layer taking ``mask=`` ->
LSTM; a custom layer that computes a mask; a layer passing ``mask=`` to its sublayer;
the guide's temporal softmax. Each case compares predictions on fixed weights and the
weights after one SGD step of ``fit`` with ``fixtures/masking_guide.npz``, written by
``fixtures/masking_guide.py`` with Keras 3 (torch). As in Keras 3, a mask reaches
custom layers while the graph is built and during ``fit``, and ops on symbolic tensors
(``x * 2.0``) do not carry it.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import automl.keras as keras

_HERE = pathlib.Path(__file__).with_name("fixtures")
_spec = importlib.util.spec_from_file_location("masking_guide", _HERE / "masking_guide.py")
_GUIDE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_GUIDE)
EXPECTED = np.load(_HERE / "masking_guide.npz")


@pytest.fixture(scope="module")
def ours():
    keras.utils.set_random_seed(0)
    return _GUIDE.flatten(_GUIDE.build(keras))


@pytest.mark.parametrize("case", ["embedding_custom_lstm", "mask_computing_layer", "explicit_mask_argument",
                                  "temporal_softmax"])
def test_masking_guide_model_matches_keras(ours, case):
    names = sorted(k for k in EXPECTED.files if k.startswith(case + "/"))
    assert names == sorted(k for k in ours if k.startswith(case + "/"))
    for name in names:
        np.testing.assert_allclose(ours[name], EXPECTED[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_symbolic_masks_as_keras(ours):
    for flag in ("custom_keeps_mask", "computed_mask", "op_keeps_mask"):
        assert bool(ours[flag]) == bool(EXPECTED[flag]), flag
    assert bool(EXPECTED["custom_keeps_mask"]) and not bool(EXPECTED["op_keeps_mask"])
