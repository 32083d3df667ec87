"""export_pipeline: fitted scikit-learn pipelines ending in a Keras wrapper, run in onnxruntime."""

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

from automl.wrappers import KerasClassifier, KerasRegressor, export_pipeline

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _data(n=120, seed=0):
    """Four numeric columns (one with NaNs in _nan_data) and one integer category column (0-3)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * [1.0, 3.0, 0.5, 10.0] + [0.0, 5.0, -1.0, 20.0]
    cat = rng.integers(0, 4, size=(n, 1))
    X = np.hstack([x, cat]).astype(np.float64)
    y = ((x[:, 0] + 0.3 * x[:, 1] > 1.5).astype(int) + (cat[:, 0] > 1)).astype(int)
    return X, y


def _nan_data(seed=0):
    X, y = _data(seed=seed)
    rng = np.random.default_rng(seed + 1)
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 4] = np.nan_to_num(X[:, 4], nan=0.0)  # keep the category column complete
    return X, y


def _clf(**kwargs):
    return KerasClassifier(hidden_layer_sizes=(12,), epochs=3, batch_size=16, random_state=0, verbose=0, **kwargs)


def _run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["features"]
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"features": X.astype(np.float32)})))


def _check_classifier(pipe, X, tmp_path):
    path = export_pipeline(pipe, tmp_path / "pipe.onnx")
    out = _run(path, X)
    assert list(out) == ["probabilities", "label"]
    np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(X), atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(out["label"], pipe.predict(X))
    return out


_STEPS = {
    "standard": lambda: [StandardScaler()],
    "standard-no-mean": lambda: [StandardScaler(with_mean=False)],
    "minmax": lambda: [MinMaxScaler(feature_range=(-1, 2))],
    "minmax-clip": lambda: [MinMaxScaler(clip=True)],
    "robust": lambda: [RobustScaler()],
    "robust-no-centering": lambda: [RobustScaler(with_centering=False)],
    "maxabs": lambda: [MaxAbsScaler()],
    "function-none": lambda: [FunctionTransformer(), StandardScaler()],
    "passthrough": lambda: ["passthrough", StandardScaler()],
    "nested-pipeline": lambda: [make_pipeline(StandardScaler(), MinMaxScaler())],
    "onehot-all": lambda: [OneHotEncoder(handle_unknown="ignore", sparse_output=False)],
}


@pytest.mark.parametrize("name", sorted(_STEPS))
def test_preprocessing_steps(name, tmp_path):
    X, y = _data()
    pipe = make_pipeline(*_STEPS[name](), _clf()).fit(X, y)
    X_test, _ = _data(40, seed=1)
    if name == "onehot-all":
        X_test = X  # the training categories (unknown values of continuous columns are covered below)
    _check_classifier(pipe, X_test, tmp_path)


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
@pytest.mark.parametrize("add_indicator", [False, True])
def test_simple_imputer(strategy, add_indicator, tmp_path):
    X, y = _nan_data()
    imputer = SimpleImputer(strategy=strategy, add_indicator=add_indicator, fill_value=-3.0)
    pipe = make_pipeline(imputer, StandardScaler(), _clf()).fit(X, y)
    X_test, _ = _nan_data(seed=5)
    _check_classifier(pipe, X_test, tmp_path)


def test_column_transformer_with_one_hot_and_unknown_categories(tmp_path):
    X, y = _nan_data()
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), [0, 1, 2]),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=True), [4]),
            ("dropped", "drop", [3]),
        ],
    )
    pipe = Pipeline([("pre", pre), ("net", _clf())]).fit(X, y)
    X_test, _ = _nan_data(seed=3)
    X_test[:5, 4] = 7.0  # categories never seen in fit: all-zero one-hot columns, as sklearn's 'ignore'
    _check_classifier(pipe, X_test, tmp_path)


def test_column_transformer_remainder_passthrough_masks_slices_and_drop_first(tmp_path):
    X, y = _data()
    pre = ColumnTransformer(
        [
            ("scaled", RobustScaler(), np.array([True, False, True, False, False])),
            ("cat", OneHotEncoder(drop="first", handle_unknown="ignore"), slice(4, 5)),
        ],
        remainder="passthrough",
    )
    pipe = make_pipeline(pre, MaxAbsScaler(), _clf()).fit(X, y)
    _check_classifier(pipe, _data(30, seed=2)[0], tmp_path)


def test_column_transformer_on_named_dataframe_columns(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d", "kind"])
    pre = ColumnTransformer([("num", StandardScaler(), ["a", "b", "d"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["kind"])])
    pipe = make_pipeline(pre, _clf()).fit(frame, y)
    path = export_pipeline(pipe, tmp_path / "p.onnx")
    out = _run(path, X)
    np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(frame), atol=1e-5, rtol=1e-5)


def test_binary_string_labels_and_bare_estimator(tmp_path):
    X, y = _data()
    labels = np.where(y > 0, "yes", "no")
    clf = _clf().fit(StandardScaler().fit_transform(X), labels)
    Xs = StandardScaler().fit(X).transform(X)
    out = _run(export_pipeline(clf, tmp_path / "c.onnx"), Xs)
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(Xs), atol=1e-5, rtol=1e-5)
    assert out["label"].astype(str).tolist() == clf.predict(Xs).tolist()


def test_binary_integer_labels_with_sigmoid_output(tmp_path):
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), _clf()).fit(X, np.where(y > 0, 5, -2))
    out = _check_classifier(pipe, X, tmp_path)
    assert out["probabilities"].shape == (len(X), 2)
    assert set(out["label"].tolist()) <= {5, -2}


def test_regressor_single_and_multi_output(tmp_path):
    X, y = _data()
    target = X[:, 0] * 3 + X[:, 1]
    for yy in (target, np.column_stack([target, -target])):
        pipe = make_pipeline(StandardScaler(), KerasRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0,
                                                              verbose=0)).fit(X, yy)
        out = _run(export_pipeline(pipe, tmp_path / "r.onnx"), X)
        assert list(out) == ["predictions"]
        expected = pipe.predict(X)
        assert out["predictions"].shape == expected.shape
        np.testing.assert_allclose(out["predictions"], expected, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("transformer", [StandardScaler(), MinMaxScaler(), RobustScaler(), MaxAbsScaler()],
                         ids=lambda t: type(t).__name__)
def test_regressor_target_scaling_is_folded(transformer, tmp_path):
    X, _ = _data()
    y = 100.0 + 40.0 * X[:, 0] - 7.0 * X[:, 1]
    model = TransformedTargetRegressor(
        regressor=KerasRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0, verbose=0),
        transformer=transformer,
    )
    pipe = make_pipeline(StandardScaler(), model).fit(X, y)
    out = _run(export_pipeline(pipe, tmp_path / "r.onnx"), X)
    expected = pipe.predict(X)
    assert out["predictions"].shape == expected.shape
    np.testing.assert_allclose(out["predictions"], expected, rtol=1e-5, atol=1e-3)  # y is ~100


def test_unsupported_step_is_named(tmp_path):
    X, y = _data()
    pipe = Pipeline([("poly", PolynomialFeatures()), ("net", _clf())]).fit(X, y)
    with pytest.raises(ValueError, match=r"step 'poly' \(PolynomialFeatures\)"):
        export_pipeline(pipe, tmp_path / "p.onnx")
    assert not (tmp_path / "p.onnx").exists()


def test_function_transformer_with_a_function_is_refused(tmp_path):
    X, y = _data()
    pipe = make_pipeline(FunctionTransformer(np.log1p), _clf()).fit(np.abs(X), y)
    with pytest.raises(ValueError, match=r"functiontransformer.*FunctionTransformer.*function"):
        export_pipeline(pipe, tmp_path / "p.onnx")


def test_unfitted_and_foreign_estimators_are_refused(tmp_path):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="not fitted"):
        export_pipeline(_clf(), tmp_path / "p.onnx")
    X, y = _data()
    with pytest.raises(TypeError, match="LogisticRegression"):
        export_pipeline(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), tmp_path / "p.onnx")


def test_format_keras_refuses_preprocessing_and_other_formats(tmp_path):
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), _clf()).fit(X, y)
    with pytest.raises(ValueError, match="preprocessing"):
        export_pipeline(pipe, tmp_path / "p.keras", format="keras")
    with pytest.raises(ValueError, match="'format'.*Got 'pmml'"):
        export_pipeline(pipe, tmp_path / "p.pmml", format="pmml")


def test_one_hot_and_multilabel_targets(tmp_path):
    X, y = _data()
    onehot = np.eye(3, dtype=int)[y]
    multilabel = np.column_stack([y > 0, y > 1, X[:, 2] > -1]).astype(int)
    for target in (onehot, multilabel):
        pipe = make_pipeline(StandardScaler(), _clf()).fit(X, target)
        out = _run(export_pipeline(pipe, tmp_path / "m.onnx"), X)
        np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(X), atol=1e-5, rtol=1e-5)
        np.testing.assert_array_equal(out["label"], pipe.predict(X))


def test_logits_output_and_a_custom_network(tmp_path):
    from automl.keras import Input, Model, layers, losses

    def build(meta):
        x = Input(shape=(meta["n_features_in_"],))
        h = layers.BatchNormalization()(layers.Dense(8, activation="relu")(x))
        return Model(x, layers.Dense(meta["n_classes_"])(h))

    X, y = _data()
    clf = KerasClassifier(model=build, loss=losses.SparseCategoricalCrossentropy(from_logits=True), epochs=3,
                          random_state=0, verbose=0)
    pipe = make_pipeline(MinMaxScaler(), clf).fit(X, y)
    _check_classifier(pipe, X, tmp_path)


def _category_data(seed=0, n=150):
    """Two numeric columns and two category columns (one with rare values and NaNs)."""
    rng = np.random.default_rng(seed)
    num = rng.normal(size=(n, 2))
    common = rng.choice([0.0, 1.0, 2.0], size=n)
    rare = rng.choice([0.0, 1.0, 5.0, 7.0, np.nan], size=n, p=[0.45, 0.4, 0.05, 0.05, 0.05])
    X = np.column_stack([num, common, rare])
    y = ((num[:, 0] > 0).astype(int) + (common > 0)).astype(int)
    return X, y


@pytest.mark.filterwarnings("ignore:Found unknown categories")
@pytest.mark.parametrize(
    "encoder",
    [
        lambda: OneHotEncoder(min_frequency=10, handle_unknown="infrequent_if_exist"),
        lambda: OneHotEncoder(max_categories=3, handle_unknown="ignore"),
        lambda: OneHotEncoder(handle_unknown="ignore"),  # NaN as a category
        lambda: OneHotEncoder(drop="if_binary", handle_unknown="ignore"),
        lambda: _ordinal(),
        lambda: _target(),
    ],
    ids=["infrequent-if-exist", "max-categories", "nan-category", "drop-if-binary", "ordinal", "target"],
)
def test_category_encoders(encoder, tmp_path):
    X, y = _category_data()
    pre = ColumnTransformer([("num", StandardScaler(), [0, 1]), ("cat", encoder(), [2, 3])])
    pipe = make_pipeline(pre, _clf()).fit(X, y)
    X_test, _ = _category_data(seed=4, n=60)
    X_test[:4, 3] = 9.0  # unknown categories
    X_test[4:6, 2] = -1.0
    _check_classifier(pipe, X_test, tmp_path)


def _ordinal():
    from sklearn.preprocessing import OrdinalEncoder

    return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2)


def _target():
    from sklearn.preprocessing import TargetEncoder

    return TargetEncoder()


def test_normalizer_and_feature_selection(tmp_path):
    from sklearn.feature_selection import SelectKBest, VarianceThreshold
    from sklearn.preprocessing import Normalizer

    X, y = _data()
    X[:, 2] = 1.0  # constant: dropped by VarianceThreshold
    for norm in ("l1", "l2", "max"):
        pipe = make_pipeline(VarianceThreshold(), StandardScaler(), SelectKBest(k=3), Normalizer(norm=norm),
                             _clf()).fit(X, y)
        _check_classifier(pipe, X, tmp_path)


@pytest.mark.filterwarnings("ignore:Skipping features without any observed values")
def test_imputer_drops_columns_without_observed_values(tmp_path):
    X, y = _nan_data()
    X[:, 1] = np.nan  # all missing at fit: SimpleImputer drops the column
    pipe = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(), _clf()).fit(X, y)
    X_test, _ = _nan_data(seed=7)
    _check_classifier(pipe, X_test, tmp_path)


def test_built_in_cnn_on_digit_rows(tmp_path):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]
    clf = KerasClassifier(model="cnn", epochs=1, batch_size=32, random_state=0, verbose=0)
    pipe = make_pipeline(MinMaxScaler(), clf).fit(X, y)
    _check_classifier(pipe, X[:50], tmp_path)
