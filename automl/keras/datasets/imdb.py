"""IMDB movie-review sentiment dataset (``automl.keras.datasets.imdb``)."""

from __future__ import annotations

import numpy as np

from ..utils import downloads as _download
from ._formats import DatasetFormatError, load_npz
from ._sequences import (
    check_kept,
    check_sequence_args,
    finish_splits,
    load_word_index,
    prepare_split,
)

__all__ = ["get_word_index", "load_data"]

_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_REMOTE = _download.RemoteFile(
    fname="imdb.npz",
    origins=(_BASE + "imdb.npz",),
    checksum="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
)
_WORD_INDEX = _download.RemoteFile(
    fname="imdb_word_index.json",
    origins=(_BASE + "imdb_word_index.json",),
    checksum="bfafd718b763782e994055a2d397834f",  # MD5, as published
)
_OWNER = "imdb.load_data"


def load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    **kwargs,
):
    """Load the IMDB dataset: 25,000 training and 25,000 test reviews, labelled by sentiment.

    Each review is a list of word indices; a word's index is its frequency rank
    in the training set (plus ``index_from``), so "the 10,000 most frequent
    words" is ``num_words=10000``. Index 0 is never a word (it is padding).

    Parameters
    ----------
    path : str or path-like, default="imdb.npz"
        A file name inside the cache directory (``$AUTOML_DATA_DIR`` or
        ``~/.automl/datasets``); an absolute path, or a relative path to an
        existing file, is read as a local copy of ``imdb.npz``.
    num_words : int or None, default=None
        Keep word indices below ``num_words``; others become ``oov_char``.
        ``None`` (or 0) means the largest index present -- which, as in Keras,
        itself falls outside ``[skip_top, num_words)``.
    skip_top : int, default=0
        Indices below ``skip_top`` (the most frequent words) become ``oov_char``.
    maxlen : int or None, default=None
        Drop reviews whose length (start marker included) is ``maxlen`` or more.
    seed : int, default=113
        Seed of the shuffle applied to each split (Keras's exact order).
    start_char : int or None, default=1
        Prepended to every review; ``None`` for no marker.
    oov_char : int or None, default=2
        Replaces words cut by ``num_words``/``skip_top``; ``None`` drops them.
    index_from : int, default=3
        Added to every stored word index, reserving 0 (padding), 1 (start)
        and 2 (out of vocabulary).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_*`` are 1-D object arrays of lists of int; ``y_*`` are arrays of
        labels 0 (negative) or 1 (positive).

    Examples
    --------
    >>> from automl.keras.datasets import imdb
    >>> (x_train, y_train), _ = imdb.load_data(num_words=10000)  # doctest: +SKIP
    >>> x_train[0][:3]  # doctest: +SKIP
    [1, 14, 22]
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments to imdb.load_data: {kwargs}.")
    check_sequence_args(_OWNER, num_words, skip_top, maxlen, start_char, oov_char, index_from)
    source = _download.obtain(path, _REMOTE, owner="automl.keras.datasets.imdb.load_data")
    arrays = load_npz(
        source, ("x_train", "y_train", "x_test", "y_test"), what="IMDB", allow_objects=True
    )
    # Keras's exact review order: the legacy MT19937 stream of RandomState(seed),
    # one shuffle per split. A local instance, so no global random state is touched.
    rng = np.random.RandomState(seed)
    splits = []
    for name in ("train", "test"):
        x, labels = arrays[f"x_{name}"], np.asarray(arrays[f"y_{name}"])
        if len(x) != len(labels):
            raise DatasetFormatError(f"{source}: x_{name} and y_{name} have different lengths.")
        order = np.arange(len(x))
        rng.shuffle(order)
        splits.append(prepare_split(x, labels, order, index_from, start_char, maxlen))
    check_kept(maxlen, *splits)
    return tuple(finish_splits(splits, num_words, skip_top, oov_char))


def get_word_index(path="imdb_word_index.json"):
    """Return the dict mapping each IMDB word to its frequency rank (1 = most frequent).

    Add ``index_from`` (3 by default) to a rank to get the index used in the
    sequences of :func:`load_data`.

    Parameters
    ----------
    path : str or path-like, default="imdb_word_index.json"
        A file name inside the cache directory, or a local copy (absolute path,
        or relative path to an existing file).

    Examples
    --------
    >>> from automl.keras.datasets import imdb
    >>> index = imdb.get_word_index()  # doctest: +SKIP
    >>> index["the"]  # doctest: +SKIP
    1
    """
    return load_word_index(
        path, _WORD_INDEX, owner="automl.keras.datasets.imdb.get_word_index", what="IMDB"
    )
