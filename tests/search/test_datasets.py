"""Study datasets: built-in names, CSV/Parquet files, .npz archives and module:function."""

import importlib.util
import itertools
import re
import textwrap

import numpy as np
import pandas as pd
import pytest

from automl.search import SpecError
from automl.search._datasets import (
    DATASETS,
    Dataset,
    dataset_scale,
    dataset_task,
    infer_task,
    load_dataset,
)

_counter = itertools.count()


def _module(tmp_path, body: str) -> str:
    """A uniquely named module file in tmp_path (modules stay in sys.modules)."""
    name = f"automl_test_data_{next(_counter)}_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    return name


def _frame():
    return pd.DataFrame(
        {
            "a": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
            "b": [1, 0, 1, 0, 1, 0],
            "label": [0, 1, 2, 0, 1, 2],
        }
    )


# ---------------------------------------------------------------------------
# Built-in names


def test_builtin_name_keeps_its_task_and_scaling():
    ds = load_dataset("iris")
    assert isinstance(ds, Dataset)
    assert ds.X.shape == (150, 4) and ds.X.dtype == np.float32 and ds.y.dtype == np.int64
    assert (ds.task, ds.scale, ds.X_test, ds.y_test) == ("classification", "standard", None, None)
    assert load_dataset("digits").scale == "none"
    assert load_dataset("diabetes").task == "regression"
    assert set(DATASETS) >= {"digits", "iris", "wine", "breast_cancer", "diabetes", "mnist"}


def test_dataset_task_and_scale_of_names():
    assert dataset_task("diabetes") == "regression"
    assert dataset_task("mnist") == "classification"  # from the name, nothing loaded
    assert dataset_scale("fashion_mnist") == "none"
    assert dataset_scale("wine") == dataset_scale({"csv": "x.csv", "target": "y"}) == "standard"


def test_unknown_name_lists_what_is_valid():
    with pytest.raises(SpecError) as err:
        load_dataset("digitz", source="study.yaml")
    msg = str(err.value)
    assert msg.startswith("study.yaml: key 'dataset': unknown dataset 'digitz'")
    assert "'iris'" in msg and "'module:function'" in msg and "'csv'" in msg


@pytest.mark.parametrize(
    "value, match",
    [
        (3, "must be a dataset name, 'module:function' or a mapping"),
        ({"target": "y"}, r"exactly one of the keys \['csv', 'parquet', 'npz', 'function'\]"),
        ({"csv": "a.csv", "npz": "b.npz"}, r"found \['csv', 'npz'\]"),
        ({"npz": "a.npz", "target": "y"}, "unknown key 'target' for a npz dataset"),
        ({"csv": "a.csv", "target": "y", "task": "ranking"}, "key 'dataset.task': must be one"),
        ({"function": "m:f", "kwargs": [1]}, "key 'dataset.kwargs': must be a mapping"),
    ],
)
def test_malformed_values_are_named(value, match):
    with pytest.raises(SpecError, match=match):
        load_dataset(value)


# ---------------------------------------------------------------------------
# CSV


def test_csv_with_relative_path_and_inferred_task(tmp_path):
    (tmp_path / "data").mkdir()
    _frame().to_csv(tmp_path / "data" / "train.csv", index=False)
    ds = load_dataset({"csv": "data/train.csv", "target": "label"}, base_dir=tmp_path)
    assert ds.name == "train.csv"
    assert ds.X.dtype == np.float32 and ds.X.shape == (6, 2)
    np.testing.assert_array_equal(ds.X[:, 0], _frame()["a"].to_numpy(np.float32))
    assert ds.y.dtype == np.int64 and ds.y.tolist() == [0, 1, 2, 0, 1, 2]
    assert ds.task is None and ds.resolved_task == "classification"


