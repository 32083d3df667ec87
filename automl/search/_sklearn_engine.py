"""The scikit-learn engine: a study run as GridSearchCV, RandomizedSearchCV or a halving search.

:func:`run_sklearn_search` builds the search over the study's estimator, fits it
in ``n_jobs`` worker processes and records every candidate as one trial of an
Optuna study, with the same user attributes as the Optuna engine (see the
study data contract), so that the same tables and reports come from both.

How the per-epoch logs come back from the workers
-------------------------------------------------
The searched estimator is a :class:`Pipeline` (``[scale,] model``) whose ``fit``
also takes two fit parameters the search passes through: ``automl_rows``, an
``arange(n)`` that scikit-learn indexes like ``sample_weight`` (so each fit
receives the row numbers of its training fold, also under halving's
subsampling), and ``automl_record``, a :class:`_HistorySink` holding the fold
layout and the output directory. Each fit then

* finds its fold from the rows (the fold whose validation rows it lacks),
* trains with ``validation_data`` = that fold's validation rows, passed through
  the pipeline's fitted preprocessing (observation only: the validation data
  never steers training; when a callback monitors a ``val_`` quantity the
  estimator's own inner split is used instead, so the scored fold stays unseen),
* writes its epoch logs, timing, parameter count and any error to
  ``<histories>/<candidate>_f<fold>_n<n_train>.json`` (written to a temporary
  name, then renamed: identical fits write identical files, others never share
  a name, so parallel workers never clobber each other).

``<candidate>`` hashes the values of the searched parameters as the fitted
estimator sees them; the parent recomputes the same hash for each row of
``cv_results_`` and reads the files back.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import FitFailedWarning
from sklearn.pipeline import Pipeline

from ._estimators import EstimatorFactory
from ._objective import trial_params
from ._pruning import EpochLog
from ._run_directory import write_atomic

__all__ = ["SEARCHES", "run_sklearn_search", "trial_estimator_params"]

#: ``search:`` names of the scikit-learn engine.
SEARCHES = ("grid", "random", "halving_grid", "halving_random")

#: Name of the model step in the searched pipeline (grid names get ``model__``).
MODEL_STEP = "model"
_PREFIX = f"{MODEL_STEP}__"
HISTORIES_DIR = ".histories"


# ---------------------------------------------------------------------------
# Worker side: the searched pipeline and the sink of per-fit records


@dataclass(frozen=True, eq=False)
class _HistorySink:
    """What a fit in a worker needs to find its fold, validate per epoch and record itself.

    It has no ``__len__``, so scikit-learn passes it to every fit unchanged.
    """

    directory: str
    keys: tuple  # searched parameter names of the pipeline, hashed into the file name
    test_fold: np.ndarray  # validation fold of each row of the searched data
    n_splits: int
    X: Any
    y: Any
    classification: bool

    def fold_of(self, rows: np.ndarray) -> int:
        # A fit's training rows miss exactly the validation rows of its fold (a halving
        # subsample may, with negligible probability, also miss all of another fold's
        # rows: the smallest candidate is taken then).
        present = np.zeros(self.n_splits + 1, dtype=bool)
        present[self.test_fold[rows] + 1] = True
        missing = np.flatnonzero(~present[1:])
        return int(missing[0]) if missing.size else 0

    def fit(self, pipeline: Pipeline, X, y, rows) -> None:
        rows = np.asarray(rows)
        fold = self.fold_of(rows)
        key = _candidate_key(pipeline.get_params(deep=True), self.keys)
        model = pipeline.steps[-1][1]
        recorder = EpochLog()
        record: dict[str, Any] = {
            "fold": fold,
            "n_train": len(rows),
            "pid": os.getpid(),
            "start": time.time(),
        }
        try:
            Xt, fit_kwargs = X, {}
            val_rows = np.flatnonzero(self.test_fold == fold)
            observe = not (
                float(getattr(model, "validation_split", 0.0) or 0.0) > 0.0
                or _monitors_validation(getattr(model, "callbacks", None))
            )
            if observe and val_rows.size:
                yv = _take(self.y, val_rows)
                if self.classification and np.ndim(y) == 1 and np.ndim(yv) == 1:
                    # classes this training fold lacks cannot be evaluated by its model
                    keep = np.isin(np.asarray(yv), np.unique(np.asarray(y)))
                    val_rows, yv = val_rows[keep], _take(yv, np.flatnonzero(keep))
            Xv = _take(self.X, val_rows) if observe and val_rows.size else None
            for _, step in pipeline.steps[:-1]:
                if step is None or step == "passthrough":
                    continue
                Xt = step.fit_transform(Xt, y)
                if Xv is not None:
                    Xv = step.transform(Xv)
            if Xv is not None:
                fit_kwargs["validation_data"] = (Xv, yv)
            model.fit(Xt, y, callbacks=[recorder], **fit_kwargs)
        except BaseException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            record["end"] = time.time()
            history = getattr(model, "history_", None)
            record["history"] = _jsonable(history if history else recorder.epoch_logs)
            fitted = getattr(model, "model_", None)
            record["n_params"] = int(fitted.count_params()) if fitted is not None else None
            name = f"{key}_f{fold}_n{len(rows)}.json"
            write_atomic(Path(self.directory) / name, json.dumps(record))


class _RecordingPipeline(Pipeline):
    """A Pipeline whose ``fit`` records each fit through a :class:`_HistorySink`.

    Without the ``automl_record`` fit parameter it is a plain Pipeline.
    """

    def fit(self, X, y=None, *, automl_rows=None, automl_record=None, **params):
        if automl_record is None:
            return super().fit(X, y, **params)
        if params:
            raise TypeError(
                f"{type(self).__name__}.fit takes no other fit parameters while recording; "
                f"got {sorted(params)}"
            )
        automl_record.fit(self, X, y, automl_rows)
        return self


def _monitors_validation(callbacks) -> bool:
    for cb in callbacks or ():
        monitor = getattr(cb, "monitor", None)
        if isinstance(monitor, str) and monitor.startswith("val_"):
            return True
    return False


def _take(a, rows):
    if hasattr(a, "iloc"):
        return a.iloc[rows]
    return a[rows]


def _candidate_key(params: Mapping, keys) -> str:
    """Hash of the searched parameters' values (the same in the workers and here)."""
    import joblib

    return joblib.hash({k: params.get(k) for k in keys})[:20]


