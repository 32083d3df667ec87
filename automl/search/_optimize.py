"""The ask/tell loop of engine ``optuna``: ask in the parent, run on the pool, collect.

The shape of Optuna's ``study/_optimize.py``: :func:`optimize` loops while the
budget and the timeout last; :func:`ask` creates one trial and draws its
parameters; the pool runs it (:func:`automl.search._pool.run_trial` tells the
result to the storage); :func:`collect` handles what the pool reports.
"""

from __future__ import annotations

import functools
import time

from automl._random import trial_seed

from ._claims import RETRIED, budget_used, claim_trial, claimable
from ._heartbeat import Heartbeat, heartbeat_of
from ._plan import StudyPlan
from ._pool import InlinePool, ProcessPool, TrialRunner
from ._progress import ProgressBar
from ._signals import deferred_sigint, no_sigint
from ._storage import consecutive_failures, fail_trial, process_tag, recover_stale_trials
from ._summary import RunInfo

__all__ = ["optimize", "TooManyFailures"]

#: Seconds between two looks for trials of dead processes during a run (database
#: storages; three times longer for journal files, where only this host is judged).
RECOVERY_INTERVAL = 10


class TooManyFailures(RuntimeError):
    """``max_consecutive_failures`` trials failed in a row: the study stopped early."""


def optimize(plan: StudyPlan, study, storage, info: RunInfo, *, verbose: int,
             max_trials: int | None = None, should_stop=None) -> list[int]:
    """Ask trials while the budget lasts, run them on the pool, collect their ends.

    ``max_trials`` caps the trials this call asks (``automl worker --max-trials``);
    ``should_stop()`` returning True stops asking (a study marked finished).
    Returns the numbers of the trials asked here.
    """
    from threadpoolctl import threadpool_limits

    spec = plan.spec
    objective = plan.objective(info.seed)
    # The parent's study holds the pruner too: samplers see Hyperband's bracket studies.
    study.pruner = plan.pruner()
    runner = TrialRunner(
        objective=objective,
        storage=info.storage_url,
        study_name=info.study_name,
        directions=info.directions,
        pruner=plan.pruner,
        threads=info.threads,
    )
    deadline = None if spec.timeout is None else time.monotonic() + spec.timeout
    bar = ProgressBar(
        spec.n_trials,
        info.study_name,
        enabled=verbose > 0,
        maximize=info.directions[0] == "maximize",
        initial=budget_used([t for t in study.get_trials(deepcopy=False)
                             if t.state.is_finished()]),
    )
    pool_cls = (InlinePool if info.n_jobs == 1
                else functools.partial(ProcessPool, n_workers=info.n_jobs))
    if spec.cluster is not None:  # trials as tasks on a Dask cluster
        from ._dask_pool import DaskPool

        pool_cls = functools.partial(DaskPool, address=spec.cluster, spec=spec)

    asked: list[int] = []

    # The study's trials as last read: one read per loop turn and per claim (reads of a
    # database storage cost more than the rest of a small trial's bookkeeping).
    snapshot = [study.get_trials(deepcopy=False)]

    def budget_left(fresh: bool = True) -> bool:
        if max_trials is not None and len(asked) >= max_trials:
            return False
        if should_stop is not None and should_stop():
            return False
        # Trials other processes run or queued hold their places: stop when all are claimed.
        if fresh:
            snapshot[0] = study.get_trials(deepcopy=False)
        return claimable(snapshot[0], spec.n_trials)

    # Failures of earlier runs do not count: a resume after fixing the cause goes on.
    earlier = {t.number for t in snapshot[0]}

    def failing() -> list:  # on the snapshot read at the end of the last loop turn
        failed = consecutive_failures(
            [t for t in snapshot[0] if t.number not in earlier])
        return failed if len(failed) >= spec.max_consecutive_failures else []

    def ask():
        with deferred_sigint():
            task = _ask(plan, objective, study, storage, info.seed, spec.n_trials,
                        trials=snapshot[0])
        if task is not None:
            asked.append(task["number"])
            heartbeat.add(task["trial_id"])
        return task

    # Trials of processes that died while this one runs (another host's, with a database
    # storage) are failed and queued again on the way.
    sweep_every = RECOVERY_INTERVAL * (1 if heartbeat_of(storage) is not None else 3)
    next_sweep = time.monotonic() + sweep_every

    def sweep() -> list[int]:
        nonlocal next_sweep
        next_sweep = time.monotonic() + sweep_every
        keep = {process_tag(), *pool.tags}
        recovered = recover_stale_trials(study, storage, keep=keep,
                                         max_retries=spec.max_retries)["recovered"]
        info.lost.extend(recovered)
        for number in recovered:
            bar.write(f"Trial {number} lost by another process; queued again.")
        return recovered

    with bar, threadpool_limits(limits=info.threads), Heartbeat(storage) as heartbeat:
        pool = pool_cls(runner)
        info.n_jobs = pool.n_workers  # a Dask cluster's slots are known once it is reached
        running: dict[int, dict] = {}
        deaths = [0]
        try:
            timed_out = False
            stopped: list = []
            while True:
                stopped = stopped or failing()
                free = [i for i in range(pool.n_workers) if i not in running and pool.ready(i)]
                if info.deterministic:  # a batch starts when every worker is free and ready
                    free = free if not running and len(free) == pool.n_workers else []
                if free and not timed_out and not stopped:
                    timed_out = deadline is not None and time.monotonic() >= deadline
                    batch, tries = [], 0
                    while (not timed_out and len(batch) < len(free)
                           and budget_left(fresh=tries > 0)):
                        tries += 1
                        task = ask()
                        if task is not None:
                            batch.append(task)
                    start = min((t["number"] for t in batch), default=None)
                    for worker, task in zip(free, batch):
                        task["batch_start"] = start if info.deterministic else None
                        pool.submit(worker, task)
                        running[worker] = task
                if not running and (timed_out or stopped or not budget_left()):
                    # The last places may be held by trials of processes that died: run
                    # them again before leaving (trials that run elsewhere are left to run).
                    if timed_out or stopped or not sweep():
                        break
                    snapshot[0] = study.get_trials(deepcopy=False)
                    continue
                for event in pool.wait(timeout=0.5):
                    if event[2] is not None:
                        heartbeat.discard(event[2].get("trial_id"))
                    _collect(event, study, storage, pool, running, info, bar, deaths,
                             max_retries=spec.max_retries)
                if time.monotonic() >= next_sweep:
                    sweep()
                snapshot[0] = study.get_trials(deepcopy=False)
                bar.update(snapshot[0])
            pool.close()
        except BaseException as exc:
            with no_sigint():
                _stop(exc, study, storage, pool, running)
            raise
    if stopped:
        raise TooManyFailures(_failures_message(stopped, spec.max_consecutive_failures))
    return asked


