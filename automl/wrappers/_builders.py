"""Built-in model builders and learning-rate schedules of the estimators.

Each builder returns an *uncompiled* network; the estimator compiles it with
its ``optimizer``, ``learning_rate``/``lr_schedule``, ``loss`` and ``metrics``.
The first arguments describe the data (filled in by the estimator), the
others are hyperparameters that the estimator exposes as plain parameters.

:func:`make_schedule` and :func:`make_lr_callbacks` turn ``lr_schedule`` (a
name such as ``"cosine"`` or ``"step"``) and its ``lr_schedule__<arg>``
parameters into a schedule sized to the run, or a ``ReduceLROnPlateau``.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers

from .. import keras
from .._random import spawn_seeds
from .._validation import Interval, Options, check_param
from ..keras import initializers, layers, regularizers
from ..keras.callbacks import ReduceLROnPlateau
from ..keras.optimizers import schedules
from ._routing import check_arguments, rebuild

__all__ = ["build_mlp", "build_cnn", "make_schedule", "make_lr_callbacks", "SCHEDULE_NAMES"]


def _is_layer_sizes(value) -> bool:
    """a sequence of positive ints"""
    if isinstance(value, (str, bytes)):
        return False
    try:
        sizes = list(value)
    except TypeError:
        return False
    return all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes)


def _is_units(value) -> bool:
    """a positive int or a non-empty sequence of positive ints"""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return value > 0
    return _is_layer_sizes(value) and len(list(value)) > 0


def _is_activations(value) -> bool:
    """a str or a sequence of str"""
    return isinstance(value, str) or (
        isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    )


class _Seeds:
    """Independent seeds for the layers of one network (None: the engine's global seed)."""

    def __init__(self, seed, n):
        self._it = iter(spawn_seeds(seed, n)) if seed is not None else None

    def next(self):
        return None if self._it is None else next(self._it)


def _initializer(spec, seed):
    """A kernel initializer from ``spec`` carrying ``seed`` (when the class takes one)."""
    init = initializers.get(spec)
    if isinstance(spec, type):
        init = spec()
    config = init.get_config()
    if seed is not None and "seed" in config and config["seed"] is None:
        return type(init).from_config({**config, "seed": seed})
    return init


def _regularizer(kernel_regularizer, l1, l2):
    if kernel_regularizer is not None:
        if l1 or l2:
            raise ValueError(
                "Give either 'kernel_regularizer' or 'l1'/'l2' to a built-in builder, not both. "
                f"Got kernel_regularizer={kernel_regularizer!r}, l1={l1!r}, l2={l2!r}."
            )
        return regularizers.get(kernel_regularizer)
    if l1 and l2:
        return regularizers.L1L2(l1=l1, l2=l2)
    if l1:
        return regularizers.L1(l1)
    if l2:
        return regularizers.L2(l2)
    return None


def _check_hidden(owner, activation, dropout, batch_norm, l1, l2):
    check_param("activation", activation, [str], owner)
    check_param("dropout", dropout, [Interval(float, 0, 1, closed="left")], owner)
    check_param("batch_norm", batch_norm, [bool], owner)
    check_param("l1", l1, [Interval(float, 0, None)], owner)
    check_param("l2", l2, [Interval(float, 0, None)], owner)


def _dense_block(x, units, *, activation, dropout, batch_norm, kernel_initializer,
                 kernel_regularizer, seeds):
    """``Dense -> [BatchNormalization -> Activation] -> [Dropout]`` on tensor ``x``."""
    x = layers.Dense(
        units,
        activation=None if batch_norm else activation,
        use_bias=not batch_norm,
        kernel_initializer=_initializer(kernel_initializer, seeds.next()),
        kernel_regularizer=kernel_regularizer,
    )(x)
    if batch_norm:
        x = layers.BatchNormalization()(x)
        x = layers.Activation(activation)(x)
    if dropout > 0:
        x = layers.Dropout(dropout, seed=seeds.next())(x)
    return x


def _heads(x, n_outputs, output_activation, *, kernel_initializer, kernel_regularizer, seeds):
    """One Dense output per entry of ``n_outputs`` (a list), or a single one (an int)."""
    multi = not isinstance(n_outputs, numbers.Integral)
    units = list(n_outputs) if multi else [int(n_outputs)]
    acts = (
        [output_activation] * len(units)
        if isinstance(output_activation, str)
        else list(output_activation)
    )
    if len(acts) != len(units):
        raise ValueError(
            f"Got {len(units)} outputs but {len(acts)} output activations ({acts}); give one "
            "activation per output."
        )
    outs = [
        layers.Dense(
            int(u),
            activation=a,
            kernel_initializer=_initializer(kernel_initializer, seeds.next()),
            kernel_regularizer=kernel_regularizer,
            name=f"output_{i}" if multi else None,
        )(x)
        for i, (u, a) in enumerate(zip(units, acts))
    ]
    return outs if multi else outs[0]


def build_mlp(
    n_features,
    n_outputs,
    output_activation,
    hidden_layer_sizes=(100,),
    activation="relu",
    dropout=0.0,
    batch_norm=False,
    kernel_initializer="glorot_uniform",
    l1=0.0,
    l2=0.0,
    kernel_regularizer=None,
    seed=None,
):
    """Build an uncompiled multi-layer perceptron.

    The network is ``Input -> [Dense(units) -> (BatchNormalization) ->
    activation -> (Dropout)]* -> Dense(n_outputs, output_activation)``.
    With several outputs (a list ``n_outputs``) the hidden layers are shared and
    each output gets its own Dense layer (a functional model whose outputs are
    named ``output_0``, ``output_1``, ...).

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_outputs : int or sequence of int
        Units of the output layer, or of each output layer.
    output_activation : str or sequence of str
        Activation of the output layer(s) (``"softmax"``, ``"sigmoid"``, ``"linear"``).
    hidden_layer_sizes : sequence of int, default=(100,)
        Units of each hidden layer; empty for a linear/logistic model.
    activation : str, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout rate after each hidden layer (no layer is added when 0).
    batch_norm : bool, default=False
        Put a ``BatchNormalization`` between each hidden Dense layer (then
        without bias) and its activation.
    kernel_initializer : str or Initializer, default="glorot_uniform"
        Initializer of every kernel.
    l1, l2 : float, default=0.0
        L1 and L2 penalties on every kernel (no regularizer when both are 0).
    kernel_regularizer : str, dict or Regularizer, default=None
        A regularizer for every kernel, instead of ``l1``/``l2``.
    seed : int, optional
        Seed for the kernel initializers and dropout masks. When None, they
        draw from the engine's global seed (see ``automl.keras.backend.seed_scope``).

    Returns
    -------
    model : automl.keras.Sequential or Model
        The uncompiled model (a functional ``Model`` when there are several outputs).

    Examples
    --------
    >>> from automl.wrappers import build_mlp
    >>> model = build_mlp(4, 3, "softmax", hidden_layer_sizes=(8,), seed=0)
    >>> model.output_shape
    (None, 3)
    >>> build_mlp(4, [2, 3], ["softmax", "softmax"], hidden_layer_sizes=(8,)).output_shape
    [(None, 2), (None, 3)]
    """
    owner = "build_mlp"
    check_param("n_features", n_features, [Interval(int, 1, None)], owner)
    check_param("n_outputs", n_outputs, [_is_units], owner)
    check_param("output_activation", output_activation, [_is_activations], owner)
    check_param("hidden_layer_sizes", hidden_layer_sizes, [_is_layer_sizes], owner)
    _check_hidden(owner, activation, dropout, batch_norm, l1, l2)
    check_param("seed", seed, [None, Interval(int, 0, None)], owner)
    regularizer = _regularizer(kernel_regularizer, l1, l2)

    sizes = [int(s) for s in hidden_layer_sizes]
    n_heads = 1 if isinstance(n_outputs, numbers.Integral) else len(list(n_outputs))
    # One independent seed per kernel and per dropout layer.
    seeds = _Seeds(seed, 2 * len(sizes) + n_heads)
    inputs = layers.Input(shape=(int(n_features),))
    return _dense_model(inputs, inputs, sizes, n_outputs, output_activation, n_heads=n_heads,
                        activation=activation, dropout=dropout, batch_norm=batch_norm,
                        kernel_initializer=kernel_initializer, kernel_regularizer=regularizer,
                        seeds=seeds)


def _dense_model(inputs, x, sizes, n_outputs, output_activation, *, n_heads, activation, dropout,
                 batch_norm, kernel_initializer, kernel_regularizer, seeds):
    """Dense blocks of ``sizes`` on ``x`` then the output layer(s): the model from ``inputs``.

    A ``Sequential`` model with one output, else a functional ``Model``.
    """
    for units in sizes:
        x = _dense_block(x, units, activation=activation, dropout=dropout, batch_norm=batch_norm,
                         kernel_initializer=kernel_initializer,
                         kernel_regularizer=kernel_regularizer, seeds=seeds)
    outputs = _heads(x, n_outputs, output_activation, kernel_initializer=kernel_initializer,
                     kernel_regularizer=kernel_regularizer, seeds=seeds)
    if n_heads == 1:
        return keras.Sequential([inputs, *_chain(outputs)])
    return keras.Model(inputs, outputs)


def _chain(tensor):
    """The layers that produced ``tensor`` from its Input, in order (a single chain)."""
    chain = []
    while tensor.inputs:
        chain.append(tensor.layer)
        tensor = tensor.inputs[0]
    return chain[::-1]


def _image_shape(n_features, image_shape, owner):
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) == 2:
            shape = (*shape, 1)
        if len(shape) != 3 or math.prod(shape) != n_features:
            raise ValueError(
                f"The 'image_shape' parameter of {owner} must be (height, width[, channels]) with "
                f"height * width * channels == n_features ({n_features}). Got {image_shape!r} "
                "instead."
            )
        return shape
    side = math.isqrt(int(n_features))
    if side * side != n_features:
        raise ValueError(
            f"{owner} cannot guess the image shape of {n_features} features (not a square "
            "number): give image_shape=(height, width, channels)."
        )
    return side, side, 1


