"""What every application builder shares: argument checks, the input, the head and the weights.

Each architecture module builds its layers and calls :func:`check_arguments`
and :func:`image_input` first, then :func:`classifier_or_pooling` and
:func:`finish`, so that the errors, the input shape rules, the pooling options
and the weight loading (``weights="imagenet"`` through :func:`get_file` with
the published hash, or a local path) are the same for all families.
"""

from __future__ import annotations

import os

from ..._validation import param_error
from .. import activations, layers
from ..layers import KerasTensor
from ..models import Model
from ..utils import get_file

__all__ = [
    "check_arguments",
    "classifier_or_pooling",
    "correct_pad",
    "fetch_weights",
    "finish",
    "image_input",
    "obtain_input_shape",
    "validate_activation",
]


def check_arguments(owner, weights, include_top, classes, pooling=None):
    """Raise a one-line error for a bad ``weights``, ``classes`` or ``pooling``."""
    if not (weights is None or weights == "imagenet"
            or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise param_error("weights", owner,
                          "None, 'imagenet' or the path of an existing weights file", weights)
    if weights == "imagenet" and include_top and classes != 1000:
        raise param_error("classes", owner,
                          "1000 when weights='imagenet' and include_top=True", classes)
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise param_error("classes", owner, "a positive int", classes)
    if pooling not in (None, "avg", "max"):
        raise param_error("pooling", owner, "None, 'avg' or 'max'", pooling)


def validate_activation(owner, classifier_activation, weights):
    """Pretrained heads allow only ``None`` or ``"softmax"``, as Keras."""
    if weights is None:
        return
    fn = activations.get(classifier_activation)
    if fn not in (activations.get("softmax"), activations.get(None)):
        raise param_error("classifier_activation", owner,
                          "None or 'softmax' with pretrained weights", classifier_activation)


def obtain_input_shape(owner, input_shape, default_size, min_size, require_flatten, weights):
    """The input shape Keras's ``obtain_input_shape`` gives (channels_last).

    ``require_flatten`` (``include_top``) with ImageNet weights fixes the shape
    to ``(default_size, default_size, 3)``; otherwise a given shape must have
    three entries and spatial sizes of at least ``min_size``, and a missing one
    becomes the default size with a top, ``(None, None, 3)`` without.
    """
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise param_error("input_shape", owner,
                              f"{default_shape} with include_top=True and weights='imagenet'",
                              input_shape)
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise param_error("input_shape", owner, "a tuple of three integers", input_shape)
        if input_shape[-1] != 3 and weights == "imagenet":
            raise param_error("input_shape", owner, "3 channels with weights='imagenet'",
                              input_shape)
        if any(s is not None and s < min_size for s in input_shape[:2]):
            raise param_error("input_shape", owner,
                              f"at least {min_size}x{min_size} pixels", input_shape)
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (None, None, 3)
    if require_flatten and None in input_shape:
        raise param_error("input_shape", owner,
                          "fully defined with include_top=True", input_shape)
    return input_shape


def image_input(owner, input_tensor, input_shape):
    """The model's image tensor: ``input_tensor`` when given, else a new ``Input``."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise param_error("input_tensor", owner, "a KerasTensor (the output of Input or a layer)",
                          type(input_tensor).__name__, TypeError)
    return input_tensor


def _source_inputs(tensor):
    found, stack, seen = [], [tensor], set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if isinstance(t.layer, layers.InputLayer):
            found.append(t)
        stack.extend(reversed(t.inputs))
    return found[0] if len(found) == 1 else found


def correct_pad(tensor, kernel_size):
    """Zero padding that makes a stride-2 ``valid`` convolution centred as TensorFlow's ``same``."""
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    rows, cols = tensor.shape[1:3]
    adjust = (1, 1) if rows is None else (1 - rows % 2, 1 - cols % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def classifier_or_pooling(x, include_top, pooling, classes, classifier_activation, weights,
                          owner, pool_names=("avg_pool", "max_pool")):
    """Keras's usual top: global average pooling and a ``predictions`` Dense, or the pooling.

    ``pool_names`` are the names of the pooling layers (``None`` for Keras's
    automatic names, as VGG and MobileNet use).
    """
    if include_top:
        x = layers.GlobalAveragePooling2D(name=pool_names[0])(x)
        validate_activation(owner, classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return pooling_only(x, pooling, pool_names)


def pooling_only(x, pooling, pool_names=("avg_pool", "max_pool")):
    """The ``pooling`` option of a headless model."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=pool_names[0])(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=pool_names[1])(x)
    return x


BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def fetch_weights(file_name, origin, file_hash=None):
    """The path of a published weight file, downloaded once into the ``models`` cache."""
    return get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)


def finish(img_input, input_tensor, outputs, name, weights, imagenet_file=None):
    """Make the model and load its weights.

    ``imagenet_file`` is ``(file_name, origin, file_hash)`` of the published
    weights (used when ``weights="imagenet"``); any other non-None ``weights``
    is a local file.
    """
    inputs = _source_inputs(input_tensor) if input_tensor is not None else img_input
    model = Model(inputs, outputs, name=name)
    if weights == "imagenet":
        model.load_weights(fetch_weights(*imagenet_file))
    elif weights is not None:
        model.load_weights(os.fspath(weights))
    return model
