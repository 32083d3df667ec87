"""run_study: split the data, run trials in worker processes on a shared storage, refit the best.

How a study runs
----------------
1. The spec is loaded and the data split into train / validation / test
   (or train+validation folds and test for ``validation: kfold:<k>``).
2. The study is created in its storage (``<output>/study.journal`` by default),
   or reopened with ``resume=True``; RUNNING trials left by dead processes
   are then failed and their parameters enqueued again.
3. The parent process asks the sampler for each trial (one sampler, seeded per
   trial number from the study seed) and hands the trial to a free worker;
   workers run the objective and tell the result to the storage. With
   ``deterministic: true`` trials go out in batches of ``n_jobs`` and the
   next batch starts when the whole batch is done (see :func:`run_study`).
4. The best trial's configuration is refit on train + validation, scored once
   on the test split and saved with the tables and the summary.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from automl._random import trial_seed

from ._results import StudyResult, epochs_table, trials_table
from ._run_directory import RunDirectory, jsonable
from ._spec import StudySpec, load_spec
from ._storage import (
    budget_used,
    describe_storage,
    fail_trial,
    is_url,
    open_storage,
    process_tag,
    recover_stale_trials,
)

__all__ = ["run_study", "resume_study", "rerun_trial", "StudyExistsError", "load_run_spec"]


class StudyExistsError(FileExistsError):
    """The storage or the output directory already holds the study being started."""


# ---------------------------------------------------------------------------
# Public API


def run_study(
    spec,
    *,
    verbose: int = 1,
    resume: bool = False,
    overwrite: bool = False,
    report: bool = True,
    threads_per_worker: int | None = None,
    **overrides,
) -> StudyResult:
    """Run a declarative hyperparameter study end to end.

    Loads and validates the study, splits the dataset, runs ``n_trials``
    trials in ``n_jobs`` worker processes sharing one Optuna storage, refits
    the best configuration on train + validation, scores it once on the test
    split and writes the outputs (tables, summary, best model) to ``output``.

    Parameters
    ----------
    spec : str, Path, mapping or StudySpec
        A study YAML file (see ``studies/digits_mlp.yaml``) or its parsed contents.
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
    report : bool, default=True
        Write the dashboard ``report.html`` (when :mod:`automl.reports` is
        available; a failure to write it only warns).
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
        No trial completed.
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
    spec = load_spec(spec, **overrides)
    return _run(
        spec,
        verbose=verbose,
        resume=resume,
        overwrite=overwrite,
        report=report,
        threads_per_worker=threads_per_worker,
    )


def resume_study(
    source,
    *,
    verbose: int = 1,
    report: bool = True,
    threads_per_worker: int | None = None,
    **overrides,
) -> StudyResult:
    """Continue a stopped or crashed study; ``source`` is its output directory or study file.

    From a directory, the study is rebuilt from ``run.json`` (the spec as it
    ran: storage, study name, seed). ``n_trials`` is the total, completed
    trials included; it and the other keys can be overridden as in
    :func:`run_study`.
    """
    path = Path(source)
    if path.is_dir():
        spec = load_run_spec(path, **overrides)
        return _run(
            spec,
            verbose=verbose,
            resume=True,
            overwrite=False,
            report=report,
            threads_per_worker=threads_per_worker,
        )
    return run_study(
        source,
        verbose=verbose,
        resume=True,
        report=report,
        threads_per_worker=threads_per_worker,
        **overrides,
    )


def load_run_spec(output_dir, **overrides) -> StudySpec:
    """The study spec recorded in ``<output_dir>/run.json``, with ``overrides`` applied."""
    run = RunDirectory(output_dir)
    if not run.has(run.RUN):
        raise FileNotFoundError(f"{run / run.RUN}: not a study output directory (no {run.RUN})")
    info = run.read_run()
    return _recorded_spec(info["spec"], info.get("source"), overrides)


def _recorded_spec(record: dict, source: str | None, overrides: dict) -> StudySpec:
    """Rebuild a spec from its record; through its file when it still exists (relative paths)."""
    merged = {**record, **{k: v for k, v in overrides.items() if v is not None}}
    if source and Path(source).is_file():
        return load_spec(source, **merged)
    return load_spec(merged)


