"""Heartbeats of running trials in database storages, so that other hosts see a process die.

Optuna's ``RDBStorage`` keeps one heartbeat time per running trial (the
database server's clock) and reports the RUNNING trials whose heartbeat is
older than ``grace_period`` as stale. Its own heartbeat thread lives inside
``Study.optimize``; the study runner asks and tells itself, so the parent
process runs :class:`Heartbeat`: a thread beating for every trial its
workers run. When the whole process (or its host) dies the beats stop, and any
other process sharing the study fails and queues those trials again
(:func:`automl.search._storage.recover_stale_trials`). Journal files have no
heartbeat; there, a trial's ``process`` tag is checked on its host.
"""

from __future__ import annotations

import threading

__all__ = ["HEARTBEAT_INTERVAL", "GRACE_PERIOD", "Heartbeat", "enable_heartbeat", "heartbeat_of"]

#: Seconds between two heartbeats of a running trial.
HEARTBEAT_INTERVAL = 10

#: Seconds without a heartbeat after which a RUNNING trial counts as lost (6 missed beats:
#: a parent process on a loaded machine may be late, a live trial must never be failed).
GRACE_PERIOD = 60


def heartbeat_of(storage):
    """The heartbeat-capable storage under ``storage`` (Optuna's RDBStorage), or None."""
    from optuna.storages import RDBStorage

    backend = getattr(storage, "_backend", storage)  # Optuna's cache over an RDBStorage
    return backend if isinstance(backend, RDBStorage) else None


def enable_heartbeat(storage, *, interval: int = HEARTBEAT_INTERVAL,
                     grace_period: int = GRACE_PERIOD):
    """Turn heartbeats on for a database ``storage`` unless already set; its RDBStorage or None.

    A storage opened with its own ``heartbeat_interval`` / ``grace_period``
    keeps them.
    """
    rdb = heartbeat_of(storage)
    if rdb is None:
        return None
    if rdb.heartbeat_interval is None:
        rdb.heartbeat_interval = int(interval)
    if rdb.grace_period is None:
        rdb.grace_period = max(int(grace_period), 2 * rdb.heartbeat_interval)
    return rdb


class Heartbeat:
    """A daemon thread recording a heartbeat every interval for the trials in :attr:`trial_ids`.

    Use as a context manager; :meth:`add` beats at once (a trial is never
    without a heartbeat once it is claimed), :meth:`discard` stops beating for
    a trial. With a storage without heartbeats it does nothing.
    """

    def __init__(self, storage):
        self._rdb = enable_heartbeat(storage)
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    @property
    def enabled(self) -> bool:
        return self._rdb is not None

    def add(self, trial_id: int) -> None:
        if self._rdb is None:
            return
        with self._lock:
            self._ids.add(int(trial_id))
        self._rdb.record_heartbeat(int(trial_id))

    def discard(self, trial_id: int | None) -> None:
        with self._lock:
            self._ids.discard(trial_id)

    def _beat(self) -> None:
        while not self._stop.wait(self._rdb.heartbeat_interval):
            with self._lock:
                ids = sorted(self._ids)
            for trial_id in ids:
                try:
                    self._rdb.record_heartbeat(trial_id)
                except Exception:  # noqa: BLE001 - a missed beat is retried next interval
                    pass

    def __enter__(self):
        if self._rdb is not None:
            self._thread = threading.Thread(target=self._beat, name="automl-heartbeat",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
