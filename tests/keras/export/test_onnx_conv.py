"""ONNX export of convolution and pooling layers (channels-last inputs, dynamic batch)."""

import pytest

from automl.keras import Input, Model, Sequential, layers, utils
from tests.keras.export.onnx_helpers import random_input, randomize_weights

utils.set_random_seed(0)


_CONV2D = [
    dict(filters=4, kernel_size=3),
    dict(filters=4, kernel_size=3, padding="same"),
    dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"),
    dict(filters=4, kernel_size=(2, 3), strides=(2, 1), padding="valid"),
    dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"),
    dict(filters=4, kernel_size=2, dilation_rate=(1, 2)),
    dict(filters=6, kernel_size=3, groups=2, padding="same"),
    dict(filters=4, kernel_size=4, strides=3, padding="same", activation="relu"),
    dict(filters=3, kernel_size=1, use_bias=False, activation="softmax"),
]


@pytest.mark.parametrize("kwargs", _CONV2D, ids=str)
def test_conv2d(kwargs, rng, check_onnx):
    model = Sequential([Input(shape=(9, 8, 4)), layers.Conv2D(**kwargs)])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 9, 8, 4))


_CONV1D = [
    dict(filters=4, kernel_size=3),
    dict(filters=4, kernel_size=3, padding="same", strides=2),
    dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2),
    dict(filters=4, kernel_size=2, padding="causal"),
    dict(filters=4, kernel_size=3, groups=2, activation="tanh"),
]


@pytest.mark.parametrize("kwargs", _CONV1D, ids=str)
def test_conv1d(kwargs, rng, check_onnx):
    model = Sequential([Input(shape=(11, 4)), layers.Conv1D(**kwargs)])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 11, 4))


def test_conv_with_unknown_spatial_size(rng, check_onnx):
    model = Sequential([Input(shape=(None, None, 2)), layers.Conv2D(3, 3, strides=2, padding="same"),
                        layers.GlobalAveragePooling2D()])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 2, 9, 7, 2))
    check_onnx(model, random_input(rng, 2, 6, 10, 2))


def test_conv3d(rng, check_onnx):
    model = Sequential([Input(shape=(5, 6, 4, 2)), layers.Conv3D(3, 2, padding="same", strides=(1, 2, 1))])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 2, 5, 6, 4, 2))


@pytest.mark.parametrize(
    "layer",
    [
        layers.DepthwiseConv2D(3),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", strides=2),
        layers.DepthwiseConv2D(2, dilation_rate=2, activation="relu"),
        layers.SeparableConv2D(5, 3),
        layers.SeparableConv2D(5, 3, depth_multiplier=2, padding="same", strides=2, activation="relu"),
        layers.SeparableConv2D(5, 2, use_bias=False, dilation_rate=2),
    ],
    ids=lambda layer: f"{type(layer).__name__}-{layer.padding}-{layer.strides}",
)
def test_depthwise_and_separable_2d(layer, rng, check_onnx):
    model = Sequential([Input(shape=(8, 7, 3)), layer])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 8, 7, 3))


@pytest.mark.parametrize(
    "layer",
    [
        layers.DepthwiseConv1D(3, depth_multiplier=2),
        layers.DepthwiseConv1D(3, padding="same", strides=2),
        layers.SeparableConv1D(4, 3, padding="same"),
        layers.SeparableConv1D(4, 3, depth_multiplier=3, strides=2),
    ],
    ids=lambda layer: f"{type(layer).__name__}-{layer.padding}-{layer.strides}",
)
def test_depthwise_and_separable_1d(layer, rng, check_onnx):
    model = Sequential([Input(shape=(10, 3)), layer])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 10, 3))


