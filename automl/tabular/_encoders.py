"""The two column steps scikit-learn does not ship: category text and datetime parts.

Both are module-level (picklable) and stateless beyond their arguments, so the
``ColumnTransformer`` that :class:`~automl.tabular.TabularPreprocessor` builds
stays declarative: impute, scale and encode are scikit-learn's own transformers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._columns import datetime_part

__all__ = ["MISSING_LEVEL", "category_strings", "DatetimeParts"]

#: The level that missing values of a categorical column become before encoding.
MISSING_LEVEL = "(missing)"


def _column_strings(series: pd.Series) -> np.ndarray:
    out = np.full(len(series), MISSING_LEVEL, dtype=object)
    present = series.notna().to_numpy()
    values = series[present]
    if ptypes.is_numeric_dtype(values.dtype) and not ptypes.is_bool_dtype(values.dtype):
        # Whole numbers print without a decimal point whatever the dtype, so that an
        # integer column read as float (because of missing values) keeps its levels.
        v = values.to_numpy(dtype=np.float64)
        whole = v == np.round(v)
        text = v.astype(str)
        text[whole] = v[whole].astype(np.int64).astype(str)
        out[present] = text
    elif ptypes.is_string_dtype(values.dtype) and not ptypes.is_object_dtype(values.dtype):
        out[present] = values.to_numpy(dtype=object)
    else:
        out[present] = [str(v) for v in values]
    return out


def category_strings(X) -> np.ndarray:
    """Each column's levels as text, missing values as :data:`MISSING_LEVEL`.

    One representation for every categorical column (text, ``category``,
    ``bool``, integer codes), so the encoders see uniform string data and a
    value reads the same at fit and at transform whatever dtype it arrives in.
    """
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    if frame.shape[1] == 0:
        return np.empty((len(frame), 0), dtype=str)
    # A NumPy string array (not object): scikit-learn's encoders then find and count
    # levels with np.unique rather than element by element in Python.
    columns = [_column_strings(frame.iloc[:, j]) for j in range(frame.shape[1])]
    return np.column_stack(columns).astype(str)


class DatetimeParts(TransformerMixin, BaseEstimator):
    """Expand datetime64 columns into numeric parts (NaN where the date is missing).

    Parameters
    ----------
    parts : dict of str to tuple of str
        For each column name, the parts to output, from
        :data:`~automl.tabular._columns.DATETIME_PARTS`.
    """

    def __init__(self, parts):
        self.parts = parts

    def fit(self, X, y=None):
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self)
        columns = [datetime_part(X[name], part) for name in X.columns for part in self.parts[name]]
        if not columns:
            return np.empty((len(X), 0))
        return np.column_stack(columns)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return np.asarray(
            [f"{name}_{part}" for name in self.feature_names_in_ for part in self.parts[name]],
            dtype=object,
        )
