"""Studies on tables: data given in memory, ``preprocessing: auto``, standardized targets."""

import numpy as np
import pandas as pd
import pytest

import automl
from automl import search
from automl.search import SpecError, StudyPlan, load_spec
from automl.tabular import StandardizedTargetRegressor, TabularPreprocessor

from .conftest import TABLES, tabular_dir

SPACE = {"parameters": {"hidden_layer_sizes": [8], "batch_size": 64, "learning_rate": 0.01}}


def _study(tmp_path, **extra):
    return {"epochs": 2, "n_trials": 2, "n_jobs": 1, "seed": 0, "space": SPACE,
            "output": str(tmp_path / "out"), **extra}


def test_a_dataframe_with_text_and_missing_values_runs_in_memory(load_table, tmp_path, capsys):
    X, y = load_table("titanic")
    result = search.run_study(_study(tmp_path), X=X, y=y)
    model = result.best_model
    assert isinstance(model[0], TabularPreprocessor) and model.named_steps["preprocess"]
    assert set(model.classes_) == {"yes", "no"}
    assert result.test_score > 0.5
    treatments = pd.read_csv(tmp_path / "out" / "preprocessing.csv")
    assert dict(zip(treatments["column"], treatments["treatment"])) == {
        "rownames": "drop", "sex": "onehot", "age": "numeric", "passengerClass": "onehot"}
    printed = capsys.readouterr().out
    assert "rownames      drop" in printed and "ID-like" in printed
    assert result.summary["dataset"] == "in_memory"
    # The saved pipeline predicts raw rows (text, missing ages) in the original labels.
    assert set(search.load_best_model(tmp_path / "out").predict(X.head(20))) <= {"yes", "no"}


def test_preprocessing_is_fitted_on_the_training_part_only():
    # Column "a" is complete in the training rows and missing in every validation row: a
    # preprocessor fitted on both would add a missing-indicator input to the network.
    rng = np.random.default_rng(0)
    X_train = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    X_val = pd.DataFrame({"a": [np.nan] * 20, "b": rng.normal(size=20)})
    y_train, y_val = (X_train["b"] > 0).astype(int).to_numpy(), np.arange(20) % 2
    spec = load_spec({"dataset": "iris", "space": SPACE, "epochs": 1, "preprocessing": "auto"})
    plan = StudyPlan.from_spec(spec)
    objective = search.Objective.from_spec(
        spec, study_seed=0, X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val,
        make_estimator=plan.make_estimator)
    import optuna

    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    n_params = study.trials[0].user_attrs["n_params"]
    assert n_params == (2 + 1) * 8 + (8 + 1) * 1  # 2 inputs (not 3), one sigmoid output


def test_a_csv_study_with_text_categories_and_no_space(tmp_path):
    folder = tabular_dir()
    if folder is None:
        pytest.skip("the shared tabular datasets are absent")
    file, target = TABLES["penguins"]
    study = tmp_path / "penguins.yaml"
    study.write_text(f"dataset: {{csv: {folder / file}, target: {target}}}\n")
    spec = load_spec(study, n_trials=1, epochs=2, n_jobs=1, output=str(tmp_path / "out"))
    assert spec.preprocessing == "auto" and spec.space.source.endswith("mlp.yaml")
    result = automl.run_study(spec, verbose=0, report=False)
    assert result.test_score > 0.3
    assert isinstance(result.best_model[0], TabularPreprocessor)
    # Other preprocessing cannot take the text columns: the error says what to use.
    with pytest.raises(SpecError, match=r"not numeric; use 'preprocessing: auto'"):
        load_spec(study, preprocessing="standard")


def test_numpy_arrays_and_string_labels(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + X[:, 1] > 0, "pos", "neg")
    result = search.run_study(_study(tmp_path), X=X, y=y, verbose=0)
    assert set(result.best_model.predict(X[:10])) <= {"pos", "neg"}
    assert result.spec.preprocessing == "auto" and result.spec.task == "classification"


def test_regression_targets_are_standardized_in_the_pipeline(tmp_path):
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    result = search.run_study(_study(tmp_path, epochs=20), X=X, y=y, verbose=0)
    model = result.best_model
    assert isinstance(model[-1], StandardizedTargetRegressor)
    pred = model.predict(X.iloc[:200])
    assert 100 < pred.mean() < 200  # original units (y: 25..346, mean 152)
    assert result.test_score > 0.2
    spec = load_spec({"dataset": "diabetes", "space": SPACE, "standardize_target": False})
    assert not spec.standardize_target
    assert not isinstance(StudyPlan.from_spec(spec).make_estimator({}, 0)[-1],
                          StandardizedTargetRegressor)