# ---------------------------------------------------------------------------
# Settings from the study spec


@dataclass(frozen=True)
class _Settings:
    search: str
    task: str
    metric: str
    epochs: int
    validation: dict
    n_iter: int
    factor: float
    min_resources: Any
    resource: str
    max_resources: Any
    split_seed: int
    output: Path
    monitor: str
    monitor_sign: float
    early_stopping: bool


def _settings(spec) -> _Settings:
    """The study fields this engine reads (defaults for the optional sklearn settings)."""

    def get(name, default=None):
        value = getattr(spec, name, None)
        return default if value is None else value

    search = get("search", "grid")
    if search not in SEARCHES:
        raise ValueError(
            f"The 'search' parameter of run_sklearn_search must be one of {list(SEARCHES)}. "
            f"Got {search!r} instead."
        )
    validation = dict(spec.validation)
    if validation.get("kind") not in ("holdout", "kfold"):
        raise ValueError(
            "The 'validation' parameter of run_sklearn_search must be {'kind': 'holdout', "
            "'size': f} or {'kind': 'kfold', 'n_splits': k}. "
            f"Got {validation!r} instead."
        )
    epochs = int(spec.epochs)
    resource = get("resource", "n_samples")
    monitor = spec.monitor
    return _Settings(
        search=search,
        task=spec.task,
        metric=spec.metric,
        epochs=epochs,
        validation=validation,
        n_iter=int(get("n_iter", spec.n_trials)),
        factor=get("factor", 3),
        min_resources=get("min_resources", "exhaust"),
        resource=resource,
        max_resources=get("max_resources", epochs if resource == "epochs" else "auto"),
        split_seed=int(spec.split_seed),
        output=Path(spec.output),
        monitor=monitor,
        monitor_sign=float(get("monitor_sign", 1.0 if monitor == "val_accuracy" else -1.0)),
        early_stopping=bool(get("early_stopping")),
    )


