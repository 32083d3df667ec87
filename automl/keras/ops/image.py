"""``keras.ops.image``: the ops of this Keras namespace (also available flat in ``automl.keras.ops``)."""

from ._image import *  # noqa: F403
from ._image import __all__  # noqa: F401
