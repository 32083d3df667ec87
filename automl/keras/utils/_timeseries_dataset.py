"""``timeseries_dataset_from_array``: sliding windows over a series, as batches."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..._validation import param_error
from ..backend import make_rng
from ._py_dataset import PyDataset

__all__ = ["TimeseriesDataset", "timeseries_dataset_from_array"]


def _check_int(value, name, low, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        expected = f"an int in the range [{low}, inf)" + (" or None" if allow_none else "")
        raise param_error(name, "timeseries_dataset_from_array", expected, value)
    return int(value)


class TimeseriesDataset(PyDataset):
    """Batches of windows over an array, made on demand (see :func:`timeseries_dataset_from_array`).

    Attributes
    ----------
    start_positions : ndarray of int
        The first index (relative to ``start_index``) of every window, in the
        order they are served this epoch.
    """

    def __init__(self, data, targets, start_positions, *, sequence_length, sampling_rate,
                 batch_size, shuffle, rng):
        super().__init__()
        self.data, self.targets = data, targets
        self.start_positions = start_positions
        self._offsets = np.arange(0, sequence_length * sampling_rate, sampling_rate)
        self.batch_size, self.shuffle, self._rng = batch_size, shuffle, rng

    def __len__(self):
        size = self.batch_size or 1
        return math.ceil(len(self.start_positions) / size)

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        index %= len(self)
        if self.batch_size is None:  # unbatched: one window per item, as in Keras
            starts = self.start_positions[index:index + 1]
        else:
            starts = self.start_positions[index * self.batch_size:(index + 1) * self.batch_size]
        windows = self.data[starts[:, None] + self._offsets]
        if self.batch_size is None:
            windows = windows[0]
        if self.targets is None:
            return windows
        y = self.targets[starts]
        return windows, (y[0] if self.batch_size is None else y)

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self.start_positions)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Windows of ``sequence_length`` timesteps over ``data``, in batches.

    Window ``i`` starts at ``start_index + i * sequence_stride`` and holds
    the rows ``start, start + sampling_rate, ...`` (``sequence_length`` of
    them); its target is ``targets[start]``. Only complete windows that end
    before ``end_index`` are made.

    Parameters
    ----------
    data : array-like of shape (timesteps, ...)
    targets : array-like or None
        ``targets[i]`` is the target of the window starting at ``i``; None
        for windows without targets.
    sequence_length : int
        Number of timesteps per window.
    sequence_stride : int, default=1
        Distance between the starts of consecutive windows.
    sampling_rate : int, default=1
        Distance between consecutive timesteps within a window.
    batch_size : int or None, default=128
        Windows per batch; None serves single windows.
    shuffle : bool, default=False
        Shuffle the windows (once here and again after every epoch).
    seed : int, optional
        Seed for the shuffling.
    start_index, end_index : int, optional
        Use only ``data[start_index:end_index]`` (for a train/validation split).

    Returns
    -------
    TimeseriesDataset
        A :class:`~automl.keras.utils.PyDataset` of ``(windows, targets)``
        batches (``windows`` alone when ``targets`` is None), which
        ``Model.fit``, ``evaluate`` and ``predict`` accept; it is also iterable.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.utils import timeseries_dataset_from_array
    >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10), sequence_length=3,
    ...                                    batch_size=4)
    >>> x, y = ds[0]
    >>> x.tolist(), y.tolist(), len(ds)
    ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 1, 2, 3], 2)
    """
    owner = "timeseries_dataset_from_array"
    data = np.asarray(data)
    if data.ndim == 0:
        raise param_error("data", owner, "an array with a time axis", data)
    if targets is not None:
        targets = np.asarray(targets)
        if targets.ndim == 0:
            raise param_error("targets", owner, "None or an array with a time axis", targets)
    sequence_length = _check_int(sequence_length, "sequence_length", 1)
    sequence_stride = _check_int(sequence_stride, "sequence_stride", 1)
    sampling_rate = _check_int(sampling_rate, "sampling_rate", 1)
    batch_size = _check_int(batch_size, "batch_size", 1, allow_none=True)
    start_index = _check_int(start_index, "start_index", 0, allow_none=True) or 0
    end_index = _check_int(end_index, "end_index", 0, allow_none=True)
    if end_index is None:
        end_index = len(data)
    if start_index >= len(data):
        raise param_error("start_index", owner, f"an int in the range [0, {len(data)})", start_index)
    if not start_index < end_index <= len(data):
        raise param_error("end_index", owner,
                          f"None or an int in the range ({start_index}, {len(data)}]", end_index)
    num_windows = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_windows = min(num_windows, len(targets) - start_index)
    start_positions = np.arange(0, max(num_windows, 0), sequence_stride) + start_index
    rng = make_rng(seed) if shuffle else None
    if shuffle:
        rng.shuffle(start_positions)
    return TimeseriesDataset(data, targets, start_positions, sequence_length=sequence_length,
                             sampling_rate=sampling_rate, batch_size=batch_size, shuffle=shuffle,
                             rng=rng)
