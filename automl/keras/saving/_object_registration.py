"""Custom objects: registering the user's classes and functions by name.

A saved model names its classes; loading resolves those names only to
objects that exist in the running process: the engine's own, those passed as
``custom_objects``, those of an active :class:`CustomObjectScope` and those
registered with :func:`register_keras_serializable` (or added to
:func:`get_custom_objects`). Nothing is imported or executed because a file
names it.
"""

from __future__ import annotations

import inspect

from ... import _registry
from ..._validation import param_error

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]


class CustomObjectScope:
    """Context manager making extra ``name -> object`` entries resolvable inside it.

    Parameters
    ----------
    custom_objects : dict
        Classes or functions keyed by the name they are saved under. Several
        dicts may be given; later ones win.

    Examples
    --------
    >>> from automl.keras import layers, saving
    >>> class MyDense(layers.Dense):
    ...     pass
    >>> with saving.custom_object_scope({"MyDense": MyDense}):
    ...     layer = layers.deserialize({"class_name": "MyDense", "config": {"units": 2}})
    >>> type(layer).__name__
    'MyDense'
    """

    def __init__(self, *custom_objects):
        merged: dict = {}
        for i, objects in enumerate(custom_objects):
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise param_error(f"custom_objects[{i}]", "CustomObjectScope", "a dict or None",
                                  objects, TypeError)
            merged.update(objects)
        self.custom_objects = merged
        self._tokens: list = []

    def __enter__(self):
        self._tokens.append(_registry.push_custom_scope(self.custom_objects))
        return self

    def __exit__(self, *exc_info):
        _registry.pop_custom_scope(self._tokens.pop())
        return False


#: Keras's function-style name of :class:`CustomObjectScope`.
custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """The live process-wide dict of custom objects.

    Entries added to it resolve by their key everywhere names are resolved
    (``get()`` of every kind, ``load_model``):
    ``get_custom_objects()["my_loss"] = my_loss``. Clearing it forgets every
    registration.

    >>> from automl.keras import saving
    >>> isinstance(saving.get_custom_objects(), dict)
    True
    """
    return _registry.CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function under ``"package>name"``.

    Parameters
    ----------
    package : str, default="Custom"
        Namespace of the registered name.
    name : str, optional
        The name part; the object's ``__name__`` when omitted.

    Notes
    -----
    A registered object resolves by its full name and, when no built-in
    object has the same name, by its bare name (which is what the engine's
    configs store), so a model using it loads without ``custom_objects``.
    Registering a class needs a ``get_config`` method. Registering again
    under the same name replaces the earlier object.

    Examples
    --------
    >>> from automl.keras import saving
    >>> @saving.register_keras_serializable(package="Doc")
    ... def triple(x):
    ...     return 3 * x
    >>> saving.get_registered_name(triple)
    'Doc>triple'
    >>> saving.get_registered_object("Doc>triple") is triple
    True
    >>> _ = saving.get_custom_objects().pop("Doc>triple")  # forget it again
    """
    if not isinstance(package, str) or not package:
        raise param_error("package", "register_keras_serializable", "a non-empty str", package,
                          TypeError)
    if name is not None and (not isinstance(name, str) or not name):
        raise param_error("name", "register_keras_serializable", "None or a non-empty str", name,
                          TypeError)

    def decorator(obj):
        key = f"{package}>{name if name is not None else obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register the class {obj.__name__!r} as {key!r}: it has no get_config() "
                "method, so it could not be saved and rebuilt."
            )
        _registry.CUSTOM_OBJECTS[key] = obj
        _registry.CUSTOM_NAMES[obj] = key
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """``"package>name"`` of a registered object, else its ``__name__``."""
    try:
        registered = _registry.CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable
        registered = None
    return registered if registered is not None else obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object ``name`` resolves to among custom objects, or None.

    Looks in the active scopes, the registered objects, then ``custom_objects``
    and ``module_objects`` (dicts).
    """
    found = _registry.custom_object(name)
    if found is not None:
        return found
    for objects in (custom_objects, module_objects):
        if objects and name in objects:
            return objects[name]
    return None
