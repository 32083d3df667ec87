"""Batches that come from Python code: PyDatasets, generators and other iterables.

Array inputs never come through here: ``fit`` slices them directly (the fast
path). A :class:`BatchSource` hands out the raw batches of one epoch at a time,
following Keras 3:

- a :class:`~automl.keras.utils.PyDataset` runs ``len(dataset)`` batches per
  epoch (or ``steps``), in shuffled index order when asked, with
  ``on_epoch_begin`` / ``on_epoch_end`` around every epoch;
- a generator or iterator runs ``steps`` batches per epoch, continuing where
  the previous epoch stopped, or until it is exhausted when ``steps`` is None
  (how an unknown epoch size is discovered);
- an iterable that is not an iterator (a fresh ``iter()`` gives the data from
  the start) is restarted for every epoch when ``steps`` is None, and when it
  runs out otherwise.

Running out of data before ``steps`` batches ends the epoch early with Keras's
"Your input ran out of data" warning; the training loop stops when an epoch
cannot get a single batch.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator

import numpy as np

from ..backend import make_rng
from ..utils import PyDataset

__all__ = ["BatchSource", "check_steps", "is_batch_source", "source_kind", "unpack_batch"]


def is_batch_source(data) -> bool:
    """Whether ``data`` yields batches (PyDataset, generator, iterable) rather than being arrays."""
    if isinstance(data, PyDataset):
        return True
    if data is None or isinstance(data, (np.ndarray, list, tuple, dict, str, bytes)):
        return False
    if hasattr(data, "__array__") or hasattr(data, "shape"):
        return False  # array-likes (pandas, memmaps, ...) go through the array path
    return hasattr(data, "__iter__") or isinstance(data, Iterator)


def source_kind(data) -> str:
    if isinstance(data, PyDataset):
        return "PyDataset"
    return "generator" if isinstance(data, Iterator) else "iterable"


def check_steps(value, name, owner):
    """``None``, or a number of steps >= 1 (a float, as in ``len(x) / batch_size``, rounds up)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or not math.isfinite(value):
        raise ValueError(
            f"The {name!r} parameter of {owner} must be None or a number of steps in the range "
            f"[1, inf). Got {value!r} instead."
        )
    return int(math.ceil(value))


def unpack_batch(batch, owner, what="x"):
    """Split one batch into ``(x, y, sample_weight)`` (missing parts are None), as Keras does.

    A tuple (or list) holds ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``;
    anything else (an array, a dict keyed by input name) is ``x`` alone. A
    multi-input ``x`` is therefore nested: ``((x1, x2), y)``.
    """
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError(
            f"Each batch of the {what!r} argument of {owner} must be x, (x,), (x, y) or "
            f"(x, y, sample_weight). Got a tuple of {len(batch)} items instead."
        )
    return batch + (None,) * (3 - len(batch))


class BatchSource:
    """The raw batches of a PyDataset / generator / iterable, one epoch at a time.

    Parameters
    ----------
    data : PyDataset or iterable
    steps : int or None
        Batches per epoch; None means the whole dataset (``len``) or until the
        iterator is exhausted.
    shuffle : bool
        Shuffle the batch order of a finite PyDataset every pass.
    owner, what, action : str
        Used in error messages and warnings ("... interrupting training").
    """

    def __init__(self, data, *, steps=None, shuffle=False, owner="fit", what="x", action="training"):
        self.data = data
        self.action = action
        self.last_count = 0
        self.kind = source_kind(data)
        self.steps = steps
        self.owner = owner
        self.what = what
        self._shuffle = shuffle
        self._rng = None
        self._iter = None
        self._pending = []
        self._started = False
        self._count = 0
        self._warned = False
        self.ran_out = False
        if self.kind == "PyDataset":
            total = data.num_batches
            if total is not None:
                total = int(total)
                if total < 1:
                    raise ValueError(
                        f"The {what!r} argument of {owner} is a PyDataset of length {total}; it must "
                        "hold at least one batch."
                    )
            elif steps is None:
                raise ValueError(
                    f"The 'steps' for the {what!r} argument of {owner} must be given (steps_per_epoch, "
                    "validation_steps or steps) when it is an infinite PyDataset (num_batches is None)."
                )
            self._total = total
            self._order = None
            self._pos = 0
        #: Batches per epoch when known (``steps``, the dataset length, or discovered).
        self.num_batches = steps if steps is not None else (self._total if self.kind == "PyDataset" else None)

    # -- epochs ------------------------------------------------------------
    def start_epoch(self):
        """Prepare the next epoch (idempotent until :meth:`end_epoch`)."""
        if self._started:
            return
        self._started = True
        self._count = 0
        self.ran_out = False
        if self.kind == "PyDataset":
            self.data.on_epoch_begin()
            if self._total is not None and (self.steps is None or self._order is None
                                            or self._pos >= len(self._order)):
                self._new_pass()
        elif self.steps is None or self._iter is None:
            self._iter = iter(self.data)

    def _new_pass(self):
        if self._shuffle:
            if self._rng is None:
                self._rng = make_rng()
            self._order = self._rng.permutation(self._total)
        else:
            self._order = np.arange(self._total)
        self._pos = 0

    def next_batch(self):
        """The next raw batch of this epoch, or None when the epoch is over."""
        if self.steps is not None and self._count >= self.steps:
            return None
        if self._pending:
            self._count += 1
            return self._pending.pop()
        batch = self._read()
        if batch is None:
            if self.steps is not None:
                self.ran_out = True
            elif self._count:
                self.num_batches = self._count
            return None
        self._count += 1
        return batch

    def _read(self):
        if self.kind == "PyDataset":
            if self._total is None:
                index = self._pos
            elif self._pos >= len(self._order):
                return None
            else:
                index = int(self._order[self._pos])
            self._pos += 1
            return self.data[index]
        try:
            return next(self._iter)
        except StopIteration:
            # A fresh iter() restarts an iterable next epoch (and repeats an exhausted generator).
            self._iter = None
            return None

    def peek(self):
        """The first raw batch of the coming epoch without consuming it (None: no data left)."""
        self.start_epoch()
        if not self._pending:
            if self.steps is not None and self._count >= self.steps:
                return None
            batch = self._read()
            if batch is None:
                return None
            self._pending.append(batch)
        return self._pending[-1]

    def end_epoch(self):
        """Close the epoch: warn if it ran out of data; PyDataset.on_epoch_end()."""
        if self.ran_out:
            self.warn_ran_out()
        if self.kind == "PyDataset":
            self.data.on_epoch_end()
        self._started = False
        self.last_count = self._count
        return self._count

    def warn_ran_out(self):
        """Keras's warning when the data ends before the requested steps (once per source)."""
        if self._warned:
            return
        self._warned = True
        warnings.warn(
            f"Your input ran out of data; interrupting {self.action} ({self.owner}, {self.what!r}: a "
            f"{self.kind} that produced fewer batches than requested). Make sure that your dataset "
            "or generator can generate at least `steps_per_epoch * epochs` batches.",
            UserWarning,
            stacklevel=3,
        )
