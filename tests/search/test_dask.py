"""Trials on a real Dask cluster: a scheduler and two workers started as separate processes.

The cluster (``dask scheduler`` + two ``dask worker --nthreads 1`` with nannies) is
started once per session and stopped, also on failure, by the ``_cluster`` fixture.
"""

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import distributed
import numpy as np
import pytest
from optuna.trial import TrialState

from automl import run_study
from automl.cli import main
from automl.search import SpecError, load_spec, parse_spec
from automl.search._dask_pool import (
    DASK_ATTR,
    ClusterError,
    DaskPool,
    _build_runner,
    cluster_warning,
)
from automl.search._plan import StudyPlan
from automl.search._pool import TrialRunner
from automl.search._storage import open_storage
from tests.search.runner_helpers import tiny

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
N_WORKERS = 2


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def _start(args, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", *args], stdout=out,
                                stderr=subprocess.STDOUT, env=_env(), start_new_session=True)


def _stop(procs) -> None:
    for proc in procs:  # each runs in its own session: stop the process group we started
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def _cluster(tmp_path_factory):
    """Address of a local scheduler with ``N_WORKERS`` one-thread workers (separate processes)."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    procs = []
    try:
        procs.append(_start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                             "--port", "0", "--no-dashboard",
                             "--scheduler-file", str(scheduler_file)], folder / "scheduler.log"))
        for i in range(N_WORKERS):
            procs.append(_start(["distributed.cli.dask_worker", "--scheduler-file",
                                 str(scheduler_file), "--nthreads", "1", "--nworkers", "1",
                                 "--no-dashboard", "--local-directory", str(folder / f"w{i}")],
                                folder / f"worker{i}.log"))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail(f"the Dask scheduler did not start: "
                            f"{(folder / 'scheduler.log').read_text()[-2000:]}")
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written at once, but not atomically
        yield json.loads(scheduler_file.read_text())["address"]
    finally:
        _stop(procs)


@pytest.fixture
def cluster(_cluster):
    """The session's cluster, with all its workers up (a killed one is restarted by its nanny)."""
    with distributed.Client(_cluster, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(N_WORKERS, timeout=90)
    return _cluster


def _states(trials):
    return [t.state for t in trials]


def _same_trials(trials, reference):
    assert _states(trials) == _states(reference)
    for a, b in zip(trials, reference):
        assert a.params == b.params and a.user_attrs["seed"] == b.user_attrs["seed"]
        assert a.intermediate_values == pytest.approx(b.intermediate_values)
        assert a.value == pytest.approx(b.value)


def test_study_on_the_cluster_runs_the_trials_of_a_local_run(tmp_path, cluster, capsys):
    # The random sampler draws trial k's parameters from (seed, k) only, so two trials at
    # a time on the cluster give the trials of one local process: same parameters, seeds
    # and scores.
    spec = tiny(tmp_path, n_trials=6, epochs=3, sampler="random")
    local = run_study(spec, verbose=0, report=False).study.trials
    capsys.readouterr()
    result = run_study({**spec, "output": str(tmp_path / "dask")}, cluster=cluster, n_jobs=2,
                       verbose=0, report=False)
    trials = result.study.trials
    _same_trials(trials, local)
    assert result.summary["trials_by_state"]["complete"] == 6  # the full budget
    # Run by both Dask workers, which told their results to the journal themselves.
    addresses = {t.user_attrs[DASK_ATTR].split()[0] for t in trials}
    assert len(addresses) == N_WORKERS and all(a.startswith("tcp://") for a in addresses)
    assert {t.user_attrs["worker"] for t in trials} == {0, 1}
    assert json.loads((tmp_path / "dask" / "run.json").read_text())["spec"]["cluster"] == cluster
    # The storage is a journal file: one line says workers elsewhere need a database.
    err = capsys.readouterr().err
    warning = [line for line in err.splitlines() if "Dask workers on other machines" in line]
    assert len(warning) == 1 and "study.journal" in warning[0] and "database" in warning[0]


def test_pruning_on_the_cluster_is_that_of_a_local_run(tmp_path, cluster):
    # Deterministic batches of one slot: the pruner of each trial sees the same history.
    spec = tiny(tmp_path, n_trials=6, epochs=4, sampler="random", deterministic=True,
                pruner={"name": "median", "n_startup_trials": 2, "n_warmup_steps": 1})
    local = run_study(spec, verbose=0, report=False).study.trials
    trials = run_study({**spec, "output": str(tmp_path / "dask")}, cluster=cluster,
                       verbose=0, report=False).study.trials
    _same_trials(trials, local)
    assert TrialState.PRUNED in _states(trials)  # pruned on the Dask workers
    assert all(DASK_ATTR in t.user_attrs for t in trials)


def test_storage_warning_only_for_local_files(tmp_path):
    assert "local file" in cluster_warning(parse_spec(tiny(tmp_path)))
    sqlite = parse_spec(tiny(tmp_path, storage=f"sqlite:///{tmp_path}/s.db"))
    assert "local file" in cluster_warning(sqlite)
    database = parse_spec(tiny(tmp_path, storage="postgresql://u:secret@db.example:5432/x"))
    assert cluster_warning(database) is None


def test_large_data_reaches_the_workers_memory_mapped(tmp_path, cluster, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    spec = tiny(tmp_path, dataset="dask_helpers:blobs", n_trials=2, epochs=1, n_jobs=2,
                sampler="random")
    result = run_study(spec, cluster=cluster, verbose=0, report=False)
    assert result.summary["trials_by_state"]["complete"] == 2


def _shipment(tmp_path, **keys):
    spec = load_spec(tiny(tmp_path, dataset="dask_helpers:blobs", **keys))
    plan = StudyPlan.from_spec(spec)
    runner = TrialRunner(objective=plan.objective(0), storage=str(tmp_path / "j"),
                         study_name="tiny", directions=["maximize"], pruner=plan.pruner)
    pool = DaskPool.__new__(DaskPool)  # its shipment only: no cluster
    return plan, pool, pool._shipment(runner, spec)


def test_a_worker_elsewhere_loads_the_data_from_its_reference(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    plan, pool, shipment = _shipment(tmp_path)
    try:
        assert set(shipment.files) == {"X_train"}  # the small arrays travel inline
        assert shipment.runner.objective.X_train is None
        here = _build_runner(shipment, "tcp://w:1").objective
        assert isinstance(here.X_train, np.memmap)
        elsewhere = _build_runner(dataclasses.replace(shipment, host="elsewhere"), "tcp://w:1")
        X = elsewhere.objective.X_train
        assert not isinstance(X, np.memmap)
        np.testing.assert_array_equal(X, plan.data["X_train"])
        np.testing.assert_array_equal(elsewhere.objective.y_val, plan.data["y_val"])
        # A worker that cannot import the dataset's function: one line naming it and the rule.
        gone = dataclasses.replace(shipment, host="elsewhere", reference=dataclasses.replace(
            shipment.reference, dataset="dask_helpers:no_such_loader"))
        with pytest.raises(ClusterError) as info:
            _build_runner(gone, "tcp://w:1")
        message = str(info.value)
        assert "Dask worker tcp://w:1" in message and "'dask_helpers:no_such_loader'" in message
        assert "a built-in name, a file at the same path" in message and "\n" not in message
    finally:
        shutil.rmtree(pool._data_dir)


def _kill_first_started(storage_path, study_name, killed: list, stop: threading.Event):
    """Kill (SIGKILL) the Dask worker process of the first trial seen RUNNING on a worker.

    The kill lands while the worker builds the trial's model (``slow_mlp`` pauses
    there), not while it holds the journal's lock file.
    """
    storage = open_storage(storage_path)
    while not stop.is_set():
        try:
            study_id = storage.get_study_id_from_name(study_name)
            trials = storage.get_all_trials(study_id, deepcopy=False)
        except KeyError:  # not created yet
            trials = []
        for t in trials:
            if t.state == TrialState.RUNNING and DASK_ATTR in t.user_attrs:
                pid = int(t.user_attrs[DASK_ATTR].split()[1].rsplit(":", 2)[1])
                time.sleep(0.3)  # in the model build's pause: the journal's lock is free
                os.kill(pid, signal.SIGKILL)
                killed.append((t.number, pid))
                return
        time.sleep(0.02)


def test_killed_dask_worker_fails_its_trial_which_runs_again(tmp_path, cluster):
    spec = tiny(tmp_path, n_trials=4, epochs=2, n_jobs=2, sampler="random",
                model="dask_helpers:slow_mlp",
                space={"parameters": {"units": {"type": "int", "low": 4, "high": 16},
                                      "learning_rate": 0.02}})
    sys.path.insert(0, str(HERE))  # the refit in this process builds the model too
    killed, stop = [], threading.Event()
    killer = threading.Thread(target=_kill_first_started,
                              args=(tmp_path / "out" / "study.journal", "tiny", killed, stop))
    killer.start()
    try:
        result = run_study(spec, cluster=cluster, verbose=0, report=False)
    finally:
        stop.set()
        killer.join()
        sys.path.remove(str(HERE))
    assert len(killed) == 1
    trials = result.study.trials
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert [t.number for t in failed] == [killed[0][0]]
    error = failed[0].user_attrs["error"]
    assert error.startswith("WorkerDied: worker ") and f":{killed[0][1]}:" in error
    retry = [t for t in trials if t.user_attrs.get("retry_of") == failed[0].number]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    assert retry[0].params == failed[0].params
    assert retry[0].user_attrs["seed"] == failed[0].user_attrs["seed"]
    assert result.summary["trials_by_state"]["complete"] == 4  # the full budget
    assert result.summary["lost_trials"] == [failed[0].number]
    assert not [t for t in trials if t.state == TrialState.RUNNING]


def test_sklearn_engine_fits_on_the_cluster(tmp_path, cluster):
    space = {"parameters": {"hidden_layer_sizes": {"type": "categorical", "choices": [[4], [8]]},
                            "learning_rate": 0.02, "batch_size": 32}}
    spec = tiny(tmp_path, engine="sklearn", search="grid", space=space, epochs=3)
    del spec["sampler"], spec["pruner"]
    local = run_study(spec, verbose=0, report=False).study.trials
    with distributed.Client(cluster, set_as_default=False) as client:
        before = client.run_on_scheduler(_prefixes)
        result = run_study({**spec, "output": str(tmp_path / "dask")}, cluster=cluster,
                           verbose=0, report=False)
        after = client.run_on_scheduler(_prefixes)
    trials = result.study.trials
    assert len(trials) == 2 and all(t.state == TrialState.COMPLETE for t in trials)
    assert [t.params for t in trials] == [t.params for t in local]
    assert [t.value for t in trials] == pytest.approx([t.value for t in local])
    assert all(t.user_attrs["epoch_logs"] for t in trials)  # histories came back
    assert after - before  # the fits ran as tasks of the scheduler


def _prefixes(dask_scheduler):
    return set(dask_scheduler.task_prefixes)


@pytest.mark.parametrize("value", ["localhost:8786", "tcp://host", "tcp://h:0", 8786,
                                   "http://h:8786"])
def test_bad_cluster_value_is_one_line_naming_the_key(tmp_path, value):
    with pytest.raises(SpecError) as info:
        parse_spec(tiny(tmp_path, cluster=value))
    message = str(info.value)
    assert "'cluster'" in message and repr(value) in message and "tcp://HOST:PORT" in message
    assert "\n" not in message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_unreachable_scheduler_is_one_line_with_the_address(tmp_path, capsys):
    study = tmp_path / "study.yaml"
    study.write_text(json.dumps(tiny(tmp_path)))
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    assert main(["run", str(study), "--cluster", address, "--no-report", "-q"]) == 1
    assert time.monotonic() - start < 15
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "Dask scheduler" in lines[0]
    assert not (tmp_path / "out" / "run.json").exists()  # nothing started
    assert main(["run", str(study), "--cluster", "127.0.0.1", "-q"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "'cluster'" in lines[0] and "'127.0.0.1'" in lines[0]
