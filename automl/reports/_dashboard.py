"""The study dashboard as one self-contained HTML file (``report.html``).

The page holds everything it needs: plotly.js inlined once, the figures as JSON
drawn with ``Plotly.newPlot``, summary cards, study metadata and a sortable trials
table (a few lines of vanilla JavaScript). It opens from disk without a network.

The HTML pieces (the page shell, cards, panels, tables) are in ``_html.py``, shared
with the live dashboard (``_server.py``) and the comparison page (``_compare.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automl import reports
from automl.search import RunDirectory, write_atomic

from ._html import (
    _cards_html,
    _header_html,
    _meta_html,
    _page,
    _panels_html,
    _table_section_html,
)

__all__ = ["render_report", "write_report", "study_page", "REPORT_NAME"]

#: File name of the dashboard in a study's output directory.
REPORT_NAME = RunDirectory.REPORT


def render_report(data) -> str:
    """Return the dashboard of a study as one self-contained HTML string.

    Parameters
    ----------
    data : StudyData
        What :func:`automl.reports.load_study_data` read from the study.

    Returns
    -------
    str
        The page: plotly.js inlined, figures, summary cards, metadata and the
        sortable trials table. No part of it is fetched from the network.

    See Also
    --------
    write_report : Write the page to ``report.html``.
    """
    return study_page(data)


def write_report(source, path=None) -> Path:
    """Write the dashboard of a study to a self-contained ``report.html``.

    Parameters
    ----------
    source : str, Path, optuna.Study or StudyResult
        A study output directory (holding ``study.journal``), a loaded study,
        or what :func:`automl.run_study` returned. Only read, so a running
        study can be reported.
    path : str or Path, default=None
        Where to write. Defaults to ``report.html`` in the study's output
        directory; required when the source has no output directory (an
        ``optuna.Study`` on a database).

    Returns
    -------
    Path
        The written file. It is replaced atomically, so a reader never sees
        half a page.
    """
    data = reports.load_study_data(source)
    target = Path(path) if path is not None else _default_report_path(source, data)
    text = render_report(data)
    return write_atomic(target, text)


# ---------------------------------------------------------------------------
# Study page


def study_page(data, *, live: Mapping[str, Any] | None = None) -> str:
    """The study page; ``live`` (server only) holds ``version``, ``refresh_s`` and ``plotly_src``."""
    figures = reports.dashboard_figures(data)
    cards = reports.summary_cards(data)
    trials = reports.trials_table(data)
    meta = _metadata(data)
    name = data.name
    subtitle = " · ".join(
        f"{label} {value}" for label, value in meta if label in ("dataset", "metric", "engine")
    )
    body = [
        _header_html(f"Study {name}", subtitle, live=live is not None),
        _cards_html(cards),
        _meta_html(meta),
        _panels_html(figures),
        _table_section_html("Trials", trials, table_id="trials-table"),
    ]
    return _page(
        title=f"{name} · automl dashboard",
        body="\n".join(body),
        figures=figures,
        live=live,
    )


def _default_report_path(source, data) -> Path:
    out = getattr(source, "output_dir", None)
    if out is None and isinstance(source, (str, os.PathLike)):
        out = Path(source)
        if out.is_file():  # a journal file: its directory
            out = out.parent
    if out is None:
        out = getattr(data, "output_dir", None)
    if out is None:
        raise ValueError(
            "write_report needs `path` when the source has no output directory "
            f"(got {type(source).__name__})."
        )
    return Path(out) / REPORT_NAME


#: Metadata rows shown under the cards: (label, key in the study's user_attrs / summary.json).
_META_KEYS = (
    ("dataset", "dataset"),
    ("task", "task"),
    ("metric", "metric"),
    ("direction", "direction"),
    ("engine", "engine"),
    ("sampler", "sampler"),
    ("pruner", "pruner"),
    ("validation", "validation"),
    ("seed", "seed"),
    ("epochs", "epochs"),
    ("workers", "n_jobs"),
    ("space", "space"),
    ("study file", "source"),
)


def _metadata(data) -> list[tuple[str, str]]:
    """Study settings as (label, text) rows: the study's user_attrs, else summary.json."""
    attrs, summary = data.user_attrs, data.summary
    rows = []
    for label, key in _META_KEYS:
        value = attrs.get(key)
        if value in (None, ""):
            value = summary.get(key)
        if value not in (None, ""):
            rows.append((label, _meta_text(value)))
    return rows


def _meta_text(value) -> str:
    if isinstance(value, Mapping):
        name = value.get("name")
        rest = ", ".join(f"{k}={v}" for k, v in value.items() if k != "name")
        return f"{name} ({rest})" if name and rest else str(name or rest)
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


