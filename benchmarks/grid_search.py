"""Wall time of the seed's grid search with n_jobs=1 and n_jobs=2, next to scikit-learn's MLP.

The grid is ``{"optimizer": ["adam", "sgd", "rmsprop"], "activation": ["relu",
"sigmoid", "tanh"]}`` over ``KerasClassifier`` (the built-in MLP, one hidden
layer of 100 units), ``cv=3``, 10 epochs, batch 32, on the first 10,000 MNIST
training images (float32 in [0, 1]). ``refit=False``: only the 27 fits of the
search are timed. The two worker processes are started (and import automl)
before timing, as they are after a first search in a session; that start-up
time is printed separately.

Reference, measured in the same run: scikit-learn's ``MLPClassifier`` with the
same architecture, batch size, epochs (``max_iter``) and data, over the same
grid where it exists: ``solver`` in place of ``optimizer`` (``adam``, ``sgd``;
it has no RMSprop) and ``activation`` in ``relu``, ``logistic`` (its name for
sigmoid), ``tanh``. Since its grid has 6 candidates instead of 9, the figures
also compare the fit times of the 6 candidates both libraries share.

With n_jobs=2 joblib limits each worker to one BLAS thread (cores // n_jobs).
With n_jobs=1 this model also trains on one BLAS thread: the engine picks one
thread for models whose matrix products are this small (automl/keras/models/
_threads.py; with two threads the n_jobs=1 grid takes 35-39 s instead of
29-32 s). ``--single-thread-reference`` adds n_jobs=1 with every BLAS call of
the process (scoring included) limited to one thread.

Usage: python benchmarks/grid_search.py [--data ../shared/datasets/mnist.npz]
       [--n-samples 10000] [--epochs 10] [--skip-sklearn] [--single-thread-reference]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist.npz"
GRID = {"optimizer": ["adam", "sgd", "rmsprop"], "activation": ["relu", "sigmoid", "tanh"]}
SKLEARN_GRID = {"solver": ["adam", "sgd"], "activation": ["relu", "logistic", "tanh"]}
# Candidates the two grids share, as (optimizer/solver, activation) in our names.
SHARED = {(o, a) for o in ("adam", "sgd") for a in ("relu", "sigmoid", "tanh")}


def load(path, n_samples):
    with np.load(path) as data:
        x = data["x_train"][:n_samples].reshape(n_samples, -1).astype(np.float32) / 255.0
        y = data["y_train"][:n_samples].astype(np.int64)
    return x, y


def _import_wrappers():
    import automl.wrappers  # noqa: F401

    return os.getpid()


def start_workers(n_jobs):
    """Start joblib's worker processes (and import automl there), as an earlier search would."""
    from joblib import Parallel, delayed

    start = time.perf_counter()
    pids = Parallel(n_jobs=n_jobs)(delayed(_import_wrappers)() for _ in range(4 * n_jobs))
    return time.perf_counter() - start, len(set(pids))


def run_grid(estimator, grid, x, y, n_jobs):
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs, refit=False)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLPClassifier's ConvergenceWarning at max_iter
        search.fit(x, y)
    return time.perf_counter() - start, search.cv_results_


def shared_fit_time(results, key):
    """Summed mean fit time (x3 folds) of the candidates both grids share."""
    total = 0.0
    for params, fit_time in zip(results["params"], results["mean_fit_time"]):
        act = {"logistic": "sigmoid"}.get(params["activation"], params["activation"])
        if (params[key], act) in SHARED:
            total += 3 * fit_time
    return total


def print_results(name, results, key):
    print(f"  {name}: candidate, mean fit time (s), mean test accuracy")
    for params, fit_time, score in zip(results["params"], results["mean_fit_time"],
                                       results["mean_test_score"]):
        print(f"    {params[key]:>8} {params['activation']:>8}  {fit_time:7.2f}  {score:.4f}")


def time_grid(name, estimator, grid, key, x, y):
    """Time (and print) the grid search at n_jobs=1 and 2, with the n_jobs=1 results.

    Returns the wall times by n_jobs and the n_jobs=1 fit time of the shared candidates.
    """
    times = {}
    for n_jobs in (1, 2):
        times[n_jobs], results = run_grid(estimator, grid, x, y, n_jobs)
        print(f"{name} grid ({len(results['params'])} candidates x 3 folds), n_jobs={n_jobs}: "
              f"{times[n_jobs]:.1f} s")
        if n_jobs == 1:
            print_results(name, results, key)
            shared = shared_fit_time(results, key)
    return times, shared


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="path to mnist.npz")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--skip-sklearn", action="store_true", help="skip MLPClassifier")
    parser.add_argument("--single-thread-reference", action="store_true",
                        help="also time n_jobs=1 with BLAS limited to one thread")
    args = parser.parse_args(argv)

    from automl.wrappers import KerasClassifier

    x, y = load(args.data, args.n_samples)
    print(f"data: {args.data} ({len(x)} samples, {x.shape[1]} features); "
          f"cores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}")
    estimator = KerasClassifier(hidden_layer_sizes=(100,), epochs=args.epochs, batch_size=32,
                                random_state=0)
    startup, workers = start_workers(2)
    print(f"starting {workers} worker processes (not included below): {startup:.1f} s")
    times, ours_shared = time_grid("KerasClassifier", estimator, GRID, "optimizer", x, y)
    speedup = times[1] / times[2]
    print(f"speed-up n_jobs=2 vs n_jobs=1: {speedup:.2f}x (target >= 1.7x on 2 cores)")
    if args.single_thread_reference:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            single, _ = run_grid(estimator, GRID, x, y, 1)
        print(f"KerasClassifier grid, n_jobs=1 with 1 BLAS thread: {single:.1f} s "
              f"(speed-up of n_jobs=2 over it: {single / times[2]:.2f}x)")

    if not args.skip_sklearn:
        from sklearn.neural_network import MLPClassifier

        mlp = MLPClassifier(hidden_layer_sizes=(100,), max_iter=args.epochs, batch_size=32,
                            random_state=0)
        sk_times, sk_shared = time_grid("MLPClassifier", mlp, SKLEARN_GRID, "solver", x, y)
        print(f"whole grid, n_jobs=1: KerasClassifier (9 candidates) {times[1]:.1f} s vs "
              f"MLPClassifier (6 candidates) {sk_times[1]:.1f} s")
        print(f"whole grid, n_jobs=2: KerasClassifier (9 candidates) {times[2]:.1f} s vs "
              f"MLPClassifier (6 candidates) {sk_times[2]:.1f} s")
        print(f"fit time of the 6 shared candidates (x3 folds), n_jobs=1: KerasClassifier "
              f"{ours_shared:.1f} s vs MLPClassifier {sk_shared:.1f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
