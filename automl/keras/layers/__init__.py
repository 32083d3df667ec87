"""Layers (``automl.keras.layers``)."""

from ._activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from ._attention import AdditiveAttention, Attention
from ._augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from ._base import LAYERS, KerasTensor, Layer, Variable
from ._conv import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Convolution1D,
    Convolution2D,
    Convolution2DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
    SeparableConvolution2D,
)
from ._core import Activation, Dropout, Flatten
from ._dense import Dense
from ._embedding import Embedding
from ._input import Input, InputLayer
from ._masking import Masking
from ._merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from ._multi_head_attention import MultiHeadAttention
from ._noise import AlphaDropout, GaussianDropout, GaussianNoise
from ._normalization import BatchNormalization, LayerNormalization
from ._pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from ._recurrent import GRU, LSTM, SimpleRNN
from ._reshaping import Permute, RepeatVector, Reshape
from ._rnn_wrappers import Bidirectional, TimeDistributed, Wrapper
from ._spatial import Cropping2D, SpatialDropout1D, SpatialDropout2D, UpSampling2D, ZeroPadding2D

__all__ = [
    "AdditiveAttention",
    "Attention",
    "MultiHeadAttention",
    "Bidirectional",
    "Embedding",
    "GRU",
    "LSTM",
    "Masking",
    "SimpleRNN",
    "TimeDistributed",
    "Wrapper",
    "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "Convolution1D", "Convolution2D", "Convolution2DTranspose", "SeparableConvolution2D",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
    "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "MaxPool1D", "MaxPool2D",
    "Cropping2D", "SpatialDropout1D", "SpatialDropout2D", "UpSampling2D", "ZeroPadding2D",
    "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax",
    "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom",
    "Add", "AlphaDropout", "Average", "BatchNormalization", "Concatenate", "Dot",
    "GaussianDropout", "GaussianNoise", "LayerNormalization", "Maximum", "Minimum",
    "Multiply", "Permute", "RepeatVector", "Reshape", "Subtract",
    "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
    "LAYERS",
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "Variable",
    "get",
    "serialize",
    "deserialize",
]


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None) -> Layer:
    return LAYERS.deserialize(config, custom_objects=custom_objects)


def get(identifier, custom_objects=None) -> Layer:
    return LAYERS.get(identifier, custom_objects=custom_objects, allow_callable=False)
