"""Figures of the training runs: learning curves, intermediate values, the worker timeline."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from automl.search import order_log_keys

from ._data import duration_s, fold_logs, pruned_at_epoch, ranked_trials, state_name
from ._plotting import PALETTE, STATE_COLORS, as_data, empty_figure, finish, fmt, integer_ticks

__all__ = [
    "learning_curves_data",
    "plot_learning_curves",
    "intermediate_values_data",
    "plot_intermediate_values",
    "timeline_data",
    "plot_timeline",
]

TITLES = {
    "curves": "Learning curves of the best trials",
    "intermediate": "Intermediate values",
    "timeline": "Timeline of trials per worker",
}

_LR_KEYS = ("learning_rate", "lr")
_LEGEND_TITLE = "Trial<br><span style='font-size:11px'>solid: train<br>dashed: validation</span>"


# ---------------------------------------------------------------------------
# Learning curves


def learning_curves_data(data, k: int = 5) -> dict:
    """Per-epoch logs of the ``k`` best complete trials (fold 0 under k-fold validation).

    Returns
    -------
    dict
        ``trials``: their numbers, best first; ``epochs``: DataFrame with ``rank``
        (1 = best), ``number``, ``epoch`` and one column per log key (``loss``,
        ``val_loss``, the metrics, ``learning_rate``); ``metric``: the log key plotted
        beside the loss (the study metric when logged, else the first other metric
        with a ``val_`` version, or None); ``learning_rate``: the learning-rate key or
        None.
    """
    data = as_data(data)
    top = [t for t in ranked_trials(data) if fold_logs(t)][:k]
    rows, keys = [], {}
    for rank, t in enumerate(top, start=1):
        logs = {k_: v for k_, v in fold_logs(t)[0].items() if isinstance(v, list)}
        keys.update(dict.fromkeys(logs))
        n = max((len(v) for v in logs.values()), default=0)
        for epoch in range(n):
            row = {"rank": rank, "number": t.number, "epoch": epoch}
            for key, values in logs.items():
                v = values[epoch] if epoch < len(values) else None
                row[key] = math.nan if v is None else float(v)
            rows.append(row)
    cols = order_log_keys(list(keys))
    df = pd.DataFrame(rows, columns=["rank", "number", "epoch", *cols])
    return dict(
        trials=[t.number for t in top],
        epochs=df,
        metric=_pick_metric(data.metric, cols),
        learning_rate=next((k_ for k_ in _LR_KEYS if k_ in cols), None),
    )


def _pick_metric(metric: str, keys: list[str]) -> str | None:
    for candidate in (metric, metric.removeprefix("neg_")):
        if candidate in keys or f"val_{candidate}" in keys:
            return candidate
    others = [k for k in keys if not k.startswith("val_") and k != "loss" and k not in _LR_KEYS]
    paired = [k for k in others if f"val_{k}" in keys]
    return (paired or others or [None])[0]


def plot_learning_curves(data, k: int = 5) -> go.Figure:
    """Train (solid) and validation (dashed) loss and metric per epoch of the top-``k``
    trials, and their learning-rate traces, one color per trial."""
    data = as_data(data)
    title = TITLES["curves"]
    info = learning_curves_data(data, k)
    df = info["epochs"]
    if df.empty:
        msg = (
            "No complete trials yet."
            if not data.trials(("complete",))
            else ("The complete trials have no per-epoch logs.")
        )
        return empty_figure(title, msg, "Epoch", "Loss")
    panels = [("loss", "Loss")]
    if info["metric"]:
        panels.append((info["metric"], info["metric"]))
    if info["learning_rate"]:
        panels.append((info["learning_rate"], "Learning rate"))
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
    )
    for i, number in enumerate(info["trials"]):
        sel = df[df["number"] == number]
        color = PALETTE[i % len(PALETTE)]
        group = f"trial {number}"
        first = True
        for row, (key, _) in enumerate(panels, start=1):
            is_lr = key == info["learning_rate"]
            for split, col in (("train", key), ("val", f"val_{key}")):
                if col not in sel or sel[col].isna().all() or (is_lr and split == "val"):
                    continue
                fig.add_trace(
                    go.Scatter(
                        x=sel["epoch"],
                        y=sel[col],
                        mode="lines",
                        name=f"#{number} (rank {i + 1})",
                        legendgroup=group,
                        showlegend=first,
                        line=dict(color=color, dash="dash" if split == "val" else "solid"),
                        hovertemplate=f"trial {number} {col}<br>epoch %{{x}}: %{{y:.4g}}"
                        "<extra></extra>",
                    ),
                    row=row,
                    col=1,
                )
                first = False
        for row, (key, label) in enumerate(panels, start=1):
            fig.update_yaxes(title_text=label, row=row, col=1)
            if key == info["learning_rate"]:
                fig.update_yaxes(type="log", row=row, col=1)
    fig.update_xaxes(title_text="Epoch", row=len(panels), col=1)
    integer_ticks(fig, df["epoch"].max())
    fig.update_layout(height=260 * len(panels) + 80, legend=dict(title=dict(text=_LEGEND_TITLE)))
    return finish(fig, title)


# ---------------------------------------------------------------------------
# Intermediate values


def intermediate_values_data(data) -> dict:
    """Reported intermediate values of every trial, and where pruned trials stopped.

    Returns
    -------
    dict
        ``curves``: DataFrame ``number``, ``state``, ``step``, ``value``;
        ``pruned``: DataFrame ``number``, ``step`` (the last reported step),
        ``pruned_at_epoch`` and ``value`` (the value reported at that step), one row
        per pruned trial that reported anything; ``x_title``: what a step is
        (``"Epoch"``, or ``fold × epochs + epoch`` under k-fold validation).
    """
    data = as_data(data)
    rows, marks = [], []
    for t in data.trials():
        steps = t.intermediate_values
        state = state_name(t)
        for step in sorted(steps):
            v = steps[step]
            rows.append((t.number, state, int(step), math.nan if v is None else float(v)))
        if state == "pruned" and steps:
            step = max(steps)
            at = pruned_at_epoch(t, data.max_epochs if data.is_kfold else None)
            if at is not None and not data.is_kfold and at in steps:
                step = at
            v = steps[step]
            marks.append((t.number, int(step), at, math.nan if v is None else float(v)))
    curves = pd.DataFrame(rows, columns=["number", "state", "step", "value"])
    pruned = pd.DataFrame(marks, columns=["number", "step", "pruned_at_epoch", "value"])
    x_title = "Step (fold × epochs + epoch)" if data.is_kfold else "Epoch"
    return dict(curves=curves, pruned=pruned, x_title=x_title)


def plot_intermediate_values(data) -> go.Figure:
    """Each trial's per-epoch reported value; pruned trials marked where they stopped."""
    data = as_data(data)
    title = TITLES["intermediate"]
    info = intermediate_values_data(data)
    curves, pruned = info["curves"], info["pruned"]
    ylabel = f"Reported value ({data.objectives[0]})"
    if curves.empty:
        return empty_figure(
            title, "No trial has reported intermediate values yet.", info["x_title"], ylabel
        )
    fig = go.Figure()
    shown = set()
    for number, sel in curves.groupby("number", sort=True):
        state = sel["state"].iloc[0]
        fig.add_trace(
            go.Scatter(
                x=sel["step"],
                y=sel["value"],
                mode="lines",
                name=state,
                legendgroup=state,
                showlegend=state not in shown,
                line=dict(color=STATE_COLORS.get(state, "#7f7f7f"), width=1.2),
                opacity=0.9 if state == "complete" else 0.6,
                hovertemplate=f"trial {number} ({state})<br>step %{{x}}: %{{y:.4g}}<extra></extra>",
            )
        )
        shown.add(state)
    if not pruned.empty:
        fig.add_trace(
            go.Scatter(
                x=pruned["step"],
                y=pruned["value"],
                mode="markers",
                name="Pruned here",
                marker=dict(
                    symbol="x",
                    size=10,
                    color=STATE_COLORS["pruned"],
                    line=dict(width=1, color="#7f2704"),
                ),
                text=[
                    f"trial {n} pruned at step {s}"
                    for n, s in zip(pruned["number"], pruned["step"])
                ],
                hoverinfo="text",
            )
        )
    integer_ticks(fig, curves["step"].max())
    return finish(fig, title, info["x_title"], ylabel)


