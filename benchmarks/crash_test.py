"""Crash test: one study killed at random moments, resumed each time, must end whole.

    python benchmarks/crash_test.py [--kills 20] [--seed 0] [--n-trials 60] [--keep DIR]

A study with 2 workers (``automl run``, then ``automl resume``) is killed at
moments drawn from a seeded generator, each time in one of three ways:

- ``main``:   SIGKILL of the ``automl`` process (its workers finish their trial and exit);
- ``worker``: SIGKILL of one worker process (the run sees it die and goes on);
- ``torn``:   SIGKILL of the ``automl`` process, then the journal is cut part-way
  through its last record, as if the process died while writing it.

After each kill of the main process (and whenever the run has ended) ``automl
resume`` continues the study; the kills done, a last ``automl resume`` runs to
the end. The study must then hold exactly ``n_trials`` finished trials, every
trial that was complete after a kill must still be there unchanged, no
configuration may have completed twice, no trial may be left RUNNING or
WAITING, and no data folder of a killed run may remain. Prints the figures
and exits with status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
KINDS = ("main", "worker", "torn")


def study_file(folder: Path, n_trials: int, epochs: int) -> Path:
    """A 2-worker iris study whose trials take about a second each."""
    spec = {
        "name": "crash",
        "dataset": "iris",
        "space": {"parameters": {
            "hidden_layer_sizes": {"type": "layers", "n_layers": 1,
                                   "units": {"low": 8, "high": 64, "log": True}},
            "learning_rate": {"type": "float", "low": 1e-3, "high": 3e-2, "log": True},
            "batch_size": 8,
        }},
        "epochs": epochs,
        "n_trials": n_trials,
        "n_jobs": 2,
        "seed": 0,
        "sampler": {"name": "tpe", "n_startup_trials": 4},
        "pruner": "none",
        # The kills are not the configurations' fault: never give up on one.
        "max_retries": 1000,
        "output": str(folder / "out"),
    }
    path = folder / "crash.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    return path


def _env(scratch: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["TMPDIR"] = str(scratch)  # the pools' data folders: checked for leftovers
    return env


def _workers(pid: int) -> list:
    """The worker processes of the ``automl`` process ``pid`` (loky's fork + exec children)."""
    import psutil

    try:
        children = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            cmdline = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "loky" in cmdline and "resource_tracker" not in cmdline:
            found.append(child)
    return found


def _completed(journal: Path) -> tuple[dict[int, tuple], int]:
    """The trials COMPLETE in (a repaired copy of) ``journal`` (number -> params, value, seed,
    end time), and the bytes read."""
    import optuna

    from automl.search import JournalRepairedWarning, open_storage

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / journal.name
        shutil.copyfile(journal, copy)
        size = copy.stat().st_size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JournalRepairedWarning)
            storage = open_storage(copy)
            names = [s.study_name for s in storage.get_all_studies()]
            if not names:
                return {}, size
            study = optuna.load_study(study_name=names[0], storage=storage)
            return {
                t.number: (json.dumps(t.params, sort_keys=True), t.value,
                           t.user_attrs.get("seed"), str(t.datetime_complete))
                for t in study.get_trials(deepcopy=False)
                if t.state.name == "COMPLETE"
            }, size


def _tear(journal: Path, rng, durable: int) -> int:
    """Cut ``journal`` inside its last record (as a write cut short); return the bytes cut.

    Only a record written after the ``durable`` first bytes (those a reader has
    seen) can be torn: a write in progress when its process died.
    """
    data = journal.read_bytes()
    start = data.rstrip(b"\n").rfind(b"\n") + 1
    if start < durable or len(data) - start < 2:
        return 0
    cut = int(rng.integers(start + 1, len(data)))  # keeps a part of the record, never all
    journal.write_bytes(data[:cut])
    return len(data) - cut


