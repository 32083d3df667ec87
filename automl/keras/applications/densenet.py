"""DenseNet121, DenseNet169 and DenseNet201 (``keras.applications.densenet``): Huang et al.,
*Densely Connected Convolutional Networks* (CVPR 2017). Inputs are preprocessed in
``"torch"`` mode.
"""

from __future__ import annotations

from .. import layers
from . import _common, imagenet_utils

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "decode_predictions",
           "preprocess_input"]

_URL = _common.BASE_URL + "densenet/"
_HASHES = {
    "densenet121": ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    "densenet169": ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    "densenet201": ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
_EPS = 1.001e-5


def _conv_block(x, growth_rate, name):
    x1 = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, x1])


def _transition_block(x, reduction, name):
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def build_densenet(owner, blocks, weights_name, include_top, weights, input_tensor, input_shape,
                   pooling, classes, classifier_activation, name):
    """A DenseNet with ``blocks[i]`` convolution blocks in dense block ``i + 2``."""
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = _common.obtain_input_shape(owner, input_shape, 224, 32, include_top, weights)
    img_input = _common.image_input(owner, input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, n in enumerate(blocks, start=2):
        for i in range(1, n + 1):
            x = _conv_block(x, 32, name=f"conv{stage}_block{i}")
        if stage < 5:
            x = _transition_block(x, 0.5, name=f"pool{stage}")
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = _common.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation,
                                      weights, owner)
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    imagenet = (file_name, _URL + file_name, _HASHES[weights_name][0 if include_top else 1])
    return _common.finish(img_input, input_tensor, x, name, weights, imagenet)


_DOC = """Instantiate the {name} architecture, as ``keras.applications.{name}``.

    Parameters
    ----------
    include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation
        As for :func:`~automl.keras.applications.VGG16` (inputs at least 32x32).
    name : str, default="{default}"

    Returns
    -------
    Model
"""


def _constructor(ctor_name, blocks, weights_name):
    def ctor(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name=weights_name):
        return build_densenet(ctor_name, blocks, weights_name, include_top, weights, input_tensor,
                              input_shape, pooling, classes, classifier_activation, name)

    ctor.__name__ = ctor.__qualname__ = ctor_name
    ctor.__doc__ = _DOC.format(name=ctor_name, default=weights_name)
    return ctor


DenseNet121 = _constructor("DenseNet121", (6, 12, 24, 16), "densenet121")
DenseNet121.__doc__ += """
    Examples
    --------
    >>> from automl.keras.applications import DenseNet121
    >>> DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 1024)
    """
DenseNet169 = _constructor("DenseNet169", (6, 12, 32, 32), "densenet169")
DenseNet201 = _constructor("DenseNet201", (6, 12, 48, 32), "densenet201")


def preprocess_input(x, data_format=None):
    """Preprocess images for DenseNet (``"torch"`` mode: [0, 1], standardized per channel)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
