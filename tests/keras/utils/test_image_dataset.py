"""image_dataset_from_directory over PNG digits written to a temporary tree."""

import os

import numpy as np
import pytest

from automl.keras import Input, Sequential, layers, utils

pytest.importorskip("PIL")

CLASSES = ("zero", "one", "two")
PER_CLASS = 6


def _digits(n):
    from sklearn.datasets import load_digits

    data = load_digits()
    out = {}
    for label in range(len(CLASSES)):
        imgs = data.images[data.target == label][:n]
        big = np.kron(imgs, np.ones((1, 2, 2))) * 15  # 16 x 16, values 0..240
        out[label] = np.stack([big, big[:, ::-1], 255 - big], axis=-1).astype(np.uint8)
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits")
    images = _digits(PER_CLASS)
    for label, name in enumerate(CLASSES):
        for i, img in enumerate(images[label]):
            sub = "nested" if i == PER_CLASS - 1 else ""
            os.makedirs(root / name / sub, exist_ok=True)
            utils.save_img(root / name / sub / f"img{i}.png", img, scale=False)
    (root / "zero" / "notes.txt").write_text("not an image")
    os.makedirs(root / ".cache")
    utils.save_img(root / ".cache" / "hidden.png", images[0][0], scale=False)
    return root, images


def _collect(ds):
    xs, ys = [], []
    for batch in ds:
        x, y = batch if isinstance(batch, tuple) else (batch, None)
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), (None if ys[0] is None else np.concatenate(ys))


def test_inferred_labels_images_and_file_paths(tree, capsys):
    root, images = tree
    ds = utils.image_dataset_from_directory(root, image_size=(16, 16), batch_size=4, shuffle=False)
    assert "Found 18 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["one", "two", "zero"] and len(ds) == 5
    x, y = ds[0]
    assert x.shape == (4, 16, 16, 3) and x.dtype == np.float32 and y.dtype == np.int32
    xs, ys = _collect(ds)
    np.testing.assert_array_equal(ys, np.repeat([0, 1, 2], PER_CLASS))
    # Same size: no resampling, the PNG pixels come back exactly, in file order.
    np.testing.assert_array_equal(xs[:PER_CLASS], images[1])
    np.testing.assert_array_equal(xs[2 * PER_CLASS:], images[0])
    assert ds.file_paths[0] == os.path.join(str(root), "one", "img0.png")
    assert ds.file_paths[PER_CLASS - 1].endswith(os.path.join("one", "nested", "img5.png"))
    assert isinstance(ds, utils.PyDataset)


def test_resizing_matches_the_resizing_layer(tree):
    root, images = tree
    kw = dict(shuffle=False, verbose=False, class_names=["zero"])
    for interpolation in ("bilinear", "nearest"):
        x, _ = utils.image_dataset_from_directory(root, image_size=(7, 10), interpolation=interpolation,
                                                  **kw)[0]
        want = layers.Resizing(7, 10, interpolation=interpolation)(images[0].astype(np.float32))
        np.testing.assert_allclose(x, want, rtol=1e-6)
    x, _ = utils.image_dataset_from_directory(root, image_size=(8, 4), crop_to_aspect_ratio=True, **kw)[0]
    np.testing.assert_allclose(x, layers.Resizing(8, 4)(images[0][:, :, 4:12].astype(np.float32)), rtol=1e-6)
    x, _ = utils.image_dataset_from_directory(root, image_size=(8, 4), pad_to_aspect_ratio=True, **kw)[0]
    np.testing.assert_allclose(x, layers.Resizing(8, 4, pad_to_aspect_ratio=True)(images[0].astype(np.float32)),
                               rtol=1e-6)
    assert x[:, :2].max() == 0  # the padded rows


