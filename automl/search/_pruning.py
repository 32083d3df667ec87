"""Epoch logs of a fit (:class:`EpochLog`), and their per-epoch reporting to an Optuna trial
with pruning and divergence checks (:class:`PruningCallback`)."""

from __future__ import annotations

import math
import warnings

import optuna

from automl.keras.callbacks import Callback, current_learning_rate

__all__ = ["EpochLog", "PruningCallback", "TrialDiverged"]


class TrialDiverged(RuntimeError):
    """A trial's training diverged: its loss became NaN or infinite.

    Raised inside ``fit`` by :class:`PruningCallback`; Optuna records the trial
    as failed (the study runs with ``catch=(Exception,)``) and the objective
    stores ``"TrialDiverged: non-finite loss at epoch N"`` in its ``error``
    user attribute.
    """


class EpochLog(Callback):
    """Record every epoch's logs, so a fit that fails or is stopped keeps its partial history.

    Attributes
    ----------
    epoch_logs : dict of str to list of float
        The logs of the epochs seen since training began.

    Examples
    --------
    >>> log = EpochLog()
    >>> log.on_train_begin()
    >>> log.on_epoch_end(0, {"loss": 0.5})
    >>> log.epoch_logs, log.epochs_run
    ({'loss': [0.5]}, 1)
    """

    def __init__(self):
        super().__init__()
        self.epoch_logs: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None):
        self.epoch_logs = {}

    @property
    def epochs_run(self) -> int:
        """Number of epochs whose logs were recorded."""
        return max((len(v) for v in self.epoch_logs.values()), default=0)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.epoch_logs.setdefault(key, []).append(float(value))


class PruningCallback(EpochLog):
    """Report ``logs[monitor]`` to an Optuna trial each epoch; prune when told to.

    At the end of every epoch the callback

    1. records the epoch's logs (kept also when the trial is pruned or fails);
    2. raises :class:`TrialDiverged` if the training ``loss`` is NaN or infinite;
    3. calls ``trial.report(sign * logs[monitor], step_offset + epoch)`` and, if
       ``trial.should_prune()`` (not asked when the study's pruner is a
       ``NopPruner``: it reads the trial back from the storage), sets ``model.stop_training`` and raises
       :class:`optuna.TrialPruned` (Optuna then records the trial as pruned).

    Parameters
    ----------
    trial : optuna.Trial
        The running trial (anything with ``report`` and ``should_prune``).
    monitor : str, default="val_accuracy"
        Key of the epoch logs to report.
    sign : float, default=1.0
        Multiplier orienting the reported value like the study's direction
        (``-1.0`` for a loss in a maximizing study).
    step_offset : int, default=0
        Added to the epoch to form the reported step. K-fold objectives use
        ``fold * max_epochs`` so that every fold reports its own steps.
    report : bool, default=True
        False records logs and checks divergence only (multi-objective trials,
        which Optuna cannot prune, do not accept ``trial.report``).
    check_finite : bool, default=True
        Raise :class:`TrialDiverged` on a non-finite training loss.
    fold : int, optional
        Fold index, named in the divergence message.
    defer : bool, default=False
        When the study's pruner is a ``NopPruner`` (nothing reads the values
        during the trial), keep the values in :attr:`unreported` instead of
        reporting them: the caller stores them at the end of the trial, in one
        storage write (see :class:`~automl.search.Objective`).

    Attributes
    ----------
    epoch_logs : dict of str to list of float
        All epoch logs seen so far (also of a pruned or diverged fit).
    pruned_epoch : int or None
        The epoch (0-based, without the offset) at which the trial was pruned.
    last_step : int or None
        The last step reported to the trial.
    n_params : int or None
        Parameter count of the model, read when training begins.
    unreported : dict of int to float
        ``{step: value}`` kept back with ``defer=True``.

    Examples
    --------
    >>> import optuna
    >>> trial = optuna.trial.FixedTrial({})
    >>> cb = PruningCallback(trial, "val_loss", sign=-1.0)
    >>> cb.on_train_begin()
    >>> cb.on_epoch_end(0, {"loss": 0.9, "val_loss": 1.0})
    >>> cb.epoch_logs, cb.last_step
    ({'loss': [0.9], 'val_loss': [1.0]}, 0)
    """

    def __init__(
        self,
        trial,
        monitor: str = "val_accuracy",
        *,
        sign: float = 1.0,
        step_offset: int = 0,
        report: bool = True,
        check_finite: bool = True,
        fold: int | None = None,
        defer: bool = False,
    ):
        super().__init__()
        self.trial = trial
        self.monitor = monitor
        self.sign = float(sign)
        self.step_offset = int(step_offset)
        self.report = bool(report)
        self.check_finite = bool(check_finite)
        self.fold = fold
        self.defer = bool(defer)
        self.unreported: dict[int, float] = {}
        self.pruned_epoch: int | None = None
        self.last_step: int | None = None
        self.n_params: int | None = None
        self._warned = False

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.pruned_epoch = None
        self.last_step = None
        self.unreported = {}
        self._warned = False
        model = getattr(self, "model", None)
        if model is not None and hasattr(model, "count_params"):
            self.n_params = int(model.count_params())

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if "learning_rate" not in logs and getattr(self.model, "optimizer", None) is not None:
            # Schedules log their own rate (the wrappers' callback runs first); a
            # constant rate is recorded here so every history has the trace.
            logs = {**logs, "learning_rate": current_learning_rate(self.model)}
        super().on_epoch_end(epoch, logs)
        loss = logs.get("loss")
        if self.check_finite and loss is not None and not math.isfinite(float(loss)):
            self._stop()
            where = "" if self.fold is None else f" of fold {self.fold}"
            raise TrialDiverged(f"non-finite loss at epoch {epoch}{where} (loss={float(loss)})")
        if not self.report:
            return
        if self.monitor not in logs:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"PruningCallback: the monitor {self.monitor!r} is not in the epoch logs, "
                    f"so nothing is reported. Available keys are {sorted(logs)}.",
                    stacklevel=2,
                )
            return
        value = float(logs[self.monitor])
        if not math.isfinite(value):  # nothing meaningful to compare; divergence is checked above
            return
        step = self.step_offset + int(epoch)
        never = self._never_prunes()  # then should_prune (a read of the trial) is not asked
        if never and self.defer:
            self.unreported[step] = self.sign * value
        else:
            self.trial.report(self.sign * value, step=step)
        self.last_step = step
        if never:
            return
        if self.trial.should_prune():
            self.pruned_epoch = int(epoch)
            self._stop()
            raise optuna.TrialPruned(f"Pruned at epoch {epoch} ({self.monitor}={value:.4g}).")

    def _never_prunes(self) -> bool:
        study = getattr(self.trial, "study", None)
        return isinstance(getattr(study, "pruner", None), optuna.pruners.NopPruner)

    def _stop(self):
        if getattr(self, "model", None) is not None:
            self.model.stop_training = True