def crash_test(kills: int = 20, *, seed: int = 0, n_trials: int = 60, epochs: int = 100,
               workdir=None, delays=(0.0, 6.0), verbose: bool = True) -> dict:
    """Run the crash test; return its figures and the list of failed checks (``"problems"``)."""
    import optuna

    from automl.search import open_storage
    from automl.search._storage import budget_used

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(seed)
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="crash-"))
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / "tmp"
    scratch.mkdir(exist_ok=True)
    study = study_file(folder, n_trials, epochs)
    out = folder / "out"
    journal = out / "study.journal"
    env = _env(scratch)
    log = open(folder / "runs.log", "w")  # noqa: SIM115 - closed at the end
    figures = {"kills": {k: 0 for k in KINDS}, "runs": 0, "exit_codes": {}, "torn_bytes": 0}
    seen: dict[int, tuple] = {}
    durable = 0  # journal bytes a check has read: no longer a write in progress
    problems: list[str] = []

    def say(text):
        if verbose:
            print(text, flush=True)

    def start():
        # Until run.json is written no trial has started: a fresh run (over a study
        # created just before a kill) loses nothing.
        command = (["resume", str(out)] if (out / "run.json").is_file()
                   else ["run", str(study), "--overwrite"])
        figures["runs"] += 1
        return subprocess.Popen([sys.executable, "-m", "automl", *command, "-q", "--no-report"],
                                env=env, stdout=log, stderr=log)

    def ended(proc):
        code = proc.wait()
        figures["exit_codes"][str(code)] = figures["exit_codes"].get(str(code), 0) + 1
        return code

    t0 = time.perf_counter()
    proc = start()
    try:
        def working(proc, timeout=120.0):
            """Wait until the run writes to the journal (its trials started) or ends."""
            size = journal.stat().st_size if journal.is_file() else -1
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                if journal.is_file() and journal.stat().st_size > size:
                    return
                time.sleep(0.05)

        def some_completed(proc, timeout=300.0):
            """Wait until a trial completed (or the run ended), whatever the machine's load."""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                if journal.is_file() and _completed(journal)[0]:
                    return
                time.sleep(0.2)

        k, restarts = 0, 0
        while k < kills:
            kind = str(rng.choice(KINDS))
            delay = float(rng.uniform(*delays))
            working(proc)
            if k >= kills // 2 and not seen:  # the later kills hit a study with completed trials
                some_completed(proc)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            if proc.poll() is not None:  # the run ended first (finished, or gave up): resume it
                ended(proc)
                restarts += 1
                if restarts > 2 * kills:
                    problems.append(f"the study ended after {k} of {kills} kills: raise n_trials")
                    break
                proc = start()
                continue
            workers = _workers(proc.pid)
            if kind == "worker" and workers:
                victim = workers[int(rng.integers(len(workers)))]
                try:
                    victim.send_signal(signal.SIGKILL)
                except Exception:  # noqa: BLE001 - it ended meanwhile
                    pass
                figures["kills"]["worker"] += 1
                k += 1
                say(f"kill {k:2d}: worker pid {victim.pid} after {delay:.1f} s")
            else:
                kind = "main" if kind == "worker" else kind  # no worker started yet
                proc.send_signal(signal.SIGKILL)
                ended(proc)
                for w in workers:  # orphans finish their trial, then exit
                    try:
                        w.wait(timeout=120)
                    except Exception:  # noqa: BLE001 - already gone
                        pass
                cut = _tear(journal, rng, durable) if kind == "torn" and journal.is_file() else 0
                figures["torn_bytes"] += cut
                figures["kills"][kind] += 1
                k += 1
                say(f"kill {k:2d}: {kind} after {delay:.1f} s" + (f", {cut} bytes cut" if cut else ""))
            if journal.is_file():
                now, durable = _completed(journal)
                for number, record in seen.items():
                    if now.get(number) != record:
                        problems.append(f"after kill {k}: completed trial {number} lost or changed")
                seen.update(now)
            if proc.poll() is not None:
                proc = start()
        code = ended(proc)
        if code != 0:  # the last run was killed or gave up: one more to the end
            code = ended(start())
    finally:
        if proc.poll() is None:  # an error in the test itself: leave no process behind
            for w in _workers(proc.pid):
                w.kill()
            proc.kill()
            proc.wait()
    figures["wall_s"] = round(time.perf_counter() - t0, 1)
    log.close()

    storage = open_storage(journal)
    trials = optuna.load_study(study_name="crash", storage=storage).get_trials(deepcopy=False)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    origins = [t.user_attrs.get("retry_of", t.number) for t in complete]
    configurations = [(json.dumps(t.params, sort_keys=True), t.user_attrs.get("seed"))
                      for t in complete]
    final = {t.number: (json.dumps(t.params, sort_keys=True), t.value, t.user_attrs.get("seed"),
                        str(t.datetime_complete)) for t in complete}
    figures.update(
        attempts=len(trials),
        complete=len(complete),
        failed_attempts=sum(t.state.name == "FAIL" for t in trials),
        budget_used=budget_used(trials),
        journal_repairs=len(list(out.glob("study.journal.corrupt-*"))),
        data_folders_left=len(list(scratch.glob("automl-data-*"))),
    )
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    if code != 0:
        problems.append(f"the last resume exited with {code} (see {folder / 'runs.log'})")
    if figures["complete"] != n_trials:
        problems.append(f"{figures['complete']} trials complete, expected {n_trials}")
    if figures["budget_used"] != n_trials:
        problems.append(f"budget used {figures['budget_used']}, expected {n_trials}")
    if [t.number for t in trials if t.state.name in ("RUNNING", "WAITING")]:
        problems.append("trials left RUNNING or WAITING")
    if len(set(origins)) != len(origins) or len(set(configurations)) != len(configurations):
        problems.append("a configuration completed twice")
    lost = [n for n, record in seen.items() if final.get(n) != record]
    if lost:
        problems.append(f"completed trials lost or changed: {lost}")
    if summary.get("status") != "complete":
        problems.append(f"summary.json status {summary.get('status')!r}, expected 'complete'")
    if figures["data_folders_left"]:
        problems.append(f"{figures['data_folders_left']} data folder(s) of killed runs left")
    figures["completed_seen_during_kills"] = len(seen)
    figures["problems"] = problems
    figures["workdir"] = str(folder)
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments and kinds")
    parser.add_argument("--n-trials", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args(argv)
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="crash-"))
    figures = crash_test(args.kills, seed=args.seed, n_trials=args.n_trials,
                         epochs=args.epochs, workdir=workdir)
    k = figures["kills"]
    print(f"\n{sum(k.values())} kills (main {k['main']}, worker {k['worker']}, torn journal "
          f"{k['torn']}: {figures['torn_bytes']} bytes cut, {figures['journal_repairs']} repairs), "
          f"{figures['runs']} runs (exit codes {figures['exit_codes']}), {figures['wall_s']} s")
    print(f"{figures['complete']} of {args.n_trials} trials complete in {figures['attempts']} "
          f"attempts ({figures['failed_attempts']} failed and retried); "
          f"{figures['completed_seen_during_kills']} completed trials checked after every kill; "
          f"{figures['data_folders_left']} data folders left")
    if figures["problems"]:
        print("FAILED: " + "; ".join(figures["problems"]))
        print(f"(kept in {workdir})")
        return 1
    print("passed")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
