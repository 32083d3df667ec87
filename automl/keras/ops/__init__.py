"""Array operations (``automl.keras.ops``, mirrors ``keras.ops``): the engine's ground floor.

Every op is registered once (:mod:`._registry`) with its NumPy forward, its
vector-Jacobian product and its output-spec rule. On NumPy arrays an op is the
plain NumPy computation; on a traced :class:`Tensor` it records itself on the
tape, so custom losses, ``Lambda`` layers and subclassed models are
differentiated automatically; on a symbolic ``KerasTensor`` it adds a graph
node. The Keras sub-namespaces are modules here too (``ops.numpy``,
``ops.nn``, ``ops.math``, ``ops.linalg``, ``ops.image``, ``ops.core``) and every
op is also available flat (``ops.matmul``, ``ops.softmax``, ...). ``ops.kernels`` holds
the built-in layers' fused kernels (dense, convolution, dropout), registered as ops too.

>>> import numpy as np
>>> from automl.keras import ops
>>> float(ops.mean(ops.square(np.array([1.0, 3.0]))))
5.0
>>> ops.compute_output_spec(ops.concatenate, [ops.Spec((None, 3), "float32"),
...                                           ops.Spec((None, 2), "float32")], axis=1)
Spec(shape=(None, 5), dtype='float32')
"""

import numpy as _np

from ..backend import epsilon  # noqa: F401 (public, as before)
from . import (
    _core,
    _image,
    _linalg,
    _math,
    _nn,
    _numpy,
    core,
    image,
    kernels,  # noqa: F401 (public: the layers' fused kernels)
    linalg,
    math,
    nn,
    numpy,
    tracing,
)
from ._registry import REGISTRY, Spec, compute_output_spec  # noqa: F401
from ._tensor import FUNCTIONS as _FUNCTIONS
from ._tensor import OPS as _OPS
from ._tensor import UFUNCS as _UFUNCS
from ._tensor import Tensor, gradient, value_of  # noqa: F401

_MODULES = (_numpy, _nn, _math, _linalg, _image, _core)
#: Keras's public sub-namespaces (``ops.numpy``, ``ops.nn``, ...) and the tracing state.
NAMESPACES = (numpy, nn, math, linalg, image, core, tracing)
for _module in _MODULES:
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        setattr(_OPS, _name, getattr(_module, _name))

# Older automl names of Keras's ops.
reduce_max = globals()["max"]
reduce_min = globals()["min"]
reduce_mean = globals()["mean"]
reduce_sum = globals()["sum"]

# NumPy ufuncs and functions on a traced Tensor reach the registered op of the same name.
for _name, _entry in REGISTRY.items():
    _ufunc = getattr(_np, _name, None)
    if isinstance(_ufunc, _np.ufunc) and _entry.namespace == "numpy":
        _UFUNCS[_ufunc] = _entry.public
_UFUNCS[_np.true_divide] = globals()["divide"]


def _np_adapter(fn, first="x", rename=None):
    rename = rename or {}

    def adapter(*args, **kwargs):
        kwargs = {rename.get(k, k): v for k, v in kwargs.items()
                  if not (k in ("out", "dtype", "casting", "order") and v is None)}
        return fn(*args, **kwargs)

    return adapter


# The NumPy functions a traced Tensor accepts (others raise a TypeError that points to ops).
for _name in ("sum", "mean", "transpose", "abs", "maximum", "minimum"):
    _FUNCTIONS[getattr(_np, _name)] = _np_adapter(globals()[_name])
_FUNCTIONS[_np.clip] = _np_adapter(globals()["clip"], rename={"a_min": "x_min", "a_max": "x_max",
                                                              "min": "x_min", "max": "x_max"})
_FUNCTIONS[_np.reshape] = _np_adapter(globals()["reshape"], rename={"shape": "newshape"})
_FUNCTIONS[_np.where] = globals()["where"]

_OPS.absolute = globals()["absolute"]

__all__ = sorted(
    {"Tensor", "Spec", "compute_output_spec", "epsilon", "gradient", "is_tensor", "value_of",
     "reduce_max", "reduce_min", "reduce_mean", "reduce_sum", "core", "image", "kernels", "linalg", "math",
     "nn", "numpy", "tracing"}
    | {name for module in _MODULES for name in module.__all__}
)
del _module, _name, _entry, _ufunc
