"""``ImageDataGenerator`` and the iterator its ``flow`` returns (Keras's legacy image API)."""

from __future__ import annotations

import math
import numbers
import os
import warnings

import numpy as np

from ..._validation import param_error
from ..backend import floatx, make_rng
from ..backend.image import FILL_MODES, affine_matrices, affine_resample, is_identity
from ..utils import PyDataset, img_to_array, load_img, save_img
from ..utils.dataset_utils import list_files
from ..utils.image_utils import PIL_INTERPOLATIONS, check_color_mode, check_size, pil_image

__all__ = ["DataFrameIterator", "DirectoryIterator", "ImageDataGenerator", "Iterator", "NumpyArrayIterator"]

_OWNER = "ImageDataGenerator"


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_shift_range(name, value):
    """A shift range: a float (fraction of the size when < 1, else pixels), an int, or a list of values."""
    if _is_number(value):
        if value < 0:
            raise param_error(name, _OWNER, "a non-negative float, an int or a 1-D list of values", value)
        return value
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise param_error(name, _OWNER, "a non-negative float, an int or a 1-D list of values", value)
    return value


def _draw_shift(spec, n, size, rng):
    """Shifts in pixels for ``n`` images from a Keras shift-range spec."""
    if _is_number(spec) and not isinstance(spec, (int, np.integer)):
        shift = rng.uniform(-spec, spec, n)
        return shift * size if spec < 1 else shift
    values = np.arange(int(spec)) if isinstance(spec, (int, np.integer)) else np.asarray(spec, dtype=np.float64)
    shift = rng.choice(values, n).astype(np.float64) * rng.choice(np.array([-1.0, 1.0]), n)
    return shift * size if np.max(values) < 1 else shift


