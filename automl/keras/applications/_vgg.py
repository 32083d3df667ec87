"""The VGG builder that ``vgg16`` and ``vgg19`` share: blocks of 3x3 convolutions and max pooling."""

from __future__ import annotations

from .. import layers
from . import _common

__all__ = ["build_vgg"]

_WIDTHS = (64, 128, 256, 512, 512)


def build_vgg(owner, convs_per_block, include_top, weights, input_tensor, input_shape, pooling,
              classes, classifier_activation, name, imagenet_files):
    """A VGG network with ``convs_per_block[i]`` convolutions in block ``i + 1``.

    ``imagenet_files`` maps ``include_top`` to the ``(file, url, hash)`` of
    the published weights.
    """
    _common.check_arguments(owner, weights, include_top, classes, pooling)
    input_shape = _common.obtain_input_shape(owner, input_shape, 224, 32, include_top, weights)
    img_input = _common.image_input(owner, input_tensor, input_shape)
    x = img_input
    for block, (width, n) in enumerate(zip(_WIDTHS, convs_per_block), start=1):
        for i in range(1, n + 1):
            x = layers.Conv2D(width, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        _common.validate_activation(owner, classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooling_only(x, pooling, (None, None))
    return _common.finish(img_input, input_tensor, x, name, weights, imagenet_files[include_top])
