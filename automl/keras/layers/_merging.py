"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

They take a list of inputs and their ``backward`` returns a list of input
gradients, each a distinct array (a consumer may modify its gradient in
place). Element-wise merges follow Keras's broadcasting rules: inputs of
lower rank get size-1 axes inserted after the batch axis, then axes of size 1
broadcast; any other mismatch is an error. The lowercase functions
(``add(inputs)``, ``concatenate(inputs, axis=-1)``, ...) are Keras's
functional interface: they build the layer and call it on ``inputs``.

Masks follow Keras 3. The output mask of an element-wise merge is the
logical OR of the input masks when every input is masked, and None otherwise.
Add, Subtract and Average ignore the masks in their values; Multiply treats
masked entries as 1 and, when every input is masked, outputs 0 where all of
them are masked; Maximum and Minimum skip masked entries (an entry masked in
every input keeps the first input's value). Concatenate concatenates the
masks along the time axis (an unmasked input counts as all True), and along
the last axis keeps a step if any input keeps it. Dot outputs no mask.
"""

from __future__ import annotations

import numpy as np

from ..._validation import param_error
from ..backend import epsilon as _epsilon
from ._base import LAYERS, Layer

__all__ = [
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "add",
    "subtract",
    "multiply",
    "average",
    "maximum",
    "minimum",
    "concatenate",
    "dot",
]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _broadcast_dims(shape1, shape2, owner, shapes):
    """Keras's element-wise output shape of two per-sample shapes (right-aligned)."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[: len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ValueError(
                f"{owner} requires inputs of the same shape up to axes of size 1. "
                f"Got input shapes {shapes} instead."
            )
    return tuple(out)


class _Merge(Layer):
    """Base of the merging layers: list input, shape checks, list of gradients."""

    _multi_input = True
    _min_inputs = 1
    _max_inputs = None
    supports_masking = True

    def __call__(self, inputs, training=False, mask=None):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A {type(self).__name__} layer must be called on a list of inputs. "
                f"Got {type(inputs).__name__} instead."
            )
        return super().__call__(inputs, training, mask)

    def _check_masks(self, inputs, mask):
        """``mask`` as a list with one entry per input (Keras's checks), or None."""
        if mask is None:
            return None
        owner = type(self).__name__
        if not isinstance(mask, (list, tuple)):
            raise ValueError(
                f"The 'mask' argument of {owner}.compute_mask must be a list with one mask (or "
                f"None) per input. Got {type(mask).__name__} instead."
            )
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"The 'inputs' argument of {owner}.compute_mask must be a list. "
                f"Got {type(inputs).__name__} instead."
            )
        if len(mask) != len(inputs):
            raise ValueError(
                f"The 'inputs' and 'mask' arguments of {owner}.compute_mask must have the same "
                f"length. Got {len(inputs)} inputs and {len(mask)} masks instead."
            )
        return [None if m is None else np.asarray(m, dtype=bool) for m in mask]

    def compute_mask(self, inputs, mask=None):
        """The OR of the input masks if every input is masked, else None (Keras)."""
        masks = self._check_masks(inputs, mask)
        if masks is None or any(m is None for m in masks):
            return None
        out = masks[0]
        for m in masks[1:]:
            out = np.logical_or(out, m)
        return out

    def _check_count(self, n):
        lo, hi = self._min_inputs, self._max_inputs
        if n < lo or (hi is not None and n > hi):
            if lo == hi:
                expected = f"exactly {lo}"
            else:
                expected = f"at least {lo}"
            raise ValueError(
                f"A {type(self).__name__} layer must be called on {expected} input(s). "
                f"Got {n} instead."
            )

    def _check_batch(self, input_shape):
        batch_sizes = {s[0] for s in input_shape} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"{type(self).__name__} cannot merge inputs with different batch sizes. "
                f"Got input shapes {[tuple(s) for s in input_shape]} instead."
            )
        return batch_sizes.pop() if batch_sizes else None

    def build(self, input_shape):
        self._check_count(len(input_shape))
        self._check_batch(input_shape)


