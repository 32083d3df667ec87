"""Architectures: Keras's parameter totals, layer names and weight shapes, arguments and errors.

The totals are real Keras 3.15's ``count_params()`` (and trainable counts) with
``weights=None``; ``fixtures/architectures.json.gz`` holds, per model, Keras's
layers with weights in ``model.layers`` order (fixtures/make_fixtures.py).
"""

import gzip
import json
import os

import numpy as np
import pytest

from automl.keras import Input, applications, backend, layers
from automl.keras.applications import imagenet_utils

HERE = os.path.dirname(os.path.abspath(__file__))
with gzip.open(os.path.join(HERE, "fixtures", "architectures.json.gz"), "rt") as f:
    KERAS_LAYERS = json.load(f)

# name: ((total, trainable) with the top, (total, trainable) without), from real Keras
KERAS_PARAMS = {
    "VGG16": ((138357544, 138357544), (14714688, 14714688)),
    "VGG19": ((143667240, 143667240), (20024384, 20024384)),
    "ResNet50": ((25636712, 25583592), (23587712, 23534592)),
    "ResNet101": ((44707176, 44601832), (42658176, 42552832)),
    "ResNet152": ((60419944, 60268520), (58370944, 58219520)),
    "ResNet50V2": ((25613800, 25568360), (23564800, 23519360)),
    "ResNet101V2": ((44675560, 44577896), (42626560, 42528896)),
    "ResNet152V2": ((60380648, 60236904), (58331648, 58187904)),
    "MobileNet": ((4253864, 4231976), (3228864, 3206976)),
    "MobileNetV2": ((3538984, 3504872), (2257984, 2223872)),
    "MobileNetV3Small": ((2554968, 2542856), (939120, 927008)),
    "MobileNetV3Large": ((5507432, 5483032), (2996352, 2971952)),
    "EfficientNetB0": ((5330571, 5288548), (4049571, 4007548)),
    "EfficientNetB1": ((7856239, 7794184), (6575239, 6513184)),
    "EfficientNetB2": ((9177569, 9109994), (7768569, 7700994)),
    "EfficientNetB3": ((12320535, 12233232), (10783535, 10696232)),
    "EfficientNetB4": ((19466823, 19341616), (17673823, 17548616)),
    "EfficientNetB5": ((30562527, 30389784), (28513527, 28340784)),
    "EfficientNetB6": ((43265143, 43040704), (40960143, 40735704)),
    "EfficientNetB7": ((66658687, 66347960), (64097687, 63786960)),
    "DenseNet121": ((8062504, 7978856), (7037504, 6953856)),
    "DenseNet169": ((14307880, 14149480), (12642880, 12484480)),
    "DenseNet201": ((20242984, 20013928), (18321984, 18092928)),
    "InceptionV3": ((23851784, 23817352), (21802784, 21768352)),
    "Xception": ((22910480, 22855952), (20861480, 20806952)),
}


@pytest.mark.parametrize("include_top", [True, False], ids=["top", "notop"])
@pytest.mark.parametrize("name", sorted(KERAS_PARAMS))
def test_parameter_totals_layer_names_and_weight_shapes_equal_keras(name, include_top):
    backend.clear_session()
    model = getattr(applications, name)(weights=None, include_top=include_top)
    total, trainable = KERAS_PARAMS[name][0 if include_top else 1]
    assert model.count_params() == total
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == trainable
    ours = [[layer.name, type(layer).__name__, [list(w.shape) for w in layer.get_weights()]]
            for layer in model.layers if layer.weights]
    assert ours == KERAS_LAYERS[f"{name}/{include_top}"]


def test_every_constructor_is_tested_and_exported_from_its_module():
    ctors = {n for n in applications.__all__ if n[0].isupper()}
    assert ctors == set(KERAS_PARAMS)
    modules = [getattr(applications, n) for n in applications.__all__ if n[0].islower()]
    for module in modules:
        assert callable(module.preprocess_input) and callable(module.decode_predictions)
    assert {c for m in modules for c in m.__all__ if c[0].isupper() and "_" not in c} == ctors


def test_summary_totals_match_keras(capsys):
    applications.MobileNetV2(weights=None).summary()
    out = capsys.readouterr().out
    assert "Total params: 3,538,984" in out
    assert "Trainable params: 3,504,872" in out
    assert "Non-trainable params: 34,112" in out


def test_model_names_follow_keras():
    assert applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35).name \
        == "mobilenetv2_0.35_96"
    assert applications.ResNet50V2(weights=None, include_top=False).name == "resnet50v2"
    assert applications.EfficientNetB0(weights=None, include_top=False, name="b0").name == "b0"


def test_pooling_and_classes():
    m = applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3),
                              pooling="max")
    assert m.output_shape == (None, 2048) and m.layers[-1].name == "max_pool"
    m = applications.DenseNet121(weights=None, input_shape=(32, 32, 3), classes=7,
                                 classifier_activation=None)
    assert m.output_shape == (None, 7)
    assert m.get_layer("predictions").get_config()["activation"] == "linear"


