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
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import json
import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ._datasets import infer_task
from ._space import SearchSpace, SpecError, _one_line, compile_space, load_space

__all__ = [
    "StudySpec",
    "load_spec",
    "SpecError",
    "SAMPLERS",
    "PRUNERS",
    "METRICS",
    "GridSpace",
    "make_sampler",
    "make_pruner",
    "trial_space",
    "infer_task",
    "import_object",
    "load_study_dataset",
    "metric_task",
    "monitor_sign",
]

#: metric name → (task, Keras log key reported per epoch, sign making it "higher is better").
#: The historical subset; any scikit-learn scorer name is a valid metric (see :func:`metric_task`).
METRICS: dict[str, tuple[str, str, float]] = {
    "accuracy": ("classification", "val_accuracy", 1.0),
    "r2": ("regression", "val_loss", -1.0),
    "neg_mean_squared_error": ("regression", "val_loss", -1.0),
}
_DEFAULT_METRIC = {"classification": "accuracy", "regression": "r2"}

#: Scorers of continuous predictions; every other scikit-learn scorer scores class labels
#: or probabilities (or compares two labelings) and needs a classification task.
REGRESSION_SCORERS = frozenset(
    {
        "r2",
        "explained_variance",
        "d2_absolute_error_score",
        "neg_max_error",
        "neg_mean_absolute_error",
        "neg_mean_absolute_percentage_error",
        "neg_mean_gamma_deviance",
        "neg_mean_poisson_deviance",
        "neg_mean_squared_error",
        "neg_mean_squared_log_error",
        "neg_median_absolute_error",
        "neg_root_mean_squared_error",
        "neg_root_mean_squared_log_error",
    }
)
#: Metrics whose per-epoch proxy is the Keras ``val_accuracy`` (others use ``val_loss``).
_ACCURACY_LIKE = ("accuracy", "balanced_accuracy")

#: sampler name → optuna.samplers class name; pruner name → optuna.pruners class name.
SAMPLERS = {
    "tpe": "TPESampler",
    "random": "RandomSampler",
    "grid": "GridSampler",
    "cmaes": "CmaEsSampler",
    "gp": "GPSampler",
    "qmc": "QMCSampler",
    "nsga2": "NSGAIISampler",
}
PRUNERS = {
    "none": "NopPruner",
    "median": "MedianPruner",
    "percentile": "PercentilePruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "hyperband": "HyperbandPruner",
    "patient": "PatientPruner",
    "threshold": "ThresholdPruner",
}
#: Packages a sampler needs beyond Optuna (checked at load time).
SAMPLER_PACKAGES = {"cmaes": ("cmaes",), "gp": ("torch", "scipy"), "qmc": ("scipy",)}
#: Samplers that cannot optimize several objectives.
_SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)
#: Sampler/pruner options the study sets itself.
_OWNED_OPTIONS = {"seed", "search_space", "wrapped_pruner"}
#: Option annotations naming Python objects, which a YAML file cannot give.
_OBJECT_ANNOTATIONS = ("Callable", "BaseSampler", "FrozenTrial", "BaseMutation", "BaseCrossover")
#: NSGA-II crossovers by name (``sampler: {name: nsga2, crossover: sbx}``).
_CROSSOVERS = {
    "uniform": "UniformCrossover",
    "blxalpha": "BLXAlphaCrossover",
    "sbx": "SBXCrossover",
    "vsbx": "VSBXCrossover",
    "undx": "UNDXCrossover",
    "spx": "SPXCrossover",
}

SEARCHES = ("grid", "random", "halving_grid", "halving_random")
RESOURCES = ("n_samples", "epochs")
PREPROCESSING = ("standard", "minmax", "none")
SECOND_OBJECTIVES = ("n_params", "latency")
_FILE_KINDS = ("csv", "parquet", "npz")

#: Estimator parameters owned by the study, not by the search space.
RESERVED_PARAMS = (
    "epochs",
    "random_state",
    "callbacks",
    "verbose",
    "warm_start",
    "validation_split",
)
#: Prefixes of routed estimator parameters (``optimizer__momentum``); any estimator
#: parameter is a valid prefix too (``lr_schedule__alpha``).
ROUTE_PREFIXES = ("model", "optimizer", "loss", "compile", "fit", "predict", "callbacks")
#: Arguments of the built-in builders that the estimator fills in from the data.
_BUILDER_DATA_ARGS = ("n_features", "n_outputs", "output_activation", "meta", "seed")

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
}
_REQUIRED = ("dataset", "space")
#: Keys that are two names of one setting; an override of one replaces the other.
_ALIASES = {"scale": "preprocessing", "validation_size": "validation"}
_DEFAULT_VALIDATION = 0.2
_SKLEARN_ONLY = ("search", "n_iter", "factor", "min_resources", "resource")
_OPTUNA_ONLY = ("sampler", "pruner", "second_objective", "deterministic")


