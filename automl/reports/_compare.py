"""Compare studies: optimization histories overlaid, best and test scores side by side.

``compare_studies(["runs/tpe", "runs/random"])`` writes ``compare.html``, one
self-contained page (the same shell as the study dashboard) to answer "which
sampler / pruner / space did better, and how fast".
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from automl import reports
from automl.search import finite, write_atomic

from ._html import _cards_html, _header_html, _page, _panels_html, _table_section_html

__all__ = ["compare_studies", "compare_figures", "comparison_table", "COMPARE_NAME"]

#: Default file name of the comparison page (in the current directory).
COMPARE_NAME = "compare.html"


class _StudyHistory(NamedTuple):
    """One study's data for the comparison (pure data; figures are built from it)."""

    label: str
    name: str
    metric: str
    direction: str
    numbers: list  # trial numbers of complete trials with a finite first value
    values: list  # their first objective value
    best_so_far: list  # best value up to each of them
    elapsed_s: list  # seconds from the study's first trial start to their completion
    best_value: float
    test_score: float
    states: dict  # complete / pruned / fail counts
    meta: dict  # dataset, sampler, pruner, engine, wall time, ...


def compare_studies(sources: Sequence, path=None) -> Path:
    """Write ``compare.html``: several studies' optimization histories and best scores.

    Parameters
    ----------
    sources : sequence of str, Path, optuna.Study or StudyResult
        Studies to compare (output directories, journal files, storage URLs,
        loaded studies or run results), at least one.
    path : str or Path, default=None
        Where to write; default ``compare.html`` in the current directory.

    Returns
    -------
    Path
        The written page. It embeds plotly.js and works offline.

    See Also
    --------
    compare_figures : The figures without the page, e.g. for a notebook.
    """

    histories = _histories(sources)
    figures = _figures(histories)
    table = _table(histories)
    metrics = sorted({h.metric for h in histories})
    body = "\n".join(
        [
            _header_html(
                f"Comparing {len(histories)} studies",
                " · ".join(f"{h.label}: {h.name}" for h in histories)
                + f" · metric {', '.join(metrics)}",
            ),
            _cards_html(_cards(histories)),
            _panels_html(figures),
            _table_section_html("Studies", table, table_id="studies-table"),
        ]
    )
    text = _page(title="Study comparison · automl", body=body, figures=figures)
    return write_atomic(Path(path) if path is not None else Path(COMPARE_NAME), text)


def compare_figures(sources: Sequence) -> dict:
    """The comparison figures (panel title -> ``go.Figure``) of several studies."""
    return _figures(_histories(sources))


def comparison_table(sources: Sequence):
    """One row per study: label, study, sampler, trials by state, best and test scores."""
    return _table(_histories(sources))


# ---------------------------------------------------------------------------
# Data


def _histories(sources: Sequence) -> list[_StudyHistory]:
    if isinstance(sources, (str, os.PathLike)) or not isinstance(sources, Sequence):
        raise TypeError(
            "The 'sources' parameter of compare_studies must be a list of study output "
            f"directories, storages or studies. Got {sources!r} instead."
        )
    if not sources:
        raise ValueError(
            "The 'sources' parameter of compare_studies must name at least one study. "
            "Got [] instead."
        )
    datas = [reports.load_study_data(source) for source in sources]
    labels = _labels(sources, datas)
    return [_history(label, data) for label, data in zip(labels, datas)]


def _labels(sources, datas) -> list[str]:
    """Directory names for output directories, else study names; made unique."""
    labels = []
    for source, data in zip(sources, datas):
        out = getattr(data, "output_dir", None)
        if out is not None:
            label = Path(out).resolve().name or str(out)
        elif isinstance(source, (str, os.PathLike)) and "://" not in os.fspath(source):
            label = Path(source).stem
        else:
            label = str(data.name)
        labels.append(label)
    if len(set(labels)) < len(labels):  # two "digits_mlp" dirs: add the study name, then a count
        labels = [
            f"{label} ({data.name})" if labels.count(label) > 1 and label != data.name else label
            for label, data in zip(labels, datas)
        ]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return unique


def _history(label: str, data) -> _StudyHistory:
    direction = data.directions[0] if data.directions else "maximize"
    better = max if direction == "maximize" else min
    trials = sorted(data.trials(), key=lambda t: t.number)
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    t0 = min(starts) if starts else None
    numbers, values, best_so_far, elapsed = [], [], [], []
    best = math.nan
    for t in trials:
        if t.state.name != "COMPLETE" or not t.values:
            continue
        value = finite(t.values[0])
        if math.isnan(value):
            continue
        best = value if math.isnan(best) else better(best, value)
        numbers.append(t.number)
        values.append(value)
        best_so_far.append(best)
        done = t.datetime_complete
        elapsed.append((done - t0).total_seconds() if done is not None and t0 else math.nan)
    states = {"complete": 0, "pruned": 0, "fail": 0}
    for t in trials:
        key = t.state.name.lower()
        if key in states:
            states[key] += 1
    summary = data.summary or {}
    attrs = data.user_attrs
    best_value = finite(summary.get("best_value", best))
    wall = summary.get("wall_time_s")
    meta = {
        "dataset": attrs.get("dataset", summary.get("dataset")),
        "engine": attrs.get("engine", summary.get("engine")),
        "sampler": _text(attrs.get("sampler", summary.get("sampler"))),
        "pruner": _text(attrs.get("pruner", summary.get("pruner"))),
        "n_jobs": attrs.get("n_jobs", summary.get("n_jobs")),
        "seed": attrs.get("seed", summary.get("seed")),
        "best_trial": summary.get("best_trial", _best_number(numbers, values, better)),
        "wall_time_s": finite(wall.get("total")) if isinstance(wall, dict) else math.nan,
    }
    return _StudyHistory(
        label=label,
        name=str(data.name),
        metric=str(data.metric),
        direction=direction,
        numbers=numbers,
        values=values,
        best_so_far=best_so_far,
        elapsed_s=elapsed,
        best_value=best_value,
        test_score=finite(summary.get("test_score")),
        states=states,
        meta=meta,
    )


