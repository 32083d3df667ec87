"""run_study: a short loop from a study spec to a run directory.

::

    StudySpec ─► StudyPlan ─► storage (create / resume) ─► ask/tell loop ─► refit ─► RunDirectory

1. :func:`load_spec` validates the study; :class:`StudyPlan` holds its space,
   sampler, pruner, data split and ``make_estimator``.
2. The study is created in its storage (``<output>/study.journal`` by default),
   or reopened with ``resume=True``; RUNNING trials left by dead processes
   are then failed and their parameters enqueued again.
3. The parent process claims each trial within the budget (several processes
   may share the study: :mod:`._claims`), asks the sampler (seeded per trial
   number from the study seed), draws its estimator parameters once and
   stores them on the trial, and hands it to a free worker; workers run the
   objective and tell the result to the storage. With ``deterministic: true``
   trials go out in batches of ``n_jobs``.
4. The best trial's parameters are refit on train + validation, scored once
   on the test split and saved with the tables and the summary.
"""

from __future__ import annotations

import os
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ._console import print_interrupted, print_recovery
from ._datasets import in_memory_dataset
from ._objective import PARAMS_ATTR
from ._optimize import TooManyFailures, optimize
from ._plan import StudyPlan, load_spec
from ._record import (
    load_run_spec,
    mark_finished,
    mark_running,
    recorded_spec,
    spec_record,
    study_attrs,
)
from ._refit import finish, write_partial
from ._results import StudyResult
from ._run_directory import RunDirectory
from ._signals import no_sigint, sigterm_interrupts
from ._sklearn_engine import run_sklearn_search
from ._storage import (
    StudyExistsError,
    budget_used,
    create_or_load_study,
    open_recorded_study,
    prepare_storage,
    recover_stale_trials,
)
from ._summary import RunInfo, states

__all__ = ["run_study", "resume_study", "rerun_trial", "StudyExistsError"]


# ---------------------------------------------------------------------------
# Public API


