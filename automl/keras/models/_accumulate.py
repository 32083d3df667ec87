"""Summing weight gradients over the uses of a weight in one backward pass.

``Layer.backward`` *assigns* the gradients of its weights (the fast kernels
write them in place with ``out=``). A weight reached by several layer calls
(a shared layer, a model used twice, a layer used directly and inside a
nested model) needs the sum of the calls' contributions, so a container
runs each call's backward through :meth:`GradientSums.backward`: when a
weight already holds a contribution of this pass, it is saved before the call
and added back after it. Weights that no call reached get zero, so that a
container's backward assigns all of its weights' gradients, as a layer's does.
"""

from __future__ import annotations

__all__ = ["GradientSums", "shares_weights"]


class GradientSums:
    """The weights whose gradient buffers already hold a contribution of this backward pass."""

    __slots__ = ("touched",)

    def __init__(self):
        self.touched: set[int] = set()

    def backward(self, variables, run, grad):
        """``run(grad)`` (one layer call's backward), adding its weight gradients to earlier ones."""
        touched = self.touched
        saved = [(v, v.grad.copy()) for v in variables if id(v) in touched] if touched else ()
        out = run(grad)
        for var, previous in saved:
            var.grad += previous
        touched.update(id(v) for v in variables)
        return out

    def zero_untouched(self, variables) -> None:
        touched = self.touched
        for var in variables:
            if id(var) not in touched and var.grad is not None:
                var.grad[...] = 0


def shares_weights(groups) -> bool:
    """Whether two of the ``groups`` (lists of Variables, one per layer call) share a weight."""
    seen: set[int] = set()
    for group in groups:
        ids = {id(v) for v in group}
        if seen & ids:
            return True
        seen |= ids
    return False
