"""utils.PyDataset / utils.Sequence: the Keras contract."""

import math

import numpy as np
import pytest

from automl.keras import Input, Sequential, utils
from automl.keras.layers import Dense
from automl.keras.utils import PyDataset, Sequence


def test_constructor_arguments_are_stored_like_keras():
    ds = PyDataset(workers=4, use_multiprocessing=True, max_queue_size=3)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == (4, True, 3)
    ds.workers = 2
    assert ds.workers == 2
    default = PyDataset()
    assert (default.workers, default.use_multiprocessing, default.max_queue_size) == (1, False, 10)


def test_base_class_requires_getitem_and_len():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        PyDataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        PyDataset().num_batches  # noqa: B018


def test_num_batches_is_len():
    class Three(PyDataset):
        def __len__(self):
            return 3

    assert Three().num_batches == 3


def test_keras2_sequence_subclass_without_super_init_trains():
    """Keras 2 code subclasses Sequence and often skips super().__init__()."""
    assert Sequence is PyDataset
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)

    class DataGenerator(Sequence):
        def __init__(self, batch_size):
            self.batch_size = batch_size
            self.epochs_ended = 0

        def __len__(self):
            return math.ceil(len(x) / self.batch_size)

        def __getitem__(self, idx):
            sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
            return x[sl], y[sl]

        def on_epoch_end(self):
            self.epochs_ended += 1

    utils.set_random_seed(0)
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    gen = DataGenerator(8)
    hist = model.fit(gen, epochs=5, verbose=0)
    assert gen.workers == 1 and gen.epochs_ended == 5
    assert hist.history["loss"][-1] < hist.history["loss"][0]
