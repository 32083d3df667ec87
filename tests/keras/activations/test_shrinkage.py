"""Threshold: use in a Dense layer from a config dict."""


import numpy as np
import pytest

from automl.keras import activations
from automl.keras.layers import Dense
from automl.testing import check_layer_gradients


def test_dense_with_threshold_from_a_config_dict():
    config = {"class_name": "threshold", "config": {"threshold": 0.1, "default_value": 0.0}}
    check_layer_gradients(lambda: Dense(3, activation=activations.threshold.with_params(0.1, 0.0)),
                          (5, 4), rtol=1e-6, atol=1e-8)
    assert activations.serialize(activations.threshold.with_params(0.1, 0.0)) == config
    with pytest.raises(TypeError, match="requires its 'threshold' and 'default_value'"):
        activations.threshold(np.ones(3))