# ---------------------------------------------------------------------------
# Timeline


def timeline_data(data, *, now: datetime | None = None) -> pd.DataFrame:
    """Start and end of every started trial, on the lane of the worker that ran it.

    Columns: ``number``, ``state``, ``worker`` (the ``worker`` user attribute, or
    None), ``lane`` (``"worker <k>"``; without worker attributes trials are packed
    greedily onto ``"lane <k>"`` so that overlapping trials never share one),
    ``start``, ``end`` (now for a running trial), ``duration_s``. Sorted by start.
    """
    data = as_data(data)
    now = now or datetime.now()
    trials = sorted(
        (t for t in data.trials() if t.datetime_start is not None),
        key=lambda t: (t.datetime_start, t.number),
    )
    lane_ends: list = []
    rows = []
    for t in trials:
        end = t.datetime_complete or now
        worker = t.user_attrs.get("worker")
        if isinstance(worker, (int, float)) and not isinstance(worker, bool):
            worker = int(worker)
            lane = f"worker {worker}"
        else:
            worker = None
            free = [i for i, e in enumerate(lane_ends) if e <= t.datetime_start]
            i = free[0] if free else len(lane_ends)
            if i == len(lane_ends):
                lane_ends.append(end)
            lane_ends[i] = end
            lane = f"lane {i}"
        rows.append(
            (t.number, state_name(t), worker, lane, t.datetime_start, end, duration_s(t, now))
        )
    df = pd.DataFrame(
        rows, columns=["number", "state", "worker", "lane", "start", "end", "duration_s"]
    )
    df["worker"] = pd.array(df["worker"].tolist(), dtype="Int64")
    for col in ("start", "end"):
        df[col] = pd.to_datetime(df[col])
    return df


def plot_timeline(data) -> go.Figure:
    """Horizontal start→end bars of the trials per worker, colored by state."""
    data = as_data(data)
    title = TITLES["timeline"]
    df = timeline_data(data)
    if df.empty:
        return empty_figure(title, "No trial has started yet.", "Time", "Worker")
    fig = go.Figure()
    for state, sel in df.groupby("state", sort=False):
        fig.add_trace(
            go.Bar(
                y=sel["lane"],
                x=(sel["end"] - sel["start"]).dt.total_seconds() * 1000.0,
                base=sel["start"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist(),
                orientation="h",
                name=state,
                marker=dict(
                    color=STATE_COLORS.get(state, "#7f7f7f"), line=dict(color="white", width=1)
                ),
                text=[
                    f"trial {n}: {fmt(d, 3)} s" for n, d in zip(sel["number"], sel["duration_s"])
                ],
                hoverinfo="text",
                textposition="none",
            )
        )
    lanes = sorted(df["lane"].unique(), key=lambda s: (s.split()[0], int(s.split()[1])))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=lanes[::-1])
    fig.update_xaxes(type="date")
    fig.update_layout(barmode="overlay", height=max(260, 60 * len(lanes) + 140))
    return finish(fig, title, "Time", "Worker")
