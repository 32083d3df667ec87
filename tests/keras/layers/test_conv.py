"""Convolution layers: gradient checks, naive-loop references, Keras shapes, configs, training."""

import json
import math

import numpy as np
import pytest

from automl.keras import (
    Input,
    Model,
    Sequential,
    constraints,
    layers,
    optimizers,
    regularizers,
    utils,
)
from automl.keras.layers import (
    LAYERS,
    Conv3D,
    Conv3DTranspose,
    Dense,
    DepthwiseConv1D,
    Flatten,
    SeparableConv1D,
    _im2col,
)
from automl.keras.layers._conv import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
)
from automl.keras.layers._pooling import MaxPooling2D
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope

from .helpers import BIAS, roundtrip, same_pads


# -- naive references (explicit loops over output positions) -------------------
def naive_conv2d(x, kernel, strides=(1, 1), padding="valid", dilation=(1, 1), groups=1):
    n, h, w, c = x.shape
    kh, kw, cg, f = kernel.shape
    if padding == "same":
        (t, b), (left, r) = same_pads(h, kh, strides[0], dilation[0]), same_pads(w, kw, strides[1], dilation[1])
        x = np.pad(x, ((0, 0), (t, b), (left, r), (0, 0)))
    elif padding == "causal":  # 1-D inputs carried as height 1
        x = np.pad(x, ((0, 0), (0, 0), ((kw - 1) * dilation[1], 0), (0, 0)))
    hp, wp = x.shape[1:3]
    oh = (hp - ((kh - 1) * dilation[0] + 1)) // strides[0] + 1
    ow = (wp - ((kw - 1) * dilation[1] + 1)) // strides[1] + 1
    fg = f // groups
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for o in range(f):
                grp = o // fg
                acc = np.zeros(n)
                for a in range(kh):
                    for b in range(kw):
                        pix = x[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1],
                                grp * cg:(grp + 1) * cg]
                        acc += pix @ kernel[a, b, :, o]
                out[:, i, j, o] = acc
    return out


def naive_depthwise(x, kernel, strides=(1, 1), padding="valid", dilation=(1, 1)):
    kh, kw, c, m = kernel.shape
    out = []
    for ch in range(c):
        out.append(naive_conv2d(x[..., ch:ch + 1], kernel[:, :, ch:ch + 1, :], strides, padding, dilation))
    return np.concatenate(out, axis=-1)  # channel ch * m + k


