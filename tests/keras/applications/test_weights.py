"""weights="imagenet": the files, URLs and hashes Keras requests, fetched through the real cache.

``fixtures/imagenet_requests.json`` holds what real Keras passes to
``get_file`` for every constructor (recorded by fixtures/make_fixtures.py).
Tests cannot download, so the request test records the arguments our
constructors pass; the cache tests run the real ``get_file`` on a file placed
in the cache directory beforehand.
"""

import hashlib
import json
import os
import shutil

import numpy as np
import pytest

from automl.keras import applications
from automl.keras.applications import _common, imagenet_utils, mobilenet_v3

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
with open(os.path.join(FIXTURES, "imagenet_requests.json")) as f:
    KERAS_REQUESTS = json.load(f)


class _Requested(Exception):
    pass


def _request(monkeypatch, ctor, **kwargs):
    """The (fname, origin, cache_subdir, file_hash) the constructor asks get_file for."""
    calls = []

    def record(fname, origin, cache_subdir="datasets", file_hash=None):
        calls.append([fname, origin, cache_subdir, file_hash])
        raise _Requested

    monkeypatch.setattr(_common, "get_file", record)
    with pytest.raises(_Requested):
        ctor(weights="imagenet", **kwargs)
    return calls[0]


def _cases():
    for key in sorted(KERAS_REQUESTS):
        if key == "decode_predictions":
            continue
        parts = key.split("/")
        kwargs = {"include_top": parts[1] == "True"}
        if len(parts) == 4:  # MobileNet(V2)/top/alpha/rows
            kwargs.update(alpha=float(parts[2]), input_shape=(int(parts[3]),) * 2 + (3,))
        for extra in parts[2:]:
            if "=" in extra:
                name, value = extra.split("=")
                kwargs[name] = True if value == "True" else float(value)
        yield pytest.param(parts[0], kwargs, KERAS_REQUESTS[key], id=key)


@pytest.mark.filterwarnings("ignore:input_shape is undefined")
@pytest.mark.parametrize("ctor, kwargs, expected", list(_cases()))
def test_imagenet_weights_request_keras_files_urls_and_hashes(monkeypatch, ctor, kwargs,
                                                              expected):
    fname, origin, subdir, file_hash = expected
    if fname is None or fname.startswith("http"):  # Keras passes the URL as fname
        fname = os.path.basename(origin or fname)
        origin = origin or expected[0]
    assert _request(monkeypatch, getattr(applications, ctor), **kwargs) == \
        [fname, origin, subdir, file_hash]


def test_every_constructor_has_an_imagenet_request():
    tops = {key.split("/")[0] for key in KERAS_REQUESTS if key.count("/") == 1}
    assert tops == {n for n in applications.__all__ if n[0].isupper()}


def _md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


@pytest.mark.filterwarnings("ignore:input_shape is undefined")
def test_imagenet_weights_load_from_the_cache_with_the_hash_checked(tmp_path, monkeypatch):
    """Keras's legacy HDF5 file, placed where get_file caches it, loads offline."""
    monkeypatch.setenv("AUTOML_DATA_DIR", str(tmp_path / "datasets"))
    (tmp_path / "models").mkdir()
    fixture = os.path.join(FIXTURES, "mobilenet_v3_small_a075_notop.h5")
    cached = tmp_path / "models" / "weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5"
    shutil.copy(fixture, cached)
    # The published hash cannot match our stand-in file: give the table its hash instead.
    monkeypatch.setitem(mobilenet_v3._HASHES, "small_224_0.75_float", ("0" * 32, _md5(fixture)))
    model = applications.MobileNetV3Small(input_shape=(64, 64, 3), alpha=0.75,
                                          include_top=False, pooling="avg", weights="imagenet")
    data = np.load(os.path.join(FIXTURES, "mobilenet_v3_small_a075_notop.npz"))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-4,
                               atol=1e-4)


def test_decode_predictions_reads_the_class_index_through_the_cache(tmp_path, monkeypatch):
    assert KERAS_REQUESTS["decode_predictions"] == [
        "imagenet_class_index.json", imagenet_utils.CLASS_INDEX_PATH, "models",
        imagenet_utils.CLASS_INDEX_HASH]
    monkeypatch.setenv("AUTOML_DATA_DIR", str(tmp_path / "datasets"))
    (tmp_path / "models").mkdir()
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "models" / "imagenet_class_index.json"
    path.write_text(json.dumps(index))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", _md5(path))
    preds = np.zeros((2, 1000), dtype="float32")
    preds[0, [3, 7, 1]] = [0.5, 0.3, 0.2]
    preds[1, 999] = 1.0
    out = applications.resnet.decode_predictions(preds, top=3)
    assert [t[:2] for t in out[0]] == [("n00000003", "class_3"), ("n00000007", "class_7"),
                                       ("n00000001", "class_1")]
    assert out[0][0][2] == pytest.approx(0.5)
    assert out[1][0][:2] == ("n00000999", "class_999") and len(out[1]) == 3


def test_decode_predictions_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match=r"'preds' parameter of decode_predictions.*\(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_weights_path_loads_a_local_file_and_a_missing_one_is_a_one_line_error(tmp_path):
    path = os.path.join(FIXTURES, "mobilenet_a025_64.h5")
    data = np.load(os.path.join(FIXTURES, "mobilenet_a025_64.npz"))
    model = applications.MobileNet(input_shape=(64, 64, 3), alpha=0.25, classes=10, weights=path)
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-4,
                               atol=1e-4)
    missing = str(tmp_path / "nope.h5")
    with pytest.raises(ValueError, match="'weights' parameter of MobileNet must be None, "
                                         "'imagenet' or the path of an existing weights file"):
        applications.MobileNet(weights=missing)
