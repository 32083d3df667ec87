"""Seconds per training step of custom layers written with ``ops``, against the built-in layers.

Two pairs, each timed as one training step (forward, loss, backward, SGD update):

1. **Dense-like**: a subclassed layer whose kernel and bias come from ``add_weight`` and
   whose ``call`` is ``ops.relu(ops.matmul(x, kernel) + bias)``, against ``Dense(relu)``.
2. **Attention block**: single-head scaled dot-product self-attention written with ops
   (query/key/value/output projections, ``ops.softmax``), against the built-in
   ``MultiHeadAttention(num_heads=1)``.

Each custom layer is first trained inside a model (``model.train_on_batch``), as Keras code
would do. Where the engine cannot train a layer's own ``add_weight`` weights through the tape
yet, the custom step is timed on the tape directly instead: the weights are traced
:class:`~automl.keras.ops.Tensor` leaves, the same ops run forward, :func:`ops.gradient`
gives every weight's gradient, and SGD updates them in place. The figure printed is
``custom / built-in`` seconds per step (target: at most 2x).

BLAS runs on one thread by default (``--threads``): on a shared machine several BLAS threads
per process mostly measure contention. Steps are timed in CPU seconds of this process
(``time.process_time``, best of ``--repeats``), which other processes on the machine do not
inflate as they do wall-clock time; with one BLAS thread the two agree on an idle machine.

Usage: python benchmarks/custom_layers.py [--batch 128] [--steps 50] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from automl.keras import Input, Model, Sequential, layers, ops


def _best_of(step, repeats, steps):
    step()  # build and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(steps):
            step()
        best = min(best, (time.process_time() - start) / steps)
    return best


class OpsDense(layers.Layer):
    """``relu(x @ kernel + bias)`` written with ops."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        return ops.relu(ops.matmul(inputs, self.kernel) + self.bias)


class OpsSelfAttention(layers.Layer):
    """Single-head scaled dot-product self-attention written with ops."""

    def __init__(self, key_dim, **kwargs):
        super().__init__(**kwargs)
        self.key_dim = key_dim

    def build(self, input_shape):
        d = input_shape[-1]
        for name, shape in (("wq", (d, self.key_dim)), ("wk", (d, self.key_dim)),
                            ("wv", (d, self.key_dim)), ("wo", (self.key_dim, d))):
            setattr(self, name, self.add_weight(shape=shape, initializer="glorot_uniform", name=name))

    def call(self, inputs):
        q = ops.matmul(inputs, self.wq)
        k = ops.matmul(inputs, self.wk)
        v = ops.matmul(inputs, self.wv)
        scores = ops.matmul(q, ops.transpose(k, (0, 2, 1))) * (1.0 / np.sqrt(self.key_dim))
        return ops.matmul(ops.matmul(ops.softmax(scores, axis=-1), v), self.wo)


def _model_step(model, x, y):
    model.compile(optimizer="sgd", loss="mse")
    try:
        model.train_on_batch(x, y)
    except NotImplementedError as exc:
        return None, str(exc).split(":")[0]
    return (lambda: model.train_on_batch(x, y)), "model.train_on_batch"


def _tape_step(forward, weights, x, y, lr=1e-3):
    """One SGD step through the tape: traced weights, the ops forward, ``ops.gradient``."""
    scale = 2.0 / y.size

    def step():
        leaves = [ops.Tensor(w) for w in weights]
        out = forward(x, *leaves)
        diff = out - y
        loss = ops.sum(diff * diff) * scale
        grads = ops.gradient(loss, leaves, seed=np.ones((), dtype=np.float32))
        for w, g in zip(weights, grads):
            w -= lr * g

    return step


def _dense_pair(batch, features, units, rng, repeats, steps):
    x = rng.standard_normal((batch, features), dtype=np.float32)
    y = rng.standard_normal((batch, units), dtype=np.float32)
    built = Sequential([Input((features,)), layers.Dense(units, activation="relu")])
    built.compile(optimizer="sgd", loss="mse")
    t_built = _best_of(lambda: built.train_on_batch(x, y), repeats, steps)
    custom = Sequential([Input((features,)), OpsDense(units)])
    step, how = _model_step(custom, x, y)
    if step is None:
        layer = custom.layers[-1]
        weights = [layer.kernel.value, layer.bias.value]
        step = _tape_step(lambda xb, k, b: ops.relu(ops.matmul(xb, k) + b), weights, x, y)
        how = f"tape (model path: {how})"
    return t_built, _best_of(step, repeats, steps), how


def _attention_pair(batch, length, dim, rng, repeats, steps):
    x = rng.standard_normal((batch, length, dim), dtype=np.float32)
    y = rng.standard_normal((batch, length, dim), dtype=np.float32)
    inputs = Input((length, dim))
    outputs = layers.MultiHeadAttention(num_heads=1, key_dim=dim)(inputs, inputs)
    built = Model(inputs, outputs)
    built.compile(optimizer="sgd", loss="mse")
    t_built = _best_of(lambda: built.train_on_batch(x, y), repeats, steps)
    custom = Sequential([Input((length, dim)), OpsSelfAttention(dim)])
    step, how = _model_step(custom, x, y)
    if step is None:
        layer = custom.layers[-1]
        weights = [layer.wq.value, layer.wk.value, layer.wv.value, layer.wo.value]

        def forward(xb, wq, wk, wv, wo):
            q, k, v = ops.matmul(xb, wq), ops.matmul(xb, wk), ops.matmul(xb, wv)
            scores = ops.matmul(q, ops.transpose(k, (0, 2, 1))) * (1.0 / np.sqrt(dim))
            return ops.matmul(ops.matmul(ops.softmax(scores, axis=-1), v), wo)

        step = _tape_step(forward, weights, x, y)
        how = f"tape (model path: {how})"
    return t_built, _best_of(step, repeats, steps), how


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        run(args)


def run(args):
    rng = np.random.default_rng(0)
    rows = [
        ("Dense-like 784->128 relu", *_dense_pair(args.batch, 784, 128, rng, args.repeats, args.steps)),
        ("Dense-like 32->32 relu", *_dense_pair(args.batch, 32, 32, rng, args.repeats, args.steps)),
        ("self-attention len 16, dim 32",
         *_attention_pair(args.batch // 4, 16, 32, rng, args.repeats, args.steps)),
    ]
    print(f"{'pair':32s} {'built-in ms':>12s} {'ops ms':>9s} {'ratio':>6s}  custom step")
    for name, t_built, t_custom, how in rows:
        print(f"{name:32s} {t_built * 1e3:12.3f} {t_custom * 1e3:9.3f} {t_custom / t_built:6.2f}  {how}")


if __name__ == "__main__":
    main()
