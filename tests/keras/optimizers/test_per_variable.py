"""Adafactor and Lamb (per-variable rules on packed buffers): float64 references of Keras 3's rules, configs, saving."""

import math

import numpy as np
import pytest

from automl.keras import Input, Sequential, layers, optimizers, saving, utils
from automl.keras.optimizers import Adafactor, Lamb
from automl.keras.optimizers._per_variable import variable_segments

SHAPES = [(4, 3), (3,), (2, 3, 2), (5, 1), ()]
N_STEPS = 4


# -- independent float64 references (one variable at a time) ------------------------------------
def lamb_reference(params, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
    p = [np.array(x, dtype=float) for x in params]
    m = [np.zeros_like(x) for x in p]
    v = [np.zeros_like(x) for x in p]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            p[i] = p[i] - p[i] * lr * weight_decay
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v[i] = beta_2 * v[i] + (1 - beta_2) * g * g
            update = (m[i] / (1 - beta_1**t)) / (np.sqrt(v[i] / (1 - beta_2**t)) + epsilon)
            w_norm, u_norm = np.linalg.norm(p[i]), np.linalg.norm(update)
            trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
            p[i] = p[i] - trust * lr * update
    return p


def adafactor_reference(params, grads, lr, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                        clip_threshold=1.0, relative_step=True):
    p = [np.array(x, dtype=float) for x in params]
    r = [np.zeros(x.shape[:-1]) if x.ndim >= 2 else None for x in p]
    c = [np.zeros(x.shape[:-2] + x.shape[-1:]) if x.ndim >= 2 else None for x in p]
    v = [np.zeros_like(x) for x in p]
    for t, step_grads in enumerate(grads, start=1):
        step_lr = min(lr, 1 / math.sqrt(t)) if relative_step else lr
        rho = min(step_lr, 1 / math.sqrt(t))
        beta = 1 - t**beta_2_decay
        for i, g in enumerate(step_grads):
            alpha = max(epsilon_2, np.sqrt(np.mean(p[i] ** 2))) * rho
            g2 = g**2 + epsilon_1
            if p[i].ndim >= 2:
                r[i] = beta * r[i] + (1 - beta) * g2.mean(axis=-1)
                c[i] = beta * c[i] + (1 - beta) * g2.mean(axis=-2)
                row = r[i] / r[i].mean(axis=-1, keepdims=True)
                v[i] = np.einsum("...i,...j->...ij", row, c[i])
            else:
                v[i] = beta * v[i] + (1 - beta) * g2
            u = g / np.sqrt(v[i])
            u = u / max(1.0, np.sqrt(np.mean(u**2)) / clip_threshold)
            p[i] = p[i] - alpha * u
    return p


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) * (i + 1) for i, s in enumerate(SHAPES)] for _ in range(N_STEPS)]
    return params, grads


def _run_separate(opt, params, grads):
    weights = [p.copy() for p in params]
    for step in grads:
        opt.apply_gradients(zip([g.copy() for g in step], weights))
    return weights


def _run_packed(opt, params, grads):
    """As a model does it: one packed parameter buffer, one packed gradient buffer, per-variable views."""
    sizes = [int(np.prod(s)) for s in SHAPES]
    offsets = np.cumsum([0] + sizes)
    packed, packed_grad = np.concatenate([p.ravel() for p in params]), np.zeros(offsets[-1])
    var_grads = [packed_grad[a:b].reshape(s) for a, b, s in zip(offsets, offsets[1:], SHAPES)]
    opt.ensure_built([packed])
    for step in grads:
        for view, g in zip(var_grads, step):
            view[...] = g
        opt.apply([packed], [packed_grad], var_grads)
    return [packed[a:b].reshape(s) for a, b, s in zip(offsets, offsets[1:], SHAPES)]


CASES = [
    (lambda: Lamb(learning_rate=0.05), lambda p, g: lamb_reference(p, g, 0.05)),
    (lambda: Lamb(learning_rate=0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-3, weight_decay=0.1),
     lambda p, g: lamb_reference(p, g, 0.02, 0.8, 0.95, 1e-3, weight_decay=0.1)),
    (lambda: Adafactor(), lambda p, g: adafactor_reference(p, g, 0.001)),
    (lambda: Adafactor(learning_rate=0.7, beta_2_decay=-0.5, epsilon_2=1e-2, clip_threshold=0.5),
     lambda p, g: adafactor_reference(p, g, 0.7, -0.5, 1e-30, 1e-2, 0.5)),
    (lambda: Adafactor(learning_rate=0.3, relative_step=False, clip_threshold=10.0),
     lambda p, g: adafactor_reference(p, g, 0.3, clip_threshold=10.0, relative_step=False)),
]
IDS = ["lamb", "lamb-args-decay", "adafactor", "adafactor-args", "adafactor-no-relative"]