@dataclass
class StudySpec:
    """A validated study. Build it with :func:`load_spec`.

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
    base_dir: Path | None = None
    _data: Any = field(default=None, repr=False, compare=False)

    @property
    def dataset_name(self) -> str:
        """A short name of the dataset for reports (``digits``, ``houses`` for houses.csv)."""
        return _dataset_name(self.dataset)

    @property
    def is_multi_objective(self) -> bool:
        return self.second_objective is not None

    def load_data(self):
        """The dataset, loaded once (by ``automl.search._datasets.load_dataset``) and cached."""
        if self._data is None:
            self._data = load_study_dataset(self.dataset, self.base_dir, source=self.source)
        return self._data


# ---------------------------------------------------------------------------
# Small checks


def _fail(source: str, key: str, problem: str):
    raise SpecError(f"{source}: key {key!r}: {problem}")


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_fraction(source, key, value):
    if not (_is_real(value) and 0 < value < 1):
        _fail(source, key, f"must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def _check_int(source, key, value, low, *, allow=()):
    if value in allow and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        extra = f" (or {', '.join(map(str, allow))})" if allow else ""
        _fail(source, key, f"must be an int >= {low}{extra}, got {value!r}")
    return int(value)


def _check_bool(source, key, value):
    if not isinstance(value, bool):
        _fail(source, key, f"must be true or false, got {value!r}")
    return value


def _check_choice(source, key, value, choices):
    if value not in choices:
        hint = difflib.get_close_matches(str(value), list(choices), n=1)
        hint = f" (did you mean {hint[0]!r}?)" if hint else ""
        _fail(source, key, f"must be one of {list(choices)}, got {value!r}{hint}")
    return value


def _mapping(source, key, value, allowed, required=()):
    unknown = sorted(set(value) - set(allowed), key=str)
    if unknown:
        _fail(source, key, f"unknown key {unknown[0]!r}; valid keys are {sorted(allowed)}")
    missing = [k for k in required if k not in value]
    if missing:
        _fail(source, key, f"missing key {missing[0]!r}; got {dict(value)!r}")


def import_object(path: str, base_dir: str | Path | None = None):
    """The object named by ``"package.module:attribute"`` (``attribute`` may be dotted).

    A module that is not importable is also looked for in ``base_dir`` (the study
    file's folder), so a ``builders.py`` next to the study can be named ``builders:mlp``.

    Raises
    ------
    ImportError, AttributeError, ValueError
        If the module cannot be imported, has no such attribute, or ``path`` is malformed.
    """
    import sys

    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected 'package.module:function', got {path!r}")
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        base = Path(base_dir) if base_dir is not None else None
        if base is None or exc.name != top or not (
            (base / f"{top}.py").is_file() or (base / top / "__init__.py").is_file()
        ):
            raise
        sys.path.insert(0, str(base))
        try:
            obj = importlib.import_module(module_name)
        finally:
            sys.path.remove(str(base))
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _import_callable(source, key, path, what, base_dir=None):
    try:
        obj = import_object(path, base_dir)
    except ModuleNotFoundError as exc:
        _fail(
            source,
            key,
            f"cannot import {path!r}: no module named {exc.name!r} (the module must be "
            "importable, or a .py file next to the study)",
        )
    except (ImportError, AttributeError, ValueError) as exc:
        _fail(source, key, f"cannot import {path!r}: {_one_line(exc)}")
    except Exception as exc:  # noqa: BLE001 - the user's module raised while importing
        _fail(source, key, f"importing {path!r} raised {type(exc).__name__}: {_one_line(exc)}")
    if not callable(obj):
        _fail(source, key, f"{path!r} must name a {what}, got {type(obj).__name__}")
    return obj


def _is_import_path(value) -> bool:
    """``"package.module:function"`` (dotted module names allowed), not a file path."""
    if not isinstance(value, str):
        return False
    module, sep, attr = value.partition(":")
    return bool(sep) and bool(attr) and all(p.isidentifier() for p in module.split("."))


# ---------------------------------------------------------------------------
# Datasets


def _datasets_module():
    from . import _datasets

    return _datasets


def _builtin_datasets() -> tuple[str, ...]:
    """Every name ``automl.datasets`` loads (the loader accepts them all)."""
    from automl import datasets

    names = getattr(datasets, "names", None)
    return tuple(names()) if names else tuple(getattr(_datasets_module(), "DATASETS", ()))


def _dataset_kinds() -> dict[str, set[str]]:
    """Mapping kinds → their optional keys, as the dataset loader accepts them."""
    keys = getattr(_datasets_module(), "_KEYS", None)
    if keys:
        return {kind: set(optional) for kind, optional in keys.items()}
    return {kind: {"target", "name"} if kind != "npz" else {"name"} for kind in _FILE_KINDS}


def _dataset_name(value) -> str:
    if isinstance(value, str):
        return value.rpartition(":")[2] if _is_import_path(value) else value
    if isinstance(value, Mapping):
        if value.get("name"):
            return str(value["name"])
        if isinstance(value.get("function"), str):
            return value["function"].rpartition(":")[2]
        for kind in _FILE_KINDS:
            if kind in value:
                return Path(str(value[kind])).stem
    return "dataset"


def load_study_dataset(value, base_dir: Path | None = None, *, source: str | None = None):
    """Load a study's ``dataset`` value (see :func:`automl.search._datasets.load_dataset`)."""
    return _datasets_module().load_dataset(value, base_dir=base_dir, source=source)


def _loaded_target(data):
    if isinstance(data, Mapping):
        return data.get("task"), data["y"]
    if isinstance(data, tuple):
        return None, data[1]
    return getattr(data, "task", None), data.y


def _check_data_file(source, key, path, base_dir):
    if not isinstance(path, (str, Path)) or not str(path):
        _fail(source, key, f"must be a file path, got {path!r}")
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


def _check_import_path(source, key, value):
    if not (isinstance(value, str) and value.count(":") == 1 and all(value.split(":"))):
        _fail(source, key, f"must be 'package.module:function', got {value!r}")


def _check_dataset(source, value, base_dir):
    """Validate the shape of a ``dataset`` value (without loading it); return it."""
    builtins = _builtin_datasets()
    kinds = _dataset_kinds()
    if isinstance(value, str):
        if value in builtins:
            return value
        if _is_import_path(value):
            _check_import_path(source, "dataset", value)
            return value
        _fail(
            source,
            "dataset",
            f"unknown dataset {value!r}; expected a built-in name {list(builtins)}, "
            "'package.module:function', or a mapping with one of the keys "
            f"{list(kinds)} (e.g. {{csv: file, target: column}} or {{npz: file}})",
        )
    if not isinstance(value, Mapping):
        _fail(source, "dataset", f"must be a name, 'package.module:function' or a mapping, "
                                 f"got {value!r}")
    found = [k for k in kinds if k in value]
    if len(found) != 1:
        _fail(
            source,
            "dataset",
            f"a dataset mapping needs exactly one of the keys {list(kinds)}, got {dict(value)!r}",
        )
    kind = found[0]
    required = ["target"] if kind in ("csv", "parquet") else []
    _mapping(source, "dataset", value, {kind, *kinds[kind]}, [kind, *required])
    if "target" in value and not isinstance(value["target"], str):
        _fail(source, "dataset.target", f"must be a column name, got {value['target']!r}")
    task = value.get("task")
    if task is not None and task not in ("classification", "regression"):
        _fail(source, "dataset.task", f"must be 'classification' or 'regression', got {task!r}")
    if kind == "function":
        _check_import_path(source, "dataset.function", value["function"])
    else:
        _check_data_file(source, f"dataset.{kind}", value[kind], base_dir)
        if value.get("test") is not None:
            _check_data_file(source, "dataset.test", value["test"], base_dir)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in value.items()}


