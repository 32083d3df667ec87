"""Attention and AdditiveAttention: values against a NumPy reference written from the formulas,
float64 gradient checks of every option, masks, dropout, Keras weights, config, functional models."""

import json

import numpy as np
import pytest

from automl.keras import Input, Model, layers, models, utils
from automl.keras.layers import Dense, GlobalAveragePooling1D
from automl.keras.layers._attention import AdditiveAttention, Attention
from automl.keras.layers._embedding import Embedding
from automl.testing import check_model_gradients, floatx_scope, numeric_gradient

from .helpers import assert_fits_binary_task, assert_survives_saving


# -- helpers shared with test_multi_head_attention.py -------------------------------------
def check_attention_gradients(factory, inputs, *, mask=None, n_diff=None, upstream_mask=None,
                              dropout_seed=None, seed=0, rtol=1e-5, atol=1e-7, **call_kwargs):
    """Central differences (float64) of ``sum(upstream * layer.call(inputs, ...)) + penalty``.

    Checks the gradient of each of the first ``n_diff`` inputs returned by ``backward`` and
    of every trainable weight. ``upstream_mask`` (broadcast to the first output, or a list
    with one mask or None per output) zeroes the upstream gradient of some outputs; ``dropout_seed`` re-seeds the layer's generator
    before each call so that dropout draws the same masks.
    """
    with floatx_scope("float64"):
        layer = factory()
        xs = [np.array(x, dtype=np.float64) if np.asarray(x).dtype != bool else np.asarray(x)
              for x in inputs]
        layer._maybe_build([x.shape for x in xs])
        n_diff = len(xs) if n_diff is None else n_diff

        def run():
            if dropout_seed is not None:
                layer._rng = np.random.default_rng(dropout_seed)
            return layer.call(xs, training=True, mask=mask, **call_kwargs)

        out = run()
        several = isinstance(out, list)
        outs = out if several else [out]
        rng = np.random.default_rng(seed)
        ups = [rng.standard_normal(o.shape) for o in outs]
        if upstream_mask is not None:
            masks = upstream_mask if isinstance(upstream_mask, list) else [upstream_mask]
            ups = [u if m is None else u * m for u, m in zip(ups, [*masks, *[None] * len(ups)])]

        def objective(_=None):
            o = run()
            o = o if several else [o]
            return float(sum(np.sum(u * y) for u, y in zip(ups, o))) + float(layer.activity_penalty)

        objective()
        grads = layer.backward([u.copy() for u in ups] if several else ups[0].copy())
        assert isinstance(grads, list) and len(grads) == len(xs)
        analytic = {v.name: v.grad.copy() for v in layer.trainable_weights}
        for i in range(n_diff):
            assert grads[i].shape == xs[i].shape
            np.testing.assert_allclose(grads[i], numeric_gradient(objective, xs[i]), rtol=rtol,
                                       atol=atol, err_msg=f"gradient w.r.t. input {i}")
        for var in layer.trainable_weights:
            np.testing.assert_allclose(analytic[var.name], numeric_gradient(objective, var.value),
                                       rtol=rtol, atol=atol, err_msg=f"gradient w.r.t. {var.name}")
        return layer, grads


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reference(layer, q, v, k=None, q_mask=None, v_mask=None, causal=False):
    """Keras's formulas, one query position and one key position at a time for the scores."""
    k = v if k is None else k
    b, tq, _ = q.shape
    tv = v.shape[1]
    weights = {w.name.split("/")[-1]: w.numpy() for w in layer.weights}
    scores = np.empty((b, tq, tv))
    for i in range(tq):
        for j in range(tv):
            qi, kj = q[:, i], k[:, j]
            if isinstance(layer, AdditiveAttention):
                scale = weights.get("scale", np.ones(q.shape[-1]))
                scores[:, i, j] = np.sum(scale * np.tanh(qi + kj), axis=-1)
            elif layer.score_mode == "dot":
                scores[:, i, j] = np.sum(qi * kj, axis=-1) * weights.get("scale", 1.0)
            else:
                scale = weights.get("scale", 1.0)
                scores[:, i, j] = weights["concat_score_weight"] * np.sum(np.tanh(scale * (qi + kj)), axis=-1)
    keep = np.ones((b, tq, tv), dtype=bool)
    if v_mask is not None:
        keep &= v_mask[:, None, :]
    if causal:
        keep &= np.arange(tv)[None, :] <= np.arange(tq)[:, None]
    weights_ = _softmax(scores - 1e9 * ~keep)
    out = np.einsum("bqv,bvd->bqd", weights_, v)
    if q_mask is not None:
        out = out * q_mask[:, :, None]
    return out, weights_


