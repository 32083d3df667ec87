"""Pooling layers: gradient checks, naive references, first-max ties, Keras shapes, configs."""

import math

import numpy as np
import pytest

from automl.keras import layers
from automl.keras.layers._pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from automl.testing import check_layer_gradients

from .helpers import roundtrip


def naive_pool2d(x, pool, strides, padding, mode):
    """Loops over windows; "same" windows only see real entries (max ignores, average excludes padding)."""
    n, h, w, c = x.shape
    if padding == "valid":
        oh, ow = (h - pool[0]) // strides[0] + 1, (w - pool[1]) // strides[1] + 1
        top = left = 0
    else:
        oh, ow = math.ceil(h / strides[0]), math.ceil(w / strides[1])
        top = max((oh - 1) * strides[0] + pool[0] - h, 0) // 2
        left = max((ow - 1) * strides[1] + pool[1] - w, 0) // 2
    out = np.empty((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - top, j * strides[1] - left
            window = x[:, max(r0, 0):r0 + pool[0], max(c0, 0):c0 + pool[1]]
            out[:, i, j] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return out


def naive_max_pool_grad(x, g, pool, strides, padding):
    """Each window's gradient goes to its first maximum (row-major), as TensorFlow's argmax."""
    n, h, w, c = x.shape
    dx = np.zeros_like(x)
    oh, ow = g.shape[1:3]
    if padding == "valid":
        top = left = 0
    else:
        top = max((oh - 1) * strides[0] + pool[0] - h, 0) // 2
        left = max((ow - 1) * strides[1] + pool[1] - w, 0) // 2
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    r0, c0 = i * strides[0] - top, j * strides[1] - left
                    rs, cs = max(r0, 0), max(c0, 0)
                    window = x[b, rs:r0 + pool[0], cs:c0 + pool[1], ch]
                    k = int(np.argmax(window))
                    dx[b, rs + k // window.shape[1], cs + k % window.shape[1], ch] += g[b, i, j, ch]
    return dx


POOL2D_CASES = {
    "tiled": dict(pool_size=2),
    "tiled_cropped_odd": dict(pool_size=2),  # run on an odd-sized input below
    "overlap_3_2": dict(pool_size=3, strides=2),
    "same_3_2": dict(pool_size=3, strides=2, padding="same"),
    "same_2_odd": dict(pool_size=2, padding="same"),
    "rect_strides": dict(pool_size=(2, 3), strides=(1, 2)),
    "stride_gt_pool": dict(pool_size=1, strides=2),
}


def _input_shape(case):
    return (2, 5, 7, 3) if case in ("tiled_cropped_odd", "same_2_odd", "same_3_2") else (2, 4, 6, 3)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("case", POOL2D_CASES, ids=list(POOL2D_CASES))
def test_pool2d_gradients(cls, case):
    errors = check_layer_gradients(lambda: cls(**POOL2D_CASES[case]), _input_shape(case))
    assert list(errors) == ["inputs"]


@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D])
@pytest.mark.parametrize("kwargs", [dict(pool_size=2), dict(pool_size=3, strides=2, padding="same"), dict(pool_size=3)],
                         ids=["tiled", "same_overlap", "cropped"])
def test_pool1d_gradients(cls, kwargs):
    check_layer_gradients(lambda: cls(**kwargs), (2, 7, 3))


@pytest.mark.parametrize("cls", [GlobalMaxPooling1D, GlobalAveragePooling1D, GlobalMaxPooling2D,
                                 GlobalAveragePooling2D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_gradients(cls, keepdims):
    shape = (2, 5, 3) if cls._rank == 1 else (2, 3, 4, 3)
    check_layer_gradients(lambda: cls(keepdims=keepdims), shape)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", POOL2D_CASES, ids=list(POOL2D_CASES))
def test_pool2d_matches_naive_loops(mode, case, float64):
    cls = MaxPooling2D if mode == "max" else AveragePooling2D
    layer = cls(**POOL2D_CASES[case])
    x = np.random.default_rng(0).standard_normal(_input_shape(case))
    expected = naive_pool2d(x, layer.pool_size, layer.strides, layer.padding, mode)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12)


def test_pool1d_is_pool2d_on_a_unit_height(float64):
    x = np.random.default_rng(1).standard_normal((2, 9, 3))
    for cls1, mode in ((MaxPooling1D, "max"), (AveragePooling1D, "avg")):
        y = cls1(3, strides=2, padding="same")(x)
        np.testing.assert_allclose(y, naive_pool2d(x[:, None], (1, 3), (1, 2), "same", mode)[:, 0])


@pytest.mark.parametrize("case", POOL2D_CASES, ids=list(POOL2D_CASES))
def test_max_pool_ties_go_to_the_first_maximum(case, float64):
    # Integer-valued inputs (as after a ReLU, many zeros) make ties frequent.
    rng = np.random.default_rng(2)
    x = np.maximum(rng.integers(-2, 3, size=_input_shape(case)), 0).astype(np.float64)
    layer = MaxPooling2D(**POOL2D_CASES[case])
    y = layer(x, training=True)
    g = rng.standard_normal(y.shape)
    expected = naive_max_pool_grad(x, g, layer.pool_size, layer.strides, layer.padding)
    np.testing.assert_allclose(layer.backward(g.copy()), expected, rtol=1e-12)


def test_average_same_padding_excludes_the_padding(float64):
    x = np.ones((1, 3, 3, 1))
    y = AveragePooling2D(2, strides=2, padding="same")(x)
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1)))


