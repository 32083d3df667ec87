"""The one place search touches ``automl.wrappers``: building a trial's estimator.

:class:`EstimatorFactory` is the study's ``make_estimator(params, seed)``, used alike
by the trials (in the worker processes), the refit and the scikit-learn engine;
:func:`check_model` and :func:`check_space_names` check a study against the
wrappers' parameters and builders.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl.keras.callbacks import EarlyStopping
from automl.wrappers import BUILDERS, BaseFeatures, KerasClassifier, KerasRegressor

from ._checks import close_match, fail
from ._import_path import import_callable, import_object, is_import_path
from ._metrics import monitor_sign
from ._space import SearchSpace, SpecError

PREPROCESSING = ("auto", "standard", "minmax", "none")

__all__ = [
    "RESERVED_PARAMS",
    "ROUTE_PREFIXES",
    "EstimatorFactory",
    "builder",
    "check_model",
    "check_space_names",
    "estimator_class",
    "make_estimator",
]

#: Estimator parameters owned by the study, not by the search space.
RESERVED_PARAMS = (
    "epochs",
    "random_state",
    "callbacks",
    "verbose",
    "warm_start",
    "validation_split",
)
#: Prefixes of routed estimator parameters (``optimizer__momentum``); any estimator
#: parameter is a valid prefix too (``lr_schedule__alpha``).
ROUTE_PREFIXES = ("model", "optimizer", "loss", "compile", "fit", "predict", "callbacks")
#: Arguments of the built-in builders that the estimator fills in from the data.
_BUILDER_DATA_ARGS = ("n_features", "n_outputs", "output_activation", "meta", "seed")


#: Options of ``model: {transfer: {...}}`` besides the base's own arguments.
TRANSFER_OPTIONS = ("base", "weights", "input_shape", "image_shape", "cache_dir", "batch_size")


def model_name(model) -> str:
    """The builder name of a study's ``model`` (``"transfer"`` for ``{transfer: {...}}``)."""
    return "transfer" if isinstance(model, Mapping) else model


def builder(model: str, base_dir=None):
    """The model builder named ``model``: a built-in one, or ``"package.module:function"``."""
    model = model_name(model)
    return BUILDERS[model] if model in BUILDERS else import_object(model, base_dir)


def _shape_option(source, key, value):
    ok = isinstance(value, (list, tuple)) and len(value) in (2, 3) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    if not ok:
        fail(source, key, f"must be [height, width, channels] of positive ints, got {value!r}")
    return [int(v) for v in value]


def check_transfer(source, value):
    """``model: {transfer: {base, weights, input_shape, ...}}`` as a plain dict, or a SpecError."""
    from automl.keras import applications

    if set(value) != {"transfer"} or not isinstance(value["transfer"], Mapping):
        fail(source, "model", "as a mapping must be {transfer: {base: ..., input_shape: ...}}"
                              f", got {dict(value)!r}")
    options = dict(value["transfer"])
    bases = [n for n in applications.__all__ if n[0].isupper()]
    if options.get("base") not in bases:
        fail(source, "model.transfer.base", f"must be one of {bases}, got "
                                            f"{options.get('base')!r}")
    weights = options.get("weights")
    if weights is not None and not isinstance(weights, str):
        fail(source, "model.transfer.weights", f"must be null, imagenet or a file path, got "
                                               f"{weights!r}")
    options["input_shape"] = _shape_option(source, "model.transfer.input_shape",
                                           options.get("input_shape", [32, 32, 3]))
    if options.get("image_shape") is not None:
        options["image_shape"] = _shape_option(source, "model.transfer.image_shape",
                                               options["image_shape"])
    return {"transfer": options}


