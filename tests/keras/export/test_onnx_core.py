"""ONNX export of Dense models, activations, normalization, reshaping, merging and nested models."""

import pytest

from automl.keras import Input, Model, Sequential, activations, layers, utils

utils.set_random_seed(0)


def _x(rng, *shape, scale=2.0):
    return (rng.normal(size=shape) * scale).astype("float32")


_PARAMETRIZED = {
    "threshold": {"threshold": 0.3, "default_value": -1.0},
}
_EXTRA_ACTIVATIONS = [
    activations.relu.with_params(negative_slope=0.1, max_value=2.0, threshold=0.5),
    activations.relu.with_params(max_value=1.5),
    activations.relu.with_params(threshold=-0.5),
    activations.gelu.with_params(approximate=True),
    activations.leaky_relu.with_params(negative_slope=0.05),
    activations.elu.with_params(alpha=0.5),
    activations.softmax.with_params(axis=[1, 2]),
    activations.log_softmax.with_params(axis=[1, 2]),
    activations.soft_shrink.with_params(threshold=0.7),
    activations.hard_shrink.with_params(threshold=0.7),
    activations.celu.with_params(alpha=2.0),
    activations.squareplus.with_params(b=1.0),
    activations.sparsemax.with_params(axis=1),
]


_NOT_EXPORTED: set = set()


@pytest.mark.parametrize("name", sorted(set(activations.ACTIVATIONS.names()) - _NOT_EXPORTED))
def test_every_registered_activation(name, rng, check_onnx):
    act = activations.get(name)
    if name in _PARAMETRIZED:
        act = act.with_params(**_PARAMETRIZED[name])
    if name == "glu":  # halves the last axis: an Activation layer, not a Dense activation
        model = Sequential([Input(shape=(3, 4)), layers.Dense(6), layers.Activation(act)])
    else:
        model = Sequential([Input(shape=(3, 4)), layers.Dense(5, activation=act)])
    check_onnx(model, _x(rng, 16, 3, 4))


@pytest.mark.parametrize("act", _EXTRA_ACTIVATIONS, ids=repr)
def test_activation_parameters(act, rng, check_onnx):
    model = Sequential([Input(shape=(3, 4)), layers.Activation(act)])
    check_onnx(model, _x(rng, 16, 3, 4))


@pytest.mark.parametrize(
    "layer",
    [
        layers.ReLU(),
        layers.ReLU(max_value=1.0, negative_slope=0.2, threshold=0.1),
        layers.LeakyReLU(negative_slope=0.3),
        layers.ELU(alpha=0.7),
        layers.Softmax(),
        layers.Softmax(axis=1),
        layers.PReLU(alpha_initializer="random_normal"),
        layers.PReLU(alpha_initializer="random_normal", shared_axes=[1]),
        layers.Dropout(0.5),
        layers.SpatialDropout1D(0.5),
        layers.GaussianNoise(0.3),
        layers.GaussianDropout(0.3),
        layers.AlphaDropout(0.3),
        layers.ActivityRegularization(l1=0.1),
        layers.Identity(),
        layers.LayerNormalization(),
        layers.LayerNormalization(axis=[1, 2], center=False),
        layers.LayerNormalization(rms_scaling=True),
        layers.UnitNormalization(),
        layers.UnitNormalization(axis=[1, 2]),
        layers.GroupNormalization(groups=2),
        layers.GroupNormalization(groups=1, axis=1, center=False),
        layers.GroupNormalization(groups=4, scale=False),
        layers.EinsumDense("abc,cd->abd", output_shape=(3, 5), bias_axes="d", activation="relu"),
        layers.EinsumDense("abc,cde->abde", output_shape=(3, 2, 5), bias_axes="de"),
        layers.EinsumDense("...c,cd->...d", output_shape=6),
        layers.Flatten(),
        layers.Reshape((12,)),
        layers.Reshape((2, -1)),
        layers.Permute((2, 1)),
        layers.Rescaling(0.5, offset=-1.0),
        layers.Rescaling([1.0, 2.0, 3.0, 4.0]),
        layers.Normalization(mean=[0.1, 0.2, 0.3, 0.4], variance=[1.0, 2.0, 3.0, 4.0]),
        layers.Normalization(mean=0.5, variance=2.0, invert=True),
        layers.ZeroPadding1D((1, 2)),
        layers.Cropping1D((1, 0)),
        layers.UpSampling1D(2),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_layers_on_sequences(layer, rng, check_onnx):
    model = Sequential([Input(shape=(3, 4)), layer])
    weights = layer.get_weights()
    if weights:  # non-trivial gammas, betas, kernels and slopes
        layer.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in weights])
    check_onnx(model, _x(rng, 8, 3, 4))


