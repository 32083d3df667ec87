"""A study's ``dataset`` key: check its shape (without loading), name it, resolve the task."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from automl import datasets

from ._checks import check_choice, check_mapping, fail
from ._datasets import KEYS, dataset_scale, infer_task, load_dataset
from ._import_path import is_import_path
from ._space import SpecError, one_line

__all__ = [
    "IN_MEMORY",
    "builtin_datasets",
    "check_dataset",
    "dataset_name",
    "default_preprocessing",
    "in_memory_value",
    "load_study_dataset",
    "resolve_task",
]

_FILE_KINDS = ("csv", "parquet", "npz")
_TABLE_KINDS = ("csv", "parquet")
#: The ``dataset`` of a study run on data given in memory (``run_study(spec, X=, y=)``).
IN_MEMORY = "in_memory"


def builtin_datasets() -> tuple[str, ...]:
    """Every name ``automl.datasets`` loads (the loader accepts them all)."""
    return tuple(datasets.names())


def dataset_name(value) -> str:
    if isinstance(value, str):
        return value.rpartition(":")[2] if is_import_path(value) else value
    if isinstance(value, Mapping):
        if value.get("name"):
            return str(value["name"])
        if IN_MEMORY in value:
            return IN_MEMORY
        if isinstance(value.get("function"), str):
            return value["function"].rpartition(":")[2]
        for kind in _FILE_KINDS:
            if kind in value:
                return Path(str(value[kind])).stem
    return "dataset"


def load_study_dataset(value, base_dir: Path | None = None, *, source: str | None = None,
                       frame: bool = False):
    """Load a study's ``dataset`` value (see :func:`automl.search.load_dataset`)."""
    if isinstance(value, Mapping) and IN_MEMORY in value:
        raise SpecError(
            f"{source or '<inline study>'}: key 'dataset': the study ran on data given in "
            "memory, which is not recorded; give it again: run_study(spec, X=..., y=...)"
        )
    return load_dataset(value, base_dir=base_dir, source=source, frame=frame)


def in_memory_value(data) -> dict:
    """The ``dataset`` of a spec whose data was given in memory: what it was, in words."""
    X = data.X
    kind = type(X).__name__
    return {IN_MEMORY: f"{kind} of shape {tuple(X.shape)}", "name": IN_MEMORY}


def default_preprocessing(dataset) -> str:
    """``auto`` for tables (CSV, Parquet, data in memory); else the built-in dataset's
    scaling (``none`` for the pre-scaled pixels) or ``standard``."""
    if isinstance(dataset, Mapping) and any(k in dataset for k in (*_TABLE_KINDS, IN_MEMORY)):
        return "auto"
    builtin = isinstance(dataset, str) and dataset in builtin_datasets()
    return dataset_scale(dataset) if builtin else "standard"


def loaded_target(data):
    if isinstance(data, Mapping):
        return data.get("task"), data["y"]
    if isinstance(data, tuple):
        return None, data[1]
    return getattr(data, "task", None), data.y


def check_data_file(source, key, path, base_dir):
    if not isinstance(path, (str, Path)) or not str(path):
        fail(source, key, f"must be a file path, got {path!r}")
    path = Path(path).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [(base_dir or Path.cwd()) / path]
    if not any(c.is_file() for c in candidates):
        tried = ", ".join(str(c) for c in candidates)
        raise FileNotFoundError(
            f"{source}: key {key!r}: data file {str(path)!r} not found (looked in: {tried})"
        )


def check_import_path(source, key, value):
    if not (isinstance(value, str) and value.count(":") == 1 and all(value.split(":"))):
        fail(source, key, f"must be 'package.module:function', got {value!r}")


def check_dataset(source, value, base_dir):
    """Validate the shape of a ``dataset`` value (without loading it); return it."""
    builtins = builtin_datasets()
    kinds = KEYS
    if isinstance(value, str):
        if value in builtins:
            return value
        if is_import_path(value):
            check_import_path(source, "dataset", value)
            return value
        fail(
            source,
            "dataset",
            f"unknown dataset {value!r}; expected a built-in name {list(builtins)}, "
            "'package.module:function', or a mapping with one of the keys "
            f"{list(kinds)} (e.g. {{csv: file, target: column}} or {{npz: file}})",
        )
    if not isinstance(value, Mapping):
        fail(source, "dataset", f"must be a name, 'package.module:function' or a mapping, "
                                 f"got {value!r}")
    if IN_MEMORY in value:
        fail(source, "dataset", "the study ran on data given in memory, which is not recorded; "
                                 "give it again: run_study(spec, X=..., y=...)")
    found = [k for k in kinds if k in value]
    if len(found) != 1:
        fail(
            source,
            "dataset",
            f"a dataset mapping needs exactly one of the keys {list(kinds)}, got {dict(value)!r}",
        )
    kind = found[0]
    required = ["target"] if kind in ("csv", "parquet") else []
    check_mapping(source, "dataset", value, {kind, *kinds[kind]}, [kind, *required])
    if "target" in value and not isinstance(value["target"], str):
        fail(source, "dataset.target", f"must be a column name, got {value['target']!r}")
    task = value.get("task")
    if task is not None and task not in ("classification", "regression"):
        fail(source, "dataset.task", f"must be 'classification' or 'regression', got {task!r}")
    if kind == "function":
        check_import_path(source, "dataset.function", value["function"])
    else:
        check_data_file(source, f"dataset.{kind}", value[kind], base_dir)
        if value.get("test") is not None:
            check_data_file(source, "dataset.test", value["test"], base_dir)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in value.items()}



def resolve_task(source, values, dataset, base_dir, cache, *, frame: bool = False):
    """The task: the study's ``task``, else the dataset's (built-in, mapping ``task``,
    or what the loaded data says), else :func:`infer_task` of the loaded targets.

    ``cache`` holds the dataset when it is already loaded (or given in memory); a
    dataset loaded here is appended to it (``frame``: tables as DataFrames).
    """

    task = values["task"]
    check_choice(source, "task", task, ["auto", "classification", "regression"])
    if isinstance(dataset, str) and dataset in builtin_datasets():
        native = datasets.task(dataset)
    elif isinstance(dataset, Mapping) and dataset.get("task") is not None:
        native = dataset["task"]
    else:
        native = None
    if native is not None:
        if task not in ("auto", native):
            fail(source, "task", f"dataset {dataset_name(dataset)!r} is a {native} dataset, "
                                  f"got task {task!r}")
        return native
    if task != "auto":
        return task
    if cache:
        loaded_task, y = loaded_target(cache[0])
        return loaded_task or infer_task(y)
    try:
        data = load_study_dataset(dataset, base_dir, source=source, frame=frame)
    except (FileNotFoundError, SpecError):
        raise
    except Exception as exc:  # noqa: BLE001 - any loader problem, reported with the key
        fail(source, "dataset", f"could not load {dataset!r} to infer the task "
                                 f"({type(exc).__name__}: {one_line(exc)}); set 'task' explicitly")
    cache.append(data)
    loaded_task, y = loaded_target(data)
    return loaded_task or infer_task(y)