class ImageDataGenerator:
    """Real-time augmentation and normalization of image batches (channels_last).

    Every batch that :meth:`flow` produces is transformed at once: one affine
    matrix per image (rotation, shifts, shear, zoom) resampled with bilinear
    interpolation through vectorized gathers, then channel shift, flips,
    brightness, and the normalization of :meth:`standardize`.

    Parameters
    ----------
    featurewise_center : bool, default=False
        Subtract the per-channel dataset mean (computed by :meth:`fit`).
    samplewise_center : bool, default=False
        Subtract each image's mean.
    featurewise_std_normalization : bool, default=False
        Divide by the per-channel dataset std (computed by :meth:`fit`); turns
        ``featurewise_center`` on, with a warning, as in Keras.
    samplewise_std_normalization : bool, default=False
        Divide each image by its std; turns ``samplewise_center`` on.
    zca_whitening : bool, default=False
        ZCA whitening with the matrix computed by :meth:`fit`; turns
        ``featurewise_center`` on and ``featurewise_std_normalization`` off.
    zca_epsilon : float, default=1e-6
    rotation_range : float, default=0
        Degrees; each image is rotated by a uniform angle in ``[-r, r]``.
    width_shift_range, height_shift_range : float, int or list, default=0.0
        A float below 1 is a fraction of the width (height), a float >= 1 a
        number of pixels, both drawn uniformly in ``[-r, r]``; an int ``n``
        draws whole pixels in ``(-n, n)``; a list draws one of its values with
        a random sign.
    brightness_range : tuple of 2 floats, optional
        Multiply the brightness by a uniform factor in this range.
    shear_range : float, default=0.0
        Shear angle in degrees (counter-clockwise), uniform in ``[-s, s]``.
    zoom_range : float or [lower, upper], default=0.0
        A float ``z`` means ``[1 - z, 1 + z]``; zoom factors above 1 shrink
        the content. Width and height get independent factors.
    channel_shift_range : float, default=0.0
        Add a uniform value in ``[-c, c]`` to every channel, clipped to the
        image's original range.
    fill_mode : {"nearest", "constant", "reflect", "wrap"}, default="nearest"
        How points outside the image are filled (see Notes).
    cval : float, default=0.0
        The fill value of ``fill_mode="constant"``.
    horizontal_flip, vertical_flip : bool, default=False
        Flip half of the images left-right / upside down.
    rescale : float, optional
        Multiply the data by this factor (before any other normalization).
    preprocessing_function : callable, optional
        Applied to each image (rank 3) after augmentation, before rescaling.
    data_format : {"channels_last"}, optional
        Only channels_last images are supported.
    validation_split : float, default=0.0
        Fraction of the data that ``flow(..., subset="validation")`` uses (the
        first samples); ``subset="training"`` uses the rest.
    interpolation_order : {0, 1}, default=1
        0 for nearest-neighbour, 1 for bilinear resampling.
    dtype : str, optional
        The dtype of the batches; ``backend.floatx()`` by default.

    Notes
    -----
    Fill modes for a row ``abcd``: ``"constant"`` gives ``kkkk|abcd|kkkk``
    (``k = cval``), ``"nearest"`` ``aaaa|abcd|dddd``, ``"reflect"``
    ``abcddcba|abcd|dcbaabcd`` and ``"wrap"`` ``abcdabcd|abcd|abcdabcd``; the
    resampling matches ``scipy.ndimage.affine_transform`` (``order=1``,
    modes constant / nearest / reflect / grid-wrap), which Keras uses.

    ``width_shift_range`` moves images horizontally and ``height_shift_range``
    vertically, as documented; Keras's own implementation swaps the two
    (keras-team/keras#17398). The transform parameters keep Keras's names:
    ``tx`` is the horizontal shift, ``ty`` the vertical one. Brightness is a
    plain multiplication clipped to the 0..255 range (Keras goes through an
    8-bit PIL image, which also rounds the values).

    Randomness comes from a ``numpy.random.Generator``: :meth:`flow` with the
    same ``seed`` gives the same batches; without a seed the generator derives
    from the global seed (``utils.set_random_seed``).

    :meth:`flow_from_directory` and :meth:`flow_from_dataframe` read image
    files with Pillow (an optional dependency), then augment each batch
    as :meth:`flow` does.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.preprocessing.image import ImageDataGenerator
    >>> x = np.random.default_rng(0).random((10, 8, 8, 1))
    >>> datagen = ImageDataGenerator(rotation_range=20, horizontal_flip=True, rescale=1 / 255)
    >>> batches = datagen.flow(x, np.arange(10), batch_size=4, seed=0)
    >>> xb, yb = batches[0]
    >>> len(batches), xb.shape, yb.shape
    (3, (4, 8, 8, 1), (4,))
    """

    def __init__(
        self,
        featurewise_center=False,
        samplewise_center=False,
        featurewise_std_normalization=False,
        samplewise_std_normalization=False,
        zca_whitening=False,
        zca_epsilon=1e-6,
        rotation_range=0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        brightness_range=None,
        shear_range=0.0,
        zoom_range=0.0,
        channel_shift_range=0.0,
        fill_mode="nearest",
        cval=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        rescale=None,
        preprocessing_function=None,
        data_format=None,
        validation_split=0.0,
        interpolation_order=1,
        dtype=None,
    ):
        if data_format is None:
            data_format = "channels_last"
        if data_format != "channels_last":
            expected = "'channels_last' (channels_first images are not supported)"
            raise param_error("data_format", _OWNER, expected, data_format)
        for name, value in (("rotation_range", rotation_range), ("shear_range", shear_range),
                            ("channel_shift_range", channel_shift_range), ("zca_epsilon", zca_epsilon)):
            if not _is_number(value) or value < 0:
                raise param_error(name, _OWNER, "a non-negative float", value)
        _check_shift_range("width_shift_range", width_shift_range)
        _check_shift_range("height_shift_range", height_shift_range)
        if _is_number(zoom_range):
            zoom = [1 - zoom_range, 1 + zoom_range]
        elif (isinstance(zoom_range, (list, tuple, np.ndarray)) and len(zoom_range) == 2
              and all(_is_number(v) for v in zoom_range)):
            zoom = [float(zoom_range[0]), float(zoom_range[1])]
        else:
            zoom = None
        if zoom is None or zoom[0] <= 0 or zoom[1] < zoom[0]:
            raise param_error("zoom_range", _OWNER, "a float in [0, 1) or a pair [lower, upper] with "
                              "0 < lower <= upper", zoom_range)
        if brightness_range is not None and not (
            isinstance(brightness_range, (list, tuple, np.ndarray)) and len(brightness_range) == 2
            and all(_is_number(v) for v in brightness_range) and 0 <= brightness_range[0] <= brightness_range[1]
        ):
            raise param_error("brightness_range", _OWNER, "None or a pair (lower, upper) of floats with "
                              "0 <= lower <= upper", brightness_range)
        if fill_mode not in FILL_MODES:
            raise param_error("fill_mode", _OWNER, "one of " + ", ".join(repr(m) for m in FILL_MODES), fill_mode)
        if not _is_number(cval):
            raise param_error("cval", _OWNER, "a float", cval)
        if rescale is not None and not _is_number(rescale):
            raise param_error("rescale", _OWNER, "None or a float", rescale)
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise param_error("preprocessing_function", _OWNER, "None or a callable", preprocessing_function,
                              TypeError)
        if not _is_number(validation_split) or not 0 <= validation_split < 1:
            raise param_error("validation_split", _OWNER, "a float in the range [0, 1)", validation_split)
        if interpolation_order not in (0, 1) or isinstance(interpolation_order, bool):
            raise param_error("interpolation_order", _OWNER, "0 (nearest) or 1 (bilinear)", interpolation_order)
        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening = bool(zca_whitening)
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.brightness_range = brightness_range
        self.shear_range = shear_range
        self.zoom_range = zoom
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.data_format = data_format
        self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        self._validation_split = validation_split
        self.interpolation_order = interpolation_order
        self.dtype = floatx() if dtype is None else np.dtype(dtype).name
        self.mean = None
        self.std = None
        self.zca_whitening_matrix = None
        self._rng = None
        overrides = []
        if self.zca_whitening and not self.featurewise_center:
            self.featurewise_center = True
            overrides.append(("zca_whitening", "featurewise_center"))
        if self.zca_whitening and self.featurewise_std_normalization:
            self.featurewise_std_normalization = False
            overrides.append(("zca_whitening", "featurewise_std_normalization"))
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            overrides.append(("featurewise_std_normalization", "featurewise_center"))
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            overrides.append(("samplewise_std_normalization", "samplewise_center"))
        for given, changed in overrides:
            warnings.warn(f"This ImageDataGenerator specifies `{given}`, which overrides the setting of "
                          f"`{changed}`.", UserWarning, stacklevel=2)

    # -- iterators ------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False, subset=None):
        """Batches of augmented images from arrays: a :class:`NumpyArrayIterator`.

        Parameters
        ----------
        x : array of rank 4, or a tuple ``(images, other_inputs)``
            Images ``(n, height, width, channels)``; ``other_inputs`` (an
            array or a list of arrays) are passed through unchanged as extra
            model inputs.
        y : array, optional
            Targets; without them the batches are the images alone.
        batch_size : int, default=32
        shuffle : bool, default=True
            Reshuffle the samples every epoch.
        sample_weight : array, optional
        seed : int, optional
            Seed of the shuffling and of the random transforms.
        save_to_dir, save_prefix, save_format
            Saving the augmented images is not supported: ``save_to_dir`` must be None.
        ignore_class_split : bool, default=False
            Skip the check that both subsets hold the same classes.
        subset : {"training", "validation"}, optional
            With ``validation_split``, the subset to iterate over.

        Returns
        -------
        NumpyArrayIterator
            A :class:`~automl.keras.utils.PyDataset`: ``len()`` batches,
            ``it[i]``, and endless ``next(it)``; ``model.fit(it)`` trains on it.
        """
        return NumpyArrayIterator(
            x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight, seed=seed,
            data_format=self.data_format, save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype,
        )

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None,
                            save_to_dir=None, save_prefix="", save_format="png", follow_links=False,
                            subset=None, interpolation="nearest", keep_aspect_ratio=False):
        """Batches of augmented images read from class folders: a :class:`DirectoryIterator`.

        Parameters
        ----------
        directory : str or path-like
            One subfolder per class; the ``.png``, ``.jpg``, ``.jpeg``,
            ``.bmp``, ``.ppm``, ``.tif`` and ``.tiff`` files under each
            (nested folders included) are its images, read with Pillow.
        target_size : (height, width), default=(256, 256)
            Every image is resized to this size (Pillow, ``interpolation``).
        color_mode : {"rgb", "rgba", "grayscale"}, default="rgb"
        classes : list of str, optional
            The subfolders to use, in label order; by default all of them in
            alphanumeric order.
        class_mode : {"categorical", "binary", "sparse", "input", None}, default="categorical"
            Targets as one-hot rows, float 0/1 values, float class indices,
            the images themselves (autoencoders), or none (images alone).
        batch_size : int, default=32
        shuffle : bool, default=True
            Reshuffle the images every epoch; otherwise alphanumeric order.
        seed : int, optional
            Seed of the shuffling and of the random transforms.
        save_to_dir : str, optional
            Also save every augmented image served, as
            ``{save_prefix}_{index}_{n}.{save_format}`` in this folder.
        save_prefix : str, default=""
        save_format : str, default="png"
        follow_links : bool, default=False
            Visit folders behind symbolic links.
        subset : {"training", "validation"}, optional
            With the generator's ``validation_split``: the first fraction of
            each class folder is the validation subset, the rest training.
        interpolation : str, default="nearest"
            Pillow's filter: "nearest", "bilinear", "bicubic", "hamming",
            "box" or "lanczos".
        keep_aspect_ratio : bool, default=False
            Resize the largest centred window with the target aspect ratio.

        Returns
        -------
        DirectoryIterator
            A :class:`~automl.keras.utils.PyDataset` that ``model.fit`` takes;
            ``class_indices`` maps the class names to their indices.
        """
        return DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
            class_mode=class_mode, batch_size=batch_size, shuffle=shuffle, seed=seed,
            data_format=self.data_format, save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, follow_links=follow_links, subset=subset,
            interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio, dtype=self.dtype,
        )

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", y_col="class",
                            weight_col=None, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None,
                            save_to_dir=None, save_prefix="", save_format="png", subset=None,
                            interpolation="nearest", validate_filenames=True, **kwargs):
        """Batches of augmented images listed in a pandas DataFrame: a :class:`DataFrameIterator`.

        Parameters
        ----------
        dataframe : pandas.DataFrame
            One row per image: its file in ``x_col`` and its target(s) in
            ``y_col``.
        directory : str, optional
            The folder the file names are relative to (None: they are paths).
        x_col : str, default="filename"
        y_col : str or list of str, default="class"
            The target column (a list of columns with ``class_mode="multi_output"``).
        weight_col : str, optional
            A numeric column of sample weights, served as a third element.
        target_size, color_mode, batch_size, shuffle, seed, save_to_dir, save_prefix, save_format, interpolation
            As in :meth:`flow_from_directory`.
        classes : list of str, optional
            The classes to keep, in label order (rows of other classes are
            dropped); by default the sorted distinct values of ``y_col``.
        class_mode : {"categorical", "binary", "sparse", "input", "multi_output", "raw", None}
            ``"categorical"`` (the default; ``y_col`` values may be lists of
            classes, giving multi-hot rows), ``"binary"`` and ``"sparse"``
            (string classes, as float 0/1 values or class indices),
            ``"input"`` (the images), ``"multi_output"`` (a list of the
            ``y_col`` columns), ``"raw"`` (the ``y_col`` values as they are;
            ``"other"`` is its deprecated name) or None (images alone).
        subset : {"training", "validation"}, optional
            With the generator's ``validation_split``: the first fraction of
            the rows is the validation subset, the rest training.
        validate_filenames : bool, default=True
            Drop (with a warning) the rows whose file is missing or not an image.
        **kwargs
            The deprecated ``has_ext``, ``sort`` and ``drop_duplicates`` are
            ignored with a DeprecationWarning, as in Keras.

        Returns
        -------
        DataFrameIterator
        """
        for name, advice in (("has_ext", "filenames in the dataframe have to match the exact filenames "
                                         "on disk"),
                             ("sort", "batches follow the order of the dataframe when shuffle=False"),
                             ("drop_duplicates", "use pandas.DataFrame.drop_duplicates")):
            if name in kwargs:
                warnings.warn(f"{name} is deprecated: {advice}.", DeprecationWarning, stacklevel=2)
        unknown = sorted(set(kwargs) - {"has_ext", "sort", "drop_duplicates"})
        if unknown:
            raise TypeError(f"ImageDataGenerator.flow_from_dataframe got unexpected keyword arguments "
                            f"{unknown}.")
        if class_mode == "other":
            warnings.warn('class_mode="other" is deprecated, use class_mode="raw".', DeprecationWarning,
                          stacklevel=2)
            class_mode = "raw"
        return DataFrameIterator(
            dataframe, directory, self, x_col=x_col, y_col=y_col, weight_col=weight_col,
            target_size=target_size, color_mode=color_mode, classes=classes, class_mode=class_mode,
            batch_size=batch_size, shuffle=shuffle, seed=seed, data_format=self.data_format,
            save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format, subset=subset,
            interpolation=interpolation, validate_filenames=validate_filenames, dtype=self.dtype,
        )

    # -- normalization ----------------------------------------------------------
    def standardize(self, x):
        """Apply the normalization configuration to an image or a batch, in place when possible.

        Order (Keras's): ``preprocessing_function`` (per image), ``rescale``,
        samplewise centering and std normalization (over each image),
        featurewise centering and std normalization, ZCA whitening. A float
        array of the generator's dtype is changed in place; pass a copy to keep
        the original.
        """
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(self.dtype)
        single = x.ndim == 3
        if x.ndim not in (3, 4):
            raise ValueError(
                f"The 'x' argument of ImageDataGenerator.standardize must be an image of rank 3 or a "
                f"batch of rank 4. Got an array of shape {x.shape} instead."
            )
        if self.preprocessing_function is not None:
            if single:
                x = np.asarray(self.preprocessing_function(x), dtype=x.dtype)
            else:
                for i in range(x.shape[0]):
                    x[i] = self.preprocessing_function(x[i])
        if self.rescale:
            x *= self.rescale
        axes = (0, 1, 2) if single else (1, 2, 3)
        if self.samplewise_center:
            x -= np.mean(x, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, axis=axes, keepdims=True) + 1e-6
        for flag, stat, name in ((self.featurewise_center, self.mean, "featurewise_center"),
                                 (self.featurewise_std_normalization, self.std, "featurewise_std_normalization"),
                                 (self.zca_whitening, self.zca_whitening_matrix, "zca_whitening")):
            if flag and stat is None:
                warnings.warn(
                    f"This ImageDataGenerator specifies `{name}`, but it hasn't been fit on any training "
                    "data. Fit it first by calling `.fit(numpy_data)`.",
                    UserWarning,
                    stacklevel=2,
                )
        if self.featurewise_center and self.mean is not None:
            x -= self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x /= self.std + 1e-6
        if self.zca_whitening and self.zca_whitening_matrix is not None:
            flat = x.reshape(-1, int(np.prod(x.shape[-3:])))
            x = (flat @ self.zca_whitening_matrix).astype(x.dtype, copy=False).reshape(x.shape)
        return x

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the dataset statistics used by the featurewise options and ZCA whitening.

        Parameters
        ----------
        x : array of rank 4
            Sample images ``(n, height, width, channels)``; ``rescale`` is
            applied first, as in Keras.
        augment : bool, default=False
            Compute the statistics on randomly augmented copies.
        rounds : int, default=1
            With ``augment``, the number of augmented passes over ``x``.
        seed : int, optional
            Seed of the augmentation.
        """
        x = np.array(x, dtype=self.dtype, copy=True)
        if x.ndim != 4:
            raise ValueError(
                f"The 'x' argument of ImageDataGenerator.fit must have rank 4 (n, height, width, "
                f"channels). Got an array of shape {x.shape} instead."
            )
        if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
            raise param_error("rounds", "ImageDataGenerator.fit", "an int in the range [1, inf)", rounds)
        _warn_channels(x.shape, "ImageDataGenerator.fit")
        if self.rescale:
            x *= self.rescale
        if augment:
            rng = make_rng(seed)
            x = np.concatenate([self._augment(x, rng) for _ in range(rounds)], axis=0)
        if self.featurewise_center:
            self.mean = np.mean(x, axis=(0, 1, 2)).reshape(1, 1, -1).astype(self.dtype)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=(0, 1, 2)).reshape(1, 1, -1).astype(self.dtype)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = x.shape[0]
            flat = x.reshape(n, -1).astype(np.float64)
            # Eigenvectors of flat.T @ flat are the left singular vectors of flat.T; s**2 its eigenvalues.
            eigvals, u = np.linalg.eigh(flat.T @ flat)
            if n < eigvals.size:  # like a thin SVD: only the n largest components
                eigvals, u = eigvals[-n:], u[:, -n:]
            s = np.sqrt(np.clip(eigvals, 0.0, None))
            self.zca_whitening_matrix = ((u * (np.sqrt(n) / (s + self.zca_epsilon))) @ u.T).astype(self.dtype)

    # -- random transforms ------------------------------------------------------
    def _generator(self, seed=None):
        if seed is not None:
            return make_rng(seed)
        if self._rng is None:
            self._rng = make_rng()
        return self._rng

    def _random_params(self, n, height, width, rng):
        """Random transform parameters for ``n`` images of ``height x width``: a dict of arrays."""
        params = {
            "theta": rng.uniform(-self.rotation_range, self.rotation_range, n) if self.rotation_range
            else np.zeros(n),
            "tx": _draw_shift(self.width_shift_range, n, width, rng) if np.any(self.width_shift_range)
            else np.zeros(n),
            "ty": _draw_shift(self.height_shift_range, n, height, rng) if np.any(self.height_shift_range)
            else np.zeros(n),
            "shear": rng.uniform(-self.shear_range, self.shear_range, n) if self.shear_range else np.zeros(n),
        }
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            params["zx"], params["zy"] = np.ones(n), np.ones(n)
        else:
            zoom = rng.uniform(self.zoom_range[0], self.zoom_range[1], (n, 2))
            params["zx"], params["zy"] = zoom[:, 0], zoom[:, 1]
        params["flip_horizontal"] = (rng.random(n) < 0.5) & self.horizontal_flip
        params["flip_vertical"] = (rng.random(n) < 0.5) & self.vertical_flip
        params["channel_shift_intensity"] = (
            rng.uniform(-self.channel_shift_range, self.channel_shift_range, n) if self.channel_shift_range
            else None
        )
        params["brightness"] = (
            rng.uniform(self.brightness_range[0], self.brightness_range[1], n)
            if self.brightness_range is not None else None
        )
        return params

    def _apply_batch(self, x, params):
        """Apply per-image parameters (a dict of arrays) to a float batch ``(n, h, w, c)``, in place."""
        n, h, w, _ = x.shape

        def get(key, default):
            value = params.get(key)
            return np.full(n, default, dtype=np.float64) if value is None else np.asarray(value, np.float64)

        matrices = affine_matrices(h, w, get("theta", 0.0), get("tx", 0.0), get("ty", 0.0), get("shear", 0.0),
                                   get("zx", 1.0), get("zy", 1.0))
        moved = ~is_identity(matrices)
        if moved.all():
            x[...] = affine_resample(x, matrices, self.fill_mode, self.cval, self.interpolation_order)
        elif moved.any():
            x[moved] = affine_resample(x[moved], matrices[moved], self.fill_mode, self.cval,
                                       self.interpolation_order)
        if params.get("channel_shift_intensity") is not None:
            intensity = np.asarray(params["channel_shift_intensity"], dtype=x.dtype).reshape(n, 1, 1, 1)
            low = x.min(axis=(1, 2, 3), keepdims=True)
            high = x.max(axis=(1, 2, 3), keepdims=True)
            x += intensity
            np.clip(x, low, high, out=x)
        for key, axis in (("flip_horizontal", 2), ("flip_vertical", 1)):
            flip = params.get(key)
            if flip is not None and np.any(flip):
                flip = np.broadcast_to(np.asarray(flip, dtype=bool), (n,))
                x[flip] = np.flip(x[flip], axis=axis)
        if params.get("brightness") is not None:
            factor = np.asarray(params["brightness"], dtype=x.dtype).reshape(n, 1, 1, 1)
            low = x.min(axis=(1, 2, 3), keepdims=True)
            high = x.max(axis=(1, 2, 3), keepdims=True)
            # Within 0..255: scale and clip to 0..255; otherwise the same relative to the image's range.
            in_range = (low >= 0) & (high <= 255)
            offset = np.where(in_range, 0, low).astype(x.dtype)
            top = np.where(in_range, 255, high - low).astype(x.dtype)
            x -= offset
            x *= factor
            np.clip(x, 0, top, out=x)
            x += offset
        return x

    def _augment(self, x, rng):
        """A randomly augmented copy of the float batch ``x``."""
        out = np.array(x, copy=True)
        return self._apply_batch(out, self._random_params(out.shape[0], out.shape[1], out.shape[2], rng))

    def get_random_transform(self, img_shape, seed=None):
        """Random transform parameters for one image of shape ``img_shape`` (a dict, Keras's keys).

        Keys: ``theta``, ``tx`` (horizontal shift), ``ty`` (vertical shift),
        ``shear``, ``zx``, ``zy``, ``flip_horizontal``, ``flip_vertical``,
        ``channel_shift_intensity``, ``brightness``.
        """
        if len(img_shape) != 3:
            raise ValueError(f"The 'img_shape' argument of ImageDataGenerator.get_random_transform must be "
                             f"(height, width, channels). Got {tuple(img_shape)!r} instead.")
        params = self._random_params(1, img_shape[0], img_shape[1], self._generator(seed))
        out = {}
        for key, value in params.items():
            if value is None:
                out[key] = None
            elif value.dtype == bool:
                out[key] = bool(value[0])
            else:
                out[key] = float(value[0])
        return out

    def apply_transform(self, x, transform_parameters):
        """Apply a dict of transform parameters (see :meth:`get_random_transform`) to one image.

        Missing keys mean no change. Returns a new array of shape ``x.shape``.
        """
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"The 'x' argument of ImageDataGenerator.apply_transform must be one image of "
                             f"rank 3 (height, width, channels). Got an array of shape {x.shape} instead.")
        batch = np.array(x[None], dtype=x.dtype if x.dtype.kind == "f" else self.dtype, copy=True)
        params = {k: None if v is None else np.asarray([v]) for k, v in transform_parameters.items()}
        return self._apply_batch(batch, params)[0]

    def random_transform(self, x, seed=None):
        """A randomly transformed copy of one image (rank 3)."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))


def _warn_channels(shape, owner):
    if shape[3] not in (1, 3, 4):
        warnings.warn(
            f"{owner} expects channels_last images with 1, 3 or 4 channels on axis 3. Got an array of "
            f"shape {shape} ({shape[3]} channels).",
            UserWarning,
            stacklevel=3,
        )


class Iterator(PyDataset):
    """Base class of image batch iterators: a PyDataset that is also an endless iterator.

    Parameters
    ----------
    n : int
        Number of samples.
    batch_size : int
    shuffle : bool
        Reshuffle the samples at every epoch (``on_epoch_end``) and every
        pass of ``next()``.
    seed : int, optional
        Seed of the shuffling and of the random transforms.

    Subclasses implement ``_get_batches_of_transformed_samples(index_array)``.
    """

    def __init__(self, n, batch_size, shuffle, seed):
        super().__init__()
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise param_error("batch_size", type(self).__name__, "an int in the range [1, inf)", batch_size)
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = bool(shuffle)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array = None
        self._rng = None

    @property
    def rng(self) -> np.random.Generator:
        """The iterator's Generator (from ``seed``, else from the global seed), made at first use."""
        if self._rng is None:
            self._rng = make_rng(self.seed)
        return self._rng

    def _set_index_array(self):
        self.index_array = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, idx):
        if isinstance(idx, (bool, np.bool_)) or not isinstance(idx, (int, np.integer)) or not 0 <= idx < len(self):
            raise IndexError(f"{type(self).__name__} index {idx!r} is out of range: it has {len(self)} batches.")
        if self.index_array is None:
            self._set_index_array()
        self.total_batches_seen += 1
        return self._get_batches_of_transformed_samples(
            self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        )

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.batch_index == 0 or self.index_array is None:
            self._set_index_array()
        start = self.batch_index * self.batch_size
        index_array = self.index_array[start:start + self.batch_size]
        self.batch_index = 0 if start + self.batch_size >= self.n else self.batch_index + 1
        self.total_batches_seen += 1
        return self._get_batches_of_transformed_samples(index_array)

    def next(self):
        """The next batch (Keras 2 spelling of ``next(iterator)``)."""
        return self.__next__()

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError

    def _transform(self, batch_x):
        """Random transforms then normalization of a float batch (its own copy), with the iterator's rng."""
        gen = self.image_data_generator
        params = gen._random_params(len(batch_x), batch_x.shape[1], batch_x.shape[2], self.rng)
        return gen.standardize(gen._apply_batch(batch_x, params))


