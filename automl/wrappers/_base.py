"""BaseWrapper: the scikit-learn estimator contract around an ``automl.keras`` model.

It owns everything the classifier and the regressor share: parameter storage
(free ``**kwargs``, routed ``<component>__<arg>`` and nested object
parameters), validation at ``fit``, the ways of getting a model (built-in
builders, a builder callable, a model instance), compiling, seeding, the
training data pipeline (inner validation split, weighted empirical
distribution, dense or batch-by-batch sparse training), float64 inference,
scoring and compact pickling. Subclasses say how targets are checked,
encoded for the model and decoded from its outputs.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import math
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.metrics import check_scoring
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import keras
from .._validation import Interval, Options, validate_params
from ..keras import Model, backend, metrics, optimizers, saving
from ..keras.backend import make_rng
from ..keras.callbacks import Callback, LearningRateLogger
from ..keras.optimizers import schedules
from ._builders import (
    BUILDERS,
    SCHEDULE_NAMES,
    _is_layer_sizes,
    build_mlp,
    make_lr_callbacks,
    make_schedule,
)
from ._data import densify, distinct_rows, n_rows, take_rows, validation_split_indices
from ._routing import (
    make_callbacks,
    make_loss,
    make_optimizer,
    monitors_validation,
    nested,
    resolve_object,
)
from ._training import fit_in_batches

__all__ = ["BaseWrapper"]

#: ``<prefix>__<arg>`` parameters are routed to that component.
ROUTING_PREFIXES = ("model", "optimizer", "loss", "lr_schedule", "callbacks", "fit", "predict")

#: Fraction held out automatically when a callback monitors a ``val_`` quantity
#: and no validation data or split is given.
AUTO_VALIDATION_FRACTION = 0.1

_NON_BUILDER_PARAMS = ("model", "build_fn")


def _is_callable(value) -> bool:
    """a callable"""
    return callable(value) and not isinstance(value, type)


def _is_sequence(value) -> bool:
    """a list or tuple"""
    return isinstance(value, (list, tuple))


def _is_optimizer_spec(value) -> bool:
    """an optimizer name, config dict, Optimizer class or instance"""
    if isinstance(value, (str, dict, optimizers.Optimizer)):
        return True
    return isinstance(value, type) and issubclass(value, optimizers.Optimizer)


def _is_model_spec(value) -> bool:
    """a builder name ('mlp', 'cnn'), a callable returning a Model or a Model instance"""
    if isinstance(value, str):
        return value in BUILDERS
    return isinstance(value, Model) or callable(value)


def _is_learning_rate(value) -> bool:
    """a float in the range (0, inf) or a learning-rate schedule"""
    if callable(value):
        return True
    return Interval(float, 0, None, closed="neither").is_satisfied_by(value)


def _is_schedule_spec(value) -> bool:
    """a schedule name (constant, step, exponential, inverse_time, cosine, cosine_restarts,
    polynomial, piecewise_constant, reduce_on_plateau), a schedule class name or a
    LearningRateSchedule"""
    if isinstance(value, schedules.LearningRateSchedule):
        return True
    return isinstance(value, str) and (value in SCHEDULE_NAMES or value in schedules.SCHEDULES)


def _is_random_state(value) -> bool:
    """an int in the range [0, 2**32), a numpy Generator or RandomState"""
    if isinstance(value, (np.random.Generator, np.random.RandomState)):
        return True
    return Interval(int, 0, 2**32 - 1).is_satisfied_by(value)


def _is_scoring(value) -> bool:
    """a scorer name or a callable scorer(estimator, X, y)"""
    return isinstance(value, str) or callable(value)


def _keyword_names(fn) -> tuple[set, bool]:
    """Names ``fn`` accepts as keyword arguments, and whether it takes ``**kwargs``."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return set(), True
    names = {
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    var_kw = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    return names, var_kw


def _signature_default(fn, name):
    try:
        default = inspect.signature(fn).parameters[name].default
    except (TypeError, ValueError, KeyError):
        return None
    return None if default is inspect.Parameter.empty else default


def _output_names(model) -> list[str]:
    outputs = getattr(model, "outputs", None)
    if outputs:
        return [t.layer.name for t in outputs]
    return [model.layers[-1].name] if model.layers else ["output"]


def _input_names(model) -> list[str]:
    inputs = getattr(model, "inputs", None)
    if inputs:
        return [t.layer.name for t in inputs]
    return ["input"]


def output_shapes(model) -> list[tuple]:
    """The output shape of each model output."""
    shape = model.output_shape
    if isinstance(shape, list):
        return [tuple(s) for s in shape]
    return [tuple(shape)]


def output_losses(model) -> list:
    """The loss object of each model output (None where it cannot be resolved)."""
    names = _output_names(model)
    spec = model.loss
    if isinstance(spec, dict):
        specs = [spec.get(name) for name in names]
    elif isinstance(spec, (list, tuple)):
        specs = list(spec)
    else:
        specs = [spec] * len(names)
    resolved = []
    for s in specs:
        try:
            resolved.append(keras.losses._get_loss_instance(s))
        except (TypeError, ValueError):
            resolved.append(None)
    return resolved


def _deserialize_metrics(spec):
    """Compile-config metrics (names, config dicts, nested per output) back to metric specs."""
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        if "class_name" in spec:
            return metrics.deserialize(spec)
        return {k: _deserialize_metrics(v) for k, v in spec.items()}
    return [_deserialize_metrics(s) for s in spec]


class _SavedModel:
    """A fitted model in the engine's ``.keras`` format, as stored in a pickle."""

    def __init__(self, data: bytes):
        self.data = data


def _save_model_bytes(model) -> bytes | None:
    """``model`` as ``.keras`` bytes if it round-trips through the engine's format, else None."""
    try:
        buf = io.BytesIO()
        saving.save_model(model, buf)
        data = buf.getvalue()
        saving.load_model(io.BytesIO(data))  # custom objects outside the registries fail here
    except Exception:  # noqa: BLE001 - any failure means "pickle the object itself"
        return None
    return data


class _Divergence(Callback):
    """Stops a fit whose training loss became NaN or infinite, with a ``ValueError``.

    One check of ``logs["loss"]`` per epoch (the engine's running mean, so any
    non-finite batch loss shows), then one pass over the weights when training
    ends: no cost per batch. scikit-learn's MLP raises the same way when its
    weights become non-finite.
    """

    def __init__(self, owner: str, learning_rate):
        super().__init__()
        self.owner = owner
        self.learning_rate = learning_rate

    def _fail(self, what: str):
        raise ValueError(
            f"{self.owner}.fit diverged: {what}. Lower the learning rate (learning_rate="
            f"{self.learning_rate!r}) or scale the inputs (e.g. StandardScaler)."
        )

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self._fail(f"the training loss became non-finite ({float(loss)}) at epoch {epoch + 1}")

    def on_train_end(self, logs=None):
        for variable in self.model.trainable_weights:
            if not np.isfinite(variable.numpy()).all():
                self._fail(f"the weight {variable.name!r} became non-finite")


class _EpochLogs(Callback):
    """Records each epoch's logs, so that history_ stays aligned by epoch.

    Keras's ``History`` appends a ``val_`` value only for epochs that ran
    validation (``validation_freq``); here missing values are NaN, so every
    list has one entry per epoch.
    """

    def __init__(self):
        super().__init__()
        self.records = []

    def on_epoch_end(self, epoch, logs=None):
        self.records.append({k: float(v) for k, v in (logs or {}).items()})

    def merged(self, previous: dict) -> dict:
        """``previous`` history (dict of lists) extended by these epochs, NaN-padded."""
        n_before = len(next(iter(previous.values()))) if previous else 0
        keys = list(previous) + [k for r in self.records for k in r if k not in previous]
        history = {}
        for key in dict.fromkeys(keys):
            before = previous.get(key, [math.nan] * n_before)
            history[key] = list(before) + [r.get(key, math.nan) for r in self.records]
        return history


class BaseWrapper(BaseEstimator):
    """Shared implementation of :class:`KerasClassifier` and :class:`KerasRegressor`.

    Not meant to be used directly; see the subclasses for the parameters.
    """

    _parameter_constraints: dict = {
        "model": [None, _is_model_spec],
        "build_fn": [None, _is_callable],
        "hidden_layer_sizes": [_is_layer_sizes],
        "activation": [str, _is_callable],
        "dropout": [Interval(float, 0, 1, closed="left")],
        "batch_norm": [bool],
        "kernel_initializer": [str, dict, _is_callable],
        "l1": [Interval(float, 0, None)],
        "l2": [Interval(float, 0, None)],
        "optimizer": [_is_optimizer_spec],
        "learning_rate": [None, _is_learning_rate],
        "lr_schedule": [None, _is_schedule_spec],
        "loss": [None, str, dict, _is_callable],
        "metrics": [None, _is_sequence],
        "callbacks": [None, _is_sequence],
        "epochs": [Interval(int, 1, None)],
        "batch_size": [None, Interval(int, 1, None)],
        "validation_split": [Interval(float, 0, 1, closed="left")],
        "shuffle": [bool],
        "feature_encoder": [None, _is_callable],
        "scoring": [None, _is_scoring],
        "verbose": [Options((0, 1, 2))],
        "random_state": [None, _is_random_state],
        "warm_start": [bool],
    }

    def __init__(
        self,
        model=None,
        *,
        build_fn=None,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        kernel_initializer="glorot_uniform",
        l1=0.0,
        l2=0.0,
        optimizer="adam",
        learning_rate=0.001,
        lr_schedule=None,
        loss=None,
        metrics=None,
        callbacks=None,
        epochs=10,
        batch_size=32,
        validation_split=0.0,
        shuffle=True,
        feature_encoder=None,
        scoring=None,
        verbose=0,
        random_state=None,
        warm_start=False,
        **kwargs,
    ):
        self.model = model
        self.build_fn = build_fn
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.kernel_initializer = kernel_initializer
        self.l1 = l1
        self.l2 = l2
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.loss = loss
        self.metrics = metrics
        self.callbacks = callbacks
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.feature_encoder = feature_encoder
        self.scoring = scoring
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        # Free and routed keyword arguments: parameters too, but not constructor
        # arguments, so they live in one private dict (see get_params/set_params).
        self._kwargs = dict(kwargs)

    def __getattr__(self, name):
        # Free keyword arguments read like attributes (``clf.units``).
        kwargs = self.__dict__.get("_kwargs")
        if kwargs is not None and name in kwargs:
            return kwargs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ------------------------------------------------------------------
    # Parameters
    # ------------------------------------------------------------------
    def get_params(self, deep=True):
        """Get parameters of this estimator, including free, routed and nested ones.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of contained estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        for key, value in self.__dict__.get("_kwargs", {}).items():
            params.setdefault(key, value)
        return params

    def set_params(self, **params):
        """Set parameters, accepting routed and nested ones.

        Besides the constructor parameters, any ``<prefix>__<arg>`` parameter
        for the prefixes ``model``, ``optimizer``, ``loss``, ``lr_schedule``,
        ``callbacks``, ``fit`` and ``predict`` can be set, as can any keyword
        argument of the model builder (``units=...`` for
        ``build_fn=create_model(units=8)``) and nested arguments of such
        object-valued arguments (``kernel_regularizer__l2=...``).

        Returns
        -------
        self : estimator instance
        """
        if not params:
            return self
        first = {k: params[k] for k in _NON_BUILDER_PARAMS if k in params}
        if first:
            super().set_params(**first)
        builder_args = self._builder_args()
        known = set(self.get_params(deep=False))
        plain = {}
        for key, value in params.items():
            if key in first:
                continue
            prefix, sep, _ = key.partition("__")
            declared = key in self._get_param_names()
            if declared:
                plain[key] = value
            elif key in self._kwargs or (sep and (
                    prefix in ROUTING_PREFIXES or prefix in known or prefix in builder_args)):
                self._kwargs[key] = value
            elif not sep and key in builder_args:
                self._kwargs[key] = value
            else:
                plain[key] = value
        if plain:
            super().set_params(**plain)
        return self

    def _owner(self) -> str:
        return type(self).__name__

    def _routed(self, prefix: str) -> dict:
        return nested(self.get_params(deep=False), prefix)

    def _extra_params(self) -> dict:
        """Free keyword arguments: neither constructor parameters nor routed/nested."""
        declared = set(self._get_param_names())
        return {
            k: v
            for k, v in self.get_params(deep=False).items()
            if k not in declared and "__" not in k
        }

    def _validate_params(self) -> None:
        owner = self._owner()
        params = self.get_params(deep=False)
        validate_params(params, self._parameter_constraints, owner)
        if self.model is not None and self.build_fn is not None:
            raise ValueError(
                f"{owner} got both 'model' and 'build_fn'; pass only one of them "
                f"('build_fn' is the classic name of a callable 'model')."
            )
        builder_args = self._builder_args()
        declared = set(self._get_param_names())
        for key in params:
            prefix, sep, _ = key.partition("__")
            if sep and prefix not in ROUTING_PREFIXES and prefix not in builder_args:
                what = "an estimator parameter without nested arguments" if prefix in declared \
                    else "neither a routing prefix nor an argument of the model builder"
                raise ValueError(
                    f"{owner} got the nested parameter {key!r}, but {prefix!r} is {what}."
                )

    # ------------------------------------------------------------------
    # Model building
    # ------------------------------------------------------------------
    def _builder(self):
        """The model-building callable, or None when ``model`` is a Model instance."""
        if self.build_fn is not None:
            return self.build_fn
        model = self.model
        if model is None:
            return build_mlp
        if isinstance(model, str):
            return BUILDERS.get(model)
        if isinstance(model, Model) or not callable(model):
            return None
        return model

    def _is_builtin(self, fn) -> bool:
        return any(fn is b for b in BUILDERS.values())

    def _builder_args(self) -> set:
        fn = self._builder()
        if fn is None:
            return set()
        names, _ = _keyword_names(fn)
        if self._is_builtin(fn):
            names -= {"n_features", "n_outputs", "output_activation"}
        return names

    def _meta(self) -> dict:
        """Information a builder may ask for by name (``meta`` or the keys themselves)."""
        meta = {"n_features_in_": self.n_features_in_}
        if hasattr(self, "feature_names_in_"):
            meta["feature_names_in_"] = self.feature_names_in_
        meta.update(self._target_meta())
        return meta

    def _call_builder(self, fn):
        owner = self._owner()
        names, var_kw = _keyword_names(fn)
        params = self.get_params(deep=False)
        routed = self._routed("model")
        meta = self._meta()
        args = {}
        if self._is_builtin(fn):
            units, activations = self._default_head()
            args.update(n_features=self.n_features_in_, n_outputs=units,
                        output_activation=activations)
        for name in sorted(names):
            if name in args:
                continue
            # Routed prefixes (loss__, optimizer__, ...) configure the estimator's own
            # objects, not builder arguments of the same name.
            overrides = {} if name in ROUTING_PREFIXES else {
                **nested(params, name), **nested(routed, name)}
            if name in routed:
                value = routed[name]
            elif name in params and name not in _NON_BUILDER_PARAMS:
                value = params[name]
            elif name == "meta":
                value = dict(meta)
            elif name in meta:
                value = meta[name]
            elif overrides:
                value = _signature_default(fn, name)
            else:
                continue
            args[name] = resolve_object(name, value, overrides, owner)
        if var_kw:
            extra = {k: v for k, v in self._extra_params().items() if k not in args}
            extra.update({k: v for k, v in routed.items() if "__" not in k and k not in args})
            args.update(extra)
        model = fn(**args)

        if not isinstance(model, Model):
            name = getattr(fn, "__name__", repr(fn))
            raise TypeError(
                f"The model builder {name} of {owner} must return an automl.keras "
                f"Model. Got {type(model).__name__} instead."
            )
        return model

    def _copy_model_instance(self):
        """A fresh copy of a ``model=`` instance: new weights, or kept ones with warm_start."""
        source = self.model
        if self.warm_start:
            return copy.deepcopy(source)
        model = type(source).from_config(source.get_config())
        if source.compiled:
            config = copy.deepcopy(source.get_compile_config())
            model.compile(
                optimizer=type(source.optimizer).from_config(source.optimizer.get_config()),
                loss=config["loss"],
                loss_weights=config.get("loss_weights"),
                metrics=_deserialize_metrics(config["metrics"]),
            )
        return model

    def _build_model(self):
        """Build a new (possibly uncompiled) model for the current data."""
        if isinstance(self.model, Model):
            return self._copy_model_instance()
        fn = self._builder()
        return self._call_builder(fn)

    def _schedule(self, initial_learning_rate, steps_per_epoch, epochs):
        if self.lr_schedule is None:
            if self._routed("lr_schedule"):
                raise ValueError(
                    f"{self._owner()} got lr_schedule__ parameters but lr_schedule is None."
                )
            return None
        return make_schedule(self.lr_schedule, initial_learning_rate, self._routed("lr_schedule"),
                             steps_per_epoch=steps_per_epoch, epochs=epochs, owner=self._owner())

    def _lr_callbacks(self, has_validation: bool, epochs: int) -> list:
        """Callbacks for ``lr_schedule``: ReduceLROnPlateau (``"reduce_on_plateau"``) and a
        ``learning_rate`` log entry (any schedule)."""
        if self.lr_schedule is None:
            return []
        callbacks = make_lr_callbacks(self.lr_schedule, self._routed("lr_schedule"),
                                      has_validation=has_validation, epochs=epochs,
                                      owner=self._owner())
        return [*callbacks, LearningRateLogger()]

    def _compile(self, model, steps_per_epoch, epochs):
        """Compile ``model`` with the estimator's settings, or re-compile a compiled one
        when routed ``optimizer__``/``loss__``/``lr_schedule`` parameters must apply."""
        owner = self._owner()
        opt_overrides = self._routed("optimizer")
        loss_overrides = self._routed("loss")
        lr = self.learning_rate
        if isinstance(opt_overrides.get("learning_rate"), numbers.Real):
            lr = opt_overrides["learning_rate"]
        if self.lr_schedule is not None and "learning_rate" in opt_overrides:
            if callable(opt_overrides["learning_rate"]):
                raise ValueError(
                    f"{owner} got both lr_schedule and a schedule in optimizer__learning_rate."
                )
            # A float optimizer__learning_rate is where the schedule starts.
            opt_overrides = {k: v for k, v in opt_overrides.items() if k != "learning_rate"}
        if not model.compiled:
            schedule = self._schedule(lr if lr is not None else 0.001, steps_per_epoch, epochs)
            optimizer = make_optimizer(self.optimizer, learning_rate=self.learning_rate,
                                       schedule=schedule, overrides=opt_overrides, owner=owner)
            model.compile(optimizer=optimizer, loss=self._compile_loss(model, loss_overrides),
                          metrics=None if self.metrics is None else list(self.metrics))
            return
        if not (opt_overrides or loss_overrides or self.lr_schedule is not None):
            return
        current = model.optimizer
        base_lr = current.get_config().get("learning_rate")
        routed_lr = self._routed("optimizer").get("learning_rate")
        base_lr = routed_lr if isinstance(routed_lr, numbers.Real) else base_lr
        if not isinstance(base_lr, numbers.Real):
            base_lr = 0.001
        schedule = self._schedule(base_lr, steps_per_epoch, epochs)
        optimizer = make_optimizer(current, learning_rate=None, schedule=schedule,
                                   overrides=opt_overrides, owner=owner)
        losses = output_losses(model)
        loss = model.loss
        if loss_overrides:
            if isinstance(loss, (list, tuple, dict)):
                raise ValueError(
                    f"{owner}: loss__ parameters apply to a single loss, but the model was "
                    f"compiled with one loss per output ({loss!r})."
                )
            loss = make_loss(losses[0] if losses[0] is not None else loss, loss_overrides, owner)
        config = model.get_compile_config() or {}
        model.compile(optimizer=optimizer, loss=loss, loss_weights=config.get("loss_weights"),
                      metrics=_deserialize_metrics(config.get("metrics")))

    def _compile_loss(self, model, overrides):
        """The loss for an uncompiled model: ``loss`` (with ``loss__``) or the task default."""
        n_outputs = len(output_shapes(model))
        if self.loss is not None:
            loss = make_loss(self.loss, overrides, self._owner())
            return loss if n_outputs == 1 else [copy.deepcopy(loss) for _ in range(n_outputs)]
        defaults = self._default_losses(model)
        losses = [make_loss(d, overrides, self._owner()) for d in defaults]
        return losses[0] if n_outputs == 1 else losses

    # ------------------------------------------------------------------
    # Data checks
    # ------------------------------------------------------------------
    def _validate_X(self, X, reset: bool, dtype=np.float32):
        return validate_data(self, X, reset=reset, accept_sparse="csr", dtype=dtype)

    def _validate_fit_data(self, X, y, reset: bool):
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse="csr",
            dtype=np.float32,
            multi_output=True,
            y_numeric=self._y_numeric,
        )
        return X, y

    def _check_sample_weight(self, sample_weight, n_samples):
        sw = np.asarray(sample_weight, dtype=np.float64)
        if sw.ndim == 0:
            sw = np.full(n_samples, float(sw))
        if sw.shape != (n_samples,):
            raise ValueError(
                f"The 'sample_weight' argument of {self._owner()}.fit must have shape "
                f"({n_samples},). Got shape {sw.shape} instead."
            )
        if not np.isfinite(sw).all() or (sw < 0).any():
            raise ValueError(
                f"The 'sample_weight' argument of {self._owner()}.fit must hold finite, "
                "non-negative values."
            )
        if not sw.any():
            raise ValueError(
                f"The 'sample_weight' argument of {self._owner()}.fit must contain at least "
                "one non-zero number."
            )
        return sw

    def _seed(self):
        rs = self.random_state
        if rs is None or isinstance(rs, numbers.Integral):
            return rs
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(0, 2**31 - 1))
        return int(rs.randint(0, 2**31 - 1))

    # ------------------------------------------------------------------
    # Model inputs
    # ------------------------------------------------------------------
    def _to_input(self, rows, model, dtype):
        """Model input for dense or sparse ``rows``: densified, encoded, cast to ``dtype``."""
        x = densify(rows)
        encoder = self.feature_encoder
        if encoder is None:
            return x if x.dtype == dtype else x.astype(dtype)
        out = encoder(x)
        if isinstance(out, dict):
            names = _input_names(model)
            missing = [n for n in names if n not in out]
            if missing:
                raise ValueError(
                    f"The feature_encoder of {self._owner()} returned a dict without the model "
                    f"input(s) {missing}; the model inputs are {names}."
                )
            out = [out[n] for n in names]
        if isinstance(out, (list, tuple)):
            return [np.asarray(a, dtype=dtype) for a in out]
        return np.asarray(out, dtype=dtype)

    # ------------------------------------------------------------------
    # Fit
    # ------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, **fit_kwargs):
        """Build (unless warm-starting), compile and train the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: NumPy arrays, lists, pandas DataFrames (their column
            names are recorded in ``feature_names_in_``) or scipy sparse
            matrices (densified one batch at a time).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights. Only relative weights matter: the loss is the
            weighted mean over the samples, and an integer weight ``k`` is
            exactly equivalent to repeating the sample ``k`` times.
        **fit_kwargs
            Passed to training, taking precedence over ``fit__`` parameters
            and the estimator's own: ``validation_data=(X_val, y_val)`` (targets
            in the original space), ``callbacks`` (used as given, after the
            estimator's own), ``class_weight``, ``epochs``, ``batch_size``, ...

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, fit_kwargs, partial=False)

    def partial_fit(self, X, y, sample_weight=None, **fit_kwargs):
        """Train for one epoch on ``(X, y)``, building the model on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        **fit_kwargs
            As for :meth:`fit`.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, fit_kwargs, partial=True)

    def _fit_arguments(self, fit_kwargs: dict) -> dict:
        """Training arguments from the estimator, ``fit__`` parameters and ``fit`` kwargs."""
        args = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "verbose": self.verbose,
            "validation_split": self.validation_split,
            "shuffle": self.shuffle,
        }
        # Free kwargs that the builder does not take but Model.fit does go to fit,
        # as in the classic Keras wrapper; anything else is a mistake worth reporting.
        builder = self._builder()
        builder_names, builder_var_kw = (
            _keyword_names(builder) if builder is not None else (set(), False)
        )
        fit_names, _ = _keyword_names(Model.fit)
        for key, value in self._extra_params().items():
            if key in builder_names or builder_var_kw:
                continue
            if key in fit_names:
                args[key] = value
            else:
                where = (
                    f"an argument of the model builder {getattr(builder, '__name__', builder)!r}"
                    if builder is not None
                    else "an argument of a model builder"
                )
                raise ValueError(
                    f"{self._owner()} got an unknown parameter {key!r}: it is neither {where} "
                    f"nor of Model.fit. Route it explicitly with model__{key}=..., "
                    f"optimizer__{key}=... or fit__{key}=..."
                )
        args.update(self._routed("fit"))
        args.update(fit_kwargs)
        unknown = sorted(set(args) - fit_names - {"verbose"})
        if unknown:
            raise ValueError(
                f"{self._owner()}.fit got unknown training argument(s) {unknown}; expected "
                f"arguments of Model.fit: {sorted(fit_names - {'self'})}."
            )
        return args

    def _fit(self, X, y, sample_weight, fit_kwargs, *, partial, classes=None):
        self._validate_params()
        warm = self.__sklearn_is_fitted__() and (partial or self.warm_start)
        X, y = self._validate_fit_data(X, y, reset=not warm)
        y_codes = self._prepare_target(y, reset=not warm, classes=classes)
        n = X.shape[0]
        sw = None if sample_weight is None else self._check_sample_weight(sample_weight, n)

        args = self._fit_arguments(fit_kwargs)
        epochs = int(args.pop("epochs"))
        epochs = 1 if partial else epochs
        batch_size = args.pop("batch_size") or 32
        shuffle = bool(args.pop("shuffle"))
        split = float(args.pop("validation_split") or 0.0)
        validation = args.pop("validation_data", None)
        runtime_callbacks = list(args.pop("callbacks", None) or [])
        class_weight = args.pop("class_weight", None)
        for key in ("sample_weight", "x", "y"):
            args.pop(key, None)
        weights = self._row_weights(y_codes, sw, class_weight)

        callbacks = make_callbacks(self.callbacks, self.get_params(deep=False), self._owner())
        all_callbacks = [*callbacks, *runtime_callbacks]
        if validation is None and split == 0.0 and monitors_validation(all_callbacks):
            split = AUTO_VALIDATION_FRACTION

        seed = self._seed()
        scope = contextlib.nullcontext() if seed is None else _seed_scope(seed)
        with scope:
            val = None
            if validation is not None:
                val = self._prepare_validation(validation)
            elif split > 0.0:
                train, held = validation_split_indices(
                    n, split, make_rng(), stratify=self._stratify_codes(y_codes)
                )
                val = (take_rows(X, held), take_rows(y_codes, held), take_rows(weights, held))
                X, y_codes, weights = (take_rows(d, train) for d in (X, y_codes, weights))

            # The weighted empirical distribution: distinct rows, summed weights, canonical order.
            rows, total = distinct_rows(X, [y_codes], weights, keep_order=not shuffle)
            if len(rows) == 0:
                raise ValueError(
                    f"{self._owner()}.fit got no sample with a positive weight (sample_weight "
                    "times class_weight)."
                )
            X, y_codes = take_rows(X, rows), take_rows(y_codes, rows)
            self._check_weighted_target(y_codes, first=not warm and not partial)
            weights = total * (len(total) / total.sum())
            if np.all(weights == 1.0):
                weights = None

            steps_per_epoch = math.ceil(len(rows) / batch_size)
            if warm:
                model = self.model_
            else:
                model = self._build_model()
            if not warm:
                self._compile(model, steps_per_epoch, epochs)
                self._target_encoding = self._encoding_for(model)
            y_model = self._encode_target(y_codes)
            if val is not None:
                val = (val[0], self._encode_target(val[1]), val[2])
            epochs_log = _EpochLogs()
            self._train(model, X, y_model, weights, val, epochs=epochs, batch_size=batch_size,
                        shuffle=shuffle, extra=args,
                        # Schedule callbacks first: the others see logs["learning_rate"].
                        callbacks=[*self._lr_callbacks(val is not None, epochs),
                                   _Divergence(self._owner(), self.learning_rate),
                                   *all_callbacks, epochs_log])

        self.model_ = model
        self.callbacks_ = callbacks
        previous = self.history_ if warm and getattr(self, "history_", None) else {}
        self.history_ = epochs_log.merged(previous)
        return self

    def _train(self, model, X, y, weights, val, *, epochs, batch_size, shuffle, callbacks, extra):
        floatx = np.float32
        verbose = extra.pop("verbose", self.verbose)
        if sp.issparse(X) or (val is not None and sp.issparse(val[0])):
            return fit_in_batches(
                model, X, y, weights,
                to_input=lambda rows: self._to_input(rows, model, floatx),
                batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                validation_data=val, shuffle=shuffle,
                initial_epoch=extra.get("initial_epoch", 0),
                validation_batch_size=extra.get("validation_batch_size"),
                validation_freq=extra.get("validation_freq", 1),
            )
        x_in = self._to_input(X, model, floatx)
        val_data = None
        if val is not None:
            xv, yv, wv = val
            val_data = (self._to_input(xv, model, floatx), yv, wv)
        return model.fit(x_in, y, sample_weight=weights, batch_size=batch_size, epochs=epochs,
                         verbose=verbose, callbacks=callbacks, validation_data=val_data,
                         shuffle=shuffle, **extra)

    def _prepare_validation(self, data):
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError(
                f"The 'validation_data' argument of {self._owner()}.fit must be a tuple "
                f"(X_val, y_val) or (X_val, y_val, sample_weight). Got {type(data).__name__} "
                "instead."
            )
        xv = self._validate_X(data[0], reset=False)
        yv = self._transform_target(data[1])
        if n_rows(yv) != xv.shape[0]:
            raise ValueError(
                f"The 'validation_data' argument of {self._owner()}.fit must hold as many "
                f"targets as samples. Got {xv.shape[0]} samples and {n_rows(yv)} targets."
            )
        wv = None
        if len(data) == 3 and data[2] is not None:
            wv = self._check_sample_weight(data[2], xv.shape[0])
        return xv, yv, wv

    def _row_weights(self, y_codes, sw, class_weight):
        """Per-row training weights (sample weights times class weights), or None."""
        return sw

    # ------------------------------------------------------------------
    # Predict
    # ------------------------------------------------------------------
    def _predict_raw(self, X) -> list[np.ndarray]:
        """Model outputs for ``X`` in float64, one (n_samples, units) array per output.

        Inference runs in float64 (the float32 weights are upcast), batch by
        batch, so that a row's prediction does not depend on the other rows of
        its batch (float32 matrix products may round differently for
        different batch shapes).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, dtype=(np.float64, np.float32))
        model = self.model_
        routed = self._routed("predict")
        batch_size = int(routed.get("batch_size") or self.batch_size or 32)
        n = X.shape[0]
        results = None
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            out = model.call(self._to_input(X[start:stop], model, np.float64), training=False)
            outs = out if isinstance(out, list) else [out]
            if results is None:
                results = [np.empty((n, int(np.prod(o.shape[1:]))), dtype=np.float64)
                           for o in outs]
            for result, o in zip(results, outs):
                result[start:stop] = o.reshape(len(o), -1)
        return results

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    @property
    def history_df_(self):
        """Per-epoch training logs as a pandas DataFrame (one row per epoch, index ``epoch``)."""
        check_is_fitted(self, "history_")
        import pandas as pd

        frame = pd.DataFrame(self.history_)
        frame.index.name = "epoch"
        return frame

    # ------------------------------------------------------------------
    # Pickling
    # ------------------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else dict(vars(self))
        state = dict(state)
        model = state.get("model_")
        if model is not None:
            data = _save_model_bytes(model)
            if data is not None:
                state["model_"] = _SavedModel(data)
        if state.get("callbacks_"):
            # Callbacks point at the model they trained; drop that reference.
            state["callbacks_"] = [copy.deepcopy(cb, {id(getattr(cb, "model", None)): None})
                                   for cb in state["callbacks_"]]
        return state

    def __setstate__(self, state):
        model = state.get("model_")
        if isinstance(model, _SavedModel):
            state = dict(state)
            state["model_"] = saving.load_model(io.BytesIO(model.data))
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            vars(self).update(state)

    # ------------------------------------------------------------------
    # Tags
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    # ------------------------------------------------------------------
    # Hooks for subclasses
    # ------------------------------------------------------------------
    _y_numeric = False

    def _prepare_target(self, y, reset, classes=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def _transform_target(self, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _target_meta(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _default_head(self) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def _default_losses(self, model) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def _encoding_for(self, model):  # pragma: no cover - abstract
        raise NotImplementedError

    def _encode_target(self, y_codes):  # pragma: no cover - abstract
        raise NotImplementedError

    def _stratify_codes(self, y_codes):
        """Integer codes to stratify the inner validation split on (None: no stratification)."""
        return None

    def _check_weighted_target(self, y_codes, first: bool) -> None:
        """Check the training targets left after dropping zero-weight rows."""


def _seed_scope(seed):
    return backend.seed_scope(seed)


#: Numpydoc "Parameters" entries shared by KerasClassifier and KerasRegressor.
PARAMETERS_DOC = """\
    model : {"mlp", "cnn"}, callable or automl.keras Model, default=None
        How to get the network. None or ``"mlp"`` uses the built-in MLP
        (:func:`~automl.wrappers.build_mlp`) configured by ``hidden_layer_sizes``,
        ``activation``, ``dropout``, ``batch_norm``, ``kernel_initializer``, ``l1``
        and ``l2``. ``"cnn"`` uses the small CNN (:func:`~automl.wrappers.build_cnn`),
        whose arguments (``conv_filters``, ``kernel_size``, ``pooling``,
        ``dense_units``, ``image_shape``, ...) are then plain estimator parameters.
        A callable is a model builder (same as ``build_fn``). A Model instance
        is copied at each ``fit``: with fresh weights, or keeping its weights when
        ``warm_start=True``.
    build_fn : callable, default=None
        Classic name of a model builder. It is called with every estimator
        parameter (including extra keyword arguments) whose name is one of its
        own keyword arguments, plus ``model__<name>`` parameters, plus ``meta``
        / ``n_features_in_`` / ``feature_names_in_`` / ``target_type_`` /
        ``classes_`` / ``n_classes_`` / ``n_outputs_`` if it asks for them. Its
        object arguments take nested parameters (``kernel_regularizer__l2=1e-4``
        for an argument ``kernel_regularizer``). It returns a Model, compiled or
        not; an uncompiled model is compiled with ``optimizer``,
        ``learning_rate``/``lr_schedule``, ``loss`` and ``metrics``.
    hidden_layer_sizes : sequence of int, default=(100,)
        Units of the hidden layers of the built-in MLP.
    activation : str, default="relu"
        Activation of the hidden layers of the built-in networks.
    dropout : float, default=0.0
        Dropout rate after each hidden layer of the built-in networks.
    batch_norm : bool, default=False
        Batch normalization before each hidden activation of the built-in networks.
    kernel_initializer : str or Initializer, default="glorot_uniform"
        Kernel initializer of the built-in networks (``kernel_initializer__<arg>``
        overrides its arguments).
    l1, l2 : float, default=0.0
        L1 and L2 penalties on the kernels of the built-in networks. Give
        ``kernel_regularizer`` (and ``kernel_regularizer__l2``, ...) instead for
        any other regularizer.
    optimizer : str, dict, Optimizer class or instance, default="adam"
        Optimizer used to compile an uncompiled model. Names are resolved by
        ``automl.keras.optimizers.get``. ``optimizer__<arg>`` parameters are
        passed to its constructor (``optimizer__momentum=0.9``;
        ``optimizer__learning_rate`` may be a float or a schedule); they also
        apply to a model that the builder compiled itself (it is re-compiled).
    learning_rate : float or schedule, default=0.001
        Learning rate of an optimizer given by name or class (None keeps the
        optimizer's default). Instances and config dicts keep their own;
        ``optimizer__learning_rate`` overrides both.
    lr_schedule : str or LearningRateSchedule, default=None
        Learning-rate schedule starting from ``learning_rate``: ``"constant"``
        (none), ``"step"`` (times ``lr_schedule__factor`` every
        ``lr_schedule__step_epochs`` epochs), ``"exponential"``, ``"inverse_time"``,
        ``"cosine"`` (optionally with ``lr_schedule__warmup_epochs`` of linear
        warmup from 0 to ``learning_rate``), ``"cosine_restarts"``,
        ``"polynomial"``, ``"piecewise_constant"``, ``"reduce_on_plateau"`` (a
        ``ReduceLROnPlateau`` callback on ``val_loss``, or ``loss`` without
        validation data; ``lr_schedule__factor``, ``lr_schedule__patience``, ...),
        a schedule class name or an instance. Defaults are sized to the run
        (cosine and polynomial decay to 0 over all ``epochs``; exponential and
        inverse-time decay per epoch); ``lr_schedule__<arg>`` overrides any
        argument (``lr_schedule__alpha=0.1``); lengths are in optimizer steps
        (``decay_steps``, ``warmup_steps``) or in epochs (``decay_epochs``,
        ``warmup_epochs``, ``first_decay_epochs``). See
        :func:`automl.wrappers.make_schedule`. With a schedule,
        ``history_`` has a ``learning_rate`` entry per epoch (the rate of the
        epoch's first step).
    loss : str, dict or Loss, default=None
        Loss used to compile an uncompiled model; None chooses it from the task.
        ``loss__<arg>`` overrides its arguments (``loss__label_smoothing=0.1``).
    metrics : list of str or Metric, default=None
        Metrics used to compile an uncompiled model; they appear in ``history_``.
    callbacks : list of Callback, default=None
        Callbacks of training. Each ``fit`` uses fresh copies (kept in
        ``callbacks_``), so the parameter is never modified;
        ``callbacks__<i>__<arg>`` overrides an argument of the ``i``-th one
        (``callbacks__0__patience=5``). When a callback monitors a ``val_``
        quantity and there is neither ``validation_data`` nor
        ``validation_split``, 10% of the training data is held out for it.
    epochs : int, default=10
        Number of epochs of each ``fit`` (``partial_fit`` trains one epoch).
    batch_size : int, default=32
        Mini-batch size for training and prediction.
    validation_split : float, default=0.0
        Fraction of the data given to ``fit`` held out for validation (``val_``
        logs): a random split, stratified for classification, reproducible with
        ``random_state``. Inside a cross-validation it comes from the training
        fold only.
    shuffle : bool, default=True
        Shuffle the training samples before each epoch. With False the
        (distinct) samples are visited in their order of first appearance.
    feature_encoder : callable, default=None
        ``f(X_rows) -> model input`` applied to each batch of (dense) rows
        before the network sees them, e.g. to split columns between the inputs
        of a multi-input model (return a list, or a dict keyed by input layer
        name). It must act row by row; it is applied to the whole training set
        or batch by batch (sparse input, prediction).
    scoring : str or callable, default=None
        Scorer used by :meth:`score` (a scikit-learn scorer name or a callable
        ``scorer(estimator, X, y)``); None means accuracy / R^2.
    verbose : {0, 1, 2}, default=0
        Verbosity of training.
    random_state : int, numpy Generator or RandomState, default=None
        Seed of weight initialization, the inner validation split, shuffling and
        dropout: model building and training run inside
        ``automl.keras.backend.seed_scope(random_state)``, so the same int gives
        identical predictions. None gives fresh randomness.
    warm_start : bool, default=False
        If True, ``fit`` continues training the existing ``model_`` for
        ``epochs`` more epochs instead of building a new model.
"""

#: Numpydoc entry of the free keyword arguments (last in "Parameters").
KWARGS_DOC = """\
    **kwargs
        Stored as parameters (so ``clone``, ``set_params`` and grid searches
        see them). Routed parameters ``model__<arg>``, ``optimizer__<arg>``,
        ``loss__<arg>``, ``lr_schedule__<arg>``, ``callbacks__<i>__<arg>``,
        ``fit__<arg>`` and ``predict__<arg>`` go to the model builder, the
        optimizer, the loss, the schedule, a callback, training and prediction.
        Other keyword arguments go to the model builder if it accepts them,
        otherwise to the model's ``fit`` (e.g. ``initial_epoch``); anything else
        is an error at ``fit``.
"""

#: Numpydoc "Notes" shared by both estimators.
NOTES_DOC = """\
    **Training data.** ``fit`` trains on the weighted empirical distribution of
    its data: identical ``(x, y)`` rows are merged into one row carrying their
    summed weight, zero-weight rows are dropped, and the rows are put in a
    canonical order (by content) before the per-epoch shuffle. The loss is the
    weighted mean, with weights scaled to average 1. Hence the fitted model
    does not depend on the order of the rows, and an integer ``sample_weight``
    ``k`` is exactly equivalent to repeating a row ``k`` times (scikit-learn's
    sample-weight equivalence). An epoch is one pass over the distinct rows.

    **Inference** runs in float64 (training runs in float32), so a row's
    prediction does not depend on the batch it is predicted in.

    **Parallelism.** In ``GridSearchCV(..., n_jobs=k)`` and the other searches,
    joblib's worker processes limit their BLAS threads to ``cores // k`` each,
    so ``k`` workers never oversubscribe the CPU. Pickles hold the model in the
    engine's ``.keras`` format (config, weights, optimizer state), not its
    training buffers.
"""


#: Numpydoc "Attributes" of a fitted estimator, shared by both estimators.
FITTED_DOC = """\
    model_ : automl.keras Model
        The trained network.
    history_ : dict of str to list of float
        Per-epoch training logs (``loss``, metrics, ``val_*``), one entry per
        epoch (NaN where an epoch ran no validation), extended by warm-started
        fits and ``partial_fit``.
    history_df_ : pandas.DataFrame
        ``history_`` as a DataFrame, one row per epoch.
    callbacks_ : list of Callback
        The callback copies used by the last ``fit``.
"""

#: Numpydoc "Attributes" describing the features seen in ``fit``.
FEATURES_DOC = """\
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a pandas ``X`` (only when all are strings).
"""


class ScoringMixin:
    """``score`` through the ``scoring`` parameter; listed before the estimator-type mixin."""

    def score(self, X, y, sample_weight=None):
        """Score on ``(X, y)``: the ``scoring`` parameter's scorer, else the default score.

        The default is the accuracy for :class:`KerasClassifier` and R^2 for
        :class:`KerasRegressor` (scikit-learn's ``ClassifierMixin`` and
        ``RegressorMixin`` scores).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if self.scoring is None:
            return super().score(X, y, sample_weight=sample_weight)

        scorer = check_scoring(self, scoring=self.scoring)
        if sample_weight is None:
            return float(scorer(self, X, y))
        return float(scorer(self, X, y, sample_weight=sample_weight))


def fill_docstring(doc: str) -> str:
    """``doc`` with the shared sections put in place of ``%(parameters)s``, ``%(kwargs)s``, ...."""
    sections = {"parameters": PARAMETERS_DOC, "kwargs": KWARGS_DOC, "notes": NOTES_DOC,
                "fitted": FITTED_DOC, "features": FEATURES_DOC}
    for key, text in sections.items():
        doc = doc.replace(f"    %({key})s\n", text)
    return doc
