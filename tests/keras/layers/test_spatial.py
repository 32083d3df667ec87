"""Spatial layers in 1, 2 and 3 dimensions: ZeroPadding, Cropping, UpSampling, SpatialDropout."""


import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, optimizers, utils
from automl.keras.layers import (
    Conv1D,
    Conv3D,
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Dense,
    Flatten,
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
from automl.testing import check_layer_gradients, check_model_gradients, floatx_scope

from .helpers import assert_model_gradients_and_clone, roundtrip


@pytest.mark.parametrize("padding,expected", [
    (1, ((1, 1), (1, 1))),
    ((2, 0), ((2, 2), (0, 0))),
    (((1, 0), (2, 3)), ((1, 0), (2, 3))),
])
def test_zero_padding_forms_and_values(padding, expected, float64):
    layer = ZeroPadding2D(padding)
    assert layer.padding == expected
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2))
    y = layer(x)
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), *expected, (0, 0))))
    assert layer.compute_output_shape((None, 3, 4, 2)) == y.shape[:0] + (None, *y.shape[1:])


@pytest.mark.parametrize("cropping,expected", [
    (1, ((1, 1), (1, 1))),
    ((0, 2), ((0, 0), (2, 2))),
    (((1, 0), (0, 3)), ((1, 0), (0, 3))),
])
def test_cropping_forms_and_values(cropping, expected, float64):
    layer = Cropping2D(cropping)
    assert layer.cropping == expected
    x = np.random.default_rng(1).standard_normal((2, 5, 7, 2))
    y = layer(x)
    (t, b), (left, r) = expected
    np.testing.assert_array_equal(y, x[:, t:5 - b, left:7 - r])
    assert layer.compute_output_shape((None, 5, 7, 2)) == (None, *y.shape[1:])


def test_upsampling_repeats_rows_and_columns(float64):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 2))
    y = UpSampling2D((2, 3))(x)
    np.testing.assert_array_equal(y, x.repeat(2, axis=1).repeat(3, axis=2))
    assert UpSampling2D(2).compute_output_shape((None, 3, None, 2)) == (None, 6, None, 2)


@pytest.mark.parametrize("make", [
    lambda: ZeroPadding2D(((1, 2), (0, 1))),
    lambda: Cropping2D(((1, 0), (1, 2))),
    lambda: UpSampling2D((2, 3)),
], ids=["zero_padding", "cropping", "upsampling"])
def test_gradients(make):
    assert list(check_layer_gradients(make, (2, 4, 5, 2))) == ["inputs"]


def test_spatial_dropout_drops_whole_channels_and_is_seeded():
    x = np.ones((64, 5, 6, 8), dtype=np.float32)
    y = SpatialDropout2D(0.5, seed=3)(x, training=True)
    per_map = y.reshape(64, -1, 8)
    assert np.all(per_map.min(axis=1) == per_map.max(axis=1))  # each (sample, channel) map is constant
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.35 < np.mean(y == 0) < 0.65
    again = SpatialDropout2D(0.5, seed=3)(x, training=True)
    np.testing.assert_array_equal(y, again)
    np.testing.assert_array_equal(SpatialDropout2D(0.5, seed=3)(x), x)  # inference: identity


def test_spatial_dropout1d_gradient_is_the_mask():
    layer = SpatialDropout1D(0.4, seed=0)
    x = np.random.default_rng(0).standard_normal((16, 7, 5)).astype(np.float32)
    y = layer(x, training=True)
    factor = y / x
    assert np.allclose(factor.min(axis=1), factor.max(axis=1))  # one draw per (sample, channel)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(layer.backward(g), g * factor, rtol=1e-6)


CONFIG_LAYERS = [
    lambda: ZeroPadding2D(((1, 2), (3, 0)), name="zp"),
    lambda: Cropping2D(2),
    lambda: UpSampling2D((3, 2)),
    lambda: SpatialDropout1D(0.3, seed=4),
    lambda: SpatialDropout2D(0.2),
]


