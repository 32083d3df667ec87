"""Inputs and training data: weighted empirical distribution, sparse batches, pandas, lists, hooks."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from automl.wrappers import KerasClassifier, KerasRegressor, _data
from automl.wrappers._data import distinct_rows, validation_split_indices

from .builders import split_halves, two_input_classifier

FAST = {"hidden_layer_sizes": (16,), "epochs": 5, "random_state": 0}


# ----------------------------------------------------------------------
# The weighted empirical distribution
# ----------------------------------------------------------------------
def test_distinct_rows_merges_duplicates_drops_zero_weights_and_sorts():
    X = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0], [3.0, 3.0], [0.0, 1.0]], dtype=np.float32)
    y = np.array([0, 1, 0, 1, 0])
    w = np.array([1.0, 2.0, 3.0, 0.0, 1.0])
    rows, total = distinct_rows(X, [y], w)
    # (x=[1,2], y=0) twice -> weight 4; (x=[0,1], y=1) and (x=[0,1], y=0) differ by y;
    # [3,3] has weight 0 and is dropped.
    pairs = {(tuple(X[r]), int(y[r])): t for r, t in zip(rows, total)}
    assert pairs == {((1.0, 2.0), 0): 4.0, ((0.0, 1.0), 1): 2.0, ((0.0, 1.0), 0): 1.0}
    # The order depends on the content only, not on the order of the rows.
    perm = np.array([4, 2, 0, 3, 1])
    rows_p, total_p = distinct_rows(X[perm], [y[perm]], w[perm])
    np.testing.assert_array_equal(X[perm][rows_p], X[rows])
    np.testing.assert_array_equal(total_p, total)
    # keep_order: order of first appearance.
    rows_k, _ = distinct_rows(X, [y], w, keep_order=True)
    np.testing.assert_array_equal(rows_k, [0, 1, 4])
    # Sparse rows are keyed without densifying; the same groups come out.
    rows_s, total_s = distinct_rows(sp.csr_matrix(X), [y], w)
    assert sorted(total_s.tolist()) == sorted(total.tolist())


def _wide_rows():
    """Image-like rows (long runs of equal leading bytes) with duplicates, odd byte width."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, size=(200, 37)).astype(np.float32)  # 148 bytes: not a multiple of 8
    X[:, :30] = 0.0
    X[50], X[120], X[7] = X[3], X[3], X[99]
    return X


def _same_groups(codes, X):
    _, expected = np.unique(X, axis=0, return_inverse=True)
    pairs = set(zip(codes.tolist(), expected.ravel().tolist()))
    return len(pairs) == len(set(codes.tolist())) == len(set(expected.ravel().tolist()))


def test_wide_rows_are_grouped_by_their_bytes_in_an_order_fixed_by_content():
    X = _wide_rows()
    codes = _data._dense_row_codes(X)
    assert _same_groups(codes, X)
    assert codes[50] == codes[120] == codes[3] and codes[7] == codes[99] and codes[3] != codes[7]
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(_data._dense_row_codes(X[perm]), codes[perm])
    # -0.0 and 0.0 are different bytes: different rows, as everywhere in the canonical set.
    Z = np.zeros((2, 37), dtype=np.float32)
    Z[1, 5] = -0.0
    assert len(set(_data._dense_row_codes(Z).tolist())) == 2


def test_a_hash_collision_falls_back_to_comparing_bytes(monkeypatch):
    X = _wide_rows()
    monkeypatch.setattr(_data, "_row_hashes", lambda words: np.zeros(len(words), dtype=np.uint64))
    codes = _data._dense_row_codes(X)
    assert _same_groups(codes, X)
    raw = np.ascontiguousarray(X).view(np.uint8).reshape(len(X), -1)
    np.testing.assert_array_equal(codes, _data._byte_order_codes(raw))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("estimator", [KerasClassifier(**FAST), KerasRegressor(**FAST)],
                         ids=["classifier", "regressor"])
def test_integer_weights_are_exactly_repeated_samples(iris_like, estimator, sparse):
    X, y = iris_like
    rng = np.random.default_rng(1)
    w = rng.integers(0, 4, size=len(X))
    X_rep, y_rep = np.repeat(X, w, axis=0), np.repeat(y, w)
    perm = rng.permutation(len(X))  # and in a different order
    convert = sp.csr_matrix if sparse else np.asarray
    weighted = estimator.fit(convert(X[perm]), y[perm], sample_weight=w[perm])
    pred_weighted = weighted.predict(X)
    repeated = estimator.fit(convert(X_rep), y_rep)
    np.testing.assert_array_equal(repeated.predict(X), pred_weighted)


