"""What a run prints: recovered trials, an interruption, and the final report."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["print_interrupted", "print_recovery", "print_report", "where"]


def where(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def print_recovery(recovered: dict) -> None:
    given_up = recovered.get("given_up", [])
    retried = [n for n in recovered["recovered"] if n not in given_up]
    if retried:
        print(
            f"Trials {retried} were left RUNNING by a dead process: "
            "marked failed and queued again.",
            file=sys.stderr,
        )
    if given_up:
        print(
            f"Trials {given_up} were left RUNNING by a dead process once too often "
            "(max_retries): failed for good.",
            file=sys.stderr,
        )
    if recovered["unknown"]:
        print(
            f"Trials {recovered['unknown']} are RUNNING on another host; left as they are.",
            file=sys.stderr,
        )


def print_interrupted(states: dict, n_trials: int, out: Path) -> None:
    done = states["complete"] + states["pruned"]
    print(
        f"\nInterrupted: {done} of {n_trials} trials finished; running trials were "
        f"marked failed and queued again. Results so far are in {where(out)}/.\n"
        f"Resume with: automl resume {where(out)}",
        file=sys.stderr,
    )


def print_report(result) -> None:
    """The summary of a finished :class:`StudyResult`: trials, best parameters, scores."""
    s = result.summary
    states = ", ".join(f"{n} {k}" for k, n in s["trials_by_state"].items() if n)
    print(
        f"Study {s['study']!r}: {s['n_trials']} trials ({states}) "
        f"in {s['wall_time_s']['optimize']:.1f} s with {s['n_jobs']} worker(s)"
    )
    print(f"Best trial #{s['best_trial']} (seed {s['best_trial_seed']}):")
    for key, value in result.best_params.items():
        shown = f"{value:.4g}" if isinstance(value, float) else repr(value)
        print(f"  {key} = {shown}")
    print(f"Validation {s['metric']}: {s['best_value']:.4f}")
    if s.get("test_score") is not None:
        print(
            f"Test {s['metric']} of the best model refit on train+validation: "
            f"{s['test_score']:.4f} ({s['split_sizes'].get('test')} samples)"
        )
    print(f"Results written to {where(result.output_dir)}/")
