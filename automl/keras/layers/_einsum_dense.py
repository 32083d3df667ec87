"""EinsumDense: ``activation(einsum(equation, inputs, kernel) + bias)``.

The equation ``"<in>,<kernel>-><out>"`` names every axis with a letter; an
ellipsis (``"...x,xy->...y"`` or ``"ab...,bc->ac..."``) stands for the input
axes the letters leave out, which pass to the output unchanged. Once the input
rank is known, the ellipsis is replaced by fresh letters, and the gradients
are einsums of the same labels::

    dL/dkernel = einsum("<in>,<out>-><kernel>", inputs, dL/dz)
    dL/dinputs = einsum("<out>,<kernel>-><in>", dL/dz, kernel)

An input axis that appears neither in the kernel nor in the output is summed
out by the forward einsum; its gradient is the broadcast of the rest.
"""

from __future__ import annotations

import re
import string

import numpy as np

from .. import activations as _activations
from ._base import LAYERS, Layer
from ._weight_spec import WeightOptions

__all__ = ["EinsumDense"]

_WEIGHTS = WeightOptions("kernel", "bias")

_FORMS = (
    (re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), None),
    (re.compile(r"^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$"), "left"),
    (re.compile(r"^([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$"), "right"),
)


def _parse_equation(equation):
    """``(input_spec, kernel_spec, output_spec, elided side or None)``."""
    if isinstance(equation, str):
        compact = equation.replace(" ", "")
        for pattern, side in _FORMS:
            match = pattern.match(compact)
            if match:
                return (*match.groups(), side)
    raise ValueError(
        f"The 'equation' parameter of EinsumDense must be an einsum equation of the form "
        f"'ab,bc->ac', '...ab,bc->...ac' or 'ab...,bc->ac...'. Got {equation!r} instead."
    )


def _einsum_to(spec_a, a, spec_b, b, target_spec, target_shape):
    """``einsum(spec_a, spec_b -> target_spec)``, broadcasting target axes found in neither."""
    present = set(spec_a) | set(spec_b)
    kept = "".join(c for c in target_spec if c in present)
    out = np.einsum(f"{spec_a},{spec_b}->{kept}", a, b, optimize=True)
    if kept != target_spec:
        missing = tuple(i for i, c in enumerate(target_spec) if c not in present)
        out = np.broadcast_to(np.expand_dims(out, missing), target_shape).copy()
    return out


