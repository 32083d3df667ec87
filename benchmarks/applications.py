"""Images per second of ``predict`` for ResNet50, MobileNetV2 and EfficientNetB0 at 224x224, batch 32.

Each model (``weights=None``) is timed next to its compute floor, measured in the same
run: the bare NumPy work of its convolution and dense layers with no framework around
them, i.e. per batch the GEMM of every Conv2D / Dense layer on its im2col patch matrix
(``(N*OH*OW, KH*KW*C) @ (KH*KW*C, F)``) and, for every depthwise convolution (memory
bound, not a GEMM), one ``out = x * w`` pass over its ``(N, OH, OW, C)`` output: the
traffic no implementation avoids. Batch normalization, activations, padding, pooling, the
squeeze-excite blocks and the im2col copies are the framework's overhead above the floor.

Keras 3 (torch backend) runs the same models in a separate process when it is importable
here or given with ``--keras-python`` (for example ``/tmp/kvenv/bin/python``).

Usage: python benchmarks/applications.py [--images 64] [--repeats 2] [--models ResNet50 ...]
       [--keras-python PATH]
       python benchmarks/applications.py --transfer [--trials 20] [--epochs 3]

``--transfer``: wall time of N head trials over a frozen MobileNetV2 (alpha 0.35,
``weights=None``) on scikit-learn's digits upscaled to 32x32x3, with the base's features
computed once and cached (``BaseFeatures``, what a transfer study does) against the
same trials training the whole network with the base frozen (each epoch pushes every
image through the base again, as keras-tuner and Optuna studies do). Target: >= 10x.

On a shared machine, OPENBLAS_NUM_THREADS=1 gives steadier figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

MODELS = ("ResNet50", "MobileNetV2", "EfficientNetB0")
BATCH = 32
SIZE = 224


def _images(n):
    return np.random.default_rng(0).uniform(0, 255, size=(n, SIZE, SIZE, 3)).astype(np.float32)


def _best_rate(predict, x, repeats):
    predict(x[:BATCH])  # warm-up: buffers, BLAS threads
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        predict(x)
        best = min(best, time.perf_counter() - start)
    return len(x) / best


def floor_work(model, batch):
    """The floor's operations of one batch: ('gemm', m, k, n) and ('pass', output shape)."""
    work = []
    for layer in model.layers:
        kind = type(layer).__name__
        if not layer.weights or kind not in ("Conv2D", "Dense", "DepthwiseConv2D",
                                             "SeparableConv2D"):
            continue
        kernel = layer.get_weights()[0]
        if kind == "Dense":
            work.append(("gemm", batch, kernel.shape[0], kernel.shape[1]))
            continue
        _, oh, ow, _ = layer.output_shape
        if kind == "Conv2D":
            work.append(("gemm", batch * oh * ow, int(np.prod(kernel.shape[:3])), kernel.shape[3]))
        else:  # depthwise (and the depthwise half of a separable convolution)
            channels = kernel.shape[2] * kernel.shape[3]
            work.append(("pass", (batch, oh, ow, channels)))
            if kind == "SeparableConv2D":
                pointwise = layer.get_weights()[1]
                work.append(("gemm", batch * oh * ow, pointwise.shape[2], pointwise.shape[3]))
    return work


