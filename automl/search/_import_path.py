"""``"package.module:attribute"`` strings: recognise them and import what they name."""

from __future__ import annotations

import importlib
from pathlib import Path

from ._checks import fail
from ._space import one_line

__all__ = ["import_object", "import_callable", "is_import_path"]


def import_object(path: str, base_dir: str | Path | None = None):
    """The object named by ``"package.module:attribute"`` (``attribute`` may be dotted).

    A module that is not importable is also looked for in ``base_dir`` (the study
    file's folder), so a ``builders.py`` next to the study can be named ``builders:mlp``.

    Raises
    ------
    ImportError, AttributeError, ValueError
        If the module cannot be imported, has no such attribute, or ``path`` is malformed.
    """
    import sys

    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected 'package.module:function', got {path!r}")
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        base = Path(base_dir) if base_dir is not None else None
        if base is None or exc.name != top or not (
            (base / f"{top}.py").is_file() or (base / top / "__init__.py").is_file()
        ):
            raise
        sys.path.insert(0, str(base))
        try:
            obj = importlib.import_module(module_name)
        finally:
            sys.path.remove(str(base))
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def import_callable(source, key, path, what, base_dir=None):
    try:
        obj = import_object(path, base_dir)
    except ModuleNotFoundError as exc:
        fail(
            source,
            key,
            f"cannot import {path!r}: no module named {exc.name!r} (the module must be "
            "importable, or a .py file next to the study)",
        )
    except (ImportError, AttributeError, ValueError) as exc:
        fail(source, key, f"cannot import {path!r}: {one_line(exc)}")
    except Exception as exc:  # noqa: BLE001 - the user's module raised while importing
        fail(source, key, f"importing {path!r} raised {type(exc).__name__}: {one_line(exc)}")
    if not callable(obj):
        fail(source, key, f"{path!r} must name a {what}, got {type(obj).__name__}")
    return obj


def is_import_path(value) -> bool:
    """``"package.module:function"`` (dotted module names allowed), not a file path."""
    if not isinstance(value, str):
        return False
    module, sep, attr = value.partition(":")
    return bool(sep) and bool(attr) and all(p.isidentifier() for p in module.split("."))

