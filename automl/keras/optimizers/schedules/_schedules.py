"""Learning-rate schedules with Keras 3's formulas and arguments.

A schedule is a callable of the optimizer's iteration count (the number of
updates already applied): an optimizer whose ``learning_rate`` is a schedule
uses ``schedule(optimizer.iterations)`` for its next update. Values are
computed in float64; a scalar step gives a Python float and an array of steps
gives an array (handy for plotting a schedule).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ...._registry import Registry
from ...._validation import Interval, check_param, param_error

__all__ = [
    "SCHEDULES",
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
    "get",
]

_POSITIVE = [Interval(float, 0, None, closed="neither")]
_NON_NEGATIVE = [Interval(float, 0, None)]
_REAL = [Interval(float)]


def _steps(step) -> np.ndarray:
    return np.asarray(step, dtype=np.float64)


def _out(value):
    value = np.asarray(value, dtype=np.float64)
    return float(value) if value.ndim == 0 else value


class LearningRateSchedule:
    """Base class of learning-rate schedules.

    Subclasses implement ``__call__(step)`` and ``get_config()``; the default
    ``from_config`` is ``cls(**config)``. Any instance can be passed as the
    ``learning_rate`` of an optimizer.

    Examples
    --------
    >>> from automl.keras.optimizers import SGD, schedules
    >>> class Halving(schedules.LearningRateSchedule):
    ...     def __init__(self, initial_learning_rate):
    ...         self.initial_learning_rate = initial_learning_rate
    ...     def __call__(self, step):
    ...         return self.initial_learning_rate / 2 ** step
    ...     def get_config(self):
    ...         return {"initial_learning_rate": self.initial_learning_rate}
    >>> opt = SGD(learning_rate=Halving(0.1))
    >>> opt.iterations = 2
    >>> opt.learning_rate
    0.025
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override __call__(self, step)."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override get_config() "
            "to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


SCHEDULES = Registry("learning rate schedule", base=LearningRateSchedule)


def _check_decay_args(owner, initial_learning_rate, decay_steps, name="decay_steps"):
    check_param("initial_learning_rate", initial_learning_rate, _REAL, owner)
    check_param(name, decay_steps, _POSITIVE, owner)


