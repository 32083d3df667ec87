"""Archives written by earlier automl versions (zip of JSON + ``model.weights.npz``) still load."""

import os

import numpy as np

from automl.keras import Input, Sequential, layers, models

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "automl_v1")


def _reference():
    with np.load(os.path.join(FIXTURES, "mlp_reference.npz")) as ref:
        return {key: ref[key] for key in ref.files}


def test_old_archive_loads_with_predictions_and_optimizer_state():
    ref = _reference()
    model = models.load_model(os.path.join(FIXTURES, "mlp.keras"))
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], atol=1e-5)
    assert model.compiled and model.optimizer.iterations == int(ref["iterations"])
    # The restored optimizer state lets training continue.
    model.fit(ref["x"], (ref["y"] > 0.5).astype("float32"), epochs=1, verbose=0)
    assert model.optimizer.iterations == int(ref["iterations"]) + 1


def test_old_weights_file_loads_into_a_model_built_in_code():
    ref = _reference()
    model = Sequential([Input(shape=(4,)), layers.Dense(5, activation="relu"),
                        layers.BatchNormalization(), layers.Dropout(0.2),
                        layers.Dense(1, activation="sigmoid")])
    model.load_weights(os.path.join(FIXTURES, "mlp.weights.npz"))
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], atol=1e-5)


def test_old_archive_under_an_h5_name(tmp_path):
    """Earlier automl versions wrote the same zip for .h5 names: the content decides."""
    ref = _reference()
    path = tmp_path / "old.h5"
    with open(os.path.join(FIXTURES, "mlp.keras"), "rb") as src:
        path.write_bytes(src.read())
    model = models.load_model(path)
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], atol=1e-5)
    model.load_weights(path)  # load_weights reads whole-model archives too
