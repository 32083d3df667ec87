"""Preprocessing layers: Rescaling, Normalization, Discretization, CategoryEncoding, Resizing, CenterCrop."""

import json

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, models, optimizers, utils
from automl.keras.layers import (
    CategoryEncoding,
    CenterCrop,
    Conv2D,
    Dense,
    Discretization,
    Embedding,
    Flatten,
    Normalization,
    Rescaling,
    Resizing,
)
from automl.testing import check_layer_gradients

from .helpers import roundtrip


def _regression_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    # features on very different scales, as in the Auto MPG tutorial
    x = rng.standard_normal((n, 3)) * np.array([1.0, 100.0, 1000.0]) + np.array([5.0, 300.0, 3000.0])
    z = (x - [5.0, 300.0, 3000.0]) / [1.0, 100.0, 1000.0]
    y = z @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.standard_normal(n)
    return x, y[:, None]


# -- Rescaling -------------------------------------------------------------------
def test_rescaling_values_per_channel_and_dtype():
    x = np.arange(12.0).reshape(1, 2, 2, 3)
    y = Rescaling([1.0, 0.5, 2.0], offset=[0.0, 1.0, -1.0])(x)
    np.testing.assert_allclose(y, x * [1.0, 0.5, 2.0] + [0.0, 1.0, -1.0])
    assert y.dtype == np.float32
    assert Rescaling(2.0).compute_output_shape((None, 4)) == (None, 4)


@pytest.mark.parametrize("make", [
    lambda: Rescaling(1.0 / 255),
    lambda: Rescaling([0.5, 2.0, -1.0], offset=0.3),
], ids=["scalar", "per_channel"])
def test_rescaling_gradients(make):
    assert list(check_layer_gradients(make, (2, 3, 3))) == ["inputs"]


def test_rescaling_cnn_equals_scaled_inputs():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 8, 8, 1)).astype(np.float32)
    y = (x[:, 2:6, 2:6, 0].mean(axis=(1, 2)) > 127).astype(int)
    model = Sequential([
        Input(shape=(8, 8, 1)),
        Rescaling(1.0 / 255),
        Conv2D(4, 3, activation="relu"),
        Flatten(),
        Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    # the same network without the Rescaling layer, fed x / 255, predicts the same
    plain = Sequential([Input(shape=(8, 8, 1)), Conv2D(4, 3, activation="relu"), Flatten(),
                        Dense(2, activation="softmax")])
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x / 255.0, verbose=0), rtol=1e-5)


# -- Normalization ---------------------------------------------------------------
def test_normalization_adapt_matches_numpy_and_normalizes():
    x, _ = _regression_data()
    normalizer = Normalization(axis=-1)
    normalizer.adapt(np.array(x))
    mean, variance, count = normalizer.get_weights()
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(variance, x.var(axis=0), rtol=1e-5)
    assert int(count) == len(x) and mean.dtype == np.float32
    assert [w.name for w in normalizer.weights] == [f"{normalizer.name}/{n}" for n in ("mean", "variance", "count")]
    assert normalizer.trainable_weights == [] and len(normalizer.non_trainable_weights) == 3
    z = normalizer(x)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-4)


def test_normalization_adapt_from_batches_equals_whole_array():
    x, _ = _regression_data(n=101)
    whole = Normalization()
    whole.adapt(x)
    for data, kwargs in [([x[:30], x[30:64], x[64:]], {}), (x, {"batch_size": 7}),
                         (((b, None) for b in np.array_split(x, 5)), {})]:
        layer = Normalization()
        layer.adapt(data, **kwargs)
        for got, want in zip(layer.get_weights(), whole.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-5)
    first_two = Normalization()
    first_two.adapt(x, batch_size=10, steps=2)
    np.testing.assert_allclose(first_two.get_weights()[0], x[:20].mean(axis=0), rtol=1e-6)


