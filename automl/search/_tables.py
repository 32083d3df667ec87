"""The trial tables of a run (``trials.csv``, ``epochs.csv``) and the helpers that read trials.

A trial's record is what the objective stores: its values, parameters and user
attributes (``seed``, ``worker``, ``epoch_logs`` or ``fold_epoch_logs``,
``epochs_run``, ``pruned_at_epoch``, ...). :mod:`automl.reports` builds its
tables and figures on these helpers.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd

__all__ = [
    "duration_s",
    "epochs_run",
    "epochs_table",
    "finite",
    "fold_logs",
    "last_step",
    "order_log_keys",
    "param_distributions",
    "pruned_at_epoch",
    "state_name",
    "trial_values",
    "trials_table",
    "value_columns",
]

#: Integer columns of the trials table (nullable: older studies lack the attributes).
_INT_ATTRS = ("epochs_run", "pruned_at_epoch", "worker", "seed", "n_params", "rank_test_score")


# ---------------------------------------------------------------------------
# Reading a trial


def state_name(trial) -> str:
    """``"complete"``, ``"pruned"``, ``"fail"``, ``"running"`` or ``"waiting"``."""
    return trial.state.name.lower()


def finite(value) -> float:
    """``value`` as a float, NaN for None, non-numbers and non-finite values."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def trial_values(trial, n_objectives: int) -> list[float]:
    """The trial's objective values (NaN when it has none)."""
    values = trial.values
    if values is None:
        return [math.nan] * n_objectives
    return [finite(v) for v in values]


def fold_logs(trial) -> list[dict]:
    """Per-fold epoch logs: ``fold_epoch_logs`` when present, else ``[epoch_logs]``."""
    attrs = trial.user_attrs
    folds = attrs.get("fold_epoch_logs")
    if isinstance(folds, list) and folds and all(isinstance(f, dict) for f in folds):
        return folds
    logs = attrs.get("epoch_logs")
    return [logs] if isinstance(logs, dict) and logs else []


def epochs_run(trial) -> int | None:
    """``epochs_run`` user attribute, else the length of the (first fold's) epoch logs."""
    value = trial.user_attrs.get("epochs_run")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    folds = fold_logs(trial)
    if folds:
        lengths = [len(v) for v in folds[0].values() if isinstance(v, list)]
        if lengths:
            return max(lengths)
    return None


def last_step(trial) -> int | None:
    """The last step the trial reported an intermediate value for."""
    steps = trial.intermediate_values
    return max(steps) if steps else None


def pruned_at_epoch(trial, max_epochs: int | None = None) -> int | None:
    """0-based epoch of a pruned trial's last report (``pruned_at_epoch`` or derived)."""
    if state_name(trial) != "pruned":
        return None
    value = trial.user_attrs.get("pruned_at_epoch")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    step = last_step(trial)
    if step is None:
        return None
    return step % max_epochs if max_epochs else step


def duration_s(trial, now: datetime | None = None) -> float:
    """Seconds from start to completion (to ``now`` for a running trial when given)."""
    start, end = trial.datetime_start, trial.datetime_complete
    if start is None:
        return math.nan
    if end is None:
        if now is None:
            return math.nan
        end = now
    return (end - start).total_seconds()


def param_distributions(trials) -> dict:
    """Each parameter's distribution, in order of first appearance over ``trials``."""
    dists: dict = {}
    for trial in trials:
        for name, dist in trial.distributions.items():
            dists.setdefault(name, dist)
    return dists



# ---------------------------------------------------------------------------
# Tables


def value_columns(n_objectives: int) -> list[str]:
    """``["value"]``, or ``["values_0", "values_1", ...]`` for a multi-objective study."""
    return ["value"] if n_objectives == 1 else [f"values_{i}" for i in range(n_objectives)]


def _max_epochs(study) -> int | None:
    epochs = study.user_attrs.get("epochs")
    return int(epochs) if isinstance(epochs, (int, float)) and epochs > 0 else None


