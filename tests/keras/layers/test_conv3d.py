"""Conv3D, Conv1DTranspose and the 3-D poolings: loop references, adjoints, gradients, configs, training."""

import math

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, optimizers, utils
from automl.keras.layers import (
    AveragePooling3D,
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv3D,
    Dense,
    Flatten,
    GlobalAveragePooling3D,
    GlobalMaxPooling3D,
    MaxPooling3D,
    _im2col,
)
from automl.testing import check_layer_gradients, floatx_scope

from .helpers import BIAS, assert_model_gradients_and_clone, roundtrip, same_pads


# -- independent references (explicit loops over output positions) ---------------------------------
def naive_conv3d(x, kernel, strides, padding, dilation, groups):
    if padding == "same":
        pads = [same_pads(n, k, s, d) for n, k, s, d in zip(x.shape[1:4], kernel.shape[:3], strides, dilation)]
        x = np.pad(x, ((0, 0), *pads, (0, 0)))
    n, *sizes, c = x.shape
    *ks, cg, f = kernel.shape
    outs = [(size - ((k - 1) * d + 1)) // s + 1 for size, k, s, d in zip(sizes, ks, strides, dilation)]
    fg = f // groups
    out = np.zeros((n, *outs, f))
    for i, j, k in np.ndindex(*outs):
        for o in range(f):
            grp = o // fg
            acc = np.zeros(n)
            for a, b, e in np.ndindex(*ks):
                pixel = x[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1],
                          k * strides[2] + e * dilation[2], grp * cg:(grp + 1) * cg]
                acc += pixel @ kernel[a, b, e, :, o]
            out[:, i, j, k, o] = acc
    return out


def naive_pool3d(x, pool, strides, padding, mode):
    n, *sizes, c = x.shape
    if padding == "same":
        pads = [same_pads(size, p, s, 1) for size, p, s in zip(sizes, pool, strides)]
        outs = [math.ceil(size / s) for size, s in zip(sizes, strides)]
    else:
        pads = [(0, 0)] * 3
        outs = [(size - p) // s + 1 for size, p, s in zip(sizes, pool, strides)]
    out = np.empty((n, *outs, c))
    for idx in np.ndindex(*outs):
        window = tuple(
            slice(max(o * s - before, 0), min(o * s - before + p, size))
            for o, s, (before, _), p, size in zip(idx, strides, pads, pool, sizes)
        )
        values = x[(slice(None), *window)].reshape(n, -1, c)  # only real entries, as Keras does
        out[(slice(None), *idx)] = values.max(axis=1) if mode == "max" else values.mean(axis=1)
    return out


def _built(layer, x):
    layer(x)
    return layer


# -- Conv3D --------------------------------------------------------------------------------------
CONV3D_CASES = {
    "valid_1ch": dict(filters=2, kernel_size=(2, 3, 2)),
    "same_stride": dict(filters=3, kernel_size=3, strides=(2, 1, 2), padding="same"),
    "dilation": dict(filters=2, kernel_size=2, dilation_rate=(1, 2, 1), padding="same"),
    "groups": dict(filters=4, kernel_size=2, groups=2),
}


# 1 and 2 channels take the transposed (few-channel) patch layout, 6 the row-major one.
CASE_CHANNELS = [(case, c) for case in CONV3D_CASES for c in ((2, 6) if case == "groups" else (1, 2, 6))]


@pytest.mark.parametrize("case,channels", CASE_CHANNELS)
def test_conv3d_matches_loops(case, channels, float64):
    kwargs = CONV3D_CASES[case]
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 4, channels))
    layer = _built(Conv3D(**kwargs, bias_initializer=BIAS), x)
    expected = naive_conv3d(x, layer.kernel.value, layer.strides, layer.padding, layer.dilation_rate,
                            layer.groups) + layer.bias.value
    got = layer(x)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert got.shape == layer.compute_output_shape(x.shape)


@pytest.mark.parametrize("case,channels", CASE_CHANNELS)
def test_conv3d_gradients(case, channels):
    kwargs = dict(CONV3D_CASES[case], activation="tanh", bias_initializer=BIAS)
    check_layer_gradients(lambda: Conv3D(**kwargs), (2, 4, 4, 3, channels))


