"""The ``automl`` command line.

::

    automl run STUDY.yaml [--n-trials N] [--n-jobs K] [--timeout SEC] [--seed S]
                          [--epochs E] [--output DIR] [--storage URL] [--study-name NAME]
                          [--threads-per-worker T] [--cluster tcp://HOST:PORT]
                          [--deterministic] [--pickle-best-model] [--overwrite]
                          [--no-report] [--quiet]
    automl resume DIR|STUDY.yaml [--n-trials N] [--n-jobs K] [--timeout SEC] [...]
    automl worker --storage URL [--study-name NAME] [--n-jobs K] [--max-trials N]
                  [--timeout SEC] [--storage-password-env VAR]
                  [--cluster tcp://HOST:PORT] [--quiet]
    automl best DIR
    automl export DIR [--format onnx|keras] [--output FILE] [--allow-pickle]
    automl list [DIR | JOURNAL | --storage URL] [--study-name NAME]
    automl report | dashboard | compare ...     (see automl.reports)

``run`` starts a fresh study and refuses to replace an existing one (the same
study name in the storage, or the outputs of a previous run in the output
directory) unless ``--overwrite`` is given; ``resume`` continues a stopped,
crashed or running study (several ``resume`` processes on one storage share
the work). ``worker`` joins a running study from its storage alone (the
study's spec is recorded in it), on this machine or another, and writes only
to the storage.

``resume`` (and ``worker``) run the dataset function a study names
(``dataset: {function: "package.module:name"}``): resume only studies you trust.

The best model is saved as ``best_model.automl``, which loads without running
code (:mod:`automl.persistence`); ``--pickle-best-model`` adds ``best_model.pkl``,
a pickle, which runs code when loaded: load pickles only from a trusted source.

Exit codes: 0 on success, 1 when no trial completed, 2 on a usage error, an
invalid study or an existing study (one line on stderr, no traceback),
130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# All three load their modules on first use: `automl run` starts without Optuna or the engine.
from automl import __version__, reports, search
from automl._study import resume_study, run_study

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automl", description="Hyperparameter search for Keras-style networks on NumPy."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run a study from a YAML file",
        description=(
            "Run a study: trials in worker processes, refit the best, write the outputs. "
            "An existing study of the same name is never replaced without --overwrite; "
            "continue one with `automl resume`."
        ),
    )
    run.add_argument("study", metavar="STUDY.yaml",
                     help="study file, e.g. studies/digits_mlp.yaml, or a shipped study by name "
                          "(digits_mlp)")
    _add_budget_options(run)
    run.add_argument("--seed", type=_nonnegative_int, metavar="S", help="study seed")
    run.add_argument("--epochs", type=_positive_int, metavar="E", help="max epochs per trial")
    run.add_argument("--output", metavar="DIR", help="output directory")
    run.add_argument(
        "--deterministic",
        action="store_true",
        default=None,
        help="batched trials: identical results at any --n-jobs (some cores idle)",
    )
    run.add_argument(
        "--pickle-best-model",
        action="store_true",
        default=None,
        help="also save best_model.pkl (a pickle runs code when loaded: share with care)",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="delete a previous study of the same name and its outputs first",
    )
    _add_cluster_option(run)
    run.add_argument("--no-report", action="store_true", help="do not write report.html")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    resume = commands.add_parser(
        "resume",
        help="continue a stopped or crashed study (or join a running one)",
        description=(
            "Continue a study from its output directory (or its study file): completed "
            "trials are kept, trials left running by a dead process run again, and "
            "--n-trials is the total."
        ),
    )
    resume.add_argument("source", metavar="DIR|STUDY.yaml", help="output directory or study file")
    _add_budget_options(resume)
    resume.add_argument("--no-report", action="store_true", help="do not write report.html")
    resume.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    worker = commands.add_parser(
        "worker",
        help="join a running study with nothing but its storage",
        description=(
            "Run trials of a study started by `automl run` elsewhere: the study's spec is "
            "read from the storage, the data loaded here (a built-in name, a file at the same "
            "path, or an importable module:function). Writes only to the storage; stops when "
            "the study's budget is used up or its run has ended. Ctrl-C fails only this "
            "worker's running trials, which are queued again."
        ),
    )
    worker.add_argument("--storage", metavar="URL", required=True,
                        help="the study's storage (database URL or journal file)")
    worker.add_argument("--study-name", metavar="NAME",
                        help="study name (needed when the storage holds several)")
    worker.add_argument("--n-jobs", type=_positive_int, default=1, metavar="K",
                        help="worker processes [1]")
    worker.add_argument("--max-trials", type=_positive_int, metavar="N",
                        help="run at most N trials")
    worker.add_argument("--timeout", type=_positive_float, metavar="SEC",
                        help="start no new trial after SEC s")
    worker.add_argument("--storage-password-env", metavar="VAR",
                        help="environment variable holding the database password when the "
                             "URL has none (else PGPASSWORD, ~/.pgpass)")
    worker.add_argument("-q", "--quiet", action="store_true", help="no progress bar or lines")
    _add_cluster_option(worker)

    best = commands.add_parser(
        "best",
        help="show the best trial of a finished study",
        description="Print the best parameters, the validation and test scores and the model path.",
    )
    best.add_argument("output_dir", metavar="DIR", help="study output directory")

    export = commands.add_parser(
        "export",
        help="write a finished study's best model as ONNX or a Keras .keras file",
        description=(
            "onnx (default): the best pipeline as one ONNX graph, preprocessing included, taking "
            "raw feature rows (needs `pip install \"automl[onnx]\"`). keras: the network alone "
            "as a Keras 3 .keras file. Reads the study's best_model.automl (no code runs); "
            "a directory with only best_model.pkl needs --allow-pickle."
        ),
    )
    export.add_argument("output_dir", metavar="DIR", help="study output directory")
    export.add_argument("--format", choices=("onnx", "keras"), default="onnx", help="[onnx]")
    export.add_argument("--output", metavar="FILE",
                        help="file to write [DIR/best_model.onnx or DIR/best_model.keras]")
    export.add_argument("--allow-pickle", action="store_true",
                        help="read best_model.pkl when it is the only saved model (a pickle runs "
                             "code when loaded: only for files you trust)")

    listing = commands.add_parser(
        "list",
        help="list studies, or the trials of one",
        description=(
            "Without arguments: the studies under ./runs. With a study output directory: its "
            "trials. With a journal file or --storage: the studies in that storage (add "
            "--study-name for the trials of one)."
        ),
    )
    listing.add_argument("source", nargs="?", metavar="DIR|JOURNAL", help="output dir or journal")
    listing.add_argument("--storage", metavar="URL", help="Optuna storage URL or journal file")
    listing.add_argument("--study-name", metavar="NAME", help="show the trials of this study")

    reports.add_subcommands(commands)
    return parser


def _add_budget_options(parser) -> None:
    parser.add_argument(
        "--n-trials", type=_positive_int, metavar="N", help="number of trials (the total)"
    )
    parser.add_argument(
        "--n-jobs", type=_n_jobs, metavar="K", help="worker processes (-1: one per core)"
    )
    parser.add_argument(
        "--timeout", type=_positive_float, metavar="SEC", help="start no new trial after SEC s"
    )
    parser.add_argument("--storage", metavar="URL", help="Optuna storage URL or journal file")
    parser.add_argument("--study-name", metavar="NAME", help="study name in the storage")
    parser.add_argument(
        "--threads-per-worker",
        type=_positive_int,
        metavar="T",
        help="BLAS threads per worker (default 1; workers x threads <= cores)",
    )


def _add_cluster_option(parser) -> None:
    """``--cluster tcp://HOST:PORT``: run the trials on that Dask cluster (the ``cluster`` key)."""
    parser.add_argument(
        "--cluster", metavar="tcp://HOST:PORT",
        help="run the trials on this Dask scheduler's workers (needs automl[dask])",
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``automl`` and ``python -m automl``; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = {"run": _run, "resume": _resume, "worker": _worker, "best": _best,
               "export": _export, "list": _list}.get(args.command)
    if handler is None:
        return args.handler(args)
    return handler(args)


def _error(message, code: int = 2) -> int:
    print(f"automl: error: {message}", file=sys.stderr)
    return code


def _overrides(args) -> dict:
    keys = ("n_trials", "n_jobs", "timeout", "storage", "study_name", "seed", "epochs", "output",
            "cluster")
    values = {k: getattr(args, k, None) for k in keys}
    if getattr(args, "deterministic", None):
        values["deterministic"] = True
    if getattr(args, "pickle_best_model", None):
        values["pickle_best_model"] = True
    return values


def _execute(call, quiet: bool) -> int:
    try:
        call(verbose=0 if quiet else 1)
    except (search.SpecError, FileNotFoundError, search.StudyExistsError,
            search.StorageError, search.WorkerError) as exc:
        return _error(exc)
    except KeyboardInterrupt:
        print("automl: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        return _error(exc, code=1)
    return 0


def _run(args) -> int:
    try:
        spec = search.load_spec(args.study, **_overrides(args))
    except (search.SpecError, FileNotFoundError) as exc:
        return _error(exc)
    return _execute(
        lambda verbose: run_study(
            spec,
            verbose=verbose,
            overwrite=args.overwrite,
            report=not args.no_report,
            threads_per_worker=args.threads_per_worker,
        ),
        args.quiet,
    )


def _resume(args) -> int:
    overrides = _overrides(args)
    return _execute(
        lambda verbose: resume_study(
            args.source,
            verbose=verbose,
            report=not args.no_report,
            threads_per_worker=args.threads_per_worker,
            **overrides,
        ),
        args.quiet,
    )


def _worker(args) -> int:
    return _execute(
        lambda verbose: search.run_worker(
            args.storage,
            args.study_name,
            n_jobs=args.n_jobs,
            max_trials=args.max_trials,
            timeout=args.timeout,
            password_env=args.storage_password_env,
            cluster=args.cluster,
            verbose=verbose,
        ),
        args.quiet,
    )


def _best(args) -> int:
    out = Path(args.output_dir)
    run = search.RunDirectory(out)
    if not run.has(run.SUMMARY):
        return _error(f"{run / run.SUMMARY}: not found (is {out} a finished study's output?)")
    read = {run.SUMMARY: run.read_summary, run.BEST_PARAMS: run.read_best_params}
    for name, reader in read.items():
        try:
            read[name] = reader()
        except ValueError as exc:  # json.JSONDecodeError: a truncated or edited file
            return _error(f"{run / name}: not valid JSON ({exc}); expected the JSON object a "
                          "finished study writes")
        if not isinstance(read[name], dict):
            return _error(f"{run / name}: expected a JSON object, got "
                          f"{type(read[name]).__name__}")
    s, params = read[run.SUMMARY], read[run.BEST_PARAMS]
    print(f"Study {s.get('study')!r} ({s.get('status', 'complete')}): {s.get('n_trials')} trials")
    if s.get("best_trial") is None:
        print("No trial completed.")
        return 1
    print(f"Best trial #{s['best_trial']} (seed {s.get('best_trial_seed')}):")
    for key, value in params.items():
        shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value)
        print(f"  {key} = {shown}")
    print(f"Validation {s.get('metric')}: {_fmt(s.get('best_value'))}")
    if s.get("test_score") is not None:
        print(f"Test {s.get('metric')}: {_fmt(s['test_score'])}")
    for name in (run.MODEL_ARCHIVE, run.MODEL_PICKLE, run.MODEL_KERAS):
        if run.has(name):
            print(f"Model: {out / name}")
    if run.has(run.MODEL_ARCHIVE):
        print(f'Load it with: automl.search.load_best_model("{out}")  (runs no code from the file)')
    if run.has(run.MODEL_PICKLE):
        print(f"Caution: {run.MODEL_PICKLE} is a pickle: loading it runs code, so load it only "
              "if it comes from a trusted source.")
        if not run.has(run.MODEL_ARCHIVE):
            print(f'It is the only saved model: automl.search.load_best_model("{out}", '
                  "allow_pickle=True)")
    return 0


def _export(args) -> int:
    run = search.RunDirectory(args.output_dir)
    if not run.has_model():
        return _error(f"{run / run.MODEL_ARCHIVE}: not found (is {args.output_dir} a finished "
                      "study's output?)")
    try:
        path = run.export_model(args.format, args.output, allow_pickle=args.allow_pickle)
    except (ImportError, ValueError) as exc:  # ImportError: onnx missing (the message names the extra)
        return _error(exc)
    except OSError as exc:  # the output file cannot be written
        return _error(f"cannot write {args.output or args.output_dir}: {exc.strerror or exc}")
    what = "the best pipeline (preprocessing included)" if args.format == "onnx" else "the network"
    print(f"Wrote {what} to {path}")
    return 0


def _list(args) -> int:
    storage = args.storage
    if args.source is not None:
        source = Path(args.source)
        if source.is_dir():
            run = search.RunDirectory(source)
            if not run.has(run.RUN):
                return _error(f"{source}: not a study output directory (no {run.RUN})")
            info = run.read_run()
            return _list_trials(info["storage"], args.study_name or info["study_name"])
        if not source.is_file():
            return _error(f"{source}: no such directory or journal file")
        storage = str(source)
    if storage is None:
        return _list_runs(Path("runs"))
    if args.study_name:
        return _list_trials(storage, args.study_name)
    return _list_studies(storage)


def _list_runs(root: Path) -> int:
    RunDirectory = search.RunDirectory
    found = sorted(p.parent for p in root.glob(f"*/{RunDirectory.RUN}")) if root.is_dir() else []
    if not found:
        print(f"No studies under {root}/ (give an output directory, a journal or --storage).")
        return 0
    rows = []
    for d in found:
        directory = RunDirectory(d)
        s = directory.read_summary() if directory.has(directory.SUMMARY) else {}
        run = directory.read_run()
        rows.append(
            [
                str(d),
                run.get("study_name", ""),
                s.get("status", "running or crashed"),
                str(s.get("n_trials", "")),
                _fmt(s.get("best_value")),
                _fmt(s.get("test_score")),
            ]
        )
    _print_table(["output", "study", "status", "trials", "best", "test"], rows)
    return 0


def _missing_storage(storage) -> str | None:
    """Why ``storage`` cannot be read as it is, or None: read commands never create one."""
    text = str(storage)
    if "://" not in text:
        path = Path(text).expanduser()
        if path.is_file():
            return None
        what = "a directory" if path.is_dir() else "no such file"
        return f"{path}: {what}; expected an existing journal file (reading creates nothing)"
    if text.startswith("sqlite:///") and text != "sqlite:///:memory:":
        path = Path(text[len("sqlite:///"):].split("?", 1)[0])
        if not path.is_file():
            return f"{text}: no such SQLite database file {path} (reading creates nothing)"
    return None


def _list_studies(storage: str) -> int:
    import optuna

    if (problem := _missing_storage(storage)) is not None:
        return _error(problem)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        summaries = optuna.get_all_study_summaries(search.open_storage(storage))
    except Exception as exc:  # noqa: BLE001 - a storage that cannot be read
        return _error(f"{search.describe_storage(storage)}: {exc}")
    rows = []
    for s in summaries:
        best = s.best_trial.values if s.best_trial is not None else None
        rows.append(
            [
                s.study_name,
                str(s.n_trials),
                ",".join(d.name.lower() for d in s.directions),
                _fmt(best[0]) if best else "-",
                str(s.user_attrs.get("dataset", "")),
                str(s.datetime_start or "")[:19],
            ]
        )
    if not rows:
        print(f"No studies in {search.describe_storage(storage)}.")
        return 0
    _print_table(["study", "trials", "direction", "best", "dataset", "started"], rows)
    return 0


def _list_trials(storage: str, study_name: str) -> int:
    import optuna

    if (problem := _missing_storage(storage)) is not None:
        return _error(problem)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=study_name, storage=search.open_storage(storage))
    except KeyError:
        return _error(f"no study {study_name!r} in {search.describe_storage(storage)}")
    rows = []
    for t in study.get_trials(deepcopy=False):
        duration = (
            f"{(t.datetime_complete - t.datetime_start).total_seconds():.1f}"
            if t.datetime_start and t.datetime_complete
            else ""
        )
        value = _fmt(t.values[0]) if t.values else ""
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in t.params.items())
        note = t.user_attrs.get("error", "")
        rows.append([str(t.number), t.state.name.lower(), value, duration, params, note])
    print(f"Study {study_name!r}: {len(rows)} trials")
    _print_table(["#", "state", "value", "seconds", "params", "error"], rows)
    return 0


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row, widths)]
        print("  ".join(cells).rstrip())


def _number(text: str, kind, expected: str):
    """``text`` as an int or float; argparse shows the message of the error raised."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def _positive_int(text: str) -> int:
    value = _number(text, int, "an integer >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _nonnegative_int(text: str) -> int:
    value = _number(text, int, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _n_jobs(text: str) -> int:
    value = _number(text, int, "an integer >= 1 or -1")
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1 or -1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text, float, "a number > 0")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value
