"""Name → object registries, one per kind (activation, loss, optimizer, ...).

Each kind's public ``get(identifier)`` accepts ``None``, a string name, a
config dict ``{"class_name": ..., "config": {...}}`` or an instance, and
unknown names produce an error listing the valid ones.

Besides the built-in objects of each kind, names also resolve to the user's
own classes and functions registered in the running process (Keras's
"custom objects"): those passed as ``custom_objects``, those of an active
``custom_object_scope`` and those registered globally with
``register_keras_serializable`` (under ``"package>name"``) or added to
``get_custom_objects()``. The public API for them lives in
:mod:`automl.keras.saving`; this module only stores them so every registry
consults them. Nothing is ever imported because a name says so.
"""

from __future__ import annotations

import contextvars
import inspect
from typing import Any

__all__ = [
    "CUSTOM_NAMES",
    "CUSTOM_OBJECTS",
    "Registry",
    "builtin_names",
    "builtin_object",
    "custom_object",
    "effective_custom_objects",
    "pop_custom_scope",
    "push_custom_scope",
]

#: The process-wide custom objects (``keras.saving.get_custom_objects()``):
#: ``"package>name"`` keys from ``register_keras_serializable`` and any key the
#: user adds by hand.
CUSTOM_OBJECTS: dict[str, Any] = {}
#: object -> its registered ``"package>name"``.
CUSTOM_NAMES: dict[Any, str] = {}
# The dicts of the active custom_object_scope blocks, innermost last.
_SCOPES: contextvars.ContextVar[tuple] = contextvars.ContextVar("automl_custom_scopes", default=())


def push_custom_scope(objects: dict):
    """Activate ``objects`` as a scope; returns the token for ``_SCOPES.reset``."""
    return _SCOPES.set((*_SCOPES.get(), dict(objects)))


def pop_custom_scope(token) -> None:
    _SCOPES.reset(token)


def _bare(key: str) -> str:
    return key.rsplit(">", 1)[-1]


def custom_object(name: str, *, bare: bool = True):
    """The scoped or registered object named ``name``, or None.

    Looks in the active scopes (innermost first), then in
    :data:`CUSTOM_OBJECTS` by exact key, then (when ``bare``) for a
    registered ``"package>name"`` whose name part is ``name``, the latest
    registration winning.
    """
    if not isinstance(name, str):
        return None
    for scope in reversed(_SCOPES.get()):
        if name in scope:
            return scope[name]
    if name in CUSTOM_OBJECTS:
        return CUSTOM_OBJECTS[name]
    if bare:
        for key in reversed(list(CUSTOM_OBJECTS)):
            if ">" in key and _bare(key) == name:
                return CUSTOM_OBJECTS[key]
    return None


def effective_custom_objects(custom_objects: dict | None, reserved=frozenset()) -> dict | None:
    """``custom_objects`` over the scoped and registered objects.

    Registered objects are keyed by their full name and by their bare name
    unless it is in ``reserved`` (the built-in names, which keep priority as in
    :meth:`Registry.lookup`). Used where a whole model is rebuilt
    (``load_model``), so containers and ``Lambda`` layers see them too.
    """
    scopes = _SCOPES.get()
    if not CUSTOM_OBJECTS and not scopes:
        return custom_objects
    merged = {_bare(k): v for k, v in CUSTOM_OBJECTS.items() if _bare(k) not in reserved}
    merged.update(CUSTOM_OBJECTS)
    for scope in scopes:
        merged.update(scope)
    merged.update(custom_objects or {})
    return merged


_ALL_REGISTRIES: list = []


def builtin_names() -> frozenset:
    """Every name registered in any kind's registry."""
    return frozenset(name for reg in _ALL_REGISTRIES for name in reg._objects)


def builtin_object(name: str):
    """The first registry entry named ``name`` over all kinds, or None."""
    for reg in _ALL_REGISTRIES:
        if name in reg._objects:
            return reg._objects[name]
    return None


