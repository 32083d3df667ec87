"""Layer.add_loss, loss=None and per-output None losses (Keras guide patterns).

The variational autoencoder of the guide "Making new layers and models via
subclassing": a sampling layer, an encoder and a decoder written as layers,
and a model whose ``call`` adds the KL divergence with ``add_loss``.
"""

import numpy as np
import pytest

from automl import keras
from automl.keras import Input, Model, Sequential, layers, ops, utils
from automl.testing import check_model_gradients


class ActivityRegularization(keras.layers.Layer):
    def __init__(self, rate=1e-2, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.sum(ops.square(inputs)))
        return inputs


def test_losses_of_the_latest_call_only():
    layer = ActivityRegularization(0.5)
    layer(np.ones((2, 2)))
    assert len(layer.losses) == 1 and float(layer.losses[0]) == pytest.approx(2.0)
    layer(np.ones((1, 2)))
    assert len(layer.losses) == 1 and float(layer.losses[0]) == pytest.approx(1.0)


class OuterLayer(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reg = ActivityRegularization(1.0)

    def call(self, inputs):
        return self.reg(self.reg(inputs))  # two calls: two terms


def test_nested_layer_losses_are_collected_across_calls():
    outer = OuterLayer()
    outer(np.ones((1, 3)))
    assert [float(v) for v in outer.losses] == [3.0, 3.0]


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_added_loss_gradients_in_models(float64, kind):
    utils.set_random_seed(0)
    if kind == "sequential":
        model = Sequential([Input((4,)), layers.Dense(3, activation="tanh"), ActivityRegularization(0.3),
                            layers.Dense(1)])
    else:
        inputs = Input((4,))
        hidden = ActivityRegularization(0.3)(layers.Dense(3, activation="tanh")(inputs))
        model = Model(inputs, layers.Dense(1)(hidden))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((6, 1))
    check_model_gradients(model, x, y)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    mse = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert logs["loss"] == pytest.approx(mse + float(model.losses[0]), rel=1e-9)


class Sampling(keras.layers.Layer):
    """z = z_mean + exp(z_log_var / 2) * epsilon (the reparameterization trick)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=z_mean.shape, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(keras.layers.Layer):
    def __init__(self, latent_dim=2, intermediate_dim=16, **kwargs):
        super().__init__(**kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        return z_mean, z_log_var, self.sampling((z_mean, z_log_var))


class Decoder(keras.layers.Layer):
    def __init__(self, original_dim, intermediate_dim=16, **kwargs):
        super().__init__(**kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        return self.dense_output(self.dense_proj(inputs))


class VariationalAutoEncoder(keras.Model):
    def __init__(self, original_dim, intermediate_dim=16, latent_dim=2, name="autoencoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def test_variational_autoencoder_with_sampling_layer_and_add_loss(digits_split):
    utils.set_random_seed(0)
    x_train = digits_split[0][:512] / 16.0
    vae = VariationalAutoEncoder(64, 32, 2)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=5, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    assert len(vae.losses) == 1 and float(vae.losses[0]) >= 0.0
    # The KL term reaches the encoder's log-variance layer (its only path to any loss but
    # through the sampled z): its kernel moves.
    assert np.abs(vae.encoder.dense_log_var.kernel.grad).max() > 0
    assert vae.predict(x_train[:3], verbose=0).shape == (3, 64)


def test_compile_without_loss_trains_on_added_losses_only():
    utils.set_random_seed(1)

    class Shrink(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, inputs):
            out = self.dense(inputs)
            self.add_loss(ops.mean(ops.square(out)))
            return out

    model = Shrink()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=None)
    x = np.random.default_rng(0).standard_normal((32, 4)).astype("float32")
    history = model.fit(x, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_compile_without_any_loss_fails_at_fit():
    model = Sequential([Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)


def test_a_none_loss_for_one_output(float64):
    utils.set_random_seed(2)
    inputs = Input((4,))
    hidden = layers.Dense(3, activation="tanh")(inputs)
    side, main = layers.Dense(2, name="side")(hidden), layers.Dense(1, name="main")(hidden)
    model = Model(inputs, [side, main])
    model.compile(optimizer="sgd", loss=[None, "mse"])
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((6, 1))
    side_kernel = model.get_layer("side").kernel.numpy()
    check_model_gradients(model, x, [rng.standard_normal((6, 2)), y])
    model.fit(x, [None, y], epochs=2, verbose=0)
    np.testing.assert_array_equal(model.get_layer("side").kernel.numpy(), side_kernel)
