"""Study specifications: load a study YAML (or mapping), apply overrides, validate.

Every problem raises :class:`SpecError` (a ``ValueError``) whose message names
the file, the key, the value and what was expected; a missing study, space or
data file raises ``FileNotFoundError`` naming the path.

A study file (all keys but ``dataset`` and ``space`` are optional)::

    name: digits_mlp                # default: the file name
    dataset: digits                 # a built-in name, {csv: f, target: col}, {parquet: f,
                                    # target: col}, {npz: f}, "pkg.mod:function" or
                                    # {function: "pkg.mod:function", kwargs: {...}}
                                    # (loaded by automl.search._datasets.load_dataset)
    task: auto                      # auto | classification | regression (auto: the
                                    # dataset's own task, else infer_task of its targets)
    preprocessing: standard         # standard | minmax | none   (alias: scale)
    model: mlp                      # mlp | cnn | "pkg.mod:builder"
    space: mlp.yaml
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
    epochs: 20                      # max epochs per trial
    early_stopping: null            # or {patience: 5}
    n_jobs: 1
    seed: 0
    storage: null                   # null: journal in `output`; an Optuna URL; a journal file
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
from ._dataset_spec import (
    check_dataset,
    dataset_name,
    load_study_dataset,
    resolve_task,
)
from ._space import SearchSpace, SpecError, one_line
from ._spec_keys import (
    budget_keys,
    check_early_stopping,
    check_storage,
    check_timeout,
    data_keys,
    engine_keys,
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
    "n_jobs": 1,
    "seed": None,
    "metric": None,
    "direction": None,
    "monitor": None,
    "second_objective": None,
    "epochs": 20,
    "early_stopping": None,
    "storage": None,
    "study_name": None,
    "output": None,
    "deterministic": False,
    "refit": True,
    "pickle_best_model": False,
}
_REQUIRED = ("dataset", "space")
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
    preprocessing : {"standard", "minmax", "none"}
        Feature scaling, fit on each training part only. ``scale`` is the same value.
    model : str
        ``"mlp"``, ``"cnn"`` or ``"pkg.module:builder"`` (a user model builder).
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
    early_stopping : dict or None
        ``{"patience", "min_delta", "start_from_epoch"}`` of an
        ``EarlyStopping(monitor, restore_best_weights=True)`` in each trial.
    storage : None, str or Path
        None: a journal in ``output``; a str: an Optuna storage URL; a Path: a journal file.
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
    study_name: str = ""
    deterministic: bool = False
    refit: bool = True
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
        """The dataset (by :func:`automl.search.load_dataset`); the one that inferring the
        task already loaded, if any."""
        if self._data is not None:
            return self._data
        return load_study_dataset(self.dataset, self.base_dir, source=self.source)


# ---------------------------------------------------------------------------
# Loading


def _read_yaml(path: Path) -> tuple[dict, str]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: study file not found")
    try:
        raw = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {one_line(exc)}") from None
    if not isinstance(raw, Mapping):
        raise SpecError(f"{path}: a study file must be a mapping of keys, got {type(raw).__name__}")
    return dict(raw), str(path)


def parse_spec(spec: str | Path | Mapping | StudySpec, **overrides) -> StudySpec:
    """Read and validate every key of a study; :func:`load_spec` without the check of
    the space and the model against the estimator (so nothing here imports the wrappers).

    Parameters
    ----------
    spec : str, Path, mapping or StudySpec
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
    raw, source, base_dir = _raw_keys(spec, overrides)
    values = {**_DEFAULTS, **raw}
    dataset = check_dataset(source, values["dataset"], base_dir)
    loaded: list = []
    task = resolve_task(source, values, dataset, base_dir, loaded)
    name = _name(source, values["name"], dataset, base_dir)
    data = data_keys(source, values, raw, dataset, base_dir)
    objectives = objective_keys(source, values, task)
    budget = budget_keys(source, values)
    space = resolve_space(source, values["space"], base_dir)
    engine = engine_keys(
        source, values, raw, space=space, validation=data["validation"],
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
        **data,
        **objectives,
        **budget,
        **engine,
        timeout=check_timeout(source, values["timeout"]),
        n_jobs=check_int(source, "n_jobs", values["n_jobs"], 1, allow=(-1,)),
        output=output_path,
        source=source,
        description=str(values["description"] or ""),
        raw=raw,
        early_stopping=check_early_stopping(source, values["early_stopping"]),
        storage=check_storage(source, values["storage"]),
        study_name=study_name,
        refit=check_bool(source, "refit", values["refit"]),
        pickle_best_model=check_bool(source, "pickle_best_model", values["pickle_best_model"]),
        base_dir=base_dir,
        _data=loaded[0] if loaded else None,
    )


def _raw_keys(spec, overrides) -> tuple[dict, str, Path | None]:
    """The study's keys with ``overrides`` applied; unknown and missing keys refused."""
    base_dir: Path | None = None
    if isinstance(spec, StudySpec):
        raw, source, base_dir = dict(spec.raw), spec.source, spec.base_dir
    elif isinstance(spec, Mapping):
        raw, source = dict(spec), "<inline study>"
    else:
        path = Path(spec).expanduser()
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
    for key in _REQUIRED:
        if raw.get(key) is None:
            raise SpecError(f"{source}: missing required key {key!r}")
    return raw, source, base_dir


def _name(source, name, dataset, base_dir) -> str:
    if name is None:
        from_file = base_dir is not None and Path(source).is_file()
        name = Path(source).stem if from_file else dataset_name(dataset)
    if not isinstance(name, str) or not name or "/" in name:
        fail(source, "name", f"must be a non-empty string without '/', got {name!r}")
    return name
