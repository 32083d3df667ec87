"""Keras-style progress output for ``fit``/``evaluate``/``predict``."""

from __future__ import annotations

import sys
import time

import numpy as np

from ._base import Callback

__all__ = ["Progbar", "ProgbarLogger"]


def _format_value(value) -> str:
    if isinstance(value, float) or hasattr(value, "dtype"):
        value = float(np.mean(value))  # array-valued metrics show their mean, as in Keras
        return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"
    return str(value)


def _format_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """A text progress bar: ``12/34 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - loss: 0.1234``.

    At ``verbose=1`` the line is redrawn at most every ``interval`` seconds on a
    terminal (and once at the end otherwise); at ``verbose=2`` one line is
    printed per epoch.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, unit_name="step", stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stream = stream or sys.stdout
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._seen = 0

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.perf_counter()
        if not finalize and (not self._dynamic or now - self._last_update < self.interval):
            return
        self._last_update = now
        self._seen = current
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        metrics = "".join(f" - {k}: {_format_value(v)}" for k, v in (values or {}).items())
        if self.verbose == 2:
            if finalize:
                self.stream.write(
                    f"{current}/{self.target} - {_format_time(elapsed)} - "
                    f"{per_step * 1000:.0f}ms/{self.unit_name}{metrics}\n"
                )
                self.stream.flush()
            return
        if self.target:
            filled = int(self.width * min(current / self.target, 1.0))
            bar = "\u2501" * filled + "\u2500" * (self.width - filled) if not finalize else "\u2501" * self.width
            head = f"{current}/{self.target} {bar} "
        else:
            head = f"{current} "
        if finalize:
            timing = f"{_format_time(elapsed)} {per_step * 1000:.0f}ms/{self.unit_name}"
        else:
            eta = per_step * (self.target - current) if self.target else 0.0
            timing = f"{_format_time(eta)} {per_step * 1000:.0f}ms/{self.unit_name}"
        line = f"{head}{timing}{metrics}"
        if self._dynamic:
            self.stream.write("\r" + line + ("\n" if finalize else "\x1b[K"))
        elif finalize:
            self.stream.write(line + "\n")
        self.stream.flush()


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a :class:`Progbar` per epoch (``fit(verbose=1 or 2)``)."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self._bar = None

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs")
        sys.stdout.write(f"Epoch {epoch + 1}/{epochs}\n")
        sys.stdout.flush()
        self._bar = Progbar(self.params.get("steps"), verbose=self.verbose)

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose == 1:
            self._bar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps") or 0  # fit fills in a discovered count before on_epoch_end
        if self._bar.target is None and steps:
            self._bar.target = steps
        self._bar.update(steps, logs, finalize=True)