def check_model(source, value, base_dir=None):
    """``value`` if it names a model builder, else a SpecError naming the study's key."""
    if isinstance(value, Mapping):
        return check_transfer(source, value)
    if not isinstance(value, str):
        fail(source, "model", f"must be one of {sorted(BUILDERS)} or 'package.module:function'"
                               f" (or {{transfer: {{base: ...}}}}), got {value!r}")
    if value in BUILDERS:
        return value
    if not is_import_path(value):
        fail(
            source,
            "model",
            f"unknown model {value!r}; expected one of {sorted(BUILDERS)} or "
            "'package.module:function' (a model builder)",
        )
    import_callable(source, "model", value, "model builder function", base_dir)
    return value


def _estimator_params(task: str, model: str = "mlp", base_dir=None):
    """(estimator class name, valid space names, builder name, builder takes **kwargs)."""
    cls = estimator_class(task)
    sig = inspect.signature(cls.__init__)
    names = {
        n
        for n, p in sig.parameters.items()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        and n not in ("self", "model", "build_fn")
    }
    fn = builder(model, base_dir)
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or C function: no signature to check
        params = {}
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    builder_args = {
        n
        for n, p in params.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in _BUILDER_DATA_ARGS
    }
    return cls.__name__, (names | builder_args) - set(RESERVED_PARAMS), fn.__name__, var_kw


def check_space_names(space: SearchSpace, task: str, model: str = "mlp", base_dir=None) -> None:
    """Raise a SpecError for a space parameter that neither the estimator nor its builder takes."""
    models = [model_name(model)]
    if "model" in space.names:  # the space picks the builder (e.g. cnn.yaml's `model: cnn`)
        models = space.values_of("model")
        if not models or not all(isinstance(m, str) for m in models):
            raise SpecError(
                f"{space.source}: parameter 'model': must be fixed or categorical with model "
                f"builder names ('mlp', 'cnn' or 'package.module:function'), got {models!r}"
            )
    checks = [_estimator_params(task, m, base_dir) for m in models]
    owner = checks[0][0]
    valid = set().union(*(c[1] for c in checks)) | ({"model"} if "model" in space.names else set())
    builder = " / ".join(c[2] for c in checks)
    var_kw = any(c[3] for c in checks)
    for name in space.names:
        if name in RESERVED_PARAMS:
            raise SpecError(
                f"{space.source}: parameter {name!r}: is set by the study, not the search space"
            )
        prefix, sep, rest = name.partition("__")
        if sep and rest:
            if prefix in ROUTE_PREFIXES or prefix in valid:
                continue
            prefixes = sorted({*ROUTE_PREFIXES, *valid})
            raise SpecError(
                f"{space.source}: parameter {name!r}: unknown routing prefix {prefix + '__'!r}; "
                f"valid prefixes are {[p + '__' for p in prefixes]}"
            )
        if name not in valid and not var_kw:
            hint = close_match(name, valid)
            raise SpecError(
                f"{space.source}: parameter {name!r}: not a parameter of {owner} "
                f"or of its model builder {builder}{hint}; valid parameters are {sorted(valid)}"
            )


# ---------------------------------------------------------------------------
# Building estimators


def estimator_class(task: str) -> type:
    """``KerasClassifier`` for classification, ``KerasRegressor`` for regression."""
    return KerasClassifier if task == "classification" else KerasRegressor


def _scaler(preprocessing: str | None, task: str, seed):
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    if preprocessing == "auto":
        from automl.tabular import TabularPreprocessor

        # A regression target of integers is still continuous for the target encoder.
        target_type = "continuous" if task == "regression" else "auto"
        return TabularPreprocessor(target_type=target_type, random_state=seed,
                                   warn_dropped=False)
    if preprocessing == "standard":
        return StandardScaler()
    if preprocessing == "minmax":
        return MinMaxScaler()
    return None


