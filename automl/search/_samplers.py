"""Optuna samplers and pruners by name: validate a study's entry, build the object."""

from __future__ import annotations

import importlib.util
import inspect
import warnings
from collections.abc import Mapping

from ._checks import check_choice, close_match, fail
from ._grid import GridSpace
from ._space import SpecError, one_line

__all__ = [
    "SAMPLERS",
    "PRUNERS",
    "SAMPLER_PACKAGES",
    "make_sampler",
    "make_pruner",
    "sampler_entry",
    "pruner_entry",
]

#: sampler name → optuna.samplers class name; pruner name → optuna.pruners class name.
SAMPLERS = {
    "tpe": "TPESampler",
    "random": "RandomSampler",
    "grid": "GridSampler",
    "cmaes": "CmaEsSampler",
    "gp": "GPSampler",
    "qmc": "QMCSampler",
    "nsga2": "NSGAIISampler",
}
PRUNERS = {
    "none": "NopPruner",
    "median": "MedianPruner",
    "percentile": "PercentilePruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "hyperband": "HyperbandPruner",
    "patient": "PatientPruner",
    "threshold": "ThresholdPruner",
}
#: Packages a sampler needs beyond Optuna (checked at load time).
SAMPLER_PACKAGES = {"cmaes": ("cmaes",), "gp": ("torch", "scipy"), "qmc": ("scipy",)}
#: Samplers that cannot optimize several objectives.
_SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)
#: Sampler/pruner options the study sets itself.
_OWNED_OPTIONS = {"seed", "search_space", "wrapped_pruner"}
#: Option annotations naming Python objects, which a YAML file cannot give.
_OBJECT_ANNOTATIONS = ("Callable", "BaseSampler", "FrozenTrial", "BaseMutation", "BaseCrossover")
#: NSGA-II crossovers by name (``sampler: {name: nsga2, crossover: sbx}``).
_CROSSOVERS = {
    "uniform": "UniformCrossover",
    "blxalpha": "BLXAlphaCrossover",
    "sbx": "SBXCrossover",
    "vsbx": "VSBXCrossover",
    "undx": "UNDXCrossover",
    "spx": "SPXCrossover",
}


def _missing_packages(name: str) -> list[str]:
    return [p for p in SAMPLER_PACKAGES.get(name, ()) if importlib.util.find_spec(p) is None]


