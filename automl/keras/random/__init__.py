"""Random tensors (``automl.keras.random``, mirrors ``keras.random``).

Every function takes ``seed``:

- an int: the call is deterministic (the same seed gives the same values);
- a :class:`SeedGenerator`: each call draws the next state of that generator,
  so successive calls differ but the sequence is reproducible;
- ``None``: a fresh generator from the engine's global seed
  (:func:`automl.keras.utils.set_random_seed`), from OS entropy when unset.

All draws come from ``numpy.random.Generator`` objects made by
:func:`automl.keras.backend.make_rng`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..._validation import param_error
from ..backend import floatx, make_rng

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]


class SeedGenerator:
    """A stateful source of seeds for the functions of :mod:`automl.keras.random`.

    Parameters
    ----------
    seed : int, optional
        Initial seed; from the engine's global seed (or OS entropy) when None.
    name : str, optional

    Examples
    --------
    >>> from automl.keras import random
    >>> a = random.normal((2,), seed=random.SeedGenerator(1))
    >>> g = random.SeedGenerator(1)
    >>> bool((random.normal((2,), seed=g) == a).all()), bool((random.normal((2,), seed=g) == a).all())
    (True, False)
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise param_error("seed", "SeedGenerator", "None or an int", seed, TypeError)
        self._initial_seed = None if seed is None else int(seed)
        self.name = name or "seed_generator"
        self._rng = None

    def next(self, ordered=True) -> int:
        """Advance the state and return the next integer seed."""
        if self._rng is None:  # lazily, so the global seed at first use applies
            self._rng = make_rng(self._initial_seed)
        return int(self._rng.integers(0, 2**63 - 1))

    def get_config(self) -> dict:
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _rng(seed, owner) -> np.random.Generator:
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng(seed.next())
    if seed is None or isinstance(seed, np.random.Generator):
        return make_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise param_error("seed", owner, "None, an int or a SeedGenerator", seed, TypeError)
    return make_rng(int(seed))


def _shape(shape, owner):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise param_error("shape", owner, "a tuple of non-negative ints", shape, TypeError) from None
    if any(d < 0 for d in shape):
        raise param_error("shape", owner, "a tuple of non-negative ints", shape)
    return shape


def _float_dtype(dtype, owner):
    dtype = np.dtype(dtype or floatx())
    if dtype.kind != "f":
        raise param_error("dtype", owner, "a float dtype", dtype.name)
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draw from a normal distribution.

    >>> from automl.keras import random
    >>> x = random.normal((2, 3), seed=0)
    >>> x.shape, x.dtype.name, bool((x == random.normal((2, 3), seed=0)).all())
    ((2, 3), 'float32', True)
    """
    shape, dtype = _shape(shape, "normal"), _float_dtype(dtype, "normal")
    return _rng(seed, "normal").normal(mean, stddev, shape).astype(dtype, copy=False)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Draw from a uniform distribution on ``[minval, maxval)``."""
    shape, dtype = _shape(shape, "uniform"), np.dtype(dtype or floatx())
    if dtype.kind in "iu":
        raise ValueError(
            f"The 'dtype' parameter of uniform must be a float dtype (use randint for integers). "
            f"Got {dtype.name!r} instead."
        )
    return _rng(seed, "uniform").uniform(minval, maxval, shape).astype(dtype, copy=False)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Draw integers uniformly from ``[minval, maxval)``.

    >>> from automl.keras import random
    >>> x = random.randint((100,), 0, 3, seed=0)
    >>> x.dtype.name, int(x.min()) >= 0, int(x.max()) < 3
    ('int32', True, True)
    """
    shape, dtype = _shape(shape, "randint"), np.dtype(dtype)
    if dtype.kind not in "iu":
        raise param_error("dtype", "randint", "an integer dtype", dtype.name)
    return _rng(seed, "randint").integers(minval, maxval, shape).astype(dtype, copy=False)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draw from a normal distribution, redrawing values more than 2 ``stddev`` from ``mean``."""
    shape = _shape(shape, "truncated_normal")
    dtype = _float_dtype(dtype, "truncated_normal")
    rng = _rng(seed, "truncated_normal")
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return (mean + stddev * z).astype(dtype, copy=False)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero entries with probability ``rate`` and scale the rest by ``1 / (1 - rate)``.

    ``noise_shape`` (broadcastable to ``inputs.shape``, ``None`` entries
    taking the input's size) shares one keep/drop decision along its
    size-1 axes.
    """
    x = np.asarray(inputs)
    if x.dtype.kind != "f":
        x = x.astype(floatx())
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise param_error("rate", "dropout", "a float in the range [0, 1)", rate)
    if noise_shape is None:
        noise_shape = x.shape
    else:
        noise_shape = tuple(x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    keep = _rng(seed, "dropout").random(noise_shape) >= rate
    return np.where(keep, x * x.dtype.type(1.0 / (1.0 - rate)), x.dtype.type(0))


def shuffle(x, axis=0, seed=None):
    """Return ``x`` with its entries permuted along ``axis``."""
    x = np.asarray(x)
    if x.ndim == 0:
        raise param_error("x", "shuffle", "an array with at least one axis", x)
    order = _rng(seed, "shuffle").permutation(x.shape[axis])
    return np.take(x, order, axis=axis)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draw ``num_samples`` class indices per row of ``logits`` (unnormalized log-probabilities).

    >>> import numpy as np
    >>> from automl.keras import random
    >>> s = random.categorical(np.log([[0.5, 0.5, 1e-12]]), 8, seed=0)
    >>> s.shape, bool((s < 2).all())
    ((1, 8), True)
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2:
        raise param_error("logits", "categorical", "a 2D array (batch_size, num_classes)",
                          logits.shape)
    n = int(num_samples)
    # Gumbel-max: argmax(logits + Gumbel noise) is a sample of softmax(logits).
    gumbel = -np.log(-np.log(_rng(seed, "categorical").random((logits.shape[0], n, logits.shape[1]))
                            + 1e-300) + 1e-300)
    return np.argmax(logits[:, None, :] + gumbel, axis=-1).astype(dtype)


def gamma(shape, alpha, dtype=None, seed=None):
    """Draw from a gamma distribution of concentration ``alpha`` (scale 1)."""
    shape, dtype = _shape(shape, "gamma"), _float_dtype(dtype, "gamma")
    return _rng(seed, "gamma").gamma(alpha, 1.0, shape).astype(dtype, copy=False)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Draw the number of successes in ``counts`` trials of probability ``probabilities``."""
    shape, dtype = _shape(shape, "binomial"), np.dtype(dtype or floatx())
    counts = np.asarray(counts).astype(np.int64)
    return _rng(seed, "binomial").binomial(counts, probabilities, shape).astype(dtype, copy=False)


def beta(shape, alpha, beta, dtype=None, seed=None):  # noqa: A002  (Keras's argument name)
    """Draw from a beta distribution."""
    shape, dtype = _shape(shape, "beta"), _float_dtype(dtype, "beta")
    return _rng(seed, "beta").beta(alpha, beta, shape).astype(dtype, copy=False)
