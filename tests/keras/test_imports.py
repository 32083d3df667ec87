"""No package of the engine, the wrappers or the testing helpers imports another package's private module.

A private module (``_x.py``) belongs to its package (a subpackage such as
``automl.keras.layers`` counts as a package): only modules of that package
import it; everyone else goes through the package's public names. The shared
helpers ``automl._registry``, ``automl._validation`` and ``automl._random``
are the exception. Doctest examples count as imports too.
"""

import ast
import re
from pathlib import Path

import pytest

import automl

ROOT = Path(automl.__file__).resolve().parent
SCANNED = ("keras", "wrappers", "testing")
SHARED = {"automl._registry", "automl._validation", "automl._random"}

#: Imports in modules that other work in progress owns; each entry must still be
#: there (so the list only shrinks) until that work gives the helper a public home.
PENDING = {
    ("keras/callbacks/_backup_and_restore.py", "automl.keras.saving._saving"),
    ("keras/callbacks/_model_checkpoint.py", "automl.keras.saving._saving"),
    ("keras/layers/_base.py", "automl.keras.backend._config"),
    ("keras/layers/_base.py", "automl.keras.models._subclassed"),
    ("keras/losses/_custom.py", "automl.keras.ops._tensor"),
    ("keras/models/_model.py", "automl.keras.layers._base"),
    ("keras/models/_model.py", "automl.keras.layers._masking"),
    ("keras/models/_subclassed.py", "automl.keras.layers._base"),
    ("keras/models/_subclassed.py", "automl.keras.ops._tensor"),
    # get_file uses the datasets' downloader: it should move below utils.
    ("keras/utils/_file_utils.py", "automl.keras.datasets._download"),
}

_DOCTEST_IMPORT = re.compile(r"^\s*(?:>>>|\.\.\.)\s+(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)


def _package_of(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts if path.name == "__init__.py" else rel.parts[:-1]
    return ".".join(p for p in parts if p != "__init__")


def _imported_modules(path: Path):
    """(line, absolute module) for every import of the file, doctest examples included."""
    source = path.read_text(encoding="utf-8")
    package = _package_of(path)
    for m in _DOCTEST_IMPORT.finditer(source):
        yield source.count("\n", 0, m.start()) + 1, m.group(1) or m.group(2)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield node.lineno, module
            # ``from . import _x`` imports the module _x.
            yield from ((node.lineno, f"{module}.{a.name}") for a in node.names if a.name.startswith("_"))


def _violation(importer_package: str, module: str) -> bool:
    if not module.startswith("automl"):
        return False
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:i])
            if ".".join(parts[: i + 1]) in SHARED:
                return False
            # Only that package's own modules may import its private modules.
            return importer_package != owner
    return False


def _violations():
    found = set()
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            package = _package_of(path)
            for _line, module in _imported_modules(path):
                if _violation(package, module):
                    found.add((path.relative_to(ROOT).as_posix(), module))
    return found


def test_no_private_module_of_another_package_is_imported():
    unexpected = sorted(_violations() - PENDING)
    assert not unexpected, "imports of another package's private module: " + ", ".join(
        f"{path} imports {module}" for path, module in unexpected)


@pytest.mark.parametrize("entry", sorted(PENDING))
def test_pending_entries_are_still_needed(entry):
    assert entry in _violations(), f"{entry} no longer imports that module: drop it from PENDING"


@pytest.mark.parametrize("importer, module, expected", [
    ("automl.keras.layers", "automl.keras.layers._base", False),
    ("automl.keras.layers", "automl.keras.backend._config", True),
    ("automl.keras.models", "automl.keras.layers", False),
    ("automl.wrappers", "automl._validation", False),
    ("automl.keras.optimizers", "automl.keras.optimizers.schedules._schedules", True),
    ("automl.wrappers", "numpy._core", False),
])
def test_the_rule(importer, module, expected):
    assert _violation(importer, module) is expected
