"""fit / evaluate / predict on batch sources: PyDatasets, generators, iterables; multi-input data."""

import math
import warnings

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, utils
from automl.keras.callbacks import Callback
from automl.keras.layers import Concatenate, Dense
from automl.keras.utils import PyDataset

N, BATCH = 50, 8


@pytest.fixture()
def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _model(seed=1, metrics=("accuracy",)):
    utils.set_random_seed(seed)
    model = Sequential([Input(shape=(4,)), Dense(6, activation="tanh"), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return model


class Batches(PyDataset):
    """The arrays in order, ``batch_size`` at a time; records the epoch hooks it gets."""

    def __init__(self, x, y, batch_size, sample_weight=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.sw, self.batch_size = x, y, sample_weight, batch_size
        self.calls = []

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        self.calls.append(idx)
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        if self.y is None:
            return self.x[sl]
        if self.sw is None:
            return self.x[sl], self.y[sl]
        return self.x[sl], self.y[sl], self.sw[sl]

    def on_epoch_begin(self):
        self.calls.append("begin")

    def on_epoch_end(self):
        self.calls.append("end")


def _loop(x, y, batch_size, sw=None):
    """An endless generator over the arrays, in order."""
    while True:
        for i in range(0, len(x), batch_size):
            sl = slice(i, i + batch_size)
            yield (x[sl], y[sl]) if sw is None else (x[sl], y[sl], sw[sl])


def _assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


# -- equivalence with the array path ------------------------------------------------------


def test_pydataset_in_order_trains_exactly_like_arrays(data):
    x, y = data
    ref = _model()
    ref_hist = ref.fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
    model = _model()
    hist = model.fit(Batches(x, y, BATCH), epochs=3, shuffle=False, verbose=0)
    _assert_same_weights(ref, model)
    assert hist.history == ref_hist.history


def test_generator_with_steps_per_epoch_trains_exactly_like_arrays(data):
    x, y = data
    ref = _model()
    ref.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    model = _model()
    steps = math.ceil(N / BATCH)
    hist = model.fit(_loop(x, y, BATCH), steps_per_epoch=steps, epochs=2, verbose=0)
    _assert_same_weights(ref, model)
    assert len(hist.history["loss"]) == 2


def test_sample_weights_in_batches_match_the_array_path(data):
    x, y = data
    sw = np.linspace(0.1, 2.0, N)
    ref = _model()
    ref.fit(x, y, sample_weight=sw, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    model = _model()
    model.fit(Batches(x, y, BATCH, sample_weight=sw), epochs=2, shuffle=False, verbose=0)
    _assert_same_weights(ref, model)


def test_class_weight_with_a_generator_matches_the_array_path(data):
    x, y = data
    class_weight = {0: 0.2, 1: 3.0}
    ref = _model()
    ref.fit(x, y, class_weight=class_weight, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    model = _model()
    model.fit(_loop(x, y, BATCH), class_weight=class_weight, steps_per_epoch=math.ceil(N / BATCH), epochs=2,
              verbose=0)
    _assert_same_weights(ref, model)
    plain = _model()
    plain.fit(_loop(x, y, BATCH), steps_per_epoch=math.ceil(N / BATCH), epochs=2, verbose=0)
    assert not np.array_equal(plain.get_weights()[0], model.get_weights()[0])


def test_evaluate_and_predict_on_sources_equal_the_array_results(data):
    x, y = data
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    expected = model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    for source in (Batches(x, y, BATCH), _loop(x, y, BATCH)):
        got = model.evaluate(source, steps=math.ceil(N / BATCH) if not isinstance(source, PyDataset) else None,
                             verbose=0, return_dict=True)
        assert got == pytest.approx(expected, rel=1e-6)
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(Batches(x, None, BATCH), verbose=0), probs, rtol=1e-6)
    # (x, y) batches: predict ignores the targets; steps limits an endless generator
    np.testing.assert_allclose(model.predict(_loop(x, y, BATCH), steps=math.ceil(N / BATCH)), probs, rtol=1e-6)
    one_tuple = ((x[i:i + 10],) for i in range(0, N, 10))
    np.testing.assert_allclose(model.predict(one_tuple), probs, rtol=1e-6)


def test_plain_iterable_is_restarted_every_epoch(data):
    x, y = data

    class Reiterable:
        def __init__(self):
            self.passes = 0

        def __iter__(self):
            self.passes += 1
            return iter([(x[:25], y[:25]), (x[25:], y[25:])])

    source = Reiterable()
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = model.fit(source, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 3
    assert source.passes == 3


# -- steps, epochs, running out ----------------------------------------------------------


def test_pydataset_defaults_to_len_batches_with_epoch_hooks(data):
    x, y = data
    ds = Batches(x, y, BATCH)
    _model().fit(ds, epochs=2, shuffle=False, verbose=0)
    per_epoch = ["begin", *range(len(ds)), "end"]
    assert ds.calls == per_epoch + per_epoch


def test_pydataset_shuffle_permutes_the_batch_order_each_epoch(data):
    x, y = data
    ds = Batches(x, y, BATCH)
    _model().fit(ds, epochs=3, verbose=0)  # shuffle=True by default
    epochs = [[c for c in ds.calls[i * 9:(i + 1) * 9] if isinstance(c, int)] for i in range(3)]
    assert all(sorted(e) == list(range(len(ds))) for e in epochs)
    assert any(e != sorted(e) for e in epochs)


def test_steps_per_epoch_continues_through_a_pydataset(data):
    x, y = data
    ds = Batches(x, y, 10)  # 5 batches
    _model().fit(ds, epochs=2, steps_per_epoch=2, shuffle=False, verbose=0)
    assert [c for c in ds.calls if isinstance(c, int)] == [0, 1, 2, 3]


def test_steps_per_epoch_float_rounds_up_like_len_over_batch_size(data):
    x, y = data
    ds = Batches(x, y, 10)
    hist = _model().fit(ds, epochs=1, steps_per_epoch=45 / 10, shuffle=False, verbose=0)
    assert [c for c in ds.calls if isinstance(c, int)] == [0, 1, 2, 3, 4]
    assert len(hist.history["loss"]) == 1


def test_generator_running_out_warns_and_ends_training(data):
    x, y = data
    batches = ((x[i:i + 10], y[i:i + 10]) for i in range(0, N, 10))  # 5 batches in all
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        hist = _model().fit(batches, epochs=4, steps_per_epoch=3, verbose=0)
    assert len(hist.history["loss"]) == 2  # 3 batches, then the remaining 2, then nothing


def test_finite_generator_without_steps_is_one_epoch(data):
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = _model().fit(((x[i:i + 10], y[i:i + 10]) for i in range(0, N, 10)), epochs=1, verbose=0)
    assert len(hist.history["loss"]) == 1
    with pytest.warns(UserWarning, match="ran out of data"):
        hist = _model().fit(((x[i:i + 10], y[i:i + 10]) for i in range(0, N, 10)), epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 1


def test_progress_bar_shows_the_known_step_count_and_learns_an_unknown_one(data, capsys):
    x, y = data
    _model().fit(Batches(x, y, 10), epochs=1, verbose=1)
    assert "5/5" in capsys.readouterr().out
    steps_seen = []

    class Params(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            steps_seen.append(self.params["steps"])

    class Reiterable:
        def __iter__(self):
            return ((x[i:i + 10], y[i:i + 10]) for i in range(0, N, 10))

    _model().fit(Reiterable(), epochs=2, verbose=1, callbacks=[Params()])
    second_epoch = capsys.readouterr().out.split("Epoch 2/2")[1]
    assert steps_seen == [None, 5]  # unknown during the first epoch, known after it
    assert "5/5" in second_epoch


def test_validation_data_as_pydataset_and_generator_with_validation_steps(data):
    x, y = data
    model = _model()
    hist = model.fit(x[:40], y[:40], batch_size=BATCH, epochs=2, verbose=0,
                     validation_data=Batches(x[40:], y[40:], 5))
    expected = model.evaluate(x[40:], y[40:], verbose=0, return_dict=True)
    assert hist.history["val_loss"][-1] == pytest.approx(expected["loss"], rel=1e-6)
    hist = model.fit(Batches(x[:40], y[:40], BATCH), epochs=2, verbose=0,
                     validation_data=_loop(x[40:], y[40:], 5), validation_steps=2)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    hist = model.fit(Batches(x[:40], y[:40], BATCH), epochs=1, verbose=0, validation_data=(x[40:], y[40:]))
    expected = model.evaluate(x[40:], y[40:], verbose=0, return_dict=True)
    assert hist.history["val_loss"] == [pytest.approx(expected["loss"], rel=1e-6)]
    # Keras 3 ignores validation_batch_size for a dataset: its batches of 5 are used.
    hist = model.fit(x[:40], y[:40], epochs=1, verbose=0, validation_data=Batches(x[40:], y[40:], 5),
                     validation_batch_size=3)
    expected = model.evaluate(x[40:], y[40:], verbose=0, return_dict=True)
    assert hist.history["val_loss"] == [pytest.approx(expected["loss"], rel=1e-6)]


def test_infinite_pydataset_needs_steps(data):
    x, y = data

    class Endless(PyDataset):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, idx):
            i = (idx * BATCH) % N
            return x[i:i + BATCH], y[i:i + BATCH]

    with pytest.raises(ValueError, match="infinite PyDataset"):
        _model().fit(Endless(), epochs=1, verbose=0)
    hist = _model().fit(Endless(), epochs=2, steps_per_epoch=3, verbose=0)
    assert len(hist.history["loss"]) == 2


# -- errors ---------------------------------------------------------------------------------


def test_batch_size_with_a_batch_source_is_ignored_as_keras(data):
    # Keras 3 ignores batch_size (and validation_batch_size) for datasets: they make their batches.
    x, y = data
    rows = []

    class Rows(Callback):
        def on_train_batch_end(self, batch, logs=None):
            rows.append(batch)

    model = _model()
    hist = model.fit(Batches(x, y, BATCH), batch_size=16, validation_data=Batches(x, y, BATCH),
                     validation_batch_size=7, epochs=1, verbose=0, callbacks=[Rows()])
    assert rows == list(range(len(Batches(x, y, BATCH))))  # the dataset's batches, not 16-row ones
    assert "val_loss" in hist.history
    np.testing.assert_array_equal(model.predict(Batches(x, y, BATCH), batch_size=16, verbose=0),
                                  model.predict(x, verbose=0))
    np.testing.assert_allclose(model.evaluate(Batches(x, y, BATCH), batch_size=3, verbose=0),
                               model.evaluate(x, y, verbose=0), rtol=1e-6)
    model.predict(_loop(x, y, BATCH), batch_size=16, steps=1)


def test_arguments_excluded_by_a_batch_source_are_errors(data):
    x, y = data
    model = _model()
    with pytest.raises(ValueError, match="'y' argument of Sequential.fit must be None when 'x' is a generator"):
        model.fit(_loop(x, y, BATCH), y, steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="'validation_split' parameter of Sequential.fit must be 0"):
        model.fit(Batches(x, y, BATCH), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="'steps_per_epoch' parameter of Sequential.fit must be None or a number"):
        model.fit(Batches(x, y, BATCH), steps_per_epoch=0, verbose=0)


def test_bad_batches_are_reported(data):
    x, y = data
    model = _model()
    with pytest.raises(ValueError, match=r"must be \(x, y\) or \(x, y, sample_weight\)"):
        model.fit(Batches(x, None, BATCH), verbose=0)
    with pytest.raises(ValueError, match="tuple of 4 items"):
        model.fit(iter([(x, y, None, None)]), verbose=0)
    with pytest.raises(ValueError, match="yielded no batches"):
        model.fit(iter([]), verbose=0)
    with pytest.raises(ValueError, match=r"must have shape \(None, 4\)"):
        model.fit(iter([(x[:, :3], y)]), verbose=0)


# -- multiple inputs ------------------------------------------------------------------------


def _two_inputs(seed=3):
    utils.set_random_seed(seed)
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    out = Dense(1)(Concatenate()([Dense(4, activation="relu")(a), b]))
    model = Model([a, b], out)
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_multi_input_as_dict_list_and_nested_batches_agree():
    rng = np.random.default_rng(5)
    xa, xb = rng.standard_normal((32, 3)), rng.standard_normal((32, 2))
    y = xa.sum(axis=1, keepdims=True) - xb[:, :1]
    by_list = _two_inputs()
    by_list.fit([xa, xb], y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    by_dict = _two_inputs()
    by_dict.fit({"b": xb, "a": xa}, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    _assert_same_weights(by_list, by_dict)
    by_gen = _two_inputs()
    batches = [({"a": xa[i:i + 8], "b": xb[i:i + 8]}, y[i:i + 8]) for i in range(0, 32, 8)]
    by_gen.fit(iter(batches * 2), steps_per_epoch=4, epochs=2, verbose=0)
    _assert_same_weights(by_list, by_gen)
    nested = _two_inputs()
    nested.fit(iter([((xa[i:i + 8], xb[i:i + 8]), y[i:i + 8]) for i in range(0, 32, 8)] * 2),
               steps_per_epoch=4, epochs=2, verbose=0)
    _assert_same_weights(by_list, nested)
    np.testing.assert_allclose(by_dict.predict({"a": xa, "b": xb}, verbose=0),
                               by_dict.predict(iter([((xa, xb),)])), rtol=1e-6)
    with pytest.raises(ValueError, match=r"has no entry for \['b'\]"):
        by_dict.predict({"a": xa}, verbose=0)


# -- Keras 2 generator methods ------------------------------------------------------------


def test_generator_methods_are_deprecated_aliases(data):
    x, y = data
    model = _model()
    with pytest.warns(DeprecationWarning, match=r"fit_generator` is deprecated.*Model.fit`"):
        hist = model.fit_generator(_loop(x, y, BATCH), steps_per_epoch=3, epochs=2, verbose=0, workers=4)
    assert len(hist.history["loss"]) == 2
    with pytest.warns(DeprecationWarning, match="Model.evaluate`"):
        loss, acc = model.evaluate_generator(Batches(x, y, BATCH))
    assert loss == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-6)
    with pytest.warns(DeprecationWarning, match="Model.predict`"):
        probs = model.predict_generator(_loop(x, y, BATCH), steps=2)
    assert probs.shape == (16, 2)
