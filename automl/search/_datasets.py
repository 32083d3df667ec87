"""Study datasets: a built-in name, a CSV/Parquet file, an ``.npz`` or a ``module:function``.

A study's ``dataset`` key takes one of::

    dataset: digits                                   # a name from automl.datasets
    dataset: {csv: data/train.csv, target: label}    # + features: [a, b], test: test.csv, task
    dataset: {parquet: data.parquet, target: price}   # needs pyarrow or fastparquet
    dataset: {npz: arrays.npz}                        # arrays X, y [, X_test, y_test]
    dataset: mypackage.data:load                      # returns (X, y) or a dict
    dataset: {function: mypackage.data:load, kwargs: {n: 100}, task: regression}

or the data itself, ``run_study(spec, X=..., y=...)`` (:func:`in_memory_dataset`).

A CSV or Parquet table loads as a DataFrame of its feature columns when the
study's preprocessing is ``auto`` (text, categories and missing values are then
the preprocessing's business); otherwise every feature column must be numeric
and complete.

Relative paths are resolved against ``base_dir`` (the study file's directory).
A ``module:function`` whose module is not importable is also looked for as
``<module>.py`` in ``base_dir``. Errors name the key, the value and what was
expected: :class:`~automl.search.SpecError` (a ``ValueError``), or
``FileNotFoundError`` for a missing file.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl import datasets

from ._space import SpecError

__all__ = [
    "DATASETS",
    "Dataset",
    "dataset_scale",
    "dataset_task",
    "KEYS",
    "in_memory_dataset",
    "infer_task",
    "load_dataset",
    "numeric_dataset",
]

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Dataset:
    """Features, targets and the task of a study's dataset.

    Attributes
    ----------
    name : str
        The built-in name, the file name or ``module:function``.
    X : ndarray of float32, shape (n_samples, n_features), or pandas.DataFrame
        A DataFrame for a table loaded for automatic preprocessing, or given in memory.
    y : ndarray, shape (n_samples,) or (n_samples, n_outputs)
    task : {"classification", "regression"} or None
        None when the source does not say; :func:`infer_task` decides from ``y``.
    scale : str, default="standard"
        Default feature scaling (``"none"`` where the loader already scales, as
        for the image datasets).
    X_test, y_test : ndarray or None
        A fixed test split given by the source (``.npz`` arrays, a function's
        dict, or a ``test:`` file); None means the study draws one from ``X, y``.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str | None = None
    scale: str = "standard"
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    @property
    def resolved_task(self) -> str:
        """``task``, or :func:`infer_task` of ``y`` when it is None."""
        return self.task if self.task is not None else infer_task(self.y)


# Image datasets come already scaled to [0, 1]: no feature scaling by default.
_IMAGES = ("digits", "mnist", "fashion_mnist")

#: Built-in names a study's ``dataset`` key accepts (every ``automl.datasets`` name).
DATASETS: tuple[str, ...] = tuple(datasets.names())

_KINDS = ("csv", "parquet", "npz", "function")
KEYS: dict[str, set[str]] = {
    "csv": {"target", "features", "test", "task", "name"},
    "parquet": {"target", "features", "test", "task", "name"},
    "npz": {"task", "name"},
    "function": {"kwargs", "task", "name"},
}
_PARQUET_ENGINES = ("pyarrow", "fastparquet")


def infer_task(y) -> str:
    """``"classification"`` or ``"regression"`` from the targets.

    Non-numeric and boolean targets are classes; integers are classes when
    there are at most 50 distinct values (else counts, prices: a regression);
    floating-point targets are a regression unless every value is integral
    and there are at most 20 distinct values (labels stored as floats).

    Examples
    --------
    >>> infer_task([0, 1, 1]), infer_task(["cat", "dog"]), infer_task([0.5, 1.7])
    ('classification', 'classification', 'regression')
    >>> infer_task([0.0, 1.0, 2.0, 1.0]), infer_task(list(range(100)))
    ('classification', 'regression')
    """
    y = np.asarray(y)
    kind = y.dtype.kind
    if kind in "bOSU":
        return "classification"
    if kind in "iu":
        return "classification" if np.unique(y).size <= 50 else "regression"
    if kind != "f":
        return "regression"
    finite = y[np.isfinite(y)]
    integral = finite.size > 0 and bool(np.all(finite == np.round(finite)))
    return "classification" if integral and np.unique(finite).size <= 20 else "regression"


