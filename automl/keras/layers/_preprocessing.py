"""Numeric and image preprocessing layers: Rescaling, Normalization, Discretization,
CategoryEncoding, Resizing and CenterCrop (Keras 3 semantics).

Rescaling, Normalization, Resizing and CenterCrop are linear in their inputs
and have a backward pass. Resizing (and the resizing branch of CenterCrop)
acts as one interpolation matrix per spatial axis, ``out = R_h @ x @ R_w.T``:
the forward pass gathers the (at most two) inputs each output reads, and the
backward pass applies the adjoint ``R_h.T @ g @ R_w`` by summing the weighted
output gradients back onto those inputs.
Discretization and CategoryEncoding output bin or token indicators, piecewise
constant in their inputs: they have no gradient, and belong before the first
layer with trainable weights (models never ask such layers for an input
gradient, see ``Layer._input_grad_needed``).
"""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from ..._validation import Interval, Options, check_param, param_error
from ..backend import epsilon as _epsilon
from ..backend.image import ResizePlan
from ._base import LAYERS, KerasTensor, Layer, check_positive_int
from ._im2col import check_data_format
from ._index_encoding import (
    ENCODING_MODES,
    check_index_range,
    encode_indices,
    encoded_shape,
    no_gradient,
)

__all__ = ["Rescaling", "Normalization", "Discretization", "CategoryEncoding", "Resizing", "CenterCrop"]


