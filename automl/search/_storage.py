"""Where a study lives: Optuna storages, the batch view, and trials left by dead processes.

A study's storage is either the journal file ``<output>/study.journal`` (the
default), a journal file given by path, or any Optuna database URL
(``sqlite:///runs.db``, ``postgresql://...``). Journal files are append-only
logs guarded by a lock file, so several processes (workers, or several
``automl run`` commands on one machine) share one safely.

Every trial records which process runs it (the ``process`` user attribute,
``"<host>:<pid>:<start time>"``), set in the very operation that creates it
(:func:`automl.search._claims.claim_trial`). :func:`recover_stale_trials`
fails and re-enqueues the RUNNING trials whose process no longer exists on
this host and, in a database storage, those whose heartbeat stopped (any
host; :mod:`automl.search._heartbeat`: Optuna's heartbeat exists only for
``RDBStorage``, not for journal files).
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ._claims import PROCESS, RETRIED, budget_used
from ._database import StorageError, is_database_url, mask_url, open_database, with_password
from ._heartbeat import enable_heartbeat
from ._run_directory import RunDirectory

__all__ = [
    "JOURNAL_NAME",
    "StorageError",
    "StudyExistsError",
    "open_recorded_study",
    "prepare_storage",
    "describe_storage",
    "open_storage",
    "process_tag",
    "process_alive",
    "fail_trial",
    "recover_stale_trials",
    "consecutive_failures",
    "budget_used",
    "create_or_load_study",
    "open_storage_retrying",
]

#: File name of the default Optuna journal in the output directory.
JOURNAL_NAME = RunDirectory.JOURNAL

#: Seconds a RUNNING trial without a ``process`` tag is left alone: a queued trial is
#: popped (made RUNNING) and tagged in two storage operations.
UNTAGGED_GRACE = 60

#: User attribute holding a trial's estimator parameters (``_objective.PARAMS_ATTR``).
ESTIMATOR_PARAMS = "estimator_params"

#: User attribute of a retry: how many times its configuration's process died so far.
DEATHS = "deaths"


class StudyExistsError(FileExistsError):
    """The storage or the output directory already holds the study being started."""


def is_url(storage: str) -> bool:
    """True for a database URL (``dialect://...``), False for a journal file path."""
    return is_database_url(storage)


def open_storage(storage: str | os.PathLike, *, password_env: str | None = None):
    """An Optuna storage from a database URL or a journal file path.

    Database URLs go through :mod:`automl.search._database`: ``postgresql://``
    and ``mysql://`` open with whichever driver is installed, a recorded URL's
    masked password is left to the driver (``PGPASSWORD``, ``~/.pgpass``), and
    an unknown scheme, a missing driver or a refused connection raise a
    one-line :class:`StorageError`. ``password_env`` names an environment
    variable holding the password of a URL that has none.
    """
    import optuna
    from optuna.storages import JournalStorage

    from ._journal import JournalFileBackend, repair_journal

    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    text = str(storage)
    if is_url(text):
        return open_database(with_password(text, password_env))
    path = Path(text).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_journal(path)  # a torn last line (a writer killed mid-line) is cut off first
    return JournalStorage(JournalFileBackend(str(path), lock_obj=_queued_lock(path)))


def _queued_lock(path: Path):
    """Optuna's journal lock, taken in turn: processes queue on ``flock`` before it.

    Optuna's symlink lock retries with a back-off of up to one second, so
    processes writing one journal often (several ``automl run`` processes, a
    report per epoch each) spend most of their time asleep. Waiting first on a
    blocking ``fcntl.flock`` of ``<journal>.flock`` hands the lock over at
    once among the processes that use it; the symlink lock is still taken
    inside, so plain Optuna writers of the same file stay excluded.
    """
    import fcntl

    from optuna.storages.journal import JournalFileSymlinkLock

    class QueuedLock:  # the interface of Optuna's journal file locks: acquire, release
        def __init__(self):
            self._inner = JournalFileSymlinkLock(str(path))
            self._fd = None

        def acquire(self) -> bool:
            fd = os.open(f"{path}.flock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._inner.acquire()
            except BaseException:
                os.close(fd)  # closing releases the flock
                raise
            self._fd = fd
            return True

        def release(self) -> None:
            try:
                self._inner.release()
            finally:
                fd, self._fd = self._fd, None
                if fd is not None:
                    os.close(fd)

    return QueuedLock()


def describe_storage(storage: str | os.PathLike) -> str:
    """Storage as shown in messages and records: a URL without its password, or a journal path."""
    text = str(storage)
    if not is_url(text):
        return str(Path(text).expanduser())
    return mask_url(text)


# ---------------------------------------------------------------------------
# Which process runs a trial


def _start_ticks(pid: int) -> str:
    """Start time of ``pid`` in clock ticks since boot (Linux), or "" when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22, counted after the parenthesized command name (which may hold spaces).
    return stat.rsplit(")", 1)[1].split()[19]


def process_tag(pid: int | None = None) -> str:
    """``"<host>:<pid>:<start ticks>"`` identifying a process even after its pid is reused."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def process_alive(tag: str) -> bool | None:
    """Whether the process of ``tag`` still runs: True/False on this host, None elsewhere."""
    try:
        host, pid, ticks = str(tag).rsplit(":", 2)
        pid = int(pid)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    if _zombie(pid):  # killed, not yet reaped by its parent: it runs nothing any more
        return False
    return not ticks or _start_ticks(pid) == ticks


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


# ---------------------------------------------------------------------------
# Failing a lost trial and running it again


def fail_trial(study, storage, trial, reason: str, *, retry: bool = True,
               max_retries: int | None = None) -> int | None:
    """Mark a RUNNING ``trial`` FAIL with ``reason`` and, if ``retry``, enqueue its parameters.

    ``max_retries`` bounds the retries of a configuration whose process died
    (keras-tuner's ``max_retries_per_trial``, Optuna's ``RetryFailedTrialCallback``):
    each retry carries the number of deaths so far (user attribute ``deaths``);
    once they exceed ``max_retries`` the trial is failed for good (no retry; it
    counts towards ``n_trials`` and stays in the history with its parameters, so
    the sampler sees that the configuration failed). ``None``: the failure is not
    the configuration's (an interrupt), it is retried without counting.

    Returns the trial's number, or None when the trial had already finished.
    """
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    current = storage.get_trial(trial._trial_id)
    if current.state.is_finished():
        return None
    deaths = int(current.user_attrs.get(DEATHS, 0))
    if retry and max_retries is not None:
        deaths += 1
        if deaths > max_retries:
            retry = False
            reason = f"{reason}; failed for good after {deaths} attempts (max_retries={max_retries})"
    try:
        storage.set_trial_user_attr(current._trial_id, "error", reason)
        if retry:
            storage.set_trial_user_attr(current._trial_id, RETRIED, True)
        # Atomic in every storage: of processes failing one trial at once, one wins
        # (the others get UpdateFinishedTrialError) and only it queues the retry.
        study.tell(current.number, state=TrialState.FAIL, skip_if_finished=True)
    except UpdateFinishedTrialError:
        return None
    # A trial that drew its configuration (its Optuna params, or a space without free
    # parameters: only the estimator parameters) runs again with it.
    if retry and (current.params or ESTIMATOR_PARAMS in current.user_attrs):
        origin = current.user_attrs.get("retry_of", current.number)
        attrs = {"retry_of": origin, DEATHS: deaths} if deaths else {"retry_of": origin}
        study.enqueue_trial(dict(current.params), user_attrs=attrs)
    return current.number


def recover_stale_trials(study, storage, *, keep: set[str] = frozenset(),
                         max_retries: int | None = None,
                         untagged_grace: float = UNTAGGED_GRACE) -> dict[str, Any]:
    """Fail and re-enqueue the RUNNING trials of dead processes.

    A trial is lost when its ``process`` tag names a process of this host that
    no longer runs, when (database storages with heartbeats) its heartbeat is
    older than the storage's grace period, or when it has had no tag for
    ``untagged_grace`` seconds. ``keep`` holds process tags known to be alive
    (this run's workers); a live process of this host is never failed. Trials
    of other hosts that cannot be judged (journal files) are left RUNNING and
    counted under ``"unknown"``. ``max_retries`` bounds the retries of a trial
    as in :func:`fail_trial`; the trials failed for good are listed again under
    ``"given_up"``.
    """
    from optuna.trial import TrialState

    rdb = enable_heartbeat(storage)
    stale = set()
    if rdb is not None:
        stale = set(rdb._get_stale_trial_ids(study._study_id))  # Optuna's heartbeat interface
    young = datetime.now() - timedelta(seconds=untagged_grace)
    recovered, unknown, given_up = [], [], []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        tag = trial.user_attrs.get(PROCESS)
        if tag in keep:
            continue
        alive = process_alive(tag) if tag else None
        if alive:
            continue
        if trial._trial_id in stale:
            who = f"process {tag}" if tag else "an unknown process"
            reason = f"WorkerLost: no heartbeat of {who} for {rdb.grace_period} s"
        elif alive is False:
            reason = f"WorkerLost: process {tag} died while running this trial"
        elif not tag and (trial.datetime_start is None or trial.datetime_start < young):
            reason = "WorkerLost: an unknown process died while running this trial"
        else:  # another host's, or just popped from the queue and not yet tagged
            unknown.append(trial.number)
            continue
        if fail_trial(study, storage, trial, reason, max_retries=max_retries) is not None:
            recovered.append(trial.number)
            if not storage.get_trial(trial._trial_id).user_attrs.get(RETRIED):
                given_up.append(trial.number)
    return {"recovered": recovered, "unknown": unknown, "given_up": given_up}


def consecutive_failures(trials) -> list:
    """The trials failed for good since the last COMPLETE or PRUNED one, in order of completion.

    Retried attempts (a lost worker, an interrupt) are left out: only failures
    that count towards the budget break a run of successes.
    """
    from optuna.trial import TrialState

    ended = sorted(
        (t for t in trials if t.state.is_finished() and t.datetime_complete is not None
         and not (t.state == TrialState.FAIL and t.user_attrs.get(RETRIED))),
        key=lambda t: (t.datetime_complete, t.number),
    )
    failed: list = []
    for t in ended:
        failed = [*failed, t] if t.state == TrialState.FAIL else []
    return failed


def _creation_race(exc: BaseException) -> bool:
    """Whether ``exc`` is another process creating the same schema or study at the same time."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(k in text for k in ("integrityerror", "unique constraint", "already exists",
                                   "duplicate key", "uniqueviolation", "database is locked"))


def _retrying(make, what: str, attempts: int = 8):
    for attempt in range(attempts):
        try:
            return make()
        except Exception as exc:
            if attempt == attempts - 1 or not _creation_race(exc):
                raise
            # Processes that collided once should not collide again: stagger by pid.
            time.sleep(0.05 * (attempt + 1) * (1 + os.getpid() % 7 / 7))
    raise AssertionError(what)  # not reached


def open_storage_retrying(storage):
    """:func:`open_storage`, again when another process is creating the same database schema.

    Two processes opening a new SQLite or PostgreSQL database at the same
    moment both create Optuna's tables; the slower one fails with a unique
    constraint error (``alembic_version``) or "already exists". Opened again,
    it finds the schema made.
    """
    return _retrying(lambda: open_storage(storage), "open_storage")


def create_or_load_study(study_name: str, storage, directions, *, join: bool):
    """``(study, created)``: create the study, or load it when another process just did.

    ``join=False`` turns losing that race into :class:`StudyExistsError`.
    """
    import optuna
    from optuna.exceptions import DuplicatedStudyError

    def make():
        try:
            return optuna.create_study(
                study_name=study_name, storage=storage, directions=directions), True
        except DuplicatedStudyError:
            if not join:
                raise StudyExistsError(
                    f"study {study_name!r} was created by another process at the same time"
                ) from None
            return optuna.load_study(study_name=study_name, storage=storage), False

    return _retrying(make, "create_study")


# ---------------------------------------------------------------------------
# Opening a run's study


def prepare_storage(spec, *, resume: bool, overwrite: bool):
    """Resolve the storage of ``spec``; apply the fresh / resume / overwrite rules.

    Returns ``(storage, storage_url, exists)``. Raises :class:`StudyExistsError`
    when a fresh run would replace a study or a previous run's outputs.
    """
    run = RunDirectory(spec.output)
    run.path.mkdir(parents=True, exist_ok=True)
    default_journal = run.journal
    storage_url = str(spec.storage) if spec.storage is not None else str(default_journal)
    # In memory only: records and messages show describe_storage(storage_url).
    storage_url = with_password(storage_url, spec.storage_password_env)
    study_name = spec.study_name
    leftovers = run.outputs()
    journal_existed = is_url(storage_url) or Path(storage_url).exists()
    storage = open_storage_retrying(storage_url)
    names = [s.study_name for s in storage.get_all_studies()] if journal_existed else []
    exists = study_name in names
    if resume:
        return storage, storage_url, exists
    if exists and spec.storage is not None and not overwrite:
        # A storage given explicitly is shared: `automl run` processes (on this
        # machine or others) that name the same study join it, as Optuna's
        # load_if_exists; n_trials stays the total over all of them.
        return storage, storage_url, True
    if overwrite:
        import optuna

        if exists:
            if storage_url == str(default_journal) and names == [study_name]:
                del storage
                for p in (default_journal, Path(f"{default_journal}.lock"),
                          Path(f"{default_journal}.flock")):
                    if p.exists() or p.is_symlink():
                        p.unlink()
                storage = open_storage(storage_url)
            else:
                optuna.delete_study(study_name=study_name, storage=storage)
        run.remove_outputs()
        return storage, storage_url, False
    if exists or leftovers:
        out = run.path
        what = (
            f"study {study_name!r} already exists in {describe_storage(storage_url)}"
            if exists
            else f"{out} holds the outputs of a previous run ({', '.join(leftovers)})"
        )
        raise StudyExistsError(
            f"{what}. Continue it with resume=True (`automl resume {out}`), replace it "
            f"with overwrite=True (`--overwrite`), or choose another study_name or output."
        )
    return storage, storage_url, False


def open_recorded_study(source, study_name: str | None = None):
    """The study of an output directory, a journal file or a storage URL."""
    import optuna

    text = str(source)
    if not is_url(text) and Path(text).is_dir():
        info = RunDirectory(text).read_run()
        text, study_name = info["storage"], study_name or info["study_name"]
        text = with_password(text, (info.get("spec") or {}).get("storage_password_env"))
    storage = open_storage(text)
    if study_name is None:
        names = [s.study_name for s in storage.get_all_studies()]
        if len(names) != 1:
            raise ValueError(f"{describe_storage(text)} holds studies {names}; pass study_name")
        study_name = names[0]
    return optuna.load_study(study_name=study_name, storage=storage)
