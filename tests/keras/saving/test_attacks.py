"""Crafted files are refused with a clear ValueError, in bounded memory, and never run code.

Each attack is loaded in a fresh subprocess that reports its peak resident
memory (``ru_maxrss``), so the bound covers NumPy, h5py and zlib alike.
"""

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib

import h5py
import numpy as np
import pytest

from automl.keras import Input, Sequential, layers, saving

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras_files")
PEAK_LIMIT_MB = 200


def _load_in_subprocess(path, extra=""):
    """Load ``path`` in a fresh interpreter; return (error message or None, peak MB)."""
    script = textwrap.dedent(f"""
        import json, resource, sys
        from automl.keras import saving
        error = None
        try:
            saving.load_model({str(path)!r}{extra})
        except ValueError as exc:
            error = str(exc)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        try:  # this process's own high-water mark (ru_maxrss also counts the forking parent)
            with open("/proc/self/status") as f:
                peak = [int(l.split()[1]) / 1024 for l in f if l.startswith("VmHWM")][0]
        except (OSError, IndexError):
            pass
        print(json.dumps({{"error": error, "peak_mb": peak}}))
    """)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    return out["error"], out["peak_mb"]


def _refused(path, match, extra=""):
    error, peak = _load_in_subprocess(path, extra)
    assert error is not None, f"{path} loaded"
    assert os.path.basename(str(path)) in error
    assert __import__("re").search(match, error), error
    print(f"{os.path.basename(str(path))}: refused, peak {peak:.0f} MB")
    assert peak < PEAK_LIMIT_MB, f"peak memory {peak:.0f} MB"
    return error


def _model():
    return Sequential([Input(shape=(4,)), layers.Dense(3), layers.Dense(1)])


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture()
def good(tmp_path):
    path = tmp_path / "good.keras"
    model = _model()
    model.compile("adam", "mse")
    model.fit(np.ones((4, 4)), np.ones((4, 1)), verbose=0)
    model.save(path)
    return path


# -- zip bombs -------------------------------------------------------------------
def _deflate_zeros(n_mib):
    """Raw deflate data of ``n_mib`` MiB of zeros, made fast: one flushed segment repeated.

    (The CRC written with it is left 0: the loader must refuse before expanding anything.)
    """
    segment = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = segment.compress(bytes(2**20)) + segment.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return block * n_mib + final, 0


def _write_zip(path, members, raw_name, raw_data, declared_size, crc):
    """A zip archive of stored ``members`` plus one deflated member given as raw data."""
    out = io.BytesIO()
    central = []
    entries = [(name, data, 0, len(data), zlib.crc32(data)) for name, data in members.items()]
    entries.append((raw_name, raw_data, 8, declared_size, crc))
    for name, data, method, size, checksum in entries:
        offset = out.tell()
        encoded = name.encode()
        zip64 = size >= 2**32
        extra = struct.pack("<HHQQ", 1, 16, size, len(data)) if zip64 else b""
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, method, 0, 0,
                              checksum, 0xFFFFFFFF if zip64 else len(data),
                              0xFFFFFFFF if zip64 else size, len(encoded), len(extra)))
        out.write(encoded + extra + data)
        cextra = struct.pack("<HHQQ", 1, 16, size, len(data)) if zip64 else b""
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if zip64 else 20,
                                   45 if zip64 else 20, 0, method, 0, 0, checksum,
                                   0xFFFFFFFF if zip64 else len(data),
                                   0xFFFFFFFF if zip64 else size, len(encoded), len(cextra),
                                   0, 0, 0, 0, offset) + encoded + cextra)
    start = out.tell()
    for record in central:
        out.write(record)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    path.write_bytes(out.getvalue())


@pytest.mark.parametrize("member", ["model.weights.h5", "config.json"])
def test_one_megabyte_zip_bomb(good, tmp_path, member):
    raw, crc = _deflate_zeros(1024)  # ~1 MB on disk, 1 GiB expanded
    members = {k: v for k, v in _members(good).items() if k != member}
    bomb = tmp_path / "bomb1.keras"
    _write_zip(bomb, members, member, raw, 2**30, crc)
    assert bomb.stat().st_size < 1.2 * 2**20
    _refused(bomb, rf"'{member}' declares 1,073,741,824 bytes.*decompression bomb")


def test_four_megabyte_zip_bomb(good, tmp_path):
    raw, crc = _deflate_zeros(4096)  # ~4 MB on disk, 4 GiB expanded (a zip64 member)
    members = {k: v for k, v in _members(good).items() if k != "model.weights.h5"}
    bomb = tmp_path / "bomb4.keras"
    _write_zip(bomb, members, "model.weights.h5", raw, 2**32, crc)
    _refused(bomb, r"'model\.weights\.h5' declares 4,294,967,296 bytes.*decompression bomb")


def test_zip_member_lying_about_its_size(good, tmp_path):
    """A header claiming a small size cannot make the reader expand the real data."""
    raw, crc = _deflate_zeros(64)  # 64 MiB of zeros declared as 4 KiB
    members = {k: v for k, v in _members(good).items() if k != "model.weights.h5"}
    liar = tmp_path / "liar.keras"
    _write_zip(liar, members, "model.weights.h5", raw, 4096, crc)
    _refused(liar, r"liar\.keras': (the archive member 'model\.weights\.h5' is corrupted|"
                   r"'model\.weights\.h5' is not a valid HDF5)")


