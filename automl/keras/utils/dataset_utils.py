"""Dataset helpers: ``split_dataset`` splits arrays (or tuples/dicts of arrays) in two;
``list_files`` lists the files of a directory dataset.

A public module (as Keras's ``utils.dataset_utils``): the directory datasets of
:mod:`automl.keras.utils` and ``preprocessing.image`` share ``list_files``.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from ..._validation import param_error
from ..backend import make_rng

__all__ = ["list_files", "split_dataset"]

_OWNER = "split_dataset"


def _split_sizes(left_size, right_size, total):
    """Keras's rules: a float is a fraction in (0, 1), an int a count in (0, total)."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, numbers.Real):
            raise param_error(name, _OWNER, "None, an int or a float", size, TypeError)
        if isinstance(size, numbers.Integral) and not 0 < size < total:
            raise param_error(name, _OWNER, f"an int in the range (0, {total})", size)
        if not isinstance(size, numbers.Integral) and not 0 < size < 1:
            raise param_error(name, _OWNER, "a float in the range (0, 1)", size)
    if left_size is None and right_size is None:
        raise ValueError(
            "split_dataset needs at least one of 'left_size' and 'right_size'. Got None for both."
        )
    both_float = all(s is not None and not isinstance(s, numbers.Integral)
                     for s in (left_size, right_size))
    if both_float and left_size + right_size > 1:
        raise ValueError(
            f"The 'left_size' and 'right_size' fractions of split_dataset must sum to at most 1. "
            f"Got {left_size} + {right_size} instead."
        )

    def count(size):
        return int(size) if isinstance(size, numbers.Integral) else round(size * total)

    left = None if left_size is None else count(left_size)
    right = None if right_size is None else count(right_size)
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(
            f"The 'left_size' and 'right_size' of split_dataset take {left} + {right} samples, "
            f"more than the {total} the dataset has."
        )
    if left == 0 or right == 0:
        raise ValueError(
            f"With {total} samples, left_size={left_size!r} and right_size={right_size!r} leave "
            f"the {'left' if left == 0 else 'right'} split empty."
        )
    return left, right


def _structure(dataset):
    """The flat list of arrays of ``dataset`` and how to rebuild it from sliced arrays."""
    if isinstance(dataset, dict):
        keys = list(dataset)
        return [np.asarray(dataset[k]) for k in keys], lambda arrs: dict(zip(keys, arrs))
    if isinstance(dataset, (tuple, list)):
        if not dataset:
            raise param_error("dataset", _OWNER, "an array or a non-empty tuple of arrays",
                              dataset)
        kind = type(dataset) if isinstance(dataset, tuple) else list
        return [np.asarray(a) for a in dataset], lambda arrs: kind(arrs)
    arr = np.asarray(dataset)
    return [arr], lambda arrs: arrs[0]


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split a dataset into a left part and a right part (e.g. train and test).

    Parameters
    ----------
    dataset : array-like, tuple/list of arrays, or dict of arrays
        All arrays share their first dimension, the samples.
    left_size : int or float, optional
        Samples in the left part: a fraction in (0, 1) of the total (rounded)
        or a count; the complement of ``right_size`` when None.
    right_size : int or float, optional
        Samples in the right part, likewise; the complement of ``left_size``
        when None. The right part holds the last samples.
    shuffle : bool, default=False
        Shuffle the samples before splitting.
    seed : int, optional
        Seed for the shuffling.

    Returns
    -------
    (left, right)
        Two datasets of the same structure as ``dataset``.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.utils import split_dataset
    >>> left, right = split_dataset((np.arange(10), np.arange(10) * 2), left_size=0.8)
    >>> left[0].shape, right[1].tolist()
    ((8,), [16, 18])
    """
    arrays, rebuild = _structure(dataset)
    if any(a.ndim == 0 for a in arrays):
        raise param_error("dataset", _OWNER, "arrays with a sample axis", dataset)
    total = len(arrays[0])
    if any(len(a) != total for a in arrays):
        raise ValueError(
            f"The arrays given to split_dataset must have the same length. Got lengths "
            f"{[len(a) for a in arrays]} instead."
        )
    left, right = _split_sizes(left_size, right_size, total)
    order = make_rng(seed).permutation(total) if shuffle else np.arange(total)
    left_idx, right_idx = order[:left], order[total - right:]
    return (rebuild([a[left_idx] for a in arrays]), rebuild([a[right_idx] for a in arrays]))


def list_files(directory, follow_links, formats):
    """Files under ``directory`` (recursively) whose lower-cased name ends with one of ``formats``.

    Folders are visited in alphanumeric order, files sorted within each.
    """
    paths = []
    for root, dirs, files in os.walk(directory, followlinks=follow_links):
        dirs.sort()
        paths.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(formats))
    return paths
