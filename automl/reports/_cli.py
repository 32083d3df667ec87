"""The ``report``, ``dashboard`` and ``compare`` subcommands of ``automl``.

::

    automl report OUTPUT_DIR [--output FILE]
    automl dashboard STORAGE_OR_DIR [--port N] [--host H] [--refresh S] [--study NAME]
    automl compare DIR1 DIR2 ... [--output FILE]

:func:`add_subcommands` adds them to the ``automl`` parser; each sets
``handler`` (``args.handler(args) -> int``). Errors print one line
(``automl: error: ...``) on stderr and return exit code 2.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

__all__ = ["add_subcommands", "report_command", "dashboard_command", "compare_command"]

#: Exceptions that mean "this is not a readable study" rather than a bug.
_USER_ERRORS = (OSError, ValueError, RuntimeError)


def add_subcommands(subparsers) -> None:
    """Add ``report``, ``dashboard`` and ``compare`` to the ``automl`` subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``parser.add_subparsers()`` returned. Each new subparser sets the
        default ``handler``: call ``args.handler(args)`` to run the command.
    """
    report = subparsers.add_parser(
        "report",
        help="write the study dashboard (report.html) of an output directory",
        description="Write a self-contained HTML dashboard of a study (works offline).",
    )
    report.add_argument("output_dir", metavar="OUTPUT_DIR", help="study output directory")
    report.add_argument(
        "--output", "-o", metavar="FILE", help="where to write (default OUTPUT_DIR/report.html)"
    )
    report.set_defaults(handler=report_command)

    dashboard = subparsers.add_parser(
        "dashboard",
        help="serve a live dashboard of a (running) study on 127.0.0.1",
        description=(
            "Serve the study dashboard over HTTP, refreshed as trials finish. Read-only; "
            "listens on 127.0.0.1 unless --host is given."
        ),
    )
    dashboard.add_argument(
        "source",
        metavar="STORAGE_OR_DIR",
        help="study output directory, journal file or storage URL (sqlite:///study.db)",
    )
    dashboard.add_argument(
        "--port", type=_port, default=8050, metavar="N", help="TCP port, 0: any free (8050)"
    )
    dashboard.add_argument(
        "--host", default="127.0.0.1", metavar="H", help="interface to listen on (127.0.0.1)"
    )
    dashboard.add_argument(
        "--refresh",
        type=_positive_float,
        default=5.0,
        metavar="S",
        help="seconds between the page's checks for finished trials (5)",
    )
    dashboard.add_argument("--study", metavar="NAME", help="study name, if the storage has several")
    dashboard.set_defaults(handler=dashboard_command)

    compare = subparsers.add_parser(
        "compare",
        help="compare studies: optimization histories and best scores (compare.html)",
        description="Overlay the optimization histories and best scores of several studies.",
    )
    compare.add_argument("sources", nargs="+", metavar="DIR", help="study output directories")
    compare.add_argument(
        "--output", "-o", metavar="FILE", help="where to write (default ./compare.html)"
    )
    compare.set_defaults(handler=compare_command)


def report_command(args) -> int:
    """``automl report``: write report.html; returns the exit code."""
    from ._dashboard import write_report

    problem = _check_study_dir(args.output_dir)
    if problem:
        return _error(problem)
    try:
        path = write_report(args.output_dir, args.output)
    except _USER_ERRORS as exc:
        return _error(_describe(exc, args.output_dir))
    print(f"Dashboard written to {path}")
    return 0


def dashboard_command(args) -> int:
    """``automl dashboard``: serve until Ctrl+C; returns the exit code."""
    from ._server import make_server, run_server

    source = args.source
    if "://" not in source and not Path(source).exists():
        print(
            f"automl: note: {source} does not exist yet; the page waits for the study to start.",
            file=sys.stderr,
        )
    try:
        server = make_server(
            source, host=args.host, port=args.port, refresh_s=args.refresh, study_name=args.study
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _error(f"port {args.port} is in use; choose another with --port N (0: any free)")
        return _error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    except ValueError as exc:
        return _error(str(exc))
    run_server(server)
    return 0


def compare_command(args) -> int:
    """``automl compare``: write compare.html; returns the exit code."""
    from ._compare import compare_studies

    for source in args.sources:
        problem = _check_study_dir(source)
        if problem:
            return _error(problem)
    try:
        path = compare_studies(args.sources, args.output)
    except _USER_ERRORS as exc:
        return _error(_describe(exc, " ".join(args.sources)))
    print(f"Comparison of {len(args.sources)} studies written to {path}")
    return 0


# ---------------------------------------------------------------------------


def _check_study_dir(source: str) -> str | None:
    """A one-line problem with ``source`` (a directory or journal expected), or None."""
    if "://" in source:
        return None
    from automl.search import RunDirectory

    JOURNAL_NAME, SUMMARY_NAME = RunDirectory.JOURNAL, RunDirectory.SUMMARY

    path = Path(source)
    if not path.exists():
        return f"{source}: no such directory"
    if (
        path.is_dir()
        and not (path / JOURNAL_NAME).is_file()
        and not (path / SUMMARY_NAME).is_file()
    ):
        return f"{source}: not a study output directory (no {JOURNAL_NAME})"
    if not os.access(path, os.R_OK):
        return f"{source}: permission denied"
    return None


def _describe(exc: BaseException, source: str) -> str:
    if isinstance(exc, PermissionError):
        return f"{exc.filename or source}: permission denied"
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: no such file"
    return f"{source}: {exc}" if str(exc) else f"{source}: {type(exc).__name__}"


def _error(message: str) -> int:
    print(f"automl: error: {message}", file=sys.stderr)
    return 2


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be in [0, 65535], got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value
