"""``serialize_keras_object`` / ``deserialize_keras_object``: Keras 3's config layout.

An object with ``get_config`` becomes ``{"module", "class_name", "config",
"registered_name"}``, a function ``{"module", "class_name": "function",
"config": name, "registered_name"}``, an array ``{"class_name": "__numpy__",
...}``; lists, tuples and dicts are serialized item by item. Deserializing
resolves names only through ``custom_objects``, the scoped and registered
custom objects and the engine's registries: the ``module`` field only picks
which registry to search first, it is never imported.
"""

from __future__ import annotations

import inspect
import types

import numpy as np

from ... import _registry

__all__ = ["deserialize_keras_object", "serialize_keras_object"]

_PLAIN = (str, int, float, bool)


def _registered_name(obj):
    from ._object_registration import get_registered_name

    return get_registered_name(obj)


def serialize_keras_object(obj):
    """Return a JSON-friendly description of ``obj`` in Keras 3's layout.

    Examples
    --------
    >>> from automl.keras import layers, saving
    >>> config = saving.serialize_keras_object(layers.Dense(3))
    >>> config["class_name"], config["config"]["units"]
    ('Dense', 3)
    >>> saving.deserialize_keras_object(config).units
    3
    """
    if obj is None or isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(item) for item in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, type):
        raise TypeError(f"Cannot serialize the class {obj.__name__!r}: serialize an instance.")
    if hasattr(obj, "get_config"):
        cls = type(obj)
        registered = _registered_name(cls)
        return {
            "module": cls.__module__,
            "class_name": cls.__name__,
            "config": serialize_keras_object(obj.get_config()),
            "registered_name": registered if registered != cls.__name__ else None,
        }
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) or (
        callable(obj) and hasattr(obj, "__name__")
    ):
        return {
            "module": getattr(obj, "__module__", None),
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": _registered_name(obj),
        }
    raise TypeError(
        f"Cannot serialize {obj!r} (of type {type(obj).__name__}): it has no get_config() "
        "method and is not a named function."
    )


def _builtin(name, module, function=False):
    """A built-in object named ``name``, searching the kind named in ``module`` first.

    For a function, the public function of that name in one of the engine's
    (already imported) kind modules comes first (``losses.mean_squared_error``).
    """
    from .. import (  # noqa: F401  (importing fills the registries)
        activations,
        constraints,
        initializers,
        layers,
        losses,
        metrics,
        optimizers,
        regularizers,
    )
    from ..optimizers import schedules

    registries = {
        "layers": layers.LAYERS, "losses": losses.LOSSES, "metrics": metrics.METRICS,
        "schedules": schedules.SCHEDULES, "optimizers": optimizers.OPTIMIZERS,
        "initializers": initializers.INITIALIZERS, "regularizers": regularizers.REGULARIZERS,
        "constraints": constraints.CONSTRAINTS, "activations": activations.ACTIVATIONS,
    }
    parts = str(module or "").split(".")
    order = [kind for kind in reversed(parts) if kind in registries]
    order += [kind for kind in registries if kind not in order]
    modules = {"layers": layers, "losses": losses, "metrics": metrics, "schedules": schedules,
               "optimizers": optimizers, "initializers": initializers,
               "regularizers": regularizers, "constraints": constraints,
               "activations": activations}
    if function and not name.startswith("_"):
        for kind in order:
            obj = getattr(modules[kind], name, None)
            if callable(obj) and not isinstance(obj, type):
                return obj
    for kind in order:
        if name in registries[kind]:
            return registries[kind].lookup(name)
    if name in ("Sequential", "Functional", "Model"):
        from .. import models

        return models.Functional if name == "Model" else getattr(models, name)
    return None


def _resolve(name, registered, module, custom_objects, function=False):
    for key in (registered, name):
        if not isinstance(key, str):
            continue
        if custom_objects and key in custom_objects:
            return custom_objects[key]
        found = _registry.custom_object(key, bare=False)
        if found is not None:
            return found
    found = _builtin(name, module, function) if isinstance(name, str) else None
    if found is None and isinstance(name, str):
        found = _registry.custom_object(name)
    if found is None:
        raise ValueError(
            f"Could not locate {'function' if function else 'class'} {name!r}"
            + (f" (registered name {registered!r})" if registered and registered != name else "")
            + ": it is not an automl.keras object, not in custom_objects and not registered. "
            "Pass it in custom_objects, wrap the call in custom_object_scope, or decorate it "
            "with register_keras_serializable(). Nothing is imported from the saved module name."
        )
    return found


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuild an object from :func:`serialize_keras_object` output.

    Parameters
    ----------
    config : dict, list, str, number or None
    custom_objects : dict, optional
        ``name -> class or function`` for the user's own objects.
    safe_mode : bool, default=True
        Accepted for Keras compatibility; code is never loaded from a config.
    """
    if config is None or isinstance(config, (int, float, bool, str)):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    if not isinstance(config, dict):
        raise TypeError(
            f"The 'config' parameter of deserialize_keras_object must be a dict, list, str, "
            f"number or None. Got {config!r} instead."
        )
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode) for k, v in config.items()}
    class_name, inner = config["class_name"], config["config"]
    if class_name == "__numpy__":
        return np.asarray(inner["value"], dtype=inner.get("dtype"))
    registered, module = config.get("registered_name"), config.get("module")
    if class_name == "function":
        return _resolve(inner, registered, module, custom_objects, function=True)
    obj = _resolve(class_name, registered, module, custom_objects)
    if not isinstance(obj, type):
        return obj  # a registered instance or function under a class name
    from_config = getattr(obj, "from_config", None)
    if from_config is None:
        return obj(**(inner or {}))
    if custom_objects and "custom_objects" in inspect.signature(from_config).parameters:
        return from_config(inner, custom_objects=custom_objects)
    return from_config(inner)