FACTORIES = {
    "dot": lambda: Attention(),
    "dot-scale": lambda: Attention(use_scale=True),
    "concat": lambda: Attention(score_mode="concat"),
    "concat-scale": lambda: Attention(use_scale=True, score_mode="concat"),
    "additive": lambda: AdditiveAttention(),
    "additive-noscale": lambda: AdditiveAttention(use_scale=False),
}


def _randomize_weights(layer, rng):
    for var in layer.weights:
        var.assign(rng.uniform(0.5, 1.5, var.shape))


def _data(rng, b=3, tq=4, tv=5, d=3, dv=None):
    q = rng.standard_normal((b, tq, d))
    v = rng.standard_normal((b, tv, dv or d))
    k = rng.standard_normal((b, tv, d))
    q_mask = rng.random((b, tq)) > 0.3
    v_mask = rng.random((b, tv)) > 0.4
    v_mask[:, 0] = True  # every query keeps at least one key (also under the causal mask)
    return q, v, k, q_mask, v_mask


# -- forward values -------------------------------------------------------------------------
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "masks"])
@pytest.mark.parametrize("with_key", [False, True], ids=["kv", "k!=v"])
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_values_match_reference(name, with_key, masked, causal):
    rng = np.random.default_rng(1)
    q, v, k, q_mask, v_mask = _data(rng, dv=None if with_key else None)
    if with_key:
        v = rng.standard_normal((3, 5, 2))  # value of another width than query/key
    with floatx_scope("float64"):
        layer = FACTORIES[name]()
        inputs = [q, v, k] if with_key else [q, v]
        layer._maybe_build([x.shape for x in inputs])
        _randomize_weights(layer, rng)
        mask = [q_mask, v_mask] if masked else None
        out, scores = layer(inputs, mask=mask, return_attention_scores=True, use_causal_mask=causal)
    ref_out, ref_scores = reference(layer, q, v, k if with_key else None,
                                    q_mask if masked else None, v_mask if masked else None, causal)
    assert out.shape == (3, 4, v.shape[-1]) and scores.shape == (3, 4, 5)
    np.testing.assert_allclose(out, ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-10, atol=1e-12)
    if masked:
        assert np.all(out[~q_mask] == 0)  # as Keras: the output is multiplied by the query mask
        assert np.all(scores[np.broadcast_to(~v_mask[:, None, :], scores.shape)] == 0)
    if causal:
        assert np.all(np.triu(scores, k=1) == 0)


def test_float32_by_default_and_without_masks_uniform_over_equal_keys():
    q = np.ones((2, 3, 4))
    out, scores = Attention()([q, np.ones((2, 5, 4))],
                              return_attention_scores=True)
    assert out.dtype == np.float32 and scores.dtype == np.float32
    np.testing.assert_allclose(scores, 0.2)
    with floatx_scope("float64"):
        assert Attention()([q, q]).dtype == np.float64


# -- gradients ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_gradients_of_each_score_function(name):
    rng = np.random.default_rng(2)
    q, v, k, q_mask, v_mask = _data(rng)

    def factory():
        layer = FACTORIES[name]()
        layer._maybe_build([q.shape, v.shape, k.shape])
        _randomize_weights(layer, np.random.default_rng(3))
        return layer

    check_attention_gradients(factory, [q, v, k])
    check_attention_gradients(factory, [q, v])  # key = value: both paths reach the value


@pytest.mark.parametrize("name", ["dot-scale", "concat-scale", "additive"])
def test_gradients_with_masks_causal_and_returned_scores(name):
    rng = np.random.default_rng(4)
    q, v, k, q_mask, v_mask = _data(rng, tq=5, tv=5)
    layer, grads = check_attention_gradients(
        FACTORIES[name], [q, v, k], mask=[q_mask, v_mask], use_causal_mask=True,
        return_attention_scores=True,
    )
    # masked value positions receive no gradient through the keys and values
    assert np.all(grads[2][~v_mask] == 0) and np.all(grads[1][~v_mask] == 0)


def test_gradients_with_dropout_in_training():
    rng = np.random.default_rng(5)
    q, v, k, q_mask, v_mask = _data(rng)
    layer, _ = check_attention_gradients(lambda: Attention(use_scale=True, dropout=0.4), [q, v],
                                         mask=[None, v_mask], dropout_seed=7,
                                         return_attention_scores=True)
    assert layer._cache["dmask"] is not None and (layer._cache["dmask"] == 0).any()


