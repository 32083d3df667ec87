"""Training data for the wrappers: the weighted empirical distribution, splits and batches.

Three ideas live here.

* **Canonical training set.** :func:`distinct_rows` reduces the training data
  to its weighted empirical distribution: one row per distinct ``(x, y)``
  pair, carrying the summed sample weight, zero-weight rows dropped, rows in
  a canonical order (fixed by their content). Training therefore depends
  only on *which* samples are present and *how much* each weighs, never on
  their order or on how the weight is spelled (an integer weight ``k`` and
  ``k`` repeated rows give the same set, hence the same batches and the same
  model).
* **Inner validation split.** :func:`validation_split_indices` holds out a
  (stratified when possible) random part of the data given to ``fit``, so a
  search's validation rows always come from its training fold.
* **Batches.** :func:`take_rows` and :func:`densify` build one batch from
  dense or sparse ``X``, so that a sparse matrix is densified one batch at a time.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "n_rows",
    "take_rows",
    "densify",
    "distinct_rows",
    "validation_split_indices",
]


def n_rows(data) -> int:
    """Number of samples of an array, a sparse matrix or a list of arrays."""
    if isinstance(data, list):
        return n_rows(data[0])
    return data.shape[0]


def take_rows(data, idx):
    """Rows ``idx`` of an array, a sparse matrix, a list of them, or None."""
    if data is None:
        return None
    if isinstance(data, list):
        return [take_rows(d, idx) for d in data]
    if sp.issparse(data):
        return data[idx]
    return data.take(idx, axis=0)


def densify(x, dtype=None):
    """A dense array for a (sparse or dense) batch, cast to ``dtype`` if given."""
    if sp.issparse(x):
        x = x.toarray()
    return x if dtype is None or x.dtype == dtype else x.astype(dtype)


# ----------------------------------------------------------------------
# Weighted empirical distribution
# ----------------------------------------------------------------------
_HASH_SEED = 20261123  # fixed: rows hash the same on every machine and in every process


def _row_hashes(words: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of a ``(n, w)`` uint64 array: multiply-add modulo 2**64."""
    multipliers = np.random.default_rng(_HASH_SEED).integers(
        0, 2**63, size=words.shape[1], dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        return words @ multipliers


def _byte_order_codes(raw: np.ndarray) -> np.ndarray:
    """Rank of each row of a ``(n, nbytes)`` uint8 array among its distinct rows, in byte order."""
    keys = np.ascontiguousarray(raw).view(np.dtype((np.void, raw.shape[1]))).ravel()
    return np.unique(keys, return_inverse=True)[1].ravel()


def _dense_row_codes(a: np.ndarray) -> np.ndarray:
    """Rank of each row among the distinct rows of ``a`` (equal bytes, equal rows).

    The ranks follow an order fixed by the rows' content: a 64-bit hash of
    their bytes, which sorts much faster than the bytes themselves (rows of
    images share long runs of equal leading bytes). Rows whose hashes are equal
    are compared byte for byte; on a collision between different rows the
    ranks fall back to the byte order.
    """
    a = np.ascontiguousarray(a).reshape(a.shape[0], -1)
    if a.dtype == object:
        # Labels of any Python type: rank through their string form, per column.
        a = np.column_stack([np.unique(col.astype(str), return_inverse=True)[1] for col in a.T])
        a = np.ascontiguousarray(a, dtype=np.int64)
    if a.shape[1] == 0:
        return np.zeros(a.shape[0], dtype=np.intp)
    raw = a.view(np.uint8).reshape(a.shape[0], -1)
    if raw.shape[1] <= 16:  # a label or two: sorting the bytes is as fast
        return _byte_order_codes(raw)
    pad = -raw.shape[1] % 8
    if pad:
        raw = np.concatenate([raw, np.zeros((raw.shape[0], pad), dtype=np.uint8)], axis=1)
    words = raw.view(np.uint64)
    _, first, codes = np.unique(_row_hashes(words), return_index=True, return_inverse=True)
    codes = codes.ravel()
    repeated = np.flatnonzero(first[codes] != np.arange(len(codes)))
    if len(repeated) and not np.array_equal(words[repeated], words[first[codes[repeated]]]):
        return _byte_order_codes(raw)
    return codes


def _sparse_row_codes(X) -> np.ndarray:
    """Rank of each row among the distinct rows of a sparse matrix, without densifying it."""
    X = sp.csr_matrix(X, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    indptr, indices, data = X.indptr, X.indices.astype(np.int64), X.data
    keys = np.empty(X.shape[0], dtype=object)
    for i in range(X.shape[0]):
        lo, hi = indptr[i], indptr[i + 1]
        # Equal rows give equal strings; each stored value adds the same number of bytes.
        keys[i] = indices[lo:hi].tobytes() + data[lo:hi].tobytes()
    return np.unique(keys, return_inverse=True)[1].ravel()


def distinct_rows(X, targets, weights, *, keep_order=False):
    """The weighted empirical distribution of ``(X, targets)``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    targets : list of ndarray
        Encoded targets, each with ``n_samples`` rows.
    weights : ndarray of shape (n_samples,) or None
        Non-negative sample weights (None means all ones).
    keep_order : bool, default=False
        Order the distinct rows by first occurrence instead of by content.

    Returns
    -------
    rows : ndarray of int
        Index of one representative row per distinct ``(x, y)`` pair with a
        positive total weight, in canonical (content) order, or in order of
        first occurrence with ``keep_order``.
    total : ndarray of float64
        The summed weight of each of those pairs.
    """
    n = n_rows(X)
    codes = [_sparse_row_codes(X) if sp.issparse(X) else _dense_row_codes(X)]
    codes += [_dense_row_codes(np.asarray(t)) for t in targets]
    joint = np.ascontiguousarray(np.column_stack(codes).astype(np.int64))
    keys = joint.view(np.dtype((np.void, 8 * joint.shape[1]))).ravel()
    _, first, group = np.unique(keys, return_index=True, return_inverse=True)
    group = group.ravel()
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    total = np.bincount(group, weights=w, minlength=len(first))
    order = np.argsort(first, kind="stable") if keep_order else np.arange(len(first))
    order = order[total[order] > 0]
    return first[order], total[order]


# ----------------------------------------------------------------------
# Inner validation split
# ----------------------------------------------------------------------
def validation_split_indices(n, fraction, rng, stratify=None):
    """Random ``(train, validation)`` row indices holding out ``fraction`` of ``n`` rows.

    The split is stratified on ``stratify`` (integer class codes) when every
    class has at least two members, so that both parts see every class.
    """
    n_val = int(round(n * fraction))
    n_val = min(max(n_val, 1), n - 1)
    perm = rng.permutation(n)
    if stratify is not None:
        counts = np.bincount(stratify)
        present = counts[counts > 0]
        if present.min() >= 2 and n_val >= len(present) and n - n_val >= len(present):
            # Take ``fraction`` of each class (at least one), in a random order.
            val = []
            for c in np.flatnonzero(counts):
                members = perm[stratify[perm] == c]
                k = min(max(int(round(len(members) * fraction)), 1), len(members) - 1)
                val.append(members[:k])
            val = np.sort(np.concatenate(val))
            train = np.setdiff1d(np.arange(n), val, assume_unique=True)
            return train, val
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])