@dataclass(frozen=True)
class EstimatorFactory:
    """``make_estimator(params, seed)``: a fresh, unfitted estimator with the study's settings.

    Picklable: the worker processes receive it inside the objective.

    Parameters
    ----------
    task : {"classification", "regression"}
    epochs : int
        Default training epochs.
    model : str or dict, default="mlp"
        ``"mlp"``, ``"cnn"``, ``"package.module:builder"`` (imported when called) or
        ``{"transfer": {"base": ..., "input_shape": ..., ...}}``: frozen-base trials
        (``trainable_layers`` 0) train an MLP head on the base's cached features
        (:class:`automl.wrappers.BaseFeatures`), the others the whole network.
    preprocessing : {"none", "auto", "standard", "minmax"}, default="none"
        ``auto``: :class:`automl.tabular.TabularPreprocessor` (its dropped-column
        warning silenced: the run prints the treatments once).
    standardize_target : bool, default=False
        Regression: wrap the network in :func:`automl.tabular.standardized_target`.
    monitor : str, optional
        Epoch-log key the study monitors (logged as a metric; early stopping watches it).
    early_stopping : dict, optional
        ``{"patience", "min_delta", "start_from_epoch"}`` of the study.
    base_dir : str, optional
        Folder where a ``model`` builder module may live (the study file's folder).

    Examples
    --------
    >>> make = EstimatorFactory("classification", epochs=2)
    >>> est = make({"batch_size": 8}, seed=1)
    >>> type(est).__name__, est.epochs, est.random_state, est.metrics
    ('KerasClassifier', 2, 1, ['accuracy'])
    """

    task: str
    epochs: int
    model: Any = "mlp"
    preprocessing: str = "none"
    standardize_target: bool = False
    monitor: str | None = None
    early_stopping: dict | None = None
    base_dir: str | None = None

    def __post_init__(self):
        if self.preprocessing not in (None, *PREPROCESSING):
            raise ValueError(
                f"Unknown preprocessing {self.preprocessing!r}. Valid values are "
                f"{list(PREPROCESSING)}."
            )

    @classmethod
    def from_spec(cls, spec) -> EstimatorFactory:
        """The factory of a :class:`StudySpec`."""
        return cls(
            task=spec.task,
            epochs=int(spec.epochs),
            model=spec.model,
            preprocessing=spec.preprocessing,
            standardize_target=bool(getattr(spec, "standardize_target", False)),
            monitor=spec.monitor,
            early_stopping=spec.early_stopping,
            base_dir=None if spec.base_dir is None else str(spec.base_dir),
        )._with_feature_cache(spec)

    def _with_feature_cache(self, spec) -> EstimatorFactory:
        """A transfer model's options with ``cache_dir`` defaulting to ``<output>/features``."""
        if not isinstance(self.model, Mapping) or getattr(spec, "output", None) is None:
            return self
        options = dict(self.model["transfer"])
        if options.get("cache_dir") is None:
            options["cache_dir"] = str(Path(spec.output) / "features")
        return type(self)(**{**self.__dict__, "model": {"transfer": options}})

    def base_features(self, pooling="avg", verbose=0):
        """The :class:`BaseFeatures` step of a transfer model's frozen-base trials."""
        options = dict(self.model["transfer"])
        kwargs = {k: options.pop(k) for k in TRANSFER_OPTIONS if k in options}
        return BaseFeatures(**kwargs, base_kwargs=options, pooling=pooling, verbose=verbose)

    def prepare(self, data, verbose=0):
        """Compute a frozen base's features of every split once, before the trials start.

        Only for a transfer model whose features are not scaled first (the trials
        then read the cached files; the refit reads those of train + validation).
        """
        if not isinstance(self.model, Mapping):
            return
        features = self.base_features(verbose=verbose)
        for key in ("X_train", "X_val", "X_trval", "X_test"):
            if data.get(key) is not None:
                features.compute(data[key])

    def _transfer(self, params: dict):
        """The estimator of a transfer trial: cached features and a head, or the whole network."""
        params = dict(params)
        params.pop("model", None)  # the space's `model: transfer`
        trainable = int(params.pop("trainable_layers", 0))
        pooling = params.pop("pooling", "avg")
        options = dict(self.model["transfer"])
        if trainable == 0:
            return [("features", self.base_features(pooling))], params
        kwargs = {k: options.pop(k) for k in TRANSFER_OPTIONS if k in options}
        params.update(model="transfer", base=kwargs["base"], weights=kwargs.get("weights"),
                      input_shape=kwargs["input_shape"], image_shape=kwargs.get("image_shape"),
                      base_kwargs=options, trainable_layers=trainable, pooling=pooling)
        return [], params

    def preprocessor(self, seed):
        """The unfitted feature preprocessing of an estimator seeded ``seed``, or None."""
        return _scaler(self.preprocessing, self.task, seed)

    def early_stopping_callback(self):
        """The study's ``EarlyStopping`` (restoring the best weights), or None."""
        if not self.early_stopping:
            return None
        monitor = self.monitor or "val_loss"
        config = self.early_stopping
        return EarlyStopping(
            monitor=monitor,
            patience=config["patience"],
            min_delta=config.get("min_delta", 0.0),
            start_from_epoch=config.get("start_from_epoch", 0),
            mode="max" if monitor_sign(monitor) > 0 else "min",
            restore_best_weights=True,
        )

    def __call__(self, params: dict[str, Any], seed: int, *, epochs: int | None = None,
                 early_stopping: bool = False):
        """A fresh estimator for ``params`` seeded with ``seed``.

        ``epochs`` replaces the study's (a refit after early stopping trains the
        best trial's ``best_epochs``). ``early_stopping`` puts the study's
        ``EarlyStopping`` in the estimator's ``callbacks`` (it then holds out a
        validation split itself); trials pass it at fit time instead.

        Returns ``Pipeline([("scale", scaler), ("model", estimator)])`` when the
        study scales features (``("preprocess", TabularPreprocessor)`` first for
        ``preprocessing="auto"``); with ``standardize_target`` the regressor is
        wrapped in :func:`automl.tabular.standardized_target`. Classifiers track ``accuracy`` unless ``params``
        sets ``metrics``; a custom ``model`` is passed as ``model=builder``.
        """
        params = dict(params)
        if "metrics" not in params:  # log what pruning monitors (the space may set its own)
            metrics = ["accuracy"] if self.task == "classification" else []
            name = (self.monitor or "val_loss").removeprefix("val_")
            if name not in ("loss", *metrics):
                metrics.append(name)
            if metrics:
                params["metrics"] = metrics
        steps = []
        if isinstance(self.model, Mapping):
            steps, params = self._transfer(params)
        elif self.model not in (None, "mlp"):
            params["model"] = self.model if self.model == "cnn" else builder(
                self.model, self.base_dir
            )
        if early_stopping and self.early_stopping:
            params["callbacks"] = [self.early_stopping_callback()]
        estimator = estimator_class(self.task)(
            **params,
            epochs=self.epochs if epochs is None else int(epochs),
            random_state=seed,
            verbose=0,
        )
        if self.standardize_target and self.task == "regression":
            from automl.tabular import standardized_target

            estimator = standardized_target(estimator)
        scaler = self.preprocessor(seed)
        if scaler is None and not steps:
            return estimator
        from sklearn.pipeline import Pipeline

        step = "preprocess" if self.preprocessing == "auto" else "scale"
        # A transfer model's features (or resized images) come first, then the scaling.
        scale = [] if scaler is None else [(step, scaler)]
        return Pipeline([*steps, *scale, ("model", estimator)])


def make_estimator(spec, params: dict[str, Any], *, epochs: int, random_state: int,
                   early_stopping: bool = False):
    """``EstimatorFactory`` of ``spec`` called with ``params`` (see :meth:`EstimatorFactory.__call__`).

    ``spec`` is a :class:`StudySpec`, or a task name (``"classification"`` /
    ``"regression"``: a plain MLP estimator without preprocessing).
    """
    if isinstance(spec, str):
        factory = EstimatorFactory(spec, epochs=epochs)
    else:
        factory = EstimatorFactory.from_spec(spec)
    return factory(params, random_state, epochs=epochs, early_stopping=early_stopping)