@pytest.mark.parametrize("make,reference", CASES, ids=IDS)
def test_matches_float64_reference_per_variable_and_packed(make, reference):
    params, grads = _problem()
    expected = reference(params, grads)
    separate = _run_separate(make(), params, grads)
    packed = _run_packed(make(), params, grads)
    for e, s, p in zip(expected, separate, packed):
        np.testing.assert_allclose(s, e, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(p, e, rtol=1e-10, atol=1e-12)
    # the rules are per variable: one variable treated as part of a bigger one would differ
    assert not np.allclose(separate[0], params[0])


def test_adafactor_schedule_is_not_capped_by_relative_step():
    schedule = optimizers.schedules.ExponentialDecay(0.5, decay_steps=1, decay_rate=0.5)
    w = np.ones(3)
    Adafactor(learning_rate=schedule).apply_gradients([(np.ones(3), w)])
    # step 1: rho = min(0.5, 1) = 0.5; alpha = max(1e-3, rms(w) = 1) * 0.5; |u| = 1
    np.testing.assert_allclose(w, 0.5, rtol=1e-6)


def test_lamb_trust_ratio_with_zero_weights_is_one():
    w = np.zeros(2)
    Lamb(learning_rate=0.1).apply_gradients([(np.array([2.0, -3.0]), w)])
    np.testing.assert_allclose(w, [-0.1, 0.1], rtol=1e-5)  # first Adam step is +-lr per coordinate


def test_variable_segments_fall_back_to_whole_buffer():
    buf = np.zeros(10)
    assert variable_segments(buf, [buf[:4].reshape(2, 2), buf[4:].reshape(3, 2)]) == [(0, (2, 2)), (4, (3, 2))]
    assert variable_segments(buf, [buf[:4]]) == [(0, (10,))]  # not a tiling
    assert variable_segments(buf, []) == [(0, (10,))]


def test_clipnorm_and_ema_apply():
    params, grads = _problem(1)
    clipped = _run_separate(Lamb(learning_rate=0.05, clipnorm=0.5), params, grads)
    small = [[g * min(1.0, 0.5 / np.linalg.norm(g)) for g in step] for step in grads]
    for got, want in zip(clipped, lamb_reference(params, small, 0.05)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    opt = Adafactor(learning_rate=0.5, use_ema=True, ema_momentum=0.5)
    w = np.ones((2, 2))
    opt.apply_gradients([(np.ones((2, 2)), w)])  # alpha = rms(w) * 0.5 = 0.5, |u| = 1: w = 0.5
    opt.apply_gradients([(np.ones((2, 2)), w)])  # alpha = 0.5 * 0.5: w = 0.25
    np.testing.assert_allclose(w, 0.25)
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w, 0.5 * 0.5 + 0.5 * 0.25)  # the moving average (first step copies)


@pytest.mark.parametrize("opt", [
    Adafactor(learning_rate=0.01, beta_2_decay=-0.7, epsilon_1=1e-20, epsilon_2=1e-4, clip_threshold=2.0,
              relative_step=False, weight_decay=0.01),
    Lamb(learning_rate=0.003, beta_1=0.85, beta_2=0.99, epsilon=1e-6, global_clipnorm=1.0),
], ids=["adafactor", "lamb"])
def test_config_round_trip_and_registry(opt):
    config = opt.get_config()
    assert type(opt).from_config(config).get_config() == config
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert type(restored) is type(opt) and restored.get_config() == config
    assert type(optimizers.get(type(opt).__name__.lower())) is type(opt)
    assert optimizers.get(type(opt).__name__.lower()).name == type(opt).__name__.lower()


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((48, 5)).astype("float32")
    y = (x[:, 0] + x[:, 1] > x[:, 2] + 0.5).astype(int)
    return x, y


def _model(optimizer):
    utils.set_random_seed(1)
    model = Sequential([Input(shape=(5,)), layers.Dense(8, activation="relu"), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def _fit(model, epochs):
    x, y = _data()
    return model, model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)


MAKERS = [lambda: Adafactor(learning_rate=0.1), lambda: Lamb(learning_rate=0.02)]


@pytest.mark.parametrize("make", MAKERS, ids=["adafactor", "lamb"])
def test_fit_lowers_loss(make):
    _, history = _fit(_model(make()), epochs=12)
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]


@pytest.mark.parametrize("make", MAKERS, ids=["adafactor", "lamb"])
def test_resume_training_from_saved_state_matches_straight_run(tmp_path, make):
    straight, _ = _fit(_model(make()), epochs=2)
    first, _ = _fit(_model(make()), epochs=1)
    saving.save_model(first, tmp_path / "ckpt.keras")
    resumed, _ = _fit(saving.load_model(tmp_path / "ckpt.keras"), epochs=1)
    assert type(resumed.optimizer) is type(straight.optimizer)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 6
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)
