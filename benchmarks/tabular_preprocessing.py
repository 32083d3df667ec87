"""Automatic tabular preprocessing and the baselines on the shared real tables.

For each table of ``../shared/datasets/tabular/`` (Titanic, penguins, Ames,
diamonds): a 75/25 split (``random_state=0``, stratified for classification),
the time of ``TabularPreprocessor.fit_transform`` on the training rows and of
``transform`` on the test rows (best of ``--repeats``), the output width and
how many columns got each treatment; then, unless ``--no-baselines``, the
test score of each baseline of ``automl.tabular.baseline_estimators``
(accuracy for classification, r² for regression) and its fit time. One BLAS /
OpenMP thread (``--threads``), as a study's worker would have on 2 cores.

Usage: python benchmarks/tabular_preprocessing.py [--data ../shared/datasets/tabular]
       [--repeats 3] [--threads 1] [--no-baselines]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "tabular"
TABLES = [
    ("TitanicSurvival.csv", "survived", "classification"),
    ("penguins.csv", "species", "classification"),
    ("ames.csv", "price", "regression"),
    ("diamonds.csv", "price", "regression"),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args(argv)

    import pandas as pd
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    from automl.tabular import ColumnsDroppedWarning, TabularPreprocessor, baseline_estimators

    warnings.simplefilter("ignore", ColumnsDroppedWarning)
    if not (args.data / TABLES[0][0]).is_file():
        raise SystemExit(f"the shared tables are not in {args.data} (pass --data)")
    rows, scores = [], []
    with threadpool_limits(args.threads):
        for file, target, task in TABLES:
            frame = pd.read_csv(args.data / file)
            X, y = frame.drop(columns=target), frame[target]
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.25, random_state=0, stratify=y if task != "regression" else None
            )
            target_type = "continuous" if task == "regression" else "auto"
            fit_times, transform_times = [], []
            for _ in range(args.repeats):
                pre = TabularPreprocessor(target_type=target_type, random_state=0)
                start = time.perf_counter()
                Xt = pre.fit_transform(X_train, y_train)
                fit_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                pre.transform(X_test)
                transform_times.append(time.perf_counter() - start)
            counts = pre.treatments_table().treatment.value_counts()
            rows.append(
                {
                    "table": file.removesuffix(".csv"),
                    "rows x cols": f"{X_train.shape[0]} x {X_train.shape[1]}",
                    "features out": Xt.shape[1],
                    "fit_transform s": round(min(fit_times), 3),
                    "transform s": round(min(transform_times), 3),
                    **{
                        k: int(counts.get(k, 0))
                        for k in ("numeric", "onehot", "target", "datetime", "drop")
                    },
                }
            )
            if args.no_baselines:
                continue
            for name, model in baseline_estimators(task, random_state=0).items():
                start = time.perf_counter()
                model.fit(X_train, y_train)
                seconds = time.perf_counter() - start
                pred = model.predict(X_test)
                metric = "r2" if task == "regression" else "accuracy"
                value = (r2_score if task == "regression" else accuracy_score)(y_test, pred)
                scores.append(
                    {
                        "table": file.removesuffix(".csv"),
                        "baseline": name,
                        "metric": metric,
                        "test score": round(value, 4),
                        "fit s": round(seconds, 2),
                    }
                )
    print(pd.DataFrame(rows).to_string(index=False))
    if scores:
        print()
        print(pd.DataFrame(scores).to_string(index=False))


if __name__ == "__main__":
    main()
