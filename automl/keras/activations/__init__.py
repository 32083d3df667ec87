"""Activation functions (``automl.keras.activations``)."""

from ._base import (
    ACTIVATIONS,
    Activation,
    deserialize,
    get,
    serialize,
)
from ._elementary import (
    exponential,
    linear,
)
from ._gated import (
    glu,
)
from ._normalizing import (
    log_softmax,
    softmax,
    sparsemax,
)
from ._rectifiers import (
    celu,
    elu,
    gelu,
    hard_silu,
    hard_swish,
    leaky_relu,
    mish,
    relu,
    relu6,
    selu,
    silu,
    softplus,
    sparse_plus,
    squareplus,
    swish,
)
from ._shrinkage import (
    hard_shrink,
    soft_shrink,
    tanh_shrink,
    threshold,
)
from ._sigmoidal import (
    hard_sigmoid,
    hard_tanh,
    log_sigmoid,
    sigmoid,
    softsign,
    tanh,
)

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "celu",
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
]
