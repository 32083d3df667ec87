"""TensorBoard: write losses, metrics and weight histograms as TensorBoard event files."""

from __future__ import annotations

import numbers
import os
import time

import numpy as np

from ..._validation import param_error
from ..optimizers import Optimizer
from ._base import Callback
from ._event_file import EventFileWriter

__all__ = ["TensorBoard"]

_OWNER = "TensorBoard"


def _check_freq(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise param_error(name, _OWNER, "an int in the range [0, inf)", value)
    return int(value)


def _check_update_freq(value):
    if value in ("batch", "epoch"):
        return 1 if value == "batch" else value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise param_error("update_freq", _OWNER, "'batch', 'epoch' or an int in the range [1, inf)", value)
    return int(value)


def _check_profile_batch(value):
    """Keras's forms: an int >= 0, a pair ``(start, stop)`` or the str ``"start,stop"``."""
    expected = "a non-negative int or a pair of non-negative ints (start, stop) with start <= stop"
    batches = value
    if isinstance(batches, str):
        try:
            batches = [int(part) for part in batches.split(",")]
        except ValueError:
            raise param_error("profile_batch", _OWNER, expected, value) from None
        if len(batches) == 1:
            batches = batches[0]
    if isinstance(batches, numbers.Integral) and not isinstance(batches, bool):
        batches = (batches, batches)
    if (not isinstance(batches, (tuple, list)) or len(batches) != 2
            or not all(isinstance(b, numbers.Integral) and not isinstance(b, bool) for b in batches)
            or batches[0] < 0 or batches[1] < batches[0]):
        raise param_error("profile_batch", _OWNER, expected, value)
    return value


def _scalar(value):
    """``value`` as a float when it is a real scalar, else None (such log entries are skipped)."""
    if isinstance(value, (str, bytes)) or np.ndim(value) != 0:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class TensorBoard(Callback):
    """Log losses, metrics and weight histograms for TensorBoard, without TensorFlow.

    The layout follows Keras: the training run goes to ``log_dir/train`` and
    the validation run to ``log_dir/validation``, each holding an
    ``events.out.tfevents.*.v2`` file that TensorBoard reads
    (``tensorboard --logdir logs``). At each epoch end the callback writes, at
    step ``epoch`` (counted from 0):

    * ``epoch_<name>`` in ``train`` for every training log entry (``loss``,
      each metric) plus ``epoch_learning_rate``, the optimizer's current
      learning rate (and ``epoch_steps_per_second`` with
      ``write_steps_per_second``);
    * ``epoch_<name>`` in ``validation`` for every ``val_<name>`` entry, and
      ``evaluation_<name>_vs_iterations`` at step ``optimizer.iterations``;
    * ``<weight name>/histogram`` in ``train`` for every weight of every
      layer, every ``histogram_freq`` epochs.

    With ``update_freq`` set to ``"batch"`` or an int, ``batch_<name>``
    scalars (the running values of the batch logs) also go to ``train`` at
    step = the number of training batches since ``fit`` started.
    Event files are flushed at every epoch end and closed at the end of
    training. Log entries that are not real scalars are skipped.

    Parameters
    ----------
    log_dir : str or path-like, default="logs"
        The folder of the ``train`` and ``validation`` runs. Do not share it
        with other callbacks.
    histogram_freq : int, default=0
        Write weight histograms every ``histogram_freq`` epochs (at epochs 0,
        ``histogram_freq``, ...); 0 writes none.
    write_graph : bool, default=True
        Accepted for Keras compatibility; no graph is written.
    write_images : bool, default=False
        Accepted for Keras compatibility; no weight images are written.
    write_steps_per_second : bool, default=False
        Also log the training steps per second: ``epoch_steps_per_second``
        each epoch and, when logging batches, ``batch_steps_per_second``.
    update_freq : {"epoch", "batch"} or int, default="epoch"
        ``"epoch"`` writes epoch summaries only; an int ``N`` also writes the
        batch logs every ``N`` training batches (``"batch"`` means 1).
    profile_batch : int, pair of int or str, default=0
        Accepted (and checked) for Keras compatibility; nothing is profiled.
    embeddings_freq : int, default=0
        Accepted for Keras compatibility; no embeddings are written.
    embeddings_metadata : str or dict, optional
        Accepted for Keras compatibility; unused.

    Notes
    -----
    Only scalars and histograms are written: ``write_graph``,
    ``write_images``, ``profile_batch``, ``embeddings_freq`` and
    ``embeddings_metadata`` are accepted so that Keras code runs unchanged,
    but they produce nothing (and no warning). Histogram tags are the
    weights' full names (``"dense/kernel/histogram"``), so that two layers
    never share one. Scalars are stored as float32 ``simple_value`` and
    histograms as ``HistogramProto`` with 30 equal-width buckets.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from automl.keras import Sequential, Input, layers, callbacks
    >>> model = Sequential([Input(shape=(2,)), layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> log_dir = os.path.join(tempfile.mkdtemp(), "logs")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> _ = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
    ...               callbacks=[callbacks.TensorBoard(log_dir, histogram_freq=1)])
    >>> sorted(os.listdir(log_dir))
    ['train', 'validation']
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise param_error("log_dir", _OWNER, "a str or path-like", log_dir, TypeError)
        if embeddings_metadata is not None and not isinstance(embeddings_metadata, (str, dict)):
            raise param_error("embeddings_metadata", _OWNER, "None, a str or a dict", embeddings_metadata,
                              TypeError)
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _check_freq("histogram_freq", histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = _check_update_freq(update_freq)
        self.profile_batch = _check_profile_batch(profile_batch)
        self.embeddings_freq = _check_freq("embeddings_freq", embeddings_freq)
        self.embeddings_metadata = embeddings_metadata
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}  # created at their first write: no empty run folders
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._evaluation_written = False
        self._training = False
        # Batch hooks only when batches are logged, so that "epoch" costs nothing per step.
        if self.update_freq != "epoch":
            self.on_train_batch_begin = self._train_batch_begin
            self.on_train_batch_end = self._train_batch_end

    # -- writers ---------------------------------------------------------------
    def _writer(self, run) -> EventFileWriter:
        writer = self._writers.get(run)
        if writer is None or writer.closed:
            writer = self._writers[run] = EventFileWriter(self._train_dir if run == "train" else self._val_dir)
        return writer

    def _write_scalars(self, run, prefix, logs, step, suffix=""):
        writer = None
        for name, value in logs.items():
            value = _scalar(value)
            if value is not None:
                writer = writer or self._writer(run)
                writer.add_scalar(f"{prefix}{name}{suffix}", value, step)

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        return getattr(optimizer, "iterations", None)

    # -- hooks -----------------------------------------------------------------
    def set_model(self, model):
        super().set_model(model)
        self._close_writers()

    def on_train_begin(self, logs=None):
        self._training = True
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        self._training = False
        self._close_writers()

    def _train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.perf_counter()

    def _train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if step % self.update_freq:
            return
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._batch_start_time
            if elapsed > 0:
                self._writer("train").add_scalar("batch_steps_per_second", 1.0 / elapsed, step)
        if isinstance(logs, dict):
            self._write_scalars("train", "batch_", logs, step)

    def on_epoch_begin(self, epoch, logs=None):
        self._evaluation_written = False
        if self.write_steps_per_second:
            self._previous_epoch_iterations = self._iterations() or 0
            self._epoch_start_time = time.perf_counter()

    def on_test_end(self, logs=None):
        iterations = self._iterations()
        if logs and iterations is not None:
            self._write_scalars("val", "evaluation_", logs, iterations, "_vs_iterations")
            self._evaluation_written = True
        if not self._training:  # a standalone evaluate(): nothing more will come
            self._close_writers()
        elif "val" in self._writers:
            self._writers["val"].flush()

    def on_epoch_end(self, epoch, logs=None):
        if logs:
            self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_epoch_metrics(self, epoch, logs):
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        # fit's validation does not run the test hooks: write what on_test_end would have.
        if val_logs and not self._evaluation_written and self._iterations() is not None:
            self._write_scalars("val", "evaluation_", val_logs, self._iterations(), "_vs_iterations")
        if isinstance(getattr(self.model, "optimizer", None), Optimizer):
            train_logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start_time
            done = (self._iterations() or 0) - self._previous_epoch_iterations
            train_logs["steps_per_second"] = done / elapsed if elapsed > 0 else 0.0
        self._write_scalars("train", "epoch_", train_logs, epoch)
        self._write_scalars("val", "epoch_", val_logs, epoch)

    def _write_histograms(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.name.replace(":", "_")
                writer.add_histogram(f"{name}/histogram", weight.value, epoch)
