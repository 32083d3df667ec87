"""EfficientNetB0 to B7 (``keras.applications.efficientnet``): Tan & Le, *EfficientNet:
Rethinking Model Scaling for Convolutional Neural Networks* (ICML 2019).

The models normalize their inputs themselves (``Rescaling`` and
``Normalization`` layers): they take pixels in [0, 255], and
:func:`preprocess_input` returns its input.
"""

from __future__ import annotations

import math

from .. import layers
from . import _common, imagenet_utils

__all__ = [f"EfficientNetB{i}" for i in range(8)] + ["decode_predictions", "preprocess_input"]

_URL = "https://storage.googleapis.com/keras-applications/"
_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
# (width coefficient, depth coefficient, default size, dropout rate) of B0..B7
_SCALING = {
    0: (1.0, 1.0, 224, 0.2), 1: (1.0, 1.1, 240, 0.2), 2: (1.1, 1.2, 260, 0.3),
    3: (1.2, 1.4, 300, 0.3), 4: (1.4, 1.8, 380, 0.4), 5: (1.6, 2.2, 456, 0.4),
    6: (1.8, 2.6, 528, 0.5), 7: (2.0, 3.1, 600, 0.5),
}
# (kernel size, repeats, filters in, filters out, expand ratio, strides) of the seven stages;
# every block has a squeeze-and-excite ratio of 0.25 and an identity skip where shapes allow.
_STAGES = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
           (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
           (3, 1, 192, 320, 6, 1))
_CONV_INIT = {"class_name": "VarianceScaling",
              "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
_DENSE_INIT = {"class_name": "VarianceScaling",
               "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}
_IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


def _block(inputs, activation, drop_rate, name, filters_in, filters_out, kernel_size, strides,
           expand_ratio, se_ratio=0.25):
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False,
                          kernel_initializer=_CONV_INIT, name=f"{name}expand_conv")(inputs)
        x = layers.BatchNormalization(axis=3, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    else:
        x = inputs
    if strides == 2:
        x = layers.ZeroPadding2D(padding=_common.correct_pad(x, kernel_size),
                                 name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides,
                               padding="valid" if strides == 2 else "same", use_bias=False,
                               depthwise_initializer=_CONV_INIT, name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    filters_se = max(1, int(filters_in * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                       kernel_initializer=_CONV_INIT, name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                       kernel_initializer=_CONV_INIT, name=f"{name}se_expand")(se)
    x = layers.multiply([x, se], name=f"{name}se_excite")
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False,
                      kernel_initializer=_CONV_INIT, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def _efficientnet(variant, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name, drop_connect_rate=0.2, depth_divisor=8,
                  activation="swish"):
    owner = f"EfficientNetB{variant}"
    width, depth, default_size, dropout_rate = _SCALING[variant]
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = _common.obtain_input_shape(owner, input_shape, default_size, 32, include_top,
                                             weights)
    img_input = _common.image_input(owner, input_tensor, input_shape)

    def round_filters(filters):
        filters *= width
        new = max(depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor)
        if new < 0.9 * filters:  # never round down by more than 10%
            new += depth_divisor
        return int(new)

    def round_repeats(repeats):
        return int(math.ceil(depth * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    norm = layers.Normalization(axis=3)
    x = norm(x)
    # As in Keras, the un-adapted statistics (mean 0, variance 1) are the model's own weights
    # until a weight file replaces them: give them explicitly so that the layer runs.
    norm.set_weights(norm.get_weights())
    if weights == "imagenet":
        # The published weights expect (x - mean) / variance: divide once more by the std.
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in _IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=_common.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=_CONV_INIT, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=3, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    total = float(sum(round_repeats(stage[1]) for stage in _STAGES))
    b = 0
    for i, (kernel, repeats, f_in, f_out, expand, strides) in enumerate(_STAGES):
        f_in, f_out = round_filters(f_in), round_filters(f_out)
        for j in range(round_repeats(repeats)):
            x = _block(x, activation, drop_connect_rate * b / total, f"block{i + 1}{chr(j + 97)}_",
                       f_in if j == 0 else f_out, f_out, kernel, strides if j == 0 else 1, expand)
            b += 1
    x = layers.Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
                      kernel_initializer=_CONV_INIT, name="top_conv")(x)
    x = layers.BatchNormalization(axis=3, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        _common.validate_activation(owner, classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=_DENSE_INIT, name="predictions")(x)
    else:
        x = _common.pooling_only(x, pooling)
    key = f"b{variant}"
    file_name = name + (".h5" if include_top else "_notop.h5")
    imagenet = (file_name, _URL + file_name, _HASHES[key][0 if include_top else 1])
    return _common.finish(img_input, input_tensor, x, name, weights, imagenet)


_DOC = """Instantiate the EfficientNetB{i} architecture, as ``keras.applications.EfficientNetB{i}``.

    Parameters
    ----------
    include_top, weights, input_tensor, pooling, classes, classifier_activation
        As for :func:`~automl.keras.applications.VGG16`; the input is at least
        32x32 and {size}x{size} with a top and ImageNet weights.
    input_shape : tuple of 3 ints, optional
    name : str, default="efficientnetb{i}"
        Also the stem of the published weight file's name.

    Returns
    -------
    Model
"""


def _constructor(variant):
    def ctor(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax",
             name=f"efficientnetb{variant}"):
        return _efficientnet(variant, include_top, weights, input_tensor, input_shape, pooling,
                             classes, classifier_activation, name)

    ctor.__name__ = ctor.__qualname__ = f"EfficientNetB{variant}"
    ctor.__doc__ = _DOC.format(i=variant, size=_SCALING[variant][2])
    return ctor


EfficientNetB0 = _constructor(0)
EfficientNetB0.__doc__ += """
    Examples
    --------
    >>> from automl.keras.applications import EfficientNetB0
    >>> EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3),
    ...                pooling="avg").output_shape
    (None, 1280)
    """
EfficientNetB1 = _constructor(1)
EfficientNetB2 = _constructor(2)
EfficientNetB3 = _constructor(3)
EfficientNetB4 = _constructor(4)
EfficientNetB5 = _constructor(5)
EfficientNetB6 = _constructor(6)
EfficientNetB7 = _constructor(7)


def preprocess_input(x, data_format=None):
    """Return ``x`` unchanged: EfficientNet models normalize their inputs themselves."""
    return x


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
