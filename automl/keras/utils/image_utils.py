"""Image files and arrays: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``, ``smart_resize``.

A public module (as Keras's ``utils.image_utils``): besides those functions,
the checks shared with the image datasets and ``preprocessing.image``
(``pil_image``, ``check_color_mode``, ``check_size``, ``PIL_INTERPOLATIONS``).

Decoding and encoding go through Pillow (``PIL``), as in Keras. Pillow is
optional: it is imported when one of these functions runs, and a missing
Pillow raises an ImportError that says how to install it.
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np

from ..._validation import param_error
from ..backend import floatx
from ..backend.image import resize_images

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]

COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}
# Pillow's resampling filters under Keras's names (load_img, flow_from_directory).
PIL_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def pil_image(owner):
    """The ``PIL.Image`` module, or an ImportError naming ``owner`` and how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError(
            f"{owner} requires Pillow to read and write image files: pip install pillow"
        ) from err
    return Image


def _pil_filter(image_module, interpolation, owner):
    if interpolation not in PIL_INTERPOLATIONS:
        raise param_error("interpolation", owner, "one of " + ", ".join(map(repr, PIL_INTERPOLATIONS)),
                          interpolation)
    resampling = getattr(image_module, "Resampling", image_module)
    return getattr(resampling, interpolation.upper())


def _data_format(data_format, owner):
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise param_error("data_format", owner, "one of 'channels_last', 'channels_first', None",
                          data_format)
    return data_format


def check_color_mode(color_mode, owner):
    """The number of channels of ``color_mode`` ("grayscale" 1, "rgb" 3, "rgba" 4)."""
    if color_mode not in COLOR_MODES:
        raise param_error("color_mode", owner, "one of 'grayscale', 'rgb', 'rgba'", color_mode)
    return COLOR_MODES[color_mode]