class NumpyArrayIterator(Iterator):
    """Augmented batches of in-memory images, as returned by :meth:`ImageDataGenerator.flow`.

    Each batch is ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` where ``x``
    is the transformed and standardized images of the batch (a list
    ``[images, *other_inputs]`` when extra inputs were given). The source
    array keeps its dtype; each batch is converted to ``dtype``.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False, sample_weight=None,
                 seed=None, data_format=None, save_to_dir=None, save_prefix="", save_format="png",
                 subset=None, ignore_class_split=False, dtype=None):
        owner = "ImageDataGenerator.flow"
        if data_format not in (None, "channels_last"):
            raise param_error("data_format", owner, "'channels_last'", data_format)
        if save_to_dir is not None:
            raise param_error("save_to_dir", owner, "None (saving augmented images is not supported)",
                              save_to_dir)
        self.dtype = floatx() if dtype is None else np.dtype(dtype).name
        if isinstance(x, (tuple, list)):
            if len(x) != 2:
                raise ValueError(f"The 'x' argument of {owner} must be an array of images or a pair "
                                 f"(images, other_inputs). Got a {type(x).__name__} of {len(x)} items.")
            misc = x[1] if isinstance(x[1], list) else [x[1]]
            x_misc = [np.asarray(m) for m in misc]
            x = x[0]
        else:
            x_misc = []
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"The 'x' argument of {owner} must be images of rank 4 (n, height, width, "
                             f"channels). Got an array of shape {x.shape} instead.")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"The 'x' argument of {owner} must be numeric. Got dtype {x.dtype} instead.")
        _warn_channels(x.shape, owner)
        for name, other in [("y", y), ("sample_weight", sample_weight)] + [("x", m) for m in x_misc]:
            if other is not None and len(other) != len(x):
                raise ValueError(f"The {name!r} argument of {owner} must hold one entry per image ({len(x)}). "
                                 f"Got {len(other)} instead.")
        y = None if y is None else np.asarray(y)
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        if subset is not None:
            if subset not in ("training", "validation"):
                raise param_error("subset", owner, "None, 'training' or 'validation'", subset)
            split = int(len(x) * image_data_generator._validation_split)
            if split == 0 or split == len(x):
                raise ValueError(
                    f"The 'subset' argument of {owner} needs a validation_split of the ImageDataGenerator "
                    f"that leaves samples in both subsets. Got validation_split="
                    f"{image_data_generator._validation_split!r} with {len(x)} samples."
                )
            if y is not None and not ignore_class_split and not np.array_equal(
                np.unique(y[:split]), np.unique(y[split:])
            ):
                raise ValueError(
                    "Training and validation subsets have different classes after the split; if the "
                    "arrays are sorted by label, shuffle them first (or pass ignore_class_split=True)."
                )
            part = slice(0, split) if subset == "validation" else slice(split, None)
            x = x[part]
            x_misc = [m[part] for m in x_misc]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        self.x = x
        self.x_misc = x_misc
        self.y = y
        self.sample_weight = sample_weight
        self.image_data_generator = image_data_generator
        self.data_format = "channels_last"
        self.subset = subset
        super().__init__(x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = self._transform(self.x.take(index_array, axis=0).astype(self.dtype, copy=False))
        if self.x_misc:
            batch_x = [batch_x] + [m.take(index_array, axis=0) for m in self.x_misc]
        if self.y is None:
            return batch_x
        output = (batch_x, self.y.take(index_array, axis=0))
        if self.sample_weight is not None:
            output += (self.sample_weight.take(index_array, axis=0),)
        return output


WHITE_LIST_FORMATS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
_CLASS_MODES = ("categorical", "binary", "sparse", "input", None)


class _FilesIterator(Iterator):
    """Augmented batches of image files (``filepaths``, ``classes`` / ``labels``); Keras's ``BatchFromFilesMixin``."""

    def _set_processing_attrs(self, owner, image_data_generator, target_size, color_mode, data_format,
                              save_to_dir, save_prefix, save_format, subset, interpolation,
                              keep_aspect_ratio, dtype):
        pil_image(owner)
        if data_format not in (None, "channels_last"):
            raise param_error("data_format", owner, "'channels_last'", data_format)
        self.image_data_generator = image_data_generator
        self.target_size = check_size(target_size, "target_size", owner)
        self.color_mode = color_mode
        self.image_shape = self.target_size + (check_color_mode(color_mode, owner),)
        self.data_format = "channels_last"
        if interpolation not in PIL_INTERPOLATIONS:
            raise param_error("interpolation", owner, "one of " + ", ".join(map(repr, PIL_INTERPOLATIONS)),
                              interpolation)
        self.interpolation = interpolation
        self.keep_aspect_ratio = bool(keep_aspect_ratio)
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        self._saved = 0
        self.dtype = floatx() if dtype is None else np.dtype(dtype).name
        self.subset = subset
        self.split = None
        if subset is not None:
            if subset not in ("training", "validation"):
                raise param_error("subset", owner, "None, 'training' or 'validation'", subset)
            split = getattr(image_data_generator, "_validation_split", 0.0)
            if not split:
                raise ValueError(f"The 'subset' argument of {owner} needs a validation_split in the "
                                 f"ImageDataGenerator. Got validation_split={split!r}.")
            self.split = (0.0, split) if subset == "validation" else (split, 1.0)

    @property
    def filepaths(self):
        """The paths of the image files, in sample order."""
        return self._filepaths

    @property
    def labels(self):
        """The target of every sample (class indices, or the raw / multi-output targets)."""
        return self.classes

    @property
    def sample_weight(self):
        return None

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.empty((len(index_array),) + self.image_shape, dtype=self.dtype)
        paths = self.filepaths
        for i, j in enumerate(index_array):
            img = load_img(paths[j], color_mode=self.color_mode, target_size=self.target_size,
                           interpolation=self.interpolation, keep_aspect_ratio=self.keep_aspect_ratio)
            batch_x[i] = img_to_array(img, dtype=self.dtype)
            img.close()
        if self.image_data_generator is not None:
            batch_x = self._transform(batch_x)
        if self.save_to_dir:
            for i, j in enumerate(index_array):
                name = f"{self.save_prefix}_{j}_{self._saved}.{self.save_format}"
                save_img(os.path.join(self.save_to_dir, name), batch_x[i], scale=True)
                self._saved += 1
        return self._targets_for(batch_x, index_array)

    def _targets_for(self, batch_x, index_array):
        mode = self.class_mode
        if mode is None:
            return batch_x
        if mode == "input":
            batch_y = batch_x.copy()
        elif mode in ("binary", "sparse"):
            batch_y = np.asarray(self.classes)[index_array].astype(self.dtype)
        elif mode == "categorical":
            batch_y = np.zeros((len(index_array), len(self.class_indices)), dtype=self.dtype)
            if isinstance(self.classes, np.ndarray):
                batch_y[np.arange(len(index_array)), self.classes[index_array]] = 1
            else:  # multi-label rows: lists of class indices
                for i, j in enumerate(index_array):
                    batch_y[i, self.classes[j]] = 1
        elif mode == "multi_output":
            batch_y = [output[index_array] for output in self._targets]
        else:  # raw
            batch_y = self._targets[index_array]
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]