def test_conv3d_keras_shapes_defaults_and_config():
    layer = Conv3D(4, 3)
    assert (layer.strides, layer.dilation_rate, layer.padding, layer.groups) == ((1, 1, 1), (1, 1, 1), "valid", 1)
    assert layer.compute_output_shape((None, 8, 9, 10, 2)) == (None, 6, 7, 8, 4)
    assert Conv3D(4, 3, strides=2, padding="same").compute_output_shape((3, 5, 6, 7, 2)) == (3, 3, 3, 4, 4)
    assert Conv3D(4, 3, dilation_rate=2).compute_output_shape((1, 9, None, 9, 2)) == (1, 5, None, 5, 4)
    layer = _built(Conv3D(4, (1, 2, 3), groups=2, activation="relu", name="c3"), np.ones((1, 3, 3, 3, 2)))
    assert layer.kernel.value.shape == (1, 2, 3, 1, 4)
    clone = roundtrip(layer)
    assert clone.kernel_size == (1, 2, 3) and clone.groups == 2
    assert layers.LAYERS.lookup("Convolution3D") is Conv3D


def test_conv3d_errors():
    with pytest.raises(ValueError, match="'kernel_size' parameter of Conv3D"):
        Conv3D(2, (3, 3))
    with pytest.raises(ValueError, match="channels_last"):
        Conv3D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match=r"\(batch, depth, height, width, channels\)"):
        Conv3D(2, 3)(np.ones((1, 4, 4, 1)))
    with pytest.raises(ValueError, match="empty"):
        Conv3D(2, 3)(np.ones((1, 2, 4, 4, 1)))
    with pytest.raises(ValueError, match="strides > 1 together with dilation_rate > 1"):
        Conv3D(2, 3, strides=2, dilation_rate=2)


def test_nd_patch_kernels_match_the_2d_ones_on_a_unit_depth(float64):
    rng = np.random.default_rng(4)
    xp = rng.standard_normal((2, 1, 6, 7, 5))
    kernel = rng.standard_normal((1, 2, 3, 5, 3))
    out = (1, 5, 3)
    p3 = _im2col.extract_patches(xp, (1, 2, 3), (1, 1, 2), (1, 1, 1), out)
    p2 = _im2col.extract_patches(xp[:, 0], (2, 3), (1, 2), (1, 1), out[1:])
    np.testing.assert_array_equal(p3, p2)
    a2d = rng.standard_normal((2 * 15, 3))
    g3 = _im2col.gemm_col2im(a2d, kernel, xp.shape, (1, 1, 2), (1, 1, 1), out)
    g2 = _im2col.gemm_col2im(a2d, kernel[0], xp[:, 0].shape, (1, 2), (1, 1), out[1:])
    np.testing.assert_allclose(g3[:, 0], g2, rtol=1e-12)


# -- Conv1DTranspose -------------------------------------------------------------------------------
def naive_conv1d_transpose(x, kernel, stride, out_len, crop):
    """Each input step t adds x[t] @ kernel[j].T at output step t * stride + j - crop."""
    n, length, _ = x.shape
    k, f, _ = kernel.shape
    full = np.zeros((n, max((length - 1) * stride + k, crop + out_len), f))
    for t in range(length):
        for j in range(k):
            full[:, t * stride + j] += x[:, t] @ kernel[j].T
    return full[:, crop:crop + out_len]


@pytest.mark.parametrize("kernel_size,strides,padding", [(3, 1, "valid"), (3, 2, "valid"), (2, 3, "valid"),
                                                         (3, 2, "same"), (4, 2, "same"), (5, 3, "same")])
def test_conv1d_transpose_is_the_adjoint_of_conv1d(kernel_size, strides, padding, float64):
    rng = np.random.default_rng(5)
    steps = 4
    transpose = _built(Conv1DTranspose(3, kernel_size, strides=strides, padding=padding, use_bias=False),
                       np.ones((2, steps, 2)))
    length = transpose.compute_output_shape((2, steps, 2))[1]
    conv = _built(Conv1D(2, kernel_size, strides=strides, padding=padding, use_bias=False),
                  np.ones((2, length, 3)))
    assert conv.compute_output_shape((2, length, 3))[1] == steps
    conv.kernel.value[...] = transpose.kernel.value  # both (k, 3, 2): conv maps 3 -> 2 channels
    x = rng.standard_normal((2, length, 3))
    y = rng.standard_normal((2, steps, 2))
    # <conv(x), y> == <x, conv_transpose(y)>: Keras's output sizes and crops make them adjoint.
    np.testing.assert_allclose(np.sum(conv(x) * y), np.sum(x * transpose(y)), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, strides=2), dict(kernel_size=3, strides=2, padding="same"),
                                    dict(kernel_size=2, strides=3, output_padding=1),
                                    dict(kernel_size=3, dilation_rate=2, padding="same")])
