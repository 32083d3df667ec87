"""Conv3DTranspose, DepthwiseConv1D and SeparableConv1D: loop references, adjoints, gradients, configs."""

import math

import numpy as np
import pytest

from automl.keras import Input, Sequential, layers, utils
from automl.keras.layers import LAYERS, Conv3D, Conv3DTranspose, DepthwiseConv1D, SeparableConv1D
from automl.testing import check_layer_gradients, floatx_scope


def _pad_1d(x, kernel, stride, dilation, padding):
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        total = max((math.ceil(x.shape[1] / stride) - 1) * stride + effective - x.shape[1], 0)
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    return x, (x.shape[1] - effective) // stride + 1


def naive_depthwise1d(x, kernel, stride, dilation, padding):
    """Explicit loop: out[n, t, c * M + m] = sum_k x[n, t * s + k * d, c] * kernel[k, c, m]."""
    k, c, mult = kernel.shape
    x, steps = _pad_1d(x, k, stride, dilation, padding)
    out = np.zeros((x.shape[0], steps, c * mult))
    for t in range(steps):
        for ch in range(c):
            for m in range(mult):
                out[:, t, ch * mult + m] = sum(x[:, t * stride + i * dilation, ch] * kernel[i, ch, m]
                                               for i in range(k))
    return out


def _set(layer, **weights):
    for name, value in weights.items():
        getattr(layer, name).value[...] = value


@pytest.mark.parametrize("padding,stride,dilation,mult", [
    ("valid", 1, 1, 1), ("same", 2, 1, 3), ("valid", 1, 2, 2), ("same", 1, 3, 1),
])
def test_depthwise_conv1d_matches_loop(padding, stride, dilation, mult):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 11, 3))
    with floatx_scope("float64"):
        layer = DepthwiseConv1D(3, strides=stride, padding=padding, depth_multiplier=mult, dilation_rate=dilation,
                                bias_initializer="ones")
        layer(np.zeros(x.shape))
        kernel = rng.normal(size=(3, 3, mult))
        _set(layer, kernel=kernel)
        out = layer(x)
    assert layer.kernel.value.shape == (3, 3, mult)
    np.testing.assert_allclose(out, naive_depthwise1d(x, kernel, stride, dilation, padding) + 1.0, atol=1e-12)
    assert out.shape == layer.compute_output_shape(x.shape)


@pytest.mark.parametrize("padding,stride,dilation", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2)])
def test_separable_conv1d_is_depthwise_then_pointwise(padding, stride, dilation):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 9, 4))
    with floatx_scope("float64"):
        layer = SeparableConv1D(5, 3, strides=stride, padding=padding, dilation_rate=dilation, depth_multiplier=2,
                                activation="relu", bias_initializer="ones")
        layer(np.zeros(x.shape))
        dw, pw = rng.normal(size=(3, 4, 2)), rng.normal(size=(1, 8, 5))
        _set(layer, depthwise_kernel=dw, pointwise_kernel=pw)
        out = layer(x)
    assert layer.pointwise_kernel.value.shape == (1, 8, 5)
    expected = np.maximum(naive_depthwise1d(x, dw, stride, dilation, padding) @ pw[0] + 1.0, 0.0)
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_one_d_layers_agree_with_two_d_on_unit_height():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 8, 3))
    with floatx_scope("float64"):
        d1, d2 = DepthwiseConv1D(3, padding="same", depth_multiplier=2), layers.DepthwiseConv2D((1, 3), padding="same",
                                                                                                depth_multiplier=2)
        d1(np.zeros(x.shape))
        d2(np.zeros((2, 1, 8, 3)))
        d2.kernel.value[...] = d1.kernel.value[None]
        np.testing.assert_allclose(d1(x), d2(x[:, None])[:, 0], atol=1e-12)


@pytest.mark.parametrize("kernel,strides,padding", [
    ((2, 3, 2), (2, 1, 2), "same"), ((3, 2, 2), (1, 2, 1), "valid"), ((2, 2, 2), (2, 2, 2), "valid"),
])
def test_conv3d_transpose_is_adjoint_of_conv3d(kernel, strides, padding):
    """<conv3d(u), x> == <u, conv3d_transpose(x)> with the same kernel (no bias)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 4, 3, 5))
    with floatx_scope("float64"):
        tr = Conv3DTranspose(2, kernel, strides=strides, padding=padding, use_bias=False)
        y = tr(x)
        assert y.shape == tr.compute_output_shape(x.shape)
        conv = Conv3D(5, kernel, strides=strides, padding=padding, use_bias=False)
        conv(np.zeros(y.shape))
        conv.kernel.value[...] = tr.kernel.value  # (*kernel, 2, 5) in both layouts
        u = rng.normal(size=y.shape)
        cu = conv(u)
    assert cu.shape == x.shape
    np.testing.assert_allclose(np.vdot(cu, x), np.vdot(u, y), rtol=1e-10)


def test_conv3d_transpose_shapes_and_output_padding():
    assert Conv3DTranspose(4, 2, strides=2).compute_output_shape((None, 10, 8, 12, 3)) == (None, 20, 16, 24, 4)
    layer = Conv3DTranspose(4, 3, strides=2, padding="same", output_padding=(1, 0, 1))
    assert layer(np.ones((1, 3, 4, 5, 2), dtype="float32")).shape == (1, 6, 7, 10, 4)
    assert layer.kernel.value.shape == (3, 3, 3, 4, 2)
    with pytest.raises(ValueError, match="output_padding"):
        Conv3DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="channels_last"):
        DepthwiseConv1D(3, data_format="channels_first")


@pytest.mark.parametrize("make,shape", [
    (lambda: DepthwiseConv1D(3, strides=2, padding="same", depth_multiplier=2, activation="tanh"), (2, 7, 3)),
    (lambda: SeparableConv1D(4, 3, dilation_rate=2, depth_multiplier=2, activation="sigmoid"), (2, 9, 3)),
    (lambda: Conv3DTranspose(3, (2, 3, 2), strides=(2, 1, 2), padding="same", activation="tanh"), (2, 3, 3, 2, 2)),
    (lambda: Conv3DTranspose(2, 2, strides=(1, 2, 1), output_padding=(0, 1, 0)), (1, 2, 3, 2, 3)),
], ids=["depthwise1d", "separable1d", "conv3d_transpose", "conv3d_transpose_output_padding"])
def test_gradients_float64(make, shape):
    errors = check_layer_gradients(make, shape)
    assert len(errors) >= 3


@pytest.mark.parametrize("name,layer", [
    ("DepthwiseConv1D", DepthwiseConv1D(3, strides=2, depth_multiplier=2, padding="same",
                                        depthwise_regularizer="l2")),
    ("SeparableConvolution1D", SeparableConv1D(4, 5, dilation_rate=2, pointwise_constraint="non_neg")),
    ("Convolution3DTranspose", Conv3DTranspose(3, (1, 2, 3), strides=(1, 2, 1), output_padding=(0, 1, 0),
                                               activation="relu")),
])
def test_config_round_trip_and_registry(name, layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    resolved = LAYERS.get({"class_name": name, "config": config})
    assert type(resolved) is type(layer) and resolved.get_config() == config
    assert getattr(layers._conv, name) is type(layer)


def test_separable_conv1d_model_fits():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 12, 2)).astype("float32")
    y = (x[:, 2:, 0] - x[:, :-2, 1]).mean(axis=1, keepdims=True).astype("float32")
    model = Sequential([Input(shape=(12, 2)), SeparableConv1D(4, 3, activation="tanh"),
                        DepthwiseConv1D(3, depth_multiplier=2), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
