"""The crash test, short: a 2-worker study killed 4 times at seeded moments, resumed each time.

The full version (20 kills) is ``python benchmarks/crash_test.py``.
"""

import importlib.util
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "crash_test.py"


def _crash_test():
    spec = importlib.util.spec_from_file_location("crash_test", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.crash_test


def test_a_study_killed_four_times_ends_whole(tmp_path):
    # Budget enough that a fast machine does not finish the study before its fourth kill.
    figures = _crash_test()(4, seed=3, n_trials=30, epochs=60, workdir=tmp_path, verbose=False)
    assert figures["problems"] == []
    assert sum(figures["kills"].values()) == 4
    assert figures["complete"] == figures["budget_used"] == 30
    assert figures["completed_seen_during_kills"] >= 1  # kills came after trials had completed
