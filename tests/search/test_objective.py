"""The trial objective: holdout and k-fold, user attributes, steps, pruning, divergence,
multi-objective, scikit-learn scorers, preprocessing and make_estimator."""

import pickle
import sys
import textwrap

import numpy as np
import optuna
import pytest
from sklearn.metrics import get_scorer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from automl import datasets
from automl._random import trial_seed
from automl.search import GridSpace, load_spec, make_pruner, make_sampler
from automl.search._objective import (
    Objective,
    _fit,
    make_estimator,
    make_folds,
    prediction_latency_ms,
)
from automl.wrappers import KerasClassifier, KerasRegressor

EPOCHS = 3
SPACE = {
    "parameters": {
        "hidden_layer_sizes": {"type": "categorical", "choices": [[8], [12]]},
        "learning_rate": {"type": "float", "low": 5e-3, "high": 2e-2, "log": True},
        "batch_size": 32,
    }
}

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _data(name, n=None):
    X, y = datasets.load(name)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))[:n]
    X, y = X[idx], y[idx]
    cut = int(0.7 * len(y))
    return X[:cut], y[:cut], X[cut:], y[cut:]


def _spec(dataset="iris", **keys):
    return load_spec({"dataset": dataset, "space": SPACE, "epochs": EPOCHS, "seed": 0, **keys})


def _holdout(spec, data):
    X_tr, y_tr, X_va, y_va = data
    return Objective.from_spec(spec, study_seed=0, X_train=X_tr, y_train=y_tr,
                               X_val=X_va, y_val=y_va)


def _run(objective, n_trials=1, pruner=None, directions=None):
    study = optuna.create_study(
        directions=directions or ["maximize"],
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=pruner,
    )
    study.optimize(objective, n_trials=n_trials, catch=(Exception,))
    return study


@pytest.fixture(scope="module")
def iris():
    return _data("iris")


def test_holdout_user_attrs_and_steps(iris, monkeypatch):
    monkeypatch.setenv("AUTOML_WORKER", "3")
    study = _run(_holdout(_spec(), iris))
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    attrs = trial.user_attrs
    assert attrs["seed"] == trial_seed(0, 0) and attrs["worker"] == 3
    logs = attrs["epoch_logs"]
    assert set(logs) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == EPOCHS for v in logs.values())
    assert attrs["epochs_run"] == EPOCHS and attrs["fit_time_s"] > 0
    units = trial.params["hidden_layer_sizes"]
    assert attrs["n_params"] == (4 + 1) * int(units.strip("[]")) + (int(units.strip("[]")) + 1) * 3
    # steps 0..E-1 carry the per-epoch val_accuracy (a maximized monitor: sign +1)
    assert trial.intermediate_values == dict(enumerate(logs["val_accuracy"]))
    assert "fold_epoch_logs" not in attrs and "error" not in attrs


def test_kfold_attrs_steps_and_mean(iris):
    X_tr, y_tr, _, _ = iris
    spec = _spec(validation={"kfold": 3})
    objective = Objective.from_spec(spec, study_seed=0, X_train=X_tr, y_train=y_tr)
    assert objective.n_folds == 3
    trial = _run(objective).trials[0]
    attrs = trial.user_attrs
    folds = attrs["fold_epoch_logs"]
    assert len(folds) == 3 and attrs["epoch_logs"] == folds[0]
    assert trial.value == pytest.approx(np.mean(attrs["fold_scores"]))
    assert attrs["epochs_run"] == 3 * EPOCHS
    expected = {
        f * EPOCHS + e: folds[f]["val_accuracy"][e] for f in range(3) for e in range(EPOCHS)
    }
    assert trial.intermediate_values == expected
    # folds are fresh fits with their own seeds: their histories differ
    assert folds[0]["loss"] != folds[1]["loss"]


