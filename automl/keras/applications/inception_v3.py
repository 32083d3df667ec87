"""InceptionV3 (``keras.applications.inception_v3``): Szegedy et al., *Rethinking the Inception
Architecture for Computer Vision* (CVPR 2016). Inputs are preprocessed in ``"tf"`` mode.

The convolutions keep Keras's automatic layer names (``conv2d``, ``conv2d_1``, ...), so the
published weights load by topological order.
"""

from __future__ import annotations

from .. import layers
from . import _common, imagenet_utils

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]

_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels"
_URL = _common.BASE_URL + "inception_v3/"
_IMAGENET = {
    True: (f"{_FILE}.h5", f"{_URL}{_FILE}.h5", "9a0d58056eeedaa3f26cb7ebd46da564"),
    False: (f"{_FILE}_notop.h5", f"{_URL}{_FILE}_notop.h5", "bcbd6486424b2319ff4ef7d526e38f63"),
}


def _conv_bn(x, filters, rows, cols, padding="same", strides=(1, 1)):
    x = layers.Conv2D(filters, (rows, cols), strides=strides, padding=padding, use_bias=False)(x)
    x = layers.BatchNormalization(axis=3, scale=False)(x)
    return layers.Activation("relu")(x)


def _avg_branch(x, filters):
    return _conv_bn(layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x),
                    filters, 1, 1)


def _block_35(x, pool_filters, name):
    b1 = _conv_bn(x, 64, 1, 1)
    b5 = _conv_bn(_conv_bn(x, 48, 1, 1), 64, 5, 5)
    b3 = _conv_bn(_conv_bn(_conv_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
    return layers.concatenate([b1, b5, b3, _avg_branch(x, pool_filters)], axis=3, name=name)


def _block_17(x, width, name):
    b1 = _conv_bn(x, 192, 1, 1)
    b7 = _conv_bn(_conv_bn(_conv_bn(x, width, 1, 1), width, 1, 7), 192, 7, 1)
    d = _conv_bn(x, width, 1, 1)
    for filters, rows, cols in ((width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)):
        d = _conv_bn(d, filters, rows, cols)
    return layers.concatenate([b1, b7, d, _avg_branch(x, 192)], axis=3, name=name)


def _block_8(x, i):
    b1 = _conv_bn(x, 320, 1, 1)
    b3 = _conv_bn(x, 384, 1, 1)
    b3 = layers.concatenate([_conv_bn(b3, 384, 1, 3), _conv_bn(b3, 384, 3, 1)], axis=3,
                            name=f"mixed9_{i}")
    d = _conv_bn(_conv_bn(x, 448, 1, 1), 384, 3, 3)
    d = layers.concatenate([_conv_bn(d, 384, 1, 3), _conv_bn(d, 384, 3, 1)], axis=3)
    return layers.concatenate([b1, b3, d, _avg_branch(x, 192)], axis=3, name=f"mixed{9 + i}")


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None,  # noqa: N802
                input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
                name="inception_v3"):
    """Instantiate the InceptionV3 architecture, as ``keras.applications.InceptionV3``.

    Parameters
    ----------
    include_top, weights, input_tensor, pooling, classes, classifier_activation
        As for :func:`~automl.keras.applications.VGG16`.
    input_shape : tuple of 3 ints, optional
        At least 75x75; ``(299, 299, 3)`` with a top and ImageNet weights.
    name : str, default="inception_v3"

    Returns
    -------
    Model

    Examples
    --------
    >>> from automl.keras.applications import InceptionV3
    >>> InceptionV3(weights=None, include_top=False, input_shape=(75, 75, 3)).output_shape
    (None, 1, 1, 2048)
    """
    owner = "InceptionV3"
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = _common.obtain_input_shape(owner, input_shape, 299, 75, include_top, weights)
    img_input = _common.image_input(owner, input_tensor, input_shape)
    x = _conv_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = _conv_bn(x, 32, 3, 3, padding="valid")
    x = _conv_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _conv_bn(x, 80, 1, 1, padding="valid")
    x = _conv_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _block_35(x, 32, "mixed0")
    x = _block_35(x, 64, "mixed1")
    x = _block_35(x, 64, "mixed2")
    b3 = _conv_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    d = _conv_bn(_conv_bn(_conv_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, strides=(2, 2),
                 padding="valid")
    x = layers.concatenate([b3, d, layers.MaxPooling2D((3, 3), strides=(2, 2))(x)], axis=3,
                           name="mixed3")
    x = _block_17(x, 128, "mixed4")
    x = _block_17(x, 160, "mixed5")
    x = _block_17(x, 160, "mixed6")
    x = _block_17(x, 192, "mixed7")
    b3 = _conv_bn(_conv_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    b7 = _conv_bn(_conv_bn(_conv_bn(x, 192, 1, 1), 192, 1, 7), 192, 7, 1)
    b7 = _conv_bn(b7, 192, 3, 3, strides=(2, 2), padding="valid")
    x = layers.concatenate([b3, b7, layers.MaxPooling2D((3, 3), strides=(2, 2))(x)], axis=3,
                           name="mixed8")
    x = _block_8(x, 0)
    x = _block_8(x, 1)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        _common.validate_activation(owner, classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooling_only(x, pooling, (None, None))
    return _common.finish(img_input, input_tensor, x, name, weights, _IMAGENET[include_top])


def preprocess_input(x, data_format=None):
    """Preprocess images for InceptionV3 (``"tf"`` mode: scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
