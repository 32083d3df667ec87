"""Reading CIFAR "python version" batches, shared by ``cifar10`` and ``cifar100``.

Each batch file is a pickled ``dict`` written by Python 2: ``b"data"`` is a
uint8 array of shape ``(n, 3072)`` (1024 red, then green, then blue values of
a 32x32 image, row-major) and the label key holds a list of ints. The files are
read straight out of the ``.tar.gz`` (nothing is extracted to disk) or from an
already extracted folder, and unpickled with the restricted unpickler of
:mod:`._formats`, which can rebuild NumPy arrays but cannot call anything else.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
from pathlib import Path

import numpy as np

from ..utils import downloads as _download
from ._formats import DatasetFormatError, restricted_loads

__all__ = ["load_batches", "source", "to_image_format"]


def source(path, remote: _download.RemoteFile, folder: str, *, owner: str) -> Path:
    """The archive or folder to read: ``path`` when given, else the verified cached archive."""
    if path is not None:
        local = Path(os.fspath(path)).expanduser()
        if not local.exists():
            raise FileNotFoundError(
                f"The 'path' given to {owner} does not exist: {local}. Expected the archive "
                f"{remote.fname} or the folder {folder}/ extracted from it."
            )
        return local
    return _download.fetch(
        remote,
        _download.cache_dir() / remote.fname,
        owner=owner,
        path_hint=_download.local_copy_hint(owner, remote.fname)
        + f" (or the extracted {folder}/ folder)",
    )


def load_batches(src: Path, folder: str, names: tuple[str, ...], label_key: str):
    """Return ``{name: (data, labels)}`` for the batch files ``names`` in ``src``.

    ``data`` is uint8 of shape ``(n, 3, 32, 32)``; ``labels`` is a list of ints.
    """
    raw: dict[str, bytes] = {}
    if src.is_dir():
        base = src / folder if (src / folder).is_dir() else src
        for name in names:
            if (base / name).is_file():
                raw[name] = (base / name).read_bytes()
    else:
        try:
            with tarfile.open(src, "r:*") as tar:
                # One sequential pass: members are read in archive order, so the
                # gzip stream is never rewound.
                for member in tar:
                    name = posixpath.basename(member.name)
                    if member.isfile() and name in names and name not in raw:
                        raw[name] = tar.extractfile(member).read()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DatasetFormatError(f"{src} is not a readable CIFAR archive: {exc}") from exc
    missing = [n for n in names if n not in raw]
    if missing:
        raise DatasetFormatError(f"{src} lacks the CIFAR batch files {missing} (from {folder}/).")
    return {name: _parse_batch(raw.pop(name), f"{src}:{name}", label_key) for name in names}


def _parse_batch(data: bytes, where: str, label_key: str):
    try:
        batch = restricted_loads(data, encoding="bytes")
    except Exception as exc:  # UnpicklingError, EOFError, ...: all mean a bad file
        raise DatasetFormatError(f"{where} is not a CIFAR batch: {exc}") from exc
    if not isinstance(batch, dict):
        raise DatasetFormatError(f"{where} is not a CIFAR batch (not a dict).")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise DatasetFormatError(
            f"{where} lacks 'data' or {label_key!r} (found keys {sorted(batch)})."
        )
    images, labels = batch["data"], list(batch[label_key])
    if not (isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.ndim == 2
            and images.shape[1] == 3 * 32 * 32 and images.shape[0] == len(labels)):
        shape = getattr(images, "shape", None)
        raise DatasetFormatError(
            f"{where}: 'data' must be a uint8 array of shape (n, 3072) with n labels; "
            f"got {type(images).__name__} of shape {shape} and {len(labels)} labels."
        )
    return images.reshape(len(labels), 3, 32, 32), labels


def to_image_format(x: np.ndarray) -> np.ndarray:
    """Channels-first batches → the backend's image data format (channels_last by default)."""
    from .. import backend

    data_format = getattr(backend, "image_data_format", lambda: "channels_last")()
    if data_format == "channels_last":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x