def naive_conv_transpose(x, kernel, strides, padding, dilation=(1, 1), output_padding=None):
    """Scatter every input pixel through the kernel, then crop as TensorFlow / Keras do."""
    n, h, w, c = x.shape
    kh, kw, f, _ = kernel.shape
    eff = [(kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1]
    full = np.zeros((n, (h - 1) * strides[0] + eff[0] + strides[0], (w - 1) * strides[1] + eff[1] + strides[1], f))
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    full[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]] += (
                        x[:, i, j] @ kernel[a, b].T
                    )
    sizes, crops = [], []
    for axis, length in enumerate((h, w)):
        s, e = strides[axis], eff[axis]
        op = None if output_padding is None else output_padding[axis]
        if padding == "valid":
            size = (length - 1) * s + e + (max(e, s) - e if op is None else op)
            crop = 0
        elif op is None:
            size = length * s
            crop = max(e - s, 0) // 2  # the forward "same" convolution's top/left padding
        else:
            size = (length - 1) * s + e % 2 + op
            pad_len = e + e % 2 - 2 + op
            crop = e - 1 - min(pad_len // 2 + pad_len % 2, e - 1)
        sizes.append(size)
        crops.append(crop)
    return full[:, crops[0]:crops[0] + sizes[0], crops[1]:crops[1] + sizes[1]]


def _built(layer, x):
    layer(x)
    return layer


# -- gradient checks (float64, inputs and every weight) --------------------------
CONV2D_CASES = {
    "valid": dict(filters=3, kernel_size=3),
    "same_stride2": dict(filters=3, kernel_size=3, strides=2, padding="same"),
    "valid_stride2_even": dict(filters=2, kernel_size=2, strides=2),
    "dilation2_same": dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"),
    "dilation2_valid": dict(filters=2, kernel_size=(2, 3), dilation_rate=(2, 1)),
    "groups2": dict(filters=4, kernel_size=3, groups=2, padding="same"),
    "odd_rect": dict(filters=3, kernel_size=(2, 3), strides=(2, 1), padding="same"),
    "1x1": dict(filters=3, kernel_size=1),
    "no_bias_tanh": dict(filters=3, kernel_size=3, use_bias=False, activation="tanh"),
    "softmax": dict(filters=3, kernel_size=2, activation="softmax"),
    "activity_reg": dict(filters=2, kernel_size=3, activation="sigmoid",
                         activity_regularizer=regularizers.L1L2(l1=0.01, l2=0.1)),
}


@pytest.mark.parametrize("case", CONV2D_CASES, ids=list(CONV2D_CASES))
def test_conv2d_gradients(case):
    errors = check_layer_gradients(lambda: Conv2D(**CONV2D_CASES[case], bias_initializer=BIAS), (2, 5, 7, 2))
    use_bias = CONV2D_CASES[case].get("use_bias", True)
    assert len(errors) == (3 if use_bias else 2)


CONV1D_CASES = {
    "valid": dict(filters=3, kernel_size=3),
    "same_stride2": dict(filters=2, kernel_size=3, strides=2, padding="same"),
    "causal_dilation2": dict(filters=2, kernel_size=2, dilation_rate=2, padding="causal"),
    "groups2": dict(filters=4, kernel_size=2, groups=2),
}


@pytest.mark.parametrize("case", CONV1D_CASES, ids=list(CONV1D_CASES))
def test_conv1d_gradients(case):
    check_layer_gradients(lambda: Conv1D(**CONV1D_CASES[case], bias_initializer=BIAS), (2, 7, 2))


DEPTHWISE_CASES = {
    "valid": dict(kernel_size=3),
    "multiplier2_same_stride2": dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same"),
    "dilation2": dict(kernel_size=2, dilation_rate=2, activation="tanh"),
}


@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=list(DEPTHWISE_CASES))
def test_depthwise_gradients(case):
    check_layer_gradients(lambda: DepthwiseConv2D(**DEPTHWISE_CASES[case], bias_initializer=BIAS), (2, 5, 6, 3))


SEPARABLE_CASES = {
    "valid": dict(filters=3, kernel_size=3),
    "multiplier2_same_stride2": dict(filters=2, kernel_size=3, depth_multiplier=2, strides=2, padding="same"),
    "dilation2_tanh": dict(filters=2, kernel_size=2, dilation_rate=2, activation="tanh"),
}


@pytest.mark.parametrize("case", SEPARABLE_CASES, ids=list(SEPARABLE_CASES))
def test_separable_gradients(case):
    errors = check_layer_gradients(lambda: SeparableConv2D(**SEPARABLE_CASES[case], bias_initializer=BIAS),
                                   (2, 5, 6, 2))
    assert len(errors) == 4  # inputs, depthwise, pointwise, bias


TRANSPOSE_CASES = {
    "valid": dict(filters=2, kernel_size=3),
    "same_stride2": dict(filters=2, kernel_size=3, strides=2, padding="same"),
    "valid_stride3_kernel2": dict(filters=2, kernel_size=2, strides=3),
    "same_stride2_even_kernel": dict(filters=3, kernel_size=4, strides=2, padding="same"),
    "output_padding": dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1),
    "valid_output_padding": dict(filters=2, kernel_size=(3, 2), strides=(2, 3), output_padding=(1, 2)),
    "dilation2": dict(filters=2, kernel_size=3, dilation_rate=2, padding="same", activation="tanh"),
}


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=list(TRANSPOSE_CASES))
def test_conv_transpose_gradients(case):
    check_layer_gradients(lambda: Conv2DTranspose(**TRANSPOSE_CASES[case], bias_initializer=BIAS), (2, 3, 4, 2))


