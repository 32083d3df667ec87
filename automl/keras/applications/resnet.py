"""ResNet50, ResNet101 and ResNet152 (``keras.applications.resnet``): He et al., *Deep Residual
Learning for Image Recognition* (CVPR 2015). Inputs are preprocessed in ``"caffe"`` mode.

:func:`build_resnet` is also the builder of :mod:`.resnet_v2` (``preact=True``).
"""

from __future__ import annotations

from .. import layers
from . import _common, imagenet_utils

__all__ = ["ResNet50", "ResNet101", "ResNet152", "decode_predictions", "preprocess_input"]

_URL = _common.BASE_URL + "resnet/"
# (with top, without top) md5 hashes of Keras's published files
_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}
_EPS = 1.001e-5


def _bn(x, name):
    return layers.BatchNormalization(axis=3, epsilon=_EPS, name=name)(x)


def _block_v1(x, filters, stride=1, conv_shortcut=True, name=None):
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = _bn(x, f"{name}_3_bn")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _stack_v1(x, filters, blocks, stride1=2, name=None):
    x = _block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = _block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _block_v2(x, filters, stride=1, conv_shortcut=False, name=None):
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(_bn(x, f"{name}_preact_bn"))
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def _stack_v2(x, filters, blocks, stride1=2, name=None):
    x = _block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = _block_v2(x, filters, name=f"{name}_block{i}")
    return _block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def build_resnet(owner, blocks, preact, weights_name, include_top, weights, input_tensor,
                 input_shape, pooling, classes, classifier_activation, name):
    """A ResNet with ``blocks`` residual blocks in stages conv2..conv5 (v2 when ``preact``)."""
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = _common.obtain_input_shape(owner, input_shape, 224, 32, include_top, weights)
    img_input = _common.image_input(owner, input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    if not preact:
        x = layers.Activation("relu", name="conv1_relu")(_bn(x, "conv1_bn"))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, n) in enumerate(zip((64, 128, 256, 512), blocks), start=2):
        if preact:
            x = _stack_v2(x, filters, n, stride1=1 if stage == 5 else 2, name=f"conv{stage}")
        else:
            x = _stack_v1(x, filters, n, stride1=1 if stage == 2 else 2, name=f"conv{stage}")
    if preact:
        x = layers.Activation("relu", name="post_relu")(_bn(x, "post_bn"))
    x = _common.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation,
                                      weights, owner)
    suffix = "" if include_top else "_notop"
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    imagenet = (file_name, _URL + file_name, _HASHES[weights_name][0 if include_top else 1])
    return _common.finish(img_input, input_tensor, x, name, weights, imagenet)


_DOC = """Instantiate the {name} architecture, as ``keras.applications.{name}``.

    Parameters
    ----------
    include_top : bool, default=True
        Include global average pooling and the 1000-way ``predictions`` layer.
    weights : None, "imagenet" or path, default="imagenet"
        Random initialization, Keras's published ImageNet weights (downloaded
        once through :func:`~automl.keras.utils.get_file`, verified by their
        hash), or a local weights file.
    input_tensor : KerasTensor, optional
    input_shape : tuple of 3 ints, optional
        At least 32x32; ``(224, 224, 3)`` with a top and ImageNet weights.
    pooling : {{None, "avg", "max"}}, optional
        Without a top: global pooling of the last stage's output.
    classes : int, default=1000
    classifier_activation : str or callable, default="softmax"
    name : str, default="{default}"

    Returns
    -------
    Model
    """


def resnet_constructor(ctor_name, blocks, preact, weights_name, module_doc_example=""):
    """A Keras-style constructor (``ResNet50``, ``ResNet50V2``...) over :func:`build_resnet`."""
    def ctor(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name=weights_name):
        return build_resnet(ctor_name, blocks, preact, weights_name, include_top, weights,
                            input_tensor, input_shape, pooling, classes, classifier_activation,
                            name)

    ctor.__name__ = ctor.__qualname__ = ctor_name
    ctor.__doc__ = _DOC.format(name=ctor_name, default=weights_name) + module_doc_example
    return ctor


ResNet50 = resnet_constructor("ResNet50", (3, 4, 6, 3), False, "resnet50", """
    Examples
    --------
    >>> from automl.keras.applications import ResNet50
    >>> model = ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
    >>> model.output_shape
    (None, 2048)
    """)
ResNet101 = resnet_constructor("ResNet101", (3, 4, 23, 3), False, "resnet101")
ResNet152 = resnet_constructor("ResNet152", (3, 8, 36, 3), False, "resnet152")


def preprocess_input(x, data_format=None):
    """Preprocess images for ResNet (``"caffe"`` mode: BGR, minus the ImageNet means)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
