"""Array operations (``automl.keras.ops``), differentiable inside custom losses.

On NumPy arrays each operation is the plain NumPy function. When a custom loss
is trained, ``y_pred`` arrives as a traced :class:`Tensor` and these operations
record what they do, so the loss's gradient is derived automatically.

>>> import numpy as np
>>> from automl.keras import ops
>>> float(ops.mean(ops.square(np.array([1.0, 3.0]))))
5.0
"""

from ..backend import epsilon
from ._tensor import (
    Tensor,
    absolute,
    add,
    cast,
    clip,
    concatenate,
    cosh,
    divide,
    exp,
    expand_dims,
    expm1,
    gradient,
    is_tensor,
    log,
    log1p,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_sum,
    relu,
    reshape,
    sigmoid,
    sign,
    sinh,
    softmax,
    softplus,
    sqrt,
    square,
    squeeze,
    stack,
    subtract,
    tanh,
    transpose,
    value_of,
    where,
)

abs = absolute  # noqa: A001 (Keras's name)
max = reduce_max  # noqa: A001
mean = reduce_mean
min = reduce_min  # noqa: A001
sum = reduce_sum  # noqa: A001
true_divide = divide

__all__ = [
    "Tensor",
    "abs",
    "absolute",
    "add",
    "cast",
    "clip",
    "concatenate",
    "cosh",
    "divide",
    "epsilon",
    "exp",
    "expand_dims",
    "expm1",
    "gradient",
    "is_tensor",
    "log",
    "log1p",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "sign",
    "sinh",
    "softmax",
    "softplus",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "subtract",
    "sum",
    "tanh",
    "transpose",
    "true_divide",
    "value_of",
    "where",
]
