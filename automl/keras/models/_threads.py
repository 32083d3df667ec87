"""How many BLAS threads a model's batches should use.

OpenBLAS splits every matrix product above a few hundred thousand
multiply-adds over all its threads. For the small products of a small model
at a small batch size, waking and joining the threads costs more than the
split saves: on 2 cores, the 27 fits of ``benchmarks/grid_search.py`` at
``n_jobs=1`` (a 784-100-10 MLP at batch 32) take 35-39 s with two threads and
29-30 s with one. ``fit``, ``evaluate`` and ``predict`` therefore run such
models with one BLAS thread, and leave the thread count alone as soon as one
product is large enough to gain from the split (``benchmarks/blas_threads.py``
times both sides of the threshold).
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

#: Multiply-adds of the largest matrix product of a batch below which one
#: BLAS thread is faster. Measured on 2 cores, where the two are even at
#: about 5e6 (a batch of 64 through a 784x100 kernel); kept below that so
#: only clear wins change the thread count.
SMALL_MATMUL = 4_000_000


def largest_matmul(model, batch_size: int) -> float:
    """Multiply-adds of the largest matrix product in a batch of ``batch_size``.

    Estimated from the layers' kernels: a kernel (any weight with two or more
    dimensions) is multiplied by one row per sample and output position, as in
    Dense, convolution and recurrent layers. Layers that multiply activations
    by each other (attention, ``Dot``), layers not built yet and outputs
    with unknown sizes make
    the estimate infinite, so that the thread count is left alone.
    """
    largest = 0.0
    for layer in model._flat_layers():
        if getattr(layer, "_multiplies_activations", False):
            return math.inf
        if layer.output_shape is None:  # not built yet
            return math.inf
        kernels = [v.value.size for v in layer.weights if v.value.ndim >= 2]
        if not kernels:
            continue
        shapes = layer.output_shape if isinstance(layer.output_shape, list) else [layer.output_shape]
        positions = 1
        for shape in shapes:
            if any(d is None for d in shape[1:-1]):
                return math.inf
            positions = max(positions, math.prod(shape[1:-1]))
        largest = max(largest, float(batch_size) * positions * max(kernels))
    return largest


@contextmanager
def blas_threads(model, batch_size: int):
    """A context in which ``model`` runs batches of ``batch_size`` at its best BLAS thread count."""
    if largest_matmul(model, batch_size) < SMALL_MATMUL:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    else:
        yield