def test_normalization_axis_variants_and_invert():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 4, 3)) * 3 + 2
    scalar = Normalization(axis=None)
    scalar.adapt(x)
    assert scalar.get_weights()[0].shape == ()
    np.testing.assert_allclose(scalar.get_weights()[0], x.mean(), rtol=1e-5)
    both = Normalization(axis=(1, 2))
    both.adapt(x)
    np.testing.assert_allclose(both.get_weights()[1], x.var(axis=0), rtol=1e-5)
    # the horsepower tutorial: 1-D data, axis=None, then (batch, 1) inputs
    hp = Normalization(input_shape=[1], axis=None)
    hp.adapt(x[:, 0, 0])
    out = Sequential([hp]).predict(x[:5, 0, :1], verbose=0)
    np.testing.assert_allclose(out[:, 0], (x[:5, 0, 0] - x[:, 0, 0].mean()) / x[:, 0, 0].std(), rtol=1e-4)
    # invert maps normalized values back
    forward, inverse = Normalization(), Normalization(invert=True)
    forward.adapt(x[:, 0])
    inverse.adapt(x[:, 0])
    np.testing.assert_allclose(inverse(forward(x[:, 0])), x[:, 0], rtol=1e-5, atol=1e-5)


def test_normalization_with_fixed_mean_and_variance():
    layer = Normalization(mean=[1.0, 2.0], variance=[4.0, 0.0])
    y = layer(np.array([[3.0, 2.0], [1.0, 3.0]]))
    np.testing.assert_allclose(y, [[1.0, 0.0], [0.0, 1e7]], rtol=1e-5)  # sqrt(0) -> epsilon
    assert layer.weights == []
    with pytest.raises(ValueError, match="cannot be adapted"):
        layer.adapt(np.ones((3, 2)))
    with pytest.raises(ValueError, match="broadcast"):
        Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 1.0, 1.0])(np.ones((2, 2)))


def test_normalization_errors():
    with pytest.raises(ValueError, match=r"Normalization layer 'raw' has no mean and variance yet.*adapt"):
        Normalization(name="raw")(np.ones((2, 3)))


def test_normalization_given_its_initial_weights_is_the_identity():
    layer = Normalization()
    layer.build((None, 3))
    layer.set_weights([np.zeros(3), np.ones(3), np.array(0)])
    np.testing.assert_allclose(layer(np.full((2, 3), 5.0)), 5.0, rtol=1e-6)
    with pytest.raises(ValueError, match="passed together"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        Normalization(mean=[1.0, 2.0], variance=1.0)
    with pytest.raises(ValueError, match="'axis' parameter of Normalization"):
        Normalization(axis=3).adapt(np.ones((4, 2)))
    layer = Normalization()
    layer.adapt(np.ones((4, 2)))
    with pytest.raises(ValueError, match="adapt got a batch of shape"):
        layer.adapt(np.ones((4, 3)))


@pytest.mark.parametrize("make", [
    lambda: Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 2.0]),
    lambda: Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 2.0], invert=True),
    lambda: Normalization(axis=None, mean=1.5, variance=9.0),
], ids=["per_feature", "invert", "scalar"])
def test_normalization_gradients(make):
    assert list(check_layer_gradients(make, (4, 2, 3))) == ["inputs"]


