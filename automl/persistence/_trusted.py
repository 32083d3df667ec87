"""The classes and functions an estimator archive may name, and resolving them.

A name in a file is only ever looked up after it is checked here: a class must
be defined (``__module__`` and ``__qualname__`` equal to the name) in one of
:data:`TRUSTED_MODULES` or be a NumPy scalar type or one of a few builtin
types; a function must be listed in :data:`TRUSTED_FUNCTIONS` by its full name.
A module is imported only when the name passed these checks, so a file naming
``os.system``, ``builtins.eval`` or ``subprocess.Popen`` never gets an object
back, let alone calls it.
"""

from __future__ import annotations

import importlib
import re

import numpy as np

__all__ = ["TRUSTED_MODULES", "TRUSTED_FUNCTIONS", "qualified_name", "trusted_class",
           "trusted_function", "check_class"]

#: Packages whose classes an archive may rebuild (the package and its submodules).
TRUSTED_MODULES = (
    "automl.wrappers",
    "automl.tabular",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn._loss",
    "sklearn.model_selection._split",
    "sklearn.utils._bunch",
)

#: Functions an archive may name (as values, e.g. a ``FunctionTransformer``'s ``func``).
TRUSTED_FUNCTIONS = frozenset({
    "automl.tabular._encoders.category_strings",
    "numpy.log", "numpy.log1p", "numpy.exp", "numpy.expm1", "numpy.sqrt", "numpy.square",
    "numpy.absolute", "numpy.negative",
})

_BUILTIN_TYPES = {t.__name__: t for t in (bool, int, float, complex, str, bytes, list, tuple,
                                          dict, set, frozenset, object)}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def qualified_name(obj) -> str:
    """``module.qualname`` of a class or function (NumPy ufuncs as ``numpy.<name>``)."""
    if isinstance(obj, np.ufunc):
        return f"numpy.{obj.__name__}"
    return f"{obj.__module__}.{obj.__qualname__}"


def _in_trusted_module(module: str) -> bool:
    parts = module.split(".")
    if any(p in ("tests", "conftest") or p.startswith("__") for p in parts):
        return False  # test suites and __main__ modules are never needed and may do things
    return any(module == m or module.startswith(m + ".") for m in TRUSTED_MODULES)


def _split(name: str, where: str) -> tuple[str, str]:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{where}: {name!r} is not a class or function name.")
    module, _, qualname = name.rpartition(".")
    return module, qualname


def check_class(cls, where: str) -> str:
    """The name of ``cls`` if an archive may hold its instances, else a ``TypeError``."""
    name = qualified_name(cls)
    if not _trusted_type_name(cls, name):
        raise TypeError(
            f"{where}: instances of {name} cannot be saved in an estimator archive: its class "
            "is not in the trusted list (automl.persistence.TRUSTED_MODULES)."
        )
    return name


def _trusted_type_name(cls, name: str) -> bool:
    if cls.__module__ == "builtins":
        return _BUILTIN_TYPES.get(cls.__qualname__) is cls
    if isinstance(cls, type) and issubclass(cls, np.generic):
        return getattr(np, cls.__name__, None) is cls
    return _in_trusted_module(cls.__module__) and "<" not in name


def trusted_class(name: str, where: str) -> type:
    """The class ``name`` if it is trusted; a one-line ``ValueError`` otherwise.

    Nothing is imported for a name that fails the checks.
    """
    module, qualname = _split(name, where)
    if module == "builtins":
        cls = _BUILTIN_TYPES.get(qualname)
    elif module == "numpy" and "." not in qualname:
        cls = getattr(np, qualname, None)
        if not (isinstance(cls, type) and issubclass(cls, np.generic)):
            cls = None
    elif _in_trusted_module(module):
        cls = _lookup(module, qualname)
        if not (isinstance(cls, type) and cls.__module__ == module and cls.__qualname__ == qualname):
            cls = None
    else:
        cls = None
    if cls is None:
        raise ValueError(
            f"{where}: refusing to load {name!r}: not a class an estimator archive may hold "
            "(see automl.persistence.TRUSTED_MODULES)."
        )
    return cls


def trusted_function(name: str, where: str, trusted=()):
    """The function ``name`` if it is in :data:`TRUSTED_FUNCTIONS` or ``trusted``.

    Otherwise a ``ValueError`` (nothing imported). ``trusted`` is the caller's
    explicit list of further functions (a study's own model builder, say):
    importing their module runs its code, so only name modules you trust.
    """
    _split(name, where)
    if name not in TRUSTED_FUNCTIONS and name not in set(trusted):
        raise ValueError(
            f"{where}: refusing to load the function {name!r}: not in the trusted list "
            f"(automl.persistence.TRUSTED_FUNCTIONS); pass trusted=[{name!r}] if you trust its "
            "module (importing it runs its code)."
        )
    module, qualname = name.rsplit(".", 1)
    function = _lookup(module, qualname)
    if not callable(function) or isinstance(function, type):
        raise ValueError(f"{where}: {name!r} is not a function.")
    return function


def _lookup(module: str, qualname: str):
    try:
        obj = importlib.import_module(module)
    except ImportError:
        return None
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj
