"""Keras mask semantics on the core layers: which layers pass masks on, masked global average
pooling, masked Softmax, masked BatchNormalization statistics, merge masks, variable-length targets."""

import warnings

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, optimizers, utils
from automl.keras.layers import (
    ELU,
    Activation,
    AlphaDropout,
    BatchNormalization,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    GaussianDropout,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    LayerNormalization,
    LeakyReLU,
    MaxPooling1D,
    Permute,
    PReLU,
    ReLU,
    Reshape,
    Softmax,
    SpatialDropout1D,
)
from automl.keras.layers._embedding import Embedding
from automl.keras.layers._masking import Masking
from automl.keras.layers._recurrent import LSTM
from automl.keras.layers._rnn_wrappers import TimeDistributed
from automl.keras.losses import MeanSquaredError, SparseCategoricalCrossentropy
from automl.testing import floatx_scope, numeric_gradient

from .helpers import padded_sequences

X = np.random.default_rng(0).standard_normal((3, 5, 4)).astype(np.float32)
MASK = np.array([[True, True, True, False, False], [True] * 5, [False, True, True, True, False]])


def _check_masked_gradients(make_layer, xs, mask, training=True, seed=0):
    """Central differences of ``sum(upstream * call(xs, mask))`` against ``backward`` (float64).

    ``xs`` is one input or a list (merging layers); NaN outputs (fully masked samples) count as 0.
    """
    multi = isinstance(xs, list)
    with floatx_scope("float64"):
        layer = make_layer()
        xs = [np.array(x, dtype=np.float64) for x in xs] if multi else np.array(xs, dtype=np.float64)
        out = layer(xs, training=training, mask=mask)
        upstream = np.random.default_rng(seed).standard_normal(out.shape)

        def objective(_=None):
            return float(np.sum(upstream * np.nan_to_num(layer.call(xs, training=training, mask=mask))))

        objective()
        grads = layer.backward(upstream.copy())
        analytic = {v.name: v.grad.copy() for v in layer.trainable_weights}
        for i, (x, g) in enumerate(zip(xs, grads) if multi else [(xs, grads)]):
            np.testing.assert_allclose(g, numeric_gradient(objective, x), rtol=1e-5, atol=1e-7,
                                       err_msg=f"input {i}")
        for var in layer.trainable_weights:
            np.testing.assert_allclose(analytic[var.name], numeric_gradient(objective, var.value),
                                       rtol=1e-5, atol=1e-7, err_msg=var.name)
    return grads


# -- which layers carry the mask on (Keras's supports_masking) ---------------------------------


