"""Errors of the ONNX export: unmapped layers and activations, unsupported models, missing onnx."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, activations, layers


def test_unmapped_layer_is_named(tmp_path):
    inputs = Input(shape=(5,))
    hidden = layers.Dense(4)(inputs)
    out = layers.Lambda(lambda t: t * 2, name="doubler")(hidden)
    model = Model(inputs, out)
    with pytest.raises(ValueError, match=r"layer 'doubler' \(Lambda\).*no ONNX mapping"):
        model.export(str(tmp_path / "m.onnx"))
    assert not (tmp_path / "m.onnx").exists()


def test_unmapped_layer_nested_in_a_sequential(tmp_path):
    inner = Sequential([Input(shape=(4,)), layers.Dense(2), layers.RepeatVector(3),
                        layers.Lambda(lambda t: t + 1.0, name="inner_lambda")])
    model = Sequential([Input(shape=(4,)), inner])
    with pytest.raises(ValueError, match=r"layer 'inner_lambda' \(Lambda\)"):
        model.export(str(tmp_path / "m.onnx"))


class _Twice(activations.Activation):
    __name__ = "twice"

    def forward(self, z):
        return z * 2

    def backward(self, grad, y, z):
        return grad * 2


def test_custom_activation_is_refused(tmp_path):
    model = Sequential([Input(shape=(4,)), layers.Dense(3, activation=_Twice(), name="custom")])
    with pytest.raises(ValueError, match=r"layer 'custom' \(Dense\).*activation 'twice' has no ONNX mapping"):
        model.export(str(tmp_path / "m.onnx"))


def test_other_formats_are_refused(tmp_path):
    model = Sequential([Input(shape=(4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"'format'.*'onnx'.*Got 'tf_saved_model'"):
        model.export(str(tmp_path / "m"), format="tf_saved_model")


def test_unbuilt_model_is_refused(tmp_path):
    model = Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="before it is built"):
        model.export(str(tmp_path / "m.onnx"))


def test_subclassed_model_is_refused(tmp_path):
    class Doubler(Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x) * 2

    model = Doubler()
    model(np.ones((1, 3), dtype="float32"))
    with pytest.raises(ValueError, match="subclassed"):
        model.export(str(tmp_path / "m.onnx"))


def test_missing_onnx_names_the_extra(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["onnx"] = None  # import onnx now raises ImportError
        from automl.keras import Input, Sequential, layers
        model = Sequential([Input(shape=(4,)), layers.Dense(2)])
        try:
            model.export({str(tmp_path / "m.onnx")!r})
        except ImportError as error:
            print("IMPORT-ERROR:", error)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'pip install "automl[onnx]"' in result.stdout
    assert not (tmp_path / "m.onnx").exists()


def test_activation_registry_has_no_unexpected_gap():
    from automl.keras.export._activations import ACTIVATION_CONVERTERS

    missing = set(activations.ACTIVATIONS.names()) - set(ACTIVATION_CONVERTERS)
    assert missing == set()


@pytest.mark.parametrize("opset", [18, 20])
def test_other_opsets_are_converted(opset, tmp_path):
    import onnx
    import onnxruntime as ort

    model = Sequential([Input(shape=(3, 4)), layers.LayerNormalization(), layers.Dense(3, activation="gelu"),
                        layers.GlobalAveragePooling1D()])
    path = tmp_path / "m.onnx"
    model.export(str(path), opset_version=opset)
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == opset
    x = np.random.default_rng(0).normal(size=(5, 3, 4)).astype("float32")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-5, rtol=1e-5)


def test_input_signature_and_bad_opsets_are_refused(tmp_path):
    model = Sequential([Input(shape=(4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="input_signature"):
        model.export(str(tmp_path / "m.onnx"), input_signature=[(None, 4)])
    with pytest.raises(ValueError, match="opset_version"):
        model.export(str(tmp_path / "m.onnx"), opset_version="17")