def _signature(cls):
    params = inspect.signature(cls).parameters
    return {
        n: p
        for n, p in params.items()
        if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def _named(source, key, value):
    """``"tpe"``, None or ``{name: tpe, **kwargs}`` → (name, kwargs)."""
    if isinstance(value, str) or value is None:
        return ("none" if value is None else value), {}
    if isinstance(value, Mapping):
        kwargs = dict(value)
        name = kwargs.pop("name", None)
        if name is None:
            fail(source, key, f"missing 'name' in {dict(value)!r}")
        return name, kwargs
    fail(source, key, f"must be a name or a mapping with 'name', got {value!r}")


def _check_options(source, key, name, cls, kwargs, *, skip=()):
    if "seed" in kwargs:
        fail(source, key, "do not set 'seed' here; the study's 'seed' seeds the sampler")
    params = _signature(cls)
    valid = sorted(n for n in params if n not in _OWNED_OPTIONS)
    for option in kwargs:
        if option in skip:
            continue
        if option not in valid:
            hint = close_match(option, valid)
            fail(
                source,
                key,
                f"invalid options for {name!r}: unknown option {option!r}{hint}; "
                f"valid options are {valid}",
            )
        annotation = str(params[option].annotation)
        if any(t in annotation for t in _OBJECT_ANNOTATIONS):
            fail(
                source,
                key,
                f"invalid options for {name!r}: option {option!r} takes a Python object "
                f"({annotation}) and cannot be set in a study",
            )
    required = [
        n
        for n, p in params.items()
        if p.default is inspect.Parameter.empty and n not in _OWNED_OPTIONS and n not in kwargs
    ]
    if required:
        fail(source, key, f"invalid options for {name!r}: missing required option {required[0]!r}")


def sampler_entry(source, value, *, multi_objective, space):
    import optuna

    name, kwargs = _named(source, "sampler", value if value is not None else "tpe")
    if name not in SAMPLERS:
        fail(source, "sampler", f"unknown sampler {name!r}; valid names are {sorted(SAMPLERS)}")
    missing = _missing_packages(name)
    if missing:
        fail(
            source,
            "sampler",
            f"sampler {name!r} needs the package(s) {', '.join(missing)}, which are not "
            f"installed; install them with `pip install {' '.join(missing)}`",
        )
    if multi_objective and name in _SINGLE_OBJECTIVE_SAMPLERS:
        multi = sorted(set(SAMPLERS) - set(_SINGLE_OBJECTIVE_SAMPLERS))
        fail(
            source,
            "sampler",
            f"sampler {name!r} optimizes a single objective, but 'second_objective' makes "
            f"this study multi-objective; use one of {multi}",
        )
    cls = getattr(optuna.samplers, SAMPLERS[name])
    skip = ()
    if name == "nsga2" and isinstance(kwargs.get("crossover"), str):
        check_choice(source, "sampler.crossover", kwargs["crossover"], list(_CROSSOVERS))
        skip = ("crossover",)
    _check_options(source, "sampler", name, cls, kwargs, skip=skip)
    spec = {"name": name, "kwargs": kwargs}
    if name == "grid":
        try:
            GridSpace.from_space(space)
        except SpecError as exc:
            fail(source, "sampler", f"sampler 'grid': {exc}")
    try:  # construct once now so bad option values fail at load time, not in a worker
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make_sampler(spec, None, space)
    except (TypeError, ValueError) as exc:
        fail(source, "sampler", f"invalid options for {name!r}: {one_line(exc)}")
    return spec


def pruner_entry(source, value, *, key="pruner", defaults=None):
    import optuna

    name, kwargs = _named(source, key, value)
    if name not in PRUNERS:
        fail(source, key, f"unknown pruner {name!r}; valid names are {sorted(PRUNERS)}")
    cls = getattr(optuna.pruners, PRUNERS[name])
    if name == "patient":
        if "wrapped" in kwargs and "wrapped_pruner" in kwargs:
            fail(source, key, "give the wrapped pruner once, as 'wrapped'")
        wrapped = kwargs.pop("wrapped", kwargs.pop("wrapped_pruner", None))
        _check_options(source, key, name, cls, kwargs)
        kwargs["wrapped"] = pruner_entry(source, wrapped, key=f"{key}.wrapped", defaults=defaults)
    else:
        _check_options(source, key, name, cls, kwargs)
        if name == "threshold" and kwargs.get("lower") is None and kwargs.get("upper") is None:
            fail(source, key, "pruner 'threshold' needs 'lower' and/or 'upper'")
        kwargs = {**(defaults or {}).get(name, {}), **kwargs}
    spec = {"name": name, "kwargs": kwargs}
    try:
        make_pruner(spec)
    except (TypeError, ValueError) as exc:
        fail(source, key, f"invalid options for {name!r}: {one_line(exc)}")
    return spec


def make_sampler(sampler, seed: int | None = None, space=None):
    """An Optuna sampler from a spec's ``sampler`` value.

    Parameters
    ----------
    sampler : str or dict
        A name (``"tpe"``) or ``{"name": ..., "kwargs": {...}}`` as in ``StudySpec.sampler``.
    seed : int or None
        The sampler seed (each worker process passes its own).
    space : SearchSpace or GridSpace, optional
        Needed by the ``grid`` sampler: its grid is ``GridSpace.from_space(space).optuna_grid``,
        and the trials must draw from the same :class:`GridSpace` (see :func:`trial_space`).

    Returns
    -------
    optuna.samplers.BaseSampler
    """
    import optuna

    if isinstance(sampler, str):
        sampler = {"name": sampler, "kwargs": {}}
    name, kwargs = sampler["name"], dict(sampler.get("kwargs") or {})
    if name not in SAMPLERS:
        raise ValueError(f"Unknown sampler {name!r}. Valid samplers are {sorted(SAMPLERS)}.")
    cls = getattr(optuna.samplers, SAMPLERS[name])
    if name == "grid":
        if space is None:
            raise ValueError("The 'grid' sampler needs the search space (space=...).")
        return cls(GridSpace.from_space(space).optuna_grid, seed=seed, **kwargs)
    with warnings.catch_warnings():  # the study chose it; Optuna's "experimental" notes are noise
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "nsga2" and isinstance(kwargs.get("crossover"), str):
            from optuna.samplers import nsgaii

            kwargs["crossover"] = getattr(nsgaii, _CROSSOVERS[kwargs["crossover"]])()
        return cls(seed=seed, **kwargs)


def make_pruner(pruner):
    """An Optuna pruner from a spec's ``pruner`` value (a name or ``{"name", "kwargs"}``).

    ``patient`` wraps the pruner given under ``kwargs["wrapped"]`` (None: no pruner).
    """
    import optuna

    if pruner is None or isinstance(pruner, str):
        pruner = {"name": pruner or "none", "kwargs": {}}
    name, kwargs = pruner["name"], dict(pruner.get("kwargs") or {})
    if name not in PRUNERS:
        raise ValueError(f"Unknown pruner {name!r}. Valid pruners are {sorted(PRUNERS)}.")
    cls = getattr(optuna.pruners, PRUNERS[name])
    if name == "patient":
        wrapped = kwargs.pop("wrapped", None)
        inner = None if wrapped is None or wrapped.get("name") == "none" else make_pruner(wrapped)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return cls(inner, **kwargs)
    return cls(**kwargs)


