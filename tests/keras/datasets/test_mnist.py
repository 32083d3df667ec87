"""mnist.load_data: Keras's file and layout, path=, $AUTOML_DATASETS_DIR, download, offline."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from automl.keras.datasets import DatasetNotAvailableError, mnist
from automl.keras.datasets._formats import DatasetFormatError
from automl.keras.utils import downloads as _download
from tests.keras.datasets.dataset_helpers import digit_images, offline_error_message

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "mnist.npz"
URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"


def tiny_mnist(path, n_train=5, n_test=3):
    arrays = dict(zip(("x_train", "y_train", "x_test", "y_test"), digit_images(0, n_train, n_test)))
    np.savez_compressed(path, **arrays)
    return arrays


def check(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                     (y_test, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


def test_local_copy_via_path(tmp_path, offline):
    arrays = tiny_mnist(tmp_path / "copy.npz")
    check(mnist.load_data(path=tmp_path / "copy.npz"), arrays)
    check(mnist.load_data(path=str(tmp_path / "copy.npz")), arrays)
    assert offline == []


def test_shared_datasets_dir(tmp_path, monkeypatch, offline):
    arrays = tiny_mnist(tmp_path / "mnist.npz")
    monkeypatch.setenv("AUTOML_DATASETS_DIR", str(tmp_path))
    check(mnist.load_data(), arrays)
    assert offline == []


def test_download_then_cache_hit(tmp_path, monkeypatch, serve):
    arrays = tiny_mnist(tmp_path / "served.npz")
    data = (tmp_path / "served.npz").read_bytes()
    # the real file's checksum cannot match the tiny fixture: point the loader at ours
    monkeypatch.setattr(mnist, "_REMOTE", _download.RemoteFile(
        "mnist.npz", (URL,), hashlib.sha256(data).hexdigest()))
    requested = serve({URL: data})
    check(mnist.load_data(), arrays)
    check(mnist.load_data(), arrays)
    assert requested == [URL]
    assert (tmp_path / "cache" / "mnist.npz").read_bytes() == data


def test_real_checksum_rejects_other_bytes(tmp_path, serve):
    tiny_mnist(tmp_path / "served.npz")
    serve({URL: (tmp_path / "served.npz").read_bytes()})
    with pytest.raises(DatasetNotAvailableError, match="checksum mismatch"):
        mnist.load_data()
    assert not (tmp_path / "cache" / "mnist.npz").exists()


def test_offline_error_explains_how_to_provide_the_file(offline):
    message = offline_error_message(mnist.load_data)
    assert "'mnist.npz'" in message and URL in message
    assert "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1" in message
    assert 'mnist.load_data(path="/path/to/mnist.npz")' in message
    assert "AUTOML_DATA_DIR" in message and "AUTOML_DATASETS_DIR" in message
    assert offline == [URL]


def test_wrong_layout_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetFormatError, match=r"lacks \['y_train', 'x_test', 'y_test'\]"):
        mnist.load_data(path=tmp_path / "bad.npz")
    np.savez(tmp_path / "bad2.npz", x_train=np.zeros((2, 28, 27), np.uint8),
             y_train=np.zeros(2, np.uint8), x_test=np.zeros((1, 28, 28), np.uint8),
             y_test=np.zeros(1, np.uint8))
    with pytest.raises(DatasetFormatError, match=r"expected \(n, 28, 28\)"):
        mnist.load_data(path=tmp_path / "bad2.npz")


@pytest.mark.skipif(not SHARED.is_file(), reason="no shared copy of the real MNIST")
def test_real_mnist_from_shared_copy():
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=SHARED)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