def _open_recorded_study(source, study_name: str | None):
    import optuna

    text = str(source)
    if not is_url(text) and Path(text).is_dir():
        info = RunDirectory(text).read_run()
        text, study_name = info["storage"], study_name or info["study_name"]
    storage = open_storage(text)
    if study_name is None:
        names = [s.study_name for s in storage.get_all_studies()]
        if len(names) != 1:
            raise ValueError(f"{describe_storage(text)} holds studies {names}; pass study_name")
        study_name = names[0]
    return optuna.load_study(study_name=study_name, storage=storage)


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

    study = _open_recorded_study(source, study_name)
    attrs = study.user_attrs
    if "spec" not in attrs:
        raise ValueError(f"study {study.study_name!r} has no 'spec' record (not run by run_study)")
    spec = _recorded_spec(attrs["spec"], attrs.get("source"), {})
    matches = [t for t in study.get_trials(deepcopy=False) if t.number == number]
    if not matches:
        raise ValueError(f"study {study.study_name!r} has no trial {number}")
    data = _split(spec)
    objective = _make_objective(spec, data, attrs["seed"])
    fixed = optuna.trial.FixedTrial(dict(matches[0].params), number=number)
    if "retry_of" in matches[0].user_attrs:  # a retry trains with its original's seed
        fixed.set_user_attr("retry_of", matches[0].user_attrs["retry_of"])
    with threadpool_limits(limits=int(attrs.get("threads_per_worker", 1))):
        value = objective(fixed)
    return float(value[0] if isinstance(value, (list, tuple)) else value)


# ---------------------------------------------------------------------------
# The spec's pieces: objective, estimator, sampler, pruner, data


def _validation(spec: StudySpec) -> str:
    v = spec.validation
    return "holdout" if v["kind"] == "holdout" else f"kfold:{v['n_splits']}"


def _make_objective(spec: StudySpec, data: dict, seed: int):
    from ._objective import Objective

    return Objective.from_spec(
        spec,
        study_seed=seed,
        X_train=data["X_train"],
        y_train=data["y_train"],
        X_val=data["X_val"],
        y_val=data["y_val"],
    )


def make_pruner(pruner):
    """An Optuna pruner from a spec's ``pruner`` entry (module-level: workers unpickle it)."""
    from ._spec import make_pruner as _make

    return _make(pruner)


def _sampler_seed(seed: int, k: int) -> int:
    """Seed of the sampler asked for the study's ``k``-th trial (independent of trial seeds)."""
    seq = np.random.SeedSequence(seed, spawn_key=(0x5A3, int(k)))
    return int(seq.generate_state(1)[0])


