"""MultiHeadAttention: values against an einsum reference written from the formulas, Keras weight
shapes/order and parameter counts, masks, float64 gradient checks of every option, config,
functional models (self- and cross-attention, attention_mask input, causal), training, save/load."""

import json
import math

import numpy as np
import pytest

from automl.keras import Input, Model, layers, models, regularizers, utils
from automl.keras.layers import Dense, GlobalAveragePooling1D
from automl.keras.layers._embedding import Embedding
from automl.keras.layers._multi_head_attention import MultiHeadAttention
from automl.testing import check_model_gradients, floatx_scope
from tests.keras.layers.test_attention import _token_task, check_attention_gradients

from .helpers import assert_fits_binary_task, assert_survives_saving


def reference(layer, query, value, key=None, attention_mask=None, q_mask=None, v_mask=None,
              k_mask=None, causal=False):
    """Keras's MultiHeadAttention from its formulas (einsum over named axes), rank-3 inputs."""
    key = value if key is None else key
    w = layer.get_weights()
    if layer.use_bias:
        wq, bq, wk, bk, wv, bv, wo, bo = w
    else:
        (wq, wk, wv, wo), bq = w, 0.0
        bk = bv = bo = 0.0
    q = np.einsum("btd,dnh->btnh", query, wq) + bq
    k = np.einsum("bsd,dnh->bsnh", key, wk) + bk
    v = np.einsum("bsd,dnh->bsnh", value, wv) + bv
    scores = np.einsum("btnh,bsnh->bnts", q / math.sqrt(layer.key_dim), k)
    b, t, s = query.shape[0], query.shape[1], value.shape[1]
    keep = np.ones((b, t, s), dtype=bool)
    if q_mask is not None:
        keep &= q_mask[:, :, None]
    for m in (v_mask, k_mask):
        if m is not None:
            keep &= m[:, None, :]
    if causal:
        keep &= np.arange(s)[None, :] <= np.arange(t)[:, None]
    if attention_mask is not None:
        keep &= attention_mask.astype(bool)
    scores = scores + (1.0 - keep[:, None]) * -1e9
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = np.einsum("bnts,bsnh->btnh", probs, v)
    out = np.tensordot(context, wo, axes=([2, 3], [0, 1])) + bo
    return out, probs


def _inputs(rng, b=2, t=4, s=5, dq=6, dv=3, dk=5):
    return (rng.standard_normal((b, t, dq)), rng.standard_normal((b, s, dv)),
            rng.standard_normal((b, s, dk)))


# -- weights ----------------------------------------------------------------------------------
def test_keras_weight_shapes_order_and_param_count():
    layer = MultiHeadAttention(num_heads=2, key_dim=4, name="mha")
    x = np.zeros((3, 5, 8), dtype=np.float32)
    layer(x, x)
    # Keras: query/key/value EinsumDense kernels (8, 2, 4) + biases (2, 4); output (2, 4, 8) + (8,)
    by_hand = 3 * (8 * 2 * 4 + 2 * 4) + (2 * 4 * 8 + 8)
    assert by_hand == 288 and layer.count_params() == 288
    assert [(v.name, v.shape) for v in layer.weights] == [
        ("mha/query/kernel", (8, 2, 4)), ("mha/query/bias", (2, 4)),
        ("mha/key/kernel", (8, 2, 4)), ("mha/key/bias", (2, 4)),
        ("mha/value/kernel", (8, 2, 4)), ("mha/value/bias", (2, 4)),
        ("mha/attention_output/kernel", (2, 4, 8)), ("mha/attention_output/bias", (8,)),
    ]
    biases = layer.get_weights()[1::2]
    assert all(not b.any() for b in biases)  # bias_initializer="zeros"


def test_weight_shapes_with_value_dim_output_shape_and_no_bias():
    layer = MultiHeadAttention(3, 2, value_dim=5, output_shape=(2, 7), use_bias=False)
    query, value, key = _inputs(np.random.default_rng(0))
    out = layer(query, value, key)
    assert out.shape == (2, 4, 2, 7)
    assert [w.shape for w in layer.get_weights()] == [(6, 3, 2), (5, 3, 2), (3, 3, 5), (3, 5, 2, 7)]
    assert layer.count_params() == 36 + 30 + 45 + 210
    assert MultiHeadAttention(2, 2, output_shape=4).compute_output_shape((None, 3, 6), (None, 5, 2)) \
        == (None, 3, 4)


