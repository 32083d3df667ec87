"""The best trial and ``summary.json``: what a run found, from its trials and settings."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ._storage import describe_storage

__all__ = ["RunInfo", "base_summary", "pareto", "select_best", "states", "validation_label"]


@dataclass
class RunInfo:
    """The settings a run resolved (seed, workers, storage) and what happened to it."""

    study_name: str
    storage_url: str
    seed: int
    n_jobs: int
    threads: int
    deterministic: bool
    directions: list
    sizes: dict = field(default_factory=dict)
    recovered: dict = field(default_factory=lambda: {"recovered": [], "unknown": []})
    lost: list = field(default_factory=list)
    t_start: float = field(default_factory=time.perf_counter)
    optimize_s: float = 0.0


def validation_label(spec) -> str:
    """``"holdout"`` or ``"kfold:<k>"``."""
    v = spec.validation
    return "holdout" if v["kind"] == "holdout" else f"kfold:{v['n_splits']}"


def select_best(trials, directions: list[str]):
    """The best complete trial; ties go to the lowest final ``val_loss``, then the lowest number.

    Validation accuracy on a few hundred samples ties often; the loss
    separates the tied models by how confidently they are right. With two
    objectives the choice is among the Pareto-optimal trials, by the first.
    """
    from optuna.trial import TrialState

    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if len(directions) > 1:
        complete = pareto(complete, directions)
    sign = 1.0 if directions[0] == "maximize" else -1.0

    def key(t):
        logs = t.user_attrs.get("epoch_logs") or {}
        losses = [v for v in logs.get("val_loss", []) if v is not None]
        return (sign * t.values[0], -(losses[-1] if losses else float("inf")), -t.number)

    return max(complete, key=key)


def pareto(trials, directions):
    """The trials no other trial dominates."""
    signs = np.array([1.0 if d == "maximize" else -1.0 for d in directions])
    values = np.array([t.values for t in trials], dtype=float) * signs
    keep = []
    for i, v in enumerate(values):
        dominated = np.any(np.all(values >= v, axis=1) & np.any(values > v, axis=1))
        if not dominated:
            keep.append(trials[i])
    return keep


def states(trials) -> dict[str, int]:
    """Trials by state: ``complete``, ``pruned``, ``fail`` first, then any others."""
    counts = Counter(t.state.name.lower() for t in trials)
    out = {k: counts.pop(k, 0) for k in ("complete", "pruned", "fail")}
    out.update(sorted(counts.items()))
    return out


def _trial_time(trials) -> float:
    total = 0.0
    for t in trials:
        if t.datetime_start and t.datetime_complete:
            total += (t.datetime_complete - t.datetime_start).total_seconds()
    return round(total, 3)


def base_summary(spec, info: RunInfo, trials) -> dict:
    """``summary.json`` without the best trial's entries."""
    directions = info.directions
    return {
        "study": info.study_name,
        "source": spec.source,
        "dataset": spec.dataset_name,
        "task": spec.task,
        "metric": spec.metric,
        "direction": directions[0] if len(directions) == 1 else directions,
        "objectives": spec.objectives or [spec.metric],
        "engine": spec.engine,
        "storage": describe_storage(info.storage_url),
        "status": "complete",
        "best_value": None,
        "test_score": None,
        "best_trial": None,
        "best_trial_seed": None,
        "best_trial_params": None,
        "n_trials": len(trials),
        "trials_by_state": states(trials),
        "seed": info.seed,
        "epochs": spec.epochs,
        "n_jobs": info.n_jobs,
        "threads_per_worker": info.threads,
        "deterministic": info.deterministic,
        "validation": validation_label(spec),
        "split_sizes": {k: int(v) for k, v in info.sizes.items()},
        "wall_time_s": {
            "optimize": round(info.optimize_s, 3),
            "refit": 0.0,
            "total": round(time.perf_counter() - info.t_start, 3),
        },
        "trial_time_s_sum": _trial_time(trials),
        "lost_trials": info.lost + info.recovered.get("recovered", []),
    }
