"""Routed and nested estimator parameters turned into engine objects at ``fit`` time.

Parameter names follow scikit-learn's ``<component>__<argument>`` convention:

* ``optimizer__<arg>``, ``loss__<arg>`` and ``lr_schedule__<arg>`` override one
  constructor argument of the optimizer, the loss and the learning-rate schedule;
* ``callbacks__<i>__<arg>`` overrides one argument of the ``i``-th callback;
* ``<name>__<arg>`` for a builder argument ``<name>`` holding an engine object
  (``kernel_regularizer__l2``, ``kernel_initializer__seed``, ...) rebuilds
  that object with the argument changed.

Objects are always rebuilt from their config (or copied), never mutated, so
the estimator's parameters stay exactly as the user gave them.
"""

from __future__ import annotations

import copy
import inspect

from ..keras import constraints, initializers, losses, optimizers, regularizers
from ..keras.optimizers import schedules

__all__ = [
    "nested",
    "check_arguments",
    "rebuild",
    "resolve_object",
    "make_loss",
    "make_optimizer",
    "make_callbacks",
    "monitors_validation",
]


def nested(params: dict, name: str) -> dict:
    """``{arg: value}`` for every ``<name>__<arg>`` entry of ``params``."""
    start = name + "__"
    return {k[len(start):]: v for k, v in params.items() if k.startswith(start)}


def _kind_module(name: str):
    """The engine registry module for an argument called ``name`` (None if not an object kind)."""
    if name.endswith("regularizer"):
        return regularizers
    if name.endswith("initializer"):
        return initializers
    if name.endswith("constraint"):
        return constraints
    return None


def check_arguments(what: str, given, known: list, owner: str) -> None:
    """Raise a ValueError naming the keys of ``given`` that are not in ``known``.

    ``what`` names the object (``"optimizer Adam"``); the message lists ``known``
    in the order given.
    """
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(
            f"{owner}: {what} has no argument(s) {unknown}; its arguments are {known}."
        )


def rebuild(obj, overrides: dict, owner: str):
    """A new instance of ``obj``'s class from its config with ``overrides`` applied."""
    config = obj.get_config()
    check_arguments(type(obj).__name__, overrides, sorted(config), owner)
    return type(obj).from_config({**config, **overrides})


def resolve_object(name: str, value, overrides: dict, owner: str):
    """Apply ``<name>__<arg>`` overrides to the object argument ``name`` of a builder.

    ``value`` may be None, a name, a config dict or an instance of the kind
    given by ``name`` (regularizer, initializer, constraint). A regularizer
    that is None becomes ``L1L2`` so that ``kernel_regularizer__l2=1e-4`` works
    on its own.
    """
    if not overrides:
        return value
    module = _kind_module(name)
    if module is None:
        raise ValueError(
            f"{owner} got nested parameters {[f'{name}__{k}' for k in overrides]}, but "
            f"{name!r} is not an object argument (a *_regularizer, *_initializer or "
            f"*_constraint)."
        )
    if value is None:
        if module.__name__.endswith("regularizers"):
            value = module.L1L2()
        else:
            raise ValueError(
                f"{owner} got nested parameters for {name!r}, which is None; give "
                f"{name}=<name or instance> as well."
            )
    obj = module.get(value)
    if isinstance(value, type):
        obj = value()
    return rebuild(obj, overrides, owner)


# ----------------------------------------------------------------------
# Loss
# ----------------------------------------------------------------------
def make_loss(spec, overrides: dict, owner: str):
    """The loss to compile with: ``spec`` itself, or rebuilt with ``loss__`` overrides."""
    if not overrides:
        return spec

    base = losses._get_loss_instance(spec)
    try:
        return rebuild(base, overrides, owner)
    except TypeError as exc:
        raise ValueError(f"{owner}: cannot apply {overrides} to loss {spec!r} ({exc}).") from None


# ----------------------------------------------------------------------
# Optimizer
# ----------------------------------------------------------------------
def make_optimizer(spec, *, learning_rate, schedule, overrides: dict, owner: str):
    """The optimizer instance to compile with.

    Parameters
    ----------
    spec : str, dict, Optimizer class or instance
    learning_rate : float or None
        Applied to optimizers given by name or class (instances and config
        dicts keep their own rate).
    schedule : LearningRateSchedule or None
        Replaces the learning rate when given.
    overrides : dict
        ``optimizer__<arg>`` values; ``optimizer__learning_rate`` (a float or a
        schedule) wins over both of the above.
    """
    if isinstance(spec, optimizers.Optimizer):
        base = copy.deepcopy(spec)
        changes = {}
    else:
        # Unknown names get the engine's error, which lists the valid ones.
        base = spec() if isinstance(spec, type) else optimizers.get(spec)
        by_name = isinstance(spec, (str, type))
        changes = {"learning_rate": learning_rate} if by_name and learning_rate is not None else {}
    if schedule is not None:
        changes["learning_rate"] = schedule
    changes.update({k: copy.deepcopy(v) for k, v in overrides.items()})
    if not changes:
        return base
    config = base.get_config()
    check_arguments(f"optimizer {type(base).__name__}", changes, sorted(config), owner)
    config.update(changes)
    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = schedules.deserialize(config["learning_rate"])
    return type(base).from_config(config)


# ----------------------------------------------------------------------
# Callbacks
# ----------------------------------------------------------------------
def _copy_callback(callback, overrides: dict, owner: str, index: int):
    """A fresh copy of ``callback`` (detached from any model) with ``overrides`` applied."""
    memo = {}
    model = getattr(callback, "model", None)
    if model is not None:
        memo[id(model)] = None
    if not overrides:
        return copy.deepcopy(callback, memo)
    sig = inspect.signature(type(callback).__init__).parameters
    names = [p.name for p in sig.values()
             if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    check_arguments(f"callbacks[{index}] ({type(callback).__name__})", overrides, names, owner)
    if all(hasattr(callback, name) for name in names):
        # Re-run the constructor, so that derived attributes follow the new values.
        args = {name: copy.deepcopy(getattr(callback, name), memo) for name in names}
        args.update(overrides)
        return type(callback)(**args)
    new = copy.deepcopy(callback, memo)
    for key, value in overrides.items():
        setattr(new, key, value)
    return new


def make_callbacks(callbacks, params: dict, owner: str) -> list:
    """Copies of the ``callbacks`` parameter with ``callbacks__<i>__<arg>`` applied."""
    callbacks = list(callbacks or [])
    routed = nested(params, "callbacks")
    per_index: dict[int, dict] = {}
    for key, value in routed.items():
        index, sep, arg = key.partition("__")
        if not sep or not index.isdigit() or int(index) >= len(callbacks):
            raise ValueError(
                f"{owner} got the parameter 'callbacks__{key}', but routed callback parameters "
                f"are named callbacks__<i>__<arg> with i in [0, {len(callbacks)}) (the position "
                f"in 'callbacks')."
            )
        per_index.setdefault(int(index), {})[arg] = value
    return [_copy_callback(cb, per_index.get(i, {}), owner, i) for i, cb in enumerate(callbacks)]


def monitors_validation(callbacks) -> bool:
    """Whether a callback watches a ``val_`` quantity (needs validation data)."""
    for cb in callbacks:
        monitor = getattr(cb, "monitor", None)
        if isinstance(monitor, str) and monitor.startswith("val_"):
            return True
    return False

