"""VGG16 (``keras.applications.vgg16``): Simonyan & Zisserman, *Very Deep Convolutional Networks
for Large-Scale Image Recognition* (ICLR 2015). Inputs are preprocessed in "caffe" mode.
"""

from __future__ import annotations

from . import _common, imagenet_utils
from ._vgg import build_vgg

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]

_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels"
_IMAGENET = {
    True: (f"{_FILE}.h5", f"{_common.BASE_URL}vgg16/{_FILE}.h5", "64373286793e3c8b2b4e3219cbf3544b"),
    False: (f"{_FILE}_notop.h5", f"{_common.BASE_URL}vgg16/{_FILE}_notop.h5",
            "6d6bbae143d832006294945121d1f1fc"),
}


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    """Instantiate the VGG16 architecture, as ``keras.applications.VGG16``.

    Parameters
    ----------
    include_top : bool, default=True
        Include the three fully connected layers (``flatten``, ``fc1``,
        ``fc2``, ``predictions``); the input must then be 224x224 with
        ImageNet weights.
    weights : None, "imagenet" or path, default="imagenet"
        Random initialization, Keras's published ImageNet weights (downloaded
        once through :func:`~automl.keras.utils.get_file`, verified by their
        hash), or a local weights file (``.h5`` or ``.weights.h5``).
    input_tensor : KerasTensor, optional
        Use this tensor as the image input.
    input_shape : tuple of 3 ints, optional
        ``(rows, cols, channels)``, at least 32x32; ``(224, 224, 3)`` by
        default with a top, ``(None, None, 3)`` without.
    pooling : {None, "avg", "max"}, optional
        Without a top: global pooling of the last block's output.
    classes : int, default=1000
        Number of classes (1000 with ImageNet weights and a top).
    classifier_activation : str or callable, default="softmax"
        Activation of ``predictions`` (None or "softmax" with pretrained weights).
    name : str, default="vgg16"

    Returns
    -------
    Model

    Examples
    --------
    >>> from automl.keras.applications import VGG16
    >>> model = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
    >>> model.output_shape
    (None, 512)
    """
    return build_vgg("VGG16", (2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape, pooling,
                     classes, classifier_activation, name, _IMAGENET)


def preprocess_input(x, data_format=None):
    """Preprocess images for VGG16 (``"caffe"`` mode: BGR, minus the ImageNet means)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