class DirectoryIterator(_FilesIterator):
    """Augmented batches of the images in class folders, as returned by :meth:`ImageDataGenerator.flow_from_directory`.

    Attributes
    ----------
    class_indices : dict
        Class name to class index.
    classes : ndarray of int32
        The class index of every image.
    filenames : list of str
        The image files relative to ``directory``.
    filepaths : list of str
    samples, num_classes : int
    """

    allowed_class_modes = set(_CLASS_MODES)

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb",
                 classes=None, class_mode="categorical", batch_size=32, shuffle=True, seed=None,
                 data_format=None, save_to_dir=None, save_prefix="", save_format="png",
                 follow_links=False, subset=None, interpolation="nearest", keep_aspect_ratio=False,
                 dtype=None):
        owner = "ImageDataGenerator.flow_from_directory"
        if not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory):
            raise param_error("directory", owner, "the path of an existing directory", directory)
        self._set_processing_attrs(owner, image_data_generator, target_size, color_mode, data_format,
                                   save_to_dir, save_prefix, save_format, subset, interpolation,
                                   keep_aspect_ratio, dtype)
        if class_mode not in _CLASS_MODES:
            raise param_error("class_mode", owner, "one of 'categorical', 'binary', 'sparse', 'input', None",
                              class_mode)
        self.directory = os.fspath(directory)
        self.class_mode = class_mode
        if not classes:
            classes = sorted(d for d in os.listdir(self.directory)
                             if os.path.isdir(os.path.join(self.directory, d)))
        else:
            missing = [c for c in classes if not os.path.isdir(os.path.join(self.directory, c))]
            if missing:
                raise ValueError(f"The 'classes' argument of {owner} must name subfolders of "
                                 f"{self.directory!r}. Got missing folders {missing}.")
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.filenames, labels = [], []
        for name in classes:
            found = list_files(os.path.join(self.directory, name), follow_links, WHITE_LIST_FORMATS)
            if self.split is not None:
                found = found[int(self.split[0] * len(found)):int(self.split[1] * len(found))]
            self.filenames.extend(os.path.relpath(p, self.directory) for p in found)
            labels.extend([self.class_indices[name]] * len(found))
        self.classes = np.asarray(labels, dtype=np.int32)
        self.samples = len(self.filenames)
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)