def dataset_task(value, base_dir=None) -> str:
    """The task of a dataset: from the name without loading, else by loading it."""
    if isinstance(value, str) and value in datasets.names():
        return datasets.task(value)
    return load_dataset(value, base_dir).resolved_task


def dataset_scale(value) -> str:
    """Default feature scaling: ``"none"`` for the (already scaled) image datasets."""
    if isinstance(value, str) and value in _IMAGES:
        return "none"
    return "standard"


def load_dataset(value, base_dir=None, *, source: str | None = None,
                 frame: bool = False) -> Dataset:
    """Load a study's dataset.

    Parameters
    ----------
    value : str or mapping
        A built-in name (see :func:`automl.datasets.names`), ``"module:function"``,
        or a mapping with exactly one of ``csv``, ``parquet``, ``npz`` or
        ``function`` (see the module docstring for their keys).
    base_dir : str or Path, default=None
        Directory that relative paths (and ``module.py`` files) are relative to;
        None means the current directory.
    source : str, default=None
        Prefix of error messages (the study file).
    frame : bool, default=False
        Load a CSV or Parquet table's features as a DataFrame, as they are (for
        ``preprocessing: auto``); else as a float32 array, refusing text and
        missing values.

    Returns
    -------
    Dataset
        Features as float32; targets int64 for integer classes, float32 for
        regression, otherwise as given (e.g. string labels). ``task`` is the
        built-in dataset's, the mapping's ``task:``, the one a function
        returned, or None (the study decides, see :func:`infer_task`).

    Raises
    ------
    FileNotFoundError
        A data file does not exist.
    SpecError
        Anything else: an unknown name or key, a missing column or array,
        non-numeric or missing feature values, a function that cannot be
        found or returns the wrong thing.

    Examples
    --------
    >>> ds = load_dataset("digits")
    >>> ds.X.shape, ds.X.dtype, ds.task, float(ds.X.max())
    ((1797, 64), dtype('float32'), 'classification', 1.0)
    """
    where = _Where(source)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if isinstance(value, str):
        if value in datasets.names():
            X, y = datasets.load(value)
            return Dataset(value, X, y, datasets.task(value), dataset_scale(value))
        if ":" in value:
            return _from_function(value, {}, None, base, where, name=value)
        raise SpecError(
            f"{where}: unknown dataset {value!r}; expected one of {datasets.names()}, "
            "'module:function', or a mapping with one of the keys "
            f"{list(_KINDS)}"
        )
    if not isinstance(value, Mapping):
        raise SpecError(
            f"{where}: must be a dataset name, 'module:function' or a mapping with one of "
            f"the keys {list(_KINDS)}, got {value!r}"
        )
    kinds = [k for k in _KINDS if k in value]
    if len(kinds) != 1:
        found = "none" if not kinds else f"{kinds}"
        raise SpecError(
            f"{where}: a dataset mapping needs exactly one of the keys {list(_KINDS)}; "
            f"found {found} in {sorted(map(str, value))}"
        )
    kind = kinds[0]
    unknown = sorted(set(map(str, value)) - {kind} - KEYS[kind])
    if unknown:
        raise SpecError(
            f"{where}: unknown key {unknown[0]!r} for a {kind} dataset; valid keys are "
            f"{sorted({kind} | KEYS[kind])}"
        )
    task = value.get("task")
    if task is not None and task not in TASKS:
        raise SpecError(f"{where('task')}: must be one of {list(TASKS)} or omitted, got {task!r}")
    name = value.get("name")
    if kind == "function":
        kwargs = value.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise SpecError(f"{where('kwargs')}: must be a mapping of arguments, got {kwargs!r}")
        spec = value["function"]
        return _from_function(
            spec, dict(kwargs), task, base, where("function"), name=name or str(spec)
        )
    path = _resolve_file(value[kind], base, where(kind))
    name = name or path.name
    if kind == "npz":
        return _from_npz(path, task, where, name)
    read = _reader(kind, where)
    target = value.get("target")
    if not isinstance(target, str):
        raise SpecError(
            f"{where('target')}: a {kind} dataset needs 'target', the name of the target column; "
            f"got {target!r}"
        )
    features = value.get("features")
    if features is not None and not (
        isinstance(features, list) and features and all(isinstance(f, str) for f in features)
    ):
        raise SpecError(
            f"{where('features')}: must be a non-empty list of column names, got {features!r}"
        )
    X, y, features = _table_arrays(read(path), path, target, features, where, frame_out=frame)
    X_test = y_test = None
    if value.get("test") is not None:  # the same feature columns, by name
        test_path = _resolve_file(value["test"], base, where("test"))
        X_test, y_test, _ = _table_arrays(
            read(test_path), test_path, target, features, where, key="test", frame_out=frame
        )
    about_target = f"{where('target')}: column {target!r} has "
    return _standard_dataset(name, X, y, task, X_test, y_test, about_target)


