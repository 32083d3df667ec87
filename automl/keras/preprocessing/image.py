"""Image augmentation (``automl.keras.preprocessing.image``, Keras's legacy image API).

``ImageDataGenerator(...).flow(x, y)`` (or ``.flow_from_directory(path)``,
``.flow_from_dataframe(df)``) yields augmented batches that ``model.fit``
trains on directly; ``load_img``, ``img_to_array``, ``array_to_img``,
``save_img`` and ``smart_resize`` read, convert and write images (Pillow).
"""

from __future__ import annotations

import numpy as np

from ..backend.image import FILL_MODES, affine_matrices, affine_resample
from ..utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize
from ._image_data_generator import (
    DataFrameIterator,
    DirectoryIterator,
    ImageDataGenerator,
    Iterator,
    NumpyArrayIterator,
)

__all__ = [
    "DataFrameIterator",
    "DirectoryIterator",
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "apply_affine_transform",
    "array_to_img",
    "img_to_array",
    "load_img",
    "save_img",
    "smart_resize",
]


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0, col_axis=1,
                           channel_axis=2, fill_mode="nearest", cval=0.0, order=1):
    """Apply one affine transform to one image (rank 3).

    ``theta`` and ``shear`` are in degrees, ``tx`` / ``ty`` shifts in pixels
    along the columns / rows, ``zx`` / ``zy`` zoom factors; see
    :class:`ImageDataGenerator`. Only ``row_axis=0, col_axis=1,
    channel_axis=2`` (channels_last) is supported.
    """
    if (row_axis, col_axis, channel_axis) != (0, 1, 2):
        raise ValueError(
            "The 'row_axis', 'col_axis' and 'channel_axis' arguments of apply_affine_transform must be "
            f"0, 1 and 2 (channels_last). Got {row_axis}, {col_axis} and {channel_axis} instead."
        )
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"The 'x' argument of apply_affine_transform must be one image of rank 3. "
                         f"Got an array of shape {x.shape} instead.")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"The 'fill_mode' argument of apply_affine_transform must be one of {FILL_MODES}. "
                         f"Got {fill_mode!r} instead.")
    if order not in (0, 1):
        raise ValueError(f"The 'order' argument of apply_affine_transform must be 0 or 1. Got {order!r} instead.")
    batch = x[None].astype(x.dtype if x.dtype.kind == "f" else np.float32)
    matrices = affine_matrices(x.shape[0], x.shape[1], theta, tx, ty, shear, zx, zy)
    return affine_resample(batch, matrices, fill_mode, cval, order)[0]
