"""Helpers shared by the benchmark scripts: per-epoch timing and the optional Keras 3 import.

The scripts run as ``python benchmarks/<name>.py``, so this module is imported as ``_common``.
"""

from __future__ import annotations

import os
import time


def time_epochs(model, x, y, batch_size, epochs):
    """Seconds of each of ``epochs`` one-epoch ``model.fit`` calls, and the last History."""
    times, history = [], None
    for _ in range(epochs):
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    return times, history


def import_keras():
    """Keras 3 itself if it is installed (torch backend unless KERAS_BACKEND says otherwise), else None."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        return None
    return keras
