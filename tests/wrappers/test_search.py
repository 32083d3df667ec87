"""Parallel searches in worker processes, thread limits, and pickles."""

import glob
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from automl.keras.wrappers.scikit_learn import KerasClassifier as ClassicKerasClassifier
from automl.wrappers import KerasClassifier, KerasRegressor

from .builders import create_digits_model, recording_builder, scaled_squared_error

FAST = {"hidden_layer_sizes": (16,), "epochs": 3, "random_state": 0}


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_grid_search_over_a_pipeline_in_parallel(small_digits, n_jobs):
    X, y = small_digits
    pipe = make_pipeline(StandardScaler(),
                         KerasClassifier(epochs=6, learning_rate=0.01, random_state=0))
    grid = GridSearchCV(
        pipe, {"kerasclassifier__model__hidden_layer_sizes": [(2,), (32,)]}, cv=2, n_jobs=n_jobs
    ).fit(X, y)
    assert grid.best_params_ == {"kerasclassifier__model__hidden_layer_sizes": (32,)}
    assert grid.best_estimator_[-1].model_.layers[0].units == 32
    assert grid.best_score_ > 0.5


def test_randomized_search_in_parallel(small_digits):
    X, y = small_digits
    search = RandomizedSearchCV(
        KerasClassifier(**FAST),
        {"learning_rate": loguniform(1e-3, 1e-1), "activation": ["relu", "tanh"],
         "kernel_regularizer__l2": [0.0, 1e-4]},
        n_iter=4, cv=2, n_jobs=-1, random_state=0,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_halving_searches_in_parallel(small_digits):
    X, y = small_digits
    grid = HalvingGridSearchCV(
        KerasClassifier(**FAST), {"optimizer": ["adam", "sgd"], "activation": ["relu", "tanh"]},
        resource="epochs", max_resources=6, min_resources=2, factor=2, cv=2, n_jobs=2,
        random_state=0,
    ).fit(X, y)
    assert grid.n_iterations_ >= 2
    assert grid.best_estimator_.epochs == grid.cv_results_["param_epochs"][grid.best_index_]
    rand = HalvingRandomSearchCV(
        KerasRegressor(**FAST), {"learning_rate": loguniform(1e-3, 1e-1)}, n_candidates=4,
        factor=2, cv=2, n_jobs=-1, random_state=0, min_resources=100,
    ).fit(X, y / 10.0)
    assert np.isfinite(rand.best_score_)


def test_classic_build_fn_grid_in_parallel(small_digits):
    X, y = small_digits
    clf = ClassicKerasClassifier(build_fn=create_digits_model, epochs=3, random_state=0)
    grid = GridSearchCV(
        clf, {"optimizer": ["adam", "sgd"], "activation": ["relu", "tanh"]}, cv=2, n_jobs=2
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    best = grid.best_estimator_
    assert str(best.model_.layers[0].activation) == (
        f"<activation {grid.best_params_['activation']}>")
    assert type(best.model_.optimizer).__name__.lower() == grid.best_params_["optimizer"]


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_workers_do_not_oversubscribe_the_cpu(small_digits, tmp_path, n_jobs):
    X, y = small_digits
    clf = KerasClassifier(model=recording_builder, record_dir=str(tmp_path), epochs=1)
    cross_validate(clf, X, y, cv=4, n_jobs=n_jobs)
    files = glob.glob(str(tmp_path / "*.json"))
    assert files and f"{os.getpid()}.json" not in {os.path.basename(f) for f in files}
    records = [json.load(open(f)) for f in files]
    cores = os.cpu_count()
    workers = min(cores if n_jobs == -1 else n_jobs, 4)
    for pools in records:
        for pool in pools:
            assert pool["threads"] * workers <= max(cores, workers), pools


def _worker_collects_garbage_after_every_task():
    from joblib.externals.loky import process_executor

    return not process_executor._USE_PSUTIL


def test_joblib_workers_measure_memory_instead_of_collecting_garbage_after_every_task():
    # Without psutil, loky's workers run gc.collect() after each task (60-100 ms with
    # scikit-learn imported), a fixed cost on every fit of a parallel search.
    from joblib import Parallel, delayed

    flags = Parallel(n_jobs=2)(delayed(_worker_collects_garbage_after_every_task)() for _ in range(2))
    assert flags == [False, False]


# ----------------------------------------------------------------------
# Pickles
# ----------------------------------------------------------------------
def test_pickles_are_small_and_predict_identically(small_digits):
    X, y = small_digits
    clf = KerasClassifier(**FAST, dropout=0.1, metrics=["accuracy"]).fit(X, y)
    data = pickle.dumps(clf)
    weights = sum(w.nbytes for w in clf.model_.get_weights())
    # Weights plus the optimizer's two Adam slots, plus a few kB of configuration.
    assert len(data) < 3 * weights + 30_000
    assert len(data) < len(pickle.dumps(clf.model_))  # no training buffers or batch caches
    restored = pickle.loads(data)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.get_params()["dropout"] == 0.1
    assert restored.history_ == clf.history_


def test_pickled_estimator_continues_training_on_the_same_trajectory(small_digits):
    X, y = small_digits
    clf = KerasClassifier(**FAST, warm_start=True).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.model_.optimizer.iterations == clf.model_.optimizer.iterations
    clf.fit(X, y)
    restored.fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_custom_objects_fall_back_to_pickling_the_model(small_digits):
    X, y = small_digits
    reg = KerasRegressor(**FAST, loss=scaled_squared_error).fit(X, y / 10.0)
    state = reg.__getstate__()
    assert state["model_"] is reg.model_  # the .keras format cannot hold the function
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


def test_fitted_estimator_predicts_identically_in_another_process(small_digits, tmp_path):
    X, y = small_digits
    clf = KerasClassifier(**FAST, batch_norm=True).fit(X, y)
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    script = (
        "import pickle, sys, numpy as np\n"
        "d = sys.argv[1]\n"
        "clf = pickle.load(open(d + '/clf.pkl', 'rb'))\n"
        "np.save(d + '/proba.npy', clf.predict_proba(np.load(d + '/X.npy')))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, env=env,
                   timeout=120)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), clf.predict_proba(X))
