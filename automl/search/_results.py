"""What a study leaves behind: :class:`StudyResult`, the best model, the trial tables.

The files themselves are read and written by :class:`~automl.search.RunDirectory`.
"""

from __future__ import annotations

from pathlib import Path

from ._database import with_password
from ._run_directory import RunDirectory
from ._storage import open_storage
from ._tables import epochs_table, trials_table

__all__ = ["StudyResult", "save_best_model", "load_best_model"]


# ---------------------------------------------------------------------------
# Best model


def save_best_model(model, output_dir, *, pickle: bool = False) -> dict[str, Path]:
    """Save the refit best estimator in ``output_dir``; see :meth:`RunDirectory.write_model`.

    ``best_model.automl`` loads without running code; ``pickle=True`` adds
    ``best_model.pkl``, a joblib pickle (which runs code when loaded).
    """
    return RunDirectory(output_dir).write_model(model, pickle=pickle)


def load_best_model(output_dir, *, allow_pickle: bool = False, trusted=()):
    """Load the refit best estimator saved by :func:`save_best_model`.

    Reads ``best_model.automl``, rebuilding the estimator from data: no code the
    file names is run (see :mod:`automl.persistence`). A directory with only
    ``best_model.pkl`` is read only with ``allow_pickle=True``; a pickle runs code
    when loaded, so allow it only for files from a trusted source. A model built by a
    study's own function (``model: "package.module:builder"``) names it; load it with
    ``trusted=["package.module.builder"]`` if you trust that module (importing it
    runs its code).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from automl.search import load_best_model, save_best_model
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> out = tempfile.mkdtemp()
    >>> sorted(save_best_model(LogisticRegression().fit(X, y), out))
    ['archive']
    >>> load_best_model(out).predict(X)
    array([0, 0, 1, 1])
    """
    return RunDirectory(output_dir).load_model(allow_pickle=allow_pickle, trusted=trusted)


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
        The best configuration refit on train + validation (loaded lazily after :meth:`load`,
        from ``best_model.automl``: no code runs; a directory with only a pickle raises a
        ``ValueError``, see :func:`load_best_model`).
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
    def run_directory(self) -> RunDirectory:
        """The output directory's files (:class:`RunDirectory`)."""
        return RunDirectory(self.output_dir)

    @property
    def study(self):
        if self._study is None:
            import optuna

            storage = self._storage or str(self.run_directory.journal)
            if "://" not in str(storage) and not Path(storage).expanduser().is_file():
                # reading a study creates nothing: no folder, no empty journal
                raise FileNotFoundError(f"{storage}: no study journal (reading creates nothing)")
            self._study = optuna.load_study(
                study_name=self._study_name, storage=open_storage(storage)
            )
        return self._study

    @property
    def best_model(self):
        run = self.run_directory
        if self._best_model is None and run.has_model():
            self._best_model = run.load_model()
        return self._best_model

    def trials_dataframe(self):
        """One row per trial (the ``trials.csv`` table); see :func:`trials_table`."""
        return trials_table(self.study)

    def epochs_dataframe(self):
        """One row per trial, fold and epoch (the ``epochs.csv`` table); see :func:`epochs_table`."""
        return epochs_table(self.study)

    def save(self, path=None) -> Path:
        """Write the tables, summary, best parameters and best model to ``path``.

        ``path`` defaults to ``output_dir``. Saving elsewhere also copies the
        journal when the study lives in the default journal, so that
        ``StudyResult.load(path)`` works on its own.
        """
        here = self.run_directory
        out = RunDirectory(path if path is not None else self.output_dir)
        out.path.mkdir(parents=True, exist_ok=True)
        out.write_tables(self.trials_dataframe(), self.epochs_dataframe())
        out.write_summary(self.summary)
        out.write_best_params(self.best_params)
        moved = out.path.resolve() != here.path.resolve()
        if self._best_model is not None:
            out.write_model(self._best_model, pickle=here.has(here.MODEL_PICKLE))
        elif moved:  # the saved files as they are: nothing to load (or unpickle) to copy them
            here.copy_files(out, (here.MODEL_ARCHIVE, here.MODEL_PICKLE, here.MODEL_KERAS))
        if moved:
            here.copy_files(out, (here.RUN, here.PREDICTIONS, here.REPORT))
            if self._storage is None and here.journal.is_file():
                here.copy_files(out, (here.JOURNAL,))
                if out.has(out.RUN):
                    info = out.read_run()
                    info["storage"] = str(out.journal.resolve())
                    out.write_run(info)
        return out.path

    @classmethod
    def load(cls, output_dir) -> StudyResult:
        """Reopen a study's results from its output directory.

        Reads ``summary.json``, ``best_params.json`` and ``run.json``; the study
        (from its storage) and the best model are loaded when first used.
        """
        run = RunDirectory(output_dir)
        if not run.has(run.SUMMARY):
            raise FileNotFoundError(f"{run / run.SUMMARY}: no study results in {run.path}")
        summary = run.read_summary()
        info = run.read_run() if run.has(run.RUN) else {}
        storage = info.get("storage")
        if storage and storage == str(run.journal.resolve()):
            storage = None  # the default journal: follow the directory if it moves
        elif storage:
            storage = with_password(storage, info.get("storage_password_env"))
        return cls(
            output_dir=run.path,
            summary=summary,
            best_params=run.read_best_params(),
            storage=storage,
            study_name=info.get("study_name") or summary.get("study"),
        )

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"StudyResult(study={s.get('study')!r}, best_value={s.get('best_value')}, "
            f"test_score={s.get('test_score')}, n_trials={s.get('n_trials')}, "
            f"output_dir='{self.output_dir}')"
        )
