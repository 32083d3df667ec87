"""Figures of the search: history, parallel coordinates, importances, slices, contour, Pareto.

Each ``plot_*`` draws what its pure ``*_data`` step returns.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ._data import is_log, is_numeric, param_distributions, pareto_trials, trial_values
from ._plotting import STATE_COLORS, annotate, as_data, empty_figure, finish, fmt, integer_ticks
from ._plotting import no_trials_message as _need
from ._tables import importances_table, value_columns

__all__ = [
    "optimization_history_data",
    "plot_optimization_history",
    "parallel_coordinates_data",
    "plot_parallel_coordinates",
    "param_importances_data",
    "plot_param_importances",
    "slice_data",
    "plot_slice",
    "contour_data",
    "plot_contour",
    "pareto_front_data",
    "plot_pareto_front",
]

TITLES = {
    "history": "Optimization history",
    "parallel": "Parallel coordinates",
    "importances": "Parameter importances",
    "slice": "Slice plots",
    "contour": "Contour of the two most important parameters",
    "pareto": "Pareto front",
}


def _complete(data):
    return [t for t in data.trials(("complete",)) if t.values is not None]


def _first_values(data, trials) -> np.ndarray:
    return np.array([trial_values(t, len(data.directions))[0] for t in trials], dtype=float)


# ---------------------------------------------------------------------------
# Optimization history


def optimization_history_data(data) -> pd.DataFrame:
    """Complete trials in order of number with each objective's best value so far.

    Columns: ``number``, the value column(s) (``value`` or ``values_<i>``),
    ``best_so_far`` (``best_so_far_<i>``; running max or min by the objective's
    direction, NaN values skipped) and ``is_best`` (the trial set a new best of the
    first objective).
    """
    data = as_data(data)
    trials = sorted(_complete(data), key=lambda t: t.number)
    vcols = value_columns(data)
    df = pd.DataFrame(
        [[t.number, *trial_values(t, len(vcols))] for t in trials], columns=["number", *vcols]
    )
    df["number"] = df["number"].astype(int)
    for i, col in enumerate(vcols):
        values = df[col].to_numpy(dtype=float)
        acc = np.fmax if data.directions[i] == "maximize" else np.fmin
        best = acc.accumulate(values) if len(values) else values
        df["best_so_far" if len(vcols) == 1 else f"best_so_far_{i}"] = best
    first_best = df["best_so_far" if len(vcols) == 1 else "best_so_far_0"].to_numpy()
    prev = np.concatenate([[np.nan], first_best[:-1]])
    df["is_best"] = (first_best != prev) & ~np.isnan(first_best)
    return df


def plot_optimization_history(data) -> go.Figure:
    """Objective value of each complete trial and the best value so far (direction aware)."""
    data = as_data(data)
    title = TITLES["history"]
    df = optimization_history_data(data)
    if df.empty:
        return empty_figure(title, _need(0), "Trial", data.objective_label(0))
    vcols = value_columns(data)
    fig = make_subplots(rows=len(vcols), cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for i, col in enumerate(vcols):
        best_col = "best_so_far" if len(vcols) == 1 else f"best_so_far_{i}"
        fig.add_trace(
            go.Scatter(
                x=df["number"],
                y=df[col],
                mode="markers",
                name="Objective value",
                marker=dict(color=STATE_COLORS["complete"], size=7),
                legendgroup="value",
                showlegend=i == 0,
                hovertemplate="trial %{x}<br>" + data.objectives[i] + " %{y:.4g}<extra></extra>",
            ),
            row=i + 1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=df["number"],
                y=df[best_col],
                mode="lines",
                name="Best so far",
                line=dict(color="#d62728", shape="hv"),
                legendgroup="best",
                showlegend=i == 0,
            ),
            row=i + 1,
            col=1,
        )
        fig.update_yaxes(title_text=data.objective_label(i), row=i + 1, col=1)
    fig.update_xaxes(title_text="Trial", row=len(vcols), col=1)
    integer_ticks(fig, df["number"].max())
    return finish(fig, title)


# ---------------------------------------------------------------------------
# Parallel coordinates


def _axis(name, dist, values: list) -> dict:
    """A parallel-coordinates dimension: log10 for log params, codes for categoricals."""
    if not is_numeric(dist):
        choices = list(dist.choices)
        codes = [choices.index(v) if v in choices else np.nan for v in values]
        return dict(
            label=name,
            values=codes,
            tickvals=list(range(len(choices))),
            ticktext=[str(c) for c in choices],
            range=[0, max(len(choices) - 1, 1)],
        )
    x = np.array(values, dtype=float)
    if is_log(dist):
        x = np.log10(x)
        lo, hi = math.floor(np.nanmin(x)), math.ceil(np.nanmax(x))
        ticks = list(range(lo, hi + 1))
        return dict(
            label=name,
            values=x.tolist(),
            tickvals=ticks,
            ticktext=[fmt(10.0**t, 3) for t in ticks],
            range=[lo, hi],
        )
    return dict(label=name, values=x.tolist())


def parallel_coordinates_data(data) -> dict:
    """Dimensions of the parallel-coordinates plot over the complete trials.

    Returns
    -------
    dict
        ``numbers`` (trial numbers), ``color`` (first objective), ``dimensions``
        (objective first, then each parameter searched in every complete trial:
        dicts with ``label``, ``values`` and for categorical / log parameters
        ``tickvals``/``ticktext`` — categoricals as choice indices, log params as
        log10), ``skipped`` (conditional parameters left out).
    """
    data = as_data(data)
    trials = _complete(data)
    values = _first_values(data, trials)
    dists = param_distributions(trials)
    common = [p for p in dists if all(p in t.params for t in trials)]
    dims = [dict(label=data.objectives[0], values=values.tolist())]
    for p in common:
        dims.append(_axis(p, dists[p], [t.params[p] for t in trials]))
    return dict(
        numbers=[t.number for t in trials],
        color=values.tolist(),
        dimensions=dims,
        skipped=[p for p in dists if p not in common],
    )


def plot_parallel_coordinates(data) -> go.Figure:
    """One line per complete trial through its parameter values, colored by the value."""
    data = as_data(data)
    title = TITLES["parallel"]
    info = parallel_coordinates_data(data)
    if not info["numbers"]:
        return empty_figure(title, _need(0))
    maximize = data.directions[0] == "maximize"
    fig = go.Figure(
        go.Parcoords(
            line=dict(
                color=info["color"],
                colorscale="Blues",
                reversescale=not maximize,
                showscale=True,
                colorbar=dict(title=dict(text=data.objectives[0])),
            ),
            dimensions=info["dimensions"],
        )
    )
    # No cartesian axes: each dimension's label names its axis.
    finish(fig, title)
    fig.update_layout(margin=dict(l=80, r=80, t=90, b=40))
    if info["skipped"]:
        annotate(fig, "Not shown (not searched in every trial): " + ", ".join(info["skipped"]))
    return fig


# ---------------------------------------------------------------------------
# Importances


def param_importances_data(data) -> pd.DataFrame:
    """:func:`importances_table` (fANOVA): ``parameter``, ``importance`` (per objective)."""
    return importances_table(as_data(data))


def plot_param_importances(data) -> go.Figure:
    """Horizontal bars of the parameter importances, most important on top."""
    data = as_data(data)
    title = TITLES["importances"]
    df = param_importances_data(data)
    evaluator = df.attrs.get("evaluator", "").replace("ImportanceEvaluator", "")
    xlabel = f"Importance ({evaluator or 'Optuna'})"
    if df.empty:
        return empty_figure(title, df.attrs.get("note") or "No importances.", xlabel, "Parameter")
    cols = [c for c in df.columns if c.startswith("importance")]
    df = df.iloc[::-1]
    fig = go.Figure()
    for i, col in enumerate(cols):
        fig.add_trace(
            go.Bar(
                x=df[col],
                y=df["parameter"],
                orientation="h",
                name=data.objectives[i] if len(cols) > 1 else "importance",
                text=[f"{v:.2f}" for v in df[col]],
                textposition="outside",
                showlegend=len(cols) > 1,
            )
        )
    fig.update_layout(barmode="group")
    return finish(fig, title, xlabel, "Parameter")


# ---------------------------------------------------------------------------
# Slices


def slice_data(data) -> dict:
    """Value against each parameter, one point per complete trial that searched it.

    Returns
    -------
    dict
        ``params``: list of dicts ``name``, ``log``, ``categorical``, ``choices``;
        ``points``: DataFrame with ``parameter``, ``number``, ``param_value`` (a string
        for categorical parameters), ``value`` (first objective).
    """
    data = as_data(data)
    trials = _complete(data)
    values = _first_values(data, trials)
    dists = param_distributions(trials)
    rows = []
    for name, dist in dists.items():
        for t, v in zip(trials, values):
            if name in t.params:
                x = t.params[name] if is_numeric(dist) else str(t.params[name])
                rows.append((name, t.number, x, v))
    points = pd.DataFrame(rows, columns=["parameter", "number", "param_value", "value"])
    params = [
        dict(
            name=name,
            log=is_log(dist),
            categorical=not is_numeric(dist),
            choices=None if is_numeric(dist) else [str(c) for c in dist.choices],
        )
        for name, dist in dists.items()
    ]
    return dict(params=params, points=points)


def plot_slice(data, *, cols: int = 3) -> go.Figure:
    """One subplot per parameter: value against the parameter, colored by trial number."""
    data = as_data(data)
    title = TITLES["slice"]
    info = slice_data(data)
    params, points = info["params"], info["points"]
    if points.empty:
        return empty_figure(title, _need(0), "Parameter value", data.objective_label(0))
    cols = max(1, min(cols, len(params)))
    rows = math.ceil(len(params) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        horizontal_spacing=0.06,
        vertical_spacing=min(0.5 / rows, 0.15),
    )
    cmin, cmax = points["number"].min(), points["number"].max()
    for i, p in enumerate(params):
        r, c = divmod(i, cols)
        sel = points[points["parameter"] == p["name"]]
        fig.add_trace(
            go.Scatter(
                x=sel["param_value"],
                y=sel["value"],
                mode="markers",
                name=p["name"],
                showlegend=False,
                marker=dict(
                    color=sel["number"],
                    colorscale="Blues",
                    cmin=cmin,
                    cmax=cmax,
                    size=7,
                    line=dict(width=0.5, color="#333"),
                    showscale=i == 0,
                    colorbar=dict(title=dict(text="Trial")) if i == 0 else None,
                ),
                hovertemplate="trial %{marker.color}<br>%{x}<br>value %{y:.4g}<extra></extra>",
            ),
            row=r + 1,
            col=c + 1,
        )
        if p["log"]:
            fig.update_xaxes(type="log", row=r + 1, col=c + 1)
        elif p["categorical"]:
            fig.update_xaxes(
                type="category",
                categoryorder="array",
                categoryarray=p["choices"],
                row=r + 1,
                col=c + 1,
            )
        fig.update_xaxes(title_text=p["name"], row=r + 1, col=c + 1)
        if c == 0:
            fig.update_yaxes(title_text=data.objectives[0], row=r + 1, col=1)
    fig.update_layout(height=max(350, 300 * rows))
    return finish(fig, title)


# ---------------------------------------------------------------------------
# Contour


def contour_data(data, *, grid: int = 40) -> dict:
    """Interpolated value over the two most important numeric parameters.

    The two numeric parameters (int or float, searched in at least two complete
    trials) ranked highest by :func:`importances_table` — in search-space order when
    importances are not available. The surface is an inverse-distance-weighted
    interpolation of the trials' values on a ``grid`` x ``grid`` mesh (log10 spacing
    for log parameters) in the unit square.

    Returns
    -------
    dict
        ``reason`` (None, or why there is no contour), ``x_param``, ``y_param``,
        ``x_log``, ``y_log``, ``x``/``y`` (grid coordinates in parameter units),
        ``z`` (``len(y)`` x ``len(x)`` list of lists), ``points`` (DataFrame
        ``number``, ``x``, ``y``, ``value``).
    """
    data = as_data(data)
    trials = _complete(data)
    out = dict(
        reason=None,
        x_param=None,
        y_param=None,
        x_log=False,
        y_log=False,
        x=[],
        y=[],
        z=[],
        points=pd.DataFrame(columns=["number", "x", "y", "value"]),
    )
    if len(trials) < 2:
        out["reason"] = f"A contour needs at least 2 complete trials ({len(trials)} so far)."
        return out
    dists = param_distributions(trials)
    numeric = [
        p
        for p, d in dists.items()
        if is_numeric(d)
        and sum(p in t.params for t in trials) >= 2
        and len({t.params[p] for t in trials if p in t.params}) >= 2
    ]
    if len(numeric) < 2:
        found = f" (only {numeric[0]})" if numeric else ""
        out["reason"] = (
            f"A contour needs two numeric parameters that vary across the complete trials{found}."
        )
        return out
    ranked = importances_table(data)
    order = [p for p in ranked["parameter"] if p in numeric] if not ranked.empty else []
    px, py = (order + [p for p in numeric if p not in order])[:2]
    both = [t for t in trials if px in t.params and py in t.params]
    values = _first_values(data, both)
    keep = ~np.isnan(values)
    both = [t for t, k in zip(both, keep) if k]
    values = values[keep]
    if len(both) < 2:
        out["reason"] = f"Fewer than 2 complete trials searched both {px} and {py}."
        return out
    xs = np.array([float(t.params[px]) for t in both])
    ys = np.array([float(t.params[py]) for t in both])
    xlog, ylog = is_log(dists[px]), is_log(dists[py])
    gx, ux = _grid(xs, dists[px], xlog, grid)
    gy, uy = _grid(ys, dists[py], ylog, grid)
    z = _idw(ux(xs), uy(ys), values, ux(gx), uy(gy))
    out.update(
        x_param=px,
        y_param=py,
        x_log=xlog,
        y_log=ylog,
        x=gx.tolist(),
        y=gy.tolist(),
        z=z.tolist(),
        points=pd.DataFrame(
            {"number": [t.number for t in both], "x": xs, "y": ys, "value": values}
        ),
    )
    return out


def _grid(values: np.ndarray, dist, log: bool, n: int):
    """Grid over the distribution's range, and the map to the unit interval."""
    lo, hi = float(dist.low), float(dist.high)
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
        grid = 10.0 ** np.linspace(lo, hi, n)
        return grid, lambda v: (np.log10(v) - lo) / (hi - lo)
    grid = np.linspace(lo, hi, n)
    return grid, lambda v: (np.asarray(v, dtype=float) - lo) / (hi - lo)