def build_cnn(
    n_features,
    n_outputs,
    output_activation,
    image_shape=None,
    conv_filters=(32, 64),
    kernel_size=3,
    pooling="max",
    dense_units=(128,),
    activation="relu",
    dropout=0.0,
    batch_norm=False,
    kernel_initializer="glorot_uniform",
    l1=0.0,
    l2=0.0,
    kernel_regularizer=None,
    seed=None,
):
    """Build an uncompiled small convolutional network for flattened images.

    The network is ``Input(n_features) -> Reshape(image_shape) ->
    [Conv2D(filters, kernel_size, padding="same") -> (BatchNormalization) ->
    activation -> Pooling(2)]* -> Flatten -> [Dense(units) -> activation ->
    (Dropout)]* -> Dense(n_outputs, output_activation)``. Rows of ``X`` are
    images flattened in (height, width, channels) order, as
    ``x.reshape(len(x), -1)`` gives for ``(n, height, width, channels)`` arrays.

    Parameters
    ----------
    n_features : int
        Number of input features (pixels times channels).
    n_outputs : int or sequence of int
        Units of the output layer, or of each output layer.
    output_activation : str or sequence of str
        Activation of the output layer(s).
    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(height, width, channels)``; None means a
        square one-channel image.
    conv_filters : sequence of int, default=(32, 64)
        Filters of each convolution block.
    kernel_size : int, default=3
        Size of the square convolution kernels.
    pooling : {"max", "average", None}, default="max"
        2x2 pooling after each convolution block (None: no pooling).
    dense_units : sequence of int, default=(128,)
        Units of the hidden Dense layers after flattening.
    activation : str, default="relu"
        Activation of the convolution and hidden Dense layers.
    dropout : float, default=0.0
        Dropout rate after each hidden Dense layer.
    batch_norm : bool, default=False
        Batch normalization between each convolution and its activation.
    kernel_initializer : str or Initializer, default="glorot_uniform"
    l1, l2 : float, default=0.0
        L1 and L2 penalties on every kernel.
    kernel_regularizer : str, dict or Regularizer, default=None
        A regularizer for every kernel, instead of ``l1``/``l2``.
    seed : int, optional
        Seed of the initializers and dropout masks.

    Returns
    -------
    model : automl.keras.Sequential or Model
        The uncompiled model.
    """

    owner = "build_cnn"
    check_param("n_features", n_features, [Interval(int, 1, None)], owner)
    check_param("n_outputs", n_outputs, [_is_units], owner)
    check_param("conv_filters", conv_filters, [_is_layer_sizes], owner)
    check_param("kernel_size", kernel_size, [Interval(int, 1, None)], owner)
    check_param("pooling", pooling, [Options(("max", "average", None))], owner)
    check_param("dense_units", dense_units, [_is_layer_sizes], owner)
    _check_hidden(owner, activation, dropout, batch_norm, l1, l2)
    check_param("seed", seed, [None, Interval(int, 0, None)], owner)
    shape = _image_shape(int(n_features), image_shape, owner)
    regularizer = _regularizer(kernel_regularizer, l1, l2)

    filters = [int(f) for f in conv_filters]
    units = [int(u) for u in dense_units]
    n_heads = 1 if isinstance(n_outputs, numbers.Integral) else len(list(n_outputs))
    seeds = _Seeds(seed, len(filters) + 2 * len(units) + n_heads)
    inputs = layers.Input(shape=(int(n_features),))
    x = layers.Reshape(shape)(inputs)
    pool = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}
    for f in filters:
        x = layers.Conv2D(
            f,
            int(kernel_size),
            padding="same",
            activation=None if batch_norm else activation,
            use_bias=not batch_norm,
            kernel_initializer=_initializer(kernel_initializer, seeds.next()),
            kernel_regularizer=regularizer,
        )(x)
        if batch_norm:
            x = layers.BatchNormalization()(x)
            x = layers.Activation(activation)(x)
        if pooling is not None and min(x.shape[1:3]) >= 2:
            x = pool[pooling](pool_size=2)(x)
    x = layers.Flatten()(x)
    return _dense_model(inputs, x, units, n_outputs, output_activation, n_heads=n_heads,
                        activation=activation, dropout=dropout, batch_norm=False,
                        kernel_initializer=kernel_initializer, kernel_regularizer=regularizer,
                        seeds=seeds)


