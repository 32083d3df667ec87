"""Small studies following the study data contract, built without the engine (no tests).

Imported by the report tests as ``tests.reports._studies``; the fixtures are in conftest.py.

``classification_study``: 6 complete trials (values below, a tie at 0.9 that the final
val_loss breaks in favour of trial 5), a pruned trial with ``pruned_at_epoch``, an older
pruned trial without it, a failed trial; ``momentum`` is conditional (even trials).
``study_dir``: the same study in a journal file with ``summary.json`` and
``test_predictions.npz``.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)

T0 = dt.datetime(2026, 1, 2, 3, 4, 5)
EPOCHS = 4
VALUES = [0.5, 0.7, 0.6, 0.9, 0.8, 0.9]
CHOICES = ["relu", "tanh", "sigmoid"]
DISTS = {
    "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
    "units": IntDistribution(8, 64),
    "activation": CategoricalDistribution(CHOICES),
}
MOMENTUM = FloatDistribution(0.8, 0.95)
STUDY_ATTRS = {
    "dataset": "iris",
    "task": "classification",
    "metric": "accuracy",
    "direction": "maximize",
    "objectives": ["accuracy"],
    "seed": 0,
    "epochs": EPOCHS,
    "engine": "optuna",
    "n_jobs": 2,
    "validation": "holdout",
}


def frozen(number, state, *, value=None, values=None, params=None, dists=None, attrs=None,
           steps=None, start=None, seconds=8.0):  # fmt: skip
    """A FrozenTrial with explicit times (``create_trial`` stamps "now")."""
    start = T0 + dt.timedelta(seconds=10 * number) if start is None else start
    end = None if state == TrialState.RUNNING else start + dt.timedelta(seconds=seconds)
    return FrozenTrial(
        number=number,
        state=state,
        value=value,
        values=values,
        datetime_start=start,
        datetime_complete=end,
        params=dict(params or {}),
        distributions=dict(dists or {}),
        user_attrs=dict(attrs or {}),
        system_attrs={},
        intermediate_values=dict(steps or {}),
        trial_id=number,
    )


def epoch_logs(final: float, n: int = EPOCHS, *, final_val_loss: float = 0.6) -> dict:
    val_acc = [round(final - 0.1 * (n - 1 - e), 4) for e in range(n)]
    return {
        "loss": [round(1.0 - 0.1 * e, 4) for e in range(n)],
        "accuracy": [min(a + 0.05, 1.0) for a in val_acc],
        "val_loss": [round(final_val_loss + 0.1 * (n - 1 - e), 4) for e in range(n)],
        "val_accuracy": val_acc,
        "learning_rate": [0.01 * 0.5**e for e in range(n)],
    }


def classification_trials() -> list[FrozenTrial]:
    trials = []
    for i, value in enumerate(VALUES):
        params = {
            "learning_rate": 10 ** (-1 - 0.5 * i),
            "units": 8 + 8 * i,
            "activation": CHOICES[i % 3],
        }
        dists = dict(DISTS)
        if i % 2 == 0:
            params["momentum"], dists["momentum"] = 0.8 + 0.02 * i, MOMENTUM
        logs = epoch_logs(value, final_val_loss=0.6 - 0.01 * i)
        if i == 1:
            logs["val_loss"][2] = None  # NaN stored as None
        attrs = {"seed": 100 + i, "worker": i % 2, "epoch_logs": logs, "epochs_run": EPOCHS,
                 "n_params": 1000 + i, "fit_time_s": 7.5}  # fmt: skip
        steps = dict(enumerate(logs["val_accuracy"]))
        trials.append(frozen(i, TrialState.COMPLETE, value=value, params=params, dists=dists,
                             attrs=attrs, steps=steps))  # fmt: skip
    base = {"learning_rate": 0.01, "units": 9, "activation": "relu"}
    pruned_logs = epoch_logs(0.35, 2)
    trials.append(
        frozen(6, TrialState.PRUNED, params=base, dists=DISTS, seconds=3.0,
               attrs={"seed": 106, "worker": 0, "epoch_logs": pruned_logs, "epochs_run": 2,
                      "pruned_at_epoch": 1},
               steps={0: 0.25, 1: 0.35})
    )  # fmt: skip
    trials.append(  # an older study's pruned trial: no pruned_at_epoch, no worker
        frozen(7, TrialState.PRUNED, params=base, dists=DISTS, seconds=4.0,
               steps={0: 0.2, 1: 0.25, 2: 0.22})
    )  # fmt: skip
    trials.append(
        frozen(8, TrialState.FAIL, params=base, dists=DISTS, seconds=1.0,
               attrs={"seed": 108, "worker": 1, "error": "FloatingPointError: NaN loss",
                      "epoch_logs": {"loss": [None]}, "epochs_run": 1})
    )  # fmt: skip
    return trials


def fill(study, trials, attrs=STUDY_ATTRS):
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    for t in trials:
        study.add_trial(t)
    return study


def make_classification_study():
    return fill(optuna.create_study(direction="maximize"), classification_trials())


def make_multi_objective_study():
    # (accuracy max, n_params min): trials 0, 1 and 3 are Pareto-optimal.
    points = [(0.9, 1000), (0.8, 500), (0.85, 2000), (0.7, 400), (0.6, 600)]
    trials = [
        frozen(i, TrialState.COMPLETE, values=list(v),
               params={"learning_rate": 10 ** (-1 - 0.5 * i), "units": 8 + 8 * i},
               dists={k: DISTS[k] for k in ("learning_rate", "units")})
        for i, v in enumerate(points)
    ]  # fmt: skip
    attrs = {**STUDY_ATTRS, "direction": ["maximize", "minimize"],
             "objectives": ["accuracy", "n_params"]}  # fmt: skip
    return fill(optuna.create_study(directions=["maximize", "minimize"]), trials, attrs)


def journal_storage(path):
    return JournalStorage(JournalFileBackend(str(path)))


# Test split of the study_dir fixture: 3 classes, 10 samples, 7 right.
Y_TRUE = np.array(["a", "a", "a", "b", "b", "b", "c", "c", "c", "c"])
Y_PRED = np.array(["a", "a", "b", "b", "b", "a", "c", "c", "c", "b"])


def make_study_dir(out):
    out.mkdir(parents=True)
    study = optuna.create_study(
        study_name="demo", storage=journal_storage(out / "study.journal"), direction="maximize"
    )
    fill(study, classification_trials())
    summary = {
        "study": "demo", "dataset": "iris", "task": "classification", "metric": "accuracy",
        "direction": "maximize", "engine": "optuna", "best_value": 0.9, "test_score": 0.7,
        "best_trial": 5, "n_trials": 9,
        "trials_by_state": {"complete": 6, "pruned": 2, "fail": 1},
        "seed": 0, "epochs": EPOCHS, "n_jobs": 2,
        "wall_time_s": {"optimize": 40.0, "refit": 2.0, "total": 43.5},
        "trial_time_s_sum": 64.0,
    }  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary))
    proba = np.eye(3)[np.searchsorted(["a", "b", "c"], Y_PRED)]
    np.savez(out / "test_predictions.npz", y_true=Y_TRUE, y_pred=Y_PRED, proba=proba,
             classes=np.array(["a", "b", "c"]))  # fmt: skip
    return out