@pytest.mark.parametrize("channels", [1, 3, 6], ids=["1ch", "3ch", "6ch"])  # both patch layouts
@pytest.mark.parametrize("kwargs", [dict(strides=2, padding="same"), dict(dilation_rate=2)], ids=["s2", "d2"])
def test_conv2d_gradients_for_every_channel_layout(channels, kwargs):
    check_layer_gradients(lambda: Conv2D(2, 3, **kwargs, bias_initializer=BIAS), (2, 5, 5, channels))


@pytest.mark.parametrize("filters", [1, 3, 6], ids=["1f", "3f", "6f"])
def test_conv_transpose_gradients_for_every_channel_layout(filters):
    check_layer_gradients(lambda: Conv2DTranspose(filters, 3, strides=2, padding="same", bias_initializer=BIAS),
                          (1, 3, 3, 5))


# -- the shared kernels -------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 2, 4, 5, 8])
@pytest.mark.parametrize("strides,dilation", [((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 1), (2, 1)), ((1, 1), (1, 2))])
def test_extract_patches_gathers_every_window(channels, strides, dilation):
    rng = np.random.default_rng(8)
    xp = rng.standard_normal((2, 9, 10, channels)).astype(np.float32)
    kernel = (3, 2)
    out_hw = tuple((n - ((k - 1) * d + 1)) // s + 1 for n, k, s, d in zip((9, 10), kernel, strides, dilation))
    patches = _im2col.extract_patches(xp, kernel, strides, dilation, out_hw)
    assert patches.shape == (2 * out_hw[0] * out_hw[1], 3 * 2 * channels)
    expected = np.empty((2, *out_hw, 3, 2, channels), dtype=np.float32)
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            for a in range(3):
                for b in range(2):
                    expected[:, i, j, a, b] = xp[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]]
    np.testing.assert_array_equal(patches, expected.reshape(patches.shape))


@pytest.mark.parametrize("channels", [1, 3, 7])
def test_gemm_col2im_is_col2im_of_the_product(channels, float64):
    rng = np.random.default_rng(9)
    out_hw, strides, dilation = (3, 4), (2, 1), (1, 1)
    kernel = rng.standard_normal((2, 3, channels, 5))
    a2d = rng.standard_normal((2 * 3 * 4, 5))
    padded_shape = (2, 6, 6, channels)
    cols = (a2d @ kernel.reshape(-1, 5).T).reshape(2, *out_hw, 2, 3, channels)
    expected = _im2col.col2im(cols, padded_shape, (2, 3), strides, dilation)
    got = _im2col.gemm_col2im(a2d, kernel, padded_shape, strides, dilation, out_hw)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # col2im is the adjoint of patch extraction: <patches(x), cols> == <x, col2im(cols)>.
    x = rng.standard_normal(padded_shape)
    patches = _im2col.extract_patches(x, (2, 3), strides, dilation, out_hw)
    np.testing.assert_allclose(np.sum(patches * cols.reshape(patches.shape)), np.sum(x * expected), rtol=1e-12)


# -- forward values against the naive loops --------------------------------------
@pytest.mark.parametrize("case", CONV2D_CASES, ids=list(CONV2D_CASES))
def test_conv2d_matches_naive_loops(case, float64):
    kwargs = {k: v for k, v in CONV2D_CASES[case].items() if k not in ("activation", "activity_regularizer")}
    x = np.random.default_rng(1).standard_normal((2, 5, 7, 2))
    layer = _built(Conv2D(**kwargs, bias_initializer=BIAS), x)
    s, d = layer.strides, layer.dilation_rate
    expected = naive_conv2d(x, layer.kernel.value, s, layer.padding, d, layer.groups)
    if layer.use_bias:
        expected += layer.bias.value
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CONV1D_CASES, ids=list(CONV1D_CASES))
def test_conv1d_matches_naive_loops(case, float64):
    x = np.random.default_rng(2).standard_normal((2, 7, 2))
    layer = _built(Conv1D(**CONV1D_CASES[case], bias_initializer=BIAS), x)
    kernel = layer.kernel.value[None]  # (1, k, C/g, F)
    expected = naive_conv2d(x[:, None], kernel, (1, *layer.strides), layer.padding, (1, *layer.dilation_rate),
                            layer.groups)[:, 0] + layer.bias.value
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_causal_conv1d_never_sees_the_future(float64):
    layer = Conv1D(1, 3, padding="causal", dilation_rate=2, kernel_initializer="ones", use_bias=False)
    x = np.zeros((1, 9, 1))
    x[0, 5, 0] = 1.0
    y = layer(x)[0, :, 0]
    assert y.shape == (9,)
    np.testing.assert_array_equal(np.flatnonzero(y), [5, 7])  # t = 5 + 0 * 2 and 5 + 1 * 2 (5 + 2 * 2 > 8)