@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_normalization_uses_moving_statistics(axis, rng, check_onnx):
    bn = layers.BatchNormalization(axis=axis, epsilon=1e-3)
    model = Sequential([Input(shape=(3, 4)), bn])
    dim = 4 if axis == -1 else 3
    gamma, beta = rng.normal(size=dim), rng.normal(size=dim)
    mean, var = rng.normal(size=dim), rng.uniform(0.5, 2.0, size=dim)
    bn.set_weights([gamma, beta, mean, var])
    check_onnx(model, _x(rng, 8, 3, 4))


def test_adapted_normalization(rng, check_onnx):
    norm = layers.Normalization()
    norm.adapt(_x(rng, 50, 4) + 3.0)
    model = Sequential([Input(shape=(4,)), norm, layers.Dense(2)])
    check_onnx(model, _x(rng, 8, 4))


def test_mlp_with_dropout_and_batch_norm_after_training(rng, check_onnx):
    model = Sequential([
        Input(shape=(6,)), layers.Dense(16, activation="relu"), layers.BatchNormalization(),
        layers.Dropout(0.3), layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = _x(rng, 64, 6)
    model.fit(x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0), epochs=2, verbose=0)
    check_onnx(model, x)


def test_embedding_and_repeat_vector(rng, check_onnx):
    tokens = Input(shape=(5,), dtype="int64")
    emb = layers.Embedding(20, 4)(tokens)
    flat = layers.Flatten()(emb)
    rep = layers.RepeatVector(2)(layers.Dense(3)(flat))
    model = Model(tokens, rep)
    check_onnx(model, rng.integers(0, 20, size=(6, 5)))


def test_embedding_float_inputs(rng, check_onnx):
    model = Sequential([Input(shape=(5,)), layers.Embedding(20, 4), layers.GlobalAveragePooling1D()])
    check_onnx(model, rng.integers(0, 20, size=(6, 5)).astype("float32"))


@pytest.mark.parametrize(
    "merge", [layers.Add(), layers.Subtract(), layers.Multiply(), layers.Average(), layers.Maximum(),
              layers.Minimum(), layers.Concatenate(), layers.Concatenate(axis=1)],
    ids=lambda layer: f"{type(layer).__name__}",
)
def test_merging_layers_with_two_inputs_and_two_outputs(merge, rng, check_onnx):
    a, b = Input(shape=(3, 4), name="a"), Input(shape=(3, 4), name="b")
    merged = merge([layers.Dense(4, activation="tanh")(a), b])
    out1 = layers.Dense(2, name="head1")(merged)
    out2 = layers.Dense(1, activation="sigmoid", name="head2")(layers.Flatten()(merged))
    model = Model([a, b], [out1, out2])
    check_onnx(model, [_x(rng, 8, 3, 4), _x(rng, 8, 3, 4)])


def test_merging_broadcasts_lower_rank_inputs(rng, check_onnx):
    a, b = Input(shape=(3, 4)), Input(shape=(4,))
    model = Model([a, b], layers.Add()([a, b]))
    check_onnx(model, [_x(rng, 8, 3, 4), _x(rng, 8, 4)])


@pytest.mark.parametrize("axes,normalize", [(1, False), (1, True), ((2, 2), False), ((1, 1), True)])
def test_dot(axes, normalize, rng, check_onnx):
    a, b = Input(shape=(3, 4)), Input(shape=(3, 4))
    out = layers.Dot(axes=axes, normalize=normalize)([a, b])
    model = Model([a, b], out)
    check_onnx(model, [_x(rng, 8, 3, 4), _x(rng, 8, 3, 4)])


def test_dot_of_vectors(rng, check_onnx):
    a, b = Input(shape=(4,)), Input(shape=(4,))
    check_onnx(Model([a, b], layers.Dot(axes=1)([a, b])), [_x(rng, 8, 4), _x(rng, 8, 4)])


def test_shared_layer_and_branches(rng, check_onnx):
    inputs = Input(shape=(5,))
    shared = layers.Dense(5, activation="relu")
    left = shared(inputs)
    right = shared(layers.Dense(5)(inputs))
    both = layers.Concatenate()([left, right, shared(left)])
    model = Model(inputs, layers.Dense(2, activation="softmax")(both))
    check_onnx(model, _x(rng, 8, 5))


def test_nested_sequential_and_functional_models(rng, check_onnx):
    inner_seq = Sequential([Input(shape=(4,)), layers.Dense(6, activation="relu"), layers.Dense(3)])
    a = Input(shape=(3,))
    inner_fn = Model(a, [layers.Dense(3)(a), layers.Dense(3, activation="relu")(a)], name="inner_fn")
    x = Input(shape=(4,), name="x")
    h = inner_seq(x)
    s, p = inner_fn(layers.Add()([h, layers.Dense(3)(x)]))
    out = layers.Concatenate()([s, p, inner_seq(layers.Dense(4)(x))])
    model = Model(x, out)
    outer = Sequential([Input(shape=(4,)), model, layers.Dense(2)])
    check_onnx(model, _x(rng, 8, 4))
    check_onnx(outer, _x(rng, 8, 4))


def test_graph_input_and_output_names_and_dynamic_batch(rng, tmp_path):
    import onnxruntime as ort

    x = Input(shape=(4,), name="features")
    model = Model(x, layers.Dense(2, name="scores")(x))
    path = tmp_path / "m.onnx"
    model.export(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["features"]
    assert [o.name for o in session.get_outputs()] == ["scores"]
    assert session.get_inputs()[0].shape == ["batch", 4]
    for n in (1, 3, 100):
        assert session.run(None, {"features": _x(rng, n, 4)})[0].shape == (n, 2)


@pytest.mark.parametrize(
    "inner",
    [layers.Dense(3, activation="relu"), layers.Conv1D(2, 2, padding="same"), layers.Flatten(),
     Sequential([Input(shape=(4,)), layers.Dense(5), layers.Dense(2)])],
    ids=lambda layer: type(layer).__name__,
)
def test_time_distributed(inner, rng, check_onnx):
    shape = (3, 4) if not isinstance(inner, layers.Conv1D) else (3, 4, 2)
    model = Sequential([Input(shape=shape), layers.TimeDistributed(inner)])
    check_onnx(model, _x(rng, 5, *shape))


def test_integer_inputs_feed_float_layers(rng, check_onnx):
    ids = Input(shape=(3,), dtype="int64")
    emb = layers.Flatten()(layers.Embedding(10, 2)(ids))
    both = layers.Concatenate()([emb, layers.Dense(2)(ids)])
    check_onnx(Model(ids, both), rng.integers(0, 10, size=(4, 3)))


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("shape", [(1,), (4,)], ids=str)
def test_category_encoding(mode, shape, rng, check_onnx):
    if mode == "one_hot" and shape == (4,):
        model = Sequential([Input(shape=shape, dtype="int64"), layers.CategoryEncoding(5, output_mode=mode),
                            layers.Flatten()])
    else:
        model = Sequential([Input(shape=shape, dtype="int64"), layers.CategoryEncoding(5, output_mode=mode)])
    check_onnx(model, rng.integers(0, 5, size=(7, *shape)))


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization(mode, rng, check_onnx):
    x = Input(shape=(3,))
    disc = layers.Discretization(bin_boundaries=[-1.0, 0.0, 0.5, 2.0], output_mode=mode)(x)
    model = Model(x, disc)
    data = _x(rng, 9, 3)
    data[0] = [-1.0, 0.0, 2.0]  # on the boundaries
    check_onnx(model, data)


def test_discretization_feeding_an_embedding_and_a_dense(rng, check_onnx):
    x = Input(shape=(3,))
    idx = layers.Discretization(bin_boundaries=[-0.5, 0.5])(x)
    emb = layers.Flatten()(layers.Embedding(3, 2)(idx))
    model = Model(x, layers.Concatenate()([emb, layers.Dense(2)(idx)]))
    check_onnx(model, _x(rng, 6, 3))


@pytest.mark.parametrize(
    "layer",
    [layers.RandomFlip(), layers.RandomRotation(0.2), layers.RandomZoom(0.2), layers.RandomTranslation(0.1, 0.1),
     layers.RandomContrast(0.3), layers.RandomBrightness(0.2)],
    ids=lambda layer: type(layer).__name__,
)
def test_augmentation_is_the_identity_at_inference(layer, rng, check_onnx):
    model = Sequential([Input(shape=(6, 5, 3)), layer, layers.Conv2D(2, 3)])
    check_onnx(model, rng.uniform(0, 255, size=(2, 6, 5, 3)).astype("float32"), rtol=1e-5, atol=1e-3)