class Registry:
    """A registry of named objects of one kind.

    Parameters
    ----------
    kind : str
        Human name of the kind, used in error messages (``"activation"``).
    base : type or None
        Instances of this type are returned unchanged by :meth:`get`.
    """

    def __init__(self, kind: str, base: type | None = None):
        self.kind = kind
        self.base = base
        self._objects: dict[str, Any] = {}
        self._lower: dict[str, str] = {}
        _ALL_REGISTRIES.append(self)

    def register(self, obj: Any = None, *, name: str | None = None, aliases: tuple = ()):
        """Register ``obj`` under its ``__name__`` (or ``name``) and ``aliases``.

        Usable as a decorator.
        """

        def _add(o):
            for key in (name or o.__name__, *aliases):
                self._objects[key] = o
                self._lower.setdefault(key.lower(), key)
            return o

        return _add if obj is None else _add(obj)

    def names(self) -> list[str]:
        return sorted(self._objects)

    def __contains__(self, name: str) -> bool:
        return name in self._objects

    def lookup(self, name: str, custom_objects: dict | None = None, case_insensitive=False):
        """Resolve a name: ``custom_objects``, then scoped/registered custom objects
        (exact key), then this kind's objects, then a registered ``"package>name"``
        by its name part."""
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        custom = custom_object(name, bare=False)
        if custom is not None:
            return custom
        if name in self._objects:
            return self._objects[name]
        if case_insensitive and name.lower() in self._lower:
            return self._objects[self._lower[name.lower()]]
        custom = custom_object(name)
        if custom is not None:
            return custom
        raise ValueError(
            f"Could not interpret {self.kind} identifier: {name!r}. "
            f"Expected one of: {', '.join(self.names())}."
        )

    def get(
        self,
        identifier: Any,
        *,
        instantiate: bool = True,
        case_insensitive: bool = False,
        custom_objects: dict | None = None,
        allow_callable: bool = True,
    ) -> Any:
        """Resolve ``identifier`` to an object of this kind."""
        if identifier is None:
            return None
        if self.base is not None and isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, str):
            obj = self.lookup(identifier, custom_objects, case_insensitive)
            return obj() if instantiate and isinstance(obj, type) else obj
        if isinstance(identifier, dict):
            return self.deserialize(identifier, custom_objects=custom_objects)
        if isinstance(identifier, type) and self.base is not None and issubclass(identifier, self.base):
            return identifier() if instantiate else identifier
        if allow_callable and callable(identifier):
            return identifier
        raise ValueError(
            f"Could not interpret {self.kind} identifier: {identifier!r}. Expected a string "
            f"(one of: {', '.join(self.names())}), a config dict or a {self.kind} instance."
        )

    def deserialize(self, config: dict, custom_objects: dict | None = None) -> Any:
        if "class_name" not in config:
            raise ValueError(
                f"Could not interpret {self.kind} config {config!r}: "
                "expected a dict with a 'class_name' key."
            )
        registered = config.get("registered_name")
        obj = None
        if isinstance(registered, str) and registered != config["class_name"]:
            # Keras 3 configs name a registered class by "package>name" too.
            obj = (custom_objects or {}).get(registered) or custom_object(registered, bare=False)
        if obj is None:
            obj = self.lookup(config["class_name"], custom_objects)
        inner = config.get("config") or {}
        if isinstance(obj, type):
            from_config = getattr(obj, "from_config", None)
            if from_config is None:
                return obj(**inner)
            if custom_objects and "custom_objects" in inspect.signature(from_config).parameters:
                # Containers (models, wrappers) resolve their inner objects with the same names.
                return from_config(inner, custom_objects=custom_objects)
            return from_config(inner)
        return obj

    @staticmethod
    def serialize(obj: Any) -> Any:
        """Return a JSON-friendly description of ``obj`` (its name or config dict)."""
        if obj is None:
            return None
        if hasattr(obj, "get_config"):
            return {"class_name": type(obj).__name__, "config": obj.get_config()}
        name = getattr(obj, "__name__", None)
        if name is None:
            raise TypeError(f"Cannot serialize {obj!r}: it has no get_config() and no name.")
        return name


