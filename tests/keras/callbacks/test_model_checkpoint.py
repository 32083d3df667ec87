"""ModelCheckpoint on real training runs: best-only saving, file names, batch-level saving."""

import os

import numpy as np
import pytest

from automl.keras import Sequential, backend, callbacks, optimizers, saving, utils
from automl.keras.callbacks import CallbackList, ModelCheckpoint
from automl.keras.layers import Dense


def _model(lr=0.5):
    model = Sequential([Dense(16, input_shape=(5,), activation="relu"),
                        Dense(2, activation="softmax")])
    model.compile(optimizers.SGD(learning_rate=lr), "categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=48, seed=0):
    # Random labels: the model overfits, so val_loss goes down and then up.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))
    return x, utils.to_categorical(rng.integers(0, 2, n), 2)


class WeightsPerEpoch(callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def _fit(model, cbs, epochs=12, **kwargs):
    x, y = _data()
    xv, yv = _data(n=32, seed=1)
    with backend.seed_scope(0):
        return model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=cbs,
                         validation_data=(xv, yv), **kwargs)


def _assert_weights_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("name", ["best.keras", "best.weights.npz", "best.weights.h5"])
def test_save_best_only_holds_the_best_epochs_weights(tmp_path, name):
    with backend.seed_scope(1):
        model = _model()
    path = tmp_path / name
    log = WeightsPerEpoch()
    ckpt = ModelCheckpoint(path, save_best_only=True, save_weights_only=".weights." in name)
    history = _fit(model, [log, ckpt])
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert best < len(val_loss) - 1, "the run must get worse after its best epoch"
    assert ckpt.best == pytest.approx(min(val_loss))
    restored = _model()
    restored.build((None, 5))
    restored.load_weights(path)
    _assert_weights_equal(restored.get_weights(), log.weights[best])


def test_whole_model_checkpoint_loads_as_a_model(tmp_path):
    with backend.seed_scope(1):
        model = _model()
    path = tmp_path / "model.keras"
    _fit(model, [ModelCheckpoint(path)], epochs=2)  # saves every epoch: the last one stays
    loaded = saving.load_model(path)
    x, _ = _data()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations


def test_filepath_is_formatted_with_the_1_based_epoch_and_the_logs(tmp_path):
    with backend.seed_scope(1):
        model = _model()
    ckpt = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}-{accuracy:.2f}.keras")
    history = _fit(model, [ckpt], epochs=3)
    h = history.history
    expected = {f"ckpt-{e + 1:02d}-{h['val_loss'][e]:.3f}-{h['accuracy'][e]:.2f}.keras"
                for e in range(3)}
    assert set(os.listdir(tmp_path)) == expected


def test_save_best_only_with_formatted_names_writes_only_improving_epochs(tmp_path):
    with backend.seed_scope(1):
        model = _model()
    ckpt = ModelCheckpoint(tmp_path / "{epoch}.weights.npz", save_best_only=True,
                           save_weights_only=True)
    val_loss = _fit(model, [ckpt]).history["val_loss"]
    improving = [e for e, v in enumerate(val_loss) if v < min(val_loss[:e], default=np.inf)]
    assert len(improving) < len(val_loss)
    assert sorted(os.listdir(tmp_path)) == sorted(f"{e + 1}.weights.npz" for e in improving)


def test_mode_max_keeps_the_highest_value(tmp_path):
    with backend.seed_scope(1):
        model = _model()
    log = WeightsPerEpoch()
    path = tmp_path / "best.weights.npz"
    ckpt = ModelCheckpoint(path, monitor="val_loss", mode="max", save_best_only=True,
                           save_weights_only=True)
    val_loss = _fit(model, [log, ckpt]).history["val_loss"]
    worst = int(np.argmax(val_loss))
    restored = _model()
    restored.build((None, 5))
    restored.load_weights(path)
    _assert_weights_equal(restored.get_weights(), log.weights[worst])


def test_initial_value_threshold_must_be_beaten_before_saving(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    ckpt = ModelCheckpoint(path, save_best_only=True, initial_value_threshold=0.0)
    _fit(model, [ckpt], epochs=2)
    assert not path.exists() and ckpt.best == 0.0


def test_integer_save_freq_saves_every_n_batches(tmp_path):
    model = _model()
    ckpt = ModelCheckpoint(tmp_path / "e{epoch}-b{batch}.keras", save_freq=2)
    x, y = _data(n=24)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[ckpt])  # 3 batches per epoch
    # Global batches 2, 4 and 6 are batch 2 of epoch 1, and batches 1 and 3 of epoch 2.
    assert sorted(os.listdir(tmp_path)) == ["e1-b2.keras", "e2-b1.keras", "e2-b3.keras"]
    assert isinstance(ckpt, ModelCheckpoint)


def test_only_batch_level_checkpoints_switch_on_per_step_dispatch(tmp_path):
    per_epoch = ModelCheckpoint(tmp_path / "a.keras")
    per_batch = ModelCheckpoint(tmp_path / "b.keras", save_freq=5)
    assert not CallbackList([per_epoch]).needs["on_train_batch_end"]
    assert CallbackList([per_batch]).needs["on_train_batch_end"]


def test_missing_monitor_warns_with_the_available_keys_and_saves(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    x, y = _data()
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available.*"
                                         "accuracy, loss"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path, save_best_only=True)])
    assert path.exists()


def test_missing_format_field_names_the_available_ones(tmp_path):
    model = _model()
    x, y = _data()
    with pytest.raises(KeyError, match="val_loss.*Available fields are: accuracy, loss, epoch"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[ModelCheckpoint(tmp_path / "{val_loss:.2f}.keras")])


def test_verbose_reports_improvements(tmp_path, capsys):
    with backend.seed_scope(1):
        model = _model()
    _fit(model, [ModelCheckpoint(tmp_path / "m.keras", save_best_only=True, verbose=1)])
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from None to" in out
    assert "did not improve from" in out


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"filepath": "model.txt"}, "'filepath' parameter of ModelCheckpoint must be a model file"),
    ({"filepath": "model.keras", "save_weights_only": True}, "ending in .weights.h5 or .weights.npz"),
    ({"filepath": "m.keras", "save_freq": "batch"}, "'save_freq' parameter of ModelCheckpoint"),
    ({"filepath": "m.keras", "save_freq": 0}, "'save_freq' parameter of ModelCheckpoint"),
    ({"filepath": "m.keras", "mode": "up"}, "'mode' parameter of ModelCheckpoint"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ModelCheckpoint(**kwargs)