def _make_pipeline(make_estimator: EstimatorFactory, seed: int) -> _RecordingPipeline:
    """The study's estimator, built as the Optuna engine builds it, in a recording pipeline.

    ``[("scale", scaler),] ("model", estimator)``: the model is always a pipeline
    step, so every searched name carries the ``model__`` prefix. With the study's
    ``early_stopping`` the estimator holds the ``EarlyStopping`` callback itself
    (and a validation split of each training fold for it).
    """
    estimator = make_estimator({}, seed, early_stopping=True)
    steps = list(estimator.steps) if isinstance(estimator, Pipeline) else [(MODEL_STEP, estimator)]
    return _RecordingPipeline(steps)


def _as_list(grid) -> list[dict]:
    if isinstance(grid, Mapping):
        return [dict(grid)]
    return [dict(g) for g in grid]


def _test_fold(s: _Settings, y) -> tuple[np.ndarray, int]:
    """Validation fold of each row (-1: training rows of a holdout)."""
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    n = len(y)
    classif = s.task == "classification"
    test_fold = np.full(n, -1, dtype=np.int64)
    if s.validation["kind"] == "holdout":
        size = float(s.validation.get("size", 0.2))
        _, val = train_test_split(
            np.arange(n),
            test_size=size,
            random_state=s.split_seed,
            stratify=y if classif and np.ndim(y) == 1 else None,
        )
        test_fold[val] = 0
        return test_fold, 1
    k = int(s.validation.get("n_splits", 5))
    if classif and np.ndim(y) == 1:
        splitter = StratifiedKFold(k, shuffle=True, random_state=s.split_seed)
    else:
        splitter = KFold(k, shuffle=True, random_state=s.split_seed)
    for fold, (_, val) in enumerate(splitter.split(np.zeros((n, 1)), y)):
        test_fold[val] = fold
    return test_fold, k


def _make_search(s: _Settings, pipeline, sources: list[dict], cv, *, n_jobs, seed, verbose):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import (
        GridSearchCV,
        HalvingGridSearchCV,
        HalvingRandomSearchCV,
        RandomizedSearchCV,
    )

    common = dict(
        scoring=s.metric,
        cv=cv,
        n_jobs=n_jobs,
        refit=False,
        error_score=np.nan,
        return_train_score=False,
        verbose=verbose,
    )
    if s.search == "grid":
        return GridSearchCV(pipeline, sources, **common)
    if s.search == "random":
        return RandomizedSearchCV(pipeline, sources, n_iter=s.n_iter, random_state=seed, **common)
    resource = s.resource if s.resource == "n_samples" else _PREFIX + s.resource
    halving = dict(
        factor=s.factor,
        resource=resource,
        max_resources=s.max_resources,
        min_resources=s.min_resources,
        random_state=seed,
        **common,
    )
    if s.search == "halving_grid":
        return HalvingGridSearchCV(pipeline, sources, **halving)
    return HalvingRandomSearchCV(pipeline, sources, n_candidates=s.n_iter, **halving)


# ---------------------------------------------------------------------------
# The engine