def _split(spec: StudySpec) -> dict[str, Any]:
    """Train / validation / test arrays (``X_val`` is None for k-fold: folds of ``X_train``).

    The test split is the dataset's own when it has one (``X_test``), else a
    ``test_size`` fraction drawn with ``split_seed`` (stratified for
    classification). Features reach the objective unscaled: the study's
    preprocessing is fit on each training part inside the estimator.
    """
    from sklearn.model_selection import train_test_split

    ds = spec.load_data()
    classif = spec.task == "classification"

    def stratify(y):
        return y if classif and np.ndim(y) == 1 else None

    if getattr(ds, "X_test", None) is not None:
        X_trval, y_trval, X_test, y_test = ds.X, ds.y, ds.X_test, ds.y_test
    else:
        X_trval, X_test, y_trval, y_test = train_test_split(
            ds.X,
            ds.y,
            test_size=spec.test_size,
            random_state=spec.split_seed,
            stratify=stratify(ds.y),
        )
    data = dict(X_trval=X_trval, y_trval=y_trval, X_test=X_test, y_test=y_test)
    n = len(y_trval)
    if spec.validation["kind"] == "kfold":
        k = int(spec.validation["n_splits"])
        data.update(X_train=X_trval, y_train=y_trval, X_val=None, y_val=None)
        data["sizes"] = {"train": n - n // k, "val": n // k, "test": len(y_test)}
        return data
    X_train, X_val, y_train, y_val = train_test_split(
        X_trval,
        y_trval,
        test_size=spec.validation["size"],
        random_state=spec.split_seed,
        stratify=stratify(y_trval),
    )
    data.update(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val)
    data["sizes"] = {"train": len(y_train), "val": len(y_val), "test": len(y_test)}
    return data


# ---------------------------------------------------------------------------
# The run


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
    except AttributeError:  # pragma: no cover - not Linux
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


@contextmanager
def _signal_handler(signum, handler):
    """``handler`` for ``signum`` inside the block; a no-op outside the main thread."""
    try:
        old = signal.signal(signum, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signum, old)


@contextmanager
def _deferred_sigint():
    """Hold a Ctrl-C until the block ends, then raise it.

    Asking a trial creates it RUNNING and then tags it with this process; a
    Ctrl-C in between would leave an untagged trial that the clean-up cannot
    tell from another process's.
    """
    received = []
    with _signal_handler(signal.SIGINT, lambda signum, frame: received.append(signum)):
        yield
    if received:
        raise KeyboardInterrupt


@contextmanager
def _no_sigint():
    """Ignore a second Ctrl-C while cleaning up after the first."""
    with _signal_handler(signal.SIGINT, signal.SIG_IGN):
        yield


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@contextmanager
def _sigterm_interrupts():
    """Treat SIGTERM like Ctrl-C while trials run, so ``kill`` also stops cleanly."""
    with _signal_handler(signal.SIGTERM, _raise_interrupt):
        yield


def _prepare_storage(spec: StudySpec, *, resume: bool, overwrite: bool):
    """Resolve the storage and study name; apply the fresh / resume / overwrite rules.

    Returns ``(storage, storage_url, exists)``.
    """
    out: Path = spec.output
    out.mkdir(parents=True, exist_ok=True)
    run = RunDirectory(out)
    default_journal = run.journal
    storage_url = str(spec.storage) if spec.storage is not None else str(default_journal)
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


def _spec_record(spec: StudySpec, *, seed: int, storage_url: str) -> dict:
    """The spec's raw keys as run: absolute paths, the storage, the study name and the seed."""
    raw = dict(spec.raw)
    for alias in ("scale", "validation_size"):  # recorded under their new names
        raw.pop(alias, None)
    space = spec.space.source
    if Path(str(space)).is_file():
        raw["space"] = str(Path(space).resolve())
    raw.update(
        output=str(spec.output),
        seed=seed,
        storage=storage_url,
        study_name=spec.study_name,
        preprocessing=spec.preprocessing,
        validation=(
            spec.validation["size"]
            if spec.validation["kind"] == "holdout"
            else {"kfold": spec.validation["n_splits"]}
        ),
    )
    return jsonable(raw)


def _study_attrs(spec: StudySpec, *, seed, n_jobs, threads, record) -> dict:
    directions = spec.directions
    return jsonable(
        {
            "dataset": spec.dataset_name,
            "task": spec.task,
            "metric": spec.metric,
            "direction": directions[0] if len(directions) == 1 else directions,
            "objectives": spec.objectives or [spec.metric],
            "seed": seed,
            "epochs": spec.epochs,
            "space": spec.space.source,
            "engine": spec.engine,
            "sampler": (spec.sampler or {}).get("name"),
            "pruner": (spec.pruner or {}).get("name"),
            "n_jobs": n_jobs,
            "threads_per_worker": threads,
            "validation": _validation(spec),
            "deterministic": bool(spec.deterministic),
            "source": spec.source,
            "spec": record,
        }
    )


def _run(
    spec: StudySpec,
    *,
    verbose: int,
    resume: bool,
    overwrite: bool,
    report: bool = True,
    threads_per_worker: int | None = None,
):
    import optuna

    t_start = time.perf_counter()
    out = spec.output
    with _quiet_optuna():
        storage, storage_url, exists = _prepare_storage(spec, resume=resume, overwrite=overwrite)
        study_name = spec.study_name
        if exists:
            study = optuna.load_study(study_name=study_name, storage=storage)
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
                    stacklevel=3,
                )
        else:
            seed = spec.seed
            if seed is None:
                seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
            study = optuna.create_study(
                study_name=study_name, storage=storage, directions=spec.directions
            )
        cores = _available_cores()
        n_jobs = cores if spec.n_jobs == -1 else spec.n_jobs
        if spec.engine == "optuna":
            to_run = max(0, spec.n_trials - budget_used(study.get_trials(deepcopy=False)))
            n_jobs = max(1, min(n_jobs, max(to_run, 1)))
        threads = _threads(threads_per_worker, n_jobs, cores)
        record = _spec_record(spec, seed=seed, storage_url=storage_url)
        if not exists:
            attrs = _study_attrs(spec, seed=seed, n_jobs=n_jobs, threads=threads, record=record)
            for key, value in attrs.items():
                study.set_user_attr(key, value)
        RunDirectory(out).write_run(
            {
                "study_name": study_name,
                "storage": storage_url,
                "source": spec.source,
                "spec": record,
            },
        )
        recovered = {"recovered": [], "unknown": []}
        if exists:
            recovered = recover_stale_trials(study, storage)
        data = _split(spec)
        info = dict(
            sizes=data["sizes"],
            study_name=study_name,
            storage_url=storage_url,
            seed=seed,
            n_jobs=n_jobs,
            threads=threads,
            deterministic=bool(spec.deterministic),
            directions=list(spec.directions),
            t_start=t_start,
            recovered=recovered,
            lost=[],
        )
        if verbose > 0 and (recovered["recovered"] or recovered["unknown"]):
            _print_recovery(recovered)

        search = None
        t_opt = time.perf_counter()
        try:
            with _sigterm_interrupts():
                if spec.engine == "sklearn":
                    search = _run_sklearn(
                        spec, data, study, n_jobs=n_jobs, seed=seed, verbose=verbose
                    )
                else:
                    _optimize(spec, study, storage, data, info, verbose=verbose)
        except KeyboardInterrupt:
            with _no_sigint():
                info["optimize_s"] = time.perf_counter() - t_opt
                _write_partial(spec, study, info, status="interrupted")
                _print_interrupted(spec, study, out)
            raise
        info["optimize_s"] = time.perf_counter() - t_opt
        return _finish(spec, study, data, info, search=search, verbose=verbose, report=report)


