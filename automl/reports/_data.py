"""Read a study (read-only) and the shared per-trial helpers of the tables and figures.

Everything a report shows comes from the Optuna storage, ``summary.json`` and
``test_predictions.npz`` of an output directory (see the study data contract in the
search docs). Reading never writes: the journal file is opened through a read-only
backend, so a dashboard can watch a study that other processes are still running.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optuna.storages.journal import BaseJournalBackend

from automl.search import (
    RunDirectory,
    database_url,
    duration_s,
    epochs_run,
    finite,
    fold_logs,
    last_step,
    param_distributions,
    pruned_at_epoch,
    repair_journal,
    state_name,
    trial_values,
)

__all__ = [
    "StudyData",
    "load_study_data",
    "JOURNAL_NAME",
    "SUMMARY_NAME",
    "PREDICTIONS_NAME",
    # the per-trial helpers of automl.search, used by the tables and figures
    "duration_s",
    "epochs_run",
    "finite",
    "fold_logs",
    "last_step",
    "param_distributions",
    "pruned_at_epoch",
    "state_name",
    "trial_values",
]

#: File names in a study's output directory (:class:`automl.search.RunDirectory` owns them).
JOURNAL_NAME = RunDirectory.JOURNAL
SUMMARY_NAME = RunDirectory.SUMMARY
PREDICTIONS_NAME = RunDirectory.PREDICTIONS
RUN_NAME = RunDirectory.RUN

_CLASSIFICATION_METRICS = {
    "accuracy",
    "balanced_accuracy",
    "f1",
    "f1_macro",
    "f1_weighted",
    "roc_auc",
    "roc_auc_ovr",
    "log_loss",
    "neg_log_loss",
    "precision",
    "recall",
}
_REGRESSION_METRICS = {
    "r2",
    "neg_mean_squared_error",
    "neg_root_mean_squared_error",
    "neg_mean_absolute_error",
    "mse",
    "mae",
    "rmse",
}


@dataclass
class StudyData:
    """A study and its run outputs, as the tables and figures read them.

    Build it with :func:`load_study_data`. The ``study`` stays connected to its
    storage: tables and figures built later see trials finished in between.

    Attributes
    ----------
    study : optuna.Study
        The study (read-only when loaded from an output directory or a journal file).
    summary : dict
        Contents of ``summary.json`` (``{}`` while the study runs or without an output dir).
    test_predictions : dict of str to ndarray or None
        Arrays of ``test_predictions.npz`` (``y_true``, ``y_pred``, and for
        classification ``proba`` and ``classes``), or None.
    task : {"classification", "regression"} or None
        From the study's user attributes, the summary, the predictions or the metric name.
    metric : str
        Name of the (first) objective, e.g. ``"accuracy"``; ``"value"`` when unknown.
    directions : list of str
        ``"maximize"``/``"minimize"``, one per objective.
    objectives : list of str
        Display name of each objective (``objectives`` user attribute, else the metric).
    output_dir : Path or None
        The output directory the data was read from.
    """

    study: Any
    summary: dict = field(default_factory=dict)
    test_predictions: dict | None = None
    task: str | None = None
    metric: str = "value"
    directions: list = field(default_factory=lambda: ["maximize"])
    objectives: list = field(default_factory=list)
    output_dir: Path | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.objectives:
            self.objectives = [self.metric] + [
                f"objective {i}" for i in range(1, len(self.directions))
            ]

    @property
    def name(self) -> str:
        """The study name."""
        return self.study.study_name

    @property
    def user_attrs(self) -> dict:
        """The study's user attributes (``task``, ``metric``, ``epochs``, ...)."""
        return dict(self.study.user_attrs)

    @property
    def is_multi_objective(self) -> bool:
        return len(self.directions) > 1

    @property
    def engine(self) -> str | None:
        return self.study.user_attrs.get("engine", self.summary.get("engine"))

    @property
    def max_epochs(self) -> int | None:
        epochs = self.study.user_attrs.get("epochs", self.summary.get("epochs"))
        return int(epochs) if isinstance(epochs, (int, float)) and epochs > 0 else None

    @property
    def is_kfold(self) -> bool:
        validation = self.study.user_attrs.get("validation", self.summary.get("validation", ""))
        return str(validation).startswith("kfold")

    def trials(self, states=None) -> list:
        """The study's trials (frozen, not copied), optionally only ``states`` (names or enums)."""
        from optuna.trial import TrialState

        if states is not None:
            states = tuple(TrialState[s.upper()] if isinstance(s, str) else s for s in states)
        return self.study.get_trials(deepcopy=False, states=states)

    def objective_label(self, i: int = 0) -> str:
        """``"accuracy (maximize)"``-style axis label of objective ``i``."""
        return f"{self.objectives[i]} ({self.directions[i]})"


