"""Test accuracy and seconds per epoch of the Keras tutorial CNNs on real MNIST / Fashion-MNIST.

(a) the Keras MNIST tutorial CNN: Conv2D(32, 3x3, relu, input 28x28x1) -> Flatten
    -> Dense(128, relu) -> Dense(10, softmax), batch 32, Adam, 3 epochs on MNIST;
    target: test accuracy >= 98.5%.
(b) the CIFAR-style CNN: Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64, 3x3, relu)
    -> MaxPooling2D -> Flatten -> Dense(128, relu) -> Dense(10, softmax), batch 64, Adam,
    10 epochs on Fashion-MNIST (input 28x28x1); target: test accuracy >= 90%.
    ``--dropout RATE`` inserts Dropout before the last Dense layer (0 by default: none).
(c) model (b) trained for one epoch on augmented batches,
    ``model.fit(datagen.flow(x, y, batch_size=64, seed=0), epochs=1, steps_per_epoch=...)``,
    with the time the augmentation alone takes for the same batches.

Images are scaled to [0, 1]; the loss is sparse categorical cross-entropy. Each epoch is
one ``fit(..., epochs=1)`` call (the optimizer state carries over) followed by an
evaluation on the 10,000 test images, so the printed seconds are training time only.

Data: ``<datasets-dir>/mnist.npz`` and ``fashion_mnist.npz`` (default ../shared/datasets,
as described in its README), else ``$AUTOML_DATASETS_DIR``, else the Keras download, all
through ``automl.keras.datasets``.

Usage: python benchmarks/cnn_accuracy.py [--parts abc] [--epochs N] [--samples N]
                                         [--dropout 0.0] [--datasets-dir DIR]

On a shared machine, OPENBLAS_NUM_THREADS=1 gives steadier (not faster) figures.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def load(name, datasets_dir, samples):
    from automl.keras.datasets import fashion_mnist, mnist

    local = Path(datasets_dir) / f"{name}.npz"
    module = {"mnist": mnist, "fashion_mnist": fashion_mnist}[name]
    (x, y), (x_test, y_test) = module.load_data(path=str(local)) if local.is_file() else module.load_data()
    if samples:
        x, y = x[:samples], y[:samples]
    return _images(x), y.astype(np.int64), _images(x_test), y_test.astype(np.int64)


def _images(a):
    return a.reshape(-1, 28, 28, 1).astype(np.float32) / 255.0


def build(kind, dropout=0.0):
    from automl.keras import Input, Sequential
    from automl.keras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D

    if kind == "a":
        stack = [Conv2D(32, (3, 3), activation="relu"), Flatten(), Dense(128, activation="relu")]
    else:
        stack = [Conv2D(32, (3, 3), activation="relu"), MaxPooling2D((2, 2)), Conv2D(64, (3, 3), activation="relu"),
                 MaxPooling2D((2, 2)), Flatten(), Dense(128, activation="relu")]
    if dropout:
        stack.append(Dropout(dropout))
    model = Sequential([Input((28, 28, 1)), *stack, Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(label, model, x, y, x_test, y_test, batch_size, epochs):
    print(f"{label}: {len(x)} training samples, batch {batch_size}, {epochs} epochs", flush=True)
    times, acc = [], float("nan")
    for epoch in range(epochs):
        start = time.perf_counter()
        hist = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
        acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)[1]
        print(f"  epoch {epoch + 1:>2}: {times[-1]:7.1f} s  train loss {hist.history['loss'][0]:.4f} "
              f"acc {hist.history['accuracy'][0]:.4f}  test acc {acc:.4f}", flush=True)
    return times, acc


def augmented_epoch(model, x, y, x_test, y_test, steps):
    from automl.keras.preprocessing.image import ImageDataGenerator

    datagen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1, height_shift_range=0.1,
                                 zoom_range=0.1)
    flow = datagen.flow(x, y, batch_size=64, seed=0)
    steps = min(steps or len(flow), len(flow))
    start = time.perf_counter()
    for i in range(steps):
        flow[i]
    augment_only = time.perf_counter() - start
    flow = datagen.flow(x, y, batch_size=64, seed=0)
    start = time.perf_counter()
    hist = model.fit(flow, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - start
    acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)[1]
    print(f"(c) augmented epoch (rotation 10, shifts 0.1, zoom 0.1), {steps} steps of 64: {seconds:.1f} s "
          f"(augmentation alone {augment_only:.1f} s = {augment_only / steps * 1e3:.1f} ms/batch), "
          f"train loss {hist.history['loss'][0]:.4f}, test acc {acc:.4f}", flush=True)
    return seconds, augment_only


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="abc", help="which runs: any of a, b, c")
    parser.add_argument("--epochs", type=int, default=None, help="epochs for (a) and (b) (default 3 and 10)")
    parser.add_argument("--samples", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--dropout", type=float, default=0.0, help="Dropout rate before the last layer of (b)")
    parser.add_argument("--aug-steps", type=int, default=None, help="steps of (c) (default: one full pass)")
    parser.add_argument("--datasets-dir", default=str(DEFAULT_DIR))
    parser.add_argument("--seed", type=int, default=0, help="automl.keras.utils.set_random_seed value")
    args = parser.parse_args()
    from automl.keras import utils

    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, load average {load_avg:.2f}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}", flush=True)
    summary = []
    if "a" in args.parts:
        x, y, x_test, y_test = load("mnist", args.datasets_dir, args.samples)
        utils.set_random_seed(args.seed)
        epochs = args.epochs or 3
        times, acc = train("(a) MNIST tutorial CNN", build("a"), x, y, x_test, y_test, 32, epochs)
        summary.append(f"(a) MNIST CNN, {epochs} epochs: test acc {acc:.4f} (target 0.985), "
                       f"{np.mean(times):.1f} s/epoch on {len(x)} samples")
    if "b" in args.parts or "c" in args.parts:
        x, y, x_test, y_test = load("fashion_mnist", args.datasets_dir, args.samples)
    if "b" in args.parts:
        utils.set_random_seed(args.seed)
        epochs = args.epochs or 10
        dropout = f"Dropout({args.dropout}) before the last layer" if args.dropout else "no Dropout"
        times, acc = train(f"(b) CIFAR-style CNN on Fashion-MNIST, {dropout}", build("b", args.dropout), x, y,
                           x_test, y_test, 64, epochs)
        summary.append(f"(b) Fashion-MNIST CNN ({dropout}), {epochs} epochs: test acc {acc:.4f} (target 0.90), "
                       f"{np.mean(times):.1f} s/epoch on {len(x)} samples")
    if "c" in args.parts:
        utils.set_random_seed(args.seed)
        seconds, augment_only = augmented_epoch(build("b", args.dropout), x, y, x_test, y_test, args.aug_steps)
        summary.append(f"(c) augmented epoch: {seconds:.1f} s, of which augmentation {augment_only:.1f} s")
    print("\n".join(["summary:", *("  " + s for s in summary)]))


if __name__ == "__main__":
    main()