def test_make_folds_deterministic_and_stratified():
    y = np.repeat([0, 1, 2], 10)
    a = make_folds(y, 5, task="classification", seed=1)
    b = make_folds(y, 5, task="classification", seed=1)
    assert all((ta == tb).all() and (va == vb).all() for (ta, va), (tb, vb) in zip(a, b))
    assert all(np.bincount(y[va]).tolist() == [2, 2, 2] for _, va in a)
    assert sorted(np.concatenate([va for _, va in a]).tolist()) == list(range(30))
    c = make_folds(np.arange(10.0), 2, task="regression", seed=1)
    assert len(c) == 2 and len(c[0][1]) == 5


def test_pruned_trial_keeps_partial_history(iris):
    # prunes at the first step after the warm-up: epoch 1
    pruner = optuna.pruners.ThresholdPruner(lower=2.0, n_warmup_steps=1)
    trial = _run(_holdout(_spec(), iris), pruner=pruner).trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    attrs = trial.user_attrs
    assert attrs["pruned_at_epoch"] == 1 and attrs["epochs_run"] == 2
    assert len(attrs["epoch_logs"]["loss"]) == 2 and attrs["n_params"] > 0
    assert sorted(trial.intermediate_values) == [0, 1]


def test_kfold_pruned_in_a_later_fold(iris):
    X_tr, y_tr, _, _ = iris
    spec = _spec(validation={"kfold": 2})
    objective = Objective.from_spec(spec, study_seed=0, X_train=X_tr, y_train=y_tr)
    pruner = optuna.pruners.ThresholdPruner(lower=2.0, n_warmup_steps=EPOCHS + 1)
    trial = _run(objective, pruner=pruner).trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    attrs = trial.user_attrs
    assert attrs["pruned_at_fold"] == 1 and attrs["pruned_at_epoch"] == 1
    assert [len(f["loss"]) for f in attrs["fold_epoch_logs"]] == [EPOCHS, 2]
    assert max(trial.intermediate_values) == EPOCHS + 1


def test_diverging_trial_fails_with_its_reason():
    data = _data("diabetes", 200)
    spec = load_spec({
        "dataset": "diabetes", "epochs": EPOCHS, "seed": 0, "preprocessing": "none",
        "space": {"parameters": {"optimizer": "sgd", "learning_rate": 1e6,
                                 "hidden_layer_sizes": [8]}},
    })
    trial = _run(_holdout(spec, data)).trials[0]
    assert trial.state == optuna.trial.TrialState.FAIL
    error = trial.user_attrs["error"]
    # The estimator's own check, as scikit-learn's MLP: a ValueError with a hint.
    assert error.startswith("ValueError: KerasRegressor.fit diverged: the training loss became non-finite")
    assert "at epoch 1. Lower the learning rate (learning_rate=1000000.0)" in error


@pytest.mark.parametrize("second", ["n_params", "latency"])
def test_multi_objective_returns_two_values(iris, second):
    spec = _spec(second_objective=second)
    study = _run(_holdout(spec, iris), directions=spec.directions)
    for trial in study.trials:
        assert trial.state == optuna.trial.TrialState.COMPLETE
        assert len(trial.values) == 2 and 0 <= trial.values[0] <= 1
        assert trial.intermediate_values == {}  # multi-objective trials are not reported
        assert len(trial.user_attrs["epoch_logs"]["loss"]) == EPOCHS
        if second == "n_params":
            assert trial.values[1] == trial.user_attrs["n_params"]
        else:
            assert trial.values[1] == trial.user_attrs["latency_ms"] > 0


def test_prediction_latency_is_per_1000_samples():
    class Sleepy:
        def predict(self, X):
            import time

            time.sleep(0.002)

    # 100 rows → 10 calls of >= 2 ms for 1000 samples → >= 20 ms per 1000 samples
    assert prediction_latency_ms(Sleepy(), np.zeros((100, 2)), repeats=1) >= 20.0