def load_study_data(source, *, study_name: str | None = None) -> StudyData:
    """Load a study and its run outputs for tables and figures, without writing anything.

    Parameters
    ----------
    source : str, Path, optuna.Study or StudyResult
        - an output directory: its storage (the ``storage`` recorded in ``summary.json``
          or ``run.json``, else ``study.journal``), ``summary.json`` and
          ``test_predictions.npz`` when present;
        - a journal file path or an Optuna storage URL (``sqlite:///...``);
        - an :class:`optuna.Study`; or
        - a :class:`~automl.search.StudyResult` (its study and output directory).
    study_name : str, optional
        Which study of a storage holding several (default: the one recorded in
        ``summary.json`` / ``run.json``, else the last study in the storage).

    Returns
    -------
    StudyData

    Raises
    ------
    FileNotFoundError
        If the directory, journal or SQLite file does not exist, or the directory holds
        no storage.
    ValueError
        If the storage holds no study, or not the one asked for.

    Examples
    --------
    >>> import optuna
    >>> from automl.reports import load_study_data
    >>> study = optuna.create_study(direction="maximize")
    >>> study.add_trial(optuna.trial.create_trial(value=0.5))
    >>> data = load_study_data(study)
    >>> data.directions, len(data.trials())
    (['maximize'], 1)
    """
    import optuna

    if isinstance(source, StudyData):
        return source
    output_dir = None
    if isinstance(source, optuna.Study):
        study = source
    elif hasattr(source, "study") and hasattr(source, "output_dir"):  # StudyResult
        study = source.study
        output_dir = Path(source.output_dir) if source.output_dir is not None else None
    elif isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if "://" not in text and Path(text).is_dir():
            output_dir = Path(text)
            run = RunDirectory(output_dir)
            info = {**run.read_run(quiet=True), **run.read_summary(quiet=True)}
            storage = _open_storage(_storage_of(output_dir, info),
                                    info.get("storage_password_env"))
            study_name = study_name or info.get("study") or info.get("study_name")
        else:
            storage = _open_storage(text)
        study = _load_study(storage, study_name)
    else:
        raise TypeError(
            "The 'source' parameter of load_study_data must be an output directory, a journal "
            f"file, a storage URL, an optuna.Study or a StudyResult. Got {source!r} instead."
        )
    run = RunDirectory(output_dir) if output_dir is not None else None
    summary = run.read_summary(quiet=True) if run is not None else {}
    predictions = run.read_test_predictions() if run is not None else None
    return _make_data(study, summary, predictions, output_dir)


def _make_data(study, summary: dict, predictions: dict | None, output_dir) -> StudyData:
    attrs = study.user_attrs
    directions = [d.name.lower() for d in study.directions]
    metric = attrs.get("metric") or summary.get("metric") or "value"
    objectives = attrs.get("objectives") or summary.get("objectives")
    if not isinstance(objectives, (list, tuple)) or len(objectives) != len(directions):
        objectives = []
    return StudyData(
        study=study,
        summary=summary,
        test_predictions=predictions,
        task=_infer_task(attrs.get("task") or summary.get("task"), predictions, metric),
        metric=str(metric),
        directions=directions,
        objectives=[str(o) for o in objectives],
        output_dir=output_dir,
    )


def _infer_task(task, predictions, metric) -> str | None:
    if task in ("classification", "regression"):
        return task
    if predictions is not None:
        if "classes" in predictions or "proba" in predictions:
            return "classification"
        if "y_true" in predictions:
            return "regression"
    if metric in _CLASSIFICATION_METRICS:
        return "classification"
    if metric in _REGRESSION_METRICS:
        return "regression"
    return None


# ---------------------------------------------------------------------------
# Storage, read-only


def _storage_of(output_dir: Path, info: dict) -> str:
    """The storage recorded in summary.json / run.json, else the directory's journal.

    A recorded journal path that no longer exists (the directory was moved or
    copied) falls back to the directory's own ``study.journal``.
    """
    journal = output_dir / JOURNAL_NAME
    storage = info.get("storage")
    if isinstance(storage, str) and storage:
        if "://" in storage:
            return storage
        path = Path(storage).expanduser()
        path = path if path.is_absolute() else output_dir / path
        if path.is_file() or not journal.is_file():
            return str(path)
    if not journal.is_file():
        raise FileNotFoundError(
            f"No study storage in {output_dir}: expected {JOURNAL_NAME} "
            f"(or a 'storage' in {SUMMARY_NAME} or {RUN_NAME})."
        )
    return str(journal)


