"""Cross-entropy on probabilities clips them to [eps, 1 - eps] with a zero gradient outside, as Keras.

Fused with the softmax / sigmoid of the output layer, the gradient w.r.t. the
logits must be that of the clipped loss: nothing from a saturated
probability (the reason a too-high learning rate stalls in Keras).
"""

import numpy as np
import pytest

from automl.keras import losses
from automl.testing import check_fused_loss_gradients, floatx_scope

SATURATED = np.array([[40.0, -40.0, 0.0], [0.3, -0.2, 0.1], [-45.0, 45.0, 1.0]])


@pytest.mark.parametrize("name, y_true", [
    ("categorical_crossentropy", np.eye(3)[[0, 1, 2]]),
    ("categorical_crossentropy", np.eye(3)[[1, 1, 0]]),
    ("sparse_categorical_crossentropy", np.array([0, 1, 2])),
    ("sparse_categorical_crossentropy", np.array([1, 2, 0])),
    ("binary_crossentropy", (np.arange(9).reshape(3, 3) % 2).astype(float)),
])
def test_fused_gradient_is_that_of_the_clipped_loss(name, y_true):
    with floatx_scope("float64"):
        check_fused_loss_gradients(losses._get_loss_instance(name), y_true, SATURATED)


def test_a_saturated_wrong_prediction_gives_no_gradient():
    loss = losses.SparseCategoricalCrossentropy()
    probs = np.array([[1.0 - 1e-12, 1e-12]])
    value, grad = loss.fused_value_and_grad(loss.prepare_targets(np.array([1]), probs.shape), probs)
    assert value == pytest.approx(-np.log(1e-7), rel=1e-5)
    np.testing.assert_array_equal(grad, 0.0)
    grad_bce = losses.BinaryCrossentropy().fused_value_and_grad(np.array([[0.0]]), np.array([[1.0]]))[1]
    np.testing.assert_array_equal(grad_bce, 0.0)
