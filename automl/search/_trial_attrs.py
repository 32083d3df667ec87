"""Writing several user attributes (and intermediate values) of a running trial in one
storage operation.

``optuna.Trial.set_user_attr`` is one storage write per key: on a database one
transaction (a commit, a round trip to the server, a sync to disk), on a journal
file one turn of the file lock. A trial's bookkeeping sets ~8 attributes, which
on PostgreSQL cost more than training a small model. :func:`set_user_attrs`
writes them in one transaction on a database (``RDBStorage``, also under Optuna's
cache) and in one locked append on a journal file; other storages get one write
per key. Intermediate values can go in the same write (the objective stores a
trial's epochs at its end when no pruner reads them). Readers see the same
attributes and values either way.
"""

from __future__ import annotations

from typing import Any

from ._batch_view import BatchView

__all__ = ["set_user_attrs"]


def _rdb(storage):
    """The ``RDBStorage`` behind ``storage`` (Optuna wraps it in a cache), or None."""
    from optuna.storages import RDBStorage

    backend = getattr(storage, "_backend", storage)
    if isinstance(backend, RDBStorage) and hasattr(backend, "_set_trial_attr_without_commit"):
        return backend
    return None


def _write_rdb(rdb, trial_id: int, attrs: dict[str, Any], values: dict[int, float]) -> bool:
    try:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session
    except ImportError:  # another Optuna layout: one write per item
        return False
    with _create_scoped_session(rdb.scoped_session, True) as session:
        for step, value in values.items():
            rdb._set_trial_intermediate_value_without_commit(session, trial_id, step, value)
        for key, value in attrs.items():
            rdb._set_trial_attr_without_commit(
                session, models.TrialUserAttributeModel, trial_id, key, value)
    return True


def _write_journal(storage, trial_id: int, attrs: dict[str, Any],
                   values: dict[int, float]) -> bool:
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
    # One log line per item (the replay takes one key per line), appended together.
    head = {"worker_id": worker_id, "trial_id": trial_id}
    logs = [{"op_code": int(JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE), **head,
             "step": step, "intermediate_value": value} for step, value in values.items()]
    logs += [{"op_code": int(JournalOperation.SET_TRIAL_USER_ATTR), **head,
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


def set_user_attrs(trial, attrs: dict[str, Any], *,
                   intermediate_values: dict[int, float] | None = None) -> None:
    """``trial.set_user_attr(key, value)`` for every item of ``attrs``, in one storage write.

    ``intermediate_values`` (``{step: value}``) are stored in the same write, as
    ``trial.report(value, step)`` would one by one (steps already reported are
    left as they are). ``trial`` is a running ``optuna.Trial`` (anything else gets
    its own ``set_user_attr`` and ``report`` per item); its cached view
    (``trial.user_attrs``) is updated like those methods do. Values must be JSON
    serializable.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study()
    >>> trial = study.ask()
    >>> set_user_attrs(trial, {"seed": 3, "worker": 0}, intermediate_values={0: 0.5})
    >>> sorted(study.trials[0].user_attrs.items()), study.trials[0].intermediate_values
    ([('seed', 3), ('worker', 0)], {0: 0.5})
    """
    import optuna

    values = {int(step): float(v) for step, v in (intermediate_values or {}).items()}
    if not isinstance(trial, optuna.Trial):  # FixedTrial, a test's stand-in: its own methods
        for step, value in values.items():
            trial.report(value, step)
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        return
    cached = trial._cached_frozen_trial
    values = {step: v for step, v in values.items() if step not in cached.intermediate_values}
    if not attrs and not values:
        return
    storage, trial_id = trial.storage, trial._trial_id
    if isinstance(storage, BatchView):  # deterministic mode's view: writes go to its storage
        storage = storage._base
    rdb = _rdb(storage)
    written = (_write_rdb(rdb, trial_id, attrs, values) if rdb is not None
               else _write_journal(storage, trial_id, attrs, values))
    if not written:
        for step, value in values.items():
            storage.set_trial_intermediate_value(trial_id, step, value)
        for key, value in attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)
    cached.intermediate_values.update(values)
    cached.user_attrs.update(attrs)
