"""Shared pieces of the figures: empty figures, layout, state colors, number formats."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ._data import StudyData, load_study_data

#: Colors of trial states, the same in every figure.
STATE_COLORS = {
    "complete": "#1f77b4",
    "pruned": "#ff7f0e",
    "fail": "#d62728",
    "running": "#7f7f7f",
    "waiting": "#c7c7c7",
}

#: One color per trial in figures that draw a few trials (learning curves).
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]

_MARGIN = dict(l=60, r=30, t=60, b=50)


def as_data(data) -> StudyData:
    """``data`` as :class:`StudyData` (loading it when given a study, dir or result)."""
    return data if isinstance(data, StudyData) else load_study_data(data)


def finish(fig: go.Figure, title: str, xaxis: str | None = None, yaxis: str | None = None):
    """Set the title (the dashboard's panel title), axis titles and a common look.

    Figures with subplot titles get more room under the title.
    """
    top = 90 if any(a.yref == "paper" and a.y and a.y >= 1 for a in fig.layout.annotations) else 60
    fig.update_layout(title=dict(text=title), template="plotly_white", margin={**_MARGIN, "t": top})
    if xaxis is not None:
        fig.layout.xaxis.title.text = xaxis
    if yaxis is not None:
        fig.layout.yaxis.title.text = yaxis
    return fig


def empty_figure(title: str, message: str, xaxis: str = "", yaxis: str = "") -> go.Figure:
    """A figure with no data and ``message`` in the middle (never an exception)."""
    fig = go.Figure()
    _note(fig, message, size=14, color="#555", x=0.5, y=0.5)
    fig.update_xaxes(showgrid=False, zeroline=False, showticklabels=False)
    fig.update_yaxes(showgrid=False, zeroline=False, showticklabels=False)
    fig.layout.xaxis.title.text = xaxis
    fig.layout.yaxis.title.text = yaxis
    return finish(fig, title)


def annotate(fig: go.Figure, message: str) -> go.Figure:
    """Add a note at the bottom left (e.g. which parameters a figure leaves out).

    Call it after :func:`finish`: it makes room under the plot.
    """
    bottom = (fig.layout.margin.b or _MARGIN["b"]) + 24
    fig.update_layout(margin=dict(b=bottom))
    _note(fig, message, size=11, color="#666", x=0, y=0, yshift=-bottom + 4,
          yanchor="bottom", xanchor="left")
    return fig


def _note(fig: go.Figure, message: str, *, size: int, color: str, **position) -> None:
    """Add ``message`` as text placed in paper coordinates (no arrow)."""
    fig.add_annotation(
        text=message, xref="paper", yref="paper", showarrow=False,
        font=dict(size=size, color=color), **position,
    )


def integer_ticks(fig: go.Figure, largest, axis: str = "x") -> go.Figure:
    """Ticks every 1 on trial-number / epoch axes while they are short (no "0.5 epochs")."""
    if largest is not None and largest <= 12:
        getattr(fig, f"update_{axis}axes")(dtick=1)
    return fig


def fmt(value, digits: int = 4) -> str:
    """Compact number: ``0.9733``, ``1.2e-05``, ``"–"`` for None/NaN."""
    if value is None:
        return "–"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(value):
        return "–"
    return f"{value:.{digits}g}"


def no_trials_message(n_complete: int, needed: int = 1) -> str:
    if n_complete == 0:
        return "No complete trials yet."
    return f"Needs at least {needed} complete trials ({n_complete} so far)."
