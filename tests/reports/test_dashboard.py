"""report.html: one self-contained page with every panel, cards, metadata, a sortable table."""

import html
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from plotly.offline import get_plotlyjs

import automl.reports as reports
from automl.reports._dashboard import REPORT_NAME, render_report, write_report
from automl.reports._html import _layout_panels, _script_json
from tests.reports.test_dashboard_support import fast_figures, load, make_study_dir

HOSTILE = "x</script><b>bold</b>&"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The real dashboard of a synthetic study whose name and a parameter are hostile HTML."""
    out = make_study_dir(
        tmp_path_factory.mktemp("study") / "run",
        name=f"study {HOSTILE}",
        lr_name=f"lr {HOSTILE}",
    )
    data = reports.load_study_data(out)
    figures = reports.dashboard_figures(data)
    with pytest.MonkeyPatch.context() as mp:  # the figures take seconds: build them once
        mp.setattr(reports, "dashboard_figures", lambda data: figures)
        path = write_report(out)
    return SimpleNamespace(
        out=out, data=data, figures=figures, path=path, html=path.read_text(encoding="utf-8")
    )


def _figures_payload(text):
    match = re.search(
        r'<script type="application/json" id="automl-figures">(.*?)</script>', text, re.S
    )
    assert match
    return json.loads(match.group(1))


def test_written_next_to_the_study(page):
    assert page.path == page.out / REPORT_NAME
    assert not [p for p in page.out.iterdir() if p.name.endswith(".tmp")]


def test_self_contained(page):
    plotly_js = get_plotlyjs()
    assert page.html.count(plotly_js) == 1  # plotly.js inlined exactly once
    text = page.html.replace(plotly_js, "")
    assert not re.search(r"<script[^>]+src=", text, re.I)
    assert not re.search(r"<link[^>]+href=", text, re.I)
    assert not re.search(r"https?://", text)  # nothing else refers to the network
    assert text.count("<script>") == 3  # error recorder, plotly.js, renderer (no live poll)


def test_every_panel_titled_and_embedded(page):
    titles = list(page.figures)
    assert len(titles) >= 6
    payload = _figures_payload(page.html)
    assert [item["title"] for item in payload] == titles
    for item in payload:
        esc = html.escape(item["title"])
        assert f'data-panel="{esc}"' in page.html and f"<h2>{esc}</h2>" in page.html
        assert f'id="{item["id"]}"' in page.html
        assert item["figure"]["data"] or item["figure"]["layout"].get("annotations")
        assert "title" not in item["figure"]["layout"]  # shown once, in the panel heading
    assert f'data-panels-total="{len(titles)}"' in page.html


def test_cards_and_metadata(page):
    for label, value in reports.summary_cards(page.data):
        assert f'<div class="card-label">{html.escape(label)}</div>' in page.html
        assert f'<div class="card-value">{html.escape(value)}</div>' in page.html
    for label, value in [
        ("dataset", "iris"),
        ("metric", "accuracy"),
        ("engine", "optuna"),
        ("sampler", "tpe"),
        ("pruner", "median"),
        ("seed", "0"),
    ]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page.html


def test_trials_table_sortable(page):
    table = re.search(r'<table id="trials-table".*?</table>', page.html, re.S).group(0)
    assert 'data-sortable="true"' in table
    heads = re.findall(
        r'<th scope="col" data-col="(\d+)" data-type="(\w+)" aria-sort="none"', table
    )
    columns = list(reports.trials_table(page.data).columns)
    assert [int(c) for c, _ in heads] == list(range(len(columns)))
    types = dict(zip(columns, (t for _, t in heads)))
    assert types["number"] == "number" and types["value"] == "number"
    assert types["state"] == "text"
    assert table.count("<tr>") == 1 + len(page.data.trials())
    # numeric cells carry the exact value to sort on
    assert re.search(r'<td data-value="0\.\d+" class=num>0\.\d{1,4}</td>', table)
    assert "sortBy" in page.html and "aria-sort" in page.html


def test_hostile_names_escaped(page):
    text = page.html
    assert "<b>bold" not in text
    assert text.lower().count("</script>") == text.lower().count("<script")
    assert html.escape(f"study {HOSTILE}") in text  # title / header
    assert html.escape(f"param_lr {HOSTILE}") in text  # trials table header
    payload = json.dumps(_figures_payload(text))
    assert "lr x</script><b>bold</b>&" in json.loads(json.dumps(payload))  # data intact


def test_script_json_cannot_close_the_element():
    text = json.dumps({"a": "</script><!-- & \u2028"})
    safe = _script_json(text)
    assert "<" not in safe and ">" not in safe and "&" not in safe
    assert json.loads(safe) == json.loads(text)


def test_layout_fills_rows():
    fig = {"layout": {}}
    figures = {
        "Optimization history": fig,
        "Learning curves of the best trials": fig,
        "Intermediate values": fig,
        "Parameter importances": fig,
        "Parallel coordinates": fig,
        "Contour": fig,
    }
    layout = [(title, wide) for _, title, wide in _layout_panels(figures)]
    assert layout == [
        ("Optimization history", False),
        ("Intermediate values", False),  # fills the hole the wide panel would leave
        ("Learning curves of the best trials", True),
        ("Parameter importances", False),
        ("Contour", False),
        ("Parallel coordinates", True),
    ]
    odd = [(t, w) for _, t, w in _layout_panels({"A": fig, "B": fig, "C": fig})]
    assert odd == [("A", False), ("B", False), ("C", True)]  # the last one alone is widened


def test_write_report_path_and_sources(tmp_path, monkeypatch):
    fast_figures(monkeypatch)
    out = make_study_dir(tmp_path / "run")
    target = write_report(out, tmp_path / "elsewhere" / "r.html")
    assert target == tmp_path / "elsewhere" / "r.html" and target.is_file()
    assert not (out / REPORT_NAME).exists()
    # a StudyResult-like source: its output_dir
    study = load(out)
    result = SimpleNamespace(study=study, output_dir=out)
    assert write_report(result) == out / REPORT_NAME
    # a bare optuna.Study has no output directory
    with pytest.raises(ValueError, match="needs `path`"):
        write_report(study)
    assert write_report(study, tmp_path / "s.html").read_text().startswith("<!DOCTYPE html>")


def test_running_study_without_outputs(tmp_path, monkeypatch):
    fast_figures(monkeypatch)
    out = make_study_dir(tmp_path / "run", finished=False)
    text = render_report(reports.load_study_data(out))
    assert 'data-panel="Trial values"' in text
    assert "Trials" in text and 'id="trials-table"' in text


def test_missing_study_dir(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "nope")
    assert not (tmp_path / "nope").exists()
    assert not list(Path(tmp_path).iterdir())
