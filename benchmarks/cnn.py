"""Seconds per epoch of two small Keras CNNs on 10,000 MNIST images, next to a GEMM lower bound.

(a) the Keras MNIST tutorial CNN: Conv2D(32, 3x3, relu) -> Flatten -> Dense(128, relu)
    -> Dense(10, softmax), batch 32;
(b) the CIFAR-style CNN: Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64, 3x3, relu)
    -> MaxPooling2D -> Flatten -> Dense(128, relu) -> Dense(10, softmax), batch 64;

both on 28x28x1 inputs, Adam, categorical cross-entropy. The lower bound, measured in
the same run, is the same matrix products with no framework around them: per batch, the
forward GEMM of every layer (the conv ones on the im2col patch matrix), its kernel-gradient
GEMM, and its input-gradient GEMM (except for the first layer, which needs none). The
predict() bound is the forward GEMMs only. Everything else (im2col copies, col2im adds,
pooling, activations, the optimizer, the loss) is framework overhead above that bound.

Uses ../shared/datasets/mnist.npz when present, else random data of the same shape.

Usage: python benchmarks/cnn.py [--data PATH] [--samples 10000] [--epochs 3] [--optimizer adam]

On a shared machine, OPENBLAS_NUM_THREADS=1 gives steadier figures: multithreaded BLAS
stalls whenever another process holds one of its cores.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
from _common import import_keras, time_epochs

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist.npz"


def load(path, samples):
    if Path(path).exists():
        with np.load(path) as data:
            x = data["x_train"][:samples].reshape(-1, 28, 28, 1).astype(np.float32) / 255.0
            y = data["y_train"][:samples].astype(np.int64)
        return x, y, "MNIST"
    rng = np.random.default_rng(0)
    return rng.random((samples, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, samples), "random data"


def build(kind):
    from automl.keras import Input, Sequential
    from automl.keras.layers import Dense, Flatten
    from automl.keras.layers._conv import Conv2D
    from automl.keras.layers._pooling import MaxPooling2D

    if kind == "a":
        stack = [Conv2D(32, (3, 3), activation="relu"), Flatten(), Dense(128, activation="relu"),
                 Dense(10, activation="softmax")]
    else:
        stack = [Conv2D(32, (3, 3), activation="relu"), MaxPooling2D((2, 2)), Conv2D(64, (3, 3), activation="relu"),
                 MaxPooling2D((2, 2)), Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")]
    return Sequential([Input((28, 28, 1)), *stack])


def gemm_shapes(model, batch):
    """(M, K, N, needs_input_grad) of every trainable layer's forward GEMM for one batch."""
    shapes = []
    first = True
    for layer in model.layers:
        if not layer.trainable_weights:
            continue
        kernel = layer.weights[0].value
        if kernel.ndim == 4:  # conv: patch matrix (N*OH*OW, KH*KW*C) @ (KH*KW*C, F)
            _, oh, ow, _ = layer.output_shape
            shapes.append((batch * oh * ow, int(np.prod(kernel.shape[:3])), kernel.shape[3], not first))
        else:
            shapes.append((batch, kernel.shape[0], kernel.shape[1], not first))
        first = False
    return shapes


def gemm_floor(shapes, n_samples, batch, backward=True, repeats=2):
    """Seconds for the bare GEMMs of one epoch (or of one predict pass when not ``backward``)."""
    rng = np.random.default_rng(0)
    sizes = [batch] * (n_samples // batch) + ([n_samples % batch] if n_samples % batch else [])
    mats = {}
    for b in set(sizes):
        scale = b / batch
        mats[b] = [
            (rng.random((max(1, round(m * scale)), k), dtype=np.float32),
             rng.random((k, n), dtype=np.float32),
             rng.random((max(1, round(m * scale)), n), dtype=np.float32), grad_in)
            for m, k, n, grad_in in shapes
        ]
    kgrads = [np.empty((k, n), dtype=np.float32) for _, k, n, _ in shapes]
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for b in sizes:
            for (a, w, g, grad_in), kg in zip(mats[b], kgrads):
                a @ w
                if backward:
                    np.matmul(a.T, g, out=kg)
                    if grad_in:
                        g @ w.T
        best = min(best, time.perf_counter() - start)
    return best


def time_model(kind, x, y_onehot, batch, epochs, optimizer="adam"):
    from automl.keras import utils

    utils.set_random_seed(0)
    model = build(kind)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    times, history = time_epochs(model, x, y_onehot, batch, epochs)
    start = time.perf_counter()
    model.predict(x, verbose=0)
    predict_time = time.perf_counter() - start
    return model, times, predict_time, history.history["accuracy"][-1]


def time_keras(kind, x, y_onehot, batch, epochs, optimizer="adam"):
    """The same model in Keras 3 (torch backend unless KERAS_BACKEND says otherwise), if installed."""
    keras = import_keras()
    if keras is None:
        return None
    keras.utils.set_random_seed(0)
    layers = keras.layers
    stack = [keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu")]
    if kind == "b":
        stack += [layers.MaxPooling2D(), layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D()]
    stack += [layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")]
    model = keras.Sequential(stack)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    times, _ = time_epochs(model, x, y_onehot, batch, epochs)
    start = time.perf_counter()
    model.predict(x, verbose=0)
    return min(times), time.perf_counter() - start, keras.backend.backend()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--optimizer", default="adam",
                        help="Keras optimizer name; 'sgd' shows the cost of Adam's update on big Dense kernels")
    args = parser.parse_args()
    from automl.keras.utils import to_categorical

    x, y, source = load(args.data, args.samples)
    y_onehot = to_categorical(y, 10)
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{len(x)} samples of {source}, {args.optimizer}, {os.cpu_count()} cores, load average "
          f"{load_avg:.2f} (other processes may share the cores)")
    print(f"{'model':<26} {'batch':>5} {'s/epoch':>8} {'gemm floor':>10} {'ratio':>6} "
          f"{'predict s':>9} {'fwd floor':>9} {'ratio':>6} {'train acc':>9}")
    ours_by_model = {}
    for kind, batch, label in (("a", 32, "(a) tutorial CNN"), ("b", 64, "(b) 2x(conv+pool) CNN")):
        model, times, predict_time, acc = time_model(kind, x, y_onehot, batch, args.epochs, args.optimizer)
        shapes = gemm_shapes(model, batch)
        floor = gemm_floor(shapes, len(x), batch)
        fwd_floor = gemm_floor(gemm_shapes(model, 32), len(x), 32, backward=False)
        ours = min(times)
        print(f"{label:<26} {batch:>5} {ours:>8.3f} {floor:>10.3f} {ours / floor:>5.2f}x "
              f"{predict_time:>9.3f} {fwd_floor:>9.3f} {predict_time / fwd_floor:>5.2f}x {acc:>9.4f}")
        ours_by_model[kind] = (batch, label, ours, predict_time)

    # Keras last: once torch is imported its OpenMP threads keep spinning and slow
    # every later NumPy/BLAS measurement in this process.
    for kind, (batch, label, ours, predict_time) in ours_by_model.items():
        keras_result = time_keras(kind, x, y_onehot, batch, args.epochs, args.optimizer)
        if keras_result is not None:
            k_fit, k_predict, backend = keras_result
            print(f"{label} in Keras 3 ({backend}): {k_fit:.3f} s/epoch = {k_fit / ours:.2f}x automl; "
                  f"predict {k_predict:.3f} s = {k_predict / predict_time:.2f}x automl")


if __name__ == "__main__":
    main()