# ---------------------------------------------------------------------------
# Metric and monitor


def metric_task(metric: str) -> str:
    """``"regression"`` for regression scorers, ``"classification"`` for all others."""
    return "regression" if metric in REGRESSION_SCORERS else "classification"


def monitor_sign(monitor: str) -> float:
    """+1 when a higher value of the epoch-log key ``monitor`` is better, else -1.

    Follows Keras's ``mode="auto"``: accuracy, AUC, precision, recall, F1 and R²
    are maximized, everything else (losses, errors) minimized.
    """
    name = monitor.removeprefix("val_")
    maximize = any(k in name for k in ("acc", "auc", "precision", "recall", "f1", "r2"))
    return 1.0 if maximize else -1.0


def _check_metric(source, value, task):
    from sklearn.metrics import get_scorer_names

    names = get_scorer_names()
    metric = value or _DEFAULT_METRIC[task]
    valid = [m for m in names if metric_task(m) == task]
    if not isinstance(metric, str) or metric not in names:
        hint = difflib.get_close_matches(str(metric), names, n=1)
        hint = f" (did you mean {hint[0]!r}?)" if hint else ""
        _fail(
            source,
            "metric",
            f"unknown metric {metric!r} for {task}{hint}; expected a scikit-learn scorer "
            f"name valid for {task}: {valid}",
        )
    if metric_task(metric) != task:
        _fail(
            source,
            "metric",
            f"unknown metric {metric!r} for {task}: it is a {metric_task(metric)} scorer; "
            f"valid metrics for {task} are {valid}",
        )
    return metric


def _default_monitor(metric: str, task: str) -> str:
    return "val_accuracy" if task == "classification" and metric in _ACCURACY_LIKE else "val_loss"


# ---------------------------------------------------------------------------
# Samplers and pruners


def _missing_packages(name: str) -> list[str]:
    return [p for p in SAMPLER_PACKAGES.get(name, ()) if importlib.util.find_spec(p) is None]


