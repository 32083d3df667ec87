"""Weight regularizers (``automl.keras.regularizers``)."""

from ._orthogonal import OrthogonalRegularizer, orthogonal_regularizer
from ._regularizers import (
    L1,
    L1L2,
    L2,
    REGULARIZERS,
    Regularizer,
    deserialize,
    get,
    l1,
    l1_l2,
    l2,
    serialize,
)

__all__ = [
    "L1",
    "L2",
    "L1L2",
    "OrthogonalRegularizer",
    "REGULARIZERS",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "orthogonal_regularizer",
    "l2",
    "serialize",
]
