"""Hyperparameter search: declarative spaces and studies run with Optuna or scikit-learn.

One way through (see ``automl/search/README.md``)::

    StudySpec ──► StudyPlan ──► run (ask/tell over worker processes) ──► RunDirectory

- :func:`load_space` / :class:`SearchSpace` / :class:`GridSpace`: ``search_spaces/*.yaml``
  → Optuna suggestions and scikit-learn grids;
- :func:`load_spec` / :class:`StudySpec`: ``studies/*.yaml`` → a validated study;
- :class:`StudyPlan`: the spec's space, sampler, pruner, data split and ``make_estimator``;
- :func:`run_study` / :class:`StudyResult`: trials in worker processes, refit, outputs;
  :func:`resume_study` continues a stopped study, :func:`rerun_trial` replays one trial;
- :func:`run_worker`: join a running study from its storage alone (``automl worker``);
- :class:`RunDirectory`: the files of a run's output directory;
- :class:`PruningCallback`: per-epoch reporting and pruning inside ``fit``.

Everything is imported on first use, so that ``automl run`` starts without
loading Optuna or the engine, and reports can read a run directory cheaply.
"""

from .._lazy import lazy_getattr

_LAZY = {
    "DATASETS": "._datasets",
    "EstimatorFactory": "._estimators",
    "GridSpace": "._grid",
    "JOURNAL_NAME": "._storage",
    "JournalRepairedWarning": "._journal",
    "OUTPUT_FILES": "._run_directory",
    "Objective": "._objective",
    "PruningCallback": "._pruning",
    "RunDirectory": "._run_directory",
    "SearchSpace": "._space",
    "SpecError": "._space",
    "StorageError": "._database",
    "StudyExistsError": "._storage",
    "StudyPlan": "._plan",
    "StudyResult": "._results",
    "StudySpec": "._spec",
    "TrialDiverged": "._pruning",
    "WorkerError": "._worker",
    "compile_space": "._space",
    "database_url": "._database",
    "describe_storage": "._storage",
    "duration_s": "._tables",
    "epochs_run": "._tables",
    "epochs_table": "._tables",
    "finite": "._tables",
    "fold_logs": "._tables",
    "in_memory_dataset": "._datasets",
    "jsonable": "._run_directory",
    "last_step": "._tables",
    "load_best_model": "._results",
    "load_dataset": "._datasets",
    "load_space": "._space",
    "load_spec": "._plan",
    "make_estimator": "._estimators",
    "make_pruner": "._samplers",
    "make_sampler": "._samplers",
    "open_storage": "._storage",
    "order_log_keys": "._tables",
    "param_distributions": "._tables",
    "parse_spec": "._spec",
    "pruned_at_epoch": "._tables",
    "repair_journal": "._journal",
    "rerun_trial": "._runner",
    "resume_study": "._runner",
    "run_study": "._runner",
    "run_worker": "._worker",
    "save_best_model": "._results",
    "state_name": "._tables",
    "trial_values": "._tables",
    "trials_table": "._tables",
    "value_columns": "._tables",
    "write_atomic": "._run_directory",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__():
    return sorted({*globals(), *_LAZY})
