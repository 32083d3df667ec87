"""Model: compile, fit, evaluate and predict over a network of layers.

Subclasses (``Sequential``, and the functional graph later) provide
``_forward(x, training)`` and ``_backward(grad, fused)``; everything about
training lives here. The hot loop is: gather a batch by index, forward,
fused loss gradient, backward into preallocated gradient buffers, and one
in-place optimizer update over a single contiguous parameter buffer.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np

from ..._validation import check_finite_array, param_error
from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from .. import saving as _saving
from ..backend import floatx, make_rng
from ..callbacks import CallbackList, History, Progbar, ProgbarLogger
from ..layers import Layer, mask_to_sample_weight, recording
from ..ops import value_of
from ._adapters import BatchSource, check_steps, is_batch_source, source_kind, unpack_batch
from ._compile_utils import NoLoss, make_heads
from ._data import array_batches, as_array, n_samples, shape_str, slice_rows, to_list
from ._threads import blas_threads

__all__ = ["Model"]


def _serialize_nested(value, serialize):
    """JSON-friendly form of a compile argument that may be nested in lists or dicts."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, dict):
        return {k: _serialize_nested(v, serialize) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialize_nested(v, serialize) for v in value]
    return serialize(value)


def _warn_generator_method(name, replacement):
    warnings.warn(
        f"`Model.{name}` is deprecated (Keras 3 removed it) and will be removed in a future version. "
        f"Please use `Model.{replacement}`, which supports generators and PyDatasets.",
        DeprecationWarning,
        stacklevel=3,
    )


