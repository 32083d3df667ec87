"""Custom objects: registration, scopes, get_custom_objects, serialize_keras_object."""

import numpy as np
import pytest

from automl import _registry
from automl.keras import Input, Model, Sequential, layers, losses, metrics, saving, utils


@pytest.fixture(autouse=True)
def _forget_registrations():
    saved = dict(_registry.CUSTOM_OBJECTS), dict(_registry.CUSTOM_NAMES)
    yield
    _registry.CUSTOM_OBJECTS.clear()
    _registry.CUSTOM_OBJECTS.update(saved[0])
    _registry.CUSTOM_NAMES.clear()
    _registry.CUSTOM_NAMES.update(saved[1])


class Scale(layers.Layer):
    """Multiplies by a fixed factor (a config value)."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs, training=False):
        return self.factor * inputs

    def backward(self, grad):
        return self.factor * grad

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def scaled_mse(y_true, y_pred):
    return np.mean((y_true - y_pred) ** 2, axis=-1) * 2.0


def _model():
    utils.set_random_seed(0)
    model = Sequential([Input((3,)), layers.Dense(2), Scale(3.0)])
    model.compile("adam", "mse")
    return model


def test_registered_layer_round_trips_through_save_and_load(tmp_path):
    saving.register_keras_serializable(package="MyPkg")(Scale)
    assert saving.get_registered_name(Scale) == "MyPkg>Scale"
    assert saving.get_registered_object("MyPkg>Scale") is Scale
    model = _model()
    x = np.random.default_rng(0).random((4, 3)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = saving.load_model(path)  # no custom_objects needed
    assert isinstance(loaded.layers[-1], Scale) and loaded.layers[-1].factor == 3.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert layers.get({"class_name": "MyPkg>Scale", "config": {"factor": 5.0}}).factor == 5.0


def test_unregistered_class_still_does_not_load(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    with pytest.raises(ValueError, match="Scale"):
        saving.load_model(path)


def test_scope_and_get_custom_objects_resolve_and_end(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    with saving.custom_object_scope({"Scale": Scale}) as scope:
        assert scope.custom_objects == {"Scale": Scale}
        assert isinstance(saving.load_model(path).layers[-1], Scale)
        with utils.custom_object_scope({"Scale": layers.Identity}):
            assert layers.deserialize({"class_name": "Scale", "config": {}}).__class__ \
                is layers.Identity  # the innermost scope wins
    with pytest.raises(ValueError, match="Scale"):
        saving.load_model(path)
    utils.get_custom_objects()["Scale"] = Scale
    assert isinstance(saving.load_model(path).layers[-1], Scale)


def test_registered_function_resolves_in_loss_registry_and_model_from_json():
    saving.register_keras_serializable(name="smse")(scaled_mse)
    assert saving.get_registered_name(scaled_mse) == "Custom>smse"
    assert losses.deserialize({"class_name": "Custom>smse", "config": {}}) is scaled_mse
    saving.register_keras_serializable()(Scale)
    model = Sequential([Input((3,)), Scale(4.0)])
    clone = saving.model_from_json(saving.to_json(model))
    assert isinstance(clone.layers[0], Scale) and clone.layers[0].factor == 4.0


def test_registered_metric_class_resolves_by_bare_name():
    @saving.register_keras_serializable(package="M")
    class Doubled(metrics.Mean):
        pass

    assert metrics.deserialize({"class_name": "Doubled", "config": {"name": "d"}}).__class__ \
        is Doubled


def test_builtin_names_keep_priority_over_bare_registered_names():
    @saving.register_keras_serializable(package="Mine", name="Dense")
    class MyDense(layers.Dense):
        pass

    plain = layers.deserialize({"class_name": "Dense", "config": {"units": 1}})
    assert type(plain) is layers.Dense
    mine = layers.deserialize({"class_name": "Dense", "registered_name": "Mine>Dense",
                               "config": {"units": 1}})
    assert type(mine) is MyDense


def test_register_requires_get_config_and_valid_arguments():
    class NoConfig:
        pass

    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(NoConfig)
    with pytest.raises(TypeError, match="'package' parameter of register_keras_serializable"):
        saving.register_keras_serializable(package="")
    with pytest.raises(TypeError, match="custom_objects"):
        saving.custom_object_scope(["Scale"])


def test_serialize_keras_object_layout_and_round_trip():
    saving.register_keras_serializable(package="P")(Scale)
    config = utils.serialize_keras_object(Scale(1.5))
    assert config["class_name"] == "Scale" and config["registered_name"] == "P>Scale"
    assert config["config"]["factor"] == 1.5
    assert utils.deserialize_keras_object(config).factor == 1.5
    loss = utils.deserialize_keras_object(utils.serialize_keras_object(losses.MeanSquaredError()))
    assert isinstance(loss, losses.MeanSquaredError)
    fn = utils.serialize_keras_object(losses.mean_squared_error)
    assert fn["class_name"] == "function"
    assert utils.deserialize_keras_object(fn) is losses.mean_squared_error
    arr = utils.deserialize_keras_object(utils.serialize_keras_object(np.arange(3.0)))
    np.testing.assert_array_equal(arr, [0.0, 1.0, 2.0])
    nested = utils.serialize_keras_object({"a": [1, "x", None]})
    assert utils.deserialize_keras_object(nested) == {"a": [1, "x", None]}


def test_deserialize_never_imports_the_named_module():
    config = {"module": "os", "class_name": "function", "config": "system",
              "registered_name": None}
    with pytest.raises(ValueError, match="Nothing is imported"):
        utils.deserialize_keras_object(config)
    with pytest.raises(ValueError, match="Could not locate class 'Popen'"):
        utils.deserialize_keras_object({"module": "subprocess", "class_name": "Popen",
                                        "config": {}})
    assert utils.deserialize_keras_object(config, custom_objects={"system": len}) is len


def test_functional_model_with_registered_layer(tmp_path):
    saving.register_keras_serializable()(Scale)
    inputs = Input((2,))
    model = Model(inputs, Scale(0.5)(layers.Dense(2)(inputs)))
    model.save(tmp_path / "f.keras")
    loaded = saving.load_model(tmp_path / "f.keras")
    assert any(isinstance(layer, Scale) for layer in loaded.layers)


def test_a_registered_layer_named_like_a_builtin_survives_save_and_load(tmp_path):
    @saving.register_keras_serializable(package="Mine")
    class Dense(layers.Dense):  # the same class name as the built-in
        pass

    model = Sequential([Input((3,)), Dense(2)])
    assert layers.serialize(model.layers[0])["registered_name"] == "Mine>Dense"
    assert "registered_name" not in layers.serialize(layers.Dense(2))
    path = tmp_path / "m.keras"
    model.save(path)
    assert type(saving.load_model(path).layers[0]) is Dense