def check_size(size, name, owner):
    """A ``(height, width)`` pair of positive ints (an int means a square)."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                       for v in size)):
        raise param_error(name, owner, "a (height, width) pair of positive ints", size)
    return int(size[0]), int(size[1])


def convert_mode(img, color_mode):
    """``img`` in the Pillow mode of ``color_mode`` (grayscale keeps 16- and 32-bit integer modes)."""
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    target = color_mode.upper()
    return img if img.mode == target else img.convert(target)


def open_image(path, owner):
    """A decoded Pillow image from a path or a binary file object; the file is closed on return."""
    image_module = pil_image(owner)
    if isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as f:
            data = io.BytesIO(f.read())
    elif hasattr(path, "read"):
        data = path
    else:
        raise param_error("path", owner, "a path or a binary file object", path, TypeError)
    img = image_module.open(data)
    img.load()
    return img


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Load an image file as a Pillow image.

    Parameters
    ----------
    path : str, path-like or binary file object (e.g. ``io.BytesIO``)
    color_mode : {"rgb", "rgba", "grayscale"}, default="rgb"
        The mode to convert to (grayscale keeps 16- and 32-bit integer images).
    target_size : (height, width), optional
        Resize to this size; None keeps the file's size.
    interpolation : str, default="nearest"
        Pillow's resampling filter: "nearest", "bilinear", "bicubic",
        "hamming", "box" or "lanczos".
    keep_aspect_ratio : bool, default=False
        Resize the largest centred window with the target aspect ratio
        (crop, no distortion) instead of the whole image.

    Returns
    -------
    PIL.Image.Image

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from automl.keras.utils import array_to_img, img_to_array, load_img
    >>> buf = io.BytesIO()
    >>> array_to_img(np.zeros((4, 6, 3)), scale=False).save(buf, format="png")
    >>> img = load_img(buf, color_mode="grayscale", target_size=(2, 3))
    >>> img_to_array(img).shape
    (2, 3, 1)
    """
    owner = "load_img"
    check_color_mode(color_mode, owner)
    resample = _pil_filter(pil_image(owner), interpolation, owner)
    if target_size is not None:
        target_size = check_size(target_size, "target_size", owner)
    img = convert_mode(open_image(path, owner), color_mode)
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])  # Pillow sizes are (width, height)
    if img.size == size:
        return img
    box = None
    if keep_aspect_ratio:
        width, height = img.size
        crop_h = min(height, width * target_size[0] // target_size[1])
        crop_w = min(width, height * target_size[1] // target_size[0])
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        box = (left, top, left + crop_w, top + crop_h)
    return img.resize(size, resample, box=box)


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image (or anything ``np.asarray`` takes) as a rank-3 array.

    Parameters
    ----------
    img : PIL.Image.Image or array-like
    data_format : {"channels_last", "channels_first"}, optional
        ``(height, width, channels)`` (the default) or ``(channels, height, width)``.
    dtype : str, optional
        ``backend.floatx()`` by default.

    Returns
    -------
    ndarray of rank 3
        Grayscale images get a channel axis of size 1.
    """
    data_format = _data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=floatx() if dtype is None else dtype)
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"The 'img' argument of img_to_array must be an image of rank 2 or 3. "
                         f"Got an array of shape {x.shape} instead.")
    return np.ascontiguousarray(x.transpose(2, 0, 1)) if data_format == "channels_first" else x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A rank-3 array as a Pillow image (1 channel: "L", 3: "RGB", 4: "RGBA").

    Parameters
    ----------
    x : array-like of rank 3
    data_format : {"channels_last", "channels_first"}, optional
    scale : bool, default=True
        Stretch the values linearly to 0..255 (minimum to 0, maximum to
        255); otherwise they are cast to 8 bits as they are.
    dtype : str, optional
        The float dtype of the intermediate array (``backend.floatx()``).

    Returns
    -------
    PIL.Image.Image
        One-channel images with values above 255 become 32-bit ("I") images.
    """
    owner = "array_to_img"
    data_format = _data_format(data_format, owner)
    image_module = pil_image(owner)
    x = np.array(x, dtype=floatx() if dtype is None else dtype)
    if x.ndim != 3:
        raise ValueError(f"The 'x' argument of {owner} must be one image of rank 3. Got an array of "
                         f"shape {x.shape} instead.")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x -= np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image_module.fromarray(x.astype(np.uint8), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:
            return image_module.fromarray(x[:, :, 0].astype(np.int32), "I")
        return image_module.fromarray(x[:, :, 0].astype(np.uint8), "L")
    raise ValueError(f"The 'x' argument of {owner} must have 1, 3 or 4 channels. Got an array of "
                     f"shape {x.shape} instead.")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save a rank-3 array as an image file (see :func:`array_to_img`).

    Parameters
    ----------
    path : str, path-like or binary file object
    x : array-like of rank 3
    data_format : {"channels_last", "channels_first"}, optional
    file_format : str, optional
        "png", "jpeg" ("jpg"), ...; by default from the file name's extension
        (needed for file objects).
    scale : bool, default=True
        Stretch the values to 0..255 first.
    **kwargs
        Passed to ``PIL.Image.Image.save`` (e.g. ``quality=95``).

    Notes
    -----
    RGBA images saved as JPEG are converted to RGB, with a warning.
    """
    if file_format is not None and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    is_jpeg = (file_format or "").lower() == "jpeg" or (
        file_format is None and isinstance(path, (str, os.PathLike))
        and os.fspath(path).lower().endswith((".jpg", ".jpeg")))
    if img.mode == "RGBA" and is_jpeg:
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.", UserWarning,
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resize images without distortion: crop the largest centred window of ``size``'s aspect ratio, then resize.

    Parameters
    ----------
    x : array of rank 3 (one image) or 4 (a batch)
    size : (height, width)
    interpolation : {"bilinear", "nearest"}, default="bilinear"
        Half-pixel sampling as the :class:`~automl.keras.layers.Resizing` layer.
    data_format : {"channels_last", "channels_first"}, default="channels_last"

    Returns
    -------
    ndarray
        Float images of shape ``size`` (the input's float dtype, else floatx).
    """
    owner = "smart_resize"
    size = check_size(size, "size", owner)
    data_format = _data_format(data_format, owner)
    if interpolation not in ("bilinear", "nearest"):
        raise param_error("interpolation", owner, "one of 'bilinear', 'nearest'", interpolation)
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"The 'x' argument of {owner} must be an image of rank 3 or a batch of rank 4. "
                         f"Got an array of shape {x.shape} instead.")
    if x.dtype.kind != "f":
        x = x.astype(floatx())
    batch = x if x.ndim == 4 else x[None]
    if data_format == "channels_first":
        batch = np.moveaxis(batch, 1, -1)
    out = resize_images(batch, size[0], size[1], interpolation, crop_to_aspect_ratio=True)
    if data_format == "channels_first":
        out = np.ascontiguousarray(np.moveaxis(out, -1, 1))
    return out if x.ndim == 4 else out[0]