def run_sklearn_search(spec, data, study, *, n_jobs: int, seed: int, verbose: int = 0,
                       make_estimator: EstimatorFactory | None = None):
    """Run a study's scikit-learn search and record each candidate as an Optuna trial.

    Parameters
    ----------
    spec : StudySpec
        The study. Read: ``search`` (grid, random, halving_grid, halving_random),
        ``space`` (its ``to_param_grid`` / ``to_param_distributions``), ``task``,
        ``metric`` (a scikit-learn scorer name), ``epochs``, ``validation``
        (``{"kind": "holdout", "size": f}`` or ``{"kind": "kfold", "n_splits": k}``),
        ``split_seed``, ``monitor`` / ``monitor_sign``, ``n_iter`` (random
        searches; default ``n_trials``), ``factor``, ``min_resources``,
        ``resource`` (``"n_samples"`` or ``"epochs"``, whose ``max_resources`` is
        ``epochs``), ``output``; and, through its default ``make_estimator``,
        ``model``, ``preprocessing`` and ``early_stopping``.
    data : mapping
        ``X_trval`` and ``y_trval`` (or ``X`` and ``y``): the train + validation
        part of the data; the test split is not seen here.
    study : optuna.Study
        A single-objective, maximizing study (scikit-learn scores are greater-is-
        better) that receives one trial per candidate.
    n_jobs : int
        Worker processes of the search (joblib's loky backend; -1 = all cores). With
        ``spec.cluster`` (a Dask scheduler address) the fits run on that cluster through
        joblib's ``dask`` backend, on all its worker threads unless the study gives ``n_jobs``.
    seed : int
        ``random_state`` of the estimator (the same for every candidate, as in a
        plain scikit-learn search) and of the random and halving searches.
    verbose : int, default=0
        Verbosity of the search.
    make_estimator : EstimatorFactory, optional
        The study plan's estimator factory (default: ``EstimatorFactory.from_spec(spec)``).

    Returns
    -------
    search : GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV or HalvingRandomSearchCV
        Fitted with ``refit=False`` (the runner refits); ``cv_results_`` holds
        every candidate, with names prefixed by the pipeline step (``model__``).

    Notes
    -----
    The holdout is the runner's split of the train + validation part
    (``train_test_split`` with ``split_seed``, stratified for classification)
    and k-fold uses the Optuna engine's folds (shuffled ``(Stratified)KFold``
    seeded by ``split_seed``), both as a ``PredefinedSplit``.

    Trials follow the candidates' order. Their params are the searched
    parameters (those with more than one value) named as in the space, without
    the ``model__`` prefix: grid values are categorical (lists such as layer
    sizes as JSON strings), scipy distributions become float or int
    distributions. A candidate whose score is NaN (its fit or scoring failed)
    is a FAIL trial. Intermediate values are ``monitor_sign * logs[monitor]``
    at step ``fold * max_epochs + epoch``. Trial user attributes:

    - ``seed``; ``worker`` and ``fold_workers`` (0..n_jobs-1, by process);
    - ``epoch_logs`` (fold 0) and ``fold_epoch_logs`` (one dict per fold of the
      Keras logs per epoch, validated on the fold's held-out rows unless a
      callback monitors its own split), ``epochs_run`` (summed over folds),
      ``best_epochs`` (with early stopping);
    - ``cv_scores`` (and ``fold_scores`` for k-fold), ``rank`` (1 = best; for
      halving, later iterations rank first), ``fold_train_sizes``;
    - ``fit_time_s`` (summed over folds), ``mean_fit_time_s``, ``score_time_s``,
      ``n_params``;
    - ``estimator_params``: the exact keyword arguments fitted, fixed ones and
      a halving ``epochs`` resource included (see :func:`trial_estimator_params`);
    - ``halving``: ``[iter, n_resources, score]`` of each iteration the
      candidate ran (the trial's value and logs are those of its last one);
    - ``error`` for a FAIL trial.

    Study user attributes: ``engine`` ("sklearn"), ``search``, ``validation``
    ("holdout" or "kfold:k"), ``n_candidates`` and, for halving, ``halving``
    (factor, resource, n_iterations, n_resources, n_candidates).
    """
    s = _settings(spec)
    _check_study(study)
    cluster = getattr(spec, "cluster", None)
    if cluster is not None and "n_jobs" not in spec.raw:
        n_jobs = -1  # every thread of the cluster
    X, y = _search_data(data)
    test_fold, n_splits = _test_fold(s, y)
    cv_splitter = _predefined(test_fold)
    if make_estimator is None:
        make_estimator = EstimatorFactory.from_spec(spec)
    pipeline = _make_pipeline(make_estimator, seed)

    space = spec.space
    if s.search in ("grid", "halving_grid"):
        sources = _as_list(space.to_param_grid(prefix=_PREFIX))
    else:
        sources = _as_list(space.to_param_distributions(prefix=_PREFIX))
    keys = list(dict.fromkeys(k for src in sources for k in src))
    resource_key = None
    if s.search.startswith("halving") and s.resource != "n_samples":
        resource_key = _PREFIX + s.resource
        keys.append(resource_key)

    s.output.mkdir(parents=True, exist_ok=True)
    root = s.output / HISTORIES_DIR
    root.mkdir(exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="search-", dir=root))
    try:
        sink = _HistorySink(
            str(directory), tuple(keys), test_fold, n_splits, X, y, s.task == "classification"
        )
        search = _make_search(
            s, pipeline, sources, cv_splitter, n_jobs=n_jobs, seed=seed, verbose=verbose
        )
        with warnings.catch_warnings(), _parallel_backend(cluster):
            # Failed fits and NaN scores become FAIL trials carrying their error.
            warnings.simplefilter("ignore", FitFailedWarning)
            warnings.filterwarnings("ignore", message=".*test scores are non-finite")
            search.fit(X, y, automl_rows=np.arange(len(y)), automl_record=sink)
        records = _read_records(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        try:
            root.rmdir()
        except OSError:
            pass

    trials = _build_trials(s, search, sources, keys, resource_key, records, seed)
    for key, value in _study_attrs(s, search, n_splits).items():
        study.set_user_attr(key, value)
    for trial in trials:
        study.add_trial(trial)
    return search


def _parallel_backend(cluster: str | None):
    """joblib's Dask backend on the study's ``cluster`` (none: joblib's default, loky)."""
    if cluster is None:
        return contextlib.nullcontext()
    from ._dask_pool import joblib_on_cluster

    return joblib_on_cluster(cluster)


def trial_estimator_params(trial) -> dict:
    """Estimator keyword arguments of a sklearn-engine trial (lists back to tuples)."""
    return trial_params(trial)


def _check_study(study) -> None:
    import optuna

    directions = study.directions
    if directions != [optuna.study.StudyDirection.MAXIMIZE]:
        names = [d.name.lower() for d in directions]
        raise ValueError(
            "The 'study' parameter of run_sklearn_search must be a single-objective study "
            f"with direction 'maximize' (scikit-learn scores are higher-is-better). Got "
            f"directions {names} instead."
        )


def _search_data(data):
    for xk, yk in (("X_trval", "y_trval"), ("X", "y")):
        if xk in data and yk in data:
            return data[xk], data[yk]
    raise ValueError(
        "The 'data' parameter of run_sklearn_search must hold 'X_trval' and 'y_trval' "
        f"(or 'X' and 'y'). Got keys {sorted(data)} instead."
    )


def _predefined(test_fold):
    from sklearn.model_selection import PredefinedSplit

    return PredefinedSplit(test_fold)


def _read_records(directory: Path) -> dict:
    """(candidate key, fold) -> {n_train: record}."""
    index: dict[tuple, dict[int, dict]] = {}
    for path in directory.glob("*.json"):
        key = path.name.split("_f", 1)[0]
        record = json.loads(path.read_text())
        index.setdefault((key, record["fold"]), {})[record["n_train"]] = record
    return index


def _row_records(records, key, iteration, n_splits, n_train_levels):
    """The record of each fold for one row of cv_results_ (None where missing)."""
    out = []
    for fold in range(n_splits):
        by_n = records.get((key, fold), {})
        if not by_n:
            out.append(None)
            continue
        if n_train_levels is not None:  # halving on n_samples: iteration i <-> i-th size
            levels = n_train_levels.get(fold, [])
            n = levels[iteration] if iteration < len(levels) else None
            out.append(by_n.get(n))
        else:
            out.append(by_n[max(by_n)])
    return out


def _build_trials(s, search, sources, keys, resource_key, records, seed):
    import optuna
    from sklearn.base import clone

    results = search.cv_results_
    n_rows = len(results["params"])
    n_splits = int(search.n_splits_)
    halving = s.search.startswith("halving")
    iters = np.asarray(results["iter"]) if halving else np.zeros(n_rows, dtype=int)
    n_resources = results.get("n_resources")
    n_train_levels = None
    if halving and s.resource == "n_samples":
        n_train_levels = {}
        for (_, fold), by_n in records.items():
            n_train_levels.setdefault(fold, set()).update(by_n)
        n_train_levels = {f: sorted(v) for f, v in n_train_levels.items()}

    # Group rows into candidates (a halving candidate spans several iterations).
    base = search.estimator
    groups: dict[str, list[int]] = {}
    row_keys = []
    for r, params in enumerate(results["params"]):
        seen = clone(base).set_params(**params).get_params(deep=True)
        row_keys.append(_candidate_key(seen, keys))
        ident = _candidate_key(seen, [k for k in keys if k != resource_key])
        groups.setdefault(ident, []).append(r)

    by_key: dict[str, list[dict]] = {}
    for (key, _), by_n in records.items():
        by_key.setdefault(key, []).extend(by_n.values())
    distributions = _distributions(sources, results["params"], resource_key)
    fixed = _fixed_names(sources)
    scores = np.asarray(results["mean_test_score"], dtype=float)
    candidates = []
    for rows in groups.values():
        rows = sorted(rows, key=lambda r: iters[r])
        last = rows[-1]
        value = float(scores[last])
        candidates.append((rows, last, value))
    order = [(int(iters[last]), v if np.isfinite(v) else -np.inf) for _, last, v in candidates]

    trials = []
    for i, (rows, last, value) in enumerate(candidates):
        fold_records = _row_records(
            records, row_keys[last], int(iters[last]), n_splits, n_train_levels
        )
        params = results["params"][last]
        # The exact keyword arguments fitted last, including a halving resource (epochs).
        est_params = {_strip(k): _jsonable(v) for k, v in params.items()}
        trial_params = {
            _strip(k): _encode(v) for k, v in params.items() if k != resource_key and k not in fixed
        }
        logs = [(rec or {}).get("history") or {} for rec in fold_records]
        epochs_run = sum(max((len(v) for v in fold.values()), default=0) for fold in logs)
        max_epochs = int(params.get(_PREFIX + "epochs", s.epochs))
        rank = 1 + sum(o > order[i] for o in order)
        split_scores = [
            _finite_or_none(results[f"split{k}_test_score"][last]) for k in range(n_splits)
        ]
        attrs: dict[str, Any] = {
            "seed": int(seed),
            "epoch_logs": logs[0] if logs else {},
            "fold_epoch_logs": logs,
            "epochs_run": int(epochs_run),
            # Summed over folds as in the Optuna engine; the mean is cv_results_' mean_fit_time.
            "fit_time_s": float(results["mean_fit_time"][last]) * n_splits,
            "mean_fit_time_s": float(results["mean_fit_time"][last]),
            "score_time_s": float(results["mean_score_time"][last]),
            "n_params": next(
                (r["n_params"] for r in fold_records if r and r.get("n_params")), None
            ),
            "cv_scores": split_scores,
            "fold_train_sizes": [r["n_train"] if r else None for r in fold_records],
            "rank": int(rank),
            "estimator_params": est_params,
        }
        if n_splits > 1:
            attrs["fold_scores"] = split_scores
        if s.early_stopping and _best_epochs(s, logs) is not None:
            attrs["best_epochs"] = _best_epochs(s, logs)
        pids = [r["pid"] for r in fold_records if r]
        if pids:
            attrs["worker_pids"] = pids
        if halving:
            attrs["halving"] = [
                [int(iters[r]), int(n_resources[r]), _finite_or_none(scores[r])] for r in rows
            ]
        finite = np.isfinite(value)
        if not finite:
            errors = [r["error"] for r in fold_records if r and r.get("error")]
            attrs["error"] = errors[0] if errors else f"non-finite {s.metric}: {value}"
        trial = optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE if finite else optuna.trial.TrialState.FAIL,
            value=value if finite else None,
            params=trial_params,
            distributions={k: distributions[k] for k in trial_params},
            user_attrs=attrs,
            intermediate_values=_intermediate(s, logs, max_epochs),
        )
        fits = [rec for r in rows for rec in by_key.get(row_keys[r], [])]
        starts, ends = [f["start"] for f in fits], [f["end"] for f in fits]
        if starts:
            trial.datetime_start = datetime.datetime.fromtimestamp(min(starts))
            trial.datetime_complete = datetime.datetime.fromtimestamp(max(ends))
        trials.append(trial)
    _number_workers(trials)
    return trials


