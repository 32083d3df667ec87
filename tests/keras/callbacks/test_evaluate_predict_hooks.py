"""``evaluate(callbacks=)`` and ``predict(callbacks=)`` call the test and predict hooks, as Keras 3."""

import numpy as np
import pytest

from automl.keras import Input, Sequential, callbacks
from automl.keras.layers import Dense
from automl.keras.utils import PyDataset


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_test_begin(self, logs=None):
        self.events.append(("test_begin", dict(logs)))

    def on_test_batch_begin(self, batch, logs=None):
        self.events.append(("test_batch_begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("test_batch_end", batch, dict(logs)))

    def on_test_end(self, logs=None):
        self.events.append(("test_end", dict(logs)))

    def on_predict_begin(self, logs=None):
        self.events.append(("predict_begin",))

    def on_predict_batch_begin(self, batch, logs=None):
        self.events.append(("predict_batch_begin", batch))

    def on_predict_batch_end(self, batch, logs=None):
        self.events.append(("predict_batch_end", batch, np.asarray(logs["outputs"]).shape))

    def on_predict_end(self, logs=None):
        self.events.append(("predict_end",))


class Batches(PyDataset):
    def __init__(self, x, y=None):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return 3

    def __getitem__(self, i):
        rows = slice(4 * i, 4 * i + 4)
        return self.x[rows] if self.y is None else (self.x[rows], self.y[rows])


@pytest.fixture
def model_and_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3)).astype("float32")
    y = rng.normal(size=(10, 2)).astype("float32")
    model = Sequential([Input((3,)), Dense(2)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model, x, y


def test_evaluate_calls_the_test_hooks_with_running_logs(model_and_data):
    model, x, y = model_and_data
    rec = Recorder()
    result = model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec], return_dict=True)
    kinds = [e[0] for e in rec.events]
    assert kinds == ["test_begin"] + ["test_batch_begin", "test_batch_end"] * 3 + ["test_end"]
    assert [e[1] for e in rec.events if e[0] == "test_batch_end"] == [0, 1, 2]
    first_batch = model.evaluate(x[:4], y[:4], verbose=0, return_dict=True)
    assert rec.events[2][2]["loss"] == pytest.approx(first_batch["loss"], rel=1e-6)
    assert rec.events[-2][2]["loss"] == pytest.approx(result["loss"], rel=1e-6)
    assert rec.events[-1][1] == pytest.approx(result)


def test_evaluate_on_a_dataset_calls_the_test_hooks(model_and_data):
    model, x, y = model_and_data
    rec = Recorder()
    model.evaluate(Batches(np.concatenate([x, x]), np.concatenate([y, y])), verbose=0, callbacks=[rec])
    assert [e[0] for e in rec.events].count("test_batch_end") == 3
    assert rec.events[0][0] == "test_begin" and rec.events[-1][0] == "test_end"


def test_predict_calls_the_predict_hooks_with_batch_outputs(model_and_data):
    model, x, _ = model_and_data
    rec = Recorder()
    out = model.predict(x, batch_size=4, verbose=0, callbacks=[rec])
    assert out.shape == (10, 2)
    assert rec.events == [("predict_begin",),
                          ("predict_batch_begin", 0), ("predict_batch_end", 0, (4, 2)),
                          ("predict_batch_begin", 1), ("predict_batch_end", 1, (4, 2)),
                          ("predict_batch_begin", 2), ("predict_batch_end", 2, (2, 2)),
                          ("predict_end",)]
    rec.events.clear()
    model.predict(Batches(np.concatenate([x, x])), verbose=0, callbacks=[rec])
    assert [e[0] for e in rec.events].count("predict_batch_end") == 3


def test_no_callbacks_no_hooks_and_same_results(model_and_data):
    model, x, y = model_and_data
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0, callbacks=[Recorder()]))
    assert model.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0, callbacks=[Recorder()])
