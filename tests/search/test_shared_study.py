"""Processes sharing one study: seed streams, budget claims, owner tags, heartbeats, summaries.

The storage-agnostic tests take the ``storage_url`` fixture: a new journal
file or SQLite database per test. Another storage (a PostgreSQL server) is
one more entry of :data:`STORAGES`: a function of the test's ``request`` and
``tmp_path`` returning the URL of an empty database.
"""

import json
import os
import subprocess
import sys
import threading
import time

import optuna
import pytest
from optuna.trial import TrialState

from automl._random import sampler_seed, trial_seed
from automl.search._claims import OVER_BUDGET, budget_used, claim_trial, claimable
from automl.search._heartbeat import Heartbeat, enable_heartbeat
from automl.search._run_directory import RunDirectory
from automl.search._storage import (
    create_or_load_study,
    fail_trial,
    open_storage,
    process_tag,
    recover_stale_trials,
)
from automl.search._summary import study_status, write_summary_last
from tests.search.shared_study import REPO, check_shared_study, run_processes, shared_spec

#: name -> ``f(request, tmp_path)``: an empty storage (a URL or a journal file path).
STORAGES = {
    "journal": lambda request, tmp_path: str(tmp_path / "study.journal"),
    "sqlite": lambda request, tmp_path: f"sqlite:///{tmp_path / 'study.db'}",
}


try:  # the throwaway PostgreSQL server of the database tests, where they exist
    import tests.search.postgres_server  # noqa: F401
except ImportError:
    pass
else:
    STORAGES["postgresql"] = lambda request, tmp_path: request.getfixturevalue("postgres").url(
        scheme="postgresql+psycopg")


@pytest.fixture(params=sorted(STORAGES))
def storage_url(request, tmp_path):
    return STORAGES[request.param](request, tmp_path)


def _study(storage, name="s"):
    storage = open_storage(storage)
    study, created = create_or_load_study(name, storage, ["maximize"], join=True)
    return study, storage


# ---------------------------------------------------------------------------
# Seed streams


def test_sampler_seeds_keep_their_values_and_never_repeat():
    # The values of a single-process run before sampler seeds were keyed by trial number
    # (they were keyed by the trial count, the same number in one process).
    assert [sampler_seed(0, k) for k in range(3)] == [3751812386, 4010004863, 3843187589]
    assert sampler_seed(7, 5) == 320483392
    seeds = {sampler_seed(0, k) for k in range(5000)}
    assert len(seeds) == 5000 and not seeds & {trial_seed(0, k) for k in range(5000)}
    assert sampler_seed(1, 0) != sampler_seed(0, 0)


def test_processes_asking_together_draw_what_one_process_draws(storage_url):
    """Two "processes" (two storages on one study) see the same count but get other numbers."""
    storage = storage_url
    study_a, storage_a = _study(storage)
    study_b, storage_b = _study(storage)

    def draw(study, storage, tag):
        frozen = claim_trial(storage, study._study_id, 10, tag)
        study.sampler = optuna.samplers.RandomSampler(seed=sampler_seed(0, frozen.number))
        trial = optuna.Trial(study, frozen._trial_id)
        x = trial.suggest_float("x", 0, 1)
        return frozen.number, x, trial

    pending = []
    for _ in range(4):  # both ask before either tells: the old seeds (trial count) collided
        pending += [draw(study_a, storage_a, "a:1:1"), draw(study_b, storage_b, "b:2:2")]
        for _, x, trial in pending[-2:]:
            trial.study.tell(trial, x)
    xs = {number: x for number, x, _ in pending}
    assert sorted(xs) == list(range(8)) and len(set(xs.values())) == 8
    alone = optuna.create_study(direction="maximize")
    for k in range(8):  # one process: trial k draws from sampler_seed(0, k) as well
        alone.sampler = optuna.samplers.RandomSampler(seed=sampler_seed(0, k))
        assert alone.ask().suggest_float("x", 0, 1) == xs[k]


# ---------------------------------------------------------------------------
# Claims: exact budget, owner tags in the creating operation


def test_racing_claims_take_exactly_the_budget(storage_url):
    storage = storage_url
    _study(storage)
    n_trials, claimed, errors = 24, [], []

    def worker(i):
        try:
            study, own = _study(storage)
            while True:
                frozen = claim_trial(own, study._study_id, n_trials, f"h:{i}:{i}")
                if frozen is None:
                    if not claimable(own.get_all_trials(study._study_id), n_trials):
                        return
                    continue
                claimed.append(frozen.number)
                own.set_trial_state_values(frozen._trial_id, TrialState.COMPLETE, [1.0])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    study, _ = _study(storage)
    trials = study.get_trials(deepcopy=False)
    assert sorted(claimed) == list(range(n_trials)) and budget_used(trials) == n_trials
    for t in trials[n_trials:]:  # created past the budget: given back, unevaluated
        assert t.state == TrialState.FAIL and t.user_attrs[OVER_BUDGET] and not t.params
    assert len({t.user_attrs["process"] for t in trials}) > 1