def _number_workers(trials) -> None:
    """``worker``: 0..k-1 for the worker process of each trial's first fold."""
    pids: dict[int, int] = {}
    for trial in sorted(trials, key=lambda t: t.datetime_start or datetime.datetime.min):
        for pid in trial.user_attrs.get("worker_pids", []):
            pids.setdefault(pid, len(pids))
    for trial in trials:
        worker_pids = trial.user_attrs.pop("worker_pids", None)
        if worker_pids:
            trial.user_attrs["worker"] = pids[worker_pids[0]]
            trial.user_attrs["fold_workers"] = [pids[p] for p in worker_pids]


def _intermediate(s: _Settings, fold_logs: list[dict], max_epochs: int) -> dict[int, float]:
    """``monitor_sign * logs[monitor]`` at step ``fold * max_epochs + epoch``."""
    values = {}
    for fold, logs in enumerate(fold_logs):
        for epoch, v in enumerate(logs.get(s.monitor) or []):
            if v is not None and math.isfinite(v):
                values[fold * max_epochs + epoch] = s.monitor_sign * float(v)
    return values


def _best_epochs(s: _Settings, fold_logs: list[dict]) -> int | None:
    """With early stopping: the epoch count to refit with (best monitor epoch, mean over folds)."""
    best = []
    for logs in fold_logs:
        values = [
            s.monitor_sign * v if v is not None else -math.inf for v in logs.get(s.monitor) or []
        ]
        if values and max(values) > -math.inf:
            best.append(int(np.argmax(values)) + 1)
    return max(1, round(float(np.mean(best)))) if best else None