def test_global_max_ties_share_the_gradient(float64):
    layer = GlobalMaxPooling1D()
    x = np.array([[[1.0], [3.0], [3.0]]])
    layer(x, training=True)
    np.testing.assert_allclose(layer.backward(np.array([[2.0]]))[0, :, 0], [0.0, 1.0, 1.0])


def test_global_pooling_values(float64):
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(GlobalMaxPooling2D()(x), x.max(axis=(1, 2)))
    np.testing.assert_allclose(GlobalAveragePooling2D(keepdims=True)(x), x.mean(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(GlobalAveragePooling1D()(x[:, 0]), x[:, 0].mean(axis=1))


# -- shapes --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(8, 8), (7, 9), (5, 4)])
@pytest.mark.parametrize("pool,strides", [(2, None), (3, 2), ((2, 3), (1, 2)), (3, 1)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pool2d_output_shape_formula(size, pool, strides, padding):
    layer = MaxPooling2D(pool, strides, padding)
    p = layer.pool_size
    s = layer.strides
    if padding == "valid":
        expected = tuple((n - p[i]) // s[i] + 1 for i, n in enumerate(size))
    else:
        expected = tuple(math.ceil(n / s[i]) for i, n in enumerate(size))
    assert layer.compute_output_shape((None, *size, 2)) == (None, *expected, 2)
    assert layer(np.zeros((1, *size, 2))).shape == (1, *expected, 2)
    assert AveragePooling2D(pool, strides, padding)(np.zeros((1, *size, 2))).shape == (1, *expected, 2)


def test_pool1d_and_global_shapes():
    assert MaxPooling1D().compute_output_shape((None, 9, 4)) == (None, 4, 4)
    assert AveragePooling1D(3, 2, "same").compute_output_shape((None, 9, 4)) == (None, 5, 4)
    assert GlobalMaxPooling2D().compute_output_shape((None, 5, 5, 3)) == (None, 3)
    assert GlobalAveragePooling2D(keepdims=True).compute_output_shape((None, 5, 5, 3)) == (None, 1, 1, 3)
    assert GlobalAveragePooling1D(keepdims=True).compute_output_shape((None, 7, 3)) == (None, 1, 3)
    assert MaxPooling2D().compute_output_shape((None, None, 6, 2)) == (None, None, 3, 2)


def test_float32_stays_float32():
    layer = MaxPooling2D()
    y = layer(np.ones((2, 4, 4, 3), dtype=np.float32), training=True)
    assert y.dtype == np.float32 and layer.backward(np.ones_like(y)).dtype == np.float32


# -- configuration and errors ---------------------------------------------------------------
CONFIG_LAYERS = [
    lambda: MaxPooling2D((3, 2), strides=(2, 1), padding="same", name="mp"),
    lambda: MaxPooling1D(3),
    lambda: AveragePooling2D(2, padding="same"),
    lambda: AveragePooling1D(pool_size=4, strides=1),
    lambda: GlobalMaxPooling2D(keepdims=True),
    lambda: GlobalAveragePooling1D(),
]


@pytest.mark.parametrize("make", CONFIG_LAYERS)
def test_config_round_trip(make):
    roundtrip(make())


def test_keras_defaults():
    layer = MaxPooling2D()
    assert layer.pool_size == (2, 2) and layer.strides == (2, 2) and layer.padding == "valid"
    assert MaxPooling1D().pool_size == (2,)
    with pytest.raises(TypeError):
        AveragePooling2D()  # pool_size is required for average pooling, as in Keras
    assert GlobalAveragePooling2D().keepdims is False
    for name in ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D",
                 "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D"):
        assert name in layers.LAYERS


def test_errors():
    with pytest.raises(ValueError, match="channels_last"):
        MaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="channels_last"):
        GlobalAveragePooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="'pool_size' parameter of MaxPooling2D"):
        MaxPooling2D(0)
    with pytest.raises(ValueError, match="'padding' parameter of AveragePooling1D"):
        AveragePooling1D(2, padding="causal")
    with pytest.raises(ValueError, match="empty"):
        MaxPooling2D(3)(np.zeros((1, 2, 2, 1)))
    with pytest.raises(ValueError, match="shape"):
        MaxPooling2D()(np.zeros((1, 4, 4)))
