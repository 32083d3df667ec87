"""Trials on a ``dask.distributed`` cluster: a pool with the interface of ``ProcessPool``.

The parent process still asks the sampler for every trial and the storage
still decides what is asked and told; only where a trial runs changes. Each
trial is one Dask task that runs :func:`automl.search._pool.run_trial` in a
Dask worker, which tells the result to the study's storage itself, exactly as
a local worker process does. The pool has ``n_workers`` slots, one per thread
of the cluster's workers when it starts (capped by an explicit ``n_jobs``), so
the loop of :func:`automl.search._optimize.optimize` is the same for both.

What a Dask worker needs (the objective, the storage, the pruner) travels once
per worker as a worker plugin. The training data travels with it when it is
small (under 1 MB an array); larger arrays are written once to ``.npy`` files
and memory-mapped by the workers on the client's machine; a worker on another
machine loads the dataset from the study's reference instead (a built-in
name, a file at the same path, or an importable ``module:function``) and
makes the same split (``split_seed``).

A Dask worker that dies mid-trial: Dask runs the task again elsewhere, and
the re-run finds the trial already started by another process (the
``dask_worker`` user attribute) and reports it lost, so the loop fails the
trial and queues its parameters again, as for a dead local worker.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any

import numpy as np
from distributed import WorkerPlugin

from ._pool import WORKER_ENV, TrialRunner, run_trial
from ._storage import JOURNAL_NAME, describe_storage, is_url, process_tag

__all__ = [
    "ClusterError",
    "DaskPool",
    "connect",
    "joblib_on_cluster",
    "preflight",
]

#: Trial user attribute: the Dask worker that started the trial (``"<address> <process tag>"``).
DASK_ATTR = "dask_worker"

#: Seconds to wait for the scheduler to answer, and for a first worker to join it.
CONNECT_TIMEOUT = 5.0
WORKERS_TIMEOUT = 30.0


class ClusterError(ConnectionError, RuntimeError):
    """The Dask cluster cannot be reached, has no workers, or cannot run the study's trials."""


def connect(address: str, *, timeout: float = CONNECT_TIMEOUT):
    """A ``distributed.Client`` of the scheduler at ``address``, or :class:`ClusterError`.

    The error is one line naming the address, raised within ``timeout`` seconds.
    """
    import distributed

    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} (key 'cluster') within "
            f"{timeout:g} s: {detail}"
        ) from None


@contextmanager
def joblib_on_cluster(address: str | None):
    """Run joblib's parallel calls inside on the cluster at ``address`` (none: as they are).

    scikit-learn's searches then send their fits to the Dask workers through
    joblib's ``dask`` backend.
    """
    if address is None:
        yield None
        return
    import joblib

    client = connect(address)
    try:
        _wait_for_workers(client, address)
        with client.as_current(), joblib.parallel_config(
            backend="dask", wait_for_workers_timeout=WORKERS_TIMEOUT
        ):
            yield client
    finally:
        client.close()


