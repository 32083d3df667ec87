"""Callback base class and the list that dispatches hooks.

As in Keras 3, every hook receives a ``logs`` dict: the list turns a missing
``logs`` (None) into an empty dict before dispatching, so ``on_train_begin``,
``on_epoch_begin``, the ``*_batch_begin`` hooks and the test/predict hooks get
``{}`` when their caller has nothing to report, and callbacks can always do
``logs.get(...)`` / ``logs[key] = ...`` (the same dict reaches every callback).
"""

from __future__ import annotations

__all__ = ["Callback", "CallbackList"]

_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Base class of callbacks; every hook does nothing by default.

    Attributes
    ----------
    model : Model
        Set by ``fit``/``evaluate``/``predict`` before the first hook.
    params : dict
        ``{"epochs", "steps", "verbose"}`` of the running loop.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


def _overrides(callback, hook) -> bool:
    """Whether ``callback`` implements ``hook``: in its class, or set on the instance.

    Setting a hook on the instance (``self.on_train_batch_end = ...``) lets a callback
    switch batch-level dispatch on only for the configurations that need it.
    """
    return hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)


class CallbackList:
    """Dispatches each hook to every callback, in order.

    Batch-level hooks are skipped entirely when no callback overrides them,
    which keeps the training loop's per-step cost at zero for them.
    """

    def __init__(self, callbacks=None, model=None, **params):
        self.callbacks = list(callbacks or [])
        self.model = model
        self.params = params
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"The 'callbacks' argument must hold Callback instances. Got {cb!r} instead."
                )
            cb.set_model(model)
            cb.set_params(params)
        self.needs = {h: any(_overrides(cb, h) for cb in self.callbacks) for h in _BATCH_HOOKS}
        self.needs["on_train_batch_end"] |= any(_overrides(cb, "on_batch_end") for cb in self.callbacks)
        self.needs["on_train_batch_begin"] |= any(_overrides(cb, "on_batch_begin") for cb in self.callbacks)

    def append(self, callback):
        self.__init__([*self.callbacks, callback], self.model, **self.params)

    def _call(self, hook, *args):
        *head, logs = args
        args = (*head, {} if logs is None else logs)
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)
        self._call("on_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)
        self._call("on_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)
