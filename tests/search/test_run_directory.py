"""RunDirectory: the files of a run's output directory, each written atomically."""

import numpy as np
import pytest

from automl.search import OUTPUT_FILES, RunDirectory, make_estimator, write_atomic


def test_json_files_round_trip_as_json(tmp_path):
    run = RunDirectory(tmp_path / "out")
    run.path.mkdir()
    run.write_summary({"best": np.float32(0.5), "sizes": (1, 2), "bad": float("nan")})
    run.write_run({"study_name": "s", "storage": tmp_path / "j"})
    run.write_best_params({"hidden_layer_sizes": (8, 8)})
    assert run.read_summary() == {"best": 0.5, "sizes": [1, 2], "bad": None}
    assert run.read_run() == {"study_name": "s", "storage": str(tmp_path / "j")}
    assert run.read_best_params() == {"hidden_layer_sizes": [8, 8]}
    assert run.outputs() == [run.RUN, run.SUMMARY, run.BEST_PARAMS]
    assert not list(run.path.glob(".*.tmp"))


def test_quiet_reads_of_missing_or_half_written_files(tmp_path):
    run = RunDirectory(tmp_path)
    assert run.read_summary(quiet=True) == {} and run.read_best_params() == {}
    (tmp_path / run.SUMMARY).write_text('{"best": 0.')
    assert run.read_summary(quiet=True) == {}
    with pytest.raises(ValueError):
        run.read_summary()
    assert run.read_test_predictions() is None


def test_remove_outputs_keeps_the_storage(tmp_path):
    run = RunDirectory(tmp_path)
    for name in (*OUTPUT_FILES, run.JOURNAL):
        (tmp_path / name).write_text("x")
    assert run.outputs() == list(OUTPUT_FILES)
    run.remove_outputs()
    assert run.outputs() == [] and run.journal.is_file()


def test_write_atomic_replaces_the_file_whole(tmp_path):
    path = write_atomic(tmp_path / "a" / "f.txt", "one")
    write_atomic(path, b"two")
    assert path.read_text() == "two" and sorted(p.name for p in path.parent.iterdir()) == ["f.txt"]


def test_best_model_and_test_predictions_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    model = make_estimator("classification", {"hidden_layer_sizes": (4,)}, epochs=2,
                           random_state=0).fit(X, y)
    run = RunDirectory(tmp_path)
    paths = run.write_model(model)
    assert set(paths) == {"archive", "keras"} and run.has(run.MODEL_KERAS)
    assert not run.has(run.MODEL_PICKLE)
    np.testing.assert_array_equal(run.load_model().predict_proba(X), model.predict_proba(X))
    arrays = run.write_test_predictions(model, X, y, "classification")
    loaded = run.read_test_predictions()
    assert sorted(loaded) == ["classes", "proba", "y_pred", "y_true"]
    for key, value in arrays.items():
        np.testing.assert_array_equal(loaded[key], value)
    with pytest.raises(FileNotFoundError, match="no saved best model"):
        RunDirectory(tmp_path / "none").load_model()
