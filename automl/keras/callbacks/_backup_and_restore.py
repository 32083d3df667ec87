"""BackupAndRestore: resume an interrupted ``fit`` from its last backup."""

from __future__ import annotations

import json
import os
import shutil
import warnings

from ..._validation import param_error
from .. import saving
from ._base import Callback
from ._model_checkpoint import _BatchCounter, _check_save_freq

__all__ = ["BackupAndRestore"]

_MODEL = "latest.keras"
_METADATA = "training_metadata.json"
_PREVIOUS = "_"  # prefix of the previous backup, kept while a new one is written


def load_training_state(model, filepath) -> None:
    """Load the weights and optimizer state of a ``.keras`` file into ``model`` in place."""
    saving.load_weights(model, filepath, include_optimizer=True)


class BackupAndRestore(Callback):
    """Back up the training state, and restore it when ``fit`` is run again.

    At the end of every epoch (or every ``save_freq`` batches) the model, its
    optimizer state and the number of finished epochs are written to
    ``backup_dir`` (a ``.keras`` archive plus a small JSON file). When a
    ``fit`` with the same ``backup_dir`` starts and a backup exists, the
    weights and optimizer state are restored and the finished epochs are
    skipped, so an interrupted run continues where it stopped. When ``fit``
    completes, the backup is deleted.

    Parameters
    ----------
    backup_dir : str or path-like
        A folder used by this callback only (it is deleted with
        ``delete_checkpoint=True``).
    save_freq : "epoch" or int, default="epoch"
        Back up at every epoch end, or every ``save_freq`` batches (a restart
        then replays the unfinished epoch from its backed-up mid-epoch state).
    delete_checkpoint : bool, default=True
        Delete ``backup_dir`` at the end of a completed ``fit``.

    Notes
    -----
    The model must be the same architecture, compiled with the same optimizer,
    as the one that wrote the backup. Skipping finished epochs needs the model
    to honour ``model._initial_epoch`` set during ``on_train_begin`` (as Keras
    does); on a model without it the state is restored but every epoch runs.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from automl.keras import Sequential, Input, layers, callbacks
    >>> class Interrupt(callbacks.Callback):
    ...     def on_epoch_begin(self, epoch, logs=None):
    ...         if epoch == 2:
    ...             raise RuntimeError("Interrupted!")
    >>> model = Sequential([Input(shape=(2,)), layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> folder = os.path.join(tempfile.mkdtemp(), "backup")
    >>> backup = callbacks.BackupAndRestore(folder)
    >>> x, y = np.ones((4, 2)), np.ones(4)
    >>> try:
    ...     _ = model.fit(x, y, epochs=5, verbose=0, callbacks=[backup, Interrupt()])
    ... except RuntimeError:
    ...     pass
    >>> sorted(os.listdir(folder))
    ['_latest.keras', '_training_metadata.json', 'latest.keras', 'training_metadata.json']

    Running ``model.fit(x, y, epochs=5, callbacks=[backup])`` again now
    restores the state saved at the end of the second epoch and runs only
    epochs 2, 3 and 4 (counting from 0); when it completes, ``folder`` is
    deleted.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise param_error("backup_dir", "BackupAndRestore", "a non-empty path", backup_dir)
        if not isinstance(backup_dir, (str, os.PathLike)):
            raise param_error("backup_dir", "BackupAndRestore", "a str or path-like", backup_dir,
                              TypeError)
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = _check_save_freq(save_freq, "BackupAndRestore")
        self.delete_checkpoint = bool(delete_checkpoint)
        self._model_path = os.path.join(self.backup_dir, _MODEL)
        self._metadata_path = os.path.join(self.backup_dir, _METADATA)
        self._counter = None if self.save_freq == "epoch" else _BatchCounter(self.save_freq)
        self._finished_epochs = 0
        self._last_batch = 0
        if self._counter is not None:
            self.on_train_batch_end = self._backup_every_n_batches  # only then per-step dispatch

    # -- restoring -----------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                f"To use the BackupAndRestore callback, model {self.model.name!r} must be built "
                "before fit() restores it."
            )
        try:
            epoch = self._restore(self._model_path, self._metadata_path)
        except ValueError:
            previous = self._previous(self._model_path)
            if not os.path.exists(previous):
                raise
            warnings.warn(
                f"The latest backup in {self.backup_dir!r} is unreadable; restoring the one "
                "before it.",
                stacklevel=2,
            )
            epoch = self._restore(previous, self._previous(self._metadata_path))
        self._finished_epochs = epoch
        if not epoch:
            return
        if hasattr(self.model, "_initial_epoch"):
            self.model._initial_epoch = epoch
        else:
            warnings.warn(
                f"BackupAndRestore restored the state after epoch {epoch}, but "
                f"{type(self.model).__name__}.fit cannot skip the finished epochs (it has no "
                "'_initial_epoch'): training restarts from epoch 0 with the restored weights.",
                stacklevel=2,
            )

    def _restore(self, model_path, metadata_path) -> int:
        if not os.path.exists(model_path):
            return 0
        load_training_state(self.model, model_path)
        if not os.path.exists(metadata_path):
            return 0
        try:
            with open(metadata_path, encoding="utf-8") as f:
                return int(json.load(f)["epoch"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Cannot read the backup metadata {metadata_path!r}: {exc}") from None

    @staticmethod
    def _previous(path) -> str:
        folder, name = os.path.split(path)
        return os.path.join(folder, _PREVIOUS + name)

    # -- backing up ------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._finished_epochs = epoch
        self._last_batch = 0

    def on_epoch_end(self, epoch, logs=None):
        self._finished_epochs = epoch + 1
        self._last_batch = 0
        if self.save_freq == "epoch":
            self._backup()

    def _backup(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        for path in (self._model_path, self._metadata_path):
            if os.path.exists(path):
                shutil.copyfile(path, self._previous(path))
        self.model.save(self._model_path, overwrite=True)
        metadata = {"epoch": self._finished_epochs, "batch": self._last_batch}
        tmp = self._metadata_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(metadata, f)
        os.replace(tmp, self._metadata_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)

    def _backup_every_n_batches(self, batch, logs=None):
        self._last_batch = batch
        if self._counter.step():
            self._backup()
