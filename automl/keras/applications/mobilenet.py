"""MobileNet (``keras.applications.mobilenet``): Howard et al., *MobileNets: Efficient
Convolutional Neural Networks for Mobile Vision Applications* (2017). Inputs are preprocessed
in ``"tf"`` mode (scaled to [-1, 1]).
"""

from __future__ import annotations

import warnings

from ..._validation import param_error
from .. import layers
from . import _common, imagenet_utils

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

_URL = _common.BASE_URL + "mobilenet/"
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
# (pointwise filters, strides) of depthwise blocks 1..13
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
           (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def _depthwise_block(x, filters, alpha, depth_multiplier, strides, block_id):
    if strides != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == 1 else "valid",
                               depth_multiplier=depth_multiplier, strides=(strides, strides),
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(filters * alpha), (1, 1), padding="same", use_bias=False,
                      strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3,  # noqa: N802
              include_top=True, weights="imagenet", input_tensor=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=None):
    """Instantiate the MobileNet architecture, as ``keras.applications.MobileNet``.

    Parameters
    ----------
    input_shape : tuple of 3 ints, optional
        At least 32x32. ImageNet weights exist for square inputs of 128, 160,
        192 or 224 pixels (other sizes load the 224 weights, with a warning).
    alpha : float, default=1.0
        Width multiplier of every layer (0.25, 0.5, 0.75 or 1.0 with ImageNet weights).
    depth_multiplier : int, default=1
        Depthwise channels per input channel (1 with ImageNet weights).
    dropout : float, default=1e-3
        Dropout rate before the classifier.
    include_top, weights, input_tensor, pooling, classes, classifier_activation
        As for :func:`~automl.keras.applications.VGG16`.
    name : str, optional
        ``"mobilenet_{alpha:.2f}_{rows}"`` when None.

    Returns
    -------
    Model

    Examples
    --------
    >>> from automl.keras.applications import MobileNet
    >>> model = MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=10)
    >>> model.output_shape, model.name
    ((None, 10), 'mobilenet_0.25_32')
    """
    owner = "MobileNet"
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    default_size = 224
    if input_shape is not None and input_shape[0] == input_shape[1] \
            and input_shape[0] in (128, 160, 192, 224):
        default_size = input_shape[0]
    elif input_shape is None and input_tensor is not None:
        rows, cols = input_tensor.shape[1:3]
        if rows == cols and rows in (128, 160, 192, 224):
            default_size = rows
    input_shape = _common.obtain_input_shape(owner, input_shape, default_size, 32, include_top,
                                             weights)
    rows, cols = input_shape[:2]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise param_error("depth_multiplier", owner, "1 with weights='imagenet'",
                              depth_multiplier)
        if alpha not in _ALPHA_TEXT:
            raise param_error("alpha", owner, "one of 0.25, 0.5, 0.75, 1.0 with "
                              "weights='imagenet'", alpha)
        if rows != cols or rows not in (128, 160, 192, 224):
            rows = 224
            warnings.warn("input_shape is undefined or not square with 128, 160, 192 or 224 "
                          "rows: the weights for 224x224 inputs are loaded.", stacklevel=2)
    img_input = _common.image_input(owner, input_tensor, input_shape)
    x = layers.Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2),
                      name="conv1")(img_input)
    x = layers.BatchNormalization(axis=-1, name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, strides) in enumerate(_BLOCKS, start=1):
        x = _depthwise_block(x, filters, alpha, depth_multiplier, strides, block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        _common.validate_activation(owner, classifier_activation, weights)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    else:
        x = _common.pooling_only(x, pooling, (None, None))
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    imagenet = None
    if weights == "imagenet":
        file_name = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{'' if include_top else '_no_top'}.h5"
        imagenet = (file_name, _URL + file_name, None)
    return _common.finish(img_input, input_tensor, x, name, weights, imagenet)


def preprocess_input(x, data_format=None):
    """Preprocess images for MobileNet (``"tf"`` mode: scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