def _signature(cls):
    params = inspect.signature(cls).parameters
    return {
        n: p
        for n, p in params.items()
        if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def _named(source, key, value):
    """``"tpe"``, None or ``{name: tpe, **kwargs}`` → (name, kwargs)."""
    if isinstance(value, str) or value is None:
        return ("none" if value is None else value), {}
    if isinstance(value, Mapping):
        kwargs = dict(value)
        name = kwargs.pop("name", None)
        if name is None:
            _fail(source, key, f"missing 'name' in {dict(value)!r}")
        return name, kwargs
    _fail(source, key, f"must be a name or a mapping with 'name', got {value!r}")


def _check_options(source, key, name, cls, kwargs, *, skip=()):
    if "seed" in kwargs:
        _fail(source, key, "do not set 'seed' here; the study's 'seed' seeds the sampler")
    params = _signature(cls)
    valid = sorted(n for n in params if n not in _OWNED_OPTIONS)
    for option in kwargs:
        if option in skip:
            continue
        if option not in valid:
            hint = difflib.get_close_matches(str(option), valid, n=1)
            hint = f" (did you mean {hint[0]!r}?)" if hint else ""
            _fail(
                source,
                key,
                f"invalid options for {name!r}: unknown option {option!r}{hint}; "
                f"valid options are {valid}",
            )
        annotation = str(params[option].annotation)
        if any(t in annotation for t in _OBJECT_ANNOTATIONS):
            _fail(
                source,
                key,
                f"invalid options for {name!r}: option {option!r} takes a Python object "
                f"({annotation}) and cannot be set in a study",
            )
    required = [
        n
        for n, p in params.items()
        if p.default is inspect.Parameter.empty and n not in _OWNED_OPTIONS and n not in kwargs
    ]
    if required:
        _fail(source, key, f"invalid options for {name!r}: missing required option {required[0]!r}")


def _sampler_spec(source, value, *, multi_objective, space):
    import optuna

    name, kwargs = _named(source, "sampler", value if value is not None else "tpe")
    if name not in SAMPLERS:
        _fail(source, "sampler", f"unknown sampler {name!r}; valid names are {sorted(SAMPLERS)}")
    missing = _missing_packages(name)
    if missing:
        _fail(
            source,
            "sampler",
            f"sampler {name!r} needs the package(s) {', '.join(missing)}, which are not "
            f"installed; install them with `pip install {' '.join(missing)}`",
        )
    if multi_objective and name in _SINGLE_OBJECTIVE_SAMPLERS:
        multi = sorted(set(SAMPLERS) - set(_SINGLE_OBJECTIVE_SAMPLERS))
        _fail(
            source,
            "sampler",
            f"sampler {name!r} optimizes a single objective, but 'second_objective' makes "
            f"this study multi-objective; use one of {multi}",
        )
    cls = getattr(optuna.samplers, SAMPLERS[name])
    skip = ()
    if name == "nsga2" and isinstance(kwargs.get("crossover"), str):
        _check_choice(source, "sampler.crossover", kwargs["crossover"], list(_CROSSOVERS))
        skip = ("crossover",)
    _check_options(source, "sampler", name, cls, kwargs, skip=skip)
    spec = {"name": name, "kwargs": kwargs}
    if name == "grid":
        try:
            GridSpace.from_space(space)
        except SpecError as exc:
            _fail(source, "sampler", f"sampler 'grid': {exc}")
    try:  # construct once now so bad option values fail at load time, not in a worker
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make_sampler(spec, None, space)
    except (TypeError, ValueError) as exc:
        _fail(source, "sampler", f"invalid options for {name!r}: {_one_line(exc)}")
    return spec


def _pruner_spec(source, value, *, key="pruner", defaults=None):
    import optuna

    name, kwargs = _named(source, key, value)
    if name not in PRUNERS:
        _fail(source, key, f"unknown pruner {name!r}; valid names are {sorted(PRUNERS)}")
    cls = getattr(optuna.pruners, PRUNERS[name])
    if name == "patient":
        if "wrapped" in kwargs and "wrapped_pruner" in kwargs:
            _fail(source, key, "give the wrapped pruner once, as 'wrapped'")
        wrapped = kwargs.pop("wrapped", kwargs.pop("wrapped_pruner", None))
        _check_options(source, key, name, cls, kwargs)
        kwargs["wrapped"] = _pruner_spec(source, wrapped, key=f"{key}.wrapped", defaults=defaults)
    else:
        _check_options(source, key, name, cls, kwargs)
        if name == "threshold" and kwargs.get("lower") is None and kwargs.get("upper") is None:
            _fail(source, key, "pruner 'threshold' needs 'lower' and/or 'upper'")
        kwargs = {**(defaults or {}).get(name, {}), **kwargs}
    spec = {"name": name, "kwargs": kwargs}
    try:
        make_pruner(spec)
    except (TypeError, ValueError) as exc:
        _fail(source, key, f"invalid options for {name!r}: {_one_line(exc)}")
    return spec


def make_sampler(sampler, seed: int | None = None, space=None):
    """An Optuna sampler from a spec's ``sampler`` value.

    Parameters
    ----------
    sampler : str or dict
        A name (``"tpe"``) or ``{"name": ..., "kwargs": {...}}`` as in ``StudySpec.sampler``.
    seed : int or None
        The sampler seed (each worker process passes its own).
    space : SearchSpace or GridSpace, optional
        Needed by the ``grid`` sampler: its grid is ``GridSpace.from_space(space).optuna_grid``,
        and the trials must draw from the same :class:`GridSpace` (see :func:`trial_space`).

    Returns
    -------
    optuna.samplers.BaseSampler
    """
    import optuna

    if isinstance(sampler, str):
        sampler = {"name": sampler, "kwargs": {}}
    name, kwargs = sampler["name"], dict(sampler.get("kwargs") or {})
    if name not in SAMPLERS:
        raise ValueError(f"Unknown sampler {name!r}. Valid samplers are {sorted(SAMPLERS)}.")
    cls = getattr(optuna.samplers, SAMPLERS[name])
    if name == "grid":
        if space is None:
            raise ValueError("The 'grid' sampler needs the search space (space=...).")
        return cls(GridSpace.from_space(space).optuna_grid, seed=seed, **kwargs)
    with warnings.catch_warnings():  # the study chose it; Optuna's "experimental" notes are noise
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "nsga2" and isinstance(kwargs.get("crossover"), str):
            from optuna.samplers import nsgaii

            kwargs["crossover"] = getattr(nsgaii, _CROSSOVERS[kwargs["crossover"]])()
        return cls(seed=seed, **kwargs)


def make_pruner(pruner):
    """An Optuna pruner from a spec's ``pruner`` value (a name or ``{"name", "kwargs"}``).

    ``patient`` wraps the pruner given under ``kwargs["wrapped"]`` (None: no pruner).
    """
    import optuna

    if pruner is None or isinstance(pruner, str):
        pruner = {"name": pruner or "none", "kwargs": {}}
    name, kwargs = pruner["name"], dict(pruner.get("kwargs") or {})
    if name not in PRUNERS:
        raise ValueError(f"Unknown pruner {name!r}. Valid pruners are {sorted(PRUNERS)}.")
    cls = getattr(optuna.pruners, PRUNERS[name])
    if name == "patient":
        wrapped = kwargs.pop("wrapped", None)
        inner = None if wrapped is None or wrapped.get("name") == "none" else make_pruner(wrapped)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return cls(inner, **kwargs)
    return cls(**kwargs)


# ---------------------------------------------------------------------------
# Grid spaces (Optuna's GridSampler)


class GridSpace:
    """A search space enumerated from a scikit-learn style ``param_grid``.

    Optuna's ``GridSampler`` needs every trial parameter with its list of values.
    A ``GridSpace`` suggests each estimator parameter as a categorical over its grid
    values (tuples such as layer sizes travel as JSON strings), so the trial
    parameters are the estimator parameters themselves.

    A grid of several sub-grids (conditional parameters, as
    ``SearchSpace.to_param_grid()`` gives them) is searched as the product of the
    union of their values: each point uses the first sub-grid that contains it and
    drops the parameters that sub-grid does not have. Points differing only in such
    dropped (inactive) parameters repeat a configuration. Sub-grids whose union
    contains points no sub-grid holds cannot be searched this way (use the
    sklearn engine).

    Parameters
    ----------
    param_grid : dict or list of dict
        ``{parameter: [values]}`` or a list of them.
    source : str
        Name used in messages.

    Examples
    --------
    >>> import optuna
    >>> grid = GridSpace({"hidden_layer_sizes": [(8,), (16, 16)], "optimizer": ["adam", "sgd"]})
    >>> grid.size, grid.optuna_grid["hidden_layer_sizes"]
    (4, ['[8]', '[16, 16]'])
    >>> trial = optuna.trial.FixedTrial({"hidden_layer_sizes": "[16, 16]", "optimizer": "sgd"})
    >>> grid.suggest(trial)
    {'hidden_layer_sizes': (16, 16), 'optimizer': 'sgd'}
    """

    def __init__(self, param_grid, source: str = "<grid>"):
        self.source = source
        grids = list(param_grid) if isinstance(param_grid, (list, tuple)) else [param_grid]
        if not grids or not all(isinstance(g, Mapping) and g for g in grids):
            raise SpecError(f"{source}: a grid must be a non-empty mapping of parameter lists "
                            f"(or a list of them), got {param_grid!r}")
        self.sub_grids: list[dict[str, list]] = []
        self.optuna_grid: dict[str, list] = {}
        self._decode: dict[str, dict] = {}
        for grid in grids:
            sub = {}
            for name, values in grid.items():
                if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                    raise SpecError(f"{source}: parameter {name!r}: grid values must be a list")
                values = [v.item() if isinstance(v, np.generic) else v for v in values]
                if not values:
                    raise SpecError(f"{source}: parameter {name!r}: empty grid")
                encoded = [self._encode(name, v) for v in values]
                sub[name] = encoded
                choices = self.optuna_grid.setdefault(name, [])
                for e, v in zip(encoded, values):
                    if e not in self._decode.setdefault(name, {}):
                        choices.append(e)
                        self._decode[name][e] = v
            self.sub_grids.append(sub)
        if len(self.sub_grids) > 1:
            self._check_union()

    def _encode(self, name, value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, tuple)):
            try:
                return json.dumps([v.item() if isinstance(v, np.generic) else v for v in value])
            except TypeError:
                pass
        raise SpecError(
            f"{self.source}: parameter {name!r}: grid value {value!r} cannot be a trial "
            "parameter (expected None, a bool, number or string, or a list of them)"
        )

    def _match(self, point: Mapping):
        for sub in self.sub_grids:
            if all(point[name] in values for name, values in sub.items()):
                return sub
        return None

    def _check_union(self):
        import itertools

        names = list(self.optuna_grid)
        if self.size > 100_000:
            raise SpecError(f"{self.source}: the union of the sub-grids has {self.size} points; "
                            "too many for Optuna's grid sampler (use engine: sklearn)")
        for combo in itertools.product(*(self.optuna_grid[n] for n in names)):
            if self._match(dict(zip(names, combo))) is None:
                shown = {n: self._decode[n][v] for n, v in zip(names, combo)}
                raise SpecError(
                    f"{self.source}: the grid's sub-grids (conditional parameters) cannot be "
                    f"searched as one product: {shown} is in none of them; use engine: sklearn "
                    "with search: grid"
                )

    @classmethod
    def from_space(cls, space) -> GridSpace:
        """``space`` itself if a GridSpace, else the grid of ``space.to_param_grid()``."""
        if isinstance(space, GridSpace):
            return space
        to_grid = getattr(space, "to_param_grid", None)
        if to_grid is None:
            raise SpecError(
                f"{getattr(space, 'source', '<space>')}: this search space cannot give a "
                "parameter grid (SearchSpace.to_param_grid is not available)"
            )
        return cls(to_grid(), source=getattr(space, "source", "<grid>"))

    @property
    def names(self) -> list[str]:
        return list(self.optuna_grid)

    @property
    def size(self) -> int:
        """Number of grid points (trials the grid sampler runs)."""
        return math.prod(len(v) for v in self.optuna_grid.values())

    def suggest(self, trial) -> dict[str, Any]:
        """Estimator kwargs of ``trial`` (an ``optuna.Trial`` or ``FixedTrial``)."""
        point = {n: trial.suggest_categorical(n, c) for n, c in self.optuna_grid.items()}
        sub = self._match(point) if len(self.sub_grids) > 1 else self.sub_grids[0]
        if sub is None:  # pragma: no cover - excluded by _check_union
            raise ValueError(f"{self.source}: trial parameters {point} are in no sub-grid")
        return {n: self._decode[n][point[n]] for n in self.optuna_grid if n in sub}


