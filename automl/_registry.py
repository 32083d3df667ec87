"""Name → object registries, one per kind (activation, loss, optimizer, ...).

Each kind's public ``get(identifier)`` accepts ``None``, a string name, a
config dict ``{"class_name": ..., "config": {...}}`` or an instance, and
unknown names produce an error listing the valid ones.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["Registry"]


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
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        if name in self._objects:
            return self._objects[name]
        if case_insensitive and name.lower() in self._lower:
            return self._objects[self._lower[name.lower()]]
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


