"""Keras-2-style backend functions (``K.mean``, ``K.square``, ...) over :mod:`automl.keras.ops`.

They take Keras 2's argument names and defaults (``K.clip(x, min_value, max_value)``,
``K.pow(x, a)``, ``K.concatenate(tensors, axis=-1)``, ``K.argmax(x, axis=-1)``) and are
differentiable inside custom losses, ``Lambda`` layers and subclassed models, since they
are written with the ops.

>>> import numpy as np
>>> from automl.keras import backend as K
>>> K.int_shape(K.batch_flatten(np.ones((2, 3, 4))))
(2, 12)
"""

from __future__ import annotations

import numpy as np

from .. import ops as _ops
from ._config import epsilon, floatx

__all__ = [
    "abs", "all", "any", "arange", "argmax", "argmin", "batch_dot", "batch_flatten",
    "binary_crossentropy", "cast", "categorical_crossentropy", "clip", "concatenate", "constant",
    "cos", "cumprod", "cumsum", "dot", "dtype", "elu", "equal", "exp", "expand_dims", "flatten",
    "gather", "greater", "greater_equal", "hard_sigmoid", "in_top_k", "int_shape", "l2_normalize",
    "less", "less_equal", "log", "logsumexp", "max", "maximum", "mean", "min", "minimum", "ndim",
    "not_equal", "one_hot", "ones", "ones_like", "permute_dimensions", "pow", "prod", "relu",
    "repeat_elements", "reshape", "reverse", "round", "shape", "sigmoid", "sign", "sin", "softmax",
    "softplus", "softsign", "sparse_categorical_crossentropy", "sqrt", "square", "squeeze", "stack",
    "std", "stop_gradient", "sum", "switch", "tanh", "tile", "transpose", "var", "zeros",
    "zeros_like",
]


def _reduction(name):
    """``K.<name>(x, axis=None, keepdims=False)``: the op of that name, Keras 2's signature."""
    reduce_op = getattr(_ops, name)

    def reduce(x, axis=None, keepdims=False):
        return reduce_op(x, axis=axis, keepdims=keepdims)

    reduce.__name__ = reduce.__qualname__ = name
    return reduce


mean, sum, max, min, prod, std, var, all, any, logsumexp = (  # noqa: A001
    _reduction(name)
    for name in ("mean", "sum", "max", "min", "prod", "std", "var", "all", "any", "logsumexp")
)


def argmax(x, axis=-1):
    return _ops.argmax(x, axis=axis)


def argmin(x, axis=-1):
    return _ops.argmin(x, axis=axis)


def cumsum(x, axis=0):
    return _ops.cumsum(x, axis=axis)


def cumprod(x, axis=0):
    return _ops.cumprod(x, axis=axis)


def clip(x, min_value, max_value):
    return _ops.clip(x, min_value, max_value)


def pow(x, a):  # noqa: A001
    return _ops.power(x, a)


def switch(condition, then_expression, else_expression):
    return _ops.where(condition, then_expression, else_expression)


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Keras 2's parametrized ReLU: ``alpha`` slope below ``threshold``, capped at ``max_value``."""
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return _ops.relu(x)
    y = _ops.where(_ops.greater(x, threshold), x, _ops.multiply(_ops.subtract(x, threshold), alpha))
    return y if max_value is None else _ops.minimum(y, max_value)


def elu(x, alpha=1.0):
    return _ops.elu(x, alpha=alpha)


def softmax(x, axis=-1):
    return _ops.softmax(x, axis=axis)


def hard_sigmoid(x):
    """Keras 2's hard sigmoid: ``clip(0.2 x + 0.5, 0, 1)``."""
    return _ops.clip(_ops.add(_ops.multiply(x, 0.2), 0.5), 0.0, 1.0)


def concatenate(tensors, axis=-1):
    return _ops.concatenate(list(tensors), axis=axis)


def stack(x, axis=0):
    return _ops.stack(list(x), axis=axis)


def expand_dims(x, axis=-1):
    return _ops.expand_dims(x, axis)


def squeeze(x, axis):
    return _ops.squeeze(x, axis)


def reshape(x, shape):
    return _ops.reshape(x, tuple(shape))