# ---------------------------------------------------------------------------
# Optimization loop (engine "optuna")


def _ask(study, space, seed: int, sampler_for, storage, *, tag: bool) -> dict | None:
    """Create the next trial in the parent and draw all its space parameters.

    The sampler is rebuilt for each trial with a seed derived from the study
    seed and the trial count, so trial ``k``'s draw depends only on the seed
    and the finished history, also across a resume. With ``tag`` the trial
    records this process until a worker takes it, so that other processes
    sharing the study (and a resume after a crash) can tell a live trial from
    one whose process died.
    """
    study.sampler = sampler_for(len(study.get_trials(deepcopy=False)))
    trial = study.ask()
    # A retried trial (its worker died, or the run was interrupted) trains with the
    # seed of the trial it repeats, so it gives the result that trial would have.
    tseed = trial_seed(seed, trial.user_attrs.get("retry_of", trial.number))
    if tag:
        trial.set_user_attr("process", process_tag())
    try:
        space.suggest(trial)
    except Exception as exc:  # noqa: BLE001 - recorded on the trial, the study goes on
        fail_trial(study, storage, trial, f"{type(exc).__name__}: {exc}", retry=False)
        return None
    return {"number": trial.number, "seed": tseed}


def _optimize(spec, study, storage, data, info, *, verbose: int) -> None:
    from ._pool import InlinePool, ProcessPool, TrialRunner
    from ._progress import ProgressBar
    from ._spec import make_sampler, trial_space

    seed, n_jobs = info["seed"], info["n_jobs"]
    deterministic = info["deterministic"]
    space = trial_space(spec)
    fixed_seed = spec.sampler["name"] == "qmc"  # a QMC sequence needs one scrambling seed

    def sampler_for(k: int):
        return make_sampler(
            spec.sampler, seed if fixed_seed else _sampler_seed(seed, k), spec.space
        )

    # The parent's study holds the pruner too: samplers see Hyperband's bracket studies.
    study.pruner = make_pruner(spec.pruner)
    runner = TrialRunner(
        objective=_make_objective(spec, data, seed),
        storage=info["storage_url"],
        study_name=info["study_name"],
        directions=info["directions"],
        pruner=functools.partial(make_pruner, spec.pruner),
        threads=info["threads"],
    )
    deadline = None if spec.timeout is None else time.monotonic() + spec.timeout
    maximize = info["directions"][0] == "maximize"
    trials = study.get_trials(deepcopy=False)
    bar = ProgressBar(
        spec.n_trials,
        info["study_name"],
        enabled=verbose > 0,
        maximize=maximize,
        initial=budget_used([t for t in trials if t.state.is_finished()]),
    )
    from threadpoolctl import threadpool_limits

    pool_cls = InlinePool if n_jobs == 1 else functools.partial(ProcessPool, n_workers=n_jobs)
    with bar, threadpool_limits(limits=info["threads"]):
        pool = pool_cls(runner)
        running: dict[int, dict] = {}
        try:
            timed_out, startup_deaths = False, 0
            while True:
                free = [i for i in range(pool.n_workers) if i not in running and pool.ready(i)]
                if deterministic:  # a batch starts when every worker is free and ready
                    free = free if not running and len(free) == pool.n_workers else []
                if free and not timed_out:
                    timed_out = deadline is not None and time.monotonic() >= deadline
                    batch = []
                    while not timed_out and len(batch) < len(free):
                        if budget_used(study.get_trials(deepcopy=False)) >= spec.n_trials:
                            break
                        with _deferred_sigint():
                            task = _ask(study, space, seed, sampler_for, storage, tag=True)
                        if task is not None:
                            batch.append(task)
                    start = min((t["number"] for t in batch), default=None)
                    for worker, task in zip(free, batch):
                        task["batch_start"] = start if deterministic else None
                        pool.submit(worker, task)
                        running[worker] = task
                if not running and (
                    timed_out or budget_used(study.get_trials(deepcopy=False)) >= spec.n_trials
                ):
                    break
                for event in pool.wait(timeout=0.5):
                    kind, worker, task = event[0], event[1], event[2]
                    running.pop(worker, None)
                    if kind != "died":
                        continue
                    if task is None:  # died before or between trials
                        startup_deaths += 1
                        if startup_deaths > 2 * pool.n_workers:
                            raise RuntimeError(
                                f"worker processes keep dying between trials (last: {event[3]})"
                            )
                        continue
                    reason = f"WorkerDied: worker {worker} ({event[3]}) while running this trial"
                    if (
                        fail_trial(study, storage, _frozen(study, task["number"]), reason)
                        is not None
                    ):
                        info["lost"].append(task["number"])
                        bar.write(f"Trial {task['number']} lost: {reason}; queued again.")
                bar.update(study.get_trials(deepcopy=False))
            pool.close()
        except BaseException as exc:
            with _no_sigint():
                tags = {process_tag(), *pool.tags}
                pool.close(kill=True)
                if isinstance(exc, KeyboardInterrupt):
                    reason = "interrupted"
                else:
                    reason = f"{type(exc).__name__}: {exc} (in the study runner)"
                numbers = {task["number"] for task in running.values()}
                for t in study.get_trials(deepcopy=False):
                    if t.state.name == "RUNNING" and (
                        t.number in numbers or t.user_attrs.get("process") in tags
                    ):
                        fail_trial(study, storage, t, reason)
            raise


