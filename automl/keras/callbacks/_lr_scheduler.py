"""The learning rate per epoch: set it (``LearningRateScheduler``), read it, log it.

:func:`current_learning_rate` is the one reader of an optimizer's rate (a
float or a schedule at the current step); :class:`LearningRateLogger` puts
the rate of each epoch's first step into that epoch's logs.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from ..._validation import param_error
from ._base import Callback

__all__ = ["LearningRateLogger", "LearningRateScheduler", "current_learning_rate"]


def _takes_lr(schedule) -> bool:
    """Whether ``schedule`` accepts ``(epoch, lr)`` rather than only ``(epoch)``."""
    try:
        params = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: assume the new API
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def current_learning_rate(model) -> float:
    """The learning rate the model's optimizer uses for its next update, as a float.

    A schedule is evaluated at the optimizer's current step.

    Examples
    --------
    >>> from automl.keras import Sequential, layers, optimizers
    >>> from automl.keras.callbacks import current_learning_rate
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer=optimizers.SGD(0.05), loss="mse")
    >>> current_learning_rate(model)
    0.05
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return float(np.asarray(optimizer.learning_rate))


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate from ``schedule`` at the start of every epoch.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> float`` (``epoch`` counts from 0, ``lr`` is the
        current learning rate) or, Keras 2 style, ``schedule(epoch) -> float``.
    verbose : int, default=0
        1 prints the learning rate set at each epoch.

    Notes
    -----
    The rate in force during each epoch is added to that epoch's logs as
    ``logs["learning_rate"]`` (so it lands in ``History`` and ``CSVLogger``).
    Setting a float replaces a ``LearningRateSchedule`` the optimizer had.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import Sequential, Input, layers, callbacks, optimizers
    >>> model = Sequential([Input(shape=(2,)), layers.Dense(1)])
    >>> model.compile(optimizers.SGD(learning_rate=0.1), "mse")
    >>> halve = callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
    >>> history = model.fit(np.ones((4, 2)), np.ones(4), epochs=3, verbose=0, callbacks=[halve])
    >>> [round(lr, 3) for lr in history.history["learning_rate"]]
    [0.1, 0.05, 0.025]
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise param_error("schedule", "LearningRateScheduler", "a callable", schedule, TypeError)
        self.schedule = schedule
        self.verbose = verbose
        self._with_lr = _takes_lr(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        lr = current_learning_rate(self.model)
        new = self.schedule(epoch, lr) if self._with_lr else self.schedule(epoch)
        if isinstance(new, np.ndarray) and new.ndim == 0:
            new = new[()]
        if isinstance(new, bool) or not isinstance(new, numbers.Real):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {new!r}")
        self.model.optimizer.learning_rate = float(new)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model)


class LearningRateLogger(Callback):
    """Add ``logs["learning_rate"]`` at each epoch end: the rate of the epoch's first step.

    A key already in the logs (from ``LearningRateScheduler`` or
    ``ReduceLROnPlateau``, which write it themselves) is left as it is, so
    ``History`` and ``CSVLogger`` show one learning-rate column whatever the
    callbacks.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import Sequential, layers, optimizers
    >>> from automl.keras.callbacks import LearningRateLogger
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    >>> model.compile(optimizer=optimizers.SGD(schedule), loss="mse")
    >>> history = model.fit(np.ones((4, 2)), np.ones(4), batch_size=2, epochs=2, verbose=0,
    ...                     callbacks=[LearningRateLogger()])
    >>> [round(lr, 4) for lr in history.history["learning_rate"]]
    [0.1, 0.025]
    """

    def __init__(self):
        super().__init__()
        self._rate = None

    def on_epoch_begin(self, epoch, logs=None):
        self._rate = current_learning_rate(self.model)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self._rate is not None:
            logs.setdefault("learning_rate", self._rate)