def test_conv1d_transpose_matches_loops_and_gradients(kwargs, float64):
    x = np.random.default_rng(6).standard_normal((2, 4, 2))
    layer = _built(Conv1DTranspose(3, **kwargs, bias_initializer=BIAS), x)
    got = layer(x)
    (out_len,) = layer.compute_output_shape(x.shape)[1:2]
    assert got.shape == (2, out_len, 3)
    if layer.dilation_rate == (1,):
        full_len = (4 - 1) * layer.strides[0] + layer.kernel_size[0]
        crop = 0 if layer.padding == "valid" else max(full_len - out_len, 0) // 2
        # Keras centres "same" outputs: the crop before is the floor half of the surplus (<= kernel - 1).
        crop = min(crop, layer.kernel_size[0] - 1)
        expected = naive_conv1d_transpose(x, layer.kernel.value, layer.strides[0], out_len, crop)
        np.testing.assert_allclose(got, expected + layer.bias.value, rtol=1e-12, atol=1e-12)
    check_layer_gradients(lambda: Conv1DTranspose(3, **kwargs, activation="tanh", bias_initializer=BIAS),
                          (2, 4, 2))


def test_conv1d_transpose_keras_shapes_and_config():
    layer = Conv1DTranspose(4, 3)
    assert (layer.strides, layer.padding, layer.output_padding, layer.dilation_rate) == ((1,), "valid", None, (1,))
    assert layer.compute_output_shape((None, 5, 2)) == (None, 7, 4)
    assert Conv1DTranspose(4, 3, strides=2, padding="same").compute_output_shape((2, 5, 2)) == (2, 10, 4)
    assert Conv1DTranspose(4, 3, strides=2).compute_output_shape((2, 5, 2)) == (2, 11, 4)
    assert Conv1DTranspose(4, 1, strides=3).compute_output_shape((2, 5, 2)) == (2, 15, 4)
    assert Conv1DTranspose(4, 3, strides=2, output_padding=1).compute_output_shape((2, 5, 2)) == (2, 12, 4)
    layer = _built(Conv1DTranspose(4, 3, strides=2, output_padding=1), np.ones((1, 5, 2)))
    assert layer.kernel.value.shape == (3, 4, 2)
    assert roundtrip(layer).output_padding == (1,)
    assert layers.LAYERS.lookup("Convolution1DTranspose") is Conv1DTranspose
    with pytest.raises(ValueError, match="output_padding"):
        Conv1DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="'padding' parameter of Conv1DTranspose"):
        Conv1DTranspose(2, 3, padding="causal")


def test_conv1d_transpose_in_an_autoencoder_fits():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.standard_normal((64, 8, 1)), axis=1).astype("float32") / 3
    model = Sequential([Input((8, 1)), Conv1D(4, 3, strides=2, padding="same", activation="tanh"),
                        Conv1DTranspose(1, 3, strides=2, padding="same")])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.02), loss="mse")
    before = model.evaluate(x, x, verbose=0)
    model.fit(x, x, epochs=30, batch_size=16, verbose=0)
    assert model.evaluate(x, x, verbose=0) < 0.5 * before


# -- 3-D poolings ----------------------------------------------------------------------------------
POOL_CASES = [((2, 2, 2), None, "valid"), ((2, 3, 2), (1, 2, 1), "valid"), ((3, 2, 2), (2, 2, 1), "same"),
              ((2, 2, 2), None, "same")]


@pytest.mark.parametrize("pool,strides,padding", POOL_CASES)
@pytest.mark.parametrize("cls", [MaxPooling3D, AveragePooling3D])
def test_pooling3d_matches_loops_and_gradients(cls, pool, strides, padding, float64):
    x = np.random.default_rng(7).standard_normal((2, 5, 4, 5, 3))
    layer = cls(pool, strides, padding)
    got = layer(x)
    expected = naive_pool3d(x, pool, strides or pool, padding, cls._mode)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got.shape == layer.compute_output_shape(x.shape)
    check_layer_gradients(lambda: cls(pool, strides, padding), (2, 5, 4, 5, 3))


@pytest.mark.parametrize("strides", [None, 1])
def test_max_pooling3d_routes_ties_to_the_first_maximum(strides, float64):
    x = np.zeros((1, 2, 2, 4, 1))
    x[0, 1, 1, 3, 0] = -1.0  # the other entries tie at 0
    layer = MaxPooling3D(2, strides=strides)
    y = layer(x, training=True)
    dx = layer.backward(np.ones_like(y))
    # Each window's first maximum in row-major order (the (0, 0, w) corner) takes its whole gradient.
    expected = np.zeros_like(x)
    expected[0, 0, 0, [0, 2] if strides is None else [0, 1, 2], 0] = 1
    np.testing.assert_array_equal(dx, expected)


