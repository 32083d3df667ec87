"""Crafted estimator archives: each is refused with a one-line ValueError, and no code runs."""

import io
import json
import sys
import zipfile

import numpy as np
import pytest

from automl import persistence

META = {"format": persistence.FORMAT, "version": 1}


def archive(tree, members=(), meta=META, compress=zipfile.ZIP_STORED) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("metadata.json", json.dumps(meta))
        zf.writestr("tree.json", tree if isinstance(tree, str) else json.dumps(tree))
        for name, data in members:
            zf.writestr(name, data, compress_type=compress)
    buffer.seek(0)
    return buffer


def refused(file, match: str) -> str:
    with pytest.raises(ValueError, match=match) as info:
        persistence.load(file)
    message = str(info.value)
    assert "\n" not in message and message.startswith("Cannot load")
    return message


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


@pytest.mark.parametrize("node", [
    {"t": "reduce", "class": "os.system", "args": {"t": "tuple", "v": ["touch {marker}"]}},
    {"t": "reduce", "class": "posix.system", "args": {"t": "tuple", "v": ["touch {marker}"]}},
    {"t": "reduce", "class": "builtins.eval",
     "args": {"t": "tuple", "v": ["open({marker!r}, 'w')"]}},
    {"t": "reduce", "class": "builtins.exec",
     "args": {"t": "tuple", "v": ["open({marker!r}, 'w')"]}},
    {"t": "reduce", "class": "subprocess.Popen",
     "args": {"t": "tuple", "v": [{"t": "list", "v": ["touch", "{marker}"]}]}},
    {"t": "object", "class": "subprocess.Popen", "state": {"t": "dict", "v": []}},
    {"t": "function", "name": "os.system"},
    {"t": "type", "name": "subprocess.Popen"},
    {"t": "list", "v": [{"t": "reduce", "class": "builtins.getattr",
                         "args": {"t": "tuple", "v": [{"t": "type", "name": "builtins.object"},
                                                      "__subclasses__"]}}]},
], ids=lambda node: json.dumps(node)[:60])
def test_names_that_run_code_are_refused_and_nothing_runs(node, tmp_path):
    marker = tmp_path / "ran"
    tree = json.dumps(node).replace("{marker}", str(marker)).replace("{marker!r}", repr(str(marker)))
    message = refused(archive(tree), "refusing to load")
    assert not marker.exists()
    assert len(message) < 300


@pytest.mark.parametrize("name", [
    "collections.OrderedDict",                           # a harmless class, but not trusted
    "automl.keras.layers.Dense",                         # automl, outside the trusted packages
    "automl.wrappers._base.BaseEstimator",               # a trusted module re-exporting a class
    "automl.wrappers._base.np",                          # a module, not a class
    "automl.wrappers._base.saving.load_model",           # reached through a re-exported module
    "sklearn.ensemble.tests.test_forest.Thing",          # test modules are never imported
    "antigravity.Anything",                              # importing it would open a browser
    "sklearn.pipeline.Pipeline.__init__.__globals__",    # attribute chains to dunders
    "../../etc/passwd",
])
def test_classes_outside_the_allowlist_are_refused_before_any_import(name):
    before = set(sys.modules)
    refused(archive({"t": "object", "class": name}), "refusing to load|not a class")
    assert "antigravity" not in sys.modules
    assert not {m for m in set(sys.modules) - before if ".tests" in m}


@pytest.mark.parametrize("name", ["../x.npy", "/etc/passwd", "arrays/../../x.npy", "a\\b.npy"])
def test_member_names_outside_the_layout_are_refused(name):
    refused(archive(1, [(name, b"x")]), "unexpected member")


def test_member_references_outside_the_layout_are_refused():
    refused(archive({"t": "array", "member": "../../etc/passwd"}), "not one of the archive's")
    refused(archive({"t": "array", "member": "arrays/7.npy"}), "is missing")


def test_an_array_larger_than_its_bytes_is_refused():
    # Build a well-formed header declaring 10**12 float64 values over 24 bytes of data.
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**12,)})
    data = buffer.getvalue() + np.zeros(3).tobytes()
    message = refused(archive({"t": "array", "member": "arrays/0.npy"}, [("arrays/0.npy", data)]),
                      "declares")
    assert "8,000,000,000,000 bytes" in message


def test_a_compressed_array_member_is_refused():
    zeros = npy(np.zeros(10**5))
    refused(archive({"t": "array", "member": "arrays/0.npy"}, [("arrays/0.npy", zeros)],
                    compress=zipfile.ZIP_DEFLATED), "is compressed")


def test_an_object_array_member_is_refused():
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|O", "fortran_order": False,
                                                  "shape": (1,)})
    data = buffer.getvalue() + b"cos\nsystem\n(S'touch x'\ntR."  # a pickle where items go
    refused(archive({"t": "array", "member": "arrays/0.npy"}, [("arrays/0.npy", data)]),
            "holds Python objects")


@pytest.mark.parametrize("depth", [persistence.MAX_DEPTH + 5, 100_000])
def test_deep_nesting_is_bounded(depth):
    tree = '{"t": "list", "v": [' * depth + "1" + "]}" * depth
    refused(archive(tree), "nested")


def test_an_object_array_shape_must_match_its_values():
    refused(archive({"t": "objarray", "shape": [10**6, 10**6], "v": [1]}), "has 1 values")


def test_a_huge_tree_is_refused_before_it_is_parsed():
    refused(archive(" " * (persistence.MAX_TREE_BYTES + 1)), "larger than")


@pytest.mark.parametrize("tree, match", [
    ({"t": "nope"}, "unknown node type"),
    ({"t": "fill"}, "unknown node type"),
    ({"t": "ref", "id": 5}, "points at no earlier value"),
    ({"t": "dict", "v": [[1]]}, "not a \\[key, value\\] pair"),
    ({"t": "float", "v": "1e999999"}, "invalid float"),
    ({"t": "generator", "bit_generator": "Evil"}, "unknown bit generator"),
    ({"t": "object", "class": "sklearn.preprocessing._data.StandardScaler",
      "state": {"t": "list", "v": []}}, "inconsistent"),
    ([1, 2], "not a node"),
])
def test_inconsistent_trees_are_one_line_errors(tree, match):
    refused(archive(tree), match)


def test_files_that_are_not_archives(tmp_path):
    path = tmp_path / "model.automl"
    path.write_bytes(b"\x80\x04cos\nsystem\n.")  # a pickle
    refused(path, "not an estimator archive")
    refused(archive(1, meta={"format": "other"}), "not an automl.persistence archive")
    refused(archive(1, meta={**META, "version": 99}), "archive version 99")
    refused(archive("{not json"), "unreadable JSON")


@pytest.mark.parametrize("field, value", [("left", 10**6), ("right", 0), ("feature_idx", 7)])
def test_trees_pointing_outside_their_arrays_are_refused(field, value):
    # The trees' prediction loops are compiled and unchecked: indices are checked at load.
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    model = HistGradientBoostingRegressor(max_iter=3).fit(X, X[:, 0])
    nodes = model._predictors[0][0].nodes
    nodes[field][np.flatnonzero(nodes["is_leaf"] == 0)[0]] = value
    buffer = io.BytesIO()
    persistence.dump(model, buffer)
    refused(io.BytesIO(buffer.getvalue()), "node indices outside its arrays")
