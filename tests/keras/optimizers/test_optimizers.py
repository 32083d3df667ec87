"""SGD, Adam, RMSprop against float64 references of Keras 3's update rules."""


import numpy as np
import pytest

from automl.keras import optimizers
from automl.keras.layers import Variable

from .helpers import N_STEPS, adam_reference, quadratic_problem, run_engine

# -- independent references (Keras 3's published update rules) -----------------


def sgd_reference(params, grads_fn, lr, momentum=0.0, nesterov=False):
    p = [x.copy() for x in params]
    v = [np.zeros_like(x) for x in p]
    for t in range(N_STEPS):
        for i, g in enumerate(grads_fn(p, t)):
            if momentum == 0.0:
                p[i] = p[i] - lr * g
                continue
            v[i] = momentum * v[i] - lr * g
            p[i] = p[i] + (momentum * v[i] - lr * g if nesterov else v[i])
    return p


def rmsprop_reference(params, grads_fn, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    p = [x.copy() for x in params]
    v = [np.zeros_like(x) for x in p]
    avg = [np.zeros_like(x) for x in p]
    mom = [np.zeros_like(x) for x in p]
    for t in range(N_STEPS):
        for i, g in enumerate(grads_fn(p, t)):
            v[i] = rho * v[i] + (1 - rho) * g * g
            denom = v[i]
            if centered:
                avg[i] = rho * avg[i] + (1 - rho) * g
                denom = v[i] - avg[i] ** 2
            increment = lr * g / np.sqrt(denom + epsilon)
            if momentum > 0:
                mom[i] = momentum * mom[i] + increment
                p[i] = p[i] - mom[i]
            else:
                p[i] = p[i] - increment
    return p


# -- problems --------------------------------------------------------------------




def _shrinking_gradients(seed=0):
    """Fixed gradients whose scale falls fast: second moments decrease (AMSGrad matters)."""
    rng = np.random.default_rng(seed)
    seq = [[rng.standard_normal((3, 2)) * 10.0**-t, rng.standard_normal(2) * 10.0**-t] for t in range(N_STEPS)]
    p0 = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    return p0, lambda _params, step: seq[step]




CASES = [
    ("sgd", lambda: optimizers.SGD(learning_rate=0.05), lambda p, g: sgd_reference(p, g, 0.05)),
    ("sgd_momentum", lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9),
     lambda p, g: sgd_reference(p, g, 0.05, momentum=0.9)),
    ("sgd_nesterov", lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
     lambda p, g: sgd_reference(p, g, 0.05, momentum=0.9, nesterov=True)),
    ("adam", lambda: optimizers.Adam(learning_rate=0.1), lambda p, g: adam_reference(p, g, 0.1)),
    ("adam_betas", lambda: optimizers.Adam(learning_rate=0.1, beta_1=0.5, beta_2=0.7, epsilon=1e-3),
     lambda p, g: adam_reference(p, g, 0.1, beta_1=0.5, beta_2=0.7, epsilon=1e-3)),
    ("adam_amsgrad", lambda: optimizers.Adam(learning_rate=0.1, beta_2=0.5, amsgrad=True),
     lambda p, g: adam_reference(p, g, 0.1, beta_2=0.5, amsgrad=True)),
    ("rmsprop", lambda: optimizers.RMSprop(learning_rate=0.05), lambda p, g: rmsprop_reference(p, g, 0.05)),
    ("rmsprop_momentum", lambda: optimizers.RMSprop(learning_rate=0.05, momentum=0.8),
     lambda p, g: rmsprop_reference(p, g, 0.05, momentum=0.8)),
    ("rmsprop_centered", lambda: optimizers.RMSprop(learning_rate=0.05, centered=True),
     lambda p, g: rmsprop_reference(p, g, 0.05, centered=True)),
    ("rmsprop_centered_momentum", lambda: optimizers.RMSprop(learning_rate=0.05, rho=0.8, momentum=0.5,
                                                             centered=True),
     lambda p, g: rmsprop_reference(p, g, 0.05, rho=0.8, momentum=0.5, centered=True)),
]


