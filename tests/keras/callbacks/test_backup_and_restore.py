"""BackupAndRestore: an interrupted fit resumes from its last finished epoch."""

import json
import os

import numpy as np
import pytest

from automl.keras import Sequential, backend, callbacks, optimizers
from automl.keras.callbacks import BackupAndRestore, CallbackList
from automl.keras.layers import Dense


def _model(seed):
    with backend.seed_scope(seed):
        model = Sequential([Dense(6, input_shape=(4,), activation="tanh"), Dense(1)])
        model.build((None, 4))
    model.compile(optimizers.Adam(learning_rate=0.05), "mse")  # Adam: slots that must be restored
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 4))
    return x, np.sin(x).sum(axis=1, keepdims=True)


class Interrupt(callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("Interrupted!")


class Snapshots(callbacks.Callback):
    """Weights and optimizer state at train begin and after every epoch."""

    def on_train_begin(self, logs=None):
        self.begin = self._state()
        self.epochs = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epochs[epoch] = self._state()

    def _state(self):
        opt = self.model.optimizer
        return self.model.get_weights(), [np.array(v, copy=True) for v in opt.variables]


def _fit(model, cbs, epochs=5):
    x, y = _data()
    return model.fit(x, y, epochs=epochs, batch_size=8, shuffle=False, verbose=0, callbacks=cbs)


def _interrupted_run(backup_dir, at_epoch=3, **kwargs):
    model = _model(seed=0)
    snaps = Snapshots()
    with pytest.raises(RuntimeError, match="Interrupted"):
        _fit(model, [BackupAndRestore(backup_dir, **kwargs), snaps, Interrupt(at_epoch)])
    return snaps


def _assert_state_equal(a, b):
    for x, y in zip(a[0] + a[1], b[0] + b[1]):
        np.testing.assert_array_equal(x, y)


def test_an_interrupted_run_leaves_a_backup_of_its_last_epoch(tmp_path):
    backup_dir = tmp_path / "backup"
    _interrupted_run(backup_dir)
    with open(backup_dir / "training_metadata.json") as f:
        assert json.load(f) == {"epoch": 3, "batch": 0}
    assert (backup_dir / "latest.keras").exists()


@pytest.mark.filterwarnings("ignore:BackupAndRestore restored the state")
def test_restart_restores_weights_and_optimizer_state(tmp_path):
    backup_dir = tmp_path / "backup"
    first = _interrupted_run(backup_dir)
    model = _model(seed=1)  # a fresh process would build different weights
    probe = Snapshots()
    _fit(model, [BackupAndRestore(backup_dir), probe], epochs=3)
    _assert_state_equal(probe.begin, first.epochs[2])
    assert model.optimizer.iterations >= 9  # 3 epochs of 3 steps were restored


def test_resumed_run_skips_finished_epochs_and_matches_an_uninterrupted_one(tmp_path):
    backup_dir = tmp_path / "backup"
    _interrupted_run(backup_dir)
    resumed = _model(seed=1)
    history = _fit(resumed, [BackupAndRestore(backup_dir)])
    assert history.epoch == [3, 4]
    assert not backup_dir.exists()  # deleted after the completed fit
    reference = _model(seed=0)
    _fit(reference, [])
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_model_without_initial_epoch_support_warns_and_reruns_all_epochs(tmp_path):
    backup_dir = tmp_path / "backup"
    _interrupted_run(backup_dir)
    model = _model(seed=1)
    model.__dict__.pop("_initial_epoch", None)
    with pytest.warns(UserWarning, match="restored the state after epoch 3.*restarts from epoch 0"):
        history = _fit(model, [BackupAndRestore(backup_dir)])
    assert history.epoch == [0, 1, 2, 3, 4]


def test_a_completed_fit_deletes_the_backup_unless_told_not_to(tmp_path):
    kept, deleted = tmp_path / "kept", tmp_path / "deleted"
    _fit(_model(0), [BackupAndRestore(kept, delete_checkpoint=False)], epochs=2)
    _fit(_model(0), [BackupAndRestore(deleted)], epochs=2)
    assert (kept / "latest.keras").exists() and not deleted.exists()


def test_without_a_backup_training_starts_from_scratch(tmp_path):
    history = _fit(_model(0), [BackupAndRestore(tmp_path / "none")], epochs=2)
    assert history.epoch == [0, 1]


def test_batch_level_backups_record_the_epoch_in_progress(tmp_path):
    backup_dir = tmp_path / "backup"
    snaps = _interrupted_run(backup_dir, at_epoch=2, save_freq=4)  # 3 batches per epoch
    with open(backup_dir / "training_metadata.json") as f:
        # Global batch 4 is batch 0 of epoch 1: one epoch finished when it was backed up.
        assert json.load(f) == {"epoch": 1, "batch": 0}
    assert len(snaps.epochs) == 2
    assert CallbackList([BackupAndRestore(backup_dir, save_freq=4)]).needs["on_train_batch_end"]
    assert not CallbackList([BackupAndRestore(backup_dir)]).needs["on_train_batch_end"]


@pytest.mark.filterwarnings("ignore:BackupAndRestore restored the state")
def test_a_corrupted_backup_falls_back_to_the_previous_one(tmp_path):
    backup_dir = tmp_path / "backup"
    first = _interrupted_run(backup_dir)
    (backup_dir / "latest.keras").write_bytes(b"not a zip")
    probe = Snapshots()
    with pytest.warns(UserWarning, match="latest backup .* is unreadable"):
        _fit(_model(1), [BackupAndRestore(backup_dir, delete_checkpoint=False), probe], epochs=0)
    _assert_state_equal(probe.begin, first.epochs[1])  # the backup before the last one


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"backup_dir": ""}, "'backup_dir' parameter of BackupAndRestore must be a non-empty path"),
    ({"backup_dir": "b", "save_freq": "batch"}, "'save_freq' parameter of BackupAndRestore"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BackupAndRestore(**kwargs)


def test_backups_are_written_in_the_given_folder(tmp_path):
    backup_dir = tmp_path / "deep" / "backup"
    _fit(_model(0), [BackupAndRestore(backup_dir, delete_checkpoint=False)], epochs=2)
    assert sorted(os.listdir(backup_dir)) == ["_latest.keras", "_training_metadata.json",
                                              "latest.keras", "training_metadata.json"]
