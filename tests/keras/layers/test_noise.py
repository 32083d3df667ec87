"""AlphaDropout, GaussianDropout, GaussianNoise: inference identity, seeded noise, gradients, config."""

import json
import math

import numpy as np
import pytest

from automl.keras import Input, Sequential, backend, layers, utils
from automl.keras.layers import AlphaDropout, Dense, GaussianDropout, GaussianNoise
from automl.testing import check_layer_gradients

from .helpers import replayed

ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

FACTORIES = {
    "AlphaDropout": lambda seed=None: AlphaDropout(0.3, seed=seed),
    "GaussianDropout": lambda seed=None: GaussianDropout(0.3, seed=seed),
    "GaussianNoise": lambda seed=None: GaussianNoise(0.5, seed=seed),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_identity_in_inference(name, rng):
    x = rng.standard_normal((20, 6)).astype(np.float32)
    layer = FACTORIES[name](seed=0)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    upstream = rng.standard_normal((20, 6)).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(upstream), upstream)


@pytest.mark.parametrize("layer", [AlphaDropout(0.0), GaussianDropout(0.0), GaussianNoise(0.0)],
                         ids=["AlphaDropout", "GaussianDropout", "GaussianNoise"])
def test_zero_rate_is_identity_in_training(layer, rng):
    x = rng.standard_normal((10, 4)).astype(np.float32)
    np.testing.assert_array_equal(layer(x, training=True), x)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_seeded_noise_is_reproducible(name, rng):
    x = rng.standard_normal((30, 5)).astype(np.float32)
    a = FACTORIES[name](seed=7)(x, training=True)
    b = FACTORIES[name](seed=7)(x, training=True)
    c = FACTORIES[name](seed=8)(x, training=True)
    assert not np.array_equal(a, x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # One layer draws fresh noise on every training call.
    layer = FACTORIES[name](seed=7)
    assert not np.array_equal(layer(x, training=True), layer(x, training=True))


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_unseeded_noise_follows_the_global_seed(name):
    x = np.ones((10, 10), dtype=np.float32)
    with backend.seed_scope(3):
        a = FACTORIES[name]()(x, training=True)
    with backend.seed_scope(3):
        b = FACTORIES[name]()(x, training=True)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("factory", [
    replayed(AlphaDropout, 0.4, seed=1),
    replayed(AlphaDropout, 0.4, noise_shape=(None, 1, 4), seed=1),
    replayed(GaussianDropout, 0.4, seed=1),
    replayed(GaussianNoise, 0.7, seed=1),
], ids=["alpha", "alpha-noise-shape", "gaussian-dropout", "gaussian-noise"])
def test_gradients_with_fixed_noise(factory):
    # With its draws fixed, each layer is affine in its input.
    errors = check_layer_gradients(factory, (5, 3, 4), training=True)
    assert errors["inputs"] < 1e-8


@pytest.mark.parametrize("factory", list(FACTORIES.values()), ids=sorted(FACTORIES))
def test_gradients_in_inference(factory):
    check_layer_gradients(factory, (4, 3), training=False)


def test_alpha_dropout_values_and_statistics(float64, rng):
    rate = 0.2
    a = ((1 - rate) * (1 + rate * ALPHA_P**2)) ** -0.5
    b = -a * ALPHA_P * rate
    x = rng.standard_normal((4000, 25))
    layer = AlphaDropout(rate, seed=0)
    y = layer(x, training=True)
    kept = np.isclose(y, a * x + b, rtol=0, atol=1e-12)
    dropped = np.isclose(y, a * ALPHA_P + b, rtol=0, atol=1e-12)
    assert np.all(kept | dropped)
    assert dropped.mean() == pytest.approx(rate, abs=0.01)
    # Self-normalizing: standardized inputs keep zero mean and unit variance.
    assert y.mean() == pytest.approx(0.0, abs=0.02)
    assert y.std() == pytest.approx(1.0, abs=0.02)
    upstream = rng.standard_normal(x.shape)
    np.testing.assert_allclose(layer.backward(upstream), upstream * a * kept, rtol=1e-14)


def test_alpha_dropout_noise_shape_shares_the_mask(rng):
    x = rng.standard_normal((20, 5, 6)).astype(np.float32) + 10.0  # never equal to the dropped value
    y = AlphaDropout(0.5, noise_shape=(None, 1, 6), seed=0)(x, training=True)
    dropped = np.isclose(y, y.min())
    np.testing.assert_array_equal(dropped, np.broadcast_to(dropped[:, :1, :], dropped.shape))
    assert 0 < dropped.mean() < 1


def test_gaussian_dropout_noise_statistics(float64):
    rate = 0.3
    layer = GaussianDropout(rate, seed=0)
    x = np.full((5000, 20), 2.0)
    y = layer(x, training=True)
    noise = y / 2.0
    assert noise.mean() == pytest.approx(1.0, abs=0.01)
    assert noise.std() == pytest.approx(math.sqrt(rate / (1 - rate)), rel=0.02)
    upstream = np.random.default_rng(1).standard_normal(x.shape)
    np.testing.assert_allclose(layer.backward(upstream), upstream * noise, rtol=1e-12)


def test_gaussian_noise_statistics(float64, rng):
    x = rng.standard_normal((5000, 20))
    layer = GaussianNoise(0.25, seed=0)
    noise = layer(x, training=True) - x
    assert noise.mean() == pytest.approx(0.0, abs=0.01)
    assert noise.std() == pytest.approx(0.25, rel=0.02)
    upstream = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(layer.backward(upstream), upstream)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_noise_follows_the_input_dtype(name, rng):
    y = FACTORIES[name](seed=0)(rng.standard_normal((4, 3)).astype(np.float32), training=True)
    assert y.dtype == np.float32


@pytest.mark.parametrize("layer", [
    AlphaDropout(0.25, noise_shape=(None, 1), seed=4, name="alpha"),
    GaussianDropout(0.1, seed=2, name="gdrop"),
    GaussianNoise(0.3, name="gnoise"),
], ids=["AlphaDropout", "GaussianDropout", "GaussianNoise"])
def test_config_round_trip(layer):
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == config
    assert type(layers.get(layers.serialize(layer))) is type(layer)


def test_config_values():
    assert AlphaDropout(0.25, noise_shape=(None, 1), seed=4).get_config()["noise_shape"] == [None, 1]
    assert GaussianDropout(0.1, seed=2).get_config()["rate"] == 0.1
    config = GaussianNoise(0.3).get_config()
    assert config["stddev"] == 0.3 and config["seed"] is None


@pytest.mark.parametrize("make, match", [
    (lambda: AlphaDropout(1.0), r"The 'rate' parameter of AlphaDropout must be a float in the range \[0, 1\)"),
    (lambda: AlphaDropout(-0.1), r"The 'rate' parameter of AlphaDropout"),
    (lambda: GaussianDropout(1.0), r"The 'rate' parameter of GaussianDropout must be a float in the range \[0, 1\)"),
    (lambda: GaussianNoise(-0.5), r"The 'stddev' parameter of GaussianNoise must be a float in the range \[0, 1\]"),
    (lambda: GaussianNoise(0.1, seed=-1), r"The 'seed' parameter of GaussianNoise"),
])
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_noise_layers_in_a_model_are_inactive_in_predict(rng):
    utils.set_random_seed(0)
    model = Sequential([Input(shape=(4,)), GaussianNoise(0.5, seed=0), Dense(8, activation="tanh"),
                        AlphaDropout(0.2, seed=1), Dense(8), GaussianDropout(0.3, seed=2), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = x[:, :1] * 2.0
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    # predict equals the noiseless forward pass.
    h = x
    for layer in model.layers:
        h = layer.call(h, training=False)
    np.testing.assert_allclose(model.predict(x, verbose=0), h, rtol=1e-5, atol=1e-6)
