"""``normalize``: scale vectors to unit norm."""

from __future__ import annotations

import numpy as np

from ..backend import floatx

__all__ = ["normalize"]


def normalize(x, axis=-1, order=2):
    """Divide ``x`` by its ``order``-norm along ``axis`` (zero vectors stay zero).

    A float array keeps its dtype; other input becomes ``floatx()``.

    Parameters
    ----------
    x : array-like
    axis : int, default=-1
    order : int, default=2
        The norm order (``np.linalg.norm``'s ``ord``): 2 for L2, 1 for L1.

    Examples
    --------
    >>> from automl.keras.utils import normalize
    >>> normalize([[3.0, 4.0], [0.0, 0.0]])
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """
    x = x if isinstance(x, np.ndarray) else np.asarray(x, dtype=floatx())
    if x.dtype.kind != "f":
        x = x.astype(floatx())
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return (x / norm).astype(x.dtype, copy=False)
