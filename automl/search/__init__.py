"""Hyperparameter search: declarative spaces and studies run with Optuna or scikit-learn.

- :func:`load_space` / :class:`SearchSpace`: ``search_spaces/*.yaml`` → Optuna suggestions;
- :func:`load_spec` / :class:`StudySpec`: ``studies/*.yaml`` → a validated study;
- :func:`run_study` / :class:`StudyResult`: trials in worker processes, refit, outputs;
  :func:`resume_study` continues a stopped study, :func:`rerun_trial` replays one trial;
- :class:`PruningCallback`: per-epoch reporting and pruning inside ``fit``.
"""

from ._datasets import DATASETS, load_dataset
from ._objective import Objective
from ._results import StudyResult, epochs_table, load_best_model, save_best_model, trials_table
from ._runner import StudyExistsError, rerun_trial, resume_study, run_study
from ._space import SearchSpace, SpecError, compile_space, load_space
from ._spec import StudySpec, load_spec

__all__ = [
    "DATASETS",
    "Objective",
    "PruningCallback",
    "SearchSpace",
    "SpecError",
    "StudyExistsError",
    "StudyResult",
    "StudySpec",
    "compile_space",
    "epochs_table",
    "load_best_model",
    "load_dataset",
    "load_space",
    "load_spec",
    "rerun_trial",
    "resume_study",
    "run_study",
    "save_best_model",
    "trials_table",
]


def __getattr__(name):
    # PruningCallback needs the engine; import it only when asked for.
    if name == "PruningCallback":
        from ._pruning import PruningCallback

        return PruningCallback
    raise AttributeError(f"module 'automl.search' has no attribute {name!r}")
