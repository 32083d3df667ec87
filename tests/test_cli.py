"""The automl command line: exit codes, one-line errors, run / resume / best / list."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from automl.cli import main

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "studies" / "digits_mlp.yaml"
TINY = ["--n-trials", "2", "--n-jobs", "1", "--epochs", "1", "--seed", "3", "--no-report"]


def test_missing_file_exit_code_2_one_line(tmp_path, capsys):
    code = main(["run", str(tmp_path / "missing.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().startswith(
        f"automl: error: {tmp_path / 'missing.yaml'}: study file not found (the shipped "
        "studies, run by name: [")
    assert "'digits_mlp'" in err and len(err.strip().splitlines()) == 1


def test_a_shipped_study_runs_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "digits_mlp", *TINY, "--output", "out", "--quiet"]) == 0
    assert (tmp_path / "out" / "best_model.automl").is_file()


def test_bad_spec_exit_code_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("dataset: nope\nspace: mlp.yaml\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"automl: error: {path}: key 'dataset': unknown dataset 'nope'")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_usage_error_exit_code_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", str(STUDY), "--n-trials", "0"])
    assert exc.value.code == 2
    assert "--n-trials: expected an integer >= 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("option, value, expected", [
    ("--epochs", "abc", "argument --epochs: expected an integer >= 1, got 'abc'"),
    ("--seed", "1.5", "argument --seed: expected an integer >= 0, got '1.5'"),
    ("--n-jobs", "x", "argument --n-jobs: expected an integer >= 1 or -1, got 'x'"),
    ("--timeout", "soon", "argument --timeout: expected a number > 0, got 'soon'"),
])
def test_malformed_numbers_say_what_was_expected(option, value, expected, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", str(STUDY), option, value])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and expected in err and "_positive_int" not in err


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A 2-trial digits study run through the CLI (shared by the tests below)."""
    out = tmp_path_factory.mktemp("cli") / "run"
    code = main(["run", str(STUDY), *TINY, "--output", str(out), "--timeout", "120"])
    assert code == 0
    return out


def test_run_writes_the_outputs(finished, capsys):
    summary = json.loads((finished / "summary.json").read_text())
    assert summary["n_trials"] == 2 and summary["seed"] == 3 and summary["epochs"] == 1
    assert (finished / "best_model.automl").is_file() and not (finished / "report.html").exists()
    assert not (finished / "best_model.pkl").exists()  # pickles only on request


def test_run_again_needs_overwrite_or_resume(finished, capsys):
    code = main(["run", str(STUDY), *TINY, "--output", str(finished)])
    err = capsys.readouterr().err
    assert code == 2 and "already exists" in err and f"automl resume {finished}" in err
    assert len(err.strip().splitlines()) == 1


