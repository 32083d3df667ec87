"""Argument checks shared by the convolution, pooling and spatial layers.

The numerical window kernels (im2col, col2im, depthwise, geometry) are ops
(:mod:`automl.keras.ops.kernels`); they are re-exported here for the layers.
"""

from __future__ import annotations

import numpy as np

from ..._validation import param_error
from ..ops.kernels import (  # noqa: F401 (re-exported for the layers)
    col2im,
    conv_geometry,
    conv_output_length,
    crop_spatial,
    depthwise_backward,
    depthwise_forward,
    extract_patches,
    gemm_col2im,
    matrix_view,
    offset_slices,
    pad_spatial,
    window_view,
)

__all__ = [
    "INPUT_KINDS",
    "check_input_rank",
    "normalize_tuple",
    "normalize_padding",
    "check_data_format",
    "conv_geometry",
    "conv_output_length",
    "pad_spatial",
    "crop_spatial",
    "window_view",
    "extract_patches",
    "col2im",
    "gemm_col2im",
    "matrix_view",
    "state_without_caches",
    "depthwise_forward",
    "depthwise_backward",
]


# -- argument normalization -------------------------------------------------
def normalize_tuple(value, n, name, owner, allow_zero=False):
    """``value`` (an int or ``n`` ints) as a tuple of ``n`` ints, each >= 1 (>= 0 with ``allow_zero``)."""
    low = 0 if allow_zero else 1
    items = (value,) * n if isinstance(value, (int, np.integer)) else value
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if (
        items is None
        or len(items) != n
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low for v in items)
    ):
        what = "an int" if n == 1 else f"an int or a tuple of {n} ints"
        raise param_error(name, owner, f"{what}, each in the range [{low}, inf)", value)
    return tuple(int(v) for v in items)


def normalize_padding(padding, owner, allow_causal=False):
    options = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in options:
        raise param_error("padding", owner, "one of {" + ", ".join(repr(o) for o in options) + "}", padding)
    return value


#: The input layout of a layer with 1, 2 or 3 spatial axes (for error messages).
INPUT_KINDS = {
    1: "(batch, steps, channels)",
    2: "(batch, height, width, channels)",
    3: "(batch, depth, height, width, channels)",
}


def check_input_rank(layer, input_shape, rank, expects=None):
    """``input_shape`` as a tuple, or an error unless it has ``rank`` spatial axes (``rank + 2`` in all).

    The error says that ``layer`` expects inputs ``expects`` (default: ``"of shape "``
    and the layout in :data:`INPUT_KINDS`).
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != rank + 2:
        expects = expects or f"of shape {INPUT_KINDS[rank]}"
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects inputs {expects}. "
            f"Got input shape {input_shape} instead."
        )
    return input_shape


def check_data_format(data_format, owner):
    """``"channels_last"`` (the only supported layout) for None or "channels_last"; else a clear error."""
    if data_format is None or data_format == "channels_last":
        return "channels_last"
    if data_format == "channels_first":
        raise ValueError(
            f"The 'data_format' parameter of {owner} must be 'channels_last' (or None): automl.keras "
            "works on (batch, ..., channels) arrays only. Got 'channels_first' instead; transpose the "
            "inputs to channels_last, e.g. np.moveaxis(x, 1, -1)."
        )
    raise param_error("data_format", owner, "one of {'channels_last', None}", data_format)


def state_without_caches(layer):
    """``layer.__dict__`` for pickling, without the per-call caches (patch matrices and the like)."""
    state = layer.__dict__.copy()
    for attr in layer._cache_attrs:
        if attr != "activity_penalty" and attr in state:
            state[attr] = None
    return state
