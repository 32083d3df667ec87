"""IoU metrics: Keras examples, scikit-learn's Jaccard, ignore_class, segmentation maps, errors."""

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.keras import metrics

from .helpers import class_scores, streamed

# -- IoU family ------------------------------------------------------------------------


def test_iou_keras_examples():
    m = metrics.IoU(num_classes=2, target_class_ids=[0])
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert m.result() == pytest.approx(0.33333334, rel=1e-6)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert m.result() == pytest.approx(0.33333334, rel=1e-6)

    m = metrics.MeanIoU(num_classes=2)
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert m.result() == pytest.approx(0.33333334, rel=1e-6)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert m.result() == pytest.approx(0.23809525, rel=1e-6)

    m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    assert m.result() == pytest.approx(0.33333334, rel=1e-6)
    m.reset_state()
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1])
    assert m.result() == pytest.approx(0.17361112, rel=1e-6)

    y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    y_pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    sw = [0.1, 0.2, 0.3, 0.4]
    m = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    m.update_state(y_true, y_pred, sw)
    assert m.result() == pytest.approx((0.1 / 0.7) / 2, rel=1e-5)  # Keras prints 0.071
    m = metrics.OneHotMeanIoU(num_classes=3)
    m.update_state(y_true, y_pred, sw)
    assert m.result() == pytest.approx((0.1 / 0.7) / 3, rel=1e-5)  # Keras prints 0.048


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_iou_matches_sklearn_jaccard(weighted):
    labels, scores, sw = class_scores()
    sw = sw if weighted else None
    pred = scores.argmax(1)
    per_class = skm.jaccard_score(labels, pred, average=None, labels=[0, 1, 2, 3], sample_weight=sw)
    assert streamed(metrics.MeanIoU(4), labels, pred, sw, batch=37) == pytest.approx(per_class.mean(), rel=1e-6)
    assert streamed(metrics.IoU(4, [1, 3]), labels, pred, sw, batch=37) == pytest.approx(
        per_class[[1, 3]].mean(), rel=1e-6)
    assert streamed(metrics.IoU(4, [2]), labels, pred, sw, batch=37) == pytest.approx(per_class[2], rel=1e-6)
    onehot = np.eye(4)[labels]
    assert streamed(metrics.OneHotMeanIoU(4), onehot, scores, sw, batch=37) == pytest.approx(per_class.mean(), rel=1e-6)
    assert streamed(metrics.OneHotIoU(4, [0, 2]), onehot, scores, sw, batch=37) == pytest.approx(
        per_class[[0, 2]].mean(), rel=1e-6)
    assert streamed(metrics.MeanIoU(4, sparse_y_true=False, sparse_y_pred=False), onehot, scores, sw, batch=37) == (
        pytest.approx(per_class.mean(), rel=1e-6))


def test_binary_iou_matches_sklearn_and_threshold_is_inclusive():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 200), 0, 1)
    sw = rng.uniform(0.1, 2.0, 200)
    per_class = skm.jaccard_score(y, p >= 0.4, average=None, sample_weight=sw)
    assert streamed(metrics.BinaryIoU(threshold=0.4), y, p[:, None], sw, batch=37) == pytest.approx(per_class.mean(), rel=1e-6)
    assert streamed(metrics.BinaryIoU([1], threshold=0.4), y, p, sw, batch=37) == pytest.approx(per_class[1], rel=1e-6)
    m = metrics.BinaryIoU([1], threshold=0.5)
    m.update_state([1], [0.5])  # 0.5 >= threshold: predicted class 1
    assert m.result() == pytest.approx(1.0, rel=1e-6)


def test_iou_ignore_class_segmentation_maps_and_absent_classes():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, (6, 5, 5))
    y[:, 0, :] = 255  # a "void" border
    pred = rng.integers(0, 3, (6, 5, 5))
    keep = y != 255
    expected = skm.jaccard_score(y[keep], pred[keep], average=None).mean()
    m = metrics.MeanIoU(3, ignore_class=255)
    assert streamed(m, y, pred, batch=4) == pytest.approx(expected, rel=1e-6)
    sw = rng.uniform(0.5, 1.5, 6)  # one weight per image
    m.reset_state()
    m.update_state(y, pred, sw)
    w = np.broadcast_to(sw[:, None, None], y.shape)[keep]
    assert m.result() == pytest.approx(skm.jaccard_score(y[keep], pred[keep], average=None, sample_weight=w).mean(),
                                       rel=1e-6)
    # A class with neither labels nor predictions is left out of the mean.
    m = metrics.MeanIoU(3)
    m.update_state([0, 0, 1], [0, 0, 1])
    assert m.result() == pytest.approx(1.0, rel=1e-6)


def test_iou_errors():
    with pytest.raises(ValueError, match="'target_class_ids' parameter of IoU"):
        metrics.IoU(2, [2])
    with pytest.raises(ValueError, match="'num_classes' parameter of MeanIoU"):
        metrics.MeanIoU(0)
    with pytest.raises(ValueError, match=r"class ids in \[0, 2\)"):
        metrics.MeanIoU(2).update_state([0, 3], [0, 1])