def _open_storage(location: str, password_env: str | None = None):
    """A read-only storage for a journal file path or an Optuna storage URL."""
    from optuna.storages import JournalStorage

    if "://" not in location:
        if not Path(location).is_file():
            raise FileNotFoundError(f"No Optuna journal file at {location}.")
        repair_journal(location, readers_only=True)  # corrupt lines cut off (and kept aside)
        return JournalStorage(_ReadOnlyJournalFile(location))
    if location.startswith("sqlite:///"):
        path = location[len("sqlite:///") :]
        if path and path != ":memory:" and not Path(path).is_file():
            raise FileNotFoundError(f"No SQLite database at {path} (storage {location}).")
    family = location.split("://", 1)[0].split("+", 1)[0].lower()
    if family in {"sqlite", "mysql", "postgresql", "postgres", "oracle", "mssql"}:
        from optuna.storages import RDBStorage

        if family not in ("oracle", "mssql"):  # the installed driver, the password
            location = database_url(location, password_env)
        return RDBStorage(location, skip_compatibility_check=True, skip_table_creation=True)
    import optuna

    return optuna.storages.get_storage(location)


def _load_study(storage, study_name: str | None):
    import optuna

    names = optuna.get_all_study_names(storage)
    if not names:
        raise ValueError("The storage holds no study yet.")
    if study_name is None:
        study_name = names[-1]
    elif study_name not in names:
        raise ValueError(f"No study named {study_name!r} in the storage; it holds {names}.")
    return optuna.load_study(study_name=study_name, storage=storage)


class _ReadOnlyJournalFile(BaseJournalBackend):
    """Journal file backend that only reads, so a live study's file is never touched.

    Lines a writer is still appending (no trailing newline, or not valid JSON yet)
    are left for the next read.
    """

    def __init__(self, path):
        self.path = str(path)
        self._offsets = {0: 0}  # log number -> byte offset of its line

    def read_logs(self, log_number_from: int):
        start = log_number_from if log_number_from in self._offsets else 0
        offset = self._offsets[start]
        if os.stat(self.path).st_size < offset:
            raise RuntimeError(
                f"The journal {self.path} was truncated or replaced while being read; "
                "load the study again."
            )
        with open(self.path, "rb") as f:
            f.seek(offset)
            number = start
            for line in f:
                if not line.endswith(b"\n"):
                    break
                try:
                    log = json.loads(line)
                except ValueError:
                    break
                offset += len(line)
                number += 1
                self._offsets[number] = offset
                if number > log_number_from:
                    yield log

    def append_logs(self, logs) -> None:
        raise PermissionError(f"Reports open {self.path} read-only; the study cannot be changed.")


# ---------------------------------------------------------------------------
# Per-trial helpers shared by the tables and the figures


def final_val_loss(trial) -> float:
    """Last finite ``val_loss`` of the trial's epoch logs (inf when none), for tie-breaks."""
    folds = fold_logs(trial)
    losses = [finite(v) for v in (folds[0].get("val_loss") or [])] if folds else []
    losses = [v for v in losses if not math.isnan(v)]
    return losses[-1] if losses else math.inf


def ranked_trials(data: StudyData) -> list:
    """Complete trials, best first.

    Single objective: by value in the study's direction; ties go to the runner's best
    trial (``summary.json`` ``best_trial``), then the lowest final ``val_loss``, then
    the lowest number. Multi-objective: the Pareto-optimal trials first (by the first
    objective), then the others by the first objective.
    """
    trials = [t for t in data.trials(("complete",)) if t.values is not None]
    best_number = data.summary.get("best_trial")
    sign = -1.0 if data.directions[0] == "maximize" else 1.0

    def first(t):
        v = trial_values(t, len(data.directions))[0]
        return math.inf if math.isnan(v) else sign * v

    if data.is_multi_objective:
        front = {t.number for t in pareto_trials(data)}
        return sorted(trials, key=lambda t: (t.number not in front, first(t), t.number))
    return sorted(
        trials, key=lambda t: (first(t), t.number != best_number, final_val_loss(t), t.number)
    )


def pareto_trials(data: StudyData) -> list:
    """Pareto-optimal complete trials (``study.best_trials``)."""
    try:
        return list(data.study.best_trials)
    except (RuntimeError, ValueError):
        return []


def is_numeric(dist) -> bool:
    from optuna.distributions import FloatDistribution, IntDistribution

    return isinstance(dist, (FloatDistribution, IntDistribution))


def is_log(dist) -> bool:
    return bool(getattr(dist, "log", False))