@pytest.mark.parametrize("make", CONFIG_LAYERS)
def test_config_round_trip(make):
    layer = make()
    assert "noise_shape" not in layer.get_config()
    roundtrip(layer)


def test_keras_defaults():
    assert ZeroPadding2D().padding == ((1, 1), (1, 1))
    assert Cropping2D().cropping == ((0, 0), (0, 0))
    assert UpSampling2D().size == (2, 2) and UpSampling2D().interpolation == "nearest"
    for name in ("ZeroPadding2D", "Cropping2D", "UpSampling2D", "SpatialDropout1D", "SpatialDropout2D"):
        assert name in layers.LAYERS


def test_errors():
    for make in (lambda: ZeroPadding2D(data_format="channels_first"),
                 lambda: Cropping2D(data_format="channels_first"),
                 lambda: UpSampling2D(data_format="channels_first"),
                 lambda: SpatialDropout2D(0.1, data_format="channels_first")):
        with pytest.raises(ValueError, match="channels_last"):
            make()
    with pytest.raises(ValueError, match="'padding' parameter of ZeroPadding2D"):
        ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="'cropping' parameter of Cropping2D"):
        Cropping2D(-1)
    with pytest.raises(ValueError, match="'interpolation' parameter of UpSampling2D"):
        UpSampling2D(interpolation="bilinear")
    with pytest.raises(ValueError, match="nothing would be left"):
        Cropping2D(2)(np.zeros((1, 4, 6, 1)))
    with pytest.raises(ValueError, match="rate"):
        SpatialDropout1D(1.0)
    with pytest.raises(ValueError, match="rank 3"):
        SpatialDropout1D(0.1)(np.zeros((2, 3, 4, 5)))


# -- values against np.pad / slicing / np.repeat ---------------------------------------------------
def test_zero_padding_1d_and_3d_values(float64):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    np.testing.assert_array_equal(ZeroPadding1D()(x), np.pad(x, ((0, 0), (1, 1), (0, 0))))
    np.testing.assert_array_equal(ZeroPadding1D((0, 2))(x), np.pad(x, ((0, 0), (0, 2), (0, 0))))
    v = np.random.default_rng(1).standard_normal((2, 2, 3, 2, 3))
    np.testing.assert_array_equal(ZeroPadding3D()(v), np.pad(v, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0))))
    np.testing.assert_array_equal(ZeroPadding3D((2, 0, 1))(v), np.pad(v, ((0, 0), (2, 2), (0, 0), (1, 1), (0, 0))))
    layer = ZeroPadding3D(((1, 0), (0, 2), (3, 1)))
    np.testing.assert_array_equal(layer(v), np.pad(v, ((0, 0), (1, 0), (0, 2), (3, 1), (0, 0))))
    assert layer.compute_output_shape((None, 2, None, 2, 3)) == (None, 3, None, 6, 3)


def test_cropping_1d_and_3d_values(float64):
    x = np.random.default_rng(2).standard_normal((2, 6, 3))
    np.testing.assert_array_equal(Cropping1D()(x), x[:, 1:5])
    np.testing.assert_array_equal(Cropping1D((2, 0))(x), x[:, 2:])
    v = np.random.default_rng(3).standard_normal((2, 4, 5, 6, 2))
    np.testing.assert_array_equal(Cropping3D()(v), v[:, 1:3, 1:4, 1:5])
    layer = Cropping3D((0, (1, 2), (3, 0)))
    np.testing.assert_array_equal(layer(v), v[:, :, 1:3, 3:])
    assert layer.compute_output_shape((None, 4, 5, None, 2)) == (None, 4, 2, None, 2)


def test_upsampling_1d_and_3d_values(float64):
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    np.testing.assert_array_equal(UpSampling1D()(x), np.repeat(x, 2, axis=1))
    np.testing.assert_array_equal(UpSampling1D(3)(x), np.repeat(x, 3, axis=1))
    v = np.random.default_rng(5).standard_normal((2, 2, 3, 2, 3))
    expected = np.repeat(np.repeat(np.repeat(v, 2, axis=1), 1, axis=2), 3, axis=3)
    layer = UpSampling3D((2, 1, 3))
    np.testing.assert_array_equal(layer(v), expected)
    assert layer.compute_output_shape((None, 2, None, 2, 3)) == (None, 4, None, 6, 3)
    np.testing.assert_array_equal(UpSampling3D()(v), v.repeat(2, 1).repeat(2, 2).repeat(2, 3))


