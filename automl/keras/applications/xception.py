"""Xception (``keras.applications.xception``): Chollet, *Xception: Deep Learning with
Depthwise Separable Convolutions* (CVPR 2017). Inputs are preprocessed in ``"tf"`` mode.
"""

from __future__ import annotations

from .. import layers
from . import _common, imagenet_utils

__all__ = ["Xception", "decode_predictions", "preprocess_input"]

_FILE = "xception_weights_tf_dim_ordering_tf_kernels"
_URL = _common.BASE_URL + "xception/"
_IMAGENET = {
    True: (f"{_FILE}.h5", f"{_URL}{_FILE}.h5", "0a58e3b7378bc2990ea3b43d5981f1f6"),
    False: (f"{_FILE}_notop.h5", f"{_URL}{_FILE}_notop.h5", "b0042744bf5b25fce3cb969f33bebb97"),
}


def _sep_bn(x, filters, name):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x)


def _residual(x, filters):
    r = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return layers.BatchNormalization(axis=-1)(r)


def _pool(x, name):
    return layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=name)(x)


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
             pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    """Instantiate the Xception architecture, as ``keras.applications.Xception``.

    Parameters
    ----------
    include_top, weights, input_tensor, pooling, classes, classifier_activation
        As for :func:`~automl.keras.applications.VGG16`.
    input_shape : tuple of 3 ints, optional
        At least 71x71; ``(299, 299, 3)`` with a top and ImageNet weights.
    name : str, default="xception"

    Returns
    -------
    Model

    Examples
    --------
    >>> from automl.keras.applications import Xception
    >>> Xception(weights=None, include_top=False, input_shape=(71, 71, 3)).output_shape
    (None, 3, 3, 2048)
    """
    owner = "Xception"
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = _common.obtain_input_shape(owner, input_shape, 299, 71, include_top, weights)
    img_input = _common.image_input(owner, input_tensor, input_shape)
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=-1, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)

    residual = _residual(x, 128)
    x = _sep_bn(x, 128, "block2_sepconv1")
    x = layers.Activation("relu", name="block2_sepconv2_act")(x)
    x = _sep_bn(x, 128, "block2_sepconv2")
    x = layers.add([_pool(x, "block2_pool"), residual])
    for block, filters in ((3, 256), (4, 728)):
        residual = _residual(x, filters)
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
        x = _sep_bn(x, filters, f"block{block}_sepconv1")
        x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
        x = _sep_bn(x, filters, f"block{block}_sepconv2")
        x = layers.add([_pool(x, f"block{block}_pool"), residual])
    for block in range(5, 13):
        residual = x
        for i in (1, 2, 3):
            x = layers.Activation("relu", name=f"block{block}_sepconv{i}_act")(x)
            x = _sep_bn(x, 728, f"block{block}_sepconv{i}")
        x = layers.add([x, residual])
    residual = _residual(x, 1024)
    x = layers.Activation("relu", name="block13_sepconv1_act")(x)
    x = _sep_bn(x, 728, "block13_sepconv1")
    x = layers.Activation("relu", name="block13_sepconv2_act")(x)
    x = _sep_bn(x, 1024, "block13_sepconv2")
    x = layers.add([_pool(x, "block13_pool"), residual])
    x = layers.Activation("relu", name="block14_sepconv1_act")(_sep_bn(x, 1536, "block14_sepconv1"))
    x = layers.Activation("relu", name="block14_sepconv2_act")(_sep_bn(x, 2048, "block14_sepconv2"))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        _common.validate_activation(owner, classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooling_only(x, pooling, (None, None))
    return _common.finish(img_input, input_tensor, x, name, weights, _IMAGENET[include_top])


def preprocess_input(x, data_format=None):
    """Preprocess images for Xception (``"tf"`` mode: scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