@LAYERS.register
class EinsumDense(Layer):
    """A dense layer written as an einsum: ``activation(einsum(equation, x, kernel) + bias)``.

    Parameters
    ----------
    equation : str
        ``"<in>,<kernel>-><out>"`` with one letter per axis, e.g. ``"ab,bc->ac"``
        (a Dense layer), ``"abc,cd->abd"`` (Dense over the last axis of a
        sequence) or ``"abc,cde->abde"`` (one projection per head). An
        ellipsis on the left (``"...b,bc->...c"``) or on the right
        (``"ab...,bc->ac..."``) stands for the unnamed input axes.
    output_shape : int or tuple
        The output shape without the batch axis and the ellipsis axes; ``None``
        entries take the size of the matching input axis.
    activation : str or Activation, default=None
        Applied to the output (linear when None).
    bias_axes : str, optional
        Output letters that get a bias (none when None), e.g. ``"c"``.
    kernel_initializer, bias_initializer : str or Initializer
        Defaults ``"glorot_uniform"`` and ``"zeros"``.
    kernel_regularizer, bias_regularizer : Regularizer, optional
    kernel_constraint, bias_constraint : Constraint, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import EinsumDense
    >>> layer = EinsumDense("abc,cd->abd", output_shape=(None, 8), bias_axes="d")
    >>> layer(np.ones((2, 5, 3))).shape
    (2, 5, 8)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 8), (8,)]
    """

    _cache_attrs = ("_x", "_y", "_z")

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._specs = _parse_equation(equation)
        self.equation = equation
        if isinstance(output_shape, (int, np.integer)) and not isinstance(output_shape, bool) and (
            output_shape > 0
        ):
            partial = (int(output_shape),)
        elif isinstance(output_shape, (list, tuple)) and all(
            d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0)
            for d in output_shape
        ):
            partial = tuple(None if d is None else int(d) for d in output_shape)
        else:
            raise ValueError(
                "The 'output_shape' parameter of EinsumDense must be a positive int or a tuple of "
                f"positive ints and None. Got {output_shape!r} instead."
            )
        self.partial_output_shape = partial
        if bias_axes is not None:
            if not isinstance(bias_axes, str) or not bias_axes or any(
                c not in self._specs[2] for c in bias_axes
            ):
                raise ValueError(
                    "The 'bias_axes' parameter of EinsumDense must be a string of letters of the "
                    f"output spec {self._specs[2]!r}. Got {bias_axes!r} instead."
                )
        self.bias_axes = bias_axes
        self.activation = _activations.get(activation)
        _WEIGHTS.resolve(self, locals())
        self.kernel = self.bias = None
        self.full_output_shape = None

    # -- shapes ------------------------------------------------------------
    def _analyze(self, input_shape):
        """Explicit specs (ellipsis replaced), kernel shape, bias shape, full output shape."""
        in_spec, k_spec, out_spec, side = self._specs
        input_shape = tuple(input_shape)
        elided = len(input_shape) - len(in_spec)
        if elided < 0 or (side is None and elided):
            raise ValueError(
                f"EinsumDense {self.name!r}: the equation {self.equation!r} does not fit inputs of "
                f"shape {input_shape}."
            )
        fresh = [c for c in string.ascii_letters if c not in in_spec + k_spec + out_spec][:elided]
        extra = "".join(fresh)
        if side == "left":
            in_spec, out_spec = extra + in_spec, extra + out_spec
        elif side == "right":
            in_spec, out_spec = in_spec + extra, out_spec + extra
        # The full output: the batch size, the ellipsis axes and ``output_shape``.
        partial = list(self.partial_output_shape)
        if side == "left":
            full = [input_shape[0], *input_shape[1:elided], *partial]
        elif side == "right":
            full = [input_shape[0], *partial, *input_shape[len(input_shape) - elided:]]
        else:
            full = [input_shape[0], *partial]
        if len(full) != len(out_spec):
            raise ValueError(
                f"EinsumDense {self.name!r}: output_shape {self.partial_output_shape} does not "
                f"match the output spec of {self.equation!r} for inputs of shape {input_shape} "
                f"(expected {len(out_spec) - len(full) + len(partial)} dimensions besides the "
                "batch and ellipsis axes)."
            )
        in_size = dict(zip(in_spec, input_shape))
        for i, c in enumerate(out_spec):
            if c in in_size:
                if i > 0 and full[i] is not None and in_size[c] is not None and full[i] != in_size[c]:
                    raise ValueError(
                        f"EinsumDense {self.name!r}: input and output shapes differ at the shared "
                        f"axis {c!r} ({in_size[c]} vs {full[i]})."
                    )
                if full[i] is None:
                    full[i] = in_size[c]
            elif c not in k_spec:
                raise ValueError(
                    f"EinsumDense {self.name!r}: the output axis {c!r} of {self.equation!r} is in "
                    "neither the input spec nor the kernel spec."
                )
        out_size = dict(zip(out_spec, full))
        kernel_shape = []
        for c in k_spec:
            if c not in in_size and c not in out_size:
                raise ValueError(
                    f"EinsumDense {self.name!r}: the kernel axis {c!r} of {self.equation!r} is in "
                    "neither the input spec nor the output spec."
                )
            kernel_shape.append(in_size[c] if c in in_size else out_size[c])
        bias_shape = None
        if self.bias_axes is not None:
            first = min(out_spec.index(c) for c in self.bias_axes)
            bias_shape = [out_size[c] if c in self.bias_axes else 1 for c in out_spec[first:]]
        return (in_spec, k_spec, out_spec), kernel_shape, bias_shape, tuple(full)

    def compute_output_shape(self, input_shape):
        return self._analyze(input_shape)[3]

    def build(self, input_shape):
        specs, kernel_shape, bias_shape, full = self._analyze(input_shape)
        if any(d is None for d in kernel_shape) or (bias_shape and any(d is None for d in bias_shape)):
            raise ValueError(
                f"EinsumDense {self.name!r}: the kernel and bias axes must have defined sizes. Got "
                f"kernel shape {tuple(kernel_shape)} for input shape {tuple(input_shape)}."
            )
        in_spec, k_spec, out_spec = specs
        self._forward_eq = f"{in_spec},{k_spec}->{out_spec}"
        self._explicit = specs
        self.full_output_shape = full
        self.kernel = _WEIGHTS.add_weight(self, "kernel", kernel_shape)
        if bias_shape is not None:
            self.bias = _WEIGHTS.add_weight(self, "bias", bias_shape)

    # -- forward / backward ------------------------------------------------
    def call(self, inputs, training=False):
        z = np.einsum(self._forward_eq, inputs, self.kernel.value, optimize=True)
        if self.bias is not None:
            z += self.bias.value
        act = self.activation
        self._z = z.copy() if act.needs_input else None
        y = act.forward(z)
        self._x, self._y = inputs, y
        return y

    def backward(self, grad):
        grad_z = self.activation.backward(np.array(grad, dtype=self._y.dtype), self._y, self._z)
        in_spec, k_spec, out_spec = self._explicit
        if self._trainable:
            self.kernel.grad[...] = _einsum_to(in_spec, self._x, out_spec, grad_z, k_spec,
                                               self.kernel.shape)
            if self.bias is not None:
                bshape = self.bias.shape
                lead = grad_z.ndim - len(bshape)
                db = grad_z.sum(axis=tuple(range(lead))) if lead else grad_z
                ones = tuple(i for i, d in enumerate(bshape) if d == 1 and db.shape[i] != 1)
                self.bias.grad[...] = db.sum(axis=ones, keepdims=True) if ones else db
        if not self._input_grad_needed:
            return None
        return _einsum_to(out_spec, grad_z, k_spec, self.kernel.value, in_spec, self._x.shape)

    def get_config(self):
        return {
            **super().get_config(),
            "equation": self.equation,
            "output_shape": list(self.partial_output_shape),
            "activation": _activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            **_WEIGHTS.config(self),
        }
