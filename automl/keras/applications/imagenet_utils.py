"""ImageNet input preprocessing and prediction decoding (``keras.applications.imagenet_utils``).

``preprocess_input`` implements the three conventions the pretrained models
were trained with: ``"caffe"`` (RGB to BGR, minus the ImageNet channel means,
no scaling), ``"tf"`` (scaled to [-1, 1]) and ``"torch"`` (scaled to [0, 1],
then standardized with the ImageNet channel means and standard deviations).
``decode_predictions`` maps class scores to ``(wordnet id, name, score)``
using Keras's published class-index file, fetched once through
:func:`automl.keras.utils.get_file` and verified by its hash.
"""

from __future__ import annotations

import json

import numpy as np

from ..._validation import param_error
from .. import config
from ..layers import KerasTensor
from ..utils import get_file

__all__ = ["CLASS_INDEX_PATH", "decode_predictions", "preprocess_input"]

CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocess a batch of images (values in [0, 255]) the way a pretrained model expects.

    Parameters
    ----------
    x : ndarray or KerasTensor
        3D or 4D images with 3 colour channels. A float NumPy array is
        modified in place (pass a copy to keep it); integer arrays are cast to
        float32 first.
    data_format : {"channels_last", "channels_first"}, optional
        Where the channel axis is; the engine's
        :func:`~automl.keras.config.image_data_format` when None.
    mode : {"caffe", "tf", "torch"}, default="caffe"
        ``"caffe"``: RGB to BGR, then minus the ImageNet means per channel;
        ``"tf"``: ``x / 127.5 - 1``; ``"torch"``: ``x / 255`` standardized with
        the ImageNet means and standard deviations.

    Returns
    -------
    ndarray or KerasTensor

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.applications.imagenet_utils import preprocess_input
    >>> preprocess_input(np.full((1, 1, 1, 3), 255.0), mode="tf").ravel().tolist()
    [1.0, 1.0, 1.0]
    >>> preprocess_input(np.zeros((1, 1, 3)), mode="caffe").round(3).ravel().tolist()
    [-103.939, -116.779, -123.68]
    """
    if mode not in ("caffe", "tf", "torch"):
        raise param_error("mode", "preprocess_input", "one of 'caffe', 'tf', 'torch'", mode)
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in ("channels_first", "channels_last"):
        raise param_error("data_format", "preprocess_input",
                          "'channels_first' or 'channels_last'", data_format)
    if isinstance(x, KerasTensor):
        return _preprocess_symbolic(x, data_format, mode)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(config.floatx())
    if x.ndim not in (3, 4):
        raise param_error("x", "preprocess_input", "a 3D or 4D array of images",
                          f"an array of shape {x.shape}")
    axis = -1 if data_format == "channels_last" else x.ndim - 3
    if x.shape[axis] != 3:
        raise param_error("x", "preprocess_input", f"3 channels on axis {axis}",
                          f"an array of shape {x.shape}")
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    shape = [1] * x.ndim
    shape[axis] = 3
    if mode == "torch":
        x /= 255.0
        x -= np.reshape(np.asarray(_TORCH_MEAN, x.dtype), shape)
        x /= np.reshape(np.asarray(_TORCH_STD, x.dtype), shape)
        return x
    x = np.flip(x, axis=axis)
    x -= np.reshape(np.asarray(_CAFFE_MEAN_BGR, x.dtype), shape)
    return x


def _preprocess_symbolic(x, data_format, mode):
    from .. import ops

    axis = -1 if data_format == "channels_last" else len(x.shape) - 3
    shape = [1] * len(x.shape)
    shape[axis] = 3
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        mean = np.reshape(np.asarray(_TORCH_MEAN, "float32"), shape)
        std = np.reshape(np.asarray(_TORCH_STD, "float32"), shape)
        return (x / 255.0 - mean) / std
    x = ops.flip(x, axis=axis)
    return x - np.reshape(np.asarray(_CAFFE_MEAN_BGR, "float32"), shape)


def _class_index():
    path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                    file_hash=CLASS_INDEX_HASH)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def decode_predictions(preds, top=5):
    """The ``top`` ImageNet classes of each prediction, best first.

    Parameters
    ----------
    preds : array of shape (samples, 1000)
    top : int, default=5

    Returns
    -------
    list of lists of (wordnet_id, class_name, score) tuples, one list per sample.

    Notes
    -----
    The class-index file ``imagenet_class_index.json`` is downloaded once into
    the ``models`` cache (next to ``$AUTOML_DATA_DIR``); place it there to work
    offline.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise param_error("preds", "decode_predictions", "an array of shape (samples, 1000)",
                          f"an array of shape {preds.shape}")
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise param_error("top", "decode_predictions", "a positive int", top)
    index = _class_index()
    results = []
    for pred in preds:
        best = np.argsort(pred, kind="stable")[::-1][:top]
        results.append([(*index[str(i)], pred[i]) for i in best])
    return results
