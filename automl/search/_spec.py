"""Study specifications: load a study YAML (or mapping), apply overrides, validate.

Every problem raises :class:`SpecError` (a ``ValueError``) whose message names
the file, the key, the value and what was expected; a missing study, space or
data file raises ``FileNotFoundError`` naming the path.

A study file (all keys but ``dataset`` are optional; ``dataset`` too when the
data is given in memory, ``run_study(spec, X=..., y=...)``)::

    name: digits_mlp                # default: the file name
    dataset: digits                 # a built-in name, {csv: f, target: col}, {parquet: f,
                                    # target: col}, {npz: f}, "pkg.mod:function" or
                                    # {function: "pkg.mod:function", kwargs: {...}}
                                    # (loaded by automl.search._datasets.load_dataset)
    task: auto                      # auto | classification | regression (auto: the
                                    # dataset's own task, else infer_task of its targets)
    preprocessing: auto             # auto | standard | minmax | none   (alias: scale)
                                    # default: auto for tables (CSV, Parquet, in memory:
                                    # automl.tabular.TabularPreprocessor), else standard
                                    # (none for the pre-scaled image datasets)
    standardize_target: true        # regression: the network learns a standardized target
    model: mlp                      # mlp | cnn | "pkg.mod:builder" | {transfer: {base: ...}}
    space: mlp.yaml                 # default: the model's shipped space (mlp.yaml, cnn.yaml)
    validation: 0.2                 # holdout fraction, or {kfold: 5}  (alias: validation_size)
    test_size: 0.25
    split_seed: 0
    metric: accuracy                # any scikit-learn scorer name
    direction: maximize             # default: maximize (scorers are greater-is-better)
    monitor: val_accuracy           # epoch-log key reported for pruning
    second_objective: null          # null | n_params | latency  (a multi-objective study)
    engine: optuna                  # optuna | sklearn
    sampler: {name: tpe, n_startup_trials: 10}   # tpe random grid cmaes gp qmc nsga2
    pruner: {name: median, n_warmup_steps: 5}    # none median percentile successive_halving
                                    # hyperband patient ({patience, wrapped: {name: ...}}) threshold
    search: grid                    # engine sklearn: grid | random | halving_grid | halving_random
    n_trials: 20
    timeout: null
    max_retries: 2                  # retries of a trial whose worker process died
    max_consecutive_failures: 10    # failed trials in a row that stop the study
    epochs: 20                      # max epochs per trial
    early_stopping: null            # or {patience: 5}
    n_jobs: 1
    seed: 0
    storage: null                   # null: journal in `output`; an Optuna URL; a journal file
    cluster: null                   # a Dask scheduler tcp://HOST:PORT: trials run there
    storage_password_env: null      # environment variable holding the database password
    study_name: null                # default: name
    output: runs/digits_mlp
    deterministic: false            # batched ask/tell: identical trials at any n_jobs
    refit: true
    pickle_best_model: false        # also best_model.pkl (pickles run code when loaded)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._checks import (
    check_bool,
    check_int,
    close_match,
    fail,
)
from ._database import check_password_env
from ._dataset_spec import (
    IN_MEMORY,
    check_dataset,
    dataset_name,
    in_memory_value,
    load_study_dataset,
    resolve_task,
)
from ._datasets import numeric_dataset
from ._shipped import default_space, shipped_names, study_path
from ._space import SearchSpace, SpecError, one_line
from ._spec_keys import (
    budget_keys,
    check_cluster,
    check_early_stopping,
    check_storage,
    check_timeout,
    data_keys,
    engine_keys,
    failure_keys,
    objective_keys,
    resolve_space,
)
from ._yaml import load_yaml

__all__ = ["StudySpec", "parse_spec", "SpecError"]


_DEFAULTS: dict[str, Any] = {
    "name": None,
    "description": "",
    "dataset": None,
    "task": "auto",
    "test_size": 0.25,
    "validation": None,
    "validation_size": None,
    "split_seed": 0,
    "preprocessing": None,
    "scale": None,
    "standardize_target": True,
    "model": "mlp",
    "space": None,
    "engine": "optuna",
    "sampler": None,
    "pruner": None,
    "search": None,
    "n_iter": None,
    "factor": None,
    "min_resources": None,
    "resource": None,
    "n_trials": 20,
    "timeout": None,
    "max_retries": 2,
    "max_consecutive_failures": 10,
    "n_jobs": 1,
    "seed": None,
    "metric": None,
    "direction": None,
    "monitor": None,
    "second_objective": None,
    "epochs": 20,
    "early_stopping": None,
    "storage": None,
    "cluster": None,
    "storage_password_env": None,
    "study_name": None,
    "output": None,
    "deterministic": False,
    "refit": True,
    "pickle_best_model": False,
}
_REQUIRED = ("dataset",)
#: Keys that are two names of one setting; an override of one replaces the other.
_ALIASES = {"scale": "preprocessing", "validation_size": "validation"}


@dataclass(frozen=True)
class StudySpec:
    """A validated study: what a study file says, and nothing else (frozen).

    Build it with :func:`load_spec` (or :func:`parse_spec`, which skips the
    check of the space against the estimator); :class:`StudyPlan` turns it into
    what a run needs.

    Attributes
    ----------
    name : str
        Study name (also the default ``study_name`` and output folder).
    dataset : str or dict
        A built-in dataset name, ``"pkg.module:function"``, or a mapping
        ``{"csv"|"parquet": path, "target": column}`` / ``{"npz": path}`` as written
        (paths relative to ``base_dir``); see :meth:`load_data`.
    task : {"classification", "regression"}
        Resolved from ``task: auto`` (see :func:`infer_task`).
    space : SearchSpace
    test_size, split_seed
        The held-out test split (fraction) and the seed fixing all splits.
    validation : dict
        ``{"kind": "holdout", "size": 0.2}`` or ``{"kind": "kfold", "n_splits": 5}``
        (k-fold is stratified for classification).
    validation_size : float or None
        The holdout fraction (None for k-fold); kept for older callers.
    preprocessing : {"auto", "standard", "minmax", "none"}
        Feature preprocessing, fit on each training part only: ``auto`` is
        :class:`automl.tabular.TabularPreprocessor`, the others a scaler.
        ``scale`` is the same value.
    standardize_target : bool
        Regression: the network learns the standardized target
        (:func:`automl.tabular.standardized_target`); always False for classification.
    model : str or dict
        ``"mlp"``, ``"cnn"`` or ``"pkg.module:builder"`` (a user model builder), or
        ``{"transfer": {"base": "MobileNetV2", "weights": None, "input_shape": [32, 32, 3],
        ...}}`` (see ``studies/digits_transfer.yaml``).
    metric : str
        A scikit-learn scorer name.
    direction : {"maximize", "minimize"}
        Direction of ``metric``.
    directions : list of str
        Optuna study directions: ``[direction]`` or ``[direction, "minimize"]``.
    objectives : list of str
        ``[metric]`` or ``[metric, second_objective]``.
    second_objective : {None, "n_params", "latency"}
        Minimized second objective (``latency``: prediction ms per 1000 samples).
    monitor : str
        Epoch-log key reported each epoch (pruning, early stopping).
    monitor_sign : float
        ``+1.0`` when a higher ``monitor`` is better, ``-1.0`` for losses.
    engine : {"optuna", "sklearn"}
    sampler, pruner : dict or None
        ``{"name": ..., "kwargs": {...}}`` for :func:`make_sampler` / :func:`make_pruner`
        (None with the sklearn engine). A patient pruner holds the wrapped pruner's
        dict under ``kwargs["wrapped"]``.
    search : str or None
        sklearn engine: ``grid``, ``random``, ``halving_grid`` or ``halving_random``.
    n_iter : int or None
        Candidates of the random searches (default ``n_trials``).
    factor, min_resources, resource
        Successive-halving settings (``resource``: ``"n_samples"`` or ``"epochs"``).
    n_trials, timeout, epochs, n_jobs, seed
        Budget: trials, seconds after which no trial starts, max epochs per trial,
        worker processes (-1: all cores), study seed (None: random).
    max_retries : int
        Runs of a trial again after its worker process died (killed, out of
        memory, crashed) before it is failed for good, as keras-tuner's
        ``max_retries_per_trial``; it then counts towards ``n_trials``.
    max_consecutive_failures : int
        Trials failed (for good) in a row after which the study stops with an
        error naming their reasons, instead of spending the rest of ``n_trials``.
    early_stopping : dict or None
        ``{"patience", "min_delta", "start_from_epoch"}`` of an
        ``EarlyStopping(monitor, restore_best_weights=True)`` in each trial.
    storage : None, str or Path
        None: a journal in ``output``; a str: an Optuna storage URL; a Path: a journal file.
    cluster : str or None
        A ``dask.distributed`` scheduler address (``tcp://HOST:PORT``): the trials (or the
        scikit-learn search's fits) run on its workers instead of local processes.
    storage_password_env : str or None
        Environment variable holding the database password when the URL has none.
    study_name : str
    output : Path
    deterministic : bool
        Run trials in batches of ask/tell so any ``n_jobs`` gives identical trials.
    refit : bool
        Refit the best configuration on train + validation.
    pickle_best_model : bool
        Also save the refit model as ``best_model.pkl`` (joblib). A pickle runs code when
        loaded: load only pickles from a trusted source. ``best_model.automl`` is always
        written and loads without running code.
    base_dir : Path or None
        Folder of the study file (relative data paths are resolved from it).
    """

    name: str
    dataset: Any
    task: str
    space: SearchSpace
    test_size: float
    validation_size: float | None
    split_seed: int
    scale: str
    engine: str
    sampler: dict | None
    pruner: dict | None
    n_trials: int
    timeout: float | None
    n_jobs: int
    seed: int | None
    metric: str
    epochs: int
    output: Path
    source: str = "<inline study>"
    description: str = ""
    raw: dict = field(default_factory=dict, repr=False)
    preprocessing: str = "none"
    standardize_target: bool = False
    model: str = "mlp"
    validation: dict = field(default_factory=lambda: {"kind": "holdout", "size": 0.2})
    direction: str = "maximize"
    directions: list = field(default_factory=lambda: ["maximize"])
    objectives: list = field(default_factory=list)
    second_objective: str | None = None
    monitor: str = "val_accuracy"
    monitor_sign: float = 1.0
    search: str | None = None
    n_iter: int | None = None
    factor: float | None = None
    min_resources: int | str | None = None
    resource: str | None = None
    early_stopping: dict | None = None
    storage: str | Path | None = None
    cluster: str | None = None
    storage_password_env: str | None = None
    study_name: str = ""
    deterministic: bool = False
    refit: bool = True
    max_retries: int = 2
    max_consecutive_failures: int = 10
    pickle_best_model: bool = False
    base_dir: Path | None = None
    _data: Any = field(default=None, repr=False, compare=False)

    @property
    def dataset_name(self) -> str:
        """A short name of the dataset for reports (``digits``, ``houses`` for houses.csv)."""
        return dataset_name(self.dataset)

    @property
    def is_multi_objective(self) -> bool:
        return self.second_objective is not None

    def load_data(self):
        """The dataset (by :func:`automl.search.load_dataset`): the one given in memory or
        that inferring the task already loaded, if any (tables as DataFrames for
        ``preprocessing: auto``)."""
        if self._data is not None:
            return self._data
        data = load_study_dataset(self.dataset, self.base_dir, source=self.source,
                                  frame=self.preprocessing == "auto")
        if self.preprocessing != "auto":
            data = numeric_dataset(data, self.preprocessing, f"{self.source}: key 'dataset'")
        return data


# ---------------------------------------------------------------------------
# Loading


def _read_yaml(path: Path) -> tuple[dict, str]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: study file not found (the shipped studies, run by "
                                f"name: {shipped_names('studies')})")
    try:
        raw = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {one_line(exc)}") from None
    if not isinstance(raw, Mapping):
        raise SpecError(f"{path}: a study file must be a mapping of keys, got {type(raw).__name__}")
    return dict(raw), str(path)


def parse_spec(spec: str | Path | Mapping | StudySpec, *, data=None, **overrides) -> StudySpec:
    """Read and validate every key of a study; :func:`load_spec` without the check of
    the space and the model against the estimator (so nothing here imports the wrappers).

    Parameters
    ----------
    spec : str, Path, mapping or StudySpec
        A study file, the name of a shipped study (``"digits_mlp"``), its keys, or a spec.
    data : Dataset, optional
        Data given in memory (:func:`automl.search.in_memory_dataset`), in place of
        the ``dataset`` key.
    **overrides
        As for :func:`load_spec`, which lists what is raised.

    Returns
    -------
    StudySpec

    Examples
    --------
    >>> spec = parse_spec({"dataset": "iris", "space": {"parameters": {"batch_size": 16}}},
    ...                   validation={"kfold": 3}, metric="f1_macro")
    >>> spec.task, spec.validation, spec.direction, spec.monitor
    ('classification', {'kind': 'kfold', 'n_splits': 3}, 'maximize', 'val_loss')
    """
    if data is None and isinstance(spec, StudySpec) and dataset_name(spec.dataset) == IN_MEMORY:
        data = spec._data
    raw, source, base_dir = _raw_keys(spec, overrides, in_memory=data is not None)
    values = {**_DEFAULTS, **raw}
    if data is not None:
        dataset = in_memory_value(data)
    else:
        dataset = check_dataset(source, values["dataset"], base_dir)
    loaded: list = [] if data is None else [data]
    keys = data_keys(source, values, raw, dataset, base_dir)
    task = resolve_task(source, values, dataset, base_dir, loaded,
                        frame=keys["preprocessing"] == "auto")
    if loaded and keys["preprocessing"] != "auto":
        loaded[0] = numeric_dataset(loaded[0], keys["preprocessing"], f"{source}: key 'dataset'")
    keys["standardize_target"] = _standardize_target(source, values, raw, task)
    name = _name(source, values["name"], dataset, base_dir)
    objectives = objective_keys(source, values, task)
    budget = budget_keys(source, values)
    space = resolve_space(source, default_space(source, values["space"], values["model"]),
                          base_dir)
    engine = engine_keys(
        source, values, raw, space=space, validation=keys["validation"],
        multi=objectives["second_objective"] is not None, **budget,
    )
    output = values["output"] if values["output"] is not None else f"runs/{name}"
    if not isinstance(output, (str, Path)):
        fail(source, "output", f"must be a directory path, got {output!r}")
    output_path = (Path.cwd() / Path(output).expanduser()).resolve()
    if output_path.exists() and not output_path.is_dir():
        fail(source, "output", f"{str(output)!r} is an existing file; expected a directory path "
                               "(the study's outputs go in that folder)")
    study_name = values["study_name"] if values["study_name"] is not None else name
    if not isinstance(study_name, str) or not study_name:
        fail(source, "study_name", f"must be a non-empty string, got {study_name!r}")
    return StudySpec(
        name=name,
        dataset=dataset,
        task=task,
        space=space,
        **keys,
        **objectives,
        **budget,
        **engine,
        timeout=check_timeout(source, values["timeout"]),
        **failure_keys(source, values),
        n_jobs=check_int(source, "n_jobs", values["n_jobs"], 1, allow=(-1,)),
        output=output_path,
        source=source,
        description=str(values["description"] or ""),
        raw=raw,
        early_stopping=check_early_stopping(source, values["early_stopping"]),
        storage=check_storage(source, values["storage"]),
        cluster=check_cluster(source, values["cluster"]),
        storage_password_env=check_password_env(source, values["storage_password_env"]),
        study_name=study_name,
        refit=check_bool(source, "refit", values["refit"]),
        pickle_best_model=check_bool(source, "pickle_best_model", values["pickle_best_model"]),
        base_dir=base_dir,
        _data=loaded[0] if loaded else None,
    )


def _raw_keys(spec, overrides, *, in_memory: bool) -> tuple[dict, str, Path | None]:
    """The study's keys with ``overrides`` applied; unknown and missing keys refused."""
    base_dir: Path | None = None
    if isinstance(spec, StudySpec):
        raw, source, base_dir = dict(spec.raw), spec.source, spec.base_dir
    elif isinstance(spec, Mapping):
        raw, source = dict(spec), "<inline study>"
    else:
        path = study_path(spec)
        raw, source = _read_yaml(path)
        base_dir = path.resolve().parent
    for key, value in overrides.items():
        if key not in _DEFAULTS:
            raise SpecError(f"unknown override {key!r}{close_match(key, _DEFAULTS)}; "
                            f"valid keys are {sorted(_DEFAULTS)}")
        if value is not None:
            raw[key] = value
            for a, b in _ALIASES.items():
                if key in (a, b):
                    raw.pop(b if key == a else a, None)
    unknown = sorted(set(raw) - set(_DEFAULTS), key=str)
    if unknown:
        key = unknown[0]
        raise SpecError(f"{source}: unknown key {key!r}{close_match(key, _DEFAULTS)}; "
                        f"valid keys are {sorted(_DEFAULTS)}")
    if in_memory:
        if raw.get("dataset") is not None:
            raise SpecError(f"{source}: key 'dataset' ({raw['dataset']!r}) and data given in "
                            "memory (X=, y=): give one of them")
        raw.pop("dataset", None)
        return raw, source, base_dir
    for key in _REQUIRED:
        if raw.get(key) is None:
            hint = " (or give the data in memory: run_study(spec, X=..., y=...))"
            raise SpecError(f"{source}: missing required key {key!r}"
                            f"{hint if key == 'dataset' else ''}")
    return raw, source, base_dir


def _standardize_target(source, values, raw, task) -> bool:
    """``standardize_target`` for a regression with the Optuna engine (the default there).

    The scikit-learn engine searches the network as the pipeline's last step, so
    its studies train on the raw target.
    """
    wanted = check_bool(source, "standardize_target", values["standardize_target"])
    if values["engine"] == "sklearn":
        if raw.get("standardize_target"):
            fail(source, "standardize_target", "is a setting of engine 'optuna'; engine "
                                               "'sklearn' trains on the raw target")
        return False
    return task == "regression" and wanted


def _name(source, name, dataset, base_dir) -> str:
    if name is None:
        from_file = base_dir is not None and Path(source).is_file()
        name = Path(source).stem if from_file else dataset_name(dataset)
    if not isinstance(name, str) or not name or "/" in name:
        fail(source, "name", f"must be a non-empty string without '/', got {name!r}")
    return name
