"""reuters.load_data / get_word_index / get_label_names: Keras's algorithm on real-format files."""

import hashlib
import json

import numpy as np
import pytest

from automl.keras.datasets import DatasetNotAvailableError, reuters
from automl.keras.datasets._formats import DatasetFormatError
from automl.keras.utils import downloads as _download
from tests.keras.datasets.dataset_helpers import ragged, reference_split, reference_vocabulary

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def write_reuters(path, seqs, labels):
    """reuters.npz as published: an object array x of lists of word ranks and int64 labels y."""
    np.savez(path, x=ragged(seqs), y=np.asarray(labels, dtype=np.int64))


def keras_reference(xs, labels, num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
                    start_char=1, oov_char=2, index_from=3):
    """Keras 3's algorithm, written out literally with Python lists."""
    rng = np.random.RandomState(seed)
    xs, labels = reference_split(rng, xs, labels, start_char, index_from, maxlen)
    xs = reference_vocabulary(xs, num_words, skip_top, oov_char)
    n = int(len(xs) * (1 - test_split))
    return (xs[:n], labels[:n]), (xs[n:], labels[n:])


@pytest.fixture()
def tiny_reuters(tmp_path):
    rng = np.random.default_rng(7)
    seqs = [rng.integers(1, 50, rng.integers(1, 12)).tolist() for _ in range(23)]
    labels = rng.integers(0, 46, 23)
    write_reuters(tmp_path / "reuters.npz", seqs, labels)
    return tmp_path / "reuters.npz", ragged(seqs), labels


def test_hand_computed_indices(tmp_path):
    path = tmp_path / "one.npz"
    write_reuters(path, [[0, 1, 5], [2, 9]], [3, 4])
    (x_train, y_train), (x_test, y_test) = reuters.load_data(path=path, test_split=0.5, seed=0)
    order = np.arange(2)
    np.random.RandomState(0).shuffle(order)
    raw = [[0, 1, 5], [2, 9]]
    expected = [[1] + [w + 3 for w in raw[i]] for i in order]
    # num_words=None: the largest index (12) is itself out of range -> oov_char, as in Keras.
    expected = [[w if w < 12 else 2 for w in s] for s in expected]
    assert list(x_train[0]) == expected[0] and list(x_test[0]) == expected[1]
    assert y_train.tolist() == [[3, 4][order[0]]] and y_test.tolist() == [[3, 4][order[1]]]
    assert x_train.dtype == object


@pytest.mark.parametrize("kwargs", [
    {},
    {"num_words": 20, "skip_top": 5},
    {"maxlen": 6, "test_split": 0.3, "seed": 1},
    {"oov_char": None, "num_words": 25},
    {"start_char": None, "index_from": 0},
    {"start_char": None, "index_from": 2, "skip_top": 4, "oov_char": None},
])
def test_matches_keras_algorithm(tiny_reuters, kwargs):
    path, xs, labels = tiny_reuters
    (x_train, y_train), (x_test, y_test) = reuters.load_data(path=path, **kwargs)
    (rx_train, ry_train), (rx_test, ry_test) = keras_reference(xs, labels, **kwargs)
    assert [list(s) for s in x_train] == rx_train and [list(s) for s in x_test] == rx_test
    np.testing.assert_array_equal(y_train, ry_train)
    np.testing.assert_array_equal(y_test, ry_test)


def test_default_split_sizes(tiny_reuters):
    path, _, _ = tiny_reuters
    (x_train, _), (x_test, _) = reuters.load_data(path=path)
    assert len(x_train) == int(23 * 0.8) and len(x_test) == 23 - int(23 * 0.8)


def test_download_then_cache_hit(tiny_reuters, monkeypatch, serve, offline):
    with pytest.raises(DatasetNotAvailableError, match="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab997"):
        reuters.load_data()
    assert offline == [BASE + "reuters.npz"]
    path, xs, labels = tiny_reuters
    data = path.read_bytes()
    monkeypatch.setattr(reuters, "_REMOTE", _download.RemoteFile(
        "reuters.npz", (BASE + "reuters.npz",), hashlib.sha256(data).hexdigest()))
    requested = serve({BASE + "reuters.npz": data})
    first = reuters.load_data()
    second = reuters.load_data()  # from the cache: no second request
    assert requested == [BASE + "reuters.npz"]
    assert [list(s) for s in first[0][0]] == [list(s) for s in second[0][0]]
    assert (_download.cache_dir() / "reuters.npz").read_bytes() == data


def test_published_urls_and_checksums():
    assert reuters._REMOTE.origins == (BASE + "reuters.npz",)
    assert reuters._REMOTE.algorithm == "sha256"
    assert reuters._WORD_INDEX.origins == (BASE + "reuters_word_index.json",)
    assert reuters._WORD_INDEX.checksum == "4d44cc38712099c9e383dc6e5f11a921"  # MD5, as Keras


def test_word_index(tmp_path, monkeypatch, serve):
    local = tmp_path / "index.json"
    local.write_text(json.dumps({"the": 1, "of": 2, "said": 3}))
    assert reuters.get_word_index(path=local) == {"the": 1, "of": 2, "said": 3}
    data = local.read_bytes()
    url = BASE + "reuters_word_index.json"
    monkeypatch.setattr(reuters, "_WORD_INDEX", _download.RemoteFile(
        "reuters_word_index.json", (url,), hashlib.md5(data).hexdigest()))
    requested = serve({url: data})
    assert reuters.get_word_index()["said"] == 3
    assert requested == [url]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(DatasetFormatError, match="not a Reuters word index"):
        reuters.get_word_index(path=bad)


def test_label_names():
    names = reuters.get_label_names()
    assert len(names) == 46 and len(set(names)) == 46
    assert names[:5] == ("cocoa", "grain", "veg-oil", "earn", "acq") and names[-1] == "lead"


def test_argument_errors(tiny_reuters, tmp_path):
    path, _, _ = tiny_reuters
    with pytest.raises(ValueError, match=r"The 'test_split' parameter of reuters.load_data must be a float"):
        reuters.load_data(path=path, test_split=1.0)
    with pytest.raises(ValueError, match="The 'num_words' parameter of reuters.load_data"):
        reuters.load_data(path=path, num_words=-1)
    with pytest.raises(ValueError, match="Increase maxlen"):
        reuters.load_data(path=path, maxlen=1)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(DatasetFormatError):
        reuters.load_data(path=other)