def _distributions(sources: list[dict], seen_params: list[dict], resource_key) -> dict:
    """One Optuna distribution per (unprefixed) parameter, shared by every trial."""
    from optuna.distributions import CategoricalDistribution

    declared: dict[str, list] = {}
    for src in sources:
        for k, v in src.items():
            declared.setdefault(k, []).append(v)
    seen: dict[str, list] = {}
    for params in seen_params:
        for k, v in params.items():
            if k != resource_key:
                seen.setdefault(k, []).append(v)
    out = {}
    for k, values in seen.items():
        name = _strip(k)
        specs = declared.get(k, [])
        continuous = [d for d in specs if hasattr(d, "rvs")]
        numbers = [v for v in values if _is_number(v)]
        if continuous and len(numbers) == len(values):
            out[name] = _numeric_distribution(continuous, numbers)
            continue
        choices: list = []
        for spec in specs:
            if not hasattr(spec, "rvs"):
                choices.extend(_encode(c) for c in spec)
        choices.extend(_encode(v) for v in values)
        out[name] = CategoricalDistribution(list(dict.fromkeys(choices)))
    return out


def _fixed_names(sources: list[dict]) -> set[str]:
    """Parameters with a single value in the whole search: not trial params (as with Optuna)."""
    values: dict[str, set] = {}
    for src in sources:
        for k, v in src.items():
            if hasattr(v, "rvs"):
                values.setdefault(k, set()).update(["<distribution>", "<any>"])
            else:
                values.setdefault(k, set()).update(_encode(c) for c in v)
    return {k for k, vals in values.items() if len(vals) == 1}


