"""Tracing state: where traced :class:`~automl.keras.ops.Tensor` values currently flow.

A subclassed model (or a custom layer) records its training forward pass on a
tape; while it does, :data:`CONTEXT` names the place (``"the call of model
'my_model'"``) so that an operation the tracer cannot differentiate can say
what to use instead.

>>> from automl.keras.ops import tracing
>>> with tracing.location("the call of layer 'demo'"):
...     tracing.current_location()
"the call of layer 'demo'"
>>> tracing.current_location() is None
True
"""

from __future__ import annotations

import contextlib

__all__ = ["CONTEXT", "current_location", "location", "untraced_hint"]

#: ``{"where": str or None}``: where traced Tensors flow now (set by a recording tape).
CONTEXT = {"where": None}


def current_location():
    """The place traced Tensors currently flow through, or None outside a model's tape."""
    return CONTEXT["where"]


@contextlib.contextmanager
def location(where):
    """Set :func:`current_location` to ``where`` inside the ``with`` block."""
    saved = CONTEXT["where"]
    CONTEXT["where"] = where
    try:
        yield
    finally:
        CONTEXT["where"] = saved


def untraced_hint(what: str) -> str:
    """An error message for ``what`` (an untraceable operation), naming what to use instead."""
    where = CONTEXT["where"]
    if where is None:
        return (f"{what} inside a differentiated function; use automl.keras.ops / backend "
                "operations or NumPy ufuncs.")
    return (f"{what} in {where}: layer outputs are traced there so that training can "
            "differentiate the math between layers. Use automl.keras.ops (ops.concatenate, "
            "ops.matmul, ops.mean, ...) or Python operators for math between layers, not plain "
            "NumPy functions.")
