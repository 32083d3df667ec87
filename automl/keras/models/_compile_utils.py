"""What ``compile`` resolves per model output: its loss, loss weight and metrics."""

from __future__ import annotations

import numpy as np

from ..._validation import param_error
from .. import activations as _activations
from .. import losses as _losses
from .. import metrics as _metrics

__all__ = ["Head", "NoLoss", "make_heads"]


class NoLoss(_losses.Loss):
    """The loss of an output compiled with ``loss=None``: zero, with a zero gradient.

    As in Keras, such a model trains on the losses its layers add
    (``Layer.add_loss``), and the output needs no targets.
    """

    function_name = "none"

    def prepare_targets(self, y_true, output_shape, owner="fit"):
        return y_true

    def _values_and_grads(self, y_true, y_pred, need_grad=True):
        y_pred = np.asarray(y_pred)
        values = np.zeros(y_pred.shape[:-1] if y_pred.ndim > 1 else y_pred.shape, dtype=y_pred.dtype)
        return values, (np.zeros_like(y_pred) if need_grad else None)


class Head:
    """One model output: its name, loss, loss weight and (lazily resolved) metrics."""

    def __init__(self, name, loss, weight, metric_specs, prefix):
        self.name = name
        self.loss = loss
        self.weight = float(weight)
        self.metric_specs = list(metric_specs)
        self.prefix = prefix  # "" for single-output models, "<output name>_" otherwise
        self.metrics = None
        self.fused = False

    def resolve_metrics(self, output_shape, y_shape):
        if self.metrics is None:
            self.metrics = [
                _metrics._get_metric_instance(m, loss_name=self.loss.function_name, output_shape=output_shape, y_shape=y_shape)
                for m in self.metric_specs
            ]
            for metric in self.metrics:
                metric.log_name = self.prefix + metric.name

    def decide_fusion(self, output_layer) -> bool:
        """Use the fused logits gradient when the output activation matches the loss."""
        fuse_with = self.loss.fused_activation
        self.fused = (
            fuse_with is not None
            and not getattr(self.loss, "from_logits", False)
            and getattr(output_layer, "activation", None) is _activations.get(fuse_with)
            and hasattr(output_layer, "backward_from_logits")
            and getattr(output_layer, "activity_regularizer", None) is None
        )
        return self.fused


def _per_output(value, names, what, default):
    """Spread a compile argument over the outputs: one value, a list, or a dict by name."""
    n = len(names)
    if value is None:
        return [default] * n
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(
                f"The {what!r} parameter of compile names unknown outputs {sorted(unknown)}. "
                f"Expected keys among the output names {names}."
            )
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)) and what != "metrics":
        if len(value) != n:
            raise param_error(what, "compile", f"a list of {n} entries (one per output)", value)
        return list(value)
    return [value] * n


def make_heads(loss, loss_weights, metrics, output_names) -> list[Head]:
    multi = len(output_names) > 1
    losses = _per_output(loss, output_names, "loss", None)
    weights = _per_output(loss_weights, output_names, "loss_weights", 1.0)
    if isinstance(metrics, (str, _metrics.Metric)) or (metrics is not None and callable(metrics)):
        metrics = [metrics]
    if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
        raise param_error("metrics", "compile", "a list of metric names or Metric instances", metrics, TypeError)
    if isinstance(metrics, dict):
        per_metrics = _per_output(metrics, output_names, "metrics", [])
    elif multi and metrics and all(isinstance(m, (list, tuple)) for m in metrics):
        if len(metrics) != len(output_names):
            raise param_error("metrics", "compile", f"a list of {len(output_names)} lists (one per output)", metrics)
        per_metrics = list(metrics)
    else:
        per_metrics = [list(metrics or [])] * len(output_names)
    heads = []
    for name, spec, weight, specs in zip(output_names, losses, weights, per_metrics):
        specs = [specs] if isinstance(specs, (str, _metrics.Metric)) else list(specs or [])
        for m in specs:
            if m not in ("accuracy", "acc"):
                _metrics._get_metric_instance(m)  # fail early on unknown names
        loss_object = NoLoss() if spec is None else _losses._get_loss_instance(spec)
        heads.append(Head(name, loss_object, weight, specs, f"{name}_" if multi else ""))
    return heads