class _ElementwiseMerge(_Merge):
    """An element-wise merge: inputs are rank-aligned, then broadcast together."""

    _cache_attrs = ("_shapes", "_expanded_shapes")

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = _broadcast_dims(out, shape[1:], type(self).__name__, shapes)
        return (self._check_batch(shapes), *out)

    def _align(self, inputs):
        """Insert size-1 axes after the batch axis so that every input has the same rank."""
        ndim = max(x.ndim for x in inputs)
        self._shapes = [x.shape for x in inputs]
        aligned = [
            x if x.ndim == ndim else x.reshape(x.shape[0], *(1,) * (ndim - x.ndim), *x.shape[1:])
            for x in inputs
        ]
        self._expanded_shapes = [x.shape for x in aligned]
        return aligned

    def _to_input(self, grad, i, owned):
        """Reduce the output gradient ``grad`` to input ``i``'s shape.

        ``owned`` tells whether ``grad`` may be handed out as is; otherwise a new
        array is returned.
        """
        expanded = self._expanded_shapes[i]
        axes = tuple(k for k, (e, g) in enumerate(zip(expanded, grad.shape)) if e == 1 and g != 1)
        if axes:
            return grad.sum(axis=axes, keepdims=True).reshape(self._shapes[i])
        grad = grad.reshape(self._shapes[i])
        return grad if owned else grad.copy()

    def call(self, inputs, training=False, mask=None):
        self._check_count(len(inputs))
        aligned = self._align(inputs)
        if mask is not None and self._uses_masks and any(m is not None for m in mask):
            return self._merge_masked(aligned, self._full_masks(inputs, aligned, mask))
        return self._merge(aligned)

    #: Whether the merged values depend on the masks (Multiply, Maximum, Minimum).
    _uses_masks = False

    def _full_masks(self, inputs, aligned, mask):
        """Each input's mask broadcast over its trailing axes, in the aligned input's shape."""
        full = []
        for x, xa, m in zip(inputs, aligned, mask):
            if m is None:
                full.append(None)
                continue
            m = np.asarray(m, dtype=bool)
            if m.shape != x.shape[: m.ndim]:
                raise ValueError(
                    f"The mask of each input of {type(self).__name__} must cover the input's leading "
                    f"axes. Got a mask of shape {m.shape} for an input of shape {x.shape}."
                )
            m = np.broadcast_to(m.reshape(m.shape + (1,) * (x.ndim - m.ndim)), x.shape)
            full.append(m.reshape(xa.shape))
        return full

    def _merge(self, inputs):
        raise NotImplementedError

    def _merge_masked(self, inputs, masks):
        raise NotImplementedError


@LAYERS.register
class Add(_ElementwiseMerge):
    """Adds a list of inputs element-wise.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import layers
    >>> layers.Add()([np.ones((2, 3)), np.full((2, 3), 2.0)]).tolist()
    [[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]

    In a functional model (``layers.add(inputs)`` is the same as ``layers.Add()(inputs)``):

    >>> from automl.keras import Input, Model
    >>> x = Input(shape=(4,))
    >>> y = layers.add([layers.Dense(8)(x), layers.Dense(8)(x)])
    >>> Model(x, layers.Dense(1)(y)).output_shape
    (None, 1)
    """

    def _merge(self, inputs):
        out = np.empty(np.broadcast_shapes(*(x.shape for x in inputs)), dtype=inputs[0].dtype)
        out[...] = inputs[0]
        for x in inputs[1:]:
            out += x
        return out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        return [self._to_input(grad, i, owned=i == 0) for i in range(len(self._shapes))]


