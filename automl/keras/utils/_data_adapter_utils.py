"""Packing and unpacking ``(x, y, sample_weight)`` batches, as Keras does."""

from __future__ import annotations

__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Pack ``x``, ``y`` and ``sample_weight`` into the tuple a batch is.

    ``x`` alone stays ``x`` (wrapped as ``(x,)`` when it is itself a tuple or
    list, so it is not taken for ``(x, y)``).

    >>> from automl.keras.utils import pack_x_y_sample_weight
    >>> pack_x_y_sample_weight(1), pack_x_y_sample_weight(1, 2), pack_x_y_sample_weight(1, 2, 3)
    (1, (1, 2), (1, 2, 3))
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Split a batch into ``(x, y, sample_weight)``; missing parts are None.

    >>> from automl.keras.utils import unpack_x_y_sample_weight
    >>> unpack_x_y_sample_weight((1, 2))
    (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return data
    raise ValueError(
        "The 'data' parameter of unpack_x_y_sample_weight must be x, (x,), (x, y) or "
        f"(x, y, sample_weight). Got a tuple of {len(data)} items instead."
    )
