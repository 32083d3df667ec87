"""``keras.ops.core``: the ops of this Keras namespace (also available flat in ``automl.keras.ops``)."""

from ._core import *  # noqa: F403
from ._core import __all__  # noqa: F401
