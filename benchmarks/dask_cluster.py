"""Trials on a local Dask cluster vs the local process pool: throughput and per-trial overhead.

    python benchmarks/dask_cluster.py [--quick] [--only default|overhead] [--json FILE]

Starts a Dask scheduler and one-thread workers as separate processes on this
machine (``dask scheduler`` / ``dask worker --nthreads 1``), stops them at the end, and
prints:

1. ``default``  trials per minute of the quick-start study (studies/digits_mlp.yaml as
   shipped: 60 trials, TPE, median pruner) in the local process pool (its ``n_jobs: 2``)
   and on a Dask cluster of 1 and of 2 workers, with the ratios to the pool.
2. ``overhead`` per-trial time of the trivial model (iris, 4 units, 1 epoch, random
   sampler, no pruner) run one at a time in this process and on a one-worker Dask
   cluster: the difference is what a Dask task adds to a trial (submit, schedule, result
   round trip; the storage writes are the same in both).

Measure on an idle machine: other processes competing for the cores distort every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from automl import run_study  # noqa: E402

DEFAULT_STUDY = REPO / "studies" / "digits_mlp.yaml"
TRIVIAL_SPACE = {"parameters": {"hidden_layer_sizes": [4], "learning_rate": 0.01, "batch_size": 32}}


@contextmanager
def local_cluster(root: Path, n_workers: int):
    """A scheduler and ``n_workers`` one-thread workers as separate processes; their address."""
    folder = Path(tempfile.mkdtemp(prefix="dask-", dir=root))
    scheduler_file = folder / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    procs = []

    def start(args, log):
        with open(folder / log, "wb") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", *args], stdout=out,
                                          stderr=subprocess.STDOUT, env=env,
                                          start_new_session=True))

    try:
        start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
               "--no-dashboard", "--scheduler-file", str(scheduler_file)], "scheduler.log")
        for i in range(n_workers):
            start(["distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
                   "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                   "--local-directory", str(folder / f"w{i}")], f"worker{i}.log")
        while not scheduler_file.exists():
            time.sleep(0.1)
        time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        import distributed

        with distributed.Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(n_workers, timeout=120)
            # The workers import what a trial needs once, as a process pool's workers do.
            client.run(lambda: __import__("automl.search._objective"))
        yield address
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _run(spec, out: Path, **overrides):
    if out.exists():
        shutil.rmtree(out)
    return run_study(spec, output=str(out), verbose=0, report=False, **overrides)


def _per_min(result) -> float:
    s = result.summary
    return s["n_trials"] / (s["wall_time_s"]["optimize"] / 60)


def bench_default(root: Path, quick: bool) -> dict:
    overrides = {"n_trials": 20} if quick else {}
    rows = {"pool": _per_min(_run(DEFAULT_STUDY, root / "pool", **overrides))}
    for k in (1, 2):
        with local_cluster(root, k) as address:
            rows[f"dask{k}"] = _per_min(
                _run(DEFAULT_STUDY, root / f"dask{k}", cluster=address, **overrides))
    row = {name: round(v, 1) for name, v in rows.items()}
    row["dask1_vs_pool"] = round(rows["dask1"] / rows["pool"], 2)
    row["dask2_vs_pool"] = round(rows["dask2"] / rows["pool"], 2)
    row["dask2_vs_dask1"] = round(rows["dask2"] / rows["dask1"], 2)
    print(
        f"default   trials/min: process pool (2 workers) {row['pool']}, Dask 1 worker "
        f"{row['dask1']}, Dask 2 workers {row['dask2']} -> Dask 1 / pool "
        f"{row['dask1_vs_pool']}x, Dask 2 / pool {row['dask2_vs_pool']}x, Dask 2 / Dask 1 "
        f"{row['dask2_vs_dask1']}x"
    )
    return row


def bench_overhead(root: Path, quick: bool) -> dict:
    n = 40 if quick else 100
    spec = {"name": "trivial", "dataset": "iris", "space": TRIVIAL_SPACE, "epochs": 1,
            "n_trials": n, "n_jobs": 1, "seed": 0, "sampler": "random", "pruner": "none",
            "preprocessing": "none"}
    _run(spec, root / "warm", n_trials=3)  # imports, caches
    local = _run(spec, root / "local").summary["wall_time_s"]["optimize"] / n
    with local_cluster(root, 1) as address:
        _run(spec, root / "dask_warm", n_trials=3, cluster=address)
        dask = _run(spec, root / "dask", cluster=address).summary["wall_time_s"]["optimize"] / n
    row = {
        "trials": n,
        "local_ms_per_trial": round(local * 1000, 1),
        "dask_ms_per_trial": round(dask * 1000, 1),
        "dask_overhead_ms": round((dask - local) * 1000, 1),
        "dask_vs_local": round(dask / local, 2),
    }
    print(
        f"overhead  trivial model, {n} trials one at a time: {row['local_ms_per_trial']} ms "
        f"per trial in this process, {row['dask_ms_per_trial']} ms on a 1-worker Dask "
        f"cluster ({row['dask_vs_local']}x) -> {row['dask_overhead_ms']} ms per trial for "
        "the Dask task"
    )
    return row


BENCHES = {"default": bench_default, "overhead": bench_overhead}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller budgets (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), help="run these only")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="automl-bench-"))
    print(f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f} at start")
    figures = {}
    try:
        for name in args.only or list(BENCHES):
            figures[name] = BENCHES[name](root, args.quick)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