@LAYERS.register
class Subtract(_ElementwiseMerge):
    """Subtracts two inputs: ``inputs[0] - inputs[1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import layers
    >>> layers.Subtract()([np.full((1, 2), 5.0), np.ones((1, 2))]).tolist()
    [[4.0, 4.0]]
    """

    _min_inputs = _max_inputs = 2

    def _merge(self, inputs):
        return np.subtract(inputs[0], inputs[1])

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        negated = np.negative(grad)
        return [self._to_input(grad, 0, owned=True), self._to_input(negated, 1, owned=True)]


@LAYERS.register
class Multiply(_ElementwiseMerge):
    """Multiplies a list of inputs element-wise.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import layers
    >>> layers.Multiply()([np.full((1, 2), 3.0), np.full((1, 2), 2.0)]).tolist()
    [[6.0, 6.0]]
    """

    _cache_attrs = ("_shapes", "_expanded_shapes", "_inputs", "_masks", "_keep")
    _uses_masks = True

    def _merge(self, inputs):
        self._inputs, self._masks, self._keep = inputs, None, None
        out = np.multiply(inputs[0], inputs[1]) if len(inputs) > 1 else inputs[0].copy()
        for x in inputs[2:]:
            out *= x
        return out

    def _merge_masked(self, inputs, masks):
        # Masked entries count as 1 (the identity of the product), as in Keras.
        substituted = [x if m is None else np.where(m, x, np.ones((), x.dtype)) for x, m in zip(inputs, masks)]
        out = self._merge(substituted)
        self._masks = masks
        if all(m is not None for m in masks):
            # Where every input is masked the product of ones is replaced by 0.
            keep = masks[0]
            for m in masks[1:]:
                keep = np.logical_or(keep, m)
            self._keep = keep
            out *= keep
        return out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        xs = self._inputs
        if self._keep is not None:
            grad = grad * self._keep
        grads = []
        for i in range(len(xs)):
            # d(prod)/dx_i is the product of the other inputs; grad has the full
            # broadcast shape, so the in-place products below never change shape.
            g = grad.copy()
            for j, x in enumerate(xs):
                if j != i:
                    g *= x
            if self._masks is not None and self._masks[i] is not None:
                g *= self._masks[i]  # masked entries were replaced by a constant
            grads.append(self._to_input(g, i, owned=True))
        return grads


@LAYERS.register
class Average(_ElementwiseMerge):
    """Averages a list of inputs element-wise.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import layers
    >>> layers.Average()([np.full((1, 2), 1.0), np.full((1, 2), 3.0)]).tolist()
    [[2.0, 2.0]]
    """

    def _merge(self, inputs):
        out = np.empty(np.broadcast_shapes(*(x.shape for x in inputs)), dtype=inputs[0].dtype)
        out[...] = inputs[0]
        for x in inputs[1:]:
            out += x
        out /= len(inputs)
        return out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        n = len(self._shapes)
        return [self._to_input(grad * (1.0 / n), i, owned=True) for i in range(n)]


