"""``AutoClassifier`` / ``AutoRegressor``: scikit-learn estimators that run a study on ``fit``.

They are thin: ``fit(X, y)`` builds a study (:func:`automl.search.run_study` with
the data in memory, ``preprocessing: auto``, no test split) bounded by a time
budget, and keeps what it found: the refit best pipeline (the table's
preprocessing, then the network), its parameters and validation score, the
leaderboard of trials and the Optuna study.
"""

from __future__ import annotations

import numbers
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._validation import Interval, validate_params

__all__ = ["AutoClassifier", "AutoRegressor"]

#: Share of ``time_budget`` after which no trial starts: the rest is for the
#: trials still running and the refit of the best one.
TRIAL_SHARE = 0.7
#: Trials of a fit when ``max_trials`` is None: the time budget ends the search.
_UNBOUNDED_TRIALS = 100_000


def _is_frame(X) -> bool:
    return hasattr(X, "columns") and hasattr(X, "iloc")


class _AutoBase(BaseEstimator):
    """Shared by :class:`AutoClassifier` and :class:`AutoRegressor` (see them)."""

    _task = ""

    _parameter_constraints = {
        "time_budget": [Interval(numbers.Real, 0, None, closed="neither")],
        "model": [str],
        "space": [None, str, Path, dict],
        "metric": [None, str],
        "validation": [Interval(numbers.Real, 0, 1, closed="neither"), dict],
        "n_jobs": [Interval(int, 1, None), lambda v: v == -1],
        "random_state": [None, Interval(int, 0, None)],
        "output": [None, str, Path],
        "verbose": [Interval(int, 0, None)],
        "epochs": [Interval(int, 1, None)],
        "max_trials": [None, Interval(int, 1, None)],
    }

    def __init__(
        self,
        time_budget=60,
        *,
        model="mlp",
        space=None,
        metric=None,
        validation=0.2,
        n_jobs=-1,
        random_state=None,
        output=None,
        verbose=1,
        epochs=20,
        max_trials=None,
    ):
        self.time_budget = time_budget
        self.model = model
        self.space = space
        self.metric = metric
        self.validation = validation
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.output = output
        self.verbose = verbose
        self.epochs = epochs
        self.max_trials = max_trials

    # ------------------------------------------------------------------
    def fit(self, X, y):
        """Search the networks for ``X, y`` within ``time_budget`` seconds; keep the best.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Numbers, text, categories, booleans, datetimes; missing values allowed.
        y : array-like of shape (n_samples,)
            Targets (labels of any kind for :class:`AutoClassifier`).

        Returns
        -------
        self
        """
        from automl import search

        start = time.perf_counter()
        validate_params(self.get_params(deep=False), self._parameter_constraints,
                        type(self).__name__)
        X, y = self._check_data(X, y)
        y = self._check_targets(y)
        temporary = self.output is None
        output = Path(tempfile.mkdtemp(prefix="automl-auto-")) if temporary else Path(self.output)
        try:
            with warnings.catch_warnings():
                # Each trial's preprocessor would warn about the same dropped columns.
                warnings.filterwarnings("ignore", message=".*dropped .* column")
                result = search.run_study(
                    self._study(output, spent=time.perf_counter() - start), X=X, y=y,
                    verbose=int(self.verbose), overwrite=True,
                )
            self.study_ = _in_memory_copy(result.study)
        finally:
            if temporary:
                shutil.rmtree(output, ignore_errors=True)
        self.best_estimator_ = result.best_model
        self.best_params_ = dict(result.best_params)
        self.best_score_ = float(result.best_value)
        self.leaderboard_ = leaderboard(self.study_, best=result.summary.get("best_trial"))
        self.output_dir_ = None if temporary else output
        self.fit_time_ = time.perf_counter() - start
        if self.verbose and self.fit_time_ > 1.05 * self.time_budget:
            print(f"{type(self).__name__}: the fit took {self.fit_time_:.1f} s for a time "
                  f"budget of {self.time_budget} s (the last trials and the refit ran over).")
        return self

    def _study(self, output: Path, spent: float = 0.0) -> dict:
        """The study of a fit; ``spent``: seconds of the budget already used."""
        validation = self.validation
        if isinstance(validation, numbers.Real):
            validation = float(validation)
        study = {
            "name": type(self).__name__,
            "task": self._task,
            "model": self.model,
            "validation": validation,
            "test_size": 0,
            "epochs": int(self.epochs),
            "n_trials": self.max_trials or _UNBOUNDED_TRIALS,
            "timeout": max(TRIAL_SHARE * float(self.time_budget) - spent, 1e-3),
            "n_jobs": self.n_jobs,
            "output": str(output),
        }
        for key, value in (("space", self.space), ("metric", self.metric),
                           ("seed", self.random_state)):
            if value is not None:
                study[key] = str(value) if isinstance(value, Path) else value
        return study

    def _check_data(self, X, y):
        if _is_frame(X):
            validate_data(self, X, skip_check_array=True, reset=True)
        else:
            X = check_array(X, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=2)
            validate_data(self, X, skip_check_array=True, reset=True)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None.")
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        if y.ndim != 1:
            if y.ndim == 2 and y.shape[1] == 1:
                warnings.warn("A column-vector y was passed when a 1d array was expected; it "
                              "is raveled.", DataConversionWarning, stacklevel=3)
                y = y.ravel()
            else:
                raise ValueError(f"The 'y' argument of {type(self).__name__}.fit must be 1-D. "
                                 f"Got shape {y.shape} instead.")
        if len(y) != X.shape[0]:
            raise ValueError(f"The 'y' argument of {type(self).__name__}.fit must have one value "
                             f"per row of X ({X.shape[0]}). Got {len(y)} instead.")
        return X, y

    def _check_targets(self, y):
        return y

    def _check_X(self, X):
        check_is_fitted(self, "best_estimator_")
        if not _is_frame(X):
            X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
        validate_data(self, X, skip_check_array=True, reset=False)
        return X

    def predict(self, X):
        """Predictions of the best pipeline.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        return self.best_estimator_.predict(X)

    def report(self, path):
        """Write the study's dashboard (as ``report.html``) to ``path``; return the path.

        With ``output`` set the dashboard reads the whole run directory;
        otherwise the study kept in memory (trials, epochs, parameters).
        """
        from automl import reports

        check_is_fitted(self, "best_estimator_")
        if self.output_dir_ is not None and Path(self.output_dir_).is_dir():
            return reports.write_report(self.output_dir_, path)
        return reports.write_report(self.study_, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = True  # what a time budget allows depends on the machine
        return tags


class AutoClassifier(ClassifierMixin, _AutoBase):
    """A classifier that searches neural networks for its data within a time budget.

    ``fit(X, y)`` runs a study (:func:`automl.search.run_study` on the data in
    memory): the table is preprocessed automatically
    (:class:`automl.tabular.TabularPreprocessor`, fitted inside each trial's
    training part), network configurations are drawn from ``space`` by Optuna's
    TPE sampler and trained in ``n_jobs`` worker processes, each scored on the
    validation part, and the best configuration is refit on all the rows.

    Parameters
    ----------
    time_budget : float, default=60
        Seconds for the whole fit. No trial starts after 70% of it; the rest
        is for the trials still running and the refit (the fit may run over
        when one trial is long: lower ``epochs`` then).
    model : str, default="mlp"
        ``"mlp"``, ``"cnn"`` or ``"package.module:builder"``.
    space : str, path or dict, default=None
        The search space (a file, a shipped space's name or a mapping); None:
        the model's shipped space (``mlp.yaml``).
    metric : str, default=None
        A scikit-learn scorer name; None: ``accuracy``.
    validation : float or dict, default=0.2
        Holdout fraction scoring the trials, or ``{"kfold": k}``.
    n_jobs : int, default=-1
        Worker processes (-1: one per core).
    random_state : int, default=None
        Seed of the study (splits, sampler, trial seeds).
    output : str or path, default=None
        Keep the run directory there (replacing a previous run's); None: a
        temporary directory removed at the end of ``fit``.
    verbose : int, default=1
        0: silent; 1: the preprocessing, a progress bar and the final report.
    epochs : int, default=20
        Most epochs per trial.
    max_trials : int, default=None
        Stop after this many trials (None: the time budget decides).

    Attributes
    ----------
    best_estimator_ : sklearn.pipeline.Pipeline
        ``("preprocess", TabularPreprocessor)`` then ``("model", KerasClassifier)``,
        refit on every row.
    best_params_ : dict
        The best trial's estimator parameters.
    best_score_ : float
        Its validation score (``metric``).
    leaderboard_ : pandas.DataFrame
        One row per trial, best first: ``rank``, ``trial``, ``configuration``,
        ``validation_score``, ``fit_time_s``, ``state``.
    study_ : optuna.Study
        The study (in memory).
    classes_ : ndarray
        The class labels.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` was a DataFrame with string column names.
    output_dir_ : Path or None
        The run directory kept (``output``).
    fit_time_ : float
        Seconds ``fit`` took.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from automl import AutoClassifier
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> clf = AutoClassifier(time_budget=5, max_trials=2, epochs=3, n_jobs=1,
    ...                      random_state=0, verbose=0).fit(X, y)
    >>> clf.predict(X.head(3)).shape, clf.classes_.tolist()
    ((3,), [0, 1, 2])
    >>> list(clf.leaderboard_.columns)
    ['rank', 'trial', 'configuration', 'validation_score', 'fit_time_s', 'state']
    """

    _task = "classification"

    def _check_targets(self, y):
        check_classification_targets(y)
        if np.unique(y).size < 2:
            raise ValueError(f"The 'y' argument of {type(self).__name__}.fit must hold at least "
                             f"2 classes. Got only {np.unique(y)!r}.")
        return y

    @property
    def classes_(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_

    def predict_proba(self, X):
        """Class probabilities of the best pipeline, columns in ``classes_`` order.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        X = self._check_X(X)
        return self.best_estimator_.predict_proba(X)


class AutoRegressor(RegressorMixin, _AutoBase):
    """A regressor that searches neural networks for its data within a time budget.

    As :class:`AutoClassifier`, for a numeric target; the network learns the
    standardized target (:func:`automl.tabular.standardized_target`) and
    predicts in the original units. ``metric`` defaults to ``r2``;
    ``best_estimator_`` ends with the standardized-target wrapper around the
    ``KerasRegressor``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from automl import AutoRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = AutoRegressor(time_budget=5, max_trials=1, epochs=2, n_jobs=1,
    ...                     random_state=0, verbose=0).fit(X, y)
    >>> bool(50 < reg.predict(X[:50]).mean() < 250)  # original units
    True
    """

    _task = "regression"

    def _check_targets(self, y):
        if y.dtype.kind in "biuf":
            return y
        try:
            return y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"The 'y' argument of {type(self).__name__}.fit must be numeric. "
                             f"Got dtype {y.dtype} with values such as {y[0]!r}.") from None


def leaderboard(study, best: int | None = None):
    """The trials of ``study`` as a table, best first (see ``AutoClassifier.leaderboard_``).

    Ordered by validation score; ``best`` (the trial the study chose: ties are
    broken by the final validation loss) comes first.
    """
    import pandas as pd

    sign = 1.0 if study.direction.name == "MAXIMIZE" else -1.0
    rows = []
    for t in study.get_trials(deepcopy=False):
        value = float(t.values[0]) if t.values else np.nan
        rows.append({
            "trial": t.number,
            "configuration": t.user_attrs.get("estimator_params", dict(t.params)),
            "validation_score": value,
            "fit_time_s": t.user_attrs.get("fit_time_s"),
            "state": t.state.name,
        })
    table = pd.DataFrame(rows, columns=["trial", "configuration", "validation_score",
                                        "fit_time_s", "state"])
    key = table["validation_score"].astype(float) * -sign
    key[table["trial"] == best] = -np.inf
    table = table.assign(_key=key).sort_values(["_key", "trial"], na_position="last")
    table = table.drop(columns="_key").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def _in_memory_copy(study):
    """``study`` copied into an in-memory storage (its files may be removed; picklable)."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        copy = optuna.create_study(directions=study.directions, study_name=study.study_name)
    finally:
        optuna.logging.set_verbosity(verbosity)
    for key, value in study.user_attrs.items():
        copy.set_user_attr(key, value)
    copy.add_trials(study.get_trials(deepcopy=False))
    return copy
