"""baseline_estimators: the pipelines fit and score on the real tables (25% test split, seed 0)."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from automl.tabular import ColumnsDroppedWarning, TabularPreprocessor, baseline_estimators

# Test scores seen on scikit-learn 1.9.1 (75/25 split, random_state=0, stratified for
# classification); the thresholds sit a little below them.
EXPECTED = {
    ("titanic", "hist_gradient_boosting"): 0.75,  # accuracy 0.771
    ("titanic", "logistic_regression"): 0.77,  # accuracy 0.799
    ("penguins", "hist_gradient_boosting"): 0.95,  # accuracy 0.977
    ("penguins", "logistic_regression"): 0.95,  # accuracy 0.977
    ("ames", "hist_gradient_boosting"): 0.85,  # r2 0.885
    ("ames", "ridge"): 0.78,  # r2 0.827
}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # 2 cores shared by many processes: OpenMP threads in gradient boosting slow ~10x.
    with threadpool_limits(1):
        yield


@pytest.mark.parametrize("table, name", sorted(EXPECTED))
def test_baselines_on_real_tables(load_table, table, name):
    X, y = load_table(table)
    task = "regression" if table == "ames" else "classification"
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=stratify
    )
    model = baseline_estimators(task, random_state=0)[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColumnsDroppedWarning)
        model.fit(X_train, y_train)
    pred = model.predict(X_test)
    score = r2_score(y_test, pred) if task == "regression" else accuracy_score(y_test, pred)
    print(f"{table} {name}: {score:.4f}")
    assert score > EXPECTED[table, name]
    # The ID columns were dropped by the preprocessing inside the pipeline.
    treatments = model.named_steps["preprocess"].column_treatments_
    if "rownames" in treatments:
        assert treatments["rownames"]["treatment"] == "drop"


def test_structure_and_seeds():
    for task, names in [
        ("classification", ["hist_gradient_boosting", "logistic_regression"]),
        ("regression", ["hist_gradient_boosting", "ridge"]),
    ]:
        baselines = baseline_estimators(task, random_state=3)
        assert sorted(baselines) == names
        for pipe in baselines.values():
            assert isinstance(pipe, Pipeline)
            assert [s for s, _ in pipe.steps] == ["preprocess", "model"]
            assert isinstance(pipe.named_steps["preprocess"], TabularPreprocessor)
            clone(pipe)
        # Separate preprocessor objects (fitting one pipeline leaves the other alone).
        a, b = baselines.values()
        assert a.named_steps["preprocess"] is not b.named_steps["preprocess"]
        assert baselines["hist_gradient_boosting"].named_steps["model"].random_state == 3
    reg = baseline_estimators("regression")["ridge"].named_steps["preprocess"]
    assert reg.target_type == "continuous"


def test_logistic_regression_chooses_its_penalty(load_table):
    X, y = load_table("penguins")
    model = baseline_estimators("classification", random_state=0)["logistic_regression"]
    model.fit(X, y)
    assert np.ndim(model.named_steps["model"].C_) in (0, 1)


def test_bad_task():
    with pytest.raises(ValueError, match="'task' parameter of baseline_estimators"):
        baseline_estimators("ranking")
    with pytest.raises(ValueError, match="'random_state' parameter of baseline_estimators"):
        baseline_estimators("regression", random_state=-1)
