"""Encoding integer indices as one-hot, multi-hot or count vectors (Keras's rules).

Shared by the layers that output indices: Discretization, CategoryEncoding,
StringLookup, IntegerLookup, TextVectorization and Hashing. None of them is
differentiable: :func:`no_gradient` is their ``backward``. The layers that take
indices (CategoryEncoding, Embedding) check their range with :func:`check_index_range`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ENCODING_MODES", "check_index_range", "encoded_shape", "encode_indices", "no_gradient"]

ENCODING_MODES = ("int", "one_hot", "multi_hot", "count")


def check_index_range(idx, size, layer, noun, size_name):
    """Raise unless every index of ``idx`` is in ``[0, size)``.

    The error names the layer (``layer``, e.g. ``"Embedding"``), the lowest
    index when one is negative (else the highest), and the size argument
    ``size_name``.
    """
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise ValueError(
            f"{layer} got the {noun} {int(bad)}, outside [0, {size - 1}] ({size_name}={size})."
        )


def encoded_shape(input_shape, output_mode, depth):
    """Output shape of an encoding of indices of ``input_shape``.

    ``"one_hot"`` replaces a last axis of size 1, else appends one;
    ``"multi_hot"`` / ``"count"`` treat the last axis as the sample (a 1-D
    input is one value per sample).
    """
    shape = tuple(input_shape)
    if output_mode == "int":
        return shape
    if len(shape) == 1:
        return (shape[0], depth)
    if output_mode == "one_hot" and shape[-1] != 1:
        return (*shape, depth)
    return (*shape[:-1], depth)


def encode_indices(idx, output_mode, depth, dtype, *, count_weights=None, idf_weights=None):
    """Int ``idx`` encoded per ``output_mode``; negative indices are dropped.

    ``count_weights`` (same shape as ``idx``) weight each occurrence in
    ``"count"`` mode; ``idf_weights`` (per vocabulary index) multiply the
    result (TF-IDF).
    """
    if output_mode == "int":
        return idx
    if output_mode == "one_hot":
        if idx.ndim > 1 and idx.shape[-1] == 1:
            idx = idx[..., 0]
        out = np.zeros((*idx.shape, depth), dtype=dtype)
        flat = out.reshape(-1, depth)
        sel = idx.reshape(-1)
        keep = np.flatnonzero(sel >= 0)
        flat[keep, sel[keep]] = 1
        return out
    if idx.ndim <= 1:
        idx = idx.reshape(-1, 1)
    rows = idx.reshape(-1, idx.shape[-1])
    keep = rows >= 0
    flat = (rows + (np.arange(rows.shape[0]) * depth)[:, None])[keep]
    if output_mode == "multi_hot":
        out = np.zeros(rows.shape[0] * depth, dtype=dtype)
        out[flat] = 1
    else:
        weights = None if count_weights is None else np.reshape(count_weights, rows.shape)[keep]
        out = np.bincount(flat, weights=weights, minlength=rows.shape[0] * depth).astype(dtype)
    out = out.reshape(*idx.shape[:-1], depth)
    if idf_weights is not None:
        out *= idf_weights[:depth].astype(dtype, copy=False)
    return out


def no_gradient(layer, what="token indices"):
    """``None`` when nobody needs the input gradient, else a clear error (indices are not
    differentiable)."""
    if not layer._input_grad_needed:
        return None
    raise ValueError(
        f"{type(layer).__name__} layer {layer.name!r} has no gradient: it maps its inputs to {what}, "
        "which is not differentiable. Put it before every layer with trainable weights (e.g. as the "
        "first layer of the model)."
    )