def trial_space(spec: StudySpec):
    """The space trials draw from: ``spec.space``, or its :class:`GridSpace` for the grid sampler.

    Rebuild a finished trial's estimator kwargs with
    ``trial_space(spec).suggest(optuna.trial.FixedTrial(trial.params))``.
    """
    if spec.sampler is not None and spec.sampler["name"] == "grid":
        return GridSpace.from_space(spec.space)
    return spec.space


# ---------------------------------------------------------------------------
# Space and model


def _resolve_space(source, value, base_dir: Path | None) -> SearchSpace:
    if isinstance(value, Mapping):
        return compile_space(value, source=f"{source}: space", base_dir=base_dir)
    if not isinstance(value, (str, Path)):
        _fail(source, "space", f"must be a file name or a mapping, got {value!r}")
    path = Path(value).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        repo_spaces = Path(__file__).resolve().parents[2] / "search_spaces"
        bases = [base_dir, base_dir.parent / "search_spaces"] if base_dir else []
        bases += [Path.cwd(), Path.cwd() / "search_spaces", repo_spaces]
        candidates = list(dict.fromkeys(b / path for b in bases))
    for candidate in candidates:
        if candidate.is_file():
            return load_space(candidate)
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"{source}: key 'space': search space file {str(value)!r} not found (looked in: {tried})"
    )


