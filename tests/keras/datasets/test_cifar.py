"""cifar10 / cifar100: pickled batch dicts inside the .tar.gz, read with a restricted unpickler."""

import hashlib
import io
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest

from automl.keras.datasets import cifar10, cifar100
from automl.keras.datasets._formats import DatasetFormatError, _reconstruct
from automl.keras.utils import downloads as _download
from tests.keras.datasets.dataset_helpers import offline_error_message

C10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


class Py2Pickler(pickle._Pickler):
    """Writes the stream Python 2's cPickle (protocol 2) wrote for the CIFAR files:
    strings as byte strings (BINSTRING) and the pre-NumPy-2 global
    ``numpy.core.multiarray._reconstruct``."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_str(self, obj):
        if isinstance(obj, str):
            obj = obj.encode("latin1")
        n = len(obj)
        head = pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else (
            pickle.BINSTRING + struct.pack("<i", n))
        self.write(head + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str
    dispatch[str] = _save_py2_str

    def save_global(self, obj, name=None):
        if obj is _reconstruct:
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def batch(rng, n, label_keys):
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    d = {b"batch_label": b"a batch", b"data": images.reshape(n, 3072),
         b"filenames": [b"img_%d.png" % i for i in range(n)]}
    labels = {}
    for key, high in label_keys.items():
        labels[key] = rng.integers(0, high, n).tolist()
        d[key.encode()] = labels[key]
    return images, labels, py2_pickle(d)


def write_tar(path, folder, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def tiny_cifar10(path):
    rng = np.random.default_rng(2)
    members, expected = {"batches.meta": py2_pickle({b"label_names": [b"airplane"]})}, {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        images, labels, data = batch(rng, 2 + i % 2, {"labels": 10})
        members[name] = data
        expected[name] = (images, labels["labels"])
    write_tar(path, "cifar-10-batches-py", members)
    x_train = np.concatenate([expected[f"data_batch_{k}"][0] for k in range(1, 6)])
    y_train = sum((expected[f"data_batch_{k}"][1] for k in range(1, 6)), [])
    return (x_train, y_train), expected["test_batch"], members


def check_cifar10(result, train, test):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (len(train[1]), 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (len(train[1]), 1) and y_train.dtype == np.uint8
    assert x_test.shape == (len(test[1]), 32, 32, 3) and y_test.shape == (len(test[1]), 1)
    assert y_test.dtype == np.uint8
    # channels last: pixel (row 4, col 7) of image 1 has the three planes' values
    np.testing.assert_array_equal(x_train[1, 4, 7], train[0][1, :, 4, 7])
    np.testing.assert_array_equal(x_train, train[0].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[:, 0], train[1])
    np.testing.assert_array_equal(x_test, test[0].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_test[:, 0], test[1])


def test_cifar10_from_archive_path(tmp_path, offline):
    train, test, _ = tiny_cifar10(tmp_path / "c10.tar.gz")
    check_cifar10(cifar10.load_data(path=tmp_path / "c10.tar.gz"), train, test)
    assert offline == []


def test_cifar10_from_extracted_folder(tmp_path):
    train, test, members = tiny_cifar10(tmp_path / "c10.tar.gz")
    folder = tmp_path / "x" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, data in members.items():
        (folder / name).write_bytes(data)
    check_cifar10(cifar10.load_data(path=folder), train, test)
    check_cifar10(cifar10.load_data(path=folder.parent), train, test)


def test_cifar10_download_then_cache_hit(tmp_path, monkeypatch, serve):
    train, test, _ = tiny_cifar10(tmp_path / "served.tar.gz")
    data = (tmp_path / "served.tar.gz").read_bytes()
    monkeypatch.setattr(cifar10, "_REMOTE", _download.RemoteFile(
        "cifar-10-python.tar.gz", (C10_URL,), hashlib.sha256(data).hexdigest()))
    requested = serve({C10_URL: data})
    check_cifar10(cifar10.load_data(), train, test)
    check_cifar10(cifar10.load_data(), train, test)
    assert requested == [C10_URL]
    assert sorted(os.listdir(tmp_path / "cache")) == ["cifar-10-python.tar.gz"]  # not extracted


def test_cifar10_offline_error(offline):
    message = offline_error_message(cifar10.load_data)
    assert "'cifar-10-python.tar.gz'" in message and C10_URL in message
    assert "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce" in message
    assert 'cifar10.load_data(path="/path/to/cifar-10-python.tar.gz")' in message


def test_malicious_batch_is_refused(tmp_path):
    _, _, members = tiny_cifar10(tmp_path / "ok.tar.gz")

    class Gadget:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    members["data_batch_3"] = pickle.dumps({b"data": Gadget(), b"labels": []}, protocol=2)
    write_tar(tmp_path / "evil.tar.gz", "cifar-10-batches-py", members)
    with pytest.raises(DatasetFormatError, match="Refusing to load the global"):
        cifar10.load_data(path=tmp_path / "evil.tar.gz")
    assert not (tmp_path / "pwned").exists()


def test_incomplete_or_bad_archives(tmp_path):
    _, _, members = tiny_cifar10(tmp_path / "ok.tar.gz")
    del members["test_batch"]
    write_tar(tmp_path / "partial.tar.gz", "cifar-10-batches-py", members)
    with pytest.raises(DatasetFormatError, match=r"lacks the CIFAR batch files \['test_batch'\]"):
        cifar10.load_data(path=tmp_path / "partial.tar.gz")
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    with pytest.raises(DatasetFormatError, match="not a readable CIFAR archive"):
        cifar10.load_data(path=tmp_path / "junk.tar.gz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cifar10.load_data(path=tmp_path / "missing.tar.gz")


@pytest.fixture()
def tiny_cifar100(tmp_path):
    rng = np.random.default_rng(3)
    keys = {"fine_labels": 100, "coarse_labels": 20}
    train = batch(rng, 3, keys)
    test = batch(rng, 2, keys)
    write_tar(tmp_path / "c100.tar.gz", "cifar-100-python",
              {"meta": py2_pickle({b"fine_label_names": []}), "train": train[2], "test": test[2]})
    return tmp_path / "c100.tar.gz", train, test


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_label_modes(tiny_cifar100, label_mode):
    path, train, test = tiny_cifar100
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode, path=path)
    assert x_train.shape == (3, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(x_train, train[0].transpose(0, 2, 3, 1))
    assert y_train.shape == (3, 1) and y_train.dtype == np.int64  # as Keras's loader returns
    assert y_train[:, 0].tolist() == train[1][f"{label_mode}_labels"]
    assert y_test[:, 0].tolist() == test[1][f"{label_mode}_labels"]


def test_cifar100_rejects_unknown_label_mode(tiny_cifar100):
    with pytest.raises(ValueError, match=r"The 'label_mode' parameter of cifar100.load_data must "
                                         r"be one of \{'fine', 'coarse'\}. Got 'medium' instead."):
        cifar100.load_data("medium", path=tiny_cifar100[0])
