"""Word-index sequences shared by the text datasets (IMDB, Reuters).

The published files hold ragged object arrays of word ranks. The loaders work
on one flat int64 array of all words plus the length of each sequence, so the
Keras transformations (shift by ``index_from``, ``start_char`` marker,
``maxlen`` filter, ``num_words``/``skip_top`` cut to ``oov_char``) are a few
vectorized operations rather than nested Python loops.
"""

from __future__ import annotations

import itertools
import json

import numpy as np

from ..._validation import Interval, check_param
from ..utils import downloads as _download
from ._formats import DatasetFormatError

__all__ = [
    "check_kept",
    "check_sequence_args",
    "clip_vocabulary",
    "finish_splits",
    "flatten",
    "keep_shorter",
    "load_word_index",
    "prepare_split",
    "to_lists",
]


def check_sequence_args(owner, num_words, skip_top, maxlen, start_char, oov_char, index_from):
    """Keras's integer arguments of a text ``load_data``: each None or an int >= 0."""
    nonneg = Interval(int, 0, None)
    check_param("num_words", num_words, [None, nonneg], owner)
    check_param("skip_top", skip_top, [nonneg], owner)
    check_param("maxlen", maxlen, [None, nonneg], owner)
    check_param("start_char", start_char, [None, nonneg], owner)
    check_param("oov_char", oov_char, [None, nonneg], owner)
    check_param("index_from", index_from, [None, nonneg], owner)


def flatten(sequences, index_from: int, start_char):
    """Ragged sequences → (one int64 array of all words, lengths), shifted and marked."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    flat = np.fromiter(
        itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum())
    )
    flat += index_from
    if start_char is not None:
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else lengths
        flat = np.insert(flat, starts, start_char)
        lengths = lengths + 1
    return flat, lengths


def keep_shorter(flat, lengths, labels, maxlen):
    """Keras's ``maxlen`` filter: keep the sequences strictly shorter than ``maxlen``."""
    keep = lengths < maxlen
    return flat[np.repeat(keep, lengths)], lengths[keep], labels[keep]


def prepare_split(x, labels, order, index_from, start_char, maxlen):
    """One split in ``order``, shifted, marked and ``maxlen``-filtered: (flat, lengths, labels)."""
    flat, lengths = flatten(x[order], index_from or 0, start_char)
    labels = labels[order]
    if maxlen:
        flat, lengths, labels = keep_shorter(flat, lengths, labels, maxlen)
    return flat, lengths, labels


def check_kept(maxlen, *splits):
    """Raise when the ``maxlen`` filter left one of the (flat, lengths, labels) splits empty."""
    if maxlen and any(len(lengths) == 0 for _, lengths, _ in splits):
        raise ValueError(
            f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was "
            "kept. Increase maxlen."
        )


def finish_splits(splits, num_words, skip_top, oov_char):
    """Cut each (flat, lengths, labels) split to the vocabulary: a list of (lists, labels).

    ``num_words`` None (or 0) means the largest index present over all splits.
    """
    if not num_words:
        num_words = int(max((flat.max() for flat, _, _ in splits if flat.size), default=0))
    out = []
    for flat, lengths, labels in splits:
        flat, lengths = clip_vocabulary(flat, lengths, num_words, skip_top, oov_char)
        out.append((to_lists(flat, lengths), labels))
    return out


def load_word_index(path, remote, *, owner: str, what: str) -> dict:
    """Obtain and read a Keras word-index JSON file (word -> frequency rank)."""
    source = _download.obtain(path, remote, owner=owner)
    try:
        with open(source, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as exc:
        raise DatasetFormatError(f"{source} is not a readable {what} word index: {exc}") from exc
    if not isinstance(index, dict):
        article = "an" if what[0] in "AEIOU" else "a"
        raise DatasetFormatError(f"{source} is not {article} {what} word index (not a JSON object).")
    return index


def clip_vocabulary(flat, lengths, num_words, skip_top, oov_char):
    """Words outside ``[skip_top, num_words)`` become ``oov_char`` (or are dropped when None)."""
    in_vocab = (flat >= skip_top) & (flat < num_words)
    if oov_char is not None:
        return np.where(in_vocab, flat, oov_char), lengths
    segment = np.repeat(np.arange(len(lengths)), lengths)
    return flat[in_vocab], np.bincount(segment[in_vocab], minlength=len(lengths))


def to_lists(flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Split ``flat`` into a 1-D object array of Python lists of the given lengths."""
    words = flat.tolist()
    ends = np.cumsum(lengths).tolist()
    out = np.empty(len(ends), dtype=object)
    start = 0
    for i, end in enumerate(ends):
        out[i] = words[start:end]
        start = end
    return out
