"""A journal file that repairs itself: torn or corrupt lines are cut off, never appended to.

Optuna's ``JournalFileBackend`` writes one JSON record per line and replays
the lines when a study is opened. A process killed part-way through writing a
line leaves a torn last line; Optuna skips it when reading, but the next
append glues a whole record to it, and from then on every read fails with a
``JSONDecodeError``. Here:

- :func:`repair_journal` runs before a journal is opened: it scans the lines,
  and at the first torn or corrupt one (not a JSON object ending in a newline)
  it takes the journal's lock, truncates the file to its last whole record,
  keeps the cut-off bytes beside it in ``<journal>.corrupt-<time>`` and warns
  with :class:`JournalRepairedWarning` saying what was dropped;
- :class:`JournalFileBackend` appends only after a newline: under the lock it
  cuts a torn tail left by a process that died while writing (same repair)
  before writing its records.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from optuna.storages.journal import JournalFileBackend as _OptunaJournalFileBackend
from optuna.storages.journal import JournalFileSymlinkLock

__all__ = ["JournalFileBackend", "JournalRepair", "JournalRepairedWarning", "repair_journal"]


class JournalRepairedWarning(UserWarning):
    """A journal file had a torn or corrupt line; it was cut off and kept aside."""


@dataclass(frozen=True)
class JournalRepair:
    """What :func:`repair_journal` cut off a journal.

    Attributes
    ----------
    path : Path
        The journal.
    offset : int
        Its new size: the end of its last whole record.
    dropped_bytes : int
    dropped_lines : int
        Lines cut off, the torn or corrupt one included.
    records : list of str
        The operations of the whole records that followed the bad line (dropped with it).
    kept_in : Path
        The file holding the cut-off bytes.
    """

    path: Path
    offset: int
    dropped_bytes: int
    dropped_lines: int
    records: list
    kept_in: Path

    def message(self) -> str:
        extra = ""
        if self.records:
            extra = f" and the {len(self.records)} record(s) after it ({', '.join(self.records)})"
        return (
            f"{self.path}: dropped a torn or corrupt record at byte {self.offset}{extra}, "
            f"{self.dropped_bytes} bytes in all (a process died while writing?); the journal "
            f"now ends at its last whole record, the cut-off bytes are kept in {self.kept_in}"
        )


def _first_bad_line(data: bytes, *, tail_ok: bool = False) -> int | None:
    """Byte offset of the first line that is not a JSON object ending in a newline, or None.

    ``tail_ok``: a last line without its newline is not bad (it may be being written).
    """
    offset = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            return None if tail_ok else offset
        try:
            record = json.loads(line)
        except ValueError:  # JSONDecodeError and invalid UTF-8
            return offset
        if not isinstance(record, dict) or "op_code" not in record:
            return offset
        offset += len(line)
    return None


#: Optuna's journal operation codes (``JournalOperation``), as shown in messages.
_OPERATIONS = ("create_study", "delete_study", "set_study_user_attr", "set_study_system_attr",
               "create_trial", "set_trial_param", "set_trial_state_values",
               "set_trial_intermediate_value", "set_trial_user_attr", "set_trial_system_attr", "discard_trials")


def _operation(line: bytes) -> str | None:
    try:
        code = json.loads(line)["op_code"]
    except (ValueError, KeyError, TypeError):
        return None
    return _OPERATIONS[code] if isinstance(code, int) and 0 <= code < len(_OPERATIONS) else "?"


def _cut(path: Path, data: bytes, offset: int) -> JournalRepair:
    """Move ``data[offset:]`` to ``<path>.corrupt-<time>`` and truncate ``path`` at ``offset``."""
    tail = data[offset:]
    stamp = time.strftime("%Y%m%dT%H%M%S")
    kept = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    kept.write_bytes(tail)
    with open(path, "r+b") as f:
        f.truncate(offset)
        f.flush()
        os.fsync(f.fileno())
    lines = tail.splitlines(keepends=True)
    records = [op for op in map(_operation, lines[1:]) if op is not None]
    return JournalRepair(path, offset, len(tail), len(lines), records, kept)


def repair_journal(path, *, warn: bool = True, readers_only: bool = False) -> JournalRepair | None:
    """Cut a journal file back to its last whole record if a line is torn or corrupt.

    Reads the file without the lock; only when a bad line is found it takes
    the journal's lock (the one Optuna's writers hold while appending), reads
    again and truncates at the first bad line. Records after a bad line are
    dropped with it: a journal is replayed in order, so only a prefix of whole
    records is a study state.

    Parameters
    ----------
    path : str or Path
        An Optuna journal file; a missing file is left alone.
    warn : bool, default=True
        Warn (:class:`JournalRepairedWarning`) with what was dropped.
    readers_only : bool, default=False
        For a reader that never appends (a report, the live dashboard): leave a
        last line without its newline, which Optuna's reader skips and which may
        still be being written; repair only corrupt lines that readers choke on.

    Returns
    -------
    JournalRepair or None
        None when the journal was whole (or missing).

    Examples
    --------
    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> journal = Path(tempfile.mkdtemp()) / "study.journal"
    >>> _ = journal.write_bytes(b'{"op_code": 0, "worker_id": "w"}\\n{"op_code": 5, "wor')
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     repair = repair_journal(journal)
    >>> repair.offset, repair.dropped_bytes, journal.read_bytes()
    (33, 19, b'{"op_code": 0, "worker_id": "w"}\\n')
    >>> repair.kept_in.read_bytes()
    b'{"op_code": 5, "wor'
    >>> repair_journal(journal) is None
    True
    """
    path = Path(path).expanduser()
    if not path.is_file():
        return None
    if _first_bad_line(path.read_bytes(), tail_ok=readers_only) is None:
        return None
    lock = JournalFileSymlinkLock(str(path))
    lock.acquire()
    try:
        data = path.read_bytes()  # again: another process may have repaired it meanwhile
        offset = _first_bad_line(data, tail_ok=readers_only)
        repair = None if offset is None else _cut(path, data, offset)
    finally:
        lock.release()
    if repair is not None and warn:
        warnings.warn(repair.message(), JournalRepairedWarning, stacklevel=2)
    return repair


class JournalFileBackend(_OptunaJournalFileBackend):
    """Optuna's journal file backend that never appends after a torn line.

    Under the lock, before writing, a file not ending in a newline (a writer
    died part-way through a line) is cut back to its last newline, the torn
    bytes kept aside as :func:`repair_journal` does. ``lock_obj``: the lock
    (default Optuna's symlink lock of the file).
    """

    def __init__(self, file_path: str, lock_obj=None) -> None:
        self.lock = lock_obj if lock_obj is not None else JournalFileSymlinkLock(file_path)
        super().__init__(file_path, lock_obj=self.lock)

    def append_logs(self, logs: list[dict]) -> None:
        text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
        self.lock.acquire()
        try:
            with open(self._file_path, "r+b") as f:
                end = f.seek(0, os.SEEK_END)
                if end:
                    f.seek(end - 1)
                    if f.read(1) != b"\n":
                        self._cut_torn_tail(end)
            with open(self._file_path, "ab") as f:
                f.write(text.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
        finally:
            self.lock.release()

    def _cut_torn_tail(self, end: int) -> None:
        path = Path(self._file_path)
        data = path.read_bytes()[:end]
        repair = _cut(path, data, data.rfind(b"\n") + 1)
        warnings.warn(repair.message(), JournalRepairedWarning, stacklevel=3)
