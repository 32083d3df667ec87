"""What a study leaves behind: tables, summary, best model, and :class:`StudyResult`.

Output directory (see the study contract)::

    study.journal          Optuna journal (unless ``storage`` points elsewhere)
    run.json               how to reopen the study: storage, study name, resolved spec
    trials.csv             one row per trial
    epochs.csv             one row per trial, fold and epoch
    summary.json           best and test scores, trials by state, times, seeds
    best_params.json       estimator keyword arguments of the best trial
    best_model.pkl         the refit best estimator (joblib; loads with load_best_model)
    best_model.keras       its network alone, in the engine's .keras format
    test_predictions.npz   y_true, y_pred (+ proba, classes) of the refit model on the test split
    report.html            the dashboard, when automl.reports is available
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from ._storage import JOURNAL_NAME, open_storage

__all__ = [
    "StudyResult",
    "trials_table",
    "epochs_table",
    "save_best_model",
    "load_best_model",
    "OUTPUT_FILES",
]

RUN_FILE = "run.json"
MODEL_PICKLE = "best_model.pkl"
MODEL_KERAS = "best_model.keras"

#: Files :func:`run_study` writes in the output directory (the storage aside).
OUTPUT_FILES = (
    RUN_FILE,
    "trials.csv",
    "epochs.csv",
    "summary.json",
    "best_params.json",
    MODEL_PICKLE,
    MODEL_KERAS,
    "test_predictions.npz",
    "report.html",
)



# ---------------------------------------------------------------------------
# Tables


def trials_table(study):
    """One row per trial (``trials.csv``): :func:`automl.reports.trials_table` of ``study``."""
    from automl.reports import load_study_data
    from automl.reports import trials_table as table

    return table(load_study_data(study))


def epochs_table(study):
    """One row per trial, fold and epoch (``epochs.csv``): :func:`automl.reports.epochs_table`."""
    from automl.reports import epochs_table as table
    from automl.reports import load_study_data

    return table(load_study_data(study))


# ---------------------------------------------------------------------------
# Best model


def _network(model):
    """The fitted ``automl.keras`` network inside an estimator or a Pipeline, or None."""
    steps = getattr(model, "steps", None)
    if steps:
        model = steps[-1][1]
    return getattr(model, "model_", None)


def save_best_model(model, output_dir) -> dict[str, Path]:
    """Save the refit best estimator in ``output_dir``; return the written paths by kind.

    ``best_model.pkl`` (joblib) holds the whole estimator, scaler and label
    encoding included; wrappers pickle their network in the engine's ``.keras``
    format, so it reloads with the same weights and predicts identically.
    ``best_model.keras`` holds the network alone (``automl.keras.models.load_model``),
    for use without the estimator; it is skipped when the network does not
    round-trip through the ``.keras`` format (custom layers).
    """
    import joblib

    out = Path(output_dir)
    paths = {"pickle": out / MODEL_PICKLE}
    joblib.dump(model, paths["pickle"])
    network = _network(model)
    keras_path = out / MODEL_KERAS
    if keras_path.exists():
        keras_path.unlink()
    if network is not None:
        from automl.keras import saving

        try:
            saving.save_model(network, keras_path)
            paths["keras"] = keras_path
        except Exception:  # noqa: BLE001 - the pickle is the model of record
            if keras_path.exists():
                keras_path.unlink()
    return paths


def load_best_model(output_dir):
    """Load the refit best estimator saved by :func:`save_best_model`.

    Only load files you trust: the estimator is a joblib pickle.
    """
    import joblib

    path = Path(output_dir) / MODEL_PICKLE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no saved best model (was the study refit?)")
    return joblib.load(path)


def write_test_predictions(path, model, X_test, y_test, task: str) -> dict:
    """``y_true``, ``y_pred`` and, for classifiers, ``proba`` and ``classes``."""
    arrays = {"y_true": np.asarray(y_test), "y_pred": np.asarray(model.predict(X_test))}
    if task == "classification" and hasattr(model, "predict_proba"):
        arrays["proba"] = np.asarray(model.predict_proba(X_test))
        arrays["classes"] = np.asarray(getattr(model, "classes_", np.unique(y_test)))
    np.savez(path, **arrays)
    return arrays


# ---------------------------------------------------------------------------
# JSON


def jsonable(value):
    """``value`` with tuples as lists, NumPy scalars as Python numbers, non-finite as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path, obj) -> None:
    """Write ``obj`` as indented JSON, atomically (a reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(jsonable(obj), indent=2) + "\n")
    os.replace(tmp, path)


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())


# ---------------------------------------------------------------------------
# StudyResult


class StudyResult:
    """What :func:`run_study` found and wrote; :meth:`load` reopens it from its directory.

    Attributes
    ----------
    best_params : dict
        Estimator keyword arguments of the best trial (without ``epochs``/``random_state``).
    best_value : float
        Validation score of the best trial (ties broken by the lowest final ``val_loss``).
    test_score : float or None
        Score of the refit best model on the held-out test split (None without refit).
    best_model : estimator or None
        The best configuration refit on train + validation (loaded lazily after :meth:`load`).
    study : optuna.Study
        The study in its storage (opened lazily after :meth:`load`).
    search : object or None
        The scikit-learn search object (``engine: sklearn``).
    output_dir : Path
        Where the outputs were written.
    summary : dict
        The contents of ``summary.json``.
    spec : StudySpec or None
        The study specification (None after :meth:`load`).
    """

    def __init__(
        self,
        *,
        output_dir,
        summary: dict,
        best_params: dict,
        study=None,
        best_model=None,
        search=None,
        spec=None,
        storage: str | None = None,
        study_name: str | None = None,
    ):
        self.output_dir = Path(output_dir)
        self.summary = summary
        self.best_params = best_params
        self.search = search
        self.spec = spec
        self._study = study
        self._best_model = best_model
        self._storage = storage
        self._study_name = study_name or summary.get("study")

    @property
    def best_value(self) -> float:
        return self.summary.get("best_value")

    @property
    def test_score(self) -> float | None:
        return self.summary.get("test_score")

    @property
    def study(self):
        if self._study is None:
            import optuna

            storage = self._storage or str(self.output_dir / JOURNAL_NAME)
            self._study = optuna.load_study(
                study_name=self._study_name, storage=open_storage(storage)
            )
        return self._study

    @property
    def best_model(self):
        if self._best_model is None and (self.output_dir / MODEL_PICKLE).is_file():
            self._best_model = load_best_model(self.output_dir)
        return self._best_model

    def trials_dataframe(self):
        """One row per trial (the ``trials.csv`` table); see :func:`trials_table`."""
        return trials_table(self.study)

    def epochs_dataframe(self):
        """One row per trial, fold and epoch (the ``epochs.csv`` table); see :func:`epochs_table`."""
        return epochs_table(self.study)

    def dashboard(self, k: int = 5) -> dict:
        """The dashboard's plotly figures by panel title, for notebooks.

        See :func:`automl.reports.dashboard_figures`; ``k`` is the number of top
        trials whose learning curves are drawn.
        """
        from automl.reports import dashboard_figures

        return dashboard_figures(self, k=k)

    def save(self, path=None) -> Path:
        """Write the tables, summary, best parameters and best model to ``path``.

        ``path`` defaults to ``output_dir``. Saving elsewhere also copies the
        journal when the study lives in the default journal, so that
        ``StudyResult.load(path)`` works on its own.
        """
        import shutil

        out = Path(path) if path is not None else self.output_dir
        out.mkdir(parents=True, exist_ok=True)
        self.trials_dataframe().to_csv(out / "trials.csv", index=False)
        self.epochs_dataframe().to_csv(out / "epochs.csv", index=False)
        write_json(out / "summary.json", self.summary)
        write_json(out / "best_params.json", self.best_params)
        if self.best_model is not None:
            save_best_model(self.best_model, out)
        if out.resolve() != self.output_dir.resolve():
            for name in (RUN_FILE, "test_predictions.npz", "report.html"):
                if (self.output_dir / name).is_file():
                    shutil.copy2(self.output_dir / name, out / name)
            if self._storage is None and (self.output_dir / JOURNAL_NAME).is_file():
                shutil.copy2(self.output_dir / JOURNAL_NAME, out / JOURNAL_NAME)
                run = out / RUN_FILE
                if run.is_file():
                    info = read_json(run)
                    info["storage"] = str((out / JOURNAL_NAME).resolve())
                    write_json(run, info)
        return out

    @classmethod
    def load(cls, output_dir) -> StudyResult:
        """Reopen a study's results from its output directory.

        Reads ``summary.json``, ``best_params.json`` and ``run.json``; the study
        (from its storage) and the best model are loaded when first used.
        """
        out = Path(output_dir)
        summary_path = out / "summary.json"
        if not summary_path.is_file():
            raise FileNotFoundError(f"{summary_path}: no study results in {out}")
        summary = read_json(summary_path)
        params_path = out / "best_params.json"
        best_params = read_json(params_path) if params_path.is_file() else {}
        run = read_json(out / RUN_FILE) if (out / RUN_FILE).is_file() else {}
        storage = run.get("storage")
        if storage and storage == str((out / JOURNAL_NAME).resolve()):
            storage = None  # the default journal: follow the directory if it moves
        return cls(
            output_dir=out,
            summary=summary,
            best_params=best_params,
            storage=storage,
            study_name=run.get("study_name") or summary.get("study"),
        )

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"StudyResult(study={s.get('study')!r}, best_value={s.get('best_value')}, "
            f"test_score={s.get('test_score')}, n_trials={s.get('n_trials')}, "
            f"output_dir='{self.output_dir}')"
        )
