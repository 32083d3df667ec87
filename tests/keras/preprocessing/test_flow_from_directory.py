"""ImageDataGenerator.flow_from_directory and flow_from_dataframe over PNG digits."""

import os

import numpy as np
import pandas as pd
import pytest

from automl.keras import Input, Sequential, layers, utils
from automl.keras.preprocessing.image import (
    DataFrameIterator,
    DirectoryIterator,
    ImageDataGenerator,
)

pytest.importorskip("PIL")

CLASSES = ("cat", "dog", "fox")
PER_CLASS = 5


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    from sklearn.datasets import load_digits

    data = load_digits()
    root = tmp_path_factory.mktemp("pets")
    images = {}
    for label, name in enumerate(CLASSES):
        digits = np.kron(data.images[data.target == label][:PER_CLASS], np.ones((1, 2, 2))) * 15
        images[name] = np.stack([digits, 255 - digits, digits[:, :, ::-1]], axis=-1).astype(np.uint8)
        os.makedirs(root / name)
        for i, img in enumerate(images[name]):
            utils.save_img(root / name / f"{name}{i}.png", img, scale=False)
    (root / "cat" / "readme.txt").write_text("skipped")
    return root, images


def test_categorical_batches_class_indices_and_pixels(tree, capsys):
    root, images = tree
    it = ImageDataGenerator().flow_from_directory(root, target_size=(16, 16), batch_size=4, shuffle=False)
    assert "Found 15 images belonging to 3 classes." in capsys.readouterr().out
    assert isinstance(it, DirectoryIterator) and isinstance(it, utils.PyDataset)
    assert it.class_indices == {"cat": 0, "dog": 1, "fox": 2} and it.num_classes == 3 and it.samples == 15
    np.testing.assert_array_equal(it.classes, np.repeat([0, 1, 2], PER_CLASS))
    assert it.filenames[:2] == [os.path.join("cat", "cat0.png"), os.path.join("cat", "cat1.png")]
    assert it.filepaths[0] == os.path.join(str(root), "cat", "cat0.png") and len(it) == 4
    x, y = it[0]
    assert x.shape == (4, 16, 16, 3) and x.dtype == np.float32 and y.shape == (4, 3)
    np.testing.assert_array_equal(x, images["cat"][:4])
    np.testing.assert_array_equal(y, np.eye(3)[[0, 0, 0, 0]])
    x, y = it[3]
    np.testing.assert_array_equal(x, images["fox"][2:])
    np.testing.assert_array_equal(y.argmax(1), [2, 2, 2])
    xn, yn = next(it)  # the endless-iterator protocol too
    np.testing.assert_array_equal(xn, images["cat"][:4])


def test_class_modes_and_resizing(tree):
    root, images = tree
    gen = ImageDataGenerator(rescale=1 / 255)
    kw = dict(target_size=(8, 8), batch_size=PER_CLASS, shuffle=False)
    x, y = gen.flow_from_directory(root, classes=["fox", "cat"], class_mode="binary", **kw)[1]
    np.testing.assert_array_equal(y, np.ones(PER_CLASS))
    assert y.dtype == np.float32
    from PIL import Image

    want = np.asarray(Image.fromarray(images["cat"][0]).resize((8, 8), Image.Resampling.NEAREST)) / 255
    np.testing.assert_allclose(x[0], want, rtol=1e-6)
    _, y = gen.flow_from_directory(root, class_mode="sparse", **kw)[2]
    np.testing.assert_array_equal(y, np.full(PER_CLASS, 2.0))
    x, y = gen.flow_from_directory(root, class_mode="input", **kw)[0]
    np.testing.assert_array_equal(x, y)
    assert x is not y
    only = gen.flow_from_directory(root, class_mode=None, color_mode="grayscale", **kw)[0]
    assert isinstance(only, np.ndarray) and only.shape == (PER_CLASS, 8, 8, 1)
    bil = gen.flow_from_directory(root, interpolation="bilinear", keep_aspect_ratio=True,
                                  **{**kw, "target_size": (8, 4)})[0][0]
    want = np.asarray(Image.fromarray(images["cat"][0]).resize((4, 8), Image.Resampling.BILINEAR,
                                                                 box=(4, 0, 12, 16))) / 255
    np.testing.assert_allclose(bil[0], want, rtol=1e-6)


def test_subsets_split_each_class_folder(tree):
    root, _ = tree
    gen = ImageDataGenerator(validation_split=0.4)
    train = gen.flow_from_directory(root, subset="training", target_size=(8, 8), shuffle=False)
    val = gen.flow_from_directory(root, subset="validation", target_size=(8, 8), shuffle=False)
    assert val.samples == 6 and train.samples == 9
    assert [f for f in val.filenames if f.startswith("dog")] == [os.path.join("dog", f"dog{i}.png")
                                                                 for i in range(2)]
    assert not set(train.filenames) & set(val.filenames)
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator().flow_from_directory(root, subset="training")


def test_augmentation_is_seeded_and_saved(tree, tmp_path):
    root, images = tree
    gen = ImageDataGenerator(horizontal_flip=True)
    kw = dict(target_size=(16, 16), batch_size=PER_CLASS, shuffle=False, seed=3, classes=["dog"])
    x, _ = gen.flow_from_directory(root, save_to_dir=tmp_path, save_prefix="aug", **kw)[0]
    flipped = [np.array_equal(a, b[:, ::-1]) and not np.array_equal(a, b) for a, b in zip(x, images["dog"])]
    kept = [np.array_equal(a, b) for a, b in zip(x, images["dog"])]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    again, _ = gen.flow_from_directory(root, **kw)[0]
    np.testing.assert_array_equal(again, x)
    saved = sorted(os.listdir(tmp_path))
    assert len(saved) == PER_CLASS and all(s.startswith("aug_") and s.endswith(".png") for s in saved)