def test_csv_features_task_name_and_test_file(tmp_path):
    frame = _frame()
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[:2].to_csv(tmp_path / "test.csv", index=False)
    ds = load_dataset(
        {
            "csv": str(tmp_path / "train.csv"),  # absolute
            "target": "a",
            "features": ["b"],
            "task": "regression",
            "test": "test.csv",
            "name": "toy",
        },
        base_dir=tmp_path,
    )
    assert ds.name == "toy" and ds.task == "regression"
    assert ds.X.shape == (6, 1) and ds.y.dtype == np.float32
    assert ds.X_test.shape == (2, 1) and ds.y_test.tolist() == [0.5, 1.5]


def test_csv_string_labels_are_kept(tmp_path):
    frame = _frame().assign(label=["cat", "dog", "cat", "dog", "cat", "dog"])
    frame.to_csv(tmp_path / "t.csv", index=False)
    ds = load_dataset({"csv": "t.csv", "target": "label"}, base_dir=tmp_path)
    assert ds.y.tolist()[:2] == ["cat", "dog"] and ds.resolved_task == "classification"


def test_csv_missing_file_names_key_value_and_path(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_dataset({"csv": "nothere.csv", "target": "y"}, base_dir=tmp_path, source="s.yaml")
    msg = str(err.value)
    assert msg.startswith("s.yaml: key 'dataset.csv': file 'nothere.csv' not found")
    assert str(tmp_path / "nothere.csv") in msg


def test_csv_missing_target_lists_the_columns(tmp_path):
    _frame().to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SpecError) as err:
        load_dataset({"csv": "t.csv", "target": "y"}, base_dir=tmp_path)
    assert str(err.value) == (
        "key 'dataset.target': column 'y' not found in t.csv; its columns are ['a', 'b', 'label']"
    )
    with pytest.raises(SpecError, match="needs 'target'"):
        load_dataset({"csv": "t.csv"}, base_dir=tmp_path)


def test_csv_non_numeric_features_are_named(tmp_path):
    frame = _frame().assign(color=list("rgbrgb"), city=list("xyzxyz"))
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SpecError) as err:
        load_dataset({"csv": "t.csv", "target": "label"}, base_dir=tmp_path)
    msg = str(err.value)
    assert "feature column(s) ['color', 'city'] of t.csv are not numeric" in msg
    assert "features: [...]" in msg
    # choosing numeric columns works
    ds = load_dataset(
        {"csv": "t.csv", "target": "label", "features": ["a", "b"]}, base_dir=tmp_path
    )
    assert ds.X.shape == (6, 2)


@pytest.mark.parametrize(
    "features, match",
    [
        (["a", "zz"], r"column\(s\) \['zz'\] not found in t.csv"),
        (["a", "label"], "lists the target column 'label'"),
        ("a", "must be a non-empty list of column names"),
    ],
)
def test_csv_bad_features(tmp_path, features, match):
    _frame().to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SpecError, match=match):
        load_dataset({"csv": "t.csv", "target": "label", "features": features}, base_dir=tmp_path)


def test_csv_missing_values_are_reported(tmp_path):
    frame = _frame().astype({"a": float})
    frame.loc[2, "a"] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SpecError, match=r"feature column\(s\) \['a'\] of t.csv have missing"):
        load_dataset({"csv": "t.csv", "target": "label"}, base_dir=tmp_path)
    frame = _frame().astype({"label": float})
    frame.loc[0, "label"] = np.nan
    frame.to_csv(tmp_path / "u.csv", index=False)
    with pytest.raises(SpecError, match=r"column 'label' of u.csv has 1 missing value"):
        load_dataset({"csv": "u.csv", "target": "label"}, base_dir=tmp_path)


