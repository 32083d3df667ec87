"""Where a study lives: Optuna storages, the batch view, and trials left by dead processes.

A study's storage is either the journal file ``<output>/study.journal`` (the
default), a journal file given by path, or any Optuna database URL
(``sqlite:///runs.db``, ``postgresql://...``). Journal files are append-only
logs guarded by a lock file, so several processes (workers, or several
``automl run`` commands on one machine) share one safely.

Optuna's heartbeat (``heartbeat_interval`` and a stale-trial callback) exists
only for ``RDBStorage``; ``JournalStorage`` does not implement it. So every
trial records which process runs it (the ``process`` user attribute,
``"<host>:<pid>:<start time>"``) and :func:`recover_stale_trials` fails and
re-enqueues the RUNNING trials whose process no longer exists on this host.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from ._database import StorageError, is_database_url, mask_url, open_database, with_password
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
]

#: File name of the default Optuna journal in the output directory.
JOURNAL_NAME = RunDirectory.JOURNAL

#: User attribute marking a failed trial whose parameters were enqueued again.
RETRIED = "retried"

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
    return JournalStorage(JournalFileBackend(str(path)))


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
    return not ticks or _start_ticks(pid) == ticks


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
    storage.set_trial_user_attr(current._trial_id, "error", reason)
    if retry:
        storage.set_trial_user_attr(current._trial_id, RETRIED, True)
    study.tell(current.number, state=TrialState.FAIL, skip_if_finished=True)
    # A trial that drew its configuration (its Optuna params, or a space without free
    # parameters: only the estimator parameters) runs again with it.
    if retry and (current.params or ESTIMATOR_PARAMS in current.user_attrs):
        origin = current.user_attrs.get("retry_of", current.number)
        attrs = {"retry_of": origin, DEATHS: deaths} if deaths else {"retry_of": origin}
        study.enqueue_trial(dict(current.params), user_attrs=attrs)
    return current.number


def recover_stale_trials(study, storage, *, keep: set[str] = frozenset(),
                         max_retries: int | None = None) -> dict[str, Any]:
    """Fail and re-enqueue RUNNING trials whose process is dead (checked on this host only).

    ``keep`` holds process tags known to be alive (this run's workers). Trials
    started on another host are left RUNNING and counted under ``"unknown"``.
    ``max_retries`` bounds the retries of a trial as in :func:`fail_trial`; the
    trials failed for good are listed again under ``"given_up"``.
    """
    from optuna.trial import TrialState

    recovered, unknown, given_up = [], [], []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        tag = trial.user_attrs.get("process")
        if tag in keep:
            continue
        alive = process_alive(tag) if tag else False
        if alive:
            continue
        if alive is None:
            unknown.append(trial.number)
            continue
        who = f"process {tag}" if tag else "an unknown process"
        reason = f"WorkerLost: {who} died while running this trial"
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


def budget_used(trials) -> int:
    """Trials counting towards ``n_trials``: all but WAITING ones and failed-then-retried ones."""
    from optuna.trial import TrialState

    return sum(
        1
        for t in trials
        if t.state != TrialState.WAITING
        and not (t.state == TrialState.FAIL and t.user_attrs.get(RETRIED))
    )


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
    storage = open_storage(storage_url)
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
                for p in (default_journal, Path(f"{default_journal}.lock")):
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
