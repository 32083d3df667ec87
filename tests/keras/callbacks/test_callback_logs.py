"""Every hook receives a logs dict, as in Keras 3 (never None)."""

import numpy as np
import pytest

from automl.keras import Sequential, callbacks
from automl.keras.callbacks import CallbackList
from automl.keras.layers import Dense

HOOKS = [h for h in dir(callbacks.Callback) if h.startswith("on_")]


class LogsRecorder(callbacks.Callback):
    """Records, for every hook, the type of the logs it got (and writes into them)."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def __getattribute__(self, name):
        if name.startswith("on_"):
            def hook(*args):
                logs = args[-1]
                self.seen.setdefault(name, []).append(type(logs))
                logs["touched"] = True  # callbacks may write into the logs, as in Keras
            return hook
        return super().__getattribute__(name)


def test_fit_hooks_all_receive_dicts():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    model.compile("sgd", "mse")
    rec = LogsRecorder()
    for hook in ("on_train_batch_begin", "on_train_batch_end"):
        vars(rec)[hook] = getattr(rec, hook)  # switch batch-level dispatch on
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[rec])
    for hook in ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
                 "on_epoch_end", "on_train_end"):
        assert rec.seen[hook] and set(rec.seen[hook]) == {dict}, hook


@pytest.mark.parametrize("hook", HOOKS)
def test_callback_list_turns_missing_logs_into_a_dict(hook):
    rec = LogsRecorder()
    cbl = CallbackList([rec])
    if hook in ("on_batch_begin", "on_batch_end"):
        pytest.skip("Keras 2 names are dispatched by on_train_batch_begin/end")
    method = getattr(cbl, hook)
    args = () if hook.endswith(("train_begin", "train_end", "test_begin", "test_end",
                                "predict_begin", "predict_end")) else (0,)
    method(*args)
    assert rec.seen[hook] == [dict]
    given = {"loss": 1.0}
    method(*args, given)
    assert given["touched"] is True  # the caller's dict itself reaches the callbacks


def test_keras2_batch_names_get_dicts_too():
    rec = LogsRecorder()
    cbl = CallbackList([rec])
    cbl.on_train_batch_begin(0)
    cbl.on_train_batch_end(0)
    assert rec.seen["on_batch_begin"] == [dict] and rec.seen["on_batch_end"] == [dict]
