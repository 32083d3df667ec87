"""TextVectorization: raw strings to token indices or bag-of-words vectors (Keras 3 semantics).

Each string goes through: standardize (lowercase, strip ASCII punctuation),
split (whitespace, characters), ngrams, then a :class:`StringLookup` whose
mask token is ``""`` -- so in ``"int"`` mode index 0 is padding and index 1
the OOV token ``"[UNK]"``, and the learned tokens start at 2, most frequent
first (ties: high to low). ``"int"`` outputs are padded with 0 (or cut) to
``output_sequence_length``, or to the longest sequence of the batch.

Standardizing and splitting run in Python once per string; the lookup is
one vectorized ``searchsorted`` over all the tokens of the batch.
"""

from __future__ import annotations

import string

import numpy as np

from ..._registry import custom_object
from ..._validation import param_error
from ._base import LAYERS, Layer
from ._index_encoding import no_gradient
from ._lambda import _function_config
from ._lookup import StringLookup, _adapt_batches, as_str_array

__all__ = ["TextVectorization"]

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def _check_callable_or(value, name, options):
    if value is None or callable(value) or value in options:
        return value
    raise param_error(name, "TextVectorization",
                      "None, a callable or one of {" + ", ".join(map(repr, options)) + "}", value)


def _resolve_callable(spec, custom_objects, what):
    """A callable saved by ``get_config``: resolved from ``custom_objects`` or registered objects only."""
    if not isinstance(spec, dict):
        return spec
    name = spec.get("config")
    fn = None
    if isinstance(name, str):
        fn = (custom_objects or {}).get(name) or custom_object(name)
    if fn is None:
        raise ValueError(
            f"Could not resolve the {what!r} function {name!r} of TextVectorization: functions are never "
            f"imported from a saved file. Pass it in custom_objects (custom_objects={{{name!r}: fn}}) or "
            "register it with register_keras_serializable."
        )
    return fn