# -- shared helpers ------------------------------------------------------------
def _number_or_list(value, name, owner):
    """A float, or a (nested) list of floats for per-channel values (JSON-friendly)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise param_error(name, owner, "a float or a list of floats", value, TypeError) from None
    return float(arr) if arr.ndim == 0 else arr.tolist()


def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (undo NumPy broadcasting)."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def _adapt_batches(data, batch_size, steps, owner):
    """The batches of ``data`` as float64 arrays: an array (cut into ``batch_size`` rows),
    a list of arrays, or any iterable of batches (``(x, y)`` tuples give ``x``)."""
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size", owner)
    if steps is not None:
        steps = check_positive_int(steps, "steps", owner)
    if isinstance(data, (list, tuple)) and data and all(hasattr(b, "shape") for b in data):
        batches = iter(data)
    elif isinstance(data, (np.ndarray, list, tuple)) or hasattr(data, "__array__"):
        arr = np.asarray(data, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(f"{owner}.adapt needs at least one sample. Got data of shape {arr.shape}.")
        size = batch_size or arr.shape[0]
        batches = (arr[i:i + size] for i in range(0, arr.shape[0], size))
    elif hasattr(data, "__iter__"):
        batches = iter(data)
    else:
        raise param_error("data", f"{owner}.adapt", "an array, a list of arrays or an iterable of batches",
                          type(data).__name__, TypeError)
    if steps is not None:
        batches = itertools.islice(batches, steps)
    for batch in batches:
        if isinstance(batch, tuple):
            batch = batch[0]
        batch = np.asarray(batch, dtype=np.float64)
        if batch.ndim == 0 or batch.shape[0] == 0:
            continue
        yield batch


# -- Rescaling -------------------------------------------------------------------
@LAYERS.register
class Rescaling(Layer):
    """Multiplies the inputs by ``scale`` and adds ``offset``: ``y = x * scale + offset``.

    Parameters
    ----------
    scale : float or list of floats
        The scale; a list broadcasts against the last axis (one value per channel).
    offset : float or list of floats, default=0.0
        The offset, broadcast like ``scale``.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Rescaling
    >>> y = Rescaling(1.0 / 255)(np.array([[0.0, 51.0, 255.0]]))
    >>> y.dtype.name, bool(np.allclose(y, [[0.0, 0.2, 1.0]]))
    ('float32', True)
    >>> Rescaling(1.0 / 127.5, offset=-1)(np.array([[0.0, 255.0]])).tolist()
    [[-1.0, 1.0]]
    """

    _cache_attrs = ("_in_shape",)

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _number_or_list(scale, "scale", "Rescaling")
        self.offset = _number_or_list(offset, "offset", "Rescaling")

    def call(self, inputs, training=False):
        self._in_shape = inputs.shape
        out = inputs * np.asarray(self.scale, dtype=inputs.dtype)
        out += np.asarray(self.offset, dtype=inputs.dtype)
        return out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        return _unbroadcast(grad * np.asarray(self.scale, dtype=grad.dtype), self._in_shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


# -- Normalization ---------------------------------------------------------------
@LAYERS.register
class Normalization(Layer):
    """Shifts and scales the inputs to zero mean and unit variance, per feature.

    The output is ``(x - mean) / max(sqrt(variance), epsilon)`` (``epsilon`` is
    ``backend.epsilon()``), with ``mean`` and ``variance`` either learned by
    :meth:`adapt` or passed to the constructor. Adapted statistics are
    non-trainable weights (``mean``, ``variance`` and ``count``, the number of
    values they summarize), so they follow the model through ``get_weights`` /
    ``set_weights`` and ``model.save`` / ``load_model``; constructor values live
    in the config instead.

    Parameters
    ----------
    axis : int, tuple of ints or None, default=-1
        The axes kept: each index along them has its own mean and variance
        (``-1``: one per feature of the last axis). ``None`` normalizes every
        value with one scalar mean and variance.
    mean, variance : float or array-like, optional
        Fixed statistics (both or neither), broadcast to the kept axes.
    invert : bool, default=False
        Apply the inverse map, ``x * max(sqrt(variance), epsilon) + mean``.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Normalization
    >>> layer = Normalization(axis=-1)
    >>> layer.adapt(np.array([[0.0, 7.0], [2.0, 9.0], [0.0, 7.0], [2.0, 9.0]]))
    >>> layer(np.array([[0.0, 9.0]])).round(4).tolist()
    [[-1.0, 1.0]]
    >>> Normalization(mean=3.0, variance=4.0)(np.array([[1.0], [5.0]])).tolist()
    [[-1.0], [1.0]]
    """

    _cache_attrs = ("_denom",)

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis
        ):
            axis = tuple(int(a) for a in axis)
        else:
            raise param_error("axis", "Normalization", "an int, a tuple of ints or None", axis, TypeError)
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(
                "The 'mean' and 'variance' parameters of Normalization must be passed together. "
                f"Got mean={mean!r} and variance={variance!r} instead."
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "The 'mean' and 'variance' parameters of Normalization must have the same shape. "
                    f"Got shapes {np.shape(mean)} and {np.shape(variance)} instead."
                )
            if np.ndim(mean) > len(axis):
                raise ValueError(
                    f"The 'mean' parameter of Normalization must have rank <= {len(axis)} (the number "
                    f"of kept axes {axis}). Got shape {np.shape(mean)} instead."
                )
        self.input_mean = None if mean is None else _number_or_list(mean, "mean", "Normalization")
        self.input_variance = None if variance is None else _number_or_list(variance, "variance", "Normalization")
        self.invert = bool(invert)

    def _resolve_axes(self, ndim):
        for a in self.axis:
            if not -ndim <= a < ndim:
                raise ValueError(
                    f"The 'axis' parameter of Normalization must hold axes of the inputs, in the range "
                    f"[{-ndim}, {ndim}). Got {self.axis!r} instead for inputs of rank {ndim}."
                )
        return tuple(sorted({a % ndim for a in self.axis}))

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        keep = self._resolve_axes(ndim)
        for d in keep:
            if input_shape[d] is None:
                raise ValueError(
                    f"Normalization layer {self.name!r} needs a known size along every kept axis "
                    f"(axis={self.axis!r}). Got input shape {input_shape} with axis {d} unknown."
                )
        self._keep = keep
        self._reduce = tuple(d for d in range(ndim) if d not in keep)
        self._broadcast_shape = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        stat_shape = tuple(input_shape[d] for d in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(stat_shape, "zeros", "mean", trainable=False)
            self.adapt_variance = self.add_weight(stat_shape, "ones", "variance", trainable=False)
            self.count = self.add_weight((), "zeros", "count", trainable=False, dtype="int64")
            return
        expanded = [1] * ndim
        mean_shape = np.shape(self.input_mean)
        for i in range(1, len(mean_shape) + 1):  # align the given values with the kept axes, right to left
            expanded[keep[-i]] = mean_shape[-i]
        try:
            mean = np.broadcast_to(np.reshape(self.input_mean, expanded), self._broadcast_shape)
            var = np.broadcast_to(np.reshape(self.input_variance, expanded), self._broadcast_shape)
        except ValueError:
            raise ValueError(
                f"Normalization layer {self.name!r} cannot broadcast mean/variance of shape {mean_shape} "
                f"to the kept axes {keep} of inputs of shape {input_shape}."
            ) from None
        self._const_mean = np.array(mean, dtype=self.dtype)
        self._const_denom = np.maximum(np.sqrt(np.array(var, dtype=self.dtype)), _epsilon())

    @property
    def _adapted(self) -> bool:
        # Adapted, given weights by set_weights (even mean 0 and variance 1, as a Keras model
        # without pretrained weights has) or by load_model: anything but the untouched state.
        return bool(getattr(self, "_stats_set", False) or self.count.value > 0
                    or np.any(self.adapt_mean.value != 0) or np.any(self.adapt_variance.value != 1))

    def set_weights(self, weights) -> None:
        super().set_weights(weights)
        self._stats_set = True

    def _stats(self):
        if self.input_mean is not None:
            return self._const_mean, self._const_denom
        if not self._adapted:
            raise ValueError(
                f"Normalization layer {self.name!r} has no mean and variance yet: call "
                f"{self.name}.adapt(data) before using it, or pass mean= and variance= to the constructor."
            )
        shape = self._broadcast_shape if self._keep else ()
        mean = self.adapt_mean.value.reshape(shape)
        denom = np.maximum(np.sqrt(self.adapt_variance.value.reshape(shape)), _epsilon())
        return mean, denom

    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of ``data`` along the non-kept axes.

        Parameters
        ----------
        data : array-like or iterable of arrays
            A NumPy array (or anything ``np.asarray`` accepts, e.g. a DataFrame),
            a list of batches, or an iterable of batches (``(x, y)`` tuples use ``x``).
        batch_size : int, optional
            Rows per batch when ``data`` is an array (the result does not depend on it).
        steps : int, optional
            Use at most this many batches.
        """
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization layer {self.name!r} was created with fixed mean and variance; "
                "it cannot be adapted. Create it without mean= and variance= to adapt it."
            )
        batches = _adapt_batches(data, batch_size, steps, "Normalization")
        first = next(batches, None)
        if first is None:
            raise ValueError("Normalization.adapt got no data: it needs at least one non-empty batch.")
        if not self.built:
            shape = list(first.shape)
            if 0 not in self._resolve_axes(len(shape)):
                shape[0] = None  # the batch axis is reduced: any batch size fits
            self._maybe_build(tuple(shape))
        stat_shape = self.adapt_mean.shape
        total, mean, m2 = 0, np.zeros(stat_shape), np.zeros(stat_shape)
        for batch in itertools.chain([first], batches):
            if self._keep:
                if batch.ndim != len(self._broadcast_shape) or any(
                    batch.shape[d] != self._broadcast_shape[d] for d in self._keep
                ):
                    raise ValueError(
                        f"Normalization layer {self.name!r} was built for inputs of shape "
                        f"{self.input_shape} (axis={self.axis!r}); adapt got a batch of shape "
                        f"{batch.shape} instead."
                    )
                reduce = self._reduce
            else:
                reduce = None
            n = math.prod(batch.shape[d] for d in reduce) if self._keep else batch.size
            b_mean, b_var = batch.mean(axis=reduce), batch.var(axis=reduce)
            # Chan et al.'s pairwise combination of (count, mean, sum of squared deviations).
            delta = b_mean - mean
            new_total = total + n
            mean += delta * (n / new_total)
            m2 += b_var * n + delta**2 * (total * n / new_total)
            total = new_total
        self.adapt_mean.assign(mean.astype(self.adapt_mean.dtype))
        self.adapt_variance.assign((m2 / total).astype(self.adapt_variance.dtype))
        self.count.assign(np.array(total, dtype=np.int64))

    def call(self, inputs, training=False):
        mean, denom = self._stats()
        self._denom = denom
        if self.invert:
            out = inputs * denom
            out += mean
        else:
            out = inputs - mean
            out /= denom
        return out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        return grad * self._denom if self.invert else grad / self._denom

    def get_config(self):
        return {
            **super().get_config(),
            "axis": list(self.axis),
            "mean": self.input_mean,
            "variance": self.input_variance,
            "invert": self.invert,
        }


