"""AutoClassifier / AutoRegressor: fit(X, y) runs a study on the data in memory."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl import AutoClassifier, AutoRegressor
from automl.tabular import StandardizedTargetRegressor, TabularPreprocessor

from .tabular.conftest import TABLES, tabular_dir

FAST = {"time_budget": 20, "max_trials": 2, "epochs": 2, "n_jobs": 1, "random_state": 0,
        "verbose": 0}


def _titanic():
    folder = tabular_dir()
    if folder is None:
        pytest.skip("the shared tabular datasets are absent (../shared/datasets/tabular)")
    file, target = TABLES["titanic"]
    frame = pd.read_csv(folder / file)
    return frame.drop(columns=target), frame[target]


def test_a_dataframe_with_text_missing_values_and_an_id_column(tmp_path):
    X, y = _titanic()  # rownames: the passenger's name (an ID); age: 263 missing; text columns
    assert X["age"].isna().sum() > 0 and X["rownames"].is_unique
    clf = AutoClassifier(**FAST, output=tmp_path / "run").fit(X, y)
    pipe = clf.best_estimator_
    assert isinstance(pipe, Pipeline) and isinstance(pipe[0], TabularPreprocessor)
    assert pipe[0].column_treatments_["rownames"]["treatment"] == "drop"
    assert list(clf.classes_) == ["no", "yes"]
    assert list(clf.feature_names_in_) == list(X.columns) and clf.n_features_in_ == 4
    proba = clf.predict_proba(X.head(7))
    assert proba.shape == (7, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.score(X, y) > 0.6
    board = clf.leaderboard_
    assert list(board.columns) == ["rank", "trial", "configuration", "validation_score",
                                   "fit_time_s", "state"]
    assert len(board) == 2 and board["rank"].tolist() == [1, 2]
    assert board["validation_score"].iloc[0] == clf.best_score_ == max(board["validation_score"])
    assert board["configuration"].iloc[0] == {
        k: list(v) if isinstance(v, tuple) else v for k, v in clf.best_params_.items()}
    assert len(clf.study_.trials) == 2
    assert (tmp_path / "run" / "preprocessing.csv").is_file()  # output: the run is kept
    report = clf.report(tmp_path / "report.html")
    assert report.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(X.rename(columns={"age": "years"}))


def test_without_output_nothing_is_left_behind(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    X, y = load_iris(return_X_y=True)
    clf = AutoClassifier(**FAST).fit(X, y)
    assert clf.output_dir_ is None and list(tmp_path.iterdir()) == []
    assert clf.report(tmp_path / "r.html").is_file()  # from the study kept in memory
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert len(restored.study_.trials) == 2


def test_regression_in_original_units():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = AutoRegressor(**{**FAST, "epochs": 15}).fit(X, y)
    assert isinstance(reg.best_estimator_[-1], StandardizedTargetRegressor)
    assert 100 < reg.predict(X).mean() < 200
    assert reg.score(X, y) > 0.2


def test_clone_cross_val_score_and_a_pipeline():
    X, y = load_iris(return_X_y=True)
    clf = AutoClassifier(**{**FAST, "max_trials": 1, "epochs": 5})
    assert clone(clf).get_params() == clf.get_params()
    scores = cross_val_score(clf, X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.3)
    pipe = Pipeline([("double", FunctionTransformer(lambda a: 2 * a)), ("auto", clf)]).fit(X, y)
    assert pipe.score(X, y) > 0.3


@pytest.mark.parametrize(
    "params, match",
    [
        ({"time_budget": 0}, "'time_budget' parameter of AutoClassifier"),
        ({"validation": 1.5}, "'validation' parameter of AutoClassifier"),
        ({"n_jobs": 0}, "'n_jobs' parameter of AutoClassifier"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        AutoClassifier(**params).fit([[0.0], [1.0]], [0, 1])


def test_bad_targets():
    with pytest.raises(ValueError, match="at least 2 classes"):
        AutoClassifier(**FAST).fit([[0.0], [1.0], [2.0]], [1, 1, 1])
    with pytest.raises(ValueError, match="must be numeric"):
        AutoRegressor(**FAST).fit([[0.0], [1.0], [2.0]], ["a", "b", "c"])


# scikit-learn's checks, on a one-trial, one-epoch search. Those that cannot hold for a
# time-budgeted search of networks are listed with the reason.
_NOT_TRAINED = "a 1-epoch network does not reach the check's score"
_EXPECTED_FAILED = {
    "AutoClassifier": {
        "check_sample_weight_equivalence_on_dense_data": "fit takes no sample_weight",
        "check_classifiers_train": _NOT_TRAINED,
        "check_methods_subset_invariance": "networks predict in float32 batches",
        "check_methods_sample_order_invariance": "networks predict in float32 batches",
    },
    "AutoRegressor": {
        "check_sample_weight_equivalence_on_dense_data": "fit takes no sample_weight",
        "check_regressors_train": _NOT_TRAINED,
        "check_regressor_data_not_an_array": "a search is not bit-identical across input "
                                             "types (float32 batches)",
        "check_methods_subset_invariance": "networks predict in float32 batches",
        "check_methods_sample_order_invariance": "networks predict in float32 batches",
    },
}


def _expected(estimator):
    return _EXPECTED_FAILED[type(estimator).__name__]


@parametrize_with_checks(
    [AutoClassifier(time_budget=30, max_trials=1, epochs=1, n_jobs=1, random_state=0,
                    verbose=0),
     AutoRegressor(time_budget=30, max_trials=1, epochs=1, n_jobs=1, random_state=0,
                   verbose=0)],
    expected_failed_checks=_expected,
)
def test_sklearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
