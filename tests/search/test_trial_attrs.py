"""set_user_attrs: several user attributes of a running trial in one storage write."""

from __future__ import annotations

import optuna
import pytest

from automl.search._storage import open_storage
from automl.search._trial_attrs import set_user_attrs

ATTRS = {"seed": 7, "epoch_logs": {"loss": [0.5, None]}, "error": "ValueError: x"}


def _storages(tmp_path):
    return {
        "memory": optuna.storages.InMemoryStorage(),
        "journal": open_storage(tmp_path / "s.journal"),
        "sqlite": open_storage(f"sqlite:///{tmp_path / 's.db'}"),
    }


@pytest.mark.parametrize("kind", ["memory", "journal", "sqlite"])
def test_attributes_are_stored_and_cached(tmp_path, kind):
    storage = _storages(tmp_path)[kind]
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    trial.set_user_attr("seed", 1)  # overwritten
    set_user_attrs(trial, ATTRS)
    assert trial.user_attrs == ATTRS
    assert storage.get_trial(trial._trial_id).user_attrs == ATTRS
    # Another process's view of the file or database sees them too.
    if kind != "memory":
        url = (tmp_path / "s.journal") if kind == "journal" else f"sqlite:///{tmp_path / 's.db'}"
        again = optuna.load_study(study_name="s", storage=open_storage(url))
        assert again.trials[0].user_attrs == ATTRS


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_finished_trial_is_not_updated(tmp_path, kind):
    storage = _storages(tmp_path)[kind]
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        set_user_attrs(trial, ATTRS)
    assert storage.get_trial(trial._trial_id).user_attrs == {}


def test_sqlite_writes_in_one_transaction(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    backend = storage._backend
    commits = []
    import sqlalchemy

    sqlalchemy.event.listen(backend.engine, "commit", lambda conn: commits.append(1))
    set_user_attrs(trial, ATTRS)
    assert len(commits) == 1


def test_trial_stand_in_gets_its_own_method():
    trial = optuna.trial.FixedTrial({})
    set_user_attrs(trial, {"seed": 3})
    assert trial.user_attrs == {"seed": 3}


def _objective_study(tmp_path, pruner, name, validation=None):
    import sqlalchemy

    from automl.search._objective import Objective
    from tests.search.test_objective import _data, _spec

    X_tr, y_tr, X_va, y_va = _data("iris", 90)
    spec = _spec(**({"validation": validation} if validation else {}))
    holdout = {} if validation else {"X_val": X_va, "y_val": y_va}
    objective = Objective.from_spec(spec, study_seed=0, X_train=X_tr, y_train=y_tr, **holdout)
    storage = open_storage(f"sqlite:///{tmp_path / name}.db")
    commits = []
    sqlalchemy.event.listen(storage._backend.engine, "commit", lambda conn: commits.append(1))
    study = optuna.create_study(storage=storage, direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=1)
    return study.trials[0], len(commits)


@pytest.mark.parametrize("validation", [None, {"kfold": 2}])
def test_without_pruner_epochs_are_stored_at_the_end_alike(tmp_path, validation):
    from tests.search.test_objective import EPOCHS

    never = optuna.pruners.MedianPruner(n_startup_trials=100)  # reports, asks, never prunes
    reported, commits_reported = _objective_study(tmp_path, never, "a", validation)
    deferred, commits_deferred = _objective_study(tmp_path, optuna.pruners.NopPruner(), "b",
                                                  validation)
    assert deferred.params == reported.params
    assert deferred.intermediate_values == reported.intermediate_values
    n_folds = 2 if validation else 1
    assert len(deferred.intermediate_values) == n_folds * EPOCHS
    logs = deferred.user_attrs["epoch_logs"]["val_accuracy"]
    assert [deferred.intermediate_values[e] for e in range(EPOCHS)] == logs
    # One write for all epochs' values instead of one per epoch.
    assert commits_reported - commits_deferred >= n_folds * EPOCHS - 1


def test_deterministic_batch_view_writes_through_in_one_transaction(tmp_path):
    import sqlalchemy

    from automl.search._batch_view import BatchView

    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage, study_name="s")
    asked = study.ask()
    view = BatchView(storage, asked.number, asked._trial_id)
    trial = optuna.Trial(optuna.Study(study_name="s", storage=view), asked._trial_id)
    commits = []
    sqlalchemy.event.listen(storage._backend.engine, "commit", lambda conn: commits.append(1))
    set_user_attrs(trial, ATTRS, intermediate_values={0: 0.25, 1: 0.5})
    assert len(commits) == 1
    stored = storage.get_trial(asked._trial_id)
    assert stored.user_attrs == ATTRS and stored.intermediate_values == {0: 0.25, 1: 0.5}
