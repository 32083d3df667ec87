"""Fixtures of the report tests: the studies of ``tests/reports/_studies.py``."""

import pytest

from tests.reports import _studies


@pytest.fixture
def classification_study():
    return _studies.make_classification_study()


@pytest.fixture
def multi_objective_study():
    return _studies.make_multi_objective_study()


@pytest.fixture
def study_dir(tmp_path):
    return _studies.make_study_dir(tmp_path / "run")
