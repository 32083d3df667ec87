"""Study runner benchmarks: throughput, parallel speed-up, pruning savings, overhead, memory.

    python benchmarks/studies.py [--quick] [--only NAME ...] [--keep DIR]

Prints, on this machine (targets from the studies issue, on 2 cores):

1. ``default``  trials per minute of the quick-start study (studies/digits_mlp.yaml as
   shipped: 60 trials, 2 workers) and its refit test accuracy (targets: >= 50 trials in
   < 2 min, test accuracy >= 0.975).
2. ``speedup``  wall time of the same 40 trials (random sampler: identical configurations
   at any n_jobs, pruner none, 20 epochs) with n_jobs=1 and n_jobs=2 (target >= 1.8x),
   with and without the start-up of the worker processes (imports, ~1-3 s).
3. ``pruning``  total epochs trained and best validation / test score for the same 40 TPE
   trials with no pruner, the median pruner, Hyperband and successive halving (target:
   >= 2x fewer epochs, best score within 0.5 points).
4. ``overhead`` framework time per trial with a trivial model (iris, 4 units, 1 epoch,
   100 trials, one process): the study's wall time per trial minus the bare
   construct + fit + score time of the same estimator (target < 50 ms).
5. ``memory``   resident memory before and after 200 trivial trials in one process
   (long-lived workers must not grow).

Measure on an idle machine: other processes competing for the cores distort every figure
(the speed-up most).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from automl import run_study  # noqa: E402  (automl.run_study: report=False skips report.html)

DEFAULT_STUDY = REPO / "studies" / "digits_mlp.yaml"

TRIVIAL_SPACE = {"parameters": {"hidden_layer_sizes": [4], "learning_rate": 0.01, "batch_size": 32}}


def _trivial_spec(name: str, n_trials=None) -> dict:
    """A study of the trivial model (iris, 4 units, 1 epoch) in one process."""
    spec = {"name": name, "dataset": "iris", "space": TRIVIAL_SPACE, "epochs": 1}
    if n_trials is not None:
        spec["n_trials"] = n_trials
    spec.update(n_jobs=1, seed=0, sampler="random", pruner="none", preprocessing="none")
    return spec


def _run(spec, out: Path, **overrides):
    if out.exists():
        shutil.rmtree(out)
    return run_study(spec, output=str(out), verbose=0, report=False, **overrides)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _epochs(result) -> int:
    return sum(int(t.user_attrs.get("epochs_run", 0)) for t in result.study.trials)


def bench_default(root: Path, quick: bool) -> dict:
    n = 20 if quick else None
    overrides = {"n_trials": n} if n else {}
    result = _run(DEFAULT_STUDY, root / "default", **overrides)
    s = result.summary
    minutes = s["wall_time_s"]["optimize"] / 60
    row = {
        "trials": s["n_trials"],
        "by_state": s["trials_by_state"],
        "optimize_s": s["wall_time_s"]["optimize"],
        "total_s": s["wall_time_s"]["total"],
        "trials_per_min": round(s["n_trials"] / minutes, 1),
        "best_val": round(s["best_value"], 4),
        "test_accuracy": round(s["test_score"], 4),
        "parallel_efficiency": round(s["trial_time_s_sum"] / s["wall_time_s"]["optimize"], 2),
    }
    print(
        f"default   {row['trials']} trials {row['by_state']} in {row['optimize_s']:.1f} s "
        f"(total {row['total_s']:.1f} s): {row['trials_per_min']} trials/min; best val "
        f"{row['best_val']}, refit test accuracy {row['test_accuracy']}; trial time / wall "
        f"= {row['parallel_efficiency']}"
    )
    return row


def _span(result) -> float:
    """Seconds from the first trial's start to the last trial's end (no worker start-up)."""
    trials = result.study.trials
    start = min(t.datetime_start for t in trials)
    end = max(t.datetime_complete for t in trials)
    return (end - start).total_seconds()


def bench_speedup(root: Path, quick: bool) -> dict:
    n, epochs = (12, 10) if quick else (40, 20)
    base = dict(n_trials=n, epochs=epochs, sampler="random", pruner="none", seed=0)
    one = _run(DEFAULT_STUDY, root / "speed1", n_jobs=1, **base)
    two = _run(DEFAULT_STUDY, root / "speed2", n_jobs=2, **base)
    same = [t.params for t in one.study.trials] == [t.params for t in two.study.trials]
    t1, t2 = one.summary["wall_time_s"]["optimize"], two.summary["wall_time_s"]["optimize"]
    s1, s2 = _span(one), _span(two)
    row = {
        "trials": n,
        "epochs": epochs,
        "n_jobs1_s": t1,
        "n_jobs2_s": t2,
        "speedup": round(t1 / t2, 2),
        "n_jobs1_trials_span_s": round(s1, 2),
        "n_jobs2_trials_span_s": round(s2, 2),
        "speedup_trials_span": round(s1 / s2, 2),
        "trial_time_sum_over_wall_2": round(two.summary["trial_time_s_sum"] / t2, 2),
        "same_configurations": same,
    }
    print(
        f"speedup   {n} trials x {epochs} epochs, 1 BLAS thread per worker: n_jobs=1 {t1:.1f} s, "
        f"n_jobs=2 {t2:.1f} s (worker start-up included) -> {row['speedup']}x; first trial "
        f"start to last trial end {s1:.1f} s vs {s2:.1f} s -> {row['speedup_trials_span']}x; "
        f"same configurations: {same}"
    )
    return row


def bench_pruning(root: Path, quick: bool, seeds=(0,)) -> dict:
    n = 16 if quick else 40
    rows = {}
    pruners = {
        "none": "none",
        "median": {"name": "median", "n_startup_trials": 5, "n_warmup_steps": 4},
        "hyperband": {"name": "hyperband", "min_resource": 1, "reduction_factor": 3},
        "halving": {"name": "successive_halving", "min_resource": 2, "reduction_factor": 3},
    }
    for name, pruner in pruners.items():
        runs = []
        for seed in seeds:
            result = _run(
                DEFAULT_STUDY, root / f"prune_{name}_{seed}", n_trials=n, n_jobs=2, pruner=pruner,
                seed=seed,
            )
            s = result.summary
            runs.append((_epochs(result), s["trials_by_state"]["pruned"], s["best_value"],
                         s["test_score"], s["wall_time_s"]["optimize"]))
        epochs, pruned, best_val, test, seconds = (statistics.fmean(col) for col in zip(*runs))
        rows[name] = {
            "epochs_trained": round(epochs),
            "pruned": round(pruned, 1),
            "best_val": round(best_val, 4),
            "test": round(test, 4),
            "optimize_s": seconds,
        }
    full = rows["none"]["epochs_trained"]
    over = f"mean of seeds {list(seeds)}" if len(seeds) > 1 else f"seed {seeds[0]}"
    for name, row in rows.items():
        row["epochs_saved_x"] = round(full / max(row["epochs_trained"], 1), 2)
        print(
            f"pruning   {name:9s} {n} trials ({over}): {row['epochs_trained']} epochs "
            f"({row['epochs_saved_x']}x fewer than none), {row['pruned']} pruned, best val "
            f"{row['best_val']}, test {row['test']}, {row['optimize_s']:.1f} s"
        )
    return rows


def bench_overhead(root: Path, quick: bool) -> dict:
    from sklearn.metrics import get_scorer

    from automl.search import StudyPlan, load_spec

    n = 40 if quick else 100
    spec = _trivial_spec("trivial", n_trials=n)
    _run(spec, root / "warm", n_trials=3)  # imports, caches
    result = _run(spec, root / "overhead")
    per_trial = result.summary["wall_time_s"]["optimize"] / n

    plan = StudyPlan.from_spec(load_spec({**spec, "output": str(root / "bare")}))
    data = plan.data
    scorer = get_scorer("accuracy")
    params = {"hidden_layer_sizes": (4,), "learning_rate": 0.01, "batch_size": 32}
    start = time.perf_counter()
    for i in range(n):
        est = plan.make_estimator(params, i, epochs=1)
        est.fit(data["X_train"], data["y_train"], validation_data=(data["X_val"], data["y_val"]))
        scorer(est, data["X_val"], data["y_val"])
    bare = (time.perf_counter() - start) / n
    row = {
        "trials": n,
        "study_ms_per_trial": round(per_trial * 1000, 1),
        "bare_fit_ms": round(bare * 1000, 1),
        "overhead_ms": round((per_trial - bare) * 1000, 1),
    }
    print(
        f"overhead  trivial model, {n} trials in one process: {row['study_ms_per_trial']} ms "
        f"per trial vs {row['bare_fit_ms']} ms bare fit+score -> {row['overhead_ms']} ms "
        "framework overhead per trial (sampler, storage writes with fsync, logs, pruning)"
    )
    return row


def bench_memory(root: Path, quick: bool) -> dict:
    n = 60 if quick else 200
    spec = _trivial_spec("memory")
    _run(spec, root / "mem_warm", n_trials=5)
    gc.collect()
    before = _rss_mb()
    _run(spec, root / "mem", n_trials=n)
    gc.collect()
    after = _rss_mb()
    row = {"trials": n, "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1)}
    row["growth_kb_per_trial"] = round((after - before) * 1024 / n, 1)
    print(
        f"memory    {n} trivial trials in one process: RSS {row['rss_before_mb']} -> "
        f"{row['rss_after_mb']} MB ({row['growth_kb_per_trial']} KB per trial, the "
        "storage's records included)"
    )
    return row


BENCHES = {
    "default": bench_default,
    "speedup": bench_speedup,
    "pruning": bench_pruning,
    "overhead": bench_overhead,
    "memory": bench_memory,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller budgets (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), help="run these only")
    parser.add_argument("--keep", metavar="DIR", help="keep the study outputs in DIR")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--seeds", type=int, default=1,
                        help="pruning: average over study seeds 0..N-1 (parallel runs vary)")
    args = parser.parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="automl-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    print(f"{cores} cores, load average {load:.1f} at start")
    figures = {}
    try:
        for name in args.only or list(BENCHES):
            if name == "pruning":
                figures[name] = bench_pruning(root, args.quick, seeds=tuple(range(args.seeds)))
            else:
                figures[name] = BENCHES[name](root, args.quick)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