def test_input_tensor_keeps_its_predecessors():
    inputs = Input(shape=(40, 40, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    model = applications.MobileNetV3Small(input_tensor=x, weights=None, include_top=False,
                                          minimalistic=True, pooling="avg")
    assert model.inputs[0] is inputs
    assert model.predict(np.zeros((1, 40, 40, 3), "float32"), verbose=0).shape == (1, 576)


@pytest.mark.parametrize("call, match", [
    (lambda: applications.VGG16(weights="nope.h5"),
     r"'weights' parameter of VGG16 must be None, 'imagenet' or the path"),
    (lambda: applications.ResNet50(weights="imagenet", classes=10),
     r"'classes' parameter of ResNet50 must be 1000 when weights='imagenet'.*Got 10"),
    (lambda: applications.ResNet50(weights=None, include_top=False, input_shape=(16, 16, 3)),
     r"'input_shape' parameter of ResNet50 must be at least 32x32 pixels. Got \(16, 16, 3\)"),
    (lambda: applications.InceptionV3(weights=None, include_top=False,
                                      input_shape=(74, 74, 3)), r"at least 75x75"),
    (lambda: applications.Xception(weights="imagenet", input_shape=(224, 224, 3)),
     r"'input_shape' parameter of Xception must be \(299, 299, 3\) with include_top=True"),
    (lambda: applications.VGG19(weights="imagenet", include_top=False,
                                input_shape=(64, 64, 1)), r"3 channels"),
    (lambda: applications.VGG16(weights=None, input_shape=(32, 32)),
     r"a tuple of three integers"),
    (lambda: applications.DenseNet121(weights=None, include_top=False, pooling="mean"),
     r"'pooling' parameter of DenseNet121 must be None, 'avg' or 'max'. Got 'mean'"),
    (lambda: applications.MobileNetV2(weights="imagenet", alpha=0.4),
     r"'alpha' parameter of MobileNetV2 must be one of 0.35"),
    (lambda: applications.MobileNet(weights="imagenet", depth_multiplier=2),
     r"'depth_multiplier' parameter of MobileNet must be 1"),
    (lambda: applications.MobileNetV3Small(weights="imagenet", minimalistic=True, alpha=0.75),
     r"'alpha' parameter of MobileNetV3Small"),
    (lambda: applications.MobileNetV3Large(weights=None, input_shape=(31, 64, 3)),
     r"at least 32x32"),
    (lambda: applications.EfficientNetB0(weights="imagenet", classifier_activation="relu"),
     r"'classifier_activation' parameter of EfficientNetB0 must be None or 'softmax'"),
])
def test_bad_arguments_are_one_line_errors(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_input_tensor_must_be_symbolic():
    with pytest.raises(TypeError, match="'input_tensor' parameter of VGG16"):
        applications.VGG16(weights=None, input_tensor=np.zeros((1, 32, 32, 3)))


def test_depth_multiplier_widens_the_depthwise_convolutions():
    m = applications.MobileNet(weights=None, input_shape=(32, 32, 3), alpha=0.25,
                               depth_multiplier=2, include_top=False)
    assert m.get_layer("conv_dw_1").get_weights()[0].shape == (3, 3, 8, 2)


# -- preprocess_input ---------------------------------------------------------
def _images():
    return np.random.default_rng(0).uniform(0, 255, size=(2, 3, 4, 3)).astype("float32")


def test_preprocess_caffe_tf_torch_modes():
    x = _images()
    caffe = imagenet_utils.preprocess_input(x.copy(), mode="caffe")
    np.testing.assert_allclose(caffe, x[..., ::-1] - np.array([103.939, 116.779, 123.68]),
                               rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(imagenet_utils.preprocess_input(x.copy(), mode="tf"),
                               x / 127.5 - 1, rtol=1e-6, atol=1e-6)
    torch = (x / 255 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(imagenet_utils.preprocess_input(x.copy(), mode="torch"), torch,
                               rtol=1e-5, atol=1e-6)
    first = imagenet_utils.preprocess_input(np.moveaxis(x, -1, 1).copy(), mode="caffe",
                                            data_format="channels_first")
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), caffe, rtol=1e-6)


def test_preprocess_in_place_for_floats_and_cast_for_integers():
    x = _images()
    out = applications.vgg16.preprocess_input(x)
    assert out.dtype == np.float32
    u8 = np.full((1, 2, 2, 3), 255, dtype=np.uint8)
    assert applications.mobilenet_v2.preprocess_input(u8).dtype == np.float32
    assert applications.resnet_v2.preprocess_input(u8).max() == pytest.approx(1.0)
    x = _images()
    assert applications.mobilenet_v3.preprocess_input(x) is x
    assert applications.efficientnet.preprocess_input(x) is x


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_symbolic_equals_numpy(mode):
    from automl.keras import Model

    inputs = Input(shape=(3, 4, 3))
    model = Model(inputs, imagenet_utils.preprocess_input(inputs, mode=mode))
    x = _images()
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               imagenet_utils.preprocess_input(x.copy(), mode=mode),
                               rtol=1e-5, atol=1e-5)


def test_preprocess_bad_arguments():
    with pytest.raises(ValueError, match="'mode' parameter of preprocess_input"):
        imagenet_utils.preprocess_input(_images(), mode="keras")
    with pytest.raises(ValueError, match="'data_format' parameter of preprocess_input"):
        imagenet_utils.preprocess_input(_images(), data_format="nhwc")
    with pytest.raises(ValueError, match="3 channels"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 4)))


def test_efficientnet_without_pretrained_weights_predicts():
    # Keras normalizes with the un-adapted mean 0 and variance 1 when no weights are loaded.
    model = applications.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3),
                                        pooling="avg")
    out = model.predict(np.full((1, 32, 32, 3), 128.0, "float32"), verbose=0)
    assert out.shape == (1, 1280) and np.isfinite(out).all()
