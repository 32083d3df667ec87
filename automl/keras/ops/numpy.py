"""``keras.ops.numpy``: the ops of this Keras namespace (also available flat in ``automl.keras.ops``)."""

from ._numpy import *  # noqa: F403
from ._numpy import __all__  # noqa: F401
