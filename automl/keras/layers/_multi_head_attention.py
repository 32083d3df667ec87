"""MultiHeadAttention (Vaswani et al., 2017), with Keras 3's weights and masking rules.

With ``N = num_heads``, ``H = key_dim``, ``Hv = value_dim`` and inputs query
``(B, *Tq, Dq)``, value ``(B, *Tv, Dv)``, key ``(B, *Tv, Dk)`` (``*T`` one or more
axes, flattened to ``Tq`` / ``Tv`` positions: ``attention_axes=None``):

* projections ``Q = query @ Wq + bq`` with ``Wq`` of shape ``(Dq, N, H)`` and ``bq``
  ``(N, H)``, likewise ``K`` (``(Dk, N, H)``) and ``V`` (``(Dv, N, Hv)``);
* per head, scores ``S = (Q / sqrt(H)) @ K^T`` of shape ``(B, N, Tq, Tv)``;
* masking: ``S - 1e9`` where the attention mask is False. It is the logical AND
  of ``attention_mask`` (``(B, Tq, Tv)``), the Keras masks of query (``(B, Tq, 1)``),
  value and key (``(B, 1, Tv)``), and the causal mask (``j <= i``) with ``use_causal_mask``;
* ``W = softmax(S)`` over ``Tv``; dropout on ``W`` in training;
* per-head contexts ``W @ V`` concatenated over heads, then the output projection
  with kernel ``(N, Hv, *output_shape)`` and bias ``output_shape`` (default: ``(Dq,)``).

Weights are created in Keras's order: ``query``, ``key``, ``value`` and
``attention_output`` kernels, each followed by its bias. The output mask is the
query's mask; ``return_attention_scores`` also returns ``W`` (before dropout,
as Keras), shape ``(B, N, *Tq, *Tv)``. An ``activity_regularizer`` penalizes the
four projection outputs (Keras gives it to each projection). Backward is written
by hand: the output projection, the per-head products, the softmax, the scaled
dot product, and the three input projections, each one GEMM over batch and heads.

In a model the layer is a node with the input tensors ``[query, value]``,
``[query, value, key]`` or ``[query, value, key, attention_mask]`` (``key`` is
``value`` when only an attention mask is given); calling it on such a list is
equivalent to the keyword form.
"""

from __future__ import annotations

import math

import numpy as np

from ..._validation import Interval, check_param, param_error
from ._attention import (
    as_mask,
    causal_mask,
    check_seed,
    dropout_keep,
    masked_softmax,
    softmax_backward,
    symbolic_call,
)
from ._base import LAYERS, KerasTensor, Layer, check_positive_int
from ._weight_spec import WeightOptions

__all__ = ["MultiHeadAttention"]

_WEIGHTS = WeightOptions("kernel", "bias", activity_regularizer=True)


def _check_output_shape(output_shape):
    if output_shape is None:
        return None
    dims = (output_shape,) if isinstance(output_shape, (int, np.integer)) else output_shape
    try:
        dims = tuple(dims)
    except TypeError:
        dims = None
    if not dims or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1
                       for d in dims):
        raise param_error("output_shape", "MultiHeadAttention",
                          "None, a positive int, or a tuple or list of positive ints", output_shape)
    return tuple(int(d) for d in dims)


