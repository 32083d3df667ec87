"""The trial objective: suggest params, fit on the training part(s), score on validation.

Holdout and k-fold validation, per-epoch reporting for pruning, divergence
detection, early stopping, scikit-learn scorers and an optional second
objective (parameter count or prediction latency).

Intermediate values
-------------------
Each epoch reports ``sign * logs[monitor]`` (oriented like the study's direction)
at step ``epoch`` for a holdout, and at step ``fold * max_epochs + epoch`` for
k-fold, so every fold has its own steps and pruners compare fold ``f`` of one
trial with fold ``f`` of the others. Without a pruner (``NopPruner``) nothing reads
them during the trial: they are stored at its end, in the storage write of its
user attributes (one transaction on a database instead of one per epoch).
"""

from __future__ import annotations

import copy
import math
import os
import time
from typing import Any

import numpy as np

from automl._random import trial_seed

from ._estimators import EstimatorFactory, make_estimator
from ._grid import GridSpace
from ._metrics import SECOND_OBJECTIVES, default_monitor, monitor_sign
from ._pruning import PruningCallback, TrialDiverged
from ._run_directory import jsonable
from ._trial_attrs import set_user_attrs

__all__ = [
    "Objective",
    "PARAMS_ATTR",
    "TrialDiverged",
    "evaluate",
    "make_estimator",
    "make_folds",
    "prediction_latency_ms",
    "trial_params",
]

#: Trial user attribute holding the estimator keyword arguments the trial trains with
#: (lists for tuples: see :func:`trial_params`).
PARAMS_ATTR = "estimator_params"

#: Environment variable holding the worker index (set by the runner in each worker process).
WORKER_ENV = "AUTOML_WORKER"

#: Scorers that need exactly two classes.
_BINARY_SCORERS = frozenset(
    {
        "roc_auc",
        "average_precision",
        "f1",
        "precision",
        "recall",
        "jaccard",
        "positive_likelihood_ratio",
        "neg_negative_likelihood_ratio",
    }
)


def trial_params(trial) -> dict[str, Any]:
    """The estimator kwargs a trial trained with (``user_attrs[PARAMS_ATTR]``, lists as tuples).

    Examples
    --------
    >>> import optuna
    >>> t = optuna.trial.create_trial(value=1.0, user_attrs={
    ...     "estimator_params": {"hidden_layer_sizes": [32, 16], "optimizer": "adam"}})
    >>> trial_params(t)
    {'hidden_layer_sizes': (32, 16), 'optimizer': 'adam'}
    """
    params = trial.user_attrs[PARAMS_ATTR]
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def evaluate(metric: str, estimator, X, y) -> float:
    """``sklearn.metrics.get_scorer(metric)(estimator, X, y)`` as a float (greater is better)."""
    from sklearn.metrics import get_scorer

    return float(get_scorer(metric)(estimator, X, y))


def check_metric(metric: str, task: str, y) -> None:
    """Raise ``ValueError`` when ``metric`` cannot score these targets.

    Binary scorers (``roc_auc``, ``f1``, ``precision``, ...) need two classes;
    with more, use their multiclass forms (``roc_auc_ovr``, ``f1_macro``, ...).
    """
    if task != "classification" or metric not in _BINARY_SCORERS:
        return
    n_classes = len(np.unique(np.asarray(y)))
    if n_classes > 2:
        alt = {"roc_auc": "roc_auc_ovr", "average_precision": "accuracy"}.get(
            metric, f"{metric}_macro"
        )
        raise ValueError(
            f"The metric {metric!r} scores binary classification, but the targets have "
            f"{n_classes} classes; use a multiclass scorer such as {alt!r}."
        )


def make_folds(y, n_splits: int, *, task: str, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(train_idx, val_idx), ...]``: shuffled k-fold, stratified for classification.

    Deterministic: the same ``y``, ``n_splits`` and ``seed`` give the same folds.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    cls = StratifiedKFold if task == "classification" else KFold
    splitter = cls(n_splits=n_splits, shuffle=True, random_state=seed)
    y = np.asarray(y)
    return [(tr, va) for tr, va in splitter.split(np.zeros((len(y), 1)), y)]


