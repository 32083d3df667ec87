"""``pad_sequences``: ragged sequences to one padded array."""

from __future__ import annotations

import numbers

import numpy as np

from ..._validation import param_error

__all__ = ["pad_sequences"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pad (and truncate) sequences to a common length.

    Parameters
    ----------
    sequences : list of sequences
        Each a list or array of scalars (or of equally shaped arrays).
    maxlen : int, optional
        Length of the output; the longest sequence's length when None.
    dtype : str or dtype, default="int32"
        Output dtype; ``object`` (or a NumPy string dtype) for strings.
    padding : {"pre", "post"}, default="pre"
        Pad at the start or at the end of each sequence.
    truncating : {"pre", "post"}, default="pre"
        Drop values at the start or at the end of sequences longer than ``maxlen``.
    value : float or str, default=0.0
        Padding value.

    Returns
    -------
    ndarray of shape (len(sequences), maxlen, *sample_shape)

    Examples
    --------
    >>> from automl.keras.utils import pad_sequences
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
    array([[0, 0, 1],
           [0, 2, 3],
           [4, 5, 6]], dtype=int32)
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]], padding="post", maxlen=2)
    array([[1, 0],
           [2, 3],
           [5, 6]], dtype=int32)
    """
    owner = "pad_sequences"
    if not hasattr(sequences, "__len__") or isinstance(sequences, (str, bytes)):
        raise param_error("sequences", owner, "a list of sequences", sequences, TypeError)
    if padding not in ("pre", "post"):
        raise param_error("padding", owner, "'pre' or 'post'", padding)
    if truncating not in ("pre", "post"):
        raise param_error("truncating", owner, "'pre' or 'post'", truncating)
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral)
                               or maxlen < 0):
        raise param_error("maxlen", owner, "None or a non-negative int", maxlen)
    dtype = np.dtype(dtype)
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError(
            f"The 'dtype' parameter of pad_sequences must be object or a string dtype when "
            f"'value' is a string ({value!r}). Got {dtype.name!r} instead; use dtype=object for "
            "variable-length strings."
        )
    arrays, lengths = [], np.empty(len(sequences), dtype=np.int64)
    for i, seq in enumerate(sequences):
        if not hasattr(seq, "__len__") or isinstance(seq, (str, bytes)):
            raise ValueError(
                f"The 'sequences' parameter of pad_sequences must hold sequences (lists or "
                f"arrays). Got {seq!r} at position {i} instead."
            )
        lengths[i] = len(seq)
        arrays.append(seq)
    sample_shape = ()
    for seq in arrays:
        if len(seq):
            sample_shape = np.asarray(seq).shape[1:]
            break
    if maxlen is None:
        maxlen = int(lengths.max()) if len(lengths) else 0
    out = np.full((len(arrays), maxlen, *sample_shape), value, dtype=dtype)
    keep = np.minimum(lengths, maxlen)
    nonempty = [(i, np.asarray(seq, dtype=dtype if dtype.kind != "O" else None))
                for i, seq in enumerate(arrays) if keep[i] > 0]
    if not nonempty:
        return out
    for i, arr in nonempty:
        if arr.shape[1:] != sample_shape:
            raise ValueError(
                f"Every element of the sequences given to pad_sequences must have shape "
                f"{sample_shape}. The sequence at position {i} has elements of shape "
                f"{arr.shape[1:]}."
            )
    # Gather every kept element with one fancy-indexed assignment.
    rows = np.array([i for i, _ in nonempty])
    flat = np.concatenate([a for _, a in nonempty], axis=0)
    seq_len, kept = lengths[rows], keep[rows]
    pos = np.arange(len(flat)) - np.repeat(np.cumsum(seq_len) - seq_len, seq_len)
    first = seq_len - kept if truncating == "pre" else np.zeros_like(kept)
    first_rep = np.repeat(first, seq_len)
    mask = (pos >= first_rep) & (pos < first_rep + np.repeat(kept, seq_len))
    offset = (maxlen - kept) if padding == "pre" else np.zeros_like(kept)
    cols = pos - first_rep + np.repeat(offset, seq_len)
    out[np.repeat(rows, seq_len)[mask], cols[mask]] = flat[mask]
    return out