def flatten(x):
    return _ops.reshape(x, (-1,))


def batch_flatten(x):
    return _ops.reshape(x, (int_shape(x)[0], -1))


def permute_dimensions(x, pattern):
    return _ops.transpose(x, tuple(pattern))


def transpose(x):
    return _ops.transpose(x)


def repeat_elements(x, rep, axis):
    return _ops.repeat(x, rep, axis=axis)


def tile(x, n):
    return _ops.tile(x, n)


def reverse(x, axes):
    return _ops.flip(x, axis=axes)


def gather(reference, indices):
    return _ops.take(reference, indices, axis=0)


def dot(x, y):
    """Keras 2's ``dot``: the last axis of ``x`` against the second-to-last of ``y``."""
    return _ops.dot(x, y)


def batch_dot(x, y, axes=None):
    """Keras 2's ``batch_dot``: a dot product per sample over ``axes`` (default: the last axis of
    ``x`` with the second-to-last of ``y``, or the last one for a 2-D ``y``)."""
    nx, ny = ndim(x), ndim(y)
    if axes is None:
        axes = (nx - 1, ny - 1 if ny == 2 else ny - 2)
    if isinstance(axes, int):
        axes = (axes, axes)
    ax, ay = (a % n for a, n in zip(axes, (nx, ny)))
    letters = "abcdefghijklmnopqrstuvw"
    sx = "z" + letters[:nx - 1]
    sy = "z" + letters[nx - 1:nx + ny - 2]
    sy = sy[:ay] + sx[ax] + sy[ay + 1:]
    out = "".join(c for c in sx if c != sx[ax]) + "".join(c for c in sy[1:] if c != sx[ax])
    result = _ops.einsum(f"{sx},{sy}->{out}", x, y)
    return _ops.expand_dims(result, -1) if ndim(result) == 1 else result


def l2_normalize(x, axis=None):
    norm = _ops.sqrt(_ops.maximum(_ops.sum(_ops.square(x), axis=axis, keepdims=True), epsilon()))
    return _ops.divide(x, norm)


def one_hot(indices, num_classes):
    return _ops.one_hot(indices, num_classes)


def in_top_k(predictions, targets, k):
    return _ops.in_top_k(targets, predictions, k)


def binary_crossentropy(target, output, from_logits=False):
    return _ops.binary_crossentropy(target, output, from_logits=from_logits)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return _ops.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return _ops.sparse_categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def constant(value, dtype=None, shape=None, name=None):
    value = np.asarray(value, dtype=dtype or floatx())
    return np.broadcast_to(value, shape).copy() if shape is not None else value


def zeros(shape, dtype=None, name=None):
    return _ops.zeros(shape, dtype=dtype)


def ones(shape, dtype=None, name=None):
    return _ops.ones(shape, dtype=dtype)


def zeros_like(x, dtype=None, name=None):
    return _ops.zeros_like(x, dtype=dtype)


def ones_like(x, dtype=None, name=None):
    return _ops.ones_like(x, dtype=dtype)


def arange(start, stop=None, step=1, dtype="int32"):
    return _ops.arange(start, stop, step, dtype=dtype)


def int_shape(x):
    """The static shape of ``x`` as a tuple of ints (None where unknown)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def shape(x):
    return np.asarray(int_shape(x), dtype="int32")


def ndim(x):
    return len(int_shape(x))


def dtype(x):
    return _ops.dtype(x)


def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [_ops.stop_gradient(v) for v in variables]
    return _ops.stop_gradient(variables)


abs = _ops.absolute  # noqa: A001
cast = _ops.cast
cos = _ops.cos
equal = _ops.equal
exp = _ops.exp
greater = _ops.greater
greater_equal = _ops.greater_equal
less = _ops.less
less_equal = _ops.less_equal
log = _ops.log
maximum = _ops.maximum
minimum = _ops.minimum
not_equal = _ops.not_equal
round = _ops.round  # noqa: A001
sigmoid = _ops.sigmoid
sign = _ops.sign
sin = _ops.sin
softplus = _ops.softplus
softsign = _ops.softsign
sqrt = _ops.sqrt
square = _ops.square
tanh = _ops.tanh
