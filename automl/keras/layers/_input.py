"""Input: the entry point of a model."""

from __future__ import annotations

import numbers

import numpy as np

from ._base import LAYERS, KerasTensor, Layer

__all__ = ["InputLayer", "Input"]


def is_string_dtype(dtype) -> bool:
    """Whether ``dtype`` means strings (Keras's ``"string"``; also ``str``, bytes and object)."""
    if dtype is None:
        return False
    if isinstance(dtype, str) and dtype.lower() in ("string", "str", "bytes", "object"):
        return True
    try:
        return np.dtype(dtype).kind in "USO"
    except TypeError:
        return False


def _dimension(d) -> int | None:
    """``d`` as an int >= 1, or None when it is not one (bools, fractions, 0, negatives)."""
    if isinstance(d, bool) or not isinstance(d, numbers.Real):
        return None
    if not (float(d).is_integer() and d >= 1):
        return None
    return int(d)


def _check_shape(shape) -> tuple:
    """``shape`` as a tuple of positive ints and Nones; a ValueError naming it otherwise."""
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is not None and all(d is None or _dimension(d) is not None for d in dims):
        return tuple(None if d is None else _dimension(d) for d in dims)
    raise ValueError(
        "The 'shape' parameter of InputLayer must be a tuple of positive ints or None (one per "
        f"axis, the batch axis excluded). Got {shape!r} instead."
    )


@LAYERS.register
class InputLayer(Layer):
    """The layer behind :func:`Input`; passes its inputs through.

    ``dtype`` is the dtype of the data the model takes: float by default
    (inputs are converted to ``floatx``), an integer type (kept as integers),
    or ``"string"`` (arrays of ``str`` / bytes / objects, passed to the first
    layers unchanged, e.g. to a ``TextVectorization``).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, **kwargs):
        if shape is None and "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if shape is None and "batch_shape" in kwargs:
            batch_size, *shape = tuple(kwargs.pop("batch_shape"))
        if shape is None:
            raise ValueError("The 'shape' parameter of InputLayer must be a tuple. Got None instead.")
        if isinstance(shape, int):
            shape = (shape,)
        string = is_string_dtype(dtype)
        super().__init__(name=name, dtype=None if string else dtype, **kwargs)
        if string:
            self.dtype = "string"
        self.shape = _check_shape(shape)
        if batch_size is not None and _dimension(batch_size) is None:
            raise ValueError(f"The 'batch_size' parameter of InputLayer must be a positive int or "
                             f"None. Got {batch_size!r} instead.")
        self.batch_size = batch_size
        self._maybe_build((batch_size, *self.shape))
        self._inbound_nodes = [((), KerasTensor((batch_size, *self.shape), self, (), self.name))]

    @property
    def input(self):
        return self.output

    def call(self, inputs, training=False):
        return inputs

    def backward(self, grad):
        return grad

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "batch_size": self.batch_size,
        }


def Input(shape=None, batch_size=None, dtype=None, name=None, **kwargs) -> KerasTensor:  # noqa: N802
    """A symbolic input of the given per-sample ``shape`` (and ``dtype``, float by default).

    ``dtype="string"`` makes a model that takes raw strings (see :class:`InputLayer`).

    >>> from automl.keras import Input
    >>> Input(shape=(64,)).shape
    (None, 64)
    >>> Input(shape=(1,), dtype="string").layer.dtype
    'string'
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, **kwargs).output
