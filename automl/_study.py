"""``automl.run_study`` / ``automl.resume_study``: a study's run, then its dashboard.

:mod:`automl.search` runs the study and writes its run directory; this module,
above both, then writes ``report.html`` through :mod:`automl.reports`, so the
dependency points one way (reports → search, never search → reports).
"""

from __future__ import annotations

import warnings

from automl import reports, search

__all__ = ["run_study", "resume_study"]


def run_study(spec, *, report: bool = True, **kwargs):
    """Run a study (:func:`automl.search.run_study`) and write its dashboard.

    Parameters
    ----------
    spec : str, Path, mapping or StudySpec
        The study; see :func:`automl.search.run_study` for it and ``**kwargs``
        (among them ``X=`` and ``y=``: the data itself, in place of ``dataset``).
    report : bool, default=True
        Write ``report.html`` in the output directory (a failure to write it
        only warns: the study's results stand without it).

    Returns
    -------
    StudyResult
    """
    return _reported(search.run_study(spec, **kwargs), report)


def resume_study(source, *, report: bool = True, **kwargs):
    """Continue a study (:func:`automl.search.resume_study`) and write its dashboard."""
    return _reported(search.resume_study(source, **kwargs), report)


def _reported(result, report: bool):
    if report:
        try:
            reports.write_report(result.output_dir)
        except Exception as exc:  # noqa: BLE001 - the study's results stand without the report
            warnings.warn(f"the study report could not be written: {exc!r}", stacklevel=3)
    return result