@pytest.mark.parametrize(
    "dataset, metric, n",
    [
        ("breast_cancer", "roc_auc", 200),
        ("iris", "neg_log_loss", None),
        ("iris", "f1_macro", None),
        ("diabetes", "r2", 200),
    ],
)
def test_scorer_metrics_and_rerun_from_the_record(dataset, metric, n):
    data = _data(dataset, n)
    spec = _spec(dataset, metric=metric)
    trial = _run(_holdout(spec, data)).trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE, trial.user_attrs.get("error")
    # A finished trial re-run alone from its record (params + seed) gives the same score.
    params = spec.space.suggest(optuna.trial.FixedTrial(trial.params))
    estimator = make_estimator(spec, params, epochs=EPOCHS, random_state=trial.user_attrs["seed"])
    estimator.fit(data[0], data[1])
    assert trial.value == pytest.approx(get_scorer(metric)(estimator, data[2], data[3]), rel=1e-6)
    if metric in ("roc_auc", "f1_macro"):
        assert 0.0 <= trial.value <= 1.0
    if metric == "neg_log_loss":
        assert trial.value < 0


def test_binary_metric_on_multiclass_targets_is_refused(iris):
    with pytest.raises(ValueError, match="'roc_auc' scores binary classification, but the "
                                         "targets have 3 classes; use .* 'roc_auc_ovr'"):
        _holdout(_spec(metric="roc_auc"), iris)


def test_early_stopping_records_best_epochs(iris):
    spec = _spec(early_stopping={"patience": 0}, epochs=6)
    trial = _run(_holdout(spec, iris)).trials[0]
    attrs = trial.user_attrs
    assert 1 <= attrs["best_epochs"] <= attrs["epochs_run"] <= 6
    val = attrs["epoch_logs"]["val_accuracy"]
    assert attrs["best_epochs"] == int(np.argmax(val)) + 1


@pytest.fixture
def builder_dir(tmp_path):
    (tmp_path / "trial_builders.py").write_text(
        textwrap.dedent(
            """
            from automl.keras import Input, Model, layers

            def narrow(n_features_in_, n_classes_, width=2):
                x = Input((n_features_in_,))
                h = layers.Dense(width, activation="relu")(x)
                return Model(x, layers.Dense(n_classes_, activation="softmax")(h))
            """
        )
    )
    yield tmp_path
    sys.modules.pop("trial_builders", None)


def test_custom_builder_next_to_the_study_with_the_grid_sampler(iris, builder_dir):
    X_tr, y_tr, X_va, y_va = iris
    grid = GridSpace({"width": [2, 5]})
    objective = Objective(
        space=grid, task="classification", metric="accuracy", epochs=2, study_seed=0,
        X_train=X_tr, y_train=y_tr, X_val=X_va, y_val=y_va,
        model="trial_builders:narrow", base_dir=builder_dir, grid=True,
    )
    objective = pickle.loads(pickle.dumps(objective))  # workers receive a pickled copy
    study = optuna.create_study(direction="maximize", sampler=make_sampler("grid", 0, grid))
    study.optimize(objective, n_trials=5)
    assert len(study.trials) == 2  # the grid sampler stops after the grid
    n_params = {t.params["width"]: t.user_attrs["n_params"] for t in study.trials}
    assert n_params == {2: (4 + 1) * 2 + (2 + 1) * 3, 5: (4 + 1) * 5 + (5 + 1) * 3}


def test_objective_constructor_errors(iris):
    X_tr, y_tr, X_va, y_va = iris
    common = dict(space=None, task="classification", metric="accuracy", epochs=1, study_seed=0,
                  X_train=X_tr, y_train=y_tr)
    with pytest.raises(ValueError, match="needs X_val and y_val"):
        Objective(**common)
    with pytest.raises(ValueError, match="either X_val/y_val"):
        Objective(**common, X_val=X_va, y_val=y_va, folds=[([0], [1])])
    with pytest.raises(ValueError, match="Unknown second objective 'size'"):
        Objective(**common, X_val=X_va, y_val=y_va, second_objective="size")
    with pytest.raises(ValueError, match="Unknown preprocessing 'robust'"):
        Objective(**common, X_val=X_va, y_val=y_va, preprocessing="robust")


