"""GridSpace: a scikit-learn style ``param_grid`` searched by Optuna's GridSampler."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._space import SpecError

__all__ = ["GridSpace"]


class GridSpace:
    """A search space enumerated from a scikit-learn style ``param_grid``.

    Optuna's ``GridSampler`` needs every trial parameter with its list of values.
    A ``GridSpace`` suggests each estimator parameter as a categorical over its grid
    values (tuples such as layer sizes travel as JSON strings), so the trial
    parameters are the estimator parameters themselves.

    A grid of several sub-grids (conditional parameters, as
    ``SearchSpace.to_param_grid()`` gives them) is searched as the product of the
    union of their values: each point uses the first sub-grid that contains it and
    drops the parameters that sub-grid does not have. Points differing only in such
    dropped (inactive) parameters repeat a configuration. Sub-grids whose union
    contains points no sub-grid holds cannot be searched this way (use the
    sklearn engine).

    Parameters
    ----------
    param_grid : dict or list of dict
        ``{parameter: [values]}`` or a list of them.
    source : str
        Name used in messages.

    Examples
    --------
    >>> import optuna
    >>> grid = GridSpace({"hidden_layer_sizes": [(8,), (16, 16)], "optimizer": ["adam", "sgd"]})
    >>> grid.size, grid.optuna_grid["hidden_layer_sizes"]
    (4, ['[8]', '[16, 16]'])
    >>> trial = optuna.trial.FixedTrial({"hidden_layer_sizes": "[16, 16]", "optimizer": "sgd"})
    >>> grid.suggest(trial)
    {'hidden_layer_sizes': (16, 16), 'optimizer': 'sgd'}
    """

    def __init__(self, param_grid, source: str = "<grid>"):
        self.source = source
        grids = list(param_grid) if isinstance(param_grid, (list, tuple)) else [param_grid]
        if not grids or not all(isinstance(g, Mapping) and g for g in grids):
            raise SpecError(f"{source}: a grid must be a non-empty mapping of parameter lists "
                            f"(or a list of them), got {param_grid!r}")
        self.sub_grids: list[dict[str, list]] = []
        self.optuna_grid: dict[str, list] = {}
        self._decode: dict[str, dict] = {}
        for grid in grids:
            sub = {}
            for name, values in grid.items():
                if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                    raise SpecError(f"{source}: parameter {name!r}: grid values must be a list")
                values = [v.item() if isinstance(v, np.generic) else v for v in values]
                if not values:
                    raise SpecError(f"{source}: parameter {name!r}: empty grid")
                encoded = [self._encode(name, v) for v in values]
                sub[name] = encoded
                choices = self.optuna_grid.setdefault(name, [])
                for e, v in zip(encoded, values):
                    if e not in self._decode.setdefault(name, {}):
                        choices.append(e)
                        self._decode[name][e] = v
            self.sub_grids.append(sub)
        if len(self.sub_grids) > 1:
            self._check_union()

    def _encode(self, name, value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, tuple)):
            try:
                return json.dumps([v.item() if isinstance(v, np.generic) else v for v in value])
            except TypeError:
                pass
        raise SpecError(
            f"{self.source}: parameter {name!r}: grid value {value!r} cannot be a trial "
            "parameter (expected None, a bool, number or string, or a list of them)"
        )

    def _match(self, point: Mapping):
        for sub in self.sub_grids:
            if all(point[name] in values for name, values in sub.items()):
                return sub
        return None

    def _check_union(self):
        names = list(self.optuna_grid)
        if self.size > 100_000:
            raise SpecError(f"{self.source}: the union of the sub-grids has {self.size} points; "
                            "too many for Optuna's grid sampler (use engine: sklearn)")
        for combo in itertools.product(*(self.optuna_grid[n] for n in names)):
            if self._match(dict(zip(names, combo))) is None:
                shown = {n: self._decode[n][v] for n, v in zip(names, combo)}
                raise SpecError(
                    f"{self.source}: the grid's sub-grids (conditional parameters) cannot be "
                    f"searched as one product: {shown} is in none of them; use engine: sklearn "
                    "with search: grid"
                )

    @classmethod
    def from_space(cls, space) -> GridSpace:
        """``space`` itself if a GridSpace, else the grid of ``space.to_param_grid()``."""
        if isinstance(space, GridSpace):
            return space
        return cls(space.to_param_grid(), source=space.source)

    @property
    def names(self) -> list[str]:
        return list(self.optuna_grid)

    @property
    def size(self) -> int:
        """Number of grid points (trials the grid sampler runs)."""
        return math.prod(len(v) for v in self.optuna_grid.values())

    def suggest(self, trial) -> dict[str, Any]:
        """Estimator kwargs of ``trial`` (an ``optuna.Trial`` or ``FixedTrial``)."""
        point = {n: trial.suggest_categorical(n, c) for n, c in self.optuna_grid.items()}
        # _check_union made sure that every point is in a sub-grid
        sub = self._match(point) if len(self.sub_grids) > 1 else self.sub_grids[0]
        return {n: self._decode[n][point[n]] for n in self.optuna_grid if n in sub}