def test_overwrite_and_resume(tmp_path, capsys):
    from tests.search.runner_helpers import tiny

    study = tmp_path / "tiny.yaml"
    study.write_text(json.dumps(tiny(tmp_path, epochs=1)))  # JSON is YAML
    out = tmp_path / "run"
    assert main(["run", str(study), *TINY, "--output", str(out), "-q"]) == 0
    assert main(["run", str(study), *TINY, "--output", str(out), "--overwrite", "-q"]) == 0
    assert main(["resume", str(out), "--n-trials", "3", "--no-report", "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_trials"] == 3
    assert main(["resume", str(tmp_path / "nowhere")]) == 2
    assert "study file not found" in capsys.readouterr().err


def test_best(finished, capsys):
    assert main(["best", str(finished)]) == 0
    out = capsys.readouterr().out
    assert "Best trial #" in out and "Validation accuracy:" in out and "Test accuracy:" in out
    assert f"Model: {finished / 'best_model.automl'}" in out and "runs no code" in out
    assert "pickle" not in out
    assert main(["best", str(finished.parent / "missing")]) == 2


def test_export_onnx_takes_raw_rows_and_predicts_as_the_best_model(finished, capsys):
    ort = pytest.importorskip("onnxruntime")
    import numpy as np
    from sklearn.datasets import load_digits

    from automl.search import load_best_model

    assert main(["export", str(finished)]) == 0
    path = finished / "best_model.onnx"
    assert f"Wrote the best pipeline (preprocessing included) to {path}" in capsys.readouterr().out
    X = load_digits().data[:40].astype(np.float32)  # raw pixel values: the scaling is in the file
    best = load_best_model(finished)
    session = ort.InferenceSession(str(path))
    proba, label = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_allclose(proba, best.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(label, best.predict(X))


def test_export_keras_writes_the_network_in_keras_format(finished, tmp_path, capsys):
    import zipfile

    from automl.keras.models import load_model

    target = tmp_path / "net.keras"
    assert main(["export", str(finished), "--format", "keras", "--output", str(target)]) == 0
    assert "Wrote the network to" in capsys.readouterr().out
    assert {"config.json", "metadata.json", "model.weights.h5"} <= set(zipfile.ZipFile(target).namelist())
    assert load_model(target).count_params() > 0


def test_export_errors_are_one_line(finished, tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "best_model.automl: not found" in err and len(err.strip().splitlines()) == 1
    assert main(["export", str(finished), "--output", str(tmp_path)]) == 2  # a directory
    err = capsys.readouterr().err
    assert "is a directory" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["export", str(finished), "--format", "tflite"])
    assert "invalid choice: 'tflite'" in capsys.readouterr().err


def test_list_trials_studies_and_runs(finished, capsys, monkeypatch):
    assert main(["list", str(finished)]) == 0
    out = capsys.readouterr().out
    assert "Study 'digits_mlp': 2 trials" in out and "complete" in out
    assert main(["list", "--storage", str(finished / "study.journal")]) == 0
    assert "digits_mlp" in capsys.readouterr().out
    assert main(["list", str(finished / "study.journal"), "--study-name", "digits_mlp"]) == 0
    assert "2 trials" in capsys.readouterr().out
    monkeypatch.chdir(finished.parent.parent)
    runs = finished.parent.parent / "runs"
    runs.mkdir(exist_ok=True)
    (runs / "x").symlink_to(finished)
    assert main(["list"]) == 0
    assert "runs/x" in capsys.readouterr().out


def test_reports_subcommands_are_available():
    from automl.cli import build_parser

    choices = build_parser()._subparsers._group_actions[0].choices
    assert {"run", "resume", "best", "list"} <= set(choices)


def test_python_dash_m_missing_file(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "automl", "run", str(tmp_path / "x.yaml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("automl: error: ") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("content, expected", [
    ('{"study": "x", "best_tr', "not valid JSON"),
    ("[1, 2]", "expected a JSON object, got list"),
])
def test_best_on_a_corrupt_summary_is_one_line(tmp_path, capsys, content, expected):
    (tmp_path / "summary.json").write_text(content)
    assert main(["best", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'summary.json'}: {expected}" in err and len(err.strip().splitlines()) == 1


def test_best_says_a_pickle_runs_code(finished, tmp_path, capsys):
    import shutil

    from automl.search import load_best_model, save_best_model

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    save_best_model(load_best_model(copy), copy, pickle=True)
    assert main(["best", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "best_model.pkl is a pickle: loading it runs code" in out and "trusted source" in out
    (copy / "best_model.automl").unlink()
    assert main(["best", str(copy)]) == 0
    assert "allow_pickle=True" in capsys.readouterr().out


@pytest.mark.parametrize("args", [
    ["list", "--storage", "{tmp}/new/x.journal"],
    ["list", "--storage", "{tmp}/new/x.journal", "--study-name", "s"],
    ["list", "--storage", "sqlite:///{tmp}/new.db"],
    ["list", "--storage", "{tmp}"],
])
def test_list_is_a_read_command_and_creates_nothing(tmp_path, capsys, args):
    before = sorted(tmp_path.rglob("*"))
    assert main([a.replace("{tmp}", str(tmp_path)) for a in args]) == 2
    err = capsys.readouterr().err
    assert "reading creates nothing" in err and len(err.strip().splitlines()) == 1
    assert sorted(tmp_path.rglob("*")) == before
