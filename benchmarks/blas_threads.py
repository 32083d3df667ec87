"""Training time of small MLPs with one BLAS thread, with all, and with the engine's choice.

``fit`` runs a model with one BLAS thread when the largest matrix product of a
batch is below ``automl.keras.models._threads.SMALL_MATMUL`` multiply-adds and
leaves the thread count alone otherwise. For several batch sizes and hidden
widths, this script times the nine fits of the grid-search benchmark's grid
(optimizer adam/sgd/rmsprop x activation relu/sigmoid/tanh; a 784-units-10
MLP, 3 epochs on 6,667 MNIST images) back to back, in the three settings
(best of ``--repeats`` runs, interleaved), and prints which one the engine
picked.

Usage: python benchmarks/blas_threads.py [--data ../shared/datasets/mnist.npz] [--repeats 2]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist.npz"
EPOCHS = 3
CASES = [(16, 100), (32, 100), (64, 100), (128, 100), (32, 512)]
GRID = [(o, a) for o in ("adam", "sgd", "rmsprop") for a in ("relu", "sigmoid", "tanh")]


def load(path, n_samples=6_667):
    with np.load(path) as data:
        x = data["x_train"][:n_samples].reshape(n_samples, -1).astype(np.float32) / 255.0
        y = data["y_train"][:n_samples].astype(np.int64)
    return x, y


def make_model(units, optimizer="adam", activation="relu"):
    from automl import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(units, activation=activation),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def time_grid(x, y, batch_size, units, threshold):
    """Seconds to build and fit the nine models of GRID, one after the other."""
    from automl.keras.models import _threads

    saved, _threads.SMALL_MATMUL = _threads.SMALL_MATMUL, threshold
    try:
        start = time.perf_counter()
        for optimizer, activation in GRID:
            make_model(units, optimizer, activation).fit(x, y, batch_size=batch_size,
                                                         epochs=EPOCHS, verbose=0)
        return time.perf_counter() - start
    finally:
        _threads.SMALL_MATMUL = saved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="path to mnist.npz")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    from automl.keras.models._threads import SMALL_MATMUL, largest_matmul

    x, y = load(args.data)
    print(f"cores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}; "
          f"threshold {SMALL_MATMUL:.1e} multiply-adds")
    print(" batch  units  largest product   1 thread   all threads   engine   engine picked")
    # SMALL_MATMUL = inf limits every model to one thread, 0 leaves every model alone.
    settings = {"one": math.inf, "all": 0, "engine": SMALL_MATMUL}
    for batch_size, units in CASES:
        best = {name: math.inf for name in settings}
        for _ in range(args.repeats):
            for name, threshold in settings.items():
                best[name] = min(best[name], time_grid(x, y, batch_size, units, threshold))
        macs = largest_matmul(make_model(units), batch_size)
        picked = "one thread" if macs < SMALL_MATMUL else "all threads"
        print(f"{batch_size:6d} {units:6d} {macs:16.2e} {best['one']:9.2f} s {best['all']:10.2f} s "
              f"{best['engine']:7.2f} s   {picked}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
