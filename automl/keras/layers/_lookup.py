"""Vocabulary lookups: StringLookup and IntegerLookup (Keras 3 semantics).

Both map tokens to indices through one vocabulary laid out as Keras lays it
out: ``[mask] + [oov] * num_oov_indices + tokens``, where the mask slot
(index 0) exists only with a ``mask_token`` in ``"int"`` mode. ``adapt``
counts the tokens of the data and keeps the most frequent ones, ties broken
by the token itself, high to low (Keras sorts ``(count, token)`` pairs and
reverses them).

The lookup is vectorized: the vocabulary is kept sorted with the index of
each token, and a batch is looked up with one ``np.searchsorted``. Tokens
outside the vocabulary go to the OOV index (or, with several OOV indices, to
``hash(token) % num_oov_indices`` -- FarmHash for strings, ``token %
num_oov_indices`` for integers, as in Keras); the mask token goes to 0 in
``"int"`` mode and is dropped by the other modes.

The vocabulary (and the IDF weights) live in the config, so a saved model
predicts identically after loading. Lookups have no gradient.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..._validation import param_error
from ..backend import floatx
from ._base import LAYERS, Layer
from ._hashing import hash_buckets
from ._index_encoding import encode_indices, encoded_shape, no_gradient

__all__ = ["StringLookup", "IntegerLookup"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def as_str_array(values, encoding="utf-8") -> np.ndarray:
    """``values`` as a NumPy ``str`` array (bytes decoded with ``encoding``)."""
    x = np.asarray(values)
    if x.dtype.kind == "U":
        return x
    if x.dtype.kind == "S":
        return np.char.decode(x, encoding)
    if x.dtype.kind == "O":
        flat = [v.decode(encoding) if isinstance(v, bytes) else str(v) for v in x.reshape(-1).tolist()]
        return np.array(flat, dtype=str).reshape(x.shape) if flat else np.zeros(x.shape, dtype=str)
    return x.astype(str)


class _IndexLookup(Layer):
    """Shared machinery of StringLookup and IntegerLookup (see the module docstring)."""

    _cast_inputs = False
    _string = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=None, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 **kwargs):
        owner = type(self).__name__
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("vocabulary_size", None)  # Keras's frozen size: implied by the vocabulary here
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in _MODES:
            raise param_error("output_mode", owner, "one of {" + ", ".join(map(repr, _MODES)) + "}", output_mode)
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer))
                                       or max_tokens <= 1):
            raise param_error("max_tokens", owner, "None or an int in the range [2, inf)", max_tokens)
        if pad_to_max_tokens and max_tokens is None:
            raise param_error("max_tokens", owner, "set when pad_to_max_tokens=True", max_tokens)
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, (int, np.integer)) \
                or num_oov_indices < 0:
            raise param_error("num_oov_indices", owner, "an int in the range [0, inf)", num_oov_indices)
        if invert and output_mode != "int":
            raise param_error("output_mode", owner, "'int' when invert=True", output_mode)
        if sparse:
            raise param_error("sparse", owner, "False (automl.keras returns dense NumPy arrays)", sparse)
        if idf_weights is not None and output_mode != "tf_idf":
            raise param_error("idf_weights", owner, "None unless output_mode='tf_idf'", "an array")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{owner} with output_mode='tf_idf' and a vocabulary also needs idf_weights.")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = self._token(mask_token)
        self.oov_token = self._token(oov_token)
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.sparse = False
        self._has_input_vocabulary = bool(has_input_vocabulary)
        self._tokens = []  # the learned / given tokens, in index order from _token_start
        self._vocab_ready = False
        self.idf_weights = None
        self._table_keys = self._table_values = None
        self._reset_counts()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        else:
            self._build_table()

    # -- tokens ------------------------------------------------------------------
    def _token(self, value):
        """One token in its canonical Python form (str for strings, int for integers)."""
        if value is None:
            return None
        if self._string:
            return value.decode(getattr(self, "encoding", "utf-8")) if isinstance(value, bytes) else str(value)
        return int(value)

    def _as_tokens(self, values) -> np.ndarray:
        """Input values as an array of tokens (str, or int64)."""
        if self._string:
            return as_str_array(values, getattr(self, "encoding", "utf-8"))
        x = np.asarray(values)
        if x.dtype.kind in "USO":
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} takes integer tokens. Got an array of dtype "
                f"{x.dtype} instead (use StringLookup for strings)."
            )
        return x if x.dtype == np.int64 else x.astype(np.int64)

    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self) -> int:
        return self._oov_start() + self.num_oov_indices

    # -- vocabulary --------------------------------------------------------------
    def vocabulary_size(self) -> int:
        """Size of the vocabulary, including the mask and OOV indices."""
        return self._token_start() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary: a token's position in it is its index (with ``include_special_tokens``)."""
        specials = [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices
        tokens = list(self._tokens)
        return specials + tokens if include_special_tokens else tokens

    def _build_table(self):
        keys = np.array(self._tokens, dtype=str if self._string else np.int64)
        order = np.argsort(keys, kind="stable")
        self._table_keys = keys[order]
        self._table_values = order.astype(np.int64) + self._token_start()

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        self._vocab_ready = True
        self._build_table()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and, for ``"tf_idf"``, the IDF weights) directly instead of adapting.

        Parameters
        ----------
        vocabulary : list, array or str
            The tokens, or the path of a text file with one token per line. It
            may start with the special tokens (mask and OOV, in that order),
            e.g. a list from :meth:`get_vocabulary`.
        idf_weights : list or array, optional
            One weight per vocabulary entry; required with ``output_mode="tf_idf"``.
            Without leading special tokens, the OOV weight is their average.
        """
        owner = type(self).__name__
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{owner}.set_vocabulary needs idf_weights when output_mode='tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(
                f"{owner}.set_vocabulary takes idf_weights only with output_mode='tf_idf'. "
                f"Got output_mode={self.output_mode!r}."
            )
        if isinstance(vocabulary, str):
            if self.output_mode == "tf_idf":
                raise ValueError(f"{owner} with output_mode='tf_idf' cannot load its vocabulary from a file.")
            try:
                with open(vocabulary, encoding=getattr(self, "encoding", "utf-8")) as f:
                    lines = f.read().splitlines()
            except OSError as exc:
                raise ValueError(f"Vocabulary file {vocabulary} does not exist or cannot be read ({exc}).") from None
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = lines
        vocab = [self._token(v) for v in np.asarray(vocabulary).reshape(-1).tolist()] \
            if not isinstance(vocabulary, (list, tuple)) else [self._token(v) for v in vocabulary]
        if not vocab:
            raise ValueError(f"{owner}.set_vocabulary cannot set an empty vocabulary.")
        start = self._token_start()
        specials = [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices
        found_specials = vocab[:start] == specials
        tokens = vocab[start:] if found_specials else vocab
        repeated = [t for t, c in Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                f"The vocabulary of {owner} has repeated terms: {repeated}. Please uniquify it."
            )
        for what, token in (("mask", self.mask_token), ("OOV", self.oov_token if self.invert else None)):
            if token is not None and token in tokens:
                raise ValueError(
                    f"Found the reserved {what} token {token!r} at an unexpected position of the vocabulary of "
                    f"{owner}. The vocabulary does not need the special tokens; either remove them or put "
                    f"them first, in this order: {specials}."
                )
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(
                f"Attempted to set a vocabulary of size {start + len(tokens)} on {owner}, larger than "
                f"max_tokens={self.max_tokens}."
            )
        if idf_weights is not None:
            idf = np.asarray(idf_weights, dtype=np.float64).reshape(-1)
            if idf.size != len(vocab):
                raise ValueError(
                    f"The idf_weights of {owner} must have one weight per vocabulary entry ({len(vocab)}). "
                    f"Got {idf.size} instead."
                )
            front = 0 if found_specials else start
            self.idf_weights = self._pad_idf(idf, front, idf.mean() if idf.size else 0.0)
        self._set_tokens(tokens)

    def _pad_idf(self, idf, front, front_value):
        back = max(self.max_tokens - front - idf.size, 0) if self.pad_to_max_tokens else 0
        return np.pad(idf, (front, back), constant_values=(front_value, 0.0)).astype(floatx())

    # -- adapt -------------------------------------------------------------------
    def _reset_counts(self):
        self._counts = Counter()
        self._doc_counts = Counter()
        self._num_docs = 0

    def _accumulate(self, flat, docs):
        """Add the tokens ``flat`` (one array) and, for TF-IDF, the documents ``docs`` to the counts."""
        if flat.size:
            uniq, counts = np.unique(flat, return_counts=True)
            self._counts.update(dict(zip(uniq.tolist(), counts.tolist())))
        if self.output_mode == "tf_idf":
            for doc in docs:
                self._doc_counts.update(set(np.asarray(doc).reshape(-1).tolist()))
            self._num_docs += len(docs)

    def _check_adaptable(self):
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer {self.name!r} after setting a static vocabulary through its "
                "`vocabulary` argument."
            )

    def update_state(self, data):
        """Count the tokens of one batch (each row a document; a 1-D batch is one document)."""
        self._check_adaptable()
        x = self._as_tokens(data)
        if x.ndim == 0:
            x = x.reshape(1, 1)
        elif x.ndim == 1:
            x = x[None, :]
        x = x.reshape(x.shape[0], -1)
        self._accumulate(x.reshape(-1), list(x))

    def finalize_state(self):
        """Turn the counts into the vocabulary (most frequent first) and the IDF weights."""
        if self._has_input_vocabulary:
            return
        counts = self._counts
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        items = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens is not None:
            items = items[:max(self.max_tokens - self._token_start(), 0)]
        tokens = [t for t, _ in items]
        if self.output_mode == "tf_idf":
            df = np.array([self._doc_counts[t] for t in tokens], dtype=np.float64)
            idf = np.log1p(self._num_docs / (1.0 + df))
            self.idf_weights = self._pad_idf(idf, self._token_start(), idf.mean() if idf.size else 0.0)
        self._set_tokens(tokens)
        self._reset_counts()

    def adapt(self, data, steps=None):
        """Learn the vocabulary from ``data``: the tokens sorted by frequency (ties: high to low).

        Parameters
        ----------
        data : array-like or iterable of batches
            An array or a list (a 1-D one holds one document per element),
            or any iterable of batches (a generator, a PyDataset).
        steps : int, optional
            Use at most this many batches of an iterable.
        """
        self._check_adaptable()
        self._reset_counts()
        for batch in _adapt_batches(data, steps, type(self).__name__):
            x = self._as_tokens(batch)
            if x.ndim <= 1 and isinstance(data, (list, tuple, np.ndarray)):
                x = x.reshape(-1, 1)
            self.update_state(x)
        self.finalize_state()

    # -- call --------------------------------------------------------------------
    def _depth(self):
        if self.pad_to_max_tokens:
            return self.max_tokens
        return self.vocabulary_size() if self._vocab_ready else None

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def _lookup(self, tokens):
        """Indices of ``tokens`` (an array from ``_as_tokens``): OOV hashed, mask 0 (or -1: dropped)."""
        flat = tokens.reshape(-1)
        keys = self._table_keys
        if keys.size:
            pos = np.minimum(np.searchsorted(keys, flat), keys.size - 1)
            found = keys[pos] == flat
            out = np.where(found, self._table_values[pos], -2)
        else:
            found = np.zeros(flat.shape, dtype=bool)
            out = np.full(flat.shape, -2, dtype=np.int64)
        if self.mask_token is not None:
            masked = flat == self.mask_token
            out[masked] = 0 if self.output_mode == "int" else -1
            missing = ~(found | masked)
        else:
            missing = ~found
        if missing.any():
            n = self.num_oov_indices
            if n == 0:
                raise ValueError(
                    f"When num_oov_indices=0 all inputs of {type(self).__name__} layer {self.name!r} must "
                    f"be in the vocabulary. Found OOV values {np.unique(flat[missing])[:10].tolist()}; "
                    "consider num_oov_indices=1."
                )
            if n == 1:
                out[missing] = self._oov_start()
            elif self._string:
                out[missing] = hash_buckets(flat[missing], n) + self._oov_start()
            else:
                out[missing] = np.mod(flat[missing], n) + self._oov_start()
        return out.reshape(tokens.shape)

    def _invert(self, indices):
        idx = np.asarray(indices)
        idx = idx if idx.dtype.kind in "iu" else idx.astype(np.int64)
        vocab = np.array(self.get_vocabulary(), dtype=str if self._string else np.int64)
        start, size = self._token_start(), vocab.size
        valid = (idx >= start) & (idx < size)
        out = np.where(valid, vocab[np.clip(idx, 0, max(size - 1, 0))] if size else self.oov_token,
                       self.oov_token)
        if self.mask_token is not None:
            out = np.where(idx == 0, self.mask_token, out)
        return out if self._string else out.astype(np.int64)

    def _check_ready(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens and not self._vocab_ready:
            raise RuntimeError(
                f"When using output_mode={self.output_mode!r} and pad_to_max_tokens=False, the vocabulary "
                f"of {type(self).__name__} layer {self.name!r} must be set before calling it: pass "
                "`vocabulary` or call `adapt` first."
            )

    def _encode(self, indices):
        if self.output_mode == "int":
            return indices
        weights = self.idf_weights if self.output_mode == "tf_idf" else None
        if self.output_mode == "tf_idf" and weights is None:
            raise ValueError(f"{type(self).__name__} layer {self.name!r} has no idf_weights: adapt it or set them.")
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        return encode_indices(indices, mode, self._depth(), self.dtype, idf_weights=weights)

    def call(self, inputs, training=False):
        self._check_ready()
        x = np.asarray(inputs)
        scalar = x.ndim == 0
        if scalar:
            x = x.reshape(1)
        if self.invert:
            out = self._invert(x)
        else:
            out = self._encode(self._lookup(self._as_tokens(x)))
        return out[0] if scalar and self.output_mode == "int" else out

    def backward(self, grad):
        return no_gradient(self)

    # -- serialization -----------------------------------------------------------
    def get_config(self):
        """The config, with the current vocabulary (and IDF weights), so that a reload looks up identically."""
        idf = None
        if self.idf_weights is not None and self._vocab_ready:
            idf = self.idf_weights[:self.vocabulary_size()].tolist()
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": self.get_vocabulary() if self._vocab_ready else None,
            "idf_weights": idf,
            "has_input_vocabulary": self._has_input_vocabulary,
        }


def _adapt_batches(data, steps, owner):
    """The batches of adapt data: an array or list is one batch; other iterables give theirs."""
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1):
        raise param_error("steps", f"{owner}.adapt", "None or an int in the range [1, inf)", steps)
    if isinstance(data, (list, tuple, np.ndarray, str, bytes)):
        yield np.asarray(data)
        return
    if not hasattr(data, "__iter__"):
        if hasattr(data, "__array__"):
            yield np.asarray(data)
            return
        raise param_error("data", f"{owner}.adapt", "an array, a list or an iterable of batches",
                          type(data).__name__, TypeError)
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            break
        yield batch[0] if isinstance(batch, tuple) else batch


@LAYERS.register
class StringLookup(_IndexLookup):
    """Maps strings to integer indices through a vocabulary (or back, with ``invert``).

    Parameters
    ----------
    max_tokens : int, optional
        Largest vocabulary size, special tokens included (no cap by default).
    num_oov_indices : int, default=1
        Number of out-of-vocabulary indices; with more than one, OOV strings
        are spread over them by FarmHash; with 0, an OOV input is an error.
    mask_token : str, optional
        In ``"int"`` mode it maps to index 0; other modes drop it.
    oov_token : str, default="[UNK]"
        The token that OOV indices map back to (``invert``, ``get_vocabulary``).
    vocabulary : list or str, optional
        The tokens, or a text file with one per line (no ``adapt`` needed then).
    idf_weights : list, optional
        One weight per token, for ``output_mode="tf_idf"`` with a ``vocabulary``.
    invert : bool, default=False
        Map indices to strings instead.
    output_mode : {"int", "one_hot", "multi_hot", "count", "tf_idf"}, default="int"
        ``"int"``: int64 indices of the input's shape. ``"one_hot"``: one
        vector per string (a last axis of size 1 is replaced). ``"multi_hot"``
        / ``"count"``: per sample (the last axis), which indices occur / how
        often. ``"tf_idf"``: counts times the IDF weights. Encodings are floats
        of size ``vocabulary_size()`` (``max_tokens`` with ``pad_to_max_tokens``).
    pad_to_max_tokens : bool, default=False
    sparse : bool, default=False
        Only False (dense NumPy outputs).
    encoding : str, default="utf-8"
        Used to decode bytes inputs.

    Examples
    --------
    >>> from automl.keras.layers import StringLookup
    >>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer([["a", "c", "d"], ["d", "z", "b"]]).tolist()
    [[1, 3, 4], [4, 0, 2]]
    >>> layer = StringLookup()
    >>> layer.adapt([["a", "c", "d"], ["d", "z", "b"]])
    >>> layer.get_vocabulary()
    ['[UNK]', 'd', 'z', 'c', 'b', 'a']
    """

    _string = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", name=None, **kwargs):
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens, sparse=sparse,
                         name=name, **kwargs)

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}


@LAYERS.register
class IntegerLookup(_IndexLookup):
    """Maps integers to contiguous indices through a vocabulary (or back, with ``invert``).

    Parameters are those of :class:`StringLookup` with integer tokens:
    ``oov_token`` defaults to -1, ``vocabulary_dtype`` must be ``"int64"``,
    and with several OOV indices an OOV integer ``t`` goes to
    ``t % num_oov_indices`` (Keras's default ``oov_method="floormod"``).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import IntegerLookup
    >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]])).tolist()
    [[1, 3, 4], [4, 0, 2]]
    >>> IntegerLookup(vocabulary=[12, 36, 1138, 42], invert=True)(np.array([[1, 3, 4], [4, 0, 2]])).tolist()
    [[12, 1138, 42], [42, -1, 36]]
    """

    _string = False

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise param_error("vocabulary_dtype", "IntegerLookup", "'int64'", vocabulary_dtype)
        self.vocabulary_dtype = "int64"
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens, sparse=sparse,
                         name=name, **kwargs)

    def get_config(self):
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}
