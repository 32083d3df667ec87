"""Image augmentation layers: inference identity, Keras's transformations, seeds, gradients, configs, models."""

import json

import numpy as np
import pytest

from automl.keras import Input, Sequential, saving, utils
from automl.keras.layers import (
    LAYERS,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from automl.testing import check_layer_gradients

from .helpers import replayed

# Same-shape layers, built with a seed; values of the test images are in [0, 1].
FACTORIES = {
    "RandomFlip": lambda seed=None: RandomFlip(seed=seed),
    "RandomRotation": lambda seed=None: RandomRotation(0.2, seed=seed),
    "RandomZoom": lambda seed=None: RandomZoom(0.3, seed=seed),
    "RandomTranslation": lambda seed=None: RandomTranslation(0.2, 0.3, seed=seed),
    "RandomContrast": lambda seed=None: RandomContrast(0.5, value_range=(0, 1), seed=seed),
    "RandomBrightness": lambda seed=None: RandomBrightness(0.3, value_range=(0, 1), seed=seed),
}
NAMES = sorted(FACTORIES)


def _images(shape=(6, 8, 8, 3), dtype=np.float32, seed=0):
    return np.random.default_rng(seed).random(shape).astype(dtype)


@pytest.mark.parametrize("name", NAMES)
def test_identity_at_inference(name):
    x = _images()
    layer = FACTORIES[name](seed=0)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    np.testing.assert_array_equal(layer(x[0], training=False), x[0])
    upstream = _images(seed=1)
    np.testing.assert_array_equal(layer.backward(upstream), upstream)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_training_changes_images_and_keeps_shape_and_dtype(name, dtype):
    x = _images(dtype=dtype)
    layer = FACTORIES[name](seed=0)
    layer.dtype = np.dtype(dtype).name
    y = layer(x, training=True)
    assert y.shape == x.shape and y.dtype == dtype
    assert not np.allclose(y, x)
    single = layer(x[0], training=True)  # unbatched (height, width, channels)
    assert single.shape == x[0].shape and single.dtype == dtype


def test_flip_horizontal_is_a_left_right_flip_of_some_images():
    x = _images((40, 4, 5, 2))
    y = RandomFlip("horizontal", seed=0)(x, training=True)
    flipped = np.array([np.array_equal(y[i], x[i, :, ::-1]) for i in range(len(x))])
    kept = np.array([np.array_equal(y[i], x[i]) for i in range(len(x))])
    assert np.all(flipped | kept) and flipped.any() and kept.any()
    np.testing.assert_array_equal(y[flipped], x[flipped][:, :, ::-1])


def test_flip_vertical_and_both():
    x = _images((60, 4, 5, 1))
    y = RandomFlip("vertical", seed=0)(x, training=True)
    assert all(np.array_equal(y[i], x[i]) or np.array_equal(y[i], x[i, ::-1]) for i in range(len(x)))
    y = RandomFlip(seed=0)(x, training=True)
    outcomes = [next(k for k, v in enumerate((x[i], x[i, :, ::-1], x[i, ::-1], x[i, ::-1, ::-1]))
                     if np.array_equal(y[i], v)) for i in range(len(x))]
    assert set(outcomes) == {0, 1, 2, 3}  # independent draws per axis


@pytest.mark.parametrize("layer", [
    RandomRotation(0.0), RandomZoom(0.0), RandomZoom((0.0, 0.0), 0.0), RandomTranslation(0.0, 0.0),
    RandomContrast(0.0, value_range=(0, 1)), RandomBrightness(0.0, value_range=(0, 1)),
], ids=["rotation", "zoom", "zoom_hw", "translation", "contrast", "brightness"])
def test_factor_zero_is_identity(layer):
    x = _images()
    np.testing.assert_allclose(layer(x, training=True), x, rtol=0, atol=1e-6)


def test_rotation_by_a_quarter_turn_is_rot90_counter_clockwise():
    x = _images((3, 6, 6, 2))
    y = RandomRotation((0.25, 0.25), seed=0)(x, training=True)
    np.testing.assert_allclose(y, np.rot90(x, 1, axes=(1, 2)), atol=1e-5)


def test_translation_moves_content_down_and_right():
    x = _images((2, 8, 8, 1))
    y = RandomTranslation((0.25, 0.25), (0.0, 0.0), fill_mode="constant", fill_value=-1.0)(x, training=True)
    np.testing.assert_allclose(y[:, 2:], x[:, :-2], atol=1e-6)
    np.testing.assert_array_equal(y[:, :2], -1.0)
    y = RandomTranslation((0.0, 0.0), (-0.25, -0.25), fill_mode="wrap")(x, training=True)
    np.testing.assert_allclose(y, np.roll(x, -2, axis=2), atol=1e-6)


def test_zoom_out_fills_the_border_and_keeps_the_centre():
    x = _images((2, 9, 9, 1))
    y = RandomZoom((1.0, 1.0), fill_mode="constant", fill_value=5.0)(x, training=True)
    # Zoom factor 2 about the centre (4, 4): output pixel p reads input 4 + 2 * (p - 4).
    np.testing.assert_array_equal(y[:, 0], 5.0)
    np.testing.assert_allclose(y[:, 2:7:2, 2:7:2], x[:, 0:9:4, 0:9:4], atol=1e-6)
    # Zooming in on the height only (row p reads 4 + (p - 4) / 2); the columns stay put.
    y = RandomZoom((-0.5, -0.5), (0.0, 0.0))(x, training=True)
    np.testing.assert_allclose(y[:, 4], x[:, 4], atol=1e-6)
    np.testing.assert_allclose(y[:, 5], 0.5 * (x[:, 4] + x[:, 5]), atol=1e-6)
    np.testing.assert_allclose(y[:, 6], x[:, 5], atol=1e-6)


def test_brightness_is_a_per_image_offset_clipped_to_the_value_range():
    x = _images((50, 5, 5, 3)) * 100.0 + 50.0  # in [50, 150]
    y = RandomBrightness(0.4, value_range=(0, 255), seed=0)(x, training=True)
    assert y.min() >= 0.0 and y.max() <= 255.0
    assert y.min() == 0.0 or y.max() == 255.0  # offsets up to 0.4 * 255 = 102 reach a bound
    inside = (y > 0) & (y < 255)
    offsets = np.where(inside, y - x, np.nan)
    spread = np.nanmax(offsets, axis=(1, 2, 3)) - np.nanmin(offsets, axis=(1, 2, 3))
    assert np.nanmax(spread) < 1e-3 and np.nanmax(np.abs(offsets)) <= 0.4 * 255 + 1e-3
    y = RandomBrightness((1.0, 1.0), value_range=(0, 1))(x / 255.0, training=True)
    np.testing.assert_array_equal(y, 1.0)  # factor 1: white


def test_contrast_scales_the_deviation_from_each_channel_mean():
    x = _images((30, 6, 6, 3)) * 0.2 + 0.4  # in [0.4, 0.6], far from the bounds
    y = RandomContrast(0.5, value_range=(0, 1), seed=0)(x, training=True)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y.mean(axis=(1, 2), keepdims=True), mean, atol=1e-5)
    ratio = ((y - mean) * (x - mean)).sum(axis=(1, 2, 3)) / ((x - mean) ** 2).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(y - mean, ratio[:, None, None, None] * (x - mean), atol=1e-5)
    assert ratio.min() >= 0.5 - 1e-5 and ratio.max() <= 1.5 + 1e-5 and np.ptp(ratio) > 0.3
    wide = _images((10, 6, 6, 3)) * 255.0
    y = RandomContrast((1.0, 1.0), seed=0)(wide, training=True)
    assert y.min() >= 0.0 and y.max() <= 255.0  # clipped to the default value_range (0, 255)