@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=list(DEPTHWISE_CASES))
def test_depthwise_matches_naive_loops(case, float64):
    kwargs = {k: v for k, v in DEPTHWISE_CASES[case].items() if k != "activation"}
    x = np.random.default_rng(3).standard_normal((2, 5, 6, 3))
    layer = _built(DepthwiseConv2D(**kwargs, bias_initializer=BIAS), x)
    expected = naive_depthwise(x, layer.kernel.value, layer.strides, layer.padding, layer.dilation_rate)
    np.testing.assert_allclose(layer(x), expected + layer.bias.value, rtol=1e-12, atol=1e-12)


def test_separable_is_depthwise_then_pointwise(float64):
    x = np.random.default_rng(4).standard_normal((2, 6, 5, 3))
    layer = _built(SeparableConv2D(4, 3, strides=2, padding="same", depth_multiplier=2, bias_initializer=BIAS), x)
    depth = naive_depthwise(x, layer.depthwise_kernel.value, layer.strides, "same")
    expected = depth @ layer.pointwise_kernel.value[0, 0] + layer.bias.value
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=list(TRANSPOSE_CASES))
def test_conv_transpose_matches_naive_scatter(case, float64):
    kwargs = {k: v for k, v in TRANSPOSE_CASES[case].items() if k != "activation"}
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 2))
    layer = _built(Conv2DTranspose(**kwargs, bias_initializer=BIAS), x)
    expected = naive_conv_transpose(x, layer.kernel.value, layer.strides, layer.padding, layer.dilation_rate,
                                    layer.output_padding)
    y = layer(x)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected + layer.bias.value, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,kernel", [(1, 3), (2, 3), (2, 4), (3, 2)])
def test_conv_transpose_is_the_adjoint_of_conv2d(padding, strides, kernel, float64):
    # <conv(v), x> == <v, conv_transpose(x)> for the same kernel (Keras's definition).
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3, 2))
    tconv = _built(Conv2DTranspose(3, kernel, strides=strides, padding=padding, use_bias=False), x)
    y = tconv(x)
    conv = Conv2D(2, kernel, strides=strides, padding=padding, use_bias=False)
    v = rng.standard_normal(y.shape)
    conv(v)
    conv.kernel.assign(tconv.kernel.value)
    cv = conv(v)
    if cv.shape == x.shape:  # "same", and "valid" whenever the windows cover y exactly
        np.testing.assert_allclose(np.sum(cv * x), np.sum(v * y), rtol=1e-12)
    else:
        pytest.skip("the forward convolution drops trailing rows; no exact adjoint")


# -- shapes follow Keras's formulas ------------------------------------------------
def _keras_conv_length(length, kernel, stride, dilation, padding):
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        return (length - effective) // stride + 1
    return math.ceil(length / stride)


