"""StudyPlan: what a run needs, built once from a :class:`StudySpec`.

The spec says what the study file says; the plan turns it into objects: the space
trials draw from (a :class:`GridSpace` for Optuna's grid sampler), the sampler and
the pruner, the train / validation / test split, and the one
``make_estimator(params, seed)`` (an :class:`EstimatorFactory`) that the trials,
the refit and the scikit-learn engine all build their estimators with.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automl._random import sampler_seed

from ._estimators import EstimatorFactory, check_model, check_space_names
from ._grid import GridSpace
from ._objective import Objective
from ._samplers import make_pruner, make_sampler
from ._space import SpecError, one_line
from ._spec import StudySpec, parse_spec

__all__ = ["StudyPlan", "load_spec", "split_data", "trial_space"]


def load_spec(spec: str | Path | Mapping | StudySpec, *, data=None, **overrides) -> StudySpec:
    """Load and validate a study.

    :func:`parse_spec` reads and checks every key; the space's parameter names
    and the ``model`` are then checked against the estimator the plan builds.

    Parameters
    ----------
    spec : str, Path, mapping or StudySpec
        A study YAML file, the name of a shipped study (``"digits_mlp"``), an
        already-parsed mapping, or a spec to re-validate with ``overrides``.
    data : Dataset, optional
        Data given in memory (:func:`automl.search.in_memory_dataset`) in place of
        the study's ``dataset``.
    **overrides
        Top-level keys replacing the file's values (``n_trials=5``, ``output="runs/x"``).
        ``None`` values are ignored, so unset command-line options can be passed through.
        Overriding one of two alias keys (``scale``/``preprocessing``,
        ``validation_size``/``validation``) replaces the other.

    Returns
    -------
    StudySpec

    Raises
    ------
    FileNotFoundError
        The study, its space file or a data file does not exist.
    SpecError
        Malformed YAML, an unknown or invalid key, an unknown dataset, an
        invalid space, a space parameter the estimator does not have, a sampler
        that needs a package that is not installed, ...

    Examples
    --------
    >>> spec = load_spec({"dataset": "iris", "space": {"parameters": {"batch_size": 16}}},
    ...                  validation={"kfold": 3}, metric="f1_macro")
    >>> spec.task, spec.validation, spec.direction, spec.monitor
    ('classification', {'kind': 'kfold', 'n_splits': 3}, 'maximize', 'val_loss')
    """
    spec = parse_spec(spec, data=data, **overrides)
    check_model(spec.source, spec.model, spec.base_dir)
    check_space_names(spec.space, spec.task, spec.model, spec.base_dir)
    check_space_choices(spec.space)
    return spec


def _registry_getters() -> dict:
    """Parameter name -> (what it names, a resolver raising ValueError for unknown names)."""
    from automl.keras import activations, initializers, losses, optimizers
    from automl.keras.optimizers import schedules
    from automl.wrappers import SCHEDULE_NAMES

    def schedule(name):
        if not (name in SCHEDULE_NAMES or name in schedules.SCHEDULES):
            raise ValueError(f"expected one of {sorted({*SCHEDULE_NAMES, *schedules.SCHEDULES.names()})}")

    return {
        "optimizer": ("optimizer", optimizers.get),
        "activation": ("activation", activations.get),
        "loss": ("loss", losses.get),
        "kernel_initializer": ("initializer", initializers.get),
        "lr_schedule": ("learning-rate schedule", schedule),
    }


def check_space_choices(space) -> None:
    """Raise a SpecError for a choice naming no registered object (``optimizer: adamm``).

    The fixed values and categorical choices of the parameters that name an
    optimizer, activation, loss, initializer or learning-rate schedule are
    resolved when the study is loaded, not when every trial has failed on them.
    """
    getters = None
    for name in space.names:
        key = name.removeprefix("model__")
        if key not in ("optimizer", "activation", "loss", "kernel_initializer", "lr_schedule"):
            continue
        getters = getters or _registry_getters()
        what, get = getters[key]
        for value in space.values_of(name) or ():
            if not isinstance(value, str):
                continue  # config dicts and None are the estimator's to check
            try:
                get(value)
            except ValueError as exc:
                raise SpecError(f"{space.source}: parameter {name!r}: the choice {value!r} is not "
                                f"a known {what}: {one_line(exc)}") from None


def trial_space(spec: StudySpec):
    """The space trials draw from: ``spec.space``, or its :class:`GridSpace` for the grid sampler."""
    if spec.sampler is not None and spec.sampler["name"] == "grid":
        return GridSpace.from_space(spec.space)
    return spec.space


def split_data(spec: StudySpec) -> dict[str, Any]:
    """Train / validation / test arrays (``X_val`` is None for k-fold: folds of ``X_train``).

    The test split is the dataset's own when it has one (``X_test``), else a
    ``test_size`` fraction drawn with ``split_seed`` (stratified for
    classification when every class has two rows and room in both parts), or
    none (``X_test`` None) for ``test_size: 0``. Features reach the objective unscaled: the study's
    preprocessing is fit on each training part inside the estimator.
    """
    from sklearn.model_selection import train_test_split

    ds = spec.load_data()
    classif = spec.task == "classification"

    def stratify(y, size):
        # Stratified when it can be: every class has 2 rows, both parts room for each class.
        if not classif or np.ndim(y) != 1:
            return None
        counts = np.unique(y, return_counts=True)[1]
        n_test = math.ceil(size * len(y))
        fits = min(n_test, len(y) - n_test) >= len(counts)
        return y if counts.min() >= 2 and fits else None

    if getattr(ds, "X_test", None) is not None:
        X_trval, y_trval, X_test, y_test = ds.X, ds.y, ds.X_test, ds.y_test
    elif spec.test_size == 0:  # no test split: every row trains or validates
        X_trval, y_trval, X_test, y_test = ds.X, ds.y, None, None
    else:
        X_trval, X_test, y_trval, y_test = train_test_split(
            ds.X,
            ds.y,
            test_size=spec.test_size,
            random_state=spec.split_seed,
            stratify=stratify(ds.y, spec.test_size),
        )
    data = dict(X_trval=X_trval, y_trval=y_trval, X_test=X_test, y_test=y_test)
    n = len(y_trval)
    if spec.validation["kind"] == "kfold":
        k = int(spec.validation["n_splits"])
        data.update(X_train=X_trval, y_train=y_trval, X_val=None, y_val=None)
        data["sizes"] = {"train": n - n // k, "val": n // k, "test": _len(y_test)}
        return data
    X_train, X_val, y_train, y_val = train_test_split(
        X_trval,
        y_trval,
        test_size=spec.validation["size"],
        random_state=spec.split_seed,
        stratify=stratify(y_trval, spec.validation["size"]),
    )
    data.update(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val)
    data["sizes"] = {"train": len(y_train), "val": len(y_val), "test": _len(y_test)}
    return data


def _len(y) -> int:
    return 0 if y is None else len(y)


@dataclass
class StudyPlan:
    """What a run of ``spec`` needs; build it with :meth:`from_spec`.

    Attributes
    ----------
    spec : StudySpec
    space : SearchSpace or GridSpace
        What trials draw their parameters from.
    make_estimator : EstimatorFactory
        ``make_estimator(params, seed)``: the estimator of a trial, of the refit
        and of the scikit-learn engine's candidates.
    data : dict
        The split (:func:`split_data`), made when first used.

    Examples
    --------
    >>> plan = StudyPlan.from_spec(load_spec(
    ...     {"dataset": "iris", "space": {"parameters": {"batch_size": 16}}, "epochs": 2}))
    >>> plan.data["sizes"]
    {'train': 89, 'val': 23, 'test': 38}
    >>> type(plan.make_estimator({"batch_size": 16}, seed=0)).__name__
    'Pipeline'
    """

    spec: StudySpec
    space: Any
    make_estimator: EstimatorFactory
    _data: dict | None = field(default=None, repr=False)

    @classmethod
    def from_spec(cls, spec: StudySpec) -> StudyPlan:
        return cls(spec=spec, space=trial_space(spec),
                   make_estimator=EstimatorFactory.from_spec(spec))

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = split_data(self.spec)
        return self._data

    def sampler(self, study_seed: int, k: int):
        """The sampler of the study's trial number ``k``, seeded from ``(study_seed, k)``.

        A QMC sampler keeps one seed: its sequence needs one scrambling.
        """
        spec = self.spec
        seed = study_seed if spec.sampler["name"] == "qmc" else sampler_seed(study_seed, k)
        return make_sampler(spec.sampler, seed, self.space)

    @property
    def pruner(self):
        """``pruner()`` → a fresh pruner of the study (picklable, for the workers)."""
        return functools.partial(make_pruner, self.spec.pruner)

    def objective(self, study_seed: int) -> Objective:
        """The trial objective on the plan's training and validation data."""
        data = self.data
        return Objective.from_spec(
            self.spec,
            study_seed=study_seed,
            X_train=data["X_train"],
            y_train=data["y_train"],
            X_val=data["X_val"],
            y_val=data["y_val"],
            space=self.space,
            make_estimator=self.make_estimator,
        )
