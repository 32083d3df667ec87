"""Helpers shared by the dataset tests: ragged object arrays and Keras's seeded split."""

import hashlib

import numpy as np
import pytest

from automl.keras.datasets import DatasetNotAvailableError
from automl.keras.utils import downloads as _download


def ragged(seqs):
    """A 1-D object array of Python lists, as the published IMDB/Reuters archives hold."""
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


def assert_keras_split(result, x, y, seed=113, test_split=0.2):
    """``result`` is Keras's split of (x, y): RandomState(seed)'s shuffle, last ``test_split`` test."""
    (x_train, y_train), (x_test, y_test) = result
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)  # Keras's shuffle
    n_train = int(len(x) * (1 - test_split))
    np.testing.assert_array_equal(x_train, x[order[:n_train]])
    np.testing.assert_array_equal(y_train, y[order[:n_train]])
    np.testing.assert_array_equal(x_test, x[order[n_train:]])
    np.testing.assert_array_equal(y_test, y[order[n_train:]])


def reference_split(rng, xs, labels, start_char, index_from, maxlen):
    """Keras 3's per-split steps, literally with Python lists: shuffle, mark/shift, ``maxlen``."""
    idx = np.arange(len(xs))
    rng.shuffle(idx)
    xs, labels = [list(xs[i]) for i in idx], np.asarray(labels)[idx]
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        keep = [len(x) < maxlen for x in xs]
        xs = [x for x, k in zip(xs, keep) if k]
        labels = labels[np.array(keep, bool)]
    return xs, labels


def reference_vocabulary(xs, num_words, skip_top, oov_char):
    """Keras 3's ``num_words``/``skip_top`` cut, literally: out-of-range words -> ``oov_char``."""
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def digit_images(seed, n_train, n_test):
    """Random MNIST-like (x_train, y_train, x_test, y_test): uint8 28x28 images, labels 0-9."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_train, dtype=np.uint8),
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_test, dtype=np.uint8))


def offline_error_message(load_data):
    """The message of the DatasetNotAvailableError ``load_data()`` raises without network."""
    with pytest.raises(DatasetNotAvailableError) as info:
        load_data()
    return str(info.value)


def serve_as_download(module, fname, url, path, monkeypatch, serve):
    """Make ``module``'s archive ``fname`` downloadable from ``url`` with the bytes of ``path``.

    The module's ``_REMOTE`` gets the checksum of those bytes (the real one cannot
    match a tiny fixture); returns the list of URLs requested.
    """
    data = path.read_bytes()
    monkeypatch.setattr(module, "_REMOTE", _download.RemoteFile(
        fname, (url,), hashlib.sha256(data).hexdigest()))
    return serve({url: data})
