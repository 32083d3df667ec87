"""california_housing.load_data: the npz of x (n, 8) and y, versions and Keras's seeded split."""


import numpy as np
import pytest

from automl.keras.datasets import DatasetNotAvailableError, california_housing
from tests.keras.datasets.dataset_helpers import assert_keras_split, serve_as_download

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"


@pytest.fixture()
def tiny_california(tmp_path):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(650, 8)).astype(np.float32)
    y = rng.uniform(25_000, 500_000, 650).astype(np.float32)
    np.savez(tmp_path / "ch.npz", x=x, y=y)
    return tmp_path / "ch.npz", x, y


@pytest.mark.parametrize("version, n", [("large", 650), ("small", 600)])
def test_split_matches_keras(tiny_california, version, n):
    path, x, y = tiny_california
    result = california_housing.load_data(version=version, path=path)
    (x_train, y_train), (x_test, _) = result
    n_train = int(n * (1 - 0.2))
    assert x_train.shape == (n_train, 8) and x_test.shape == (n - n_train, 8) and y_train.shape == (n_train,)
    assert x_train.dtype == np.float32
    assert_keras_split(result, x[:n], y[:n])  # seed=113, test_split=0.2


def test_test_split_seed_and_arguments(tiny_california):
    path, _, _ = tiny_california
    (x_train, _), (x_test, _) = california_housing.load_data(path=path, test_split=0.0)
    assert len(x_train) == 650 and len(x_test) == 0
    a = california_housing.load_data(path=path, seed=1)[0][0]
    assert not np.array_equal(a, california_housing.load_data(path=path, seed=2)[0][0])
    with pytest.raises(ValueError, match=r"The 'test_split' parameter of california_housing.load_data "
                                         r"must be a float in the range \[0, 1\)"):
        california_housing.load_data(path=path, test_split=1.0)
    with pytest.raises(ValueError, match="The 'version' parameter of california_housing.load_data"):
        california_housing.load_data(version="medium", path=path)


def test_download_and_offline(tiny_california, monkeypatch, serve, offline):
    with pytest.raises(DatasetNotAvailableError, match="1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88"):
        california_housing.load_data()
    assert offline == [URL]
    assert california_housing._REMOTE.origins == (URL,)
    path, _, _ = tiny_california
    requested = serve_as_download(
        california_housing, "california_housing.npz", URL, path, monkeypatch, serve)
    (x_train, _), _ = california_housing.load_data()
    california_housing.load_data(version="small")
    assert x_train.shape == (520, 8) and requested == [URL]