@LAYERS.register
class TextVectorization(Layer):
    """Maps strings to sequences of token indices, or to multi-hot / count / TF-IDF vectors.

    Parameters
    ----------
    max_tokens : int, optional
        Largest vocabulary size, the padding (``"int"`` mode) and OOV tokens included.
    standardize : {"lower_and_strip_punctuation", "lower", "strip_punctuation"}, callable or None
        Lowercasing (Python's ``str.lower``) and removal of ``string.punctuation``.
        A callable gets the array of strings and returns the standardized array.
    split : {"whitespace", "character"}, callable or None, default="whitespace"
        ``"whitespace"`` splits like ``str.split()``; ``"character"`` into Unicode
        characters; None keeps each string as one token. A callable gets the 1-D
        array of standardized strings and returns one sequence of tokens per string.
    ngrams : int or tuple of int, optional
        ``n`` adds the 1- to ``n``-grams, a tuple the listed sizes (words joined by spaces).
    output_mode : {"int", "multi_hot", "count", "tf_idf", "one_hot"}, default="int"
        ``"int"``: int64 indices, shape ``(batch, output_sequence_length)``.
        Otherwise one float vector of size ``vocabulary_size()`` per string.
    output_sequence_length : int, optional
        ``"int"`` mode only: pad with 0 or cut every sequence to this length
        (default: the longest sequence of the batch).
    pad_to_max_tokens : bool, default=False
        Make the vectors of the other modes ``max_tokens`` long.
    vocabulary : list or str, optional
        The tokens, or a text file with one token per line (no ``adapt`` needed).
    idf_weights : list, optional
        One weight per token, for ``output_mode="tf_idf"`` with a ``vocabulary``.
    ragged, sparse : bool, default=False
        Only False (dense NumPy outputs).
    encoding : str, default="utf-8"
        Used to decode bytes inputs.

    Notes
    -----
    Inputs are a 1-D array of strings or an array of shape ``(batch, 1)``
    (a model's ``Input(shape=(1,), dtype="string")``); lists work too.

    Examples
    --------
    >>> from automl.keras.layers import TextVectorization
    >>> layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    >>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    >>> layer([["foo qux bar"], ["qux baz"]]).tolist()
    [[4, 1, 3, 0], [1, 2, 0, 0]]
    >>> TextVectorization(vocabulary=["earth", "wind", "and", "fire"]).get_vocabulary()
    ['', '[UNK]', 'earth', 'wind', 'and', 'fire']
    """

    _cast_inputs = False

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode="int", output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None, **kwargs):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._standardize = _check_callable_or(standardize, "standardize", _STANDARDIZE)
        self._split = _check_callable_or(split, "split", _SPLIT)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams >= 1)
                or (isinstance(ngrams, tuple) and ngrams and all(isinstance(n, int) and n >= 1 for n in ngrams))):
            raise param_error("ngrams", "TextVectorization", "None, an int >= 1 or a tuple of ints >= 1", ngrams)
        if output_sequence_length is not None:
            if output_mode != "int":
                raise param_error("output_sequence_length", "TextVectorization",
                                  "None unless output_mode='int'", output_sequence_length)
            if isinstance(output_sequence_length, bool) or not isinstance(output_sequence_length, (int, np.integer)) \
                    or output_sequence_length < 1:
                raise param_error("output_sequence_length", "TextVectorization",
                                  "None or an int in the range [1, inf)", output_sequence_length)
            output_sequence_length = int(output_sequence_length)
        if ragged:
            raise param_error("ragged", "TextVectorization", "False (automl.keras returns dense NumPy arrays)",
                              ragged)
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._ragged = False
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode, sparse=sparse,
            has_input_vocabulary=has_input_vocabulary, encoding=encoding, name=f"{self.name}_string_lookup",
            dtype=self.dtype,
        )

    # -- vocabulary ----------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary (``""`` for padding and ``"[UNK]"`` first in ``"int"`` mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """Size of the vocabulary, including the padding and OOV tokens."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and IDF weights for ``"tf_idf"``) directly; see ``StringLookup.set_vocabulary``."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # -- preprocessing -------------------------------------------------------------
    def _standardized(self, inputs) -> np.ndarray:
        x = as_str_array(inputs, self._encoding)
        std = self._standardize
        if std is None:
            return x
        if callable(std):
            return as_str_array(std(x), self._encoding)
        flat = x.reshape(-1).tolist()
        if std in ("lower", "lower_and_strip_punctuation"):
            flat = [s.lower() for s in flat]
        if std in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [s.translate(_PUNCTUATION) for s in flat]
        return np.array(flat, dtype=str).reshape(x.shape) if flat else x

    def _ngrammed(self, tokens):
        if self._ngrams is None:
            return tokens
        return [" ".join(tokens[i:i + n]) for n in self._ngrams for i in range(len(tokens) - n + 1)]

    def _preprocess(self, inputs):
        """``(docs, x)``: the token list of each string (split), or None and the token array (no split)."""
        x = self._standardized(inputs)
        if self._split is None:
            if self._ngrams is not None:
                rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
                return [self._ngrammed(r) for r in rows.tolist()], None
            return None, x
        if x.ndim > 1:
            if x.shape[-1] != 1:
                raise ValueError(
                    f"TextVectorization layer {self.name!r} splits strings, so its input must have rank 1 "
                    f"or a last axis of size 1. Got inputs of shape {x.shape}."
                )
            x = x[..., 0]
        flat = x.reshape(-1)
        if self._split == "whitespace":
            docs = [s.split() for s in flat.tolist()]
        elif self._split == "character":
            docs = [list(s) for s in flat.tolist()]
        else:
            docs = [[str(t) for t in np.asarray(as_str_array(d, self._encoding)).reshape(-1).tolist()]
                    for d in self._split(flat)]
        return [self._ngrammed(d) for d in docs], None

    # -- adapt ---------------------------------------------------------------------
    def update_state(self, data):
        """Count the tokens of one batch of strings (one document per string)."""
        lookup = self._lookup_layer
        lookup._check_adaptable()
        docs, x = self._preprocess(np.atleast_1d(np.asarray(data)))
        if docs is None:
            x = x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(-1, 1)
            lookup._accumulate(x.reshape(-1), list(x))
            return
        flat = np.array([t for d in docs for t in d], dtype=str)
        lookup._accumulate(flat, docs)

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer._reset_counts()

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and IDF weights) from strings.

        Parameters
        ----------
        data : array-like of str or iterable of batches
            The texts: a list or array of strings (one document each), or any
            iterable of batches of strings (``(x, y)`` batches give ``x``).
        batch_size : int, optional
            Accepted for Keras compatibility; arrays are processed at once.
        steps : int, optional
            Use at most this many batches of an iterable.
        """
        self._lookup_layer._check_adaptable()
        self.reset_state()
        for batch in _adapt_batches(data, steps, "TextVectorization"):
            self.update_state(batch)
        self.finalize_state()

    # -- call ----------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self._output_mode == "int":
            return (shape[0] if shape else None, self._output_sequence_length)
        if self._split is None:
            if len(shape) <= 1:
                shape = (*shape, 1)
        else:  # the strings (a last axis of size 1 is squeezed) become sequences of tokens
            if len(shape) > 1 and shape[-1] == 1:
                shape = shape[:-1]
            shape = (*shape, None)
        return self._lookup_layer.compute_output_shape(shape)

    def call(self, inputs, training=False):
        lookup = self._lookup_layer
        lookup._check_ready()
        x = np.asarray(inputs)
        if x.ndim == 0:
            x = x.reshape(1)
        docs, tokens = self._preprocess(x)
        if docs is None:  # no split: each string is a token
            idx = lookup._lookup(tokens)
            if self._output_mode != "int":
                return lookup._encode(idx if idx.ndim > 1 else idx[:, None])
            length = self._output_sequence_length
            if length is None:
                return idx
            idx = idx[..., :length]
            if idx.shape[-1] < length:
                idx = np.concatenate([idx, np.zeros((*idx.shape[:-1], length - idx.shape[-1]), np.int64)], -1)
            return idx
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        flat = np.array([t for d in docs for t in d], dtype=str)
        idx = lookup._lookup(flat)
        rows = np.repeat(np.arange(len(docs)), lengths)
        if self._output_mode == "int":
            cols = np.arange(idx.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            width = self._output_sequence_length
            if width is None:
                width = int(lengths.max()) if lengths.size else 0
            out = np.zeros((len(docs), width), dtype=np.int64)
            keep = cols < width
            out[rows[keep], cols[keep]] = idx[keep]
            return out
        if self._output_mode == "one_hot":
            return lookup._encode(idx)
        depth = lookup._depth()
        keep = idx >= 0
        counts = np.bincount(rows[keep] * depth + idx[keep], minlength=len(docs) * depth).reshape(len(docs), depth)
        if self._output_mode == "multi_hot":
            return np.minimum(counts, 1).astype(self.dtype)
        out = counts.astype(self.dtype)
        if self._output_mode == "tf_idf":
            out *= lookup.idf_weights[:depth].astype(self.dtype, copy=False)
        return out

    def backward(self, grad):
        return no_gradient(self)

    # -- serialization -------------------------------------------------------------
    def get_config(self):
        """The config, with the current vocabulary and IDF weights (a reload vectorizes identically)."""
        lookup = self._lookup_layer.get_config()

        def spec(value, what):
            return _function_config(value, self.name, what) if callable(value) else value

        return {
            **super().get_config(),
            "max_tokens": lookup["max_tokens"],
            "standardize": spec(self._standardize, "standardize"),
            "split": spec(self._split, "split"),
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup["pad_to_max_tokens"],
            "sparse": False,
            "ragged": False,
            "vocabulary": lookup["vocabulary"],
            "idf_weights": lookup["idf_weights"],
            "encoding": self._encoding,
            "has_input_vocabulary": lookup["has_input_vocabulary"],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the layer; callables resolve through ``custom_objects`` or registered objects only."""
        config = dict(config)
        for key in ("standardize", "split"):
            config[key] = _resolve_callable(config.get(key), custom_objects, key)
        return cls(**config)

