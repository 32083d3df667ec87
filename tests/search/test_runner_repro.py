"""Reproducibility: repeated runs, resumed runs, deterministic batches, re-running one trial."""

import optuna
import pytest

from automl import resume_study, run_study
from automl.search import rerun_trial
from tests.search.runner_helpers import tiny


def _trials(result):
    return [(t.number, t.state.name, t.params, t.values) for t in result.study.trials]


def test_same_seed_same_trials_in_process(tmp_path):
    spec = tiny(tmp_path, n_trials=4, pruner={"name": "median", "n_startup_trials": 1})
    a = run_study({**spec, "output": str(tmp_path / "a")}, verbose=0, report=False)
    b = run_study({**spec, "output": str(tmp_path / "b")}, verbose=0, report=False)
    assert _trials(a) == _trials(b)
    assert [t.intermediate_values for t in a.study.trials] == [
        t.intermediate_values for t in b.study.trials
    ]
    assert a.test_score == b.test_score


def test_another_seed_other_trials(tmp_path):
    a = run_study(tiny(tmp_path, n_trials=2, output=str(tmp_path / "a")), verbose=0, report=False)
    b = run_study(
        tiny(tmp_path, n_trials=2, seed=1, output=str(tmp_path / "b")), verbose=0, report=False
    )
    assert [t.params for t in a.study.trials] != [t.params for t in b.study.trials]


def test_resumed_study_equals_an_uninterrupted_one(tmp_path):
    # The sampler is seeded per trial number, so stopping after 2 trials and resuming
    # to 4 draws the same configurations as running 4 at once.
    whole = run_study(
        tiny(tmp_path, n_trials=4, output=str(tmp_path / "whole")), verbose=0, report=False
    )
    part = tiny(tmp_path, n_trials=2, output=str(tmp_path / "part"))
    run_study(part, verbose=0, report=False)
    resumed = resume_study(tmp_path / "part", n_trials=4, verbose=0, report=False)
    assert _trials(resumed) == _trials(whole)
    assert resumed.summary["n_trials"] == 4


def test_resume_of_a_finished_study_runs_nothing(tmp_path):
    first = run_study(tiny(tmp_path, n_trials=2), verbose=0, report=False)
    again = resume_study(first.output_dir, verbose=0, report=False)
    assert _trials(again) == _trials(first)


def test_deterministic_batches_in_two_workers_repeat_exactly(tmp_path):
    spec = tiny(
        tmp_path,
        n_trials=6,
        n_jobs=2,
        deterministic=True,
        sampler={"name": "tpe", "n_startup_trials": 2},
        pruner={"name": "median", "n_startup_trials": 1, "n_warmup_steps": 0},
    )
    a = run_study({**spec, "output": str(tmp_path / "a")}, verbose=0, report=False)
    b = run_study({**spec, "output": str(tmp_path / "b")}, verbose=0, report=False)
    assert _trials(a) == _trials(b)
    assert [t.intermediate_values for t in a.study.trials] == [
        t.intermediate_values for t in b.study.trials
    ]
    # The trials really ran in two worker processes.
    assert {t.user_attrs["worker"] for t in a.study.trials} == {0, 1}
    assert len({t.user_attrs["process"] for t in a.study.trials}) == 2
    assert a.summary["n_jobs"] == 2 and a.summary["deterministic"] is True
    assert a.summary["trial_time_s_sum"] > 0


def test_rerun_trial_gives_the_recorded_score(tmp_path):
    result = run_study(tiny(tmp_path, n_trials=2), verbose=0, report=False)
    for trial in result.study.trials:
        assert rerun_trial(result.output_dir, trial.number) == trial.value
    journal = result.output_dir / "study.journal"
    assert rerun_trial(journal, 1) == result.study.trials[1].value
    with pytest.raises(ValueError, match="has no trial 7"):
        rerun_trial(result.output_dir, 7)


def test_batch_view_hides_later_trials():
    from automl.search._batch_view import BatchView

    study = optuna.create_study()
    for x in range(4):
        study.enqueue_trial({"x": x})
    for _ in range(4):
        study.optimize(lambda t: t.suggest_float("x", 0, 10), n_trials=1)
    storage = study._storage
    own = study.trials[3]._trial_id
    view = BatchView(storage, batch_start=2, own_trial_id=own)
    numbers = [t.number for t in view.get_all_trials(study._study_id, deepcopy=False)]
    assert numbers == [0, 1, 3]
    assert view.get_n_trials(study._study_id) == 3
    assert view.get_best_trial(study._study_id).number == 0