# -- forward values --------------------------------------------------------------------------
CASES = {
    "self": dict(kind="self"),
    "cross-key": dict(kind="cross"),
    "value-dim-output-shape": dict(kind="cross", layer=dict(value_dim=3, output_shape=7)),
    "no-bias": dict(kind="cross", layer=dict(use_bias=False)),
    "masks": dict(kind="cross", masks=True),
    "attention-mask": dict(kind="cross", attention_mask=True),
    "causal-self-masks": dict(kind="self", causal=True, masks=True),
}


def _case_arrays(case, rng):
    query, value, key = _inputs(rng, t=5, s=5)
    if case["kind"] == "self":
        value = key = query
    q_mask = v_mask = k_mask = am = None
    if case.get("masks"):
        q_mask = rng.random((2, 5)) > 0.3
        v_mask = rng.random((2, 5)) > 0.3
        k_mask = rng.random((2, 5)) > 0.2
        v_mask[:, 0] = k_mask[:, 0] = True
        if case["kind"] == "self":
            v_mask = k_mask = q_mask
            q_mask[:, 0] = True
    if case.get("attention_mask"):
        am = rng.random((2, 5, 5)) > 0.4
        am[:, :, 0] = True
    return query, value, key, q_mask, v_mask, k_mask, am


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_reference(name):
    case = CASES[name]
    rng = np.random.default_rng(1)
    query, value, key, q_mask, v_mask, k_mask, am = _case_arrays(case, rng)
    with floatx_scope("float64"):
        layer = MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal",
                                   **case.get("layer", {}))
        key_arg = None if case["kind"] == "self" else key
        out, scores = layer(query, value, key_arg, query_mask=q_mask, value_mask=v_mask,
                            key_mask=None if key_arg is None else k_mask, attention_mask=am,
                            use_causal_mask=case.get("causal", False), return_attention_scores=True)
    ref_out, ref_scores = reference(layer, query, value, key_arg, am, q_mask, v_mask,
                                    None if key_arg is None else k_mask, case.get("causal", False))
    np.testing.assert_allclose(out, ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-10, atol=1e-12)
    if v_mask is not None:  # masked keys get no weight (rows of masked queries are all masked)
        hidden = np.broadcast_to(~v_mask[:, None, None, :] & q_mask[:, None, :, None], scores.shape)
        assert np.all(scores[hidden] == 0)


def test_float32_default_and_float64_follows_floatx():
    x = np.random.default_rng(0).random((2, 3, 4))
    assert MultiHeadAttention(2, 2)(x, x).dtype == np.float32
    with floatx_scope("float64"):
        layer = MultiHeadAttention(2, 2)
        assert layer(x, x).dtype == np.float64 and layer.get_weights()[0].dtype == np.float64


def test_higher_rank_inputs_attend_over_all_inner_axes():
    rng = np.random.default_rng(2)
    query, value = rng.standard_normal((2, 3, 2, 4)), rng.standard_normal((2, 2, 3, 5))
    with floatx_scope("float64"):
        layer = MultiHeadAttention(2, 3)
        out, scores = layer(query, value, return_attention_scores=True)
    assert out.shape == (2, 3, 2, 4) and scores.shape == (2, 2, 3, 2, 2, 3)
    ref_out, ref_scores = reference(layer, query.reshape(2, 6, 4), value.reshape(2, 6, 5))
    np.testing.assert_allclose(out.reshape(2, 6, 4), ref_out, rtol=1e-10)
    np.testing.assert_allclose(scores.reshape(2, 2, 6, 6), ref_scores, rtol=1e-10)


def test_output_mask_is_the_query_mask():
    layer = MultiHeadAttention(2, 2)
    m = np.array([[True, False, True]])
    assert layer.compute_mask([None, None], None) is None
    np.testing.assert_array_equal(layer.compute_mask([None, None], [m, None]), m)


