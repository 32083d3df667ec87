"""Storages, process tags, stale trials of dead processes, worker processes of scripts."""

import os
import socket
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from automl.search._storage import (
    budget_used,
    describe_storage,
    open_storage,
    process_alive,
    process_tag,
    recover_stale_trials,
)
from tests.search.runner_helpers import tiny


def test_process_tags():
    assert process_alive(process_tag()) is True
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    tag = process_tag(dead.pid)
    dead.wait()
    assert process_alive(tag) is False
    host, pid, ticks = process_tag().rsplit(":", 2)
    assert host == socket.gethostname() and int(pid) == os.getpid() and ticks.isdigit()
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # exited, not yet reaped
    deadline = time.monotonic() + 60
    while process_alive(process_tag(zombie.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_alive(process_tag(zombie.pid)) is False and zombie.poll() == 0
    # The same pid started at another time is another process.
    assert process_alive(f"{host}:{pid}:{int(ticks) + 1}") is False
    assert process_alive("elsewhere:1:1") is None and process_alive("garbage") is None


def test_describe_storage_hides_passwords(tmp_path):
    assert describe_storage("postgresql://me:secret@db/x") == "postgresql://me:***@db/x"
    assert describe_storage("sqlite:///a.db") == "sqlite:///a.db"
    assert describe_storage(tmp_path / "j.log") == str(tmp_path / "j.log")


def test_recover_stale_trials(tmp_path):
    storage = open_storage(tmp_path / "study.journal")
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_tag = process_tag(dead.pid)
    dead.wait()
    tags = [dead_tag, process_tag(), "otherhost:1:1", None]
    for tag in tags:
        trial = study.ask()
        trial.suggest_float("x", 0, 10)
        if tag:
            trial.set_user_attr("process", tag)
    done = study.ask()
    study.tell(done, 1.0)
    # An untagged trial is left alone for a while (a queued trial is popped, then tagged).
    assert recover_stale_trials(study, storage) == {"recovered": [0], "unknown": [2, 3],
                                                   "given_up": []}
    report = recover_stale_trials(study, storage, untagged_grace=0)
    # dead process and untagged trial: failed and re-enqueued; live and foreign: kept.
    assert report == {"recovered": [3], "unknown": [2], "given_up": []}
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials[:5]] == [
        TrialState.FAIL,
        TrialState.RUNNING,
        TrialState.RUNNING,
        TrialState.FAIL,
        TrialState.COMPLETE,
    ]
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    assert [t.user_attrs["retry_of"] for t in waiting] == [0, 3]
    assert waiting[0].system_attrs["fixed_params"] == trials[0].params
    # Retried failures do not count towards n_trials; the waiting retries neither.
    assert budget_used(trials) == 3


def test_script_without_main_guard_can_use_workers(tmp_path):
    # Worker processes must not re-run the calling script (multiprocessing "spawn" would).
    script = tmp_path / "script.py"
    spec = tiny(tmp_path, n_jobs=2, n_trials=2, epochs=1)
    script.write_text(
        "from automl import run_study\n"
        f"result = run_study({spec!r}, verbose=0, report=False)\n"
        "print('ran', len(result.study.trials), sorted(result.summary['trials_by_state'].items()))\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ran") == 1 and "ran 2" in proc.stdout


def test_blas_threads_per_worker():
    from automl.search._runner import _threads

    assert _threads(None, 2, 2) == 1 and _threads(None, 1, 8) == 1
    assert _threads(4, 1, 2) == 2 and _threads(4, 2, 8) == 4 and _threads(3, 4, 2) == 1
    with pytest.raises(ValueError, match="'threads_per_worker' parameter of run_study"):
        _threads(0, 1, 2)


def test_two_run_processes_given_one_storage_share_the_study(tmp_path):
    """`automl run` in another process and run_study here, both naming one journal: one study."""
    import subprocess
    import sys
    import time

    import optuna
    import yaml

    from automl import run_study

    journal = tmp_path / "shared.journal"
    spec = tiny(tmp_path, n_trials=12, epochs=150, storage=str(journal), study_name="shared")
    study_file = tmp_path / "study.yaml"
    study_file.write_text(yaml.safe_dump({**spec, "output": str(tmp_path / "a")}))
    other = subprocess.Popen(
        [sys.executable, "-m", "automl", "run", str(study_file), "--no-report"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:  # join once the other process has started trials
            if journal.exists():
                storage = optuna.storages.JournalStorage(
                    optuna.storages.journal.JournalFileBackend(str(journal)))
                if any(s.study_name == "shared" for s in storage.get_all_studies()):
                    if optuna.load_study(study_name="shared", storage=storage).trials:
                        break
            time.sleep(0.1)
        result = run_study({**spec, "output": str(tmp_path / "b")}, verbose=0, report=False)
    finally:
        assert other.wait(timeout=300) == 0, other.stderr.read()
    trials = result.study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state.is_finished()]
    assert len(finished) == 12 and len({t.number for t in finished}) == 12
    processes = {t.user_attrs["process"].split(":")[1] for t in finished}
    assert len(processes) == 2, processes  # both processes ran trials of the one study
