"""The studies and search spaces shipped with automl, read as package data.

``studies/*.yaml`` and ``search_spaces/*.yaml`` at the top of the repository are
the package's data: ``automl/studies`` and ``automl/search_spaces`` link to them,
and a wheel holds them as files of the ``automl`` package, so an installed
automl finds them with :mod:`importlib.resources` wherever it runs from.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ._checks import fail

__all__ = ["DEFAULT_SPACES", "default_space", "shipped_dir", "shipped_names", "study_path"]

#: The space a study of a built-in model searches when it gives no ``space:``.
DEFAULT_SPACES = {"mlp": "mlp.yaml", "cnn": "cnn.yaml", "transfer": "transfer.yaml"}


def shipped_dir(kind: str) -> Path:
    """The folder of the shipped ``"studies"`` or ``"search_spaces"``."""
    return Path(str(resources.files("automl") / kind))


def shipped_names(kind: str) -> list[str]:
    """Names (without ``.yaml``) of the shipped studies or spaces."""
    folder = shipped_dir(kind)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def study_path(value) -> Path:
    """The study file ``value`` names: a path, else a shipped study's name (``digits_mlp``).

    A path that exists wins; a bare name (no folder, with or without ``.yaml``)
    that is not a file in the current directory is looked up among the shipped
    studies. Otherwise the path is returned as given (reading it then fails).

    Examples
    --------
    >>> study_path("digits_mlp").name
    'digits_mlp.yaml'
    """
    path = Path(value).expanduser()
    if path.is_file() or len(path.parts) != 1 or path.suffix not in ("", ".yaml"):
        return path
    shipped = shipped_dir("studies") / f"{path.stem}.yaml"
    return shipped if shipped.is_file() else path


def default_space(source, value, model):
    """``value``, or the shipped space of a built-in ``model`` when ``value`` is None."""
    if value is not None:
        return value
    if isinstance(model, dict) and "transfer" in model:  # model: {transfer: {...}}
        model = "transfer"
    if isinstance(model, str) and model in DEFAULT_SPACES:
        return DEFAULT_SPACES[model]
    fail(source, "space", f"is needed for model {model!r} (only the built-in models "
                          f"{sorted(DEFAULT_SPACES)} have a default space)")