def test_regression_tutorial_flow_trains_and_saves(tmp_path):
    utils.set_random_seed(0)
    train_features, train_labels = _regression_data()
    normalizer = Normalization(axis=-1)
    normalizer.adapt(np.array(train_features))
    model = Sequential([normalizer, Dense(64, activation="relu"), Dense(1)])
    model.compile(loss="mean_squared_error", optimizer=optimizers.Adam(0.01))
    history = model.fit(train_features, train_labels, validation_split=0.2, epochs=15, batch_size=32, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < loss[0] / 10
    # the adapted statistics were left alone by training
    np.testing.assert_allclose(normalizer.get_weights()[0], train_features.mean(axis=0), rtol=1e-6)

    path = tmp_path / "dnn_model.keras"
    model.save(str(path))
    loaded = models.load_model(str(path))
    assert isinstance(loaded.layers[0], Normalization)
    np.testing.assert_array_equal(loaded.predict(train_features, verbose=0), model.predict(train_features, verbose=0))
    for got, want in zip(loaded.layers[0].get_weights(), normalizer.get_weights()):
        np.testing.assert_array_equal(got, want)
    # get_weights / set_weights carry the statistics to a fresh model
    fresh = Sequential([Input(shape=(3,)), Normalization(), Dense(64, activation="relu"), Dense(1)])
    fresh.set_weights(model.get_weights())
    np.testing.assert_allclose(fresh.predict(train_features, verbose=0),
                               model.predict(train_features, verbose=0), rtol=1e-6)


def test_normalization_in_functional_model():
    x, y = _regression_data(n=64)
    norm = Normalization()
    norm.adapt(x)
    inputs = Input(shape=(3,))
    model = Model(inputs, Dense(1)(norm(inputs)))
    model.compile(loss="mse", optimizer="sgd")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# -- Discretization ----------------------------------------------------------------
def test_discretization_boundaries_and_keras_example():
    x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    out = Discretization(bin_boundaries=[0.0, 1.0, 2.0])(x)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[0, 2, 3, 1], [1, 3, 2, 1]])
    layer = Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(x)
    np.testing.assert_allclose(layer.bin_boundaries, [0.0, 0.5, 1.3], rtol=1e-6)
    np.testing.assert_array_equal(layer(x), [[0, 2, 3, 2], [1, 3, 3, 1]])


def test_discretization_quantiles_split_data_evenly():
    rng = np.random.default_rng(0)
    data = rng.exponential(size=(4000, 1))
    layer = Discretization(num_bins=5)
    layer.adapt(data)
    expected = np.quantile(data.astype(np.float32), [0.2, 0.4, 0.6, 0.8], method="interpolated_inverted_cdf")
    np.testing.assert_allclose(layer.bin_boundaries, expected, rtol=1e-6)
    counts = np.bincount(layer(data).ravel(), minlength=5)
    assert np.all(np.abs(counts - 800) <= 1)  # a boundary equal to a data value starts its bin
    batched = Discretization(num_bins=5)
    batched.adapt([data[:1000], data[1000:]])
    assert batched.bin_boundaries == layer.bin_boundaries


