"""``automl worker``: join a running study with nothing but its storage and name.

::

    storage + study name ─► the spec recorded in the study ─► StudyPlan ─► the ask/tell loop

When :func:`run_study` creates a study it stores the resolved spec in the
study's user attributes (``worker_spec``: dataset reference with absolute
paths, the search space written out, model, metric, budget, seed; see
:mod:`automl.search._record`). A worker reads it back, rebuilds the
:class:`StudyPlan`, loads the data itself (a built-in name, a file at the same
path, or an importable ``module:function``) and runs the same loop as
``automl run`` (:func:`automl.search._optimize.optimize`) on ``n_jobs`` local
worker processes, with the study's seed.

A worker writes only to the storage, never to the run directory of the study:
it prints one line when it joins and one when it stops (with a progress bar
in between unless quiet). It stops when the study's ``n_trials`` (as its latest run set them) are used up,
when the study is marked finished (the ``automl run`` that created it ended),
after ``max_trials`` trials of its own, or ``timeout`` seconds after it
started. Ctrl-C fails only the trials it is running, which are queued again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ._console import print_recovery
from ._database import with_password
from ._optimize import optimize
from ._plan import StudyPlan
from ._record import N_TRIALS, is_finished, recorded_spec
from ._runner import _quiet_optuna
from ._signals import sigterm_interrupts
from ._space import SpecError
from ._storage import budget_used, describe_storage, open_storage, recover_stale_trials
from ._summary import RunInfo, states

__all__ = ["WorkerError", "WorkerReport", "run_worker"]

#: Seconds a worker waits for a just-created study to record its spec.
SPEC_WAIT_S = 15.0


class WorkerError(ValueError):
    """The worker cannot join: no such study, no recorded spec, data it cannot reach."""


@dataclass
class WorkerReport:
    """What a worker did: the trials it asked, their states, and why it stopped."""

    study_name: str
    storage: str
    trials: list = field(default_factory=list)
    states: dict = field(default_factory=dict)
    reason: str = ""
    study_trials: int = 0
    n_trials: int = 0


def run_worker(
    storage: str,
    study_name: str | None = None,
    *,
    n_jobs: int = 1,
    max_trials: int | None = None,
    timeout: float | None = None,
    password_env: str | None = None,
    cluster: str | None = None,
    verbose: int = 1,
) -> WorkerReport:
    """Join the study ``study_name`` of ``storage`` and run its trials until it is done.

    Parameters
    ----------
    storage : str
        The study's storage: a database URL (``postgresql://user@host/db``) or
        a journal file path. A URL without a password takes it from
        ``$password_env``, else from ``PGPASSWORD`` / ``~/.pgpass``.
    study_name : str, optional
        Needed when the storage holds several studies.
    n_jobs : int, default=1
        Worker processes of this worker.
    max_trials : int, optional
        Ask at most this many trials.
    timeout : float, optional
        Start no trial after this many seconds.
    password_env : str, optional
        Environment variable holding the database password when ``storage``
        has none (the study's own ``storage_password_env`` is recorded in the
        storage, which the worker must open first).
    cluster : str, optional
        A Dask scheduler (``tcp://HOST:PORT``) to run this worker's trials on;
        by default they run in ``n_jobs`` local processes, whatever the study's
        own ``cluster`` key says.
    verbose : int, default=1
        0: silent; 1: a line on joining, a progress bar, a line on stopping.

    Returns
    -------
    WorkerReport

    Raises
    ------
    WorkerError
        No such study, a study without a recorded spec (not created by
        ``run_study``) or of engine ``sklearn``, or data this machine cannot load.
    StorageError
        The storage cannot be opened.
    KeyboardInterrupt
        After Ctrl-C: this worker's running trials are failed and queued again.

    Examples
    --------
    A study in a shared journal file, then a worker that finds its budget used up:

    >>> import tempfile
    >>> from automl.search import run_study
    >>> folder = tempfile.mkdtemp()
    >>> _ = run_study({"dataset": "iris", "space": {"parameters": {"batch_size": 16}},
    ...                "epochs": 1, "n_trials": 1, "pruner": "none", "output": folder,
    ...                "storage": f"{folder}/shared.journal"}, verbose=0)
    >>> report = run_worker(f"{folder}/shared.journal", verbose=0)
    >>> report.study_name, report.trials, report.reason
    ('iris', [], "the study's budget is used up")
    """
    import optuna

    shown = describe_storage(storage)
    url = with_password(str(storage), password_env)
    backend = open_storage(url)
    study_name = _study_name(backend, study_name, shown)
    study = optuna.load_study(study_name=study_name, storage=backend)
    attrs = _recorded_attrs(study, shown)
    if attrs.get("engine", "optuna") != "optuna":
        raise WorkerError(f"study {study_name!r} in {shown} runs engine {attrs['engine']!r}: a "
                          "scikit-learn search runs as a whole in one process, workers join "
                          "engine 'optuna' studies only")
    plan = _plan(attrs, study_name, shown, storage=str(storage), n_jobs=n_jobs, timeout=timeout,
                 n_trials=attrs.get(N_TRIALS), cluster=cluster)
    spec = plan.spec
    info = RunInfo(study_name=study_name, storage_url=url, seed=int(attrs["seed"]),
                   n_jobs=n_jobs, threads=1, deterministic=bool(spec.deterministic),
                   directions=list(spec.directions))
    report = WorkerReport(study_name=study_name, storage=shown, n_trials=spec.n_trials)
    with _quiet_optuna():
        info.recovered = recover_stale_trials(study, backend)
        if verbose > 0 and info.recovered["recovered"]:
            print_recovery(info.recovered)
        used = budget_used(study.get_trials(deepcopy=False))
        if verbose > 0:
            print(f"Worker joined study {study_name!r} in {shown}: {used} of {spec.n_trials} "
                  f"trials used; {n_jobs} worker process{'es' if n_jobs > 1 else ''}.",
                  flush=True)
        t0 = time.monotonic()
        with sigterm_interrupts():
            try:
                report.trials = optimize(plan, study, backend, info, verbose=verbose,
                                         max_trials=max_trials,
                                         should_stop=lambda: is_finished(study))
            except KeyboardInterrupt:
                if verbose > 0:
                    print("Worker interrupted: its running trials were failed and queued "
                          "again.", flush=True)
                raise
        trials = study.get_trials(deepcopy=False)
    mine = [t for t in trials if t.number in set(report.trials)]
    report.states = {k: v for k, v in states(mine).items() if v}
    report.study_trials = budget_used(trials)
    report.reason = _reason(report, study, max_trials, timeout, time.monotonic() - t0)
    if verbose > 0:
        done = ", ".join(f"{v} {k}" for k, v in report.states.items()) or "none"
        print(f"Worker stopped ({report.reason}): {len(report.trials)} trials here ({done}); "
              f"study {study_name!r}: {report.study_trials} of {spec.n_trials} trials used.",
              flush=True)
    return report


def _study_name(backend, study_name: str | None, shown: str) -> str:
    names = [s.study_name for s in backend.get_all_studies()]
    if study_name is None:
        if len(names) != 1:
            raise WorkerError(f"{shown} holds {len(names)} studies {names}; name one with "
                              "--study-name")
        return names[0]
    if study_name not in names:
        raise WorkerError(f"no study {study_name!r} in {shown}; it holds {names}")
    return study_name


def _recorded_attrs(study, shown: str) -> dict:
    """The study's user attributes once its creator has recorded the spec (waits a little)."""
    deadline = time.monotonic() + SPEC_WAIT_S
    while True:
        attrs = study.user_attrs
        late = time.monotonic() >= deadline
        # worker_spec is recorded last; studies of older versions have only spec
        if "worker_spec" in attrs or (late and {"spec", "seed", "engine"} <= set(attrs)):
            return attrs
        if late:
            raise WorkerError(f"study {study.study_name!r} in {shown} has no recorded spec: "
                              "workers join studies started by `automl run` (or run_study)")
        time.sleep(0.5)


def _plan(attrs: dict, study_name: str, shown: str, **overrides) -> StudyPlan:
    """The plan from the recorded spec, its data loaded; one-line errors when it cannot be."""
    record = dict(attrs.get("worker_spec") or attrs["spec"])
    record["timeout"] = None  # the study's timeout belongs to its run; a worker has its own
    record["cluster"] = None  # and so does its cluster: a worker runs where it is told
    where = f"study {study_name!r} in {shown}"
    try:
        spec = recorded_spec(record, attrs.get("source"), overrides)
        plan = StudyPlan.from_spec(spec)
        plan.data  # noqa: B018 - load the data now, to report a failure before any trial
    except (SpecError, FileNotFoundError, ImportError, OSError) as exc:
        raise WorkerError(
            f"{where}: this worker cannot load the study's data or space ({_one_line(exc)}); "
            "a worker loads the data itself: a built-in name, a file at the same path, or an "
            "importable 'module:function'"
        ) from None
    return plan


def _reason(report: WorkerReport, study, max_trials, timeout, elapsed: float) -> str:
    if report.study_trials >= report.n_trials:
        return "the study's budget is used up"
    if is_finished(study):
        return "the study is marked finished"
    if max_trials is not None and len(report.trials) >= max_trials:
        return f"--max-trials {max_trials} reached"
    if timeout is not None and elapsed >= timeout:
        return f"--timeout {timeout:g} s reached"
    return "no trial left to ask"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())

