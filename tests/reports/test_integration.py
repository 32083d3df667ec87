"""A real tiny study through run_study, then every table and dashboard figure from its output."""

import plotly.graph_objects as go

from automl.reports import (
    dashboard_figures,
    epochs_table,
    load_study_data,
    summary_cards,
    summary_table,
    trials_table,
)

SPACE = {
    "parameters": {
        "hidden_layer_sizes": {"type": "layers", "n_layers": 1, "units": {"low": 8, "high": 16}},
        "learning_rate": {"type": "float", "low": 3e-3, "high": 3e-2, "log": True},
        "batch_size": {"type": "categorical", "choices": [16, 32]},
    }
}


def test_dashboard_of_a_real_study(tmp_path):
    from automl import run_study

    out = tmp_path / "out"
    spec = {
        "name": "tiny_report",
        "dataset": "iris",
        "space": SPACE,
        "epochs": 2,
        "n_trials": 3,
        "n_jobs": 1,
        "seed": 0,
        "output": str(out),
        "sampler": {"name": "random"},
        "pruner": "none",
    }
    result = run_study(spec, verbose=0)

    data = load_study_data(out)
    assert data.name == "tiny_report" and data.metric == "accuracy"
    assert data.task == "classification"  # from the study attrs, summary or metric name

    trials = trials_table(data)
    assert len(trials) == 3 and set(trials["state"]) <= {"complete", "fail"}
    assert {"param_learning_rate", "param_batch_size", "seed", "duration_s"} <= set(trials)
    assert trials["seed"].notna().all() and (trials["epochs_run"] == 2).all()
    epochs = epochs_table(data)
    assert len(epochs) == 3 * 2 and {"loss", "val_loss", "val_accuracy"} <= set(epochs)
    summary = summary_table(data, k=2)
    assert (
        summary.loc[summary["section"] == "best", "number"].item() == result.summary["best_trial"]
    )

    figures = dashboard_figures(data)
    for title in ("Optimization history", "Learning curves of the best trials",
                  "Intermediate values", "Parameter importances", "Slice plots",
                  "Timeline of trials per worker"):  # fmt: skip
        assert title in figures
    for title, fig in figures.items():
        assert isinstance(fig, go.Figure) and fig.layout.title.text == title
        texts = [a.text for a in fig.layout.annotations]
        assert not any("Could not draw" in t for t in texts), (title, texts)
    assert figures["Optimization history"].data
    assert figures["Learning curves of the best trials"].data
    assert figures["Test diagnostics of the best model"].data
    assert list(dashboard_figures(result)) == list(figures)  # a StudyResult, for notebooks

    cards = dict(summary_cards(data))
    assert cards["Best accuracy"].startswith(f"{result.best_value:.4g}")
    assert cards["Trials"].startswith(f"{result.summary['trials_by_state'].get('complete')} ")
    assert "Wall time" in cards
