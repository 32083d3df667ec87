"""compare.html: optimization histories and best scores of several studies."""

import json
import re

import numpy as np
import optuna
import pytest
from plotly.offline import get_plotlyjs

from automl.reports._compare import (
    COMPARE_NAME,
    compare_figures,
    compare_studies,
    comparison_table,
)
from tests.reports.test_dashboard_support import make_study_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    tpe = make_study_dir(root / "tpe", sampler="tpe", offset=0.02)
    rnd = make_study_dir(root / "random", sampler="random", n_complete=4)
    return tpe, rnd


def test_page(runs, tmp_path):
    path = compare_studies(list(runs), tmp_path / "cmp.html")
    text = path.read_text(encoding="utf-8")
    assert text.count(get_plotlyjs()) == 1
    rest = text.replace(get_plotlyjs(), "")
    assert not re.search(r"<script[^>]+src=", rest) and not re.search(r"https?://", rest)
    for title in (
        "Optimization histories",
        "Best scores",
        "Best so far over time",
        "Trials by state",
    ):
        assert f'data-panel="{title}"' in text and f"<h2>{title}</h2>" in text
    assert 'id="studies-table"' in text and 'data-sortable="true"' in text
    assert "Comparing 2 studies" in text
    payload = json.loads(re.search(r'id="automl-figures">(.*?)</script>', text, re.S).group(1))
    assert len(payload) == 4


def test_histories_overlay_best_so_far(runs):
    fig = compare_figures(list(runs))["Optimization histories"]
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.name for t in lines] == ["tpe", "random"]
    for line, run in zip(lines, runs):
        summary = json.loads((run / "summary.json").read_text())
        y = np.asarray(line.y, dtype=float)
        assert np.all(np.diff(y) >= 0)  # best so far, maximized
        assert y[-1] == pytest.approx(summary["best_value"])
        assert len(y) == summary["trials_by_state"]["complete"]
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [len(t.y) for t in markers] == [len(t.y) for t in lines]


def test_best_and_test_scores(runs):
    bars = compare_figures(list(runs))["Best scores"]
    by_name = {t.name: t for t in bars.data}
    summaries = [json.loads((r / "summary.json").read_text()) for r in runs]
    assert list(by_name["best validation"].x) == ["tpe", "random"]
    assert list(by_name["best validation"].y) == pytest.approx([s["best_value"] for s in summaries])
    assert list(by_name["test (refit best)"].y) == pytest.approx(
        [s["test_score"] for s in summaries]
    )
    table = comparison_table(list(runs))
    assert table["sampler"].tolist() == ["tpe", "random"]
    assert table["complete"].tolist() == [6, 4] and table["pruned"].tolist() == [2, 2]


def test_minimize_and_unique_labels(tmp_path):
    study = optuna.create_study(study_name="loss", direction="minimize")
    for x in (3.0, 5.0, 1.0, 2.0):
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": x},
                distributions={"x": optuna.distributions.FloatDistribution(0, 10)},
                value=x,
            )
        )
    fig = compare_figures([study, study])["Optimization histories"]
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.name for t in lines] == ["loss", "loss #2"]
    assert list(lines[0].y) == [3.0, 3.0, 1.0, 1.0]


def test_default_path_and_bad_sources(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert compare_studies([runs[0]]).resolve() == (tmp_path / COMPARE_NAME).resolve()
    with pytest.raises(ValueError, match="at least one study"):
        compare_studies([])
    with pytest.raises(TypeError, match="must be a list"):
        compare_studies(str(runs[0]))
    with pytest.raises(FileNotFoundError):
        compare_studies([tmp_path / "missing"])
