"""Compatibility module: the study runner now lives in ``_runner``, outputs in ``_results``."""

from ._results import StudyResult, load_best_model, save_best_model
from ._runner import StudyExistsError, rerun_trial, resume_study, run_study
from ._storage import JOURNAL_NAME

__all__ = [
    "JOURNAL_NAME",
    "StudyExistsError",
    "StudyResult",
    "load_best_model",
    "rerun_trial",
    "resume_study",
    "run_study",
    "save_best_model",
]
