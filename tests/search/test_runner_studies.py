"""The shipped studies: each loads, and each (but the MNIST ones) runs end to end."""

from pathlib import Path

import pytest

from automl import run_study
from automl.search import load_spec

STUDIES = sorted((Path(__file__).resolve().parents[2] / "studies").glob("*.yaml"))
NEEDS_DATA_FILES = {"mnist_mlp", "fashion_mnist_cnn"}


def test_the_expected_studies_are_shipped():
    names = {p.stem for p in STUDIES}
    assert {
        "digits_mlp",
        "breast_cancer_mlp",
        "diabetes_mlp",
        "digits_grid",
        "mnist_mlp",
        "fashion_mnist_cnn",
    } <= names


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_study_loads(path):
    spec = load_spec(path)
    assert spec.name == path.stem and spec.n_trials >= 1
    if path.stem == "digits_mlp":  # the quick start: README promises this budget
        assert spec.n_trials >= 50 and spec.n_jobs == 2


@pytest.mark.parametrize(
    "path", [p for p in STUDIES if p.stem not in NEEDS_DATA_FILES], ids=lambda p: p.stem
)
def test_study_runs(path, tmp_path):
    result = run_study(
        path, n_trials=2, epochs=1, n_jobs=1, output=str(tmp_path), verbose=0, report=False
    )
    assert result.summary["trials_by_state"]["complete"] >= 1
    assert result.test_score is not None and (tmp_path / "best_model.automl").is_file()
