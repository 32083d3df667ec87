"""TabularPreprocessor: the column rules, on synthetic frames and the real shared tables."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from automl.tabular import ColumnsDroppedWarning, TabularPreprocessor


def _fit(X, y=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColumnsDroppedWarning)
        return TabularPreprocessor(**params).fit(X, y)


def _treatment(pre, column):
    return pre.column_treatments_[column]["treatment"]


# ----------------------------------------------------------------------
# the real tables
# ----------------------------------------------------------------------
def test_titanic_names_dropped_as_id_and_age_imputed(load_table):
    X, y = load_table("titanic")
    with pytest.warns(ColumnsDroppedWarning, match=r"'rownames' \(ID-like"):
        pre = TabularPreprocessor().fit(X, y)
    assert _treatment(pre, "rownames") == "drop"
    assert _treatment(pre, "age") == "numeric"
    assert pre.column_treatments_["age"]["n_missing"] == 263
    assert pre.column_treatments_["age"]["features"] == [
        "numeric__age",
        "numeric__missingindicator_age",
    ]
    assert _treatment(pre, "sex") == "onehot"
    assert _treatment(pre, "passengerClass") == "onehot"
    Xt = pre.transform(X)
    assert Xt.dtype == np.float32 and Xt.shape == (1309, 7)
    assert np.isfinite(Xt).all()
    names = list(pre.get_feature_names_out())
    # The indicator is 1 exactly on the rows whose age was missing (scaled, so compare signs).
    indicator = Xt[:, names.index("numeric__missingindicator_age")]
    np.testing.assert_array_equal(indicator > 0, X["age"].isna().to_numpy())
    # Missing ages become the training median, i.e. the same scaled value.
    age = Xt[X["age"].isna().to_numpy(), names.index("numeric__age")]
    assert np.ptp(age) == 0
    np.testing.assert_allclose(
        age[0],
        (X["age"].median() - X["age"].fillna(X["age"].median()).mean())
        / X["age"].fillna(X["age"].median()).std(ddof=0),
        rtol=1e-5,
    )


def test_penguins_missing_sex_is_a_level_and_year_categorical(load_table):
    X, y = load_table("penguins")
    pre = _fit(X, y)
    assert _treatment(pre, "island") == "onehot"
    assert "onehot__sex_(missing)" in pre.column_treatments_["sex"]["features"]
    assert _treatment(pre, "year") == "onehot"  # 3 integer levels in 344 rows
    assert _treatment(pre, "body_mass_g") == "numeric"
    Xt = pre.transform(X)
    names = list(pre.get_feature_names_out())
    np.testing.assert_array_equal(
        Xt[:, names.index("onehot__sex_(missing)")], X["sex"].isna().to_numpy()
    )
    # One-hot blocks sum to one on every row (every training level is frequent).
    blocks = [n for n in names if n.startswith("onehot__island_")]
    np.testing.assert_array_equal(Xt[:, [names.index(n) for n in blocks]].sum(axis=1), 1)


def test_ames_text_columns_missing_values_and_ids(load_table):
    X, y = load_table("ames")
    pre = _fit(X, y, target_type="continuous")
    table = pre.treatments_table()
    assert len(table) == X.shape[1] == 82
    dropped = set(table.loc[table.treatment == "drop", "column"])
    assert dropped == {"rownames", "Order", "PID"}
    text = [c for c in X.columns if X[c].dtype.kind not in "biuf"]
    assert len(text) == 43
    # Every text column is encoded: one-hot, or target-encoded beyond 20 levels.
    assert set(table.set_index("column").loc[text, "treatment"]) == {"onehot", "target"}
    assert _treatment(pre, "Neighborhood") == "target"  # 28 levels
    assert _treatment(pre, "Overall.Qual") == "onehot"  # 10 integer levels
    assert _treatment(pre, "Year.Built") == "numeric"
    # Pool.QC is missing on 2917 of 2930 rows: kept, missing is its main level.
    assert "onehot__Pool.QC_(missing)" in pre.column_treatments_["Pool.QC"]["features"]
    Xt = pre.transform(X)
    assert Xt.shape == (2930, table.n_features.sum())
    assert np.isfinite(Xt).all()
    assert len(pre.get_feature_names_out()) == Xt.shape[1]


def test_diamonds_categories_and_float_measurements(load_table):
    X, y = load_table("diamonds")
    X, y = X.iloc[:5000], y.iloc[:5000]
    pre = _fit(X, y, target_type="continuous")
    table = pre.treatments_table().set_index("column")
    assert table.loc["rownames", "treatment"] == "drop"
    assert set(table.loc[["cut", "color", "clarity"], "treatment"]) == {"onehot"}
    assert set(table.loc[["carat", "depth", "table", "x", "y", "z"], "treatment"]) == {"numeric"}
    # Scaled numeric features: mean 0, std 1 on the training rows.
    Xt = pre.transform(X)
    names = list(pre.get_feature_names_out())
    carat = Xt[:, names.index("numeric__carat")]
    assert abs(carat.mean()) < 1e-4 and abs(carat.std() - 1) < 1e-4


def test_no_leakage_statistics_come_from_training_rows(load_table):
    X, y = load_table("titanic")
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=0)
    pre = _fit(X_train, y_train)
    Xt_test = pre.transform(X_test)
    names = list(pre.get_feature_names_out())
    steps = pre.column_transformer_.named_transformers_["numeric"]
    assert steps["impute"].statistics_[0] == X_train["age"].median()
    assert steps["impute"].statistics_[0] != X_test["age"].median()
    filled = X_train["age"].fillna(X_train["age"].median())
    expected = (X_test["age"].fillna(X_train["age"].median()) - filled.mean()) / filled.std(ddof=0)
    np.testing.assert_allclose(Xt_test[:, names.index("numeric__age")], expected, rtol=1e-5)
    # Fitting on everything would give different test features.
    assert not np.allclose(_fit(X, y).transform(X_test), Xt_test)


# ----------------------------------------------------------------------
# the rules, one synthetic frame each
# ----------------------------------------------------------------------
@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_low_cardinality_integers_are_categorical_rule(rng):
    n = 400
    X = pd.DataFrame(
        {
            "rating": rng.integers(1, 6, n),  # 5 levels, 5 < 5% of 400 = 20: categorical
            "many": rng.integers(0, 11, n) * 3,  # 11 levels > 10: numeric
            "count": rng.integers(0, 500, n),  # numeric
            "floats_whole": rng.integers(0, 3, n).astype(float),  # whole floats: categorical
        }
    )
    X.loc[::7, "floats_whole"] = np.nan  # as pandas reads an integer column with gaps
    pre = _fit(X)
    assert _treatment(pre, "rating") == "onehot"
    assert _treatment(pre, "many") == "numeric"
    assert _treatment(pre, "count") == "numeric"
    assert _treatment(pre, "floats_whole") == "onehot"
    # The 5%-of-rows bound: the same 5 levels in 60 rows (5 >= 3) stay numeric.
    assert _treatment(_fit(X.iloc[:60]), "rating") == "numeric"
    # An integer-coded level arriving as float (gaps at transform) keeps its column.
    X_new = X.iloc[:3].astype({"rating": float})
    np.testing.assert_array_equal(pre.transform(X_new), pre.transform(X.iloc[:3]))


def test_bool_and_category_columns(rng):
    n = 100
    X = pd.DataFrame(
        {
            "flag": rng.random(n) > 0.5,
            "grade": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "x": rng.normal(size=n),
        }
    )
    pre = _fit(X)
    assert _treatment(pre, "flag") == "onehot"
    assert pre.column_treatments_["flag"]["features"] == ["onehot__flag_False", "onehot__flag_True"]
    assert _treatment(pre, "grade") == "onehot"
    assert pre.transform(X).shape == (n, 2 + 3 + 1)


def test_high_cardinality_text_is_target_encoded(rng):
    n = 600
    city = rng.integers(0, 60, n)
    effect = rng.normal(size=60) * 3
    y = effect[city] + rng.normal(scale=0.1, size=n)
    X = pd.DataFrame({"city": [f"c{i}" for i in city], "x": rng.normal(size=n)})
    pre = _fit(X, y, target_type="continuous", random_state=0)
    assert _treatment(pre, "city") == "target"
    assert pre.column_treatments_["city"]["features"] == ["target__city"]
    Xt = pre.transform(X)
    assert Xt.shape == (n, 2)
    j = list(pre.get_feature_names_out()).index("target__city")
    # The encoding carries the city's effect.
    assert np.corrcoef(Xt[:, j], effect[city])[0, 1] > 0.99
    # Cross-fitted training encoding differs from the full-data encoding (no self-leakage).
    Xt_train = clone(pre).fit_transform(X, y)
    assert not np.allclose(Xt_train[:, j], Xt[:, j])
    # The same seed gives the same cross-fitted encoding.
    np.testing.assert_array_equal(Xt_train, clone(pre).fit_transform(X, y))


def test_high_cardinality_without_target_caps_one_hot(rng):
    n = 600
    X = pd.DataFrame({"city": [f"c{i}" for i in rng.integers(0, 60, n)]})
    pre = _fit(X, max_onehot_levels=8)
    assert _treatment(pre, "city") == "onehot"
    assert "no target given" in pre.column_treatments_["city"]["reason"]
    # 8 most frequent levels plus the infrequent column.
    assert pre.transform(X).shape == (n, 9)


def test_multiclass_target_encoding_has_a_column_per_class(rng):
    n = 600
    city = rng.integers(0, 40, n)
    y = np.array(["a", "b", "c"])[city % 3]
    X = pd.DataFrame({"city": [f"c{i}" for i in city]})
    pre = _fit(X, y, random_state=0)
    assert pre.column_treatments_["city"]["features"] == [
        "target__city_a",
        "target__city_b",
        "target__city_c",
    ]


def test_datetime_columns_are_expanded(rng):
    n = 50
    stamps = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 800, n), unit="D")
    X = pd.DataFrame(
        {
            "when": stamps,
            "when_text": stamps.strftime("%Y-%m-%d"),
            "at": (stamps + pd.to_timedelta(rng.integers(0, 24, n), unit="h")).strftime(
                "%d/%m/%Y %H:%M"
            ),
        }
    )
    X.loc[3, "when"] = pd.NaT
    pre = _fit(X)
    for column in ("when", "when_text", "at"):
        assert _treatment(pre, column) == "datetime"
    assert pre.column_treatments_["when_text"]["reason"].startswith("text parsed as dates")
    features = pre.column_treatments_["when"]["features"]
    assert features[:4] == [
        "datetime__when_year",
        "datetime__when_month",
        "datetime__when_day",
        "datetime__when_weekday",
    ]
    assert "datetime__missingindicator_when_year" in features
    assert "datetime__at_hour" in pre.column_treatments_["at"]["features"]
    # Dates without a time of day get no hour part.
    assert "datetime__when_text_hour" not in pre.column_treatments_["when_text"]["features"]
    Xt = pre.transform(X)
    names = list(pre.get_feature_names_out())
    year = Xt[:, names.index("datetime__when_text_year")]
    assert np.corrcoef(year, stamps.year)[0, 1] > 0.999
    # A date that does not parse with the fitted format is refused, naming it.
    X_bad = X.iloc[:2].copy()
    X_bad.loc[X_bad.index[0], "when_text"] = "soon"
    with pytest.raises(ValueError, match=r"'when_text'.*'%Y-%m-%d'.*'soon'"):
        pre.transform(X_bad)


def test_text_that_is_not_dates_stays_categorical():
    X = pd.DataFrame({"cls": ["1st", "2nd", "3rd", "1st"] * 10, "num_text": ["1", "2"] * 20})
    pre = _fit(X)
    assert _treatment(pre, "cls") == "onehot"
    assert _treatment(pre, "num_text") == "onehot"


def test_constant_and_all_missing_columns_dropped(rng):
    n = 30
    X = pd.DataFrame(
        {
            "const": ["same"] * n,
            "empty": [np.nan] * n,
            "one_or_missing": [1.0 if i % 2 else np.nan for i in range(n)],
            "x": rng.normal(size=n),
        }
    )
    with pytest.warns(ColumnsDroppedWarning) as record:
        pre = TabularPreprocessor().fit(X)
    assert len(record) == 1  # one warning per fit, listing every dropped column
    message = str(record[0].message)
    assert "'const' (constant" in message and "'empty' (all values missing)" in message
    assert _treatment(pre, "const") == "drop"
    assert _treatment(pre, "empty") == "drop"
    # A single value with gaps still says something through its missing-indicator.
    assert _treatment(pre, "one_or_missing") == "onehot"  # a whole number: a level
    assert pre.transform(X).shape == (n, 1 + 2)


def test_every_column_dropped_gives_zero_features():
    X = pd.DataFrame({"const": [1.0] * 5})
    with pytest.warns(ColumnsDroppedWarning):
        pre = TabularPreprocessor().fit(X)
    assert pre.transform(X).shape == (5, 0)
    assert len(pre.get_feature_names_out()) == 0


def test_id_rule_needs_enough_rows_and_never_applies_to_floats(rng):
    X = pd.DataFrame({"code": np.arange(10), "name": [f"n{i}" for i in range(10)]})
    pre = _fit(X)
    assert _treatment(pre, "code") == "numeric" and _treatment(pre, "name") == "onehot"
    X = pd.DataFrame(
        {"idx": rng.permutation(100), "score": rng.normal(size=100), "name": rng.permutation(100)}
    )
    X["name"] = "p" + X["name"].astype(str)
    pre = _fit(X)
    assert _treatment(pre, "idx") == "drop" and _treatment(pre, "name") == "drop"
    assert _treatment(pre, "score") == "numeric"


def test_unseen_categories_are_ignored():
    X = pd.DataFrame({"color": ["red", "blue", "green"] * 10, "x": np.arange(30.0)})
    pre = _fit(X)
    Xt = pre.transform(pd.DataFrame({"color": ["purple", "red", None], "x": [1.0, 2.0, 3.0]}))
    names = list(pre.get_feature_names_out())
    colors = [names.index(f"onehot__color_{c}") for c in ("blue", "green", "red")]
    np.testing.assert_array_equal(Xt[:, colors], [[0, 0, 0], [0, 0, 1], [0, 0, 0]])


def test_rare_levels_are_grouped(rng):
    X = pd.DataFrame({"c": ["a"] * 40 + ["b"] * 40 + ["r1", "r2", "r3"]})
    pre = _fit(X)
    assert pre.column_treatments_["c"]["features"] == [
        "onehot__c_a",
        "onehot__c_b",
        "onehot__c_infrequent_sklearn",
    ]


def test_numpy_arrays_are_all_numeric(rng):
    X = rng.integers(0, 3, size=(200, 3)).astype(float)
    X[0, 1] = np.nan
    X[:, 2] = 4.0
    with pytest.warns(ColumnsDroppedWarning, match="'x2' \\(constant"):
        pre = TabularPreprocessor().fit(X)
    assert not hasattr(pre, "feature_names_in_")
    assert pre.n_features_in_ == 3
    assert [_treatment(pre, c) for c in ("x0", "x1", "x2")] == ["numeric", "numeric", "drop"]
    assert list(pre.get_feature_names_out()) == [
        "numeric__x0",
        "numeric__x1",
        "numeric__missingindicator_x1",
    ]


# ----------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------
@pytest.fixture
def fitted():
    X = pd.DataFrame({"age": [20.0, 30.0, np.nan, 40.0] * 5, "city": ["a", "b"] * 10})
    return _fit(X), X


def test_missing_column_at_transform_is_named(fitted):
    pre, X = fitted
    with pytest.raises(ValueError, match="missing:\n- city"):
        pre.transform(X.drop(columns="city"))


def test_wrong_dtype_at_transform_is_explained(fitted):
    pre, X = fitted
    X_bad = X.astype({"age": object})
    X_bad.loc[0, "age"] = "old"
    with pytest.raises(TypeError, match=r"column 'age' .* must be numeric.*'old'"):
        pre.transform(X_bad)
    # Numbers as text are read as the numbers they are.
    X_text = X.astype({"age": str})
    np.testing.assert_allclose(pre.transform(X_text), pre.transform(X))


def test_infinite_values_are_refused(fitted):
    pre, X = fitted
    X_bad = X.copy()
    X_bad.loc[1, "age"] = np.inf
    with pytest.raises(ValueError, match="'age'.*infinite"):
        pre.transform(X_bad)


def test_unsupported_dtype_and_values():
    with pytest.raises(TypeError, match="'d' has dtype timedelta64"):
        _fit(pd.DataFrame({"d": pd.to_timedelta(np.arange(30), unit="D")}))
    with pytest.raises(TypeError, match="'o' holds a dict value"):
        _fit(pd.DataFrame({"o": [{"a": 1}, "x"] * 15}))


def test_bad_parameters_and_y():
    X = pd.DataFrame({"x": np.arange(30.0)})
    with pytest.raises(ValueError, match="'max_onehot_levels' parameter of TabularPreprocessor"):
        TabularPreprocessor(max_onehot_levels=0).fit(X)
    with pytest.raises(ValueError, match="'target_type' parameter"):
        TabularPreprocessor(target_type="ordinal").fit(X)
    with pytest.raises(ValueError, match="one value per row of X \\(30\\). Got 3"):
        TabularPreprocessor().fit(X, [1, 2, 3])
    with pytest.raises(ValueError, match="at least one row"):
        TabularPreprocessor().fit(X.iloc[:0])


def test_array_given_to_a_frame_fit_uses_positions(fitted):
    pre, X = fitted
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        Xt = pre.transform(X.to_numpy())
    np.testing.assert_allclose(Xt, pre.transform(X))


# ----------------------------------------------------------------------
# outputs
# ----------------------------------------------------------------------
def test_treatments_table_writes_csv_and_json(load_table, tmp_path):
    X, y = load_table("penguins")
    table = _fit(X, y).treatments_table()
    assert list(table.columns) == [
        "column",
        "dtype",
        "treatment",
        "reason",
        "n_unique",
        "n_missing",
        "n_features",
        "features",
    ]
    table.to_csv(tmp_path / "columns.csv", index=False)
    table.to_json(tmp_path / "columns.json", orient="records", indent=1)
    again = pd.read_csv(tmp_path / "columns.csv")
    assert list(again.column) == list(X.columns)
    assert pd.read_json(tmp_path / "columns.json").n_features.sum() == 17


def test_pickle_round_trip_and_pandas_output(load_table):
    X, y = load_table("titanic")
    pre = _fit(X, y)
    again = pickle.loads(pickle.dumps(pre))
    np.testing.assert_array_equal(again.transform(X), pre.transform(X))
    out = clone(pre).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColumnsDroppedWarning)
        frame = out.fit(X, y).transform(X)
    assert list(frame.columns) == list(pre.get_feature_names_out())


def test_get_feature_names_out_checks_input_features(fitted):
    pre, _ = fitted
    assert len(pre.get_feature_names_out(["age", "city"])) == 4
    with pytest.raises(ValueError, match="input_features is not equal"):
        pre.get_feature_names_out(["a", "b"])


def test_nullable_timezone_and_mixed_dtypes():
    n = 60
    X = pd.DataFrame(
        {
            "tz": pd.date_range("2021-01-01", periods=n, freq="37h", tz="Europe/Paris"),
            "nb": pd.array([True, False, None] * 20, dtype="boolean"),
            "cat": pd.Categorical(["x", "y", None] * 20),
            "catint": pd.Categorical([1, 2, 3] * 20),
            "i64na": pd.array([1, 2, None] * 20, dtype="Int64"),
            "f": pd.array(np.linspace(0, 1, n), dtype="Float64"),
            "objmix": ["a", 1, 2.5] * 20,
        }
    )
    pre = _fit(X)
    treatments = {c: _treatment(pre, c) for c in X.columns}
    assert treatments == {
        "tz": "datetime",
        "nb": "onehot",
        "cat": "onehot",
        "catint": "onehot",
        "i64na": "onehot",
        "f": "numeric",
        "objmix": "onehot",
    }
    # 92 days of 2021: the year does not vary, so it is not a feature.
    assert "datetime__tz_year" not in pre.column_treatments_["tz"]["features"]
    Xt = pre.transform(X)
    assert Xt.shape == (n, 20) and np.isfinite(Xt).all()
    # A category column arriving as plain integers keeps its levels.
    np.testing.assert_array_equal(pre.transform(X.astype({"catint": "int64"})), Xt)