def _wait_for_workers(client, address: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except TimeoutError:
        raise ClusterError(
            f"the Dask scheduler at {address} has no workers (waited {WORKERS_TIMEOUT:g} s); "
            f"start some with `dask worker {address}`"
        ) from None


def preflight(spec) -> None:
    """Before a study on ``spec.cluster`` starts: reach the scheduler, and warn about local files.

    An unreachable scheduler raises :class:`ClusterError` before the study is
    created. Where the Dask workers on other machines would need a file of
    this one, one line on stderr says so: the storage, when it is a local file
    (journal or SQLite; engine ``optuna``), or the output directory the
    scikit-learn engine's fits write their histories to.
    """
    connect(spec.cluster).close()
    warning = cluster_warning(spec)
    if warning:
        print(warning, file=sys.stderr)


def cluster_warning(spec) -> str | None:
    """The warning for a study whose Dask workers need a local file, else None."""
    if spec.engine == "sklearn":
        return (
            f"Warning: the scikit-learn engine's fits write their epoch histories to "
            f"{spec.output}: Dask workers on other machines need it at the same path "
            "(a shared file system)."
        )
    storage = str(spec.output / JOURNAL_NAME if spec.storage is None else spec.storage)
    if is_url(storage) and not storage.lower().startswith("sqlite"):
        return None
    return (
        f"Warning: the study's storage {describe_storage(storage)} is a local file: Dask "
        "workers on other machines cannot reach it and need a database storage "
        "(storage: postgresql://...)."
    )


# ---------------------------------------------------------------------------
# Worker side


@dataclasses.dataclass
class _Shipment:
    """What a Dask worker rebuilds the runner from (pickled into the worker plugin)."""

    runner: TrialRunner  # its objective without the data arrays
    inline: dict  # small arrays, sent as they are
    files: dict  # name -> .npy path on ``host``
    host: str
    reference: Any  # the StudySpec (without loaded data), or None
    shapes: dict  # name -> shape, to check a split made on the worker


class _StudyPlugin(WorkerPlugin):
    """Holds one study's shipment on a Dask worker and builds its runner on first use."""

    def __init__(self, name: str, shipment: _Shipment):
        self.name = name
        self.shipment = shipment
        self._runner = None
        self._lock = threading.Lock()

    def __getstate__(self):
        return {"name": self.name, "shipment": self.shipment}

    def __setstate__(self, state):
        self.__init__(state["name"], state["shipment"])

    def runner(self, address: str) -> TrialRunner:
        with self._lock:
            if self._runner is None:
                self._runner = _build_runner(self.shipment, address)
            return self._runner


def _build_runner(s: _Shipment, address: str) -> TrialRunner:
    import optuna
    from threadpoolctl import threadpool_limits

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    threadpool_limits(limits=s.runner.threads)
    arrays = dict(s.inline)
    same_host = socket.gethostname() == s.host
    if same_host and all(os.path.exists(p) for p in s.files.values()):
        for name, path in s.files.items():
            arrays[name] = np.load(path, mmap_mode="r", allow_pickle=False)
    elif s.files:
        arrays.update(_load_reference(s, address))
    objective = copy.copy(s.runner.objective)
    for name, value in arrays.items():
        setattr(objective, name, value)
    return dataclasses.replace(s.runner, objective=objective)


def _load_reference(s: _Shipment, address: str) -> dict:
    """The data arrays of ``s.files``, from the study's dataset reference on this worker."""
    from ._plan import split_data

    where = f"Dask worker {address} (host {socket.gethostname()})"
    if s.reference is None:
        raise ClusterError(
            f"{where} cannot reach the study's data: its files are on host {s.host} and the "
            "study has no dataset reference to load it from"
        )
    try:
        data = split_data(s.reference)
    except Exception as exc:  # noqa: BLE001 - reported as one line naming the worker
        raise ClusterError(
            f"{where} cannot load the study's dataset {s.reference.dataset!r}: "
            f"{type(exc).__name__}: {exc}. Workers on other machines load the data from "
            "its reference: a built-in name, a file at the same path, or an importable "
            "'module:function'"
        ) from None
    arrays = {name: data[name] for name in s.files}
    for name, value in arrays.items():
        if tuple(np.shape(value)) != s.shapes[name]:
            raise ClusterError(
                f"{where} loaded the dataset {s.reference.dataset!r} with {name} of shape "
                f"{tuple(np.shape(value))}, the client's has shape {s.shapes[name]}: the "
                "data differs between the machines"
            )
    return arrays


def _run_task(plugin_name: str, task: dict, slot: int) -> dict:
    """The Dask task of one trial: run it, unless an earlier attempt already started it."""
    from distributed import get_worker

    worker = get_worker()
    runner = worker.plugins[plugin_name].runner(worker.address)
    storage = runner.open()
    try:
        study_id = storage.get_study_id_from_name(runner.study_name)
    except KeyError:
        raise ClusterError(
            f"Dask worker {worker.address} (host {socket.gethostname()}) does not find the "
            f"study {runner.study_name!r} in its storage {describe_storage(runner.storage)}: "
            "workers on other machines need a database storage that every machine reaches"
        ) from None
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, task["number"])
    frozen = storage.get_trial(trial_id)
    started = frozen.user_attrs.get(DASK_ATTR)
    if frozen.state.is_finished() or started is not None:
        # Dask runs a task again when its worker died: that attempt's trial is lost.
        return {"lost": started, "state": frozen.state.name}
    storage.set_trial_user_attr(trial_id, DASK_ATTR, f"{worker.address} {process_tag()}")
    os.environ[WORKER_ENV] = str(slot)  # the trial records it (one thread per worker: exact)
    return {"result": run_trial(runner, task, slot)}


# ---------------------------------------------------------------------------
# Client side