def _take(data, idx):
    if hasattr(data, "iloc"):
        return data.iloc[idx]
    return np.asarray(data)[idx] if not hasattr(data, "tocsr") else data[idx]


def _n_rows(X) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _fit(estimator, X, y, X_val, y_val, callbacks):
    """Fit ``estimator`` (or the preprocessing and model of a Pipeline) with validation data.

    A Pipeline's preprocessing is fit on ``X`` only and also transforms ``X_val``,
    which then reaches the model as ``validation_data`` (``Pipeline.fit`` would pass
    ``model__validation_data`` untransformed).
    """
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        pre = estimator[:-1]
        Xt = pre.fit_transform(X, y)
        Xv = pre.transform(X_val)
        estimator[-1].fit(Xt, y, validation_data=(Xv, y_val), callbacks=callbacks)
    else:
        estimator.fit(X, y, validation_data=(X_val, y_val), callbacks=callbacks)
    return estimator


def prediction_latency_ms(estimator, X, *, n_samples: int = 1000, repeats: int = 3) -> float:
    """Prediction time in ms per 1000 samples: the best of ``repeats`` timings.

    Each timing predicts ``X`` enough times to cover about ``n_samples`` rows.
    """
    n = max(1, _n_rows(X))
    reps = max(1, math.ceil(n_samples / n))
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(reps):
            estimator.predict(X)
        best = min(best, time.perf_counter() - start)
    return best / (reps * n) * 1000.0 * 1000.0


def _worker() -> int:
    try:
        return int(os.environ.get(WORKER_ENV, "0"))
    except ValueError:
        return 0


def _finite(logs: dict) -> dict:
    # JSON storage: NaN/inf become None.
    return {k: [v if math.isfinite(v) else None for v in vals] for k, vals in logs.items()}


class _MappedFile:
    """Stands for a memory-mapped ``.npy`` file in a pickled :class:`Objective`."""

    def __init__(self, path: str):
        self.path = path


class _MappedFrame:
    """Stands for a DataFrame whose numeric columns are memory-mapped ``.npy`` files.

    The other columns (text, categories, datetimes, numbers with missing values
    in pandas' nullable dtypes) travel pickled in ``rest``; the column order and
    the index are kept.
    """

    def __init__(self, frame, folder, name: str):
        self.columns = list(frame.columns)
        self.paths = {}
        rest = []
        for i, column in enumerate(self.columns):
            values = frame[column]
            if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
                path = os.path.join(os.fspath(folder), f"{name}.{i}.npy")
                np.save(path, values.to_numpy(), allow_pickle=False)
                self.paths[column] = path
            else:
                rest.append(column)
        self.rest = frame[rest]

    def load(self):
        import pandas as pd

        columns = {c: np.load(p, mmap_mode="r", allow_pickle=False) for c, p in self.paths.items()}
        columns.update({c: self.rest[c] for c in self.rest})
        frame = pd.DataFrame({c: columns[c] for c in self.columns}, copy=False)
        return frame.set_axis(self.rest.index, axis=0)


def _frame_bytes(frame) -> int:
    return int(frame.memory_usage(index=False, deep=False).sum())


