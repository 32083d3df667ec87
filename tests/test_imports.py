"""No module of automl imports another package's private module; search never imports reports.

A private module is one whose name starts with ``_`` (``automl.keras.saving._saving``).
A package may import its own private modules and those of the packages above it
(``automl._random`` from ``automl.search``), never those of a sibling or a subpackage:
``automl.search`` imports ``automl.keras.callbacks``, not
``automl.keras.callbacks._lr_scheduler``. Every import counts: at module top, inside
functions (lazy imports), and in doctest examples of docstrings.
"""

import ast
import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "automl"



def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(tree: ast.AST, package: str):
    """``(lineno, module)`` of every module an import of ``tree`` loads."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, package)
            yield node.lineno, target
            if _private_owner(target) is not None:
                continue
            for alias in node.names:  # `from automl.search import _spec`
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    yield node.lineno, f"{target}.{alias.name}"


def _private_owner(target: str) -> str | None:
    """The package holding the first private module of ``target``, or None."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def _allowed(owner: str, package: str) -> bool:
    return package == owner or package.startswith(owner + ".")


def _doctest_sources(tree: ast.AST):
    parser = doctest.DocTestParser()
    nodes = [tree] + [
        n for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    for node in nodes:
        doc = ast.get_docstring(node, clean=True)
        if doc and ">>>" in doc:
            first = node.body[0].lineno if getattr(node, "body", None) else 1
            for example in parser.get_examples(doc):
                try:
                    yield first + example.lineno, ast.parse(example.source)
                except SyntaxError:
                    continue


def private_imports(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """``"line N: target"`` for each import of ``source`` reaching another package's private
    module (``module`` is the dotted name of the file)."""
    package = _package_of(module, is_package)
    tree = ast.parse(source)
    found = []
    trees = [(0, tree), *_doctest_sources(tree)]
    for offset, sub in trees:
        for lineno, target in _targets(sub, package):
            if not target.startswith("automl"):
                continue
            owner = _private_owner(target)
            if owner is not None and not _allowed(owner, package):
                found.append(f"line {offset + lineno}: {target}")
    return found


def scan_package() -> dict[str, list[str]]:
    """Offending imports of every module under ``automl/``, by module name."""
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        found = private_imports(path.read_text(), name, is_package=path.name == "__init__.py")
        if found:
            offenders[name] = found
    return offenders


@pytest.fixture(scope="module")
def offenders():
    return scan_package()


def test_no_module_imports_another_packages_private_module(offenders):
    assert offenders == {}


def test_search_never_imports_reports():
    for path in sorted((PACKAGE / "search").rglob("*.py")):
        name = module_name(path)
        package = _package_of(name, path.name == "__init__.py")
        tree = ast.parse(path.read_text())
        for _, sub in [(0, tree), *_doctest_sources(tree)]:
            targets = [t for _, t in _targets(sub, package)]
            assert not [t for t in targets if t.startswith("automl.reports")], name


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from ..keras.callbacks._lr_scheduler import f\n", "automl.search._pruning", 1),
        ("from automl.keras.saving._saving import _Reader\n", "automl.keras.callbacks._b", 1),
        ("import automl.search._spec\n", "automl.cli", 1),
        ("from automl.search import _spec\n", "automl.cli", 1),
        ("def f():\n    from automl.reports._cli import add\n", "automl.cli", 1),
        ('def f():\n    """\n    >>> from automl.search._spec import X\n    """\n',
         "automl.search._objective", 0),  # its own package
        ('def f():\n    """\n    >>> from automl.keras.layers._dense import Dense\n    """\n',
         "automl.search._objective", 1),
        ("from ._spec import StudySpec\n", "automl.search._plan", 0),
        ("from ._spec import StudySpec\n", "automl.search", 0),
        ("from .. import _random\nfrom automl._random import trial_seed\n",
         "automl.search._runner", 0),  # a package above
        ("from .layers._dense import Dense\n", "automl.keras", 1),  # a subpackage's
        ("from automl.keras.callbacks import Callback\nimport numpy._core\n",
         "automl.search._pruning", 0),
    ],
)
def test_the_scan_finds_private_imports(source, module, expected):
    assert len(private_imports(source, module, is_package=module == "automl.search"
                               or module == "automl.keras")) == expected
