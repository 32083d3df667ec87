"""Figures: their pure data steps, and figure properties (trace types, titles, axes)."""

import datetime as dt

import numpy as np
import optuna
import plotly.graph_objects as go
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

import automl.reports as reports
from automl.reports import (
    contour_data,
    dashboard_figures,
    diagnostics_data,
    intermediate_values_data,
    learning_curves_data,
    load_study_data,
    optimization_history_data,
    parallel_coordinates_data,
    pareto_front_data,
    plot_contour,
    plot_diagnostics,
    plot_intermediate_values,
    plot_learning_curves,
    plot_optimization_history,
    plot_parallel_coordinates,
    plot_param_importances,
    plot_pareto_front,
    plot_slice,
    plot_timeline,
    slice_data,
    summary_cards,
    timeline_data,
)
from tests.reports._studies import (
    DISTS,
    STUDY_ATTRS,
    T0,
    VALUES,
    Y_PRED,
    Y_TRUE,
    classification_trials,
    fill,
    frozen,
    journal_storage,
)

PLOTS = [
    plot_optimization_history, plot_parallel_coordinates, plot_param_importances, plot_slice,
    plot_contour, plot_learning_curves, plot_intermediate_values, plot_timeline,
    plot_diagnostics, plot_pareto_front,
]  # fmt: skip


def _annotations(fig):
    return [a.text for a in fig.layout.annotations]


def _axis_titles(fig, axis="x"):
    """Titles of the x (or y) axes in axis order (xaxis, xaxis2, ...), untitled ones left out."""
    names = sorted(
        (n for n in fig.layout if n.startswith(f"{axis}axis")),
        key=lambda n: int(n[5:] or 1),
    )
    return [fig.layout[n].title.text for n in names if fig.layout[n].title.text]


def test_optimization_history(classification_study):
    df = optimization_history_data(classification_study)
    assert df["number"].tolist() == list(range(6))
    assert df["value"].tolist() == VALUES
    assert df["best_so_far"].tolist() == [0.5, 0.7, 0.7, 0.9, 0.9, 0.9]
    assert df["best_so_far"].is_monotonic_increasing
    assert df["is_best"].tolist() == [True, True, False, True, False, False]
    fig = plot_optimization_history(classification_study)
    assert fig.layout.title.text == "Optimization history"
    assert [t.name for t in fig.data] == ["Objective value", "Best so far"]
    assert all(isinstance(t, go.Scatter) for t in fig.data)
    assert fig.layout.xaxis.title.text == "Trial"
    assert fig.layout.yaxis.title.text == "accuracy (maximize)"


def test_optimization_history_minimize_and_multi(multi_objective_study):
    study = optuna.create_study(direction="minimize")
    for i, v in enumerate([3.0, 4.0, 1.0, 2.0]):
        study.add_trial(frozen(i, TrialState.COMPLETE, value=v))
    df = optimization_history_data(study)
    assert df["best_so_far"].tolist() == [3.0, 3.0, 1.0, 1.0]
    assert df["best_so_far"].is_monotonic_decreasing

    df = optimization_history_data(multi_objective_study)
    assert df["best_so_far_0"].tolist() == [0.9] * 5  # maximize accuracy
    assert df["best_so_far_1"].tolist() == [1000, 500, 500, 400, 400]  # minimize n_params
    fig = plot_optimization_history(multi_objective_study)
    assert _axis_titles(fig, "y") == ["accuracy (maximize)", "n_params (minimize)"]


def test_parallel_coordinates(classification_study):
    info = parallel_coordinates_data(classification_study)
    labels = [d["label"] for d in info["dimensions"]]
    assert labels == ["accuracy", "learning_rate", "units", "activation"]
    assert info["skipped"] == ["momentum"]
    lr, units, act = info["dimensions"][1:]
    np.testing.assert_allclose(lr["values"], [-1 - 0.5 * i for i in range(6)])  # log10
    assert act["values"] == [0, 1, 2, 0, 1, 2] and act["ticktext"] == ["relu", "tanh", "sigmoid"]
    assert units["values"] == [8, 16, 24, 32, 40, 48]
    fig = plot_parallel_coordinates(classification_study)
    assert isinstance(fig.data[0], go.Parcoords)
    assert [d.label for d in fig.data[0].dimensions] == labels
    assert fig.layout.title.text == "Parallel coordinates"
    assert any("momentum" in a for a in _annotations(fig))