def _frozen(study, number: int):
    return next(t for t in study.get_trials(deepcopy=False) if t.number == number)


def _run_sklearn(spec, data, study, *, n_jobs, seed, verbose):
    try:
        from ._sklearn_engine import run_sklearn_search
    except ImportError as exc:  # pragma: no cover - depends on the engine module
        raise NotImplementedError(
            "engine 'sklearn' needs automl.search._sklearn_engine.run_sklearn_search"
        ) from exc
    return run_sklearn_search(spec, data, study, n_jobs=n_jobs, seed=seed, verbose=verbose)


# ---------------------------------------------------------------------------
# Best trial, refit, outputs


def select_best(trials, directions: list[str]):
    """The best complete trial; ties go to the lowest final ``val_loss``, then the lowest number.

    Validation accuracy on a few hundred samples ties often; the loss
    separates the tied models by how confidently they are right. With two
    objectives the choice is among the Pareto-optimal trials, by the first.
    """
    from optuna.trial import TrialState

    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if len(directions) > 1:
        complete = _pareto(complete, directions)
    sign = 1.0 if directions[0] == "maximize" else -1.0

    def key(t):
        logs = t.user_attrs.get("epoch_logs") or {}
        losses = [v for v in logs.get("val_loss", []) if v is not None]
        return (sign * t.values[0], -(losses[-1] if losses else float("inf")), -t.number)

    return max(complete, key=key)


def _pareto(trials, directions):
    signs = np.array([1.0 if d == "maximize" else -1.0 for d in directions])
    values = np.array([t.values for t in trials], dtype=float) * signs
    keep = []
    for i, v in enumerate(values):
        dominated = np.any(np.all(values >= v, axis=1) & np.any(values > v, axis=1))
        if not dominated:
            keep.append(trials[i])
    return keep