@pytest.mark.parametrize("size", [(9, 9), (8, 11), (5, 6)])
@pytest.mark.parametrize("kernel,strides,dilation", [(3, 1, 1), (3, 2, 1), ((2, 3), (3, 2), 1), (3, 1, 2)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_output_shape_formula(size, kernel, strides, dilation, padding):
    layer = Conv2D(4, kernel, strides=strides, padding=padding, dilation_rate=dilation)
    k, s, d = layer.kernel_size, layer.strides, layer.dilation_rate
    expected = (None, *(_keras_conv_length(n, k[i], s[i], d[i], padding) for i, n in enumerate(size)), 4)
    assert layer.compute_output_shape((None, *size, 3)) == expected
    assert layer(np.zeros((2, *size, 3))).shape == (2, *expected[1:])
    assert layer.compute_output_shape((None, None, size[1], 3))[1] is None


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("kernel,strides,dilation", [(3, 1, 1), (4, 2, 1), (2, 1, 3)])
def test_conv1d_output_shape_formula(padding, kernel, strides, dilation):
    layer = Conv1D(5, kernel, strides=strides, padding=padding, dilation_rate=dilation)
    length = 11
    expected = math.ceil(length / strides) if padding != "valid" else _keras_conv_length(
        length, kernel, strides, dilation, "valid")
    assert layer.compute_output_shape((None, length, 2)) == (None, expected, 5)
    assert layer(np.zeros((3, length, 2))).shape == (3, expected, 5)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel,strides", [(3, 1), (3, 2), (2, 3), (5, 2)])
def test_conv_transpose_output_shape_formula(padding, kernel, strides):
    layer = Conv2DTranspose(2, kernel, strides=strides, padding=padding)
    h, w = 4, 5
    if padding == "same":
        expected = (h * strides, w * strides)
    else:
        expected = tuple((n - 1) * strides + max(kernel, strides) for n in (h, w))
    assert layer.compute_output_shape((None, h, w, 3)) == (None, *expected, 2)
    assert layer(np.zeros((1, h, w, 3))).shape == (1, *expected, 2)


def test_weight_shapes_and_names():
    x = np.zeros((1, 6, 6, 4))
    conv = _built(Conv2D(8, (3, 2), groups=2), x)
    assert [v.shape for v in conv.weights] == [(3, 2, 2, 8), (8,)]
    assert [v.name.split("/")[-1] for v in conv.weights] == ["kernel", "bias"]
    assert conv.count_params() == 3 * 2 * 2 * 8 + 8
    depth = _built(DepthwiseConv2D(3, depth_multiplier=2), x)
    assert [v.shape for v in depth.weights] == [(3, 3, 4, 2), (8,)]
    sep = _built(SeparableConv2D(5, 3, depth_multiplier=2), x)
    assert [(v.name.split("/")[-1], v.shape) for v in sep.weights] == [
        ("depthwise_kernel", (3, 3, 4, 2)), ("pointwise_kernel", (1, 1, 8, 5)), ("bias", (5,))]
    tconv = _built(Conv2DTranspose(3, 2, use_bias=False), x)
    assert [v.shape for v in tconv.weights] == [(2, 2, 3, 4)]
    conv1 = _built(Conv1D(6, 5), np.zeros((1, 9, 2)))
    assert [v.shape for v in conv1.weights] == [(5, 2, 6), (6,)]


# -- the backward contract ------------------------------------------------------------
def test_kernel_grad_is_written_in_place_and_input_grad_skipped_when_not_needed(float64):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 6, 6, 2))
    layer = _built(Conv2D(4, 3, padding="same"), x)
    grad_buffer = layer.kernel.grad
    y = layer.call(x, training=True)
    upstream = rng.standard_normal(y.shape)
    layer._input_grad_needed = False
    assert layer.backward(upstream.copy()) is None
    assert layer.kernel.grad is grad_buffer
    # Kernel gradient: d sum(upstream * conv(x)) / d kernel by the naive definition.
    numeric = np.zeros_like(layer.kernel.value)
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    for a in range(3):
        for b in range(3):
            numeric[a, b] = np.einsum("nhwc,nhwf->cf", xp[:, a:a + 6, b:b + 6], upstream)
    np.testing.assert_allclose(grad_buffer, numeric, rtol=1e-10, atol=1e-12)
    layer._input_grad_needed = True
    assert layer.backward(upstream.copy()).shape == x.shape