@pytest.mark.parametrize("make_layer", [
    lambda: Dense(3), lambda: Activation("tanh"), lambda: Dropout(0.5), lambda: AlphaDropout(0.2),
    lambda: GaussianDropout(0.2), lambda: GaussianNoise(0.1), lambda: SpatialDropout1D(0.3),
    lambda: BatchNormalization(), lambda: LayerNormalization(), lambda: ReLU(), lambda: LeakyReLU(),
    lambda: PReLU(), lambda: ELU(), lambda: Softmax(),
], ids=lambda f: type(f()).__name__)
def test_layers_that_keras_lets_pass_the_mask(make_layer):
    layer = make_layer()
    layer(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for training in (False, True):
            out, out_mask = layer._call_masked(X, training, MASK)
            assert out_mask is MASK
            assert out.shape[:2] == X.shape[:2]


@pytest.mark.parametrize("make_layer", [
    Flatten, lambda: Reshape((20,)), lambda: Permute((2, 1)), GlobalMaxPooling1D,
    lambda: Conv1D(2, 2), MaxPooling1D,
], ids=lambda f: type(f()).__name__)
def test_layers_that_keras_lets_drop_the_mask(make_layer):
    layer = make_layer()
    layer(X)
    assert not layer.supports_masking
    with pytest.warns(UserWarning, match="does not support masking"):
        _, out_mask = layer._call_masked(X, False, MASK)
    assert out_mask is None


def test_common_sequence_stacks_keep_the_mask_without_warnings():
    utils.set_random_seed(0)
    x = np.array([[3, 4, 0, 0], [1, 5, 2, 0], [2, 2, 2, 2]])
    model = Sequential([
        Input(shape=(None,)), Embedding(6, 4, mask_zero=True), LSTM(5, return_sequences=True),
        Dense(4, activation="relu"), Dropout(0.2), LayerNormalization(), BatchNormalization(),
        Activation("tanh"), TimeDistributed(Dense(3)), Softmax(),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, x % 3, epochs=2, verbose=0)
        model.predict(x, verbose=0)
    np.testing.assert_array_equal(model._output_mask, x != 0)


# -- GlobalAveragePooling1D --------------------------------------------------------------------


def test_masked_average_pooling_equals_the_unpadded_computation():
    utils.set_random_seed(3)
    model = Sequential([Input(shape=(None,)), Embedding(9, 4, mask_zero=True), Dense(5, activation="relu"),
                        GlobalAveragePooling1D(), Dense(2)])
    x = np.array([[1, 2, 3, 0, 0, 0], [0, 0, 4, 5, 6, 7], [8, 0, 3, 0, 2, 0], [1, 1, 1, 1, 1, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        padded = model.predict(x, verbose=0)
    alone = np.concatenate([model.predict(row[row != 0][None], verbose=0) for row in x])
    np.testing.assert_allclose(padded, alone, rtol=1e-5, atol=1e-6)
    assert model._output_mask is None  # the pooled output has no time axis, hence no mask
    # Without the mask the padding would count in the mean.
    unmasked = Sequential([Input(shape=(None,)), Embedding(9, 4), Dense(5, activation="relu"),
                           GlobalAveragePooling1D(), Dense(2)])
    unmasked.set_weights(model.get_weights())
    assert not np.allclose(unmasked.predict(x, verbose=0)[:3], alone[:3], atol=1e-4)


def test_masked_average_pooling_values_keepdims_and_errors():
    layer = GlobalAveragePooling1D()
    out, out_mask = layer._call_masked(X, False, MASK)
    expected = np.stack([X[i][MASK[i]].mean(axis=0) for i in range(3)])
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out_mask is None
    kept = GlobalAveragePooling1D(keepdims=True)(X, mask=MASK)
    np.testing.assert_allclose(kept[:, 0], expected, rtol=1e-6)
    with pytest.raises(ValueError, match="mask of GlobalAveragePooling1D"):
        layer(X, mask=MASK[:, :4])


def test_masked_average_pooling_gradients_with_a_fully_masked_sample(float64):
    mask = MASK.copy()
    mask[1] = False  # as in Keras, the mean of nothing is 0 / 0
    out = GlobalAveragePooling1D()(X, mask=mask)
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2]]).all()
    grad = _check_masked_gradients(GlobalAveragePooling1D, X, mask)
    assert not grad[~mask].any()  # no gradient to masked steps
    _check_masked_gradients(lambda: GlobalAveragePooling1D(keepdims=True), X, MASK)


def test_masked_average_pooling_trains_a_bag_of_embeddings():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, (200, 8))
    x[rng.random((200, 8)) < 0.4] = 0
    x[:, 0] = rng.integers(1, 20, 200)  # at least one token per sample
    y = (x == 3).any(axis=1).astype(np.float32)
    model = Sequential([Input(shape=(8,)), Embedding(20, 8, mask_zero=True), GlobalAveragePooling1D(),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]


# -- Softmax -----------------------------------------------------------------------------------


def test_masked_softmax_values():
    x = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
    mask = np.array([[True, False, True, False]])
    out = Softmax()(x, mask=mask)
    e = np.exp([1.0, 3.0])
    np.testing.assert_allclose(out, [[e[0] / e.sum(), 0.0, e[1] / e.sum(), 0.0]], rtol=1e-6)
    # A mask over the leading axes (batch, timesteps) is broadcast over the features.
    seq = np.random.default_rng(1).standard_normal((2, 3, 4))
    out = Softmax()(seq, mask=np.array([[True, True, False], [True, False, True]]))
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out[0, :2], Softmax()(seq[0, :2]), rtol=1e-6)
    with pytest.raises(ValueError, match="mask"):
        Softmax()(seq, mask=np.ones((3, 2), dtype=bool))


def test_masked_softmax_gradients(float64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 5))
    mask = rng.random((3, 2, 5)) < 0.7
    mask[..., 0] = True
    grad = _check_masked_gradients(Softmax, x, mask)
    assert np.abs(grad[~mask]).max() < 1e-12
    _check_masked_gradients(lambda: Softmax(axis=1), x, mask | (np.arange(2) == 0)[None, :, None])


# -- BatchNormalization ------------------------------------------------------------------------