def test_random_crop_training_takes_one_window_for_the_batch():
    x = _images((4, 7, 9, 2))
    layer = RandomCrop(4, 5, seed=0)
    windows = set()
    for _ in range(20):
        y = layer(x, training=True)
        assert y.shape == (4, 4, 5, 2)
        hits = [(t, left) for t in range(4) for left in range(5)
                if np.array_equal(y, x[:, t:t + 4, left:left + 5])]
        assert len(hits) == 1
        windows.add(hits[0])
    assert len(windows) > 5
    # Images not larger than the window along both axes: the centre window, no draw.
    np.testing.assert_array_equal(RandomCrop(7, 9, seed=0)(x, training=True), x)


def test_random_crop_inference_resizes_the_largest_centred_window():
    x = _images((2, 6, 8, 3))
    layer = RandomCrop(3, 3)
    assert layer.compute_output_shape((None, 6, 8, 3)) == (None, 3, 3, 3)
    y = layer(x)
    # The 6 x 6 centre window (columns 1..6) halved: bilinear with half-pixel centres
    # averages each 2 x 2 block.
    window = x[:, :, 1:7]
    expected = window.reshape(2, 3, 2, 3, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(y, expected, atol=1e-6)
    np.testing.assert_allclose(layer(x[0]), expected[0], atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_seeded_layers_repeat_their_draws(name):
    x = _images()
    a = FACTORIES[name](seed=3)(x, training=True)
    b = FACTORIES[name](seed=3)(x, training=True)
    c = FACTORIES[name](seed=4)(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    layer = FACTORIES[name](seed=3)
    assert not np.array_equal(layer(x, training=True), layer(x, training=True))


@pytest.mark.parametrize("name", NAMES)
def test_unseeded_layers_follow_set_random_seed(name):
    x = _images()
    utils.set_random_seed(5)
    a = FACTORIES[name]()(x, training=True)
    utils.set_random_seed(5)
    b = FACTORIES[name]()(x, training=True)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("factory, shape", [
    (replayed(RandomFlip, seed=1), (4, 3, 4, 2)),
    (replayed(RandomFlip, "horizontal", seed=1), (4, 3, 4)),
    (replayed(RandomRotation, 0.2, seed=1), (3, 5, 4, 2)),
    (replayed(RandomRotation, 0.2, fill_mode="constant", fill_value=0.5, seed=1), (3, 5, 4, 2)),
    (replayed(RandomRotation, 0.2, interpolation="nearest", fill_mode="wrap", seed=1), (3, 5, 4, 2)),
    (replayed(RandomRotation, 0.2, seed=1), (5, 4, 2)),
    (replayed(RandomZoom, 0.3, seed=2), (3, 5, 6, 2)),
    (replayed(RandomZoom, 0.3, (-0.2, 0.4), fill_mode="nearest", seed=2), (3, 5, 6, 2)),
    (replayed(RandomTranslation, 0.3, 0.2, seed=3), (3, 5, 6, 2)),
    (replayed(RandomTranslation, 0.3, 0.2, fill_mode="constant", interpolation="nearest", seed=3),
     (3, 5, 6, 2)),
    (replayed(RandomContrast, 0.5, value_range=(-1.5, 1.5), seed=3), (3, 4, 4, 2)),
    (replayed(RandomBrightness, 0.3, value_range=(-1.5, 1.5), seed=3), (3, 4, 4, 2)),
    (replayed(RandomCrop, 3, 2, seed=3), (2, 5, 4, 2)),
    (replayed(RandomCrop, 4, 6, seed=3), (2, 5, 4, 2)),
], ids=["flip", "flip_unbatched", "rotation", "rotation_constant", "rotation_nearest_wrap",
        "rotation_unbatched", "zoom", "zoom_hw_nearest", "translation", "translation_constant_nearest",
        "contrast", "brightness", "crop", "crop_resized"])
def test_gradients_use_the_draw_of_the_last_training_call(factory, shape):
    check_layer_gradients(factory, shape)


def test_random_crop_inference_gradient():
    check_layer_gradients(lambda: RandomCrop(4, 6), (2, 5, 4, 2), training=False)


def test_no_input_gradient_when_not_needed():
    layer = RandomRotation(0.1, seed=0)
    x = _images()
    layer(x, training=True)
    layer._input_grad_needed = False
    assert layer.backward(x) is None


@pytest.mark.parametrize("make, match", [
    (lambda: RandomRotation(1.5), "'factor' parameter of RandomRotation"),
    (lambda: RandomRotation((0.1, 0.2, 0.3)), "'factor' parameter of RandomRotation"),
    (lambda: RandomRotation(0.1, fill_mode="mirror"), "'fill_mode' parameter"),
    (lambda: RandomZoom(0.1, interpolation="bicubic"), "'interpolation' parameter"),
    (lambda: RandomZoom(0.1, width_factor=-2), "'width_factor' parameter of RandomZoom"),
    (lambda: RandomTranslation(0.1, "x"), "'width_factor' parameter of RandomTranslation"),
    (lambda: RandomFlip("diagonal"), "'mode' parameter of RandomFlip"),
    (lambda: RandomContrast(-0.1), "'factor' parameter of RandomContrast"),
    (lambda: RandomBrightness(0.1, value_range=(1, 1)), "'value_range' parameter"),
    (lambda: RandomCrop(0, 3), "'height' parameter of RandomCrop"),
    (lambda: RandomFlip(seed=-1), "'seed' parameter of RandomFlip"),
    (lambda: RandomFlip(data_format="channels_first"), "channels_last"),
])
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_non_image_inputs_raise():
    with pytest.raises(ValueError, match="expects images"):
        RandomFlip(seed=0)(np.zeros((4, 5)), training=True)


ALL_LAYERS = [
    RandomFlip("horizontal", seed=1),
    RandomRotation((-0.1, 0.2), fill_mode="constant", interpolation="nearest", seed=2, fill_value=0.5),
    RandomZoom(0.2, (0.1, 0.3), fill_mode="wrap"),
    RandomTranslation(0.1, (-0.2, 0.1), fill_mode="nearest", seed=3),
    RandomContrast((0.1, 0.4), value_range=(0, 1), seed=4),
    RandomBrightness(0.2, value_range=(255, 0)),
    RandomCrop(5, 4, seed=6),
]


@pytest.mark.parametrize("layer", ALL_LAYERS, ids=lambda la: type(la).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    json.dumps(config)
    clone = LAYERS.get({"class_name": type(layer).__name__, "config": config})
    assert type(clone) is type(layer) and clone.get_config() == config
    assert type(layer).from_config(config).get_config() == config


def _tutorial_model():
    return Sequential([
        Input((16, 16, 3)),
        RandomFlip("horizontal"),
        RandomRotation(0.1),
        RandomZoom(0.1),
        Conv2D(4, 3, activation="relu"),
        GlobalAveragePooling2D(),
        Dense(2, activation="softmax"),
    ])


@pytest.fixture(scope="module")
def tutorial_data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 16, 16, 3)).astype(np.float32)
    y = (x[:, :, :8].mean(axis=(1, 2, 3)) > x[:, :, 8:].mean(axis=(1, 2, 3))).astype(int)
    return x, y


def test_tutorial_pipeline_fits_and_predicts_deterministically(tutorial_data):
    x, y = tutorial_data
    utils.set_random_seed(0)
    model = _tutorial_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    first = model.predict(x, verbose=0)
    assert first.shape == (64, 2)
    np.testing.assert_array_equal(model.predict(x, verbose=0), first)
    # Same seed, same augmented training: identical weights.
    utils.set_random_seed(0)
    again = _tutorial_model()
    again.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    again.fit(x, y, batch_size=16, epochs=2, verbose=0)
    np.testing.assert_array_equal(again.predict(x, verbose=0), first)


def test_nested_data_augmentation_block_as_in_the_tutorials(tutorial_data):
    x, y = tutorial_data
    utils.set_random_seed(0)
    data_augmentation = Sequential([RandomFlip("horizontal"), RandomRotation(0.1), RandomZoom(0.1)])
    model = Sequential([Input((16, 16, 3)), data_augmentation, Conv2D(4, 3, activation="relu"),
                        GlobalAveragePooling2D(), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    np.testing.assert_array_equal(data_augmentation(x), x)
    assert not np.array_equal(data_augmentation(x, training=True), x)


def test_model_with_augmentation_saves_and_loads(tutorial_data, tmp_path):
    x, y = tutorial_data
    utils.set_random_seed(1)
    model = Sequential([Input((16, 16, 3)), RandomFlip("horizontal", seed=1), RandomTranslation(0.1, 0.1),
                        RandomContrast(0.2, value_range=(0, 1)), RandomBrightness(0.1, value_range=(0, 1)),
                        RandomCrop(12, 12), Conv2D(4, 3, activation="relu"), GlobalAveragePooling2D(),
                        Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    path = tmp_path / "augmented.keras"
    model.save(path)
    loaded = saving.load_model(str(path))
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