def test_discretization_output_modes():
    x = np.array([[-1.0, 0.5], [2.5, 2.5]])
    bounds = [0.0, 1.0, 2.0]  # 4 bins; x -> [[0, 1], [3, 3]]
    one_hot = Discretization(bin_boundaries=bounds, output_mode="one_hot")(x)
    assert one_hot.shape == (2, 2, 4) and one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot[1], [[0, 0, 0, 1], [0, 0, 0, 1]])
    np.testing.assert_array_equal(Discretization(bin_boundaries=bounds, output_mode="one_hot")(x[:, :1]),
                                  [[1, 0, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(Discretization(bin_boundaries=bounds, output_mode="multi_hot")(x),
                                  [[1, 1, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(Discretization(bin_boundaries=bounds, output_mode="count")(x),
                                  [[1, 1, 0, 0], [0, 0, 0, 2]])
    layer = Discretization(num_bins=3, output_mode="one_hot")
    assert layer.compute_output_shape((None, 1)) == (None, 3)
    assert layer.compute_output_shape((None, 5)) == (None, 5, 3)
    assert Discretization(bin_boundaries=bounds, output_mode="count").compute_output_shape((None, 5)) == (None, 4)


def test_discretization_errors():
    with pytest.raises(ValueError, match="not both"):
        Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="num_bins"):
        Discretization()
    with pytest.raises(ValueError, match="'output_mode' parameter of Discretization"):
        Discretization(num_bins=2, output_mode="tf_idf")
    with pytest.raises(ValueError, match="'sparse' parameter of Discretization"):
        Discretization(num_bins=2, output_mode="one_hot", sparse=True)
    with pytest.raises(ValueError, match="sorted"):
        Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(ValueError, match="adapt"):
        Discretization(num_bins=3, name="bins")(np.ones((2, 1)))
    with pytest.raises(ValueError, match="cannot be adapted"):
        Discretization(bin_boundaries=[0.0]).adapt(np.ones((2, 1)))


# -- CategoryEncoding -------------------------------------------------------------
def test_category_encoding_modes_keras_examples():
    one_hot = CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1])
    np.testing.assert_array_equal(one_hot, np.eye(4)[[3, 2, 0, 1]])
    assert one_hot.dtype == np.float32
    multi = CategoryEncoding(num_tokens=4, output_mode="multi_hot")([[0, 1], [0, 0], [1, 2], [3, 1]])
    np.testing.assert_array_equal(multi, [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    count_weights = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    counts = CategoryEncoding(num_tokens=4, output_mode="count")(
        [[0, 1], [0, 0], [1, 2], [3, 1]], count_weights=count_weights)
    np.testing.assert_allclose(counts, [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0], [0, 0.2, 0.3, 0], [0, 0.2, 0, 0.4]],
                               rtol=1e-6)
    np.testing.assert_array_equal(CategoryEncoding(3, "count")([[2, 2, 0]]), [[1, 0, 2]])
    np.testing.assert_array_equal(CategoryEncoding(3, "binary")([[2, 2, 0]]), [[1, 0, 1]])
    assert CategoryEncoding(3).output_mode == "multi_hot"
    assert CategoryEncoding(5, "one_hot").compute_output_shape((None, 1)) == (None, 5)
    assert CategoryEncoding(5, "one_hot").compute_output_shape((None, 2)) == (None, 2, 5)
    assert CategoryEncoding(5, "count").compute_output_shape((None, 7)) == (None, 5)


def test_category_encoding_errors():
    with pytest.raises(ValueError, match=r"'enc' got the token 4, outside \[0, 3\]"):
        CategoryEncoding(4, name="enc")([[1, 4]])
    with pytest.raises(ValueError, match="token -1"):
        CategoryEncoding(4)([[-1, 2]])
    with pytest.raises(ValueError, match="num_tokens"):
        CategoryEncoding()
    with pytest.raises(ValueError, match="'output_mode' parameter of CategoryEncoding"):
        CategoryEncoding(3, output_mode="int")
    with pytest.raises(ValueError, match="count_weights only with output_mode='count'"):
        CategoryEncoding(3)([[0]], count_weights=[[1.0]])
    with pytest.raises(ValueError, match="only in eager calls"):
        CategoryEncoding(3, "count")(Input(shape=(2,)), count_weights=np.ones((1, 2)))
    with pytest.raises(ValueError, match="rank 2 or less"):
        CategoryEncoding(3, "count")(np.zeros((2, 2, 2), dtype=int))


def test_non_differentiable_layers_raise_in_backward_but_train_as_first_layer():
    for layer in (Discretization(bin_boundaries=[0.0], name="disc"), CategoryEncoding(3, name="cat")):
        layer(np.zeros((2, 1)))
        with pytest.raises(ValueError, match=rf"{type(layer).__name__} layer '{layer.name}' has no gradient"):
            layer.backward(np.zeros((2, 1)))
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (200, 1))
    y = (np.abs(x[:, 0]) > 1).astype(int)  # not linearly separable in x, separable in its bins
    seq = Sequential([Input(shape=(1,)), Discretization(bin_boundaries=[-1.0, 0.0, 1.0], output_mode="one_hot"),
                      Dense(2, activation="softmax")])
    seq.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = seq.fit(x, y, epochs=30, batch_size=20, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] and hist.history["accuracy"][-1] > 0.95
    # functional: integer bins -> Embedding, and tokens -> CategoryEncoding -> Dense
    inputs = Input(shape=(1,))
    bins = Discretization(num_bins=4)
    bins.adapt(x)
    model = Model(inputs, Dense(1, activation="sigmoid")(Flatten()(Embedding(4, 2)(bins(inputs)))))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    hist = model.fit(x, y, epochs=5, batch_size=20, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    tokens = rng.integers(0, 3, (120, 1)).astype(float)
    cat_model = Sequential([Input(shape=(1,)), CategoryEncoding(3, "one_hot"), Dense(1)])
    cat_model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    hist = cat_model.fit(tokens, tokens[:, 0] * 2.0, epochs=20, batch_size=20, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] / 2


# -- Resizing and CenterCrop --------------------------------------------------------
def test_resizing_bilinear_hand_computed():
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    up = Resizing(4, 4)(x)[0, :, :, 0]
    row = np.array([1.0, 1.25, 1.75, 2.0])  # samples at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
    np.testing.assert_allclose(up, [row, row + 0.5, row + 1.5, row + 2.0])
    img = np.arange(16.0).reshape(1, 4, 4, 1)
    down = Resizing(2, 2)(img)[0, :, :, 0]  # centres at 0.5 and 2.5: means of 2x2 blocks
    np.testing.assert_allclose(down, [[2.5, 4.5], [10.5, 12.5]])
    three = Resizing(1, 3)(img)[0, 0, :, 0]  # row 1.5; columns (i + 0.5) * 4/3 - 0.5
    np.testing.assert_allclose(three, 6.0 + np.array([1 / 6, 1.5, 17 / 6]))


def test_resizing_nearest_crop_and_pad():
    img = np.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(Resizing(2, 2, interpolation="nearest")(img)[0, :, :, 0], [[5, 7], [13, 15]])
    small = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(Resizing(4, 4, "nearest")(small)[0, :, :, 0],
                                  np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2))))
    tall = np.arange(24.0).reshape(1, 6, 4, 1)
    cropped = Resizing(2, 2, crop_to_aspect_ratio=True)(tall)  # rows 1..4 kept, then 4x4 -> 2x2
    np.testing.assert_allclose(cropped, Resizing(2, 2)(tall[:, 1:5]))
    wide = np.arange(1.0, 9.0).reshape(1, 2, 4, 1)
    padded = Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=-1.0)(wide)[0, :, :, 0]
    np.testing.assert_array_equal(padded, np.vstack([-np.ones(4), wide[0, :, :, 0], -np.ones(4)]))
    layer = Resizing(5, 7)
    assert layer.compute_output_shape((None, 10, 10, 3)) == (None, 5, 7, 3)
    assert layer(np.ones((2, 3, 4, 3))).shape == (2, 5, 7, 3)