def test_label_modes_color_modes_and_layouts(tree):
    root, _ = tree
    kw = dict(image_size=(8, 8), shuffle=False, verbose=False, batch_size=6)
    x, y = utils.image_dataset_from_directory(root, label_mode="categorical", **kw)[0]
    assert y.shape == (6, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y.argmax(1), np.zeros(6))
    binary = utils.image_dataset_from_directory(root, label_mode="binary", class_names=["zero", "two"], **kw)
    _, yb = _collect(binary)
    assert yb.shape == (12, 1) and binary.class_names == ["zero", "two"]
    np.testing.assert_array_equal(yb[:, 0], np.repeat([0.0, 1.0], PER_CLASS))
    for no_labels in (dict(labels=None), dict(label_mode=None)):
        plain = utils.image_dataset_from_directory(root, **{**kw, "batch_size": 32}, **no_labels)
        assert plain.class_names is None and isinstance(plain[0], np.ndarray)
        assert plain[0].shape == (19, 8, 8, 3)  # as Keras: every image, hidden folder included
    explicit = utils.image_dataset_from_directory(root, labels=[i % 2 for i in range(19)], **kw)
    assert explicit.class_names == ["0", "1"] and _collect(explicit)[1].tolist() == [0, 1] * 9 + [0]
    gray = utils.image_dataset_from_directory(root, color_mode="grayscale", **kw)[0][0]
    rgba = utils.image_dataset_from_directory(root, color_mode="rgba", **kw)[0][0]
    assert gray.shape == (6, 8, 8, 1) and rgba.shape == (6, 8, 8, 4)
    first = utils.image_dataset_from_directory(root, data_format="channels_first", **kw)[0][0]
    np.testing.assert_array_equal(first, utils.image_dataset_from_directory(root, **kw)[0][0].transpose(0, 3, 1, 2))
    single = utils.image_dataset_from_directory(root, **{**kw, "batch_size": None})
    assert len(single) == 18 and single[0][0].shape == (8, 8, 3) and single[0][1] == 0


def test_validation_split_is_seeded_and_disjoint(tree, capsys):
    root, _ = tree
    kw = dict(image_size=(8, 8), validation_split=0.25, seed=7, batch_size=4)
    train, val = utils.image_dataset_from_directory(root, subset="both", **kw)
    out = capsys.readouterr().out
    assert "Using 14 files for training." in out and "Using 4 files for validation." in out
    assert len(train.file_paths) == 14 and len(val.file_paths) == 4
    assert not set(train.file_paths) & set(val.file_paths)
    assert len(set(train.file_paths) | set(val.file_paths)) == 18
    again = utils.image_dataset_from_directory(root, subset="validation", verbose=False, **kw)
    assert again.file_paths == val.file_paths
    training = utils.image_dataset_from_directory(root, subset="training", verbose=False, **kw)
    assert training.file_paths == train.file_paths
    # Labels stay with their files through the shuffles.
    for ds in (train, val):
        _, y = _collect(ds)
        names = [os.path.relpath(p, root).split(os.sep)[0] for p in ds.file_paths]
        assert [ds.class_names[i] for i in y] == names
    before = list(train.file_paths)
    train.on_epoch_end()
    val.on_epoch_end()
    assert sorted(train.file_paths) == sorted(before) and train.file_paths != before
    assert val.file_paths == again.file_paths  # Keras does not reshuffle the validation set of "both"
    other = utils.image_dataset_from_directory(root, subset="validation", verbose=False,
                                               **{**kw, "seed": 8})
    assert other.file_paths != val.file_paths


def test_fit_evaluate_predict_a_small_cnn(tree):
    root, _ = tree
    utils.set_random_seed(0)
    train = utils.image_dataset_from_directory(root, image_size=(16, 16), batch_size=6, seed=1,
                                               color_mode="grayscale", verbose=False)
    model = Sequential([
        Input((16, 16, 1)),
        layers.Rescaling(1 / 255),
        layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(len(train.class_names), activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, epochs=25, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    loss, acc = model.evaluate(train, verbose=0)
    assert acc > 0.8
    ordered = utils.image_dataset_from_directory(root, image_size=(16, 16), shuffle=False,
                                                 color_mode="grayscale", batch_size=5, verbose=False)
    probs = model.predict(ordered, verbose=0)
    assert probs.shape == (18, 3)
    assert (probs.argmax(1) == np.repeat([0, 1, 2], PER_CLASS)).mean() > 0.8


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"interpolation": "bicubic"}, "'bilinear' or 'nearest'"),
    ({"interpolation": "cubic"}, "'interpolation'"),
    ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "only one of"),
    ({"color_mode": "cmyk"}, "'color_mode'"),
    ({"image_size": (8,)}, "'image_size'"),
    ({"data_format": "nchw"}, "'data_format'"),
    ({"label_mode": "binary"}, "exactly 2 classes"),
    ({"labels": [0, 1]}, "one label per image file: 19 files"),
    ({"validation_split": 0.2, "subset": "training"}, "'seed'"),
])
def test_errors(tree, kwargs, match):
    with pytest.raises(ValueError, match=match):
        utils.image_dataset_from_directory(tree[0], verbose=False, **kwargs)


def test_no_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("text")
    with pytest.raises(ValueError, match=r"No image files found .* Allowed formats"):
        utils.image_dataset_from_directory(tmp_path, verbose=False)
