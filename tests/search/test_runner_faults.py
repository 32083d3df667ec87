"""Faults: failing and diverging trials, Ctrl-C, killed workers, crashed runs, resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from automl import resume_study, run_study
from automl.search import rerun_trial
from automl.search._storage import open_storage
from tests.search.runner_helpers import tiny

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

FAULT_SPACE = {
    "parameters": {"units": {"type": "int", "low": 4, "high": 16}, "learning_rate": 0.02}
}


@pytest.fixture
def fault(tmp_path, monkeypatch):
    """``fault("kill@2")`` makes the 2nd model built fail that way (see runner_helpers)."""
    monkeypatch.syspath_prepend(str(HERE))
    folder = tmp_path / "faults"
    folder.mkdir()
    monkeypatch.setenv("AUTOML_FAULT_DIR", str(folder))

    def set_fault(kind):
        monkeypatch.setenv("AUTOML_FAULT", kind)

    return set_fault


def faulty(tmp_path, **extra):
    return tiny(tmp_path, model="runner_helpers:mlp", space=FAULT_SPACE, sampler="random", **extra)


def states(study):
    return [t.state for t in study.get_trials(deepcopy=False)]


def test_failing_trial_is_recorded_and_the_study_goes_on(tmp_path, fault):
    fault("raise@2")
    result = run_study(faulty(tmp_path, n_trials=4), verbose=0, report=False)
    trials = result.study.trials
    assert (
        states(result.study) == [TrialState.COMPLETE, TrialState.FAIL] + [TrialState.COMPLETE] * 2
    )
    assert trials[1].user_attrs["error"] == "RuntimeError: injected fault"
    assert "retried" not in trials[1].user_attrs  # a real failure is not run again
    assert result.summary["trials_by_state"] == {"complete": 3, "pruned": 0, "fail": 1}


def test_diverging_trial_fails_with_its_reason(tmp_path):
    # Large enough to overflow float32: with Keras's probability clip a merely huge rate (1e12)
    # saturates the softmax, whose clipped cross-entropy then has no gradient (a finite, stuck loss).
    space = {"parameters": {"optimizer": "sgd", "learning_rate": 1.0e30, "batch_size": 16}}
    with pytest.raises(RuntimeError, match="No trial of study 'tiny' completed.*non-finite"):
        run_study(tiny(tmp_path, n_trials=2, space=space), verbose=0, report=False)
    study = optuna.load_study(
        study_name="tiny", storage=open_storage(tmp_path / "out" / "study.journal")
    )
    assert states(study) == [TrialState.FAIL, TrialState.FAIL]
    assert all("non-finite" in t.user_attrs["error"] for t in study.trials)


def test_ctrl_c_in_process_then_resume(tmp_path, fault, capsys):
    fault("interrupt@2")
    spec = faulty(tmp_path, n_trials=3)
    with pytest.raises(KeyboardInterrupt):
        run_study(spec, verbose=0, report=False)
    err = capsys.readouterr().err
    assert "Interrupted: 1 of 3 trials finished" in err and "automl resume" in err
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["best_trial"] == 0
    assert (out / "trials.csv").is_file() and (out / "epochs.csv").is_file()
    study = optuna.load_study(study_name="tiny", storage=open_storage(out / "study.journal"))
    assert states(study) == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    lost = study.trials[1]
    assert lost.user_attrs["error"] == "interrupted" and lost.user_attrs["retried"] is True

    result = resume_study(out, verbose=0, report=False)
    trials = result.study.trials
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.COMPLETE,  # the interrupted trial, run again with its parameters
        TrialState.COMPLETE,
    ]
    assert trials[2].params == lost.params and trials[2].user_attrs["retry_of"] == 1
    assert trials[0].datetime_start == study.trials[0].datetime_start  # kept, not repeated
    assert result.summary["trials_by_state"]["complete"] == 3
    # The retry uses the lost trial's seed: it scores what trial 1 scores in a clean run.
    clean = run_study(faulty(tmp_path, n_trials=2, output=str(tmp_path / "clean")), verbose=0,
                      report=False).study.trials
    assert trials[2].user_attrs["seed"] == clean[1].user_attrs["seed"]
    assert trials[2].params == clean[1].params and trials[2].value == clean[1].value
    assert rerun_trial(out, 2) == trials[2].value


def test_killed_worker_fails_its_trial_which_runs_again(tmp_path, fault):
    fault("kill@2")
    result = run_study(faulty(tmp_path, n_trials=4, n_jobs=2), verbose=0, report=False)
    trials = result.study.trials
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert len(failed) == 1 and len(trials) == 5
    assert failed[0].user_attrs["error"].startswith("WorkerDied: worker ")
    assert "killed by SIGKILL" in failed[0].user_attrs["error"]
    retry = [t for t in trials if t.user_attrs.get("retry_of") == failed[0].number]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    assert retry[0].params == failed[0].params
    assert retry[0].user_attrs["seed"] == failed[0].user_attrs["seed"]
    assert result.summary["trials_by_state"]["complete"] == 4
    assert result.summary["lost_trials"] == [failed[0].number]
    assert not [t for t in trials if t.state == TrialState.RUNNING]


def _env(tmp_path, fault_kind=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE), env.get("PYTHONPATH", "")])
    if fault_kind:
        folder = tmp_path / "faults"
        folder.mkdir(exist_ok=True)
        env.update(AUTOML_FAULT=fault_kind, AUTOML_FAULT_DIR=str(folder))
    return env


def test_crashed_run_resumes_and_retries_the_running_trial(tmp_path):
    spec = faulty(tmp_path, n_trials=3)
    script = tmp_path / "crash.py"
    script.write_text(
        f"from automl import run_study\nrun_study({spec!r}, verbose=0, report=False)\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=_env(tmp_path, "kill@2"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    out = tmp_path / "out"
    study = optuna.load_study(study_name="tiny", storage=open_storage(out / "study.journal"))
    assert states(study) == [TrialState.COMPLETE, TrialState.RUNNING]

    result = resume_study(out, verbose=0, report=False)
    trials = result.study.trials
    assert trials[1].state == TrialState.FAIL
    assert trials[1].user_attrs["error"].startswith("WorkerLost: process ")
    assert [t.state for t in trials[2:]] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials[2].params == trials[1].params
    assert result.summary["trials_by_state"]["complete"] == 3


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_ctrl_c_on_the_command_line_with_workers_then_resume(tmp_path):
    study_file = tmp_path / "study.yaml"
    spec = tiny(tmp_path, n_trials=6, n_jobs=2, epochs=40)
    study_file.write_text(json.dumps(spec))  # JSON is YAML
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl", "run", str(study_file), "--no-report", "-q"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def running():
        if not (out / "study.journal").is_file():
            return False
        study = optuna.load_study(study_name="tiny", storage=open_storage(out / "study.journal"))
        return TrialState.RUNNING in states(study)

    try:
        assert _wait_for(running, 120), "no trial started"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "automl resume" in err and "Traceback" not in err
    study = optuna.load_study(study_name="tiny", storage=open_storage(out / "study.journal"))
    assert TrialState.RUNNING not in states(study)
    interrupted = [t for t in study.trials if t.user_attrs.get("error") == "interrupted"]
    assert interrupted and all(t.state == TrialState.FAIL for t in interrupted)

    code = subprocess.run(
        [sys.executable, "-m", "automl", "resume", str(out), "--n-jobs", "1", "--no-report", "-q"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert code.returncode == 0, code.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["trials_by_state"]["complete"] == 6
