"""The shared download machinery: cache dir, checksums, atomic writes, offline errors."""

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from automl.keras.datasets import _formats
from automl.keras.utils import downloads as _download
from automl.keras.utils.downloads import DatasetNotAvailableError, RemoteFile

PAYLOAD = b"automl dataset payload\n" * 1000
URL = "https://example.invalid/data/payload.bin"
MIRROR = "https://mirror.invalid/payload.bin"


def remote(data=PAYLOAD, algorithm="sha256", origins=(URL,)):
    return RemoteFile("payload.bin", origins, hashlib.new(algorithm, data).hexdigest())


def fetch(rf, target=None):
    return _download.fetch(rf, target, owner="automl.keras.datasets.demo.load_data",
                           path_hint='demo.load_data(path="/path/to/payload.bin")')


def cache_listing(tmp_path):
    cache = tmp_path / "cache"
    return sorted(p.name for p in cache.rglob("*")) if cache.exists() else []


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    assert _download.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("AUTOML_DATA_DIR")
    assert _download.cache_dir() == Path.home() / ".automl" / "datasets"


def test_download_verifies_and_stores(serve, tmp_path):
    requested = serve({URL: PAYLOAD})
    path = fetch(remote())
    assert path == tmp_path / "cache" / "payload.bin"
    assert path.read_bytes() == PAYLOAD
    assert requested == [URL]
    assert cache_listing(tmp_path) == ["payload.bin"]  # no temporary file left


def test_cache_hit_does_not_download_again(serve):
    requested = serve({URL: PAYLOAD})
    first = fetch(remote())
    second = fetch(remote())
    assert first == second
    assert requested == [URL]  # one download only


def test_cache_hit_works_offline(offline, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "payload.bin").write_bytes(PAYLOAD)
    assert fetch(remote()).read_bytes() == PAYLOAD
    assert offline == []  # the network was never tried


def test_md5_checksums_are_recognised(serve):
    serve({URL: PAYLOAD})
    rf = remote(algorithm="md5")
    assert rf.algorithm == "md5" and len(rf.checksum) == 32
    assert fetch(rf).read_bytes() == PAYLOAD


def test_corrupted_download_is_rejected_and_not_cached(serve, tmp_path):
    serve({URL: PAYLOAD[:-1] + b"X"})
    with pytest.raises(DatasetNotAvailableError, match="checksum mismatch") as info:
        fetch(remote())
    assert "discarded" in str(info.value)
    assert cache_listing(tmp_path) == []  # neither the target nor a partial file


def test_truncated_transfer_is_rejected(serve, tmp_path):
    serve({URL: (PAYLOAD[:100], len(PAYLOAD))})
    with pytest.raises(DatasetNotAvailableError, match=r"truncated: received 100 of \d+ bytes"):
        fetch(remote())
    assert cache_listing(tmp_path) == []


def test_next_origin_is_tried_after_a_bad_one(serve):
    requested = serve({URL: b"wrong bytes", MIRROR: PAYLOAD})
    path = fetch(remote(origins=(URL, MIRROR)))
    assert path.read_bytes() == PAYLOAD
    assert requested == [URL, MIRROR]


def test_corrupted_cache_file_is_replaced_by_a_verified_download(serve, tmp_path):
    target = tmp_path / "cache" / "payload.bin"
    target.parent.mkdir()
    target.write_bytes(b"stale or damaged")
    requested = serve({URL: PAYLOAD})
    assert fetch(remote()).read_bytes() == PAYLOAD
    assert requested == [URL]


def test_corrupted_cache_file_offline_is_reported_and_kept(tmp_path):
    target = tmp_path / "cache" / "payload.bin"
    target.parent.mkdir()
    target.write_bytes(b"damaged")
    with pytest.raises(DatasetNotAvailableError) as info:
        fetch(remote())
    actual = hashlib.sha256(b"damaged").hexdigest()
    assert f"has sha256 {actual}, not the published one" in str(info.value)
    assert target.read_bytes() == b"damaged"


def test_atomic_write_goes_through_a_temporary_file_and_os_replace(serve, monkeypatch, tmp_path):
    serve({URL: PAYLOAD})
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        src, dst = Path(src), Path(dst)
        calls.append((src, dst))
        assert src.parent == dst.parent  # same filesystem: the rename is atomic
        assert src.read_bytes() == PAYLOAD and not dst.exists()  # complete before it appears
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    fetch(remote())
    assert len(calls) == 1 and calls[0][1].name == "payload.bin"
    assert calls[0][0].name.startswith(".payload.bin.") and calls[0][0].suffix == ".part"