def _failures_message(failed: list, limit: int) -> str:
    """The stop message: how many trials failed in a row and the last distinct errors."""
    errors = []
    for t in reversed(failed):
        error = str(t.user_attrs.get("error", "no error recorded"))
        if error not in errors:
            errors.append(error)
    shown = "; ".join(f"'{e}'" for e in errors[:3])
    return (
        f"the study stopped: {len(failed)} trials in a row failed (max_consecutive_failures="
        f"{limit}); last errors: {shown}. Fix the cause, then `automl resume` continues it."
    )


def _ask(plan: StudyPlan, objective, study, storage, seed: int, n_trials: int,
         trials=None) -> dict | None:
    """Claim the next trial within the budget and draw its estimator parameters, once.

    :func:`~automl.search._claims.claim_trial` creates the trial tagged with
    this process (or pops a queued retry), or returns None when other
    processes claimed the last places. The sampler is then rebuilt with a
    seed derived from the study seed and the trial's number: trial ``k``'s
    draw depends only on the seed and the history it sees, also across a
    resume, and processes asking together (different numbers) never draw
    alike. The trial keeps this process's tag until a worker takes it, so
    that other processes sharing the study (and a resume after a crash) can
    tell a live trial from one whose process died.
    """
    import optuna

    frozen = claim_trial(storage, study._study_id, n_trials, process_tag(), trials)
    if frozen is None:
        return None
    study.sampler = plan.sampler(seed, frozen.number)
    # What study.ask() does besides creating the trial: samplers read the study's
    # trials through a cache that is refreshed once per trial.
    study._thread_local.cached_all_trials = None
    trial = optuna.Trial(study, frozen._trial_id)
    # A retried trial (its worker died, or the run was interrupted) trains with the
    # seed of the trial it repeats, so it gives the result that trial would have.
    tseed = trial_seed(seed, frozen.user_attrs.get("retry_of", frozen.number))
    try:
        objective.suggest(trial)
    except Exception as exc:  # noqa: BLE001 - recorded on the trial, the study goes on
        fail_trial(study, storage, trial, f"{type(exc).__name__}: {exc}", retry=False)
        return None
    return {"number": frozen.number, "trial_id": frozen._trial_id, "seed": tseed}


def _collect(event, study, storage, pool, running, info: RunInfo, bar, deaths, *,
             max_retries: int) -> None:
    """A pool event: a finished trial, or a dead worker whose trial is failed and queued again.

    A configuration whose worker dies more than ``max_retries`` times (out of
    memory, a crash in native code) is failed for good with the cause of death.
    """
    kind, worker, task = event[0], event[1], event[2]
    running.pop(worker, None)
    if kind != "died":
        return
    if task is None:  # died before or between trials
        deaths[0] += 1
        if deaths[0] > 2 * pool.n_workers:
            raise RuntimeError(f"worker processes keep dying between trials (last: {event[3]})")
        return
    reason = f"WorkerDied: worker {worker} {event[3]} while running this trial"
    frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == task["number"])
    if fail_trial(study, storage, frozen, reason, max_retries=max_retries) is not None:
        info.lost.append(task["number"])
        ended = storage.get_trial(frozen._trial_id).user_attrs
        again = "queued again" if ended.get(RETRIED) else "not retried"
        bar.write(f"Trial {task['number']} lost: {ended.get('error', reason)}; {again}.")


def _stop(exc: BaseException, study, storage, pool, running) -> None:
    """Kill the workers and fail (and queue again) the trials this run left RUNNING."""
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