def test_a_retry_takes_the_place_of_its_failed_trial(storage_url):
    study, storage = _study(storage_url)
    for _ in range(3):
        frozen = claim_trial(storage, study._study_id, 3, process_tag())
        trial = optuna.Trial(study, frozen._trial_id)
        trial.suggest_float("x", 0, 1)
    trials = study.get_trials(deepcopy=False)
    study.tell(0, 1.0)
    study.tell(2, 1.0)
    assert claim_trial(storage, study._study_id, 3, process_tag()) is None  # budget claimed
    assert fail_trial(study, storage, trials[1], "WorkerDied: test") == 1
    assert fail_trial(study, storage, trials[1], "WorkerDied: again") is None  # one winner
    retry = claim_trial(storage, study._study_id, 3, "other:1:1")
    assert retry.number == 3 and retry.user_attrs["retry_of"] == 1
    assert retry.user_attrs["process"] == "other:1:1"
    assert claim_trial(storage, study._study_id, 3, process_tag()) is None
    study.tell(retry.number, 1.0)
    trials = study.get_trials(deepcopy=False)
    assert budget_used(trials) == 3 and not claimable(trials, 3)


def test_a_trial_is_tagged_in_the_operation_that_creates_it(tmp_path):
    journal = tmp_path / "study.journal"
    study, storage = _study(str(journal))
    claim_trial(storage, study._study_id, 5, "host:12:34")
    ops = [json.loads(line) for line in journal.read_text().splitlines()]
    creates = [op for op in ops if "datetime_start" in op and "study_id" in op]
    assert len(creates) == 1 and creates[0]["user_attrs"] == {"process": "host:12:34"}
    assert creates[0]["state"] == TrialState.RUNNING


def test_a_live_trial_of_another_host_is_never_failed_on_a_journal(tmp_path):
    study, storage = _study(str(tmp_path / "study.journal"))
    claim_trial(storage, study._study_id, 5, "elsewhere:1:1")
    assert recover_stale_trials(study, storage) == {"recovered": [], "unknown": [0],
                                                   "given_up": []}


# ---------------------------------------------------------------------------
# Heartbeats (database storages)


def test_heartbeats_fail_the_trials_of_a_silent_process_on_any_host(tmp_path):
    study, storage = _study(f"sqlite:///{tmp_path / 'study.db'}")
    rdb = enable_heartbeat(storage, interval=1, grace_period=2)
    assert rdb.heartbeat_interval == 1 and rdb.grace_period == 2
    with Heartbeat(storage) as beating:
        live = claim_trial(storage, study._study_id, 5, "elsewhere:1:1")
        beating.add(live._trial_id)
        silent = claim_trial(storage, study._study_id, 5, "elsewhere:2:2")
        optuna.Trial(study, silent._trial_id).suggest_float("x", 0, 1)
        rdb.record_heartbeat(silent._trial_id)  # one beat, then the process "dies"
        assert recover_stale_trials(study, storage)["unknown"] == [0, 1]
        time.sleep(3.5)
        report = recover_stale_trials(study, storage)
    assert report == {"recovered": [1], "unknown": [0], "given_up": []}
    trials = study.get_trials(deepcopy=False)
    assert trials[1].state == TrialState.FAIL and "no heartbeat" in trials[1].user_attrs["error"]
    assert trials[2].state == TrialState.WAITING and trials[2].user_attrs["retry_of"] == 1


# ---------------------------------------------------------------------------
# Concurrent first starts, summaries


def test_concurrent_first_starts_on_a_new_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    start = time.time() + 8  # all processes open the new database at this moment
    code = (
        "import sys, time\n"
        "from automl.search._storage import open_storage_retrying, create_or_load_study\n"
        "start = float(sys.argv[2])\n"
        "time.sleep(max(0.0, start - time.time()))\n"
        "storage = open_storage_retrying(sys.argv[1])\n"
        "study, created = create_or_load_study('s', storage, ['minimize'], join=True)\n"
        "print('created' if created else 'joined')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url, str(start)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        outs.append(out.strip())
    assert sorted(outs) == ["created", "joined", "joined", "joined"]


def test_the_last_process_to_finish_writes_the_final_summary(tmp_path):
    study = optuna.create_study(direction="maximize")
    spec = type("Spec", (), {"engine": "optuna", "n_trials": 2})()
    running = study.ask()
    study.tell(study.ask(), 1.0)
    first = study_status(spec, study.get_trials(deepcopy=False))
    assert first == {"status": "running", "trials_running": 1, "budget_used": 1}
    study.tell(running, 2.0)
    last = study_status(spec, study.get_trials(deepcopy=False))
    assert last == {"status": "complete", "trials_running": 0, "budget_used": 2}
    run = RunDirectory(tmp_path)
    assert write_summary_last(run, {"study": "s", **last})
    # The first process, slower to write, does not replace the final summary...
    assert not write_summary_last(run, {"study": "s", **first})
    assert run.read_summary()["status"] == "complete"
    # ...which a later final one does replace.
    assert write_summary_last(run, {"study": "s", **last, "note": 1})
    assert run.read_summary()["note"] == 1


@pytest.mark.parametrize("repeat", [0, 1])
def test_four_run_processes_share_one_study(tmp_path, storage_url, repeat):
    """Four `automl run` of one study file at once: 16 trials exactly, none twice, none lost."""
    spec = shared_spec(tmp_path, storage_url)
    check_shared_study(spec, run_processes(tmp_path, spec, n=4))


def test_the_trial_of_a_killed_process_runs_again_in_another(tmp_path):
    """One of two `automl run` processes dies mid-trial: the other runs that trial again."""
    faults = tmp_path / "faults"
    faults.mkdir()
    spec = shared_spec(tmp_path, str(tmp_path / "study.journal"), n_trials=8)
    env = {"AUTOML_FAULT": "kill@3", "AUTOML_FAULT_DIR": str(faults)}
    check_shared_study(spec, run_processes(tmp_path, spec, n=2, env=env), lost=1)