#: Built-in builders by name (``model="mlp"`` / ``model="cnn"``).
BUILDERS = {"mlp": build_mlp, "cnn": build_cnn}


# ----------------------------------------------------------------------
# Learning-rate schedules (``lr_schedule=`` / ``lr_schedule__<arg>``)
# ----------------------------------------------------------------------
#: Schedule arguments that may be given in epochs: ``<x>_epochs`` -> ``<x>_steps``.
EPOCH_ARGUMENTS = {
    "decay_epochs": "decay_steps",
    "warmup_epochs": "warmup_steps",
    "first_decay_epochs": "first_decay_steps",
}


def _schedule_table(steps_per_epoch: int, total_steps: int) -> dict:
    """Built-in decay names: schedule class and defaults (in steps) sized to the run."""
    return {
        "exponential": ("ExponentialDecay", {"decay_steps": steps_per_epoch, "decay_rate": 0.9}),
        "inverse_time": ("InverseTimeDecay", {"decay_steps": steps_per_epoch, "decay_rate": 0.5}),
        "cosine": ("CosineDecay", {"decay_steps": total_steps}),
        "cosine_restarts": ("CosineDecayRestarts", {"first_decay_steps": steps_per_epoch}),
        "polynomial": ("PolynomialDecay", {"decay_steps": total_steps, "end_learning_rate": 0.0}),
        "piecewise_constant": ("PiecewiseConstantDecay", {}),
    }


