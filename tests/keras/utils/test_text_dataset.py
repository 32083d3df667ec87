"""text_dataset_from_directory over a temporary directory tree."""

import numpy as np
import pytest

from automl.keras import preprocessing, utils

TEXTS = {
    "neg": {"a.txt": "awful", "b.txt": "bad", "c.txt": "boring film"},
    "pos": {"a.txt": "great", "b.txt": "good", "nested/c.txt": "lovely"},
    "unused": {"x.txt": "ignored with class_names"},
}


@pytest.fixture()
def tree(tmp_path):
    for label, files in TEXTS.items():
        for name, text in files.items():
            path = tmp_path / label / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    (tmp_path / "pos" / "notes.md").write_text("not a .txt file")
    return tmp_path


def _collect(ds):
    texts, labels = [], []
    for x, y in ds:
        texts.extend(x.tolist())
        labels.extend(np.asarray(y).tolist())
    return texts, labels


def test_inferred_labels_class_names_and_order(tree, capsys):
    ds = utils.text_dataset_from_directory(tree, batch_size=2, shuffle=False)
    assert "Found 7 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos", "unused"]
    assert len(ds) == 4
    x, y = ds[0]
    assert x.dtype == object and y.dtype == np.int32 and x.shape == (2,)
    texts, labels = _collect(ds)
    assert texts == ["awful", "bad", "boring film", "great", "good", "lovely",
                     "ignored with class_names"]
    assert labels == [0, 0, 0, 1, 1, 1, 2]
    assert preprocessing.text_dataset_from_directory is utils.text_dataset_from_directory


def test_class_names_label_modes_and_max_length(tree):
    kw = dict(class_names=["pos", "neg"], shuffle=False, verbose=False)
    ds = utils.text_dataset_from_directory(tree, label_mode="binary", max_length=3, **kw)
    texts, labels = _collect(ds)
    assert texts == ["gre", "goo", "lov", "awf", "bad", "bor"]
    assert labels == [[0.0]] * 3 + [[1.0]] * 3 and ds[0][1].dtype == np.float32
    cat = utils.text_dataset_from_directory(tree, label_mode="categorical", **kw)
    np.testing.assert_array_equal(cat[0][1][[0, 3]], [[1, 0], [0, 1]])
    plain = utils.text_dataset_from_directory(tree, labels=None, shuffle=False, verbose=False)
    assert plain.class_names is None and len(plain[0]) == 7 and isinstance(plain[0], np.ndarray)
    explicit = utils.text_dataset_from_directory(tree, labels=[1, 0, 1, 0, 1, 0, 1],
                                                 shuffle=False, verbose=False)
    assert _collect(explicit)[1] == [1, 0, 1, 0, 1, 0, 1]


def test_shuffle_is_seeded_and_validation_split_is_disjoint(tree):
    kw = dict(seed=3, verbose=False, validation_split=0.3)
    train, val = utils.text_dataset_from_directory(tree, subset="both", **kw)
    t_texts, _ = _collect(train)
    v_texts, _ = _collect(val)
    assert len(v_texts) == 2 and len(t_texts) == 5
    assert not set(t_texts) & set(v_texts)
    again = utils.text_dataset_from_directory(tree, subset="validation", **kw)
    assert _collect(again)[0] == v_texts
    pairs = dict(zip(*_collect(utils.text_dataset_from_directory(tree, seed=1, verbose=False))))
    assert pairs["great"] == 1 and pairs["bad"] == 0  # labels follow their files


def test_unbatched(tree):
    ds = utils.text_dataset_from_directory(tree, batch_size=None, shuffle=False, verbose=False)
    assert len(ds) == 7 and ds[0] == ("awful", 0)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"label_mode": "sparse"}, "'label_mode'"),
    ({"labels": "folders"}, "'labels'"),
    ({"validation_split": 0.2, "subset": "training"}, "'seed'"),
    ({"validation_split": 0.2, "seed": 1}, "'subset'"),
    ({"subset": "training"}, "'subset'"),
    ({"class_names": ["pos", "missing"]}, "'class_names'"),
    ({"label_mode": "binary"}, "exactly 2 classes"),
    ({"labels": [0, 1]}, "one label per .txt file"),
    ({"batch_size": 0}, "'batch_size'"),
])
def test_errors(tree, kwargs, match):
    with pytest.raises(ValueError, match=match):
        utils.text_dataset_from_directory(tree, verbose=False, **kwargs)


def test_missing_directory_and_no_files(tmp_path):
    with pytest.raises(ValueError, match="'directory' parameter"):
        utils.text_dataset_from_directory(tmp_path / "nope")
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="No .txt files"):
        utils.text_dataset_from_directory(tmp_path, verbose=False)
