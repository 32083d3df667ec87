"""Small checks of study keys: each raises a one-line SpecError naming the source and key."""

from __future__ import annotations

import difflib
import numbers

from ._space import SpecError

__all__ = [
    "fail",
    "is_real",
    "close_match",
    "check_fraction",
    "check_int",
    "check_bool",
    "check_choice",
    "check_mapping",
]


def close_match(value, choices) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ""."""
    hint = difflib.get_close_matches(str(value), list(choices), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def fail(source: str, key: str, problem: str):
    raise SpecError(f"{source}: key {key!r}: {problem}")


def is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_fraction(source, key, value):
    if not (is_real(value) and 0 < value < 1):
        fail(source, key, f"must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def check_int(source, key, value, low, *, allow=()):
    if value in allow and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        extra = f" (or {', '.join(map(str, allow))})" if allow else ""
        fail(source, key, f"must be an int >= {low}{extra}, got {value!r}")
    return int(value)


def check_bool(source, key, value):
    if not isinstance(value, bool):
        fail(source, key, f"must be true or false, got {value!r}")
    return value


def check_choice(source, key, value, choices):
    if value not in choices:
        hint = difflib.get_close_matches(str(value), list(choices), n=1)
        hint = f" (did you mean {hint[0]!r}?)" if hint else ""
        fail(source, key, f"must be one of {list(choices)}, got {value!r}{hint}")
    return value


def check_mapping(source, key, value, allowed, required=()):
    unknown = sorted(set(value) - set(allowed), key=str)
    if unknown:
        fail(source, key, f"unknown key {unknown[0]!r}; valid keys are {sorted(allowed)}")
    missing = [k for k in required if k not in value]
    if missing:
        fail(source, key, f"missing key {missing[0]!r}; got {dict(value)!r}")

