"""Saving and loading: .keras archives, weights files, JSON configs, clone_model."""

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import h5py
import numpy as np
import pytest

from automl.keras import Input, Sequential, layers, optimizers, saving, utils
from automl.keras.optimizers import schedules

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((48, 5)).astype("float32")
    y = (x[:, 0] + x[:, 1] > x[:, 2] + 0.5).astype(int)
    return x, y


def _model(optimizer="adam"):
    utils.set_random_seed(1)
    model = Sequential([
        Input(shape=(5,)),
        layers.Dense(8, activation="relu", kernel_regularizer="l2"),
        layers.Dropout(0.0),
        layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _adam():
    return optimizers.Adam(
        learning_rate=schedules.ExponentialDecay(0.02, decay_steps=3, decay_rate=0.7)
    )


def _fit(model, epochs=1):
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
    return model


@pytest.fixture()
def trained():
    return _fit(_model(_adam()))


def _assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)


def test_archive_layout(trained, tmp_path):
    """The archive is Keras 3's: metadata.json, config.json, model.weights.h5 in its layout."""
    path = tmp_path / "model.keras"
    saving.save_model(trained, path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as h5:
            datasets = {}
            h5.visititems(lambda n, o: datasets.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    assert (config["module"], config["class_name"], config["registered_name"]) == ("keras", "Sequential", None)
    inner = config["config"]
    assert inner["dtype"]["class_name"] == "DTypePolicy"
    assert inner["layers"][0]["class_name"] == "InputLayer"
    assert inner["layers"][0]["config"]["batch_shape"] == [None, 5]
    dense = inner["layers"][1]
    assert (dense["module"], dense["class_name"]) == ("keras.layers", "Dense")
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert dense["build_config"] == {"input_shape": [None, 5]}
    assert config["build_config"] == {"input_shape": [None, 5]}
    assert config["compile_config"]["loss"] == "sparse_categorical_crossentropy"
    optimizer = config["compile_config"]["optimizer"]
    assert optimizer["module"] == "keras.optimizers"
    assert optimizer["config"]["learning_rate"]["class_name"] == "ExponentialDecay"
    assert metadata["keras_version"].startswith("3.") and "date_saved" in metadata
    assert "automl_version" in metadata
    weights = sorted(k for k in datasets if k.startswith("layers/"))
    assert weights == ["layers/dense/vars/0", "layers/dense/vars/1",
                       "layers/dense_1/vars/0", "layers/dense_1/vars/1"]
    np.testing.assert_array_equal(datasets["layers/dense/vars/0"], trained.weights[0].numpy())
    # iterations (no learning-rate variable: it is a schedule), then Adam's momentum and
    # velocity per variable, as Keras creates them.
    opt = sorted((k for k in datasets if k.startswith("optimizer/")), key=lambda k: int(k.split("/")[-1]))
    assert len(opt) == 1 + 2 * 4 and datasets["optimizer/vars/0"] == trained.optimizer.iterations
    assert [datasets[k].shape for k in opt[1:3]] == [(5, 8), (5, 8)]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_save_load_same_process(trained, tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    saving.save_model(trained, path)
    loaded = saving.load_model(str(path))
    x, _ = _data()
    assert type(loaded) is Sequential
    assert loaded.get_config() == trained.get_config()
    _assert_same_weights(loaded, trained)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), trained.predict(x, verbose=0))
    assert loaded.get_compile_config()["metrics"] == ["accuracy"]
    assert loaded.optimizer.iterations == trained.optimizer.iterations == 3
    assert isinstance(loaded.optimizer._learning_rate, schedules.ExponentialDecay)
    assert loaded.evaluate(x, _data()[1], verbose=0) == pytest.approx(
        trained.evaluate(x, _data()[1], verbose=0)
    )


def test_file_objects_and_compile_false(trained):
    buf = io.BytesIO()
    saving.save_model(trained, buf)
    buf.seek(0)
    loaded = saving.load_model(buf, compile=False)
    assert not loaded.compiled
    _assert_same_weights(loaded, trained)


def test_load_in_fresh_subprocess_predicts_identically(trained, tmp_path):
    path = tmp_path / "model.keras"
    saving.save_model(trained, path)
    x, _ = _data()
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(f"""
        import numpy as np
        from automl.keras import saving
        model = saving.load_model({str(path)!r})
        np.save({str(tmp_path / "out.npy")!r}, model.predict(np.load({str(tmp_path / "x.npy")!r}), verbose=0))
    """)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), trained.predict(x, verbose=0))