class _RateDecay(LearningRateSchedule):
    """A decay driven by ``decay_rate`` and ``p = step / decay_steps`` (floored when staircase).

    Subclasses define ``_decay(p)``, the learning rate at ``p``.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        owner = type(self).__name__
        _check_decay_args(owner, initial_learning_rate, decay_steps)
        check_param("decay_rate", decay_rate, _REAL, owner)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        p = _steps(step) / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return _out(self._decay(p))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@SCHEDULES.register
class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : int
        Positive.
    decay_rate : float
    staircase : bool, default=False
    name : str, default="ExponentialDecay"

    Examples
    --------
    >>> from automl.keras.optimizers.schedules import ExponentialDecay
    >>> lr = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> lr(0), lr(10), lr(20)
    (0.1, 0.05, 0.025)
    >>> round(ExponentialDecay(0.1, 10, 0.5, staircase=True)(19), 6)
    0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def _decay(self, p):
        return self.initial_learning_rate * np.power(float(self.decay_rate), p)


@SCHEDULES.register
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` afterwards.

    Parameters
    ----------
    boundaries : list of int
        Strictly increasing step counts.
    values : list of float
        One more value than ``boundaries``.
    name : str, default="PiecewiseConstant"

    Examples
    --------
    >>> from automl.keras.optimizers.schedules import PiecewiseConstantDecay
    >>> lr = PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1])
    >>> lr(100), lr(101), lr(111)
    (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        owner = "PiecewiseConstantDecay"
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"The 'boundaries' parameter of {owner} must have one element less than 'values'. "
                f"Got {len(boundaries)} boundaries and {len(values)} values instead."
            )
        for key, seq in (("boundaries", boundaries), ("values", values)):
            if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in seq):
                raise param_error(key, owner, "a list of numbers", seq)
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise param_error("boundaries", owner, "strictly increasing", boundaries)
        self.boundaries = boundaries
        self.values = values
        self.name = name
        self._bounds = np.asarray(boundaries, dtype=np.float64)
        self._values = np.asarray(values, dtype=np.float64)

    def __call__(self, step):
        # side="left": the index of the first boundary >= step, so a step equal
        # to a boundary still belongs to the interval that ends there.
        return _out(self._values[np.searchsorted(self._bounds, _steps(step), side="left")])

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values), "name": self.name}


@SCHEDULES.register
class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``.

    ``(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end``.
    With ``cycle=True`` the horizon is instead the first multiple of
    ``decay_steps`` that is at least ``step`` (``decay_steps`` itself at step 0).

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : int
        Positive.
    end_learning_rate : float, default=0.0001
    power : float, default=1.0
    cycle : bool, default=False
    name : str, default="PolynomialDecay"

    Examples
    --------
    >>> from automl.keras.optimizers.schedules import PolynomialDecay
    >>> lr = PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0)
    >>> lr(0), lr(5), lr(50)
    (1.0, 0.5, 0.0)
    >>> PolynomialDecay(1.0, 10, 0.0, cycle=True)(15)
    0.25
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _check_decay_args("PolynomialDecay", initial_learning_rate, decay_steps)
        check_param("end_learning_rate", end_learning_rate, _REAL, "PolynomialDecay")
        check_param("power", power, _REAL, "PolynomialDecay")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = bool(cycle)
        self.name = name

    def __call__(self, step):
        step = _steps(step)
        horizon = float(self.decay_steps)
        if self.cycle:
            horizon = horizon * np.where(step == 0, 1.0, np.ceil(step / horizon))
        else:
            step = np.minimum(step, horizon)
        frac = 1.0 - step / horizon
        span = self.initial_learning_rate - self.end_learning_rate
        return _out(span * np.power(frac, float(self.power)) + self.end_learning_rate)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


@SCHEDULES.register
class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True`` the ratio is ``floor(step / decay_steps)``.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : int
        Positive.
    decay_rate : float
    staircase : bool, default=False
    name : str, default="InverseTimeDecay"

    Examples
    --------
    >>> from automl.keras.optimizers.schedules import InverseTimeDecay
    >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)(2)
    0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def _decay(self, p):
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


def _cosine(fraction, alpha):
    """``(1 - alpha) * 0.5 * (1 + cos(pi * fraction)) + alpha``."""
    return (1.0 - alpha) * 0.5 * (1.0 + np.cos(math.pi * fraction)) + alpha


@SCHEDULES.register
class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts), with an optional linear warmup.

    Without ``warmup_target``: ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps))
    + alpha)`` with ``s = min(step, decay_steps)``. With ``warmup_target``, the
    rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps``, then decays from ``warmup_target``
    the same way over the next ``decay_steps``.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : int
        Positive.
    alpha : float, default=0.0
        Final rate as a fraction of the rate the decay starts from.
    name : str, default="CosineDecay"
    warmup_target : float, optional
    warmup_steps : int, default=0

    Examples
    --------
    >>> from automl.keras.optimizers.schedules import CosineDecay
    >>> lr = CosineDecay(1.0, decay_steps=10)
    >>> lr(0), round(lr(5), 6), lr(10), lr(99)
    (1.0, 0.5, 0.0, 0.0)
    >>> warm = CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    >>> warm(0), warm(2), warm(4)
    (0.0, 0.5, 1.0)
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_args("CosineDecay", initial_learning_rate, decay_steps)
        check_param("alpha", alpha, _REAL, "CosineDecay")
        check_param("warmup_target", warmup_target, [None, *_REAL], "CosineDecay")
        check_param("warmup_steps", warmup_steps, _NON_NEGATIVE, "CosineDecay")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = _steps(step)
        if self.warmup_target is None:
            s = np.minimum(step, self.decay_steps)
            return _out(self.initial_learning_rate * _cosine(s / self.decay_steps, self.alpha))
        warm = float(self.warmup_steps)
        s = np.minimum(step, self.decay_steps + warm)
        in_warmup = s < warm
        # Guard the division: the warmup branch is only selected when warm > 0.
        rise = (self.warmup_target - self.initial_learning_rate) * (s / (warm or 1.0))
        warmup = rise + self.initial_learning_rate
        decayed = self.warmup_target * _cosine((s - warm) / self.decay_steps, self.alpha)
        return _out(np.where(in_warmup, warmup, decayed))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


@SCHEDULES.register
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR).

    The multiplier decays from 1 to ``alpha`` over ``first_decay_steps``; each
    restart then lasts ``t_mul`` times longer than the previous period and
    starts from ``m_mul`` times its peak. In period ``i`` (0-based) at
    fraction ``f`` of it, the rate is
    ``initial * ((1 - alpha) * m_mul**i * 0.5 * (1 + cos(pi * f)) + alpha)``.

    Parameters
    ----------
    initial_learning_rate : float
    first_decay_steps : int
        Positive.
    t_mul : float, default=2.0
    m_mul : float, default=1.0
    alpha : float, default=0.0
    name : str, default="SGDRDecay"

    Examples
    --------
    >>> from automl.keras.optimizers.schedules import CosineDecayRestarts
    >>> lr = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    >>> lr(0), round(lr(5), 6), lr(10), round(lr(20), 6), lr(30)
    (1.0, 0.5, 0.5, 0.25, 0.25)
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        owner = "CosineDecayRestarts"
        _check_decay_args(owner, initial_learning_rate, first_decay_steps, "first_decay_steps")
        check_param("t_mul", t_mul, _POSITIVE, owner)
        check_param("m_mul", m_mul, _REAL, owner)
        check_param("alpha", alpha, _REAL, owner)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = _steps(step) / self.first_decay_steps
        t_mul = float(self.t_mul)
        if t_mul == 1.0:
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:
            # Periods grow geometrically: period i starts at (1 - t^i) / (1 - t)
            # first-periods and lasts t^i of them.
            restart = np.floor(np.log1p(fraction * (t_mul - 1.0)) / math.log(t_mul))
            start = (1.0 - t_mul**restart) / (1.0 - t_mul)
            fraction = (fraction - start) / t_mul**restart
        peak = np.power(float(self.m_mul), restart)
        decayed = (1.0 - self.alpha) * peak * 0.5 * (1.0 + np.cos(math.pi * fraction)) + self.alpha
        return _out(self.initial_learning_rate * decayed)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


def serialize(learning_rate_schedule) -> dict:
    """Return ``{"class_name": ..., "config": {...}}`` for a schedule.

    >>> from automl.keras.optimizers import schedules
    >>> schedules.serialize(schedules.InverseTimeDecay(0.1, 1, 0.5))["class_name"]
    'InverseTimeDecay'
    """
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise param_error(
            "learning_rate_schedule", "serialize", "a LearningRateSchedule instance",
            learning_rate_schedule, TypeError,
        )
    return Registry.serialize(learning_rate_schedule)


def deserialize(config, custom_objects=None) -> LearningRateSchedule:
    """Rebuild a schedule from ``{"class_name": ..., "config": {...}}``.

    Class names resolve through :data:`SCHEDULES` and ``custom_objects`` only.
    """
    if not isinstance(config, dict):
        raise param_error("config", "deserialize", "a dict with 'class_name' and 'config'", config,
                          TypeError)
    schedule = SCHEDULES.deserialize(config, custom_objects=custom_objects)
    if not callable(schedule):
        raise ValueError(f"Could not interpret learning rate schedule config: {config!r}.")
    return schedule


def get(identifier, custom_objects=None):
    """Resolve None, a config dict, a schedule instance or a callable of the step.

    A bare name cannot be resolved, since every schedule needs arguments.

    >>> from automl.keras.optimizers import schedules
    >>> s = schedules.get({"class_name": "ExponentialDecay",
    ...                    "config": {"initial_learning_rate": 0.1, "decay_steps": 10,
    ...                               "decay_rate": 0.5}})
    >>> s(10)
    0.05
    """
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects=custom_objects)
    if isinstance(identifier, str):
        SCHEDULES.lookup(identifier, custom_objects)  # unknown names list the valid ones
        raise ValueError(
            f"Could not interpret learning rate schedule identifier: {identifier!r}. A schedule "
            "needs arguments: pass an instance or a config dict {'class_name': ..., 'config': ...}."
        )
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise ValueError(
        f"Could not interpret learning rate schedule identifier: {identifier!r}. Expected a "
        "LearningRateSchedule instance, a config dict or a callable of the step."
    )
