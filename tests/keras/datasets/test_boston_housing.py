"""boston_housing.load_data: the npz of x (n, 13) and y, Keras's seeded split."""


import numpy as np
import pytest

from automl.keras.datasets import DatasetNotAvailableError, boston_housing
from tests.keras.datasets.dataset_helpers import assert_keras_split, serve_as_download

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"


@pytest.fixture()
def tiny_boston(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(23, 13))
    y = rng.uniform(5, 50, 23)
    np.savez(tmp_path / "bh.npz", x=x, y=y)
    return tmp_path / "bh.npz", x, y


def test_split_matches_keras(tiny_boston):
    path, x, y = tiny_boston
    result = boston_housing.load_data(path=path)
    (x_train, y_train), (x_test, _) = result
    assert x_train.shape == (18, 13) and x_test.shape == (5, 13) and y_train.shape == (18,)
    assert x_train.dtype == np.float64
    assert_keras_split(result, x, y)  # seed=113, test_split=0.2: 18 train samples


def test_test_split_and_seed(tiny_boston):
    path, x, _ = tiny_boston
    (x_train, _), (x_test, _) = boston_housing.load_data(path=path, test_split=0.0)
    assert len(x_train) == 23 and len(x_test) == 0
    a = boston_housing.load_data(path=path, seed=1)[0][0]
    b = boston_housing.load_data(path=path, seed=1)[0][0]
    c = boston_housing.load_data(path=path, seed=2)[0][0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sorted(map(tuple, np.concatenate(boston_housing.load_data(path=path)[0][:1] +
                                            boston_housing.load_data(path=path)[1][:1]))) == \
        sorted(map(tuple, x))  # a permutation of all samples
    with pytest.raises(ValueError, match=r"The 'test_split' parameter of boston_housing.load_data "
                                         r"must be a float in the range \[0, 1\)"):
        boston_housing.load_data(path=path, test_split=1.0)


def test_download_and_offline(tiny_boston, monkeypatch, serve, offline):
    with pytest.raises(DatasetNotAvailableError, match="f553886a1f8d56431e820c5b82552d9d95cfcb"):
        boston_housing.load_data()
    assert offline == [URL]
    path, x, _ = tiny_boston
    requested = serve_as_download(boston_housing, "boston_housing.npz", URL, path, monkeypatch, serve)
    (x_train, _), _ = boston_housing.load_data()
    boston_housing.load_data()
    assert x_train.shape == (18, 13) and requested == [URL]