class DaskPool:
    """Trials as tasks on the Dask cluster at ``address``: ``n_workers`` slots.

    Same interface as ``ProcessPool``: :meth:`wait` returns
    ``("done", slot, task, result)`` and ``("died", slot, task, description)``.

    Parameters
    ----------
    runner : TrialRunner
    address : str
        Scheduler address ``tcp://HOST:PORT``.
    spec : StudySpec, optional
        The study: its dataset reference lets workers on other machines load the
        data, and an ``n_jobs`` given in it caps the slots.
    max_workers : int, optional
        Cap on the slots (default: the spec's explicit ``n_jobs``, else none).
    """

    def __init__(self, runner: TrialRunner, *, address: str, spec=None,
                 max_workers: int | None = None):
        self.address = address
        self.client = connect(address)
        self._data_dir = None
        self._plugin = None
        try:
            _wait_for_workers(self.client, address)
            threads = sum(self.client.nthreads().values())
            if max_workers is None and spec is not None and "n_jobs" in spec.raw:
                max_workers = spec.n_jobs if spec.n_jobs > 0 else None
            self.n_workers = max(1, min(threads, max_workers or threads))
            self._plugin = f"automl-{uuid.uuid4().hex}"
            self.client.register_plugin(
                _StudyPlugin(self._plugin, self._shipment(runner, spec)), name=self._plugin
            )
        except BaseException:
            self.close(kill=True)
            raise
        self.tasks: list[dict | None] = [None] * self.n_workers
        self._futures: list[Any] = [None] * self.n_workers

    def _shipment(self, runner: TrialRunner, spec) -> _Shipment:
        from ._objective import Objective

        objective, inline, files, shapes = runner.objective, {}, {}, {}
        if isinstance(objective, Objective):
            self._data_dir = tempfile.mkdtemp(prefix="automl-data-")
            mapped = objective.memory_mapped(self._data_dir)
            objective = copy.copy(mapped)
            for name in Objective._DATA_ATTRS:
                value = getattr(mapped, name)
                if isinstance(value, np.memmap) and value.filename is not None:
                    files[name] = os.fspath(value.filename)
                    shapes[name] = tuple(value.shape)
                elif value is not None:
                    inline[name] = value
                setattr(objective, name, None)
        reference = None
        if spec is not None and files:
            reference = dataclasses.replace(spec, _data=None)
        return _Shipment(
            runner=dataclasses.replace(runner, objective=objective),
            inline=inline,
            files=files,
            host=socket.gethostname(),
            reference=reference,
            shapes=shapes,
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(kill=exc[0] is not None)

    @property
    def tags(self) -> set[str]:
        """Process tags of the cluster's worker processes (trials they run carry them)."""
        try:
            tags = self.client.run(process_tag, on_error="return")
        except Exception:  # noqa: BLE001 - a cluster that is gone has no live workers
            return set()
        return {t for t in tags.values() if isinstance(t, str)}

    def ready(self, worker: int) -> bool:
        return True

    def submit(self, worker: int, task: dict) -> None:
        self.tasks[worker] = task
        self._futures[worker] = self.client.submit(
            _run_task, self._plugin, dict(task), worker,
            key=f"automl-trial-{task['number']}-{uuid.uuid4().hex[:8]}",
            pure=False,
        )

    def wait(self, timeout: float | None = None) -> list[tuple]:
        from distributed import KilledWorker, wait

        pending = [f for f in self._futures if f is not None]
        if not pending:
            time.sleep(timeout or 0)
            return []
        try:
            with self.client.as_current():
                wait(pending, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        events = []
        for slot, future in enumerate(self._futures):
            if future is None or not future.done():
                continue
            task = self.tasks[slot]
            self._futures[slot] = self.tasks[slot] = None
            if future.status == "finished":
                answer = future.result()
                future.release()
                if "result" in answer:
                    events.append(("done", slot, task, answer["result"]))
                elif answer["state"] != "RUNNING":
                    events.append(("done", slot, task, {"number": task["number"],
                                                        "state": answer["state"]}))
                else:
                    events.append(("died", slot, task, f"Dask worker {answer['lost']} lost"))
                continue
            exc = future.exception() if future.status == "error" else None
            if isinstance(exc, KilledWorker):
                events.append(("died", slot, task, f"Dask: {exc}"))
            elif exc is not None:
                raise ClusterError(
                    f"trial {task['number']} on the Dask cluster {self.address}: "
                    f"{type(exc).__name__}: {exc}"
                )
            elif self.client.status != "running":
                raise ClusterError(f"lost the connection to the Dask scheduler at {self.address}")
            else:  # cancelled by the scheduler
                events.append(("died", slot, task, f"Dask task {future.key} {future.status}"))
        return events

    def close(self, kill: bool = False) -> None:
        """Drop the study's tasks and plugin and disconnect (running tasks finish on their own)."""
        futures = [f for f in getattr(self, "_futures", []) if f is not None]
        try:
            if futures:
                self.client.cancel(futures)
            if self._plugin is not None:
                self.client.unregister_worker_plugin(self._plugin)
        except Exception:  # noqa: BLE001 - a cluster that is gone keeps nothing of ours
            pass
        self._plugin = None
        self.client.close()
        if getattr(self, "tasks", None):
            self.tasks = [None] * self.n_workers
            self._futures = [None] * self.n_workers
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

