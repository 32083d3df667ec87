"""automl.keras.config and the top-level exports."""

import numpy as np
import pytest

import automl
import automl.keras as keras
from automl.keras import backend, config, layers


def test_floatx_is_shared_with_the_backend_and_drives_new_layers():
    config.set_floatx("float64")
    assert backend.floatx() == "float64" == config.floatx()
    layer = layers.Dense(2)
    layer.build((None, 3))
    assert layer.kernel.numpy().dtype == np.float64
    with pytest.raises(ValueError, match="'value' parameter of set_floatx"):
        config.set_floatx("int32")


def test_epsilon():
    config.set_epsilon(1e-5)
    assert config.epsilon() == backend.epsilon() == 1e-5
    with pytest.raises(ValueError, match="'value' parameter of set_epsilon"):
        config.set_epsilon(-1.0)


def test_image_data_format_backend_and_flags():
    assert config.image_data_format() == "channels_last"
    config.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="'data_format' parameter of set_image_data_format"):
        config.set_image_data_format("channels_first")
    assert config.backend() == "numpy"
    assert config.enable_unsafe_deserialization() is None
    config.disable_traceback_filtering()
    assert not config.is_traceback_filtering_enabled()
    config.enable_traceback_filtering()
    assert config.is_traceback_filtering_enabled()


def test_top_level_exports_and_version():
    assert keras.Layer is layers.Layer and keras.Variable is layers.Variable
    assert keras.KerasTensor is layers.KerasTensor
    assert keras.Loss is keras.losses.Loss and keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer
    assert keras.config is config and keras.random.normal is not None
    assert keras.version() == keras.__version__
    assert keras.__version__.startswith("3.") and keras.__version__ != automl.__version__
    for name in keras.__all__:
        assert hasattr(keras, name), name


def test_a_subclass_of_the_top_level_layer_works_in_a_model():
    class Double(keras.Layer):
        def call(self, inputs, training=False):
            return inputs * 2

    model = keras.Sequential([keras.Input(shape=(2,)), Double()])
    np.testing.assert_allclose(model.predict(np.ones((1, 2)), verbose=0), [[2.0, 2.0]])