def floor_rate(work, n_images, repeats):
    """Images per second of the bare floor operations."""
    rng = np.random.default_rng(0)
    ops = []
    for item in work:
        if item[0] == "gemm":
            _, m, k, n = item
            ops.append(("gemm", rng.random((m, k), dtype=np.float32),
                        rng.random((k, n), dtype=np.float32), np.empty((m, n), np.float32)))
        else:
            shape = item[1]
            ops.append(("pass", rng.random(shape, dtype=np.float32),
                        rng.random(shape[-1], dtype=np.float32), np.empty(shape, np.float32)))
    best = math.inf
    batches = max(1, n_images // BATCH)
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            for op in ops:
                if op[0] == "gemm":
                    np.matmul(op[1], op[2], out=op[3])
                else:
                    np.multiply(op[1], op[2], out=op[3])
        best = min(best, time.perf_counter() - start)
    return batches * BATCH / best


def ours(name, x, repeats):
    from automl.keras import applications

    model = getattr(applications, name)(weights=None)
    rate = _best_rate(lambda data: model.predict(data, batch_size=BATCH, verbose=0), x, repeats)
    return rate, floor_rate(floor_work(model, BATCH), len(x), repeats)


def keras_rates(names, n_images, repeats):
    """{name: images/s} of Keras 3 (this process; call it in a child process)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    x = _images(n_images)
    out = {}
    for name in names:
        model = getattr(keras.applications, name)(weights=None)
        out[name] = _best_rate(
            lambda data, m=model: m.predict(data, batch_size=BATCH, verbose=0), x, repeats)
    return out, keras.backend.backend(), keras.__version__


def keras_in_child(python, names, n_images, repeats):
    cmd = [python, os.path.abspath(__file__), "--keras-child", "--images", str(n_images),
           "--repeats", str(repeats), "--models", *names]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=3600)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"Keras 3 not measured ({python}): {exc}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _keras_python(given):
    if given:
        return given
    try:
        import importlib.util

        return sys.executable if importlib.util.find_spec("keras") else None
    except (ImportError, ValueError):
        return None


def _head_params(n_trials):
    """The same N head configurations for both ways (pooling, hidden layers, dropout, lr)."""
    rng = np.random.default_rng(0)
    sizes = [(), (64,), (128,), (256, 128)]
    return [{"pooling": ("avg", "max")[int(rng.integers(2))],
             "hidden_layer_sizes": sizes[int(rng.integers(len(sizes)))],
             "dropout": float(rng.choice([0.0, 0.2, 0.4])),
             "learning_rate": float(10 ** rng.uniform(-4, -2))} for _ in range(n_trials)]


def transfer(n_trials, epochs):
    """Seconds of N frozen-base head trials: cached features vs recomputing the base."""
    import tempfile

    from sklearn.datasets import load_digits
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from automl.wrappers import BaseFeatures, KerasClassifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    base = {"alpha": 0.35}
    common = {"epochs": epochs, "batch_size": 32, "verbose": 0}
    params = _head_params(n_trials)
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        for i, p in enumerate(params):
            p = dict(p)
            features = BaseFeatures("MobileNetV2", input_shape=(32, 32, 3), image_shape=(8, 8, 1),
                                    base_kwargs=base, pooling=p.pop("pooling"), cache_dir=cache)
            make_pipeline(features, StandardScaler(),
                          KerasClassifier(**p, **common, random_state=i)).fit(X, y)
        cached = time.perf_counter() - start
    start = time.perf_counter()
    for i, p in enumerate(params):
        KerasClassifier(model="transfer", base_kwargs=base, trainable_layers=0,
                        **p, **common, random_state=i).fit(X, y)
    recomputed = time.perf_counter() - start
    return cached, recomputed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfer", action="store_true",
                        help="time frozen-base head trials: cached features vs recomputing")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--keras-python", default=None,
                        help="a Python with Keras 3 installed (default: this one, if it has it)")
    parser.add_argument("--keras-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.transfer:
        cached, recomputed = transfer(args.trials, args.epochs)
        print(f"{args.trials} head trials x {args.epochs} epochs, MobileNetV2 alpha 0.35 on "
              f"1797 digits at 32x32x3: cached features {cached:.1f} s (base run once), "
              f"recomputing the base {recomputed:.1f} s: {recomputed / cached:.1f}x")
        return
    if args.keras_child:
        rates, backend, version = keras_rates(args.models, args.images, args.repeats)
        print(json.dumps({"rates": rates, "backend": backend, "version": version}))
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"predict of {args.images} random 224x224 images, batch {BATCH}, best of "
          f"{args.repeats}; {os.cpu_count()} cores, load average {load:.2f}")
    x = _images(args.images)
    results = {}
    for name in args.models:
        results[name] = ours(name, x, args.repeats)
    python = _keras_python(args.keras_python)
    keras = keras_in_child(python, args.models, args.images, args.repeats) if python else None
    print(f"{'model':<15} {'automl img/s':>12} {'floor img/s':>11} {'floor/automl':>12}"
          + (f" {'keras img/s':>11} {'automl/keras':>12}" if keras else ""))
    for name, (rate, floor) in results.items():
        line = f"{name:<15} {rate:>12.1f} {floor:>11.1f} {floor / rate:>11.2f}x"
        if keras:
            k = keras["rates"][name]
            line += f" {k:>11.1f} {rate / k:>11.2f}x"
        print(line)
    if keras:
        print(f"Keras {keras['version']} on {keras['backend']} (separate process: {python})")


if __name__ == "__main__":
    main()
