"""The rules that decide how each column of a table is treated.

One function, :func:`plan_column`, looks at one training column (its dtype and
its values) and returns a :class:`ColumnPlan`: the treatment and the reason,
in words a user can read in the treatments table. The rules, in order:

1. every value missing -> dropped;
2. a single value and nothing missing -> dropped (constant);
3. ``datetime64`` dtype, or text whose every non-missing value parses as a
   date with one format -> expanded into numeric parts;
4. integer or text/``category`` values distinct on every row (no missing value,
   at least :data:`MIN_ID_ROWS` rows) -> dropped as an identifier; floats are
   never identifiers (distinct measurements are the norm for them);
5. ``bool``, ``category`` and text -> categorical; integer-valued numbers
   (integer dtype, or floats whose values are all whole numbers, as pandas
   reads an integer column with missing values) with at most
   ``max_integer_levels`` distinct values *and* fewer distinct values than
   :data:`INTEGER_LEVEL_ROW_FRACTION` of the rows -> categorical too;
6. other numbers -> numeric;
7. categorical with more than ``max_onehot_levels`` distinct values ->
   target-encoded when a target is given, else one-hot encoded with the
   levels beyond ``max_onehot_levels`` grouped together.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pandas.tseries.api import guess_datetime_format

__all__ = [
    "ColumnPlan",
    "plan_column",
    "DATETIME_PARTS",
    "MIN_ID_ROWS",
    "INTEGER_LEVEL_ROW_FRACTION",
]

#: Below this many rows a column of distinct values is as likely a feature as an identifier.
MIN_ID_ROWS = 20
#: An integer column is categorical only if it has fewer levels than this fraction of the
#: rows, so that each level has on average more than 20 rows to estimate its effect.
INTEGER_LEVEL_ROW_FRACTION = 0.05
#: Numeric parts a datetime column is expanded into (those that vary in training are kept).
DATETIME_PARTS = ("year", "month", "day", "weekday", "hour", "minute", "second")

# The treatments, as written in ``column_treatments_`` and the treatments table.
NUMERIC = "numeric"
ONEHOT = "onehot"
TARGET = "target"
DATETIME = "datetime"
DROP = "drop"


@dataclass
class ColumnPlan:
    """How one column is treated, and why (all plain data, picklable)."""

    name: str
    dtype: str
    treatment: str
    reason: str
    n_unique: int
    n_missing: int
    #: For datetime columns stored as text: the ``strptime`` format they parse with.
    datetime_format: str | None = None
    #: For datetime columns: the parts kept (those that vary in training).
    parts: tuple = field(default_factory=tuple)


def _is_text(series: pd.Series) -> bool:
    return ptypes.is_object_dtype(series.dtype) or ptypes.is_string_dtype(series.dtype)


def _check_scalar_values(values: pd.Series, name: str) -> None:
    """Text/object columns may hold strings, numbers and booleans, nothing else."""
    bad = values[~values.map(lambda v: isinstance(v, (str, bytes, numbers.Number, np.bool_)))]
    if len(bad):
        value = bad.iloc[0]
        raise TypeError(
            f"The column {name!r} holds a {type(value).__name__} value ({value!r}); "
            "expected numbers, text, booleans, categories or datetimes."
        )


def parse_datetime_text(values: pd.Series) -> tuple[str | None, pd.Series | None]:
    """Return ``(format, parsed)`` if every value of ``values`` (non-missing text) is a date.

    The format is guessed from the first value (month first, else day first)
    and must parse all the others,
    so that a column is read the same way at fit and at transform. Text that
    is entirely numeric is not taken for dates.
    """
    if not len(values) or not isinstance(values.iloc[0], str):
        return None, None
    # Month-first, then day-first: the first format that reads every value wins.
    first = values.iloc[0]
    formats = [
        f for f in dict.fromkeys(guess_datetime_format(first, dayfirst=d) for d in (0, 1)) if f
    ]
    if not formats or not values.map(lambda v: isinstance(v, str)).all():
        return None, None
    if pd.to_numeric(values, errors="coerce").notna().all():
        return None, None
    for fmt in formats:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if not parsed.isna().any():
            return fmt, parsed
    return None, None


def datetime_part(values: pd.Series, part: str) -> np.ndarray:
    """One numeric part of a datetime64 series, as float64 with NaN where missing."""
    accessor = values.dt
    raw = accessor.day_of_week if part == "weekday" else getattr(accessor, part)
    return raw.to_numpy(dtype=np.float64, na_value=np.nan)


def _integer_valued(values: pd.Series) -> bool:
    if ptypes.is_integer_dtype(values.dtype):
        return True
    if ptypes.is_float_dtype(values.dtype):
        v = values.to_numpy(dtype=np.float64)
        return bool(np.all(np.isfinite(v)) and np.all(v == np.round(v)))
    return False


def plan_column(
    series: pd.Series,
    name: str,
    *,
    max_onehot_levels: int,
    max_integer_levels: int,
    has_target: bool,
    from_array: bool = False,
) -> ColumnPlan:
    """Decide the treatment of one training column (see the module docstring).

    ``from_array`` marks columns of a NumPy array: they are all numeric, and
    only the all-missing and constant rules apply to them.
    """
    n_rows = len(series)
    n_missing = int(series.isna().sum())
    values = series.dropna()
    dtype = str(series.dtype)

    def plan(treatment, reason, n_unique, **extra):
        return ColumnPlan(name, dtype, treatment, reason, int(n_unique), n_missing, **extra)

    if n_missing == n_rows:
        return plan(DROP, "all values missing", 0)
    text = _is_text(series)
    if text and ptypes.is_object_dtype(series.dtype):  # a string dtype holds only strings
        _check_scalar_values(values, name)
    n_unique = values.nunique()
    if n_unique == 1 and n_missing == 0:
        return plan(DROP, f"constant (every value is {values.iloc[0]!r})", 1)

    if from_array:
        return plan(NUMERIC, "NumPy array column: numeric", n_unique)

    is_bool = ptypes.is_bool_dtype(series.dtype)
    if ptypes.is_datetime64_any_dtype(series.dtype) or (text and not is_bool):
        fmt, parsed = (None, values) if not text else parse_datetime_text(values)
        if parsed is not None:
            parts = tuple(p for p in DATETIME_PARTS if len(np.unique(datetime_part(parsed, p))) > 1)
            if not parts:
                return plan(DROP, "datetimes with no varying part", n_unique)
            how = "datetime64 dtype" if fmt is None else f"text parsed as dates ({fmt})"
            return plan(
                DATETIME,
                f"{how}: expanded into {', '.join(parts)}",
                n_unique,
                datetime_format=fmt,
                parts=parts,
            )

    categorical = is_bool or text or isinstance(series.dtype, pd.CategoricalDtype)
    numeric = ptypes.is_numeric_dtype(series.dtype) and not is_bool
    if not (categorical or numeric):
        raise TypeError(
            f"The column {name!r} has dtype {dtype}, which automatic preprocessing does not "
            "handle; expected numbers, text, booleans, categories or datetimes."
        )

    integer_dtype = numeric and ptypes.is_integer_dtype(series.dtype)
    if (
        (integer_dtype or (categorical and not is_bool))
        and n_missing == 0
        and n_unique == n_rows
        and n_rows >= MIN_ID_ROWS
    ):
        return plan(DROP, f"ID-like: a distinct value on each of the {n_rows} rows", n_unique)

    if numeric:
        if (
            n_unique <= max_integer_levels
            and n_unique < INTEGER_LEVEL_ROW_FRACTION * n_rows
            and _integer_valued(values)
        ):
            categorical = True
            kind = f"integers with {n_unique} levels (<= {max_integer_levels}, < 5% of rows)"
        else:
            return plan(NUMERIC, "numeric", n_unique)
    elif is_bool:
        kind = "bool"
    elif isinstance(series.dtype, pd.CategoricalDtype):
        kind = f"category dtype with {n_unique} levels"
    else:
        kind = f"text with {n_unique} levels"

    if n_unique <= max_onehot_levels:
        return plan(ONEHOT, f"{kind}: one-hot", n_unique)
    if has_target:
        return plan(TARGET, f"{kind} (> {max_onehot_levels}): target-encoded", n_unique)
    return plan(
        ONEHOT,
        f"{kind} (> {max_onehot_levels}), no target given: one-hot of the "
        f"{max_onehot_levels} most frequent levels",
        n_unique,
    )
