"""Bounded reading of model files: every size is checked before it is trusted.

A file being loaded is untrusted input. :class:`Source` reads it and turns
every defect into a ``ValueError`` naming the file; zip members are read only
after their declared size and compression ratio pass the limits, and then with
a cap, so a member that lies about its size cannot grow past it; JSON is
checked for length and nesting depth before it is parsed; HDF5 datasets are
checked (no links outside the file, no external or virtual data, declared
size consistent with what is stored) before any is read.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
import zlib

import numpy as np

#: Largest JSON member (config.json, metadata.json) read from an archive.
MAX_JSON_BYTES = 16 * 2**20
#: Deepest JSON nesting accepted; real configs stay below 30.
MAX_JSON_DEPTH = 128
#: Most members an archive may list.
MAX_MEMBERS = 10_000
#: A member larger than this may not expand more than MAX_RATIO times its stored size.
RATIO_FLOOR_BYTES = 2**20
MAX_RATIO = 100
#: Largest integer accepted in a config (JSON numbers beyond it are refused).
MAX_CONFIG_INT = 2**53

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def is_file_like(obj) -> bool:
    return hasattr(obj, "read") or hasattr(obj, "write")


class Source:
    """The bytes of one file being loaded, and how to complain about them."""

    def __init__(self, filepath, data: bytes | None = None):
        self.name = repr(filepath) if is_file_like(filepath) else repr(os.fspath(filepath))
        if data is not None:
            self.data = data
        elif is_file_like(filepath):
            self.data = filepath.read()
        else:
            path = os.fspath(filepath)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"No such model or weights file: {path!r}.")
            with open(path, "rb") as f:
                self.data = f.read()
        if not isinstance(self.data, (bytes, bytearray)):
            raise TypeError(f"The file object {self.name} must be opened in binary mode.")

    def error(self, problem: str) -> ValueError:
        return ValueError(f"Cannot load {self.name}: {problem}")

    @property
    def kind(self) -> str:
        """``"zip"``, ``"hdf5"`` or ``"unknown"`` from the file's first bytes."""
        head = bytes(self.data[:8])
        if head.startswith(b"PK"):
            return "zip"
        if head.startswith(b"\x89HDF\r\n\x1a\n"):
            return "hdf5"
        return "unknown"

    # -- zip archives --------------------------------------------------------
    def open_zip(self, data=None, what="a .keras archive") -> zipfile.ZipFile:
        try:
            archive = zipfile.ZipFile(io.BytesIO(self.data if data is None else data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
            raise self.error(f"it is not {what} (not a valid zip file: {exc}); "
                             "the file may be truncated or corrupted.") from None
        if len(archive.infolist()) > MAX_MEMBERS:
            raise self.error(f"the archive lists {len(archive.infolist()):,} members, more than "
                             f"the {MAX_MEMBERS:,} a model archive may hold.")
        return archive

    def check_member(self, archive: zipfile.ZipFile, name: str, limit: int) -> zipfile.ZipInfo:
        """The member's entry, after its declared size and expansion pass the limits."""
        try:
            info = archive.getinfo(name)
        except KeyError:
            raise self.error(f"the archive has no {name!r} member; it is truncated or not a "
                             "model archive.") from None
        if info.file_size > limit:
            raise self.error(f"the archive member {name!r} declares {info.file_size:,} bytes, more "
                             f"than the {limit:,} bytes it may hold here; refusing a possible "
                             "decompression bomb.")
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise self.error(f"the archive member {name!r} declares {info.file_size:,} bytes but "
                             f"stores only {info.compress_size:,}; refusing a possible "
                             "decompression bomb.")
        return info

    def member(self, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
        """Read a member, never more than ``limit`` bytes whatever its header says."""
        self.check_member(archive, name, limit)
        try:
            with archive.open(name) as f:
                data = f.read(limit + 1)
        except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, OSError,
                NotImplementedError, RuntimeError) as exc:
            raise self.error(f"the archive member {name!r} is corrupted ({exc}).") from None
        if len(data) > limit:
            raise self.error(f"the archive member {name!r} expands past {limit:,} bytes; refusing "
                             "a possible decompression bomb.")
        return data

    def json_member(self, archive: zipfile.ZipFile, name: str) -> dict:
        return self.json(self.member(archive, name, MAX_JSON_BYTES), repr(name))

    # -- JSON ----------------------------------------------------------------
    def json(self, data, what: str, require_dict=True):
        """Parse JSON after bounding its length, nesting depth and integer sizes."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > MAX_JSON_BYTES:
            raise self.error(f"{what} holds {len(data):,} bytes of JSON, more than the "
                             f"{MAX_JSON_BYTES:,} accepted.")
        depth = json_depth(data)
        if depth > MAX_JSON_DEPTH:
            raise self.error(f"{what} is JSON nested {depth:,} levels deep, more than the "
                             f"{MAX_JSON_DEPTH} accepted.")
        try:
            obj = json.loads(data.decode("utf-8"), parse_int=_bounded_int)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as exc:
            raise self.error(f"{what} is not valid JSON ({exc}).") from None
        if require_dict and not isinstance(obj, dict):
            raise self.error(f"{what} must hold a JSON object. Got {type(obj).__name__}.")
        return obj


def _bounded_int(text: str) -> int:
    value = int(text) if len(text) <= 20 else None
    if value is None or abs(value) > MAX_CONFIG_INT:
        raise ValueError(f"the integer {text[:30]}{'...' if len(text) > 30 else ''} is too large")
    return value


def json_depth(data: bytes) -> int:
    """Deepest nesting of ``[``/``{`` in JSON text, ignoring string contents (no recursion)."""
    stripped = _JSON_STRING.sub(b'""', bytes(data))
    codes = np.frombuffer(stripped, dtype=np.uint8)
    steps = (np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(codes, (ord("]"), ord("}"))).astype(np.int64))
    return int(np.cumsum(steps).max(initial=0))


# -- HDF5 --------------------------------------------------------------------
#: A dataset declaring more than this must be backed by at least 1/MAX_RATIO of it on disk.
H5_RATIO_FLOOR_BYTES = 2**20


def h5_file(source: Source, data: bytes, what: str):
    """Open HDF5 bytes read-only with h5py, from memory (HDF5's core driver)."""
    import h5py

    try:
        fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
        fapl.set_fapl_core(backing_store=False)
        fapl.set_file_image(bytes(data))
        return h5py.File(h5py.h5f.open(b"in-memory.h5", h5py.h5f.ACC_RDONLY, fapl=fapl))
    except (OSError, ValueError, RuntimeError) as exc:
        raise source.error(f"{what} is not a valid HDF5 file ({exc}).") from None


def h5_bytes(write) -> bytes:
    """The bytes of an HDF5 file that ``write(h5py.File)`` fills, built in memory."""
    import h5py

    # The HDF5 1.8 file format: compact group metadata (a small model file is 40% smaller),
    # readable by every h5py (and so every Keras) release since 2008.
    f = h5py.File("in-memory.h5", "w", driver="core", backing_store=False, libver=("v108", "v108"))
    try:
        write(f)
        f.flush()
        return f.id.get_file_image()
    finally:
        f.close()


def h5_datasets(source: Source, group, what: str, limit: int) -> dict:
    """Every dataset under ``group`` as ``{path: h5py.Dataset}``, checked but not read.

    Refuses soft and external links, external and virtual datasets, datasets
    declaring far more than they store, and a total declared size above ``limit``.
    """
    import h5py

    found: dict = {}
    total = 0
    stack = [("", group)]
    while stack:
        prefix, node = stack.pop()
        for key in node:
            link = node.get(key, getclass=True, getlink=True)
            path = f"{prefix}{key}"
            if link is not h5py.HardLink:
                raise source.error(f"{what} holds a {link.__name__} at {path!r}; links are not "
                                   "allowed in a weights file.")
            item = node[key]
            if isinstance(item, h5py.Group):
                stack.append((path + "/", item))
                continue
            if not isinstance(item, h5py.Dataset):
                raise source.error(f"{what} holds an unexpected object at {path!r}.")
            if item.external or item.is_virtual:
                raise source.error(f"{what} holds an external or virtual dataset at {path!r}.")
            if item.dtype.kind not in "biuf" or item.shape is None:
                raise source.error(f"the dataset {path!r} in {what} has the non-numeric dtype "
                                   f"{item.dtype}.")
            declared = math.prod(item.shape) * item.dtype.itemsize
            stored = item.id.get_storage_size()
            if declared > H5_RATIO_FLOOR_BYTES and declared > MAX_RATIO * max(stored, 1):
                raise source.error(f"the dataset {path!r} in {what} declares {declared:,} bytes but "
                                   f"stores {stored:,}; refusing a possible shape bomb.")
            total += declared
            if total > limit:
                raise source.error(f"the datasets of {what} declare more than {limit:,} bytes, "
                                   "more than the file can hold; refusing a possible shape bomb.")
            found[path] = item
    return found


def h5_attr_json(source: Source, obj, key: str, what: str):
    """A JSON-valued HDF5 attribute (``model_config``), bounded like any JSON."""
    value = obj.attrs.get(key)
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        raise source.error(f"the {key!r} attribute of {what} is not JSON text.")
    return source.json(value, f"the {key!r} attribute")