# ---------------------------------------------------------------------------
# Files


class _Where:
    """Prefix of error messages: ``<source>: key 'dataset[.sub]'``."""

    def __init__(self, source: str | None, key: str = "dataset"):
        self.source = source
        self.key = key

    def __call__(self, sub: str | None = None) -> _Where:
        return _Where(self.source, self.key if sub is None else f"{self.key}.{sub}")

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return f"{prefix}key {self.key!r}"


def _resolve_file(value, base: Path, where: _Where) -> Path:
    if not isinstance(value, (str, Path)) or not str(value):
        raise SpecError(f"{where}: must be a file path, got {value!r}")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise FileNotFoundError(f"{where}: file {str(value)!r} not found (looked for {path})")
    return path


def _reader(kind: str, where: _Where):
    import pandas as pd

    if kind == "csv":
        return pd.read_csv
    if not any(importlib.util.find_spec(e) is not None for e in _PARQUET_ENGINES):
        raise SpecError(
            f"{where('parquet')}: reading Parquet files needs pyarrow or fastparquet, and neither "
            "is installed; install one (pip install pyarrow) or convert the file to CSV"
        )
    return pd.read_parquet


def _table_arrays(frame, path: Path, target: str, features, where: _Where, key="features", *,
                  frame_out: bool = False):
    """``(X, y, feature names)`` of a table; ``key`` names where ``features`` came from.

    ``frame_out``: X is the DataFrame of the feature columns, as read.
    """
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if target not in columns:
        raise SpecError(
            f"{where('target')}: column {target!r} not found in {path.name}; its columns are "
            f"{columns}"
        )
    if features is None:
        features = [c for c in columns if c != target]
    else:
        missing = [c for c in features if c not in columns]
        if missing:
            raise SpecError(
                f"{where(key)}: column(s) {missing} not found in {path.name}; its columns "
                f"are {columns}"
            )
        if target in features:
            raise SpecError(f"{where('features')}: lists the target column {target!r}")
    if not features:
        raise SpecError(f"{where}: {path.name} has no feature column besides {target!r}")
    X = frame[features]
    y = frame[target]
    if y.isna().any():
        raise SpecError(
            f"{where('target')}: column {target!r} of {path.name} has {int(y.isna().sum())} "
            "missing value(s)"
        )
    if frame_out:
        return X.reset_index(drop=True), y.to_numpy(), features
    non_numeric = [c for c in features if not _is_numeric(X[c])]
    if non_numeric:
        raise SpecError(
            f"{where}: feature column(s) {non_numeric} of {path.name} are not numeric; "
            "use 'preprocessing: auto' (which encodes them), encode them as numbers first, "
            "or choose numeric columns with 'features: [...]'"
        )
    X = X.to_numpy(dtype=np.float32)
    nan_cols = [c for c, bad in zip(features, np.isnan(X).any(axis=0)) if bad]
    if nan_cols:
        raise SpecError(
            f"{where}: feature column(s) {nan_cols} of {path.name} have missing values; "
            "use 'preprocessing: auto' (which imputes them), fill or drop them first, or "
            "leave those columns out with 'features: [...]'"
        )
    return X, y.to_numpy(), features