def test_frozen_layer_and_no_input_gradient():
    rng = np.random.default_rng(6)
    q, v, *_ = _data(rng)
    layer = Attention(use_scale=True)
    layer([q, v])
    layer._input_grad_needed = False
    assert layer.backward(np.ones((3, 4, 3), dtype=np.float32)) is None
    assert layer.scale.grad != 0
    layer.trainable = False
    layer.scale.grad[...] = 0
    layer._input_grad_needed = True
    layer([q, v])
    grads = layer.backward(np.ones((3, 4, 3), dtype=np.float32))
    assert len(grads) == 2 and layer.scale.grad == 0


# -- weights, dropout, masks, errors -----------------------------------------------------------
def test_keras_weights():
    q = np.ones((2, 3, 6))
    layer = Attention(use_scale=True, score_mode="concat", name="att")
    layer([q, q])
    assert [(w.name, w.shape) for w in layer.weights] == [
        ("att/scale", ()), ("att/concat_score_weight", ())]
    assert [w.tolist() for w in layer.get_weights()] == [1.0, 1.0] and layer.count_params() == 2
    assert Attention().count_params() == 0
    additive = AdditiveAttention()
    additive([q, q])
    assert [w.shape for w in additive.get_weights()] == [(6,)] and additive.count_params() == 6
    assert np.abs(additive.get_weights()[0]).max() <= np.sqrt(6 / 12)  # glorot_uniform, fans (6, 6)
    plain = AdditiveAttention(use_scale=False)
    plain([q, q])
    assert plain.get_weights() == []


def test_dropout_only_in_training_and_seeded():
    rng = np.random.default_rng(8)
    q, v, *_ = _data(rng, tq=20, tv=30)
    layer = Attention(dropout=0.5, seed=3)
    out_inf, s_inf = layer([q, v], return_attention_scores=True)
    np.testing.assert_allclose(s_inf.sum(-1), 1.0, rtol=1e-5)
    _, s_train = layer([q, v], training=True, return_attention_scores=True)
    dropped = s_train == 0
    assert 0.35 < dropped.mean() < 0.65
    np.testing.assert_allclose(s_train[~dropped], 2 * s_inf[~dropped], rtol=1e-5)  # 1 / (1 - rate)
    again = Attention(dropout=0.5, seed=3)([q, v], training=True, return_attention_scores=True)[1]
    np.testing.assert_array_equal(again, s_train)


def test_compute_mask_is_the_query_mask():
    layer = Attention()
    m = np.array([[True, False]])
    assert layer.compute_mask([None, None], None) is None
    assert layer.compute_mask([None, None], [None, m]) is None
    np.testing.assert_array_equal(layer.compute_mask([None, None], [m, None]), m)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="'score_mode' parameter of Attention"):
        Attention(score_mode="add")
    with pytest.raises(ValueError, match="'dropout' parameter of AdditiveAttention"):
        AdditiveAttention(dropout=1.0)
    q = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match="list of inputs"):
        Attention()(q)
    with pytest.raises(ValueError, match="2 or 3"):
        Attention()([q, q, q, q])
    with pytest.raises(ValueError, match="same last dimension"):
        Attention()([q, np.ones((2, 3, 5)), np.ones((2, 3, 5))[..., :3]])
    with pytest.raises(ValueError, match="timesteps, dim"):
        Attention()([np.ones((2, 4)), np.ones((2, 4))])