# -- configs -----------------------------------------------------------------------
def _with_config(good, path, edit):
    members = _members(good)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_huge_units_refused_before_allocating(good, tmp_path):
    def edit(config):
        config["config"]["layers"][1]["config"]["units"] = 10**10

    bad = tmp_path / "units.keras"
    _with_config(good, bad, edit)
    _refused(bad, r"layer 'dense\w*' allocate a weight of shape \(4, 10000000000\).*more than "
                  r"the file's weights can hold")


def test_huge_shapes_refused_before_allocating(good, tmp_path):
    def edit(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 10**9]

    bad = tmp_path / "shape.keras"
    _with_config(good, bad, edit)
    _refused(bad, r"allocate a weight of shape \(1000000000, 3\)")


def test_integers_beyond_any_real_size(good, tmp_path):
    members = _members(good)
    text = members["config.json"].decode().replace('"units": 3', '"units": ' + "9" * 5000)
    members["config.json"] = text.encode()
    bad = tmp_path / "bigint.keras"
    with zipfile.ZipFile(bad, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _refused(bad, r"'config\.json' is not valid JSON \(the integer 9{30}\.\.\. is too large")


def test_deeply_nested_json(good, tmp_path):
    members = _members(good)
    members["config.json"] = b"[" * 200_000 + b"]" * 200_000
    bad = tmp_path / "deep.keras"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _refused(bad, r"'config\.json' is JSON nested 200,000 levels deep")


def test_huge_json_member(good, tmp_path):
    members = _members(good)
    members["config.json"] = b" " * (17 * 2**20) + b"{}"
    bad = tmp_path / "longjson.keras"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _refused(bad, r"'config\.json' declares 17,825,794 bytes, more than")


# -- weights -----------------------------------------------------------------------
def _with_h5(good, path, edit):
    members = _members(good)
    buf = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buf, "a") as h5:
        edit(h5)
    members["model.weights.h5"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_optimizer_iterations_as_an_array(good, tmp_path):
    def edit(h5):
        del h5["optimizer/vars/0"]
        h5["optimizer/vars"].create_dataset("0", data=np.arange(3))

    bad = tmp_path / "iterations.keras"
    _with_h5(good, bad, edit)
    _refused(bad, r"optimizer iterations .* must be a scalar integer\. Got an array of shape \(3,\)")
    # compile=False does not read the optimizer state at all.
    error, _ = _load_in_subprocess(bad, ", compile=False")
    assert error is None


def test_hdf5_shape_bomb(good, tmp_path):
    def edit(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars"].create_dataset("0", shape=(2**15, 2**15), dtype="float32",
                                               chunks=(64, 64), compression="gzip")

    bad = tmp_path / "shapebomb.keras"
    _with_h5(good, bad, edit)
    _refused(bad, r"shapebomb\.keras.*(shape bomb|declares)")


def test_legacy_h5_shape_bomb(tmp_path):
    model = _model()
    path = tmp_path / "legacy.h5"
    model.save(path)
    with h5py.File(path, "a") as h5:
        group = h5["model_weights"][model.layers[0].name]
        name = group.attrs["weight_names"][0]
        name = name.decode() if isinstance(name, bytes) else name
        del group[name]
        group.create_dataset(name, shape=(2**15, 2**15), dtype="float32", chunks=(64, 64),
                             compression="gzip")
    _refused(path, r"legacy\.h5.*(shape bomb|declares)")


# -- code ----------------------------------------------------------------------------
def test_lambda_bytecode_refused_in_safe_mode():
    path = os.path.join(FIXTURES, "lambda.keras")
    error = _refused(path, r"Lambda layer 'lambda\w*' whose function was saved as Python "
                           r"bytecode.*safe_mode=False")
    assert "arbitrary code" in error


def test_lambda_without_safe_mode_uses_only_custom_objects():
    path = os.path.join(FIXTURES, "lambda.keras")
    with np.load(os.path.join(FIXTURES, "lambda.npz")) as ref:
        x, y = ref["x0"], ref["y"]
    with pytest.raises(ValueError, match="Pass the function in custom_objects"):
        saving.load_model(path, safe_mode=False)
    layer_name = json.loads(_members(path)["config.json"])["config"]["layers"][2]["config"]["name"]
    calls = []

    def double(t):
        calls.append(1)
        return t * 2.0

    model = saving.load_model(path, safe_mode=False, custom_objects={layer_name: double})
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)
    assert calls  # the given function ran, not the saved bytecode


def test_unregistered_custom_layer_and_missing_layer_are_named():
    path = os.path.join(FIXTURES, "custom_layer.keras")
    _refused(path, r"custom layer 'Scale' \(module '\w+', registered name 'MyPkg>Scale'\).*"
                   r"custom_objects=\{'MyPkg>Scale'")
    members = _members(path)
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["class_name"] = "NoSuchKerasLayer"
    config["config"]["layers"][1]["module"] = "keras.layers"
    config["config"]["layers"][1]["registered_name"] = None
    with pytest.raises(ValueError, match=r"the layer 'NoSuchKerasLayer' \(keras\.layers\), which "
                                         r"automl\.keras does not have"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, json.dumps(config) if name == "config.json" else data)
        saving.load_model(io.BytesIO(buf.getvalue()))


def test_archive_assets_are_refused_not_ignored():
    """An adapted lookup layer keeps its vocabulary in assets/: refused, never loaded empty."""
    path = os.path.join(FIXTURES, "adapted_lookup.keras")
    with pytest.raises(ValueError, match=r"adapted_lookup\.keras.*holds assets .*vocabulary"):
        saving.load_model(path)
