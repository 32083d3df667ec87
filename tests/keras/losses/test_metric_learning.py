"""Circle loss: pairwise reference, reductions, reference embeddings, gradients, training."""

import numpy as np
import pytest

from automl.keras import Sequential, losses, utils
from automl.keras.layers import Dense, UnitNormalization
from automl.testing import check_loss_gradients

from .helpers import REDUCTIONS, embeddings


def _ref_circle(labels, emb, gamma, margin, remove_diagonal=True):
    out = []
    for i in range(len(labels)):
        pos_terms, neg_terms = [], []
        for j in range(len(labels)):
            d = max(1.0 - float(emb[i] @ emb[j]), 0.0)
            if labels[i] == labels[j] and not (remove_diagonal and i == j):
                pos_terms.append(-gamma * max(margin + d, 0) * (margin - d))
            elif labels[i] != labels[j]:
                neg_terms.append(gamma * max(1 + margin - d, 0) * (1 - margin - d))
        if not pos_terms or not neg_terms:
            out.append(0.0)
            continue
        s = np.logaddexp.reduce(pos_terms) + np.logaddexp.reduce(neg_terms)
        out.append(np.logaddexp(0.0, s))
    return np.array(out)


@pytest.mark.parametrize("gamma, margin, remove_diagonal", [(80.0, 0.4, True), (2.0, 0.25, False)])
def test_circle_matches_pairwise_reference(gamma, margin, remove_diagonal):
    labels, emb = embeddings()
    got = losses.circle(labels, emb, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)
    np.testing.assert_allclose(got, _ref_circle(labels, emb, gamma, margin, remove_diagonal), rtol=1e-10)


def test_circle_reductions_mask_rows_without_pairs():
    labels, emb = embeddings()  # label 3 has no positive: its loss is 0 and masked out
    raw = _ref_circle(labels, emb, 80.0, 0.4)
    assert raw[-1] == 0.0
    np.testing.assert_allclose(losses.Circle()(labels, emb), raw.sum() / (7 + 1e-7), rtol=1e-6)
    np.testing.assert_allclose(losses.Circle(reduction="sum")(labels, emb), raw.sum(), rtol=1e-10)
    sw = np.arange(1.0, 9.0)
    np.testing.assert_allclose(losses.Circle(reduction="mean_with_sample_weight")(labels, emb, sw),
                               (raw * sw).sum() / sw[:-1].sum(), rtol=1e-10)


def test_circle_reference_embeddings():
    labels, emb = embeddings()
    ref_labels, ref = labels[::-1].copy(), emb[::-1].copy()
    got = losses.circle(labels, emb, ref_labels=ref_labels, ref_embeddings=ref, remove_diagonal=False)
    np.testing.assert_allclose(got, _ref_circle(labels, emb, 80.0, 0.4, remove_diagonal=False), rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma, margin, remove_diagonal", [(80.0, 0.4, True), (2.0, 0.25, False)])
def test_circle_gradients(reduction, gamma, margin, remove_diagonal):
    labels, emb = embeddings(seed=2)
    loss = losses.Circle(gamma=gamma, margin=margin, remove_diagonal=remove_diagonal, reduction=reduction)
    check_loss_gradients(loss, labels, emb, atol=1e-6)
    check_loss_gradients(loss, labels, emb, np.linspace(0.5, 2.0, 8), atol=1e-6)


def test_circle_needs_one_label_per_row():
    with pytest.raises(ValueError, match="integer labels of shape"):
        losses.Circle().prepare_targets(np.zeros((4, 3)), (None, 3))


def test_circle_trains_normalized_embeddings():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 16)
    centers = rng.standard_normal((3, 4))
    x = (centers[labels] + 0.5 * rng.standard_normal((48, 4))).astype("float32")
    utils.set_random_seed(0)
    model = Sequential([Dense(4, input_shape=(4,)), UnitNormalization()])
    model.compile("adam", losses.Circle(gamma=10.0))
    history = model.fit(x, labels, epochs=10, batch_size=48, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