@pytest.mark.parametrize("make_optimizer", [
    _adam,
    lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
], ids=["adam-schedule", "sgd-nesterov", "rmsprop-centered"])
def test_resume_training_matches_straight_run(tmp_path, make_optimizer):
    straight = _fit(_model(make_optimizer()), epochs=2)
    first = _fit(_model(make_optimizer()), epochs=1)
    path = tmp_path / "ckpt.keras"
    saving.save_model(first, path)
    resumed = _fit(saving.load_model(path), epochs=1)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 6
    _assert_same_weights(resumed, straight)


def test_learning_rate_changed_after_compile_is_saved(trained, tmp_path):
    model = _fit(_model(optimizers.SGD(learning_rate=0.1)))
    model.optimizer.learning_rate = 0.0123
    saving.save_model(model, tmp_path / "m.keras")
    assert saving.load_model(tmp_path / "m.keras").optimizer.learning_rate == 0.0123


def test_weights_only_files(trained, tmp_path):
    for name in ("w.weights.npz", "w.weights.h5"):
        saving.save_weights(trained, tmp_path / name)
        fresh = _model()
        saving.load_weights(fresh, tmp_path / name)
        _assert_same_weights(fresh, trained)
    # A whole-model archive also provides weights.
    saving.save_model(trained, tmp_path / "m.keras")
    fresh = _model()
    saving.load_weights(fresh, tmp_path / "m.keras")
    _assert_same_weights(fresh, trained)
    with np.load(tmp_path / "w.weights.npz", allow_pickle=False) as npz:
        assert all(name.startswith("layers/") for name in npz.files)


def test_weights_shape_mismatch(trained, tmp_path):
    saving.save_weights(trained, tmp_path / "w.weights.npz")
    utils.set_random_seed(0)
    other = Sequential([Input(shape=(5,)), layers.Dense(9), layers.Dense(2)])
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"w\.weights\.npz.*shape \(5, 8\).*\(5, 9\)"):
        saving.load_weights(other, tmp_path / "w.weights.npz")
    for a, b in zip(before, other.get_weights()):  # nothing was assigned
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="Skipping"):
        saving.load_weights(other, tmp_path / "w.weights.npz", skip_mismatch=True)
    np.testing.assert_array_equal(other.get_weights()[3], trained.get_weights()[3])


def test_bad_suffixes(trained, tmp_path):
    with pytest.raises(ValueError, match=r"'filepath' parameter of save_model.*\.keras or \.h5"):
        saving.save_model(trained, tmp_path / "model.pkl")
    with pytest.raises(ValueError, match=r"'filepath' parameter of save_weights"):
        saving.save_weights(trained, tmp_path / "model.h5")
    saving.save_model(trained, tmp_path / "m.keras")
    with pytest.raises(FileExistsError):
        saving.save_model(trained, tmp_path / "m.keras", overwrite=False)
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        saving.load_model(tmp_path / "missing.keras")


