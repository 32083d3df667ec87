"""load_study_data: output dirs, journals, URLs, studies and results; read-only and live."""

import json
from types import SimpleNamespace

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from automl.reports import StudyData, load_study_data, trials_table
from tests.reports._studies import Y_TRUE, journal_storage


def test_output_dir(study_dir):
    data = load_study_data(study_dir)
    assert isinstance(data, StudyData)
    assert data.name == "demo" and data.output_dir == study_dir
    assert len(data.trials()) == 9
    assert data.summary["best_trial"] == 5
    assert (data.task, data.metric, data.directions) == ("classification", "accuracy", ["maximize"])
    assert data.objectives == ["accuracy"]
    assert data.max_epochs == 4 and not data.is_kfold and not data.is_multi_objective
    np.testing.assert_array_equal(data.test_predictions["y_true"], Y_TRUE)
    assert list(data.test_predictions["classes"]) == ["a", "b", "c"]


def test_read_only_and_live(study_dir):
    journal = study_dir / "study.journal"
    before = journal.read_bytes()
    data = load_study_data(study_dir)
    trials_table(data)
    with pytest.raises(PermissionError):
        data.study.set_user_attr("x", 1)
    assert journal.read_bytes() == before
    assert sorted(p.name for p in study_dir.iterdir()) == [
        "study.journal", "summary.json", "test_predictions.npz"
    ]  # fmt: skip

    # Another process keeps running the study: the loaded data sees the new trial.
    writer = optuna.load_study(study_name="demo", storage=journal_storage(journal))
    running = writer.ask()
    table = trials_table(data)
    assert len(table) == 10
    assert table.loc[table["number"] == running.number, "state"].item() == "running"
    writer.tell(running, 0.95)
    assert data.trials()[-1].state == TrialState.COMPLETE

    # A line still being written (no newline yet) is left for later, not an error.
    with open(journal, "ab") as f:
        f.write(b'{"op_code": 4, "worker_id"')
    assert len(load_study_data(study_dir).trials()) == 10


def test_sources(study_dir, classification_study):
    # A journal file path, a StudyResult-like object and an optuna.Study.
    by_path = load_study_data(study_dir / "study.journal")
    assert by_path.output_dir is None and len(by_path.trials()) == 9
    assert by_path.task == "classification"  # from the study's user attrs

    result = SimpleNamespace(study=classification_study, output_dir=study_dir)
    data = load_study_data(result)
    assert data.study is classification_study and data.summary["test_score"] == 0.7
    assert data.test_predictions is not None

    data = load_study_data(classification_study)
    assert data.summary == {} and data.test_predictions is None
    assert load_study_data(data) is data


def test_storage_from_summary(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = optuna.create_study(study_name="sql", storage=url, direction="minimize")
    study.add_trial(optuna.trial.create_trial(value=1.0))
    (out / "summary.json").write_text(json.dumps({"study": "sql", "storage": url}))
    data = load_study_data(out)
    assert data.directions == ["minimize"] and len(data.trials()) == 1
    assert data.metric == "value" and data.task is None


def test_storage_from_run_json_and_moved_dirs(tmp_path, study_dir):
    # A running study: no summary.json yet, run.json says where the storage is.
    out = tmp_path / "live"
    out.mkdir()
    journal = tmp_path / "elsewhere.journal"
    study = optuna.create_study(study_name="live", storage=journal_storage(journal))
    optuna.create_study(study_name="other", storage=journal_storage(journal))
    study.add_trial(optuna.trial.create_trial(value=1.0))
    (out / "run.json").write_text(json.dumps({"study_name": "live", "storage": str(journal)}))
    data = load_study_data(out)
    assert data.name == "live" and len(data.trials()) == 1 and data.summary == {}

    # A directory copied elsewhere: the recorded absolute journal path is gone.
    summary = json.loads((study_dir / "summary.json").read_text())
    summary["storage"] = str(tmp_path / "gone" / "study.journal")
    (study_dir / "summary.json").write_text(json.dumps(summary))
    assert len(load_study_data(study_dir).trials()) == 9


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="study.journal"):
        load_study_data(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_study_data(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="SQLite"):
        load_study_data(f"sqlite:///{tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(TypeError, match="'source' parameter of load_study_data"):
        load_study_data(42)
    empty = tmp_path / "empty.journal"
    empty.write_text("")
    with pytest.raises(ValueError, match="no study"):
        load_study_data(empty)


def test_task_inferred_without_attrs(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    optuna.create_study(study_name="old", storage=journal_storage(out / "study.journal"))
    np.savez(out / "test_predictions.npz", y_true=np.arange(4.0), y_pred=np.arange(4.0))
    data = load_study_data(out)
    assert data.task == "regression" and data.metric == "value"
    assert data.directions == ["minimize"]
