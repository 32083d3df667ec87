"""``get_file``: a file from a URL, kept in the cache directory.

Downloads go through :mod:`automl.keras.utils.downloads` (streamed to a
temporary file, checksum-verified when a hash is given, atomically moved into
place), the code the dataset loaders use.
"""

from __future__ import annotations

import os
import tarfile
import urllib.parse
import zipfile
from pathlib import Path

from ..._validation import param_error
from . import downloads as _download

__all__ = ["get_file"]

_OWNER = "get_file"


def _datadir(cache_dir, cache_subdir) -> Path:
    if cache_dir is None:
        if cache_subdir == "datasets":
            return _download.cache_dir()  # $AUTOML_DATA_DIR or ~/.automl/datasets
        return _download.cache_dir().parent / cache_subdir
    return Path(os.fspath(cache_dir)).expanduser() / cache_subdir


def _check_hash(file_hash, hash_algorithm):
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise param_error("hash_algorithm", _OWNER, "one of 'auto', 'sha256', 'md5'",
                          hash_algorithm)
    wanted = {64: "sha256", 32: "md5"}.get(len(file_hash))
    if wanted is None or hash_algorithm not in ("auto", wanted):
        raise param_error("file_hash", _OWNER, "a hex digest of 64 (sha256) or 32 (md5) digits "
                          "matching 'hash_algorithm'", file_hash)


def _inside(root: Path, name: str) -> bool:
    target = (root / name).resolve()
    return target == root.resolve() or root.resolve() in target.parents


def _extract(archive: Path, dest: Path, archive_format) -> bool:
    """Extract ``archive`` into ``dest`` if it is one of ``archive_format``; refuses unsafe paths."""
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    formats = [formats] if isinstance(formats, str) else list(formats or [])
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                members = tar.getmembers()
                bad = [m.name for m in members if not _inside(dest, m.name)
                       or m.issym() or m.islnk() or m.isdev()]
                if bad:
                    raise ValueError(f"Refusing to extract {archive}: unsafe members {bad[:3]}.")
                dest.mkdir(parents=True, exist_ok=True)
                tar.extractall(dest, members=members)  # noqa: S202  (members checked above)
            return True
        if fmt == "zip" and zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                bad = [n for n in zf.namelist() if not _inside(dest, n)]
                if bad:
                    raise ValueError(f"Refusing to extract {archive}: unsafe members {bad[:3]}.")
                dest.mkdir(parents=True, exist_ok=True)
                zf.extractall(dest)
            return True
    return False


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Download a file from a URL unless it is already in the cache; return its path.

    Parameters
    ----------
    fname : str, optional
        Local file name (an absolute path is used as is); the last part of
        ``origin``'s path when None.
    origin : str
        The URL (``https://``, ``http://``, ``ftp://`` or ``file://``).
    untar : bool, default=False
        Deprecated Keras alias of ``extract=True, archive_format="tar"``.
    md5_hash : str, optional
        Deprecated Keras alias of ``file_hash``.
    file_hash : str, optional
        Expected SHA-256 (64 hex digits) or MD5 (32) of the file. With it a
        cached file is used only if it matches and a download is kept only if
        it matches; without it a cached file is used as is.
    cache_subdir : str, default="datasets"
        Folder inside the cache directory (an absolute path is used as is).
    hash_algorithm : {"auto", "sha256", "md5"}, default="auto"
    extract : bool, default=False
        Extract the file (a tar or zip archive) into ``<fname>_extracted``
        beside it and return that folder. Archives with members that would
        land outside it (absolute paths, ``..``, links) are refused.
    archive_format : "auto", "tar", "zip" or list, default="auto"
    cache_dir : str, optional
        The cache root; ``cache_subdir="datasets"`` then means
        ``cache_dir/datasets``. When None the files go to the engine's cache,
        ``$AUTOML_DATA_DIR`` (default ``~/.automl/datasets``; other
        subdirectories are its siblings), not Keras's ``~/.keras``.
    force_download : bool, default=False
        Download again even if the file is cached.

    Returns
    -------
    str
        Path of the file (of the extraction folder with ``extract=True``).

    Examples
    --------
    >>> import os, tempfile, pathlib
    >>> from automl.keras.utils import get_file
    >>> src = os.path.join(tempfile.mkdtemp(), "data.csv")
    >>> _ = pathlib.Path(src).write_text("a,b\\n1,2\\n")
    >>> path = get_file(origin=pathlib.Path(src).as_uri(), cache_dir=tempfile.mkdtemp())
    >>> os.path.basename(path), open(path).read().splitlines()[1]
    ('data.csv', '1,2')
    """
    if not isinstance(origin, str) or not origin:
        raise param_error("origin", _OWNER, "a URL string", origin, TypeError)
    if untar:
        extract, archive_format = True, "tar"
    if file_hash is None and md5_hash is not None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if fname is None:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"get_file cannot name the file from origin={origin!r} (its path has no file "
                "name); pass fname."
            )
    fname = os.fspath(fname)
    target = _datadir(cache_dir, cache_subdir) / fname
    if file_hash is not None:
        _check_hash(str(file_hash).lower(), hash_algorithm)

    if force_download and target.is_file():
        target.unlink()
    if file_hash is not None:
        remote = _download.RemoteFile(target.name, (origin,), str(file_hash).lower())
        _download.fetch(remote, target, owner="automl.keras.utils.get_file",
                        path_hint=f"get_file(fname={str(target)!r}, origin=...)")
    elif not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            _download._download(origin, target, "sha256", None, _download.DEFAULT_TIMEOUT)
        except Exception as exc:
            raise _download.DatasetNotAvailableError(
                f"get_file could not download {origin!r} to {target}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    if not extract:
        return str(target)
    dest = target.parent / f"{target.name}_extracted"
    if force_download or not dest.exists():
        if not _extract(target, dest, archive_format):
            raise ValueError(
                f"get_file could not extract {target}: it is not a {archive_format!r} archive."
            )
    return str(dest)