def test_masked_batch_normalization_uses_the_kept_entries_only(float64):
    layer = BatchNormalization(momentum=0.0, epsilon=1e-3)
    x = X.astype(np.float64) * 3.0 + 1.0
    x[~MASK] = 100.0  # padding values must not move the statistics
    out = layer(x, training=True, mask=MASK)
    kept = x[MASK]
    np.testing.assert_allclose(layer.moving_mean.numpy(), kept.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), kept.var(axis=0), rtol=1e-6)
    np.testing.assert_allclose(out[MASK], (kept - kept.mean(0)) / np.sqrt(kept.var(0) + 1e-3), rtol=1e-6)
    # Inference uses the moving statistics, mask or not.
    np.testing.assert_allclose(layer(x, training=False, mask=MASK), layer(x, training=False), rtol=1e-12)
    with pytest.raises(ValueError, match="one axis less"):
        layer(x, training=True, mask=MASK[:, :, None])
    # Statistics per step (axis=1): the mean and variance of each step's kept entries.
    by_step = BatchNormalization(axis=1, momentum=0.0)
    by_step(x, training=True, mask=MASK)
    means = [x[:, t][MASK[:, t]].mean() for t in range(5)]
    variances = [x[:, t][MASK[:, t]].var() for t in range(5)]
    np.testing.assert_allclose(by_step.moving_mean.numpy(), means, rtol=1e-6)
    np.testing.assert_allclose(by_step.moving_variance.numpy(), variances, rtol=1e-6)


def test_masked_batch_normalization_gradients(float64):
    _check_masked_gradients(lambda: BatchNormalization(gamma_initializer="random_normal",
                                                       beta_initializer="random_normal"), X, MASK)
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    _check_masked_gradients(lambda: BatchNormalization(axis=1, center=False), x, MASK[:, :4])


# -- merging layers ----------------------------------------------------------------------------


def _keras_pair():
    """The inputs of Keras's merging tests: ``a`` masked by a Masking layer, ``b`` plain."""
    a = np.array([[[0, 0], [1, 2], [0, 0], [3, 4]]], dtype=np.float32)
    b = np.array([[[0, 0], [0, 0], [1, 2], [3, 4]]], dtype=np.float32)
    return a, b, Masking().compute_mask(a), Masking().compute_mask(b)


@pytest.mark.parametrize("cls, one_masked, both_masked", [
    (layers.Add, [[0, 0], [1, 2], [1, 2], [6, 8]], [[0, 0], [1, 2], [1, 2], [6, 8]]),
    (layers.Subtract, [[0, 0], [1, 2], [-1, -2], [0, 0]], [[0, 0], [1, 2], [-1, -2], [0, 0]]),
    (layers.Average, [[0, 0], [0.5, 1], [0.5, 1], [3, 4]], [[0, 0], [0.5, 1], [0.5, 1], [3, 4]]),
    (layers.Multiply, [[0, 0], [0, 0], [1, 2], [9, 16]], [[0, 0], [1, 2], [1, 2], [9, 16]]),
    (layers.Minimum, [[0, 0], [0, 0], [1, 2], [3, 4]], [[0, 0], [1, 2], [1, 2], [3, 4]]),
])
def test_elementwise_merges_follow_keras_with_masks(cls, one_masked, both_masked):
    a, b, ma, mb = _keras_pair()
    out, mask = cls()._call_masked([a, b], False, [ma, None])
    np.testing.assert_allclose(out[0], one_masked)
    assert mask is None  # an unmasked input: no output mask
    out, mask = cls()._call_masked([a, b], False, [ma, mb])
    np.testing.assert_allclose(out[0], both_masked)
    np.testing.assert_array_equal(mask, [[False, True, True, True]])  # the OR of the masks


def test_maximum_skips_masked_entries_as_keras():
    a, b, ma, mb = _keras_pair()
    out, mask = layers.Maximum()._call_masked([-a, -b], False, [ma, None])
    np.testing.assert_allclose(out[0], [[0, 0], [0, 0], [-1, -2], [-3, -4]])
    assert mask is None
    out, mask = layers.Maximum()._call_masked([-a, -b], False, [ma, mb])
    np.testing.assert_allclose(out[0], [[0, 0], [-1, -2], [-1, -2], [-3, -4]])
    np.testing.assert_array_equal(mask, [[False, True, True, True]])


def test_concatenate_masks_follow_keras():
    a, b, ma, mb = _keras_pair()
    _, mask = layers.Concatenate(axis=1)._call_masked([a, b], False, [ma, None])
    np.testing.assert_array_equal(mask, [[False, True, False, True, True, True, True, True]])
    _, mask = layers.Concatenate(axis=1)._call_masked([a, b], False, [ma, mb])
    np.testing.assert_array_equal(mask, [np.r_[ma[0], mb[0]]])
    _, mask = layers.Concatenate(axis=-1)._call_masked([a, b], False, [ma, None])
    np.testing.assert_array_equal(mask, [[True] * 4])  # the unmasked input keeps every step
    _, mask = layers.Concatenate()._call_masked([a, b], False, [ma, mb])
    np.testing.assert_array_equal(mask, ma | mb)
    assert layers.Concatenate().compute_mask([a, b], None) is None
    assert layers.Concatenate().compute_mask([a, b], [None, None]) is None


