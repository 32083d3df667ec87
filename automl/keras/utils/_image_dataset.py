"""``image_dataset_from_directory``: image files in class folders, as batches of float images."""

from __future__ import annotations

import numpy as np

from ..._validation import param_error
from ..backend import floatx
from ..backend.image import resize_images
from ._text_dataset import FileDataset, dataset_from_directory
from .image_utils import check_color_mode, check_size, convert_mode, open_image, pil_image

__all__ = ["ImageDataset", "image_dataset_from_directory"]

_OWNER = "image_dataset_from_directory"
ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# Keras accepts these (its backend's resize methods); the engine's resize implements the first two.
KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                        "mitchellcubic")
INTERPOLATIONS = ("bilinear", "nearest")


class ImageDataset(FileDataset):
    """Batches of images and labels (see :func:`image_dataset_from_directory`).

    Images are decoded (Pillow) and resized when their batch is requested.

    Attributes
    ----------
    class_names : list of str or None
        The class names, in label order (None without labels).
    file_paths : list of str
        The image files of this dataset, in the order served this epoch.
    """

    def __init__(self, file_paths, labels, *, image_size, color_mode="rgb", interpolation="bilinear",
                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format="channels_last",
                 **kwargs):
        super().__init__(file_paths, labels, **kwargs)
        self.image_size = tuple(image_size)
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format

    def _load_batch(self, paths):
        dtype = floatx()
        images = [np.asarray(convert_mode(open_image(p, _OWNER), self.color_mode), dtype=dtype)
                  for p in paths]
        channels = check_color_mode(self.color_mode, _OWNER)
        out = np.empty((len(images), *self.image_size, channels), dtype=dtype)
        # Images of one size are resized together (one interpolation plan per size).
        groups = {}
        for i, img in enumerate(images):
            groups.setdefault(img.shape[:2], []).append(i)
        for idx in groups.values():
            batch = np.stack([images[i].reshape(*images[i].shape[:2], channels) for i in idx])
            out[idx] = resize_images(batch, *self.image_size, self.interpolation,
                                     self.crop_to_aspect_ratio, self.pad_to_aspect_ratio)
        if self.data_format == "channels_first":
            out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
        return out


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True,
                                 seed=None, validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                                 data_format=None, verbose=True):
    """Batches of images read from image files, labeled by their class folder.

    With ``labels="inferred"``, ``directory`` holds one folder per class
    (``directory/cats/*.jpg``, ``directory/dogs/*.jpg``; images in nested
    folders count for the class); the classes are the folder names in
    alphanumeric order, label ``i`` being ``class_names[i]``. Files ending
    in ``.bmp``, ``.gif`` (first frame), ``.jpeg``, ``.jpg`` or ``.png`` are
    read, with Pillow.

    Parameters
    ----------
    directory : str or path-like
    labels : "inferred", None, or list of int
        ``"inferred"`` from the folders; None for no labels (the folder
        structure is ignored); or one label per image, in the alphanumeric
        order of the file paths.
    label_mode : {"int", "categorical", "binary", None}, default="int"
        Labels as int32 indices, float one-hot rows, float ``(batch, 1)``
        (exactly two classes), or None: no labels, as with ``labels=None``.
    class_names : list of str, optional
        With ``labels="inferred"``: the folders to use, in label order.
    color_mode : {"rgb", "rgba", "grayscale"}, default="rgb"
        Images get 3, 4 or 1 channels.
    batch_size : int or None, default=32
        None serves one image at a time.
    image_size : (height, width), default=(256, 256)
        Every image is resized to this size.
    shuffle : bool, default=True
        Shuffle the files (once here, and again after every epoch); otherwise
        they are served in alphanumeric order.
    seed : int, optional
        Seed for shuffling and splitting; needed with ``validation_split`` and
        ``shuffle``.
    validation_split : float, optional
        Fraction in (0, 1) of the files kept for validation.
    subset : {"training", "validation", "both"}, optional
        With ``validation_split``: which part to return (``"both"``: a list
        ``[training, validation]``).
    interpolation : {"bilinear", "nearest"}, default="bilinear"
        The resizing method: half-pixel sampling without antialiasing, as the
        :class:`~automl.keras.layers.Resizing` layer (Keras's backend
        resize). Keras's other methods ("bicubic", "area", "lanczos3", ...)
        are not implemented.
    follow_links : bool, default=False
        Visit folders behind symbolic links.
    crop_to_aspect_ratio : bool, default=False
        Resize the largest centred window with the target aspect ratio (no
        distortion; the rest is cropped).
    pad_to_aspect_ratio : bool, default=False
        Pad the short side evenly with zeros to the target aspect ratio, then
        resize (no distortion).
    data_format : {"channels_last", "channels_first", None}, default=None
        Image layout; None means channels_last.
    verbose : bool, default=True
        Print how many files and classes were found.

    Returns
    -------
    ImageDataset or list of two
        A :class:`~automl.keras.utils.PyDataset` of ``(images, labels)``
        batches (``images`` alone without labels) that ``Model.fit``,
        ``evaluate`` and ``predict`` take: ``images`` is a float array
        ``(batch, height, width, channels)`` of values in 0..255 (not
        rescaled). It has ``class_names`` and ``file_paths`` attributes.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from automl.keras.utils import image_dataset_from_directory, save_img
    >>> root = tempfile.mkdtemp()
    >>> for label in ("cats", "dogs"):
    ...     os.makedirs(os.path.join(root, label))
    ...     save_img(os.path.join(root, label, "a.png"), np.zeros((8, 6, 3)), scale=False)
    >>> ds = image_dataset_from_directory(root, image_size=(4, 4), shuffle=False, verbose=False)
    >>> images, labels = ds[0]
    >>> ds.class_names, images.shape, labels.tolist()
    (['cats', 'dogs'], (2, 4, 4, 3), [0, 1])
    """
    pil_image(_OWNER)
    check_color_mode(color_mode, _OWNER)
    image_size = check_size(image_size, "image_size", _OWNER)
    if not isinstance(interpolation, str) or interpolation.lower() not in KERAS_INTERPOLATIONS:
        raise param_error("interpolation", _OWNER, "one of " + ", ".join(map(repr, KERAS_INTERPOLATIONS)),
                          interpolation)
    interpolation = interpolation.lower()
    if interpolation not in INTERPOLATIONS:
        raise param_error("interpolation", _OWNER, "'bilinear' or 'nearest' (the resize methods "
                          "automl.keras implements)", interpolation)
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{_OWNER} takes only one of crop_to_aspect_ratio=True and "
                         "pad_to_aspect_ratio=True.")
    if data_format is None:
        data_format = "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise param_error("data_format", _OWNER, "one of 'channels_last', 'channels_first', None",
                          data_format)

    def make(paths, label_ids, **kwargs):
        return ImageDataset(paths, label_ids, image_size=image_size, color_mode=color_mode,
                            interpolation=interpolation, crop_to_aspect_ratio=bool(crop_to_aspect_ratio),
                            pad_to_aspect_ratio=bool(pad_to_aspect_ratio), data_format=data_format,
                            **kwargs)

    return dataset_from_directory(
        _OWNER, directory, labels=labels, label_mode=label_mode, class_names=class_names,
        batch_size=batch_size, shuffle=shuffle, seed=seed, validation_split=validation_split,
        subset=subset, follow_links=follow_links, verbose=verbose, formats=ALLOWLIST_FORMATS,
        noun="image file", make=make,
    )