#: Arguments of ``lr_schedule="step"`` and of ``lr_schedule="reduce_on_plateau"``
#: besides those of ReduceLROnPlateau.
_STEP_ARGUMENTS = ("factor", "step_epochs")

#: Names accepted by ``lr_schedule`` (besides schedule class names and instances).
SCHEDULE_NAMES = (
    "constant",
    "step",
    *_schedule_table(1, 1),
    "reduce_on_plateau",
)


def _epochs_to_steps(name: str, value, steps_per_epoch: int, owner: str, *, zero: bool) -> int:
    """``value`` epochs as a whole number of optimizer steps (at least 1 unless ``zero``)."""
    closed = "left" if zero else "neither"
    check_param(f"lr_schedule__{name}", value, [Interval(float, 0, None, closed=closed)], owner)
    steps = int(round(float(value) * steps_per_epoch))
    return steps if zero else max(steps, 1)


def _with_epoch_arguments(overrides: dict, steps_per_epoch: int, owner: str) -> dict:
    """``overrides`` with every ``<x>_epochs`` argument replaced by ``<x>_steps``."""
    out = {k: v for k, v in overrides.items() if k not in EPOCH_ARGUMENTS}
    for epochs_name, steps_name in EPOCH_ARGUMENTS.items():
        if epochs_name not in overrides:
            continue
        if steps_name in overrides:
            raise ValueError(
                f"{owner} got both lr_schedule__{epochs_name} and lr_schedule__{steps_name}; "
                "give the length in epochs or in steps, not both."
            )
        out[steps_name] = _epochs_to_steps(epochs_name, overrides[epochs_name], steps_per_epoch,
                                           owner, zero=epochs_name == "warmup_epochs")
    return out


