"""Engine configuration (``automl.keras.config``, mirrors ``keras.config``).

The float type and fuzz factor are shared with :mod:`automl.keras.backend`.
The engine is pure NumPy: :func:`backend` is ``"numpy"`` and the image data
format is always ``"channels_last"``.
"""

from __future__ import annotations

from ..._validation import param_error
from ..backend import epsilon, floatx
from ..backend import set_epsilon as _set_epsilon
from ..backend import set_floatx as _set_floatx

__all__ = [
    "backend",
    "disable_traceback_filtering",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_traceback_filtering_enabled",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]

_TRACEBACK_FILTERING = [True]


def set_floatx(value):
    """Set the default float type (``"float16"``, ``"float32"`` or ``"float64"``).

    >>> from automl.keras import config
    >>> config.set_floatx("float64"); config.floatx()
    'float64'
    >>> config.set_floatx("float32")
    """
    if value not in ("float16", "float32", "float64"):
        raise param_error("value", "set_floatx", "one of 'float16', 'float32', 'float64'", value)
    _set_floatx(value)


def set_epsilon(value):
    """Set the fuzz factor used in numeric expressions (default 1e-7)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise param_error("value", "set_epsilon", "a non-negative float", value)
    _set_epsilon(value)


def image_data_format() -> str:
    """The image data format: always ``"channels_last"`` (``(batch, height, width, channels)``)."""
    return "channels_last"


def set_image_data_format(data_format):
    """Accept ``"channels_last"``, the only layout the engine implements."""
    if data_format != "channels_last":
        raise param_error(
            "data_format", "set_image_data_format",
            "'channels_last' (the only image layout automl.keras implements; transpose "
            "channels_first data with np.moveaxis(x, 1, -1))", data_format,
        )


def backend() -> str:
    """The name of the backend: ``"numpy"``.

    >>> from automl.keras import config
    >>> config.backend()
    'numpy'
    """
    return "numpy"


def enable_unsafe_deserialization():
    """Accepted for Keras compatibility; it changes nothing.

    In Keras it lets ``load_model`` rebuild Python lambdas stored as bytecode.
    This engine never runs code from a file: a saved ``Lambda`` function or
    custom class resolves only to an object of the running process (passed
    in ``custom_objects``, in a ``custom_object_scope`` or registered with
    ``register_keras_serializable``), whatever this setting.
    """


def enable_traceback_filtering():
    """Set the traceback-filtering flag (the engine never filters tracebacks)."""
    _TRACEBACK_FILTERING[0] = True


def disable_traceback_filtering():
    """Clear the traceback-filtering flag (the engine never filters tracebacks)."""
    _TRACEBACK_FILTERING[0] = False


def is_traceback_filtering_enabled() -> bool:
    """The flag set by :func:`enable_traceback_filtering` / :func:`disable_traceback_filtering`."""
    return _TRACEBACK_FILTERING[0]
