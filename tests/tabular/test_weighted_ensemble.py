"""WeightedEnsemble: averaging, class alignment, frozen members, pipelines, pickling."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from automl.tabular import (
    ColumnsDroppedWarning,
    EnsembleSelection,
    TabularPreprocessor,
    WeightedEnsemble,
)


@pytest.fixture
def regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=120)
    return X, y


@pytest.fixture
def classification():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 2))
    y = np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    return X, y


def test_regression_is_the_weighted_average(regression):
    X, y = regression
    members = [Ridge(), DecisionTreeRegressor(max_depth=3, random_state=0)]
    ens = WeightedEnsemble(members, weights=[3, 1]).fit(X, y)
    assert is_regressor(ens) and not hasattr(ens, "predict_proba")
    np.testing.assert_allclose(ens.weights_, [0.75, 0.25])
    expected = 0.75 * Ridge().fit(X, y).predict(X) + 0.25 * clone(members[1]).fit(X, y).predict(X)
    np.testing.assert_allclose(ens.predict(X), expected)
    assert ens.score(X, y) > 0.95
    assert ens.n_features_in_ == 3


def test_classifier_probabilities_aligned_on_classes(classification):
    X, y = classification
    full = LogisticRegression().fit(X, y)
    keep = y != "c"
    partial = LogisticRegression().fit(X[keep], y[keep])  # never saw "c"
    ens = WeightedEnsemble([FrozenEstimator(full), FrozenEstimator(partial)], [0.5, 0.5])
    ens.fit(X, y)
    assert is_classifier(ens)
    np.testing.assert_array_equal(ens.classes_, ["a", "b", "c"])
    proba = ens.predict_proba(X)
    expected = 0.5 * full.predict_proba(X)
    expected[:, :2] += 0.5 * partial.predict_proba(X)
    np.testing.assert_allclose(proba, expected)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(ens.predict(X), ens.classes_[proba.argmax(axis=1)])


def test_frozen_members_are_kept_as_trained(classification):
    X, y = classification
    member = LogisticRegression().fit(X[:50], y[:50])
    before = member.coef_.copy()
    ens = WeightedEnsemble([FrozenEstimator(member)]).fit(X, y)
    np.testing.assert_array_equal(member.coef_, before)
    np.testing.assert_allclose(ens.predict_proba(X), member.predict_proba(X))
    # Unfrozen members are refitted (as clones: the given estimator is left alone).
    ens = WeightedEnsemble([member]).fit(X, y)
    np.testing.assert_array_equal(member.coef_, before)
    assert not np.allclose(ens.estimators_[0].coef_, before)


def test_ends_a_pipeline_on_a_real_table(load_table):
    X, y = load_table("penguins")
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
    pre = TabularPreprocessor().fit(X_train, y_train)
    Xt_train, Xt_val = pre.transform(X_train), pre.transform(X_val)
    models = [
        LogisticRegression(C=c, max_iter=1000).fit(Xt_train, y_train) for c in (0.001, 0.01, 1.0)
    ]
    models.append(DecisionTreeClassifier(max_depth=2, random_state=0).fit(Xt_train, y_train))
    P = np.stack([m.predict_proba(Xt_val) for m in models])
    selection = EnsembleSelection(10, scoring="neg_log_loss").fit(P, y_val)
    assert selection.score_ >= selection.single_scores_.max()
    ens = WeightedEnsemble([FrozenEstimator(m) for m in models], selection.weights_)
    model = make_pipeline(pre, ens.fit(Xt_train, y_train))
    # The pipeline's probabilities are the selection's weighted average.
    # (up to the float32 rounding the selection renormalizes away)
    np.testing.assert_allclose(model.predict_proba(X_val), selection.predict(P), atol=1e-6)
    assert model.score(X_val, y_val) > 0.95
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X_val), model.predict(X_val))


def test_clone_and_cross_val_score(classification):
    X, y = classification
    ens = WeightedEnsemble([LogisticRegression(), DecisionTreeClassifier(random_state=0)], [2, 1])
    scores = cross_val_score(ens, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8
    assert clone(ens).get_params()["weights"] == [2, 1]


def test_pipeline_with_preprocessing_and_cross_val_score(load_table):
    X, y = load_table("titanic")
    model = make_pipeline(
        TabularPreprocessor(),
        WeightedEnsemble([LogisticRegression(), DecisionTreeClassifier(max_depth=3)]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColumnsDroppedWarning)
        # Shuffled folds: the table is sorted by passenger class.
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
        scores = cross_val_score(model, X, y, cv=cv, scoring="roc_auc")
    assert scores.min() > 0.7


def test_bad_members_and_weights(regression, classification):
    X, y = regression
    with pytest.raises(ValueError, match="non-empty list of estimators"):
        WeightedEnsemble([]).fit(X, y)
    with pytest.raises(ValueError, match="only classifiers or only regressors"):
        WeightedEnsemble([Ridge(), LogisticRegression()]).fit(X, y)
    with pytest.raises(ValueError, match="must have predict_proba. Got \\['RidgeClassifier'\\]"):
        WeightedEnsemble([RidgeClassifier()]).fit(*classification)
    for weights in ([1.0], [1.0, -1.0], [0, 0], [np.nan, 1.0], "ab"):
        with pytest.raises(ValueError, match="'weights' parameter of WeightedEnsemble must be 2"):
            WeightedEnsemble([Ridge(), Ridge()], weights).fit(X, y)