class DataFrameIterator(_FilesIterator):
    """Augmented batches of the images a DataFrame lists, as returned by :meth:`ImageDataGenerator.flow_from_dataframe`.

    Attributes
    ----------
    class_indices : dict
        Class name to class index (label class modes only).
    classes : ndarray of int32 or list
        The class index of every image (lists of indices for multi-label rows).
    filenames, filepaths : list of str
    samples : int
    """

    allowed_class_modes = {"binary", "categorical", "input", "multi_output", "raw", "sparse", None}

    def __init__(self, dataframe, directory=None, image_data_generator=None, x_col="filename", y_col="class",
                 weight_col=None, target_size=(256, 256), color_mode="rgb", classes=None,
                 class_mode="categorical", batch_size=32, shuffle=True, seed=None, data_format="channels_last",
                 save_to_dir=None, save_prefix="", save_format="png", subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype="float32", validate_filenames=True):
        owner = "ImageDataGenerator.flow_from_dataframe"
        self._set_processing_attrs(owner, image_data_generator, target_size, color_mode, data_format,
                                   save_to_dir, save_prefix, save_format, subset, interpolation,
                                   keep_aspect_ratio, dtype)
        if not hasattr(dataframe, "columns") or not hasattr(dataframe, "iloc"):
            raise param_error("dataframe", owner, "a pandas DataFrame", type(dataframe).__name__, TypeError)
        if class_mode not in self.allowed_class_modes:
            raise param_error("class_mode", owner, "one of 'binary', 'categorical', 'input', 'multi_output', "
                              "'raw', 'sparse', None", class_mode)
        self.class_mode = class_mode
        self.directory = "" if directory is None else os.fspath(directory)
        df = dataframe.copy()
        labelled = class_mode in ("binary", "categorical", "sparse")
        self._check_params(owner, df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            paths = [os.path.join(self.directory, f) for f in df[x_col]]
            keep = np.array([p.lower().endswith(WHITE_LIST_FORMATS) and os.path.isfile(p) for p in paths],
                            dtype=bool)
            if not keep.all():
                warnings.warn(f"Found {int((~keep).sum())} invalid image filename(s) in x_col={x_col!r}. "
                              "These filename(s) will be ignored.", UserWarning, stacklevel=3)
            df = df[keep]
        self.classes = None
        if labelled:
            df, classes = self._filter_classes(df, y_col, classes)
            self.class_indices = dict(zip(classes, range(len(classes))))
        if self.split is not None:
            n = len(df)
            df = df.iloc[int(self.split[0] * n):int(self.split[1] * n)]
        if labelled:
            ids = [[self.class_indices[c] for c in v] if isinstance(v, (list, tuple))
                   else self.class_indices[v] for v in df[y_col]]
            multi = any(isinstance(v, list) for v in ids)
            self.classes = ids if multi else np.asarray(ids, dtype=np.int32)
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].to_numpy() if weight_col else None
        if class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]
        elif class_mode == "raw":
            self._targets = df[y_col].to_numpy()
        self.samples = len(self.filenames)
        validated = "validated" if validate_filenames else "non-validated"
        print(f"Found {self.samples} {validated} image filenames"
              + (f" belonging to {len(self.class_indices)} classes." if labelled else "."))
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _check_params(self, owner, df, x_col, y_col, weight_col, classes):
        mode = self.class_mode
        if mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(f"The 'y_col' argument of {owner} must be a list of columns with "
                            f"class_mode='multi_output'. Got {type(y_col).__name__} instead.")
        columns = [x_col] + ([] if mode in ("input", None) else (y_col if isinstance(y_col, list) else [y_col]))
        columns += [weight_col] if weight_col else []
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"The dataframe of {owner} has no column(s) {missing}: its columns are "
                             f"{list(df.columns)}.")
        if not all(isinstance(v, str) for v in df[x_col]):
            raise TypeError(f"All values in column x_col={x_col!r} of {owner} must be strings.")
        if mode in ("binary", "sparse") and not all(isinstance(v, str) for v in df[y_col]):
            raise TypeError(f"With class_mode={mode!r}, the values of column y_col={y_col!r} of {owner} "
                            "must be strings.")
        if mode == "binary":
            n = len(set(classes)) if classes else df[y_col].nunique()
            if n != 2:
                raise ValueError(f"class_mode='binary' needs exactly 2 classes. Got {n}.")
        if mode == "categorical" and not all(isinstance(v, (str, list, tuple)) for v in df[y_col]):
            raise TypeError(f"With class_mode='categorical', the values of column y_col={y_col!r} of "
                            f"{owner} must be strings, lists or tuples.")
        if classes and mode in ("input", "multi_output", "raw", None):
            warnings.warn(f"classes will be ignored given the class_mode={mode!r}.", UserWarning, stacklevel=4)
        if weight_col and not np.issubdtype(df[weight_col].dtype, np.number):
            raise TypeError(f"Column weight_col={weight_col!r} of {owner} must be numeric.")

    @staticmethod
    def _filter_classes(df, y_col, classes):
        """Keep the rows of ``classes`` (default: all, sorted); the classes in label order."""
        if classes:
            classes = list(dict.fromkeys(classes))
            wanted = set(classes)

            def keep(v):
                if isinstance(v, (list, tuple)):
                    return [c for c in v if c in wanted] or None
                return v if v in wanted else None

            df = df.copy()
            df[y_col] = df[y_col].apply(keep)
        else:
            found = set()
            for v in df[y_col]:
                found.update(v if isinstance(v, (list, tuple)) else [v])
            classes = sorted(found)
        return df.dropna(subset=[y_col]), classes

    @property
    def labels(self):
        if self.class_mode in ("multi_output", "raw"):
            return self._targets
        return self.classes

    @property
    def sample_weight(self):
        return self._sample_weight