def run_study(
    spec,
    *,
    X=None,
    y=None,
    verbose: int = 1,
    resume: bool = False,
    overwrite: bool = False,
    threads_per_worker: int | None = None,
    **overrides,
) -> StudyResult:
    """Run a declarative hyperparameter study end to end.

    Loads and validates the study, splits the dataset, runs ``n_trials``
    trials in ``n_jobs`` worker processes sharing one Optuna storage, refits
    the best configuration on train + validation, scores it once on the test
    split and writes the outputs (tables, summary, best model) to ``output``.
    :func:`automl.run_study` (and ``automl run``) also writes the dashboard
    ``report.html``; this one writes everything but the report.

    Parameters
    ----------
    spec : str, Path, mapping or StudySpec
        A study YAML file (see ``studies/digits_mlp.yaml``), the name of a shipped
        study (``"digits_mlp"``) or its parsed contents (``{}``: every default).
    X : pandas.DataFrame or array-like of shape (n_samples, n_features), optional
        The data itself, in place of the study's ``dataset`` (which must then be
        absent): a DataFrame with text, category, boolean, datetime and
        missing values, or a NumPy array. Worker processes receive large
        numeric arrays memory-mapped, and DataFrames pickled.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
        Targets of ``X``: numbers, strings or booleans (a pandas Series is fine).
    verbose : int, default=1
        0: silent; 1: a progress bar over trials and a final report.
    resume : bool, default=False
        Continue the study if its storage already holds it (Optuna's
        ``load_if_exists``): completed trials are kept, ``n_trials`` is the
        total, RUNNING trials of dead processes are failed and run again.
        Without it, a study already in the default journal of ``output``
        stops the run with :class:`StudyExistsError`; a study in a storage
        given explicitly (``storage:`` / ``--storage``) is joined: several
        processes, on one machine or many, given the same storage and study
        name share one study and its ``n_trials`` budget.
    overwrite : bool, default=False
        Delete a previous study of the same name (and the outputs in
        ``output``) and start afresh.
    threads_per_worker : int, optional
        BLAS threads of each worker (and of the refit), capped so that
        ``n_jobs * threads_per_worker <= cores``. Default 1: the cores go to
        worker processes. A second BLAS thread speeds the small networks of a
        study by 1.3x at best, while a 2-thread process whose other core is
        busy slows down several times (20x measured for the digits MLP on a
        loaded 2-core machine), so raise it only for large models with
        ``n_jobs`` below the core count.
    **overrides
        Top-level study keys replacing the file's values, e.g. ``n_trials=5``,
        ``n_jobs=2``, ``seed=1``, ``output="runs/x"``, ``timeout=60``,
        ``epochs=3``, ``storage="sqlite:///studies.db"``, ``study_name="x"``,
        ``deterministic=True``.

    Returns
    -------
    StudyResult

    Raises
    ------
    FileNotFoundError, SpecError
        The study or its space cannot be loaded (see :func:`load_spec`).
    StudyExistsError
        Without ``resume`` or ``overwrite``, the storage already holds a study
        of that name or the output directory holds a previous run's outputs.
        Nothing is deleted without ``overwrite=True``.
    RuntimeError
        No trial completed; or ``max_consecutive_failures`` trials failed in a
        row (the message names their errors; a partial ``summary.json`` with
        status ``"stopped"`` is written and ``resume=True`` continues the study).
    KeyboardInterrupt
        After Ctrl-C: workers are stopped, running trials are marked failed
        (``error="interrupted"``) and queued again, the tables and a partial
        ``summary.json`` are written; ``resume=True`` continues the study.

    Notes
    -----
    **Seeds.** Trial ``i`` trains with ``trial_seed(seed, i)`` (a retry of
    trial ``i`` after its worker died or the run stopped, with the same seed and
    parameters as trial ``i``) and its parameters are drawn by a sampler seeded from ``(seed, i)`` in the parent
    process, so with ``n_jobs=1`` the same study run twice gives identical
    trials, and :func:`rerun_trial` reproduces a finished trial's score.

    **Sharing a study.** Processes given one storage and study name share
    ``n_trials`` exactly: each trial is claimed in trial-number order and one
    created past the budget is given back unevaluated (a FAIL trial with
    ``over_budget``, counted nowhere); trial ``i``'s sampler seed depends on
    ``i`` alone, so processes asking at once never draw alike. A process that
    ends while others still run trials writes ``summary.json`` with status
    ``running`` and ``trials_running`` and skips the refit; the last one to
    finish refits the best trial and writes the final summary.

    **Deterministic parallel mode** (``deterministic: true``). With
    ``n_jobs=k > 1`` trials normally start as soon as a worker is free, so the
    sampler and the pruner see whatever has finished by then, which depends on
    timing. In deterministic mode the parent asks the sampler for ``k`` trials,
    the workers run them, and the next batch starts only when all ``k`` are
    done; a pruner compares a trial only with trials of earlier batches.
    Repeated runs then give identical trials. The cost: cores idle while the
    slowest trial of each batch finishes (pruned trials make batches uneven),
    and the sampler learns from results one batch late (``k - 1`` trials of
    each batch are chosen without the results of their batch mates).
    A trial lost to a dead worker is retried at the end of the study under a
    new number, so such a run is no longer identical to an uninterrupted one.
    """
    spec = load_spec(spec, data=_in_memory(X, y), **overrides)
    return _run(spec, verbose=verbose, resume=resume, overwrite=overwrite,
                threads_per_worker=threads_per_worker)


def resume_study(source, *, X=None, y=None, verbose: int = 1,
                 threads_per_worker: int | None = None, **overrides) -> StudyResult:
    """Continue a stopped or crashed study; ``source`` is its output directory or study file.

    From a directory, the study is rebuilt from ``run.json`` (the spec as it
    ran: storage, study name, seed). ``n_trials`` is the total, completed
    trials included; it and the other keys can be overridden as in
    :func:`run_study`. A study run on data in memory (``X=``, ``y=``) needs the
    same data again: it is not recorded.
    """
    data = _in_memory(X, y)
    if Path(source).is_dir():
        spec = load_run_spec(source, data=data, **overrides)
    else:
        spec = load_spec(source, data=data, **overrides)
    return _run(spec, verbose=verbose, resume=True, overwrite=False,
                threads_per_worker=threads_per_worker)


