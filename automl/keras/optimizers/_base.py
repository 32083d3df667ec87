"""Optimizer base: learning rate or schedule, clipping, weight decay, EMA, iterations.

Subclasses implement ``build_slots(param)`` (the per-parameter state arrays)
and ``update_step(param, grad, slots, lr)``, which updates ``param`` in place.
The model hands the optimizer all trainable weights packed in one contiguous
buffer, so a training step is a handful of vectorized operations whatever the
number of layers.
"""

from __future__ import annotations

import numpy as np

from ..._registry import Registry
from ..._validation import Interval, check_param
from . import schedules as _schedules

__all__ = ["Optimizer", "OPTIMIZERS"]

#: Elements per chunk of an optimizer update (256 KiB of float32 per array).
_CHUNK = 1 << 16


def _chunk_bounds(size: int) -> list[tuple[int, int]]:
    # Below a few chunks the whole update fits in cache anyway, and one pass per
    # operation beats several (each NumPy call costs a few microseconds).
    if size <= 4 * _CHUNK:
        return [(0, size)]
    return [(a, min(a + _CHUNK, size)) for a in range(0, size, _CHUNK)]

OPTIMIZERS = Registry("optimizer")
_POSITIVE = [Interval(float, 0, None, closed="neither")]


class Optimizer:
    """Base class of optimizers (Keras 3 arguments).

    Parameters
    ----------
    learning_rate : float or callable
        A float, or a schedule called with the iteration count.
    weight_decay : float, optional
        Decoupled weight decay: ``param -= lr * weight_decay * param`` before each update.
    clipnorm, clipvalue, global_clipnorm : float, optional
        Clip each gradient's norm, each gradient value, or the norm of all gradients.
    use_ema : bool, default=False
        Keep an exponential moving average (EMA) of the weights. After every
        step ``average = ema_momentum * average + (1 - ema_momentum) * weight``
        (the first step copies the weights); ``fit`` ends by writing the averages
        into the weights (:meth:`finalize_variable_values`).
    ema_momentum : float, default=0.99
        Momentum of the moving average, in [0, 1]. Only used if ``use_ema``.
    ema_overwrite_frequency : int, optional
        Only used if ``use_ema``: every this many steps the weights are
        overwritten by their moving average. With None they are only
        overwritten at the end of training.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        owner = type(self).__name__
        if kwargs:
            raise TypeError(f"{owner} got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        if not callable(learning_rate):
            check_param("learning_rate", learning_rate, _POSITIVE, owner)
            learning_rate = float(learning_rate)
        self._learning_rate = learning_rate
        for key, value in (("weight_decay", weight_decay), ("clipnorm", clipnorm),
                           ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            check_param(key, value, [None, Interval(float, 0, None)], owner)
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{owner}: only one of 'clipnorm', 'clipvalue' and 'global_clipnorm' can be set. Got "
                f"clipnorm={clipnorm!r}, clipvalue={clipvalue!r}, global_clipnorm={global_clipnorm!r}."
            )
        if use_ema:
            check_param("ema_momentum", ema_momentum, [Interval(float, 0, 1)], owner)
            check_param("ema_overwrite_frequency", ema_overwrite_frequency,
                        [None, Interval(int, 1, None)], owner)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots: list[list[np.ndarray]] | None = None
        self._averages: list[np.ndarray] | None = None
        self._params: list[np.ndarray] = []
        self._built_for: list | None = None

    # -- learning rate -----------------------------------------------------
    @property
    def learning_rate(self) -> float:
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if not callable(value):
            check_param("learning_rate", value, _POSITIVE, type(self).__name__)
            value = float(value)
        self._learning_rate = value

    lr = learning_rate

    # -- building and stepping ---------------------------------------------
    def build(self, params: list[np.ndarray]) -> None:
        """Create the slot arrays for ``params`` (resets the optimizer state)."""
        self._slots = [self.build_slots(p) for p in params]
        self._scratch = [np.empty_like(p) for p in params]
        # Keras starts the averages at zero, but the first step copies the
        # weights anyway (momentum 0 at iteration 0); starting from a copy
        # also makes finalize_variable_values a no-op before any step.
        self._averages = [p.copy() for p in params] if self.use_ema else None
        self._params = list(params)
        self._chunked_slots = [
            [[None if s is None else s.reshape(-1)[a:b] for s in slots], tmp.reshape(-1)[a:b], a, b]
            for slots, tmp in zip(self._slots, self._scratch)
            for a, b in _chunk_bounds(tmp.size)
        ]
        self._chunk_owner = [i for i, tmp in enumerate(self._scratch) for _ in _chunk_bounds(tmp.size)]
        self._built_for = [id(p) for p in params]

    def ensure_built(self, params: list[np.ndarray]) -> None:
        """Build for ``params`` unless the existing state already fits their shapes."""
        scratch = getattr(self, "_scratch", None)
        if self._slots is None or len(scratch) != len(params) or any(
            s.shape != p.shape for s, p in zip(scratch, params)
        ) or (self.use_ema and self._averages is None):
            self.build(params)
        else:
            self._params = list(params)

    def build_slots(self, param: np.ndarray) -> list[np.ndarray]:
        return []

    def apply(self, params: list[np.ndarray], grads: list[np.ndarray], var_grads=()) -> None:
        """One update of ``params`` (in place) from ``grads``.

        ``var_grads`` are the per-weight views of ``grads``, used by ``clipnorm``.
        """
        if self._slots is None or len(self._slots) != len(params):
            self.build(params)
        self._clip(grads, var_grads)
        lr = self.learning_rate
        if self.weight_decay:
            for param in params:
                param *= 1.0 - lr * self.weight_decay
        self._update_params(params, grads, var_grads, lr)
        if self.use_ema:
            self._update_moving_averages(params)
        self.iterations += 1

    def _update_params(self, params, grads, var_grads, lr) -> None:
        """Call :meth:`update_step` on every parameter (elementwise rules: chunk by chunk)."""
        flat_params = [p.reshape(-1) for p in params]
        flat_grads = [g.reshape(-1) for g in grads]
        # Update chunk by chunk so that a step's working set (parameter, gradient,
        # slots, scratch) stays in cache: several times faster on large models.
        for owner, (slots, tmp, a, b) in zip(self._chunk_owner, self._chunked_slots):
            self.update_step(flat_params[owner][a:b], flat_grads[owner][a:b], slots, lr, tmp)

    # -- exponential moving average of the weights ----------------------------
    def _update_moving_averages(self, params) -> None:
        # Keras: the momentum is 0 at the first step, so the average starts at the weights.
        if self._averages is None:  # use_ema switched on after the optimizer was built
            self._averages = [p.copy() for p in params]
        momentum = self.ema_momentum if self.iterations else 0.0
        overwrite = (
            self.ema_overwrite_frequency
            and (self.iterations + 1) % self.ema_overwrite_frequency == 0
        )
        for param, average, tmp in zip(params, self._averages, self._scratch):
            average *= momentum
            np.multiply(param, 1.0 - momentum, out=tmp)
            average += tmp
            if overwrite:
                param[...] = average

    def finalize_variable_values(self, var_list=None) -> None:
        """Overwrite the weights with their moving averages (if ``use_ema``).

        ``fit`` calls this once after its last epoch, as Keras does.

        Parameters
        ----------
        var_list : list of arrays or Variables, optional
            The weights to overwrite, in place: either the arrays the optimizer
            was built on, or any list whose sizes add up to them in the same
            order (for instance a model's ``trainable_weights``, whose values
            are views of the one packed buffer the optimizer updates). Defaults
            to the arrays the optimizer was built on.
        """
        if not self.use_ema or self._averages is None:
            return
        targets = [v.value if hasattr(v, "value") else v for v in
                   (self._params if var_list is None else var_list)]
        averages = self._averages
        if [t.shape for t in targets] == [a.shape for a in averages]:
            for target, average in zip(targets, averages):
                target[...] = average
            return
        total = sum(a.size for a in averages)
        if sum(np.size(t) for t in targets) != total:
            raise ValueError(
                f"{type(self).__name__}.finalize_variable_values: the variables to overwrite "
                f"(shapes {[np.shape(t) for t in targets]}) do not match the {len(averages)} "
                f"moving averages of the optimizer (shapes {[a.shape for a in averages]}). "
                "Check that the optimizer was used to train these variables."
            )
        flat = averages[0].ravel() if len(averages) == 1 else np.concatenate([a.ravel() for a in averages])
        offset = 0
        for target in targets:
            target[...] = flat[offset:offset + target.size].reshape(target.shape)
            offset += target.size

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras-style update from ``(gradient, variable)`` pairs."""
        pairs = [(np.asarray(g), v) for g, v in grads_and_vars]
        params = [v.value if hasattr(v, "value") else v for _, v in pairs]
        grads = [np.array(g, dtype=p.dtype) for (g, _), p in zip(pairs, params)]
        if self._built_for != [id(p) for p in params]:
            self.build(params)
        self.apply(params, grads, grads)

    def update_step(self, param, grad, slots, lr, tmp) -> None:
        """Update ``param`` in place; ``tmp`` is a scratch array shaped like it."""
        raise NotImplementedError

    def _clip(self, grads, var_grads) -> None:
        if self.clipvalue:
            for g in grads:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm:
            for g in var_grads or grads:
                norm = float(np.sqrt(np.vdot(g, g)))
                if norm > self.clipnorm:
                    g *= self.clipnorm / norm
        if self.global_clipnorm:
            norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
            if norm > self.global_clipnorm:
                for g in grads:
                    g *= self.global_clipnorm / norm

    # -- state and config --------------------------------------------------
    @property
    def variables(self) -> list[np.ndarray]:
        """The optimizer state: iterations, every slot array, then the moving averages.

        Apart from the iteration count (a copy), these are the live arrays:
        writing into them in place restores a saved state.
        """
        slots = [s for group in (self._slots or []) for s in group if s is not None]
        return [np.array(self.iterations, dtype=np.int64), *slots, *(self._averages or [])]

    def get_config(self) -> dict:
        lr = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": Registry.serialize(lr) if callable(lr) else lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={self._learning_rate!r}>"

OPTIMIZERS.base = Optimizer
