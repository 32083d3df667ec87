"""Shared by the tests in tests/ and the doctests in automl/: engine state never leaks.

Every test and doctest leaves floatx, epsilon, the global seed and the registered custom
objects as it found them, and every doctest starts from global seed 0, so an example's
printed numbers do not depend on which tests ran before it.
"""

import pytest

from automl import _registry
from automl.keras import backend
from automl.keras.backend import _random


@pytest.fixture(autouse=True)
def _isolated_engine_state(request):
    saved = (backend.floatx(), backend.epsilon(), _random._GLOBAL.get())
    # Objects registered with register_keras_serializable are process-wide, as in Keras.
    registered = (dict(_registry.CUSTOM_OBJECTS), dict(_registry.CUSTOM_NAMES))
    if isinstance(request.node, pytest.DoctestItem):
        _random.set_random_seed(0)
    yield
    backend.set_floatx(saved[0])
    backend.set_epsilon(saved[1])
    _random._GLOBAL.set(saved[2])
    for live, kept in zip((_registry.CUSTOM_OBJECTS, _registry.CUSTOM_NAMES), registered):
        live.clear()
        live.update(kept)