def _idw(x, y, v, gx, gy, power: float = 2.0) -> np.ndarray:
    """Inverse-distance-weighted interpolation of points (x, y, v) on the grid gx x gy."""
    dx = gx[None, :, None] - x[None, None, :]
    dy = gy[:, None, None] - y[None, None, :]
    d2 = dx * dx + dy * dy
    w = 1.0 / np.maximum(d2, 1e-12) ** (power / 2)
    return (w * v).sum(axis=2) / w.sum(axis=2)


def plot_contour(data) -> go.Figure:
    """Contour of the value over the two most important numeric parameters, with the trials."""
    data = as_data(data)
    title = TITLES["contour"]
    info = contour_data(data)
    if info["reason"]:
        return empty_figure(title, info["reason"], "Parameter", "Parameter")
    maximize = data.directions[0] == "maximize"
    pts = info["points"]
    fig = go.Figure()
    fig.add_trace(
        go.Contour(
            x=info["x"],
            y=info["y"],
            z=info["z"],
            colorscale="Blues",
            reversescale=not maximize,
            name=data.objectives[0],
            colorbar=dict(title=dict(text=data.objectives[0])),
            contours=dict(coloring="heatmap"),
            hovertemplate=f"{info['x_param']} %{{x:.3g}}<br>{info['y_param']} %{{y:.3g}}"
            "<br>value %{z:.4g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=pts["x"],
            y=pts["y"],
            mode="markers",
            name="Trials",
            showlegend=False,
            marker=dict(color="white", size=7, line=dict(color="black", width=1)),
            text=[f"trial {n}: {fmt(v)}" for n, v in zip(pts["number"], pts["value"])],
            hoverinfo="text",
        )
    )
    if info["x_log"]:
        fig.update_xaxes(type="log")
    if info["y_log"]:
        fig.update_yaxes(type="log")
    return finish(fig, title, info["x_param"], info["y_param"])


