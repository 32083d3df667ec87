"""MobileNetV2 (``keras.applications.mobilenet_v2``): Sandler et al., *MobileNetV2: Inverted
Residuals and Linear Bottlenecks* (CVPR 2018). Inputs are preprocessed in ``"tf"`` mode.
"""

from __future__ import annotations

import warnings

from ..._validation import param_error
from .. import layers
from . import _common, imagenet_utils

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]

_URL = _common.BASE_URL + "mobilenet_v2/"
_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
_SIZES = (96, 128, 160, 192, 224)
# (filters, stride, expansion) of inverted residual blocks 0..16
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
           (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
           (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))


def _make_divisible(v, divisor, min_value=None):
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # never round down by more than 10%
        new_v += divisor
    return new_v


def _bn(x, name):
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)(x)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    in_channels = inputs.shape[-1]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                          activation=None, name=f"{prefix}expand")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(_bn(x, f"{prefix}expand_BN"))
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_common.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(_bn(x, f"{prefix}depthwise_BN"))
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
                      activation=None, name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_BN")
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet",  # noqa: N802
                input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax",
                name=None):
    """Instantiate the MobileNetV2 architecture, as ``keras.applications.MobileNetV2``.

    Parameters
    ----------
    input_shape : tuple of 3 ints, optional
        At least 32x32. ImageNet weights exist for square inputs of 96, 128,
        160, 192 or 224 pixels (other sizes load the 224 weights, with a warning).
    alpha : float, default=1.0
        Width multiplier (0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 with ImageNet weights).
    include_top, weights, input_tensor, pooling, classes, classifier_activation
        As for :func:`~automl.keras.applications.VGG16`.
    name : str, optional
        ``"mobilenetv2_{alpha:.2f}_{rows}"`` when None.

    Returns
    -------
    Model

    Examples
    --------
    >>> from automl.keras.applications import MobileNetV2
    >>> model = MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10)
    >>> model.output_shape, model.name
    ((None, 10), 'mobilenetv2_0.35_96')
    """
    owner = "MobileNetV2"
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    if input_shape is not None and input_tensor is not None \
            and tuple(input_tensor.shape[1:]) != tuple(input_shape):
        raise param_error("input_shape", owner,
                          f"the shape of input_tensor, {tuple(input_tensor.shape[1:])}",
                          input_shape)
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    default_size = 224
    if input_shape is not None and input_shape[0] == input_shape[1] \
            and input_shape[0] in _SIZES:
        default_size = input_shape[0]
    input_shape = _common.obtain_input_shape(owner, input_shape, default_size, 32, include_top,
                                             weights)
    rows, cols = input_shape[:2]
    if weights == "imagenet":
        if alpha not in _ALPHAS:
            raise param_error("alpha", owner, "one of 0.35, 0.5, 0.75, 1.0, 1.3, 1.4 with "
                              "weights='imagenet'", alpha)
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("input_shape is undefined or not square with 96, 128, 160, 192 or 224 "
                          "rows: the weights for 224x224 inputs are loaded.", stacklevel=2)
    img_input = _common.image_input(owner, input_tensor, input_shape)
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2),
                      padding="same", use_bias=False, name="Conv1")(img_input)
    x = layers.ReLU(6.0, name="Conv1_relu")(_bn(x, "bn_Conv1"))
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)
    last = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.ReLU(6.0, name="out_relu")(_bn(x, "Conv_1_bn"))
    x = _common.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation,
                                      weights, owner, pool_names=(None, None))
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    imagenet = None
    if weights == "imagenet":
        stem = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
        file_name = stem + (".h5" if include_top else "_no_top.h5")
        imagenet = (file_name, _URL + file_name, None)
    return _common.finish(img_input, input_tensor, x, name, weights, imagenet)


def preprocess_input(x, data_format=None):
    """Preprocess images for MobileNetV2 (``"tf"`` mode: scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
