"""preprocessing.image: ImageDataGenerator transforms, normalization, flow() and training on it."""

import numpy as np
import pytest

from automl.keras import Sequential, utils
from automl.keras.layers import Conv2D, Dense, Flatten, Input
from automl.keras.preprocessing.image import (
    ImageDataGenerator,
    NumpyArrayIterator,
    apply_affine_transform,
)
from automl.keras.utils import PyDataset


def _image(h=6, w=6, c=1, seed=0):
    return np.random.default_rng(seed).random((h, w, c)).astype(np.float32)


# -- single transforms against exact expectations ----------------------------------------


def test_flips_reverse_the_axes():
    x = _image(5, 7, 3)
    gen = ImageDataGenerator()
    np.testing.assert_array_equal(gen.apply_transform(x, {"flip_horizontal": True}), x[:, ::-1])
    np.testing.assert_array_equal(gen.apply_transform(x, {"flip_vertical": True}), x[::-1])
    both = gen.apply_transform(x, {"flip_horizontal": True, "flip_vertical": True})
    np.testing.assert_array_equal(both, x[::-1, ::-1])


def test_random_flips_flip_about_half_of_the_images():
    x = np.stack([_image(4, 4, 1, seed=i) for i in range(200)])
    out, _ = ImageDataGenerator(horizontal_flip=True).flow(x, np.zeros(200), batch_size=200, shuffle=False,
                                                           seed=0)[0]
    same = np.all(out == x, axis=(1, 2, 3))
    flipped = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same ^ flipped)
    assert 70 < flipped.sum() < 130


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("size", [5, 6])
def test_quarter_turns_equal_rot90(order, size):
    x = _image(size, size, 2)
    gen = ImageDataGenerator(interpolation_order=order)
    for theta, k in ((90, 1), (-90, -1), (180, 2)):
        out = gen.apply_transform(x, {"theta": theta})
        np.testing.assert_allclose(out, np.rot90(x, k, axes=(0, 1)), atol=1e-5)


@pytest.mark.parametrize("order", [0, 1])
def test_whole_pixel_shifts_equal_roll_with_fill(order):
    x = _image(5, 6, 1)
    wrap = ImageDataGenerator(fill_mode="wrap", interpolation_order=order)
    # tx shifts along the columns, ty along the rows; the content moves by -tx / -ty.
    np.testing.assert_allclose(wrap.apply_transform(x, {"tx": 2}), np.roll(x, -2, axis=1), atol=1e-6)
    np.testing.assert_allclose(wrap.apply_transform(x, {"ty": -1}), np.roll(x, 1, axis=0), atol=1e-6)
    constant = ImageDataGenerator(fill_mode="constant", cval=-1.0, interpolation_order=order)
    expected = np.roll(x, 2, axis=1)
    expected[:, :2] = -1.0
    np.testing.assert_allclose(constant.apply_transform(x, {"tx": -2}), expected, atol=1e-6)


@pytest.mark.parametrize(("fill_mode", "expected"), [
    ("constant", [9, 9, 0, 1, 2, 3]),
    ("nearest", [0, 0, 0, 1, 2, 3]),
    ("reflect", [1, 0, 0, 1, 2, 3]),
    ("wrap", [4, 5, 0, 1, 2, 3]),
])
def test_fill_modes_on_a_row(fill_mode, expected):
    row = np.arange(6, dtype=np.float32).reshape(1, 6, 1)
    out = apply_affine_transform(row, tx=-2, fill_mode=fill_mode, cval=9.0)
    np.testing.assert_allclose(out[0, :, 0], expected, atol=1e-6)


def test_resampling_matches_scipy_ndimage_for_every_fill_mode():
    ndimage = pytest.importorskip("scipy.ndimage")
    from automl.keras.backend.image import affine_matrices, affine_resample

    rng = np.random.default_rng(1)
    n, h, w = 6, 7, 9
    x = rng.standard_normal((n, h, w, 2))
    m = affine_matrices(h, w, rng.uniform(-40, 40, n), rng.uniform(-3, 3, n), rng.uniform(-3, 3, n),
                        rng.uniform(-20, 20, n), rng.uniform(0.7, 1.3, n), rng.uniform(0.7, 1.3, n))
    for ours_mode, scipy_mode in (("constant", "constant"), ("nearest", "nearest"), ("reflect", "reflect"),
                                  ("wrap", "grid-wrap")):
        for order in (0, 1):
            out = affine_resample(x, m, ours_mode, cval=0.5, order=order)
            for i in range(n):
                # scipy works in (row, col) coordinates: swap x and y in the matrix.
                matrix = m[i][[1, 0]][:, [1, 0]]
                offset = m[i][[1, 0], 2]
                for ch in range(2):
                    ref = ndimage.affine_transform(x[i, :, :, ch], matrix, offset, order=order, mode=scipy_mode,
                                                   cval=0.5)
                    np.testing.assert_allclose(out[i, :, :, ch], ref, atol=1e-10)


