"""Trials, epochs, summary and importance tables."""

import math

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

from automl.reports import (
    epochs_table,
    importances_table,
    load_study_data,
    marginals_table,
    summary_table,
    top_trials_table,
    trials_table,
)
from tests.reports._studies import EPOCHS, STUDY_ATTRS, VALUES, epoch_logs, fill, frozen


def test_trials_table(classification_study):
    df = trials_table(classification_study)
    assert list(df["number"]) == list(range(9))
    assert list(df.columns[:3]) == ["number", "state", "value"]
    params = [c for c in df.columns if c.startswith("param_")]
    assert params == [
        "param_learning_rate",
        "param_units",
        "param_activation",
        "param_momentum",
    ]
    for col in ("duration_s", "epochs_run", "pruned_at_epoch", "worker", "seed", "n_params",
                "fit_time_s", "error", "datetime_start", "datetime_complete"):  # fmt: skip
        assert col in df.columns, col
    assert list(df["state"]) == ["complete"] * 6 + ["pruned", "pruned", "fail"]
    np.testing.assert_allclose(df["value"][:6], VALUES)
    assert df["value"][6:].isna().all()
    # momentum is conditional: NaN in the odd trials.
    assert df["param_momentum"][[1, 3, 5]].isna().all()
    assert df["param_momentum"][0] == pytest.approx(0.8)
    assert df["param_activation"][1] == "tanh" and df["param_units"][2] == 24
    np.testing.assert_allclose(df["duration_s"], [8.0] * 6 + [3.0, 4.0, 1.0])
    assert df["epochs_run"][:7].tolist() == [EPOCHS] * 6 + [2] and df["epochs_run"][8] == 1
    # Trial 7 (an older study) has neither logs nor attributes: no epochs_run, and its
    # pruned_at_epoch comes from its last reported step.
    assert df["epochs_run"].isna()[7]
    assert df["pruned_at_epoch"].tolist()[6:8] == [1, 2]
    assert df["pruned_at_epoch"][:6].isna().all()
    assert df["worker"].tolist()[:6] == [0, 1, 0, 1, 0, 1] and df["worker"].isna()[7]
    assert df["seed"][3] == 103 and str(df["seed"].dtype) == "Int64"
    assert df["error"][8] == "FloatingPointError: NaN loss"
    assert df["error"][:8].isna().all()


def test_epochs_run_fallbacks():
    study = optuna.create_study()
    logs = epoch_logs(0.5, 3)
    study.add_trial(frozen(0, TrialState.COMPLETE, value=1.0, attrs={"epoch_logs": logs}))
    study.add_trial(frozen(1, TrialState.COMPLETE, value=2.0))
    df = trials_table(study)
    assert df["epochs_run"][0] == 3 and df["epochs_run"].isna()[1]
    assert df["worker"].isna().all() and df["seed"].isna().all()


def test_multi_objective_columns(multi_objective_study):
    df = trials_table(multi_objective_study)
    assert "value" not in df.columns
    assert df["values_0"].tolist() == [0.9, 0.8, 0.85, 0.7, 0.6]
    assert df["values_1"].tolist() == [1000, 500, 2000, 400, 600]
    top = top_trials_table(multi_objective_study, k=2)
    # The whole Pareto front (trials 0, 1, 3), best first by accuracy.
    assert top["number"].tolist() == [0, 1, 3]


def test_epochs_table(classification_study):
    df = epochs_table(classification_study)
    assert list(df.columns) == ["number", "state", "fold", "epoch", "loss", "accuracy",
                                "val_loss", "val_accuracy", "learning_rate"]  # fmt: skip
    # 6 complete x 4 epochs, the pruned trial's 2, the failed trial's 1; trial 7 has no logs.
    assert len(df) == 6 * EPOCHS + 2 + 1
    assert (df["fold"] == 0).all()
    t1 = df[df["number"] == 1]
    assert t1["epoch"].tolist() == [0, 1, 2, 3]
    assert math.isnan(t1["val_loss"].iloc[2])  # stored as None
    assert t1["val_accuracy"].iloc[-1] == pytest.approx(0.7)
    failed = df[df["number"] == 8]
    assert failed["state"].item() == "fail" and math.isnan(failed["loss"].item())
    assert math.isnan(failed["val_loss"].item())


def test_epochs_table_kfold():
    study = optuna.create_study(direction="maximize")
    folds = [epoch_logs(0.8, 3), epoch_logs(0.7, 2)]
    attrs = {"fold_epoch_logs": folds, "epoch_logs": folds[0]}
    fill(study, [frozen(0, TrialState.COMPLETE, value=0.75, attrs=attrs)],
         {**STUDY_ATTRS, "validation": "kfold:2"})  # fmt: skip
    df = epochs_table(study)
    assert df["fold"].tolist() == [0, 0, 0, 1, 1]
    assert df["epoch"].tolist() == [0, 1, 2, 0, 1]
    assert df["val_accuracy"].tolist() == pytest.approx([0.6, 0.7, 0.8, 0.6, 0.7])


