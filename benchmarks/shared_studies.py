"""Shared-study benchmarks: processes joining one storage, and the storage's cost per trial.

    python benchmarks/shared_studies.py [--storage URL] [--quick] [--only NAME ...] [--keep DIR]

Prints, on this machine (targets from the beyond-one-machine issue, on 2 cores):

1. ``processes`` trials per minute of the default study (studies/digits_mlp.yaml, random
   sampler and no pruner so that every run trains the same configurations: a trial's
   parameters depend on the study seed and its number only) with 1, 2 and 4
   ``automl run`` processes of one worker each, all joining one study in ``--storage``
   (default: a journal file; a ``postgresql://`` URL works too), and the ratio to one
   process (target: 2 processes >= 1.8x). Trials per minute count from the first trial's
   start to the last trial's end, and over the time all processes ran trials (they
   start a few seconds apart); the wall time with the processes' start-up and the last
   one's refit is printed beside them.
2. ``overhead`` storage cost per trial with a trivial model (iris, 4 units, 1 epoch, one
   process): the study's framework overhead per trial (wall time per trial minus the
   bare fit + score of the same estimator) on a journal file, SQLite and ``--storage``
   when it is a database URL, and the storage operations of one trial alone (claim,
   parameters, attributes and per-epoch values written as the objective writes them, tell)
   replayed on an in-memory storage, a
   journal, SQLite and ``--storage`` (target: < 50 ms per trial with PostgreSQL).

Studies written to a ``--storage`` database are deleted at the end. Measure on an idle
machine: other processes competing for the cores distort every figure (the speed-up most).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from automl import run_study  # noqa: E402

DEFAULT_STUDY = REPO / "studies" / "digits_mlp.yaml"
TRIVIAL_SPACE = {"parameters": {"hidden_layer_sizes": [4], "learning_rate": 0.01, "batch_size": 32}}


def _is_url(storage) -> bool:
    return storage is not None and "://" in str(storage)


def _masked(storage: str) -> str:
    from automl.search._storage import describe_storage

    return describe_storage(storage)


def _delete_study(storage: str, name: str) -> None:
    import optuna

    try:
        optuna.delete_study(study_name=name, storage=storage)
    except KeyError:
        pass


def _counted(study):
    from automl.search._claims import budget_used

    return [t for t in study.get_trials(deepcopy=False)
            if t.state.is_finished() and budget_used([t])]


# ---------------------------------------------------------------------------
# 1. processes sharing one study


def _run_processes(root: Path, storage: str, n_processes: int, n_trials: int, epochs: int):
    """``n_processes`` ``automl run`` processes on one new study: (wall s, trial span s, trials)."""
    import optuna

    from automl.search._storage import open_storage

    name = f"bench-{n_processes}p-{uuid.uuid4().hex[:8]}"
    spec = yaml.safe_load(DEFAULT_STUDY.read_text())
    spec.update(
        space=str(REPO / "search_spaces" / spec["space"]), n_trials=n_trials, epochs=epochs,
        n_jobs=1, sampler="random", pruner="none", seed=0, storage=storage, study_name=name,
        output=str(root / name),
    )
    study_file = root / f"{name}.yaml"
    study_file.write_text(yaml.safe_dump(spec))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "automl", "run", str(study_file), "--no-report", "--quiet"]
    start = time.perf_counter()
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for _ in range(n_processes)]
    try:
        for p in procs:
            _, err = p.communicate(timeout=3600)
            if p.returncode != 0:
                raise RuntimeError(f"automl run failed ({p.returncode}): {err[-2000:]}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    wall = time.perf_counter() - start
    study = optuna.load_study(study_name=name, storage=open_storage(storage))
    trials = _counted(study)
    span = (max(t.datetime_complete for t in trials)
            - min(t.datetime_start for t in trials)).total_seconds()
    configs = sorted(tuple(sorted(t.params.items())) for t in trials)
    if storage and _is_url(storage):
        _delete_study(storage, name)
    return wall, span, _all_running_rate(trials), trials, configs


def _all_running_rate(trials) -> float | None:
    """Trials per minute while every process ran trials (processes start a few s apart)."""
    by_process = {}
    for t in trials:
        by_process.setdefault(t.user_attrs["process"], []).append(t)
    start = max(min(t.datetime_start for t in ts) for ts in by_process.values())
    end = min(max(t.datetime_complete for t in ts) for ts in by_process.values())
    seconds = (end - start).total_seconds()
    done = [t for t in trials if start <= t.datetime_start and t.datetime_complete <= end]
    return len(done) / seconds * 60 if seconds > 0 and done else None


def bench_processes(root: Path, quick: bool, storage: str | None) -> dict:
    n_trials, epochs = (8, 10) if quick else (24, 40)
    rows, reference = {}, None
    for n in (1, 2, 4):
        store = storage or str(root / f"processes-{n}.journal")
        wall, span, rate, trials, configs = _run_processes(root, store, n, n_trials, epochs)
        reference = reference or configs
        rows[n] = {
            "trials": len(trials),
            "wall_s": round(wall, 2),
            "trials_span_s": round(span, 2),
            "trials_per_min": round(len(trials) / span * 60, 1),
            "trials_per_min_all_running": None if rate is None else round(rate, 1),
            "processes_used": len({t.user_attrs["process"].split(":")[1] for t in trials}),
            "same_configurations": configs == reference,
        }
    where = _masked(storage) if storage else "a journal file"
    for n, row in rows.items():
        row["speedup"] = round(row["trials_per_min"] / rows[1]["trials_per_min"], 2)
        row["speedup_wall"] = round(rows[1]["wall_s"] / row["wall_s"], 2)
        both = row["trials_per_min_all_running"]
        row["speedup_all_running"] = (None if both is None else
                                      round(both / rows[1]["trials_per_min"], 2))
        print(
            f"processes {n} x `automl run` (1 worker each) on {where}: {row['trials']} trials x "
            f"{epochs} epochs, first trial start to last trial end {row['trials_span_s']:.1f} s "
            f"-> {row['trials_per_min']} trials/min ({row['speedup']}x one process), while all "
            f"{n} ran {both} trials/min ({row['speedup_all_running']}x); wall with "
            f"start-up and refit {row['wall_s']:.1f} s ({row['speedup_wall']}x); trials ran in "
            f"{row['processes_used']} processes; same configurations: "
            f"{row['same_configurations']}"
        )
    return rows


# ---------------------------------------------------------------------------
# 2. storage overhead per trial


def _trivial_spec(n_trials: int, storage: str, name: str, output: Path) -> dict:
    return {
        "name": name, "study_name": name, "dataset": "iris", "space": TRIVIAL_SPACE,
        "epochs": 1, "n_trials": n_trials, "n_jobs": 1, "seed": 0, "sampler": "random",
        "pruner": "none", "preprocessing": "none", "storage": storage, "output": str(output),
    }


def _bare_ms(root: Path, n: int) -> float:
    from sklearn.metrics import get_scorer

    from automl.search import StudyPlan, load_spec

    spec = _trivial_spec(n, str(root / "bare.journal"), "bare", root / "bare")
    plan = StudyPlan.from_spec(load_spec(spec))
    data, scorer = plan.data, get_scorer("accuracy")
    params = {"hidden_layer_sizes": (4,), "learning_rate": 0.01, "batch_size": 32}
    start = time.perf_counter()
    for i in range(n):
        est = plan.make_estimator(params, i, epochs=1)
        est.fit(data["X_train"], data["y_train"], validation_data=(data["X_val"], data["y_val"]))
        scorer(est, data["X_val"], data["y_val"])
    return (time.perf_counter() - start) / n * 1000


def _study_ms(root: Path, n: int, storage: str, label: str):
    """Wall milliseconds per trial of the trivial study on ``storage``, and its trials."""
    name = f"overhead-{label}-{uuid.uuid4().hex[:8]}"
    result = run_study(_trivial_spec(n, storage, name, root / name), verbose=0, report=False)
    ms = result.summary["wall_time_s"]["optimize"] / n * 1000
    trials = result.study.get_trials(deepcopy=True)
    if _is_url(storage):
        _delete_study(storage, name)
    return ms, trials


def _replay_ms(storage, trials, label: str) -> float:
    """Milliseconds per trial of the storage operations of ``trials``, replayed on ``storage``."""
    import optuna
    from optuna.trial import TrialState

    from automl.search._claims import claim_trial
    from automl.search._objective import PARAMS_ATTR
    from automl.search._storage import open_storage, process_tag
    from automl.search._trial_attrs import set_user_attrs

    store = open_storage(storage) if isinstance(storage, str) else storage
    name = f"replay-{label}-{uuid.uuid4().hex[:8]}"
    study = optuna.create_study(study_name=name, storage=store, direction="maximize")
    tag = process_tag()
    start = time.perf_counter()
    for t in trials:
        frozen = claim_trial(store, study._study_id, len(trials), tag)
        tid = frozen._trial_id
        attrs = {k: v for k, v in t.user_attrs.items() if k != "process"}
        if PARAMS_ATTR in attrs:  # drawn by the parent
            store.set_trial_user_attr(tid, PARAMS_ATTR, attrs.pop(PARAMS_ATTR))
        for key, value in t.params.items():
            dist = t.distributions[key]
            store.set_trial_param(tid, key, dist.to_internal_repr(value), dist)
        trial = optuna.Trial(study, tid)  # the worker's view: one read
        store.set_trial_user_attr(tid, "process", tag)  # the worker's tag
        # The objective's writes: seed and worker first, the rest and (without a
        # pruner) the epochs' values at the end, each in one write.
        set_user_attrs(trial, {k: attrs.pop(k) for k in ("seed", "worker") if k in attrs})
        set_user_attrs(trial, attrs, intermediate_values=t.intermediate_values)
        store.set_trial_state_values(tid, TrialState.COMPLETE, t.values)
        store.get_all_trials(study._study_id, deepcopy=False)  # the loop's look at the budget
    ms = (time.perf_counter() - start) / len(trials) * 1000
    if isinstance(storage, str) and _is_url(storage):
        _delete_study(storage, name)
    return ms


def bench_overhead(root: Path, quick: bool, storage: str | None) -> dict:
    import optuna

    n = 40 if quick else 100
    stores = {"journal": str(root / "overhead.journal"),
              "sqlite": f"sqlite:///{root / 'overhead.db'}"}
    if _is_url(storage):
        stores["given"] = storage
    run_study(_trivial_spec(3, str(root / "warm.journal"), "warm", root / "warm"),
              verbose=0, report=False)  # imports, caches
    bare = _bare_ms(root, n)
    rows, reference = {}, None
    for label, store in stores.items():
        study_ms, trials = _study_ms(root, n, store, label)
        reference = reference or trials
        rows[label] = {"study_ms_per_trial": round(study_ms, 1),
                       "overhead_ms": round(study_ms - bare, 1)}
    replay = {
        "in-memory": optuna.storages.InMemoryStorage(),
        "journal": str(root / "replay.journal"),
        "sqlite": f"sqlite:///{root / 'replay.db'}",
    }
    if _is_url(storage):
        replay["given"] = storage
    for label, store in replay.items():
        rows.setdefault(label, {})["storage_ms_per_trial"] = round(
            _replay_ms(store, reference, label), 2)
    base = rows["in-memory"]["storage_ms_per_trial"]
    print(f"overhead  trivial model, {n} trials in one process; bare fit + score "
          f"{bare:.1f} ms per trial")
    for label, row in rows.items():
        where = _masked(storage) if label == "given" else label
        line = f"overhead  {where:10s}"
        if "overhead_ms" in row:
            line += (f" study {row['study_ms_per_trial']} ms per trial -> "
                     f"{row['overhead_ms']} ms framework overhead;")
        ratio = row["storage_ms_per_trial"] / base if base else float("nan")
        line += (f" storage operations of one trial {row['storage_ms_per_trial']} ms "
                 f"({ratio:.1f}x in-memory)")
        print(line)
    return {"bare_fit_ms": round(bare, 1), **rows}


BENCHES = {"processes": bench_processes, "overhead": bench_overhead}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", metavar="URL",
                        help="shared storage: a database URL or a journal file "
                             "(default: a new journal file per run)")
    parser.add_argument("--quick", action="store_true", help="smaller budgets (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), help="run these only")
    parser.add_argument("--keep", metavar="DIR", help="keep the study outputs in DIR")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="automl-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f} at start")
    figures = {}
    try:
        for name in args.only or list(BENCHES):
            figures[name] = BENCHES[name](root, args.quick, args.storage)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
