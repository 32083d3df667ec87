"""Declarative search spaces: YAML → Optuna suggestions, scikit-learn grids and distributions.

A space file maps estimator parameters to how they are searched::

    include: [optimizers.yaml]          # optional: other space files, merged first
    description: free text
    parameters:
      learning_rate: {type: float, low: 1.0e-4, high: 1.0e-1, log: true,
                      grid: [1.0e-3, 1.0e-2]}
      units:         {type: int, low: 32, high: 512, step: 32}
      optimizer:     {type: categorical, choices: [adam, sgd]}
      optimizer__momentum: {type: float, low: 0.0, high: 0.95, when: {optimizer: sgd}}
      hidden_layer_sizes:
        type: layers
        n_layers: {low: 1, high: 3}
        units: {low: 32, high: 512, log: true}
        grid: [[64], [128, 128]]
      epochs: 20                      # a bare value (or {type: fixed, value: 20}) is fixed

:func:`load_space` validates the file and returns a :class:`SearchSpace`, which
compiles to three forms:

- :meth:`SearchSpace.suggest`: define-by-run Optuna suggestions (an Optuna
  trial, or ``optuna.trial.FixedTrial``, to estimator keyword arguments);
- :meth:`SearchSpace.to_param_grid`: a scikit-learn ``param_grid`` (numeric and
  layers ranges use their ``grid:`` list);
- :meth:`SearchSpace.to_param_distributions`: ``param_distributions`` for the
  random and halving searches (scipy distributions and lists).

Includes
--------
``include:`` lists space files (a path relative to the including file, or the
name of a file shipped in ``search_spaces/``, with or without ``.yaml``). Their
parameters come first, in include order (an included file's own includes
before its parameters); an entry of the including file with the same name
replaces the included one *in its position*, so conditions keep referring to
parameters above them. An including file may narrow an included parameter's
choices: conditions of included entries on removed choices then never hold.
Include cycles are errors.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._yaml import load_yaml

__all__ = ["SpecError", "SearchSpace", "load_space", "compile_space", "one_line", "SPACES_DIR"]

_SCALARS = (str, bool, int, float, type(None))

#: Directory of the shipped spaces (``include: [optimizers]`` finds them by name).
SPACES_DIR = Path(__file__).resolve().parents[1] / "search_spaces"  # package data (_shipped)

#: Most values a layers parameter (or the conditions of a space) may enumerate
#: when compiled for scikit-learn.
MAX_ENUMERATED = 10_000

# A string YAML 1.1 does not read as a float although it looks like one ("1e-4").
_NUMBER_LIKE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


class SpecError(ValueError):
    """A study or search-space specification is invalid.

    The message always names the file (or ``<inline ...>``), the key and the problem.
    """


class _Problem(Exception):
    """Internal: a problem with one parameter, turned into a SpecError by the caller."""


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _yaml_hint(value) -> str:
    """An explanation when ``value`` is a string YAML 1.1 did not read as a number."""
    if not (isinstance(value, str) and _NUMBER_LIKE.match(value)):
        return ""
    mantissa, e, exponent = repr(float(value)).partition("e")
    if e and "." not in mantissa:
        mantissa += ".0"
    return (f" (YAML reads {value} as a string: write {mantissa}{e}{exponent}; exponents need "
            "a decimal point and a sign, as in 1.0e-4)")


def _on_step(value, low, step) -> bool:
    ratio = (value - low) / step
    return abs(ratio - round(ratio)) <= 1e-6 * max(1.0, abs(ratio))


# ---------------------------------------------------------------------------
# Parameter kinds. Each one validates its spec in the compiler, draws its value
# in ``suggest(trial, name)`` and gives its scikit-learn forms: ``grid_values()``
# (a list, or None when a ``grid:`` list is needed) and ``distribution()``.


@dataclass(frozen=True)
class _Fixed:
    value: Any

    def suggest(self, trial, name):
        return self.value

    def grid_values(self):
        return [self.value]

    def distribution(self):
        return [self.value]


@dataclass(frozen=True)
class _Categorical:
    choices: tuple
    # List-valued choices (e.g. layer-size tuples) go to Optuna as JSON strings.
    encoded: bool = False

    def suggest(self, trial, name):
        value = trial.suggest_categorical(name, self.optuna_choices)
        return tuple(json.loads(value)) if self.encoded else value

    @property
    def optuna_choices(self) -> tuple:
        if self.encoded:
            return tuple(json.dumps(list(c)) for c in self.choices)
        return self.choices

    def grid_values(self):
        return list(self.choices)

    def distribution(self):
        return list(self.choices)


class _Range:
    """What the int and float ranges share: a degenerate range has the one value ``low``."""

    def grid_values(self):
        if self.grid is not None:
            return list(self.grid)
        return [self.low] if self.low == self.high else None

    def distribution(self):
        if self.low == self.high:
            return [self.low]
        return self._spread()


@dataclass(frozen=True)
class _Int(_Range):
    low: int
    high: int
    step: int = 1
    log: bool = False
    grid: tuple | None = None

    def suggest(self, trial, name):
        return trial.suggest_int(name, self.low, self.high, step=self.step, log=self.log)

    def values(self) -> range:
        return range(self.low, self.high + 1, self.step)

    def _spread(self):
        import scipy.stats

        if self.log:
            # Optuna's log-int: log-uniform on [low - 0.5, high + 0.5], rounded.
            ks = list(self.values())
            edges = [math.log(k + 0.5) - math.log(k - 0.5) for k in ks]
            total = math.log(self.high + 0.5) - math.log(self.low - 0.5)
            return scipy.stats.rv_discrete(values=(ks, [e / total for e in edges]))
        if self.step != 1:
            return list(self.values())
        return scipy.stats.randint(self.low, self.high + 1)


@dataclass(frozen=True)
class _Float(_Range):
    low: float
    high: float
    step: float | None = None
    log: bool = False
    grid: tuple | None = None

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)

    def _spread(self):
        import scipy.stats

        if self.step is not None:
            n = int(round((self.high - self.low) / self.step))
            # Rounded like Optuna's stepped floats, so the values print as written.
            return [round(self.low + i * self.step, 12) for i in range(n + 1)]
        if self.log:
            return scipy.stats.loguniform(self.low, self.high)
        return scipy.stats.uniform(self.low, self.high - self.low)


def _sub_values(kind) -> list[int]:
    return [kind.value] if isinstance(kind, _Fixed) else list(kind.values())


@dataclass(frozen=True)
class _Layers:
    """``hidden_layer_sizes``-style tuple: a number of layers and units per layer."""

    n_layers: _Int | _Fixed
    units: _Int | _Fixed
    per_layer: bool = False
    grid: tuple | None = None

    def suggest(self, trial, name):
        n = self.n_layers.suggest(trial, "n_layers")
        if not self.per_layer:
            return (self.units.suggest(trial, "units"),) * n
        return tuple(self.units.suggest(trial, f"units_{i + 1}") for i in range(n))

    def count(self) -> int:
        ns, n_units = _sub_values(self.n_layers), len(_sub_values(self.units))
        if not self.per_layer:
            return len(ns) * n_units
        return sum(n_units**n for n in ns)

    def options(self) -> list[tuple]:
        """Every tuple the parameter can take (check :meth:`count` first)."""
        import itertools

        units = _sub_values(self.units)
        out = []
        for n in _sub_values(self.n_layers):
            if self.per_layer:
                out.extend(itertools.product(units, repeat=n))
            else:
                out.extend((u,) * n for u in units)
        return out

    def grid_values(self):
        if self.grid is not None:
            return list(self.grid)
        return self.options() if self.count() == 1 else None

    def distribution(self):
        if self.grid is not None:
            return list(self.grid)
        count = self.count()
        if count > MAX_ENUMERATED:
            raise _Problem(
                f"its {count} possible layer-size tuples are too many to enumerate for "
                f"param_distributions (at most {MAX_ENUMERATED}); add a 'grid:' list of the "
                "layer sizes to try, or narrow 'n_layers'/'units' (or give 'units' a 'step')"
            )
        return self.options()


@dataclass(frozen=True)
class _Param:
    name: str
    kind: Any
    when: tuple = ()  # ((other_param, allowed_values_tuple), ...)
    source: str = "<inline space>"  # the file this entry comes from


def _active(param: _Param, values: Mapping) -> bool:
    return all(c in values and values[c] in allowed for c, allowed in param.when)


@dataclass
class SearchSpace:
    """A compiled search space.

    Attributes
    ----------
    params : list
        The parameters in order (included ones first; conditions only refer to
        parameters above them).
    source : str
        Where the space came from, used in messages.
    description : str
        Free text from the file.
    includes : tuple of str
        The files merged in through ``include:`` (recursively), in merge order.
    """

    params: list = field(default_factory=list)
    source: str = "<inline space>"
    description: str = ""
    includes: tuple = ()

    @property
    def names(self) -> list[str]:
        """Estimator parameter names this space can produce."""
        return [p.name for p in self.params]

    def values_of(self, name: str) -> list | None:
        """The values parameter ``name`` can take, when there are finitely many listed.

        ``[value]`` for a fixed parameter, the choices of a categorical one, the
        ``grid:`` list of a numeric or layers range; None for a range without a
        ``grid:`` or a name the space does not have.

        Examples
        --------
        >>> space = compile_space({"parameters": {"model": "cnn", "kernel_size": {
        ...     "type": "categorical", "choices": [3, 5]}}})
        >>> space.values_of("model"), space.values_of("kernel_size"), space.values_of("units")
        (['cnn'], [3, 5], None)
        """
        param = next((p for p in self.params if p.name == name), None)
        return None if param is None else param.kind.grid_values()

    def suggest(self, trial) -> dict[str, Any]:
        """Draw one configuration from ``trial`` and return estimator kwargs.

        ``trial`` is an ``optuna.Trial`` or an ``optuna.trial.FixedTrial`` built
        from a finished trial's ``params`` (this rebuilds that trial's kwargs).
        ``grid:`` lists play no part here.
        """
        values: dict[str, Any] = {}
        for p in self.params:
            if _active(p, values):
                values[p.name] = p.kind.suggest(trial, p.name)
        return values

    # -- scikit-learn ---------------------------------------------------------
    def _error(self, param: _Param, problem: str) -> SpecError:
        return SpecError(f"{param.source}: parameter {param.name!r}: {problem}")

    def _combinations(self, controller_values) -> list[dict]:
        """Every assignment of the parameters that conditions refer to (the
        controllers), following the conditions between them; an inactive
        controller is left out. ``controller_values(param)`` lists a controller's
        values."""
        controllers = {c for p in self.params for c, _ in p.when}
        combos: list[dict] = [{}]
        for p in self.params:
            if p.name not in controllers:
                continue
            values = None
            grown = []
            for combo in combos:
                if not _active(p, combo):
                    grown.append(combo)
                    continue
                if values is None:
                    values = controller_values(p)
                grown.extend({**combo, p.name: v} for v in values)
            combos = grown
            if len(combos) > MAX_ENUMERATED:
                raise SpecError(
                    f"{self.source}: the conditions ('when:') of this space split it into more "
                    f"than {MAX_ENUMERATED} combinations of the values of "
                    f"{sorted(controllers)}; use fewer values for them"
                )
        return combos

    def _expand(self, combos, values_of, prefix: str) -> list[dict]:
        out = []
        for combo in combos:
            entry = {}
            for p in self.params:
                if not _active(p, combo):
                    continue
                entry[prefix + p.name] = [combo[p.name]] if p.name in combo else values_of(p)
            out.append(entry)
        return out

    def _grid_values(self, param: _Param) -> list:
        values = param.kind.grid_values()
        if values is None:
            kind = param.kind
            typ = {_Int: "an int", _Float: "a float", _Layers: "a layers"}[type(kind)]
            raise self._error(
                param,
                f"{typ} range cannot be compiled to a scikit-learn param_grid: add a 'grid:' "
                f"list of the values to try (e.g. grid: {_example_grid(kind)})",
            )
        return values

    def to_param_grid(self, prefix: str = "") -> list[dict]:
        """Compile to a scikit-learn ``param_grid`` (for ``GridSearchCV``).

        Categorical parameters contribute their choices, fixed ones their value
        and numeric or layers ranges their ``grid:`` list (a range with a single
        value needs none). Conditional parameters (``when:``) split the grid
        into one dict per combination of the values of the parameters the
        conditions refer to, so each conditional parameter only appears with
        the values that enable it; dicts that differ in a single parameter are
        then merged.

        Parameters
        ----------
        prefix : str, default=""
            Prepended to every name, e.g. ``"model__"`` for a Pipeline step
            called ``model``.

        Returns
        -------
        param_grid : list of dict
            Parameter names mapped to lists of values (layer sizes as tuples).

        Raises
        ------
        SpecError
            Naming the file and the parameter when a numeric range has no
            ``grid:`` list.

        Examples
        --------
        >>> space = compile_space({"parameters": {
        ...     "optimizer": {"type": "categorical", "choices": ["adam", "rmsprop", "sgd"]},
        ...     "optimizer__momentum": {"type": "float", "low": 0.0, "high": 0.9,
        ...                             "grid": [0.0, 0.9], "when": {"optimizer": "sgd"}}}})
        >>> for entry in space.to_param_grid(prefix="model__"):
        ...     print(entry)
        {'model__optimizer': ['adam', 'rmsprop']}
        {'model__optimizer': ['sgd'], 'model__optimizer__momentum': [0.0, 0.9]}
        """
        combos = self._combinations(self._grid_values)
        return _merge(self._expand(combos, self._grid_values, prefix))

    def to_param_distributions(self, prefix: str = "") -> list[dict]:
        """Compile to ``param_distributions`` (``RandomizedSearchCV``, ``HalvingRandomSearchCV``).

        Each parameter becomes what Optuna's random sampler would draw from:

        - float: ``scipy.stats.loguniform(low, high)`` with ``log: true``, else
          ``scipy.stats.uniform(low, high - low)``; with ``step`` the list of the
          points ``low, low + step, ..., high``;
        - int: ``scipy.stats.randint(low, high + 1)``; with ``step`` the list of
          its points; with ``log: true`` a ``scipy.stats.rv_discrete`` over
          ``low..high`` whose probabilities are those of a log-uniform value on
          ``[low - 0.5, high + 0.5]`` rounded to the nearest int (as Optuna does);
        - categorical: the list of choices; fixed: ``[value]``;
        - layers: its ``grid:`` list when given, else the list of every tuple
          it can take (``n_layers`` times the same ``units``, or every
          combination with ``per_layer``), drawn uniformly; more than
          ``MAX_ENUMERATED`` (10000) tuples is an error asking for ``grid:``.

        ``grid:`` lists of numeric parameters are not used (the ranges are).
        Conditional parameters split the result into one dict per combination
        of the values of the parameters that conditions refer to (categorical
        choices, fixed values, or the ``grid:`` list of a numeric one). The
        search picks a dict uniformly, so each combination gets the probability
        Optuna's random sampler gives it; for that the dicts are kept one per
        combination even when equal. When every value is a list, scikit-learn
        samples the union grid without replacement instead, so equal
        configurations are merged as in :meth:`to_param_grid`.

        Parameters
        ----------
        prefix : str, default=""
            Prepended to every name (``"model__"`` for a Pipeline step).

        Returns
        -------
        param_distributions : list of dict

        Examples
        --------
        >>> space = compile_space({"parameters": {
        ...     "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        ...     "batch_size": {"type": "categorical", "choices": [32, 64]}}})
        >>> [dist] = space.to_param_distributions()
        >>> dist["batch_size"], [float(b) for b in dist["learning_rate"].support()]
        ([32, 64], [0.0001, 0.1])
        """

        def values_of(param):
            try:
                return param.kind.distribution()
            except _Problem as exc:
                raise self._error(param, str(exc)) from None

        def controller_values(param):
            values = param.kind.grid_values()
            if values is not None:
                return values
            users = [p.name for p in self.params if any(c == param.name for c, _ in p.when)]
            raise self._error(
                param,
                f"it is used in the 'when:' condition of {users[0]!r}, so compiling to "
                "param_distributions needs its values: add a 'grid:' list (or make it "
                "categorical)",
            )

        combos = self._combinations(controller_values)
        out = self._expand(combos, values_of, prefix)
        if all(isinstance(v, list) for entry in out for v in entry.values()):
            return _merge(out)
        return out


def _example_grid(kind) -> list:
    if isinstance(kind, _Layers):
        return [list(t) for t in kind.options()[:3]] if kind.count() <= 1000 else [[64], [128]]
    low, high = kind.low, kind.high
    if kind.log:
        mid = math.sqrt(low * high)
    else:
        mid = (low + high) / 2
    if isinstance(kind, _Int):
        return sorted({low, low + round((mid - low) / kind.step) * kind.step, high})
    if kind.step is not None:
        mid = low + round((mid - low) / kind.step) * kind.step
    return sorted({low, float(f"{mid:.2g}") if kind.step is None else round(mid, 12), high})


def _merge(entries: list[dict]) -> list[dict]:
    """Merge dicts of value lists that differ in a single key (exact: the union of
    their grids is unchanged); drop duplicates."""

    def freeze(entry, skip):
        return tuple((k, tuple(v)) for k, v in entry.items() if k != skip)

    entries = [{k: list(v) for k, v in e.items()} for e in entries]
    changed = True
    while changed:
        changed = False
        keys = list(dict.fromkeys(k for e in entries for k in e))
        for key in [None, *keys]:
            groups: dict = {}
            for entry in entries:
                sig = (tuple(entry), freeze(entry, key))
                if sig in groups:
                    target = groups[sig]
                    if key is not None and key in entry:
                        target[key] += [v for v in entry[key] if v not in target[key]]
                    changed = True
                else:
                    groups[sig] = entry
            entries = list(groups.values())
    return entries


# ---------------------------------------------------------------------------
# Compilation and validation.


def _check_keys(spec: Mapping, allowed: set, required: set, what: str) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise _Problem(f"unknown key {unknown[0]!r} for {what}; valid keys are {sorted(allowed)}")
    missing = sorted(required - set(spec))
    if missing:
        raise _Problem(f"missing key {missing[0]!r} for {what}")


def _range(spec: Mapping, typ: str, what: str):
    low, high = spec["low"], spec["high"]
    check = _is_int if typ == "int" else _is_number
    kind = "an int" if typ == "int" else "a finite number"
    for key, val in (("low", low), ("high", high)):
        if not check(val):
            raise _Problem(f"{key!r} of {what} must be {kind}, got {val!r}{_yaml_hint(val)}")
    if low > high:
        raise _Problem(f"'low' ({low!r}) of {what} must not exceed 'high' ({high!r})")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise _Problem(f"'log' of {what} must be true or false, got {log!r}")
    step = spec.get("step", 1 if typ == "int" else None)
    if step is not None:
        if not check(step) or step <= 0:
            raise _Problem(f"'step' of {what} must be a positive {typ}, got {step!r}")
        if log and (typ == "float" or step != 1):
            raise _Problem(f"{what} cannot have both 'log: true' and 'step'")
        if not _on_step(high, low, step):
            raise _Problem(
                f"'step' ({step!r}) of {what} must divide high - low ({high!r} - {low!r}), "
                "so that 'high' is one of the values"
            )
    if log and low <= 0:
        raise _Problem(f"'low' of {what} must be > 0 when 'log' is true, got {low!r}")
    if typ == "int":
        return _Int(int(low), int(high), int(step), log)
    return _Float(float(low), float(high), None if step is None else float(step), log)


def _int_or_fixed(spec, what: str):
    if _is_int(spec):
        if spec < 1:
            raise _Problem(f"{what} must be >= 1, got {spec!r}")
        return _Fixed(int(spec))
    if not isinstance(spec, Mapping):
        raise _Problem(f"{what} must be an int or a mapping with 'low' and 'high', got {spec!r}")
    _check_keys(spec, {"low", "high", "step", "log"}, {"low", "high"}, what)
    kind = _range(spec, "int", what)
    if kind.low < 1:
        raise _Problem(f"'low' of {what} must be >= 1, got {kind.low!r}")
    return kind


def _in_range(value, kind, what: str, where: str) -> None:
    """``value`` (a number) must be one of the values of the range ``kind``."""
    if not kind.low <= value <= kind.high:
        raise _Problem(
            f"{where} {value!r} of {what} is outside [low, high] = [{kind.low!r}, {kind.high!r}]"
        )
    if kind.step is not None and kind.step != 1 and not _on_step(value, kind.low, kind.step):
        raise _Problem(
            f"{where} {value!r} of {what} is not on its steps (low + k * {kind.step!r})"
        )


def _sub_kind_allows(kind, value) -> bool:
    if isinstance(kind, _Fixed):
        return value == kind.value
    return kind.low <= value <= kind.high and (value - kind.low) % kind.step == 0


def _compile_grid(spec: Mapping, kind, what: str):
    if "grid" not in spec:
        return kind
    grid = spec["grid"]
    if not isinstance(grid, list) or not grid:
        raise _Problem(f"'grid' of {what} must be a non-empty list of values, got {grid!r}")
    values = []
    for value in grid:
        if isinstance(kind, _Layers):
            values.append(_layers_grid_value(value, kind))
            continue
        check, expected = (_is_int, "ints") if isinstance(kind, _Int) else (_is_number, "numbers")
        if not check(value):
            raise _Problem(
                f"'grid' values of {what} must be {expected}, got {value!r}{_yaml_hint(value)}"
            )
        _in_range(value, kind, what, "'grid' value")
        values.append(int(value) if isinstance(kind, _Int) else float(value))
    if len(set(values)) != len(values):
        raise _Problem(f"'grid' of {what} contains duplicates: {grid!r}")
    return type(kind)(**{**kind.__dict__, "grid": tuple(values)})


def _layers_grid_value(value, kind: _Layers) -> tuple:
    what = "a layers parameter"
    if _is_int(value):
        value = [value]
    if not isinstance(value, list) or not all(_is_int(u) and u > 0 for u in value):
        raise _Problem(
            f"'grid' values of {what} must be lists of positive ints (layer sizes), got {value!r}"
        )
    if not _sub_kind_allows(kind.n_layers, len(value)):
        raise _Problem(f"'grid' value {value!r} of {what} has a number of layers outside 'n_layers'")
    bad = [u for u in value if not _sub_kind_allows(kind.units, u)]
    if bad:
        raise _Problem(f"'grid' value {value!r} of {what} has units {bad[0]!r} outside 'units'")
    if not kind.per_layer and len(set(value)) > 1:
        raise _Problem(
            f"'grid' value {value!r} of {what} has different units per layer, but 'per_layer' "
            "is false"
        )
    return tuple(int(u) for u in value)


_COMMON = {"type", "when"}
_TYPES = {
    "categorical": ({"choices"}, {"choices"}),
    "int": ({"low", "high", "step", "log", "grid"}, {"low", "high"}),
    "float": ({"low", "high", "step", "log", "grid"}, {"low", "high"}),
    "fixed": ({"value"}, {"value"}),
    "layers": ({"n_layers", "units", "per_layer", "grid"}, {"n_layers", "units"}),
}


def _fixed(value):
    if isinstance(value, str) and _yaml_hint(value):
        raise _Problem(f"fixed value {value!r} is a string{_yaml_hint(value)}")
    return _Fixed(tuple(value) if isinstance(value, list) else value)


def _compile_kind(spec):
    if not isinstance(spec, Mapping):
        return _fixed(spec)
    if "type" not in spec:
        raise _Problem(f"missing key 'type'; valid types are {sorted(_TYPES)}")
    typ = spec["type"]
    if typ not in _TYPES:
        raise _Problem(f"unknown type {typ!r}; valid types are {sorted(_TYPES)}")
    allowed, required = _TYPES[typ]
    _check_keys(spec, allowed | _COMMON, required, f"type {typ!r}")
    what = f"{'an' if typ == 'int' else 'a'} {typ} parameter"
    if typ == "fixed":
        return _fixed(spec["value"])
    if typ == "categorical":
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise _Problem(f"'choices' must be a non-empty list, got {choices!r}")
        encoded = any(isinstance(c, list) for c in choices)
        if encoded:
            if not all(isinstance(c, list) and all(_is_number(v) for v in c) for c in choices):
                raise _Problem("list-valued 'choices' must all be lists of numbers")
            choices = [tuple(c) for c in choices]
        elif not all(isinstance(c, _SCALARS) for c in choices):
            bad = next(c for c in choices if not isinstance(c, _SCALARS))
            raise _Problem(f"'choices' must be strings, numbers, booleans or null, got {bad!r}")
        hinted = next((c for c in choices if _yaml_hint(c)), None)
        if hinted is not None:
            raise _Problem(f"'choices' value {hinted!r} is a string{_yaml_hint(hinted)}")
        if len(set(choices)) != len(choices):
            raise _Problem(f"'choices' contains duplicates: {spec['choices']!r}")
        return _Categorical(tuple(choices), encoded)
    if typ in ("int", "float"):
        return _compile_grid(spec, _range(spec, typ, what), what)
    per_layer = spec.get("per_layer", False)
    if not isinstance(per_layer, bool):
        raise _Problem(f"'per_layer' must be true or false, got {per_layer!r}")
    kind = _Layers(
        _int_or_fixed(spec["n_layers"], "'n_layers'"),
        _int_or_fixed(spec["units"], "'units'"),
        per_layer,
    )
    return _compile_grid(spec, kind, what)


def _optuna_names(name: str, kind) -> list[str]:
    if isinstance(kind, _Fixed):
        return []
    if isinstance(kind, _Layers):
        names = [] if isinstance(kind.n_layers, _Fixed) else ["n_layers"]
        if isinstance(kind.units, _Fixed):
            return names
        if not kind.per_layer:
            return [*names, "units"]
        high = kind.n_layers.value if isinstance(kind.n_layers, _Fixed) else kind.n_layers.high
        return [*names, *(f"units_{i + 1}" for i in range(high))]
    return [name]


def _compile_when(spec, name: str, earlier: dict, all_names, source: str) -> tuple:
    """``when:`` as ``((other, allowed_values), ...)``; ``earlier`` maps the names above
    to ``(kind, source)``. Values are checked against a controller from the same file
    (an including file may narrow the choices of an included controller)."""
    when = spec.get("when") if isinstance(spec, Mapping) else None
    if when is None:
        return ()
    if not isinstance(when, Mapping) or not when:
        raise _Problem(f"'when' must be a mapping {{parameter: value(s)}}, got {when!r}")
    conds = []
    for other, allowed in when.items():
        if other == name:
            raise _Problem("'when' refers to the parameter itself")
        if other not in earlier:
            if other in all_names:
                raise _Problem(
                    f"'when' refers to {other!r}, which is defined below this parameter; "
                    "conditions may only refer to parameters defined above them"
                )
            raise _Problem(f"'when' refers to {other!r}, which is not a parameter of this space")
        allowed = tuple(allowed) if isinstance(allowed, list) else (allowed,)
        kind, other_source = earlier[other]
        if isinstance(kind, _Layers) or (isinstance(kind, _Categorical) and kind.encoded):
            allowed = tuple(tuple(a) if isinstance(a, list) else a for a in allowed)
        if other_source == source:
            if isinstance(kind, _Categorical):
                bad = [a for a in allowed if a not in kind.choices]
                if bad:
                    raise _Problem(
                        f"'when' value {bad[0]!r} is not one of the choices of {other!r}: "
                        f"{list(kind.choices)}"
                    )
            elif isinstance(kind, (_Int, _Float)):
                for a in allowed:
                    if not _is_number(a):
                        raise _Problem(f"'when' value {a!r} of {other!r} must be a number")
                    _in_range(a, kind, f"{other!r}", "'when' value")
        conds.append((other, allowed))
    return tuple(conds)


def _find_include(name: str, base_dir: Path | None) -> tuple[Path | None, list[Path]]:
    path = Path(name).expanduser()
    names = [path] if path.suffix else [path, path.with_name(path.name + ".yaml")]
    if path.is_absolute():
        candidates = names
    else:
        bases = [base_dir if base_dir is not None else Path.cwd(), SPACES_DIR]
        candidates = list(dict.fromkeys(b / n for b in bases for n in names))
    for candidate in candidates:
        if candidate.is_file():
            return candidate, candidates
    return None, candidates


def _read_space_file(path: Path) -> Any:
    try:
        return load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {one_line(exc)}") from None


def _collect(spec, source: str, base_dir: Path | None, stack: tuple):
    """Merged parameter entries ``{name: (spec, source)}``, the description and the
    included files of ``spec`` (includes first, then its own entries in place)."""
    if not isinstance(spec, Mapping):
        raise SpecError(f"{source}: a search space must be a mapping with a 'parameters' key")
    unknown = sorted(set(spec) - {"parameters", "description", "include"})
    if unknown:
        raise SpecError(
            f"{source}: unknown top-level key {unknown[0]!r}; "
            "valid keys are ['description', 'include', 'parameters']"
        )
    includes = spec.get("include") or []
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise SpecError(
            f"{source}: 'include' must be a file name or a list of file names, got "
            f"{spec.get('include')!r}"
        )
    entries: dict[str, tuple] = {}
    files: list[str] = []
    for name in includes:
        path, tried = _find_include(name, base_dir)
        if path is None:
            raise SpecError(
                f"{source}: include {name!r} not found (looked in: "
                f"{', '.join(str(t) for t in tried)})"
            )
        key = path.resolve()
        chain = [label for _, label in stack]
        if any(key == k for k, _ in stack):
            raise SpecError(
                f"{source}: include cycle: {' -> '.join([*chain, str(path)])}"
            )
        sub_entries, _, sub_files = _collect(
            _read_space_file(path), str(path), path.parent, (*stack, (key, str(path)))
        )
        entries.update(sub_entries)  # a later include replaces an earlier one in place
        files += [str(path), *sub_files]
    params = spec.get("parameters")
    if params is None and includes:
        params = {}
    if not isinstance(params, Mapping) or (not params and not includes):
        raise SpecError(f"{source}: 'parameters' must be a non-empty mapping of parameter specs")
    for name, pspec in params.items():
        entries[name] = (pspec, source)
    return entries, spec.get("description") or "", files


def compile_space(
    spec: Any, *, source: str = "<inline space>", base_dir: str | Path | None = None
) -> SearchSpace:
    """Validate a parsed space mapping and compile it.

    Parameters
    ----------
    spec : mapping
        ``{"parameters": {...}, "description": "...", "include": [...]}`` as read
        from YAML.
    source : str, default="<inline space>"
        Name used in error messages (the file path).
    base_dir : str or Path, default=None
        Directory that relative ``include:`` paths start from (None: the
        current directory); names of shipped spaces are found either way.

    Returns
    -------
    SearchSpace

    Raises
    ------
    SpecError
        Naming the file, the parameter and the problem.

    Examples
    --------
    >>> import optuna
    >>> space = compile_space({"parameters": {"units": {"type": "int", "low": 8, "high": 64},
    ...                                       "epochs": 5}})
    >>> space.suggest(optuna.trial.FixedTrial({"units": 16}))
    {'units': 16, 'epochs': 5}
    """
    base = Path(base_dir) if base_dir is not None else None
    top = ((Path(source).resolve(), source),) if base is not None and Path(source).is_file() else ()
    entries, description, files = _collect(spec, source, base, top)
    params: list[_Param] = []
    earlier: dict[str, tuple] = {}
    optuna_owner: dict[str, str] = {}
    for name, (pspec, psource) in entries.items():
        try:
            if not isinstance(name, str) or not name.isidentifier():
                raise _Problem("parameter names must be identifiers")
            kind = _compile_kind(pspec)
            when = _compile_when(pspec, name, earlier, entries, psource)
            for oname in _optuna_names(name, kind):
                if oname in optuna_owner and optuna_owner[oname] != name:
                    raise _Problem(
                        f"its trial parameter {oname!r} clashes with parameter "
                        f"{optuna_owner[oname]!r}"
                    )
                optuna_owner[oname] = name
        except _Problem as exc:
            raise SpecError(f"{psource}: parameter {name!r}: {exc}") from None
        earlier[name] = (kind, psource)
        params.append(_Param(name, kind, when, psource))
    return SearchSpace(params=params, source=source, description=str(description),
                       includes=tuple(dict.fromkeys(files)))


def load_space(path: str | Path) -> SearchSpace:
    """Read and compile a search-space YAML file (and the files it includes).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    SpecError
        If the YAML is malformed or the space is invalid (the message names the
        file, the parameter and the problem).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: search space file not found")
    return compile_space(_read_space_file(path), source=str(path), base_dir=path.parent)


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