class _Extremum(_ElementwiseMerge):
    """Maximum/Minimum: the gradient goes to the first input that attains the extremum."""

    _cache_attrs = ("_shapes", "_expanded_shapes", "_inputs", "_out", "_source")
    _op = None
    _better = None
    _uses_masks = True

    def _merge(self, inputs):
        op = type(self)._op
        out = op(inputs[0], inputs[1]) if len(inputs) > 1 else inputs[0].copy()
        for x in inputs[2:]:
            op(out, x, out=out)
        self._inputs, self._out, self._source = inputs, out, None
        return out

    def _merge_masked(self, inputs, masks):
        """Keras's masked extremum: fold the inputs in order, skipping masked entries.

        A masked entry of the next input is replaced by the running result, and a
        masked entry of the running result by the next input; an entry masked in
        every input so far keeps the first input's value. ``_source`` records, per
        entry, the input whose value the output holds (for the backward pass).
        """
        better = type(self)._better
        shape = np.broadcast_shapes(*(x.shape for x in inputs))
        out = np.broadcast_to(inputs[0], shape)
        source = np.zeros(shape, dtype=np.intp)
        out_mask = None if masks[0] is None else np.broadcast_to(masks[0], shape)
        for i in range(1, len(inputs)):
            x = np.broadcast_to(inputs[i], shape)
            x_source = np.full(shape, i, dtype=np.intp)
            m = None if masks[i] is None else np.broadcast_to(masks[i], shape)
            if m is not None:
                x, x_source = np.where(m, x, out), np.where(m, x_source, source)
            if out_mask is not None:
                out, source = np.where(out_mask, out, x), np.where(out_mask, source, x_source)
            out_mask = None if m is None or out_mask is None else out_mask | m
            take = better(x, out)  # ties keep the earlier input
            out, source = np.where(take, x, out), np.where(take, x_source, source)
        out = np.array(out, dtype=inputs[0].dtype)
        self._inputs, self._out, self._source = inputs, out, source
        return out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        if self._source is not None:
            return [self._to_input(grad * (self._source == i), i, owned=True)
                    for i in range(len(self._inputs))]
        taken = np.zeros(grad.shape, dtype=bool)
        grads = []
        for i, x in enumerate(self._inputs):
            hit = np.equal(x, self._out)
            hit &= ~taken
            taken |= hit
            grads.append(self._to_input(grad * hit, i, owned=True))
        return grads


@LAYERS.register
class Maximum(_Extremum):
    """Element-wise maximum of a list of inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import layers
    >>> layers.Maximum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
    [[3.0, 5.0]]
    """

    _op = np.maximum
    _better = np.greater


@LAYERS.register
class Minimum(_Extremum):
    """Element-wise minimum of a list of inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import layers
    >>> layers.Minimum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
    [[1.0, 2.0]]
    """

    _op = np.minimum
    _better = np.less