# -- gradients ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,shape", [
    (lambda: ZeroPadding1D((2, 1)), (2, 3, 2)),
    (lambda: ZeroPadding3D(((1, 0), 2, (0, 1))), (2, 2, 3, 2, 2)),
    (lambda: Cropping1D((1, 2)), (2, 5, 2)),
    (lambda: Cropping3D(((1, 0), (0, 2), 1)), (2, 3, 4, 4, 2)),
    (lambda: UpSampling1D(3), (2, 3, 2)),
    (lambda: UpSampling3D((2, 1, 3)), (2, 2, 2, 2, 2)),
    (lambda: ZeroPadding2D(((1, 0), (2, 1))), (2, 3, 3, 2)),  # the 2-D layers share the new code
    (lambda: Cropping2D(((1, 0), (0, 2))), (2, 3, 4, 2)),
    (lambda: UpSampling2D((2, 3)), (2, 2, 3, 2)),
], ids=["zp1", "zp3", "crop1", "crop3", "up1", "up3", "zp2", "crop2", "up2"])
def test_gradients_1d_3d(make, shape):
    check_layer_gradients(make, shape)


def test_spatial_dropout_3d_drops_whole_channels():
    x = np.ones((8, 2, 3, 3, 16), dtype="float32")
    layer = SpatialDropout3D(0.5, seed=0)
    y = layer(x, training=True)
    assert np.all(y.std(axis=(1, 2, 3)) == 0)  # one draw per (sample, channel)
    kept = y[:, 0, 0, 0] != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(y[:, 0, 0, 0][kept], 2.0)
    grad = np.random.default_rng(0).standard_normal(x.shape).astype("float32")
    np.testing.assert_allclose(layer.backward(grad), grad * (y / x))
    np.testing.assert_array_equal(layer(x), x)  # identity at inference
    with pytest.raises(ValueError, match="rank 5"):
        SpatialDropout3D(0.1)(np.zeros((2, 3, 4, 5)))


# -- Keras arguments, configs, errors -------------------------------------------------------------
def test_keras_defaults_and_registration():
    assert ZeroPadding1D().padding == (1, 1)
    assert ZeroPadding3D().padding == ((1, 1), (1, 1), (1, 1))
    assert Cropping1D().cropping == (1, 1)
    assert Cropping3D().cropping == ((1, 1), (1, 1), (1, 1))
    assert UpSampling1D().size == 2
    assert UpSampling3D().size == (2, 2, 2)
    assert ZeroPadding1D(3).padding == (3, 3) and Cropping1D(2).cropping == (2, 2)
    assert ZeroPadding3D((1, 2, 3)).padding == ((1, 1), (2, 2), (3, 3))
    for cls in (ZeroPadding1D, ZeroPadding3D, Cropping1D, Cropping3D, UpSampling1D, UpSampling3D,
                SpatialDropout3D):
        assert layers.LAYERS.lookup(cls.__name__) is cls


@pytest.mark.parametrize("layer", [
    ZeroPadding1D((1, 3)), ZeroPadding3D(((1, 0), (2, 2), (0, 3))), Cropping1D((0, 2)),
    Cropping3D((1, 2, (0, 1))), UpSampling1D(4), UpSampling3D((1, 2, 3)), SpatialDropout3D(0.3, seed=4),
], ids=lambda layer: type(layer).__name__)
def test_configroundtrip(layer):
    clone = roundtrip(layer)
    for attr in ("padding", "cropping", "size", "rate"):
        if hasattr(layer, attr):
            assert getattr(clone, attr) == getattr(layer, attr)


