"""RunDirectory: the only reader and writer of a study's output directory.

Layout (every name is an attribute of :class:`RunDirectory`)::

    study.journal          Optuna journal (unless ``storage`` points elsewhere)
    run.json               how to reopen the study: storage, study name, resolved spec
    trials.csv             one row per trial
    epochs.csv             one row per trial, fold and epoch
    summary.json           best and test scores, trials by state, times, seeds
    best_params.json       estimator keyword arguments of the best trial
    preprocessing.csv      the treatment of each feature column (preprocessing: auto)
    best_model.automl      the refit best estimator as data (automl.persistence; loads
                           with load_best_model, running no code from the file)
    best_model.pkl         the same as a joblib pickle, only with pickle_best_model: true
                           (a pickle runs code when loaded: only load pickles you trust)
    best_model.keras       its network alone, in the engine's .keras format
    test_predictions.npz   y_true, y_pred (+ proba, classes) of the refit model on the test split
    report.html            the dashboard (written by automl.reports)

Every file is written through :func:`write_atomic`: a reader (a live dashboard,
another process) never sees half a file.

A run directory can be copied or moved: the paths inside it that ``run.json``
and ``summary.json`` record (the output, a journal, a SQLite database, data
files) are stored relative to it (``"./study.journal"``, the directory itself
as ``"."``) and resolved against the directory they are read from. Files
written before, with absolute paths, are read the same way: a path under the
directory they were written in is moved to the directory read. A copy that
shares a database storage with its original (still there) is warned about.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

__all__ = ["RunDirectory", "write_atomic", "jsonable", "OUTPUT_FILES"]


def write_atomic(path, content: str | bytes) -> Path:
    """Write ``content`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def jsonable(value):
    """``value`` with tuples as lists, NumPy scalars as Python numbers, non-finite as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _read_json(path: Path, *, quiet: bool) -> dict:
    if quiet:
        try:
            content = json.loads(path.read_text())
        except (OSError, ValueError):  # missing, being written, or not ours
            return {}
        return content if isinstance(content, dict) else {}
    return json.loads(path.read_text())


# ---------------------------------------------------------------------------
# Paths inside a run directory, stored relative to it

_SQLITE = "sqlite:///"
_DATA_FILES = ("csv", "parquet", "npz")


def _map_paths(info: dict, fn) -> dict:
    """A copy of a ``run.json`` record with ``fn`` applied to each of its path strings."""
    info = copy.deepcopy(info)
    if isinstance(info.get("storage"), str):
        info["storage"] = fn(info["storage"])
    spec = info.get("spec")
    if isinstance(spec, dict):
        for key in ("output", "storage", "space"):
            if isinstance(spec.get(key), str):
                spec[key] = fn(spec[key])
        dataset = spec.get("dataset")
        if isinstance(dataset, dict):
            for key in _DATA_FILES:
                if isinstance(dataset.get(key), str):
                    dataset[key] = fn(dataset[key])
    return info


def _inside(path: str, root: Path) -> str | None:
    """``path`` as ``"./relative"`` (``"."`` for ``root``) when it is an absolute path under ``root``."""
    p = Path(path)
    if not p.is_absolute():
        return None
    try:
        rel = p.resolve().relative_to(root)
    except ValueError:
        return None
    return "." if not rel.parts else f"./{rel.as_posix()}"


def _relative(value: str, root: Path) -> str:
    if value.startswith(_SQLITE):
        inner = _inside(value[len(_SQLITE):], root)
        return value if inner is None else _SQLITE + inner
    if "://" in value:
        return value
    inner = _inside(value, root)
    return value if inner is None else inner


def _absolute(value: str, root: Path, old: Path | None) -> str:
    """A recorded path for the directory ``root``: ``./x`` resolved, ``old/x`` moved to it."""
    if value.startswith(_SQLITE):
        return _SQLITE + _absolute(value[len(_SQLITE):], root, old)
    if "://" in value:
        return value
    if value == "." or value.startswith("./"):
        return str(root / value[2:]) if value != "." else str(root)
    if old is not None and old != root and Path(value).is_absolute():
        try:
            rel = Path(value).relative_to(old)
        except ValueError:
            return value
        return str(root / rel)
    return value


class RunDirectory:
    """A study's output directory: its file names, and reading and writing its files.

    Parameters
    ----------
    path : str or Path

    Examples
    --------
    >>> import tempfile
    >>> run = RunDirectory(tempfile.mkdtemp())
    >>> run.write_summary({"best_value": 0.5, "params": (1, 2)})
    >>> run.read_summary()
    {'best_value': 0.5, 'params': [1, 2]}
    >>> run.outputs()
    ['summary.json']
    """

    JOURNAL = "study.journal"
    RUN = "run.json"
    TRIALS = "trials.csv"
    EPOCHS = "epochs.csv"
    SUMMARY = "summary.json"
    BEST_PARAMS = "best_params.json"
    PREPROCESSING = "preprocessing.csv"
    MODEL_ARCHIVE = "best_model.automl"
    MODEL_PICKLE = "best_model.pkl"
    MODEL_KERAS = "best_model.keras"
    MODEL_ONNX = "best_model.onnx"
    PREDICTIONS = "test_predictions.npz"
    REPORT = "report.html"

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDirectory('{self.path}')"

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    # -- paths -------------------------------------------------------------
    @property
    def journal(self) -> Path:
        return self.path / self.JOURNAL

    @property
    def report(self) -> Path:
        return self.path / self.REPORT

    def has(self, name: str) -> bool:
        """Whether the file ``name`` (one of the class's names) exists."""
        return (self.path / name).is_file()

    def outputs(self) -> list[str]:
        """The output files present (the storage aside), in :data:`OUTPUT_FILES` order."""
        return [n for n in OUTPUT_FILES if (self.path / n).exists()]

    def remove_outputs(self) -> None:
        """Delete the outputs of a previous run (not the storage)."""
        for name in self.outputs():
            (self.path / name).unlink()

    # -- JSON files --------------------------------------------------------
    def _write_json(self, name: str, obj) -> None:
        write_atomic(self.path / name, json.dumps(jsonable(obj), indent=2) + "\n")

    def _written_in(self, info: dict) -> Path | None:
        """The directory a ``run.json`` record was written in (the recorded output before)."""
        where = info.get("directory") or (info.get("spec") or {}).get("output")
        return Path(where) if isinstance(where, str) and Path(where).is_absolute() else None

    def read_run(self, *, quiet: bool = False) -> dict:
        """``run.json`` with its paths for this directory; ``quiet``: ``{}`` when missing or
        unreadable, and no warning about a storage shared with the original of a copy."""
        info = _read_json(self.path / self.RUN, quiet=quiet)
        if not info or not isinstance(info, dict):  # the caller reports what is not an object
            return info
        root = self.path.resolve()
        old = self._written_in(info)
        located = _map_paths(info, lambda v: _absolute(v, root, old))
        located.pop("directory", None)
        storage = located.get("storage")
        if (not quiet and old is not None and old != root and isinstance(storage, str)
                and "://" in storage and storage == info.get("storage")
                and (old / self.RUN).is_file()):
            from ._storage import describe_storage

            warnings.warn(
                f"{root} is a copy of {old}: both use the study "
                f"{located.get('study_name')!r} in {describe_storage(storage)}, so resuming "
                "either continues the same study; give the copy its own --storage or "
                "--study-name to run it apart",
                stacklevel=2,
            )
        return located

    def write_run(self, info: dict) -> None:
        """Write ``run.json``, with the paths inside this directory relative to it."""
        root = self.path.resolve()
        record = _map_paths(jsonable(info), lambda v: _relative(v, root))
        record["directory"] = str(root)
        self._write_json(self.RUN, record)

    def read_summary(self, *, quiet: bool = False) -> dict:
        """``summary.json``; ``quiet``: ``{}`` when missing or unreadable."""
        summary = _read_json(self.path / self.SUMMARY, quiet=quiet)
        if isinstance(summary, dict) and isinstance(summary.get("storage"), str):
            root = self.path.resolve()
            old = self._written_in(_read_json(self.path / self.RUN, quiet=True))
            summary["storage"] = _absolute(summary["storage"], root, old)
        return summary

    def write_summary(self, summary: dict) -> None:
        summary = jsonable(summary)
        if isinstance(summary.get("storage"), str):
            summary["storage"] = _relative(summary["storage"], self.path.resolve())
        self._write_json(self.SUMMARY, summary)

    def read_best_params(self) -> dict:
        """``best_params.json`` (``{}`` when missing)."""
        path = self.path / self.BEST_PARAMS
        return _read_json(path, quiet=False) if path.is_file() else {}

    def write_best_params(self, params: dict) -> None:
        self._write_json(self.BEST_PARAMS, params)

    # -- tables ------------------------------------------------------------
    def write_tables(self, trials, epochs) -> None:
        """``trials.csv`` and ``epochs.csv`` from two DataFrames."""
        for name, table in ((self.TRIALS, trials), (self.EPOCHS, epochs)):
            write_atomic(self.path / name, table.to_csv(index=False))

    def write_preprocessing(self, table) -> None:
        """``preprocessing.csv``: the treatment of each feature column (a DataFrame)."""
        write_atomic(self.path / self.PREPROCESSING, table.to_csv(index=False))

    # -- the best model and its test predictions ----------------------------
    def write_model(self, model, *, pickle: bool = False) -> dict[str, Path]:
        """Save the refit best estimator; return the written paths by kind.

        ``best_model.automl`` (an :mod:`automl.persistence` archive) holds the whole
        estimator, preprocessing and label encoding included, as data: it loads
        without running code. ``best_model.keras`` holds the network alone
        (``automl.keras.models.load_model``), for use without the estimator; it is
        skipped when the network does not round-trip through the ``.keras`` format
        (custom layers). With ``pickle``, ``best_model.pkl`` (joblib) is written too:
        loading a pickle runs the code it names, so load only pickles you trust.
        A model the archive cannot hold (a class outside its trusted list) is
        reported with a warning, and then saved only when ``pickle`` is set.
        """
        from automl import persistence  # here: reports read run directories without the engine

        paths = {}
        for name in (self.MODEL_ARCHIVE, self.MODEL_PICKLE, self.MODEL_KERAS):
            if (self.path / name).exists():  # never leave a previous model beside this one
                (self.path / name).unlink()
        buffer = io.BytesIO()
        try:
            persistence.dump(model, buffer)
        except (TypeError, ValueError) as exc:
            import warnings

            advice = "" if pickle else " Set pickle_best_model: true to save it as a pickle."
            warnings.warn(f"{self.path / self.MODEL_ARCHIVE} not written: {exc}{advice}",
                          stacklevel=2)
        else:
            paths["archive"] = write_atomic(self.path / self.MODEL_ARCHIVE, buffer.getvalue())
        if pickle:
            import joblib

            buffer = io.BytesIO()
            joblib.dump(model, buffer)
            paths["pickle"] = write_atomic(self.path / self.MODEL_PICKLE, buffer.getvalue())
        keras_path = self.path / self.MODEL_KERAS
        network = _network(model)
        if network is not None:
            from automl.keras import saving

            buffer = io.BytesIO()
            try:
                saving.save_model(network, buffer)
            except Exception:  # noqa: BLE001 - the estimator files are the model of record
                pass
            else:
                paths["keras"] = write_atomic(keras_path, buffer.getvalue())
        return paths

    def load_model(self, *, allow_pickle: bool = False, trusted=()):
        """The refit best estimator, from ``best_model.automl`` (no code runs on load).

        ``trusted`` lists functions beyond automl.persistence's own that the model
        may name (a study's ``"package.module:builder"``, as ``"package.module.builder"``):
        their modules are imported, which runs their code.

        A run directory with only ``best_model.pkl`` (``pickle_best_model: true``, a
        model the archive cannot hold, or an older automl) is read only with
        ``allow_pickle=True``: unpickling runs the code the file names, so allow it
        only for files you trust.
        """
        from automl import persistence

        path = self.path / self.MODEL_ARCHIVE
        if path.is_file():
            return persistence.load(path, trusted=trusted)
        pickled = self.path / self.MODEL_PICKLE
        if pickled.is_file():
            if not allow_pickle:
                raise ValueError(
                    f"{pickled}: the best model is saved only as a pickle, which runs code when "
                    "loaded; pass allow_pickle=True if (and only if) you trust this file."
                )
            import joblib

            return joblib.load(pickled)
        raise FileNotFoundError(f"{path}: no saved best model (was the study refit?)")

    def has_model(self) -> bool:
        """Whether a refit best estimator is saved (as an archive or a pickle)."""
        return self.has(self.MODEL_ARCHIVE) or self.has(self.MODEL_PICKLE)

    def export_model(self, format: str = "onnx", path=None, *,  # noqa: A002 (Keras's name)
                     allow_pickle: bool = False) -> Path:
        """Write the refit best model for use outside automl; return the path written.

        ``"onnx"`` writes the whole pipeline as one ONNX graph (the preprocessing steps
        first, then the network: the file takes raw feature rows; default
        ``best_model.onnx``); ``"keras"`` writes the network alone in Keras 3's ``.keras``
        format, which Keras loads (default ``best_model.keras``; the preprocessing is not
        part of it). Reads the model as :meth:`load_model` does.
        """
        from automl.wrappers import (
            export_pipeline,  # here: reports read run directories without the engine
        )

        if format not in ("onnx", "keras"):
            raise ValueError(f"The 'format' argument of export_model must be 'onnx' or 'keras'. "
                             f"Got {format!r} instead.")
        default = self.MODEL_ONNX if format == "onnx" else self.MODEL_KERAS
        target = Path(path) if path is not None else self.path / default
        if target.is_dir():
            raise ValueError(f"The export path {str(target)!r} is a directory; give a file path "
                             f"such as {str(target / default)!r}.")
        model = self.load_model(allow_pickle=allow_pickle)
        if format == "onnx":
            export_pipeline(model, target, format="onnx")
            return target
        network = _network(model)
        if network is None:
            raise ValueError(f"{self.path / self.MODEL_ARCHIVE}: the best model has no "
                             "automl.keras network to export.")
        from automl.keras import saving

        saving.save_model(network, target)
        return target

    def write_test_predictions(self, model, X_test, y_test, task: str) -> dict:
        """``y_true``, ``y_pred`` and, for classifiers, ``proba`` and ``classes``."""
        arrays = {"y_true": np.asarray(y_test), "y_pred": np.asarray(model.predict(X_test))}
        if task == "classification" and hasattr(model, "predict_proba"):
            arrays["proba"] = np.asarray(model.predict_proba(X_test))
            arrays["classes"] = np.asarray(getattr(model, "classes_", np.unique(y_test)))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_atomic(self.path / self.PREDICTIONS, buffer.getvalue())
        return arrays

    def read_test_predictions(self) -> dict | None:
        """The arrays of ``test_predictions.npz``, or None when missing or unreadable."""
        path = self.path / self.PREDICTIONS
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError):
            return None
        return arrays if "y_true" in arrays and "y_pred" in arrays else None

    # -- copies ------------------------------------------------------------
    def copy_files(self, other: RunDirectory, names) -> None:
        """Copy the files ``names`` that exist here into ``other``."""
        other.path.mkdir(parents=True, exist_ok=True)
        for name in names:
            if (self.path / name).is_file():
                shutil.copy2(self.path / name, other.path / name)


#: Files a run writes in its directory (the storage aside).
OUTPUT_FILES = (
    RunDirectory.RUN,
    RunDirectory.TRIALS,
    RunDirectory.EPOCHS,
    RunDirectory.SUMMARY,
    RunDirectory.BEST_PARAMS,
    RunDirectory.PREPROCESSING,
    RunDirectory.MODEL_ARCHIVE,
    RunDirectory.MODEL_PICKLE,
    RunDirectory.MODEL_KERAS,
    RunDirectory.PREDICTIONS,
    RunDirectory.REPORT,
)


def _network(model):
    """The fitted ``automl.keras`` network inside an estimator or a Pipeline, or None."""
    steps = getattr(model, "steps", None)
    if steps:
        model = steps[-1][1]
    return getattr(model, "model_", None)
