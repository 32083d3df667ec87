"""Training loop for data that must not be materialized whole (sparse ``X``).

:func:`fit_in_batches` mirrors ``Model.fit`` (same shuffling draws, callbacks,
``History`` and ``val_`` logs) but builds each mini-batch itself: rows are
gathered from the sparse matrix, densified, passed through the feature
encoder, and handed to ``model.train_on_batch``. With the same seed it
produces exactly the weights ``Model.fit`` produces on the dense data.

Epoch logs are averages of the per-batch values weighted by batch size: exact
for the loss and for mean-type metrics (accuracy, MSE, ...), an approximation
for metrics that are not means over samples (AUC, precision, ...).
"""

from __future__ import annotations

import math

import numpy as np

from ..keras.backend import make_rng
from ..keras.callbacks import CallbackList, History, ProgbarLogger
from ._data import n_rows, take_rows

__all__ = ["fit_in_batches", "evaluate_in_batches"]


def _accumulate(totals: dict, logs: dict, size: int) -> None:
    for key, value in logs.items():
        totals[key] = totals.get(key, 0.0) + float(value) * size


def evaluate_in_batches(model, x, y, sw, batch_size, to_input) -> dict:
    """Loss and metrics of ``model`` on ``(x, y)``, densifying ``batch_size`` rows at a time."""
    totals, count = {}, 0
    n = n_rows(x)
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(start + batch_size, n))
        logs = model.evaluate(
            to_input(take_rows(x, idx)),
            take_rows(y, idx),
            batch_size=len(idx),
            verbose=0,
            sample_weight=None if sw is None else sw[idx],
            return_dict=True,
        )
        _accumulate(totals, logs, len(idx))
        count += len(idx)
    return {k: v / count for k, v in totals.items()}


def fit_in_batches(model, x, y, sw, *, to_input, batch_size=32, epochs=1, verbose=0,
                   callbacks=None, validation_data=None, shuffle=True, initial_epoch=0,
                   validation_batch_size=None, validation_freq=1):
    """Train ``model`` like ``Model.fit``, building every batch with ``to_input(rows)``.

    Parameters
    ----------
    model : compiled automl.keras Model
    x : sparse matrix or array of shape (n_samples, n_features)
        Rows are selected per batch and passed to ``to_input``.
    y : ndarray or list of ndarray
        Targets in the model's layout.
    sw : ndarray of shape (n_samples,) or None
        Sample weights.
    to_input : callable
        ``rows -> model input`` (densifies and encodes one batch).
    validation_data : tuple (x_val, y_val, sw_val), optional
        Evaluated at the end of each epoch (``val_`` logs), also batch by batch.

    Returns
    -------
    history : automl.keras.callbacks.History
    """
    n = n_rows(x)
    batch_size = int(batch_size or 32)
    steps = math.ceil(n / batch_size)
    history = History()
    cbs = list(callbacks or [])
    if verbose:
        cbs.append(ProgbarLogger(verbose=verbose))
    cbs.append(history)
    cbl = CallbackList(cbs, model=model, epochs=epochs, steps=steps, verbose=verbose)
    # Same draw, at the same point, as Model.fit: identical shuffles for identical seeds.
    rng = make_rng()
    model.stop_training = False
    logs = {}
    cbl.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        cbl.on_epoch_begin(epoch)
        order = rng.permutation(n) if shuffle else np.arange(n)
        totals, count = {}, 0
        for step in range(steps):
            idx = order[step * batch_size:(step + 1) * batch_size]
            cbl.on_train_batch_begin(step)
            batch_logs = model.train_on_batch(
                to_input(take_rows(x, idx)),
                take_rows(y, idx),
                sample_weight=None if sw is None else sw[idx],
                return_dict=True,
            )
            _accumulate(totals, batch_logs, len(idx))
            count += len(idx)
            cbl.on_train_batch_end(step, {k: v / count for k, v in totals.items()})
            if model.stop_training:
                break
        logs = {k: v / max(count, 1) for k, v in totals.items()}
        if validation_data is not None and (epoch + 1) % validation_freq == 0:
            xv, yv, swv = validation_data
            val = evaluate_in_batches(model, xv, yv, swv, validation_batch_size or batch_size,
                                      to_input)
            logs.update({f"val_{k}": v for k, v in val.items()})
        logs = dict(sorted(logs.items()))
        cbl.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    optimizer = model.optimizer
    if epochs > initial_epoch and getattr(optimizer, "use_ema", False):
        # Model.fit ends by writing the weights' moving averages into them; train_on_batch
        # has no such hook, so do what fit does (engine-internal packed parameter buffer).
        optimizer.finalize_variable_values([model._prepare_training()["params"]])
    cbl.on_train_end(logs)
    model.history = history
    return history
