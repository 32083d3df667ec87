"""Transfer learning: the ``transfer`` builder, cached base features, the frozen-base study."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from automl import run_study
from automl.search import SpecError, load_spec
from automl.wrappers import (
    BUILDERS,
    BaseFeatures,
    KerasClassifier,
    base_model,
    build_transfer,
    to_images,
)

BASE = {"alpha": 0.35}
STUDY = Path(__file__).resolve().parents[2] / "studies" / "digits_transfer.yaml"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    rows = np.concatenate([np.flatnonzero(y == c)[:12] for c in range(3)])
    return (X[rows] / 16.0).astype(np.float32), y[rows]


def test_transfer_is_a_builtin_builder():
    assert BUILDERS["transfer"] is build_transfer


def test_trainable_layers_unfreeze_the_last_layers_of_the_base():
    frozen = build_transfer(3072, 3, "softmax", base_kwargs=BASE, seed=0)
    tuned = build_transfer(3072, 3, "softmax", base_kwargs=BASE, trainable_layers=4, seed=0)
    assert len(frozen.trainable_weights) == 2  # the output layer's kernel and bias
    assert len(tuned.trainable_weights) > len(frozen.trainable_weights)
    assert len(tuned.weights) == len(frozen.weights)


def test_transfer_builder_trains(digits):
    X, y = digits
    X32 = to_images(X, (8, 8, 1), (32, 32, 3)).reshape(len(X), -1)
    # 8x8 digits are resized inside the network, as to_images does
    small = KerasClassifier(model="transfer", base_kwargs=BASE, epochs=1, random_state=0,
                            verbose=0).fit(X, y)
    assert small.model_.input_shape == (None, 64)
    est = KerasClassifier(model="transfer", base_kwargs=BASE, trainable_layers=2,
                          hidden_layer_sizes=(8,), pooling="max", epochs=2, batch_size=16,
                          random_state=0, verbose=0)
    est.fit(X32, y)
    assert est.predict(X32).shape == (len(X),)
    assert est.history_["loss"][-1] != est.history_["loss"][0]


def test_transfer_builder_rejects_bad_shapes():
    with pytest.raises(ValueError, match="image_shape"):
        build_transfer(50, 3, "softmax", input_shape=(32, 32, 3))  # not an image
    with pytest.raises(ValueError, match="'base'"):
        base_model("NotANet")


def test_cached_features_equal_the_base_predict(digits, tmp_path):
    X, _ = digits
    features = BaseFeatures("MobileNetV2", input_shape=(32, 32, 3), image_shape=(8, 8, 1),
                            base_kwargs=BASE, cache_dir=str(tmp_path), batch_size=10)
    fmap = base_model("MobileNetV2", None, (32, 32, 3), BASE).predict(
        to_images(X, (8, 8, 1), (32, 32, 3)), batch_size=10, verbose=0)
    got = features.transform(X)
    assert isinstance(got, np.memmap)
    # Random weights give tiny features (~1e-11): compare relative to their scale.
    want = fmap.mean(axis=(1, 2))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    features.set_params(pooling="max")
    want = fmap.max(axis=(1, 2))
    np.testing.assert_allclose(features.transform(X), want, rtol=1e-4,
                               atol=1e-4 * np.abs(want).max())
    assert np.abs(want).max() > 0
    features.transform(X[:5])  # other data: another entry
    lines = (tmp_path / "computed.log").read_text().splitlines()
    assert len(lines) == 2  # once per data set, whatever the pooling and the calls


def test_frozen_base_study_computes_each_split_once(tmp_path):
    result = run_study(STUDY, n_trials=3, epochs=2, output=str(tmp_path), verbose=0,
                       report=False)
    trials = result.trials_dataframe()
    assert (trials["state"] == "complete").all()
    log = (tmp_path / "features" / "computed.log").read_text().splitlines()
    # train, validation, train + validation (the refit), test: each once, not per trial
    assert sorted(int(line.split()[1]) for line in log) == sorted(
        [1010, 337, 1347, 450])
    assert result.test_score > 0.2  # better than chance (0.1) on random-weight features


def test_shipped_transfer_study_parses():
    spec = load_spec(STUDY)
    assert spec.model["transfer"]["base"] == "MobileNetV2"
    assert spec.model["transfer"]["alpha"] == 0.35
    assert {"trainable_layers", "pooling", "hidden_layer_sizes"} <= set(spec.space.names)


@pytest.mark.parametrize("model, match", [
    ({"transfer": {"base": "NoNet"}}, "base"),
    ({"transfer": {"base": "MobileNetV2", "input_shape": [32, 0, 3]}}, "input_shape"),
    ({"finetune": {"base": "MobileNetV2"}}, "transfer"),
])
def test_bad_transfer_model_is_a_spec_error(model, match):
    with pytest.raises(SpecError, match=match):
        load_spec(STUDY, model=model)


def test_fine_tuning_trials_train_the_whole_network(digits, tmp_path):
    from automl.search import EstimatorFactory

    model = {"transfer": {"base": "MobileNetV2", "weights": None, "input_shape": [32, 32, 3],
                          "image_shape": [8, 8, 1], "alpha": 0.35,
                          "cache_dir": str(tmp_path)}}
    make = EstimatorFactory("classification", epochs=1, model=model)
    X, y = digits
    frozen = make({"trainable_layers": 0, "pooling": "max", "batch_size": 16}, seed=0)
    assert [name for name, _ in frozen.steps] == ["features", "model"]
    assert frozen.named_steps["features"].pooling == "max"
    tuned = make({"trainable_layers": 3, "batch_size": 16}, seed=0).fit(X, y)
    assert tuned.get_params()["model"] == "transfer" and tuned.trainable_layers == 3
    assert len(tuned.model_.trainable_weights) > 2
    assert not (tmp_path / "computed.log").exists()  # no cached features for fine-tuning
