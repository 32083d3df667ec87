"""run_study end to end on tiny budgets: outputs, StudyResult, the saved model, storages."""

import json
from pathlib import Path

import numpy as np
import optuna
import pytest

from automl import run_study
from automl._random import trial_seed
from automl.search import StudyExistsError, StudyResult, load_best_model
from automl.search._storage import JOURNAL_NAME
from tests.search.runner_helpers import tiny


def check_outputs(result: StudyResult, n_trials: int):
    out = result.output_dir
    for name in (
        "trials.csv",
        "epochs.csv",
        "best_params.json",
        "summary.json",
        "best_model.automl",
        "best_model.keras",
        "test_predictions.npz",
        "run.json",
        JOURNAL_NAME,
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_trials"] == n_trials == len(result.trials_dataframe())
    assert sum(summary["trials_by_state"].values()) == n_trials
    assert {"complete", "pruned", "fail"} <= set(summary["trials_by_state"])
    assert summary["best_value"] == result.best_value
    assert summary["test_score"] == pytest.approx(result.test_score)
    assert set(summary["wall_time_s"]) == {"optimize", "refit", "total"}
    assert summary["trial_time_s_sum"] > 0
    contract = {
        "study", "source", "dataset", "task", "metric", "direction", "engine", "best_value",
        "test_score", "best_trial", "best_trial_seed", "best_trial_params", "n_trials",
        "trials_by_state", "seed", "epochs", "n_jobs", "threads_per_worker", "split_sizes",
        "wall_time_s", "trial_time_s_sum",
    }  # fmt: skip
    assert contract <= set(summary)
    best_params = json.loads((out / "best_params.json").read_text())
    assert best_params["hidden_layer_sizes"] == list(result.best_params["hidden_layer_sizes"])
    trials_csv = (out / "trials.csv").read_text()
    header = trials_csv.splitlines()[0].split(",")
    assert "epoch_logs" not in trials_csv and "seed" in header
    assert 0.0 <= result.test_score <= 1.0


def test_tiny_study_in_process(tmp_path, capsys):
    result = run_study(tiny(tmp_path))
    check_outputs(result, 3)
    assert (result.output_dir / "report.html").is_file()
    assert isinstance(result.best_params["hidden_layer_sizes"], tuple)
    assert result.test_score > 0.5  # iris, 3 epochs: well above chance
    printed = capsys.readouterr().out
    assert "Validation accuracy" in printed and "Test accuracy" in printed
    for trial in result.study.trials:
        # A trial's seed depends only on the study seed and its number.
        assert trial.user_attrs["seed"] == trial_seed(0, trial.number)
        assert trial.user_attrs["worker"] == 0
        assert len(trial.user_attrs["epoch_logs"]["val_accuracy"]) == 3
    study_attrs = result.study.user_attrs
    assert study_attrs["dataset"] == "iris" and study_attrs["engine"] == "optuna"
    assert study_attrs["validation"] == "holdout" and study_attrs["objectives"] == ["accuracy"]


def test_epochs_table_has_a_row_per_trial_and_epoch(tmp_path):
    result = run_study(tiny(tmp_path), verbose=0, report=False)
    epochs = result.epochs_dataframe()
    assert len(epochs) == 3 * 3
    assert list(epochs.columns[:4]) == ["number", "state", "fold", "epoch"]
    assert {"loss", "val_loss", "val_accuracy", "learning_rate"} <= set(epochs.columns)
    assert epochs.groupby("number")["epoch"].apply(list).tolist() == [[0, 1, 2]] * 3
    on_disk = __import__("pandas").read_csv(result.output_dir / "epochs.csv")
    assert on_disk.shape == epochs.shape


def test_saved_model_predicts_identically(tmp_path):
    result = run_study(
        tiny(tmp_path, n_trials=2, preprocessing="standard"), verbose=0, report=False
    )
    out = result.output_dir
    preds = np.load(out / "test_predictions.npz")
    model = load_best_model(out)
    X_test = _iris_test_split(result)
    np.testing.assert_array_equal(model.predict(X_test), result.best_model.predict(X_test))
    np.testing.assert_array_equal(model.predict(X_test), preds["y_pred"])
    np.testing.assert_allclose(model.predict_proba(X_test), preds["proba"], rtol=0, atol=1e-12)
    assert list(preds["classes"]) == [0, 1, 2] and (preds["y_true"] == _iris_y_test(result)).all()
    # best_model.keras is the network alone: same probabilities on scaled inputs.
    from automl.keras.models import load_model

    network = load_model(out / "best_model.keras")
    scaled = model[:-1].transform(X_test)
    np.testing.assert_allclose(
        network.predict(scaled, verbose=0), preds["proba"], rtol=1e-4, atol=1e-5
    )


def _iris_split(result):
    from sklearn.model_selection import train_test_split

    from automl import datasets

    X, y = datasets.load("iris")
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def _iris_test_split(result):
    return _iris_split(result)[1]


def _iris_y_test(result):
    return _iris_split(result)[3]


def test_study_result_load_and_save(tmp_path):
    result = run_study(tiny(tmp_path, n_trials=2), verbose=0, report=False)
    loaded = StudyResult.load(result.output_dir)
    assert loaded.best_params == json.loads(json.dumps(_jsonable(result.best_params)))
    assert loaded.best_value == result.best_value and loaded.test_score == result.test_score
    assert [t.params for t in loaded.study.trials] == [t.params for t in result.study.trials]
    assert loaded.trials_dataframe().shape == result.trials_dataframe().shape
    X = _iris_test_split(result)
    np.testing.assert_array_equal(loaded.best_model.predict(X), result.best_model.predict(X))
    copy = loaded.save(tmp_path / "copy")
    again = StudyResult.load(copy)  # stands alone: the journal was copied
    assert len(again.study.trials) == 2 and again.best_model is not None
    assert "StudyResult(study='tiny'" in repr(again)


def _jsonable(params):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def test_existing_study_needs_resume_or_overwrite(tmp_path):
    spec = tiny(tmp_path, n_trials=2)
    run_study(spec, verbose=0, report=False)
    with pytest.raises(StudyExistsError, match="already exists.*automl resume.*--overwrite"):
        run_study(spec, verbose=0, report=False)
    assert len(StudyResult.load(tmp_path / "out").study.trials) == 2  # nothing deleted
    result = run_study(spec, overwrite=True, verbose=0, report=False)
    assert len(result.study.trials) == 2
    resumed = run_study({**spec, "n_trials": 3}, resume=True, verbose=0, report=False)
    assert [t.number for t in resumed.study.trials] == [0, 1, 2]


def test_outputs_of_another_run_are_not_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    with pytest.raises(StudyExistsError, match="holds the outputs of a previous run"):
        run_study(tiny(tmp_path), verbose=0, report=False)


def test_storage_url_and_study_name(tmp_path):
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    a = run_study(tiny(tmp_path, storage=url, study_name="a", n_trials=2), report=False)
    b = run_study(
        tiny(tmp_path, storage=url, study_name="b", n_trials=2, output=str(tmp_path / "b")),
        verbose=0,
        report=False,
    )
    assert not (a.output_dir / JOURNAL_NAME).exists()
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(url))
    assert names == ["a", "b"]
    # Another run naming study 'a' in that storage joins it: n_trials (3) is the total.
    joined = run_study(
        tiny(tmp_path, storage=url, study_name="a", output=str(tmp_path / "c")),
        verbose=0,
        report=False,
    )
    assert len(joined.study.trials) == 3 and joined.study.trials[0].number == 0
    assert sorted(s.study_name for s in optuna.get_all_study_summaries(url)) == ["a", "b"]
    assert StudyResult.load(b.output_dir).study.study_name == "b"


