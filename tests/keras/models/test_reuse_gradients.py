"""Weights used several times get the sum of their gradients, whatever the kind of reuse.

Each test builds a model that reuses a layer or a whole model, runs one
training step's backward pass and compares every weight's gradient with a
float64 central-difference gradient of the whole model's loss
(``check_model_gradients``).
"""

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, ops, utils
from automl.testing import check_model_gradients


def _data(n_inputs, features=4, n=5, out=1, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((n, features)) for _ in range(n_inputs)]
    return xs[0] if n_inputs == 1 else xs, rng.standard_normal((n, out))


def _check(model, x, y, loss="mse"):
    model.compile(optimizer="sgd", loss=loss)
    check_model_gradients(model, x, y)


def _sequential_tower():
    return Sequential([Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(3, activation="sigmoid")])


def _functional_tower():
    inputs = Input((4,))
    hidden = layers.Dense(3, activation="tanh")(inputs)
    return Model(inputs, layers.Dense(3, activation="sigmoid")(hidden))


def _abs_difference(pair):
    return ops.abs(pair[0] - pair[1])


MERGES = {
    "subtract": lambda: layers.Subtract(),
    "concatenate": lambda: layers.Concatenate(),
    "dot": lambda: layers.Dot(axes=1),
    "lambda": lambda: layers.Lambda(_abs_difference),
    "add": lambda: layers.Add(),
    "multiply": lambda: layers.Multiply(),
}


@pytest.mark.parametrize("merge", sorted(MERGES))
@pytest.mark.parametrize("tower", [_sequential_tower, _functional_tower], ids=["sequential", "functional"])
def test_siamese_shared_tower_gradients(float64, tower, merge):
    utils.set_random_seed(1)
    shared = tower()
    a, b = Input((4,)), Input((4,))
    merged = MERGES[merge]()([shared(a), shared(b)])
    model = Model([a, b], layers.Dense(1)(merged))
    _check(model, *_data(2))


def test_layer_called_several_times_on_its_own_output(float64):
    utils.set_random_seed(2)
    inputs = Input((4,))
    square = layers.Dense(4, activation="tanh")
    out = layers.Dense(1)(square(square(square(inputs))))
    _check(Model(inputs, out), *_data(1))


def test_layer_used_directly_and_inside_a_nested_model(float64):
    utils.set_random_seed(3)
    dense = layers.Dense(4, activation="tanh")
    inner = Sequential([Input((4,)), dense, layers.Dense(4)])
    inputs = Input((4,))
    out = layers.Dense(1)(layers.Add()([dense(inputs), inner(inputs)]))
    _check(Model(inputs, out), *_data(1))


def test_nested_models_reused_at_two_depths(float64):
    utils.set_random_seed(4)
    tower = _functional_tower()
    a = Input((4,))
    pair_model = Model(a, layers.Concatenate()([tower(a), layers.Dense(3)(a)]))
    x, y = Input((4,)), Input((4,))
    merged = layers.Subtract()([pair_model(x), pair_model(y)])
    out = layers.Dense(1)(layers.Concatenate()([merged, tower(x)]))
    _check(Model([x, y], out), *_data(2))


def test_sequential_holding_the_same_layer_twice(float64):
    utils.set_random_seed(5)
    shared = layers.Dense(4, activation="tanh")
    model = Sequential([Input((4,)), shared, shared, layers.Dense(1)])
    _check(model, *_data(1))


def test_shared_model_inside_time_distributed_and_directly(float64):
    utils.set_random_seed(6)
    tower = _sequential_tower()
    seq = Input((2, 4))
    flat = Input((4,))
    per_step = layers.Flatten()(layers.TimeDistributed(tower)(seq))
    out = layers.Dense(1)(layers.Concatenate()([per_step, tower(flat)]))
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((5, 2, 4)), rng.standard_normal((5, 4))]
    _check(Model([seq, flat], out), x, rng.standard_normal((5, 1)))


def test_shared_bidirectional_on_two_sequences(float64):
    utils.set_random_seed(7)
    encoder = layers.Bidirectional(layers.SimpleRNN(3))
    a, b = Input((3, 2)), Input((3, 2))
    out = layers.Dense(1)(layers.Subtract()([encoder(a), encoder(b)]))
    rng = np.random.default_rng(1)
    x = [rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))]
    _check(Model([a, b], out), x, rng.standard_normal((4, 1)))


def test_time_distributed_functional_model_used_twice(float64):
    utils.set_random_seed(8)
    wrapped = layers.TimeDistributed(_functional_tower())
    a, b = Input((2, 4)), Input((2, 4))
    merged = layers.Subtract()([wrapped(a), wrapped(b)])
    out = layers.Dense(1)(layers.Flatten()(merged))
    rng = np.random.default_rng(2)
    x = [rng.standard_normal((5, 2, 4)), rng.standard_normal((5, 2, 4))]
    _check(Model([a, b], out), x, rng.standard_normal((5, 1)))


class _Siamese(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tower = _sequential_tower()
        self.head = layers.Dense(1)

    def call(self, inputs, training=False):
        left = self.tower(inputs[:, :4])
        right = self.tower(inputs[:, 4:])
        return self.head(ops.abs(left - right))


def test_subclassed_model_calling_a_tower_twice(float64):
    utils.set_random_seed(9)
    model = _Siamese()
    x, y = _data(1, features=8)
    model(x)
    _check(model, x, y)


def test_siamese_shared_tower_trains_with_subtract():
    """The siamese pattern: the shared tower's kernel moves and the loss goes down."""
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    left, right = rng.standard_normal((256, 6)), rng.standard_normal((256, 6))
    y = np.tanh(left[:, :2] - right[:, :2]).sum(axis=1, keepdims=True)
    tower = Sequential([Input((6,)), layers.Dense(8, activation="tanh"), layers.Dense(4)])
    a, b = Input((6,)), Input((6,))
    model = Model([a, b], layers.Dense(1)(layers.Subtract()([tower(a), tower(b)])))
    model.compile(optimizer="adam", loss="mse")
    kernel = tower.layers[0].kernel.numpy()
    history = model.fit([left, right], y, epochs=20, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.3 * losses[0]
    assert np.abs(tower.layers[0].kernel.numpy() - kernel).max() > 0.05
    # Both towers are the same weights: swapping the inputs negates the output's linear part.
    out = model.predict([left[:8], right[:8]], verbose=0) - model.predict([right[:8], left[:8]], verbose=0)
    bias = model.layers[-1].bias.numpy()
    np.testing.assert_allclose(out / 2 + bias, model.predict([left[:8], right[:8]], verbose=0), atol=1e-5)
