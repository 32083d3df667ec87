"""ResNet50V2, ResNet101V2 and ResNet152V2 (``keras.applications.resnet_v2``): He et al.,
*Identity Mappings in Deep Residual Networks* (ECCV 2016), pre-activation residual blocks.
Inputs are preprocessed in ``"tf"`` mode (scaled to [-1, 1]).
"""

from __future__ import annotations

from . import imagenet_utils
from .resnet import resnet_constructor

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "decode_predictions", "preprocess_input"]

ResNet50V2 = resnet_constructor("ResNet50V2", (3, 4, 6, 3), True, "resnet50v2", """
    Examples
    --------
    >>> from automl.keras.applications import ResNet50V2
    >>> ResNet50V2(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 2048)
    """)
ResNet101V2 = resnet_constructor("ResNet101V2", (3, 4, 23, 3), True, "resnet101v2")
ResNet152V2 = resnet_constructor("ResNet152V2", (3, 8, 36, 3), True, "resnet152v2")


def preprocess_input(x, data_format=None):
    """Preprocess images for ResNetV2 (``"tf"`` mode: scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decode ImageNet predictions; see :func:`.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
