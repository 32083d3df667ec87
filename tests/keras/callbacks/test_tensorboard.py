"""TensorBoard: event-file format (CRC-32C, TFRecord framing, protobuf) and the callback's runs and tags."""

import glob
import os
import struct
import warnings

import numpy as np
import pytest

from automl.keras import Sequential, optimizers
from automl.keras.callbacks import LearningRateScheduler, TensorBoard
from automl.keras.callbacks._event_file import (
    EventFileWriter,
    _event,
    _histogram_value,
    _record,
    _scalar_value,
    crc32c,
    histogram,
    masked_crc32c,
    read_events,
)
from automl.keras.layers import Dense

# Three records serialized by TensorBoard's own protobuf classes and RecordWriter:
# Event(wall_time=1.5, file_version="brain.Event:2"), then a scalar "epoch_loss" = 0.25 at
# step 3, then a HistogramProto(min=-1, max=2, num=3, sum=1.5, sum_squares=5.25,
# bucket_limit=[0.5, 2], bucket=[1, 2]) tagged "w/histogram" at step 300.
_REFERENCE = bytes.fromhex(
    "1800000000000000a37f4b2209000000000000f83f1a0d627261696e2e4576656e743a322a28646c20"
    "0000000000000029eda95009000000000000f83f10032a130a110a0a65706f63685f6c6f7373150000"
    "803ef419eac070000000000000009429adcd09000000000000f83f10ac022a620a600a0b772f686973"
    "746f6772616d2a5109000000000000f0bf11000000000000004019000000000000084021000000000000"
    "f83f2900000000000015403210000000000000e03f00000000000000403a10000000000000f03f0000"
    "0000000000407f431f41"
)


# -- format ---------------------------------------------------------------------
@pytest.mark.parametrize(("data", "expected"), [
    (b"", 0x00000000),
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),             # RFC 3720 B.4 test vectors
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
])
def test_crc32c_known_vectors(data, expected):
    assert crc32c(data) == expected


