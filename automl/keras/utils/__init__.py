"""Utilities (``automl.keras.utils``, mirrors ``keras.utils``)."""

from ..backend import set_random_seed
from ..callbacks import Progbar
from ..saving import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from ._data_adapter_utils import pack_x_y_sample_weight, unpack_x_y_sample_weight
from ._file_utils import get_file
from ._image_dataset import image_dataset_from_directory
from ._model_visualization import model_to_dot, plot_model
from ._numerical_utils import normalize
from ._py_dataset import PyDataset, Sequence
from ._sequence_utils import pad_sequences
from ._text_dataset import text_dataset_from_directory
from ._timeseries_dataset import timeseries_dataset_from_array
from ._utils import to_categorical
from .dataset_utils import split_dataset
from .image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = [
    "CustomObjectScope",
    "Progbar",
    "PyDataset",
    "Sequence",
    "array_to_img",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_file",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "model_to_dot",
    "get_registered_name",
    "get_registered_object",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "plot_model",
    "register_keras_serializable",
    "save_img",
    "serialize_keras_object",
    "set_random_seed",
    "split_dataset",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]
