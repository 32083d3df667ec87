"""Seconds per training step of custom layers written with ``ops`` against the built-in layers.

Two pairs, each trained on the same random data with the same optimizer:
  (a) an MLP 256 -> 128 -> 64 -> 10: built-in ``Dense`` layers, against a
      Dense-like user layer (``add_weight`` in ``build``, ``ops.matmul`` + bias +
      ``ops.relu`` in ``call``), differentiated by the ops tracer;
  (b) a small self-attention block on (batch, 16, 32) sequences: the built-in
      ``MultiHeadAttention`` (one head), against a user layer computing
      ``softmax(q k^T / sqrt(d)) v`` with ``ops``.
The target of the issue is traced custom code at most 2x slower per step.

Usage: python benchmarks/custom_layers.py [--steps 200] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from automl import keras
from automl.keras import Input, Model, Sequential, layers, ops, utils


class OpsDense(keras.layers.Layer):
    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, activation

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        out = ops.matmul(inputs, self.w) + self.b
        return ops.relu(out) if self.activation == "relu" else out


class OpsAttention(keras.layers.Layer):
    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim

    def build(self, input_shape):
        features = input_shape[-1]
        self.wq = self.add_weight(shape=(features, self.dim))
        self.wk = self.add_weight(shape=(features, self.dim))
        self.wv = self.add_weight(shape=(features, self.dim))
        self.wo = self.add_weight(shape=(self.dim, features))

    def call(self, inputs):
        q, k, v = ops.matmul(inputs, self.wq), ops.matmul(inputs, self.wk), ops.matmul(inputs, self.wv)
        scores = ops.matmul(q, ops.transpose(k, (0, 2, 1))) * (1.0 / np.sqrt(self.dim))
        return ops.matmul(ops.matmul(ops.softmax(scores, axis=-1), v), self.wo)


def _mlp(dense):
    return Sequential([Input((256,)), dense(128, activation="relu"), dense(64, activation="relu"), dense(10)])


def _attention(block):
    inputs = Input((16, 32))
    x = block(inputs)
    return Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(x)))


def seconds_per_step(model, x, y, loss, steps, batch_size):
    """Mean seconds per step of ``fit`` over ``steps`` batches (after a warm-up epoch)."""
    model.compile(optimizer="adam", loss=loss)
    n = steps * batch_size
    model.fit(x[:batch_size * 4], y[:batch_size * 4], batch_size=batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x[:n], y[:n], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.steps * args.batch_size
    x_mlp = rng.standard_normal((n, 256)).astype("float32")
    y_mlp = rng.integers(0, 10, n)
    x_seq = rng.standard_normal((n, 16, 32)).astype("float32")
    y_seq = rng.standard_normal((n, 1)).astype("float32")
    rows = []
    utils.set_random_seed(0)
    logits_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    builtin = seconds_per_step(_mlp(layers.Dense), x_mlp, y_mlp, logits_loss, args.steps, args.batch_size)
    custom = seconds_per_step(_mlp(OpsDense), x_mlp, y_mlp, logits_loss, args.steps, args.batch_size)
    rows.append(("(a) MLP, Dense vs ops layer", builtin, custom))
    builtin = seconds_per_step(_attention(lambda t: layers.MultiHeadAttention(1, 32)(t, t)), x_seq, y_seq, "mse",
                               args.steps, args.batch_size)
    custom = seconds_per_step(_attention(lambda t: OpsAttention(32)(t)), x_seq, y_seq, "mse", args.steps,
                              args.batch_size)
    rows.append(("(b) attention, MHA vs ops layer", builtin, custom))
    print(f"batch {args.batch_size}, {args.steps} steps")
    print(f"{'model':34s} {'built-in ms/step':>17s} {'ops ms/step':>12s} {'ratio':>6s}")
    for name, a, b in rows:
        print(f"{name:34s} {a * 1e3:17.2f} {b * 1e3:12.2f} {b / a:5.2f}x")


if __name__ == "__main__":
    main()
