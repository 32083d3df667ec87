"""Writing several user attributes of a running trial in one storage operation.

``optuna.Trial.set_user_attr`` is one storage write per key: on a database one
transaction (a commit, a round trip to the server, a sync to disk), on a journal
file one turn of the file lock. A trial's bookkeeping sets ~8 attributes, which
on PostgreSQL cost more than training a small model. :func:`set_user_attrs`
writes them in one transaction on a database (``RDBStorage``, also under Optuna's
cache) and in one locked append on a journal file; other storages get one write
per key. Readers see the same attributes either way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["set_user_attrs"]


def _rdb(storage):
    """The ``RDBStorage`` behind ``storage`` (Optuna wraps it in a cache), or None."""
    from optuna.storages import RDBStorage

    backend = getattr(storage, "_backend", storage)
    if isinstance(backend, RDBStorage) and hasattr(backend, "_set_trial_attr_without_commit"):
        return backend
    return None


def _write_rdb(rdb, trial_id: int, attrs: dict[str, Any]) -> bool:
    try:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session
    except ImportError:  # another Optuna layout: one write per key
        return False
    with _create_scoped_session(rdb.scoped_session, True) as session:
        for key, value in attrs.items():
            rdb._set_trial_attr_without_commit(
                session, models.TrialUserAttributeModel, trial_id, key, value)
    return True


def _write_journal(storage, trial_id: int, attrs: dict[str, Any]) -> bool:
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.storages import JournalStorage

    if not isinstance(storage, JournalStorage):
        return False
    try:
        from optuna.storages.journal._storage import JournalOperation

        lock, backend = storage._thread_lock, storage._backend
        worker_id = storage._replay_result.worker_id
    except (ImportError, AttributeError):
        return False
    op = int(JournalOperation.SET_TRIAL_USER_ATTR)
    # One log line per key (the replay takes one key per line), appended together.
    logs = [{"op_code": op, "worker_id": worker_id, "trial_id": trial_id,
             "user_attr": {key: value}} for key, value in attrs.items()]
    with lock:  # as JournalStorage.set_trial_user_attr: append, then replay (checks the state)
        backend.append_logs(logs)
        error = None
        for _ in logs:  # a finished trial fails every line: replay them all, raise once
            try:
                storage._sync_with_backend()
                break
            except UpdateFinishedTrialError as exc:
                error = exc
    if error is not None:
        raise error
    return True


def set_user_attrs(trial, attrs: dict[str, Any]) -> None:
    """``trial.set_user_attr(key, value)`` for every item of ``attrs``, in one storage write.

    ``trial`` is a running ``optuna.Trial`` (anything else gets its own
    ``set_user_attr`` per key); its cached view (``trial.user_attrs``)
    is updated like ``set_user_attr`` does. Values must be JSON serializable.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study()
    >>> trial = study.ask()
    >>> set_user_attrs(trial, {"seed": 3, "worker": 0})
    >>> sorted(study.trials[0].user_attrs.items())
    [('seed', 3), ('worker', 0)]
    """
    import optuna

    if not isinstance(trial, optuna.Trial):  # FixedTrial, a test's stand-in: its own method
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        return
    if not attrs:
        return
    storage, trial_id = trial.storage, trial._trial_id
    rdb = _rdb(storage)
    written = (_write_rdb(rdb, trial_id, attrs) if rdb is not None
               else _write_journal(storage, trial_id, attrs))
    if not written:
        for key, value in attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)
    trial._cached_frozen_trial.user_attrs.update(attrs)
