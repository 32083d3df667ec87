"""scikit-learn's check_class_weight_classifiers at every seed 0-9, not only the one it uses.

The check sets ``random_state=0`` itself (``set_random_state``); here the same
check runs with each seed in turn, so that passing does not hinge on one lucky
draw of the initial weights or of the batches.
"""

import numpy as np
import pytest
from sklearn.utils import estimator_checks

from .test_estimator_checks import ESTIMATORS

CLASSIFIERS = [e for e in ESTIMATORS if type(e).__name__ == "KerasClassifier"]


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=["builtin_mlp", "user_model"])
def test_check_class_weight_classifiers_at_seeds_0_to_9(estimator, monkeypatch):
    for seed in range(10):
        monkeypatch.setattr(estimator_checks, "set_random_state",
                            lambda est, random_state=0, seed=seed: est.set_params(random_state=seed))
        with np.errstate(all="ignore"):
            estimator_checks.check_class_weight_classifiers(type(estimator).__name__, estimator)