def test_zoom_one_is_identity_and_zoom_half_magnifies_about_the_centre():
    x = _image(5, 5, 1)
    gen = ImageDataGenerator()
    np.testing.assert_array_equal(gen.apply_transform(x, {"zx": 1.0, "zy": 1.0}), x)
    out = gen.apply_transform(x, {"zx": 0.5, "zy": 0.5})
    # Output pixel (r, c) samples the input at centre + (offset / 2).
    for r, c in ((0, 0), (4, 4), (2, 4), (0, 2), (2, 2)):
        assert out[r, c, 0] == pytest.approx(x[2 + (r - 2) // 2, 2 + (c - 2) // 2, 0], abs=1e-6)
    batch = np.stack([x] * 4)
    out, _ = ImageDataGenerator(zoom_range=0.0).flow(batch, np.zeros(4), shuffle=False, seed=0)[0]
    np.testing.assert_array_equal(out, batch)


def test_width_shift_moves_horizontally_and_height_shift_vertically():
    x = np.stack([_image(6, 6, 1, seed=i) for i in range(40)])
    for kwargs, axis in (({"width_shift_range": [2]}, 2), ({"height_shift_range": [2]}, 1)):
        gen = ImageDataGenerator(fill_mode="wrap", **kwargs)
        out, _ = gen.flow(x, np.zeros(40), batch_size=40, shuffle=False, seed=0)[0]
        left = np.all(np.isclose(out, np.roll(x, -2, axis=axis), atol=1e-6), axis=(1, 2, 3))
        right = np.all(np.isclose(out, np.roll(x, 2, axis=axis), atol=1e-6), axis=(1, 2, 3))
        assert np.all(left | right) and left.any() and right.any()


def test_channel_shift_and_brightness():
    x = np.linspace(0.0, 1.0, 12, dtype=np.float32).reshape(2, 2, 3)
    gen = ImageDataGenerator()
    np.testing.assert_allclose(gen.apply_transform(x, {"channel_shift_intensity": 0.25}),
                               np.clip(x + 0.25, 0.0, 1.0), atol=1e-6)
    pixels = np.array([[[0.0], [100.0]], [[200.0], [250.0]]], dtype=np.float32)
    np.testing.assert_allclose(gen.apply_transform(pixels, {"brightness": 0.5}), pixels * 0.5, atol=1e-4)
    np.testing.assert_allclose(gen.apply_transform(pixels, {"brightness": 2.0}),
                               np.minimum(pixels * 2, 255), atol=1e-4)


def test_random_transform_parameters_stay_in_their_ranges():
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.25, height_shift_range=3.0, shear_range=10,
                             zoom_range=[0.8, 1.2], channel_shift_range=0.1, brightness_range=(0.5, 1.5))
    params = [gen.get_random_transform((8, 20, 1), seed=s) for s in range(50)]
    assert set(params[0]) == {"theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical",
                              "channel_shift_intensity", "brightness"}
    assert all(abs(p["theta"]) <= 30 and abs(p["shear"]) <= 10 for p in params)
    assert all(abs(p["tx"]) <= 0.25 * 20 and abs(p["ty"]) <= 3.0 for p in params)
    assert max(abs(p["tx"]) for p in params) > 3.0  # a fraction of the width (20), not of the height
    assert all(0.8 <= p["zx"] <= 1.2 and 0.8 <= p["zy"] <= 1.2 for p in params)
    assert all(0.5 <= p["brightness"] <= 1.5 and abs(p["channel_shift_intensity"]) <= 0.1 for p in params)
    assert gen.get_random_transform((8, 20, 1), seed=3) == params[3]
    x = _image(8, 20, 1)
    np.testing.assert_array_equal(gen.random_transform(x, seed=7), gen.random_transform(x, seed=7))


# -- normalization ---------------------------------------------------------------------------


def test_rescale_and_preprocessing_function_order():
    x = np.full((2, 3, 3, 1), 4.0, dtype=np.float32)
    gen = ImageDataGenerator(rescale=0.5, preprocessing_function=lambda img: img + 1.0)
    np.testing.assert_allclose(gen.standardize(x.copy()), np.full_like(x, 2.5))  # (4 + 1) * 0.5
    out = ImageDataGenerator(rescale=1 / 255).flow(np.full((3, 2, 2, 1), 255, np.uint8), shuffle=False)[0]
    np.testing.assert_allclose(out, 1.0, rtol=1e-6)
    assert out.dtype == np.float32


def test_featurewise_center_and_std_after_fit_equal_manual_stats():
    rng = np.random.default_rng(0)
    x = rng.random((30, 5, 4, 3)).astype(np.float32) * [1.0, 10.0, 100.0]
    with pytest.warns(UserWarning, match="overrides"):
        gen = ImageDataGenerator(featurewise_std_normalization=True, rescale=0.5)
    assert gen.featurewise_center
    gen.fit(x)
    scaled = x * 0.5
    mean = scaled.mean(axis=(0, 1, 2))
    std = scaled.std(axis=(0, 1, 2))
    np.testing.assert_allclose(gen.mean.ravel(), mean, rtol=1e-5)
    np.testing.assert_allclose(gen.std.ravel(), std, rtol=1e-4)
    out = gen.flow(x, batch_size=30, shuffle=False)[0]
    np.testing.assert_allclose(out, (scaled - mean) / (std + 1e-6), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)


def test_featurewise_options_warn_before_fit():
    gen = ImageDataGenerator(featurewise_center=True)
    with pytest.warns(UserWarning, match="hasn't been fit"):
        gen.standardize(np.ones((1, 2, 2, 1), np.float32))


def test_samplewise_center_and_std_normalization():
    rng = np.random.default_rng(1)
    x = (rng.random((4, 6, 6, 3)) * np.array([1, 5, 20, 100]).reshape(4, 1, 1, 1)).astype(np.float32)
    out = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True).standardize(x.copy())
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1.0, rtol=1e-4)
    single = ImageDataGenerator(samplewise_center=True).standardize(x[1].copy())
    np.testing.assert_allclose(single, x[1] - x[1].mean(), atol=1e-4)


