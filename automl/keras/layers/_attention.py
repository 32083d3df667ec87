"""Attention (dot-product, Luong) and AdditiveAttention (Bahdanau), as in Keras 3.

Both take ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to
``value``), shapes ``(B, Tq, dim)``, ``(B, Tv, dim_v)``, ``(B, Tv, dim)``, and compute

* scores ``S`` of shape ``(B, Tq, Tv)``:

  - ``Attention(score_mode="dot")``: ``S = scale * q @ k^T`` (``scale`` a trainable
    scalar with ``use_scale``, else 1);
  - ``Attention(score_mode="concat")``: ``S = c * sum_d tanh(scale * (q_i + k_j))``
    (``c`` a trainable scalar, ``concat_score_weight``);
  - ``AdditiveAttention``: ``S = sum_d scale_d * tanh(q_i + k_j)`` (``scale`` a
    trainable vector of size ``dim`` with ``use_scale``, else ones);

* masking: positions where the value mask (``(B, Tv)``) or the causal mask
  (``j <= i`` kept, with ``use_causal_mask``) is False get ``S - 1e9``;
* weights ``W = softmax(S)`` over ``Tv``, dropped out (inverted dropout with
  ``rate=dropout``) in training;
* output ``W @ v``, multiplied by the query mask (``(B, Tq)``) when there is one.

The output mask is the query mask. ``return_attention_scores=True`` also returns
the weights (after dropout, as Keras). The backward pass is written by hand:
``dv = W^T g``, ``dW = g v^T``, the softmax backward ``dS = W * (dW - sum(dW * W))``,
then the score function's backward.

Call options (``use_causal_mask``, ``return_attention_scores``) of a symbolic call
are recorded on its output tensors (``KerasTensor.call_kwargs``) so that a model
passes them back to :meth:`Layer._call_masked` when it runs the node.
"""

from __future__ import annotations

import numpy as np

from ..._validation import Interval, Options, check_param, param_error
from ..backend import make_rng
from ._base import LAYERS, KerasTensor, Layer, symbolic_outputs

__all__ = ["Attention", "AdditiveAttention"]

#: Subtracted from masked scores before the softmax (Keras's value for float32/float64).
LARGE_NEGATIVE = 1e9


# -- shared kernels (also used by MultiHeadAttention) ---------------------------------
def masked_softmax(scores, keep=None):
    """Softmax over the last axis, in place; ``scores - 1e9`` where ``keep`` is False."""
    if keep is not None:
        scores -= np.logical_not(keep) * scores.dtype.type(LARGE_NEGATIVE)
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


def softmax_backward(weights, grad):
    """Gradient w.r.t. the softmax input from the gradient w.r.t. its output, in place on ``grad``."""
    grad -= np.sum(grad * weights, axis=-1, keepdims=True)
    grad *= weights
    return grad


def causal_mask(tq, tv):
    """``(tq, tv)`` booleans, True where key ``j <= i`` (query ``i`` may attend to it)."""
    return np.tri(tq, tv, dtype=bool)


def dropout_keep(layer, shape, dtype):
    """Inverted-dropout multipliers (0 or ``1 / (1 - rate)``) from the layer's lazy generator."""
    if layer._rng is None:
        layer._rng = make_rng(layer.seed)
    keep = layer._rng.random(shape, dtype=np.float32) >= layer.dropout
    out = keep.astype(dtype)
    out *= dtype.type(1.0 / (1.0 - layer.dropout))
    return out


def as_mask(mask):
    return None if mask is None else np.asarray(mask).astype(bool, copy=False)


def symbolic_call(layer, tensors, shape, call_kwargs):
    """The output tensor(s) of a symbolic call on ``tensors``, with its non-default call options."""
    outputs = symbolic_outputs(layer, shape, tuple(tensors), multi=True)
    options = {k: v for k, v in call_kwargs.items() if v}
    if options:
        for tensor in outputs if isinstance(outputs, list) else [outputs]:
            tensor.call_kwargs = dict(options)
    return outputs


def add_scalar_weight(layer, name, initializer):
    """A trainable weight of shape ``()`` (as Keras's ``scale``)."""
    var = layer.add_weight((), initializer, name)
    if var.value.shape != ():  # add_weight may turn a 0-d value into shape (1,)
        var.value = var.value.reshape(())
        var.grad = var.grad.reshape(())
    return var


def check_seed(seed, owner):
    return check_param("seed", seed, [None, Interval(int, 0, None)], owner)


