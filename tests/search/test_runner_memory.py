"""Long studies do not accumulate memory: each trial's model is freed when the trial ends."""

import gc
import os

from automl.search import run_study
from tests.search.runner_helpers import tiny


def _live_models() -> int:
    from automl.keras import Model

    gc.collect()
    return sum(isinstance(o, Model) for o in gc.get_objects())


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_trials_leave_no_model_behind(tmp_path):
    spec = tiny(tmp_path, n_trials=12, epochs=1, sampler="random")
    before = _live_models()
    result = run_study(spec, verbose=0, report=False)
    assert _live_models() - before <= 1  # the refit best model of `result`
    del result
    assert _live_models() - before == 0


def test_memory_does_not_grow_with_trials(tmp_path):
    # Warm up (imports, caches), then run 2 x 25 trials: the second batch must not add
    # memory beyond the storage's records (a few KB per trial). Leaked models are caught
    # exactly by the test above; benchmarks/studies.py measures RSS over 200 trials.
    def study(name, n):
        spec = tiny(tmp_path, n_trials=n, epochs=1, sampler="random", output=str(tmp_path / name))
        run_study(spec, verbose=0, report=False)
        gc.collect()
        return _rss_mb()

    study("warm", 5)
    first = study("a", 25)
    second = study("b", 25)
    assert second - first < 8.0, (first, second)