@pytest.mark.parametrize(
    "layer",
    [
        layers.MaxPooling2D(2),
        layers.MaxPooling2D(3, strides=2, padding="same"),
        layers.MaxPooling2D((2, 3), strides=1),
        layers.AveragePooling2D(2),
        layers.AveragePooling2D(3, strides=2, padding="same"),
        layers.AveragePooling2D((3, 2), strides=(1, 2), padding="same"),
        layers.GlobalMaxPooling2D(),
        layers.GlobalAveragePooling2D(),
        layers.GlobalAveragePooling2D(keepdims=True),
        layers.ZeroPadding2D(((1, 2), (0, 1))),
        layers.Cropping2D(((1, 0), (2, 1))),
        layers.UpSampling2D((2, 3)),
        layers.Flatten(),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_pooling_and_spatial_2d(layer, rng, check_onnx):
    model = Sequential([Input(shape=(7, 8, 3)), layer])
    check_onnx(model, random_input(rng, 3, 7, 8, 3))


@pytest.mark.parametrize(
    "layer",
    [
        layers.MaxPooling1D(2),
        layers.MaxPooling1D(3, strides=2, padding="same"),
        layers.AveragePooling1D(3, padding="same"),
        layers.AveragePooling1D(2, strides=1),
        layers.GlobalMaxPooling1D(),
        layers.GlobalAveragePooling1D(),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_pooling_1d(layer, rng, check_onnx):
    model = Sequential([Input(shape=(9, 3)), layer])
    check_onnx(model, random_input(rng, 3, 9, 3))


def test_small_cnn_after_training(rng, check_onnx):
    model = Sequential([
        Input(shape=(8, 8, 1)),
        layers.Rescaling(1.0 / 16),
        layers.Conv2D(6, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.SeparableConv2D(8, 3, activation="relu"),
        layers.SpatialDropout2D(0.2),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.integers(0, 17, size=(32, 8, 8, 1)).astype("float32")
    model.fit(x, rng.integers(0, 3, size=32), epochs=2, verbose=0)
    check_onnx(model, x)


def test_conv_branches_in_a_functional_model(rng, check_onnx):
    inputs = Input(shape=(8, 8, 2))
    a = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    b = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(inputs)
    merged = layers.Add()([a, b])
    pooled = layers.GlobalMaxPooling2D()(layers.AveragePooling2D(2)(merged))
    model = Model(inputs, layers.Dense(2)(pooled))
    check_onnx(model, random_input(rng, 4, 8, 8, 2))




_TRANSPOSED = [
    dict(filters=3, kernel_size=3),
    dict(filters=3, kernel_size=3, strides=2),
    dict(filters=3, kernel_size=3, strides=2, padding="same"),
    dict(filters=3, kernel_size=4, strides=2, padding="same", activation="relu"),
    dict(filters=3, kernel_size=3, strides=2, padding="same", output_padding=0),
    dict(filters=3, kernel_size=2, strides=3, padding="valid", output_padding=2),
    dict(filters=3, kernel_size=3, dilation_rate=2, padding="same"),
    dict(filters=2, kernel_size=(2, 3), strides=(1, 2), use_bias=False),
]


@pytest.mark.parametrize("kwargs", _TRANSPOSED, ids=str)
def test_conv2d_transpose(kwargs, rng, check_onnx):
    model = Sequential([Input(shape=(5, 6, 2)), layers.Conv2DTranspose(**kwargs)])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 5, 6, 2))


@pytest.mark.parametrize("kwargs", [dict(filters=3, kernel_size=3, strides=2, padding="same"),
                                    dict(filters=2, kernel_size=3, strides=2, output_padding=1)], ids=str)
def test_conv1d_and_3d_transpose(kwargs, rng, check_onnx):
    model = Sequential([Input(shape=(7, 2)), layers.Conv1DTranspose(**kwargs)])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 7, 2))
    model = Sequential([Input(shape=(3, 4, 3, 2)), layers.Conv3DTranspose(**kwargs)])
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 2, 3, 4, 3, 2))


@pytest.mark.parametrize(
    "layer",
    [layers.Resizing(4, 5), layers.Resizing(12, 9), layers.Resizing(6, 6, interpolation="nearest"),
     layers.Resizing(4, 8, crop_to_aspect_ratio=True), layers.Resizing(5, 3, pad_to_aspect_ratio=True, fill_value=1.0),
     layers.Resizing(7, 8), layers.CenterCrop(3, 4), layers.CenterCrop(9, 6), layers.RandomCrop(5, 6),
     layers.RandomCrop(7, 8), layers.RandomCrop(9, 4)],
    ids=lambda layer: f"{type(layer).__name__}-{layer.height}x{layer.width}",
)
def test_resizing_and_center_crop(layer, rng, check_onnx):
    model = Sequential([Input(shape=(7, 8, 2)), layer])
    check_onnx(model, random_input(rng, 2, 7, 8, 2))


@pytest.mark.parametrize(
    "layer",
    [layers.MaxPooling3D(2), layers.AveragePooling3D(2, strides=1, padding="same"), layers.GlobalMaxPooling3D(),
     layers.GlobalAveragePooling3D(keepdims=True), layers.ZeroPadding3D(1), layers.Cropping3D(((1, 0), (0, 1), (1, 1))),
     layers.UpSampling3D((1, 2, 2)), layers.SpatialDropout3D(0.3)],
    ids=lambda layer: type(layer).__name__,
)
def test_3d_layers(layer, rng, check_onnx):
    model = Sequential([Input(shape=(4, 5, 6, 2)), layer])
    check_onnx(model, random_input(rng, 2, 4, 5, 6, 2))