def test_csv_test_file_takes_the_training_columns_by_name(tmp_path):
    _frame().to_csv(tmp_path / "t.csv", index=False)
    _frame()[["label", "b", "a"]].assign(c=1.0).to_csv(tmp_path / "u.csv", index=False)
    ds = load_dataset({"csv": "t.csv", "target": "label", "test": "u.csv"}, base_dir=tmp_path)
    np.testing.assert_array_equal(ds.X_test, ds.X)  # reordered and extra columns do not matter
    _frame()[["a", "label"]].to_csv(tmp_path / "v.csv", index=False)
    with pytest.raises(SpecError, match=r"'dataset.test': column\(s\) \['b'\] not found in v.csv"):
        load_dataset({"csv": "t.csv", "target": "label", "test": "v.csv"}, base_dir=tmp_path)


# ---------------------------------------------------------------------------
# Parquet


def _has_parquet_engine() -> bool:
    return any(importlib.util.find_spec(e) is not None for e in ("pyarrow", "fastparquet"))


@pytest.mark.skipif(not _has_parquet_engine(), reason="no parquet engine installed")
def test_parquet_round_trip(tmp_path):
    _frame().to_parquet(tmp_path / "t.parquet")
    ds = load_dataset({"parquet": "t.parquet", "target": "label"}, base_dir=tmp_path)
    assert ds.X.shape == (6, 2) and ds.y.tolist() == [0, 1, 2, 0, 1, 2]


def test_parquet_without_an_engine_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "t.parquet").write_bytes(b"PAR1")  # existence is checked first
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("pyarrow", "fastparquet") else real(name, *a),
    )
    with pytest.raises(SpecError) as err:
        load_dataset({"parquet": "t.parquet", "target": "label"}, base_dir=tmp_path)
    msg = str(err.value)
    assert msg.startswith("key 'dataset.parquet': reading Parquet files needs pyarrow or")
    assert "fastparquet" in msg and "pip install pyarrow" in msg


# ---------------------------------------------------------------------------
# .npz


