"""Hyperparameter search: declarative spaces and studies run with Optuna or scikit-learn.

One way through (see ``automl/search/README.md``)::

    StudySpec ──► StudyPlan ──► run (ask/tell over worker processes) ──► RunDirectory

- :func:`load_space` / :class:`SearchSpace` / :class:`GridSpace`: ``search_spaces/*.yaml``
  → Optuna suggestions and scikit-learn grids;
- :func:`load_spec` / :class:`StudySpec`: ``studies/*.yaml`` → a validated study;
- :class:`StudyPlan`: the spec's space, sampler, pruner, data split and ``make_estimator``;
- :func:`run_study` / :class:`StudyResult`: trials in worker processes, refit, outputs;
  :func:`resume_study` continues a stopped study, :func:`rerun_trial` replays one trial;
- :class:`RunDirectory`: the files of a run's output directory;
- :class:`PruningCallback`: per-epoch reporting and pruning inside ``fit``.

Everything is imported on first use, so that ``automl run`` starts without
loading Optuna or the engine, and reports can read a run directory cheaply.
"""

from importlib import import_module

_LAZY = {
    "DATASETS": "._datasets",
    "GridSpace": "._spec",
    "JOURNAL_NAME": "._storage",
    "OUTPUT_FILES": "._run_directory",
    "Objective": "._objective",
    "PruningCallback": "._pruning",
    "RunDirectory": "._run_directory",
    "SearchSpace": "._space",
    "SpecError": "._space",
    "StudyExistsError": "._runner",
    "StudyResult": "._results",
    "StudySpec": "._spec",
    "TrialDiverged": "._pruning",
    "compile_space": "._space",
    "describe_storage": "._storage",
    "epochs_table": "._results",
    "jsonable": "._run_directory",
    "load_best_model": "._results",
    "load_dataset": "._datasets",
    "load_space": "._space",
    "load_spec": "._spec",
    "make_pruner": "._spec",
    "make_sampler": "._spec",
    "open_storage": "._storage",
    "rerun_trial": "._runner",
    "resume_study": "._runner",
    "run_study": "._runner",
    "save_best_model": "._results",
    "trials_table": "._results",
    "write_atomic": "._run_directory",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'automl.search' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})