@pytest.mark.parametrize("make,shape", [
    (lambda: Resizing(3, 5), (2, 4, 3, 2)),
    (lambda: Resizing(5, 2, interpolation="nearest"), (2, 3, 4, 2)),
    (lambda: Resizing(2, 2, crop_to_aspect_ratio=True), (1, 5, 3, 2)),
    (lambda: Resizing(3, 3, pad_to_aspect_ratio=True, fill_value=0.5), (1, 2, 3, 2)),
    (lambda: CenterCrop(2, 3), (2, 5, 4, 2)),
    (lambda: CenterCrop(4, 4), (1, 3, 5, 1)),
], ids=["bilinear", "nearest", "crop_aspect", "pad_aspect", "center_crop", "center_crop_small"])
def test_resampling_gradients(make, shape):
    assert list(check_layer_gradients(make, shape)) == ["inputs"]


def test_center_crop_slices_or_resizes():
    x = np.arange(5 * 6 * 2, dtype=float).reshape(1, 5, 6, 2)
    np.testing.assert_array_equal(CenterCrop(3, 2)(x), x[:, 1:4, 2:4])
    np.testing.assert_array_equal(CenterCrop(5, 6)(x), x)
    # smaller along a side: largest centred window with the target aspect ratio, resized
    np.testing.assert_allclose(CenterCrop(8, 4)(x), Resizing(8, 4, crop_to_aspect_ratio=True)(x))
    np.testing.assert_allclose(CenterCrop(10, 12)(x), Resizing(10, 12)(x))
    assert CenterCrop(3, 2).compute_output_shape((None, 5, 6, 2)) == (None, 3, 2, 2)
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        CenterCrop(2, 2)(np.ones((2, 4, 4)))


