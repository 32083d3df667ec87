"""Keras 3's short initializer aliases and public alternative names."""

import numpy as np
import pytest

from automl.keras import initializers
from automl.keras.layers import Dense


@pytest.mark.parametrize("alias, cls_name", [
    ("uniform", "RandomUniform"), ("normal", "RandomNormal"), ("zero", "Zeros"), ("one", "Ones"),
    ("OrthogonalInitializer", "Orthogonal"), ("orthogonal_initializer", "Orthogonal"),
    ("IdentityInitializer", "Identity"), ("glorot_uniform", "GlorotUniform"), ("constant", "Constant"),
])
def test_keras_aliases_resolve_to_the_keras_class(alias, cls_name):
    init = initializers.get(alias)
    assert type(init).__name__ == cls_name
    # Serialization writes the class name, which reads back to the same initializer.
    assert initializers.serialize(init)["class_name"] == cls_name
    assert type(initializers.deserialize(initializers.serialize(init))) is type(init)


def test_short_aliases_keep_keras_defaults():
    assert initializers.get("uniform").get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert initializers.get("normal").get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    np.testing.assert_array_equal(initializers.get("zero")((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("one")((2,)), np.ones(2))
    layer = Dense(64, kernel_initializer="uniform", bias_initializer="one")
    layer.build((None, 32))
    kernel = layer.kernel.numpy()
    assert kernel.min() >= -0.05 and kernel.max() <= 0.05 and kernel.std() > 0.02
    np.testing.assert_array_equal(layer.bias.numpy(), np.ones(64))


def test_lowercase_module_names_are_the_classes():
    pairs = {"zeros": "Zeros", "ones": "Ones", "constant": "Constant", "random_normal": "RandomNormal",
             "random_uniform": "RandomUniform", "truncated_normal": "TruncatedNormal",
             "variance_scaling": "VarianceScaling", "glorot_uniform": "GlorotUniform",
             "glorot_normal": "GlorotNormal", "he_uniform": "HeUniform", "he_normal": "HeNormal",
             "lecun_uniform": "LecunUniform", "lecun_normal": "LecunNormal", "orthogonal": "Orthogonal",
             "identity": "Identity", "OrthogonalInitializer": "Orthogonal",
             "IdentityInitializer": "Identity"}
    for name, cls_name in pairs.items():
        assert getattr(initializers, name) is getattr(initializers, cls_name)
        assert name in initializers.__all__
    assert initializers.random_uniform(minval=0.0, maxval=1.0, seed=1)((3,)).min() >= 0.0


def test_unknown_names_still_list_the_valid_ones():
    with pytest.raises(ValueError, match="uniform"):
        initializers.get("unifrom")