# -- Discretization ----------------------------------------------------------------
def _check_encoding_args(output_mode, sparse, owner, modes):
    check_param("output_mode", output_mode, [Options(modes)], owner)
    if sparse:
        raise ValueError(
            f"The 'sparse' parameter of {owner} must be False: automl.keras returns dense NumPy "
            "arrays only. Got True instead."
        )


def _quantile_boundaries(sorted_values, num_bins):
    """The ``k / num_bins`` quantiles (``k = 1 .. num_bins - 1``) of sorted values.

    The empirical distribution function is ``(i + 1) / n`` at the ``i``-th sorted
    value, interpolated linearly in between (position ``q * n - 1``, clamped
    to the first value); positions are computed exactly in integers, so a
    boundary that falls on a data value equals it.
    """
    n = sorted_values.size
    k = np.arange(1, num_bins)
    whole, rest = np.divmod(k * n, num_bins)  # q * n = whole + rest / num_bins
    lo = whole - 1
    frac = rest / num_bins
    below = lo < 0
    lo, frac = np.where(below, 0, lo), np.where(below, 0.0, frac)
    hi = np.minimum(lo + 1, n - 1)
    return sorted_values[lo] + frac * (sorted_values[hi] - sorted_values[lo])


@LAYERS.register
class Discretization(Layer):
    """Buckets continuous values into bins given by boundaries (or learned quantiles).

    ``bin_boundaries=[0., 1., 2.]`` makes the bins ``(-inf, 0)``, ``[0, 1)``,
    ``[1, 2)`` and ``[2, inf)``, numbered 0 to 3. With ``num_bins`` instead,
    :meth:`adapt` sets the boundaries to the ``k / num_bins`` quantiles of the
    data (``k = 1 .. num_bins - 1``), interpolating the empirical distribution
    function (quantile position ``q * n - 1`` in the sorted values). The
    boundaries live in the config, so a saved model keeps them.

    Parameters
    ----------
    bin_boundaries : list of float, optional
        Sorted boundaries; do not call ``adapt`` then.
    num_bins : int, optional
        Number of bins to learn with ``adapt`` (instead of ``bin_boundaries``).
    epsilon : float, default=0.01
        Quantile error tolerance (Keras approximates quantiles within it; the
        quantiles here are exact, which meets any tolerance).
    output_mode : {"int", "one_hot", "multi_hot", "count"}, default="int"
        ``"int"``: the bin indices (int64). ``"one_hot"``: one indicator vector per
        value (the last axis is replaced when of size 1, else a new axis is
        appended). ``"multi_hot"`` / ``"count"``: per sample (the last axis), which
        bins occur / how often. Encoded outputs have the layer's float dtype.
    sparse : bool, default=False
        Only False (sparse tensors need the TensorFlow backend in Keras).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Discretization
    >>> x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])(x).tolist()
    [[0, 2, 3, 1], [1, 3, 2, 1]]
    >>> layer = Discretization(num_bins=4)
    >>> layer.adapt(x)
    >>> layer(x).tolist()
    [[0, 2, 3, 2], [1, 3, 3, 1]]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False,
                 **kwargs):
        super().__init__(**kwargs)
        _check_encoding_args(output_mode, sparse, "Discretization", ENCODING_MODES)
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Discretization takes either 'num_bins' or 'bin_boundaries', not both. Got "
                f"num_bins={num_bins!r} and bin_boundaries={bin_boundaries!r}."
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization needs 'num_bins' (then call adapt) or 'bin_boundaries'.")
        if num_bins is not None:
            num_bins = check_positive_int(num_bins, "num_bins", "Discretization")
        if bin_boundaries is not None:
            bin_boundaries = self._check_boundaries(bin_boundaries)
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = float(check_param("epsilon", epsilon, [Interval(float, 0, 1, closed="neither")],
                                         "Discretization"))
        self.output_mode = output_mode
        self.sparse = bool(sparse)

    @staticmethod
    def _check_boundaries(bounds):
        arr = np.asarray(bounds, dtype=np.float64)
        if arr.ndim != 1 or np.any(np.diff(arr) < 0):
            raise param_error("bin_boundaries", "Discretization", "a sorted list of floats", bounds)
        return arr.tolist()

    @property
    def _depth(self):
        return self.num_bins if self.bin_boundaries is None else len(self.bin_boundaries) + 1

    def adapt(self, data, steps=None):
        """Set ``bin_boundaries`` to the ``num_bins`` quantiles of ``data`` (all values pooled).

        Parameters
        ----------
        data : array-like or iterable of arrays
            A NumPy array, a list of batches or an iterable of batches.
        steps : int, optional
            Use at most this many batches.
        """
        if self.num_bins is None:
            raise ValueError(
                f"Discretization layer {self.name!r} was created with bin_boundaries; it cannot be "
                "adapted. Create it with num_bins= instead."
            )
        values = [b.ravel() for b in _adapt_batches(data, None, steps, "Discretization")]
        if not values:
            raise ValueError("Discretization.adapt got no data: it needs at least one non-empty batch.")
        self.bin_boundaries = _quantile_boundaries(np.sort(np.concatenate(values).astype(self.dtype)), self.num_bins).tolist()

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self._depth)

    def call(self, inputs, training=False):
        if self.bin_boundaries is None:
            raise ValueError(
                f"Discretization layer {self.name!r} has no bin boundaries yet: call "
                f"{self.name}.adapt(data) before using it, or pass bin_boundaries= to the constructor."
            )
        indices = np.digitize(inputs, self.bin_boundaries).astype(np.int64)
        return encode_indices(indices, self.output_mode, self._depth, self.dtype)

    def backward(self, grad):
        return no_gradient(self, "bin or token indicators")

    def get_config(self):
        return {
            **super().get_config(),
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        bounds = config.pop("bin_boundaries", None)
        if config.get("num_bins") is None:
            return cls(bin_boundaries=bounds, **config)
        layer = cls(**config)  # an adapted layer: num_bins and its learned boundaries
        layer.bin_boundaries = None if bounds is None else cls._check_boundaries(bounds)
        return layer


# -- CategoryEncoding -------------------------------------------------------------
@LAYERS.register
class CategoryEncoding(Layer):
    """Encodes integer tokens in ``[0, num_tokens)`` as one-hot, multi-hot or count vectors.

    Parameters
    ----------
    num_tokens : int
        Number of distinct tokens; every input must lie in ``[0, num_tokens)``.
    output_mode : {"one_hot", "multi_hot", "count"}, default="multi_hot"
        ``"one_hot"``: one vector per token (the last axis is replaced when of size
        1, else a new axis is appended). ``"multi_hot"``: per sample (the last
        axis), 1 for each token present. ``"count"``: per sample, how many times
        each token occurs (weighted by ``count_weights`` when given).
        ``"binary"`` is accepted as an alias of ``"multi_hot"``.
    sparse : bool, default=False
        Only False (sparse tensors need the TensorFlow backend in Keras).

    Examples
    --------
    >>> from automl.keras.layers import CategoryEncoding
    >>> CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1]).tolist()[0]
    [0.0, 0.0, 0.0, 1.0]
    >>> CategoryEncoding(num_tokens=4)([[0, 1], [0, 0], [1, 2], [3, 1]]).tolist()
    [[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    >>> CategoryEncoding(num_tokens=3, output_mode="count")([[0, 2, 2]]).tolist()
    [[1.0, 0.0, 2.0]]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        _check_encoding_args(output_mode, sparse, "CategoryEncoding", ENCODING_MODES[1:])
        if num_tokens is None:
            raise ValueError(
                "The 'num_tokens' parameter of CategoryEncoding must be set (an int in the range [1, inf)). "
                "Got None instead."
            )
        self.num_tokens = check_positive_int(num_tokens, "num_tokens", "CategoryEncoding")
        self.output_mode = output_mode
        self.sparse = bool(sparse)

    def __call__(self, inputs, training=False, mask=None, count_weights=None):
        # Tokens keep their integer dtype (the base class would cast them to floats).
        if isinstance(inputs, KerasTensor):
            if count_weights is not None:
                raise ValueError(
                    f"CategoryEncoding layer {self.name!r} takes count_weights only in eager calls on "
                    "arrays, not in a functional model."
                )
            return super().__call__(inputs, training)
        x = np.asarray(inputs)
        self._maybe_build((None, *x.shape[1:]) if x.ndim else (None,))
        return self.call(x, training=training, count_weights=count_weights)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def call(self, inputs, training=False, count_weights=None):
        x = np.asarray(inputs)
        if x.ndim == 0:
            x = x.reshape(1)
        idx = x if x.dtype.kind in "iu" else x.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_tokens):
            check_index_range(idx, self.num_tokens, f"CategoryEncoding layer {self.name!r}", "token",
                              "num_tokens")
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    f"CategoryEncoding layer {self.name!r} uses count_weights only with "
                    f"output_mode='count'. Got output_mode={self.output_mode!r}."
                )
            count_weights = np.asarray(count_weights, dtype=self.dtype)
            if count_weights.shape != x.shape:
                raise ValueError(
                    f"The count_weights of CategoryEncoding layer {self.name!r} must have the shape of "
                    f"the inputs {x.shape}. Got {count_weights.shape} instead."
                )
        if self.output_mode == "count" and idx.ndim > 2:
            raise ValueError(
                f"CategoryEncoding with output_mode='count' takes inputs of rank 2 or less (batch, "
                f"sample_length). Got input shape {idx.shape} instead."
            )
        return encode_indices(idx, self.output_mode, self.num_tokens, self.dtype,
                              count_weights=count_weights)

    def backward(self, grad):
        return no_gradient(self, "bin or token indicators")

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": self.sparse}


