"""The scikit-learn engine: searches over the study's pipeline, recorded as Optuna trials."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState
from scipy.stats import loguniform
from sklearn.model_selection import StratifiedKFold, train_test_split

from automl import datasets
from automl.search import load_spec
from automl.search._sklearn_engine import (
    HISTORIES_DIR,
    run_sklearn_search,
    trial_estimator_params,
)

REPO = Path(__file__).resolve().parents[2]

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def iris():
    X, y = datasets.load("iris")
    return {"X_trval": X, "y_trval": y}


class Space:
    """A hand-made space: the two compile methods the engine calls."""

    def __init__(self, grid, distributions=None):
        self.grid = grid
        self.distributions = distributions

    def to_param_grid(self, prefix=""):
        return [{prefix + k: v for k, v in g.items()} for g in self.grid]

    def to_param_distributions(self, prefix=""):
        return [{prefix + k: v for k, v in d.items()} for d in self.distributions]


GRID = Space(
    [{"optimizer": ["adam", "sgd"], "learning_rate": [0.03], "hidden_layer_sizes": [(8,)]}],
    [
        {
            "learning_rate": loguniform(1e-3, 1e-1),
            "activation": ["relu", "tanh"],
            "hidden_layer_sizes": [(8,), (16, 8)],
        }
    ],
)


def _spec(tmp_path, *, space=GRID, **keys):
    """A validated study (engine sklearn) on iris whose space is then replaced by ``space``."""
    raw = {
        "dataset": "iris",
        "engine": "sklearn",
        "space": {"parameters": {"batch_size": 16}},
        "epochs": 2,
        "validation": {"kfold": 3},
        "output": str(tmp_path / "out"),
        **keys,
    }
    return dataclasses.replace(load_spec(raw), space=space)


def _run(spec, data, *, n_jobs=1, seed=0):
    study = optuna.create_study(direction="maximize")
    search = run_sklearn_search(spec, data, study, n_jobs=n_jobs, seed=seed)
    return study, search


def _check_contract(trial, *, n_splits, epochs):
    attrs = trial.user_attrs
    assert attrs["seed"] == 0
    assert len(attrs["fold_epoch_logs"]) == n_splits
    for logs in attrs["fold_epoch_logs"]:
        assert set(logs) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(values) == epochs for values in logs.values())
    assert attrs["epoch_logs"] == attrs["fold_epoch_logs"][0]
    assert attrs["epochs_run"] == n_splits * epochs
    assert len(attrs["cv_scores"]) == n_splits
    assert trial.value == pytest.approx(np.mean(attrs["cv_scores"]))
    assert attrs["fit_time_s"] > 0 and attrs["n_params"] > 0 and attrs["rank"] >= 1
    assert trial.datetime_start <= trial.datetime_complete
    json.dumps(attrs, allow_nan=False)  # storable as JSON: no NaN anywhere


# ---------------------------------------------------------------------------
# The four searches


def test_grid_search_records_every_candidate(tmp_path, iris):
    study, search = _run(_spec(tmp_path), iris)
    assert len(search.cv_results_["params"]) == 2 == len(study.trials)
    assert study.user_attrs["engine"] == "sklearn" and study.user_attrs["search"] == "grid"
    assert study.user_attrs["validation"] == "kfold:3"
    for trial, params in zip(study.trials, search.cv_results_["params"]):
        assert trial.state == TrialState.COMPLETE
        _check_contract(trial, n_splits=3, epochs=2)
        # searched params only, without the pipeline prefix; fixed ones in estimator_params
        assert trial.params == {"optimizer": params["model__optimizer"]}
        assert trial.distributions["optimizer"] == CategoricalDistribution(["adam", "sgd"])
        assert trial_estimator_params(trial) == {
            "optimizer": params["model__optimizer"],
            "learning_rate": 0.03,
            "hidden_layer_sizes": (8,),
        }
        cv = [search.cv_results_[f"split{k}_test_score"][trial.number] for k in range(3)]
        assert trial.user_attrs["cv_scores"] == pytest.approx(cv)
        # intermediate values: the monitored val_accuracy at step fold * epochs + epoch
        logs = trial.user_attrs["fold_epoch_logs"]
        assert trial.intermediate_values == {
            fold * 2 + epoch: pytest.approx(logs[fold]["val_accuracy"][epoch])
            for fold in range(3)
            for epoch in range(2)
        }
    ranks = sorted(t.user_attrs["rank"] for t in study.trials)
    best = max(study.trials, key=lambda t: t.value)
    assert best.user_attrs["rank"] == 1 and ranks[-1] in (1, 2)
    assert search.best_index_ == best.number
    assert not (tmp_path / "out" / HISTORIES_DIR).exists()  # the per-fit files are gone


def test_random_search_uses_numeric_distributions(tmp_path, iris):
    spec = _spec(tmp_path, search="random", n_iter=3, validation=0.3)
    study, search = _run(spec, iris)
    assert len(study.trials) == 3 and study.user_attrs["search"] == "random"
    assert study.user_attrs["validation"] == "holdout"
    for trial, params in zip(study.trials, search.cv_results_["params"]):
        _check_contract(trial, n_splits=1, epochs=2)
        assert trial.distributions["learning_rate"] == FloatDistribution(1e-3, 1e-1, log=True)
        assert trial.params["learning_rate"] == params["model__learning_rate"]
        # list-valued choices become JSON strings; estimator_params has the tuple
        assert trial.params["hidden_layer_sizes"] in ("[8]", "[16, 8]")
        sizes = tuple(json.loads(trial.params["hidden_layer_sizes"]))
        assert trial_estimator_params(trial)["hidden_layer_sizes"] == sizes
        assert "fold_scores" not in trial.user_attrs  # k-fold only, as in the Optuna engine


def test_halving_grid_on_epochs_keeps_every_iteration(tmp_path, iris):
    space = Space([{"optimizer": ["adam", "sgd", "rmsprop", "adagrad"], "learning_rate": [0.03]}])
    spec = _spec(
        tmp_path, space=space, search="halving_grid", resource="epochs", factor=2, epochs=4
    )
    study, search = _run(spec, iris)
    assert len(study.trials) == 4  # one trial per candidate, not per iteration
    attrs = study.user_attrs["halving"]
    assert attrs["resource"] == "epochs" and attrs["n_resources"] == [1, 2, 4]
    for trial in study.trials:
        halving = trial.user_attrs["halving"]
        assert [h[0] for h in halving] == list(range(len(halving)))
        last_iter, epochs, score = halving[-1]
        assert trial.value == pytest.approx(score)
        # the trial's logs and params are those of its last iteration
        _check_contract(trial, n_splits=3, epochs=epochs)
        assert trial_estimator_params(trial)["epochs"] == epochs
        assert "epochs" not in trial.params
    finalist = [t for t in study.trials if len(t.user_attrs["halving"]) == 3]
    assert len(finalist) == 1 and finalist[0].user_attrs["rank"] == 1
    assert max(search.cv_results_["iter"]) == 2


def test_halving_random_on_samples_reads_each_iterations_fits(tmp_path, iris):
    spec = _spec(
        tmp_path,
        search="halving_random",
        resource="n_samples",
        n_iter=4,
        factor=2,
        min_resources=30,
    )
    study, search = _run(spec, iris)
    assert len(study.trials) == 4
    n_resources = study.user_attrs["halving"]["n_resources"]
    assert n_resources[0] == 30 and n_resources == sorted(n_resources)
    for trial in study.trials:
        _check_contract(trial, n_splits=3, epochs=2)
        iteration, resources, _ = trial.user_attrs["halving"][-1]
        # training folds are 2/3 of the subsample the last iteration drew
        assert trial.user_attrs["fold_train_sizes"] == [int(resources * 2 / 3)] * 3
    sizes = {len(t.user_attrs["halving"]) for t in study.trials}
    assert sizes == {1, 2, 3}


# ---------------------------------------------------------------------------
# Failures, parallel workers, the pipeline


def test_a_failing_candidate_is_a_fail_trial_with_its_error(tmp_path, iris):
    space = Space([{"activation": ["relu", "no_such_activation"]}])
    study, search = _run(_spec(tmp_path, space=space), iris)
    ok, failed = study.trials
    assert ok.state == TrialState.COMPLETE and ok.params == {"activation": "relu"}
    assert failed.state == TrialState.FAIL and failed.value is None
    assert failed.params == {"activation": "no_such_activation"}
    assert "no_such_activation" in failed.user_attrs["error"]
    assert failed.user_attrs["error"].split(":")[0].endswith("Error")
    assert failed.user_attrs["cv_scores"] == [None, None, None]
    assert math.isnan(search.cv_results_["mean_test_score"][1])
    assert failed.user_attrs["rank"] == 2


def test_parallel_workers_send_their_logs_back(tmp_path, iris):
    space = Space([{"optimizer": ["adam", "sgd", "rmsprop"]}])
    study, search = _run(_spec(tmp_path, space=space), iris, n_jobs=2)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    workers = set()
    for trial in study.trials:
        _check_contract(trial, n_splits=3, epochs=2)
        workers.update(trial.user_attrs["fold_workers"])
        assert trial.user_attrs["worker"] == trial.user_attrs["fold_workers"][0]
    assert workers <= {0, 1} and workers
    # the same candidates, fit in this process, get the same scores
    serial, _ = _run(_spec(tmp_path / "serial", space=space), iris)
    assert [t.value for t in serial.trials] == pytest.approx([t.value for t in study.trials])


@pytest.mark.parametrize(
    "preprocessing, steps",
    [("standard", ["scale", "model"]), ("minmax", ["scale", "model"]), ("none", ["model"])],
)
def test_pipeline_steps_prefix_the_grid(tmp_path, iris, preprocessing, steps):
    space = Space([{"optimizer": ["adam"], "learning_rate": [0.01, 0.03]}])
    spec = _spec(tmp_path, space=space, preprocessing=preprocessing)
    study, search = _run(spec, iris)
    assert [name for name, _ in search.estimator.steps] == steps
    assert all(
        set(p) == {"model__optimizer", "model__learning_rate"} for p in search.cv_results_["params"]
    )
    assert [t.params for t in study.trials] == [{"learning_rate": 0.01}, {"learning_rate": 0.03}]
    assert search.estimator.steps[-1][1].random_state == 0


def test_folds_match_the_study_splits(tmp_path, iris):
    X, y = iris["X_trval"], iris["y_trval"]
    space = Space([{"optimizer": ["adam"]}])
    _, search = _run(_spec(tmp_path, space=space, split_seed=3, validation={"kfold": 4}), iris)
    expected = StratifiedKFold(4, shuffle=True, random_state=3).split(X, y)
    for (_, val), (_, want) in zip(search.cv.split(X, y), expected):
        np.testing.assert_array_equal(np.sort(val), np.sort(want))
    _, search = _run(_spec(tmp_path, space=space, split_seed=3, validation=0.25), iris)
    _, want = train_test_split(np.arange(len(y)), test_size=0.25, random_state=3, stratify=y)
    [(_, val)] = list(search.cv.split(X, y))
    np.testing.assert_array_equal(np.sort(val), np.sort(want))


def test_study_must_maximize(tmp_path, iris):
    study = optuna.create_study(direction="minimize")
    with pytest.raises(ValueError, match="direction 'maximize'"):
        run_sklearn_search(_spec(tmp_path), iris, study, n_jobs=1, seed=0)
    study = optuna.create_study(directions=["maximize", "minimize"])
    with pytest.raises(ValueError, match="single-objective"):
        run_sklearn_search(_spec(tmp_path), iris, study, n_jobs=1, seed=0)


def test_early_stopping_records_the_epochs_to_refit_with(tmp_path, iris):
    space = Space([{"optimizer": ["adam"], "learning_rate": [0.05]}])
    spec = _spec(tmp_path, space=space, epochs=6, early_stopping={"patience": 1}, validation=0.3)
    study, search = _run(spec, iris)
    [trial] = study.trials
    # EarlyStopping monitors the estimator's own validation split (the wrapper holds
    # out 10% of the training fold), so the scored fold stays unseen
    [stopper] = search.estimator.steps[-1][1].callbacks
    assert stopper.monitor == spec.monitor == "val_accuracy"
    logs = trial.user_attrs["epoch_logs"]
    best = int(np.argmax(logs["val_accuracy"])) + 1  # the first best epoch, as EarlyStopping
    assert trial.user_attrs["best_epochs"] == best


def test_digits_grid_study_is_valid():
    spec = load_spec(REPO / "studies" / "digits_grid.yaml")
    assert (spec.engine, spec.search, spec.dataset, spec.metric) == (
        "sklearn",
        "grid",
        "digits",
        "accuracy",
    )
    assert spec.validation == {"kind": "kfold", "n_splits": 3}
    [grid] = spec.space.to_param_grid(prefix="model__")
    assert grid["model__optimizer"] == ["sgd", "adam", "rmsprop"]
    assert grid["model__activation"] == ["relu", "tanh"]
    assert np.prod([len(v) for v in grid.values()]) == 12


def test_regression_scores_with_any_scorer(tmp_path):
    X, y = datasets.load("diabetes")
    data = {"X_trval": X[:200], "y_trval": y[:200]}
    space = Space([{"learning_rate": [0.01, 0.05]}])
    spec = _spec(
        tmp_path, space=space, dataset="diabetes", metric="neg_mean_absolute_error", validation=0.25
    )
    study, search = _run(spec, data)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    for trial in study.trials:
        assert trial.value < 0  # a greater-is-better negated error
        logs = trial.user_attrs["epoch_logs"]
        assert set(logs) >= {"loss", "val_loss"} and len(logs["val_loss"]) == 2
        # the monitor of a regression is val_loss, reported negated
        assert trial.intermediate_values[1] == pytest.approx(-logs["val_loss"][1])
    assert study.user_attrs["validation"] == "holdout"
