"""Helpers of the shared-study tests: several ``automl run`` processes on one storage.

:func:`run_processes` starts ``n`` ``automl run`` processes at once on one study
file (one storage, one study name, one output directory), waits for them and
returns the study. :func:`check_shared_study` asserts what sharing must keep:
the exact budget, no configuration twice, no trial failed by another process,
and the last summary. The first trial of each process waits for the others
(:func:`gated_mlp`), so that all of them share the study however slowly they start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import yaml
from optuna.trial import TrialState

from automl.search._storage import budget_used, open_storage
from tests.search.runner_helpers import tiny

REPO = Path(__file__).resolve().parents[2]


SPACE = {
    "parameters": {
        "units": {"type": "int", "low": 4, "high": 64},
        "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    }
}


def shared_spec(tmp_path, storage: str, **extra) -> dict:
    """A tiny study on ``storage`` whose model is :func:`gated_mlp`."""
    spec = tiny(
        tmp_path,
        n_trials=16,
        epochs=2,
        storage=storage,
        study_name="shared",
        sampler={"name": "tpe", "n_startup_trials": 4},
        model="shared_study:gated_mlp",
        space=SPACE,
    )
    spec.update(extra)
    return spec


def gated_mlp(meta, units=8):
    """``runner_helpers.mlp``; with ``$AUTOML_TEST_GATE="<dir>:<n>"`` the first model a
    process builds waits until ``n`` processes have built theirs (all share the study)."""
    from runner_helpers import mlp

    gate = os.environ.get("AUTOML_TEST_GATE")
    if gate:
        folder, n = gate.rsplit(":", 1)
        mark = Path(folder) / str(os.getpid())
        if not mark.exists():
            mark.touch()
            deadline = time.monotonic() + 120
            while len(list(Path(folder).iterdir())) < int(n) and time.monotonic() < deadline:
                time.sleep(0.05)
    return mlp(meta, units)


def run_processes(tmp_path, spec: dict, n: int = 4, timeout: float = 300, env=None) -> list:
    """Start ``n`` ``automl run`` processes on the study ``spec`` at once; their results.

    ``env``: more environment variables (``PYTHONPATH`` gets the repository and this folder).
    """
    study_file = tmp_path / "study.yaml"
    study_file.write_text(yaml.safe_dump(spec))
    here = Path(__file__).resolve().parent
    gate = tmp_path / "gate"
    gate.mkdir(exist_ok=True)
    env = {**os.environ, "AUTOML_TEST_GATE": f"{gate}:{n}", **(env or {}),
           "PYTHONPATH": f"{REPO}{os.pathsep}{here}"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "automl", "run", str(study_file), "--no-report", "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        )
        for _ in range(n)
    ]
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            results.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return results


def load(spec: dict):
    return optuna.load_study(study_name=spec["study_name"], storage=open_storage(spec["storage"]))


def check_shared_study(spec: dict, results: list, *, lost: int = 0) -> None:
    """The study of ``spec`` after its processes ended: exact budget, nothing repeated or lost.

    ``lost``: processes killed on purpose (exit -9), whose running trial ran again.
    """
    codes = sorted(code for code, _, _ in results)
    assert codes == [-9] * lost + [0] * (len(results) - lost), [e[-3000:] for _, _, e in results]
    study = load(spec)
    trials = study.get_trials(deepcopy=False)
    counted = [t for t in trials if t.state.is_finished() and budget_used([t])]
    assert len(counted) == spec["n_trials"] == budget_used(trials)
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    # No configuration twice (the space's floats make a repeat by chance impossible).
    configs = [tuple(sorted(t.params.items())) for t in counted if "retry_of" not in t.user_attrs]
    assert len(set(configs)) == len(configs), sorted(configs)
    # The only failures are trials created past the budget and given back unevaluated,
    # and the trials of killed processes, run again.
    retried = [t for t in trials if t.user_attrs.get("retried")]
    assert len(retried) == lost
    for t in retried:
        assert t.state == TrialState.FAIL and t.user_attrs["error"].startswith("WorkerLost")
        assert [r.state for r in counted if r.user_attrs.get("retry_of") == t.number] == [
            TrialState.COMPLETE]
    for t in trials:
        if t.state == TrialState.FAIL and not t.user_attrs.get("retried"):
            assert t.user_attrs.get("over_budget") and not t.params, (t.number, t.user_attrs)
    # Every process really ran trials of the study (the gate of gated_mlp).
    assert len({t.user_attrs["process"].split(":")[1] for t in counted}) == len(results)
    summary = json.loads((Path(spec["output"]) / "summary.json").read_text())
    assert summary["status"] == "complete", summary
    assert summary["trials_running"] == 0 and summary["budget_used"] == spec["n_trials"]
    assert summary["best_trial"] is not None and summary["test_score"] is not None
