"""The shared real tables, read in place (never copied into the repository).

They live in ``../shared/datasets/tabular/`` next to the checkout (or where
``$AUTOML_TABULAR_DIR`` points); tests that need them are skipped, saying so,
when the folder is absent. scikit-learn's array API check runs only with
``SCIPY_ARRAY_API`` set before scipy is imported, so it is set here as in
``tests/wrappers``.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

_REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = [
    os.environ.get("AUTOML_TABULAR_DIR"),
    _REPO.parent / "shared" / "datasets" / "tabular",
    _REPO.parents[1] / "shared" / "datasets" / "tabular",  # from a worktree in wt/<name>
]


def tabular_dir() -> Path | None:
    for candidate in _CANDIDATES:
        if candidate and (Path(candidate) / "TitanicSurvival.csv").is_file():
            return Path(candidate)
    return None


#: file, target column of the four shared tables.
TABLES = {
    "titanic": ("TitanicSurvival.csv", "survived"),
    "penguins": ("penguins.csv", "species"),
    "ames": ("ames.csv", "price"),
    "diamonds": ("diamonds.csv", "price"),
}


def _load(name):
    folder = tabular_dir()
    if folder is None:
        pytest.skip(
            "the shared tabular datasets are absent (looked for ../shared/datasets/tabular "
            "next to the checkout and $AUTOML_TABULAR_DIR)"
        )
    file, target = TABLES[name]
    frame = pd.read_csv(folder / file)
    return frame.drop(columns=target), frame[target]


@pytest.fixture(scope="session")
def load_table():
    """``load_table(name)`` -> ``(X, y)`` for titanic, penguins, ames or diamonds."""
    cache = {}

    def load(name):
        if name not in cache:
            cache[name] = _load(name)
        X, y = cache[name]
        return X.copy(), y.copy()

    return load
