"""``keras.ops.nn``: the ops of this Keras namespace (also available flat in ``automl.keras.ops``)."""

from ._nn import *  # noqa: F403
from ._nn import __all__  # noqa: F401