def _is_numeric(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _from_npz(path: Path, task, where: _Where, name: str) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise SpecError(
            f"{where('npz')}: cannot read {path.name} as an .npz archive: {exc}"
        ) from None
    missing = [k for k in ("X", "y") if k not in arrays]
    if missing:
        raise SpecError(
            f"{where('npz')}: {path.name} has no array(s) {missing}; expected arrays 'X' and 'y' "
            f"(and optionally 'X_test' and 'y_test'), found {sorted(arrays)}"
        )
    return _make(name, arrays, task, where("npz"), f"{path.name}: ")


# ---------------------------------------------------------------------------
# module:function


def _import_function(spec, base: Path, where: _Where):
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise SpecError(f"{where}: must be 'package.module:function', got {spec!r}")
    module_name, func_name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        local = base / f"{top}.py"
        if exc.name != top or not (local.is_file() or (base / top / "__init__.py").is_file()):
            raise SpecError(
                f"{where}: cannot import module {module_name!r} of {spec!r} ({exc}); it must be "
                f"importable or a {top}.py next to the study ({base})"
            ) from None
        sys.path.insert(0, str(base))
        try:
            module = importlib.import_module(module_name)
        finally:
            sys.path.remove(str(base))
    func = getattr(module, func_name, None)
    if not callable(func):
        what = "is not callable" if func is not None else "not found"
        raise SpecError(f"{where}: function {func_name!r} {what} in module {module_name!r}")
    return func


def _from_function(spec, kwargs, task, base: Path, where: _Where, *, name: str) -> Dataset:
    func = _import_function(spec, base, where)
    result = func(**kwargs)
    expected = (
        "(X, y), ((X, y), (X_test, y_test)) or a dict with 'X', 'y' [, 'X_test', 'y_test', 'task']"
    )
    if isinstance(result, Mapping):
        arrays = dict(result)
        missing = [k for k in ("X", "y") if k not in arrays]
        unknown = sorted(set(map(str, arrays)) - {"X", "y", "X_test", "y_test", "task"})
        if missing or unknown:
            problem = f"misses {missing}" if missing else f"has unknown key(s) {unknown}"
            raise SpecError(f"{where}: {spec} returned a dict that {problem}; expected {expected}")
        returned_task = arrays.pop("task", None)
        if returned_task is not None and returned_task not in TASKS:
            raise SpecError(
                f"{where}: {spec} returned task {returned_task!r}; expected one of {list(TASKS)}"
            )
        task = task or returned_task
    elif isinstance(result, tuple) and len(result) == 2:
        first, second = result
        if _is_pair(first) and _is_pair(second):
            arrays = {"X": first[0], "y": first[1], "X_test": second[0], "y_test": second[1]}
        else:
            arrays = {"X": first, "y": second}
    else:
        raise SpecError(f"{where}: {spec} returned {type(result).__name__}; expected {expected}")
    return _make(name, arrays, task, where, f"{spec} returned ")


def _is_pair(value) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2 and not np.isscalar(value[0])


# ---------------------------------------------------------------------------
# Arrays


def _make(name: str, arrays: dict[str, Any], task, where, origin: str) -> Dataset:
    """A Dataset from arrays ``X``, ``y`` [, ``X_test``, ``y_test``]; ``origin`` starts messages."""
    where = f"{where}: {origin}"
    if ("X_test" in arrays) != ("y_test" in arrays):
        raise SpecError(f"{where}only one of 'X_test' and 'y_test'; give both or neither")
    X = _features(arrays["X"], "X", where)
    y = _labels(arrays["y"], "y", len(X), where)
    X_test = y_test = None
    if "X_test" in arrays:
        X_test = _features(arrays["X_test"], "X_test", where)
        y_test = _labels(arrays["y_test"], "y_test", len(X_test), where)
        if X_test.shape[1:] != X.shape[1:]:
            raise SpecError(
                f"{where}'X_test' with samples of shape {X_test.shape[1:]}, but 'X' has "
                f"samples of shape {X.shape[1:]}"
            )
    return _standard_dataset(name, X, y, task, X_test, y_test, where)


def _standard_dataset(name, X, y, task, X_test, y_test, about_target: str) -> Dataset:
    """A ``"standard"`` dataset of a file, its targets checked against ``task``."""
    return Dataset(
        name,
        X,
        _target(y, task, about_target),
        task,
        "standard",
        X_test,
        None if y_test is None else _target(y_test, task, about_target),
    )


def _features(X, key: str, where: str) -> np.ndarray:
    try:
        X = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{where}{key!r} that is not numeric ({exc})") from None
    if X.ndim < 2 or len(X) == 0:
        raise SpecError(
            f"{where}{key!r} of shape {X.shape}; expected an array of shape "
            "(n_samples, n_features, ...) with at least one sample"
        )
    if not np.all(np.isfinite(X)):
        raise SpecError(f"{where}{key!r} with NaN or infinite values; expected finite features")
    return X


def _labels(y, key: str, n: int, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim not in (1, 2) or len(y) != n:
        raise SpecError(
            f"{where}{key!r} of shape {y.shape}; expected shape ({n},) or ({n}, n_outputs) "
            "to match the features"
        )
    return y


def _target(y: np.ndarray, task: str | None, where) -> np.ndarray:
    """Targets as float32 (regression), int64 (integer classes) or as given (labels)."""
    if task is None:  # the study infers the task; keep the kind of values
        if y.dtype.kind in "iu":
            return y.astype(np.int64)
        return y.astype(np.float32) if y.dtype.kind == "f" else y
    if task == "regression":
        try:
            return np.asarray(y, dtype=np.float32)
        except (TypeError, ValueError):
            raise SpecError(
                f"{where}non-numeric targets, but task 'regression' needs numbers"
            ) from None
    if y.dtype.kind in "iub" or (y.dtype.kind == "f" and np.all(y == np.round(y))):
        return y.astype(np.int64)
    return y


# ---------------------------------------------------------------------------
# In-memory data


def in_memory_dataset(X, y, *, name: str = "in_memory") -> Dataset:
    """A :class:`Dataset` of data given in memory (``run_study(spec, X=..., y=...)``).

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        A DataFrame is kept as it is (its text, category and datetime columns are
        for ``preprocessing: auto``); a numeric array becomes float32 (missing
        values allowed); an array holding text becomes a DataFrame with columns
        ``x0, x1, ...``.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets: numbers, strings or booleans (a pandas Series is fine), none missing.
    name : str, default="in_memory"
        The dataset's name in reports.

    Returns
    -------
    Dataset
        ``task`` is None: the study's ``task``, else :func:`infer_task` of ``y``.

    Examples
    --------
    >>> ds = in_memory_dataset([[1, 2], [3, 4], [5, 6]], ["a", "b", "a"])
    >>> ds.X.dtype, ds.y.tolist(), ds.resolved_task
    (dtype('float32'), ['a', 'b', 'a'], 'classification')
    """
    import pandas as pd

    where = "The 'X' argument of run_study"
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        if X.shape[1] == 0 or len(X) == 0:
            raise SpecError(f"{where} must have at least one row and one column. "
                            f"Got a DataFrame of shape {X.shape} instead.")
        X = X.set_axis([str(c) for c in X.columns], axis=1)
    else:
        if hasattr(X, "tocsr"):
            raise TypeError(f"{where} must be a dense array or a DataFrame. "
                            f"Got a sparse {type(X).__name__} instead.")
        array = np.asarray(X)
        if array.ndim < 2 or len(array) == 0:
            raise SpecError(f"{where} must be an array of shape (n_samples, n_features, ...) "
                            f"with at least one sample. Got shape {array.shape} instead.")
        if array.dtype.kind in "biuf":
            X = array.astype(np.float32, copy=False)
            if np.isinf(X).any():
                raise SpecError(f"{where} must not contain infinite values.")
        elif array.ndim == 2:
            X = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
            X = X.infer_objects()
        else:
            raise SpecError(f"{where} must hold numbers (or be a 2-D table). Got an array of "
                            f"dtype {array.dtype} and shape {array.shape} instead.")
    if isinstance(y, (pd.Series, pd.DataFrame)):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim not in (1, 2) or len(y) != len(X):
        raise SpecError(f"The 'y' argument of run_study must have shape ({len(X)},) or "
                        f"({len(X)}, n_outputs), one target per row of X. Got shape {y.shape} "
                        "instead.")
    missing = pd.isna(y) if y.dtype.kind == "O" else (np.isnan(y) if y.dtype.kind == "f" else
                                                       np.zeros(y.shape, bool))
    if np.any(missing):
        raise SpecError(f"The 'y' argument of run_study has {int(np.sum(missing))} missing "
                        "value(s); drop those rows first.")
    if y.dtype.kind == "O" and all(isinstance(v, str) for v in y.ravel()):
        y = y.astype(str)
    return Dataset(name, X, _target(y, None, where), None, "standard")


def numeric_dataset(ds: Dataset, preprocessing: str, where: str) -> Dataset:
    """``ds`` with float32 features, for a preprocessing other than ``auto``.

    A DataFrame of numbers without missing values becomes an array; one with
    text, categories or missing values is refused (``preprocessing: auto``
    handles them).
    """
    import pandas as pd

    if not isinstance(ds.X, pd.DataFrame):
        if np.isnan(ds.X).any():
            raise SpecError(f"{where}: the features have missing values, which preprocessing "
                            f"{preprocessing!r} cannot take; use preprocessing 'auto' (which "
                            "imputes them) or fill them first")
        return ds
    non_numeric = [c for c in ds.X.columns if not _is_numeric(ds.X[c])]
    if non_numeric:
        raise SpecError(f"{where}: feature column(s) {non_numeric} are not numeric, which "
                        f"preprocessing {preprocessing!r} cannot take; use preprocessing 'auto' "
                        "(which encodes them) or encode them as numbers first")
    X = ds.X.to_numpy(dtype=np.float32, na_value=np.nan)
    return numeric_dataset(dataclasses.replace(ds, X=X), preprocessing, where)
