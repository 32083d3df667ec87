"""What a run records about its study, and the spec rebuilt from that record.

``run.json`` and the study's user attributes hold the spec as it ran (absolute
paths, the storage, the study name and the seed), so ``automl resume``,
``rerun_trial`` and ``automl worker`` need nothing but the record. In
``run.json`` the paths inside the run directory are then stored relative to it
(:class:`RunDirectory`), so a copied or moved directory resumes on itself.
"""

from __future__ import annotations

from pathlib import Path

from ._plan import load_spec
from ._run_directory import RunDirectory, jsonable
from ._spec import StudySpec
from ._summary import validation_label

__all__ = ["load_run_spec", "recorded_spec", "spec_record", "study_attrs"]

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
        storage=storage_url,
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
        }
    )


def recorded_spec(record: dict, source: str | None, overrides: dict) -> StudySpec:
    """Rebuild a spec from its record; through its file when it still exists (relative paths)."""
    merged = {**record, **{k: v for k, v in overrides.items() if v is not None}}
    if source and Path(source).is_file():
        return load_spec(source, **merged)
    return load_spec(merged)


def load_run_spec(output_dir, **overrides) -> StudySpec:
    """The study spec recorded in ``<output_dir>/run.json``, with ``overrides`` applied."""
    run = RunDirectory(output_dir)
    if not run.has(run.RUN):
        raise FileNotFoundError(f"{run / run.RUN}: not a study output directory (no {run.RUN})")
    info = run.read_run()
    return recorded_spec(info["spec"], info.get("source"), overrides)