def test_make_estimator_old_and_new_forms(iris):
    old = make_estimator("classification", {"batch_size": 8}, epochs=2, random_state=1)
    assert isinstance(old, KerasClassifier) and old.metrics == ["accuracy"]
    assert (old.epochs, old.random_state, old.batch_size) == (2, 1, 8)
    reg = make_estimator("regression", {}, epochs=2, random_state=1)
    assert isinstance(reg, KerasRegressor)

    spec = _spec(preprocessing="minmax", early_stopping=2, model="cnn")
    est = make_estimator(spec, {}, epochs=4, random_state=0)
    assert isinstance(est, Pipeline) and isinstance(est.named_steps["scale"], MinMaxScaler)
    assert est.named_steps["model"].model == "cnn" and est.named_steps["model"].callbacks is None
    est = make_estimator(spec, {}, epochs=4, random_state=0, early_stopping=True)
    (stopper,) = est.named_steps["model"].callbacks
    assert type(stopper).__name__ == "EarlyStopping"
    assert stopper.restore_best_weights and stopper.patience == 2
    assert stopper.monitor == "val_accuracy" and stopper.mode == "max"


def test_a_custom_monitor_is_logged_and_reported(iris):
    spec = _spec(dataset="breast_cancer", metric="roc_auc", monitor="val_auc")
    data = _data("breast_cancer", 120)
    trial = _run(_holdout(spec, data)).trials[0]
    logs = trial.user_attrs["epoch_logs"]
    assert "val_auc" in logs and "val_accuracy" in logs
    assert trial.intermediate_values == dict(enumerate(logs["val_auc"]))
    est = make_estimator(spec, {}, epochs=1, random_state=0)
    assert est.named_steps["model"].metrics == ["accuracy", "auc"]
    regressor = make_estimator(_spec(dataset="diabetes"), {}, epochs=1, random_state=0)[-1]
    assert regressor.regressor.metrics is None  # regression reports val_loss: no metric needed


def test_preprocessing_is_fit_on_the_training_part_only(iris):
    X_tr, y_tr, X_va, y_va = iris
    pipe = make_estimator(_spec(preprocessing="standard"), {}, epochs=1, random_state=0)
    _fit(pipe, X_tr, y_tr, X_va + 1.0, y_va, [])
    assert isinstance(pipe.named_steps["scale"], StandardScaler)
    np.testing.assert_allclose(pipe.named_steps["scale"].mean_, X_tr.mean(axis=0), rtol=1e-5)
    # the model saw the validation part through the training part's scaler
    from sklearn.metrics import log_loss

    model = pipe.named_steps["model"]
    transformed = pipe.named_steps["scale"].transform(X_va + 1.0)
    val_loss = model.history_["val_loss"][0]
    assert val_loss == pytest.approx(log_loss(y_va, model.predict_proba(transformed)), rel=1e-4)
    assert val_loss != pytest.approx(log_loss(y_va, model.predict_proba(X_va + 1.0)), rel=0.1)


def test_pruner_from_spec_prunes_objective(iris):
    """The spec's pruner (built by make_pruner) sees the objective's reports."""
    spec = _spec(pruner={"name": "threshold", "lower": 2.0})
    trial = _run(_holdout(spec, iris), pruner=make_pruner(spec.pruner)).trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs["pruned_at_epoch"] == 0


def test_memory_mapped_objective_pickles_paths_and_scores_the_same(iris, tmp_path):
    objective = _holdout(_spec(), iris)
    mapped = objective.memory_mapped(tmp_path, min_bytes=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "X_train.npy", "X_val.npy", "y_train.npy", "y_val.npy"]
    assert objective.X_train is iris[0]  # the original keeps its arrays
    payload = pickle.dumps(mapped)
    data_bytes = sum(a.nbytes for a in iris)
    assert len(pickle.dumps(objective)) - len(payload) > 0.8 * data_bytes  # paths, not data
    clone = pickle.loads(payload)
    for name in ("X_train", "y_train", "X_val", "y_val"):
        value = getattr(clone, name)
        assert isinstance(value, np.memmap) and not value.flags.writeable
        np.testing.assert_array_equal(value, getattr(objective, name))
    assert _run(clone).best_value == _run(objective).best_value
    # Small arrays stay in the pickle.
    small = objective.memory_mapped(tmp_path, min_bytes=1 << 30)
    assert small.X_train is objective.X_train