# -- config and registry ---------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: Attention(use_scale=True, score_mode="concat", dropout=0.25, seed=4, name="att"),
    lambda: AdditiveAttention(use_scale=False, dropout=0.1, name="add_att"),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    json.dumps(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    via_registry = layers.deserialize(layers.serialize(layer))
    assert type(via_registry) is type(layer) and via_registry.get_config() == config


def test_keras_config_keys():
    assert {"use_scale", "score_mode", "dropout"} <= set(Attention().get_config())
    config = AdditiveAttention().get_config()
    assert "score_mode" not in config and config["use_scale"] is True


def test_registered():
    assert layers.LAYERS.lookup("Attention") is Attention
    assert layers.LAYERS.lookup("AdditiveAttention") is AdditiveAttention


# -- models --------------------------------------------------------------------------------
def _token_task(n=400, t=8, vocab=10, seed=0):
    """Label 1 when token 1 occurs in the sequence (0 is padding at the end of some rows)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(2, vocab, size=(n, t))
    y = rng.random(n) < 0.5
    pos = rng.integers(0, t - 2, size=n)
    x[y, pos[y]] = 1
    lengths = rng.integers(t - 2, t + 1, size=n)
    x[np.arange(t)[None, :] >= lengths[:, None]] = 0
    x[y, pos[y]] = 1
    return x, y.astype(np.float32)[:, None]


def test_functional_attention_model_trains():
    utils.set_random_seed(0)
    x, y = _token_task()
    tokens = Input(shape=(8,))
    emb = Embedding(10, 8)(tokens)
    att = Attention(use_scale=True)([emb, emb])
    out = Dense(1, activation="sigmoid")(GlobalAveragePooling1D()(att))
    model = Model(tokens, out)
    assert_fits_binary_task(model, x, y, epochs=30, loss_ratio=0.3, accuracy=0.9)


def test_masks_from_embedding_flow_through_attention(rng):
    x = np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]])
    tokens = Input(shape=(5,))
    emb_layer = Embedding(6, 4, mask_zero=True)
    emb = emb_layer(tokens)
    att_layer = Attention()
    model = Model(tokens, att_layer([emb, emb]))
    out = model.predict(x, verbose=0)
    m = x != 0
    e = emb_layer(x)
    np.testing.assert_allclose(out, att_layer([e, e], mask=[m, m]), rtol=1e-6)
    assert np.all(out[~m] == 0)
    np.testing.assert_array_equal(model._output_masks[0], m)


@pytest.mark.filterwarnings("ignore:Layer .* does not support masking")
def test_model_gradients_with_masks_and_fan_out():
    x = np.array([[3, 4, 5, 0], [1, 2, 2, 0], [5, 1, 0, 0]])
    y = np.array([[1.0], [0.0], [1.0]])
    with floatx_scope("float64"):
        tokens = Input(shape=(4,))
        emb = Embedding(6, 3, mask_zero=True, embeddings_initializer="random_normal")(tokens)
        key = Dense(3, activation="tanh")(emb)
        att = Attention(use_scale=True, score_mode="concat")([emb, emb, key])
        out = Dense(1)(layers.Flatten()(att))
        model = Model(tokens, out)
        model.compile(optimizer="sgd", loss="mse")
        check_model_gradients(model, x, y)


def test_save_and_load(tmp_path):
    x, y = _token_task(n=64)
    tokens = Input(shape=(8,))
    emb = Embedding(10, 4)(tokens)
    att = AdditiveAttention(name="additive")([emb, emb])
    both = layers.concatenate([att, Attention(use_scale=True, score_mode="concat")([emb, att])])
    model = Model(tokens, Dense(1)(GlobalAveragePooling1D()(both)))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "attention.keras"
    model.save(path)
    loaded = models.load_model(path)
    assert [type(la).__name__ for la in loaded.layers] == [type(la).__name__ for la in model.layers]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_call_options_in_a_model_and_after_loading(tmp_path):
    """use_causal_mask and return_attention_scores of a symbolic call are replayed by the model."""
    rng = np.random.default_rng(9)
    seq = Input(shape=(5, 3))
    out, scores = Attention(use_scale=True)([seq, seq], use_causal_mask=True,
                                            return_attention_scores=True)
    model = Model(seq, [out, scores])
    assert model.output_shape == [(None, 5, 3), (None, 5, 5)]
    x = rng.standard_normal((4, 5, 3)).astype(np.float32)
    got_out, got_scores = model.predict(x, verbose=0)
    ref_out, ref_scores = reference(model.layers[1], x.astype(np.float64), x.astype(np.float64),
                                    causal=True)
    np.testing.assert_allclose(got_out, ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_scores, ref_scores, rtol=1e-5, atol=1e-6)
    assert_survives_saving(model, tmp_path / "causal.keras", x, (got_out, got_scores))
    # the scores output takes part in training: a loss on it alone reaches the scale weight
    with floatx_scope("float64"):
        seq = Input(shape=(5, 3))
        _, scores = Attention(use_scale=True)([seq, seq], use_causal_mask=True,
                                              return_attention_scores=True)
        model = Model(seq, scores)
        model.compile(optimizer="sgd", loss="mse")
        check_model_gradients(model, x.astype(np.float64), rng.random((4, 5, 5)))


def test_symbolic_masks_are_rejected():
    seq = Input(shape=(5, 3))
    with pytest.raises(NotImplementedError, match="mask"):
        Attention()([seq, seq], mask=[seq, seq])
