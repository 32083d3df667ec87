"""Scorer names: their task, the epoch-log key monitored per epoch and its sign."""

from __future__ import annotations

from ._checks import close_match, fail

__all__ = [
    "METRICS",
    "REGRESSION_SCORERS",
    "SECOND_OBJECTIVES",
    "metric_task",
    "monitor_sign",
    "default_monitor",
    "check_metric",
]

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


#: Minimized second objectives of a multi-objective study.
SECOND_OBJECTIVES = ("n_params", "latency")


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


def check_metric(source, value, task):
    from sklearn.metrics import get_scorer_names

    names = get_scorer_names()
    metric = value or _DEFAULT_METRIC[task]
    valid = [m for m in names if metric_task(m) == task]
    if not isinstance(metric, str) or metric not in names:
        hint = close_match(metric, names)
        fail(
            source,
            "metric",
            f"unknown metric {metric!r} for {task}{hint}; expected a scikit-learn scorer "
            f"name valid for {task}: {valid}",
        )
    if metric_task(metric) != task:
        fail(
            source,
            "metric",
            f"unknown metric {metric!r} for {task}: it is a {metric_task(metric)} scorer; "
            f"valid metrics for {task} are {valid}",
        )
    return metric


def default_monitor(metric: str, task: str) -> str:
    return "val_accuracy" if task == "classification" and metric in _ACCURACY_LIKE else "val_loss"