def test_zca_whitening_decorrelates_the_fitted_data():
    rng = np.random.default_rng(2)
    mix = rng.standard_normal((12, 12))
    x = (rng.standard_normal((400, 12)) @ mix).reshape(400, 2, 2, 3).astype(np.float64)
    with pytest.warns(UserWarning, match="zca_whitening"):
        gen = ImageDataGenerator(zca_whitening=True, dtype="float64")
    gen.fit(x)
    white = gen.standardize(x.copy()).reshape(400, 12)
    cov = white.T @ white / 400
    np.testing.assert_allclose(cov, np.eye(12), atol=0.05)


# -- flow() ------------------------------------------------------------------------------------


def test_flow_is_a_pydataset_and_an_endless_iterator():
    x = np.arange(10 * 2 * 2, dtype=np.float32).reshape(10, 2, 2, 1)
    y = np.arange(10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    assert isinstance(it, (PyDataset, NumpyArrayIterator))
    assert len(it) == 3 and it[2][0].shape == (2, 2, 2, 1)
    labels = [next(it)[1] for _ in range(5)]
    np.testing.assert_array_equal(np.concatenate(labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7])
    with pytest.raises(IndexError, match="out of range"):
        it[3]
    sw = np.linspace(0, 1, 10)
    xb, yb, swb = ImageDataGenerator().flow(x, y, sample_weight=sw, batch_size=4, shuffle=False)[1]
    np.testing.assert_array_equal(yb, [4, 5, 6, 7])
    np.testing.assert_allclose(swb, sw[4:8])
    (images, extra), _ = ImageDataGenerator().flow((x, y * 10), y, batch_size=4, shuffle=False)[0]
    np.testing.assert_array_equal(extra, [0, 10, 20, 30])


def test_shuffle_visits_every_sample_once_per_epoch():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    it = ImageDataGenerator().flow(x, np.arange(10), batch_size=3, seed=0)
    first = np.concatenate([it[i][1] for i in range(len(it))])
    assert sorted(first) == list(range(10)) and list(first) != list(range(10))
    it.on_epoch_end()
    second = np.concatenate([it[i][1] for i in range(len(it))])
    assert sorted(second) == list(range(10)) and list(second) != list(first)


def test_same_seed_same_batches_different_seed_different_batches():
    x = np.stack([_image(8, 8, 1, seed=i) for i in range(16)])
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, zoom_range=0.2, horizontal_flip=True)

    def batches(seed):
        it = gen.flow(x, np.arange(16), batch_size=8, seed=seed)
        return [it[i] for i in range(len(it))] + [next(it)]

    a, b, c = batches(0), batches(0), batches(1)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[0][0], c[0][0])
    utils.set_random_seed(5)
    d = gen.flow(x, np.arange(16), batch_size=8)[0][0]
    utils.set_random_seed(5)
    np.testing.assert_array_equal(gen.flow(x, np.arange(16), batch_size=8)[0][0], d)