def test_merge_compute_mask_checks_and_dot():
    a, b, ma, mb = _keras_pair()
    add = layers.Add()
    assert add.compute_mask([a, b], None) is None
    assert add.compute_mask([a, b], [None, None]) is None
    with pytest.raises(ValueError, match="must be a list"):
        add.compute_mask([a, b], ma)
    with pytest.raises(ValueError, match="'inputs' argument"):
        add.compute_mask(a, [ma, mb])
    with pytest.raises(ValueError, match="same length"):
        add.compute_mask([a, b], [ma])
    dot = layers.Dot(axes=-1)
    out, mask = dot._call_masked([a, b], False, [ma, mb])
    assert mask is None and out.shape == (1, 4, 4) and dot.supports_masking


def test_masked_merges_in_a_functional_model():
    utils.set_random_seed(0)
    left, right = Input(shape=(None,)), Input(shape=(None,))
    emb_l, emb_r = Embedding(7, 3, mask_zero=True), Embedding(7, 3, mask_zero=True)
    summed = layers.Add()([emb_l(left), emb_r(right)])
    joined = layers.Concatenate(axis=1)([emb_l(left), emb_r(right)])
    model = Model([left, right], [Dense(2)(summed), Dense(2)(joined)])
    xl, xr = np.array([[1, 2, 0, 0], [0, 3, 4, 0]]), np.array([[1, 0, 0, 0], [5, 0, 6, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict([xl, xr], verbose=0)
    np.testing.assert_array_equal(model._output_masks[0], (xl != 0) | (xr != 0))
    np.testing.assert_array_equal(model._output_masks[1], np.concatenate([xl != 0, xr != 0], axis=1))


@pytest.mark.parametrize("cls", [layers.Multiply, layers.Maximum, layers.Minimum])
def test_masked_merge_gradients(cls, float64):
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((3, 5, 4)) for _ in range(3)]
    masks = [MASK, MASK[::-1].copy(), rng.random((3, 5)) < 0.5]
    _check_masked_gradients(cls, xs, masks)
    _check_masked_gradients(cls, xs, [MASK, None, masks[2]])
    # Broadcast inputs (a per-sample vector against a sequence).
    _check_masked_gradients(cls, [xs[0], rng.standard_normal((3, 1, 4))], [MASK, None])


# -- variable-length targets -------------------------------------------------------------------


def test_targets_of_outputs_with_undefined_lengths():
    y = np.zeros((4, 7, 3))
    assert MeanSquaredError().prepare_targets(y, (None, None, 3)).shape == (4, 7, 3)
    assert MeanSquaredError().prepare_targets(np.zeros((4, 7)), (None, None, 1)).shape == (4, 7, 1)
    labels = SparseCategoricalCrossentropy().prepare_targets(np.ones((4, 7)), (None, None, 3))
    assert labels.shape == (4, 7) and labels.dtype == np.intp
    with pytest.raises(ValueError, match="must have shape"):
        MeanSquaredError().prepare_targets(np.zeros((4, 7, 2)), (None, None, 3))
    with pytest.raises(ValueError, match="must have shape"):
        MeanSquaredError().prepare_targets(np.zeros((4, 7)), (None, None, 3))
    with pytest.raises(ValueError, match="integer class labels of shape"):
        SparseCategoricalCrossentropy().prepare_targets(np.ones((4, 7, 2)), (None, None, 3))


def test_variable_length_sequence_tagger_trains_with_fit():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = padded_sequences(rng, 96, 9, 12, shortest=3)
    y = x % 3  # tag each token with its residue
    model = Sequential([Input(shape=(None,)), Embedding(12, 8, mask_zero=True),
                        LSTM(16, return_sequences=True), TimeDistributed(Dense(3, activation="softmax"))])
    assert model.output_shape == (None, None, 3)
    model.compile(optimizer=optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    # Sequences of another length go through the same model.
    assert model.predict(x[:2, :5], verbose=0).shape == (2, 5, 3)
    assert model.evaluate(x[:, :6], y[:, :6], verbose=0)[0] < history.history["loss"][0]
