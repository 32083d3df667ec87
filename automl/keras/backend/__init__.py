"""Backend utilities (``automl.keras.backend``, mirrors ``keras.backend``).

The float type and fuzz factor, layer naming (``to_snake_case``,
``unique_object_name``), seeding, and the image kernels of :mod:`.image`.
"""

from . import image
from ._config import (
    clear_session,
    epsilon,
    floatx,
    set_epsilon,
    set_floatx,
    standardize_dtype,
    to_snake_case,
    unique_object_name,
)
from ._random import draw_seed, make_rng, seed_scope, set_random_seed


def __getattr__(name):
    # K.mean, K.square, ... live in _ops, imported lazily (ops imports backend).
    import importlib

    _ops = importlib.import_module(f"{__name__}._ops")
    if name in _ops.__all__:
        return getattr(_ops, name)
    raise AttributeError(f"module 'automl.keras.backend' has no attribute {name!r}")

__all__ = [
    "clear_session",
    "epsilon",
    "floatx",
    "set_epsilon",
    "set_floatx",
    "draw_seed",
    "make_rng",
    "seed_scope",
    "set_random_seed",
    "image",
    "standardize_dtype",
    "to_snake_case",
    "unique_object_name",
]