def test_fit_does_not_depend_on_the_row_order(small_digits):
    X, y = small_digits
    perm = np.random.default_rng(0).permutation(len(X))
    a = KerasClassifier(**FAST).fit(X, y).predict_proba(X)
    b = KerasClassifier(**FAST).fit(X[perm], y[perm]).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_sample_weights_are_relative(iris_like):
    X, y = iris_like
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(X))
    a = KerasClassifier(**FAST).fit(X, y, sample_weight=w).predict_proba(X)
    b = KerasClassifier(**FAST).fit(X, y, sample_weight=8.0 * w).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_predictions_do_not_depend_on_the_batch(small_digits):
    X, y = small_digits
    clf = KerasClassifier(**FAST).fit(X, y)
    whole = clf.predict_proba(X[:97])
    for batch in (1, 5, 64):
        clf.set_params(predict__batch_size=batch)
        # float64 inference: differences are at the last bits of float64, far below the
        # 1e-7 of scikit-learn's invariance checks (float32 inference misses it).
        np.testing.assert_allclose(clf.predict_proba(X[:97]), whole, rtol=1e-12, atol=1e-15)
    assert whole.dtype == np.float64


# ----------------------------------------------------------------------
# Sparse input, densified per batch
# ----------------------------------------------------------------------
def test_sparse_input_is_densified_one_batch_at_a_time(small_digits, monkeypatch):
    X, y = small_digits
    Xs = sp.csr_matrix(X)
    sizes = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        sizes.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    clf = KerasClassifier(**FAST, batch_size=50, validation_split=0.2).fit(Xs, y)
    assert sizes and max(sizes) <= 50
    sizes.clear()
    proba = clf.predict_proba(Xs)
    assert sizes and max(sizes) <= 50
    assert "val_loss" in clf.history_
    monkeypatch.undo()
    np.testing.assert_array_equal(proba, clf.predict_proba(X))


def test_sparse_and_dense_training_give_the_same_model(small_digits):
    X, y = small_digits
    # shuffle=False: same visiting order (shuffled fits order sparse and dense rows by their
    # own byte keys, so only the shuffles differ).
    params = {**FAST, "shuffle": False, "metrics": ["accuracy"]}
    dense = KerasClassifier(**params).fit(X, y)
    sparse = KerasClassifier(**params).fit(sp.csr_matrix(X), y)
    for a, b in zip(dense.model_.get_weights(), sparse.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(sparse.history_["loss"], dense.history_["loss"], rtol=1e-6)
    np.testing.assert_allclose(sparse.history_["accuracy"], dense.history_["accuracy"])
    reg = KerasRegressor(**params).fit(sp.csc_matrix(X), y / 10.0)
    assert reg.predict(sp.coo_matrix(X)).shape == (len(X),)


# ----------------------------------------------------------------------
# pandas, lists, dtypes
# ----------------------------------------------------------------------
def test_pandas_input_records_feature_names(iris_like):
    X, y = iris_like
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = KerasClassifier(**FAST).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        from_array = clf.predict(X)
    np.testing.assert_array_equal(clf.predict(frame), from_array)
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        clf.predict(frame.rename(columns={"a": "z"}))
    assert not hasattr(KerasClassifier(**FAST).fit(X, y), "feature_names_in_")


def test_lists_and_integer_inputs(iris_like):
    X, y = iris_like
    clf = KerasClassifier(**FAST).fit(X.tolist(), y.tolist())
    np.testing.assert_array_equal(clf.predict(X.tolist()), clf.predict(X))
    reg = KerasRegressor(**FAST).fit(np.round(X).astype(np.int32), y.astype(float))
    assert reg.predict(np.round(X).astype(np.int64)).dtype == np.float64


# ----------------------------------------------------------------------
# Feature encoder for multi-input models
# ----------------------------------------------------------------------
def test_feature_encoder_feeds_a_multi_input_model(small_digits):
    X, y = small_digits
    clf = KerasClassifier(model=two_input_classifier, feature_encoder=split_halves,
                          epochs=15, learning_rate=0.01, random_state=0).fit(X, y)
    assert [t.layer.name for t in clf.model_.inputs] == ["left", "right"]
    assert clf.score(X, y) > 0.8
    # The same network from sparse input (encoded batch by batch), visiting rows in order.
    params = {"model": two_input_classifier, "feature_encoder": split_halves, "epochs": 2,
              "shuffle": False, "random_state": 0}
    dense = KerasClassifier(**params).fit(X, y)
    sparse = KerasClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(dense.predict_proba(X), sparse.predict_proba(X))


def test_feature_encoder_errors(small_digits):
    X, y = small_digits

    def wrong_names(rows):
        return {"left": rows[:, :32], "rigth": rows[:, 32:]}

    with pytest.raises(ValueError, match=r"without the model input\(s\) \['right'\]"):
        KerasClassifier(model=two_input_classifier, feature_encoder=wrong_names,
                        epochs=1).fit(X, y)


def test_validation_split_indices_are_stratified():
    rng = np.random.default_rng(0)
    codes = np.repeat([0, 1, 2], [50, 30, 20])
    train, val = validation_split_indices(100, 0.2, rng, stratify=codes)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 100
    assert np.bincount(codes[val]).tolist() == [10, 6, 4]
    # A class with a single member: no stratification, still a valid split.
    train, val = validation_split_indices(10, 0.3, rng, stratify=np.array([0] * 9 + [1]))
    assert len(val) == 3 and len(train) == 7
