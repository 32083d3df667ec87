"""Archives written by automl before it adopted Keras's layout (read only).

Those ``.keras`` files (and ``.h5`` files of the same content) are zip
archives holding ``metadata.json`` (``"format": "automl.keras"``),
``config.json`` (automl's own model description) and ``model.weights.npz``
(``layers/<index>/<name>`` then ``optimizer/<index>/<label>`` arrays, the
optimizer slots packed over all parameters). ``.weights.npz`` files are a bare
``model.weights.npz``; automl still writes those for ``save_weights`` to a
``.weights.npz`` name.
"""

from __future__ import annotations

import io
import warnings
import zipfile
import zlib

import numpy as np

__all__ = ["FORMAT", "WEIGHTS_FILE", "npz_bytes", "read_npz", "weight_arrays"]

FORMAT = "automl.keras"
FORMAT_VERSION = "1.0"
WEIGHTS_FILE = "model.weights.npz"
LAYERS, OPTIMIZER = "layers", "optimizer"


def weight_arrays(model) -> dict:
    return {f"{LAYERS}/{i:04d}/{v.name}": v.numpy() for i, v in enumerate(model.weights)}


def npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def check_version(source, metadata) -> None:
    version = str(metadata.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise source.error(
            f"unsupported format version {version!r} (this automl reads version "
            f"{FORMAT_VERSION!r}); it was saved by automl {metadata.get('automl_version')!r}."
        )


def read_npz(source, data: bytes, what: str, limit: int) -> dict:
    """The arrays of an npz archive grouped by prefix and ordered by index, size-checked first."""
    archive = source.open_zip(data, what)
    for info in archive.infolist():
        source.check_member(archive, info.filename, limit)
    if sum(info.file_size for info in archive.infolist()) > limit:
        raise source.error(f"{what} declares more than {limit:,} bytes of arrays; refusing a "
                           "possible decompression bomb.")
    archive.close()
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            raw = [(key, npz[key]) for key in npz.files]
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as exc:
        raise source.error(f"{what} is corrupted ({exc}).") from None
    groups: dict[str, list] = {LAYERS: [], OPTIMIZER: []}
    for key, arr in raw:
        prefix, index, label = (key.split("/", 2) + ["", ""])[:3]
        if prefix not in groups or not index.isdigit():
            raise source.error(f"unexpected array {key!r} in {what}.")
        if arr.dtype.kind not in "biuf":
            raise source.error(f"array {key!r} in {what} has the non-numeric dtype {arr.dtype}.")
        groups[prefix].append((int(index), label, arr))
    for prefix, items in groups.items():
        items.sort(key=lambda item: item[0])
        if [i for i, _, _ in items] != list(range(len(items))):
            raise source.error(f"the {prefix} arrays in {what} are not numbered 0..{len(items) - 1}.")
    return groups


def assign(source, model, saved: list, skip_mismatch=False) -> None:
    """Check every saved array against ``model.weights`` by position, then assign them all."""
    variables = model.weights
    if len(saved) != len(variables) and not skip_mismatch:
        raise source.error(f"it holds {len(saved)} weight arrays but model {model.name!r} has "
                           f"{len(variables)} variables.")
    pairs = []
    for var, (_, label, arr) in zip(variables, saved):
        if arr.shape != var.shape:
            problem = (f"the saved array {label!r} has shape {arr.shape} but the variable "
                       f"{var.name!r} of model {model.name!r} has shape {var.shape}.")
            if not skip_mismatch:
                raise source.error(problem)
            warnings.warn(f"Skipping a weight while loading {source.name}: {problem}", stacklevel=3)
            continue
        pairs.append((var, arr))
    for var, arr in pairs:
        var.assign(arr)
