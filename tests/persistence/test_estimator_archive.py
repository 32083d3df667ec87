"""Estimator archives round-trip what studies save, and refuse what they cannot hold as data."""

import io
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from automl import KerasClassifier, KerasRegressor, persistence
from automl.tabular import TabularPreprocessor, baseline_estimators, standardized_target


def round_trip(model):
    buffer = io.BytesIO()
    persistence.dump(model, buffer)
    names = zipfile.ZipFile(io.BytesIO(buffer.getvalue())).namelist()
    assert not [n for n in names if n.endswith((".pkl", ".pickle"))]
    return persistence.load(io.BytesIO(buffer.getvalue()))


def same_predictions(model, loaded, X):
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype("float32")
    frame = pd.DataFrame({
        "x": rng.normal(size=60),
        "colour": rng.choice(["red", "green", "blue"], 60),
        "city": rng.choice([f"c{i}" for i in range(25)], 60),
        "when": pd.date_range("2020-01-01", periods=60, freq="D"),
    })
    frame.loc[3, "x"] = np.nan
    return X, frame, rng


def test_keras_classifier_in_a_pipeline(data):
    X, _, _ = data
    y = np.where(X[:, 0] > 0, "yes", "no")
    model = make_pipeline(StandardScaler(), KerasClassifier(model="mlp", epochs=2, verbose=0,
                                                            random_state=0)).fit(X, y)
    loaded = round_trip(model)
    same_predictions(model, loaded, X)
    assert loaded.steps[1][1] is loaded.named_steps["kerasclassifier"]
    assert loaded[-1].history_ == model[-1].history_
    loaded[-1].partial_fit(X, y)  # the network, optimizer state included, trains on


def test_keras_regressor_with_a_standardized_target(data):
    X, _, _ = data
    y = 100.0 + 10.0 * X[:, 1]
    model = standardized_target(KerasRegressor(model="mlp", epochs=2, verbose=0,
                                               random_state=0)).fit(X, y)
    same_predictions(model, round_trip(model), X)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_tabular_baselines(task, data):
    _, frame, rng = data
    y = (frame["x"].fillna(0) > 0).astype(int) if task == "classification" else rng.normal(size=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in baseline_estimators(task, random_state=0).values():
            model.fit(frame, y)
            same_predictions(model, round_trip(model), frame)


def test_tabular_preprocessor_before_a_network(data):
    _, frame, _ = data
    y = frame["colour"].to_numpy()
    model = make_pipeline(TabularPreprocessor(), KerasClassifier(model="mlp", epochs=1, verbose=0,
                                                                 random_state=0)).fit(frame, y)
    loaded = round_trip(model)
    same_predictions(model, loaded, frame)
    np.testing.assert_array_equal(loaded[0].transform(frame), model[0].transform(frame))


def test_values_and_shared_references():
    shared = np.arange(6.0).reshape(2, 3, order="F")
    value = {
        1: (shared, shared), "f": [np.float32(0.5), float("nan"), -np.inf, 2 + 3j],
        "bytes": b"x" * 5000, "small": b"ab", "s": slice(1, None, 2), "set": {1, 2},
        "frozen": frozenset({"a"}), "dtype": np.dtype([("a", "<i4"), ("b", "<f8", (2,))]),
        "types": (np.float64, int), "objects": np.array(["a", None, 1], dtype=object),
        "rng": np.random.default_rng(3), "big": 10**30, "func": np.log1p,
    }
    loaded = round_trip(value)
    assert loaded[1][0] is loaded[1][1] and loaded[1][0].flags.f_contiguous
    np.testing.assert_array_equal(loaded[1][0], shared)
    assert type(loaded["f"][0]) is np.float32 and np.isnan(loaded["f"][1])
    assert loaded["f"][2:] == [-np.inf, 2 + 3j]
    for key in ("bytes", "small", "s", "set", "frozen", "dtype", "types", "big", "func"):
        assert loaded[key] == value[key], key
    assert loaded["objects"].tolist() == ["a", None, 1]
    assert loaded["rng"].random() == np.random.default_rng(3).random()


def test_cycles_between_objects():
    scaler = StandardScaler()
    scaler.me = scaler
    assert round_trip(scaler).me is not None
    loaded = round_trip(scaler)
    assert loaded.me is loaded


@pytest.mark.parametrize("value, name", [
    (FunctionTransformer(lambda x: x), "lambda"),
    (pd.Series([1, 2]), "pandas"),
    (KerasClassifier(model=lambda: None), "lambda"),
])
def test_dump_refuses_what_load_would_refuse(value, name):
    with pytest.raises((TypeError, ValueError), match=name) as info:
        persistence.dump(value, io.BytesIO())
    assert "\n" not in str(info.value)


def test_dump_and_load_paths(tmp_path):
    path = tmp_path / "scaler.automl"
    persistence.dump(StandardScaler().fit([[1.0], [3.0]]), path)
    assert persistence.load(path).mean_.tolist() == [2.0]
    with pytest.raises(ValueError, match=f"Cannot load '{tmp_path / 'missing'}'"):
        persistence.load(tmp_path / "missing")


def test_functions_outside_the_list_load_only_when_the_caller_trusts_them():
    from sklearn.preprocessing import minmax_scale

    buffer = io.BytesIO()
    persistence.dump(FunctionTransformer(minmax_scale), buffer)
    name = "sklearn.preprocessing._data.minmax_scale"
    with pytest.raises(ValueError, match=f"refusing to load the function '{name}'.*trusted="):
        persistence.load(io.BytesIO(buffer.getvalue()))
    loaded = persistence.load(io.BytesIO(buffer.getvalue()), trusted=[name])
    assert loaded.func is minmax_scale
