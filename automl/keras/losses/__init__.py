"""Losses (``automl.keras.losses``)."""

from ._custom import LossFunctionWrapper
from ._extra import *  # noqa: F403
from ._extra import __all__ as _extra_names
from ._losses import *  # noqa: F403
from ._losses import __all__ as _names
from ._losses import deserialize, get, mse, serialize
from ._more import *  # noqa: F403
from ._more import __all__ as _more_names

__all__ = [*_names, *_extra_names, *_more_names, "LossFunctionWrapper", "deserialize", "get", "mse", "serialize"]