def test_model_fits_on_flow_from_directory(tree):
    root, _ = tree
    utils.set_random_seed(0)
    it = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        root, target_size=(8, 8), color_mode="grayscale", batch_size=5, seed=0)
    model = Sequential([Input((8, 8, 1)), layers.Flatten(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    history = model.fit(it, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and np.isfinite(history.history["loss"]).all()


@pytest.fixture()
def frame(tree):
    root, _ = tree
    rows = [(os.path.join(name, f"{name}{i}.png"), name, float(i), i % 2) for name in CLASSES
            for i in range(PER_CLASS)]
    return pd.DataFrame(rows, columns=["filename", "class", "score", "weight"])


def test_flow_from_dataframe_class_modes(tree, frame, capsys):
    root, images = tree
    gen = ImageDataGenerator()
    kw = dict(directory=root, target_size=(16, 16), batch_size=PER_CLASS, shuffle=False)
    it = gen.flow_from_dataframe(frame, **kw)
    assert "Found 15 validated image filenames belonging to 3 classes." in capsys.readouterr().out
    assert isinstance(it, DataFrameIterator) and it.class_indices == {"cat": 0, "dog": 1, "fox": 2}
    x, y = it[1]
    np.testing.assert_array_equal(x, images["dog"])
    np.testing.assert_array_equal(y, np.eye(3)[[1] * PER_CLASS])
    _, y = gen.flow_from_dataframe(frame, class_mode="sparse", **kw)[2]
    np.testing.assert_array_equal(y, np.full(PER_CLASS, 2.0))
    _, y = gen.flow_from_dataframe(frame, y_col="score", class_mode="raw", **kw)[0]
    np.testing.assert_array_equal(y, np.arange(PER_CLASS, dtype=float))
    _, ys = gen.flow_from_dataframe(frame, y_col=["score", "weight"], class_mode="multi_output", **kw)[0]
    np.testing.assert_array_equal(ys[1], [0, 1, 0, 1, 0])
    _, y, w = gen.flow_from_dataframe(frame, weight_col="weight", class_mode="sparse", **kw)[0]
    np.testing.assert_array_equal(w, [0, 1, 0, 1, 0])
    two = gen.flow_from_dataframe(frame, classes=["fox", "dog"], class_mode="binary", **kw)
    assert two.samples == 10 and two.class_indices == {"fox": 0, "dog": 1}
    np.testing.assert_array_equal(two[0][1], np.ones(PER_CLASS))
    absolute = frame.assign(filename=[os.path.join(str(root), f) for f in frame["filename"]])
    x, _ = gen.flow_from_dataframe(absolute, **{**kw, "directory": None})[0]
    np.testing.assert_array_equal(x, images["cat"])


def test_flow_from_dataframe_multi_label_validation_and_subsets(tree, frame):
    root, _ = tree
    gen = ImageDataGenerator(validation_split=0.2)
    kw = dict(directory=root, target_size=(8, 8), batch_size=16, shuffle=False)
    multi = frame.assign(**{"class": [[c, "pet"] if c != "fox" else [c] for c in frame["class"]]})
    it = gen.flow_from_dataframe(multi, **kw)
    assert it.class_indices == {"cat": 0, "dog": 1, "fox": 2, "pet": 3}
    y = it[0][1]
    np.testing.assert_array_equal(y.sum(1), [2] * 10 + [1] * 5)
    missing = pd.concat([frame, pd.DataFrame([{"filename": "cat/none.png", "class": "cat"}])])
    with pytest.warns(UserWarning, match="1 invalid image filename"):
        assert gen.flow_from_dataframe(missing, **kw).samples == 15
    val = gen.flow_from_dataframe(frame, subset="validation", **kw)
    train = gen.flow_from_dataframe(frame, subset="training", **kw)
    assert val.filenames == frame["filename"].tolist()[:3] and train.samples == 12
    with pytest.warns(DeprecationWarning, match="class_mode=\"other\""):
        gen.flow_from_dataframe(frame, y_col="score", class_mode="other", **kw)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda g, r, f: g.flow_from_directory(r / "missing"), ValueError, "'directory'"),
    (lambda g, r, f: g.flow_from_directory(r, class_mode="raw"), ValueError, "'class_mode'"),
    (lambda g, r, f: g.flow_from_directory(r, classes=["cow"]), ValueError, "missing folders"),
    (lambda g, r, f: g.flow_from_directory(r, interpolation="area"), ValueError, "'interpolation'"),
    (lambda g, r, f: g.flow_from_dataframe(f, r, class_mode="binary"), ValueError, "exactly 2 classes"),
    (lambda g, r, f: g.flow_from_dataframe(f, r, y_col="score", class_mode="sparse"), TypeError, "strings"),
    (lambda g, r, f: g.flow_from_dataframe(f, r, x_col="path"), ValueError, "no column"),
    (lambda g, r, f: g.flow_from_dataframe(f, r, class_mode="multi_output"), TypeError, "list of columns"),
    (lambda g, r, f: g.flow_from_dataframe(f, r, bogus=1), TypeError, "bogus"),
])
def test_errors(tree, frame, call, error, match):
    with pytest.raises(error, match=match):
        call(ImageDataGenerator(), tree[0], frame)
