"""Layers (``automl.keras.layers``)."""

from ... import _registry
from . import recording
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
from ._base import (
    LAYERS,
    KerasTensor,
    Layer,
    Variable,
    attach_mask,
    record_training,
    symbolic_outputs,
)
from ._conv import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from ._conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from ._core import Activation, ActivityRegularization, Dropout, Flatten, Identity
from ._dense import Dense
from ._einsum_dense import EinsumDense
from ._embedding import Embedding
from ._hashing import Hashing
from ._input import Input, InputLayer
from ._lambda import Lambda
from ._lookup import IntegerLookup, StringLookup
from ._masking import Masking, mask_to_sample_weight
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
from ._normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)
from ._pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from ._preprocessing import (
    CategoryEncoding,
    CenterCrop,
    Discretization,
    Normalization,
    Rescaling,
    Resizing,
)
from ._recurrent import GRU, LSTM, SimpleRNN
from ._reshaping import Permute, RepeatVector, Reshape
from ._rnn_cells import RNN, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ._rnn_wrappers import Bidirectional, TimeDistributed, Wrapper
from ._spatial import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from ._text_vectorization import TextVectorization

__all__ = [
    "AdditiveAttention",
    "Attention",
    "MultiHeadAttention",
    "Bidirectional",
    "Embedding",
    "GRU",
    "LSTM",
    "Masking",
    "attach_mask",
    "mask_to_sample_weight",
    "record_training",
    "recording",
    "symbolic_outputs",
    "SimpleRNN",
    "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "TimeDistributed",
    "Wrapper",
    "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "Convolution1D", "Convolution2D", "Convolution2DTranspose", "SeparableConvolution2D",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
    "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "MaxPool1D", "MaxPool2D",
    "Cropping2D", "SpatialDropout1D", "SpatialDropout2D", "UpSampling2D", "ZeroPadding2D",
    "Conv3D", "Conv1DTranspose", "Convolution3D", "Convolution1DTranspose",
    "Conv3DTranspose", "Convolution3DTranspose", "DepthwiseConv1D", "SeparableConv1D",
    "SeparableConvolution1D",
    "AveragePooling3D", "GlobalAveragePooling3D", "GlobalMaxPooling3D", "MaxPooling3D",
    "AvgPool3D", "GlobalAvgPool3D", "GlobalMaxPool3D", "MaxPool3D",
    "Cropping1D", "Cropping3D", "SpatialDropout3D", "UpSampling1D", "UpSampling3D",
    "ZeroPadding1D", "ZeroPadding3D",
    "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax",
    "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom",
    "Add", "AlphaDropout", "Average", "BatchNormalization", "Concatenate", "Dot",
    "GaussianDropout", "GaussianNoise", "LayerNormalization", "Maximum", "Minimum",
    "Multiply", "Permute", "RepeatVector", "Reshape", "Subtract",
    "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
    "LAYERS",
    "ActivityRegularization", "EinsumDense", "GroupNormalization", "Identity", "Lambda",
    "UnitNormalization",
    "CategoryEncoding", "CenterCrop", "Discretization", "Normalization", "Rescaling", "Resizing",
    "Hashing", "IntegerLookup", "StringLookup", "TextVectorization",
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
    config = {"class_name": type(layer).__name__, "config": layer.get_config()}
    registered = _registry.CUSTOM_NAMES.get(type(layer))
    if registered is not None:  # register_keras_serializable: its "package>name" wins on load
        config["registered_name"] = registered
    return config


def deserialize(config, custom_objects=None) -> Layer:
    return LAYERS.deserialize(config, custom_objects=custom_objects)


def get(identifier, custom_objects=None) -> Layer:
    return LAYERS.get(identifier, custom_objects=custom_objects, allow_callable=False)