# -- gradients ------------------------------------------------------------------------------
GRADIENT_CASES = {
    "self-2-inputs": dict(n=2),
    "cross-key": dict(n=3),
    "value-dim-output-shape": dict(n=3, layer=dict(value_dim=2, output_shape=(2, 3))),
    "no-bias": dict(n=3, layer=dict(use_bias=False)),
    "masks-causal-scores": dict(n=3, masks=True, causal=True, scores=True),
    "attention-mask": dict(n=4),
    "activity-regularizer": dict(n=3, layer=dict(activity_regularizer=regularizers.L1L2(0.01, 0.02))),
    "dropout": dict(n=2, layer=dict(dropout=0.3), scores=True),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradients(name):
    case = GRADIENT_CASES[name]
    rng = np.random.default_rng(3)
    query, value, key = _inputs(rng, b=2, t=4, s=4, dq=3, dv=2, dk=3)
    inputs = [query, value, key][: min(case["n"], 3)]
    if case["n"] == 4:
        am = rng.random((2, 4, 4)) > 0.4
        am[:, :, 0] = True
        inputs.append(am)
    mask = upstream_mask = None
    if case.get("masks"):
        q_mask = rng.random((2, 4)) > 0.3
        v_mask = rng.random((2, 4)) > 0.3
        v_mask[:, 0] = True
        mask = [q_mask, v_mask, v_mask]
        # Keras masks whole rows of masked queries (scores all - 1e9, whose float64 rounding
        # defeats central differences): their outputs and scores get no upstream gradient.
        upstream_mask = [q_mask[:, :, None], q_mask[:, None, :, None]]
    layer, grads = check_attention_gradients(
        lambda: MultiHeadAttention(2, 2, bias_initializer="random_normal", **case.get("layer", {})),
        inputs, mask=mask, n_diff=min(case["n"], 3), upstream_mask=upstream_mask,
        dropout_seed=5 if "dropout" in name else None,
        return_attention_scores=case.get("scores", False), use_causal_mask=case.get("causal", False),
    )
    if case["n"] == 4:
        assert grads[3].shape == am.shape and not grads[3].any()
    if "activity" in name:
        assert layer.activity_penalty > 0
    if "dropout" in name:
        assert (layer._cache["dmask"] == 0).any()


def test_no_input_gradient_and_frozen():
    x = np.random.default_rng(0).random((2, 3, 4)).astype(np.float32)
    layer = MultiHeadAttention(2, 2)
    out = layer(x, x)
    layer._input_grad_needed = False
    assert layer.backward(np.ones_like(out)) is None
    assert all(v.grad.any() for v in layer.trainable_weights[::2])
    layer.trainable = False
    assert layer.trainable_weights == []


# -- dropout ----------------------------------------------------------------------------------
def test_dropout_only_in_training_and_returned_scores_before_dropout():
    x = np.random.default_rng(0).random((2, 6, 4))
    layer = MultiHeadAttention(2, 2, dropout=0.5, seed=1)
    out_a = layer(x, x)
    np.testing.assert_array_equal(out_a, layer(x, x, training=False))
    out_t, scores_t = layer(x, x, training=True, return_attention_scores=True)
    assert not np.allclose(out_t, out_a)
    np.testing.assert_allclose(scores_t.sum(-1), 1.0, rtol=1e-5)  # weights before dropout
    again = MultiHeadAttention(2, 2, dropout=0.5, seed=1)
    again(x, x)
    again.set_weights(layer.get_weights())
    layer._rng = None
    np.testing.assert_array_equal(again(x, x, training=True), layer(x, x, training=True))


# -- config, registry, errors --------------------------------------------------------------
def test_config_round_trip_and_keras_keys():
    layer = MultiHeadAttention(4, 8, value_dim=6, dropout=0.1, use_bias=False, output_shape=(3, 2),
                               kernel_initializer="he_normal", kernel_regularizer="l2",
                               activity_regularizer=regularizers.L1(0.1), seed=3, name="mha")
    config = layer.get_config()
    json.dumps(config)
    assert {"num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape",
            "attention_axes", "kernel_initializer", "bias_initializer", "kernel_regularizer",
            "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
            "seed"} <= set(config)
    clone = MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    assert layers.deserialize(layers.serialize(layer)).get_config() == config
    assert MultiHeadAttention(2, 3).get_config()["value_dim"] == 3
    assert layers.LAYERS.lookup("MultiHeadAttention") is MultiHeadAttention


def test_invalid_arguments():
    with pytest.raises(NotImplementedError, match="attention_axes=None"):
        MultiHeadAttention(2, 2, attention_axes=(1,))
    with pytest.raises(ValueError, match="'num_heads' parameter of MultiHeadAttention"):
        MultiHeadAttention(0, 2)
    with pytest.raises(ValueError, match="'output_shape' parameter"):
        MultiHeadAttention(2, 2, output_shape=(0,))
    with pytest.raises(ValueError, match="'dropout' parameter"):
        MultiHeadAttention(2, 2, dropout=1.5)
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match="except the last one"):
        MultiHeadAttention(2, 2)(x, np.ones((2, 5, 4)), np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="query and value"):
        MultiHeadAttention(2, 2)(x)
    with pytest.raises(ValueError, match="attention_mask"):
        MultiHeadAttention(2, 2)(x, x, attention_mask=np.ones((2, 3)))