def test_resizing_in_models_and_errors():
    utils.set_random_seed(0)
    x = np.random.default_rng(0).random((32, 12, 12, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(int)
    model = Sequential([Input(shape=(12, 12, 1)), Resizing(6, 6), CenterCrop(4, 4), Conv2D(2, 3), Flatten(),
                        Dense(2, activation="softmax")])
    assert model.output_shape == (None, 2)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert np.isfinite(model.fit(x, y, epochs=2, verbose=0).history["loss"][-1])
    # a resampling layer after trainable layers passes gradients back
    inputs = Input(shape=(4, 4, 1))
    mid = Resizing(8, 8)(Conv2D(2, 1)(inputs))
    func = Model(inputs, Dense(1)(Flatten()(CenterCrop(6, 6)(mid))))
    func.compile(optimizer="sgd", loss="mse")
    hist = func.fit(x[:, :4, :4], y.astype(float), epochs=3, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    with pytest.raises(ValueError, match="'interpolation' parameter of Resizing"):
        Resizing(2, 2, interpolation="bicubic")
    with pytest.raises(ValueError, match="only one of"):
        Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="channels_last"):
        Resizing(2, 2, data_format="channels_first")
    with pytest.raises(ValueError, match="'height' parameter of CenterCrop"):
        CenterCrop(0, 2)


# -- shared ---------------------------------------------------------------------------
CONFIG_LAYERS = [
    lambda: Rescaling(1.0 / 255, name="rescale"),
    lambda: Rescaling([0.5, 2.0], offset=[1.0, 0.0]),
    lambda: Normalization(axis=None, mean=2.0, variance=3.0, invert=True),
    lambda: Normalization(axis=(1, 2)),
    lambda: Discretization(bin_boundaries=[0.0, 1.5], output_mode="count"),
    lambda: Discretization(num_bins=3, epsilon=0.05),
    lambda: CategoryEncoding(num_tokens=7, output_mode="one_hot"),
    lambda: Resizing(3, 4, "nearest", pad_to_aspect_ratio=True, fill_value=1.0),
    lambda: CenterCrop(5, 6),
]


@pytest.mark.parametrize("make", CONFIG_LAYERS)
def test_config_round_trip(make):
    roundtrip(make())


def test_adapted_discretization_config_keeps_boundaries():
    layer = Discretization(num_bins=3)
    layer.adapt(np.arange(9.0).reshape(-1, 1))
    clone = Discretization.from_config(json.loads(json.dumps(layer.get_config())))
    assert clone.bin_boundaries == layer.bin_boundaries and clone.num_bins == 3
    x = np.linspace(-1, 10, 12).reshape(-1, 1)
    np.testing.assert_array_equal(clone(x), layer(x))


def test_registered_and_keras_defaults(float64):
    for name in ("Rescaling", "Normalization", "Discretization", "CategoryEncoding", "Resizing", "CenterCrop"):
        assert name in layers.LAYERS
    assert Rescaling(2.0).offset == 0.0
    norm = Normalization()
    assert norm.axis == (-1,) and norm.input_mean is None and norm.invert is False
    disc = Discretization(num_bins=2)
    assert (disc.epsilon, disc.output_mode, disc.sparse) == (0.01, "int", False)
    assert CategoryEncoding(2).sparse is False
    resize = Resizing(2, 2)
    assert (resize.interpolation, resize.crop_to_aspect_ratio, resize.pad_to_aspect_ratio, resize.fill_mode,
            resize.fill_value) == ("bilinear", False, False, "constant", 0.0)
    # dtype follows floatx
    assert Rescaling(2.0)(np.ones((1, 2), np.float32)).dtype == np.float64
    assert Resizing(3, 3)(np.ones((1, 2, 2, 1))).dtype == np.float64
    assert CategoryEncoding(2)([[1]]).dtype == np.float64
