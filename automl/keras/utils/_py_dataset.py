"""``PyDataset`` (alias ``Sequence``): a dataset of batches written in Python."""

from __future__ import annotations

__all__ = ["PyDataset", "Sequence"]


def _setting(name, default):
    """A property stored in ``_<name>``, reading ``default`` when it was never set."""
    attr = "_" + name

    def get(self):
        return getattr(self, attr, default)

    def put(self, value):
        setattr(self, attr, value)

    return property(get, put, doc=f"{name} (default {default!r}).")


class PyDataset:
    """Base class of datasets that produce whole batches from Python code.

    A subclass implements ``__getitem__(index)``, returning the batch at
    ``index`` as ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, and
    ``__len__()``, the number of batches. It may also implement
    ``on_epoch_begin()`` / ``on_epoch_end()`` (called by ``fit`` around every
    epoch, e.g. to reshuffle), or override :attr:`num_batches` to return
    ``None`` for an infinite dataset (``fit`` then needs ``steps_per_epoch``).

    Parameters
    ----------
    workers : int, default=1
    use_multiprocessing : bool, default=False
    max_queue_size : int, default=10
        Accepted and stored for Keras compatibility. This engine reads the
        batches in-process, one after the other, in the training loop: there
        are no worker threads or processes and no prefetch queue.

    Notes
    -----
    ``fit(dataset)`` runs ``len(dataset)`` steps per epoch unless
    ``steps_per_epoch`` is given; with ``shuffle=True`` (the default) the
    order of the batch indices is shuffled every epoch, as in Keras.
    ``batch_size`` must not be passed to ``fit`` with a dataset: the dataset
    makes its own batches. ``Sequence`` is the Keras 2 name of this class.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> from automl.keras.utils import PyDataset
    >>> class Batches(PyDataset):
    ...     def __init__(self, x, y, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return math.ceil(len(self.x) / self.batch_size)
    ...     def __getitem__(self, idx):
    ...         sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
    ...         return self.x[sl], self.y[sl]
    >>> ds = Batches(np.zeros((10, 3)), np.zeros(10), batch_size=4)
    >>> len(ds), ds[2][0].shape
    (3, (2, 3))
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    # Subclasses that forget ``super().__init__()`` still get the defaults.
    workers = _setting("workers", 1)
    use_multiprocessing = _setting("use_multiprocessing", False)
    max_queue_size = _setting("max_queue_size", 10)

    def __getitem__(self, index):
        """Return the batch at position ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index).")

    @property
    def num_batches(self):
        """The number of batches (``len(self)``), or ``None`` for an infinite dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement __len__() (the number of batches), or a "
            "num_batches property that returns None for an infinite dataset."
        )

    def on_epoch_begin(self):
        """Called by ``fit`` at the start of every epoch."""

    def on_epoch_end(self):
        """Called by ``fit`` at the end of every epoch."""


#: Keras 2 name of :class:`PyDataset` (``keras.utils.Sequence``).
Sequence = PyDataset