def test_no_completed_trial_is_an_error(tmp_path):
    # Every trial diverges (an unknown activation is now refused when the study is loaded).
    space = {"parameters": {"optimizer": "sgd", "learning_rate": 1.0e30, "batch_size": 16}}
    spec = tiny(tmp_path, n_trials=2, space=space)
    with pytest.raises(RuntimeError, match="No trial of study 'tiny' completed"):
        run_study(spec, verbose=0, report=False)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "no_complete_trial" and summary["trials_by_state"]["fail"] == 2


def test_relative_output_is_relative_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_study(tiny(tmp_path, output="runs/rel", n_trials=1), verbose=0, report=False)
    assert result.output_dir == tmp_path / "runs" / "rel"
    assert Path("runs/rel/summary.json").is_file()


def test_k_fold_study_and_epochs_per_fold(tmp_path):
    result = run_study(tiny(tmp_path, n_trials=2, validation={"kfold": 2}), verbose=0, report=False)
    assert result.summary["validation"] == "kfold:2"
    epochs = result.epochs_dataframe()
    assert sorted(epochs["fold"].unique()) == [0, 1]
    assert len(epochs) == 2 * 2 * 3  # trials x folds x epochs


def test_multi_objective_study(tmp_path):
    result = run_study(
        tiny(tmp_path, n_trials=3, second_objective="n_params", sampler="nsga2"),
        verbose=0,
        report=False,
    )
    assert result.study.directions == [
        optuna.study.StudyDirection.MAXIMIZE,
        optuna.study.StudyDirection.MINIMIZE,
    ]
    s = result.summary
    assert s["objectives"] == ["accuracy", "n_params"] and s["best_trial"] in s["pareto_front"]
    assert len(s["best_values"]) == 2 and result.test_score is not None


def test_sklearn_engine_study(tmp_path):
    spec = tiny(
        tmp_path,
        engine="sklearn",
        search="grid",
        sampler=None,
        pruner=None,
        epochs=2,
        validation={"kfold": 2},
        space={
            "parameters": {
                "hidden_layer_sizes": {"type": "categorical", "choices": [[8], [16]]},
                "learning_rate": 0.01,
            }
        },
    )
    result = run_study(spec, verbose=0, report=False)
    assert result.search is not None and len(result.study.trials) == 2
    assert result.summary["engine"] == "sklearn" and result.test_score is not None
    assert (result.output_dir / "best_model.automl").is_file()


def test_cmaes_sampler_study_runs(tmp_path):
    result = run_study(
        tiny(tmp_path, n_trials=4, sampler={"name": "cmaes", "n_startup_trials": 2}),
        verbose=0,
        report=False,
    )
    assert result.study.user_attrs["sampler"] == "cmaes"
    rates = [t.params["learning_rate"] for t in result.study.trials]
    assert len(set(rates)) == 4 and all(3e-3 <= r <= 3e-2 for r in rates)