def rerun_trial(source, number: int, *, study_name: str | None = None) -> float:
    """Re-run one finished trial alone from its record and return its score.

    The trial's parameters come from the storage, its seed from the study
    seed and its number, the data split and the objective from the study spec
    recorded with the study; a trial that completed gives the same score
    (a pruned one trains to the end here). BLAS threads are limited as in
    the original run.

    Parameters
    ----------
    source : str or Path
        The study's output directory, a journal file or a storage URL.
    number : int
        Trial number.
    study_name : str, optional
        Needed for a storage holding several studies.
    """
    import optuna
    from threadpoolctl import threadpool_limits

    study = open_recorded_study(source, study_name)
    attrs = study.user_attrs
    if "spec" not in attrs:
        raise ValueError(f"study {study.study_name!r} has no 'spec' record (not run by run_study)")
    plan = StudyPlan.from_spec(recorded_spec(attrs["spec"], attrs.get("source"), {}))
    matches = [t for t in study.get_trials(deepcopy=False) if t.number == number]
    if not matches:
        raise ValueError(f"study {study.study_name!r} has no trial {number}")
    fixed = optuna.trial.FixedTrial(dict(matches[0].params), number=number)
    for key in ("retry_of", PARAMS_ATTR):  # a retry trains with its original's seed
        if key in matches[0].user_attrs:
            fixed.set_user_attr(key, matches[0].user_attrs[key])
    with threadpool_limits(limits=int(attrs.get("threads_per_worker", 1))):
        value = plan.objective(attrs["seed"])(fixed)
    return float(value[0] if isinstance(value, (list, tuple)) else value)


# ---------------------------------------------------------------------------
# The run: open the study, optimize, finish


def _run(spec, *, verbose: int, resume: bool, overwrite: bool, threads_per_worker=None):
    t_start = time.perf_counter()
    plan = StudyPlan.from_spec(spec)
    if spec.cluster is not None:  # an unreachable scheduler stops the run before the study starts
        from ._dask_pool import preflight

        preflight(spec)
    with _quiet_optuna():
        study, storage, info = _open_study(plan, resume=resume, overwrite=overwrite,
                                           threads_per_worker=threads_per_worker)
        info.t_start = t_start
        if verbose > 0 and (info.recovered["recovered"] or info.recovered["unknown"]):
            print_recovery(info.recovered)
        _record_preprocessing(plan, info.seed, verbose)
        plan.make_estimator.prepare(plan.data, verbose)  # a frozen base's features, once
        search = None
        t_opt = time.perf_counter()
        try:
            with sigterm_interrupts():
                if spec.engine == "sklearn":
                    search = run_sklearn_search(
                        spec, plan.data, study, n_jobs=info.n_jobs, seed=info.seed,
                        verbose=verbose, make_estimator=plan.make_estimator,
                    )
                else:
                    mark_running(study, spec.n_trials)  # `automl worker`s ask again
                    optimize(plan, study, storage, info, verbose=verbose)
                    mark_finished(study)  # ... and stop asking when this run ends
        except TooManyFailures:
            info.optimize_s = time.perf_counter() - t_opt
            mark_finished(study)  # workers stop too: the cause needs fixing first
            write_partial(plan, study, info, status="stopped")
            raise
        except KeyboardInterrupt:
            with no_sigint():
                info.optimize_s = time.perf_counter() - t_opt
                write_partial(plan, study, info, status="interrupted")
                print_interrupted(states(study.get_trials(deepcopy=False)), spec.n_trials,
                                  spec.output)
            raise
        info.optimize_s = time.perf_counter() - t_opt
        return finish(plan, study, info, search=search, verbose=verbose)


