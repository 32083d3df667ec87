"""Turning user data (arrays, lists, dicts) into validated arrays, and batching them.

Inputs and targets are kept as a single array for single-input / single-output
models (the fast, common path) and as lists of arrays otherwise.
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_finite_array
from ..backend import floatx

__all__ = ["shape_str", "as_array", "to_list", "n_samples", "take", "slice_rows", "array_batches"]


def shape_str(shape) -> str:
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims}{',' if len(shape) == 1 else ''})"


def as_array(x, name, owner, dtype=None) -> np.ndarray:
    """A finite float array with at least one sample, or a clear error.

    ``dtype`` is what the model's input takes: None for floats (converted to
    ``floatx``), ``"string"`` for strings (str / bytes / object arrays, kept as
    they are), ``"any"`` (kept as given: the first layer converts it), or an
    integer dtype (integer arrays kept, others converted).
    """
    if x is None:
        raise ValueError(f"The {name!r} argument of {owner} must be an array. Got None instead.")
    if dtype is not None:
        return _as_typed_array(x, name, owner, dtype)
    try:
        arr = np.asarray(x, dtype=floatx())
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The {name!r} argument of {owner} must be a numeric array. Got {type(x).__name__} "
            f"that cannot be converted to {floatx()} ({exc})."
        ) from None
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(
            f"The {name!r} argument of {owner} must hold at least one sample. Got shape {arr.shape}."
        )
    check_finite_array(arr, name, owner)
    return arr


def _as_typed_array(x, name, owner, dtype) -> np.ndarray:
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if dtype == "string":
        if kind not in "USO":
            raise ValueError(
                f"The {name!r} argument of {owner} must be an array of strings (the model's input has "
                f"dtype 'string'). Got an array of dtype {arr.dtype} instead."
            )
    elif dtype != "any":
        if kind in "USO":
            raise ValueError(
                f"The {name!r} argument of {owner} must be a numeric array (the model's input has dtype "
                f"{dtype}). Got an array of dtype {arr.dtype} instead."
            )
        if arr.dtype != dtype:
            if kind == "f":
                check_finite_array(arr, name, owner)
            arr = arr.astype(dtype)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(
            f"The {name!r} argument of {owner} must hold at least one sample. Got shape {arr.shape}."
        )
    return arr


def to_list(data, names, what, owner) -> list:
    """Order ``data`` (one item, a list, or a dict keyed by ``names``) as a list."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(
                f"The {what!r} argument of {owner} has no entry for {missing}. "
                f"Expected keys {names}, got {sorted(data)}."
            )
        return [data[n] for n in names]
    if len(names) == 1:
        # Keras accepts [x] for a one-input model; a nested list of numbers is the data itself.
        if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
            return [data[0]]
        return [data]
    if not isinstance(data, (list, tuple)) or len(data) != len(names):
        raise ValueError(
            f"The {what!r} argument of {owner} must be a list of {len(names)} arrays (or a dict keyed "
            f"by {names}) for this model. Got {type(data).__name__} instead."
        )
    return list(data)


def n_samples(data) -> int:
    if isinstance(data, dict):
        return next(iter(data.values())).shape[0]
    return data[0].shape[0] if isinstance(data, list) else data.shape[0]


def take(data, idx):
    if data is None:  # no targets (outputs without a loss)
        return None
    if isinstance(data, list):
        return [None if d is None else d.take(idx, axis=0) for d in data]
    if isinstance(data, dict):  # a subclassed model's dict of inputs
        return {k: d.take(idx, axis=0) for k, d in data.items()}
    return data.take(idx, axis=0)


def slice_rows(data, start, stop):
    if data is None:
        return None
    if isinstance(data, list):
        return [None if d is None else d[start:stop] for d in data]
    if isinstance(data, dict):
        return {k: d[start:stop] for k, d in data.items()}
    return data[start:stop]


def array_batches(x, y, sw, batch_size, steps, order=None):
    """Yield ``(x, y, sample_weight, size)`` for ``steps`` batches of in-memory arrays.

    Contiguous slices (views) when ``order`` is None, else a gather of the
    ``order`` indices batch by batch (only the indices are shuffled).
    """
    n = n_samples(x)
    for step in range(steps):
        start, stop = step * batch_size, min((step + 1) * batch_size, n)
        if order is None:
            yield slice_rows(x, start, stop), slice_rows(y, start, stop), slice_rows(sw, start, stop), stop - start
        else:
            idx = order[start:stop]
            yield take(x, idx), take(y, idx), None if sw is None else sw.take(idx), stop - start
