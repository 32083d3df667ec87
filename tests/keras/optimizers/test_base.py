"""The base optimizer's exponential moving average of the weights (use_ema): values, overwrite, finalize, fit, saving."""

import numpy as np
import pytest

from automl.keras import optimizers as opts
from automl.keras import saving
from automl.keras.callbacks import Callback
from automl.keras.layers import Variable

from .helpers import N_STEPS, noisy_gradients, separable_problem, small_model

# -- exponential moving average of the weights ------------------------------------------------


def _hand_ema(history, momentum):
    """Keras: the average starts at the weights after the first step, then a = m a + (1 - m) w."""
    average = history[0].copy()
    for w in history[1:]:
        average = momentum * average + (1 - momentum) * w
    return average


@pytest.mark.parametrize("cls", [opts.Adamax, opts.Lion, opts.SGD], ids=["Adamax", "Lion", "SGD"])
def test_ema_weights_equal_the_hand_computed_average(cls):
    p0, grads_fn = noisy_gradients()
    plain_opt, ema_opt = cls(learning_rate=0.1), cls(learning_rate=0.1, use_ema=True, ema_momentum=0.7)
    plain, ema = [x.copy() for x in p0], [x.copy() for x in p0]
    history = [[], []]
    for t in range(N_STEPS):
        plain_opt.apply_gradients(list(zip(grads_fn(plain, t), plain)))
        ema_opt.apply_gradients(list(zip(grads_fn(ema, t), ema)))
        for i, w in enumerate(ema):
            history[i].append(w.copy())
    for w_plain, w_ema in zip(plain, ema):  # without overwrites, EMA does not change training
        np.testing.assert_array_equal(w_plain, w_ema)
    expected = [_hand_ema(h, 0.7) for h in history]
    assert not np.allclose(expected[0], ema[0])
    averages = ema_opt.variables[-2:]
    for got, want in zip(averages, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    ema_opt.finalize_variable_values(ema)
    for got, want in zip(ema, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_ema_overwrite_frequency_overwrites_the_weights_every_n_steps():
    p0, grads_fn = noisy_gradients()
    w = [x.copy() for x in p0]
    opt = opts.Adam(learning_rate=0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    # Reference: plain Adam steps, an EMA of the weights after each step, and the weights
    # replaced by the EMA after steps 2 and 4.
    ref_opt = opts.Adam(learning_rate=0.1)
    ref = [x.copy() for x in p0]
    average = None
    for t in range(N_STEPS):
        opt.apply_gradients(list(zip(grads_fn(w, t), w)))
        ref_opt.apply_gradients(list(zip(grads_fn(ref, t), ref)))
        average = [r.copy() for r in ref] if average is None else [
            0.5 * a + 0.5 * r for a, r in zip(average, ref)]
        if (t + 1) % 2 == 0:
            for r, a in zip(ref, average):
                r[...] = a
        for got, want in zip(w, ref):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_finalize_maps_a_packed_buffer_onto_per_variable_weights():
    # The model builds the optimizer on one packed buffer; Keras's fit passes
    # model.trainable_weights (views of that buffer, in order) to finalize_variable_values.
    packed = np.arange(8.0)
    opt = opts.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    opt.apply_gradients([(np.ones(8), packed)])  # average = packed - 1
    opt.apply_gradients([(np.ones(8), packed)])  # packed - 2, average = packed - 1.5
    views = [Variable(packed[:6].reshape(3, 2), "k"), Variable(packed[6:], "b")]
    opt.finalize_variable_values(views)
    np.testing.assert_allclose(packed, np.arange(8.0) - 1.5)
    with pytest.raises(ValueError, match="do not match the 1 moving averages"):
        opt.finalize_variable_values([np.zeros(3)])


def test_finalize_is_a_no_op_without_ema_or_before_any_step():
    w = np.ones(3)
    opts.Adam().finalize_variable_values([w])
    opt = opts.Adam(use_ema=True)
    opt.build([w])
    opt.finalize_variable_values()
    np.testing.assert_array_equal(w, 1.0)


def test_ema_of_a_fitted_model_matches_the_per_batch_weights():
    x, y = separable_problem(32)
    model = small_model(opts.Nadam(learning_rate=0.05, use_ema=True, ema_momentum=0.8))

    class Record(Callback):
        def __init__(self):
            super().__init__()
            self.weights = []

        def on_train_batch_end(self, batch, logs=None):
            self.weights.append(np.concatenate([w.ravel() for w in model.get_weights()]))

    record = Record()
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[record])
    expected = _hand_ema(record.weights, 0.8)
    model.optimizer.finalize_variable_values(model.trainable_weights)
    np.testing.assert_allclose(np.concatenate([w.ravel() for w in model.get_weights()]), expected, rtol=1e-6)


def test_fit_ends_with_the_moving_average_weights():
    x, y = separable_problem(32)
    model = small_model(opts.Adam(learning_rate=0.05, use_ema=True, ema_momentum=0.8))
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    np.testing.assert_allclose(np.concatenate([w.ravel() for w in model.get_weights()]),
                               model.optimizer.variables[-1], rtol=1e-12)


def test_saved_model_restores_nadam_and_ema_state(tmp_path):
    x, y = separable_problem(32)
    model = small_model(opts.Nadam(learning_rate=0.05, use_ema=True))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    saving.save_model(model, path)
    loaded = saving.load_model(path)
    saved_state, loaded_state = model.optimizer.variables, loaded.optimizer.variables
    assert len(loaded_state) == len(saved_state) == 1 + 2 + 1 + 1  # iterations, m, v, average, u_product
    for a, b in zip(saved_state, loaded_state):
        np.testing.assert_array_equal(a, b)
    assert float(loaded_state[-1]) != 1.0
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_allclose(a, b, rtol=1e-6)