def _builder(model: str, base_dir=None):
    from automl.wrappers._builders import BUILDERS

    return BUILDERS[model] if model in BUILDERS else import_object(model, base_dir)


def _check_model(source, value, base_dir=None):
    from automl.wrappers._builders import BUILDERS

    if not isinstance(value, str):
        _fail(source, "model", f"must be one of {sorted(BUILDERS)} or 'package.module:function'"
                               f", got {value!r}")
    if value in BUILDERS:
        return value
    if not _is_import_path(value):
        _fail(
            source,
            "model",
            f"unknown model {value!r}; expected one of {sorted(BUILDERS)} or "
            "'package.module:function' (a model builder)",
        )
    _import_callable(source, "model", value, "model builder function", base_dir)
    return value


def _estimator_params(task: str, model: str = "mlp", base_dir=None):
    """(estimator class name, valid space names, builder name, builder takes **kwargs)."""
    from ._objective import estimator_class

    cls = estimator_class(task)
    sig = inspect.signature(cls.__init__)
    names = {
        n
        for n, p in sig.parameters.items()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        and n not in ("self", "model", "build_fn")
    }
    fn = _builder(model, base_dir)
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        params = {}
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    builder_args = {
        n
        for n, p in params.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in _BUILDER_DATA_ARGS
    }
    return cls.__name__, (names | builder_args) - set(RESERVED_PARAMS), fn.__name__, var_kw


def _check_space_names(space: SearchSpace, task: str, model: str = "mlp", base_dir=None) -> None:
    models = [model]
    if "model" in space.names:  # the space picks the builder (e.g. cnn.yaml's `model: cnn`)
        models = space.values_of("model")
        if not models or not all(isinstance(m, str) for m in models):
            raise SpecError(
                f"{space.source}: parameter 'model': must be fixed or categorical with model "
                f"builder names ('mlp', 'cnn' or 'package.module:function'), got {models!r}"
            )
    checks = [_estimator_params(task, m, base_dir) for m in models]
    owner = checks[0][0]
    valid = set().union(*(c[1] for c in checks)) | ({"model"} if "model" in space.names else set())
    builder = " / ".join(c[2] for c in checks)
    var_kw = any(c[3] for c in checks)
    for name in space.names:
        if name in RESERVED_PARAMS:
            raise SpecError(
                f"{space.source}: parameter {name!r}: is set by the study, not the search space"
            )
        prefix, sep, rest = name.partition("__")
        if sep and rest:
            if prefix in ROUTE_PREFIXES or prefix in valid:
                continue
            prefixes = sorted({*ROUTE_PREFIXES, *valid})
            raise SpecError(
                f"{space.source}: parameter {name!r}: unknown routing prefix {prefix + '__'!r}; "
                f"valid prefixes are {[p + '__' for p in prefixes]}"
            )
        if name not in valid and not var_kw:
            hint = difflib.get_close_matches(name, valid, n=1)
            hint = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise SpecError(
                f"{space.source}: parameter {name!r}: not a parameter of {owner} "
                f"or of its model builder {builder}{hint}; valid parameters are {sorted(valid)}"
            )


# ---------------------------------------------------------------------------
# Loading


def _read_yaml(path: Path) -> tuple[dict, str]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: study file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {_one_line(exc)}") from None
    if not isinstance(raw, Mapping):
        raise SpecError(f"{path}: a study file must be a mapping of keys, got {type(raw).__name__}")
    return dict(raw), str(path)


def _alias(source, values, raw, old, new):
    """The value of ``new``, also given as ``old``; both given and different → error."""
    if raw.get(old) is not None and raw.get(new) is not None and raw[old] != raw[new]:
        _fail(
            source,
            old,
            f"{old!r} is another name for {new!r}; give one of them (got {old}={raw[old]!r}, "
            f"{new}={raw[new]!r})",
        )
    return values[new] if values[new] is not None else values[old]


def _check_validation(source, value, key):
    if value is None:
        value = _DEFAULT_VALIDATION
    if isinstance(value, Mapping):
        _mapping(source, key, value, {"kfold", "holdout"})
        if len(value) != 1:
            _fail(source, key,
                  f"give either {{kfold: k}} or {{holdout: fraction}}, got {dict(value)!r}")
        if "kfold" in value:
            k = _check_int(source, f"{key}.kfold", value["kfold"], 2)
            return {"kind": "kfold", "n_splits": k}
        value = value["holdout"]
    if not (_is_real(value) and 0 < value < 1):
        _fail(
            source,
            key,
            f"must be a holdout fraction strictly between 0 and 1 or {{kfold: k}}, got {value!r}",
        )
    return {"kind": "holdout", "size": float(value)}


def _check_early_stopping(source, value):
    if value is None or value is False:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = {"patience": value}
    if not isinstance(value, Mapping):
        _fail(source, "early_stopping", f"must be null, a patience (int) or {{patience: n}}, "
                                        f"got {value!r}")
    _mapping(source, "early_stopping", value, {"patience", "min_delta", "start_from_epoch"},
             ["patience"])
    min_delta = value.get("min_delta", 0.0)
    if not (_is_real(min_delta) and min_delta >= 0):
        _fail(source, "early_stopping.min_delta", f"must be a number >= 0, got {min_delta!r}")
    return {
        "patience": _check_int(source, "early_stopping.patience", value["patience"], 0),
        "min_delta": float(min_delta),
        "start_from_epoch": _check_int(
            source, "early_stopping.start_from_epoch", value.get("start_from_epoch", 0), 0
        ),
    }


