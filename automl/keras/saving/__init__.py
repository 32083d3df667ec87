"""Saving and loading models and weights (``automl.keras.saving``), in Keras's file formats.

``save_model`` writes Keras 3's ``.keras`` archive (or Keras's legacy ``.h5``);
``load_model`` / ``load_weights`` read Keras 3 archives and ``.weights.h5``
files, legacy ``.h5`` files of Keras 2, tf.keras and Keras 3, and archives of
earlier automl versions, safely (no code runs, sizes are bounded). See
:mod:`automl.keras.saving._saving` for the formats, ``_keras_config`` and
``_weights_h5`` for Keras's config and weight layouts, ``_bounded`` for the
limits, and :mod:`automl.keras.saving._object_registration` for custom objects.
"""

from ._object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from ._saving import (
    clone_model,
    load_model,
    load_weights,
    model_from_json,
    save_model,
    save_weights,
    to_json,
)
from ._serialization import deserialize_keras_object, serialize_keras_object

__all__ = [
    "CustomObjectScope",
    "clone_model",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "model_from_json",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
    "to_json",
]
