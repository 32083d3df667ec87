"""Trial execution: one trial on a worker, and the pool of worker processes.

The parent process asks the sampler for each trial (so one seeded sampler
decides every configuration) and hands the trial number to a worker; the
worker opens the trial in the shared storage, runs the objective (which
suggests the already-chosen parameters, reports epochs and may be pruned),
tells the result to the storage and answers with a short summary.

Workers are long-lived processes started with loky's ``fork + exec``
context: they never re-run the caller's ``__main__`` (scripts need no
``if __name__ == "__main__"`` guard) and they share no threads or locks with
the parent. Each ignores Ctrl-C (the parent decides what an interrupt means),
limits its BLAS threads, and has ``AUTOML_WORKER=<index>`` in its environment.
A worker that dies is reported to the parent, which fails its trial and
starts a replacement.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from ._batch_view import BatchView
from ._storage import open_storage, process_tag

__all__ = ["TrialRunner", "InlinePool", "ProcessPool", "run_trial"]

#: Environment variable holding the worker index (0..n_jobs-1) in worker processes.
WORKER_ENV = "AUTOML_WORKER"

#: Prefix of the temporary folders holding a pool's memory-mapped data:
#: ``automl-data-<pid>.<start ticks>-<random>``.
DATA_DIR_PREFIX = "automl-data-"


def remove_stale_data_dirs(root=None) -> list[str]:
    """Remove the data folders of pools whose process is gone (a killed run); return them.

    Only folders named by :class:`ProcessPool` for a process of this host are
    considered; a folder whose process still runs is kept.
    """
    import socket
    from pathlib import Path

    from ._storage import process_alive

    removed = []
    root = Path(root if root is not None else tempfile.gettempdir())
    for folder in root.glob(f"{DATA_DIR_PREFIX}*.*-*"):
        owner = folder.name[len(DATA_DIR_PREFIX):].split("-", 1)[0]
        pid, _, ticks = owner.partition(".")
        if not pid.isdigit() or not folder.is_dir() or folder.is_symlink():
            continue
        if process_alive(f"{socket.gethostname()}:{pid}:{ticks}") is False:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


@dataclass
class TrialRunner:
    """Everything a worker needs to run trials; pickled once per worker.

    Parameters
    ----------
    objective : callable
        ``objective(trial) -> float or tuple``; may raise ``optuna.TrialPruned``.
    storage : str
        Database URL or journal file path of the study.
    study_name : str
    directions : list of str
        ``["maximize"]`` or two directions for a multi-objective study.
    pruner : callable
        ``pruner() -> optuna.pruners.BasePruner`` (a fresh pruner per trial).
    threads : int
        BLAS threads of the worker.
    """

    objective: Any
    storage: str
    study_name: str
    directions: list
    pruner: Any
    threads: int = 1
    _storage: Any = field(default=None, init=False, repr=False)

    def __getstate__(self):
        state = dict(vars(self))
        state["_storage"] = None
        return state

    def open(self):
        if self._storage is None:
            self._storage = open_storage(self.storage)
        return self._storage


def run_trial(runner: TrialRunner, task: dict, worker: int) -> dict:
    """Run the trial ``task["number"]`` of the study and tell its result to the storage.

    ``task["batch_start"]`` (deterministic mode) makes the pruner see only the
    trials numbered below it. Exceptions of the objective fail the trial with
    ``user_attrs["error"] = "<Type>: message"``; a non-finite value fails it too.
    ``KeyboardInterrupt`` propagates with the trial left RUNNING (the caller
    decides).
    """
    import optuna
    from optuna.trial import TrialState

    storage = runner.open()
    trial_id = task.get("trial_id")  # the parent's claim names it: no look-up
    if trial_id is None:
        study_id = storage.get_study_id_from_name(runner.study_name)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, task["number"])
    view = storage
    if task.get("batch_start") is not None:
        view = BatchView(storage, task["batch_start"], trial_id)
    study = optuna.Study(
        study_name=runner.study_name,
        storage=view,
        # The parent already suggested every parameter of the space; a sampler
        # here only answers suggestions outside it, deterministically.
        sampler=optuna.samplers.RandomSampler(seed=task.get("seed")),
        pruner=runner.pruner(),
    )
    trial = optuna.trial.Trial(study, trial_id)
    tag = process_tag()
    if trial.user_attrs.get("process") != tag:  # as read when the Trial was made
        trial.set_user_attr("process", tag)
    # The objective records ``seed`` and ``worker`` (from $AUTOML_WORKER) itself.
    start = time.perf_counter()
    state, values, error = TrialState.COMPLETE, None, None
    try:
        result = runner.objective(trial)
    except optuna.TrialPruned:
        state = TrialState.PRUNED
    except Exception as exc:  # noqa: BLE001 - any failure of a trial is recorded, not raised
        state = TrialState.FAIL
        error = storage.get_trial_user_attrs(trial_id).get("error")
        if error is None:
            error = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr("error", error)
    else:
        values = [float(v) for v in (result if isinstance(result, (list, tuple)) else [result])]
        if len(values) != len(runner.directions) or not all(math.isfinite(v) for v in values):
            state = TrialState.FAIL
            error = storage.get_trial_user_attrs(trial_id).get("error") or (
                f"ValueError: the objective returned {result!r}; expected "
                f"{len(runner.directions)} finite value(s)"
            )
            trial.set_user_attr("error", error)
            values = None
    number = trial.number
    state, values = _tell(study, trial, values, state)
    del trial, study, view
    # The young generations hold the trial's model (layers and model refer to each
    # other); a full collection costs ~0.1-0.5 s in a process with Optuna, pandas and
    # scikit-learn loaded, so it is left to the interpreter's thresholds.
    gc.collect(1)
    return {
        "number": number,
        "state": state.name,
        "values": values,
        "error": error,
        "seconds": time.perf_counter() - start,
    }


def _tell(study, trial, values, state):
    """``study.tell(trial, values, state, skip_if_finished=True)``: the state and values stored.

    ``Study.tell`` reads the trial back to return it (one more database round
    trip per trial); Optuna's inner tell returns the state and values it
    stored (or found: a trial another process finished first) without it.
    """
    try:
        from optuna.study._tell import _tell_with_warning
    except ImportError:  # another Optuna layout
        frozen = study.tell(trial, values=values, state=state, skip_if_finished=True)
        return frozen.state, frozen.values
    told_state, told_values, _ = _tell_with_warning(
        study=study, trial=trial, value_or_values=values, state=state, skip_if_finished=True)
    return told_state, None if told_values is None else list(told_values)


# ---------------------------------------------------------------------------
# Executors: run tasks in this process or in worker processes


class InlinePool:
    """One "worker" that is this process (``n_jobs=1``): the task runs inside :meth:`wait`."""

    n_workers = 1

    def __init__(self, runner: TrialRunner):
        remove_stale_data_dirs()  # left by killed runs with worker processes
        self.runner = runner
        self.tasks: list[dict | None] = [None]
        self.tags = {process_tag()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def ready(self, worker: int) -> bool:
        return True

    def submit(self, worker: int, task: dict) -> None:
        self.tasks[worker] = task

    def wait(self, timeout: float | None = None) -> list[tuple]:
        task = self.tasks[0]
        if task is None:
            return []
        previous = os.environ.get(WORKER_ENV)
        os.environ[WORKER_ENV] = "0"
        try:
            result = run_trial(self.runner, task, 0)
        finally:
            if previous is None:
                os.environ.pop(WORKER_ENV, None)
            else:
                os.environ[WORKER_ENV] = previous
        self.tasks[0] = None
        return [("done", 0, task, result)]

    def close(self, kill: bool = False) -> None:
        self.tasks = [None]


def _worker_main(index: int, conn, runner: TrialRunner) -> None:
    """Body of a worker process: run the tasks received on ``conn`` until None or EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[WORKER_ENV] = str(index)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=runner.threads)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        conn.send(("ready", index, process_tag()))
    except (BrokenPipeError, OSError):  # the parent died while this worker started
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if task is None:
            return
        result = run_trial(runner, task, index)
        try:
            conn.send(("done", index, task, result))
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Worker:
    process: Any
    conn: Any
    tag: str | None = None
    task: dict | None = None


