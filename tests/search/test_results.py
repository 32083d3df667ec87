"""Output tables and StudyResult on hand-made studies (no training)."""

import math

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from automl.search import (
    RunDirectory,
    StudyResult,
    epochs_table,
    jsonable,
    load_best_model,
    save_best_model,
    trials_table,
)


def _study(*trials):
    study = optuna.create_study(direction="maximize")
    for t in trials:
        study.add_trial(t)
    return study


def _trial(value, state=TrialState.COMPLETE, **attrs):
    return create_trial(
        state=state,
        value=value if state == TrialState.COMPLETE else None,
        params={"lr": 0.01},
        distributions={"lr": FloatDistribution(1e-3, 1e-1, log=True)},
        user_attrs=attrs,
    )


def test_epochs_table_holdout_and_kfold_rows():
    holdout = {"loss": [1.0, 0.5], "val_accuracy": [0.5, None], "learning_rate": [0.1, 0.05]}
    fold0 = {"loss": [2.0], "val_loss": [1.5]}
    fold1 = {"loss": [1.8], "val_loss": [float("nan")]}
    study = _study(
        _trial(0.7, epoch_logs=holdout),
        _trial(None, TrialState.PRUNED, epoch_logs=fold0, fold_epoch_logs=[fold0, fold1]),
        _trial(None, TrialState.FAIL, error="RuntimeError: x"),
    )
    table = epochs_table(study)
    columns = list(table.columns)
    assert columns[:4] == ["number", "state", "fold", "epoch"] and columns[-1] == "learning_rate"
    assert set(columns[4:-1]) == {"loss", "val_accuracy", "val_loss"}
    assert table[["number", "fold", "epoch"]].values.tolist() == [
        [0, 0, 0], [0, 0, 1], [1, 0, 0], [1, 1, 0],
    ]  # fmt: skip
    assert table["state"].tolist() == ["complete", "complete", "pruned", "pruned"]
    assert math.isnan(table.loc[1, "val_accuracy"]) and math.isnan(table.loc[3, "val_loss"])
    assert table.loc[1, "learning_rate"] == 0.05 and math.isnan(table.loc[2, "learning_rate"])


def test_epochs_table_of_a_study_without_logs():
    table = epochs_table(_study(_trial(0.5)))
    assert table.empty and list(table.columns)[:4] == ["number", "state", "fold", "epoch"]


def test_trials_table_drops_logs_and_adds_seconds():
    study = _study(_trial(0.7, seed=3, epoch_logs={"loss": [1.0]}, fold_epoch_logs=[{}]))
    table = trials_table(study)
    assert not [c for c in table.columns if "epoch_logs" in c]
    assert {"number", "value", "param_lr", "seed", "state", "duration_s"} <= set(table.columns)
    assert trials_table(optuna.create_study()).empty


def test_jsonable_and_atomic_write(tmp_path):
    value = {"a": (1, 2), "b": np.float32(0.5), "c": float("inf"), "d": np.arange(2), 3: None}
    assert jsonable(value) == {"a": [1, 2], "b": 0.5, "c": None, "d": [0, 1], "3": None}
    RunDirectory(tmp_path).write_summary(value)
    assert (tmp_path / "summary.json").read_text().startswith("{\n")
    assert not list(tmp_path.glob(".*.tmp"))


def test_load_needs_a_summary(tmp_path):
    with pytest.raises(FileNotFoundError, match="no study results"):
        StudyResult.load(tmp_path)


def test_reading_the_study_of_a_directory_without_journal_creates_nothing(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    RunDirectory(out).write_summary({"study": "x", "n_trials": 1})
    result = StudyResult.load(out)
    with pytest.raises(FileNotFoundError, match="reading creates nothing"):
        result.study  # noqa: B018 - the lazy study is the point
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]


def test_save_best_model_of_a_plain_object(tmp_path):
    # Plain data is saved as an archive; best_model.keras only when there is a network.
    paths = save_best_model({"not": "a model"}, tmp_path)
    assert set(paths) == {"archive"} and not (tmp_path / "best_model.keras").exists()
    assert load_best_model(tmp_path) == {"not": "a model"}


def test_a_model_outside_the_archive_is_saved_only_as_an_opted_in_pickle(tmp_path):
    from collections import OrderedDict  # not a trusted class

    with pytest.warns(UserWarning, match="collections.OrderedDict .*pickle_best_model: true"):
        assert save_best_model(OrderedDict(a=1), tmp_path) == {}
    assert not list(tmp_path.iterdir())
    with pytest.warns(UserWarning, match="not written"):
        paths = save_best_model(OrderedDict(a=1), tmp_path, pickle=True)
    assert set(paths) == {"pickle"}
    with pytest.raises(ValueError, match="only as a pickle, which runs code when loaded"):
        load_best_model(tmp_path)
    assert load_best_model(tmp_path, allow_pickle=True) == OrderedDict(a=1)


def test_pickle_best_model_is_an_explicit_opt_in(tmp_path):
    from automl import run_study
    from automl.search import SpecError, load_spec
    from tests.search.runner_helpers import tiny

    with pytest.raises(SpecError, match="key 'pickle_best_model': must be true or false"):
        load_spec(tiny(tmp_path, pickle_best_model="yes"))
    result = run_study(tiny(tmp_path, n_trials=1, epochs=1, pickle_best_model=True),
                       verbose=0, report=False)
    run = result.run_directory
    assert run.has(run.MODEL_ARCHIVE) and run.has(run.MODEL_PICKLE)
    reloaded = StudyResult.load(run.path).best_model  # from the archive, not the pickle
    assert type(reloaded).__name__ == type(result.best_model).__name__


def test_a_study_with_its_own_builder_loads_only_when_trusted(tmp_path):
    from automl import run_study
    from tests.search.runner_helpers import TINY_SPACE, tiny

    space = {"parameters": {k: v for k, v in TINY_SPACE["parameters"].items()
                            if k != "hidden_layer_sizes"}}
    result = run_study(tiny(tmp_path, n_trials=1, epochs=1, model="tests.search.runner_helpers:mlp",
                            space=space), verbose=0, report=False)
    out = result.output_dir
    name = "tests.search.runner_helpers.mlp"
    with pytest.raises(ValueError, match=f"refusing to load the function '{name}'"):
        load_best_model(out)
    model = load_best_model(out, trusted=[name])
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(model.predict(X), result.best_model.predict(X))