class Model(Layer):
    """Base class of models: a network of layers plus its training configuration."""

    _records_training = True

    def __new__(cls, *args, **kwargs):
        # Keras semantics: Model(inputs, outputs) builds a functional model.
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from ._functional import Functional

            return super().__new__(Functional)
        model = super().__new__(cls)
        if cls._traced:  # a subclassed model: its constructor arguments make its default config
            model._init_call = (args, kwargs)
        return model

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        if args:
            raise TypeError(
                f"{type(self).__name__}() takes no positional arguments; "
                "use Model(inputs, outputs) for a functional model."
            )
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._input_grad_needed = False  # set by an enclosing model when nested
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._initial_epoch = None  # set by a callback's on_train_begin to resume (BackupAndRestore)
        self._compile_config = None
        self._train_state = None
        self._metric_specs = []
        self._heads = []
        self.compiled_metrics = None

    # -- compile -----------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configure the model for training.

        Parameters
        ----------
        optimizer : str or Optimizer, default="rmsprop"
        loss : str, Loss, or a list / dict of them (one per output)
        loss_weights : float, list or dict, optional
            Weights of the outputs' losses in the total loss (multi-output models).
        metrics : list of str or Metric, or a list of lists / dict per output, optional
        """
        if self._traced:  # a subclassed model: its outputs are named after the losses given
            if isinstance(loss, dict):
                self._traced_output_names = list(loss)
            elif isinstance(loss, (list, tuple)) and len(loss) > 1:
                self._traced_output_names = [f"output_{i + 1}" for i in range(len(loss))]
            else:
                self._traced_output_names = None
        if metrics is None and isinstance(loss_weights, (list, tuple)) and any(
            isinstance(m, (str, _metrics.Metric)) or callable(m) for m in loss_weights
        ):
            warnings.warn(
                "compile() got metrics as its third positional argument (Keras 2 order); in Keras 3 "
                "that argument is loss_weights. Pass them as metrics=[...].",
                UserWarning,
                stacklevel=2,
            )
            metrics, loss_weights = loss_weights, None
        self.optimizer = _optimizers.get(optimizer)
        self._heads = make_heads(loss, loss_weights, metrics, self._output_names())
        self.loss = loss
        self._loss_fn = self._heads[0].loss
        self._metric_specs = [m for h in self._heads for m in h.metric_specs]
        self.compiled_metrics = None
        self._compile_config = {
            "optimizer": _optimizers.serialize(self.optimizer),
            "loss": _serialize_nested(loss, _losses.serialize),
            "loss_weights": loss_weights,
            "metrics": _serialize_nested(metrics, _metrics.serialize),
        }
        self._train_state = None
        self.compiled = True

    @property
    def compiled_loss_name(self) -> str | None:
        return None if not self.compiled else self._loss_fn.function_name

    @property
    def metrics_names(self) -> list[str]:
        names = list(self._logs(0.0, [0.0] * len(self._heads)))
        names.remove("loss")
        return ["loss", *names]

    _traced_output_names = None

    def _output_names(self) -> list[str]:
        if self._traced:
            if self._traced_output_names is not None:
                return list(self._traced_output_names)
            if isinstance(self._traced_output_shape(), list):
                return [f"output_{i + 1}" for i in range(len(self.output_shape))]
            return ["output"]
        return [self.output_layer.name] if self.layers else ["output"]

    def _input_names(self) -> list[str]:
        return ["input"]

    def _input_shapes(self) -> list[tuple]:
        return [self.input_shape]

    def _output_shapes(self) -> list[tuple]:
        if self._traced and isinstance(self._traced_output_shape(), list):
            return list(self.output_shape)
        return [self.output_shape]

    def get_compile_config(self):
        return self._compile_config

    def _check_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(
                f"You must call compile() on {type(self).__name__} {self.name!r} before {method}()."
            )

    # -- forward and backward ------------------------------------------------
    # Sequential and Functional override ``_forward`` / ``_backward``; a subclassed
    # model (Keras's imperative API) runs its own ``call``, traced in training
    # (see ``models.subclassing``).
    def _forward(self, x, training=False):
        if type(self).call is Model.call:
            raise NotImplementedError(
                f"Model {self.name!r} ({type(self).__name__}) has no call() method: a subclassed "
                "model must implement call(self, inputs, training=False)."
            )
        return self.call(x, training=training)

    def _backward(self, grad, fused=False):
        tape = getattr(self, "_local_tape", None)
        if tape is None:
            raise RuntimeError(
                f"Model {self.name!r} has no recorded training forward pass to differentiate."
            )
        return tape.backward(grad)

    def call(self, inputs, training=False):
        return self._forward(inputs, training=training)

    def backward(self, grad):
        return self._backward(grad)

    def build(self, input_shape=None):
        """Build a subclassed model: create its weights by calling it on a batch of zeros."""
        if not self._traced:
            return super().build(input_shape)
        if input_shape is None:
            raise ValueError(
                f"The 'input_shape' argument of {type(self).__name__}.build must be a shape tuple "
                "such as (None, 784). Got None instead."
            )
        if isinstance(input_shape, dict):
            shape = {k: tuple(v) for k, v in input_shape.items()}
        elif isinstance(input_shape, list):
            shape = [tuple(v) for v in input_shape]
        else:
            shape = tuple(input_shape)
        self.input_shape = shape
        self.built = True
        self.output_shape = self.compute_output_shape(shape)  # one dummy call builds the sublayers
        return None

    def _traced_output_shape(self):
        if self.output_shape is None and self.input_shape is not None:
            self.output_shape = self.compute_output_shape(self.input_shape)
        return self.output_shape

    @property
    def layers(self) -> list[Layer]:
        return self._tracked_layers()

    def _mark_input_grads(self):
        """Tell each layer whether its input gradient is needed (none before the first trainable)."""

    @property
    def output_layer(self) -> Layer:
        return self.layers[-1]

    def get_layer(self, name=None, index=None) -> Layer:
        """Return a layer by ``name`` or by ``index`` (as Keras does)."""
        if index is not None:
            layers = self.layers
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"The 'index' parameter of get_layer must be an int in [0, {len(layers) - 1}]. "
                    f"Got {index!r} instead."
                )
            return layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name!r}. Existing layers are: {[layer.name for layer in self.layers]}."
        )

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Print a table of the layers, output shapes and parameter counts (Keras's format)."""
        from ._summary import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn)

    # -- weights -----------------------------------------------------------
    # A subclassed model (``_auto_track``) owns the layers of its attributes; the same
    # layer or variable reached twice counts once.
    @property
    def weights(self):
        if self._auto_track:
            return Layer.weights.fget(self)
        return [v for layer in self.layers for v in layer.weights]

    @property
    def trainable_weights(self):
        if self._auto_track:
            return Layer.trainable_weights.fget(self)
        if not self.trainable:
            return []
        return [v for layer in self.layers for v in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if self._auto_track:
            return Layer.non_trainable_weights.fget(self)
        if not self.trainable:
            return self.weights
        return [v for layer in self.layers for v in layer.non_trainable_weights]

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        variables = self.weights
        weights = list(weights)
        if len(weights) != len(variables):
            raise ValueError(
                f"The 'weights' argument of set_weights must hold {len(variables)} arrays for model "
                f"{self.name!r}. Got {len(weights)} instead."
            )
        for var, w in zip(variables, weights):
            var.assign(w)

    def count_params(self):
        return int(sum(v.value.size for v in self.weights))

    # -- data preparation --------------------------------------------------
    def _input_dtypes(self) -> list:
        """Per input, what ``as_array`` converts it to: None (floatx), "string", "any" or an int dtype."""
        return [None]

    @staticmethod
    def _data_dtype(input_layer, first_layer=None):
        """What the data of one input is converted to, from its InputLayer (or the layer it feeds)."""
        dtype = None if input_layer is None else input_layer.dtype
        if dtype == "string":
            return "string"
        if dtype is not None and np.dtype(dtype).kind in "iu":
            return dtype
        if first_layer is not None and not first_layer._cast_inputs:
            return "any"
        return None

    @property
    def _cast_inputs(self):
        # Eager calls cast to floats only when every input takes floats.
        return all(d is None for d in self._input_dtypes())

    def _as_inputs(self, x, owner):
        """Validated inputs: one array for one-input models, else a list.

        Inputs are floats (``floatx``) unless the model's ``Input`` says
        otherwise (``dtype="string"`` or an integer dtype). As in Keras, an
        array with one axis less than the input (whose last axis has size 1)
        gets that axis, and one with an extra last axis of size 1 loses it.
        """
        dtypes = self._input_dtypes()
        if self._traced and (isinstance(x, dict) or (
                isinstance(x, (list, tuple)) and len(x) > 1 and all(hasattr(a, "shape") for a in x))):
            return self._as_structured_inputs(x, owner)
        if not self.built:
            first = x[0] if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape") else x
            sample = as_array(first, "x", owner, dtypes[0])
            self._maybe_build((None, *sample.shape[1:]))
            dtypes = self._input_dtypes()
        names, shapes = self._input_names(), self._input_shapes()
        arrays = [as_array(a, "x", owner, d) for a, d in zip(to_list(x, names, "x", owner), dtypes)]
        for i, (arr, expected) in enumerate(zip(arrays, shapes)):
            if arr.ndim == len(expected) - 1 and len(expected) > 1 and expected[-1] == 1:
                arrays[i] = arr = arr[..., None]
            elif arr.ndim == len(expected) + 1 and arr.shape[-1] == 1:
                arrays[i] = arr = arr[..., 0]
            if arr.ndim != len(expected) or any(
                e is not None and e != a for e, a in zip(expected[1:], arr.shape[1:])
            ):
                where = "" if len(names) == 1 else f" (input {i}, {names[i]!r})"
                raise ValueError(
                    f"The 'x' argument of {owner} must have shape {shape_str(expected)}{where} to "
                    f"match the input of model {self.name!r}. Got an array of shape {arr.shape} instead."
                )
        if len({a.shape[0] for a in arrays}) > 1:
            raise ValueError(
                f"The 'x' arrays of {owner} must hold the same number of samples. "
                f"Got {[a.shape[0] for a in arrays]} instead."
            )
        return arrays[0] if len(arrays) == 1 else arrays

    def _as_structured_inputs(self, x, owner):
        """A subclassed model's several inputs (a dict or a list of arrays), as its call gets them."""
        if isinstance(x, dict):
            arrays = {k: as_array(v, f"x[{k!r}]", owner) for k, v in x.items()}
            values = list(arrays.values())
        else:
            arrays = values = [as_array(v, f"x[{i}]", owner) for i, v in enumerate(x)]
        if len({a.shape[0] for a in values}) > 1:
            raise ValueError(
                f"The 'x' arrays of {owner} must hold the same number of samples. "
                f"Got {[a.shape[0] for a in values]} instead."
            )
        if not self.built:
            if isinstance(arrays, dict):
                self._maybe_build({k: (None, *a.shape[1:]) for k, a in arrays.items()})
            else:
                self._maybe_build([(None, *a.shape[1:]) for a in arrays])
        return arrays

    def _as_targets(self, y, n, owner):
        """Validated targets in each output loss's layout: one array, or a list per output."""
        lossless = [isinstance(h.loss, NoLoss) for h in self._heads]
        if y is None and all(lossless):  # trained on the layers' add_loss terms only
            return None if len(self._heads) == 1 else [None] * len(self._heads)
        if y is None:
            raise ValueError(f"The 'y' argument of {owner} must be an array of targets. Got None instead.")
        names = self._output_names()
        prepared = []
        for head, target, shape in zip(self._heads, to_list(y, names, "y", owner), self._output_shapes()):
            if target is None and isinstance(head.loss, NoLoss):
                prepared.append(None)
                continue
            target = np.asarray(target)
            if target.dtype.kind not in "biuf":
                raise ValueError(
                    f"The 'y' argument of {owner} must be numeric. Got an array of dtype {target.dtype} instead."
                )
            if target.ndim == 0 or target.shape[0] != n:
                raise ValueError(
                    f"The 'x' and 'y' arguments of {owner} must hold the same number of samples. "
                    f"Got {n} and {target.shape[0] if target.ndim else 'a scalar'} instead."
                )
            if target.dtype.kind == "f":
                check_finite_array(target, "y", owner)
            target = head.loss.prepare_targets(target, shape, owner)
            if target.dtype.kind == "f" and target.dtype != floatx():
                target = target.astype(floatx())
            prepared.append(target)
        return prepared[0] if len(prepared) == 1 else prepared

    def _sample_weights(self, sample_weight, class_weight, y, n, owner):
        sw = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=floatx()).reshape(-1)
            if sw.shape[0] != n:
                raise ValueError(
                    f"The 'sample_weight' argument of {owner} must hold one weight per sample ({n}). "
                    f"Got {sw.shape[0]} instead."
                )
        if class_weight:
            first = y[0] if isinstance(y, list) else y
            labels = first.reshape(n, -1)
            labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0].round().astype(int)
            cw = np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=floatx())
            sw = cw if sw is None else sw * cw
        return sw

    def _resolve_metrics(self, y):
        if self.compiled_metrics is None:
            ys = y if isinstance(y, list) else [y]
            for head, target, shape in zip(self._heads, ys, self._output_shapes()):
                head.resolve_metrics(shape, None if target is None else target.shape)
            self.compiled_metrics = [m for h in self._heads for m in h.metrics]

    # -- training state ----------------------------------------------------
    def _prepare_training(self):
        """Pack trainable weights into one buffer (and gradients into another)."""
        recording.STATE.weights_epoch += 1
        self._mark_input_grads()
        variables = self.trainable_weights
        key = tuple(id(v) for v in variables)
        state = self._train_state
        if state is not None and state["key"] == key:
            return state
        dtype = floatx() if not variables else variables[0].value.dtype
        total = sum(v.value.size for v in variables)
        params = np.empty(total, dtype=dtype)
        grads = np.zeros(total, dtype=dtype)
        offset = 0
        for var in variables:
            size = var.value.size
            params[offset:offset + size] = var.value.ravel()
            var.value = params[offset:offset + size].reshape(var.value.shape)
            var.grad = grads[offset:offset + size].reshape(var.value.shape)
            offset += size
        for layer in self.layers:
            for var in layer.non_trainable_weights:
                if var.grad is None:
                    var.grad = np.zeros_like(var.value)
        fused = [head.decide_fusion(layer) for head, layer in zip(self._heads, self._output_layers())]
        self.optimizer.ensure_built([params])
        self._train_state = state = {
            "key": key,
            "params": params,
            "grads": grads,
            "var_grads": [v.grad for v in variables],
            "regularized": [v for v in variables if v.regularizer is not None],
            "constrained": [v for v in variables if v.constraint is not None],
            "activity": [la for la in self._flat_layers() if getattr(la, "activity_regularizer", None)],
            "fused": fused if len(fused) > 1 else fused[0],
            "heads": self._heads,
            "no_loss": all(isinstance(h.loss, NoLoss) for h in self._heads),
        }
        return state

    def _penalty(self, state, with_grad):
        total = 0.0
        for var in state["regularized"]:
            total += var.regularizer(var.value)
            if with_grad:
                var.regularizer.add_gradient(var.value, var.grad)
        for layer in state["activity"]:
            total += layer.activity_penalty
        return total

    _output_masks = None  # masks of the outputs of the last forward pass (set by subclasses)

    # -- losses added by layers (Layer.add_loss) -------------------------------
    def _clear_added_losses(self):
        for layer in self._all_sublayers():
            layer.__dict__.pop("_added_losses", None)
        self.__dict__.pop("_added_losses", None)

    def _added_loss_total(self) -> float:
        return float(sum(np.sum(value_of(v)) for v in self.losses))

    def _masked_weights(self, i, output, sw, reduction):
        """``sw``, times Keras's per-timestep weights when output ``i`` carries a mask."""
        masks = self._output_masks
        mask = None if masks is None else masks[i]
        if mask is None or mask.shape != output.shape[:mask.ndim] or mask.ndim >= output.ndim:
            return sw
        return mask_to_sample_weight(mask, sw, reduction, output.dtype)

    def _loss_and_grad(self, out, y, sw, state):
        """Total loss of the outputs, the gradient to feed ``_backward``, per-head values."""
        heads = state["heads"]
        if len(heads) == 1:
            head = heads[0]
            sw = self._masked_weights(0, out, sw, head.loss.reduction)
            if head.fused:
                value, grad = head.loss.fused_value_and_grad(y, out, sw)
            else:
                value, grad = head.loss.value_and_grad(y, out, sw)
            return value, grad, None
        values, grads = [], []
        for i, (head, o, t) in enumerate(zip(heads, out, y)):
            w = self._masked_weights(i, o, sw, head.loss.reduction)
            if head.fused:
                v, g = head.loss.fused_value_and_grad(t, o, w)
            else:
                v, g = head.loss.value_and_grad(t, o, w)
            if head.weight != 1.0:
                g *= head.weight
            values.append(v)
            grads.append(g)
        return sum(h.weight * v for h, v in zip(heads, values)), grads, values

    def _train_step(self, xb, yb, swb, state):
        adds = recording.STATE.losses_used
        if adds:
            self._clear_added_losses()
        out = self._forward(xb, training=True)
        value, grad, head_values = self._loss_and_grad(out, yb, swb, state)
        terms = self.losses if adds else ()
        if terms:
            value += float(sum(np.sum(t) for t in terms))
        elif state["no_loss"]:
            raise ValueError(
                f"No loss to compute for model {self.name!r}: compile() got loss=None and no layer "
                "called add_loss(). Provide a 'loss' argument in compile()."
            )
        self._backward(grad, state["fused"])
        if state["regularized"] or state["activity"]:
            value += self._penalty(state, with_grad=True)
        self.optimizer.apply([state["params"]], [state["grads"]], state["var_grads"])
        for var in state["constrained"]:
            var.value[...] = var.constraint(var.value)
        if head_values is None:
            w = self._masked_weights(0, out, swb, "sum")
            for metric in self._heads[0].metrics:
                metric.update_state(yb, out, w)
        else:
            for i, (head, o, t) in enumerate(zip(self._heads, out, yb)):
                w = self._masked_weights(i, o, swb, "sum")
                for metric in head.metrics:
                    metric.update_state(t, o, w)
        return value, head_values

    # -- public training API -----------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train the model for ``epochs`` epochs; return a :class:`History`.

        Keras semantics: ``validation_split`` takes the *last* fraction of the
        samples before shuffling; logs hold ``loss``, each metric, and their
        ``val_`` counterparts.

        ``x`` may be arrays (a list or a dict keyed by input name for several
        inputs), or a source of whole batches: a
        :class:`~automl.keras.utils.PyDataset`, a generator, or another
        iterable, each batch being ``(x, y)`` or ``(x, y, sample_weight)``.
        With a batch source ``y`` and ``sample_weight`` must not be given,
        ``batch_size`` is ignored (as in Keras 3) and ``validation_split`` is not available;
        ``steps_per_epoch`` (batches per epoch) defaults to ``len(dataset)``
        for a PyDataset and to "until exhausted" for a generator, so an
        infinite generator needs it. ``shuffle`` shuffles the batch order of a
        PyDataset and is ignored for generators. ``class_weight`` applies to
        every batch (times its sample weights, if any). ``validation_data`` may
        also be a batch source, read for ``validation_steps`` batches (default:
        all). A source that runs out before ``steps_per_epoch`` batches ends
        the epoch with Keras's "Your input ran out of data" warning, and
        training stops once it yields nothing more.

        A model whose largest matrix product per batch is small (under
        ``models._threads.SMALL_MATMUL`` multiply-adds) trains, evaluates and
        predicts with one BLAS thread, which is faster for it; the thread count
        is restored afterwards.
        """
        owner = f"{type(self).__name__}.fit"
        self._check_compiled("fit")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise param_error("epochs", owner, "an int in the range [0, inf)", epochs)
        if not (isinstance(validation_split, (int, float)) and 0.0 <= validation_split < 1.0):
            raise param_error("validation_split", owner, "a float in the range [0, 1)", validation_split)
        steps_per_epoch = check_steps(steps_per_epoch, "steps_per_epoch", owner)
        validation_steps = check_steps(validation_steps, "validation_steps", owner)
        source, split_done = None, False
        if is_batch_source(x):
            source = self._batch_source(x, y, sample_weight, batch_size, owner, steps=steps_per_epoch,
                                        shuffle=bool(shuffle))
            if validation_split:
                raise param_error("validation_split", owner, f"0 when 'x' is a {source.kind} (pass "
                                  "validation_data instead)", validation_split)
            first = source.peek()
            if first is None:
                raise ValueError(f"The 'x' argument of {owner} is a {source.kind} that yielded no batches.")
            first_x, first_y, _, _ = self._source_batch(first, owner, class_weight)
            self._resolve_metrics(first_y)
            steps = source.num_batches
            batch_rows = n_samples(first_x)
        else:
            batch_size = self._check_batch_size(batch_size, owner)
            x = self._as_inputs(x, owner)
            n_total = n_samples(x)
            y = self._as_targets(y, n_total, owner)
            sw = self._sample_weights(sample_weight, class_weight, y, n_total, owner)
            if validation_data is None and validation_split:
                split = int(n_total * (1.0 - validation_split))
                if split == 0 or split == n_total:
                    raise ValueError(
                        f"The 'validation_split' parameter of {owner} leaves no training or no validation "
                        f"samples with {n_total} samples. Got {validation_split!r}."
                    )
                validation_data = tuple(slice_rows(d, split, n_total) for d in (x, y, sw))
                x, y, sw = (slice_rows(d, 0, split) for d in (x, y, sw))
                split_done = True
            self._resolve_metrics(y)
            n = n_samples(x)
            steps = math.ceil(n / batch_size)
            batch_rows = batch_size
            if steps_per_epoch is not None:
                steps = min(steps, steps_per_epoch)
        val_source = None
        if validation_data is not None and is_batch_source(validation_data):
            val_source = self._batch_source(validation_data, None, None, validation_batch_size, owner,
                                            steps=validation_steps, what="validation_data",
                                            action="validation")
        elif validation_data is not None and not split_done:
            validation_data = self._unpack_validation(validation_data, owner)
        state = self._prepare_training()

        history = History()
        cbs = list(callbacks or [])
        if verbose == "auto":
            verbose = 1
        if verbose:
            cbs.append(ProgbarLogger(verbose=verbose))
        cbs.append(history)
        cbl = CallbackList(cbs, model=self, epochs=epochs, steps=steps, verbose=verbose)
        batch_hooks = cbl.needs["on_train_batch_end"] or cbl.needs["on_train_batch_begin"]
        rng = make_rng()
        n_heads = len(self._heads)
        self.stop_training = False
        logs = {}
        with blas_threads(self, batch_rows):
            cbl.on_train_begin()
            # A callback (BackupAndRestore) may resume an interrupted run, as in Keras.
            resume_epoch, self._initial_epoch = getattr(self, "_initial_epoch", None), None
            if resume_epoch:
                initial_epoch = resume_epoch
            for epoch in range(initial_epoch, epochs):
                if source is not None and source.peek() is None:
                    source.warn_ran_out()
                    break
                for metric in self.compiled_metrics:
                    metric.reset_state()
                loss_total = loss_count = 0.0
                head_totals = [0.0] * n_heads
                cbl.on_epoch_begin(epoch)
                if source is None:
                    batches = array_batches(x, y, sw, batch_size, steps, rng.permutation(n) if shuffle else None)
                else:
                    batches = self._source_batches(source, owner, class_weight)
                for step, (xb, yb, swb, size) in enumerate(batches):
                    if batch_hooks:
                        cbl.on_train_batch_begin(step)
                    value, head_values = self._train_step(xb, yb, swb, state)
                    loss_total += value * size
                    loss_count += size
                    if head_values is not None:
                        for i, v in enumerate(head_values):
                            head_totals[i] += v * size
                    if batch_hooks:
                        cbl.on_train_batch_end(step, self._logs(loss_total / loss_count,
                                                                [t / loss_count for t in head_totals]))
                    if self.stop_training:
                        break
                if source is not None:
                    source.end_epoch()
                    if cbl.params["steps"] is None and source.num_batches is not None:
                        cbl.params["steps"] = source.num_batches  # discovered: the bar shows it from now on
                count = max(loss_count, 1)
                logs = self._logs(loss_total / count, [t / count for t in head_totals])
                if (validation_data is not None or val_source is not None) and (epoch + 1) % validation_freq == 0:
                    if val_source is None:
                        val = self._evaluate_arrays(*validation_data, validation_batch_size or batch_size or 32, state)
                    else:
                        val = self._evaluate_source(val_source, owner + " validation_data", state)
                    logs.update({f"val_{k}": v for k, v in (val or {}).items()})
                logs = dict(sorted(logs.items()))
                cbl.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            if epochs > initial_epoch:
                self.optimizer.finalize_variable_values([state["params"]])
            cbl.on_train_end(logs)
        self.history = history
        return history

    # -- batch sources (PyDataset, generators, iterables) --------------------
    def _batch_source(self, data, y, sample_weight, batch_size, owner, *, steps=None, shuffle=False,
                      what="x", action="training"):
        """A :class:`BatchSource` over ``data``, after Keras's checks of the arguments it excludes.

        ``batch_size`` is ignored, as Keras 3 ignores it for datasets: they make their own batches.
        """
        kind = source_kind(data)
        for name, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(
                    f"The {name!r} argument of {owner} must be None when 'x' is a {kind}: each batch "
                    f"carries it, as (x, y) or (x, y, sample_weight). Got {type(value).__name__} instead."
                )
        return BatchSource(data, steps=steps, shuffle=shuffle, owner=owner, what=what, action=action)

    def _source_batch(self, batch, owner, class_weight=None, targets=True):
        """One raw batch as validated ``(x, y, sample_weight, size)`` (y None when not ``targets``)."""
        xb, yb, swb = unpack_batch(batch, owner)
        xb = self._as_inputs(xb, owner)
        n = n_samples(xb)
        if not targets:
            return xb, None, None, n
        if yb is None:
            raise ValueError(
                f"Each batch of the 'x' argument of {owner} must be (x, y) or (x, y, sample_weight). "
                "Got a batch without targets."
            )
        yb = self._as_targets(yb, n, owner)
        return xb, yb, self._sample_weights(swb, class_weight, yb, n, owner), n

    def _source_batches(self, source, owner, class_weight=None, targets=True):
        """Yield the validated batches of one epoch of ``source``."""
        source.start_epoch()
        while (batch := source.next_batch()) is not None:
            yield self._source_batch(batch, owner, class_weight, targets)

    def _logs(self, loss_value, head_values=()):
        logs = {m.log_name: m.result() for m in self.compiled_metrics or []}
        logs["loss"] = float(loss_value)
        if len(self._heads) > 1:
            for head, value in zip(self._heads, head_values):
                logs[f"{head.name}_loss"] = float(value)
        return logs

    def _unpack_validation(self, data, owner):
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise param_error("validation_data", owner,
                              "a tuple (x_val, y_val) or (x_val, y_val, sample_weight)", type(data).__name__)
        xv = self._as_inputs(data[0], owner + " validation_data")
        yv = self._as_targets(data[1], n_samples(xv), owner + " validation_data")
        swv = None if len(data) == 2 or data[2] is None else np.asarray(data[2], dtype=floatx()).reshape(-1)
        return xv, yv, swv

    def _check_batch_size(self, batch_size, owner, default=32):
        if batch_size is None:
            return default
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise param_error("batch_size", owner, "an int in the range [1, inf)", batch_size)
        return int(batch_size)

    def _evaluate_arrays(self, x, y, sw, batch_size, state=None, callbacks=None):
        steps = math.ceil(n_samples(x) / batch_size)
        return self._evaluate_batches(array_batches(x, y, sw, batch_size, steps), state, callbacks)

    def _evaluate_source(self, source, owner, state=None, callbacks=None):
        """Loss and metrics over one pass of a batch source (None when it gave no batch)."""
        logs = self._evaluate_batches(self._source_batches(source, owner), state, callbacks)
        source.end_epoch()
        if logs is None:
            source.warn_ran_out()
        return logs

    def _evaluate_batches(self, batches, state=None, callbacks=None):
        """Loss and metrics over ``(x, y, sample_weight, size)`` batches; None when there are none.

        ``callbacks`` (a CallbackList) gets ``on_test_batch_begin`` / ``on_test_batch_end``
        (with the running loss and metrics, as Keras passes them) when a callback overrides them.
        """
        # Fresh copies, so that evaluating never disturbs the training metrics' state.
        heads = self._heads
        metrics = [[copy.deepcopy(m) for m in h.metrics] for h in heads]
        for metric in (m for group in metrics for m in group):
            metric.reset_state()
        state = state or self._prepare_training()
        penalized = state["regularized"] or state["activity"]
        total = count = 0.0
        head_totals = [0.0] * len(heads)
        begin = callbacks is not None and callbacks.needs["on_test_batch_begin"]
        end = callbacks is not None and callbacks.needs["on_test_batch_end"]
        for step, (xb, yb, swb, size) in enumerate(batches):
            if begin:
                callbacks.on_test_batch_begin(step)
            if recording.STATE.losses_used:
                self._clear_added_losses()
            out = self._forward(xb, training=False)
            outs = out if len(heads) > 1 else [out]
            ys = yb if len(heads) > 1 else [yb]
            value = 0.0
            for i, (head, o, tb) in enumerate(zip(heads, outs, ys)):
                values, _ = head.loss._values_and_grads(tb, o, need_grad=False)
                v = head.loss._reduce(values, None, self._masked_weights(i, o, swb, head.loss.reduction))[0]
                head_totals[i] += v * size
                value += head.weight * v
                w = self._masked_weights(i, o, swb, "sum")
                for metric in metrics[i]:
                    metric.update_state(tb, o, w)
            if penalized:
                value += self._penalty(state, with_grad=False)
            if recording.STATE.losses_used:
                value += self._added_loss_total()
            total += value * size
            count += size
            if end:
                callbacks.on_test_batch_end(step, self._evaluation_logs(metrics, total, count, head_totals))
        if not count:
            return None
        return self._evaluation_logs(metrics, total, count, head_totals)

    def _evaluation_logs(self, metrics, total, count, head_totals):
        logs = {m.log_name: m.result() for group in metrics for m in group}
        logs["loss"] = total / count
        if len(self._heads) > 1:
            for head, t in zip(self._heads, head_totals):
                logs[f"{head.name}_loss"] = t / count
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Return the loss (and metrics) on ``x, y``: a scalar, a list, or a dict.

        ``x`` may also be a PyDataset, a generator or an iterable of ``(x, y)``
        or ``(x, y, sample_weight)`` batches (then ``y`` and ``sample_weight``
        must be None and ``batch_size`` is ignored), read for ``steps`` batches or until
        exhausted (``len(dataset)`` for a PyDataset).
        """
        owner = f"{type(self).__name__}.evaluate"
        self._check_compiled("evaluate")
        cbl = CallbackList(callbacks, model=self, verbose=verbose, steps=steps) if callbacks else None
        if cbl is not None:
            cbl.on_test_begin()
        if is_batch_source(x):
            source = self._batch_source(x, y, sample_weight, batch_size, owner,
                                        steps=check_steps(steps, "steps", owner), action="evaluation")
            first = source.peek()
            if first is None:
                raise ValueError(f"The 'x' argument of {owner} is a {source.kind} that yielded no batches.")
            self._resolve_metrics(self._source_batch(first, owner)[1])
            logs = self._evaluate_source(source, owner, callbacks=cbl)
            steps_n = source.num_batches or source.last_count
        else:
            batch_size = self._check_batch_size(batch_size, owner)
            x = self._as_inputs(x, owner)
            n = n_samples(x)
            y = self._as_targets(y, n, owner)
            sw = self._sample_weights(sample_weight, None, y, n, owner)
            self._resolve_metrics(y)
            with blas_threads(self, batch_size):
                logs = self._evaluate_arrays(x, y, sw, batch_size, callbacks=cbl)
            steps_n = math.ceil(n / batch_size)
        logs = {"loss": logs.pop("loss"), **logs}
        if cbl is not None:
            cbl.on_test_end(dict(logs))
        if verbose:
            Progbar(steps_n, verbose=1 if verbose == "auto" else verbose).update(
                steps_n, dict(sorted(logs.items())), finalize=True
            )
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Return the model outputs for ``x`` (computed batch by batch, inference mode).

        A multi-output model returns a list of arrays. ``x`` may also be a
        PyDataset, a generator or an iterable of batches (``x``, ``(x,)``, or
        ``(x, y, ...)`` whose targets are ignored), read for ``steps`` batches
        or until exhausted; ``batch_size`` is then ignored.
        """
        owner = f"{type(self).__name__}.predict"
        cbl = CallbackList(callbacks, model=self, verbose=verbose, steps=steps) if callbacks else None
        if cbl is not None:
            cbl.on_predict_begin()
        if is_batch_source(x):
            result = self._predict_source(x, batch_size, steps, owner, cbl)
        else:
            result = self._predict_arrays(x, batch_size, owner, cbl)
        if cbl is not None:
            cbl.on_predict_end()
        return result

    def _predict_arrays(self, x, batch_size, owner, callbacks):
        batch_size = self._check_batch_size(batch_size, owner)
        x = self._as_inputs(x, owner)
        n = n_samples(x)
        results = None
        begin, end = _predict_hooks(callbacks)
        with blas_threads(self, batch_size):
            for step, start in enumerate(range(0, n, batch_size)):
                stop = min(start + batch_size, n)
                if begin:
                    callbacks.on_predict_batch_begin(step)
                out = self._forward(slice_rows(x, start, stop), training=False)
                if end:
                    callbacks.on_predict_batch_end(step, {"outputs": out})
                outs = out if isinstance(out, list) else [out]
                if results is None:
                    results = [np.empty((n, *o.shape[1:]), dtype=o.dtype) for o in outs]
                for result, o in zip(results, outs):
                    result[start:stop] = o
        return results if isinstance(out, list) else results[0]

    def _predict_source(self, x, batch_size, steps, owner, callbacks=None):
        source = self._batch_source(x, None, None, batch_size, owner, steps=check_steps(steps, "steps", owner),
                                    action="prediction")
        chunks = None
        begin, end = _predict_hooks(callbacks)
        for step, (xb, _, _, _) in enumerate(self._source_batches(source, owner, targets=False)):
            if begin:
                callbacks.on_predict_batch_begin(step)
            out = self._forward(xb, training=False)
            if end:
                callbacks.on_predict_batch_end(step, {"outputs": out})
            outs = out if isinstance(out, list) else [out]
            if chunks is None:
                chunks = [[] for _ in outs]
            for chunk, o in zip(chunks, outs):
                chunk.append(np.array(o, copy=True))  # layers may reuse their output buffers
        source.end_epoch()
        if chunks is None:
            raise ValueError(f"The 'x' argument of {owner} is a {source.kind} that yielded no batches.")
        results = [np.concatenate(chunk, axis=0) for chunk in chunks]
        return results if len(results) > 1 else results[0]

    # -- Keras 2 generator methods (removed in Keras 3) ----------------------
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True,
                      initial_epoch=0):
        """Deprecated: use :meth:`fit`, which accepts generators and PyDatasets.

        ``max_queue_size``, ``workers`` and ``use_multiprocessing`` are accepted
        and ignored (batches are read in-process).
        """
        _warn_generator_method("fit_generator", "fit")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, validation_freq=validation_freq,
                        class_weight=class_weight, shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        """Deprecated: use :meth:`evaluate`, which accepts generators and PyDatasets."""
        _warn_generator_method("evaluate_generator", "evaluate")
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        """Deprecated: use :meth:`predict`, which accepts generators and PyDatasets."""
        _warn_generator_method("predict_generator", "predict")
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics) of that batch."""
        owner = f"{type(self).__name__}.train_on_batch"
        self._check_compiled("train_on_batch")
        x = self._as_inputs(x, owner)
        n = n_samples(x)
        y = self._as_targets(y, n, owner)
        sw = self._sample_weights(sample_weight, class_weight, y, n, owner)
        self._resolve_metrics(y)
        for metric in self.compiled_metrics:
            metric.reset_state()
        value, head_values = self._train_step(x, y, sw, self._prepare_training())
        logs = self._logs(value, head_values or ())
        logs = {"loss": logs.pop("loss"), **logs}
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        return self.evaluate(x, y, batch_size=n_samples(self._as_inputs(x, "test_on_batch")), verbose=0,
                             sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=n_samples(self._as_inputs(x, "predict_on_batch")), verbose=0)

    def _output_layers(self) -> list[Layer]:
        if self._traced:  # no fixed output layer: losses are not fused with an activation
            return [None] * len(self._output_shapes())
        return [self.output_layer]

    def get_config(self):
        """A subclassed model's config: its constructor arguments, when they are plain values.

        As in Keras, a subclassed model whose constructor takes other objects
        must implement ``get_config`` (and ``from_config`` if needed) to be
        saved as a whole; ``save_weights`` / ``load_weights`` always work.
        """
        if not self._traced:
            return super().get_config()
        from .subclassing import auto_config

        return auto_config(self)

    def _flat_layers(self):
        """Every layer, recursing into nested models."""
        for layer in self.layers:
            if isinstance(layer, Model):
                yield from layer._flat_layers()
            else:
                yield layer

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild a model; ``Model.from_config`` of a functional config gives a functional model."""
        if cls is Model and "nodes" in config:
            from ._functional import Functional

            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    # -- saving ------------------------------------------------------------
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Save to a ``.keras`` archive (see :func:`automl.keras.saving.save_model`)."""
        _saving.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Save the weights only (``.weights.h5`` in Keras's layout, or ``.weights.npz``)."""
        _saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load weights (see :func:`automl.keras.saving.load_weights`; ``by_name`` for legacy .h5)."""
        _saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def export(self, filepath, format="onnx", verbose=None, input_signature=None, **kwargs):  # noqa: A002
        """Export the inference graph; only ``format="onnx"`` (see :func:`automl.keras.export.export_onnx`)."""
        if format != "onnx":
            raise ValueError(
                f"The 'format' parameter of Model.export must be 'onnx' (the only export format of "
                f"automl.keras). Got {format!r} instead."
            )
        from .. import export as _export

        return _export.export_onnx(self, filepath, verbose=bool(verbose), input_signature=input_signature,
                                   **kwargs)

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string (see ``models.model_from_json``)."""
        return _saving.to_json(self, **kwargs)

    # -- pickling ----------------------------------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_train_state"] = None  # rebuilt lazily; holds views into packed buffers
        return state


def _predict_hooks(callbacks) -> tuple[bool, bool]:
    """Whether ``callbacks`` (a CallbackList or None) override the predict batch hooks."""
    if callbacks is None:
        return False, False
    return callbacks.needs["on_predict_batch_begin"], callbacks.needs["on_predict_batch_end"]