@LAYERS.register
class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis``.

    All inputs have the same shape except along ``axis``.

    Parameters
    ----------
    axis : int, default=-1
        The concatenation axis (counting the batch axis as 0).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import layers
    >>> layers.Concatenate()([np.zeros((2, 3)), np.ones((2, 1))]).shape
    (2, 4)
    >>> layers.Concatenate(axis=1).compute_output_shape([(None, 2, 5), (None, 1, 5)])
    (None, 3, 5)
    """

    _cache_attrs = ("_sizes",)

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not _is_int(axis):
            raise param_error("axis", "Concatenate", "an int", axis, TypeError)
        self.axis = int(axis)

    def _positive_axis(self, ndim, shapes):
        if not -ndim <= self.axis < ndim:
            raise ValueError(
                f"The 'axis' parameter of Concatenate must be an axis of the inputs. Got "
                f"{self.axis} instead for input shapes {shapes}."
            )
        return self.axis % ndim

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        self._check_count(len(shapes))
        if len({len(s) for s in shapes}) != 1:
            raise ValueError(
                "A Concatenate layer requires inputs of the same rank. "
                f"Got input shapes {shapes} instead."
            )
        axis = self._positive_axis(len(shapes[0]), shapes)
        for k in range(len(shapes[0])):
            if k == axis:
                continue
            dims = {s[k] for s in shapes} - {None}
            if len(dims) > 1:
                raise ValueError(
                    "A Concatenate layer requires inputs with matching shapes except for the "
                    f"concatenation axis {self.axis}. Got input shapes {shapes} instead."
                )

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        axis = self._positive_axis(len(shapes[0]), shapes)
        out = list(shapes[0])
        for k in range(len(out)):
            known = [s[k] for s in shapes if s[k] is not None]
            if k == axis:
                out[k] = None if len(known) < len(shapes) else sum(known)
            else:
                out[k] = known[0] if known else None
        return tuple(out)

    def call(self, inputs, training=False):
        self._check_count(len(inputs))
        out = np.concatenate(inputs, axis=self.axis)
        self._sizes = [x.shape[self.axis] for x in inputs]
        return out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        splits = np.cumsum(self._sizes)[:-1]
        return [np.ascontiguousarray(part) for part in np.split(grad, splits, axis=self.axis)]

    def compute_mask(self, inputs, mask=None):
        """Keras's mask of a concatenation (None when no input is masked).

        Each input's mask is taken over the input's entries (an unmasked input
        counts as all True, a ``(batch, steps)`` mask covers every feature of
        its step), the masks are concatenated like the inputs, and a position of
        the output is kept if any of its entries along the last axis is: along
        the time axis the masks are concatenated, along the last axis a step is
        kept if any input keeps it.
        """
        masks = self._check_masks(inputs, mask)
        if masks is None or all(m is None for m in masks):
            return None
        per_step = []  # each input's full mask, reduced with any() over the last axis
        for x, m in zip(inputs, masks):
            x = np.asarray(x)
            if m is None:
                per_step.append(np.full(x.shape[:-1], x.shape[-1] > 0))
            elif m.ndim < x.ndim:
                per_step.append(m & (x.shape[-1] > 0))
            else:
                per_step.append(m.any(axis=-1))
        ndim = np.ndim(inputs[0])
        axis = self._positive_axis(ndim, [np.shape(x) for x in inputs])
        if axis == ndim - 1:
            out = per_step[0]
            for m in per_step[1:]:
                out = np.logical_or(out, m)
            return out
        return np.concatenate(per_step, axis=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _l2_normalize(x, axis):
    """``x / max(||x||, epsilon)`` along ``axis``; returns it with the clipped norm."""
    norm = np.sqrt(np.square(x).sum(axis=axis, keepdims=True))
    denom = np.maximum(norm, _epsilon())
    return x / denom, denom, norm > _epsilon()


def _l2_normalize_backward(grad, xn, denom, unclipped, axis):
    proj = (grad * xn).sum(axis=axis, keepdims=True)
    proj *= unclipped
    g = grad - xn * proj
    g /= denom
    return g


@LAYERS.register
class Dot(_Merge):
    """Dot product of two inputs along one axis of each, sample by sample.

    With inputs of shapes ``(batch, *a)`` and ``(batch, *b)`` the output holds,
    for every sample, the sum over the paired axes; its shape is the first
    input's shape without ``axes[0]`` followed by the second's without the batch
    axis and ``axes[1]`` (``(batch, 1)`` when nothing else is left).

    Parameters
    ----------
    axes : int or tuple of two int
        The axis to contract in each input (the batch axis is 0 and cannot be used).
    normalize : bool, default=False
        L2-normalize both inputs along their axis first (the output is then the
        cosine similarity).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import layers
    >>> layers.Dot(axes=1)([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).tolist()
    [[11.0]]
    >>> layers.Dot(axes=(1, 2)).compute_output_shape([(None, 3, 5), (None, 10, 3)])
    (None, 5, 10)
    """

    _multiplies_activations = True

    _min_inputs = _max_inputs = 2
    _cache_attrs = ("_x", "_y", "_spec", "_norms", "_out_shape")

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if _is_int(axes):
            self.axes = int(axes)
        elif isinstance(axes, (list, tuple)) and len(axes) == 2 and all(_is_int(a) for a in axes):
            self.axes = tuple(int(a) for a in axes)
        else:
            raise param_error("axes", "Dot", "an int or a tuple of two ints", axes,
                              TypeError if not isinstance(axes, (list, tuple)) else ValueError)
        self.normalize = bool(normalize)

    def _resolve_axes(self, ndim1, ndim2, shapes):
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        resolved = []
        for a, ndim in zip(axes, (ndim1, ndim2)):
            if ndim < 2 or not -ndim <= a < ndim or a % ndim == 0:
                raise ValueError(
                    f"The 'axes' parameter of Dot must pick a non-batch axis of each input. Got "
                    f"{self.axes!r} instead for input shapes {shapes}."
                )
            resolved.append(a % ndim)
        return tuple(resolved)

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        self._check_count(len(shapes))
        self._check_batch(shapes)
        a0, a1 = self._resolve_axes(len(shapes[0]), len(shapes[1]), shapes)
        d0, d1 = shapes[0][a0], shapes[1][a1]
        if d0 is not None and d1 is not None and d0 != d1:
            raise ValueError(
                f"Dot requires the contracted axes to have the same size. Got {d0} (axis {a0} of "
                f"the first input) and {d1} (axis {a1} of the second) for input shapes {shapes}."
            )

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        a0, a1 = self._resolve_axes(len(shapes[0]), len(shapes[1]), shapes)
        first = [d for k, d in enumerate(shapes[0]) if k != a0]
        second = [d for k, d in enumerate(shapes[1]) if k not in (0, a1)]
        out = first + second
        return tuple(out + [1] if len(out) == 1 else out)

    def _einsum_spec(self, ndim1, ndim2, a0, a1):
        letters = "bcdefghijklmnopqrstuvwxyz"
        s1 = ["a", *letters[: ndim1 - 1]]
        s2 = ["a", *letters[ndim1 - 1: ndim1 + ndim2 - 2]]
        s2[a1] = s1[a0]
        out = ["a", *(c for k, c in enumerate(s1) if k not in (0, a0)),
               *(c for k, c in enumerate(s2) if k not in (0, a1))]
        return "".join(s1), "".join(s2), "".join(out)

    def call(self, inputs, training=False):
        self._check_count(len(inputs))
        x, y = inputs
        a0, a1 = self._resolve_axes(x.ndim, y.ndim, [x.shape, y.shape])
        if x.shape[a0] != y.shape[a1]:
            raise ValueError(
                f"Dot requires the contracted axes to have the same size. Got {x.shape[a0]} and "
                f"{y.shape[a1]} for input shapes {[x.shape, y.shape]}."
            )
        self._norms = None
        if self.normalize:
            x, dx, ux = _l2_normalize(x, a0)
            y, dy, uy = _l2_normalize(y, a1)
            self._norms = (a0, dx, ux, a1, dy, uy)
        s1, s2, so = self._spec = self._einsum_spec(x.ndim, y.ndim, a0, a1)
        self._x, self._y = x, y
        out = np.einsum(f"{s1},{s2}->{so}", x, y, optimize=x.ndim + y.ndim > 4)
        self._out_shape = out.shape
        return out.reshape(out.shape[0], 1) if out.ndim == 1 else out

    def backward(self, grad):
        if not self._input_grad_needed:
            return None
        s1, s2, so = self._spec
        grad = grad.reshape(self._out_shape)
        optimize = self._x.ndim + self._y.ndim > 4
        gx = np.einsum(f"{so},{s2}->{s1}", grad, self._y, optimize=optimize)
        gy = np.einsum(f"{so},{s1}->{s2}", grad, self._x, optimize=optimize)
        if self._norms is not None:
            a0, dx, ux, a1, dy, uy = self._norms
            gx = _l2_normalize_backward(gx, self._x, dx, ux, a0)
            gy = _l2_normalize_backward(gy, self._y, dy, uy, a1)
        return [gx, gy]

    def compute_mask(self, inputs, mask=None):
        return None  # Keras: the dot product has no mask

    def get_config(self):
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


# -- functional interface ------------------------------------------------------


def add(inputs, **kwargs):
    """Functional interface to :class:`Add`: ``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional interface to :class:`Subtract`: ``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional interface to :class:`Multiply`: ``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional interface to :class:`Average`: ``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional interface to :class:`Maximum`: ``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional interface to :class:`Minimum`: ``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional interface to :class:`Concatenate`: ``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Functional interface to :class:`Dot`: ``Dot(axes, **kwargs)(inputs)``."""
    return Dot(axes=axes, **kwargs)(inputs)