# -- layers ------------------------------------------------------------------------------
@LAYERS.register
class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention.

    Parameters
    ----------
    use_scale : bool, default=False
        Whether to learn a scalar ``scale`` multiplying the scores (for
        ``"concat"``: multiplying ``query + key`` inside the tanh).
    score_mode : {"dot", "concat"}, default="dot"
        ``"dot"``: scores are query-key dot products; ``"concat"``: the sum over
        features of ``tanh(query + key)``, times a learned scalar ``concat_score_weight``.
    dropout : float, default=0.0
        Fraction of the attention weights dropped in training.
    seed : int, optional
        Seed of the dropout generator.

    Notes
    -----
    Call as ``layer([query, value])`` or ``layer([query, value, key])`` with
    ``mask=[query_mask, value_mask]`` (masks propagate from ``Embedding(mask_zero=True)``
    in models), ``training``, ``return_attention_scores`` and ``use_causal_mask``.
    The output has shape ``(B, Tq, dim_v)``; the scores ``(B, Tq, Tv)``.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Attention
    >>> q, v = np.ones((2, 3, 4)), np.ones((2, 5, 4))
    >>> out, scores = Attention()([q, v], return_attention_scores=True)
    >>> out.shape, scores.shape
    ((2, 3, 4), (2, 3, 5))
    >>> bool(np.allclose(scores, 0.2))
    True
    """

    _multiplies_activations = True

    _multi_input = True
    _cache_attrs = ("_cache",)

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.use_scale = bool(use_scale)
        self.score_mode = check_param("score_mode", score_mode, [Options(("dot", "concat"))], owner)
        self.dropout = float(check_param("dropout", dropout, [Interval(float, 0, 1, closed="left")], owner))
        self.seed = check_seed(seed, owner)
        self.scale = self.concat_score_weight = None
        self._rng = None
        self._cache = None

    # -- shapes ------------------------------------------------------------
    def _check_inputs(self, inputs, what="inputs"):
        owner = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A {owner} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Got {type(inputs).__name__} instead."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"A {owner} layer accepts a list of 2 or 3 {what}, namely [query, value] or "
                f"[query, value, key]. Got {len(inputs)} instead."
            )

    def build(self, input_shape):
        self._check_inputs(input_shape)
        shapes = [tuple(s) for s in input_shape]
        q_shape, v_shape = shapes[0], shapes[1]
        k_shape = shapes[2] if len(shapes) == 3 else v_shape
        if any(len(s) != 3 for s in shapes):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects query, value and key of shape "
                f"(batch, timesteps, dim). Got input shapes {shapes} instead."
            )
        if None not in (q_shape[-1], k_shape[-1]) and q_shape[-1] != k_shape[-1]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} needs query and key with the same last "
                f"dimension. Got query shape {q_shape} and key shape {k_shape} instead."
            )
        if None not in (v_shape[1], k_shape[1]) and v_shape[1] != k_shape[1]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} needs value and key with the same number of "
                f"timesteps. Got value shape {v_shape} and key shape {k_shape} instead."
            )
        self._build_weights(q_shape[-1])

    def _build_weights(self, dim):
        if self.use_scale:
            self.scale = add_scalar_weight(self, "scale", "ones")
        if self.score_mode == "concat":
            self.concat_score_weight = add_scalar_weight(self, "concat_score_weight", "ones")

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return as_mask(mask[0])

    # -- calling -----------------------------------------------------------
    def __call__(self, inputs, mask=None, training=False, return_attention_scores=False,
                 use_causal_mask=False):
        self._check_inputs(inputs)
        options = {"return_attention_scores": bool(return_attention_scores),
                   "use_causal_mask": bool(use_causal_mask)}
        if mask is not None:
            self._check_inputs(mask, "masks")
        if all(isinstance(t, KerasTensor) for t in inputs):
            if mask is not None:
                raise NotImplementedError(
                    "Passing mask= to a layer call on symbolic tensors is not supported; masks come "
                    "from Embedding(mask_zero=True) or Masking layers upstream."
                )
            shapes = [t.shape for t in inputs]
            self._maybe_build(shapes)
            shape = self.compute_output_shape(shapes)
            if return_attention_scores:
                shape = [shape, (shapes[0][0], shapes[0][1], shapes[1][1])]
            return symbolic_call(self, inputs, shape, options)
        if any(isinstance(t, KerasTensor) for t in inputs):
            raise TypeError(f"{type(self).__name__} got a mix of symbolic tensors and arrays.")
        xs = [np.asarray(x, dtype=self.dtype) for x in inputs]
        self._maybe_build([(None, *x.shape[1:]) for x in xs])
        masks = None if mask is None else [as_mask(m) for m in mask]
        return self.call(xs, mask=masks, training=training, **options)

    def _call_masked(self, inputs, training, mask, **call_kwargs):
        outputs = self.call(inputs, mask=mask, training=training, **call_kwargs)
        out_mask = self.compute_mask(inputs, mask)
        if call_kwargs.get("return_attention_scores"):
            return outputs, [out_mask, None]
        return outputs, out_mask

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._check_inputs(inputs)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) == 3 else v
        q_mask = v_mask = None
        if mask is not None:
            self._check_inputs(mask, "masks")
            q_mask, v_mask = as_mask(mask[0]), as_mask(mask[1])
        dtype = np.dtype(self.dtype)
        cache = {"q": q, "k": k, "v": v, "n_inputs": len(inputs), "scores": bool(return_attention_scores)}
        scores = self._scores(q, k, cache)
        keep = None if v_mask is None else v_mask[:, None, :]
        if use_causal_mask:
            tri = causal_mask(scores.shape[1], scores.shape[2])
            keep = tri[None] if keep is None else keep & tri
        w = masked_softmax(scores, keep)
        dmask = None
        if training and self.dropout > 0.0:
            dmask = dropout_keep(self, w.shape, dtype)
            wd = w * dmask
        else:
            wd = w
        out = np.matmul(wd, v)
        qm = None
        if q_mask is not None:
            qm = q_mask[:, :, None].astype(dtype)
            out *= qm
        cache.update(w=w, wd=wd, dmask=dmask, qm=qm)
        self._cache = cache
        if return_attention_scores:
            return [out, wd.copy()]
        return out

    # -- scores ------------------------------------------------------------
    def _scores(self, q, k, cache):
        """Scores ``(B, Tq, Tv)`` (a fresh array), keeping in ``cache`` what backward needs."""
        if self.score_mode == "dot":
            raw = np.matmul(q, k.transpose(0, 2, 1))
            if self.scale is None:
                return raw
            cache["raw"] = raw
            return raw * self.scale.value
        pre = q[:, :, None, :] + k[:, None, :, :]
        u = pre * self.scale.value if self.scale is not None else pre
        e = np.tanh(u)
        esum = e.sum(axis=-1)
        cache.update(pre=pre, e=e, esum=esum)
        return esum * self.concat_score_weight.value

    def _scores_backward(self, ds, cache):
        """``(dq, dk)`` from the gradient w.r.t. the scores; fills the weights' gradients."""
        q, k = cache["q"], cache["k"]
        trainable = self._trainable
        if self.score_mode == "dot":
            if self.scale is not None:
                if trainable:
                    self.scale.grad[...] = np.vdot(ds, cache["raw"])
                ds = ds * self.scale.value
            if not self._input_grad_needed:
                return None, None
            return np.matmul(ds, k), np.matmul(ds.transpose(0, 2, 1), q)
        e = cache["e"]
        c = self.concat_score_weight.value
        if trainable:
            self.concat_score_weight.grad[...] = np.vdot(ds, cache["esum"])
        du = 1.0 - e * e
        du *= (ds * c)[..., None]
        if self.scale is not None:
            if trainable:
                self.scale.grad[...] = np.vdot(du, cache["pre"])
            du *= self.scale.value
        return du.sum(axis=2), du.sum(axis=1)

    # -- backward ----------------------------------------------------------
    def backward(self, grad):
        cache = self._cache
        g_out, g_w = (grad[0], grad[1]) if cache["scores"] else (grad, None)
        v, w, wd = cache["v"], cache["w"], cache["wd"]
        if g_out is not None:
            if cache["qm"] is not None:
                g_out = g_out * cache["qm"]
            dwd = np.matmul(g_out, v.transpose(0, 2, 1))
            dv = np.matmul(wd.transpose(0, 2, 1), g_out)
        else:
            dwd = np.zeros_like(w)
            dv = np.zeros_like(v)
        if g_w is not None:
            dwd += g_w
        if cache["dmask"] is not None:
            dwd *= cache["dmask"]
        ds = softmax_backward(w, dwd)
        dq, dk = self._scores_backward(ds, cache)
        if not self._input_grad_needed:
            return None
        if cache["n_inputs"] == 2:
            dv += dk
            return [dq, dv]
        return [dq, dv, dk]

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