# ---------------------------------------------------------------------------
# Pareto front


def pareto_front_data(data) -> pd.DataFrame:
    """All complete trials' objective values, with ``pareto`` True on the front.

    Columns: ``number``, ``values_0``, ``values_1``, ..., ``pareto``. Empty for a
    single-objective study.
    """
    data = as_data(data)
    vcols = value_columns(data)
    if not data.is_multi_objective:
        return pd.DataFrame(columns=["number", "values_0", "values_1", "pareto"])
    front = {t.number for t in pareto_trials(data)}
    trials = _complete(data)
    df = pd.DataFrame(
        [[t.number, *trial_values(t, len(vcols)), t.number in front] for t in trials],
        columns=["number", *vcols, "pareto"],
    )
    df["pareto"] = df["pareto"].astype(bool)
    return df


def _objectives_trace(points, name: str, color: str, size: int, **style) -> go.Scatter:
    """Trials as points of the first two objectives, hovering as ``trial <number>``."""
    return go.Scatter(
        x=points["values_0"],
        y=points["values_1"],
        name=name,
        marker=dict(color=color, size=size),
        text=[f"trial {n}" for n in points["number"]],
        **style,
    )


def plot_pareto_front(data) -> go.Figure:
    """First two objectives of the complete trials; the Pareto-optimal ones joined by a line."""
    data = as_data(data)
    title = TITLES["pareto"]
    if not data.is_multi_objective:
        return empty_figure(title, "The study has a single objective: no Pareto front.")
    df = pareto_front_data(data)
    xlabel, ylabel = data.objective_label(0), data.objective_label(1)
    if df.empty:
        return empty_figure(title, _need(0), xlabel, ylabel)
    front = df[df["pareto"]].sort_values("values_0")
    rest = df[~df["pareto"]]
    fig = go.Figure()
    fig.add_trace(_objectives_trace(rest, "Dominated", "#9ecae1", 7, mode="markers"))
    fig.add_trace(
        _objectives_trace(front, "Pareto front", "#d62728", 9, mode="markers+lines",
                          line=dict(color="#d62728", shape="hv"))
    )
    finish(fig, title, xlabel, ylabel)
    if len(df.columns) > 4:
        annotate(fig, "Showing the first two objectives.")
    return fig