def test_param_importances_plot(classification_study):
    fig = plot_param_importances(classification_study)
    bar = fig.data[0]
    assert isinstance(bar, go.Bar) and bar.orientation == "h"
    assert set(bar.y) == {"learning_rate", "units", "activation"}
    assert list(bar.x) == sorted(bar.x)  # most important on top
    assert fig.layout.xaxis.title.text == "Importance (Fanova)"
    assert fig.layout.yaxis.title.text == "Parameter"


def test_slice(classification_study):
    info = slice_data(classification_study)
    assert [p["name"] for p in info["params"]] == [
        "learning_rate", "units", "activation", "momentum"
    ]  # fmt: skip
    pts = info["points"]
    assert len(pts) == 6 * 3 + 3  # momentum only in 3 trials
    act = pts[pts["parameter"] == "activation"]
    assert act["param_value"].tolist() == ["relu", "tanh", "sigmoid"] * 2
    assert act["value"].tolist() == VALUES
    fig = plot_slice(classification_study)
    assert len(fig.data) == 4 and fig.layout.title.text == "Slice plots"
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis3.type == "category"
    assert _axis_titles(fig) == ["learning_rate", "units", "activation", "momentum"]
    assert fig.layout.yaxis.title.text == "accuracy"


def test_contour(classification_study):
    info = contour_data(classification_study)
    assert info["reason"] is None
    assert {info["x_param"], info["y_param"]} == {"learning_rate", "units"}
    z = np.array(info["z"])
    assert z.shape == (40, 40)
    assert z.min() >= min(VALUES) - 1e-9 and z.max() <= max(VALUES) + 1e-9  # interpolation
    assert len(info["points"]) == 6
    fig = plot_contour(classification_study)
    assert isinstance(fig.data[0], go.Contour) and isinstance(fig.data[1], go.Scatter)
    assert fig.layout.xaxis.title.text == info["x_param"]
    assert fig.layout.yaxis.title.text == info["y_param"]


def test_contour_graceful():
    study = optuna.create_study()
    dists = {"x": FloatDistribution(0, 1), "c": CategoricalDistribution(["a", "b"])}
    for i in range(3):
        study.add_trial(frozen(i, TrialState.COMPLETE, value=float(i), dists=dists,
                               params={"x": i / 3, "c": "ab"[i % 2]}))  # fmt: skip
    info = contour_data(study)
    assert "two numeric parameters" in info["reason"]
    fig = plot_contour(study)
    assert not fig.data and info["reason"] in _annotations(fig)
    assert fig.layout.title.text == "Contour of the two most important parameters"


def test_learning_curves(classification_study):
    info = learning_curves_data(classification_study, k=2)
    assert info["trials"] == [5, 3]
    assert info["metric"] == "accuracy" and info["learning_rate"] == "learning_rate"
    df = info["epochs"]
    assert df[df["number"] == 5]["epoch"].tolist() == [0, 1, 2, 3]
    assert df[df["number"] == 5]["rank"].unique().tolist() == [1]
    fig = plot_learning_curves(classification_study, k=2)
    # Per trial: loss train/val, accuracy train/val, learning rate.
    assert len(fig.data) == 2 * 5
    dashed = [t.line.dash for t in fig.data[:5]]
    assert dashed == ["solid", "dash", "solid", "dash", "solid"]
    assert fig.layout.yaxis3.type == "log"
    assert _axis_titles(fig, "y") == ["Loss", "accuracy", "Learning rate"]
    assert fig.layout.xaxis3.title.text == "Epoch"


