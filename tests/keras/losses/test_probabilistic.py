"""Generalized cross-entropy: formula and limits, gradients, training."""

import numpy as np
import pytest

from automl.keras import Sequential, losses, utils
from automl.keras.layers import Dense
from automl.testing import check_loss_gradients

from .helpers import REDUCTIONS, segmentation_data


def test_generalized_crossentropy_formula_and_limits():
    labels = np.array([0, 1, 0, 1])
    probs = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]])
    p = probs[np.arange(4), labels]
    for q in (0.1, 0.5, 0.9):
        got = losses.categorical_generalized_cross_entropy(labels, probs, q=q)
        np.testing.assert_allclose(got, (1 - p ** q) / q, rtol=1e-6)
    # q -> 0: cross-entropy; labels of shape (batch, 1) are accepted.
    np.testing.assert_allclose(losses.CategoricalGeneralizedCrossEntropy(q=1e-6, reduction=None)(
        labels[:, None], probs), -np.log(p), rtol=1e-4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("q", [0.2, 0.7])
def test_generalized_crossentropy_gradients(reduction, q):
    rng = np.random.default_rng(1)
    labels, probs = rng.integers(0, 3, 6), rng.dirichlet(np.ones(3), 6)
    loss = losses.CategoricalGeneralizedCrossEntropy(q=q, reduction=reduction)
    check_loss_gradients(loss, labels, probs)
    check_loss_gradients(loss, labels, probs, np.linspace(0.5, 2.0, 6))


def test_generalized_crossentropy_trains():
    x, y = segmentation_data(seed=1)
    labels = y[:, :3].argmax(axis=1)
    utils.set_random_seed(0)
    model = Sequential([Dense(3, input_shape=(3,), activation="softmax")])
    model.compile("adam", "categorical_generalized_cross_entropy")
    history = model.fit(x, labels, epochs=10, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
