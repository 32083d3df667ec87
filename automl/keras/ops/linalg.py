"""``keras.ops.linalg``: the ops of this Keras namespace (also available flat in ``automl.keras.ops``)."""

from ._linalg import *  # noqa: F403
from ._linalg import __all__  # noqa: F401