def test_intermediate_values_pruned_markers(classification_study):
    info = intermediate_values_data(classification_study)
    pruned = info["pruned"]
    assert pruned["number"].tolist() == [6, 7]
    assert pruned["step"].tolist() == [1, 2]  # pruned_at_epoch, else the last reported step
    assert pruned["value"].tolist() == [0.35, 0.22]
    assert info["x_title"] == "Epoch"
    curves = info["curves"]
    assert len(curves) == 6 * 4 + 2 + 3
    fig = plot_intermediate_values(classification_study)
    marks = [t for t in fig.data if t.name == "Pruned here"]
    assert len(marks) == 1 and list(marks[0].x) == [1, 2] and marks[0].marker.symbol == "x"
    assert fig.layout.xaxis.title.text == "Epoch"
    assert fig.layout.yaxis.title.text == "Reported value (accuracy)"


def test_intermediate_values_kfold():
    study = optuna.create_study(direction="maximize")
    t = frozen(0, TrialState.PRUNED, attrs={"pruned_at_epoch": 1},
               steps={0: 0.5, 1: 0.6, 2: 0.55, 3: 0.58})  # fold 1, epoch 1 of 2  # fmt: skip
    fill(study, [t], {**STUDY_ATTRS, "epochs": 2, "validation": "kfold:2"})
    info = intermediate_values_data(study)
    assert info["pruned"]["step"].tolist() == [3]
    assert info["pruned"]["pruned_at_epoch"].tolist() == [1]
    assert info["x_title"].startswith("Step")


def test_timeline(classification_study):
    df = timeline_data(classification_study)
    assert len(df) == 9
    row = df[df["number"] == 3].iloc[0]
    assert row["lane"] == "worker 1" and row["duration_s"] == 8.0
    assert row["start"] == T0 + dt.timedelta(seconds=30)
    # Trial 7 has no worker: it gets a lane of its own.
    assert df.loc[df["number"] == 7, "lane"].item().startswith("lane")
    fig = plot_timeline(classification_study)
    assert {t.name for t in fig.data} == {"complete", "pruned", "fail"}
    assert all(isinstance(t, go.Bar) and t.orientation == "h" for t in fig.data)
    complete = next(t for t in fig.data if t.name == "complete")
    assert list(complete.x) == [8000.0] * 6  # milliseconds on a date axis
    assert fig.layout.xaxis.type == "date"
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("Time", "Worker")


def test_timeline_lanes_without_workers():
    study = optuna.create_study()
    spans = [(0, 10), (2, 5), (6, 9), (11, 12)]  # seconds
    for i, (a, b) in enumerate(spans):
        study.add_trial(frozen(i, TrialState.COMPLETE, value=1.0, seconds=b - a,
                               start=T0 + dt.timedelta(seconds=a)))  # fmt: skip
    study.add_trial(frozen(4, TrialState.RUNNING, start=T0 + dt.timedelta(seconds=3)))
    now = T0 + dt.timedelta(seconds=20)
    df = timeline_data(study, now=now)
    lanes = dict(zip(df["number"], df["lane"]))
    assert lanes == {0: "lane 0", 1: "lane 1", 4: "lane 2", 2: "lane 1", 3: "lane 0"}
    assert df.loc[df["number"] == 4, "duration_s"].item() == 17.0
    for _, rows in df.groupby("lane"):  # no two trials overlap on a lane
        rows = rows.sort_values("start")
        assert (rows["start"].iloc[1:].values >= rows["end"].iloc[:-1].values).all()


def test_classification_diagnostics(study_dir):
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    data = load_study_data(study_dir)
    info = diagnostics_data(data)
    assert info["kind"] == "classification" and info["classes"] == ["a", "b", "c"]
    np.testing.assert_array_equal(
        info["confusion"], confusion_matrix(Y_TRUE, Y_PRED, labels=["a", "b", "c"])
    )
    p, r, _, s = precision_recall_fscore_support(Y_TRUE, Y_PRED, zero_division=0)
    np.testing.assert_allclose(info["precision"], p)
    np.testing.assert_allclose(info["recall"], r)
    assert info["support"] == s.tolist() and info["accuracy"] == pytest.approx(0.7)
    fig = plot_diagnostics(data)
    assert isinstance(fig.data[0], go.Heatmap) and [t.name for t in fig.data[1:]] == [
        "Precision", "Recall"
    ]  # fmt: skip
    assert fig.layout.title.text == "Test diagnostics of the best model"
    assert _axis_titles(fig) == ["Predicted class", "Class"]
    assert _axis_titles(fig, "y") == ["True class", "Score"]