# -- models --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Layer .* does not support masking")
def test_self_attention_model_trains():
    """Padded token sequences (masked queries and keys); everything passes through the layer."""
    utils.set_random_seed(0)
    x, y = _token_task()
    tokens = Input(shape=(8,))
    emb = Embedding(10, 8, mask_zero=True)(tokens)
    att = MultiHeadAttention(num_heads=2, key_dim=4)(emb, emb)
    model = Model(tokens, Dense(1, activation="sigmoid")(GlobalAveragePooling1D()(att)))
    assert_fits_binary_task(model, x, y, epochs=15, loss_ratio=0.1, accuracy=0.95)
    x_new, y_new = _token_task(n=200, seed=1)
    assert model.evaluate(x_new, y_new, verbose=0)[1] > 0.95


@pytest.mark.filterwarnings("ignore:Layer .* does not support masking")
def test_cross_attention_graph_with_key_and_masks_matches_eager_call(tmp_path):
    tgt_ids, src_ids = Input(shape=(4,)), Input(shape=(5,))
    emb_t, emb_s, dense = Embedding(7, 6, mask_zero=True), Embedding(7, 6, mask_zero=True), Dense(6)
    tgt = emb_t(tgt_ids)
    src = emb_s(src_ids)
    key = dense(src)  # its mask, if Dense keeps it, is the value's
    mha = MultiHeadAttention(2, 3, name="cross")
    model = Model([tgt_ids, src_ids], mha(tgt, src, key))
    xt = np.array([[1, 2, 3, 0], [4, 0, 0, 0]])
    xs = np.array([[1, 1, 2, 0, 0], [3, 4, 5, 6, 1]])
    got = model.predict([xt, xs], verbose=0)
    assert model.layers[-1] is mha
    es = emb_s(xs)
    want = mha(emb_t(xt), es, dense(es), query_mask=xt != 0, value_mask=xs != 0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model._output_masks[0], xt != 0)
    path = tmp_path / "cross.keras"
    model.save(path)
    loaded = models.load_model(path)
    np.testing.assert_allclose(loaded.predict([xt, xs], verbose=0), got, rtol=1e-6)


def test_model_gradients_with_attention_mask_input_and_fan_out():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 3))
    am = (rng.random((3, 4, 4)) > 0.4).astype(np.float64)
    am[:, :, 0] = 1
    with floatx_scope("float64"):
        seq, mask_in = Input(shape=(4, 3)), Input(shape=(4, 4))
        dense = Dense(3, activation="tanh")
        h = dense(seq)
        att = MultiHeadAttention(2, 2, value_dim=3, output_shape=2)(h, h, attention_mask=mask_in)
        model = Model([seq, mask_in], layers.Flatten()(att))
        model.compile(optimizer="sgd", loss="mse")
        check_model_gradients(model, [x, am], rng.standard_normal((3, 8)))
        layer = model.layers[-2]
        ref, _ = reference(layer, h_val := dense(x), h_val, attention_mask=am)
        np.testing.assert_allclose(model.predict([x, am], verbose=0), ref.reshape(3, 8), rtol=1e-10)


def test_causal_self_attention_model_and_scores_output_survive_saving(tmp_path):
    rng = np.random.default_rng(5)
    seq = Input(shape=(5, 4))
    out, scores = MultiHeadAttention(2, 3, name="decoder")(seq, seq, use_causal_mask=True,
                                                           return_attention_scores=True)
    model = Model(seq, [out, scores])
    assert model.output_shape == [(None, 5, 4), (None, 2, 5, 5)]
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    got_out, got_scores = model.predict(x, verbose=0)
    ref_out, ref_scores = reference(model.layers[1], x.astype(np.float64), x.astype(np.float64),
                                    causal=True)
    np.testing.assert_allclose(got_out, ref_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_scores, ref_scores, rtol=1e-4, atol=1e-6)
    assert np.all(np.triu(got_scores, k=1) == 0)
    assert_survives_saving(model, tmp_path / "decoder.keras", x, (got_out, got_scores))


def test_shared_layer_called_twice_in_a_model():
    rng = np.random.default_rng(6)
    with floatx_scope("float64"):
        a, b = Input(shape=(3, 4)), Input(shape=(5, 4))
        mha = MultiHeadAttention(2, 2)
        ab = mha(a, b)  # cross-attention a -> b
        ba = mha(b, ab)  # then b -> the first result: the same weights, two caches
        model = Model([a, b], layers.Flatten()(ba))
        model.compile(optimizer="sgd", loss="mse")
        x = [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))]
        check_model_gradients(model, x, rng.standard_normal((2, 20)))
        first, _ = reference(mha, x[0], x[1])
        second, _ = reference(mha, x[1], first)
        np.testing.assert_allclose(model.predict(x, verbose=0), second.reshape(2, 20), rtol=1e-10)