def test_interrupted_download_leaves_nothing_and_keeps_the_old_file(monkeypatch, tmp_path):
    import urllib.request

    class Exploding:
        headers = {}

        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of the transfer
            return PAYLOAD[:10]

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Exploding())
    target = tmp_path / "cache" / "payload.bin"
    target.parent.mkdir()
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        fetch(remote())
    assert target.read_bytes() == b"old"
    assert cache_listing(tmp_path) == ["payload.bin"]


def test_offline_error_names_file_urls_checksum_and_remedies(offline, tmp_path):
    rf = remote(origins=(URL, MIRROR))
    with pytest.raises(DatasetNotAvailableError) as info:
        fetch(rf)
    message = str(info.value)
    assert isinstance(info.value, OSError)
    assert "'payload.bin'" in message and "demo.load_data()" in message
    assert f"{URL}: URLError" in message and f"{MIRROR}: URLError" in message
    assert f"Expected sha256: {rf.checksum}" in message
    assert 'demo.load_data(path="/path/to/payload.bin")' in message
    assert f"to {tmp_path / 'cache' / 'payload.bin'}" in message
    assert "AUTOML_DATA_DIR" in message
    assert offline == [URL, MIRROR]
    assert cache_listing(tmp_path) == []


def test_locate_follows_keras_path_semantics(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    assert _download.locate("mnist.npz", "mnist.npz") == cache / "mnist.npz"
    assert _download.locate("other.npz", "mnist.npz") == cache / "other.npz"
    assert _download.locate(tmp_path / "x.npz", "mnist.npz") == tmp_path / "x.npz"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mnist.npz").write_bytes(b"")
    (tmp_path / "mine.npz").write_bytes(b"")
    # a stray file with the default name is not picked up; an explicit one is
    assert _download.locate("mnist.npz", "mnist.npz") == cache / "mnist.npz"
    assert _download.locate("mine.npz", "mnist.npz") == tmp_path / "mine.npz"
    assert _download.in_cache(cache / "a" / "b") and not _download.in_cache(tmp_path / "mine.npz")


class _Gadget:
    def __reduce__(self):
        return (os.system, ("echo should-never-run",))


def test_restricted_unpickler_refuses_code_execution():
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load the global"):
        _formats.restricted_loads(pickle.dumps({b"data": _Gadget()}, protocol=2))
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    for protocol in (3, 4):  # arrays (and plain containers) are fine
        out = _formats.restricted_loads(pickle.dumps({b"data": arr, b"labels": [1]}, protocol))
        np.testing.assert_array_equal(out[b"data"], arr)


def test_read_idx_checks_the_header():
    data = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
    out = _formats.read_idx(data)
    assert out.shape == (2, 3) and out.dtype == np.uint8 and out.flags.writeable
    with pytest.raises(_formats.DatasetFormatError, match="bad magic"):
        _formats.read_idx(b"\x1f\x8b" + data[2:])
    with pytest.raises(_formats.DatasetFormatError, match="declares shape"):
        _formats.read_idx(data[:-1])
    big_endian = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + np.array([1, 258], ">i4").tobytes()
    assert _formats.read_idx(big_endian).tolist() == [1, 258]


def test_npz_with_pickled_objects_is_refused_unless_allowed(tmp_path):
    path = tmp_path / "obj.npz"
    seqs = np.empty(2, dtype=object)
    seqs[0], seqs[1] = [1, 2], [3]
    np.savez(path, x=seqs)
    with pytest.raises(_formats.DatasetFormatError, match="refusing to unpickle"):
        _formats.load_npz(path, ("x",), what="demo")
    out = _formats.load_npz(path, ("x",), what="demo", allow_objects=True)
    assert out["x"].tolist() == [[1, 2], [3]]
    with pytest.raises(_formats.DatasetFormatError, match=r"lacks \['y'\]"):
        _formats.load_npz(path, ("x", "y"), what="demo")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(_formats.DatasetFormatError, match="not a readable demo .npz"):
        _formats.load_npz(tmp_path / "junk.npz", ("x",), what="demo")
