"""EnsembleSelection: hand-computed cases, scorer names, and properties over random predictions."""

import numpy as np
import pytest
from sklearn.metrics import get_scorer, make_scorer, mean_absolute_error

from automl.tabular import EnsembleSelection
from automl.tabular._ensemble_selection import _FixedProbabilities, _FixedValues


def _score(name, predictions, y, classes=None):
    if predictions.ndim == 2:
        holder = _FixedProbabilities(np.asarray(classes), predictions)
    else:
        holder = _FixedValues(predictions)
    return get_scorer(name)(holder, None, y)


def test_hand_computed_regression():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    P = np.stack([y + 1.0, y - 1.0, y + 3.0])
    ens = EnsembleSelection(ensemble_size=4, scoring="neg_mean_squared_error").fit(P, y)
    # (ties up to rounding: y + 1/3 and y - 1/3 score a few ulps apart)
    # step 1: models 0 and 1 tie (mse 1), the lower index wins; step 2: adding 1 gives y exactly;
    # step 3: (2y + y + 1) / 3 -> mse 1/9, models 0 and 1 tie again; step 4: back to y.
    np.testing.assert_array_equal(ens.indices_, [0, 1, 0, 1])
    np.testing.assert_allclose(ens.trajectory_, [-1.0, 0.0, -1 / 9, 0.0], atol=1e-15)
    assert ens.size_ == 2  # the first best prefix
    np.testing.assert_array_equal(ens.weights_, [0.5, 0.5, 0.0])
    np.testing.assert_allclose(ens.single_scores_, [-1.0, -1.0, -9.0])
    assert ens.best_index_ == 0 and ens.score_ == 0.0
    np.testing.assert_allclose(ens.predict(P), y)


def test_hand_computed_classification_accuracy():
    # Three models, each wrong on a different sample; any two of them vote the third right
    # only where their confidences add up. Labels are strings to check the class mapping.
    y = np.array(["a", "b", "a", "b"])
    P = np.array(
        [
            [[0.9, 0.1], [0.4, 0.6], [0.4, 0.6], [0.2, 0.8]],  # wrong on sample 2 (weakly)
            [[0.8, 0.2], [0.9, 0.1], [0.7, 0.3], [0.3, 0.7]],  # wrong on sample 1 (strongly)
            [[0.3, 0.7], [0.2, 0.8], [0.8, 0.2], [0.1, 0.9]],  # wrong on sample 0
        ]
    )
    ens = EnsembleSelection(ensemble_size=3, scoring="accuracy").fit(P, y)
    np.testing.assert_array_equal(ens.classes_, ["a", "b"])
    np.testing.assert_allclose(ens.single_scores_, [0.75, 0.75, 0.75])
    # step 1: model 0; step 2: {0, 1}: sample 1 averages [0.65, 0.35] -> wrong, 0.75;
    # {0, 2}: sample 0 [0.6, 0.4] right, sample 2 [0.6, 0.4] right -> 1.0.
    np.testing.assert_array_equal(ens.indices_[:2], [0, 2])
    assert ens.trajectory_[1] == 1.0 and ens.score_ == 1.0 and ens.size_ == 2
    np.testing.assert_array_equal(ens.weights_, [0.5, 0.0, 0.5])
    np.testing.assert_allclose(ens.predict(P), (P[0] + P[2]) / 2)


def test_sorted_initialization_starts_from_the_best_models():
    rng = np.random.default_rng(1)
    y = rng.normal(size=50)
    noise = np.array([0.5, 2.0, 0.3, 1.0, 0.8])
    P = y + noise[:, None] * rng.normal(size=(5, 50))
    ens = EnsembleSelection(ensemble_size=6, scoring="r2", n_init=3).fit(P, y)
    np.testing.assert_array_equal(ens.indices_[:3], np.argsort(-ens.single_scores_)[:3])
    assert ens.indices_[0] == ens.best_index_ == 2
    assert ens.score_ >= ens.single_scores_.max()


def test_identical_models_tie_to_the_lowest_index():
    y = np.arange(10.0)
    P = np.stack([y + 1.0] * 3 + [y + 2.0])
    ens = EnsembleSelection(ensemble_size=5).fit(P, y)
    np.testing.assert_array_equal(ens.indices_, [0] * 5)
    assert ens.size_ == 1
    np.testing.assert_array_equal(ens.weights_, [1.0, 0, 0, 0])


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(
    "task, scoring",
    [
        ("binary", "neg_log_loss"),
        ("binary", "roc_auc"),
        ("binary", "accuracy"),
        ("multiclass", "neg_log_loss"),
        ("multiclass", "accuracy"),
        ("regression", "r2"),
        ("regression", "neg_mean_squared_error"),
    ],
)
def test_never_worse_than_the_best_single_model(task, scoring, seed):
    rng = np.random.default_rng(seed)
    n_models, n = int(rng.integers(1, 6)), int(rng.integers(10, 40))
    if task == "regression":
        y = rng.normal(size=n)
        P = y + rng.normal(scale=rng.uniform(0.2, 2.0, size=(n_models, 1)), size=(n_models, n))
        classes = None
    else:
        k = 2 if task == "binary" else 4
        classes = np.arange(k) * 10  # labels that are not column indices
        y = classes[np.r_[np.arange(k), rng.integers(0, k, n - k)]]
        P = rng.dirichlet(np.ones(k), size=(n_models, n))
    size = int(rng.integers(1, 12))
    n_init = int(rng.integers(0, min(size, n_models) + 1))
    ens = EnsembleSelection(size, scoring=scoring, n_init=n_init).fit(P, y)
    assert ens.score_ >= ens.single_scores_.max() - 1e-12
    assert ens.single_scores_[ens.best_index_] == ens.single_scores_.max()
    assert len(ens.trajectory_) == len(ens.indices_) == size
    assert ens.score_ == pytest.approx(ens.trajectory_.max(), rel=1e-12, abs=1e-12)
    assert ens.score_ == ens.trajectory_[ens.size_ - 1]
    assert (ens.weights_ >= 0).all() and ens.weights_.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ens.weights_ * ens.size_, np.round(ens.weights_ * ens.size_))
    # The reported score is the scorer's score of the weighted average.
    assert _score(scoring, ens.predict(P), y, classes) == pytest.approx(ens.score_)


