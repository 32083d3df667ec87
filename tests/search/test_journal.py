"""A journal that repairs itself: torn and corrupt lines are cut off, kept aside, never appended to."""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from automl import resume_study
from automl.search import JournalRepairedWarning, open_storage, repair_journal
from automl.search._journal import JournalFileBackend
from tests.search.runner_helpers import tiny

optuna.logging.set_verbosity(optuna.logging.WARNING)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A 3-trial study's output directory and its journal bytes, run by a process now gone
    (a trial whose end is cut off is then RUNNING in a dead process)."""
    tmp = tmp_path_factory.mktemp("finished")
    code = f"from automl import run_study; run_study({tiny(tmp, n_trials=3, epochs=2)!r}, " \
           "verbose=0, report=False)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    out = tmp / "out"
    return out, (out / "study.journal").read_bytes()


def _line_starts(data: bytes) -> list[int]:
    starts, offset = [], 0
    for line in data.splitlines(keepends=True):
        starts.append(offset)
        offset += len(line)
    return starts + [offset]


def _quietly(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JournalRepairedWarning)
        return fn(*args)


def test_a_journal_cut_at_every_byte_of_its_last_records_opens(tmp_path, finished):
    _, data = finished
    starts = _line_starts(data)
    n_records = len(starts) - 1
    journal = tmp_path / "study.journal"
    whole = {}
    for offset in range(starts[-4], len(data)):  # every byte of the last 3 records
        journal.write_bytes(data[:offset])
        for kept in tmp_path.glob("study.journal.corrupt-*"):
            kept.unlink()
        torn = offset not in starts
        if torn:
            with pytest.warns(JournalRepairedWarning, match=r"dropped a torn or corrupt record"):
                repair = repair_journal(journal)
            kept = repair.kept_in
            assert kept.name.startswith("study.journal.corrupt-")
            assert journal.read_bytes() + kept.read_bytes() == data[:offset]  # nothing lost
        else:
            assert repair_journal(journal) is None
        remaining = journal.read_bytes()
        assert remaining == data[: max(s for s in starts if s <= offset)]
        lines = remaining.count(b"\n")
        assert lines >= n_records - 3  # at most the torn record lost
        study = optuna.load_study(study_name="tiny", storage=open_storage(journal))
        whole.setdefault(lines, len(study.get_trials(deepcopy=False)))
    assert len(whole) == 3  # cut inside the last, the second last and the third last record


def test_a_cut_study_resumes_and_finishes(tmp_path, finished):
    out, data = finished
    starts = _line_starts(data)
    # Mid-record cuts of each of the last 3 records, and a cut inside the last trial's start.
    ends = [t for t, line in zip(starts, data.splitlines()) if b'"op_code":4' in line]
    cuts = [starts[-2] + 7, starts[-3] + 20, starts[-4] + 3, ends[-1] + 11]
    for i, cut in enumerate(cuts):
        copy = tmp_path / f"run{i}"
        shutil.copytree(out, copy)
        (copy / "study.journal").write_bytes(data[:cut])
        with pytest.warns(JournalRepairedWarning):
            result = resume_study(copy, verbose=0, report=False)
        trials = result.study.get_trials(deepcopy=False)
        assert sum(t.state == TrialState.COMPLETE for t in trials) == 3, i
        assert not [t for t in trials if t.state == TrialState.RUNNING]
        text = (copy / "study.journal").read_bytes()
        assert all(json.loads(line) for line in text.splitlines())
    assert (out / "study.journal").read_bytes() == data  # the copies resumed on themselves


def test_nothing_is_appended_after_a_torn_line(tmp_path):
    journal = tmp_path / "study.journal"
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.create_study(study_name="s", storage=storage)
    study.set_user_attr("a", 1)
    good = journal.read_bytes()
    with open(journal, "ab") as f:  # a writer killed part-way through its line
        f.write(b'{"op_code":2,"worker_id":"x","study_id":0,"user_a')
    with pytest.warns(JournalRepairedWarning, match="kept in .*study.journal.corrupt-"):
        study.set_user_attr("b", 2)
    data = journal.read_bytes()
    assert data.startswith(good) and data.endswith(b"\n")
    assert [json.loads(line)["op_code"] for line in data.splitlines()][-1] == 2
    fresh = optuna.load_study(study_name="s", storage=open_storage(journal))
    assert fresh.user_attrs == {"a": 1, "b": 2}


def test_a_journal_bricked_by_an_append_after_a_torn_line_is_repaired(tmp_path):
    # What Optuna leaves after a torn line: the next record glued to it.
    journal = tmp_path / "study.journal"
    study = optuna.create_study(study_name="s", storage=open_storage(journal))
    study.set_user_attr("a", 1)
    good = journal.read_bytes()
    glued = b'{"op_code":2,"worker_id":"x","stu' + b'{"op_code":2,"worker_id":"x","study_id":0,' \
            b'"user_attr":{"b":2}}\n' + b'{"op_code":2,"worker_id":"x","study_id":0,' \
            b'"user_attr":{"c":3}}\n'
    journal.write_bytes(good + glued)
    with pytest.raises(json.JSONDecodeError):  # Optuna alone cannot read it any more
        optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    with pytest.warns(JournalRepairedWarning, match=r"and the 1 record\(s\) after it "
                                                    r"\(set_study_user_attr\)"):
        fresh = optuna.load_study(study_name="s", storage=open_storage(journal))
    assert fresh.user_attrs == {"a": 1}
    assert journal.read_bytes() == good


def test_a_whole_journal_is_left_untouched(tmp_path, finished):
    _, data = finished
    journal = tmp_path / "study.journal"
    journal.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repair_journal(journal) is None
        assert repair_journal(tmp_path / "missing.journal") is None
    assert journal.read_bytes() == data and not list(tmp_path.glob("*.corrupt-*"))


def test_readers_leave_a_line_being_written_but_cut_a_corrupt_one(tmp_path, finished):
    _, data = finished
    journal = tmp_path / "study.journal"
    journal.write_bytes(data + b'{"op_code":4,"wor')  # perhaps still being written
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repair_journal(journal, readers_only=True) is None
    assert journal.read_bytes() == data + b'{"op_code":4,"wor'
    journal.write_bytes(data + b'{"op_code":4,"wor{"op_code":4}\n')  # readers choke on it
    with pytest.warns(JournalRepairedWarning):
        assert repair_journal(journal, readers_only=True).offset == len(data)
    assert journal.read_bytes() == data
