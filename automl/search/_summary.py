"""The best trial and ``summary.json``: what a run found, from its trials and settings."""

from __future__ import annotations

import fcntl
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ._claims import budget_used
from ._storage import describe_storage

__all__ = [
    "RunInfo",
    "base_summary",
    "pareto",
    "select_best",
    "states",
    "study_status",
    "validation_label",
    "write_summary_last",
]

#: ``summary.json`` statuses that a later process may still replace with a newer one.
UNFINISHED = ("running",)


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


def study_status(spec, trials) -> dict:
    """Where the study stands for all the processes sharing it.

    ``trials_running``: RUNNING trials in the storage (when this process has
    finished, those of other processes); ``budget_used``: finished trials
    counting towards ``n_trials``. ``status`` is ``"complete"`` when no trial
    runs and the budget is used, ``"running"`` while trials run elsewhere
    (the last process to finish rewrites the summary), ``"stopped"`` when
    the run ended with budget left (a timeout).
    """
    running = sum(1 for t in trials if t.state.name == "RUNNING")
    used = budget_used([t for t in trials if t.state.is_finished()])
    if running:
        status = "running"
    elif spec.engine == "optuna" and used < spec.n_trials:
        status = "stopped"
    else:
        status = "complete"
    return {"status": status, "trials_running": running, "budget_used": used}


def write_summary_last(run, summary: dict) -> bool:
    """Write ``summary.json`` unless a process that finished later already wrote a final one.

    Several processes sharing a study and its output directory each write a
    summary when they finish; under a lock, an unfinished one (``running``)
    never replaces a final one of at least as many finished trials, so the
    file ends as the last process to finish saw the study. Returns whether
    it was written.
    """
    run.path.mkdir(parents=True, exist_ok=True)
    with open(run.path / ".summary.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if summary["status"] in UNFINISHED and run.has(run.SUMMARY):
                try:
                    current = json.loads((run.path / run.SUMMARY).read_text())
                except (OSError, ValueError):
                    current = {}
                if (current.get("study") == summary["study"]
                        and current.get("status") not in UNFINISHED
                        and current.get("budget_used", 0) >= summary["budget_used"]):
                    return False
            run.write_summary(summary)
            return True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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
        **study_status(spec, trials),
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