def test_errors_1d_3d():
    for make in (lambda: ZeroPadding1D(data_format="channels_first"),
                 lambda: ZeroPadding3D(data_format="channels_first"),
                 lambda: Cropping3D(data_format="channels_first"),
                 lambda: UpSampling3D(data_format="channels_first"),
                 lambda: SpatialDropout3D(0.1, data_format="channels_first")):
        with pytest.raises(ValueError, match="channels_last"):
            make()
    with pytest.raises(ValueError, match="'padding' parameter of ZeroPadding1D"):
        ZeroPadding1D((1, 2, 3))
    with pytest.raises(ValueError, match="'padding' parameter of ZeroPadding3D"):
        ZeroPadding3D((1, 2))
    with pytest.raises(ValueError, match="'cropping' parameter of Cropping1D"):
        Cropping1D(-1)
    with pytest.raises(ValueError, match="'cropping' parameter of Cropping3D"):
        Cropping3D(((1, 1), (1, 1), (1, -1)))
    with pytest.raises(ValueError, match="'size' parameter of UpSampling1D"):
        UpSampling1D(0)
    with pytest.raises(ValueError, match="'size' parameter of UpSampling3D"):
        UpSampling3D((2, 2))
    with pytest.raises(ValueError, match="nothing would be left"):
        Cropping1D((2, 2))(np.zeros((1, 4, 1)))
    with pytest.raises(ValueError, match="nothing would be left"):
        Cropping3D(1)(np.zeros((1, 4, 2, 4, 1)))
    with pytest.raises(ValueError, match=r"\(batch, depth, height, width, channels\)"):
        ZeroPadding3D()(np.zeros((1, 4, 4, 1)))
    with pytest.raises(ValueError, match=r"\(batch, steps, channels\)"):
        UpSampling1D()(np.zeros((1, 4, 4, 1)))


# -- models ------------------------------------------------------------------------------------------
def test_sequence_model_with_1d_layers_gradients_and_fit():
    with floatx_scope("float64"):
        utils.set_random_seed(0)
        model = Sequential([Input((6, 2)), ZeroPadding1D((2, 0)), Conv1D(3, 3, activation="tanh"),
                            UpSampling1D(2), Cropping1D((1, 3)), Flatten(), Dense(2, activation="softmax")])
        model.compile(optimizer=optimizers.Adam(learning_rate=0.05), loss="categorical_crossentropy")
        rng = np.random.default_rng(0)
        x = rng.standard_normal((32, 6, 2))
        y = np.eye(2)[(x[:, :, 0].sum(axis=1) > 0).astype(int)]
        assert check_model_gradients(model, x[:4], y[:4]) < 1e-6
        before = model.evaluate(x, y, verbose=0)
        model.fit(x, y, epochs=15, batch_size=8, verbose=0)
        assert model.evaluate(x, y, verbose=0) < 0.5 * before


def test_functional_volumetric_model_with_3d_layers():
    with floatx_scope("float64"):
        utils.set_random_seed(1)
        inputs = Input((3, 3, 2, 1))
        h = ZeroPadding3D(1)(inputs)
        h = Conv3D(2, 3, activation="tanh")(h)
        h = UpSampling3D((1, 2, 1))(h)
        h = Cropping3D(((0, 1), (1, 1), 0))(h)
        outputs = Dense(2, activation="softmax")(Flatten()(h))
        model = Model(inputs, outputs)
        assert model.output_shape == (None, 2)
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        x = np.random.default_rng(2).standard_normal((3, 3, 3, 2, 1))
        assert_model_gradients_and_clone(model, x, np.eye(2)[[0, 1, 1]])


def test_spatial_dropout_3d_in_a_model_is_identity_at_inference():
    utils.set_random_seed(2)
    model = Sequential([Input((2, 2, 2, 3)), SpatialDropout3D(0.5, seed=1), Flatten(), Dense(2)])
    x = np.random.default_rng(3).standard_normal((4, 2, 2, 2, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), Flatten()(x) @ model.layers[-1].kernel.value
                               + model.layers[-1].bias.value, rtol=1e-5)
