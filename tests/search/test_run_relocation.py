"""Run directories that are what they say: a copied or moved run works on itself."""

import hashlib
import json
import shutil
import warnings

import pytest
from optuna.trial import TrialState

from automl import resume_study, run_study
from automl.reports import load_study_data
from automl.search import RunDirectory, StudyResult, load_best_model
from tests.search.runner_helpers import tiny
from tests.search.test_runner_faults import HERE, faulty


def _digest(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def interrupted(tmp_path, monkeypatch):
    """An output directory whose run was interrupted after one of 3 trials."""
    monkeypatch.syspath_prepend(str(HERE))
    faults = tmp_path / "faults"
    faults.mkdir()
    monkeypatch.setenv("AUTOML_FAULT_DIR", str(faults))
    monkeypatch.setenv("AUTOML_FAULT", "interrupt@2")
    with pytest.raises(KeyboardInterrupt):
        run_study(faulty(tmp_path, n_trials=3, epochs=2), verbose=0, report=False)
    monkeypatch.delenv("AUTOML_FAULT")
    return tmp_path / "out"


def test_a_copy_resumes_on_itself_and_leaves_the_original_unchanged(tmp_path, interrupted):
    before = _digest(interrupted)
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(interrupted, copy)
    record = json.loads((copy / "run.json").read_text())
    assert record["storage"] == "./study.journal" and record["spec"]["output"] == "."

    result = resume_study(copy, verbose=0, report=False)
    assert result.output_dir == copy
    assert result.summary["trials_by_state"]["complete"] == 3
    assert _digest(interrupted) == before  # byte for byte
    # best, report and dashboard read the copy's own files and journal.
    loaded = StudyResult.load(copy)
    assert len(loaded.study.trials) == 4
    # the study's own builder is named by the saved model: loading it trusts that module
    assert load_best_model(copy, trusted=["runner_helpers.mlp"]) is not None
    assert len(load_study_data(copy).study.trials) == 4
    assert len(load_study_data(interrupted).study.trials) == 3


def test_a_moved_run_continues_the_same_study(tmp_path, interrupted):
    first = StudyResult.load(interrupted).study.trials[0]
    moved = tmp_path / "moved"
    shutil.move(interrupted, moved)
    result = resume_study(moved, verbose=0, report=False)
    trials = result.study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL,
                                         TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials[0].datetime_start == first.datetime_start  # kept, not run again
    assert not interrupted.exists()


def test_an_old_run_json_with_absolute_paths_is_moved_along(tmp_path, interrupted):
    run = RunDirectory(interrupted)
    record = run.read_run()  # absolute paths, and no "directory": as before
    assert record["storage"] == str(interrupted / "study.journal")
    (interrupted / "run.json").write_text(json.dumps(record))
    moved = tmp_path / "moved"
    shutil.move(interrupted, moved)
    assert RunDirectory(moved).read_run()["storage"] == str(moved / "study.journal")
    result = resume_study(moved, verbose=0, report=False)
    assert result.summary["trials_by_state"]["complete"] == 3
    assert not interrupted.exists()


def test_a_copy_sharing_a_database_with_its_original_is_warned_about(tmp_path):
    original, copy = tmp_path / "a", tmp_path / "b"
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    RunDirectory(original).write_run({"study_name": "s", "storage": url,
                                      "spec": {"output": str(original), "storage": url}})
    shutil.copytree(original, copy)
    with pytest.warns(UserWarning, match=f"{copy} is a copy of {original}: both use the study "
                                         f"'s' in {url}"):
        assert RunDirectory(copy).read_run()["storage"] == url
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RunDirectory(original).read_run()
        RunDirectory(copy).read_run(quiet=True)


def test_a_database_inside_the_run_directory_moves_with_it(tmp_path):
    original, copy = tmp_path / "a", tmp_path / "b"
    url = f"sqlite:///{original / 'study.db'}"
    RunDirectory(original).write_run({"study_name": "s", "storage": url})
    assert json.loads((original / "run.json").read_text())["storage"] == "sqlite:///./study.db"
    shutil.copytree(original, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RunDirectory(copy).read_run()["storage"] == f"sqlite:///{copy / 'study.db'}"


def test_data_files_inside_the_run_directory_are_recorded_relative(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    rows = ["a,b,label"] + [f"{i % 7},{i % 3},{i % 2}" for i in range(60)]
    (out / "data.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    spec = tiny(tmp_path, n_trials=1, epochs=1, dataset={"csv": "out/data.csv", "target": "label"})
    run_study(spec, verbose=0, report=False)
    record = json.loads((out / "run.json").read_text())
    assert record["spec"]["dataset"]["csv"] == "./data.csv"
    moved = tmp_path / "moved"
    shutil.move(out, moved)
    assert RunDirectory(moved).read_run()["spec"]["dataset"]["csv"] == str(moved / "data.csv")
    result = resume_study(moved, verbose=0, report=False, n_trials=2)
    assert result.summary["trials_by_state"]["complete"] == 2