def test_classification_diagnostics_unseen_class(classification_study):
    data = load_study_data(classification_study)
    data.test_predictions = {"y_true": np.array([0, 1, 2, 2]), "y_pred": np.array([0, 2, 2, 1]),
                             "classes": np.array([0, 1, 2, 3])}  # fmt: skip
    info = diagnostics_data(data)
    assert np.array(info["confusion"]).shape == (4, 4)
    assert info["support"] == [1, 1, 2, 0] and info["precision"][3] == 0.0


def test_regression_diagnostics(classification_study):
    from sklearn.metrics import mean_squared_error, r2_score

    data = load_study_data(classification_study)
    data.task = "regression"
    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 1.5, 3.5, 3.0])
    data.test_predictions = {"y_true": y, "y_pred": p}
    info = diagnostics_data(data)
    assert info["kind"] == "regression"
    np.testing.assert_allclose(info["residuals"], y - p)
    assert info["r2"] == pytest.approx(r2_score(y, p))
    assert info["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, p)))
    fig = plot_diagnostics(data)
    assert [t.name for t in fig.data] == ["Test samples", "Ideal (y = x)", "Residuals"]
    assert _axis_titles(fig) == ["Actual", "Predicted"]


def test_pareto_front(multi_objective_study, classification_study):
    df = pareto_front_data(multi_objective_study)
    assert df.loc[df["pareto"], "number"].tolist() == [0, 1, 3]
    fig = plot_pareto_front(multi_objective_study)
    front = next(t for t in fig.data if t.name == "Pareto front")
    assert list(front.x) == [0.7, 0.8, 0.9]  # sorted along the first objective
    assert fig.layout.xaxis.title.text == "accuracy (maximize)"
    assert fig.layout.yaxis.title.text == "n_params (minimize)"
    fig = plot_pareto_front(classification_study)
    assert not fig.data and "single objective" in _annotations(fig)[0]


def _study_with(n_complete: int):
    study = optuna.create_study(direction="maximize")
    trials = [t for t in classification_trials() if t.state != TrialState.COMPLETE]
    trials += [t for t in classification_trials() if t.state == TrialState.COMPLETE][:n_complete]
    study.add_trial(frozen(20, TrialState.RUNNING, params={"units": 8},
                           dists={"units": DISTS["units"]}))  # fmt: skip
    return fill(study, trials)


@pytest.mark.parametrize("n_complete", [0, 1])
@pytest.mark.parametrize("plot", PLOTS, ids=lambda f: f.__name__)
def test_few_trials(plot, n_complete):
    fig = plot(_study_with(n_complete))
    assert isinstance(fig, go.Figure) and fig.layout.title.text
    if not fig.data:
        assert _annotations(fig), "an empty figure says why"


def test_empty_study_dashboard():
    figs = dashboard_figures(optuna.create_study())
    assert "Optimization history" in figs and "Pareto front" not in figs
    for title, fig in figs.items():
        assert fig.layout.title.text == title and not fig.data
        assert _annotations(fig)
    labels = [label for label, _ in summary_cards(optuna.create_study())]
    assert labels == ["Best value", "Trials"]


def test_dashboard_figures(study_dir, multi_objective_study):
    data = load_study_data(study_dir)
    figs = dashboard_figures(data)
    assert list(figs) == [
        "Optimization history",
        "Test diagnostics of the best model",
        "Learning curves of the best trials",
        "Intermediate values",
        "Parameter importances",
        "Contour of the two most important parameters",
        "Parallel coordinates",
        "Slice plots",
        "Timeline of trials per worker",
    ]
    for title, fig in figs.items():
        assert fig.layout.title.text == title
        assert fig.data, title  # every panel has data for this study
        assert not any("Could not draw" in a for a in _annotations(fig)), title
    multi = dashboard_figures(multi_objective_study)
    assert list(multi)[:2] == ["Optimization history", "Pareto front"]
    assert "Test diagnostics of the best model" not in multi


def test_dashboard_survives_a_broken_figure(classification_study, monkeypatch):
    import automl.reports._figures as figures

    def broken(data):
        raise RuntimeError("boom")

    monkeypatch.setattr(figures, "plot_slice", broken)
    figs = dashboard_figures(classification_study)
    assert any("boom" in a for a in _annotations(figs["Slice plots"]))


def test_summary_cards(study_dir, classification_study, multi_objective_study):
    cards = dict(summary_cards(load_study_data(study_dir)))
    assert cards["Best accuracy"] == "0.9 (trial #5)"
    assert cards["Test accuracy"] == "0.7"
    assert cards["Trials"] == "6 complete · 2 pruned · 1 failed"
    assert cards["Wall time"] == "43.5 s (search 40.0 s)"
    assert cards["Speed-up from parallelism"] == "1.60× with 2 workers"  # 64 / 40
    # A running study (no summary): best from the trials, times from their datetimes.
    live = dict(summary_cards(classification_study))
    assert live["Best accuracy"] == "0.9 (trial #5)" and "Test accuracy" not in live
    assert live["Wall time"] == "1 min 21 s so far"  # trial 0 starts at 0 s, trial 8 ends at 81 s
    busy = 6 * 8 + 3 + 4 + 1
    assert live["Speed-up from parallelism"] == f"{busy / 81:.2f}× with 2 workers"
    multi = dict(summary_cards(multi_objective_study))
    assert multi["Pareto-optimal trials"] == "3 of 5 complete"


def test_plots_accept_sources(study_dir):
    fig = reports.plot_optimization_history(study_dir)
    assert fig.layout.title.text == "Optimization history" and len(fig.data) == 2


def test_regression_study_dashboard(tmp_path):
    """A minimizing regression study with its own log keys, from an output dir."""
    out = tmp_path / "reg"
    out.mkdir()
    study = optuna.create_study(
        study_name="reg", storage=journal_storage(out / "study.journal"), direction="minimize"
    )
    dists = {"learning_rate": DISTS["learning_rate"], "units": DISTS["units"]}
    trials = []
    for i, mse in enumerate([3.0, 2.0, 2.5, 1.0]):
        logs = {"loss": [mse + 1, mse], "mse": [mse + 1, mse], "val_loss": [mse + 2, mse + 0.5],
                "val_mse": [mse + 2, mse + 0.5]}  # fmt: skip
        trials.append(frozen(i, TrialState.COMPLETE, value=mse, dists=dists,
                             params={"learning_rate": 10 ** (-1 - i / 2), "units": 8 + 8 * i},
                             attrs={"epoch_logs": logs}, steps={0: mse + 1, 1: mse}))  # fmt: skip
    attrs = {**STUDY_ATTRS, "task": "regression", "metric": "mse", "direction": "minimize",
             "objectives": ["mse"]}  # fmt: skip
    fill(study, trials, attrs)
    y = np.linspace(0, 1, 8).reshape(-1, 1)
    np.savez(out / "test_predictions.npz", y_true=y, y_pred=y + 0.1)
    data = load_study_data(out)
    assert data.task == "regression" and data.directions == ["minimize"]
    hist = optimization_history_data(data)
    assert hist["best_so_far"].tolist() == [3.0, 2.0, 2.0, 1.0]
    curves = learning_curves_data(data, k=2)
    assert curves["trials"] == [3, 1] and curves["metric"] == "mse"
    assert curves["learning_rate"] is None
    info = diagnostics_data(data)
    assert info["kind"] == "regression" and info["mae"] == pytest.approx(0.1)
    figs = dashboard_figures(data)
    assert "Test diagnostics of the best model" in figs
    for title, fig in figs.items():
        assert fig.data, title
        assert not any("Could not draw" in a for a in _annotations(fig)), title
    assert dict(summary_cards(data))["Best mse"] == "1 (trial #3)"
