"""Long studies do not accumulate memory: each trial's model is freed when the trial ends."""

import gc
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from automl import run_study
from tests.search.runner_helpers import tiny

HERE = Path(__file__).resolve().parent


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


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads /proc/self/maps (Linux)")
def test_workers_memory_map_the_data_instead_of_copying_it(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 100)).astype(np.float32)  # training part > 1 MB: shared
    np.savez(tmp_path / "big.npz", X=X, y=(X[:, 0] > 0).astype(np.int64))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("AUTOML_MAPS_FILE", str(tmp_path / "maps.txt"))
    monkeypatch.syspath_prepend(str(HERE))
    spec = tiny(tmp_path, dataset={"npz": str(tmp_path / "big.npz")}, n_jobs=2, n_trials=2,
                epochs=1, sampler="random", model="runner_helpers:mlp_reporting_maps")
    result = run_study(spec, verbose=0, report=False)
    assert [t.state.name for t in result.study.trials] == ["COMPLETE", "COMPLETE"]
    maps = (tmp_path / "maps.txt").read_text().split()
    assert "X_train.npy" in {Path(m).name for m in maps}
    assert all(Path(m).parent.parent == scratch for m in maps)
    assert not list(scratch.glob("automl-data-*"))  # removed when the workers stopped