@LAYERS.register
class AdditiveAttention(Attention):
    """Additive attention layer, a.k.a. Bahdanau-style attention.

    Scores are ``sum_d scale_d * tanh(query_i + key_j)`` with a learned vector
    ``scale`` of size ``dim`` (``use_scale=True``, initialized glorot-uniform), or
    the plain sum without it; the rest is as :class:`Attention`.

    Parameters
    ----------
    use_scale : bool, default=True
        Whether to learn the ``scale`` vector.
    dropout : float, default=0.0
        Fraction of the attention weights dropped in training.
    seed : int, optional
        Seed of the dropout generator.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import AdditiveAttention
    >>> layer = AdditiveAttention()
    >>> layer([np.ones((2, 3, 4)), np.ones((2, 5, 4))]).shape
    (2, 3, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(4,)]
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, score_mode="dot", dropout=dropout, seed=seed, **kwargs)

    def _build_weights(self, dim):
        if self.use_scale:
            if dim is None:
                raise param_error("input_shape", type(self).__name__,
                                  "a query shape with a defined last dimension", dim)
            self.scale = self.add_weight((dim,), "glorot_uniform", "scale")

    def _scores(self, q, k, cache):
        e = np.tanh(q[:, :, None, :] + k[:, None, :, :])
        cache["e"] = e
        if self.scale is None:
            return e.sum(axis=-1)
        return np.matmul(e, self.scale.value)

    def _scores_backward(self, ds, cache):
        e = cache["e"]
        if self.scale is not None and self._trainable:
            b, tq, tv, d = e.shape
            self.scale.grad[...] = ds.reshape(1, -1) @ e.reshape(-1, d)
        if not self._input_grad_needed:
            return None, None
        du = 1.0 - e * e
        du *= ds[..., None]
        if self.scale is not None:
            du *= self.scale.value
        return du.sum(axis=2), du.sum(axis=1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