def test_summary_table(classification_study):
    df = summary_table(classification_study, k=3)
    assert set(df["section"]) == {"best", "top_k", "marginal"}
    top = df[df["section"] != "marginal"]
    # Tie at 0.9 between trials 3 and 5: trial 5 has the lower final val_loss.
    assert top["number"].tolist() == [5, 3, 4]
    assert top["rank"].tolist() == [1, 2, 3]
    assert df.loc[df["section"] == "best", "number"].item() == 5

    m = marginals_table(classification_study)
    act = m[m["parameter"] == "activation"].set_index("choice")
    assert act["count"].sum() == 6
    # relu: trials 0 and 3 (0.5, 0.9); tanh: 1 and 4 (0.7, 0.8); sigmoid: 2 and 5 (0.6, 0.9).
    assert act.loc["relu", "value_mean"] == pytest.approx(0.7)
    assert act.loc["tanh", "value_max"] == pytest.approx(0.8)
    assert act.loc["sigmoid", "value_min"] == pytest.approx(0.6)
    units = m[m["parameter"] == "units"].iloc[0]
    assert units["kind"] == "int" and units["count"] == 6
    ranks = pd.Series(VALUES).rank()  # average ranks of the tie at 0.9
    expected = np.corrcoef(np.arange(6), ranks)[0, 1]  # units increase with the trial
    assert units["spearman"] == pytest.approx(expected)
    # Best quarter (2 of 6 trials): trials 3 and 5 -> units 32..48.
    assert (units["best_quartile_low"], units["best_quartile_high"]) == (32, 48)
    lr = m[m["parameter"] == "learning_rate"].iloc[0]
    assert lr["spearman"] == pytest.approx(-expected)
    assert m[m["parameter"] == "momentum"]["count"].item() == 3


def test_summary_follows_runner_best_and_minimize(study_dir):
    data = load_study_data(study_dir)
    assert top_trials_table(data, k=1)["number"].tolist() == [5]
    study = optuna.create_study(direction="minimize")
    for i, v in enumerate([3.0, 1.0, 2.0]):
        study.add_trial(frozen(i, TrialState.COMPLETE, value=v, params={"x": float(i)},
                               dists={"x": FloatDistribution(0, 5)}))  # fmt: skip
    top = top_trials_table(study, k=5)
    assert top["number"].tolist() == [1, 2, 0]
    m = marginals_table(study)
    assert m["best_quartile_low"].item() == 1.0 == m["best_quartile_high"].item()


def test_importances_table(classification_study):
    df = importances_table(classification_study)
    assert list(df.columns) == ["parameter", "importance"]
    # momentum is not searched in every trial: left out, as Optuna does.
    assert set(df["parameter"]) == {"learning_rate", "units", "activation"}
    assert df["importance"].sum() == pytest.approx(1.0)
    assert df["importance"].is_monotonic_decreasing
    assert df.attrs["evaluator"] == "FanovaImportanceEvaluator" and df.attrs["note"] is None
    again = importances_table(classification_study)
    pd.testing.assert_frame_equal(df, again)  # seeded


def test_importances_fallbacks(multi_objective_study):
    study = optuna.create_study()
    df = importances_table(study)
    assert df.empty and "at least 2 complete trials" in df.attrs["note"]
    dist = {"x": FloatDistribution(0, 1)}
    for i in range(3):
        study.add_trial(frozen(i, TrialState.COMPLETE, value=float(i), params={"x": i / 3},
                               dists=dist))  # fmt: skip
    df = importances_table(study)
    assert df.empty and "Only one parameter" in df.attrs["note"]

    df = importances_table(multi_objective_study)
    assert list(df.columns) == ["parameter", "importance_0", "importance_1"]
    assert df["importance_0"].sum() == pytest.approx(1.0)
    assert df["importance_1"].sum() == pytest.approx(1.0)


def _sklearn_study():
    """Candidates of a GridSearchCV-engine study, recorded as trials."""
    study = optuna.create_study(direction="maximize")
    dists = {"alpha": CategoricalDistribution([1e-4, 1e-3, 1e-2]),
             "activation": CategoricalDistribution(["relu", "tanh"])}  # fmt: skip
    trials, i = [], 0
    grid = [(a, act) for a in (1e-4, 1e-3, 1e-2) for act in ("relu", "tanh")]
    scores = [[0.8, 0.9, 0.85], [0.7, 0.75, 0.8], [0.9, 0.95, 0.9],
              [0.6, 0.6, 0.6], [0.85, 0.8, 0.8], [0.7, 0.72, 0.74]]  # fmt: skip
    ranks = (-np.array([np.mean(s) for s in scores])).argsort().argsort() + 1
    for i, ((alpha, act), cv) in enumerate(zip(grid, scores)):
        trials.append(
            frozen(i, TrialState.COMPLETE, value=float(np.mean(cv)),
                   params={"alpha": alpha, "activation": act}, dists=dists,
                   attrs={"cv_scores": cv, "rank": int(ranks[i]), "fit_time_s": 1.0})
        )  # fmt: skip
    return fill(study, trials, {**STUDY_ATTRS, "engine": "sklearn", "validation": "kfold:3"})


def test_sklearn_engine_tables():
    study = _sklearn_study()
    df = trials_table(study)
    cv = ["rank_test_score", "std_test_score", *(f"split{i}_test_score" for i in range(3))]
    assert list(df.columns[-8:-3]) == cv
    assert df.loc[2, "rank_test_score"] == 1 and df.loc[2, "split1_test_score"] == 0.95
    assert df.loc[3, "std_test_score"] == pytest.approx(0.0)
    assert df.loc[0, "std_test_score"] == pytest.approx(np.std([0.8, 0.9, 0.85]))
    assert df["epochs_run"].isna().all()
    assert epochs_table(study).empty
    top = top_trials_table(study, k=2)
    assert top["number"].tolist() == [2, 0]
    m = marginals_table(study)
    assert set(m["kind"]) == {"categorical"} and m["count"].sum() == 12
    imp = importances_table(study)
    assert set(imp["parameter"]) == {"alpha", "activation"}


@pytest.mark.parametrize(
    "table",
    [trials_table, epochs_table, summary_table, top_trials_table, marginals_table,
     importances_table],
    ids=lambda f: f.__name__,
)  # fmt: skip
def test_tables_of_an_empty_study(table):
    df = table(optuna.create_study())
    assert df.empty and len(df.columns) >= 2
