"""What a run records about its study, and the spec rebuilt from that record.

``run.json`` and the study's user attributes hold the spec as it ran (absolute
paths, the storage with its password masked, the study name and the seed), so
``automl resume``, ``rerun_trial`` and ``automl worker`` need nothing but the
record. In ``run.json`` the paths inside the run directory are then stored
relative to it (:class:`RunDirectory`), so a copied or moved directory resumes
on itself. The study also holds a portable copy for ``automl worker`` on other
machines (``worker_spec``: data file paths absolute, the search space written
out instead of its file) and the ``finished`` mark that stops workers.
"""

from __future__ import annotations

from pathlib import Path

from ._plan import load_spec
from ._run_directory import RunDirectory, jsonable
from ._spec import StudySpec
from ._storage import describe_storage
from ._summary import validation_label

__all__ = [
    "FINISHED",
    "is_finished",
    "load_run_spec",
    "mark_finished",
    "mark_running",
    "portable_record",
    "recorded_spec",
    "spec_record",
    "study_attrs",
]

#: Study user attribute: True once a run of the study has ended (workers stop asking).
FINISHED = "finished"
#: Study user attribute: the budget of the latest run (``n_trials``, the total).
N_TRIALS = "n_trials"

_DATA_FILES = ("csv", "parquet", "npz")


def spec_record(spec: StudySpec, *, seed: int, storage_url: str) -> dict:
    """The spec's raw keys as run: absolute paths, the storage, the study name and the seed."""
    raw = dict(spec.raw)
    for alias in ("scale", "validation_size"):  # recorded under their new names
        raw.pop(alias, None)
    space = spec.space.source
    if Path(str(space)).is_file():
        raw["space"] = str(Path(space).resolve())
    dataset = raw.get("dataset")
    if isinstance(dataset, dict):  # data files, absolute (run.json stores those in the run dir relative)
        base = spec.base_dir or Path.cwd()
        raw["dataset"] = {
            k: str((base / Path(v).expanduser()).resolve())
            if k in _DATA_FILES and isinstance(v, str) else v
            for k, v in dataset.items()
        }
    raw.update(
        output=str(spec.output),
        seed=seed,
        storage=describe_storage(storage_url),  # a database password is never recorded
        study_name=spec.study_name,
        preprocessing=spec.preprocessing,
        validation=(
            spec.validation["size"]
            if spec.validation["kind"] == "holdout"
            else {"kfold": spec.validation["n_splits"]}
        ),
    )
    return jsonable(raw)


def study_attrs(spec: StudySpec, *, seed, n_jobs, threads, record) -> dict:
    """The study's user attributes: its settings for reports, and the spec ``record``."""
    directions = spec.directions
    return jsonable(
        {
            "dataset": spec.dataset_name,
            "task": spec.task,
            "metric": spec.metric,
            "direction": directions[0] if len(directions) == 1 else directions,
            "objectives": spec.objectives or [spec.metric],
            "seed": seed,
            "epochs": spec.epochs,
            "space": spec.space.source,
            "engine": spec.engine,
            "sampler": (spec.sampler or {}).get("name"),
            "pruner": (spec.pruner or {}).get("name"),
            "n_jobs": n_jobs,
            "threads_per_worker": threads,
            "validation": validation_label(spec),
            "deterministic": bool(spec.deterministic),
            "source": spec.source,
            "spec": record,
            "worker_spec": portable_record(spec, record),
        }
    )


def portable_record(spec: StudySpec, record: dict) -> dict:
    """``record`` as a worker elsewhere reads it: data paths absolute, the space written out.

    A space file becomes its mapping (includes by absolute path, shipped ones by
    name), so a worker whose automl lives elsewhere finds the same space.
    """
    out = dict(record)
    dataset = out.get("dataset")
    if isinstance(dataset, dict):
        base = spec.base_dir or Path.cwd()
        out["dataset"] = {
            k: (str((base / Path(str(v)).expanduser()).resolve())
                if k in ("csv", "parquet", "npz", "test") and v is not None else v)
            for k, v in dataset.items()
        }
    space = out.get("space")
    if isinstance(space, str) and Path(space).is_file():
        out["space"] = _written_out(Path(space))
    return jsonable(out)


def _written_out(path: Path) -> dict:
    """A space file's mapping with its includes made findable from anywhere."""
    import yaml

    from ._space import SPACES_DIR, _find_include

    mapping = yaml.safe_load(path.read_text())
    if not isinstance(mapping, dict):
        return str(path)
    includes = mapping.get("include")
    if includes:
        names = [includes] if isinstance(includes, str) else list(includes)
        found = []
        for name in names:
            hit, _ = _find_include(name, path.parent)
            shipped = hit is not None and hit.resolve().parent == SPACES_DIR
            found.append(hit.name if shipped else str(hit.resolve()) if hit else name)
        mapping = {**mapping, "include": found}
    return mapping


def mark_running(study, n_trials: int) -> None:
    """A run of the study starts: clear the ``finished`` mark, record its ``n_trials``
    (a resume may raise the budget that workers read)."""
    study.set_user_attr(FINISHED, False)
    study.set_user_attr(N_TRIALS, int(n_trials))


def mark_finished(study) -> None:
    """A run of the study ended: workers stop asking."""
    study.set_user_attr(FINISHED, True)


def is_finished(study) -> bool:
    """Whether a run of the study has ended (read from the storage)."""
    return bool(study.user_attrs.get(FINISHED))


def recorded_spec(record: dict, source: str | None, overrides: dict, data=None) -> StudySpec:
    """Rebuild a spec from its record; through its file when it still exists (relative paths).

    ``data``: the data given in memory again (it is not recorded).
    """
    merged = {**record, **{k: v for k, v in overrides.items() if v is not None}}
    if source and Path(source).is_file():
        return load_spec(source, data=data, **merged)
    return load_spec(merged, data=data)


def load_run_spec(output_dir, *, data=None, **overrides) -> StudySpec:
    """The study spec recorded in ``<output_dir>/run.json``, with ``overrides`` applied
    (``data``: data given in memory, as for :func:`load_spec`)."""
    run = RunDirectory(output_dir)
    if not run.has(run.RUN):
        raise FileNotFoundError(f"{run / run.RUN}: not a study output directory (no {run.RUN})")
    info = run.read_run()
    return recorded_spec(info["spec"], info.get("source"), overrides, data)