class Objective:
    """Picklable Optuna objective, run in the study's worker processes.

    Each trial takes its estimator kwargs from ``user_attrs["estimator_params"]``
    (drawn once by the runner in the parent, see :meth:`suggest`) or else draws them
    from ``space`` and stores them there, derives its seed
    ``trial_seed(study_seed, trial.number)`` (``retry_of`` instead of the number
    for a retried trial), fits on the training part(s) with
    the pruning callback (and early stopping), scores the validation part(s)
    with ``sklearn.metrics.get_scorer(metric)`` and returns the score (the mean
    over folds), or ``(score, n_params | latency)`` with a second objective.

    Holdout: give ``X_val, y_val``. K-fold: give ``folds=[(train_idx, val_idx), ...]``
    (rows of ``X_train, y_train``; see :func:`make_folds`); fold ``f`` fits a fresh
    estimator seeded ``trial_seed(trial_seed, f)`` and reports at steps
    ``f * epochs + epoch``. Preprocessing is fit on each training part only.

    Trial user attributes
    ---------------------
    ``estimator_params``, ``seed``, ``worker`` (env ``AUTOML_WORKER``), ``epoch_logs``
    (holdout, or fold 0), ``fold_epoch_logs`` and ``fold_scores`` (k-fold), ``epochs_run``
    (epochs trained, summed over folds), ``pruned_at_epoch`` (0-based epoch of the last reported step
    within its fold) and ``pruned_at_fold`` (k-fold) when pruned, ``best_epochs``
    (epoch count to refit with, with early stopping; mean over folds), ``n_params``,
    ``fit_time_s``, ``latency_ms`` (second objective ``latency``) and ``error``
    (``"<ExceptionType>: message"``) when the trial fails. Logs of pruned and failed
    trials are kept; NaN/inf are stored as None.

    Parameters
    ----------
    space : SearchSpace or GridSpace
    task : {"classification", "regression"}
    metric : str
        A scikit-learn scorer name.
    epochs : int
        Max epochs per fit.
    study_seed : int or None
    X_train, y_train : array-like
        Training part (holdout), or all rows the folds index (k-fold).
    X_val, y_val : array-like, optional
        Validation part (holdout).
    folds : list of (train_idx, val_idx), optional
        K-fold splits of ``X_train``.
    preprocessing : {"none", "standard", "minmax"}, default="none"
    model : str, default="mlp"
        ``"mlp"``, ``"cnn"`` or ``"package.module:builder"`` (imported in the worker).
    monitor : str, optional
        Epoch-log key reported for pruning; default ``val_accuracy`` for
        accuracy-like classification metrics, else ``val_loss``.
    direction : {"maximize", "minimize"}, default="maximize"
        Direction of ``metric`` (orients the reported values).
    second_objective : {None, "n_params", "latency"}, default=None
    early_stopping : dict, optional
        ``{"patience", "min_delta", "start_from_epoch"}``.
    grid : bool, default=False
        Draw from ``GridSpace.from_space(space)`` (for Optuna's GridSampler).
    base_dir : str or Path, optional
        Folder where a ``model`` builder module may live (the study file's folder).
    make_estimator : EstimatorFactory, optional
        ``make_estimator(params, seed)`` of the study (a :class:`StudyPlan`'s). Without
        it, one is built from ``task``, ``epochs``, ``model``, ``preprocessing``,
        ``monitor``, ``early_stopping`` and ``base_dir``.
    """

    def __init__(
        self,
        *,
        space,
        task: str,
        metric: str,
        epochs: int,
        study_seed: int | None,
        X_train,
        y_train,
        X_val=None,
        y_val=None,
        folds=None,
        preprocessing: str = "none",
        model: str = "mlp",
        monitor: str | None = None,
        direction: str = "maximize",
        second_objective: str | None = None,
        early_stopping: dict | None = None,
        grid: bool = False,
        base_dir=None,
        make_estimator: EstimatorFactory | None = None,
    ):
        if folds is None and (X_val is None or y_val is None):
            raise ValueError("Objective needs X_val and y_val (holdout) or folds (k-fold).")
        if folds is not None and X_val is not None:
            raise ValueError("Objective takes either X_val/y_val (holdout) or folds, not both.")
        if second_objective not in (None, *SECOND_OBJECTIVES):
            raise ValueError(
                f"Unknown second objective {second_objective!r}. Valid values are "
                f"{[None, *SECOND_OBJECTIVES]}."
            )
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}.")
        monitor = monitor or default_monitor(metric, task)
        if make_estimator is None:  # validates the preprocessing name
            make_estimator = EstimatorFactory(
                task,
                epochs=int(epochs),
                model=model,
                preprocessing=preprocessing,
                monitor=monitor,
                early_stopping=early_stopping,
                base_dir=None if base_dir is None else str(base_dir),
            )
        check_metric(metric, task, y_train)
        self.space = GridSpace.from_space(space) if grid else space
        self.task = task
        self.metric = metric
        self.epochs = int(epochs)
        self.study_seed = study_seed
        self.X_train, self.y_train = X_train, y_train
        self.X_val, self.y_val = X_val, y_val
        self.folds = None if folds is None else [(np.asarray(a), np.asarray(b)) for a, b in folds]
        self.monitor = monitor
        self.direction = direction
        self.second_objective = second_objective
        self.make_estimator = make_estimator

    # -- sharing the data with worker processes ------------------------------
    _DATA_ATTRS = ("X_train", "y_train", "X_val", "y_val")

    def memory_mapped(self, folder, min_bytes: int = 1 << 20) -> Objective:
        """A copy whose large data arrays are read-only memory maps of files in ``folder``.

        Pickling the copy sends the files' paths, not the data, so every worker
        process maps the same pages instead of holding its own copy (MNIST:
        ~220 MB per worker). A DataFrame has its numeric columns mapped, the
        others pickled. Arrays under ``min_bytes`` and object arrays are left as
        they are.
        """
        mapped = copy.copy(self)
        for name in self._DATA_ATTRS:
            value = getattr(self, name)
            if (isinstance(value, np.ndarray) and value.dtype != object
                    and value.nbytes >= min_bytes):
                path = os.path.join(os.fspath(folder), f"{name}.npy")
                np.save(path, value, allow_pickle=False)
                setattr(mapped, name, np.load(path, mmap_mode="r", allow_pickle=False))
            elif hasattr(value, "iloc") and value.ndim == 2 and _frame_bytes(value) >= min_bytes:
                mapped._frames = {**getattr(mapped, "_frames", {}),
                                  name: _MappedFrame(value, folder, name)}
                setattr(mapped, name, mapped._frames[name].load())
        return mapped

    def __getstate__(self):
        state = dict(vars(self))
        frames = state.get("_frames", {})
        for name in self._DATA_ATTRS:
            value = state.get(name)
            if isinstance(value, np.memmap) and value.filename is not None:
                state[name] = _MappedFile(os.fspath(value.filename))
            elif name in frames:
                state[name] = frames[name]
        return state

    def __setstate__(self, state):
        for name, value in state.items():
            if isinstance(value, _MappedFile):
                state[name] = np.load(value.path, mmap_mode="r", allow_pickle=False)
            elif isinstance(value, _MappedFrame):
                state[name] = value.load()
        vars(self).update(state)

    @classmethod
    def from_spec(cls, spec, *, study_seed, X_train, y_train, X_val=None, y_val=None, folds=None,
                  space=None, make_estimator=None):
        """The objective of a :class:`StudySpec`.

        For k-fold validation give all non-test rows as ``X_train, y_train``; the folds
        default to ``make_folds(y_train, n_splits, task=spec.task, seed=spec.split_seed)``.
        ``space`` and ``make_estimator`` default to the spec's (a :class:`StudyPlan`
        passes its own).
        """
        if spec.validation["kind"] == "kfold" and folds is None:
            folds = make_folds(
                y_train, spec.validation["n_splits"], task=spec.task, seed=spec.split_seed
            )
        grid = space is None and spec.sampler is not None and spec.sampler["name"] == "grid"
        return cls(
            space=spec.space if space is None else space,
            task=spec.task,
            metric=spec.metric,
            epochs=spec.epochs,
            study_seed=study_seed,
            X_train=X_train,
            y_train=y_train,
            X_val=X_val,
            y_val=y_val,
            folds=folds,
            monitor=spec.monitor,
            direction=spec.direction,
            second_objective=spec.second_objective,
            grid=grid,
            make_estimator=make_estimator or EstimatorFactory.from_spec(spec),
        )

    @property
    def n_folds(self) -> int:
        return 1 if self.folds is None else len(self.folds)

    def _parts(self):
        if self.folds is None:
            yield self.X_train, self.y_train, self.X_val, self.y_val
            return
        for tr, va in self.folds:
            yield (_take(self.X_train, tr), _take(self.y_train, tr),
                   _take(self.X_train, va), _take(self.y_train, va))

    def params(self, trial) -> dict[str, Any]:
        """The estimator kwargs of ``trial``: drawn from the space once, then stored.

        The runner draws them in the parent process (:meth:`suggest`); a trial that
        has them already (``user_attrs[PARAMS_ATTR]``) is not drawn again.
        """
        if PARAMS_ATTR in trial.user_attrs:
            return trial_params(trial)
        return self.suggest(trial)

    def suggest(self, trial) -> dict[str, Any]:
        """Draw the trial's estimator kwargs from the space and store them on the trial."""
        params = self.space.suggest(trial)
        trial.set_user_attr(PARAMS_ATTR, jsonable(params))
        return params

    def __call__(self, trial):
        import optuna

        params = self.params(trial)
        # A retry (see fail_trial) trains with the seed of the trial it repeats.
        seed = trial_seed(self.study_seed, trial.user_attrs.get("retry_of", trial.number))
        set_user_attrs(trial, {"seed": seed, "worker": _worker()})  # one storage write
        kfold = self.folds is not None
        multi = self.second_objective is not None
        sign = monitor_sign(self.monitor) * (1.0 if self.direction == "maximize" else -1.0)

        runs: list[PruningCallback] = []
        scores: list[float] = []
        best_epochs: list[int] = []
        fit_time = 0.0
        attrs: dict[str, Any] = {}
        try:
            for fold, (X_tr, y_tr, X_va, y_va) in enumerate(self._parts()):
                pruning = PruningCallback(
                    trial,
                    self.monitor,
                    sign=sign,
                    step_offset=fold * self.epochs,
                    report=not multi,
                    fold=fold if kfold else None,
                    defer=True,  # without a pruner, the epochs' values are stored at the end
                )
                runs.append(pruning)
                callbacks = [pruning]
                stopper = self.make_estimator.early_stopping_callback()
                if stopper is not None:
                    callbacks.append(stopper)
                estimator = self.make_estimator(params, trial_seed(seed, fold) if kfold else seed)
                start = time.perf_counter()
                try:
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                        _fit(estimator, X_tr, y_tr, X_va, y_va, callbacks)
                finally:
                    fit_time += time.perf_counter() - start
                if stopper is not None:
                    best_epochs.append(int(stopper.best_epoch) + 1)
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    scores.append(evaluate(self.metric, estimator, X_va, y_va))
            value = float(np.mean(scores))
            if not math.isfinite(value):
                raise TrialDiverged(f"non-finite {self.metric} score: {value}")
            if not multi:
                return value
            if self.second_objective == "n_params":
                return value, float(runs[0].n_params)
            latency = prediction_latency_ms(estimator, X_va)
            attrs["latency_ms"] = latency
            return value, latency
        except optuna.TrialPruned:
            last = runs[-1]
            attrs["pruned_at_epoch"] = last.pruned_epoch
            if kfold:
                attrs["pruned_at_fold"] = len(runs) - 1
            raise
        except Exception as exc:
            attrs["error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            logs = [_finite(r.epoch_logs) for r in runs]
            attrs["epoch_logs"] = logs[0] if logs else {}
            if kfold:
                attrs["fold_epoch_logs"] = logs
                attrs["fold_scores"] = [float(s) for s in scores]
            attrs["epochs_run"] = sum(r.epochs_run for r in runs)
            if runs and runs[0].n_params is not None:
                attrs["n_params"] = runs[0].n_params
            if best_epochs:
                attrs["best_epochs"] = max(1, round(float(np.mean(best_epochs))))
            attrs["fit_time_s"] = round(fit_time, 6)
            unreported = {step: v for r in runs for step, v in r.unreported.items()}
            # One storage write (a transaction on a database) for all of it.
            set_user_attrs(trial, attrs, intermediate_values=unreported)
