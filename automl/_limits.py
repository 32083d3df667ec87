"""Allocation budgets: rebuilding a model from a file never allocates more than the file accounts for.

A loader (``automl.keras.saving``) rebuilds a model inside :func:`weight_budget`
with the number of bytes the file's weights can hold; every ``add_weight``
charges its shape against it *before* the array exists, so a config asking for
``units: 10**10`` is refused with a ``ValueError`` instead of allocating
hundreds of GiB. Outside a budget, charging is free.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

__all__ = ["charge", "weight_budget"]

_BUDGET: contextvars.ContextVar = contextvars.ContextVar("automl_weight_budget", default=None)


class _Budget:
    def __init__(self, nbytes: int, what: str):
        self.left = int(nbytes)
        self.what = what


@contextlib.contextmanager
def weight_budget(nbytes: int, what: str):
    """Within this block, weights may allocate at most ``nbytes`` bytes in total.

    ``what`` names the source in the error (``"Cannot load 'm.keras'"``).
    """
    token = _BUDGET.set(_Budget(nbytes, what))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def charge(shape, dtype, owner: str) -> None:
    """Account for a weight of ``shape``/``dtype`` about to be allocated by ``owner``."""
    budget = _BUDGET.get()
    if budget is None:
        return
    dims = [int(d) for d in shape]
    if any(d < 0 for d in dims):
        raise ValueError(f"{budget.what}: the weight of layer {owner!r} has the negative shape "
                         f"{tuple(dims)}.")
    nbytes = math.prod(dims) * np.dtype(dtype).itemsize
    if nbytes > budget.left:
        raise ValueError(
            f"{budget.what}: its config makes layer {owner!r} allocate a weight of shape "
            f"{tuple(dims)} ({nbytes:,} bytes), more than the file's weights can hold "
            f"({max(budget.left, 0):,} bytes left); the config is inconsistent or crafted."
        )
    budget.left -= nbytes
