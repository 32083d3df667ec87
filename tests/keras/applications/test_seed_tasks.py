"""Seed tutorial tasks 23 (VGG16 base + new head, frozen) and 26 (ResNet50), import prefix changed."""

import numpy as np

from automl.keras import Sequential, saving
from automl.keras.applications import VGG16, ResNet50
from automl.keras.layers import Dense, GlobalAveragePooling2D


def _transfer_model(base):
    base.trainable = False
    model = Sequential([base, GlobalAveragePooling2D(), Dense(256, activation="relu"),
                        Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_task_23_frozen_vgg16_base_trains_only_the_head():
    base = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    model = _transfer_model(base)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(16, 32, 32, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, size=16)]
    model.predict(x[:1], verbose=0)  # builds the head, as Keras does on first use
    base_before = [w.copy() for w in base.get_weights()]
    head_before = [w.copy() for w in model.layers[2].get_weights()]
    assert len(head_before) == 2
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(np.array_equal(a, b) for a, b in zip(base_before, base.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(head_before,
                                                        model.layers[2].get_weights()))
    assert model.count_params() == 14714688 + 512 * 256 + 256 + 256 * 10 + 10
    assert len(model.trainable_weights) == 4


def test_task_23_with_a_local_weight_file(tmp_path):
    source = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = str(tmp_path / "vgg16_notop.weights.h5")
    saving.save_weights(source, path)
    base = VGG16(weights=path, include_top=False, input_shape=(32, 32, 3))
    assert all(np.array_equal(a, b) for a, b in zip(source.get_weights(), base.get_weights()))
    model = _transfer_model(base)
    x = np.zeros((2, 32, 32, 3), "float32")
    assert model.predict(x, verbose=0).shape == (2, 10)


def test_task_26_resnet50_builds_and_predicts():
    model = ResNet50(weights=None)
    assert model.input_shape == (None, 224, 224, 3) and model.output_shape == (None, 1000)
    probs = model.predict(np.random.default_rng(0).uniform(-1, 1, (1, 224, 224, 3)), verbose=0)
    assert probs.shape == (1, 1000)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
