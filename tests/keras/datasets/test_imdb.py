"""imdb.load_data / get_word_index: ragged object arrays and Keras's index semantics."""

import hashlib
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from automl.keras.datasets import DatasetNotAvailableError, imdb
from automl.keras.datasets._formats import DatasetFormatError
from automl.keras.utils import downloads as _download
from tests.keras.datasets.dataset_helpers import ragged, reference_split, reference_vocabulary

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def write_imdb(path, train, test, y_train=None, y_test=None):
    """imdb.npz as published: object arrays of lists of word ranks, int64 labels."""
    y_train = np.arange(len(train)) % 2 if y_train is None else np.asarray(y_train)
    y_test = np.arange(len(test)) % 2 if y_test is None else np.asarray(y_test)
    np.savez(path, x_train=ragged(train), y_train=y_train, x_test=ragged(test), y_test=y_test)


def keras_reference(x_train, labels_train, x_test, labels_test, num_words=None, skip_top=0,
                    maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3):
    """Keras 3's documented algorithm, written out literally with Python lists."""
    rng = np.random.RandomState(seed)  # one stream, train then test
    x_train, labels_train = reference_split(
        rng, x_train, labels_train, start_char, index_from, maxlen)
    x_test, labels_test = reference_split(rng, x_test, labels_test, start_char, index_from, maxlen)
    xs = reference_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    n = len(x_train)
    return (xs[:n], labels_train), (xs[n:], labels_test)


@pytest.fixture()
def tiny_imdb(tmp_path):
    rng = np.random.default_rng(4)
    train = [rng.integers(1, 40, rng.integers(1, 9)).tolist() for _ in range(12)]
    test = [rng.integers(1, 40, rng.integers(1, 9)).tolist() for _ in range(9)]
    y_train, y_test = rng.integers(0, 2, 12), rng.integers(0, 2, 9)
    write_imdb(tmp_path / "imdb.npz", train, test, y_train, y_test)
    return tmp_path / "imdb.npz", (ragged(train), y_train, ragged(test), y_test)


def test_hand_computed_indices(tmp_path):
    path = tmp_path / "one.npz"
    write_imdb(path, [[0, 1, 5]], [[2, 9]], [1], [0])
    (x_train, y_train), (x_test, y_test) = imdb.load_data(path=path)
    assert x_train.dtype == object and x_train.shape == (1,)
    assert x_train[0] == [1, 3, 4, 8]
    assert x_test[0] == [1, 5, 2]  # 12 is the largest index: as in Keras it falls outside [0, 12)
    assert y_train.tolist() == [1] and y_test.tolist() == [0]
    (x_train, _), (x_test, _) = imdb.load_data(path=path, num_words=5, skip_top=2)
    assert x_train[0] == [2, 3, 4, 2] and x_test[0] == [2, 2, 2]
    (x_train, _), (x_test, _) = imdb.load_data(path=path, num_words=5, oov_char=None)
    assert x_train[0] == [1, 3, 4] and x_test[0] == [1]
    (x_train, _), (x_test, _) = imdb.load_data(path=path, start_char=None, index_from=0)
    assert x_train[0] == [0, 1, 5] and x_test[0] == [2, 2]
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        imdb.load_data(path=path, maxlen=4)  # [1, 3, 4, 8] has length 4: not < 4


@pytest.mark.parametrize("kwargs", [
    {},
    {"num_words": 20},
    {"num_words": 25, "skip_top": 5},
    {"maxlen": 6},
    {"maxlen": 7, "num_words": 30, "oov_char": None},
    {"seed": 0, "start_char": None},
    {"start_char": None, "index_from": 0, "skip_top": 3},
    {"start_char": 7, "oov_char": 9, "index_from": 10, "seed": 5},
])
def test_matches_keras_algorithm(tiny_imdb, kwargs):
    path, raw = tiny_imdb
    (x_train, y_train), (x_test, y_test) = imdb.load_data(path=path, **kwargs)
    (rx_train, ry_train), (rx_test, ry_test) = keras_reference(*raw, **kwargs)
    assert x_train.dtype == object and x_train.ndim == 1
    assert [list(x) for x in x_train] == rx_train and [list(x) for x in x_test] == rx_test
    assert all(type(w) is int for x in x_train for w in x)
    np.testing.assert_array_equal(y_train, ry_train)
    np.testing.assert_array_equal(y_test, ry_test)


def test_download_then_cache_hit(tiny_imdb, tmp_path, monkeypatch, serve):
    path, raw = tiny_imdb
    data = path.read_bytes()
    monkeypatch.setattr(imdb, "_REMOTE", _download.RemoteFile(
        "imdb.npz", (BASE + "imdb.npz",), hashlib.sha256(data).hexdigest()))
    requested = serve({BASE + "imdb.npz": data})
    first = imdb.load_data(num_words=30)
    second = imdb.load_data(num_words=30)
    assert [list(x) for x in first[0][0]] == [list(x) for x in second[0][0]]
    assert requested == [BASE + "imdb.npz"]


def test_word_index(tmp_path, monkeypatch, serve, offline):
    index = {"the": 1, "and": 2, "film": 19}
    data = json.dumps(index).encode()
    (tmp_path / "wi.json").write_bytes(data)
    assert imdb.get_word_index(path=tmp_path / "wi.json") == index
    assert imdb._WORD_INDEX.algorithm == "md5"  # Keras publishes an MD5 for this file
    with pytest.raises(DatasetNotAvailableError, match="bfafd718b763782e994055a2d397834f"):
        imdb.get_word_index()
    url = BASE + "imdb_word_index.json"
    monkeypatch.setattr(imdb, "_WORD_INDEX", _download.RemoteFile(
        "imdb_word_index.json", (url,), hashlib.md5(data).hexdigest()))
    requested = serve({url: data})
    assert imdb.get_word_index() == index
    assert imdb.get_word_index() == index
    assert requested == [url]
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(DatasetFormatError, match="not a JSON object"):
        imdb.get_word_index(path=tmp_path / "bad.json")


def test_argument_errors(tiny_imdb):
    path, _ = tiny_imdb
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        imdb.load_data(path=path, nb_words=10)
    with pytest.raises(ValueError, match="The 'skip_top' parameter of imdb.load_data"):
        imdb.load_data(path=path, skip_top=-1)


def test_object_arrays_are_unpickled_safely(tmp_path):
    class Gadget:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    def npy(array=None, evil=False):
        buf = io.BytesIO()
        if evil:  # a valid object-array header followed by a code-running pickle
            np.lib.format.write_array_header_1_0(
                buf, np.lib.format.header_data_from_array_1_0(ragged([[1]])))
            pickle.dump(Gadget(), buf, protocol=3)
        else:
            np.lib.format.write_array(buf, array, allow_pickle=True)
        return buf.getvalue()

    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x_train.npy", npy(evil=True))
        zf.writestr("y_train.npy", npy(np.array([1])))
        zf.writestr("x_test.npy", npy(ragged([[2]])))
        zf.writestr("y_test.npy", npy(np.array([0])))
    with pytest.raises(DatasetFormatError, match="Refusing to load the global"):
        imdb.load_data(path=path)
    assert not (tmp_path / "pwned").exists()
