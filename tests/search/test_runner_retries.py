"""Bounded retries: a configuration that kills its worker, and failures in a row that stop."""

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from automl import resume_study, run_study
from automl.search import SpecError, open_storage, parse_spec
from automl.search._storage import budget_used
from tests.search.runner_helpers import tiny

HERE = Path(__file__).resolve().parent

SPACE = {"parameters": {"units": {"type": "categorical", "choices": [4, 12, 16, 20]},
                        "learning_rate": 0.02}}


@pytest.fixture
def helpers_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def test_a_configuration_killing_its_worker_is_failed_for_good_and_the_study_ends(
        tmp_path, helpers_on_path):
    # Without a bound this study never ends: every death re-queued the same parameters
    # and did not count towards n_trials (no timeout is set).
    spec = tiny(tmp_path, n_trials=6, n_jobs=2, space=SPACE, sampler="random", seed=3,
                model="runner_helpers:mlp_dying_below_8", epochs=2)
    result = run_study(spec, verbose=0, report=False)
    trials = result.study.trials
    assert budget_used(trials) == 6
    origins = {}
    for t in trials:
        origins.setdefault(t.user_attrs.get("retry_of", t.number), []).append(t)
    assert len(origins) == 6
    dying = {k: v for k, v in origins.items() if v[0].params["units"] == 4}
    assert dying and len(dying) < 6, "the seed should draw both choices"
    for attempts in dying.values():
        assert len(attempts) == 3  # the first run and max_retries=2 retries
        assert [t.state for t in attempts] == [TrialState.FAIL] * 3
        assert all(t.params == attempts[0].params for t in attempts)
        *retried, last = attempts
        assert all(t.user_attrs["retried"] is True for t in retried)
        assert "retried" not in last.user_attrs  # counted by the budget, kept in the history
        error = last.user_attrs["error"]
        assert error.startswith("WorkerDied: worker ")
        assert "killed by SIGKILL — out of memory?" in error
        assert "failed for good after 3 attempts (max_retries=2)" in error
    for k, attempts in origins.items():
        if k not in dying:
            assert [t.state for t in attempts] == [TrialState.COMPLETE]
    assert result.summary["trials_by_state"] == {
        "complete": 6 - len(dying), "pruned": 0, "fail": 3 * len(dying)}


def test_failures_in_a_row_stop_the_study_naming_the_errors(tmp_path, helpers_on_path):
    space = {"parameters": {"units": {"type": "int", "low": 4, "high": 64}}}
    spec = tiny(tmp_path, n_trials=20, space=space, sampler="random",
                model="runner_helpers:always_failing", max_consecutive_failures=3)
    with pytest.raises(RuntimeError, match=r"3 trials in a row failed \(max_consecutive_failures"
                                           r"=3\); last errors: 'RuntimeError: cannot build"):
        run_study(spec, verbose=0, report=False)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "stopped"
    assert summary["trials_by_state"] == {"complete": 0, "pruned": 0, "fail": 3}
    # The cause fixed, resume goes on: the failures of the stopped run do not count again.
    result = resume_study(tmp_path / "out", verbose=0, report=False, n_trials=5,
                          model="runner_helpers:mlp")
    assert result.summary["trials_by_state"] == {"complete": 2, "pruned": 0, "fail": 3}


@pytest.mark.parametrize("key, value", [("max_retries", -1), ("max_retries", 1.5),
                                        ("max_consecutive_failures", 0),
                                        ("max_consecutive_failures", True)])
def test_bad_retry_keys_are_refused(key, value):
    study = {"dataset": "iris", "space": {"parameters": {"batch_size": 16}}, key: value}
    with pytest.raises(SpecError, match=f"'{key}'.*must be an int >= "):
        parse_spec(study)


def test_retry_keys_default_as_keras_tuner_and_optuna():
    spec = parse_spec({"dataset": "iris", "space": {"parameters": {"batch_size": 16}}})
    assert (spec.max_retries, spec.max_consecutive_failures) == (2, 10)


def test_a_trial_killing_the_run_itself_is_retried_on_resume_only_max_retries_times(tmp_path):
    # n_jobs=1: the trial runs in the `automl` process, so its death is the run's; each
    # `automl resume` finds it RUNNING in a dead process and retries it, max_retries times.
    space = {"parameters": {"units": 4, "learning_rate": 0.02}}
    study = tmp_path / "study.yaml"
    study.write_text(json.dumps(tiny(tmp_path, n_trials=1, space=space, max_retries=1,
                                     model="runner_helpers:mlp_dying_below_8", epochs=1)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE.parents[1]), str(HERE), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "out"
    commands = [["run", str(study)], ["resume", str(out)], ["resume", str(out)]]
    codes, errs = [], []
    for command in commands:
        proc = subprocess.run([sys.executable, "-m", "automl", *command, "--no-report"],
                              env=env, capture_output=True, text=True, timeout=300)
        codes.append(proc.returncode)
        errs.append(proc.stderr)
    assert codes == [-9, -9, 1], errs
    assert "failed for good" in errs[2] and "No trial of study 'tiny' completed" in errs[2]
    trials = optuna.load_study(study_name="tiny", storage=open_storage(out / "study.journal")).trials
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.FAIL]
    assert trials[1].user_attrs["retry_of"] == 0
    assert trials[1].user_attrs["error"].endswith("failed for good after 2 attempts (max_retries=1)")
