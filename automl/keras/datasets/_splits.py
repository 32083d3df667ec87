"""Keras's shuffle-then-split of the single-archive datasets (Boston, California, Reuters).

Those archives hold one pair of arrays ``x`` and ``y``; ``load_data`` shuffles
the samples in Keras's exact order and puts the last ``test_split`` of them
in the test set.
"""

from __future__ import annotations

import numpy as np

from ._formats import DatasetFormatError, load_npz

__all__ = ["keras_order", "load_x_y", "train_test_split"]


def load_x_y(source, what: str, *, allow_objects: bool = False):
    """Read the arrays ``x`` and ``y`` of an ``.npz`` archive, checking they have one length."""
    arrays = load_npz(source, ("x", "y"), what=what, allow_objects=allow_objects)
    x, y = arrays["x"], arrays["y"]
    if len(x) != len(y):
        raise DatasetFormatError(f"{source}: x and y have different lengths.")
    return x, y


def keras_order(n: int, seed) -> np.ndarray:
    """Keras's exact sample order: the legacy MT19937 stream of a local ``RandomState(seed)``.

    A local instance, so no global random state is touched.
    """
    order = np.arange(n)
    np.random.RandomState(seed).shuffle(order)
    return order


def train_test_split(x, y, test_split: float):
    """``(x_train, y_train), (x_test, y_test)``: the last ``test_split`` of the samples is test."""
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