def _states(trials) -> dict[str, int]:
    counts = Counter(t.state.name.lower() for t in trials)
    out = {k: counts.pop(k, 0) for k in ("complete", "pruned", "fail")}
    out.update(sorted(counts.items()))
    return out


def _trial_time(trials) -> float:
    total = 0.0
    for t in trials:
        if t.datetime_start and t.datetime_complete:
            total += (t.datetime_complete - t.datetime_start).total_seconds()
    return round(total, 3)


def _base_summary(spec, study, info, trials) -> dict:
    directions = info["directions"]
    return {
        "study": info["study_name"],
        "source": spec.source,
        "dataset": spec.dataset_name,
        "task": spec.task,
        "metric": spec.metric,
        "direction": directions[0] if len(directions) == 1 else directions,
        "objectives": spec.objectives or [spec.metric],
        "engine": spec.engine,
        "storage": describe_storage(info["storage_url"]),
        "status": "complete",
        "best_value": None,
        "test_score": None,
        "best_trial": None,
        "best_trial_seed": None,
        "best_trial_params": None,
        "n_trials": len(trials),
        "trials_by_state": _states(trials),
        "seed": info["seed"],
        "epochs": spec.epochs,
        "n_jobs": info["n_jobs"],
        "threads_per_worker": info["threads"],
        "deterministic": info["deterministic"],
        "validation": _validation(spec),
        "split_sizes": {k: int(v) for k, v in info.get("sizes", {}).items()},
        "wall_time_s": {
            "optimize": round(info.get("optimize_s", 0.0), 3),
            "refit": 0.0,
            "total": round(time.perf_counter() - info["t_start"], 3),
        },
        "trial_time_s_sum": _trial_time(trials),
        "lost_trials": info.get("lost", []) + info.get("recovered", {}).get("recovered", []),
    }


def _write_tables(study, out: Path) -> None:
    RunDirectory(out).write_tables(trials_table(study), epochs_table(study))


def _write_partial(spec, study, info, *, status: str) -> None:
    trials = study.get_trials(deepcopy=False)
    _write_tables(study, spec.output)
    summary = _base_summary(spec, study, info, trials)
    summary["status"] = status
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    if complete:
        best = select_best(trials, info["directions"])
        summary.update(
            best_value=best.values[0],
            best_trial=best.number,
            best_trial_seed=best.user_attrs.get("seed"),
            best_trial_params=dict(best.params),
        )
    RunDirectory(spec.output).write_summary(summary)


def _best_params(spec: StudySpec, best) -> dict:
    """Estimator keyword arguments of a finished trial."""
    import optuna

    if "estimator_params" in best.user_attrs:  # engine sklearn
        from ._sklearn_engine import trial_estimator_params

        return trial_estimator_params(best)
    from ._spec import trial_space

    return trial_space(spec).suggest(optuna.trial.FixedTrial(best.params))


def _refit(spec: StudySpec, best, params: dict, data: dict, *, seed: int, threads: int):
    """The best configuration fit on train + validation: ``(model, epochs)``.

    With early stopping the refit trains the best trial's ``best_epochs``
    (mean over folds) without the callback: there is no validation data left.
    """
    from threadpoolctl import threadpool_limits

    from ._objective import make_estimator

    params = dict(params)
    epochs = int(params.pop("epochs", spec.epochs))
    best_epochs = best.user_attrs.get("best_epochs")
    if spec.early_stopping and isinstance(best_epochs, (int, float)) and best_epochs > 0:
        epochs = min(epochs, int(best_epochs))
    model = make_estimator(spec, params, epochs=epochs, random_state=seed)
    with threadpool_limits(limits=threads):  # same BLAS threads as a trial
        model.fit(data["X_trval"], data["y_trval"])
    return model, epochs