def test_a_dataframe_reaches_worker_processes(load_table, tmp_path):
    X, y = load_table("penguins")
    result = search.run_study(_study(tmp_path, n_jobs=2), X=X, y=y, verbose=0)
    assert result.summary["trials_by_state"]["complete"] == 2
    assert result.summary["n_jobs"] == 2


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"X": np.zeros((3, 2))}, TypeError, "takes the data as both X and y; got only X"),
        ({"X": np.zeros((3, 2)), "y": [0, 1]}, SpecError, r"'y' argument of run_study must "
                                                         r"have shape \(3,\)"),
        ({"X": np.zeros(3), "y": [0, 1, 0]}, SpecError, "'X' argument of run_study must be an "
                                                       "array of shape"),
        ({"X": np.zeros((3, 2)), "y": [0.0, np.nan, 1.0]}, SpecError, "1 missing value"),
    ],
)
def test_bad_in_memory_data(kwargs, error, match):
    with pytest.raises(error, match=match):
        search.run_study({"space": SPACE}, **kwargs)


def test_a_dataset_key_and_in_memory_data_conflict():
    with pytest.raises(SpecError, match="key 'dataset' .'iris'. and data given in memory"):
        search.run_study({"dataset": "iris"}, X=np.zeros((4, 2)), y=[0, 1, 0, 1])


def _is_mapped(array) -> bool:
    import mmap

    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def test_large_dataframes_reach_workers_with_their_numeric_columns_memory_mapped(tmp_path):
    import pickle

    rng = np.random.default_rng(0)
    n = 70_000  # 2 float64 columns: > 1 MB
    X = pd.DataFrame({"a": rng.normal(size=n), "city": rng.choice(["x", "y", None], size=n),
                      "b": rng.integers(0, 5, size=n)}, index=rng.permutation(n))
    y = (X["a"] > 0).to_numpy()
    spec = load_spec({"dataset": "iris", "space": SPACE, "epochs": 1, "preprocessing": "auto"})
    objective = search.Objective.from_spec(spec, study_seed=0, X_train=X, y_train=y,
                                           X_val=X.iloc[:10], y_val=y[:10])
    mapped = pickle.loads(pickle.dumps(objective.memory_mapped(tmp_path)))
    frame = mapped.X_train
    assert frame.equals(X) and frame.index.equals(X.index) and frame.dtypes.equals(X.dtypes)
    assert _is_mapped(frame["a"].to_numpy()) and _is_mapped(frame["b"].to_numpy())
    assert not _is_mapped(X["a"].to_numpy())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X_train.0.npy", "X_train.2.npy"]
    assert mapped.X_val is objective.X_val or len(mapped.X_val) == 10  # small: pickled


def test_a_study_on_data_in_memory_resumes_with_the_data_given_again(load_table, tmp_path):
    X, y = load_table("penguins")
    search.run_study(_study(tmp_path, n_trials=1), X=X, y=y, verbose=0)
    with pytest.raises(SpecError, match=r"missing required key 'dataset' \(or give the data"):
        search.resume_study(tmp_path / "out", n_trials=2, verbose=0)
    result = search.resume_study(tmp_path / "out", X=X, y=y, n_trials=2, verbose=0)
    assert result.summary["trials_by_state"]["complete"] == 2


def test_test_size_zero_leaves_no_test_split(tmp_path):
    X, y = np.random.default_rng(0).normal(size=(60, 2)), np.arange(60) % 2
    result = search.run_study(_study(tmp_path, n_trials=1, test_size=0), X=X, y=y, verbose=0)
    assert result.test_score is None and result.summary["split_sizes"]["test"] == 0
    assert result.summary["split_sizes"]["train"] + result.summary["split_sizes"]["val"] == 60


def test_the_sklearn_engine_trains_on_the_raw_target():
    spec = {"dataset": "diabetes", "engine": "sklearn", "space": SPACE}
    assert not load_spec(spec).standardize_target
    with pytest.raises(SpecError, match="'standardize_target': is a setting of engine 'optuna'"):
        load_spec({**spec, "standardize_target": True})
