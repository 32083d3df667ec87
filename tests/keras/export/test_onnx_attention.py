"""ONNX export of MultiHeadAttention (self- and cross-attention, masks, scores) in small transformers."""

import pytest

from automl.keras import Input, Model, layers, utils
from tests.keras.export.onnx_helpers import random_input, randomize_weights

utils.set_random_seed(0)


@pytest.mark.parametrize(
    "kwargs",
    [dict(num_heads=2, key_dim=3), dict(num_heads=3, key_dim=2, value_dim=4, use_bias=False),
     dict(num_heads=2, key_dim=4, output_shape=5), dict(num_heads=1, key_dim=2, output_shape=(2, 3))],
    ids=str,
)
def test_self_attention(kwargs, rng, check_onnx):
    x = Input(shape=(5, 6))
    model = Model(x, layers.MultiHeadAttention(**kwargs)(x, x))
    randomize_weights(model, rng)
    check_onnx(model, random_input(rng, 3, 5, 6))


def test_cross_attention_with_key_causal_mask_and_scores(rng, check_onnx):
    q, v, k = Input(shape=(4, 6)), Input(shape=(4, 3)), Input(shape=(4, 5))
    out, scores = layers.MultiHeadAttention(2, 3)(q, v, key=k, return_attention_scores=True,
                                                  use_causal_mask=True)
    model = Model([q, v, k], [out, scores])
    randomize_weights(model, rng)
    check_onnx(model, [random_input(rng, 3, 4, 6), random_input(rng, 3, 4, 3), random_input(rng, 3, 4, 5)])


def test_attention_mask_input(rng, check_onnx):
    q, v = Input(shape=(4, 6)), Input(shape=(7, 6))
    mask = Input(shape=(4, 7))
    model = Model([q, v, mask], layers.MultiHeadAttention(2, 3)(q, v, attention_mask=mask))
    randomize_weights(model, rng)
    m = (rng.random((3, 4, 7)) > 0.3).astype("float32")
    check_onnx(model, [random_input(rng, 3, 4, 6), random_input(rng, 3, 7, 6), m])


def test_transformer_block(rng, check_onnx):
    tokens = Input(shape=(6,), dtype="int64")
    h = layers.Embedding(20, 8)(tokens)
    att = layers.MultiHeadAttention(2, 4, dropout=0.1)(h, h, use_causal_mask=True)
    h = layers.LayerNormalization()(layers.Add()([h, att]))
    ff = layers.Dense(8)(layers.Dense(16, activation="gelu")(h))
    h = layers.LayerNormalization()(layers.Add()([h, layers.Dropout(0.1)(ff)]))
    out = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling1D()(h))
    model = Model(tokens, out)
    check_onnx(model, rng.integers(0, 20, size=(4, 6)))


@pytest.mark.parametrize(
    "layer",
    [lambda: layers.Attention(), lambda: layers.Attention(use_scale=True),
     lambda: layers.Attention(score_mode="concat"), lambda: layers.Attention(score_mode="concat", use_scale=True),
     lambda: layers.AdditiveAttention(), lambda: layers.AdditiveAttention(use_scale=False)],
    ids=["dot", "dot-scale", "concat", "concat-scale", "additive", "additive-no-scale"],
)
@pytest.mark.parametrize("options", [{}, {"use_causal_mask": True, "return_attention_scores": True}], ids=str)
def test_attention_layers(layer, options, rng, check_onnx):
    q, v, k = Input(shape=(4, 3)), Input(shape=(5, 2)), Input(shape=(5, 3))
    out = layer()([q, v, k], **options)
    model = Model([q, v, k], out)
    randomize_weights(model, rng)
    check_onnx(model, [random_input(rng, 3, 4, 3), random_input(rng, 3, 5, 2), random_input(rng, 3, 5, 3)])
