"""load_img / img_to_array / array_to_img / save_img / smart_resize against Pillow."""

import io
import sys

import numpy as np
import pytest

from automl.keras import layers, utils
from automl.keras.preprocessing import image as image_module


@pytest.fixture()
def pil():
    return pytest.importorskip("PIL.Image")


def _digit_rgb(index=0, scale=2):
    from sklearn.datasets import load_digits

    digit = load_digits().images[index]  # 8 x 8, values 0..16
    big = np.kron(digit, np.ones((scale, scale))) * 15
    return np.stack([big, 255 - big, np.full_like(big, 40.0)], axis=-1).astype(np.uint8)


def test_png_round_trip_is_exact(pil, tmp_path):
    rgb = _digit_rgb()
    path = tmp_path / "digit.png"
    utils.save_img(path, rgb, scale=False)
    img = utils.load_img(path)
    assert img.mode == "RGB" and img.size == (16, 16)
    x = utils.img_to_array(img)
    assert x.dtype == np.float32 and x.shape == (16, 16, 3)
    np.testing.assert_array_equal(x, rgb)
    gray = utils.img_to_array(utils.load_img(str(path), color_mode="grayscale"), dtype="uint8")
    np.testing.assert_array_equal(gray[..., 0], np.asarray(pil.open(path).convert("L")))
    rgba = utils.img_to_array(utils.load_img(path, color_mode="rgba"))
    assert rgba.shape == (16, 16, 4) and np.all(rgba[..., 3] == 255)
    first = utils.img_to_array(utils.load_img(io.BytesIO(path.read_bytes())), data_format="channels_first")
    np.testing.assert_array_equal(first, rgb.transpose(2, 0, 1))
    assert image_module.load_img is utils.load_img and image_module.save_img is utils.save_img


def test_load_img_resizes_with_pillow_filters(pil, tmp_path):
    rgb = np.concatenate([_digit_rgb(0), _digit_rgb(1)], axis=1)  # 16 x 32
    path = tmp_path / "wide.png"
    utils.save_img(path, rgb, scale=False)
    for name, flt in (("nearest", pil.Resampling.NEAREST), ("bicubic", pil.Resampling.BICUBIC)):
        got = utils.img_to_array(utils.load_img(path, target_size=(8, 12), interpolation=name))
        want = np.asarray(pil.fromarray(rgb).resize((12, 8), flt), dtype=np.float32)
        np.testing.assert_array_equal(got, want)
    # keep_aspect_ratio resizes the centred 16 x 16 window: the middle of the two digits.
    got = utils.img_to_array(utils.load_img(path, target_size=(8, 8), keep_aspect_ratio=True))
    want = np.asarray(pil.fromarray(np.ascontiguousarray(rgb[:, 8:24])).resize((8, 8), pil.Resampling.NEAREST))
    np.testing.assert_array_equal(got, want)
    assert utils.load_img(path, target_size=(16, 32)).size == (32, 16)


def test_array_to_img_scaling_and_modes(pil):
    x = np.linspace(-1.0, 1.0, 12).reshape(2, 2, 3)
    img = utils.array_to_img(x)
    arr = np.asarray(img)
    assert img.mode == "RGB" and arr.min() == 0 and arr.max() == 255
    assert utils.array_to_img(np.zeros((3, 3, 1)), scale=False).mode == "L"
    assert utils.array_to_img(np.zeros((3, 3, 4))).mode == "RGBA"
    big = utils.array_to_img(np.full((2, 2, 1), 1000.0), scale=False)
    assert big.mode == "I" and np.asarray(big).max() == 1000
    chw = utils.array_to_img(np.arange(12.0).reshape(3, 2, 2), data_format="channels_first", scale=False)
    np.testing.assert_array_equal(np.asarray(chw)[..., 1], [[4, 5], [6, 7]])


def test_save_img_jpeg_and_file_objects(pil, tmp_path):
    rgba = np.dstack([_digit_rgb(), np.full((16, 16, 1), 255, np.uint8)])
    buf = io.BytesIO()
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        utils.save_img(buf, rgba, file_format="jpg", scale=False)
    buf.seek(0)
    img = pil.open(buf)
    assert img.format == "JPEG" and img.mode == "RGB"
    with pytest.warns(UserWarning, match="converting to RGB"):
        utils.save_img(tmp_path / "a.jpeg", rgba, scale=False, quality=95)
    back = utils.img_to_array(utils.load_img(tmp_path / "a.jpeg"))
    np.testing.assert_array_equal(back, np.asarray(pil.open(tmp_path / "a.jpeg")))
    assert np.abs(back - rgba[..., :3]).mean() < 30  # lossy, but the same picture


def test_smart_resize_crops_then_resizes():
    x = np.arange(4 * 8 * 2, dtype=np.float32).reshape(4, 8, 2)
    out = image_module.smart_resize(x, (2, 2))
    want = layers.Resizing(2, 2)(x[None, :, 2:6])[0]  # centred 4 x 4 window
    np.testing.assert_allclose(out, want)
    batch = image_module.smart_resize(np.stack([x, x]).astype(np.uint8), (3, 3), interpolation="nearest")
    assert batch.shape == (2, 3, 3, 2) and batch.dtype == np.float32
    first = image_module.smart_resize(x.transpose(2, 0, 1), (2, 2), data_format="channels_first")
    np.testing.assert_allclose(first, want.transpose(2, 0, 1))


@pytest.mark.parametrize(("call", "match"), [
    (lambda p: utils.load_img(p, color_mode="cmyk"), "'color_mode'"),
    (lambda p: utils.load_img(p, target_size=(4, 4), interpolation="area"), "'interpolation'"),
    (lambda p: utils.load_img(p, target_size=(0, 4)), "'target_size'"),
    (lambda p: utils.array_to_img(np.zeros((2, 2))), "rank 3"),
    (lambda p: utils.array_to_img(np.zeros((2, 2, 2))), "1, 3 or 4 channels"),
    (lambda p: utils.img_to_array(np.zeros((2, 2, 2, 2))), "rank 2 or 3"),
    (lambda p: utils.img_to_array(np.zeros((2, 2)), data_format="nhwc"), "'data_format'"),
    (lambda p: image_module.smart_resize(np.zeros((2, 2)), (1, 1)), "rank 3"),
])
def test_errors(pil, tmp_path, call, match):
    path = tmp_path / "x.png"
    utils.save_img(path, np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match=match):
        call(path)


def test_missing_pillow_raises_a_clear_import_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now fails
    monkeypatch.delitem(sys.modules, "PIL.Image", raising=False)
    for call, owner in ((lambda: utils.load_img(tmp_path / "x.png"), "load_img"),
                        (lambda: utils.array_to_img(np.zeros((2, 2, 3))), "array_to_img"),
                        (lambda: utils.save_img(tmp_path / "x.png", np.zeros((2, 2, 3))), "array_to_img"),
                        (lambda: utils.image_dataset_from_directory(tmp_path), "image_dataset_from_directory"),
                        (lambda: image_module.ImageDataGenerator().flow_from_directory(tmp_path),
                         "flow_from_directory")):
        with pytest.raises(ImportError, match=rf"{owner} requires Pillow.*pip install pillow"):
            call()