class ProcessPool:
    """``n_workers`` worker processes, each running one task at a time.

    :meth:`wait` returns events: ``("done", worker, task, result)`` when a
    task finished, ``("died", worker, task, description)`` when a worker
    process exited while running ``task`` (None if it was idle); a dead
    worker is replaced at once.
    """

    def __init__(self, runner: TrialRunner, n_workers: int):
        from joblib.externals.loky.backend.context import get_context

        # The workers memory-map the data from files written once, instead of each
        # unpickling its own copy. The folder's name holds this process's tag, so
        # that the folders of killed runs are found and removed.
        remove_stale_data_dirs()
        pid, ticks = process_tag().rsplit(":", 2)[1:]
        self._data_dir = tempfile.mkdtemp(prefix=f"{DATA_DIR_PREFIX}{pid}.{ticks}-")
        objective = runner.objective
        if hasattr(objective, "memory_mapped"):
            objective = objective.memory_mapped(self._data_dir)
        self.runner = dataclasses.replace(runner, objective=objective)
        self.n_workers = n_workers
        self._ctx = get_context("loky")
        self._workers: list[_Worker | None] = [None] * n_workers
        for i in range(n_workers):
            self._spawn(i)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(kill=exc[0] is not None)

    def _spawn(self, index: int) -> None:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(index, child, self.runner),
            name=f"automl-worker-{index}",
            daemon=True,
        )
        process.start()
        child.close()
        self._workers[index] = _Worker(process, parent)

    @property
    def tasks(self) -> list[dict | None]:
        return [w.task for w in self._workers]

    @property
    def tags(self) -> set[str]:
        return {w.tag for w in self._workers if w.tag}

    def pid(self, worker: int) -> int:
        return self._workers[worker].process.pid

    def ready(self, worker: int) -> bool:
        """Whether the worker finished starting (imports done): trials start on ready workers."""
        return self._workers[worker].tag is not None

    def submit(self, worker: int, task: dict) -> None:
        w = self._workers[worker]
        w.task = task
        w.conn.send(task)

    def wait(self, timeout: float | None = None) -> list[tuple]:
        from multiprocessing.connection import wait

        objects = {}
        for i, w in enumerate(self._workers):
            objects[w.conn] = i
            objects[w.process.sentinel] = i
        events = []
        for ready in wait(list(objects), timeout):
            i = objects[ready]
            w = self._workers[i]
            if ready is not w.conn:
                continue
            while w.conn.poll():
                try:
                    message = w.conn.recv()
                except (EOFError, OSError):
                    break
                if message[0] == "ready":
                    w.tag = message[2]
                elif message[0] == "done":
                    w.task = None
                    events.append(message)
        for i, w in enumerate(self._workers):
            if w.process.exitcode is not None or not w.process.is_alive():
                w.process.join(timeout=1)
                events.append(("died", i, w.task, _exit_description(w.process)))
                w.conn.close()
                self._spawn(i)
        return events

    def close(self, kill: bool = False) -> None:
        """Stop the workers: ask them to exit after their task, or terminate them (``kill``)."""
        for w in self._workers:
            if w is None:
                continue
            if kill:
                w.process.terminate()
            else:
                try:
                    w.conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
        deadline = time.monotonic() + (5 if kill else 60)
        for w in self._workers:
            if w is None:
                continue
            w.process.join(timeout=max(0.1, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
            w.conn.close()
            w.task = None
        shutil.rmtree(self._data_dir, ignore_errors=True)


#: What a worker's death by a signal most often means.
_SIGNAL_HINTS = {
    "SIGKILL": "out of memory?",
    "SIGSEGV": "a crash in native code?",
    "SIGBUS": "a crash in native code?",
    "SIGABRT": "aborted by native code?",
}


def _exit_description(process) -> str:
    """``"killed by SIGKILL — out of memory? (pid 12)"``, decoded from the exit code."""
    code = process.exitcode
    if code is None:
        return f"exited, status unknown (pid {process.pid})"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = _SIGNAL_HINTS.get(name)
        return f"killed by {name}" + (f" — {hint}" if hint else "") + f" (pid {process.pid})"
    return f"exited with code {code} (pid {process.pid})"
