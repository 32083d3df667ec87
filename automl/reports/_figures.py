"""All study figures, the dashboard's figure set and its summary cards."""

from __future__ import annotations

import math
from collections import Counter

import plotly.graph_objects as go

from ._data import (
    duration_s,
    fold_logs,
    is_numeric,
    param_distributions,
    pareto_trials,
    ranked_trials,
)
from ._figures_diagnostics import TITLE as DIAGNOSTICS_TITLE
from ._figures_diagnostics import diagnostics_data, plot_diagnostics
from ._figures_search import TITLES as S
from ._figures_search import (
    contour_data,
    optimization_history_data,
    parallel_coordinates_data,
    param_importances_data,
    pareto_front_data,
    plot_contour,
    plot_optimization_history,
    plot_parallel_coordinates,
    plot_param_importances,
    plot_pareto_front,
    plot_slice,
    slice_data,
)
from ._figures_training import TITLES as T
from ._figures_training import (
    intermediate_values_data,
    learning_curves_data,
    plot_intermediate_values,
    plot_learning_curves,
    plot_timeline,
    timeline_data,
)
from ._plotting import as_data, empty_figure, fmt

__all__ = [
    "contour_data",
    "dashboard_figures",
    "diagnostics_data",
    "intermediate_values_data",
    "learning_curves_data",
    "optimization_history_data",
    "parallel_coordinates_data",
    "param_importances_data",
    "pareto_front_data",
    "plot_contour",
    "plot_diagnostics",
    "plot_intermediate_values",
    "plot_learning_curves",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_param_importances",
    "plot_pareto_front",
    "plot_slice",
    "plot_timeline",
    "slice_data",
    "summary_cards",
    "timeline_data",
]

#: Prefix of the annotation of a figure that raised while being drawn.
FAILED_PREFIX = "Could not draw this figure"


def dashboard_figures(data, *, k: int = 5) -> dict[str, go.Figure]:
    """The figures that apply to the study, in dashboard order, keyed by their title.

    Optimization history; Pareto front (multi-objective only); test diagnostics of
    the best model (when ``test_predictions.npz`` exists); learning curves of the
    ``k`` best trials and intermediate values (unless a scikit-learn-engine study
    logged no epochs); parameter importances; contour (when two numeric parameters
    exist); parallel coordinates; slice plots; timeline. Figures with too few trials
    carry an annotation instead of data, so a running study always gets the same
    panels. A figure that fails is replaced by one saying why (the dashboard of a
    live study must not go down with one panel).

    Parameters
    ----------
    data : StudyData or anything :func:`load_study_data` accepts
    k : int, default=5
        Trials in the learning curves.

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
        Panel title (``fig.layout.title.text``) → figure.

    Examples
    --------
    >>> import optuna
    >>> from automl.reports import dashboard_figures
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(value=1.0))
    >>> figures = dashboard_figures(study)
    >>> list(figures)[0], figures["Optimization history"].layout.xaxis.title.text
    ('Optimization history', 'Trial')
    """
    data = as_data(data)
    trials = data.trials()
    sklearn = data.engine == "sklearn"
    has_epochs = any(fold_logs(t) for t in trials)
    has_steps = any(t.intermediate_values for t in trials)
    dists = param_distributions(trials)
    n_numeric = sum(is_numeric(d) for d in dists.values())

    panels = [(S["history"], plot_optimization_history)]
    if data.is_multi_objective:
        panels.append((S["pareto"], plot_pareto_front))
    if data.test_predictions is not None:
        panels.append((DIAGNOSTICS_TITLE, plot_diagnostics))
    if has_epochs or not sklearn:
        panels.append((T["curves"], lambda d: plot_learning_curves(d, k)))
    if has_steps or not sklearn:
        panels.append((T["intermediate"], plot_intermediate_values))
    panels.append((S["importances"], plot_param_importances))
    if n_numeric >= 2 or not dists:
        panels.append((S["contour"], plot_contour))
    panels += [
        (S["parallel"], plot_parallel_coordinates),
        (S["slice"], plot_slice),
        (T["timeline"], plot_timeline),
    ]

    figures: dict[str, go.Figure] = {}
    for title, build in panels:
        try:
            fig = build(data)
        except Exception as exc:  # one broken panel must not take the dashboard down
            fig = empty_figure(title, f"{FAILED_PREFIX}: {type(exc).__name__}: {exc}")
        figures[title] = fig
    return figures


def summary_cards(data) -> list[tuple[str, str]]:
    """Headline numbers of the study as ``(label, value)`` pairs, in display order.

    Best score (with its trial; the Pareto-front size for a multi-objective study),
    test score of the refit best model (when known), trials complete / pruned /
    failed (and running), wall time, and the speed-up from parallelism
    (``trial_time_s_sum / wall_time_s.optimize`` of ``summary.json``; while a study
    runs, the sum of trial durations over the time since the first trial started).
    """
    data = as_data(data)
    s = data.summary
    trials = data.trials()
    cards: list[tuple[str, str]] = []

    ranked = ranked_trials(data)
    if data.is_multi_objective:
        front = pareto_trials(data)
        cards.append(("Pareto-optimal trials", f"{len(front)} of {len(ranked)} complete"))
    else:
        best_value = s.get("best_value")
        best_trial = s.get("best_trial")
        if best_value is None and ranked:
            best_value, best_trial = ranked[0].value, ranked[0].number
        shown = fmt(best_value) + (f" (trial #{best_trial})" if best_trial is not None else "")
        cards.append((f"Best {data.metric}", shown if best_value is not None else "–"))
    if s.get("test_score") is not None:
        cards.append((f"Test {data.metric}", fmt(s["test_score"])))

    states = Counter(t.state.name.lower() for t in trials)
    parts = [
        f"{states.get('complete', 0)} complete",
        f"{states.get('pruned', 0)} pruned",
        f"{states.get('fail', 0)} failed",
    ]
    if states.get("running"):
        parts.append(f"{states['running']} running")
    cards.append(("Trials", " · ".join(parts)))

    wall = s.get("wall_time_s") if isinstance(s.get("wall_time_s"), dict) else {}
    span = _span_s(trials)
    total = wall.get("total")
    if total is not None:
        opt = wall.get("optimize")
        extra = f" (search {_duration(opt)})" if opt is not None else ""
        cards.append(("Wall time", _duration(total) + extra))
    elif span is not None:
        cards.append(("Wall time", f"{_duration(span)} so far"))

    n_jobs = s.get("n_jobs", data.study.user_attrs.get("n_jobs"))
    workers = f" with {n_jobs} workers" if isinstance(n_jobs, int) and n_jobs > 1 else ""
    busy, opt = s.get("trial_time_s_sum"), wall.get("optimize")
    if busy is None and not s:  # live study: estimate from the trials
        busy = sum(d for t in trials if not math.isnan(d := duration_s(t)))
        opt = span
    if busy is not None and opt:
        cards.append(("Speed-up from parallelism", f"{float(busy) / float(opt):.2f}×{workers}"))
    return cards


def _span_s(trials) -> float | None:
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
    if not starts or not ends:
        return None
    return max((max(ends) - min(starts)).total_seconds(), 0.0)


def _duration(seconds) -> str:
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
