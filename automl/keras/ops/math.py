"""``keras.ops.math``: the ops of this Keras namespace (also available flat in ``automl.keras.ops``)."""

from ._math import *  # noqa: F403
from ._math import __all__  # noqa: F401
