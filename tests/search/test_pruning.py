"""PruningCallback: per-epoch reports at offset steps, pruning, divergence, partial logs."""

import math

import numpy as np
import optuna
import pytest

from automl.keras import Input, Model, layers
from automl.search._pruning import PruningCallback, TrialDiverged


class _Trial:
    """Records reports; prunes at the steps in ``prune_at``."""

    def __init__(self, prune_at=()):
        self.reports = []
        self.prune_at = set(prune_at)

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return bool(self.reports) and self.reports[-1][0] in self.prune_at


class _Model:
    stop_training = False

    def count_params(self):
        return 42


def _callback(trial, **kwargs):
    cb = PruningCallback(trial, "val_loss", **kwargs)
    cb.set_model(_Model())
    cb.on_train_begin()
    return cb


def test_reports_signed_values_at_offset_steps():
    trial = _Trial()
    cb = _callback(trial, sign=-1.0, step_offset=10)
    for epoch, v in enumerate([0.9, 0.5]):
        cb.on_epoch_end(epoch, {"loss": 1.0, "val_loss": v})
    assert trial.reports == [(10, -0.9), (11, -0.5)]
    assert cb.last_step == 11 and cb.epochs_run == 2 and cb.n_params == 42
    assert cb.epoch_logs == {"loss": [1.0, 1.0], "val_loss": [0.9, 0.5]}


def test_prunes_and_keeps_partial_logs():
    trial = _Trial(prune_at={1})
    cb = _callback(trial)
    cb.on_epoch_end(0, {"loss": 1.0, "val_loss": 0.9})
    with pytest.raises(optuna.TrialPruned, match="Pruned at epoch 1"):
        cb.on_epoch_end(1, {"loss": 0.8, "val_loss": 0.95})
    assert cb.pruned_epoch == 1 and cb.model.stop_training
    assert cb.epoch_logs["val_loss"] == [0.9, 0.95]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_loss_raises_trial_diverged(bad):
    trial = _Trial()
    cb = _callback(trial, fold=2)
    cb.on_epoch_end(0, {"loss": 1.0, "val_loss": 0.9})
    with pytest.raises(TrialDiverged, match="non-finite loss at epoch 1 of fold 2"):
        cb.on_epoch_end(1, {"loss": bad, "val_loss": 0.9})
    assert cb.model.stop_training and len(trial.reports) == 1
    assert cb.epochs_run == 2  # the diverged epoch's logs are kept
    assert issubclass(TrialDiverged, RuntimeError)


def test_no_report_mode_still_records_and_checks():
    trial = _Trial(prune_at={0})
    cb = _callback(trial, report=False)
    cb.on_epoch_end(0, {"loss": 1.0, "val_loss": 0.9})
    assert trial.reports == [] and cb.epoch_logs["loss"] == [1.0]
    with pytest.raises(TrialDiverged):
        cb.on_epoch_end(1, {"loss": math.nan})


def test_missing_or_non_finite_monitor_is_not_reported():
    trial = _Trial()
    cb = _callback(trial)
    with pytest.warns(UserWarning, match="'val_loss' is not in the epoch logs"):
        cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_epoch_end(1, {"loss": 1.0, "val_loss": math.inf})
    assert trial.reports == []


def test_in_a_real_fit_with_an_optuna_trial():
    x = Input((3,))
    model = Model(x, layers.Dense(1)(x))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    X, y = rng.random((16, 3), dtype=np.float32), rng.random((16, 1), dtype=np.float32)
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    cb = PruningCallback(trial, "val_loss", sign=-1.0, step_offset=4)
    model.fit(X, y, epochs=3, verbose=0, validation_data=(X, y), callbacks=[cb])
    steps = sorted(study._storage.get_trial(trial._trial_id).intermediate_values)
    assert steps == [4, 5, 6] and cb.n_params == 4
