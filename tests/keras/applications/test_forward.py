"""Forward equality with real Keras on fixtures Keras wrote itself (fixtures/make_fixtures.py).

File fixtures: small models whose random weights Keras saved (``save_weights``
or the legacy layout of its published ImageNet files) load through
``weights=PATH`` and reproduce Keras's outputs. Formula fixtures: larger models
whose weights are regenerated from a hash formula, set layer by layer in
``model.layers`` order (which checks the weight order too).
"""

import os

import numpy as np
import pytest

from automl.keras import applications, backend

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")

FILE_FIXTURES = {
    "mobilenet_v2_a035_96.weights.h5": ("MobileNetV2", {"input_shape": (96, 96, 3),
                                                        "alpha": 0.35, "classes": 10}),
    "mobilenet_v3_small_min_64.weights.h5": ("MobileNetV3Small", {
        "input_shape": (64, 64, 3), "minimalistic": True, "alpha": 0.5, "classes": 10}),
    "mobilenet_v3_small_a075_notop.h5": ("MobileNetV3Small", {
        "input_shape": (64, 64, 3), "alpha": 0.75, "include_top": False, "pooling": "avg"}),
    "mobilenet_a025_64.h5": ("MobileNet", {"input_shape": (64, 64, 3), "alpha": 0.25,
                                           "classes": 10}),
}
FORMULA_FIXTURES = {
    "resnet50_32_notop": ("ResNet50", {"input_shape": (32, 32, 3), "include_top": False}),
    "resnet50v2_32_avg": ("ResNet50V2", {"input_shape": (32, 32, 3), "include_top": False,
                                         "pooling": "avg"}),
    "efficientnetb0_64_notop": ("EfficientNetB0", {"input_shape": (64, 64, 3),
                                                   "include_top": False}),
    "efficientnetb0_32_top10": ("EfficientNetB0", {"input_shape": (32, 32, 3), "classes": 10}),
    "vgg16_32_max": ("VGG16", {"input_shape": (32, 32, 3), "include_top": False,
                               "pooling": "max"}),
    "densenet121_32_notop": ("DenseNet121", {"input_shape": (32, 32, 3),
                                             "include_top": False}),
    "inception_v3_75_notop": ("InceptionV3", {"input_shape": (75, 75, 3),
                                              "include_top": False}),
    "xception_71_notop": ("Xception", {"input_shape": (71, 71, 3), "include_top": False}),
    "mobilenet_v3_large_32_top10": ("MobileNetV3Large", {"input_shape": (32, 32, 3),
                                                         "classes": 10}),
}


def hashed(n, k):
    """The fixture script's weight formula: n values in [-0.5, 0.5) hashed from (index, k)."""
    i = np.arange(n, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64(k) * np.uint64(40503) + np.uint64(12345)) \
        % np.uint64(2 ** 32)
    h = ((h ^ (h >> np.uint64(13))) * np.uint64(1274126177)) % np.uint64(2 ** 32)
    h = h ^ (h >> np.uint64(16))
    return (h.astype(np.float64) / 2.0 ** 32 - 0.5).astype(np.float32)


def assert_close(ours, keras):
    scale = max(1.0, float(np.abs(keras).max()))
    np.testing.assert_allclose(ours, keras, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("file_name", sorted(FILE_FIXTURES))
def test_keras_weight_file_reproduces_keras_outputs(file_name):
    ctor, kwargs = FILE_FIXTURES[file_name]
    data = np.load(os.path.join(FIXTURES, file_name.split(".")[0] + ".npz"))
    model = getattr(applications, ctor)(weights=os.path.join(FIXTURES, file_name), **kwargs)
    assert_close(model.predict(data["x"], verbose=0), data["y"])


def test_a_weight_file_for_another_architecture_is_refused():
    path = os.path.join(FIXTURES, "mobilenet_a025_64.h5")
    with pytest.raises(ValueError):
        applications.MobileNet(weights=path, input_shape=(64, 64, 3), alpha=0.5, classes=10)


@pytest.mark.parametrize("key", sorted(FORMULA_FIXTURES))
def test_architecture_with_formula_weights_reproduces_keras_outputs(key):
    ctor, kwargs = FORMULA_FIXTURES[key]
    data = np.load(os.path.join(FIXTURES, f"formula_{key}.npz"))
    ends = np.cumsum(data["ndim"])
    shapes = [tuple(int(d) for d in data["dims"][e - n:e]) for n, e in zip(data["ndim"], ends)]
    backend.clear_session()
    model = getattr(applications, ctor)(weights=None, **kwargs)
    k = 0
    for layer in (layer for layer in model.layers if layer.weights):
        values = []
        for w in layer.get_weights():
            assert tuple(w.shape) == shapes[k], (layer.name, k)
            if np.isnan(data["offset"][k]):
                values.append(w)  # e.g. Normalization's count
            else:
                values.append((data["offset"][k] + data["amp"][k] * hashed(w.size, k))
                              .astype(np.float32).reshape(w.shape))
            k += 1
        layer.set_weights(values)
    assert k == len(shapes)
    assert_close(model.predict(data["x"], verbose=0), data["y"])
