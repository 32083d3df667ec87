"""Embedding: integer indices to rows of a trainable ``(input_dim, output_dim)`` matrix.

The forward pass is a row gather (``embeddings.take(indices, axis=0)``); the
backward pass scatter-adds the output gradient into the rows that were
gathered (sorted indices, one ``np.add.reduceat`` per run of equal indices),
written in place into the embedding's gradient buffer. Indices have no gradient.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._base import LAYERS, KerasTensor, Layer, check_positive_int
from ._index_encoding import check_index_range
from ._weight_spec import WeightOptions

__all__ = ["Embedding"]

_WEIGHTS = WeightOptions("embeddings", activity_regularizer=True)


def _scatter_add_rows(out, indices, rows):
    """``out[...] = 0; out[indices] += rows`` with repeated indices summed.

    Sorting the indices and summing each run with ``np.add.reduceat`` is
    faster than ``np.add.at`` and sums each row's contributions exactly once.
    """
    out[...] = 0.0
    if indices.size == 0:
        return
    order = np.argsort(indices, kind="stable")
    sorted_idx = indices[order]
    starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
    out[sorted_idx[starts]] = np.add.reduceat(rows.take(order, axis=0), starts, axis=0)


@LAYERS.register
class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors of fixed size.

    Parameters
    ----------
    input_dim : int
        Size of the vocabulary (largest index + 1).
    output_dim : int
        Dimension of the dense embedding.
    embeddings_initializer : str or Initializer, default="uniform"
        Initializer of the ``embeddings`` matrix (``"uniform"`` is
        ``RandomUniform(-0.05, 0.05)``, as in Keras).
    embeddings_regularizer, activity_regularizer : Regularizer, optional
    embeddings_constraint : Constraint, optional
    mask_zero : bool, default=False
        Whether index 0 is padding: the layer then emits the mask
        ``inputs != 0`` for the layers downstream (so ``input_dim`` should be
        the vocabulary size + 1).
    weights : array or list of one array, optional
        Initial embeddings of shape ``(input_dim, output_dim)``.
    lora_rank, lora_alpha : None
        LoRA is not supported; only None is accepted.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Embedding
    >>> layer = Embedding(10, 4, mask_zero=True)
    >>> layer(np.array([[1, 2, 0]])).shape
    (1, 3, 4)
    >>> layer.compute_mask(np.array([[1, 2, 0]])).tolist()
    [[True, True, False]]
    """

    _cache_attrs = ("_indices", "_in_shape", "_out", "activity_penalty")

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, lora_alpha=None,
                 activity_regularizer=None, **kwargs):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", UserWarning, stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = check_positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = check_positive_int(output_dim, "output_dim", "Embedding")
        if lora_rank is not None or lora_alpha is not None:
            raise NotImplementedError("Embedding does not support LoRA (lora_rank/lora_alpha) in automl.keras.")
        _WEIGHTS.resolve(self, locals())
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.embeddings = None
        if weights is not None:
            if not (isinstance(weights, (list, tuple)) and len(weights) == 1):
                weights = [weights]
            self._maybe_build((None, None))
            self.set_weights(weights)

    def build(self, input_shape=None):
        self.embeddings = _WEIGHTS.add_weight(self, "embeddings", (self.input_dim, self.output_dim))

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return np.not_equal(inputs, 0)

    def __call__(self, inputs, training=False, mask=None):
        # Indices keep their integer dtype (the base class would cast them to floats).
        if isinstance(inputs, KerasTensor):
            return super().__call__(inputs, training)
        x = np.asarray(inputs)
        self._maybe_build((None, *x.shape[1:]))
        return self.call(x, training=training)

    def _as_indices(self, inputs):
        idx = inputs if inputs.dtype.kind in "iu" else inputs.astype(np.intp)
        if idx.size and (idx.min() < 0 or idx.max() >= self.input_dim):
            check_index_range(idx, self.input_dim, f"Embedding {self.name!r}", "index", "input_dim")
        return idx

    def call(self, inputs, training=False):
        idx = self._as_indices(np.asarray(inputs))
        self._indices, self._in_shape = idx.reshape(-1), inputs.shape
        out = self.embeddings.value.take(self._indices, axis=0)
        if self.activity_regularizer is not None:
            self.activity_penalty = self.activity_regularizer(out)
        self._out = out if self.activity_regularizer is not None else None
        return out.reshape(*inputs.shape, self.output_dim)

    def backward(self, grad):
        grad = grad.reshape(-1, self.output_dim)
        if self.activity_regularizer is not None:
            grad = grad.copy()
            self.activity_regularizer.add_gradient(self._out, grad)
        if self._trainable:
            _scatter_add_rows(self.embeddings.grad, self._indices, grad)
        if not self._input_grad_needed:
            return None
        return np.zeros(self._in_shape, dtype=self.dtype)  # indices are not differentiable

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            **_WEIGHTS.config(self),
            "mask_zero": self.mask_zero,
        }
