"""A study's keys by group, each validated into :class:`StudySpec` fields.

Data (preprocessing, validation, test split, model), objectives (metric,
direction, monitor, second objective), budget, and the engine's settings
(Optuna's sampler and pruner, or the scikit-learn search); and the checks of
the single keys ``validation``, ``early_stopping``, ``storage``, ``cluster`` and
``timeout``.
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import re
from collections.abc import Mapping
from pathlib import Path

from ._checks import (
    check_bool,
    check_choice,
    check_int,
    check_mapping,
    fail,
    is_real,
)
from ._database import StorageError, check_database_url
from ._dataset_spec import default_preprocessing
from ._metrics import SECOND_OBJECTIVES, check_metric, default_monitor, monitor_sign
from ._samplers import pruner_entry, sampler_entry
from ._shipped import shipped_dir
from ._space import SearchSpace, compile_space, load_space

__all__ = [
    "budget_keys",
    "check_cluster",
    "check_early_stopping",
    "check_storage",
    "check_timeout",
    "data_keys",
    "engine_keys",
    "failure_keys",
    "objective_keys",
    "resolve_space",
]

SEARCHES = ("grid", "random", "halving_grid", "halving_random")
RESOURCES = ("n_samples", "epochs")
PREPROCESSING = ("auto", "standard", "minmax", "none")
_DEFAULT_VALIDATION = 0.2
_SKLEARN_ONLY = ("search", "n_iter", "factor", "min_resources", "resource")
_OPTUNA_ONLY = ("sampler", "pruner", "second_objective", "deterministic")
_CLUSTER = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


def data_keys(source, values, raw, dataset, base_dir) -> dict:
    """Preprocessing, validation, test split and model."""
    preprocessing = _alias(source, values, raw, "scale", "preprocessing")
    if preprocessing is None:
        preprocessing = default_preprocessing(dataset)
    key = "scale" if raw.get("scale") is not None else "preprocessing"
    check_choice(source, key, preprocessing, PREPROCESSING)
    validation = _check_validation(
        source,
        _alias(source, values, raw, "validation_size", "validation"),
        "validation_size" if raw.get("validation_size") is not None else "validation",
    )
    return {
        "preprocessing": preprocessing,
        "scale": preprocessing,
        "validation": validation,
        "validation_size": validation.get("size"),
        "test_size": _check_test_size(source, values["test_size"]),
        "split_seed": check_int(source, "split_seed", values["split_seed"], 0),
        "model": values["model"],  # checked against the builders by the plan's load_spec
    }


def objective_keys(source, values, task) -> dict:
    """Metric, direction(s), monitor and the second objective."""
    metric = check_metric(source, values["metric"], task)
    direction = values["direction"] or "maximize"
    check_choice(source, "direction", direction, ["maximize", "minimize"])
    monitor = values["monitor"] or default_monitor(metric, task)
    if not isinstance(monitor, str) or not monitor:
        fail(source, "monitor", f"must be an epoch-log key such as 'val_loss', got {monitor!r}")
    second = values["second_objective"]
    if second is not None:
        check_choice(source, "second_objective", second, SECOND_OBJECTIVES)
    multi = second is not None
    return {
        "metric": metric,
        "direction": direction,
        "directions": [direction, "minimize"] if multi else [direction],
        "objectives": [metric, second] if multi else [metric],
        "second_objective": second,
        "monitor": monitor,
        "monitor_sign": monitor_sign(monitor),
    }


def budget_keys(source, values) -> dict:
    seed = values["seed"]
    return {
        "epochs": check_int(source, "epochs", values["epochs"], 1),
        "n_trials": check_int(source, "n_trials", values["n_trials"], 1),
        "seed": None if seed is None else check_int(source, "seed", seed, 0),
    }


def failure_keys(source, values) -> dict:
    """``max_retries`` (runs of a configuration whose process died) and
    ``max_consecutive_failures`` (failed trials in a row that stop the study)."""
    return {
        "max_retries": check_int(source, "max_retries", values["max_retries"], 0),
        "max_consecutive_failures": check_int(
            source, "max_consecutive_failures", values["max_consecutive_failures"], 1
        ),
    }


def engine_keys(source, values, raw, *, space, validation, multi, epochs, n_trials, seed) -> dict:
    """The engine and its settings: sampler and pruner (optuna), or the sklearn search."""
    engine = check_choice(source, "engine", values["engine"], ["optuna", "sklearn"])
    keys = dict(engine=engine, sampler=None, pruner=None, search=None, n_iter=None, factor=None,
                min_resources=None, resource=None, deterministic=False)
    if engine == "optuna":
        given = [k for k in _SKLEARN_ONLY if raw.get(k) is not None]
        if given:
            fail(source, given[0], "is a setting of engine 'sklearn'; this study uses engine "
                                   "'optuna' (set engine: sklearn, or remove it)")
        pruner = values["pruner"]
        if multi and pruner not in (None, "none") and not (
            isinstance(pruner, Mapping) and pruner.get("name") == "none"
        ):
            fail(source, "pruner", "must be 'none' with a 'second_objective': Optuna cannot "
                                   f"prune multi-objective trials, got {pruner!r}")
        keys["sampler"] = sampler_entry(source, values["sampler"], multi_objective=multi,
                                        space=space)
        defaults = {"hyperband": {"max_resource": epochs * validation.get("n_splits", 1)}}
        # absent: median (none for two objectives); an explicit null: none
        pruner = pruner if "pruner" in raw else ("none" if multi else "median")
        keys["pruner"] = pruner_entry(source, pruner, defaults=defaults)
        keys["deterministic"] = check_bool(source, "deterministic", values["deterministic"])
        return keys
    given = [k for k in _OPTUNA_ONLY if raw.get(k) not in (None, False)]
    if given:
        fail(source, given[0], f"is a setting of engine 'optuna'; engine 'sklearn' runs "
                               f"a scikit-learn search (remove {given[0]!r})")
    check_bool(source, "deterministic", values["deterministic"])
    search = check_choice(source, "search", values["search"] or "grid", SEARCHES)
    keys["search"] = search
    halving = search.startswith("halving")
    if not halving:
        for k in ("factor", "min_resources", "resource"):
            if raw.get(k) is not None:
                fail(source, k, f"is a setting of the halving searches; search is {search!r}")
    if search == "grid" and raw.get("n_iter") is not None:
        fail(source, "n_iter", "is a setting of the random searches; search is 'grid'")
    if search in ("random", "halving_random"):
        keys["n_iter"] = check_int(source, "n_iter", values["n_iter"] or n_trials, 1)
    if halving:
        keys.update(_halving_keys(source, values, search, epochs))
    if search.endswith("grid"):  # surface space problems now, not in the search
        space.to_param_grid()
    else:
        space.to_param_distributions()
    return keys


def _halving_keys(source, values, search, epochs) -> dict:
    factor = values["factor"] if values["factor"] is not None else 3
    if not (is_real(factor) and factor > 1):
        fail(source, "factor", f"must be a number > 1, got {factor!r}")
    resource = check_choice(source, "resource", values["resource"] or "n_samples", RESOURCES)
    min_resources = values["min_resources"]
    if min_resources is None:
        min_resources = "exhaust" if search == "halving_grid" else "smallest"
    if isinstance(min_resources, str):
        check_choice(source, "min_resources", min_resources, ["exhaust", "smallest"])
    else:
        min_resources = check_int(source, "min_resources", min_resources, 1)
        if resource == "epochs" and min_resources > epochs:
            fail(source, "min_resources", f"must not exceed 'epochs' ({epochs}) when "
                                          f"resource is 'epochs', got {min_resources!r}")
    return {"factor": float(factor), "resource": resource, "min_resources": min_resources}



def _alias(source, values, raw, old, new):
    """The value of ``new``, also given as ``old``; both given and different → error."""
    if raw.get(old) is not None and raw.get(new) is not None and raw[old] != raw[new]:
        fail(
            source,
            old,
            f"{old!r} is another name for {new!r}; give one of them (got {old}={raw[old]!r}, "
            f"{new}={raw[new]!r})",
        )
    return values[new] if values[new] is not None else values[old]


def _check_test_size(source, value):
    """A fraction in (0, 1), or 0: no test split (the refit model is not scored)."""
    if is_real(value) and value == 0 and not isinstance(value, bool):
        return 0.0
    if not (is_real(value) and 0 < value < 1):
        fail(source, "test_size", f"must be a number strictly between 0 and 1 (or 0: no test "
                                  f"split), got {value!r}")
    return float(value)


def _check_validation(source, value, key):
    if value is None:
        value = _DEFAULT_VALIDATION
    if isinstance(value, Mapping):
        check_mapping(source, key, value, {"kfold", "holdout"})
        if len(value) != 1:
            fail(source, key,
                  f"give either {{kfold: k}} or {{holdout: fraction}}, got {dict(value)!r}")
        if "kfold" in value:
            k = check_int(source, f"{key}.kfold", value["kfold"], 2)
            return {"kind": "kfold", "n_splits": k}
        value = value["holdout"]
    if not (is_real(value) and 0 < value < 1):
        fail(
            source,
            key,
            f"must be a holdout fraction strictly between 0 and 1 or {{kfold: k}}, got {value!r}",
        )
    return {"kind": "holdout", "size": float(value)}


def check_early_stopping(source, value):
    if value is None or value is False:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = {"patience": value}
    if not isinstance(value, Mapping):
        fail(source, "early_stopping", f"must be null, a patience (int) or {{patience: n}}, "
                                        f"got {value!r}")
    check_mapping(source, "early_stopping", value, {"patience", "min_delta", "start_from_epoch"},
             ["patience"])
    min_delta = value.get("min_delta", 0.0)
    if not (is_real(min_delta) and min_delta >= 0):
        fail(source, "early_stopping.min_delta", f"must be a number >= 0, got {min_delta!r}")
    return {
        "patience": check_int(source, "early_stopping.patience", value["patience"], 0),
        "min_delta": float(min_delta),
        "start_from_epoch": check_int(
            source, "early_stopping.start_from_epoch", value.get("start_from_epoch", 0), 0
        ),
    }


def check_storage(source, value):
    if value is None:
        return None
    if not isinstance(value, (str, Path)) or not str(value):
        fail(source, "storage", f"must be null, an Optuna storage URL or a journal file path, "
                                 f"got {value!r}")
    if isinstance(value, str) and "://" in value:
        try:
            check_database_url(value)
        except StorageError as exc:
            fail(source, "storage", str(exc))
        return value
    path = (Path.cwd() / Path(value).expanduser()).resolve()
    if path.is_dir():
        fail(source, "storage", f"{str(value)!r} is a directory; expected a journal file path "
                                f"(such as {str(Path(value) / 'study.journal')!r}) or a URL")
    return path


def check_cluster(source, value):
    """The ``cluster`` key: None, or a Dask scheduler address ``tcp://HOST:PORT``."""
    if value is None:
        return None
    match = _CLUSTER.match(value) if isinstance(value, str) else None
    if match is None or not 0 < int(match.group(3)) < 65536:
        fail(source, "cluster", f"must be a Dask scheduler address 'tcp://HOST:PORT' (or "
                                 f"'tls://HOST:PORT') or null, got {value!r}")
    if importlib.util.find_spec("distributed") is None:
        fail(source, "cluster", f"running trials on the Dask cluster {value!r} needs "
                                 "dask.distributed, which is not installed; install it with "
                                 "`pip install \"automl[dask]\"`")
    return value


def check_timeout(source, timeout):
    if timeout is not None and not (is_real(timeout) and timeout > 0 and math.isfinite(timeout)):
        fail(source, "timeout", f"must be a positive number of seconds or null, got {timeout!r}")
    return None if timeout is None else float(timeout)


def resolve_space(source, value, base_dir: Path | None) -> SearchSpace:
    if isinstance(value, Mapping):
        return compile_space(value, source=f"{source}: space", base_dir=base_dir)
    if not isinstance(value, (str, Path)):
        fail(source, "space", f"must be a file name or a mapping, got {value!r}")
    path = Path(value).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        bases = [base_dir, base_dir.parent / "search_spaces"] if base_dir else []
        bases += [Path.cwd(), Path.cwd() / "search_spaces", shipped_dir("search_spaces")]
        candidates = list(dict.fromkeys(b / path for b in bases))
    for candidate in candidates:
        if candidate.is_file():
            return load_space(candidate)
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"{source}: key 'space': search space file {str(value)!r} not found (looked in: {tried})"
    )
