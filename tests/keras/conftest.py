"""Fixtures shared by the engine tests: float64 scope, datasets (state restoration: ../../conftest.py)."""

import numpy as np
import pytest

from automl.keras import backend


@pytest.fixture()
def float64():
    """Run the test with ``floatx() == "float64"`` (restored afterwards)."""
    saved = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(saved)


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def digits_split():
    """The seed program's split: digits / 16, 75/25 stratified, one-hot labels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from automl.keras import utils

    X, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, stratify=y, random_state=0
    )
    return x_train, x_test, utils.to_categorical(y_train, 10), utils.to_categorical(y_test, 10)