def _no_arguments(spec, overrides: dict, owner: str) -> None:
    if overrides:
        raise ValueError(
            f"{owner}: lr_schedule={spec!r} takes no lr_schedule__ parameters. Got "
            f"{sorted(f'lr_schedule__{k}' for k in overrides)}."
        )


def _step_schedule(initial_learning_rate, overrides, steps_per_epoch, epochs, owner):
    """``lr_schedule="step"``: ``lr * factor`` every ``step_epochs`` epochs."""
    check_arguments("lr_schedule='step'", overrides, sorted(_STEP_ARGUMENTS), owner)
    factor = overrides.get("factor", 0.5)
    check_param("lr_schedule__factor", factor, [Interval(float, 0, 1, closed="right")], owner)
    period = overrides.get("step_epochs", max(1, epochs // 3))
    check_param("lr_schedule__step_epochs", period, [Interval(int, 1, None)], owner)
    return schedules.ExponentialDecay(initial_learning_rate, int(period) * steps_per_epoch,
                                      float(factor), staircase=True)


def make_schedule(spec, initial_learning_rate, overrides: dict, *, steps_per_epoch: int,
                  epochs: int, owner: str):
    """The learning-rate schedule for ``lr_schedule=spec`` and its ``lr_schedule__`` arguments.

    Parameters
    ----------
    spec : str or LearningRateSchedule
        A name of :data:`SCHEDULE_NAMES`, a schedule class name or an instance.
    initial_learning_rate : float
        The estimator's learning rate, where the schedule starts (the peak for
        ``"cosine"`` with warmup).
    overrides : dict
        ``lr_schedule__<arg>`` values by ``<arg>``.
    steps_per_epoch, epochs : int
        Length of the run, used by the defaults and to convert ``<x>_epochs``
        arguments to steps.
    owner : str
        Estimator name for messages.

    Returns
    -------
    schedule : LearningRateSchedule or None
        None for ``"constant"`` and ``"reduce_on_plateau"`` (a constant rate,
        lowered by a callback for the latter: see :func:`make_lr_callbacks`).

    Notes
    -----
    The names and their arguments (lengths are in optimizer steps, or in epochs
    through the ``*_epochs`` spelling, converted with ``steps_per_epoch`` and
    rounded to whole steps):

    - ``"constant"``: no schedule.
    - ``"step"``: ``ExponentialDecay(staircase=True)``: the rate is multiplied by
      ``factor`` (default 0.5) every ``step_epochs`` epochs (default
      ``max(1, epochs // 3)``).
    - ``"exponential"``: ``ExponentialDecay``, by ``decay_rate`` (default 0.9)
      every ``decay_steps``/``decay_epochs`` (default one epoch), ``staircase``.
    - ``"inverse_time"``: ``InverseTimeDecay`` (rate 0.5 per epoch by default).
    - ``"cosine"``: ``CosineDecay`` to ``alpha * learning_rate`` (default 0) at
      the end of the run. With ``warmup_epochs``/``warmup_steps`` the rate first
      rises linearly from 0 to ``learning_rate`` (``warmup_target`` and
      ``initial_learning_rate`` override both ends), then decays over the rest
      of the run (``decay_steps`` defaults to the steps left after warmup).
    - ``"cosine_restarts"``: ``CosineDecayRestarts``, first period one epoch.
    - ``"polynomial"``: ``PolynomialDecay`` to ``end_learning_rate`` (default 0)
      at the end of the run, with ``power`` (default 1: linear).
    - ``"piecewise_constant"``: ``PiecewiseConstantDecay`` (``boundaries`` in
      steps and ``values`` are required).
    - ``"reduce_on_plateau"``: no schedule; see :func:`make_lr_callbacks`.

    A schedule class name (``"CosineDecay"``) gets the run-sized lengths of its
    short name but otherwise Keras's own defaults; an instance is copied, then
    given the overrides.

    Examples
    --------
    >>> from automl.wrappers import make_schedule
    >>> step = make_schedule("step", 0.1, {"factor": 0.5, "step_epochs": 2},
    ...                      steps_per_epoch=10, epochs=6, owner="demo")
    >>> [round(step(s), 4) for s in (0, 19, 20, 40)]
    [0.1, 0.1, 0.05, 0.025]
    >>> warm = make_schedule("cosine", 0.1, {"warmup_epochs": 1}, steps_per_epoch=10,
    ...                      epochs=3, owner="demo")
    >>> [round(warm(s), 4) for s in (0, 5, 10, 30)]
    [0.0, 0.05, 0.1, 0.0]
    """
    steps_per_epoch = max(int(steps_per_epoch), 1)
    epochs = max(int(epochs), 1)
    if isinstance(spec, schedules.LearningRateSchedule):
        schedule = copy.deepcopy(spec)
        if not overrides:
            return schedule
        overrides = _with_epoch_arguments(overrides, steps_per_epoch, owner)
        return rebuild(schedule, overrides, owner)
    if spec in ("constant", "reduce_on_plateau"):
        if spec == "constant":
            _no_arguments(spec, overrides, owner)
        return None
    if spec == "step":
        return _step_schedule(initial_learning_rate, overrides, steps_per_epoch, epochs, owner)

    total_steps = steps_per_epoch * epochs
    table = _schedule_table(steps_per_epoch, total_steps)
    short = spec in table
    by_class = {cls_name: name for name, (cls_name, _) in table.items()}
    if not short and spec not in by_class:
        raise ValueError(
            f"The 'lr_schedule' parameter of {owner} must be None, a LearningRateSchedule or one "
            f"of {list(SCHEDULE_NAMES)} (or a schedule class name). Got {spec!r} instead."
        )
    name = spec if short else by_class[spec]
    cls_name, defaults = table[name]
    cls = schedules.SCHEDULES.lookup(cls_name)
    sig = inspect.signature(cls.__init__).parameters
    valid = {p for p in sig if p != "self"}
    valid_epochs = {e for e, s in EPOCH_ARGUMENTS.items() if s in valid}
    check_arguments(f"lr_schedule={spec!r} ({cls.__name__})", overrides,
                    sorted(valid | valid_epochs), owner)
    overrides = _with_epoch_arguments(overrides, steps_per_epoch, owner)
    args = dict(defaults)
    if not short and name == "polynomial":
        del args["end_learning_rate"]  # Keras's default for the class name
    if "initial_learning_rate" in valid:
        args["initial_learning_rate"] = initial_learning_rate
    if name == "cosine":
        warmup = int(overrides.get("warmup_steps", 0))
        if warmup and "decay_steps" not in overrides:
            args["decay_steps"] = max(total_steps - warmup, 1)
        if short and warmup and "warmup_target" not in overrides:
            # Warm up from 0 (or initial_learning_rate) to the estimator's learning rate.
            args["warmup_target"] = initial_learning_rate
            args["initial_learning_rate"] = 0.0
    args.update(overrides)
    missing = [p.name for p in sig.values()
               if p.name != "self" and p.default is p.empty and p.name not in args]
    if missing:
        raise ValueError(
            f"{owner}: lr_schedule={spec!r} needs {', '.join(f'lr_schedule__{m}' for m in missing)}."
        )
    return cls(**args)


def make_lr_callbacks(spec, overrides: dict, *, has_validation: bool, epochs: int,
                      owner: str) -> list:
    """Callbacks that ``lr_schedule=spec`` adds to training (empty for a schedule).

    ``"reduce_on_plateau"`` gives a ``ReduceLROnPlateau`` whose arguments are
    the ``lr_schedule__`` parameters (``factor``, ``patience``, ``min_delta``,
    ``cooldown``, ``min_lr``, ``monitor``, ``mode``; all in epochs). By default
    it monitors ``val_loss`` when there is validation data and ``loss``
    otherwise, with Keras's ``factor=0.1`` and a patience of ``epochs // 10``
    epochs (at least 1; Keras's 10 for a 100-epoch run).

    Examples
    --------
    >>> from automl.wrappers import make_lr_callbacks
    >>> [cb] = make_lr_callbacks("reduce_on_plateau", {"factor": 0.5}, has_validation=False,
    ...                          epochs=30, owner="demo")
    >>> cb.monitor, cb.factor, cb.patience
    ('loss', 0.5, 3)
    """
    if spec != "reduce_on_plateau":
        return []


    sig = inspect.signature(ReduceLROnPlateau.__init__).parameters
    valid = sorted(p.name for p in sig.values()
                   if p.name != "self" and p.kind is not p.VAR_KEYWORD)
    check_arguments("lr_schedule='reduce_on_plateau' (ReduceLROnPlateau)", overrides, valid,
                    owner)
    args = {"monitor": "val_loss" if has_validation else "loss",
            "patience": max(1, int(epochs) // 10)}
    args.update(overrides)
    return [ReduceLROnPlateau(**args)]