@pytest.mark.parametrize("name, make, reference", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("problem", [quadratic_problem, _shrinking_gradients], ids=["quadratic", "shrinking"])
@pytest.mark.parametrize("as_variables", [True, False], ids=["variables", "arrays"])
def test_matches_keras_update_rules(name, make, reference, problem, as_variables):
    p0, grads_fn = problem()
    got = run_engine(make(), p0, grads_fn, as_variables)
    expected = reference(p0, grads_fn)
    for g, e, start in zip(got, expected, p0):
        assert not np.allclose(e, start)  # the steps are large enough to matter
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "variant, base",
    [("sgd_nesterov", "sgd_momentum"), ("adam_amsgrad", None), ("rmsprop_centered", "rmsprop"),
     ("rmsprop_momentum", "rmsprop")],
)
def test_variants_differ_from_their_base(variant, base):
    # Guards the reference tests above against a variant flag that is silently ignored.
    cases = {c[0]: c for c in CASES}
    p0, grads_fn = _shrinking_gradients()
    if base is None:  # AMSGrad vs plain Adam with the same betas
        plain = run_engine(optimizers.Adam(learning_rate=0.1, beta_2=0.5), p0, grads_fn)
    else:
        plain = run_engine(cases[base][1](), p0, grads_fn)
    variant_values = run_engine(cases[variant][1](), p0, grads_fn)
    assert not np.allclose(plain[0], variant_values[0], rtol=1e-4)


def test_float32_variables_stay_float32_and_in_place():
    var = Variable(np.ones((2, 2), dtype=np.float32), "w")
    buffer = var.value
    opt = optimizers.Adam(learning_rate=0.1)
    opt.apply_gradients([(np.ones((2, 2)), var)])
    assert var.value is buffer and var.value.dtype == np.float32
    np.testing.assert_allclose(var.value, 1.0 - 0.1, rtol=1e-5)  # first Adam step is lr * sign(g)


def test_gradients_passed_in_are_not_modified():
    g = np.array([3.0, -4.0])
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True, clipnorm=1.0)
    opt.apply_gradients([(g, np.zeros(2))])
    np.testing.assert_array_equal(g, [3.0, -4.0])


# -- clipping and weight decay ---------------------------------------------------


def test_clipvalue_clips_each_entry():
    p = np.zeros(3)
    optimizers.SGD(learning_rate=1.0, clipvalue=0.5).apply_gradients([(np.array([2.0, -3.0, 0.1]), p)])
    np.testing.assert_allclose(p, [-0.5, 0.5, -0.1])


def test_clipnorm_clips_each_variable_separately():
    p1, p2 = np.zeros(2), np.zeros(2)
    g1, g2 = np.array([3.0, 4.0]), np.array([0.3, 0.4])  # norms 5 and 0.5
    optimizers.SGD(learning_rate=1.0, clipnorm=1.0).apply_gradients([(g1, p1), (g2, p2)])
    np.testing.assert_allclose(p1, -g1 / 5.0)
    np.testing.assert_allclose(p2, -g2)


def test_global_clipnorm_scales_all_gradients_together():
    p1, p2 = np.zeros(2), np.zeros(2)
    g1, g2 = np.array([3.0, 4.0]), np.array([0.0, 12.0])  # global norm 13
    optimizers.SGD(learning_rate=1.0, global_clipnorm=1.0).apply_gradients([(g1, p1), (g2, p2)])
    np.testing.assert_allclose(p1, -g1 / 13.0)
    np.testing.assert_allclose(p2, -g2 / 13.0)
    q = np.zeros(2)
    optimizers.SGD(learning_rate=1.0, global_clipnorm=100.0).apply_gradients([(g1, q)])
    np.testing.assert_allclose(q, -g1)  # below the threshold: untouched


@pytest.mark.parametrize("make", [lambda: optimizers.SGD(learning_rate=0.1, weight_decay=0.5),
                                  lambda: optimizers.Adam(learning_rate=0.1, weight_decay=0.5)])