def test_crc32c_continues_and_mask():
    assert crc32c(b"56789", crc32c(b"1234")) == 0xE3069283
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == ((((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def test_bytes_match_tensorboard_serialization():
    histo = {"min": -1.0, "max": 2.0, "num": 3.0, "sum": 1.5, "sum_squares": 5.25,
             "bucket_limit": [0.5, 2.0], "bucket": [1.0, 2.0]}
    ours = (_record(_event(1.5, file_version="brain.Event:2"))
            + _record(_event(1.5, 3, values=(_scalar_value("epoch_loss", 0.25),)))
            + _record(_event(1.5, 300, values=(_histogram_value("w/histogram", histo),))))
    assert ours == _REFERENCE


def test_writer_round_trip_and_file_name(tmp_path):
    with EventFileWriter(tmp_path / "run") as writer:
        writer.add_scalar("a", 0.25, step=7, wall_time=1.5)
        writer.add_scalar("neg", -3, step=-2)
        writer.add_histogram("h", np.array([[-1.0, 0.5], [2.0, 2.0]]), step=1)
    name = os.path.basename(writer.path)
    parts = name.split(".")
    assert name.startswith("events.out.tfevents.") and parts[-2:] == ["0", "v2"]
    assert parts[-3] == str(os.getpid()) and parts[3].isdigit()
    first, scalar, neg, hist = read_events(writer.path)
    assert first["file_version"] == "brain.Event:2" and first["values"] == []
    assert scalar == {"wall_time": 1.5, "step": 7, "file_version": None,
                      "values": [{"tag": "a", "simple_value": 0.25}]}
    assert neg["step"] == -2 and neg["values"][0]["simple_value"] == -3.0
    h = hist["values"][0]["histo"]
    assert (h["min"], h["max"], h["num"], h["sum"], h["sum_squares"]) == (-1.0, 2.0, 4.0, 3.5, 9.25)
    assert sum(h["bucket"]) == 4 and h["bucket_limit"][-1] == 2.0 and len(h["bucket"]) == 30


def test_two_writers_in_one_folder_get_distinct_files(tmp_path):
    a, b = EventFileWriter(tmp_path), EventFileWriter(tmp_path)
    a.close()
    b.close()
    assert a.path != b.path and len(os.listdir(tmp_path)) == 2


def test_histogram_edge_cases():
    same = histogram(np.zeros(5))
    assert same["bucket"] == [5.0] and same["bucket_limit"] == [0.0] and same["num"] == 5.0
    empty = histogram(np.array([np.nan, np.inf]))
    assert empty["num"] == 0.0 and empty["bucket"] == []
    values = np.random.default_rng(0).standard_normal(1000)
    h = histogram(values, bins=10)
    assert len(h["bucket"]) == 10 and sum(h["bucket"]) == 1000
    assert h["sum_squares"] == pytest.approx(float(values @ values))


@pytest.mark.parametrize("where", [3, 12, -2])  # in the length, in the payload, in the payload CRC
def test_reader_rejects_corrupted_records(tmp_path, where):
    with EventFileWriter(tmp_path) as writer:
        writer.add_scalar("a", 1.0, step=1)
    data = bytearray(open(writer.path, "rb").read())
    data[where] ^= 0x01
    open(writer.path, "wb").write(bytes(data))
    with pytest.raises(ValueError, match="CRC mismatch|Truncated"):
        read_events(writer.path)


# -- callback -------------------------------------------------------------------
def _fit(callbacks, epochs=3, validation=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((40, 4))
    y = (x.sum(axis=1) > 0).astype(float)
    model = Sequential([Dense(5, input_shape=(4,), activation="relu", name="hidden"),
                        Dense(1, activation="sigmoid", name="out")])
    model.compile(optimizers.SGD(learning_rate=0.1), "binary_crossentropy", metrics=["accuracy"])
    val = (x[:10], y[:10]) if validation else None
    history = model.fit(x[10:], y[10:], batch_size=8, epochs=epochs, verbose=0,
                        validation_data=val, callbacks=callbacks)
    return model, history


def _run(log_dir, run):
    files = glob.glob(os.path.join(log_dir, run, "events.out.tfevents.*.v2"))
    assert len(files) == 1, files
    events = read_events(files[0])
    assert events[0]["file_version"] == "brain.Event:2"
    return events[1:]


def _scalars(events):
    out = {}
    for event in events:
        for value in event["values"]:
            if "simple_value" in value:
                out.setdefault(value["tag"], []).append((event["step"], value["simple_value"]))
    return out


def test_epoch_scalars_match_history(tmp_path):
    model, history = _fit([TensorBoard(log_dir=tmp_path)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, val = _scalars(_run(tmp_path, "train")), _scalars(_run(tmp_path, "validation"))
    assert set(train) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(val) == {"epoch_loss", "epoch_accuracy",
                        "evaluation_loss_vs_iterations", "evaluation_accuracy_vs_iterations"}
    for name in ("loss", "accuracy"):
        as_float32 = [float(np.float32(v)) for v in history.history[name]]
        assert train[f"epoch_{name}"] == list(enumerate(as_float32))
        val_float32 = [float(np.float32(v)) for v in history.history[f"val_{name}"]]
        assert val[f"epoch_{name}"] == list(enumerate(val_float32))
        # 30 training samples in batches of 8: 4 optimizer steps per epoch.
        assert val[f"evaluation_{name}_vs_iterations"] == list(zip([4, 8, 12], val_float32))
    assert train["epoch_learning_rate"] == [(e, float(np.float32(0.1))) for e in range(3)]
    assert model.optimizer.iterations == 12


def test_learning_rate_follows_the_optimizer(tmp_path):
    schedule = LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    _fit([schedule, TensorBoard(tmp_path)], validation=False)
    assert os.listdir(tmp_path) == ["train"]  # no validation data: no validation run
    lrs = [v for _, v in _scalars(_run(tmp_path, "train"))["epoch_learning_rate"]]
    assert lrs == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_weight_histograms_every_histogram_freq_epochs(tmp_path):
    model, _ = _fit([TensorBoard(tmp_path, histogram_freq=2)])
    histos = {}
    for event in _run(tmp_path, "train"):
        for value in event["values"]:
            if "histo" in value:
                histos.setdefault(value["tag"], {})[event["step"]] = value["histo"]
    weights = {f"{w.name}/histogram": w.value for w in model.weights}
    assert set(histos) == set(weights) == {"hidden/kernel/histogram", "hidden/bias/histogram",
                                           "out/kernel/histogram", "out/bias/histogram"}
    for tag, by_step in histos.items():
        assert sorted(by_step) == [0, 2]
        for h in by_step.values():
            assert sum(h["bucket"]) == h["num"] == weights[tag].size
            assert len(h["bucket"]) == len(h["bucket_limit"])
        last, w = by_step[2], weights[tag].astype(np.float64)  # epoch 2 is the last one
        assert (last["min"], last["max"]) == (w.min(), w.max())
        assert last["sum"] == pytest.approx(w.sum()) and last["sum_squares"] == pytest.approx((w * w).sum())
    assert not _scalars(_run(tmp_path, "validation")).keys() & {t for t in histos}


def test_batch_scalars_with_update_freq_batch(tmp_path):
    _, history = _fit([TensorBoard(tmp_path, update_freq="batch")])
    train = _scalars(_run(tmp_path, "train"))
    assert [s for s, _ in train["batch_loss"]] == list(range(1, 13))
    assert [s for s, _ in train["batch_accuracy"]] == list(range(1, 13))
    # The batch logs are running means: the epoch's last one is the epoch's value.
    last_of_epoch = [v for s, v in train["batch_loss"] if s % 4 == 0]
    assert last_of_epoch == [float(np.float32(v)) for v in history.history["loss"]]
    assert "batch_loss" not in _scalars(_run(tmp_path, "validation"))


def test_update_freq_int_and_steps_per_second(tmp_path):
    _fit([TensorBoard(tmp_path, update_freq=3, write_steps_per_second=True)], validation=False)
    train = _scalars(_run(tmp_path, "train"))
    assert [s for s, _ in train["batch_loss"]] == [3, 6, 9, 12]
    assert [s for s, _ in train["batch_steps_per_second"]] == [3, 6, 9, 12]
    assert [s for s, _ in train["epoch_steps_per_second"]] == [0, 1, 2]
    assert all(v > 0 for _, v in train["epoch_steps_per_second"] + train["batch_steps_per_second"])


def test_epoch_update_freq_adds_no_batch_hooks():
    assert "on_train_batch_end" not in vars(TensorBoard())
    assert "on_train_batch_end" in vars(TensorBoard(update_freq=2))


def test_unsupported_options_are_accepted_silently(tmp_path):
    callback = TensorBoard(tmp_path, write_graph=True, write_images=True, profile_batch="2,3",
                           embeddings_freq=1, embeddings_metadata="meta.tsv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit([callback], epochs=1)
    assert set(_scalars(_run(tmp_path, "train"))) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}


def test_files_closed_after_training_and_new_files_per_fit(tmp_path):
    callback = TensorBoard(tmp_path)
    _fit([callback], epochs=1)
    assert callback._writers == {}
    _fit([callback], epochs=2)
    files = sorted(glob.glob(os.path.join(tmp_path, "train", "*")))
    assert len(files) == 2
    assert [len(read_events(f)) - 1 for f in files] in ([3, 6], [6, 3])  # 3 scalars per epoch


def test_each_record_is_complete_after_an_epoch(tmp_path):
    class Check(TensorBoard):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            steps = {e["step"] for e in _run(tmp_path, "train")}
            assert steps == set(range(epoch + 1))  # flushed: readable mid-training

    _fit([Check(tmp_path)], epochs=2, validation=False)


def test_non_scalar_log_entries_are_skipped(tmp_path):
    callback = TensorBoard(tmp_path)
    callback.set_model(None)
    callback.on_epoch_end(0, {"loss": 1.0, "f1": np.array([0.5, 0.25]), "name": "x"})
    callback.on_train_end()
    assert set(_scalars(_run(tmp_path, "train"))) == {"epoch_loss"}


def test_test_hooks_write_evaluation_scalars_once(tmp_path):
    model, _ = _fit([], epochs=1, validation=False)  # 4 optimizer steps
    callback = TensorBoard(tmp_path)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    callback.on_test_end({"loss": 0.5})  # as Keras's fit runs validation through evaluate
    callback.on_epoch_end(0, {"loss": 1.0, "val_loss": 0.5})
    callback.on_train_end()
    val = _scalars(_run(tmp_path, "validation"))
    assert val == {"evaluation_loss_vs_iterations": [(4, 0.5)], "epoch_loss": [(0, 0.5)]}


def test_standalone_test_end_closes_its_file(tmp_path):
    model, _ = _fit([], epochs=2, validation=False)
    callback = TensorBoard(tmp_path)
    callback.set_model(model)
    callback.on_test_end({"loss": 0.25, "accuracy": 0.75})
    assert callback._writers == {}
    assert _scalars(_run(tmp_path, "validation")) == {"evaluation_loss_vs_iterations": [(8, 0.25)],
                                                      "evaluation_accuracy_vs_iterations": [(8, 0.75)]}


def test_empty_logs_write_nothing(tmp_path):
    callback = TensorBoard(tmp_path)
    callback.set_model(None)
    callback.on_epoch_end(0, {})
    callback.on_train_end()
    assert not os.path.exists(tmp_path / "train")


@pytest.mark.parametrize(("kwargs", "match", "error"), [
    ({"log_dir": 3}, "'log_dir' parameter of TensorBoard must be a str or path-like", TypeError),
    ({"histogram_freq": -1}, "'histogram_freq' parameter of TensorBoard must be an int", ValueError),
    ({"histogram_freq": 1.5}, "'histogram_freq' parameter", ValueError),
    ({"update_freq": 0}, "'update_freq' parameter of TensorBoard must be 'batch', 'epoch'", ValueError),
    ({"update_freq": "step"}, "'update_freq' parameter", ValueError),
    ({"profile_batch": (5, 2)}, "'profile_batch' parameter of TensorBoard", ValueError),
    ({"profile_batch": "a,b"}, "'profile_batch' parameter", ValueError),
    ({"profile_batch": -1}, "'profile_batch' parameter", ValueError),
    ({"embeddings_freq": -2}, "'embeddings_freq' parameter", ValueError),
    ({"embeddings_metadata": 3}, "'embeddings_metadata' parameter", TypeError),
])
def test_invalid_arguments(kwargs, match, error):
    with pytest.raises(error, match=match):
        TensorBoard(**kwargs)


def test_keras_defaults_and_accepted_forms():
    callback = TensorBoard()
    assert (callback.log_dir, callback.histogram_freq, callback.write_graph, callback.write_images,
            callback.write_steps_per_second, callback.update_freq, callback.profile_batch,
            callback.embeddings_freq, callback.embeddings_metadata) == (
        "logs", 0, True, False, False, "epoch", 0, 0, None)
    assert TensorBoard(update_freq="batch").update_freq == 1
    for profile in (5, (10, 20), [0, 0], "500,520", "3"):
        assert TensorBoard(profile_batch=profile).profile_batch == profile


def test_read_by_tensorboard_event_accumulator(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    _, history = _fit([TensorBoard(tmp_path, histogram_freq=1)])
    acc = accumulator.EventAccumulator(str(tmp_path / "validation"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("epoch_loss")] == [0, 1, 2]
    assert [e.value for e in acc.Scalars("epoch_loss")] == pytest.approx(history.history["val_loss"])
    acc = accumulator.EventAccumulator(str(tmp_path / "train"), size_guidance={"histograms": 0})
    acc.Reload()
    assert acc.Histograms("hidden/kernel/histogram")[0].histogram_value.num == 20


def test_step_varint_is_int64():
    payload = _event(0.0, -1)
    assert payload[9:] == b"\x10" + b"\xff" * 9 + b"\x01"  # ten-byte two's complement varint
    assert struct.unpack("<d", payload[1:9])[0] == 0.0
