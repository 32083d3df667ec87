"""Test-split diagnostics of the refit best model, from ``test_predictions.npz``."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ._plotting import as_data, empty_figure, finish, fmt

__all__ = ["diagnostics_data", "plot_diagnostics"]

TITLE = "Test diagnostics of the best model"


def diagnostics_data(data) -> dict:
    """Confusion matrix and per-class scores, or predicted-vs-actual and residuals.

    Returns
    -------
    dict
        ``kind``: ``"classification"``, ``"regression"`` or None (then ``reason`` says
        why). Classification: ``classes`` (labels as strings), ``confusion`` (counts,
        rows = true class, columns = predicted class, in ``classes`` order),
        ``precision``, ``recall``, ``support`` (per class; precision of a never-predicted
        class is 0), ``accuracy``, ``n``. Regression: ``y_true``, ``y_pred``,
        ``residuals`` (``y_true - y_pred``), ``r2``, ``rmse``, ``mae``, ``n`` (several
        targets are pooled).
    """
    data = as_data(data)
    pred = data.test_predictions
    if pred is None:
        return dict(kind=None, reason="No test predictions (test_predictions.npz) yet.")
    y_true = np.asarray(pred["y_true"])
    y_pred = np.asarray(pred["y_pred"])
    if y_true.ndim > 1 and y_true.shape[-1] == 1:
        y_true, y_pred = y_true.ravel(), y_pred.ravel()
    if len(y_true) == 0 or y_true.shape != y_pred.shape:
        return dict(kind=None, reason="The test predictions are empty or mismatched.")
    task = data.task or ("classification" if "classes" in pred else "regression")
    if task == "classification":
        return _classification(y_true, y_pred, pred.get("classes"))
    return _regression(y_true.astype(float).ravel(), y_pred.astype(float).ravel())


def _classification(y_true, y_pred, classes) -> dict:
    if classes is None:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    classes = np.asarray(classes)
    extra = np.setdiff1d(np.unique(np.concatenate([y_true, y_pred])), classes)
    if extra.size:  # labels outside ``classes`` still get their row and column
        classes = np.concatenate([classes, extra])
    order = np.argsort(classes, kind="stable")
    t = order[np.searchsorted(classes, y_true, sorter=order)]
    p = order[np.searchsorted(classes, y_pred, sorter=order)]
    n_classes = len(classes)
    confusion = np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )
    tp = np.diag(confusion).astype(float)
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(n_classes), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(n_classes), where=support > 0)
    return dict(
        kind="classification",
        classes=[str(c) for c in classes],
        confusion=confusion.tolist(),
        precision=precision.tolist(),
        recall=recall.tolist(),
        support=support.tolist(),
        accuracy=float(tp.sum() / len(y_true)),
        n=int(len(y_true)),
    )


def _regression(y_true, y_pred) -> dict:
    residuals = y_true - y_pred
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    ss_res = float((residuals**2).sum())
    return dict(
        kind="regression",
        y_true=y_true.tolist(),
        y_pred=y_pred.tolist(),
        residuals=residuals.tolist(),
        r2=1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        rmse=float(np.sqrt(np.mean(residuals**2))),
        mae=float(np.mean(np.abs(residuals))),
        n=int(len(y_true)),
    )


def plot_diagnostics(data) -> go.Figure:
    """Confusion matrix + per-class precision/recall, or predicted-vs-actual + residuals."""
    data = as_data(data)
    info = diagnostics_data(data)
    if info["kind"] is None:
        return empty_figure(TITLE, info["reason"])
    if info["kind"] == "classification":
        return _plot_classification(info)
    return _plot_regression(info)


def _plot_classification(info) -> go.Figure:
    classes = info["classes"]
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.55, 0.45],
        horizontal_spacing=0.12,
        subplot_titles=[
            f"Confusion matrix (accuracy {fmt(info['accuracy'])}, n={info['n']})",
            "Per-class precision and recall",
        ],
    )
    fig.add_trace(
        go.Heatmap(
            z=info["confusion"],
            x=classes,
            y=classes,
            colorscale="Blues",
            showscale=False,
            text=info["confusion"],
            texttemplate="%{text}",
            name="count",
            hovertemplate="true %{y}<br>predicted %{x}<br>%{z} samples<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for name, values, color in (
        ("Precision", info["precision"], "#1f77b4"),
        ("Recall", info["recall"], "#ff7f0e"),
    ):
        fig.add_trace(
            go.Bar(
                x=classes,
                y=values,
                name=name,
                marker_color=color,
                hovertemplate="class %{x}<br>" + name.lower() + " %{y:.3f}<extra></extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="Predicted class", type="category", row=1, col=1)
    fig.update_yaxes(title_text="True class", type="category", autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="Class", type="category", row=1, col=2)
    fig.update_yaxes(title_text="Score", range=[0, 1.05], row=1, col=2)
    fig.update_layout(barmode="group", height=max(420, 28 * len(classes) + 200))
    return finish(fig, TITLE)


def _test_points(x, y, name: str, color: str, **style) -> go.Scatter:
    """One marker per test sample."""
    return go.Scatter(x=x, y=y, mode="markers", name=name,
                      marker=dict(color=color, size=6, opacity=0.7), **style)


def _plot_regression(info) -> go.Figure:
    y_true, y_pred, res = info["y_true"], info["y_pred"], info["residuals"]
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=[
            f"Predicted vs actual (R² {fmt(info['r2'])}, n={info['n']})",
            f"Residuals (RMSE {fmt(info['rmse'])})",
        ],
    )
    fig.add_trace(_test_points(y_true, y_pred, "Test samples", "#1f77b4"), row=1, col=1)
    lo, hi = min(min(y_true), min(y_pred)), max(max(y_true), max(y_pred))
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="Ideal (y = x)",
            line=dict(color="#7f7f7f", dash="dash"),
        ),
        row=1,
        col=1,
    )
    fig.add_trace(_test_points(y_pred, res, "Residuals", "#ff7f0e", showlegend=False),
                  row=1, col=2)
    fig.add_hline(y=0, line=dict(color="#7f7f7f", dash="dash"), row=1, col=2)
    fig.update_xaxes(title_text="Actual", row=1, col=1)
    fig.update_yaxes(title_text="Predicted", row=1, col=1)
    fig.update_xaxes(title_text="Predicted", row=1, col=2)
    fig.update_yaxes(title_text="Residual (actual − predicted)", row=1, col=2)
    return finish(fig, TITLE)