def test_weight_decay_is_decoupled_and_scaled_by_the_learning_rate(make):
    # Keras 3: variable -= variable * weight_decay * lr, before the update step.
    p0 = np.array([1.0, -2.0, 3.0])
    g = np.array([0.5, 0.5, -1.0])
    decayed, plain = p0.copy(), p0 * (1 - 0.1 * 0.5)
    opt = make()
    opt.apply_gradients([(g, decayed)])
    reference = make()
    reference.weight_decay = None
    reference.apply_gradients([(g, plain)])
    np.testing.assert_allclose(decayed, plain, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [{"clipnorm": 1.0, "global_clipnorm": 1.0},
     {"clipnorm": 1.0, "clipvalue": 1.0},
     {"clipvalue": 1.0, "global_clipnorm": 1.0}],
    ids=["clipnorm+global", "clipnorm+clipvalue", "clipvalue+global"],
)
def test_only_one_clipping_argument_can_be_set(kwargs):
    # Keras 3: "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set."
    with pytest.raises(ValueError, match="only one of|Only one of"):
        optimizers.SGD(**kwargs)


# -- learning rate -------------------------------------------------------------------


def test_callable_learning_rate_is_evaluated_at_the_iteration_count():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    p = np.zeros(1)
    opt = optimizers.SGD(learning_rate=schedule)
    for _ in range(3):
        opt.apply_gradients([(np.ones(1), p)])
    assert seen[:3] == [0, 1, 2]
    np.testing.assert_allclose(p, -(0.1 + 0.05 + 0.1 / 3))


def test_learning_rate_can_be_set():
    opt = optimizers.Adam()
    assert opt.learning_rate == 0.001
    opt.learning_rate = 0.01
    assert opt.learning_rate == 0.01 and opt.get_config()["learning_rate"] == 0.01
    with pytest.raises(ValueError, match=r"'learning_rate' parameter of Adam"):
        opt.learning_rate = -1.0


# -- registry, defaults, config --------------------------------------------------------


def test_keras_defaults():
    assert optimizers.SGD().get_config()["learning_rate"] == 0.01
    adam = optimizers.Adam().get_config()
    assert (adam["learning_rate"], adam["beta_1"], adam["beta_2"], adam["epsilon"], adam["amsgrad"]) == (
        0.001, 0.9, 0.999, 1e-7, False)
    rms = optimizers.RMSprop().get_config()
    assert (rms["learning_rate"], rms["rho"], rms["momentum"], rms["epsilon"], rms["centered"]) == (
        0.001, 0.9, 0.0, 1e-7, False)


@pytest.mark.parametrize("name, cls", [("sgd", "SGD"), ("SGD", "SGD"), ("adam", "Adam"), ("Adam", "Adam"),
                                       ("rmsprop", "RMSprop"), ("RMSprop", "RMSprop")])


def test_names_resolve_case_insensitively(name, cls):
    assert type(optimizers.get(name)).__name__ == cls


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.Adam, optimizers.RMSprop])
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.02, clipnorm=2.0, weight_decay=0.1)
    config = opt.get_config()
    assert cls.from_config(config).get_config() == config
    clone = optimizers.deserialize(optimizers.serialize(opt))
    assert type(clone) is cls and clone.get_config() == config


def test_get_returns_instances_unchanged():
    opt = optimizers.SGD(learning_rate=0.3)
    assert optimizers.get(opt) is opt


def test_unknown_name_and_bad_arguments():
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier: 'adamz'.*Adam, AdamW, .*RMSprop, SGD"):
        optimizers.get("adamz")
    with pytest.raises(ValueError, match=r"'learning_rate' parameter of SGD.*Got 0"):
        optimizers.SGD(learning_rate=0)
    with pytest.raises(ValueError, match=r"'momentum' parameter of SGD"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match=r"'beta_1' parameter of Adam"):
        optimizers.Adam(beta_1=1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument.*lr_decay"):
        optimizers.Adam(lr_decay=0.1)


def test_variables_are_iterations_then_slots():
    opt = optimizers.Adam()
    opt.apply_gradients([(np.ones(3), np.zeros(3))])
    variables = opt.variables
    assert int(variables[0]) == 1 and [v.shape for v in variables[1:]] == [(3,), (3,)]