def _numeric_distribution(dists, values):
    from optuna.distributions import FloatDistribution, IntDistribution
    from scipy import stats

    lows, highs, logs, discrete = [], [], [], []
    for d in dists:
        try:
            lo, hi = (float(b) for b in d.support())
        except Exception:  # noqa: BLE001 - not a scipy distribution: use the values seen
            lo, hi = -math.inf, math.inf
        lows.append(lo)
        highs.append(hi)
        name = getattr(getattr(d, "dist", None), "name", "")
        logs.append(name in ("loguniform", "reciprocal"))
        discrete.append(isinstance(getattr(d, "dist", None), stats.rv_discrete))
    lo = min(min(lows), min(values))
    hi = max(max(highs), max(values))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = min(values), max(values)
    if all(discrete) and all(float(v).is_integer() for v in values):
        return IntDistribution(int(lo), int(hi))
    log = all(logs) and lo > 0
    return FloatDistribution(float(lo), float(hi), log=log)


def _study_attrs(s: _Settings, search, n_splits: int) -> dict:
    validation = "holdout" if s.validation["kind"] == "holdout" else f"kfold:{n_splits}"
    attrs = {
        "engine": "sklearn",
        "search": s.search,
        "validation": validation,
        "n_candidates": len(search.cv_results_["params"]),
    }
    if s.search.startswith("halving"):
        attrs["halving"] = {
            "factor": s.factor,
            "resource": s.resource,
            "n_iterations": int(search.n_iterations_),
            "n_resources": [int(n) for n in search.n_resources_],
            "n_candidates": [int(n) for n in search.n_candidates_],
        }
    return attrs


# ---------------------------------------------------------------------------
# Values


def _strip(name: str) -> str:
    return name[len(_PREFIX) :] if name.startswith(_PREFIX) else name


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_)
    )


def _encode(v):
    """A value Optuna's CategoricalDistribution accepts (lists and tuples as JSON)."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return json.dumps(_jsonable(list(v)))
    return repr(v)


def _finite_or_none(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _jsonable(value):
    """JSON-safe copy: NaN/inf become None, tuples lists, NumPy scalars Python ones."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return repr(value)