def _best_number(numbers, values, better):
    if not values:
        return None
    best = better(values)
    return numbers[values.index(best)]


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        name = value.get("name")
        return str(name) if name else ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


# ---------------------------------------------------------------------------
# Figures and table


def _colors(n: int) -> list[str]:
    from plotly.colors import qualitative

    palette = qualitative.Plotly
    return [palette[i % len(palette)] for i in range(n)]


def _metric_label(histories) -> str:
    metrics = {h.metric for h in histories}
    return metrics.pop() if len(metrics) == 1 else "value"


def _figures(histories: list[_StudyHistory]) -> dict[str, Any]:
    import plotly.graph_objects as go

    colors = _colors(len(histories))
    metric = _metric_label(histories)
    layout = dict(
        template="plotly_white",
        margin=dict(l=60, r=20, t=30, b=50),
        legend=dict(orientation="h", y=-0.2),
        hovermode="closest",
    )

    def history(x_of, x_title):
        fig = go.Figure()
        for h, color in zip(histories, colors):
            x = x_of(h)
            fig.add_scatter(
                x=x,
                y=h.values,
                mode="markers",
                marker=dict(color=color, size=6, opacity=0.35),
                name=f"{h.label} trials",
                legendgroup=h.label,
                showlegend=False,
                hovertemplate=f"{h.label}<br>trial %{{text}}<br>{metric} %{{y:.4g}}<extra></extra>",
                text=h.numbers,
            )
            fig.add_scatter(
                x=x,
                y=h.best_so_far,
                mode="lines",
                line=dict(color=color, width=2.5, shape="hv"),
                name=h.label,
                legendgroup=h.label,
                hovertemplate=f"{h.label}<br>best so far %{{y:.4g}}<extra></extra>",
            )
        fig.update_layout(**layout)
        fig.update_xaxes(title_text=x_title)
        fig.update_yaxes(title_text=f"{metric} (best so far)")
        return fig

    bars = go.Figure()
    labels = [h.label for h in histories]
    best = [None if math.isnan(h.best_value) else h.best_value for h in histories]
    tests = [None if math.isnan(h.test_score) else h.test_score for h in histories]
    series = [(best, "best validation", "#2f6fde")]
    if any(v is not None for v in tests):
        series.append((tests, "test (refit best)", "#23a55a"))
    for values, name, color in series:
        bars.add_bar(
            x=labels,
            y=values,
            name=name,
            marker_color=color,
            text=[_fmt(v) for v in values],
            textposition="outside",
        )
    bars.update_layout(**layout, barmode="group")
    bars.update_yaxes(title_text=metric)

    states = go.Figure()
    for key, color in (("complete", "#1f77b4"), ("pruned", "#ff7f0e"), ("fail", "#d62728")):
        states.add_bar(x=labels, y=[h.states[key] for h in histories], name=key, marker_color=color)
    states.update_layout(**layout, barmode="stack")
    states.update_yaxes(title_text="trials")

    return {
        "Optimization histories": history(lambda h: h.numbers, "trial number"),
        "Best scores": bars,
        "Best so far over time": history(lambda h: h.elapsed_s, "seconds since the first trial"),
        "Trials by state": states,
    }


def _fmt(value) -> str:
    return "" if value is None else f"{value:.4g}"


def _table(histories: list[_StudyHistory]):
    import pandas as pd

    rows = []
    for h in histories:
        rows.append(
            {
                "label": h.label,
                "study": h.name,
                "dataset": h.meta["dataset"],
                "metric": h.metric,
                "direction": h.direction,
                "engine": h.meta["engine"],
                "sampler": h.meta["sampler"],
                "pruner": h.meta["pruner"],
                "n_jobs": h.meta["n_jobs"],
                "seed": h.meta["seed"],
                "trials": sum(h.states.values()),
                "complete": h.states["complete"],
                "pruned": h.states["pruned"],
                "failed": h.states["fail"],
                "best_value": h.best_value,
                "best_trial": h.meta["best_trial"],
                "test_score": h.test_score,
                "wall_time_s": h.meta["wall_time_s"],
            }
        )
    return pd.DataFrame(rows)


def _cards(histories: list[_StudyHistory]) -> list[tuple[str, str]]:
    cards = [("Studies", str(len(histories)))]
    for title, attr in (("Best validation", "best_value"), ("Best test", "test_score")):
        scored = [h for h in histories if not math.isnan(getattr(h, attr))]
        if not scored:
            continue
        pick = max if scored[0].direction == "maximize" else min
        top = pick(scored, key=lambda h: getattr(h, attr))
        cards.append((title, f"{getattr(top, attr):.4f} ({top.label})"))
    return cards
