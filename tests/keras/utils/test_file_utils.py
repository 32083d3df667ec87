"""get_file with local file:// origins and a pre-seeded cache (no network)."""

import hashlib
import io
import tarfile
import zipfile

import pytest

from automl.keras import utils
from automl.keras.datasets import DatasetNotAvailableError


@pytest.fixture()
def source(tmp_path):
    src = tmp_path / "src" / "data.csv"
    src.parent.mkdir()
    src.write_bytes(b"a,b\n1,2\n")
    return src


def test_downloads_into_the_cache_and_reuses_it(source, tmp_path):
    cache = tmp_path / "cache"
    path = utils.get_file(origin=source.as_uri(), cache_dir=cache)
    assert path == str(cache / "datasets" / "data.csv")
    assert open(path, "rb").read() == source.read_bytes()
    source.write_bytes(b"changed")
    assert open(utils.get_file("data.csv", source.as_uri(), cache_dir=cache), "rb").read() \
        == b"a,b\n1,2\n"  # cache hit: not downloaded again
    forced = utils.get_file("data.csv", source.as_uri(), cache_dir=cache, force_download=True)
    assert open(forced, "rb").read() == b"changed"


def test_default_cache_is_the_engine_data_dir(source, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_DATA_DIR", str(tmp_path / "data"))
    assert utils.get_file("x.csv", source.as_uri()) == str(tmp_path / "data" / "x.csv")
    other = utils.get_file("x.csv", source.as_uri(), cache_subdir="models")
    assert other == str(tmp_path / "models" / "x.csv")


def test_file_hash_is_verified(source, tmp_path):
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    cache = tmp_path / "c"
    assert utils.get_file("ok.csv", source.as_uri(), file_hash=digest, cache_dir=cache)
    assert utils.get_file("ok2.csv", source.as_uri(), md5_hash=md5, cache_dir=cache)
    with pytest.raises(DatasetNotAvailableError, match="checksum mismatch"):
        utils.get_file("bad.csv", source.as_uri(), file_hash="0" * 64, cache_dir=cache)
    assert not (cache / "datasets" / "bad.csv").exists()  # an unverified file is not kept
    with pytest.raises(ValueError, match="'file_hash' parameter of get_file"):
        utils.get_file("bad.csv", source.as_uri(), file_hash="abc", cache_dir=cache)


def test_pre_seeded_cache_with_a_matching_hash_needs_no_origin(tmp_path):
    cache = tmp_path / "cache"
    (cache / "datasets").mkdir(parents=True)
    (cache / "datasets" / "seed.bin").write_bytes(b"seeded")
    digest = hashlib.sha256(b"seeded").hexdigest()
    path = utils.get_file("seed.bin", "https://unreachable.invalid/seed.bin", file_hash=digest,
                          cache_dir=cache)
    assert open(path, "rb").read() == b"seeded"


def test_missing_origin_reports_the_url(tmp_path):
    with pytest.raises(DatasetNotAvailableError, match="nothing.csv"):
        utils.get_file(origin=(tmp_path / "nothing.csv").as_uri(), cache_dir=tmp_path / "c")
    with pytest.raises(TypeError, match="'origin' parameter of get_file"):
        utils.get_file("x")


def test_extract_tar_and_zip(tmp_path):
    tar_path = tmp_path / "arch.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        info = tarfile.TarInfo("folder/hello.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    out = utils.get_file(origin=tar_path.as_uri(), extract=True, cache_dir=tmp_path / "c")
    assert out.endswith("arch.tar.gz_extracted")
    assert open(f"{out}/folder/hello.txt").read() == "hello"
    zip_path = tmp_path / "z.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("a.txt", "zipped")
    out = utils.get_file("z.zip", zip_path.as_uri(), extract=True, cache_dir=tmp_path / "c")
    assert open(f"{out}/a.txt").read() == "zipped"


def test_extract_refuses_members_outside_the_folder(tmp_path):
    zip_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(ValueError, match="unsafe"):
        utils.get_file(origin=zip_path.as_uri(), extract=True, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "escape.txt").exists()
