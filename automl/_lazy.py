"""Package attributes imported on first use (a module-level ``__getattr__``, PEP 562)."""

from __future__ import annotations

from importlib import import_module


def lazy_getattr(package: str, table: dict[str, str]):
    """The ``__getattr__`` of ``package``: ``table[name]`` is the (relative) module holding ``name``.

    Examples
    --------
    >>> getattr_ = lazy_getattr("automl.search", {"run_study": "._runner"})
    >>> getattr_("run_study").__name__
    'run_study'
    """

    def __getattr__(name):
        if name in table:
            return getattr(import_module(table[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
