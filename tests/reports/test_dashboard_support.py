"""Helpers of the dashboard, server, compare and browser tests (no tests here).

Built on the contract studies of ``tests/reports/_studies.py`` (6 complete trials,
2 pruned, 1 failed), with what these tests vary: the study and parameter names
(hostile HTML), the sampler and scores (comparisons), a run still going (no
``summary.json``), and trials appended while a dashboard watches.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from tests.reports import _studies

JOURNAL = "study.journal"
N_TRIALS = 9  # of a study_dir: 6 complete, 2 pruned, 1 failed


def make_study_dir(
    path: Path,
    *,
    name: str = "demo",
    lr_name: str = "learning_rate",
    sampler: str = "tpe",
    offset: float = 0.0,
    n_complete: int = 6,
    finished: bool = True,
) -> Path:
    """An output directory of the contract study; ``finished=False``: the journal only."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    trials = _studies.classification_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE][:n_complete]
    trials = complete + [t for t in trials if t.state != TrialState.COMPLETE]
    for t in trials:
        if t.value is not None:
            t.value = round(t.value + offset, 4)
        t.distributions = {
            lr_name if k == "learning_rate" else k: v for k, v in t.distributions.items()
        }
        t.params = {lr_name if k == "learning_rate" else k: v for k, v in t.params.items()}
    study = optuna.create_study(
        study_name=name, storage=_studies.journal_storage(path / JOURNAL), direction="maximize"
    )
    _studies.fill(study, trials, {**_studies.STUDY_ATTRS, "sampler": sampler, "pruner": "median"})
    if finished:
        finish(path, study)
    return path


def finish(path: Path, study) -> None:
    """Write what the runner writes at the end: ``summary.json`` and the test predictions."""
    trials = study.get_trials(deepcopy=False)
    best = max((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.value)
    states = {"complete": 0, "pruned": 0, "fail": 0}
    for t in trials:
        states[t.state.name.lower()] += 1
    summary = {
        "study": study.study_name, "dataset": "iris", "task": "classification",
        "metric": "accuracy", "direction": "maximize", "engine": "optuna",
        "best_value": best.value, "test_score": round(best.value - 0.05, 4),
        "best_trial": best.number, "n_trials": len(trials), "trials_by_state": states,
        "seed": 0, "epochs": _studies.EPOCHS, "n_jobs": 2,
        "wall_time_s": {"optimize": 40.0, "refit": 2.0, "total": 43.5},
        "trial_time_s_sum": 64.0,
    }  # fmt: skip
    (Path(path) / "summary.json").write_text(json.dumps(summary))
    classes = np.array(["a", "b", "c"])
    proba = np.eye(3)[np.searchsorted(classes, _studies.Y_PRED)]
    np.savez(Path(path) / "test_predictions.npz", y_true=_studies.Y_TRUE,
             y_pred=_studies.Y_PRED, proba=proba, classes=classes)  # fmt: skip


def load(path: Path, name: str = "demo"):
    return optuna.load_study(
        study_name=name, storage=_studies.journal_storage(Path(path) / JOURNAL)
    )


def add_trial(path: Path, *, name: str = "demo") -> None:
    """Append one complete trial to the study in ``path``, as a worker process would."""
    study = load(path, name)
    number = len(study.trials)
    logs = _studies.epoch_logs(0.75)
    study.add_trial(
        _studies.frozen(
            number,
            TrialState.COMPLETE,
            value=0.75,
            params={"learning_rate": 0.003, "units": 24, "activation": "relu"},
            dists=_studies.DISTS,
            attrs={"seed": 100 + number, "worker": 0, "epoch_logs": logs, "epochs_run": 4},
            steps=dict(enumerate(logs["val_accuracy"])),
        )
    )


def fast_figures(monkeypatch) -> None:
    """Replace the dashboard figures by one cheap figure (tests of files, server, CLI).

    The full figure set takes seconds (importances); tests that check the page
    machinery rather than the figures do not need it.
    """
    import plotly.graph_objects as go

    import automl.reports as reports

    def figures(data):
        trials = data.trials(("complete",))
        fig = go.Figure(go.Scatter(x=[t.number for t in trials], y=[t.value for t in trials]))
        fig.update_layout(title_text="Trial values")
        return {"Trial values": fig}

    monkeypatch.setattr(reports, "dashboard_figures", figures)