def test_validation_split_subsets_are_disjoint_and_sized_right():
    n = 50
    x = np.arange(n, dtype=np.float32).reshape(n, 1, 1, 1)
    y = np.arange(n) % 5
    gen = ImageDataGenerator(validation_split=0.2)
    train = gen.flow(x, y, batch_size=64, subset="training", shuffle=False)
    val = gen.flow(x, y, batch_size=64, subset="validation", shuffle=False)
    train_ids = train[0][0].ravel().astype(int)
    val_ids = val[0][0].ravel().astype(int)
    assert len(train_ids) == 40 and len(val_ids) == 10
    assert set(train_ids).isdisjoint(val_ids) and set(train_ids) | set(val_ids) == set(range(n))
    np.testing.assert_array_equal(val_ids, np.arange(10))  # the first samples, as in Keras
    with pytest.raises(ValueError, match="different classes"):
        gen.flow(x, np.arange(n) // 10, subset="training")
    assert len(gen.flow(x, np.arange(n) // 10, subset="training", ignore_class_split=True)) == 2


def test_fit_with_augment_uses_augmented_samples():
    x = np.stack([_image(6, 6, 1, seed=i) for i in range(8)])
    plain = ImageDataGenerator(featurewise_center=True, channel_shift_range=0.5)
    plain.fit(x)
    augmented = ImageDataGenerator(featurewise_center=True, channel_shift_range=0.5)
    augmented.fit(x, augment=True, rounds=3, seed=0)
    np.testing.assert_allclose(plain.mean.ravel(), x.mean(), rtol=1e-5)
    assert not np.allclose(augmented.mean, plain.mean)


def test_model_trains_on_an_augmented_flow():
    rng = np.random.default_rng(0)
    n = 128
    y = rng.integers(0, 2, n)
    x = rng.normal(0.0, 0.1, (n, 8, 8, 1)).astype(np.float32)
    x[y == 0, 3:5, 1:7] += 1.0  # horizontal bar
    x[y == 1, 1:7, 3:5] += 1.0  # vertical bar
    utils.set_random_seed(0)
    model = Sequential([Input(shape=(8, 8, 1)), Conv2D(4, 3, activation="relu"), Flatten(),
                        Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    datagen = ImageDataGenerator(rotation_range=10, width_shift_range=1, height_shift_range=1, zoom_range=0.1,
                                 fill_mode="constant")
    hist = model.fit(datagen.flow(x, y, batch_size=16, seed=0), epochs=4, verbose=0)
    assert hist.history["loss"][-1] < 0.8 * hist.history["loss"][0]
    assert model.evaluate(x, y, verbose=0)[1] > 0.9


# -- argument errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"fill_mode": "mirror"}, r"'fill_mode' parameter of ImageDataGenerator must be one of 'constant', "
                              r"'nearest', 'reflect', 'wrap'\. Got 'mirror' instead"),
    ({"zoom_range": [1.2, 0.8]}, r"'zoom_range' parameter .* 0 < lower <= upper\. Got \[1.2, 0.8\] instead"),
    ({"zoom_range": "big"}, r"'zoom_range' parameter"),
    ({"data_format": "channels_first"}, r"'data_format' parameter .* 'channels_last'.*Got 'channels_first'"),
    ({"rotation_range": -5}, r"'rotation_range' parameter .* non-negative float\. Got -5 instead"),
    ({"width_shift_range": "wide"}, r"'width_shift_range' parameter"),
    ({"brightness_range": (0.5,)}, r"'brightness_range' parameter .* Got \(0.5,\) instead"),
    ({"validation_split": 1.5}, r"'validation_split' parameter .* \[0, 1\)\. Got 1.5 instead"),
    ({"interpolation_order": 3}, r"'interpolation_order' parameter .* Got 3 instead"),
    ({"rescale": "1/255"}, r"'rescale' parameter"),
])
def test_bad_constructor_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        ImageDataGenerator(**kwargs)


def test_bad_flow_and_fit_arguments():
    gen = ImageDataGenerator(validation_split=0.5)
    x = np.zeros((4, 3, 3, 1), np.float32)
    with pytest.raises(ValueError, match=r"'x' argument of ImageDataGenerator.flow must be images of rank 4"):
        gen.flow(np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match=r"'y' argument of ImageDataGenerator.flow must hold one entry per "
                                         r"image \(4\)\. Got 3"):
        gen.flow(x, np.zeros(3))
    with pytest.raises(ValueError, match=r"'subset' parameter .* Got 'test' instead"):
        gen.flow(x, subset="test")
    with pytest.raises(ValueError, match=r"'batch_size' parameter of NumpyArrayIterator .* Got 0 instead"):
        gen.flow(x, batch_size=0)
    with pytest.raises(ValueError, match="save_to_dir"):
        gen.flow(x, save_to_dir="/tmp")
    with pytest.raises(ValueError, match=r"'subset' argument .* validation_split"):
        ImageDataGenerator().flow(x, subset="training")
    with pytest.raises(ValueError, match=r"ImageDataGenerator.fit must have rank 4"):
        gen.fit(np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match="'directory' parameter of ImageDataGenerator.flow_from_directory"):
        gen.flow_from_directory("images/")
