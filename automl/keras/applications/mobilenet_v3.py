"""MobileNetV3Small and MobileNetV3Large (``keras.applications.mobilenet_v3``): Howard et al.,
*Searching for MobileNetV3* (ICCV 2019).

The models rescale their inputs themselves (``include_preprocessing=True``):
they take pixels in [0, 255], and :func:`preprocess_input` returns its input.
"""

from __future__ import annotations

import warnings

from ..._validation import param_error
from .. import layers
from . import _common, imagenet_utils

__all__ = ["MobileNetV3Large", "MobileNetV3Small", "decode_predictions", "preprocess_input"]

_URL = _common.BASE_URL + "mobilenet_v3/"
_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb",
                             "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7",
                            "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c",
                                         "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7",
                             "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862",
                            "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37",
                                         "cde8136e733e811080d9fcd8a252f7e4"),
}
# (expansion, filters, kernel ("k" = the model's kernel), stride, squeeze-excite, activation
# ("hs" = the model's activation, "re" = relu)) of each inverted residual block
_SMALL = ((1, 16, 3, 2, True, "re"), (72 / 16, 24, 3, 2, False, "re"),
          (88 / 24, 24, 3, 1, False, "re"), (4, 40, "k", 2, True, "hs"),
          (6, 40, "k", 1, True, "hs"), (6, 40, "k", 1, True, "hs"), (3, 48, "k", 1, True, "hs"),
          (3, 48, "k", 1, True, "hs"), (6, 96, "k", 2, True, "hs"), (6, 96, "k", 1, True, "hs"),
          (6, 96, "k", 1, True, "hs"))
_LARGE = ((1, 16, 3, 1, False, "re"), (4, 24, 3, 2, False, "re"), (3, 24, 3, 1, False, "re"),
          (3, 40, "k", 2, True, "re"), (3, 40, "k", 1, True, "re"), (3, 40, "k", 1, True, "re"),
          (6, 80, 3, 2, False, "hs"), (2.5, 80, 3, 1, False, "hs"), (2.3, 80, 3, 1, False, "hs"),
          (2.3, 80, 3, 1, False, "hs"), (6, 112, 3, 1, True, "hs"), (6, 112, 3, 1, True, "hs"),
          (6, 160, "k", 2, True, "hs"), (6, 160, "k", 1, True, "hs"),
          (6, 160, "k", 1, True, "hs"))


def _depth(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # never round down by more than 10%
        new_v += divisor
    return new_v


def _relu(x):
    return layers.ReLU()(x)


def _hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _hard_sigmoid(x):
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _bn(x, name):
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)(x)


def _se_block(inputs, filters, se_ratio, prefix):
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(
        inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation,
                        block_id):
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[-1]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)
        x = activation(_bn(x, f"{prefix}expand_bn"))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_common.correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = activation(_bn(x, f"{prefix}depthwise_bn"))
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
                      name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_bn")
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _mobilenet_v3(owner, blocks, last_point_ch, model_type, input_shape, alpha, minimalistic,
                  include_top, weights, input_tensor, classes, pooling, dropout_rate,
                  classifier_activation, include_preprocessing, name):
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    if input_shape is not None and input_tensor is not None \
            and tuple(input_tensor.shape[1:]) != tuple(input_shape):
        raise param_error("input_shape", owner,
                          f"the shape of input_tensor, {tuple(input_tensor.shape[1:])}",
                          input_shape)
    if input_shape is None:
        input_shape = tuple(input_tensor.shape[1:]) if input_tensor is not None \
            else (None, None, 3)
    rows, cols = input_shape[:2]
    if (rows and rows < 32) or (cols and cols < 32):
        raise param_error("input_shape", owner, "at least 32x32 pixels", input_shape)
    if weights == "imagenet":
        if (alpha not in (0.75, 1.0)) if not minimalistic else alpha != 1.0:
            raise param_error("alpha", owner, "0.75 or 1.0 (1.0 when minimalistic) with "
                              "weights='imagenet'", alpha)
        if rows != cols or rows != 224:
            warnings.warn("input_shape is undefined, not square or not 224x224: the weights "
                          "for 224x224 inputs are loaded.", stacklevel=3)
    img_input = _common.image_input(owner, input_tensor, input_shape)
    if minimalistic:
        kernel, activation, se_ratio = 3, _relu, None
    else:
        kernel, activation, se_ratio = 5, _hard_swish, 0.25
    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="conv")(x)
    x = activation(_bn(x, "conv_bn"))
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(x, expansion, _depth(filters * alpha), kernel if k == "k" else k,
                                stride, se_ratio if se else None,
                                _relu if act == "re" else activation, block_id)
    last_conv_ch = _depth(x.shape[-1] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False,
                      name="conv_1")(x)
    x = activation(_bn(x, "conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True,
                          name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        _common.validate_activation(owner, classifier_activation, weights)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    else:
        x = _common.pooling_only(x, pooling)
    imagenet = None
    if weights == "imagenet":
        model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        suffix = ".h5" if include_top else "_no_top_v2.h5"
        file_name = f"weights_mobilenet_v3_{model_name}{suffix}"
        imagenet = (file_name, _URL + file_name, _HASHES[model_name][0 if include_top else 1])
    return _common.finish(img_input, input_tensor, x, name, weights, imagenet)


_DOC = """Instantiate the {name} architecture, as ``keras.applications.{name}``.

    Parameters
    ----------
    input_shape : tuple of 3 ints, optional
        At least 32x32; ``(None, None, 3)`` when None. ImageNet weights are for
        224x224 inputs.
    alpha : float, default=1.0
        Width multiplier (0.75 or 1.0 with ImageNet weights; 1.0 when minimalistic).
    minimalistic : bool, default=False
        3x3 kernels, ReLU and no squeeze-and-excite blocks.
    include_top, weights, input_tensor, classes, pooling, classifier_activation
        As for :func:`~automl.keras.applications.VGG16`.
    dropout_rate : float, default=0.2
        Dropout before the classifier.
    include_preprocessing : bool, default=True
        Rescale inputs from [0, 255] to [-1, 1] inside the model.
    name : str, default="{name}"

    Returns
    -------
    Model
"""


def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,  # noqa: N802
                     weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                     dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Small"):
    return _mobilenet_v3("MobileNetV3Small", _SMALL, 1024, "small", input_shape, alpha,
                         minimalistic, include_top, weights, input_tensor, classes, pooling,
                         dropout_rate, classifier_activation, include_preprocessing, name)


def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,  # noqa: N802
                     weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                     dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Large"):
    return _mobilenet_v3("MobileNetV3Large", _LARGE, 1280, "large", input_shape, alpha,
                         minimalistic, include_top, weights, input_tensor, classes, pooling,
                         dropout_rate, classifier_activation, include_preprocessing, name)


MobileNetV3Small.__doc__ = _DOC.format(name="MobileNetV3Small") + """
    Examples
    --------
    >>> from automl.keras.applications import MobileNetV3Small
    >>> model = MobileNetV3Small(input_shape=(32, 32, 3), minimalistic=True, weights=None,
    ...                          classes=10)
    >>> model.output_shape
    (None, 10)
    """
MobileNetV3Large.__doc__ = _DOC.format(name="MobileNetV3Large")


def preprocess_input(x, data_format=None):
    """Return ``x`` unchanged: MobileNetV3 models rescale their inputs themselves."""
    return x


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