def _open_study(plan: StudyPlan, *, resume: bool, overwrite: bool, threads_per_worker):
    """Create or reopen the study, record the run (``run.json``) and recover stale trials."""
    import optuna

    spec = plan.spec
    storage, storage_url, exists = prepare_storage(spec, resume=resume, overwrite=overwrite)
    study_name = spec.study_name
    study = None
    if not exists:  # another process may create it at the same moment: then join it
        study, created = create_or_load_study(study_name, storage, spec.directions,
                                              join=spec.storage is not None)
        exists = not created
    if exists:
        if study is None:
            study = optuna.load_study(study_name=study_name, storage=storage)
        _wait_for_record(study)
        if spec.engine == "sklearn" and study.get_trials(deepcopy=False):
            raise StudyExistsError(
                f"study {study_name!r} (engine sklearn) cannot be resumed: a scikit-learn "
                "search runs as a whole. Run it again with overwrite=True (`--overwrite`)."
            )
        seed = study.user_attrs.get("seed", spec.seed)
        if spec.seed is not None and seed != spec.seed:
            warnings.warn(
                f"study {study_name!r} was started with seed {seed}; it continues with it, "
                f"not {spec.seed}",
                stacklevel=4,
            )
    else:
        seed = spec.seed
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    cores = _available_cores()
    n_jobs = cores if spec.n_jobs == -1 else spec.n_jobs
    if spec.engine == "optuna":
        to_run = max(0, spec.n_trials - budget_used(study.get_trials(deepcopy=False)))
        n_jobs = max(1, min(n_jobs, max(to_run, 1)))
    threads = _threads(threads_per_worker, n_jobs, cores)
    record = spec_record(spec, seed=seed, storage_url=storage_url)
    if not exists:
        attrs = study_attrs(spec, seed=seed, n_jobs=n_jobs, threads=threads, record=record)
        for key, value in attrs.items():
            study.set_user_attr(key, value)
    RunDirectory(spec.output).write_run(
        {"study_name": study_name, "storage": record["storage"], "source": spec.source,
         "storage_password_env": spec.storage_password_env, "spec": record}
    )
    info = RunInfo(
        study_name=study_name,
        storage_url=storage_url,
        seed=seed,
        n_jobs=n_jobs,
        threads=threads,
        deterministic=bool(spec.deterministic),
        directions=list(spec.directions),
    )
    if exists:
        info.recovered = recover_stale_trials(study, storage, max_retries=spec.max_retries)
    info.sizes = plan.data["sizes"]
    return study, storage, info


def _in_memory(X, y):
    """The :class:`Dataset` of data given in memory, or None."""
    if X is None and y is None:
        return None
    if X is None or y is None:
        raise TypeError("run_study takes the data as both X and y; got only "
                        f"{'X' if y is None else 'y'}.")
    return in_memory_dataset(X, y)


def _record_preprocessing(plan: StudyPlan, seed: int, verbose: int) -> None:
    """Print and write (``preprocessing.csv``) the treatment of each column, for ``auto``.

    Decided by a preprocessor fitted on the training split; each trial fits its
    own on its training part (so nothing of validation or test leaks into it).
    """
    pre = plan.make_estimator.preprocessor(seed)
    if plan.spec.preprocessing != "auto" or pre is None:
        return
    data = plan.data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pre.fit(data["X_train"], data["y_train"])
    table = pre.treatments_table()
    RunDirectory(plan.spec.output).write_preprocessing(table)
    if verbose > 0:
        shown = table[["column", "treatment", "n_features", "reason"]]
        print(f"Preprocessing (auto; fitted in each trial on its training part), "
              f"{len(table)} column(s):")
        print(shown.to_string(index=False))


def _wait_for_record(study, timeout: float = 10.0) -> None:
    """Wait until the process that created ``study`` a moment ago has recorded its seed."""
    deadline = time.monotonic() + timeout
    while "seed" not in study.user_attrs and not study.get_trials(deepcopy=False):
        if time.monotonic() >= deadline:
            return  # a study not created by run_study: no record will come
        time.sleep(0.05)


def _threads(requested: int | None, n_jobs: int, cores: int) -> int:
    """BLAS threads per worker: ``requested`` (default 1) within ``n_jobs * threads <= cores``."""
    if requested is None:
        return 1
    if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
        raise ValueError(
            f"The 'threads_per_worker' parameter of run_study must be an int in the range "
            f"[1, inf) or None. Got {requested!r} instead."
        )
    return max(1, min(requested, cores // n_jobs))


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def _quiet_optuna():
    import optuna

    old = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(old)
