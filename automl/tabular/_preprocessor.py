"""TabularPreprocessor: a ColumnTransformer built from a table's dtypes and contents."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    StandardScaler,
    TargetEncoder,
)
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import Interval, Options, validate_params
from ._columns import DATETIME, DROP, NUMERIC, ONEHOT, TARGET, ColumnPlan, plan_column
from ._encoders import DatetimeParts, category_strings

__all__ = ["TabularPreprocessor", "ColumnsDroppedWarning"]


class ColumnsDroppedWarning(UserWarning):
    """Warned once per fit by :class:`TabularPreprocessor` when it drops columns.

    A runner that fits many preprocessors can silence it with
    ``warnings.simplefilter("ignore", ColumnsDroppedWarning)`` and show the
    treatments table instead.
    """


def _numeric_steps():
    return [
        ("impute", SimpleImputer(strategy="median", add_indicator=True)),
        ("scale", StandardScaler()),
    ]


def _target_encoder(target_type: str, seed, y) -> TargetEncoder:
    """A TargetEncoder whose cross-fitting folds are shuffled with ``seed``."""
    if TargetEncoder().get_params()["random_state"] != "deprecated":  # scikit-learn < 1.9
        return TargetEncoder(target_type=target_type, random_state=seed)
    kind = type_of_target(y) if target_type == "auto" else target_type
    splitter = KFold if kind == "continuous" else StratifiedKFold
    return TargetEncoder(target_type=target_type, cv=splitter(5, shuffle=True, random_state=seed))


def _as_strings():
    return ("strings", FunctionTransformer(category_strings, feature_names_out="one-to-one"))


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Automatic preprocessing of a table, decided column by column at ``fit``.

    At ``fit`` each column of ``X`` is inspected (dtype, distinct values,
    missing values) and given a treatment; the treatments are declared as a
    scikit-learn :class:`~sklearn.compose.ColumnTransformer`
    (``column_transformer_``), fitted on the same rows, so every statistic
    (medians, scales, levels, target means) comes from the training rows only.

    ================  ==========================================================
    column            treatment
    ================  ==========================================================
    numeric           median imputation, a missing-indicator column where
                      training values were missing, standard scaling
    categorical       missing values become the level ``"(missing)"``; one-hot
                      (``handle_unknown="ignore"``, levels seen fewer than
                      ``min_frequency`` times grouped); more than
                      ``max_onehot_levels`` levels: target-encoded
                      (:class:`~sklearn.preprocessing.TargetEncoder`, then
                      scaled) when ``y`` is given, else one-hot of the
                      ``max_onehot_levels`` most frequent levels
    datetime          year, month, day, weekday, hour, minute, second (those
                      that vary in training), then as numeric
    ID-like           dropped (distinct integer or text value on every row)
    constant          dropped (one value, none missing), as is a column with
                      every value missing
    ================  ==========================================================

    Categorical means ``bool``, ``category``, text (object or string dtype),
    and integer-valued numbers with at most ``max_integer_levels`` distinct
    values and fewer distinct values than 5% of the rows: such integers are
    usually codes (classes, ratings, years of a study), one-hot lets a linear
    model give each its own effect, and the 5% bound keeps more than 20 rows
    per level on average (so a small sample is not exploded into levels).
    Text columns whose every value parses as a date in one format are datetime
    columns. A NumPy array is all numeric (only the constant and all-missing
    rules apply to it). Dropped columns are announced by one
    :class:`ColumnsDroppedWarning` per fit; ``treatments_table()`` lists every
    column's treatment and reason.

    Parameters
    ----------
    max_onehot_levels : int, default=20
        Categorical columns with more distinct training values are target
        encoded (or capped to this many one-hot levels without ``y``).
    max_integer_levels : int, default=10
        Integer columns with at most this many distinct values (and fewer than
        5% of the rows) are categorical.
    min_frequency : int or float, default=5
        Levels seen fewer times (or, as a float, in a smaller fraction of the
        rows) share one "infrequent" one-hot column (``OneHotEncoder``'s
        ``min_frequency``).
    target_type : {"auto", "continuous", "binary", "multiclass"}, default="auto"
        Passed to :class:`~sklearn.preprocessing.TargetEncoder`. ``"auto"``
        infers it from ``y``; pass ``"continuous"`` for regression with an
        integer target (which ``"auto"`` would take for classes).
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the target encoder's cross-fitting folds.
    warn_dropped : bool, default=True
        Warn (:class:`ColumnsDroppedWarning`) when columns are dropped. A study
        fits one preprocessor per trial and prints the treatments once instead.

    Attributes
    ----------
    column_transformer_ : sklearn.compose.ColumnTransformer
        The fitted transformer that does the work.
    column_treatments_ : dict of str to dict
        For each input column: ``dtype``, ``treatment`` (``"numeric"``,
        ``"onehot"``, ``"target"``, ``"datetime"`` or ``"drop"``), ``reason``,
        ``n_unique``, ``n_missing`` and the output ``features``.
    n_features_in_ : int
        Number of columns seen at fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen at fit, when ``X`` had string column names.

    Notes
    -----
    ``fit_transform`` is not ``fit().transform()`` when a column is target
    encoded: as :class:`~sklearn.preprocessing.TargetEncoder` does, it encodes
    the training rows by cross fitting so that a row's own target does not
    leak into its encoding. A pipeline's ``fit`` uses ``fit_transform``.

    Examples
    --------
    >>> import pandas as pd
    >>> from automl.tabular import TabularPreprocessor
    >>> X = pd.DataFrame({"age": [22.0, None, 35.0, 58.0],
    ...                   "sex": ["m", "f", "f", None]})
    >>> pre = TabularPreprocessor(min_frequency=1).fit(X)
    >>> pre.transform(X).shape
    (4, 5)
    >>> list(pre.get_feature_names_out())  # doctest: +NORMALIZE_WHITESPACE
    ['numeric__age', 'numeric__missingindicator_age',
     'onehot__sex_(missing)', 'onehot__sex_f', 'onehot__sex_m']
    """

    _parameter_constraints = {
        "max_onehot_levels": [Interval(int, 1, None)],
        "max_integer_levels": [Interval(int, 0, None)],
        "min_frequency": [Interval(int, 1, None), Interval(float, 0.0, 1.0, closed="right")],
        "target_type": [Options(("auto", "continuous", "binary", "multiclass"))],
        "random_state": [None, Interval(int, 0, None), np.random.Generator],
        "warn_dropped": [bool],
    }

    def __init__(
        self,
        *,
        max_onehot_levels=20,
        max_integer_levels=10,
        min_frequency=5,
        target_type="auto",
        random_state=None,
        warn_dropped=True,
    ):
        self.max_onehot_levels = max_onehot_levels
        self.max_integer_levels = max_integer_levels
        self.min_frequency = min_frequency
        self.target_type = target_type
        self.random_state = random_state
        self.warn_dropped = warn_dropped

    # ------------------------------------------------------------------
    # fit / transform
    # ------------------------------------------------------------------
    def fit(self, X, y=None):
        """Inspect the columns of ``X`` and fit the column transformer on them.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Training table.
        y : array-like of shape (n_samples,), default=None
            Target, used only by target-encoded columns.

        Returns
        -------
        self : TabularPreprocessor
        """
        self._fit(X, y, transform=False, stacklevel=3)
        return self

    def fit_transform(self, X, y=None):
        """Fit on ``X`` and return its transformed training rows (cross-fitted target encoding).

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Training table.
        y : array-like of shape (n_samples,), default=None
            Target, used only by target-encoded columns.

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_features_out), float32
        """
        # One more frame: scikit-learn's set_output wraps fit_transform.
        return self._fit(X, y, transform=True, stacklevel=4)

    def transform(self, X):
        """Apply the fitted treatments to ``X``.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features_in_)
            Table with the columns seen at fit (unseen categories are ignored).

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_features_out), float32
        """
        check_is_fitted(self, "column_transformer_")
        frame = self._prepare(self._as_frame(X, reset=False))
        return self._output(self.column_transformer_.transform(frame))

    def get_feature_names_out(self, input_features=None):
        """Names of the output features, prefixed by their treatment.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Must equal ``feature_names_in_`` if given.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "column_transformer_")
        if input_features is not None and list(input_features) != list(self._names):
            raise ValueError(
                "input_features is not equal to feature_names_in_: "
                f"got {list(input_features)!r}, expected {list(self._names)!r}."
            )
        return self.column_transformer_.get_feature_names_out()

    def treatments_table(self) -> pd.DataFrame:
        """The treatment of every input column, one row each, as a DataFrame.

        Columns: ``column``, ``dtype``, ``treatment``, ``reason``, ``n_unique``,
        ``n_missing``, ``n_features`` (outputs) and ``features``; ready to
        print or to write with ``to_csv`` / ``to_json``.

        Examples
        --------
        >>> import pandas as pd
        >>> from automl.tabular import TabularPreprocessor
        >>> X = pd.DataFrame({"id": range(30), "x": [0.5 * i for i in range(30)]})
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     table = TabularPreprocessor().fit(X).treatments_table()
        >>> table[["column", "treatment", "n_features"]]
          column treatment  n_features
        0     id      drop           0
        1      x   numeric           1
        """
        check_is_fitted(self, "column_transformer_")
        rows = [
            {
                "column": name,
                **{k: v for k, v in info.items() if k != "features"},
                "n_features": len(info["features"]),
                "features": " ".join(info["features"]),
            }
            for name, info in self.column_treatments_.items()
        ]
        return pd.DataFrame(rows)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        # The output is float32 whatever the input dtype.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ------------------------------------------------------------------
    # internals
    # ------------------------------------------------------------------
    def _fit(self, X, y, *, transform, stacklevel):
        validate_params(self.get_params(), self._parameter_constraints, type(self).__name__)
        frame = self._as_frame(X, reset=True)
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
                raise ValueError(
                    f"The 'y' argument of {type(self).__name__}.fit must be 1-D. "
                    f"Got an array of shape {y.shape} instead."
                )
            y = y.ravel()
            if len(y) != len(frame):
                raise ValueError(
                    f"The 'y' argument of {type(self).__name__}.fit must have one value per "
                    f"row of X ({len(frame)}). Got {len(y)} instead."
                )
        plans = [
            plan_column(
                frame[name],
                name,
                max_onehot_levels=self.max_onehot_levels,
                max_integer_levels=self.max_integer_levels,
                has_target=y is not None,
                from_array=self._from_array,
            )
            for name in frame.columns
        ]
        self._plans = {p.name: p for p in plans}
        frame = self._prepare(frame)
        dropped = [p for p in plans if p.treatment == DROP]
        if dropped and self.warn_dropped:
            listed = "; ".join(f"{p.name!r} ({p.reason})" for p in dropped)
            warnings.warn(
                f"{type(self).__name__} dropped {len(dropped)} column(s): {listed}.",
                ColumnsDroppedWarning,
                stacklevel=stacklevel,
            )
        ct = self._column_transformer(plans, y)
        out = ct.fit_transform(frame, y) if transform else ct.fit(frame, y)
        self.column_transformer_ = ct
        self.column_treatments_ = self._treatments(plans)
        return self._output(out) if transform else None

    def _column_transformer(self, plans: list[ColumnPlan], y) -> ColumnTransformer:
        seed = self.random_state
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**31 - 1))
        groups = {
            NUMERIC: [p.name for p in plans if p.treatment == NUMERIC],
            ONEHOT: [
                p.name
                for p in plans
                if p.treatment == ONEHOT and p.n_unique <= self.max_onehot_levels
            ],
            "onehot_top": [
                p.name
                for p in plans
                if p.treatment == ONEHOT and p.n_unique > self.max_onehot_levels
            ],
            TARGET: [p.name for p in plans if p.treatment == TARGET],
            DATETIME: [p.name for p in plans if p.treatment == DATETIME],
        }

        def onehot(**kw):
            encoder = OneHotEncoder(
                handle_unknown="ignore",
                min_frequency=self.min_frequency,
                sparse_output=False,
                **kw,
            )
            return Pipeline([_as_strings(), ("encode", encoder)])

        steps = {
            NUMERIC: lambda: Pipeline(_numeric_steps()),
            ONEHOT: onehot,
            # max_categories counts the infrequent column: keep max_onehot_levels levels.
            "onehot_top": lambda: onehot(max_categories=self.max_onehot_levels + 1),
            TARGET: lambda: Pipeline(
                [
                    _as_strings(),
                    ("encode", _target_encoder(self.target_type, seed, y)),
                    ("scale", StandardScaler()),
                ]
            ),
            DATETIME: lambda: Pipeline(
                [
                    (
                        "parts",
                        DatetimeParts({p.name: p.parts for p in plans if p.treatment == DATETIME}),
                    ),
                    *_numeric_steps(),
                ]
            ),
        }
        transformers = [(kind, steps[kind](), cols) for kind, cols in groups.items() if cols]
        return ColumnTransformer(
            transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=True
        )

    def _treatments(self, plans: list[ColumnPlan]) -> dict:
        # Each output feature belongs to the column whose name is the longest prefix of
        # the feature's name (after the group prefix and any "missingindicator_").
        features = {p.name: [] for p in plans}
        for kind, transformer, cols in self.column_transformer_.transformers_:
            if kind == "remainder":
                continue
            by_length = sorted(cols, key=len, reverse=True)
            for base in transformer.get_feature_names_out(cols):
                stem = base.removeprefix("missingindicator_")
                owner = next(c for c in by_length if stem == c or stem.startswith(f"{c}_"))
                features[owner].append(f"{kind}__{base}")
        return {
            p.name: {
                "dtype": p.dtype,
                "treatment": p.treatment,
                "reason": p.reason,
                "n_unique": p.n_unique,
                "n_missing": p.n_missing,
                "features": features[p.name],
            }
            for p in plans
        }

    def _as_frame(self, X, *, reset: bool) -> pd.DataFrame:
        owner = type(self).__name__
        if isinstance(X, pd.DataFrame):
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(
                    f"The 'X' argument of {owner} must have at least one row and one column. "
                    f"Got a DataFrame of shape {X.shape} instead."
                )
            validate_data(self, X, reset=reset, skip_check_array=True)
            if reset:
                self._from_array = False
                self._names = (
                    list(self.feature_names_in_)
                    if hasattr(self, "feature_names_in_")
                    else [f"x{i}" for i in range(X.shape[1])]
                )
            return X.set_axis(self._names, axis=1)
        if not reset and not self._from_array:
            # Fitted on a DataFrame, given an array: columns by position (scikit-learn warns).
            X = validate_data(self, X, reset=False, dtype=None, ensure_all_finite=False)
            return pd.DataFrame(X, columns=self._names).infer_objects()
        X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan")
        if reset:
            self._from_array = True
            self._names = [f"x{i}" for i in range(X.shape[1])]
        return pd.DataFrame(X, columns=self._names, copy=False)

    def _prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Check each kept column's values against its treatment; parse datetimes."""
        owner = type(self).__name__
        prepared = {}
        for name, plan in self._plans.items():
            column = frame[name]
            if plan.treatment == NUMERIC:
                prepared[name] = _numeric_column(column, name, owner)
            elif plan.treatment == DATETIME:
                prepared[name] = _datetime_column(column, plan, owner)
            elif plan.treatment != DROP:
                prepared[name] = column
        if not prepared:
            return pd.DataFrame(index=frame.index)
        return pd.DataFrame(prepared, index=frame.index)

    @staticmethod
    def _output(Xt) -> np.ndarray:
        return np.ascontiguousarray(Xt, dtype=np.float32)


