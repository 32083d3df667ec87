"""BLAS thread count during fit / evaluate / predict (models/_threads.py)."""

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from automl.keras import Input, Model, Sequential
from automl.keras.layers import (
    LSTM,
    Attention,
    Conv2D,
    Dense,
    Flatten,
    Layer,
)
from automl.keras.models._threads import SMALL_MATMUL, largest_matmul


def _blas_threads():
    return sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})


class ThreadProbe(Layer):
    """Identity layer that records the BLAS thread counts each forward pass sees."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=False):
        self.seen.append(_blas_threads())
        return inputs

    def backward(self, grad):
        return grad


def _mlp(units, probe):
    model = Sequential([Input((64,)), Dense(units, activation="relu"), probe, Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(96, 64)).astype("float32"), rng.integers(0, 3, 96)


def test_a_small_model_trains_evaluates_and_predicts_on_one_blas_thread(data):
    x, y = data
    probe = ThreadProbe()
    model = _mlp(16, probe)
    with threadpool_limits(limits=2, user_api="blas"):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, validation_split=0.25)
        model.evaluate(x, y, verbose=0)
        model.predict(x, verbose=0)
        assert _blas_threads() == [2]  # restored afterwards
    assert len(probe.seen) > 6 and all(seen == [1] for seen in probe.seen)


def test_a_model_with_a_large_product_keeps_the_thread_count(data):
    x, y = data
    probe = ThreadProbe()
    model = _mlp(4096, probe)  # 32 x 64 x 4096 = 8.4e6 multiply-adds per batch
    with threadpool_limits(limits=2, user_api="blas"):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        model.predict(x, verbose=0)
    assert probe.seen and all(seen == [2] for seen in probe.seen)


def test_the_batch_size_decides(data):
    x, _ = data
    probe = ThreadProbe()
    model = _mlp(100, probe)
    assert largest_matmul(model, 32) == 32 * 64 * 100 < SMALL_MATMUL
    assert largest_matmul(model, 1024) >= SMALL_MATMUL
    with threadpool_limits(limits=2, user_api="blas"):
        model.predict(x, batch_size=32, verbose=0)
        model.predict(x, batch_size=1024, verbose=0)
    assert probe.seen == [[1]] * 3 + [[2]]


def test_convolutions_count_one_row_per_output_position():
    model = Sequential([Input((10, 10, 3)), Conv2D(8, 3), Flatten(), Dense(4)])
    conv = 8 * 8 * (3 * 3 * 3 * 8)  # output positions x kernel size
    dense = 8 * 8 * 8 * 4
    assert largest_matmul(model, 5) == 5 * max(conv, dense)


@pytest.mark.parametrize(
    "build",
    [
        # attention multiplies activations by each other: no kernel shows that product
        lambda: Model(*(lambda q: (q, Attention()([q, q])))(Input((4, 8)))),
        # the number of timesteps is unknown
        lambda: Sequential([Input((None, 3)), LSTM(4, return_sequences=True)]),
        # not built yet
        lambda: Sequential([Dense(4), Dense(2)]),
    ],
    ids=["attention", "unknown_timesteps", "unbuilt"],
)
def test_products_it_cannot_size_leave_the_thread_count_alone(build):
    assert largest_matmul(build(), 32) == math.inf
