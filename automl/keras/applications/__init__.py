"""Standard image architectures with Keras's layer names and weight files (``automl.keras.applications``).

Each family lives in its own public module, as in Keras (``vgg16``, ``resnet``,
``mobilenet_v2``, ...), with its constructors, ``preprocess_input`` and
``decode_predictions``; the constructors are also importable from this package.
``weights="imagenet"`` fetches Keras's published weight files once through
:func:`automl.keras.utils.get_file` (verified by their published hashes, cached
in the ``models`` folder beside ``$AUTOML_DATA_DIR``); ``weights=PATH`` loads a
local ``.h5`` or ``.weights.h5`` file, for machines without internet.

Examples
--------
>>> import numpy as np
>>> from automl.keras import Sequential, layers
>>> from automl.keras.applications import VGG16
>>> base = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
>>> base.trainable = False
>>> model = Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(10, "softmax")])
>>> model.predict(np.zeros((2, 32, 32, 3)), verbose=0).shape
(2, 10)
"""

from . import (
    densenet,
    efficientnet,
    imagenet_utils,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    resnet,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from .densenet import DenseNet121, DenseNet169, DenseNet201
from .efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from .inception_v3 import InceptionV3
from .mobilenet import MobileNet
from .mobilenet_v2 import MobileNetV2
from .mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from .resnet import ResNet50, ResNet101, ResNet152
from .resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from .vgg16 import VGG16
from .vgg19 import VGG19
from .xception import Xception

__all__ = [
    "DenseNet121", "DenseNet169", "DenseNet201",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
    "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
    "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small",
    "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "VGG16", "VGG19", "Xception",
    "densenet", "efficientnet", "imagenet_utils", "inception_v3", "mobilenet", "mobilenet_v2",
    "mobilenet_v3", "resnet", "resnet_v2", "vgg16", "vgg19", "xception",
]