@LAYERS.register
class MultiHeadAttention(Layer):
    """Multi-head attention layer (``attention_axes=None``).

    Parameters
    ----------
    num_heads : int
        Number of attention heads.
    key_dim : int
        Size of each head for query and key.
    value_dim : int, optional
        Size of each head for value (``key_dim`` when omitted).
    dropout : float, default=0.0
        Dropout rate on the attention weights (training only).
    use_bias : bool, default=True
        Whether the four projections have biases.
    output_shape : int or tuple of int, optional
        Shape of each output position (default: the query's last dimension).
    attention_axes : None
        Only None (attention over every axis but batch, heads and features) is supported.
    flash_attention : None or bool
        Accepted for compatibility; the computation is the same.
    kernel_initializer, bias_initializer : str or Initializer
        Defaults ``"glorot_uniform"`` and ``"zeros"``.
    kernel_regularizer, bias_regularizer, activity_regularizer : Regularizer, optional
    kernel_constraint, bias_constraint : optional
    seed : int, optional
        Seed of the dropout generator.

    Notes
    -----
    Called as ``layer(query, value, key=None, query_mask=None, value_mask=None,
    key_mask=None, attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)``. In a model the masks of query, value and key come
    from the layers upstream (``Embedding(mask_zero=True)``).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import MultiHeadAttention
    >>> layer = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.default_rng(0).random((3, 5, 8))
    >>> out, scores = layer(x, x, return_attention_scores=True)
    >>> out.shape, scores.shape, layer.count_params()
    ((3, 5, 8), (3, 2, 5, 5), 288)
    """

    _multiplies_activations = True

    _multi_input = True
    _cache_attrs = ("_cache", "activity_penalty")

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        owner = "MultiHeadAttention"
        self.num_heads = check_positive_int(num_heads, "num_heads", owner)
        self.key_dim = check_positive_int(key_dim, "key_dim", owner)
        self.value_dim = self.key_dim if value_dim is None else check_positive_int(value_dim, "value_dim", owner)
        self.dropout = float(check_param("dropout", dropout, [Interval(float, 0, 1, closed="left")], owner))
        self.use_bias = bool(use_bias)
        self._output_shape = _check_output_shape(output_shape)
        if attention_axes is not None:
            raise NotImplementedError(
                "MultiHeadAttention in automl.keras supports only attention_axes=None (attention "
                f"over every axis but batch, heads and features). Got {attention_axes!r}."
            )
        self.attention_axes = None
        self._flash_attention = flash_attention
        _WEIGHTS.resolve(self, locals())
        self.seed = check_seed(seed, owner)
        self.supports_masking = True
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self.key_dim))
        self._rng = None
        self._cache = None
        self._projections = None

    # -- shapes ------------------------------------------------------------
    @staticmethod
    def _split_shapes(query_shape, value_shape, key_shape):
        if value_shape is None:
            if not (isinstance(query_shape, (list, tuple)) and query_shape
                    and isinstance(query_shape[0], (list, tuple))):
                raise ValueError(
                    "MultiHeadAttention needs the shapes of query and value. "
                    f"Got {query_shape!r} instead."
                )
            shapes = [tuple(s) for s in query_shape]
            query_shape, value_shape = shapes[0], shapes[1]
            key_shape = shapes[2] if len(shapes) > 2 else None
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        return query_shape, value_shape, key_shape

    def build(self, query_shape, value_shape=None, key_shape=None):
        q_shape, v_shape, k_shape = self._split_shapes(query_shape, value_shape, key_shape)
        if v_shape[1:-1] != k_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Got value_shape={v_shape} and key_shape={k_shape} instead."
            )
        if len(q_shape) < 3 or len(v_shape) < 3:
            raise ValueError(
                f"MultiHeadAttention {self.name!r} expects query and value of shape (batch, "
                f"timesteps..., dim). Got query shape {q_shape} and value shape {v_shape} instead."
            )
        if None in (q_shape[-1], v_shape[-1], k_shape[-1]):
            raise ValueError(
                f"MultiHeadAttention {self.name!r} needs defined last dimensions. Got query shape "
                f"{q_shape}, value shape {v_shape} and key shape {k_shape} instead."
            )
        n = self.num_heads
        out_dims = self._output_shape or (q_shape[-1],)
        specs = [
            ("query", (q_shape[-1], n, self.key_dim), (n, self.key_dim)),
            ("key", (k_shape[-1], n, self.key_dim), (n, self.key_dim)),
            ("value", (v_shape[-1], n, self.value_dim), (n, self.value_dim)),
            ("attention_output", (n, self.value_dim, *out_dims), out_dims),
        ]
        self._projections = {}
        for name, kernel_shape, bias_shape in specs:
            kernel = _WEIGHTS.add_weight(self, "kernel", kernel_shape, name=f"{name}/kernel")
            bias = None
            if self.use_bias:
                bias = _WEIGHTS.add_weight(self, "bias", bias_shape, name=f"{name}/bias")
            self._projections[name] = (kernel, bias)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        q_shape, v_shape, k_shape = self._split_shapes(query_shape, value_shape, key_shape)
        if v_shape[1:-1] != k_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Got value_shape={v_shape} and key_shape={k_shape} instead."
            )
        if self._output_shape:
            return (*q_shape[:-1], *self._output_shape)
        return q_shape

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return as_mask(mask[0])

    # -- calling -----------------------------------------------------------
    def __call__(self, query, value=None, key=None, query_mask=None, value_mask=None,
                 key_mask=None, attention_mask=None, return_attention_scores=False, training=None,
                 use_causal_mask=False):
        if value is None:
            if not isinstance(query, (list, tuple)) or not 2 <= len(query) <= 4:
                raise ValueError(
                    "MultiHeadAttention must be called on query and value (layer(query, value)), or "
                    "on a list [query, value], [query, value, key] or [query, value, key, "
                    f"attention_mask]. Got {type(query).__name__} without a value instead."
                )
            items = list(query)
            if len(items) == 4:
                if attention_mask is not None:
                    raise ValueError("MultiHeadAttention got attention_mask both in the inputs list "
                                     "and as attention_mask=.")
                attention_mask = items.pop()
            query, value = items[0], items[1]
            key = items[2] if len(items) == 3 else key
        options = {"return_attention_scores": bool(return_attention_scores),
                   "use_causal_mask": bool(use_causal_mask)}
        inputs = [query, value] + ([key] if key is not None else [])
        if attention_mask is not None:
            inputs = [query, value, value if key is None else key, attention_mask]
        masks = [query_mask, value_mask, key_mask]
        symbolic = [isinstance(t, KerasTensor) for t in inputs]
        if all(symbolic):
            if any(m is not None for m in masks):
                raise NotImplementedError(
                    "Passing query_mask=, value_mask= or key_mask= to a layer call on symbolic "
                    "tensors is not supported; masks come from Embedding(mask_zero=True) or "
                    "Masking layers upstream."
                )
            shapes = [t.shape for t in inputs[:3]]
            self._maybe_build(shapes)
            shape = self.compute_output_shape(shapes)
            if return_attention_scores:
                q, v = shapes[0], shapes[1]
                shape = [shape, (q[0], self.num_heads, *q[1:-1], *v[1:-1])]
            return symbolic_call(self, inputs, shape, options)
        if any(symbolic):
            raise TypeError(
                "MultiHeadAttention got a mix of symbolic tensors and arrays (attention_mask of a "
                "symbolic call must be a symbolic tensor too)."
            )
        xs = [np.asarray(x, dtype=self.dtype) for x in inputs[:3]]
        self._maybe_build([(None, *x.shape[1:]) for x in xs])
        if attention_mask is not None:
            xs.append(as_mask(attention_mask))
        mask = None
        if any(m is not None for m in masks):
            if key is None:  # the key is the value: its mask is the value's
                masks = masks[:2]
            mask = [as_mask(m) for m in masks][: len(inputs)]
        return self.call(xs, training=bool(training), mask=mask, **options)

    def _call_masked(self, inputs, training, mask, **call_kwargs):
        outputs = self.call(inputs, training=training, mask=mask, **call_kwargs)
        out_mask = self.compute_mask(inputs, mask)
        if call_kwargs.get("return_attention_scores"):
            return outputs, [out_mask, None]
        return outputs, out_mask

    def _attention_keep(self, batch, tq, tv, masks, attention_mask, use_causal_mask, lead):
        """The boolean mask broadcastable to the scores ``(B, N, Tq, Tv)``, or None."""
        q_mask, v_mask, k_mask = masks
        keep = None

        def both(a, b):
            return b if a is None else a & b

        if q_mask is not None:
            keep = q_mask.reshape(batch, 1, tq, 1)
        for m in (v_mask, k_mask):
            if m is not None:
                keep = both(keep, m.reshape(batch, 1, 1, tv))
        if use_causal_mask:
            if len(lead[0]) != 1 or len(lead[1]) != 1:
                raise NotImplementedError(
                    "use_causal_mask=True is supported for query and value of shape "
                    "(batch, timesteps, dim) only."
                )
            keep = both(keep, causal_mask(tq, tv)[None, None])
        if attention_mask is not None:
            am = np.asarray(attention_mask).astype(bool, copy=False)
            inner = (*lead[0], *lead[1])
            extra = am.ndim - len(inner)  # 0: no batch axis, 1: batch, 2: batch and heads
            if not 0 <= extra <= 2 or am.shape[extra:] != inner:
                raise ValueError(
                    f"The attention_mask of MultiHeadAttention {self.name!r} must have shape "
                    f"(batch, {', '.join(map(str, inner))}). Got {am.shape} instead."
                )
            lead_axes = (*am.shape[:extra], 1, 1)[:2]
            keep = both(keep, am.reshape(*lead_axes, tq, tv))
        return keep

    def _project(self, x2, name, batch, steps):
        """``x2 @ kernel + bias`` for a ``(batch * steps, dim)`` input, as ``(B, N, T, head_dim)``."""
        kernel, bias = self._projections[name]
        w = kernel.value
        y = x2 @ w.reshape(w.shape[0], -1)
        if bias is not None:
            y += bias.value.reshape(-1)
        return y, y.reshape(batch, steps, self.num_heads, -1).transpose(0, 2, 1, 3)

    def call(self, inputs, training=False, mask=None, return_attention_scores=False,
             use_causal_mask=False):
        inputs = list(inputs)
        n_inputs = len(inputs)
        if not 2 <= n_inputs <= 4:
            raise ValueError(
                "MultiHeadAttention.call takes a list [query, value], [query, value, key] or "
                f"[query, value, key, attention_mask]. Got {n_inputs} items instead."
            )
        attention_mask = inputs.pop() if n_inputs == 4 else None
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        masks = [None, None, None]
        if mask is not None:
            for i, m in enumerate(list(mask)[:3]):
                masks[i] = as_mask(m)
            if len(inputs) == 2:
                masks[2] = None  # the key is the value
        batch = query.shape[0]
        lead = (query.shape[1:-1], value.shape[1:-1])
        tq, tv = math.prod(lead[0]), math.prod(lead[1])
        keep = self._attention_keep(batch, tq, tv, masks, attention_mask, use_causal_mask, lead)
        x2 = {"query": query.reshape(batch * tq, -1),
              "key": key.reshape(batch * tv, -1),
              "value": value.reshape(batch * tv, -1)}
        flat, heads = {}, {}
        for name, steps in (("query", tq), ("key", tv), ("value", tv)):
            flat[name], heads[name] = self._project(x2[name], name, batch, steps)
        qh = heads["query"] * query.dtype.type(self._inverse_sqrt_key_dim)
        kh, vh = heads["key"], heads["value"]
        w = masked_softmax(np.matmul(qh, kh.swapaxes(-1, -2)), keep)
        dmask = None
        if training and self.dropout > 0.0:
            dmask = dropout_keep(self, w.shape, w.dtype)
            wd = w * dmask
        else:
            wd = w
        ctx = np.matmul(wd, vh)  # (B, N, Tq, Hv)
        ctx2 = ctx.transpose(0, 2, 1, 3).reshape(batch * tq, -1)
        kernel, bias = self._projections["attention_output"]
        out2 = ctx2 @ kernel.value.reshape(ctx2.shape[1], -1)
        if bias is not None:
            out2 += bias.value.reshape(-1)
        if self.activity_regularizer is not None:
            reg = self.activity_regularizer
            self.activity_penalty = float(sum(reg(y) for y in (*flat.values(), out2)))
        self._cache = {
            "x2": x2, "flat": flat if self.activity_regularizer is not None else None,
            "out2": out2 if self.activity_regularizer is not None else None,
            "qh": qh, "kh": kh, "vh": vh, "w": w, "wd": wd, "dmask": dmask, "ctx2": ctx2,
            "shapes": (query.shape, key.shape, value.shape), "batch": batch, "tq": tq,
            "n_inputs": n_inputs, "am_shape": None if attention_mask is None else np.shape(attention_mask),
            "scores": bool(return_attention_scores),
        }
        out = out2.reshape(*query.shape[:-1], *kernel.value.shape[2:])
        if return_attention_scores:
            return [out, w.reshape(batch, self.num_heads, *lead[0], *lead[1]).copy()]
        return out

    # -- backward ----------------------------------------------------------
    def _project_backward(self, name, d_heads, cache, need_input):
        """Fill the projection's weight gradients; the gradient w.r.t. its input (or None)."""
        kernel, bias = self._projections[name]
        x2 = cache["x2"][name]
        d2 = d_heads.transpose(0, 2, 1, 3).reshape(x2.shape[0], -1)
        if self.activity_regularizer is not None:
            self.activity_regularizer.add_gradient(cache["flat"][name], d2)
        if self._trainable:
            kernel.grad[...] = (x2.T @ d2).reshape(kernel.shape)
            if bias is not None:
                bias.grad[...] = d2.sum(axis=0).reshape(bias.shape)
        if not need_input:
            return None
        return d2 @ kernel.value.reshape(x2.shape[1], -1).T

    def backward(self, grad):
        cache = self._cache
        g_out, g_w = (grad[0], grad[1]) if cache["scores"] else (grad, None)
        batch, tq = cache["batch"], cache["tq"]
        n = self.num_heads
        w, wd, ctx2 = cache["w"], cache["wd"], cache["ctx2"]
        kernel, bias = self._projections["attention_output"]
        if g_out is None:  # only the scores output received a gradient
            g2 = np.zeros((batch * tq, kernel.value[0, 0].size), dtype=ctx2.dtype)
        else:
            g2 = np.array(g_out, dtype=ctx2.dtype).reshape(batch * tq, -1)
        if self.activity_regularizer is not None:
            self.activity_regularizer.add_gradient(cache["out2"], g2)
        if self._trainable:
            kernel.grad[...] = (ctx2.T @ g2).reshape(kernel.shape)
            if bias is not None:
                bias.grad[...] = g2.sum(axis=0).reshape(bias.shape)
        d_ctx = (g2 @ kernel.value.reshape(ctx2.shape[1], -1).T)
        d_ctx = d_ctx.reshape(batch, tq, n, -1).transpose(0, 2, 1, 3)
        dw = np.matmul(d_ctx, cache["vh"].swapaxes(-1, -2))  # (B, N, Tq, Tv)
        d_vh = np.matmul(wd.swapaxes(-1, -2), d_ctx)
        if cache["dmask"] is not None:
            dw *= cache["dmask"]
        if g_w is not None:
            dw += np.asarray(g_w, dtype=dw.dtype).reshape(dw.shape)
        ds = softmax_backward(w, dw)
        d_qh = np.matmul(ds, cache["kh"])
        d_qh *= d_qh.dtype.type(self._inverse_sqrt_key_dim)
        d_kh = np.matmul(ds.swapaxes(-1, -2), cache["qh"])
        need = self._input_grad_needed
        q_shape, k_shape, v_shape = cache["shapes"]
        dq = self._project_backward("query", d_qh, cache, need)
        dk = self._project_backward("key", d_kh, cache, need)
        dv = self._project_backward("value", d_vh, cache, need)
        if not need:
            return None
        dq, dk, dv = dq.reshape(q_shape), dk.reshape(k_shape), dv.reshape(v_shape)
        n_inputs = cache["n_inputs"]
        if n_inputs == 2:
            dv += dk
            return [dq, dv]
        grads = [dq, dv, dk]
        if n_inputs == 4:
            grads.append(np.zeros(cache["am_shape"], dtype=dq.dtype))
        return grads

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": None if self._output_shape is None else list(self._output_shape),
            "attention_axes": None,
            **_WEIGHTS.config(self),
            "seed": self.seed,
        }
