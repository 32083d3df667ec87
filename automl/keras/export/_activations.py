"""ONNX nodes of the activations of ``automl.keras.activations``.

Each converter takes the graph, the activation object (its parameters are
its attributes), the input tensor name and a base name for new tensors, and
returns the output tensor name. ``apply_activation`` dispatches on the
activation's registered name and raises a ValueError naming the layer for an
activation it cannot express (a custom Activation subclass).
"""

from __future__ import annotations

import math

import numpy as np
from onnx import numpy_helper

from .. import activations as _activations

__all__ = ["apply_activation", "ACTIVATION_CONVERTERS"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

ACTIVATION_CONVERTERS: dict = {}


def _converts(*names):
    def deco(fn):
        for name in names:
            ACTIVATION_CONVERTERS[name] = fn
        return fn

    return deco


def _one_node(onnx_op, **attributes):
    """A converter emitting the single ONNX node ``onnx_op`` with fixed attributes."""

    def convert(g, act, x, base):
        return g.op(onnx_op, [x], base, **attributes)

    convert.__name__ = f"_{onnx_op.lower()}"
    return convert


# The activations that are one ONNX node with fixed attributes: (names, ONNX op, attributes).
for _names, _onnx_op, _attributes in [
    (("selu",), "Selu", {"alpha": _SELU_ALPHA, "gamma": _SELU_SCALE}),
    (("softplus",), "Softplus", {}),
    (("softsign",), "Softsign", {}),
    (("sigmoid",), "Sigmoid", {}),
    (("hard_sigmoid",), "HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5}),
    (("hard_silu", "hard_swish"), "HardSwish", {}),
    (("tanh",), "Tanh", {}),
    (("exponential",), "Exp", {}),
]:
    _converts(*_names)(_one_node(_onnx_op, **_attributes))


def _axes(axis):
    return list(axis) if isinstance(axis, (list, tuple)) else [int(axis)]


@_converts("linear")
def _linear(g, act, x, base):
    return x


@_converts("relu")
def _relu(g, act, x, base):
    slope, cap, thr = act.negative_slope, act.max_value, act.threshold
    if thr == 0.0:
        y = g.op("Relu", [x], base)
    else:  # x above the threshold, 0 at or below it
        y = g.op("Where", [g.op("Greater", [x, g.const(thr)], f"{base}/above"), x, g.const(0.0)], base)
    if cap is not None:
        y = g.op("Clip", [y, g.const(0.0), g.const(cap)], base)
    if slope != 0.0:
        below = g.op("Relu", [g.op("Sub", [g.const(thr), x], f"{base}/below")], f"{base}/below")
        y = g.op("Sub", [y, g.op("Mul", [below, g.const(slope)], f"{base}/leak")], base)
    return y


@_converts("leaky_relu")
def _leaky_relu(g, act, x, base):
    return g.op("LeakyRelu", [x], base, alpha=float(act.negative_slope))


@_converts("relu6")
def _relu6(g, act, x, base):
    return g.op("Clip", [x, g.const(0.0), g.const(6.0)], base)


@_converts("hard_tanh")
def _hard_tanh(g, act, x, base):
    return g.op("Clip", [x, g.const(-1.0), g.const(1.0)], base)


@_converts("elu")
def _elu(g, act, x, base):
    return g.op("Elu", [x], base, alpha=float(act.alpha))


@_converts("celu")
def _celu(g, act, x, base):
    return g.op("Celu", [x], base, alpha=float(act.alpha))


@_converts("gelu")
def _gelu(g, act, x, base):
    if act.approximate:
        # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.op("Mul", [g.op("Mul", [x, x], f"{base}/sq"), x], f"{base}/cube")
        inner = g.op("Add", [x, g.op("Mul", [cube, g.const(0.044715)], f"{base}/k")], f"{base}/inner")
        th = g.op("Tanh", [g.op("Mul", [inner, g.const(math.sqrt(2.0 / math.pi))], f"{base}/arg")],
                  f"{base}/tanh")
        gate = g.op("Mul", [g.op("Add", [th, g.const(1.0)], f"{base}/gate"), g.const(0.5)], f"{base}/gate")
        return g.op("Mul", [x, gate], base)
    erf = g.op("Erf", [g.op("Mul", [x, g.const(1.0 / math.sqrt(2.0))], f"{base}/scaled")], f"{base}/erf")
    gate = g.op("Mul", [g.op("Add", [erf, g.const(1.0)], f"{base}/cdf"), g.const(0.5)], f"{base}/cdf")
    return g.op("Mul", [x, gate], base)


@_converts("silu", "swish")
def _silu(g, act, x, base):
    return g.op("Mul", [x, g.op("Sigmoid", [x], f"{base}/sigmoid")], base)


@_converts("mish")
def _mish(g, act, x, base):
    soft = g.op("Softplus", [x], f"{base}/softplus")
    return g.op("Mul", [x, g.op("Tanh", [soft], f"{base}/tanh")], base)


@_converts("log_sigmoid")
def _log_sigmoid(g, act, x, base):
    neg = g.op("Neg", [x], f"{base}/neg")
    return g.op("Neg", [g.op("Softplus", [neg], f"{base}/softplus")], base)


@_converts("tanh_shrink")
def _tanh_shrink(g, act, x, base):
    return g.op("Sub", [x, g.op("Tanh", [x], f"{base}/tanh")], base)


@_converts("squareplus")
def _squareplus(g, act, x, base):
    root = g.op("Sqrt", [g.op("Add", [g.op("Mul", [x, x], f"{base}/sq"), g.const(act.b)], f"{base}/sum")],
                f"{base}/root")
    return g.op("Mul", [g.op("Add", [x, root], f"{base}/num"), g.const(0.5)], base)


@_converts("sparse_plus")
def _sparse_plus(g, act, x, base):
    # 0 below -1, x above 1, (x + 1)^2 / 4 in between
    quad = g.op("Add", [g.op("Clip", [x, g.const(-1.0), g.const(1.0)], f"{base}/clip"), g.const(1.0)],
                f"{base}/shift")
    quad = g.op("Mul", [g.op("Mul", [quad, quad], f"{base}/sq"), g.const(0.25)], f"{base}/quad")
    return g.op("Where", [g.op("Less", [x, g.const(1.0)], f"{base}/low"), quad, x], base)


@_converts("soft_shrink")
def _soft_shrink(g, act, x, base):
    t = float(act.threshold)
    if t >= 0.0:
        return g.op("Shrink", [x], base, lambd=t, bias=t)
    above = g.op("Sub", [x, g.const(t)], f"{base}/above")
    below = g.op("Add", [x, g.const(t)], f"{base}/below")
    inner = g.op("Where", [g.op("Less", [x, g.const(-t)], f"{base}/lt"), below, g.const(0.0)], f"{base}/in")
    return g.op("Where", [g.op("Greater", [x, g.const(t)], f"{base}/gt"), above, inner], base)


@_converts("hard_shrink")
def _hard_shrink(g, act, x, base):
    keep = g.op("Greater", [g.op("Abs", [x], f"{base}/abs"), g.const(act.threshold)], f"{base}/keep")
    return g.op("Where", [keep, x, g.const(0.0)], base)


@_converts("threshold")
def _threshold(g, act, x, base):
    keep = g.op("Greater", [x, g.const(act.threshold)], f"{base}/keep")
    return g.op("Where", [keep, x, g.const(act.default_value)], base)


def _max_shifted(g, x, axes, base):
    """``x - max(x over axes)``, the stable input of a softmax over several axes."""
    return g.op("Sub", [x, g.op("ReduceMax", [x], f"{base}/max", axes=axes, keepdims=1)], f"{base}/shift")


@_converts("softmax")
def _softmax(g, act, x, base):
    axes = _axes(act.axis)
    if len(axes) == 1:
        return g.op("Softmax", [x], base, axis=axes[0])
    e = g.op("Exp", [_max_shifted(g, x, axes, base)], f"{base}/exp")
    return g.op("Div", [e, g.op("ReduceSum", [e, g.ints(axes)], f"{base}/sum", keepdims=1)], base)


@_converts("log_softmax")
def _log_softmax(g, act, x, base):
    axes = _axes(act.axis)
    if len(axes) == 1:
        return g.op("LogSoftmax", [x], base, axis=axes[0])
    shifted = _max_shifted(g, x, axes, base)
    lse = g.op("Log", [g.op("ReduceSum", [g.op("Exp", [shifted], f"{base}/exp"), g.ints(axes)], f"{base}/sum",
                            keepdims=1)], f"{base}/lse")
    return g.op("Sub", [shifted, lse], base)


@_converts("glu")
def _glu(g, act, x, base):
    a, b = g.op("Split", [x], f"{base}/half", n_out=2, axis=int(act.axis))
    return g.op("Mul", [a, g.op("Sigmoid", [b], f"{base}/gate")], base)


@_converts("sparsemax")
def _sparsemax(g, act, x, base):
    axis = int(act.axis)
    size = g.op("Gather", [g.op("Shape", [x], f"{base}/shape"), g.ints([axis])], f"{base}/size", axis=0)
    srt, _ = g.op("TopK", [x, size], f"{base}/sorted", n_out=2, axis=axis, largest=1, sorted=1)
    axis_t = g.const(axis, dtype=np.int64)
    cums = g.op("CumSum", [srt, axis_t], f"{base}/cumsum")
    # the ranks 1..K along the axis (a cumulative sum of ones)
    ones = g.op("ConstantOfShape", [g.op("Shape", [x], f"{base}/x_shape")], f"{base}/ones",
                value=numpy_helper.from_array(np.ones(1, dtype=np.float32)))
    ranks = g.op("CumSum", [ones, axis_t], f"{base}/ranks")
    support = g.op("Greater", [g.op("Add", [g.op("Mul", [ranks, srt], f"{base}/scaled"), g.const(1.0)],
                                    f"{base}/lhs"), cums], f"{base}/support")
    k = g.op("ReduceSum", [g.op("Cast", [support], f"{base}/support_i", to=7), g.ints([axis])], f"{base}/k",
             keepdims=1)
    at_k = g.op("GatherElements", [cums, g.op("Sub", [k, g.const(1, dtype=np.int64)], f"{base}/k1")],
                f"{base}/sum_k", axis=axis)
    tau = g.op("Div", [g.op("Sub", [at_k, g.const(1.0)], f"{base}/num"),
                       g.op("Cast", [k], f"{base}/k_f", to=1)], f"{base}/tau")
    return g.op("Relu", [g.op("Sub", [x, tau], f"{base}/shifted")], base)


def activation_name(act) -> str:
    return getattr(act, "__name__", type(act).__name__)


def apply_activation(g, act, x, base, owner):
    """``act(x)`` as ONNX nodes; ``owner`` (e.g. ``"layer 'dense' (Dense)"``) names errors."""
    if act is None:
        return x
    name = activation_name(act)
    converter = ACTIVATION_CONVERTERS.get(name)
    registered = _activations.ACTIVATIONS.lookup(name) if name in _activations.ACTIVATIONS else None
    if converter is None or registered is None or type(registered) is not type(act):
        raise ValueError(
            f"Cannot export {owner} to ONNX: its activation {name!r} has no ONNX mapping. "
            f"Exportable activations: {', '.join(sorted(ACTIVATION_CONVERTERS))}."
        )
    return converter(g, act, x, f"{base}/{name}")

