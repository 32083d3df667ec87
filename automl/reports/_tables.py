"""Tidy pandas tables of a study: trials, epochs, summary and parameter importances."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from automl import search

from ._data import (
    StudyData,
    is_numeric,
    load_study_data,
    param_distributions,
    pareto_trials,
    ranked_trials,
    trial_values,
)

__all__ = [
    "trials_table",
    "epochs_table",
    "summary_table",
    "top_trials_table",
    "marginals_table",
    "importances_table",
]

def _as_data(data) -> StudyData:
    return data if isinstance(data, StudyData) else load_study_data(data)


def value_columns(data: StudyData) -> list[str]:
    """``["value"]``, or ``["values_0", "values_1", ...]`` for a multi-objective study."""
    return search.value_columns(len(data.directions))


def trials_table(data) -> pd.DataFrame:
    """One row per trial: :func:`automl.search.trials_table` of the study.

    Parameters
    ----------
    data : StudyData or anything :func:`load_study_data` accepts

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import optuna
    >>> from automl.reports import trials_table
    >>> study = optuna.create_study(directions=["maximize", "minimize"])
    >>> list(trials_table(study).columns)[:4]
    ['number', 'state', 'values_0', 'values_1']
    """
    data = _as_data(data)
    return search.trials_table(data.study, max_epochs=data.max_epochs)


def epochs_table(data) -> pd.DataFrame:
    """One row per trial, fold and epoch: :func:`automl.search.epochs_table` of the study.

    Parameters
    ----------
    data : StudyData or anything :func:`load_study_data` accepts

    Returns
    -------
    pandas.DataFrame
    """
    return search.epochs_table(_as_data(data).study)


def top_trials_table(data, k: int = 5) -> pd.DataFrame:
    """The ``k`` best complete trials, best first (multi-objective: the Pareto front).

    Columns: ``rank`` (1 = best), ``number``, the value column(s), ``param_<name>``,
    ``duration_s``, ``epochs_run``, ``seed``. Ties in value go to the runner's best
    trial, then the lowest final ``val_loss``. For a multi-objective study all
    Pareto-optimal trials are listed (at least ``k`` rows when there are that many).
    """
    data = _as_data(data)
    ranked = ranked_trials(data)
    n = max(k, len(pareto_trials(data))) if data.is_multi_objective else k
    keep = {t.number: i + 1 for i, t in enumerate(ranked[:n])}
    table = trials_table(data)
    table = table[table["number"].isin(list(keep))].copy()
    table.insert(0, "rank", table["number"].map(keep).astype(int))
    pcols = [c for c in table.columns if c.startswith("param_")]
    cols = ["rank", "number", *value_columns(data), *pcols, "duration_s", "epochs_run", "seed"]
    return table.sort_values("rank")[cols].reset_index(drop=True)


def marginals_table(data) -> pd.DataFrame:
    """Per-parameter marginal statistics of the complete trials' (first) objective.

    Categorical parameters: one row per choice with ``count``, ``value_mean``,
    ``value_min`` and ``value_max`` of the trials that drew it. Numeric parameters:
    one row with ``count``, ``spearman`` (rank correlation of the parameter with the
    value) and ``best_quartile_low``/``best_quartile_high`` (range of the parameter over
    the best quarter of the trials, rounded up, in the study's direction).

    Columns: ``parameter``, ``kind`` (``categorical``/``int``/``float``), ``choice``,
    ``count``, ``value_mean``, ``value_min``, ``value_max``, ``spearman``,
    ``best_quartile_low``, ``best_quartile_high``.
    """
    from optuna.distributions import IntDistribution

    data = _as_data(data)
    trials = [t for t in data.trials(("complete",)) if t.values is not None]
    values = np.array([trial_values(t, len(data.directions))[0] for t in trials], dtype=float)
    maximize = data.directions[0] == "maximize"
    rows = []
    for name, dist in param_distributions(trials).items():
        has = [i for i, t in enumerate(trials) if name in t.params and not np.isnan(values[i])]
        if not has:
            continue
        v = values[has]
        if not is_numeric(dist):
            drawn = [trials[i].params[name] for i in has]
            for choice in dist.choices:
                sel = v[[d == choice for d in drawn]] if drawn else v[:0]
                rows.append(
                    {
                        "parameter": name,
                        "kind": "categorical",
                        "choice": choice,
                        "count": int(len(sel)),
                        "value_mean": float(sel.mean()) if len(sel) else math.nan,
                        "value_min": float(sel.min()) if len(sel) else math.nan,
                        "value_max": float(sel.max()) if len(sel) else math.nan,
                    }
                )
            continue
        x = np.array([float(trials[i].params[name]) for i in has])
        order = np.argsort(-v if maximize else v, kind="stable")
        best = x[order[: math.ceil(len(x) / 4)]]
        rows.append(
            {
                "parameter": name,
                "kind": "int" if isinstance(dist, IntDistribution) else "float",
                "choice": None,
                "count": int(len(x)),
                "spearman": _spearman(x, v),
                "best_quartile_low": float(best.min()),
                "best_quartile_high": float(best.max()),
            }
        )
    columns = [
        "parameter",
        "kind",
        "choice",
        "count",
        "value_mean",
        "value_min",
        "value_max",
        "spearman",
        "best_quartile_low",
        "best_quartile_high",
    ]
    df = pd.DataFrame(rows, columns=columns)
    df["count"] = df["count"].astype(int)
    for col in columns[4:]:
        df[col] = df[col].astype(float)
    return df


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2:
        return math.nan
    rx, ry = _ranks(x), _ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def _ranks(a: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank)."""
    order = np.argsort(a, kind="stable")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(len(a), dtype=float)
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def summary_table(data, k: int = 5) -> pd.DataFrame:
    """Best trial, top-``k`` trials and per-parameter marginal statistics in one table.

    The rows of :func:`top_trials_table` (``section`` ``"best"`` for rank 1, ``"top_k"``
    for the others) followed by those of :func:`marginals_table` (``section``
    ``"marginal"``); each section fills its own columns, the others are NaN.

    Parameters
    ----------
    data : StudyData or anything :func:`load_study_data` accepts
    k : int, default=5
        Number of best trials listed.

    Returns
    -------
    pandas.DataFrame
    """
    data = _as_data(data)
    top = top_trials_table(data, k)
    top.insert(0, "section", np.where(top["rank"] == 1, "best", "top_k"))
    marg = marginals_table(data)
    marg.insert(0, "section", "marginal")
    parts = [df for df in (top, marg) if len(df)]
    if not parts:
        return pd.DataFrame(columns=["section", *top.columns[1:], *marg.columns[1:]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # concat of all-NA columns
        df = pd.concat(parts, ignore_index=True, sort=False)
    for col in ("rank", "number", "count", "epochs_run", "seed"):
        if col in df:
            df[col] = pd.array(df[col].tolist(), dtype="Int64")
    return df


def importances_table(data, *, evaluator=None) -> pd.DataFrame:
    """Hyperparameter importances (``optuna.importance.get_param_importances``).

    Parameters
    ----------
    data : StudyData or anything :func:`load_study_data` accepts
    evaluator : optuna importance evaluator, optional
        Default ``FanovaImportanceEvaluator(seed=0)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter`` and ``importance`` (``importance_0``, ``importance_1``, ...
        per objective for a multi-objective study), most important first, normalized to
        sum to 1. Only parameters searched in every complete trial take part (Optuna's
        rule). With fewer than 2 complete trials, a single parameter, or when the
        evaluator fails, the table is empty; ``df.attrs["note"]`` says why.
        ``df.attrs["evaluator"]`` names the evaluator.
    """
    import optuna

    data = _as_data(data)
    default = evaluator is None
    if default:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    n_obj = len(data.directions)
    cols = ["importance"] if n_obj == 1 else [f"importance_{i}" for i in range(n_obj)]
    trials = [
        t
        for t in data.trials(("complete",))
        if t.values is not None and all(math.isfinite(v) for v in t.values)
    ]
    common = set.intersection(*(set(t.distributions) for t in trials)) if trials else set()
    varying = [
        p
        for p in param_distributions(trials)
        if p in common and not getattr(trials[0].distributions[p], "single", lambda: False)()
    ]
    # The default evaluator is seeded: its answer changes only with the complete trials.
    key = ("importances", tuple((t.number, tuple(t.values)) for t in trials))
    if default and key in data._cache:
        return data._cache[key].copy()
    note = None
    if len(trials) < 2:
        note = f"Importances need at least 2 complete trials ({len(trials)} so far)."
    elif not varying:
        note = "No parameter was searched in every complete trial."
    elif len(varying) == 1:
        note = f"Only one parameter ({varying[0]}) is searched: its importance is trivially 1."
    result = {}
    if note is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for i, col in enumerate(cols):
                    result[col] = optuna.importance.get_param_importances(
                        _FrozenView(data.study, trials),
                        evaluator=evaluator,
                        params=varying,
                        target=(lambda t, i=i: t.values[i]) if n_obj > 1 else None,
                    )
        except Exception as exc:  # evaluators fail on degenerate data (constant values, ...)
            note = f"Importances could not be computed: {type(exc).__name__}: {exc}"
            result = {}
    if note is not None:
        df = pd.DataFrame(
            {"parameter": pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in cols}}
        )
    else:
        params = list(result[cols[0]])
        df = pd.DataFrame(
            {"parameter": params, **{c: [float(result[c][p]) for p in params] for c in cols}}
        )
        df = df.sort_values(cols[0], ascending=False, kind="stable").reset_index(drop=True)
    df.attrs["evaluator"] = type(evaluator).__name__
    df.attrs["note"] = note
    if default:
        for old in [k for k in data._cache if k[0] == "importances"]:
            del data._cache[old]  # keep only the latest answer of a live study
        data._cache[key] = df.copy()
    return df


class _FrozenView:
    """The study as seen by importance evaluators: only the given (finite) trials.

    Evaluators call ``get_trials``/``trials``, ``directions`` and ``_is_multi_objective``;
    a fixed trial list also keeps a live study's new trials from changing the answer
    between objectives.
    """

    def __init__(self, study, trials):
        self._study = study
        self._trials = list(trials)

    def get_trials(self, deepcopy=True, states=None):
        if states is None:
            return list(self._trials)
        return [t for t in self._trials if t.state in states]

    @property
    def trials(self):
        return list(self._trials)

    def __getattr__(self, name):
        return getattr(self._study, name)
