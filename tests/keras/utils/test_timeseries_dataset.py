"""timeseries_dataset_from_array: windows against a hand-built case, and fitting on it."""

import numpy as np
import pytest

from automl.keras import Input, Sequential, layers, preprocessing, utils


def _all_batches(ds):
    return [ds[i] for i in range(len(ds))]


def test_windows_targets_stride_and_sampling_rate_match_a_hand_built_case():
    data = np.arange(100).reshape(50, 2)  # row t is [2t, 2t + 1]
    targets = np.arange(50) * 10
    ds = utils.timeseries_dataset_from_array(
        data, targets, sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=5,
        start_index=2, end_index=30,
    )
    # Windows start at 2, 5, ..., while start + 3 * 2 < 30 -> starts 2..23.
    starts = list(range(2, 24, 3))
    xs, ys = zip(*_all_batches(ds))
    x, y = np.concatenate(xs), np.concatenate(ys)
    expected = np.stack([data[[s, s + 2, s + 4, s + 6]] for s in starts])
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(y, targets[starts])
    assert len(ds) == 2 and [len(b) for b in xs] == [5, 3]
    assert x.shape == (len(starts), 4, 2)


def test_keras_docstring_example_and_no_targets():
    # Keras doc: data [0..99], sequence_length=10, sampling_rate=2 -> first window 0, 2, ..., 18.
    ds = utils.timeseries_dataset_from_array(np.arange(100), None, sequence_length=10,
                                             sampling_rate=2, batch_size=128)
    (batch,) = _all_batches(ds)
    assert batch.shape == (82, 10)
    np.testing.assert_array_equal(batch[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(batch[-1], np.arange(81, 100, 2))


def test_targets_offset_for_forecasting_and_unbatched():
    # Keras doc idiom: predict x[t + 3] from x[t:t + 3].
    series = np.arange(20.0)
    ds = utils.timeseries_dataset_from_array(series[:-3], series[3:], sequence_length=3,
                                             batch_size=None)
    x0, y0 = ds[0]
    np.testing.assert_array_equal(x0, [0.0, 1.0, 2.0])
    assert y0 == 3.0
    assert all(x[-1] + 1 == y for x, y in _all_batches(ds))
    assert list(iter(ds))[5][1] == ds[5][1]
    assert preprocessing.timeseries_dataset_from_array is utils.timeseries_dataset_from_array


def test_shuffle_is_seeded_and_covers_every_window():
    kwargs = dict(sequence_length=2, batch_size=4, shuffle=True, seed=7)
    a = utils.timeseries_dataset_from_array(np.arange(30), np.arange(30), **kwargs)
    b = utils.timeseries_dataset_from_array(np.arange(30), np.arange(30), **kwargs)
    ya = np.concatenate([y for _, y in _all_batches(a)])
    np.testing.assert_array_equal(ya, np.concatenate([y for _, y in _all_batches(b)]))
    assert sorted(ya.tolist()) == list(range(29)) and ya.tolist() != list(range(29))
    a.on_epoch_end()
    assert np.concatenate([y for _, y in _all_batches(a)]).tolist() != ya.tolist()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"sequence_length": 0}, "'sequence_length'"),
    ({"sequence_stride": 0}, "'sequence_stride'"),
    ({"sampling_rate": 1.5}, "'sampling_rate'"),
    ({"batch_size": 0}, "'batch_size'"),
    ({"start_index": 10}, "'start_index'"),
    ({"end_index": 11}, "'end_index'"),
])
def test_errors(kwargs, match):
    args = {"sequence_length": 2, **kwargs}
    with pytest.raises(ValueError, match=match + " parameter of timeseries_dataset_from_array"):
        utils.timeseries_dataset_from_array(np.arange(10), None, **args)


def test_a_model_fits_evaluates_and_predicts_on_the_dataset():
    utils.set_random_seed(0)
    t = np.arange(400, dtype="float32")
    series = np.sin(t / 8.0)[:, None].astype("float32")
    train = utils.timeseries_dataset_from_array(series[:-1], series[8:, 0], sequence_length=8,
                                                batch_size=32, shuffle=True, seed=0)
    model = Sequential([Input(shape=(8, 1)), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(train, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    test = utils.timeseries_dataset_from_array(series[:-1], series[8:, 0], sequence_length=8,
                                               batch_size=64)
    assert model.evaluate(test, verbose=0) < 0.05
    assert model.predict(test, verbose=0).shape == (392, 1)