def test_scorer_callable_and_default_scoring():
    rng = np.random.default_rng(0)
    y = rng.normal(size=30)
    P = y + rng.normal(size=(4, 30))
    mae = make_scorer(mean_absolute_error, greater_is_better=False)
    ens = EnsembleSelection(10, scoring=mae).fit(P, y)
    assert ens.score_ == pytest.approx(-mean_absolute_error(y, ens.predict(P)))
    default = EnsembleSelection(10).fit(P, y)
    assert default.score_ == pytest.approx(_score("r2", default.predict(P), y))
    yc = np.array([0, 1] * 15)
    Pc = rng.dirichlet([1, 1], size=(4, 30))
    ens = EnsembleSelection(10).fit(Pc, yc)  # neg_log_loss
    assert ens.score_ == pytest.approx(_score("neg_log_loss", ens.predict(Pc), yc, [0, 1]))


def test_classes_when_validation_lacks_one():
    y = np.array(["a", "a", "c", "c"])
    P = np.tile([[0.5, 0.2, 0.3]], (2, 4, 1))
    with pytest.raises(ValueError, match="label the 3 probability columns. Got 2 classes"):
        EnsembleSelection(2).fit(P, y)
    ens = EnsembleSelection(2, scoring="accuracy").fit(P, y, classes=["a", "b", "c"])
    np.testing.assert_array_equal(ens.classes_, ["a", "b", "c"])
    with pytest.raises(ValueError, match="labels not in classes"):
        EnsembleSelection(2).fit(P, y, classes=["a", "b", "d"])


def test_bad_arguments():
    y = np.arange(5.0)
    P = np.stack([y, y + 1])
    with pytest.raises(ValueError, match="'ensemble_size' parameter of EnsembleSelection"):
        EnsembleSelection(0).fit(P, y)
    with pytest.raises(ValueError, match="'n_init' parameter .* at most ensemble_size"):
        EnsembleSelection(5, n_init=3).fit(P, y)
    with pytest.raises(ValueError, match="'scoring' parameter"):
        EnsembleSelection(5, scoring=3).fit(P, y)
    with pytest.raises(ValueError, match="not a valid scoring value|valid"):
        EnsembleSelection(5, scoring="nonsense").fit(P, y)
    with pytest.raises(ValueError, match="shape \\(n_models, n_samples\\)"):
        EnsembleSelection(5).fit(y, y)
    with pytest.raises(ValueError, match="one value per predicted sample \\(5\\)"):
        EnsembleSelection(5).fit(P, y[:3])
    with pytest.raises(ValueError, match="must be finite"):
        EnsembleSelection(5).fit(np.stack([y, y * np.nan]), y)
    with pytest.raises(ValueError, match="class probabilities .* summing to 1"):
        EnsembleSelection(5).fit(np.full((2, 5, 2), 0.6), y)
    ens = EnsembleSelection(3).fit(P, y)
    with pytest.raises(ValueError, match="stack the 2 models' predictions"):
        ens.predict(P[:1])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "scoring",
    [
        "neg_log_loss",
        "accuracy",
        "r2",
        "neg_mean_squared_error",
        "neg_root_mean_squared_error",
        "neg_mean_absolute_error",
    ],
)
def test_vectorized_scorers_choose_as_the_scorer_does(scoring, seed):
    # Common scorer names are evaluated for all candidates at once; passing the scorer
    # object instead takes the one-call-per-candidate path. Both must pick the same models.
    rng = np.random.default_rng(seed)
    n_models, n = 6, 40
    if scoring in ("neg_log_loss", "accuracy"):
        y = np.r_[0, 1, 2, rng.integers(0, 3, n - 3)]
        P = rng.dirichlet(np.ones(3), size=(n_models, n))
    else:
        y = rng.normal(size=n)
        P = y + rng.normal(scale=rng.uniform(0.3, 2.0, size=(n_models, 1)), size=(n_models, n))
    fast = EnsembleSelection(15, scoring=scoring).fit(P, y)
    slow = EnsembleSelection(15, scoring=get_scorer(scoring)).fit(P, y)
    np.testing.assert_array_equal(fast.indices_, slow.indices_)
    np.testing.assert_array_equal(fast.trajectory_, slow.trajectory_)
    np.testing.assert_array_equal(fast.weights_, slow.weights_)