def _check_storage(source, value):
    if value is None:
        return None
    if not isinstance(value, (str, Path)) or not str(value):
        _fail(source, "storage", f"must be null, an Optuna storage URL or a journal file path, "
                                 f"got {value!r}")
    if isinstance(value, str) and "://" in value:
        scheme = value.split("://", 1)[0].split("+", 1)[0].lower()
        package = "redis" if scheme == "redis" else "sqlalchemy"
        if importlib.util.find_spec(package) is None:
            _fail(source, "storage", f"the storage {value!r} needs the package {package}, which "
                                     f"is not installed; install it with `pip install {package}`")
        return value
    return (Path.cwd() / Path(value).expanduser()).resolve()


def _check_timeout(source, timeout):
    if timeout is not None and not (_is_real(timeout) and timeout > 0 and math.isfinite(timeout)):
        _fail(source, "timeout", f"must be a positive number of seconds or null, got {timeout!r}")
    return None if timeout is None else float(timeout)


def _resolve_task(source, values, dataset, base_dir, cache):
    """The task: the study's ``task``, else the dataset's (built-in, mapping ``task``,
    or what the loaded data says), else :func:`infer_task` of the loaded targets."""
    from automl import datasets

    task = values["task"]
    _check_choice(source, "task", task, ["auto", "classification", "regression"])
    if isinstance(dataset, str) and dataset in _builtin_datasets():
        native = datasets.task(dataset)
    elif isinstance(dataset, Mapping) and dataset.get("task") is not None:
        native = dataset["task"]
    else:
        native = None
    if native is not None:
        if task not in ("auto", native):
            _fail(source, "task", f"dataset {_dataset_name(dataset)!r} is a {native} dataset, "
                                  f"got task {task!r}")
        return native
    if task != "auto":
        return task
    try:
        data = load_study_dataset(dataset, base_dir, source=source)
    except (FileNotFoundError, SpecError):
        raise
    except Exception as exc:  # noqa: BLE001 - any loader problem, reported with the key
        _fail(source, "dataset", f"could not load {dataset!r} to infer the task "
                                 f"({type(exc).__name__}: {_one_line(exc)}); set 'task' explicitly")
    cache.append(data)
    loaded_task, y = _loaded_target(data)
    return loaded_task or infer_task(y)


