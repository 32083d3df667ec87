"""Seconds per epoch of the seed MLP on real MNIST, next to references run in the same process.

784 -> Dense(128, relu) -> Dense(64, relu) -> Dense(10, softmax), Adam, categorical
cross-entropy, on the 60,000 MNIST training images (float32 in [0, 1]).

References, measured in this run:
  (a) gemm floor: the same matrix products (forward + backward) with no framework;
  (b) scikit-learn's MLPClassifier, same architecture / batch size / float32, one epoch of partial_fit.

Usage: python benchmarks/mnist_mlp.py [--data ../shared/datasets/mnist.npz] [--epochs 5]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from _common import import_keras, time_epochs

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist.npz"


def load(path):
    with np.load(path) as data:
        x_train = data["x_train"].reshape(-1, 784).astype(np.float32) / 255.0
        x_test = data["x_test"].reshape(-1, 784).astype(np.float32) / 255.0
        return x_train, data["y_train"].astype(np.int64), x_test, data["y_test"].astype(np.int64)


def gemm_floor(x, batch_size, repeats=1):
    """One epoch of just the forward and backward matrix products of the MLP."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((784, 128), dtype=np.float32)
    w2 = rng.standard_normal((128, 64), dtype=np.float32)
    w3 = rng.standard_normal((64, 10), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size]
            h1 = xb @ w1
            h2 = h1 @ w2
            out = h2 @ w3
            g3 = h2.T @ out
            d2 = out @ w3.T
            g2 = h1.T @ d2
            d1 = d2 @ w2.T
            g1 = xb.T @ d1
            del g1, g2, g3
        best = min(best, time.perf_counter() - start)
    return best


def time_automl(x, y_onehot, batch_size, epochs):
    from automl.keras import Sequential, utils
    from automl.keras.layers import Dense

    utils.set_random_seed(0)
    model = Sequential([
        Dense(128, activation="relu", input_shape=(784,)),
        Dense(64, activation="relu"),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    times, _ = time_epochs(model, x, y_onehot, batch_size, epochs)
    return model, times


def time_sklearn(x, y, batch_size):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier((128, 64), batch_size=batch_size, random_state=0)
    classes = np.arange(10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(x[:batch_size], y[:batch_size], classes=classes)  # warm-up / allocation
        start = time.perf_counter()
        clf.partial_fit(x, y)
    return time.perf_counter() - start


def time_keras(x, y_onehot, batch_size, epochs=2):
    """Keras 3 itself, if it is installed (torch backend unless KERAS_BACKEND says otherwise); else None."""
    keras = import_keras()
    if keras is None:
        return None
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    times, _ = time_epochs(model, x, y_onehot, batch_size, epochs)
    return min(times), keras.backend.backend()


def peak_mb(fn, *args):
    tracemalloc.start()
    result = fn(*args)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    from automl.keras.utils import to_categorical

    x, y, x_test, y_test = load(args.data)
    y_onehot = to_categorical(y, 10)
    print(f"MNIST MLP 784-128-64-10, {len(x)} samples; rss before: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"{'batch':>5} {'automl s/ep':>12} {'sklearn s/ep':>13} {'gemm floor':>11} "
          f"{'sklearn/automl':>15} {'automl/floor':>13}")
    ours_by_batch = {}
    for batch_size in (32, 128):
        floor = gemm_floor(x, batch_size, repeats=2)
        sk = min(time_sklearn(x, y, batch_size) for _ in range(2))
        model, times = time_automl(x, y_onehot, batch_size, args.epochs)
        ours = ours_by_batch[batch_size] = min(times)
        acc = float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean())
        print(f"{batch_size:>5} {ours:>12.3f} {sk:>13.3f} {floor:>11.3f} {sk / ours:>14.2f}x "
              f"{ours / floor:>12.2f}x   test acc after {args.epochs} epochs: {acc:.4f}")
    _, ours_peak = peak_mb(time_automl, x, y_onehot, 128, 1)
    _, sk_peak = peak_mb(time_sklearn, x, y, 128)
    print(f"peak traced memory during one epoch (batch 128): automl {ours_peak:.1f} MB, "
          f"sklearn {sk_peak:.1f} MB")
    # Keras last: once torch is imported its OpenMP threads keep spinning and slow
    # every later NumPy/BLAS measurement in this process.
    for batch_size, ours in ours_by_batch.items():
        keras_result = time_keras(x, y_onehot, batch_size)
        if keras_result is not None:
            seconds, backend = keras_result
            print(f"batch {batch_size}: Keras 3 ({backend} backend) {seconds:.3f} s/epoch "
                  f"= {seconds / ours:.2f}x automl")


if __name__ == "__main__":
    main()
