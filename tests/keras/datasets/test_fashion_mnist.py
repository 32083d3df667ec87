"""fashion_mnist.load_data: the four gzip IDX files, path= (directory or .npz), download."""

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from automl.keras.datasets import fashion_mnist
from automl.keras.datasets._formats import DatasetFormatError
from automl.keras.utils import downloads as _download
from tests.keras.datasets.dataset_helpers import digit_images, offline_error_message

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def tiny_fashion(folder, *, compress=True, n_train=4, n_test=2):
    """Write the four IDX files, exactly as the canonical distribution lays them out."""
    names = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
    arrays = dict(zip(names, digit_images(1, n_train, n_test)))
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, array in arrays.items():
        data = idx_bytes(array)
        if compress:
            data = gzip.compress(data)
            name += ".gz"
        (folder / name).write_bytes(data)
        files[name] = data
    return arrays, files


def check(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape[1:] == (28, 28) and x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


@pytest.mark.parametrize("compress", [True, False])
def test_directory_of_idx_files(tmp_path, compress, offline):
    arrays, _ = tiny_fashion(tmp_path / "fm", compress=compress)
    check(fashion_mnist.load_data(path=tmp_path / "fm"), arrays)
    assert offline == []


def test_npz_copy_and_shared_dir(tmp_path, monkeypatch):
    arrays, _ = tiny_fashion(tmp_path / "fm")
    np.savez_compressed(
        tmp_path / "fashion_mnist.npz",
        x_train=arrays["train-images-idx3-ubyte"], y_train=arrays["train-labels-idx1-ubyte"],
        x_test=arrays["t10k-images-idx3-ubyte"], y_test=arrays["t10k-labels-idx1-ubyte"],
    )
    check(fashion_mnist.load_data(path=tmp_path / "fashion_mnist.npz"), arrays)
    monkeypatch.setenv("AUTOML_DATASETS_DIR", str(tmp_path))
    check(fashion_mnist.load_data(), arrays)


def test_download_into_cache_subdir_then_cache_hit(tmp_path, monkeypatch, serve):
    arrays, files = tiny_fashion(tmp_path / "served")
    remotes = {
        name: _download.RemoteFile(name, (BASE + name,), hashlib.sha256(data).hexdigest())
        for name, data in files.items()
    }
    monkeypatch.setattr(fashion_mnist, "_REMOTES", remotes)
    requested = serve({BASE + name: data for name, data in files.items()})
    check(fashion_mnist.load_data(), arrays)
    check(fashion_mnist.load_data(), arrays)
    assert sorted(requested) == sorted(BASE + name for name in files)  # each fetched once
    assert sorted(p.name for p in (tmp_path / "cache" / "fashion-mnist").iterdir()) == sorted(files)


def test_canonical_checksums_and_offline_error(offline):
    assert set(fashion_mnist._FILES) == {
        "train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
    }
    message = offline_error_message(fashion_mnist.load_data)
    assert "train-labels-idx1-ubyte.gz" in message and BASE in message
    assert fashion_mnist._FILES["train-labels-idx1-ubyte.gz"] in message
    assert 'fashion_mnist.load_data(path="/path/to/dir")' in message
    assert "AUTOML_DATASETS_DIR" in message


def test_bad_local_copies(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fashion_mnist.load_data(path=tmp_path / "nowhere")
    tiny_fashion(tmp_path / "fm")
    (tmp_path / "fm" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        fashion_mnist.load_data(path=tmp_path / "fm")
    (tmp_path / "fm" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08"))
    with pytest.raises(DatasetFormatError, match="not an IDX file"):
        fashion_mnist.load_data(path=tmp_path / "fm")


SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "fashion_mnist.npz"


@pytest.mark.skipif(not SHARED.is_file(), reason="no shared copy of the real Fashion-MNIST")
def test_real_fashion_mnist_from_shared_copy(monkeypatch):
    monkeypatch.setenv("AUTOML_DATASETS_DIR", str(SHARED.parent))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert np.bincount(y_test).tolist() == [1000] * 10
