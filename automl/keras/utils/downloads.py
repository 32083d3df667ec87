"""Getting dataset files: the cache directory, verified downloads, local copies.

Every loader in :mod:`automl.keras.datasets` obtains its files through
:func:`fetch`, which

1. returns the copy already in the cache directory when its checksum matches
   the one the canonical distribution publishes (a cache hit never touches
   the network);
2. otherwise downloads it with :mod:`urllib` (with a timeout), trying each
   origin in turn. The bytes are streamed into a temporary file next to the
   target while being hashed; the temporary file only replaces the target
   (``os.replace``, atomic on POSIX and Windows) once the checksum matches. A
   failed, interrupted or corrupted transfer is deleted, so the cache never
   holds a partial or unverified file and the next call simply starts over;
3. otherwise raises :class:`DatasetNotAvailableError`, whose message names
   the file, the URLs tried and why each failed, the expected checksum, and
   how to provide the file by hand.

The cache directory is ``$AUTOML_DATA_DIR`` when set, else
``~/.automl/datasets`` (ours, not Keras's ``~/.keras/datasets``, so the two
never fight over the same files).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DATA_DIR_ENV",
    "DATASETS_DIR_ENV",
    "DEFAULT_TIMEOUT",
    "DatasetNotAvailableError",
    "RemoteFile",
    "cache_dir",
    "fetch",
    "file_hash",
    "in_cache",
    "locate",
    "local_copy_hint",
    "obtain",
    "shared_npz",
]

#: Environment variable naming the cache directory.
DATA_DIR_ENV = "AUTOML_DATA_DIR"
#: Environment variable naming a directory of ready-made ``<name>.npz`` files
#: (keys ``x_train, y_train, x_test, y_test``), used for MNIST and Fashion-MNIST.
DATASETS_DIR_ENV = "AUTOML_DATASETS_DIR"
#: Seconds a blocking socket operation (connect, each read) may take.
DEFAULT_TIMEOUT = 60.0

_CHUNK = 1 << 20
_USER_AGENT = "automl-datasets/1.0 (+urllib)"


class DatasetNotAvailableError(OSError):
    """A dataset file is neither available locally nor downloadable."""


@dataclass(frozen=True)
class RemoteFile:
    """A file of a canonical dataset distribution.

    Parameters
    ----------
    fname : str
        The file name the distribution uses (``"mnist.npz"``).
    origins : tuple of str
        URLs to try, in order.
    checksum : str
        The published hex digest of the file; 64 hex digits mean SHA-256,
        32 mean MD5 (the same convention as Keras's ``get_file``).
    """

    fname: str
    origins: tuple[str, ...]
    checksum: str

    @property
    def algorithm(self) -> str:
        return {64: "sha256", 32: "md5"}[len(self.checksum)]


def cache_dir() -> Path:
    """The cache directory: ``$AUTOML_DATA_DIR`` or ``~/.automl/datasets``."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".automl" / "datasets"


def file_hash(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def locate(path, default: str) -> Path:
    """Where a loader's ``path`` argument points, with Keras's semantics.

    An absolute path is used as is. A relative path that names an existing
    file or directory (other than the loader's default file name, so a stray
    ``mnist.npz`` in the working directory is not picked up by accident) is a
    local copy. Any other relative path is a file name inside the cache
    directory, as in Keras where ``path`` is relative to ``~/.keras/datasets``.
    """
    p = Path(os.fspath(path)).expanduser()
    if p.is_absolute():
        return p
    if os.fspath(path) != default and p.exists():
        return p.resolve()
    return cache_dir() / p


def in_cache(path: Path) -> bool:
    """True when ``path`` lies inside the cache directory (checksum-verified files)."""
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(cache_dir()))
    except ValueError:
        return False
    return True


def shared_npz(name: str) -> Path | None:
    """``$AUTOML_DATASETS_DIR/<name>.npz`` when that variable is set and the file exists."""
    env = os.environ.get(DATASETS_DIR_ENV)
    if not env:
        return None
    candidate = Path(env).expanduser() / f"{name}.npz"
    return candidate if candidate.is_file() else None


def obtain(path, remote: RemoteFile, *, owner: str, shared_name: str | None = None) -> Path:
    """The file a loader reads for its ``path`` argument.

    In order: an existing file named by ``path`` outside the cache directory (a
    local copy, used as is); ``$AUTOML_DATASETS_DIR/<shared_name>.npz`` when
    ``shared_name`` is given; the checksum-verified file at ``path`` inside the
    cache directory, downloaded there when missing or corrupt.
    """
    target = locate(path, remote.fname)
    if target.exists() and not in_cache(target):
        return target
    hints: tuple[str, ...] = ()
    if shared_name is not None:
        shared = shared_npz(shared_name)
        if shared is not None:
            return shared
        hints = (
            f"set the environment variable {DATASETS_DIR_ENV} to a directory holding "
            f"{shared_name}.npz with the arrays x_train, y_train, x_test, y_test",
        )
    return fetch(remote, target, owner=owner, path_hint=local_copy_hint(owner, remote.fname),
                 extra_hints=hints)


def local_copy_hint(owner: str, fname: str) -> str:
    """``'mnist.load_data(path="/path/to/mnist.npz")'`` for the error message."""
    module, function = owner.split(".")[-2:]
    return f'{module}.{function}(path="/path/to/{fname}")'


def fetch(
    remote: RemoteFile,
    target: Path | None = None,
    *,
    owner: str,
    path_hint: str,
    extra_hints: tuple[str, ...] = (),
    timeout: float | None = None,
) -> Path:
    """Return a checksum-verified copy of ``remote`` at ``target``, downloading if needed.

    Parameters
    ----------
    remote : RemoteFile
        What to get and how to check it.
    target : Path, optional
        Where the verified file lives; ``cache_dir() / remote.fname`` by default.
    owner : str
        The public function asking, for the error message
        (``"automl.keras.datasets.mnist.load_data"``).
    path_hint : str
        How to call ``owner`` with a local copy, for the error message.
    extra_hints : tuple of str
        Further ways to provide the data, for the error message.
    timeout : float, optional
        Socket timeout in seconds; :data:`DEFAULT_TIMEOUT` by default.
    """
    target = Path(target) if target is not None else cache_dir() / remote.fname
    algorithm, expected = remote.algorithm, remote.checksum.lower()
    problems: list[str] = []

    if target.is_file():
        actual = file_hash(target, algorithm)
        if actual == expected:
            return target  # cache hit: no network
        problems.append(
            f"the existing file {target} has {algorithm} {actual}, not the published one; "
            "it is kept until a verified download replaces it"
        )

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problems.append(f"cannot create the directory {target.parent}: {exc}")
    else:
        for url in remote.origins:
            try:
                _download(url, target, algorithm, expected, timeout or DEFAULT_TIMEOUT)
                return target
            except Exception as exc:  # every failure is reported in the error below
                problems.append(f"{url}: {_describe_error(exc)}")

    raise DatasetNotAvailableError(
        _unavailable_message(remote, target, owner, path_hint, extra_hints, problems)
    )


class _ChecksumMismatch(ValueError):
    pass


def _download(url: str, target: Path, algorithm: str, expected: str | None, timeout: float) -> None:
    """Stream ``url`` into a temporary file beside ``target``; verify (unless ``expected``
    is None: no published checksum); atomically replace."""
    print(f"Downloading data from {url}", file=sys.stderr)
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    # A unique temporary name: concurrent downloads never share a partial file,
    # and a leftover from a killed process is never mistaken for the target.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        h = hashlib.new(algorithm)
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            declared = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
                received += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if declared is not None and declared.isdigit() and int(declared) != received:
            raise _ChecksumMismatch(
                f"transfer truncated: received {received} of {int(declared)} bytes"
            )
        actual = h.hexdigest()
        if expected is not None and actual != expected:
            raise _ChecksumMismatch(
                f"checksum mismatch: the downloaded file has {algorithm} {actual}, "
                f"expected {expected}; the file was discarded"
            )
        os.replace(tmp_name, target)
    except BaseException:
        # Also on KeyboardInterrupt: never leave a partial file behind.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, _ChecksumMismatch):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _unavailable_message(remote, target, owner, path_hint, extra_hints, problems) -> str:
    lines = [
        f"Could not obtain the dataset file {remote.fname!r} needed by {owner}(): "
        f"there is no verified copy at {target} and downloading it failed.",
        "Tried:",
        *(f"  - {p}" for p in problems),
        f"Expected {remote.algorithm}: {remote.checksum}",
        "To provide the file yourself, do one of:",
        f"  - pass a local copy: {path_hint}",
        f"  - copy {remote.fname!r} (as published at {remote.origins[0]}) to {target}",
    ]
    if in_cache(target):
        relative = Path(os.path.abspath(target)).relative_to(os.path.abspath(cache_dir()))
        relative = relative.as_posix()
        lines.append(
            f"  - set the environment variable {DATA_DIR_ENV} to a directory holding "
            f"{relative!r} (the cache directory, now {cache_dir()}; default ~/.automl/datasets)"
        )
    lines.extend(f"  - {hint}" for hint in extra_hints)
    return "\n".join(lines)