def load_spec(spec: str | Path | Mapping | StudySpec, **overrides) -> StudySpec:
    """Load and validate a study.

    Parameters
    ----------
    spec : str, Path, mapping or StudySpec
        A study YAML file, an already-parsed mapping, or a spec to re-validate
        with ``overrides``.
    **overrides
        Top-level keys replacing the file's values (``n_trials=5``, ``output="runs/x"``).
        ``None`` values are ignored, so unset command-line options can be passed through.
        Overriding one of two alias keys (``scale``/``preprocessing``,
        ``validation_size``/``validation``) replaces the other.

    Returns
    -------
    StudySpec

    Raises
    ------
    FileNotFoundError
        The study, its space file or a data file does not exist.
    SpecError
        Malformed YAML, an unknown or invalid key, an unknown dataset, an
        invalid space, a space parameter the estimator does not have, a sampler
        that needs a package that is not installed, ...

    Examples
    --------
    >>> spec = load_spec({"dataset": "iris", "space": {"parameters": {"batch_size": 16}}},
    ...                  validation={"kfold": 3}, metric="f1_macro")
    >>> spec.task, spec.validation, spec.direction, spec.monitor
    ('classification', {'kind': 'kfold', 'n_splits': 3}, 'maximize', 'val_loss')
    """
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
            hint = difflib.get_close_matches(str(key), list(_DEFAULTS), n=1)
            hint = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise SpecError(f"unknown override {key!r}{hint}; valid keys are {sorted(_DEFAULTS)}")
        if value is not None:
            raw[key] = value
            for a, b in _ALIASES.items():
                if key in (a, b):
                    raw.pop(b if key == a else a, None)

    unknown = sorted(set(raw) - set(_DEFAULTS), key=str)
    if unknown:
        key = unknown[0]
        hint = difflib.get_close_matches(str(key), list(_DEFAULTS), n=1)
        hint = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise SpecError(f"{source}: unknown key {key!r}{hint}; valid keys are {sorted(_DEFAULTS)}")
    for key in _REQUIRED:
        if raw.get(key) is None:
            raise SpecError(f"{source}: missing required key {key!r}")
    values = {**_DEFAULTS, **raw}

    dataset = _check_dataset(source, values["dataset"], base_dir)
    loaded: list = []
    task = _resolve_task(source, values, dataset, base_dir, loaded)

    name = values["name"]
    if name is None:
        name = Path(source).stem if base_dir is not None and Path(source).is_file() else \
            _dataset_name(dataset)
    if not isinstance(name, str) or not name or "/" in name:
        _fail(source, "name", f"must be a non-empty string without '/', got {name!r}")

    # --- data handling
    preprocessing = _alias(source, values, raw, "scale", "preprocessing")
    if preprocessing is None:
        scale_of = getattr(_datasets_module(), "dataset_scale", None)
        builtin = isinstance(dataset, str) and dataset in _builtin_datasets()
        preprocessing = scale_of(dataset) if builtin and scale_of else "standard"
    key = "scale" if raw.get("scale") is not None else "preprocessing"
    _check_choice(source, key, preprocessing, PREPROCESSING)
    validation = _check_validation(
        source,
        _alias(source, values, raw, "validation_size", "validation"),
        "validation_size" if raw.get("validation_size") is not None else "validation",
    )
    model = _check_model(source, values["model"], base_dir)

    # --- objective(s)
    metric = _check_metric(source, values["metric"], task)
    direction = values["direction"] or "maximize"
    _check_choice(source, "direction", direction, ["maximize", "minimize"])
    monitor = values["monitor"] or _default_monitor(metric, task)
    if not isinstance(monitor, str) or not monitor:
        _fail(source, "monitor", f"must be an epoch-log key such as 'val_loss', got {monitor!r}")
    second = values["second_objective"]
    if second is not None:
        _check_choice(source, "second_objective", second, SECOND_OBJECTIVES)
    multi = second is not None

    # --- budget
    epochs = _check_int(source, "epochs", values["epochs"], 1)
    n_trials = _check_int(source, "n_trials", values["n_trials"], 1)
    seed = values["seed"]
    if seed is not None:
        seed = _check_int(source, "seed", seed, 0)

    # --- engine
    engine = _check_choice(source, "engine", values["engine"], ["optuna", "sklearn"])
    if engine == "optuna":
        given = [k for k in _SKLEARN_ONLY if raw.get(k) is not None]
        if given:
            _fail(source, given[0], "is a setting of engine 'sklearn'; this study uses engine "
                                    "'optuna' (set engine: sklearn, or remove it)")
    else:
        given = [k for k in _OPTUNA_ONLY if raw.get(k) not in (None, False)]
        if given:
            _fail(source, given[0], f"is a setting of engine 'optuna'; engine 'sklearn' runs "
                                    f"a scikit-learn search (remove {given[0]!r})")

    space = _resolve_space(source, values["space"], base_dir)
    _check_space_names(space, task, model, base_dir)

    sampler = pruner = None
    search = n_iter = factor = min_resources = resource = None
    if engine == "optuna":
        if multi and values["pruner"] not in (None, "none") and not (
            isinstance(values["pruner"], Mapping) and values["pruner"].get("name") == "none"
        ):
            _fail(
                source,
                "pruner",
                "must be 'none' with a 'second_objective': Optuna cannot prune multi-objective "
                f"trials, got {values['pruner']!r}",
            )
        sampler = _sampler_spec(source, values["sampler"], multi_objective=multi, space=space)
        n_folds = validation.get("n_splits", 1)
        defaults = {"hyperband": {"max_resource": epochs * n_folds}}
        # absent: median (none for two objectives); an explicit null: none
        pruner_value = values["pruner"] if "pruner" in raw else ("none" if multi else "median")
        pruner = _pruner_spec(source, pruner_value, defaults=defaults)
    else:
        search = _check_choice(source, "search", values["search"] or "grid", SEARCHES)
        halving = search.startswith("halving")
        if not halving:
            for k in ("factor", "min_resources", "resource"):
                if raw.get(k) is not None:
                    _fail(source, k, f"is a setting of the halving searches; search is {search!r}")
        if search == "grid" and raw.get("n_iter") is not None:
            _fail(source, "n_iter", "is a setting of the random searches; search is 'grid'")
        if search in ("random", "halving_random"):
            n_iter = _check_int(source, "n_iter", values["n_iter"] or n_trials, 1)
        if halving:
            factor = values["factor"] if values["factor"] is not None else 3
            if not (_is_real(factor) and factor > 1):
                _fail(source, "factor", f"must be a number > 1, got {factor!r}")
            resource = _check_choice(source, "resource", values["resource"] or "n_samples",
                                     RESOURCES)
            default_min = "exhaust" if search == "halving_grid" else "smallest"
            min_resources = values["min_resources"] if values["min_resources"] is not None \
                else default_min
            if isinstance(min_resources, str):
                _check_choice(source, "min_resources", min_resources, ["exhaust", "smallest"])
            else:
                min_resources = _check_int(source, "min_resources", min_resources, 1)
                if resource == "epochs" and min_resources > epochs:
                    _fail(source, "min_resources", f"must not exceed 'epochs' ({epochs}) when "
                                                   f"resource is 'epochs', got {min_resources!r}")
        to_grid = "to_param_grid" if search.endswith("grid") else "to_param_distributions"
        if hasattr(space, to_grid):  # surface space problems now, not in the search
            getattr(space, to_grid)()

    output = values["output"] if values["output"] is not None else f"runs/{name}"
    if not isinstance(output, (str, Path)):
        _fail(source, "output", f"must be a directory path, got {output!r}")
    study_name = values["study_name"] if values["study_name"] is not None else name
    if not isinstance(study_name, str) or not study_name:
        _fail(source, "study_name", f"must be a non-empty string, got {study_name!r}")

    return StudySpec(
        name=name,
        dataset=dataset,
        task=task,
        space=space,
        test_size=_check_fraction(source, "test_size", values["test_size"]),
        validation_size=validation.get("size"),
        split_seed=_check_int(source, "split_seed", values["split_seed"], 0),
        scale=preprocessing,
        engine=engine,
        sampler=sampler,
        pruner=pruner,
        n_trials=n_trials,
        timeout=_check_timeout(source, values["timeout"]),
        n_jobs=_check_int(source, "n_jobs", values["n_jobs"], 1, allow=(-1,)),
        seed=seed,
        metric=metric,
        epochs=epochs,
        output=(Path.cwd() / Path(output).expanduser()).resolve(),
        source=source,
        description=str(values["description"] or ""),
        raw=raw,
        preprocessing=preprocessing,
        model=model,
        validation=validation,
        direction=direction,
        directions=[direction, "minimize"] if multi else [direction],
        objectives=[metric, second] if multi else [metric],
        second_objective=second,
        monitor=monitor,
        monitor_sign=monitor_sign(monitor),
        search=search,
        n_iter=n_iter,
        factor=None if factor is None else float(factor),
        min_resources=min_resources,
        resource=resource,
        early_stopping=_check_early_stopping(source, values["early_stopping"]),
        storage=_check_storage(source, values["storage"]),
        study_name=study_name,
        deterministic=_check_bool(source, "deterministic", values["deterministic"]),
        refit=_check_bool(source, "refit", values["refit"]),
        base_dir=base_dir,
        _data=loaded[0] if loaded else None,
    )
