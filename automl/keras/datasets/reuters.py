"""Reuters newswire topic classification dataset (``automl.keras.datasets.reuters``)."""

from __future__ import annotations

import numpy as np

from ..._validation import Interval, check_param
from ..utils import downloads as _download
from ._sequences import (
    check_kept,
    check_sequence_args,
    finish_splits,
    load_word_index,
    prepare_split,
)
from ._splits import keras_order, load_x_y, train_test_split

__all__ = ["get_label_names", "get_word_index", "load_data"]

_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_REMOTE = _download.RemoteFile(
    fname="reuters.npz",
    origins=(_BASE + "reuters.npz",),
    checksum="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
)
_WORD_INDEX = _download.RemoteFile(
    fname="reuters_word_index.json",
    origins=(_BASE + "reuters_word_index.json",),
    checksum="4d44cc38712099c9e383dc6e5f11a921",  # MD5, as published
)
_OWNER = "reuters.load_data"
# The 46 topics, in the order of the labels (label i is _LABELS[i]).
_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi",
    "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal",
    "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc",
    "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """Load the Reuters dataset: 11,228 newswires labelled over 46 topics.

    Each newswire is a list of word indices; a word's index is its frequency
    rank (plus ``index_from``), so "the 10,000 most frequent words" is
    ``num_words=10000``. Index 0 is never a word (it is padding). The
    newswires are shuffled, then the last ``test_split`` of them form the
    test set.

    Parameters
    ----------
    path : str or path-like, default="reuters.npz"
        A file name inside the cache directory (``$AUTOML_DATA_DIR`` or
        ``~/.automl/datasets``); an absolute path, or a relative path to an
        existing file, is read as a local copy of ``reuters.npz`` (object
        arrays ``x`` and ``y``).
    num_words : int or None, default=None
        Keep word indices below ``num_words``; others become ``oov_char``.
        ``None`` (or 0) means the largest index present -- which, as in Keras,
        itself falls outside ``[skip_top, num_words)``.
    skip_top : int, default=0
        Indices below ``skip_top`` (the most frequent words) become ``oov_char``.
    maxlen : int or None, default=None
        Drop newswires whose length (start marker included) is ``maxlen`` or more.
    test_split : float, default=0.2
        Fraction of the newswires put in the test set, in ``[0, 1)``.
    seed : int, default=113
        Seed of the shuffle done before splitting (Keras's exact order).
    start_char : int or None, default=1
        Prepended to every newswire; ``None`` for no marker.
    oov_char : int or None, default=2
        Replaces words cut by ``num_words``/``skip_top``; ``None`` drops them.
    index_from : int, default=3
        Added to every stored word index, reserving 0 (padding), 1 (start)
        and 2 (out of vocabulary).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_*`` are 1-D object arrays of lists of int; ``y_*`` are arrays of
        topic labels in ``[0, 46)`` (names from :func:`get_label_names`).

    Examples
    --------
    >>> from automl.keras.datasets import reuters
    >>> (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=10000)  # doctest: +SKIP
    >>> len(x_train), len(x_test)  # doctest: +SKIP
    (8982, 2246)
    """
    check_sequence_args(_OWNER, num_words, skip_top, maxlen, start_char, oov_char, index_from)
    check_param("test_split", test_split, [Interval(float, 0, 1, closed="left")], _OWNER)
    source = _download.obtain(path, _REMOTE, owner="automl.keras.datasets.reuters.load_data")
    x, labels = load_x_y(source, "Reuters", allow_objects=True)
    split = prepare_split(
        x, np.asarray(labels), keras_order(len(x), seed), index_from, start_char, maxlen
    )
    check_kept(maxlen, split)
    [(xs, labels)] = finish_splits([split], num_words, skip_top, oov_char)
    return train_test_split(xs, labels, test_split)


def get_word_index(path="reuters_word_index.json"):
    """Return the dict mapping each Reuters word to its frequency rank (1 = most frequent).

    Add ``index_from`` (3 by default) to a rank to get the index used in the
    sequences of :func:`load_data`.

    Parameters
    ----------
    path : str or path-like, default="reuters_word_index.json"
        A file name inside the cache directory, or a local copy (absolute path,
        or relative path to an existing file).

    Examples
    --------
    >>> from automl.keras.datasets import reuters
    >>> index = reuters.get_word_index()  # doctest: +SKIP
    >>> index["the"]  # doctest: +SKIP
    1
    """
    return load_word_index(
        path, _WORD_INDEX, owner="automl.keras.datasets.reuters.get_word_index", what="Reuters"
    )


def get_label_names():
    """Return the 46 topic names, as a tuple indexed by label.

    Examples
    --------
    >>> from automl.keras.datasets import reuters
    >>> names = reuters.get_label_names()
    >>> len(names), names[3], names[4]
    (46, 'earn', 'acq')
    """
    return _LABELS