def _numeric_column(column: pd.Series, name: str, owner: str) -> pd.Series:
    if ptypes.is_bool_dtype(column.dtype) or not ptypes.is_numeric_dtype(column.dtype):
        converted = pd.to_numeric(column, errors="coerce")
        bad = column[converted.isna() & column.notna()]
        if len(bad):
            raise TypeError(
                f"The column {name!r} given to {owner} must be numeric, as it was at fit. "
                f"Got dtype {column.dtype} with value {bad.iloc[0]!r} instead."
            )
        column = converted
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        raise ValueError(
            f"The column {name!r} given to {owner} must not contain infinite values. "
            f"Got {values[np.isinf(values)][0]!r}."
        )
    return pd.Series(values, index=column.index, name=name)


def _datetime_column(column: pd.Series, plan: ColumnPlan, owner: str) -> pd.Series:
    if ptypes.is_datetime64_any_dtype(column.dtype):
        return column
    if ptypes.is_numeric_dtype(column.dtype) or ptypes.is_bool_dtype(column.dtype):
        if column.isna().all():
            return pd.to_datetime(column)
        raise TypeError(
            f"The column {plan.name!r} given to {owner} must hold datetimes or date text, as "
            f"it did at fit. Got dtype {column.dtype} instead."
        )
    if not all(isinstance(v, str) for v in column.dropna()):
        bad = next(v for v in column.dropna() if not isinstance(v, str))
        raise TypeError(
            f"The column {plan.name!r} given to {owner} must hold date text, as it did at fit. "
            f"Got a {type(bad).__name__} value ({bad!r}) instead."
        )
    parsed = pd.to_datetime(column, format=plan.datetime_format, errors="coerce")
    bad = column[parsed.isna() & column.notna()]
    if len(bad):
        raise ValueError(
            f"The column {plan.name!r} given to {owner} must hold dates in the format "
            f"{plan.datetime_format!r} seen at fit. Got {bad.iloc[0]!r} instead."
        )
    return parsed
