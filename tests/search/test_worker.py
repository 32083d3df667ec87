"""``automl worker``: processes joining a study with nothing but its storage and name.

The PostgreSQL tests use the session server of ``conftest.py``; every process
gets the password from ``PGPASSWORD`` (libpq), never from the URL.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml
from optuna.trial import TrialState

from automl.search import open_storage, run_study
from automl.search._record import mark_running
from automl.search._storage import budget_used, process_tag
from tests.search.runner_helpers import TINY_SPACE, tiny

ROOT = Path(__file__).resolve().parents[2]


def automl(*args, cwd, env=None, wait=True, timeout=600):
    """``python -m automl ARGS`` in ``cwd``; a Popen when ``wait`` is False."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    cmd = [sys.executable, "-m", "automl", *map(str, args)]
    if not wait:
        return subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def finish(proc, timeout=600):
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, out, err


def wait_for(predicate, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def files_of(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def study_of(url, name="tiny"):
    return optuna.load_study(study_name=name, storage=open_storage(url))


def configurations(trials):
    return [tuple(sorted(t.params.items())) for t in trials
            if t.state != TrialState.WAITING and not t.user_attrs.get("retried")]


# ---------------------------------------------------------------------------


def test_run_and_two_workers_share_a_postgres_study(postgres, tmp_path):
    pytest.importorskip("psycopg")
    env = {"PGPASSWORD": postgres.password}
    url = postgres.url(password=False)
    study_file = tmp_path / "study.yaml"
    n_trials = 9
    study_file.write_text(yaml.safe_dump(tiny(tmp_path, n_trials=n_trials, epochs=4,
                                              storage=url, sampler={"name": "random"})))
    elsewhere = [tmp_path / "w1", tmp_path / "w2"]  # the workers' "other machines"
    for folder in elsewhere:
        folder.mkdir()
    main = automl("run", study_file, "--no-report", cwd=tmp_path, env=env, wait=False)
    procs = []
    try:
        wait_for(lambda: "tiny" in optuna.get_all_study_names(open_storage(postgres.url()))
                 and "worker_spec" in study_of(postgres.url()).user_attrs,
                 what="the study and its recorded spec")
        procs = [automl("worker", "--storage", url, "--study-name", "tiny", cwd=folder,
                        env=env, wait=False) for folder in elsewhere]
        results = [finish(p) for p in [main, *procs]]
    finally:
        for p in [main, *procs]:
            if p.poll() is None:
                p.kill()
    for code, _, err in results:
        assert code == 0, err
    for _, out, _ in results[1:]:
        assert "Worker joined study 'tiny' in postgresql://postgres@127.0.0.1" in out
        assert "Worker stopped (" in out
    for folder in elsewhere:  # workers write only to the storage
        assert files_of(folder) == {}
    trials = study_of(postgres.url()).get_trials(deepcopy=False)
    assert all(t.state.is_finished() for t in trials if t.state != TrialState.WAITING)
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    # Every process's trials were told; the run's summary saw the study.
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["best_trial"] is not None and summary["storage"] == url
    # Exactly the budget, and no configuration twice. Both need the concurrency fixes of
    # issue #15 (per-process seed streams, budget claimed atomically): without them the
    # processes asking together may overshoot the budget or draw the same configuration.
    used = budget_used(trials)
    assert n_trials <= used <= n_trials + 2
    assert used == n_trials  # CONCURRENCY: needs the atomic budget claim
    configs = configurations(trials)
    assert len(set(configs)) == len(configs)  # CONCURRENCY: needs per-process seed streams


def test_worker_needs_only_storage_and_name(tmp_path):
    """The study file, its space file and the working directory are gone: the storage suffices."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    data = tmp_path / "data" / "points.csv"
    data.parent.mkdir()
    lines = ["a,b,c,label"] + [f"{a:.4f},{b:.4f},{c:.4f},{int(a + b > 0)}" for a, b, c in X]
    data.write_text("\n".join(lines) + "\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "space.yaml").write_text(yaml.safe_dump(TINY_SPACE))
    keys = tiny(tmp_path, dataset={"csv": "../data/points.csv", "target": "label"},
                space="space.yaml", n_trials=1, epochs=2,
                storage=str(tmp_path / "shared.journal"))
    keys.pop("output")
    (project / "study.yaml").write_text(yaml.safe_dump(keys))
    run = automl("run", "study.yaml", "--no-report", "-q", cwd=project)
    assert run.returncode == 0, run.stderr
    storage = open_storage(tmp_path / "shared.journal")
    study = optuna.load_study(study_name="tiny", storage=storage)
    mark_running(study, 3)  # as a resume with a larger budget elsewhere does
    os.rename(project, tmp_path / "moved")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # --max-trials: one trial, then stop; the study still has budget left.
    first = automl("worker", "--storage", tmp_path / "shared.journal", "--max-trials", "1",
                   cwd=elsewhere)
    assert first.returncode == 0, first.stderr
    assert "Worker joined study 'tiny'" in first.stdout and "1 of 3 trials used" in first.stdout
    assert "Worker stopped (--max-trials 1 reached): 1 trials here (1 complete)" in first.stdout
    second = automl("worker", "--storage", tmp_path / "shared.journal", "--study-name", "tiny",
                    "-q", cwd=elsewhere)
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    assert files_of(elsewhere) == {}
    # A study marked finished: the worker stops before asking.
    mark_running(study, 10)
    study.set_user_attr("finished", True)
    third = automl("worker", "--storage", tmp_path / "shared.journal", cwd=elsewhere)
    assert third.returncode == 0, third.stderr
    assert "Worker stopped (the study is marked finished): 0 trials here" in third.stdout


def test_worker_that_cannot_reach_the_data(tmp_path):
    data = tmp_path / "points.npz"
    rng = np.random.default_rng(0)
    np.savez(data, X=rng.normal(size=(60, 3)), y=rng.integers(0, 2, 60))
    journal = tmp_path / "shared.journal"
    run_study(tiny(tmp_path, dataset={"npz": str(data)}, n_trials=1, epochs=1,
                   storage=str(journal)), verbose=0)
    data.unlink()  # the worker's machine does not have the file
    proc = automl("worker", "--storage", journal, "--study-name", "tiny", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "study 'tiny'" in lines[0] and "points.npz" in lines[0]
    assert "a file at the same path" in lines[0]
    proc = automl("worker", "--storage", journal, "--study-name", "nope", cwd=tmp_path)
    assert proc.returncode == 2 and "no study 'nope'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_ctrl_c_in_a_worker_fails_only_its_own_trials(postgres, tmp_path):
    pytest.importorskip("psycopg")
    url = postgres.url()
    spec = tiny(tmp_path, n_trials=1, epochs=1, storage=url)
    run_study(spec, verbose=0)
    study = study_of(url)
    mark_running(study, 50)
    # A live trial of another process (this one) that the worker must not touch.
    other = study.ask()
    other.suggest_float("x", 0, 1)
    other.set_user_attr("process", process_tag())
    worker = automl("worker", "--storage", url, "--study-name", "tiny", "--n-jobs", "2",
                    "--max-trials", "40", cwd=tmp_path, wait=False)
    try:
        def running_of_worker():
            return [t for t in study.get_trials(deepcopy=False)
                    if t.state == TrialState.RUNNING and t.number != other.number]

        wait_for(lambda: len(running_of_worker()) >= 1, what="a trial of the worker")
        time.sleep(0.5)
        worker.send_signal(signal.SIGINT)
        code, out, err = finish(worker, timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert code == 130, err
    assert "Worker interrupted: its running trials were failed and queued again." in out
    trials = study.get_trials(deepcopy=False)
    assert trials[other.number].state == TrialState.RUNNING
    assert not [t for t in trials if t.state == TrialState.RUNNING and t.number != other.number]
    interrupted = [t for t in trials if t.user_attrs.get("error") == "interrupted"]
    assert interrupted and all(t.state == TrialState.FAIL for t in interrupted)
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    assert sorted(t.user_attrs.get("retry_of") for t in waiting) == sorted(
        t.user_attrs.get("retry_of", t.number) for t in interrupted)
    study.tell(other, 0.5)