def _finish(spec, study, data, info, *, search, verbose, report=True):
    from threadpoolctl import threadpool_limits

    from ._objective import evaluate

    out = spec.output
    run = RunDirectory(out)
    trials = study.get_trials(deepcopy=False)
    states = _states(trials)
    if not states["complete"]:
        _write_partial(spec, study, info, status="no_complete_trial")
        errors = [t.user_attrs["error"] for t in trials if "error" in t.user_attrs]
        reason = f" First error: {errors[0]}" if errors else ""
        raise RuntimeError(
            f"No trial of study {info['study_name']!r} completed ({states}).{reason}"
        )
    best = select_best(trials, info["directions"])
    best_params = _best_params(spec, best)
    best_seed = best.user_attrs.get("seed", trial_seed(info["seed"], best.number))

    t_refit = time.perf_counter()
    model, test_score, refit_epochs = None, None, None
    if spec.refit:
        model, refit_epochs = _refit(
            spec, best, best_params, data, seed=best_seed, threads=info["threads"]
        )
        with threadpool_limits(limits=info["threads"]):
            test_score = evaluate(spec.metric, model, data["X_test"], data["y_test"])
            run.write_test_predictions(model, data["X_test"], data["y_test"], spec.task)
        run.write_model(model)
    refit_s = time.perf_counter() - t_refit

    summary = _base_summary(spec, study, info, trials)
    summary.update(
        best_value=float(best.values[0]),
        test_score=None if test_score is None else float(test_score),
        best_trial=best.number,
        best_trial_seed=best_seed,
        best_trial_params=dict(best.params),
        refit_epochs=refit_epochs,
    )
    if len(info["directions"]) > 1:
        summary["best_values"] = list(best.values)
        summary["pareto_front"] = [
            t.number
            for t in _pareto(
                [t for t in trials if t.state.name == "COMPLETE" and t.values], info["directions"]
            )
        ]
    summary["wall_time_s"]["refit"] = round(refit_s, 3)
    summary["wall_time_s"]["total"] = round(time.perf_counter() - info["t_start"], 3)
    _write_tables(study, out)
    run.write_best_params(best_params)
    run.write_summary(summary)
    if report:
        _write_report(out)

    result = StudyResult(
        output_dir=out,
        summary=run.read_summary(),
        best_params=best_params,
        study=study,
        best_model=model,
        search=search,
        spec=spec,
        storage=info["storage_url"],
        study_name=info["study_name"],
    )
    if verbose > 0:
        _print_report(result)
    return result


def _write_report(out: Path) -> None:
    try:
        from automl.reports import write_report
    except ImportError:
        try:
            from automl.reports._dashboard import write_report
        except ImportError:
            return
    try:
        write_report(out)
    except Exception as exc:  # noqa: BLE001 - the study's results stand without the report
        warnings.warn(f"the study report could not be written: {exc!r}", stacklevel=3)


# ---------------------------------------------------------------------------
# Messages


def _where(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def _print_recovery(recovered: dict) -> None:
    if recovered["recovered"]:
        print(
            f"Trials {recovered['recovered']} were left RUNNING by a dead process: "
            "marked failed and queued again.",
            file=sys.stderr,
        )
    if recovered["unknown"]:
        print(
            f"Trials {recovered['unknown']} are RUNNING on another host; left as they are.",
            file=sys.stderr,
        )


def _print_interrupted(spec, study, out: Path) -> None:
    states = _states(study.get_trials(deepcopy=False))
    done = states["complete"] + states["pruned"]
    print(
        f"\nInterrupted: {done} of {spec.n_trials} trials finished; running trials were "
        f"marked failed and queued again. Results so far are in {_where(out)}/.\n"
        f"Resume with: automl resume {_where(out)}",
        file=sys.stderr,
    )


def _print_report(result: StudyResult) -> None:
    s = result.summary
    states = ", ".join(f"{n} {k}" for k, n in s["trials_by_state"].items() if n)
    print(
        f"Study {s['study']!r}: {s['n_trials']} trials ({states}) "
        f"in {s['wall_time_s']['optimize']:.1f} s with {s['n_jobs']} worker(s)"
    )
    print(f"Best trial #{s['best_trial']} (seed {s['best_trial_seed']}):")
    for key, value in result.best_params.items():
        shown = f"{value:.4g}" if isinstance(value, float) else repr(value)
        print(f"  {key} = {shown}")
    print(f"Validation {s['metric']}: {s['best_value']:.4f}")
    if s.get("test_score") is not None:
        print(
            f"Test {s['metric']} of the best model refit on train+validation: "
            f"{s['test_score']:.4f} ({s['split_sizes'].get('test')} samples)"
        )
    print(f"Results written to {_where(result.output_dir)}/")