def test_model_packs_conv_gradients_into_one_buffer_and_first_conv_skips_input_grad():
    utils.set_random_seed(0)
    model = Sequential([Input((6, 6, 1)), Conv2D(2, 3, activation="relu"), Conv2D(2, 3), Flatten(),
                        Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    state = model._prepare_training()
    first, second = model.layers[0], model.layers[1]
    assert first._input_grad_needed is False and second._input_grad_needed is True
    assert np.shares_memory(first.kernel.grad, state["grads"])
    x = np.random.default_rng(0).random((4, 6, 6, 1)).astype("float32")
    y = np.eye(3)[[0, 1, 2, 0]]
    model.train_on_batch(x, y)
    assert np.abs(state["grads"]).sum() > 0
    assert np.shares_memory(first.kernel.grad, state["grads"])


def test_model_gradients_of_a_small_cnn():
    with floatx_scope("float64"):
        utils.set_random_seed(1)
        model = Sequential([
            Input((6, 5, 2)),
            Conv2D(3, 3, padding="same", activation="tanh"),
            MaxPooling2D(2),
            SeparableConv2D(2, 2, activation="tanh"),
            Flatten(),
            Dense(3, activation="softmax"),
        ])
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        rng = np.random.default_rng(0)
        x = rng.standard_normal((4, 6, 5, 2))
        y = np.eye(3)[[0, 2, 1, 1]]
        assert check_model_gradients(model, x, y) < 1e-6


def test_model_gradients_with_a_shared_conv_layer_in_a_functional_model():
    with floatx_scope("float64"):
        utils.set_random_seed(2)
        inputs = Input((5, 5, 2))
        shared = Conv2D(2, 3, padding="same", activation="tanh")
        first = shared(inputs)
        second = shared(first)  # the same layer twice: its caches are saved per call
        pooled = MaxPooling2D(padding="same")(layers.Add()([first, second]))
        outputs = Dense(2, activation="softmax")(Flatten()(pooled))
        model = Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        x = np.random.default_rng(1).standard_normal((3, 5, 5, 2))
        assert check_model_gradients(model, x, np.eye(2)[[0, 1, 1]]) < 1e-6


def test_model_gradients_with_a_conv_softmax_output_fused_with_the_loss():
    with floatx_scope("float64"):
        utils.set_random_seed(3)
        model = Sequential([Input((4, 4, 2)), Conv2D(3, 3, padding="same", activation="tanh"),
                            Conv2D(3, 1, activation="softmax")])
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        rng = np.random.default_rng(2)
        x = rng.standard_normal((2, 4, 4, 2))
        y = np.eye(3)[rng.integers(0, 3, size=(2, 4, 4))]
        state = model._prepare_training()
        assert state["fused"]  # the softmax output uses backward_from_logits
        assert check_model_gradients(model, x, y) < 1e-6


def test_inference_call_keeps_no_patches(float64):
    layer = Conv2D(2, 3)
    y = layer(np.ones((2, 5, 5, 1)))
    assert layer._saved.cols is None
    with pytest.raises(RuntimeError, match="training=True"):
        layer.backward(np.ones_like(y))


def test_pickling_drops_the_cached_patches():
    import pickle

    layer = Conv2D(4, 3)
    x = np.random.default_rng(0).random((2, 6, 6, 3)).astype(np.float32)
    y = layer(x, training=True)
    assert layer._saved.cols is not None
    clone = pickle.loads(pickle.dumps(layer))
    assert clone._saved is None and layer._saved.cols is not None
    np.testing.assert_array_equal(clone(x), y)


def test_float32_stays_float32():
    layer = Conv2D(4, 3, padding="same")
    y = layer(np.ones((2, 5, 5, 3), dtype=np.float32), training=True)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert layer.kernel.grad.dtype == np.float32


# -- configuration ------------------------------------------------------------------------
CONFIG_LAYERS = [
    lambda: Conv2D(8, (3, 2), strides=(2, 1), padding="same", groups=2, activation="relu", use_bias=False,
                   kernel_initializer="he_normal", kernel_regularizer=regularizers.L2(0.01),
                   kernel_constraint=constraints.MaxNorm(2.0), name="c2"),
    lambda: Conv1D(4, 5, padding="causal", dilation_rate=2, bias_constraint="non_neg"),
    lambda: DepthwiseConv2D(3, depth_multiplier=2, padding="same", depthwise_regularizer="l2",
                            depthwise_constraint="non_neg"),
    lambda: SeparableConv2D(6, 3, depth_multiplier=2, pointwise_initializer="he_uniform",
                            pointwise_regularizer=regularizers.L1(0.1), activity_regularizer="l2"),
    lambda: Conv2DTranspose(3, 4, strides=2, padding="same", output_padding=1, activation="sigmoid"),
]


@pytest.mark.parametrize("make", CONFIG_LAYERS, ids=["conv2d", "conv1d", "depthwise", "separable", "transpose"])
def test_config_round_trip(make):
    layer = make()
    json.dumps(layer.get_config())
    roundtrip(layer)


def test_keras_defaults():
    conv = Conv2D(4, 3)
    assert conv.strides == (1, 1) and conv.padding == "valid" and conv.dilation_rate == (1, 1)
    assert conv.groups == 1 and conv.use_bias and conv.data_format == "channels_last"
    config = conv.get_config()
    assert config["kernel_size"] == [3, 3]
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["bias_initializer"]["class_name"] == "Zeros"
    assert config["kernel_constraint"] is None
    assert Conv1D(2, 3).strides == (1,)
    assert DepthwiseConv2D(3).depth_multiplier == 1
    assert Conv2DTranspose(2, 3).output_padding is None
    assert type(layers.get({"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3}})) is Conv2D


def test_registered_in_layers():
    for name in ("Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"):
        assert name in layers.LAYERS


# -- errors -----------------------------------------------------------------------------------
def test_channels_first_is_rejected_clearly():
    for make in (lambda: Conv2D(2, 3, data_format="channels_first"),
                 lambda: Conv1D(2, 3, data_format="channels_first"),
                 lambda: DepthwiseConv2D(3, data_format="channels_first"),
                 lambda: SeparableConv2D(2, 3, data_format="channels_first"),
                 lambda: Conv2DTranspose(2, 3, data_format="channels_first")):
        with pytest.raises(ValueError, match="channels_last"):
            make()


@pytest.mark.parametrize("kwargs,match", [
    (dict(filters=0, kernel_size=3), "'filters' parameter of Conv2D"),
    (dict(filters=2, kernel_size=0), "'kernel_size' parameter of Conv2D"),
    (dict(filters=2, kernel_size=(3, 3, 3)), "'kernel_size' parameter of Conv2D"),
    (dict(filters=2, kernel_size=3, padding="full"), "'padding' parameter of Conv2D"),
    (dict(filters=2, kernel_size=3, padding="causal"), "'padding' parameter of Conv2D"),
    (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "dilation_rate"),
    (dict(filters=3, kernel_size=3, groups=2), "'groups' parameter of Conv2D"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(**kwargs)


def test_input_channels_must_divide_into_groups():
    with pytest.raises(ValueError, match="divisible by groups=2"):
        Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3)))


def test_too_small_input_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        Conv2D(4, 5)(np.zeros((1, 3, 3, 1)))
    with pytest.raises(ValueError, match="shape"):
        Conv2D(4, 3)(np.zeros((1, 5, 1)))


def test_output_padding_must_be_smaller_than_strides():
    with pytest.raises(ValueError, match="output_padding"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2)


# -- training ------------------------------------------------------------------------------------
def test_small_cnn_learns_digits(digits_split):
    x_train, x_test, y_train, y_test = digits_split
    utils.set_random_seed(0)
    model = Sequential([
        Input((8, 8, 1)),
        Conv2D(8, 3, activation="relu"),
        MaxPooling2D(),
        Flatten(),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train.reshape(-1, 8, 8, 1), y_train, epochs=5, batch_size=32, verbose=0)
    accuracy = model.evaluate(x_test.reshape(-1, 8, 8, 1), y_test, verbose=0, return_dict=True)["accuracy"]
    assert accuracy > 0.9


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