# -- defective files --------------------------------------------------------
def _rewrite(src, dst, replace=None, drop=()):
    """Copy the archive ``src`` to ``dst``, replacing or dropping members."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name in drop:
                continue
            zout.writestr(name, replace.get(name, zin.read(name)))


@pytest.fixture()
def saved(trained, tmp_path):
    path = tmp_path / "good.keras"
    saving.save_model(trained, path)
    return path


def test_truncated_file(saved, tmp_path):
    bad = tmp_path / "truncated.keras"
    bad.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"truncated\.keras.*not a valid zip file"):
        saving.load_model(bad)


def test_garbage_bytes(tmp_path):
    bad = tmp_path / "garbage.keras"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match=r"garbage\.keras.*neither a \.keras archive"):
        saving.load_model(bad)


V1 = os.path.join(os.path.dirname(__file__), "fixtures", "automl_v1", "mlp.keras")


def test_fake_hdf5_and_newer_automl_archive(tmp_path):
    hdf5 = tmp_path / "legacy.h5"
    hdf5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(ValueError, match=r"legacy\.h5.*not a valid HDF5 file"):
        saving.load_model(hdf5)
    newer = tmp_path / "newer.keras"
    _rewrite(V1, newer, replace={"metadata.json": b'{"format": "automl.keras", "format_version": "9.0"}'})
    with pytest.raises(ValueError, match=r"newer\.keras.*format version '9\.0'"):
        saving.load_model(newer)


@pytest.mark.parametrize("member", ["config.json", "model.weights.h5"])
def test_missing_member(saved, tmp_path, member):
    bad = tmp_path / "missing.keras"
    _rewrite(saved, bad, drop=(member,))
    with pytest.raises(ValueError, match=rf"missing\.keras.*no '{member}' member"):
        saving.load_model(bad)


def test_metadata_is_optional(saved, tmp_path, trained):
    """Keras does not need metadata.json to load an archive; neither do we."""
    bare = tmp_path / "bare.keras"
    _rewrite(saved, bare, drop=("metadata.json",))
    x, _ = _data()
    np.testing.assert_allclose(saving.load_model(bare).predict(x, verbose=0),
                               trained.predict(x, verbose=0), atol=1e-6)


def test_bad_json(saved, tmp_path):
    bad = tmp_path / "badjson.keras"
    _rewrite(saved, bad, replace={"config.json": b'{"class_name": "Sequential", '})
    with pytest.raises(ValueError, match=r"badjson\.keras.*'config\.json' is not valid JSON"):
        saving.load_model(bad)


def _rewrite_h5(saved, dst, edit):
    with zipfile.ZipFile(saved) as archive:
        data = archive.read("model.weights.h5")
    buf = io.BytesIO(data)
    with h5py.File(buf, "a") as h5:
        edit(h5)
    _rewrite(saved, dst, replace={"model.weights.h5": buf.getvalue()})


def test_wrong_shapes(saved, tmp_path):
    def edit(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars"].create_dataset("0", data=np.zeros((3, 3), dtype="float32"))

    bad = tmp_path / "shapes.keras"
    _rewrite_h5(saved, bad, edit)
    with pytest.raises(ValueError, match=r"shapes\.keras.*shape \(3, 3\).*shape \(5, 8\)"):
        saving.load_model(bad)


def test_corrupted_weights_member(saved, tmp_path):
    bad = tmp_path / "weights.keras"
    _rewrite(saved, bad, replace={"model.weights.h5": b"\x89HDF definitely not hdf5"})
    with pytest.raises(ValueError, match=r"weights\.keras.*model\.weights\.h5.*not a valid HDF5"):
        saving.load_model(bad)


def test_non_numeric_and_linked_datasets_are_refused(saved, tmp_path):
    def strings(h5):
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars"].create_dataset("1", data=np.array([b"x"] * 8))

    bad = tmp_path / "strings.keras"
    _rewrite_h5(saved, bad, strings)
    with pytest.raises(ValueError, match=r"strings\.keras.*non-numeric dtype"):
        saving.load_model(bad)

    def link(h5):
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars/1"] = h5py.ExternalLink("/etc/passwd", "/x")

    bad = tmp_path / "link.keras"
    _rewrite_h5(saved, bad, link)
    with pytest.raises(ValueError, match=r"link\.keras.*ExternalLink"):
        saving.load_model(bad)


_MARKER = "automl_saving_test_marker"


@pytest.mark.parametrize("class_name", ["NoSuchLayer", "os.system"])
def test_unknown_layer_class(saved, tmp_path, class_name):
    with zipfile.ZipFile(saved) as archive:
        config = json.loads(archive.read("config.json"))
    config["config"]["layers"][1] = {
        "class_name": class_name,
        "module": "os",
        "config": {"command": f"touch {tmp_path / _MARKER}"},
    }
    bad = tmp_path / "unknown.keras"
    _rewrite(saved, bad, replace={"config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=r"unknown\.keras.*" + re.escape(repr(class_name))):
        saving.load_model(bad)
    assert not (tmp_path / _MARKER).exists()


def test_unknown_model_class_and_custom_objects(saved, tmp_path):
    with zipfile.ZipFile(saved) as archive:
        config = json.loads(archive.read("config.json"))
    config["class_name"] = "MySequential"
    bad = tmp_path / "custom.keras"
    _rewrite(saved, bad, replace={"config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=r"custom\.keras.*'MySequential'"):
        saving.load_model(bad)

    class MySequential(Sequential):
        pass

    loaded = saving.load_model(bad, custom_objects={"MySequential": MySequential})
    assert type(loaded) is MySequential
    with pytest.raises(ValueError, match="must be a Model subclass"):
        saving.load_model(bad, custom_objects={"MySequential": dict})


class _Doubler(layers.Layer):
    def call(self, inputs, training=False):
        return 2.0 * inputs

    def backward(self, grad):
        return 2.0 * grad


@pytest.mark.parametrize("outer", ["functional", "sequential"])
def test_nested_models_save_and_load(tmp_path, outer):
    # The tutorials' `data_augmentation = Sequential([...])` called inside a bigger model;
    # a custom layer inside the nested model resolves through the same custom_objects.
    from automl.keras import Model

    inner = Sequential([Input((3,)), layers.Dense(4, activation="relu"), _Doubler()], name="block")
    if outer == "functional":
        inputs = Input((3,))
        model = Model(inputs, layers.Dense(2)(inner(inputs)))
    else:
        model = Sequential([Input((3,)), inner, layers.Dense(2)])
    model.compile("adam", "mse")
    path = tmp_path / "nested.keras"
    model.save(path)
    with pytest.raises(ValueError, match="_Doubler"):
        saving.load_model(path)
    loaded = saving.load_model(path, custom_objects={"_Doubler": _Doubler})
    x = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.get_layer("block")) is Sequential


# -- JSON and clones --------------------------------------------------------
def test_to_json_and_model_from_json(trained):
    text = saving.to_json(trained)
    rebuilt = saving.model_from_json(text)
    assert rebuilt.get_config() == trained.get_config()
    assert rebuilt.built and not rebuilt.compiled
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in trained.get_weights()]
    assert json.loads(saving.to_json(rebuilt)) == json.loads(text)
    with pytest.raises(ValueError, match="Cannot read a model from JSON"):
        saving.model_from_json("{not json")
    with pytest.raises(ValueError, match="'NoSuchLayer'"):
        saving.model_from_json(json.dumps({
            "class_name": "Sequential",
            "config": {"name": "s", "layers": [{"class_name": "NoSuchLayer", "config": {}}]},
        }))


def test_model_built_without_input_round_trips(tmp_path):
    utils.set_random_seed(0)
    model = Sequential([layers.Dense(3), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, _ = _data()
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    saving.save_model(model, tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert saving.model_from_json(saving.to_json(model)).built


def test_clone_model(trained):
    from automl.keras import models

    clone = models.clone_model(trained)
    assert type(clone) is Sequential
    assert clone.get_config() == trained.get_config()
    assert clone.built and not clone.compiled
    assert not any(np.array_equal(a, b) for a, b in
                   zip(clone.get_weights()[::2], trained.get_weights()[::2]))
    x, _ = _data()
    assert clone.predict(x, verbose=0).shape == (48, 2)

    def widen(layer):
        config = layer.get_config()
        if isinstance(layer, layers.Dense) and config["units"] == 8:
            config["units"] = 16
        return type(layer).from_config(config)

    wide = models.clone_model(trained, clone_function=widen)
    assert [w.shape for w in wide.get_weights()][:2] == [(5, 16), (16,)]


def test_model_methods(trained, tmp_path):
    trained.save(tmp_path / "m.keras")
    _assert_same_weights(saving.load_model(tmp_path / "m.keras"), trained)
    trained.save_weights(tmp_path / "m.weights.h5")
    fresh = _model()
    fresh.load_weights(tmp_path / "m.weights.h5")
    _assert_same_weights(fresh, trained)
    assert json.loads(trained.to_json()) == json.loads(saving.to_json(trained))
