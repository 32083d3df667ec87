"""Shared by the tests in tests/ and the doctests in automl/: engine state never leaks.

Every test and doctest leaves floatx, epsilon and the global seed as it found them,
and every doctest starts from global seed 0, so an example's printed numbers do not
depend on which tests ran before it.
"""

import pytest

from automl.keras import backend
from automl.keras.backend import _random


@pytest.fixture(autouse=True)
def _isolated_engine_state(request):
    saved = (backend.floatx(), backend.epsilon(), _random._GLOBAL.get())
    if isinstance(request.node, pytest.DoctestItem):
        _random.set_random_seed(0)
    yield
    backend.set_floatx(saved[0])
    backend.set_epsilon(saved[1])
    _random._GLOBAL.set(saved[2])
