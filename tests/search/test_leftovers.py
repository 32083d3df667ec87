"""What runs leave behind: no data folders of killed runs, output files that follow the umask."""

import os
import stat
import subprocess
import sys

import pytest

from automl import keras
from automl.keras import layers
from automl.search import RunDirectory
from automl.search._pool import DATA_DIR_PREFIX, remove_stale_data_dirs
from automl.search._storage import process_tag


def test_data_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f"{DATA_DIR_PREFIX}{pid}.123-abc"
    stale.mkdir()
    (stale / "X.npy").write_bytes(b"x")
    _, mine, ticks = process_tag().rsplit(":", 2)
    live = tmp_path / f"{DATA_DIR_PREFIX}{mine}.{ticks}-def"
    live.mkdir()
    other = tmp_path / f"{DATA_DIR_PREFIX}notours"
    other.mkdir()
    assert remove_stale_data_dirs(tmp_path) == [str(stale)]
    assert not stale.exists() and live.is_dir() and other.is_dir()


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_the_best_model_follows_the_umask_like_the_other_outputs(tmp_path, umask_027):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    run = RunDirectory(tmp_path / "run")
    run.write_summary({"a": 1})
    assert stat.S_IMODE((run / run.SUMMARY).stat().st_mode) == 0o640
