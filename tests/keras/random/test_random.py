"""automl.keras.random: distributions, seeds and SeedGenerator."""

import numpy as np
import pytest

from automl.keras import random, utils


@pytest.mark.parametrize("fn", [
    lambda seed: random.normal((50,), seed=seed),
    lambda seed: random.uniform((50,), seed=seed),
    lambda seed: random.truncated_normal((50,), seed=seed),
    lambda seed: random.randint((50,), 0, 10, seed=seed),
    lambda seed: random.dropout(np.ones(50), 0.5, seed=seed),
    lambda seed: random.shuffle(np.arange(50), seed=seed),
    lambda seed: random.categorical(np.zeros((2, 5)), 25, seed=seed),
    lambda seed: random.gamma((50,), 2.0, seed=seed),
    lambda seed: random.beta((50,), 2.0, 3.0, seed=seed),
    lambda seed: random.binomial((50,), 10, 0.5, seed=seed),
])
def test_int_seeds_are_reproducible_and_seed_generators_advance(fn):
    np.testing.assert_array_equal(fn(1), fn(1))
    assert not np.array_equal(fn(1), fn(2))
    gen_a, gen_b = random.SeedGenerator(4), random.SeedGenerator(4)
    first = fn(gen_a)
    np.testing.assert_array_equal(first, fn(gen_b))
    assert not np.array_equal(first, fn(gen_a))


def test_unseeded_calls_follow_the_global_seed():
    utils.set_random_seed(3)
    a = random.normal((4,))
    utils.set_random_seed(3)
    np.testing.assert_array_equal(a, random.normal((4,)))
    assert not np.array_equal(a, random.normal((4,)))


def test_distributions():
    x = random.normal((20000,), mean=2.0, stddev=3.0, seed=0)
    assert x.dtype == np.float32 and abs(x.mean() - 2) < 0.1 and abs(x.std() - 3) < 0.1
    assert random.normal((2, 3), dtype="float64", seed=0).dtype == np.float64
    u = random.uniform((10000,), minval=-1, maxval=2, seed=0)
    assert u.min() >= -1 and u.max() < 2 and abs(u.mean() - 0.5) < 0.05
    t = random.truncated_normal((10000,), mean=1.0, stddev=0.5, seed=0)
    assert np.abs(t - 1.0).max() <= 1.0 and abs(t.std() - 0.44) < 0.03
    r = random.randint((1000,), 3, 6, seed=0)
    assert r.dtype == np.int32 and set(np.unique(r)) == {3, 4, 5}


def test_dropout_scales_kept_values_and_shares_noise_over_noise_shape():
    x = np.ones((200, 4), dtype="float32")
    out = random.dropout(x, 0.25, seed=0)
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.05 and out.dtype == np.float32
    shared = random.dropout(x, 0.5, noise_shape=(None, 1), seed=0)
    assert all(len(np.unique(row)) == 1 for row in shared)


def test_shuffle_and_categorical():
    x = np.arange(12).reshape(3, 4)
    s = random.shuffle(x, axis=1, seed=0)
    assert sorted(s[0].tolist()) == [0, 1, 2, 3] and (s - s[:, :1] == x - x[:, :1][:, [0]]).any()
    np.testing.assert_array_equal(np.sort(s, axis=1), x)
    logits = np.log([[0.1, 0.9, 1e-9], [1.0, 1e-9, 1e-9]])
    c = random.categorical(logits, 5000, seed=0)
    assert c.shape == (2, 5000) and c.dtype == np.int32
    assert abs((c[0] == 1).mean() - 0.9) < 0.02 and (c[1] == 0).all()


def test_seed_generator_config_and_errors():
    gen = random.SeedGenerator(seed=5)
    assert random.SeedGenerator.from_config(gen.get_config()).get_config() == {"seed": 5}
    with pytest.raises(TypeError, match="'seed' parameter of SeedGenerator"):
        random.SeedGenerator("x")
    with pytest.raises(TypeError, match="'seed' parameter of normal"):
        random.normal((2,), seed=1.5)
    with pytest.raises(ValueError, match="'rate' parameter of dropout"):
        random.dropout(np.ones(2), 1.0)
    with pytest.raises(ValueError, match="'dtype' parameter of randint"):
        random.randint((2,), 0, 3, dtype="float32")
