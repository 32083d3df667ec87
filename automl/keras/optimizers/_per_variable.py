"""Base of the optimizers whose rule needs whole variables (norms, factored moments): Lamb, Adafactor.

A model hands the optimizer ONE packed buffer of all trainable weights, plus
the per-variable gradient views (``var_grads``). A per-variable rule recovers
each variable as a reshaped slice of the packed buffer from the position of
its gradient view inside the packed gradient, and updates it (and the
matching slices of the full-size slot arrays) in place.
"""

from __future__ import annotations

import numpy as np

from ._base import Optimizer

__all__ = ["PerVariableOptimizer", "variable_segments"]


def _address(array) -> int:
    return array.__array_interface__["data"][0]


def variable_segments(grad: np.ndarray, var_grads) -> list[tuple[int, tuple]]:
    """``(offset, shape)`` of each variable packed in ``grad``, in element units.

    The variables are the ``var_grads`` views lying inside ``grad``'s memory.
    When they do not tile ``grad`` exactly (or there are none), ``grad`` is one
    variable of its own shape.
    """
    size = grad.size
    if size and grad.flags.c_contiguous:
        start, itemsize = _address(grad), grad.itemsize
        end = start + size * itemsize
        segments = sorted(
            ((_address(vg) - start) // itemsize, tuple(vg.shape))
            for vg in var_grads
            if vg.size and vg.dtype == grad.dtype and vg.flags.c_contiguous and start <= _address(vg) < end
        )
        offset = 0
        for seg_offset, shape in segments:
            if seg_offset != offset:
                break
            offset += int(np.prod(shape, dtype=np.int64))
        else:
            if offset == size and segments:
                return segments
    return [(0, tuple(grad.shape))]


class PerVariableOptimizer(Optimizer):
    """An optimizer whose :meth:`update_variable` sees one whole variable at a time.

    Subclasses implement ``build_slots(param)`` (full-size arrays shaped like
    the parameter buffer) and ``update_variable(param, grad, slots, lr, tmp)``
    where every argument is the ``(*variable.shape)`` view of one variable.
    """

    def _update_params(self, params, grads, var_grads, lr) -> None:
        for param, grad, slots, scratch in zip(params, grads, self._slots, self._scratch):
            flat_param, flat_grad, flat_tmp = param.reshape(-1), grad.reshape(-1), scratch.reshape(-1)
            flat_slots = [s.reshape(-1) for s in slots]
            for offset, shape in variable_segments(grad, var_grads or grads):
                end = offset + int(np.prod(shape, dtype=np.int64))

                def view(flat, shape=shape, offset=offset, end=end):
                    return flat[offset:end].reshape(shape)

                self.update_variable(view(flat_param), view(flat_grad), [view(s) for s in flat_slots], lr,
                                     view(flat_tmp))

    def update_variable(self, param, grad, slots, lr, tmp) -> None:
        """Update one variable ``param`` in place (``tmp``: scratch of its shape; ``grad`` may be overwritten)."""
        raise NotImplementedError