def trials_table(study, *, max_epochs: int | None = None) -> pd.DataFrame:
    """One row per trial.

    Columns: ``number``, ``state``, ``value`` (``values_0``, ``values_1``, ... for a
    multi-objective study), one ``param_<name>`` column per parameter (NaN where a
    conditional parameter was not searched), ``duration_s``, ``epochs_run``,
    ``pruned_at_epoch``, ``worker``, ``seed``, ``n_params``, ``fit_time_s``, ``error``,
    ``datetime_start``, ``datetime_complete``. A scikit-learn-engine study (trial
    user attributes ``rank`` and ``cv_scores``) adds ``cv_results_``-style columns
    ``rank_test_score``, ``std_test_score`` and ``split<i>_test_score`` before
    ``error``. Missing attributes are NaN/None (older studies).

    Parameters
    ----------
    study : optuna.Study
    max_epochs : int, optional
        Epochs per fold (k-fold steps are ``fold * max_epochs + epoch``); default
        the study's ``epochs`` user attribute.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import optuna
    >>> from optuna.distributions import FloatDistribution
    >>> from automl.search import trials_table
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(
    ...     value=0.25, params={"x": 0.5}, distributions={"x": FloatDistribution(0, 1)},
    ...     user_attrs={"seed": 7}))
    >>> row = trials_table(study).iloc[0]
    >>> row["state"], float(row["value"]), float(row["param_x"]), int(row["seed"])
    ('complete', 0.25, 0.5, 7)
    """
    trials = study.get_trials(deepcopy=False)
    vcols = value_columns(len(study.directions))
    if max_epochs is None:
        max_epochs = _max_epochs(study)
    dists = param_distributions(trials)
    pcols = [f"param_{name}" for name in dists]
    n_folds = max((_n_cv(t) for t in trials), default=0)
    has_cv = n_folds > 0
    has_rank = any("rank" in t.user_attrs for t in trials)
    rows = []
    for t in trials:
        attrs = t.user_attrs
        row = {"number": t.number, "state": state_name(t)}
        row.update(zip(vcols, trial_values(t, len(vcols))))
        for name in dists:
            row[f"param_{name}"] = t.params.get(name, np.nan)
        row["duration_s"] = duration_s(t)
        row["epochs_run"] = epochs_run(t)
        row["pruned_at_epoch"] = pruned_at_epoch(t, max_epochs)
        for key in ("worker", "seed", "n_params"):
            row[key] = _int_or_none(attrs.get(key))
        row["fit_time_s"] = finite(attrs.get("fit_time_s"))
        if has_rank:
            row["rank_test_score"] = _int_or_none(attrs.get("rank"))
        if has_cv:
            scores = [finite(s) for s in (attrs.get("cv_scores") or [])]
            row["std_test_score"] = float(np.std(scores)) if scores else math.nan
            for i in range(n_folds):
                row[f"split{i}_test_score"] = scores[i] if i < len(scores) else math.nan
        error = attrs.get("error")
        row["error"] = str(error) if error is not None else None
        row["datetime_start"] = t.datetime_start
        row["datetime_complete"] = t.datetime_complete
        rows.append(row)
    columns = [
        "number",
        "state",
        *vcols,
        *pcols,
        "duration_s",
        "epochs_run",
        "pruned_at_epoch",
        "worker",
        "seed",
        "n_params",
        "fit_time_s",
    ]
    if has_rank:
        columns.append("rank_test_score")
    if has_cv:
        columns += ["std_test_score", *(f"split{i}_test_score" for i in range(n_folds))]
    columns += ["error", "datetime_start", "datetime_complete"]
    df = pd.DataFrame(rows, columns=columns)
    for col in columns:
        if col in _INT_ATTRS:
            df[col] = pd.array(df[col].tolist(), dtype="Int64")
    for col in vcols + ["duration_s", "fit_time_s"]:
        df[col] = df[col].astype(float)
    for col in ("datetime_start", "datetime_complete"):
        df[col] = pd.to_datetime(df[col])
    return df


def _n_cv(trial) -> int:
    scores = trial.user_attrs.get("cv_scores")
    return len(scores) if isinstance(scores, list) else 0


def _int_or_none(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return None if not math.isfinite(value) else int(value)


def epochs_table(study) -> pd.DataFrame:
    """One row per trial, fold and epoch with every logged metric and the learning rate.

    Built from the trials' ``fold_epoch_logs`` (k-fold validation) or ``epoch_logs``
    (holdout: a single fold 0). Columns: ``number``, ``state``, ``fold``, ``epoch``
    (0-based), then the log keys: ``loss``, the metrics, their ``val_`` versions and
    ``learning_rate`` last. Values stored as None (NaN/inf) are NaN. Trials without
    epoch logs (e.g. failed before the first epoch, or a scikit-learn-engine candidate
    without a history) have no rows.

    Parameters
    ----------
    study : optuna.Study

    Returns
    -------
    pandas.DataFrame
    """
    rows, keys = [], {}
    for t in study.get_trials(deepcopy=False):
        state = state_name(t)
        for fold, logs in enumerate(fold_logs(t)):
            series = {k: v for k, v in logs.items() if isinstance(v, list)}
            for k in series:
                keys.setdefault(k, None)
            n = max((len(v) for v in series.values()), default=0)
            for epoch in range(n):
                row = {"number": t.number, "state": state, "fold": fold, "epoch": epoch}
                for k, v in series.items():
                    row[k] = finite(v[epoch]) if epoch < len(v) else math.nan
                rows.append(row)
    metric_cols = order_log_keys(list(keys))
    df = pd.DataFrame(rows, columns=["number", "state", "fold", "epoch", *metric_cols])
    for col in metric_cols:
        df[col] = df[col].astype(float)
    for col in ("number", "fold", "epoch"):
        df[col] = df[col].astype(int)
    return df


def order_log_keys(keys: list[str]) -> list[str]:
    """``loss``, metrics, ``val_loss``, ``val_`` metrics, other keys, learning rate last."""
    lr = [k for k in keys if k in ("learning_rate", "lr")]
    train = [k for k in keys if not k.startswith("val_") and k not in lr]
    val = [k for k in keys if k.startswith("val_")]
    train.sort(key=lambda k: k != "loss")
    val.sort(key=lambda k: k != "val_loss")
    return train + val + lr