# -- Resizing and CenterCrop --------------------------------------------------------


def _check_image_rank(layer, input_shape):
    if len(tuple(input_shape)) != 4:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} expects batches of images of shape "
            f"(batch, height, width, channels). Got input shape {tuple(input_shape)} instead."
        )


class _ImageResampler(Layer):
    """Shared machinery: a cached ``ResizePlan`` per input size, its forward and adjoint."""

    _cache_attrs = ("_plan",)

    def build(self, input_shape):
        _check_image_rank(self, input_shape)
        self._plans = {}

    def compute_output_shape(self, input_shape):
        n, _, _, c = tuple(input_shape)
        return (n, self.height, self.width, c)

    def _make_plan(self, h, w, dtype):
        raise NotImplementedError

    def call(self, inputs, training=False):
        key = (*inputs.shape[1:3], inputs.dtype.str)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._make_plan(*inputs.shape[1:3], inputs.dtype)
        self._plan = plan
        return plan.forward(inputs)

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        return self._plan.backward(grad)


@LAYERS.register
class Resizing(_ImageResampler):
    """Resizes batches of images to ``(height, width)``.

    Sampling follows ``tf.image.resize`` (half-pixel centres, no antialiasing):
    output pixel ``i`` sits at input coordinate ``(i + 0.5) * in / out - 0.5``.
    The backward pass is the adjoint of this sampling.

    Parameters
    ----------
    height, width : int
        Output size.
    interpolation : {"bilinear", "nearest"}, default="bilinear"
    crop_to_aspect_ratio : bool, default=False
        First crop the largest centred window with the target aspect ratio.
    pad_to_aspect_ratio : bool, default=False
        First pad the short side evenly (with ``fill_value``) to the target aspect ratio.
    fill_mode : {"constant"}, default="constant"
    fill_value : float, default=0.0
    data_format : {"channels_last", None}, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Resizing
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 2, 1)
    >>> Resizing(4, 4)(x)[0, :, :, 0].tolist()[0]
    [1.0, 1.25, 1.75, 2.0]
    >>> Resizing(1, 1)(x).ravel().tolist()
    [2.5]
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_positive_int(height, "height", "Resizing")
        self.width = check_positive_int(width, "width", "Resizing")
        if interpolation not in ("bilinear", "nearest"):
            raise param_error("interpolation", "Resizing",
                              "one of {'bilinear', 'nearest'} (the interpolations automl.keras implements)",
                              interpolation)
        self.interpolation = interpolation
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                "Resizing takes only one of crop_to_aspect_ratio=True and pad_to_aspect_ratio=True."
            )
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        check_param("fill_mode", fill_mode, [Options(("constant",))], "Resizing")
        self.fill_mode = fill_mode
        self.fill_value = float(check_param("fill_value", fill_value, [Interval(float)], "Resizing"))
        self.data_format = check_data_format(data_format, "Resizing")

    def _make_plan(self, h, w, dtype):
        return ResizePlan(h, w, self.height, self.width, self.interpolation, self.crop_to_aspect_ratio,
                           self.pad_to_aspect_ratio, self.fill_value, dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }


@LAYERS.register
class CenterCrop(_ImageResampler):
    """Crops the central ``(height, width)`` window of batches of images.

    An image smaller than the target along either side is instead cropped to
    the largest centred window with the target aspect ratio and resized to
    ``(height, width)`` with bilinear sampling (Keras 3 semantics).

    Parameters
    ----------
    height, width : int
        Output size.
    data_format : {"channels_last", None}, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import CenterCrop
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> CenterCrop(2, 2)(x)[0, :, :, 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_positive_int(height, "height", "CenterCrop")
        self.width = check_positive_int(width, "width", "CenterCrop")
        self.data_format = check_data_format(data_format, "CenterCrop")

    def _make_plan(self, h, w, dtype):
        if h >= self.height and w >= self.width:
            plan = ResizePlan(h, w, h, w, "bilinear", False, False, 0.0, dtype)
            plan.crop = ((h - self.height) // 2, self.height, (w - self.width) // 2, self.width)
            return plan
        return ResizePlan(h, w, self.height, self.width, "bilinear", True, False, 0.0, dtype)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "data_format": self.data_format}
