"""ModelCheckpoint: save the model (or its weights) during training."""

from __future__ import annotations

import os
import warnings

from ..._validation import param_error
from ._early_stopping import MonitorCallback

__all__ = ["ModelCheckpoint"]

# The names model.save and model.save_weights accept (as Keras's ModelCheckpoint checks).
_MODEL_SUFFIXES = (".keras", ".h5")
_WEIGHTS_SUFFIXES = (".weights.h5", ".weights.npz")


def _check_save_freq(save_freq, owner):
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1:
        raise param_error("save_freq", owner, "'epoch' or an int in the range [1, inf)", save_freq)
    return save_freq


class _BatchCounter:
    """Counts training batches across epochs; says when ``every`` of them have passed."""

    def __init__(self, every):
        self.every = every
        self.seen = 0

    def step(self) -> bool:
        self.seen += 1
        if self.seen >= self.every:
            self.seen = 0
            return True
        return False


class ModelCheckpoint(MonitorCallback):
    """Save the model or its weights at the end of every epoch or every ``save_freq`` batches.

    Parameters
    ----------
    filepath : str or path-like
        Where to save. It may hold ``str.format`` fields filled with ``epoch``
        (1-based), ``batch`` (1-based, batch-level saving only) and the entries
        of the logs, e.g. ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``. It must
        end in ``.keras`` or ``.h5`` (whole model), or in ``.weights.h5`` (or
        automl's ``.weights.npz``) when ``save_weights_only=True``.
    monitor : str, default="val_loss"
        The logged quantity that decides which model is the best.
    verbose : int, default=0
        1 prints a message each time the callback saves (or decides not to).
    save_best_only : bool, default=False
        Save only when ``monitor`` improves on the best value seen so far
        (kept across ``fit`` calls, as in Keras). A ``filepath`` without format
        fields then always holds the best model.
    save_weights_only : bool, default=False
        Save with ``model.save_weights`` instead of ``model.save``.
    mode : {"auto", "min", "max"}, default="auto"
        Whether ``monitor`` should be minimized or maximized; ``"auto"`` infers
        it from the name (accuracy-like names are maximized).
    save_freq : "epoch" or int, default="epoch"
        Save at every epoch end, or after every ``save_freq`` training batches
        (then the monitored value is the running value of the batch logs).
    initial_value_threshold : float, optional
        The initial best value: with ``save_best_only`` nothing is saved until
        ``monitor`` beats it.

    Attributes
    ----------
    best : float or None
        The best monitored value seen so far.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from automl.keras import Sequential, Input, layers, callbacks
    >>> x = np.random.default_rng(0).standard_normal((32, 3))
    >>> y = x.sum(axis=1, keepdims=True)
    >>> model = Sequential([Input(shape=(3,)), layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> folder = tempfile.mkdtemp()
    >>> ckpt = callbacks.ModelCheckpoint(os.path.join(folder, "m-{epoch:02d}.keras"), monitor="loss")
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[ckpt])
    >>> sorted(os.listdir(folder))
    ['m-01.keras', 'm-02.keras']
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, 0.0, initial_value_threshold)
        owner = "ModelCheckpoint"
        if not isinstance(filepath, (str, os.PathLike)):
            raise param_error("filepath", owner, "a str or path-like", filepath, TypeError)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = _check_save_freq(save_freq, owner)
        self.initial_value_threshold = initial_value_threshold
        suffixes = _WEIGHTS_SUFFIXES if self.save_weights_only else _MODEL_SUFFIXES
        if not self.filepath.endswith(suffixes):
            what = "weights file" if self.save_weights_only else "model file"
            raise param_error(
                "filepath", owner,
                f"a {what} path ending in {' or '.join(suffixes)}"
                + (" (save_weights_only=True)" if self.save_weights_only else ""),
                self.filepath,
            )
        self._set_direction()
        self.best = None if initial_value_threshold is None else float(initial_value_threshold)
        self._counter = None if self.save_freq == "epoch" else _BatchCounter(self.save_freq)
        self._current_epoch = 0
        if self._counter is not None:
            # Only batch-level checkpoints set a batch hook, so that the others
            # leave fit's per-step callback dispatch switched off.
            self.on_train_batch_end = self._save_every_n_batches

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    # -- saving ------------------------------------------------------------
    def _format_path(self, epoch, batch, logs) -> str:
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as exc:
            raise KeyError(
                f"Failed to format the ModelCheckpoint filepath {self.filepath!r}: no value for "
                f"{exc}. Available fields are: {', '.join(fields)}."
            ) from None

    def _should_save(self, epoch, logs, filepath) -> bool:
        if not self.save_best_only:
            self._say(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available. Available metrics are: "
                f"{', '.join(logs or {})}.",
                stacklevel=3,
            )
            return True
        current = float(current)
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            self._say(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        self._say(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save(self, epoch, batch, logs):
        filepath = self._format_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _say(self, message):
        if self.verbose > 0:
            print(message)

    def _save_every_n_batches(self, batch, logs=None):
        if self._counter.step():
            self._save(self._current_epoch, batch, logs)