def test_npz_with_and_without_a_test_split(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    np.savez(tmp_path / "a.npz", X=X, y=y)
    ds = load_dataset({"npz": "a.npz"}, base_dir=tmp_path)
    assert ds.name == "a.npz" and ds.X.dtype == np.float32 and ds.y.dtype == np.float32
    assert ds.X_test is None and ds.resolved_task == "regression"
    np.savez(tmp_path / "b.npz", X=X, y=y > 0, X_test=X[:4], y_test=y[:4] > 0)
    ds = load_dataset({"npz": "b.npz", "task": "classification"}, base_dir=tmp_path)
    assert ds.task == "classification" and ds.X_test.shape == (4, 3) and len(ds.y_test) == 4


@pytest.mark.parametrize(
    "arrays, match",
    [
        (
            {"X": np.zeros((4, 2))},
            r"no array\(s\) \['y'\]; expected arrays 'X' and 'y'.*found \['X'\]",
        ),
        (
            {"X": np.zeros((4, 2)), "y": np.zeros(4), "X_test": np.zeros((2, 2))},
            "only one of 'X_test' and 'y_test'",
        ),
        ({"X": np.zeros((4, 2)), "y": np.zeros(3)}, r"'y' of shape \(3,\); expected shape \(4,\)"),
        ({"X": np.zeros(4), "y": np.zeros(4)}, r"'X' of shape \(4,\); expected an array"),
        (
            {"X": np.zeros((4, 2)), "y": np.zeros(4), "X_test": np.zeros((2, 3)), "y_test": [0, 1]},
            r"'X_test' with samples of shape \(3,\), but 'X' has samples of shape \(2,\)",
        ),
    ],
)
def test_npz_errors_name_the_arrays(tmp_path, arrays, match):
    np.savez(tmp_path / "a.npz", **arrays)
    with pytest.raises(SpecError, match=match) as err:
        load_dataset({"npz": "a.npz"}, base_dir=tmp_path)
    assert str(err.value).startswith("key 'dataset.npz': a.npz")


def test_npz_that_is_not_an_archive(tmp_path):
    (tmp_path / "a.npz").write_text("not a zip")
    with pytest.raises(SpecError, match="cannot read a.npz as an .npz archive"):
        load_dataset({"npz": "a.npz"}, base_dir=tmp_path)


# ---------------------------------------------------------------------------
# module:function


def test_function_returning_a_pair_from_an_importable_module():
    ds = load_dataset("sklearn.datasets:make_classification")
    assert ds.X.dtype == np.float32 and ds.X.shape == (100, 20) and ds.y.dtype == np.int64
    assert ds.name == "sklearn.datasets:make_classification"
    assert ds.resolved_task == "classification"


def test_function_next_to_the_study_with_kwargs_and_dicts(tmp_path):
    name = _module(
        tmp_path,
        """
        import numpy as np

        def pair(n=10):
            return np.arange(2 * n, dtype=float).reshape(n, 2), np.arange(n) % 2

        def as_dict():
            X = np.ones((6, 3))
            return {"X": X, "y": [0.5] * 6, "X_test": X[:2], "y_test": [1.0, 2.0],
                    "task": "regression"}

        def keras_style():
            X = np.zeros((5, 4))
            return (X, np.arange(5)), (X[:2], np.arange(2))
        """,
    )
    ds = load_dataset({"function": f"{name}:pair", "kwargs": {"n": 8}}, base_dir=tmp_path)
    assert ds.X.shape == (8, 2) and ds.y.dtype == np.int64 and ds.task is None
    ds = load_dataset(f"{name}:as_dict", base_dir=tmp_path)
    assert ds.task == "regression" and ds.y_test.tolist() == [1.0, 2.0]
    ds = load_dataset(f"{name}:keras_style", base_dir=tmp_path)
    assert ds.X.shape == (5, 4) and ds.X_test.shape == (2, 4) and ds.y_test.tolist() == [0, 1]


def test_function_errors(tmp_path):
    name = _module(
        tmp_path,
        """
        NOT_CALLABLE = 3

        def triple():
            return 1, 2, 3

        def partial_dict():
            return {"X": [[1.0]]}

        def bad_task():
            return {"X": [[1.0], [2.0]], "y": [0, 1], "task": "ranking"}

        def strings():
            return [["a"], ["b"]], [0, 1]
        """,
    )
    cases = [
        ("nomodule_xyz:f", r"cannot import module 'nomodule_xyz'.*nomodule_xyz.py next to"),
        (f"{name}:missing", f"function 'missing' not found in module '{name}'"),
        (f"{name}:NOT_CALLABLE", "function 'NOT_CALLABLE' is not callable"),
        (f"{name}:triple", r"returned tuple; expected \(X, y\)"),
        (f"{name}:partial_dict", r"returned a dict that misses \['y'\]"),
        (f"{name}:bad_task", "returned task 'ranking'"),
        (f"{name}:strings", "'X' that is not numeric"),
        ("a:b:c", "must be 'package.module:function'"),
    ]
    for value, match in cases:
        with pytest.raises(SpecError, match=match) as err:
            load_dataset(value, base_dir=tmp_path, source="s.yaml")
        assert str(err.value).startswith("s.yaml: key 'dataset"), value
    with pytest.raises(SpecError, match=re.escape("key 'dataset.function': function 'missing'")):
        load_dataset({"function": f"{name}:missing"}, base_dir=tmp_path)


# ---------------------------------------------------------------------------
# Task inference


@pytest.mark.parametrize(
    "y, task",
    [
        ([0, 1, 1], "classification"),
        (np.array([True, False]), "classification"),
        (["a", "b"], "classification"),
        ([0.0, 1.0, 2.0], "classification"),
        ([0.5, 1.0], "regression"),
        (np.arange(100), "regression"),  # many distinct integers: counts or prices
        (np.arange(30, dtype=float), "regression"),
    ],
)
def test_infer_task(y, task):
    assert infer_task(y) == task
    assert Dataset("d", np.zeros((len(y), 1), np.float32), np.asarray(y)).resolved_task == task
