"""Files written by Keras itself load and predict what Keras predicted.

The fixtures in ``fixtures/keras_files`` were written by Keras 3.15 (torch
backend) and tf.keras 2.21 with ``fixtures/make_fixtures.py``; each ``.npz``
holds the inputs and Keras's predictions.
"""

import os
import warnings

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, saving

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras_files")
MODELS = ["mlp_dropout", "cnn_batchnorm", "embedding_lstm", "bidirectional_gru", "two_inputs",
          "builder_mlp", "builder_cnn", "masking_lstm"]


def _reference(name):
    with np.load(os.path.join(FIXTURES, name + ".npz")) as ref:
        xs = [ref[k] for k in sorted(ref.files) if k.startswith("x")]
        return (xs if len(xs) > 1 else xs[0]), ref["y"]


def _path(name):
    return os.path.join(FIXTURES, name)


def _same_architecture(name):
    """The fixture's model built in code with automl.keras (fresh weights)."""
    if name == "mlp_dropout":
        return Sequential([Input(shape=(8,)), layers.Dense(16, activation="relu"),
                           layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
    if name == "two_inputs":
        a, b = Input(shape=(4,)), Input(shape=(3,))
        h = layers.Concatenate()([layers.Dense(5, activation="tanh")(a), b])
        return Model([a, b], layers.Dense(2)(h))
    if name == "bidirectional_gru":
        return Sequential([Input(shape=(5, 3)), layers.Bidirectional(layers.GRU(4, return_sequences=True)),
                           layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
    raise KeyError(name)


@pytest.mark.parametrize("suffix", [".keras", ".h5", "_k2.h5"],
                         ids=["keras3", "keras3-legacy-h5", "tf-keras-h5"])
@pytest.mark.parametrize("name", MODELS)
def test_keras_model_files_predict_like_keras(name, suffix):
    x, y = _reference(name + ("_k2" if suffix == "_k2.h5" else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no skipped optimizer state, no dropped options
        model = saving.load_model(_path(name + suffix))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)
    # compile=True restored the loss and the optimizer state (one epoch of 3 batches).
    assert model.compiled and model.optimizer.iterations == 3
    assert model.get_compile_config()["loss"] is not None


@pytest.mark.parametrize("name", MODELS)
def test_compile_false_and_training_continues(name):
    x, y = _reference(name)
    model = saving.load_model(_path(name + ".keras"), compile=False)
    assert not model.compiled
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)
    trained = saving.load_model(_path(name + ".keras"))
    target = y if trained.get_compile_config()["loss"] in ("mse", "binary_crossentropy") else (
        np.argmax(y, axis=-1))
    trained.fit(x, target, epochs=1, batch_size=4, verbose=0)
    assert trained.optimizer.iterations == 6


@pytest.mark.parametrize("name", ["mlp_dropout", "two_inputs", "bidirectional_gru"])
def test_keras_weights_files_load_into_models_built_in_code(name):
    x, y = _reference(name)
    model = _same_architecture(name)
    model.load_weights(_path(name + ".weights.h5"))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)
    # tf.keras's .weights.h5 (Keras 3's layout) and its legacy weights file (by
    # topological order, and by layer name).
    x2, y2 = _reference(name + "_k2")
    for weights in ("_k2.weights.h5", "_k2_weights.h5"):
        model = _same_architecture(name)
        model.load_weights(_path(name + weights))
        np.testing.assert_allclose(model.predict(x2, verbose=0), y2, atol=1e-5)
    model = saving.load_model(_path(name + "_k2.h5"))  # its layer names match the weights file
    fresh = Model.from_config(model.get_config()) if name == "two_inputs" else \
        Sequential.from_config(model.get_config())
    fresh.load_weights(_path(name + "_k2_weights.h5"), by_name=True)
    np.testing.assert_allclose(fresh.predict(x2, verbose=0), y2, atol=1e-5)


def test_legacy_weights_by_name_and_skip_mismatch(tmp_path):
    x, y = _reference("mlp_dropout_k2")
    names = [layer.name for layer in saving.load_model(_path("mlp_dropout_k2.h5")).layers]
    dense, dense_1 = [n for n in names if n.startswith("dense")]
    # by_name: a model whose layers come in another order but keep their names.
    other = Sequential([Input(shape=(8,)), layers.Dense(16, activation="relu", name=dense),
                        layers.Dense(3, activation="softmax", name=dense_1)])
    other.load_weights(_path("mlp_dropout_k2_weights.h5"), by_name=True)
    np.testing.assert_allclose(other.predict(x, verbose=0), y, atol=1e-5)
    # A layer of another shape: an error naming it, or skipped with a warning.
    wider = Sequential([Input(shape=(8,)), layers.Dense(17, activation="relu", name=dense),
                        layers.Dense(3, activation="softmax", name=dense_1)])
    with pytest.raises(ValueError, match=rf"mlp_dropout_k2_weights\.h5.*shape \(8, 16\).*{dense}"):
        wider.load_weights(_path("mlp_dropout_k2_weights.h5"))
    with pytest.warns(UserWarning, match=f"Skipping layer '{dense}'"):
        wider.load_weights(_path("mlp_dropout_k2_weights.h5"), by_name=True, skip_mismatch=True)
    # Topological order with a different number of layers: a clear error.
    deeper = Sequential([Input(shape=(8,)), layers.Dense(16), layers.Dense(16), layers.Dense(3)])
    with pytest.raises(ValueError, match="weights for 2 layers but model .* has 3 layers"):
        deeper.load_weights(_path("mlp_dropout_k2_weights.h5"))


def test_keras3_weights_file_mismatch(tmp_path):
    wrong = Sequential([Input(shape=(8,)), layers.Dense(15, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match=r"mlp_dropout\.weights\.h5.*layers/dense/vars/0.*shape"):
        wrong.load_weights(_path("mlp_dropout.weights.h5"))
    with pytest.warns(UserWarning, match="Skipping a weight"):
        wrong.load_weights(_path("mlp_dropout.weights.h5"), skip_mismatch=True)


def test_functional_masking_ops_nodes():
    """Keras 3 writes Masking -> LSTM in a functional model with NotEqual/Any op nodes."""
    x, y = _reference("functional_masking")
    model = saving.load_model(_path("functional_masking.keras"))
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Masking", "LSTM"]
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)


def _edited(name, edit):
    import io
    import json
    import zipfile

    with zipfile.ZipFile(_path(name)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for n, data in members.items():
            archive.writestr(n, data)
    buf.seek(0)
    return buf


def test_unsupported_options_are_named_and_neutral_ones_dropped():
    def renorm(config):
        config["config"]["layers"][2]["config"]["renorm"] = True

    with pytest.raises(ValueError, match=r"layer 'batch_normalization\w*' \(BatchNormalization\) "
                                         r"has the option renorm=True.*cannot be loaded yet"):
        saving.load_model(_edited("cnn_batchnorm.keras", renorm))

    def mixed(config):
        config["config"]["layers"][1]["config"]["dtype"]["config"]["name"] = "mixed_float16"

    x, y = _reference("mlp_dropout")
    with pytest.warns(UserWarning, match="mixed-precision policy 'mixed_float16' is loaded as float32"):
        model = saving.load_model(_edited("mlp_dropout.keras", mixed))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)