def test_global_poolings_3d(float64):
    x = np.random.default_rng(8).standard_normal((2, 3, 2, 4, 5))
    np.testing.assert_allclose(GlobalMaxPooling3D()(x), x.max(axis=(1, 2, 3)))
    np.testing.assert_allclose(GlobalAveragePooling3D()(x), x.mean(axis=(1, 2, 3)))
    assert GlobalAveragePooling3D(keepdims=True)(x).shape == (2, 1, 1, 1, 5)
    assert GlobalMaxPooling3D(keepdims=True).compute_output_shape((None, 3, 2, 4, 5)) == (None, 1, 1, 1, 5)
    for cls in (GlobalMaxPooling3D, GlobalAveragePooling3D):
        check_layer_gradients(cls, (2, 3, 2, 4, 5))
        check_layer_gradients(lambda cls=cls: cls(keepdims=True), (2, 2, 2, 2, 3))
        with pytest.raises(ValueError, match="3 spatial axes"):
            cls()(np.ones((2, 3, 4, 5)))


def test_pooling3d_keras_defaults_aliases_and_config():
    assert MaxPooling3D().pool_size == (2, 2, 2) and MaxPooling3D().strides == (2, 2, 2)
    assert AveragePooling3D(3, strides=1).strides == (1, 1, 1)
    assert MaxPooling3D(padding="same").compute_output_shape((None, 5, 4, None, 2)) == (None, 3, 2, None, 2)
    for name, cls in [("MaxPool3D", MaxPooling3D), ("AvgPool3D", AveragePooling3D),
                      ("GlobalMaxPool3D", GlobalMaxPooling3D), ("GlobalAvgPool3D", GlobalAveragePooling3D)]:
        assert layers.LAYERS.lookup(name) is cls
    for layer in (MaxPooling3D((1, 2, 3), strides=(1, 1, 2), padding="same"), AveragePooling3D(2),
                  GlobalMaxPooling3D(keepdims=True), GlobalAveragePooling3D()):
        roundtrip(layer)
    with pytest.raises(ValueError, match="'pool_size' parameter of MaxPooling3D"):
        MaxPooling3D((2, 2))
    with pytest.raises(ValueError, match="empty"):
        MaxPooling3D(3)(np.ones((1, 2, 4, 4, 1)))


# -- models ----------------------------------------------------------------------------------------
def test_volumetric_model_fits():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # Class 1 volumes hide a bright 2x2x2 cube somewhere in the noise.
    x = 0.5 * rng.random((64, 6, 6, 6, 1)).astype("float32")
    labels = np.arange(64) % 2
    for i in np.flatnonzero(labels):
        d, h, w = rng.integers(0, 5, size=3)
        x[i, d:d + 2, h:h + 2, w:w + 2] += 1.0
    y = np.eye(2)[labels]
    model = Sequential([Input((6, 6, 6, 1)), Conv3D(2, 3, activation="relu"), MaxPooling3D(2),
                        GlobalAveragePooling3D(), Dense(2, activation="softmax")])
    assert model.output_shape == (None, 2)
    model.compile(optimizer=optimizers.Adam(learning_rate=0.02), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)
    assert after["loss"] < 0.6 * before and after["accuracy"] > 0.9


def test_functional_3d_model_gradients_and_serialization():
    with floatx_scope("float64"):
        utils.set_random_seed(1)
        inputs = Input((4, 4, 4, 2))
        h = Conv3D(4, 2, padding="same", activation="tanh")(inputs)
        h = AveragePooling3D(2, padding="same")(h)
        h = Conv3D(2, (1, 2, 2), groups=2, activation="tanh")(h)
        outputs = Dense(2, activation="softmax")(Flatten()(h))
        model = Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        x = np.random.default_rng(2).standard_normal((3, 4, 4, 4, 2))
        assert_model_gradients_and_clone(model, x, np.eye(2)[[0, 1, 1]])


def test_conv2d_still_matches_conv3d_on_a_unit_depth(float64):
    x = np.random.default_rng(9).standard_normal((2, 1, 6, 5, 3))
    conv3 = _built(Conv3D(4, (1, 3, 2), strides=(1, 2, 1), padding="same"), x)
    conv2 = _built(Conv2D(4, (3, 2), strides=(2, 1), padding="same"), x[:, 0])
    conv2.kernel.value[...] = conv3.kernel.value[0]
    np.testing.assert_allclose(conv3(x)[:, 0], conv2(x[:, 0]), rtol=1e-12)
