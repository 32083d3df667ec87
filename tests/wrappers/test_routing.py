"""Parameters: get/set/clone, routed ``<component>__<arg>`` and nested object parameters."""

import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV

from automl.keras import Input, Sequential, callbacks, optimizers, regularizers
from automl.keras.layers import Dense
from automl.keras.optimizers import schedules
from automl.wrappers import KerasClassifier, KerasRegressor

from .builders import create_digits_model

TINY = {"hidden_layer_sizes": (8,), "epochs": 2, "random_state": 0}


# ----------------------------------------------------------------------
# get_params / set_params / clone
# ----------------------------------------------------------------------
def test_get_set_clone_are_exact_for_every_kind_of_parameter():
    schedule = schedules.ExponentialDecay(0.1, 10, 0.5)
    stop = callbacks.EarlyStopping(patience=3)
    clf = KerasClassifier(
        build_fn=create_digits_model,
        units=8,  # a builder argument as a plain parameter (classic style)
        model__activation="tanh",
        optimizer__learning_rate=schedule,
        loss__label_smoothing=0.1,
        callbacks=[stop],
        callbacks__0__patience=5,
        fit__shuffle=False,
        predict__batch_size=7,
        lr_schedule=None,
    )
    params = clf.get_params()
    for key in ("units", "model__activation", "optimizer__learning_rate", "loss__label_smoothing",
                "callbacks__0__patience", "fit__shuffle", "predict__batch_size"):
        assert key in params
    assert params["optimizer__learning_rate"] is schedule
    assert clf.units == 8  # free parameters read like attributes
    cloned = clone(clf)
    assert cloned is not clf
    assert set(cloned.get_params()) == set(params)
    assert cloned.get_params()["units"] == 8
    assert type(cloned.get_params()["optimizer__learning_rate"]) is schedules.ExponentialDecay
    # The constructor accepts exactly what get_params returns.
    rebuilt = KerasClassifier(**clf.get_params(deep=False))
    assert rebuilt.get_params(deep=False).keys() == params.keys()
    assert "units" not in vars(clf)  # free parameters are not attributes set in __init__


def test_set_params_accepts_builder_arguments_and_routed_names():
    clf = KerasClassifier(build_fn=create_digits_model)
    clf.set_params(units=5, optimizer__momentum=0.9, model__units=6)
    assert clf.get_params()["units"] == 5
    assert clf.get_params()["optimizer__momentum"] == 0.9
    # A new builder and its arguments can be set in the same call, in any order.
    def other(width=3):
        return create_digits_model(units=width)

    clf.set_params(width=4, build_fn=other)
    assert clf.get_params()["width"] == 4
    with pytest.raises(ValueError, match="Invalid parameter 'nope'"):
        clf.set_params(nope=1)


def test_nested_parameter_of_an_unknown_argument_is_an_error(iris_like):
    X, y = iris_like
    with pytest.raises(ValueError, match="nested parameter 'bias_regularizer__l2'"):
        KerasClassifier(**TINY, bias_regularizer__l2=0.1).fit(X, y)
    with pytest.raises(ValueError, match="unknown parameter 'nuerons'.*model__nuerons"):
        KerasClassifier(**TINY, nuerons=5).fit(X, y)


# ----------------------------------------------------------------------
# model__ and builder arguments
# ----------------------------------------------------------------------
def test_build_fn_receives_matching_params_meta_and_routed_ones(small_digits):
    X, y = small_digits
    calls = []

    def builder(activation, units, meta, n_classes_, target_type_, extra=None):
        calls.append((activation, units, n_classes_, target_type_, extra))
        assert meta["n_features_in_"] == 64
        return create_digits_model(activation=activation, units=units)

    clf = KerasClassifier(build_fn=builder, activation="tanh", units=12, model__extra=7, epochs=1)
    clf.fit(X, y)
    assert calls == [("tanh", 12, 10, "multiclass", 7)]
    assert clf.model_.layers[0].units == 12
    clf.set_params(units=5).fit(X, y)
    assert calls[-1][1] == 5


def test_routed_model_params_reach_the_builtin_builder(small_digits):
    X, y = small_digits
    clf = KerasClassifier(**TINY, model__hidden_layer_sizes=(7, 5)).fit(X, y)
    assert [layer.units for layer in clf.model_.layers] == [7, 5, 10]


def test_nested_regularizer_and_initializer_parameters(small_digits):
    X, y = small_digits
    clf = KerasClassifier(**TINY, kernel_regularizer__l2=0.5).fit(X, y)  # None -> L1L2
    reg = clf.model_.layers[0].kernel_regularizer
    assert isinstance(reg, regularizers.L1L2) and reg.l2 == 0.5 and reg.l1 == 0.0
    clf = KerasClassifier(**TINY, kernel_regularizer="l1", kernel_regularizer__l1=0.25).fit(X, y)
    assert clf.model_.layers[0].kernel_regularizer.get_config() == {"l1": 0.25}
    clf = KerasClassifier(**TINY, kernel_initializer="he_normal",
                          model__kernel_initializer__seed=3).fit(X, y)
    assert clf.model_.layers[0].kernel_initializer.get_config()["seed"] == 3
    with pytest.raises(ValueError, match="either 'kernel_regularizer' or 'l1'/'l2'"):
        KerasClassifier(**TINY, l2=0.1, kernel_regularizer="l2").fit(X, y)
    with pytest.raises(ValueError, match=r"L2 has no argument\(s\) \['l3'\]"):
        KerasClassifier(**TINY, kernel_regularizer="l2", kernel_regularizer__l3=1.0).fit(X, y)


def test_nested_parameters_on_a_user_builder(small_digits):
    X, y = small_digits
    seen = {}

    def builder(kernel_regularizer=None):
        seen["reg"] = kernel_regularizer
        model = Sequential([Input(shape=(64,)),
                            Dense(10, activation="softmax", kernel_regularizer=kernel_regularizer)])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    KerasClassifier(model=builder, kernel_regularizer="l2", kernel_regularizer__l2=0.01,
                    epochs=1).fit(X, y)
    assert isinstance(seen["reg"], regularizers.L2) and seen["reg"].l2 == 0.01
    KerasClassifier(model=builder, model__kernel_regularizer__l1=0.02, epochs=1).fit(X, y)
    assert seen["reg"].get_config() == {"l1": 0.02, "l2": 0.0}


# ----------------------------------------------------------------------
# optimizer__, lr_schedule, loss__
# ----------------------------------------------------------------------
def test_routed_optimizer_fit_and_predict_params(small_digits, monkeypatch):
    X, y = small_digits
    clf = KerasClassifier(**{**TINY, "epochs": 3}, optimizer="SGD", optimizer__momentum=0.9,
                          optimizer__learning_rate=0.02, fit__batch_size=64,
                          predict__batch_size=7).fit(X, y)
    opt = clf.model_.optimizer
    assert type(opt).__name__ == "SGD"
    assert opt.momentum == pytest.approx(0.9)
    assert opt.learning_rate == pytest.approx(0.02)  # optimizer__ wins over learning_rate
    assert opt.iterations == 3 * int(np.ceil(400 / 64))  # fit__batch_size was used
    sizes = []
    call = type(clf.model_).call
    monkeypatch.setattr(type(clf.model_), "call",
                        lambda self, x, training=False: sizes.append(len(x)) or call(self, x, training))
    clf.predict(X[:20])
    assert sizes == [7, 7, 6]  # predict__batch_size


def test_optimizer_learning_rate_given_a_schedule(small_digits):
    X, y = small_digits
    schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    clf = KerasClassifier(**TINY, optimizer="sgd", optimizer__learning_rate=schedule).fit(X, y)
    opt = clf.model_.optimizer
    steps = 2 * int(np.ceil(400 / 32))
    assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** (steps / 10), rel=1e-6)
    assert clf.get_params()["optimizer__learning_rate"] is schedule  # not modified


@pytest.mark.parametrize(
    ("name", "cls", "check"),
    [
        ("cosine", schedules.CosineDecay, {"decay_steps": 26}),
        ("exponential", schedules.ExponentialDecay, {"decay_steps": 13, "decay_rate": 0.9}),
        ("inverse_time", schedules.InverseTimeDecay, {"decay_steps": 13, "decay_rate": 0.5}),
        ("polynomial", schedules.PolynomialDecay, {"decay_steps": 26}),
        ("cosine_restarts", schedules.CosineDecayRestarts, {"first_decay_steps": 13}),
        ("CosineDecay", schedules.CosineDecay, {"decay_steps": 26}),
    ],
)
def test_lr_schedule_names_are_sized_to_the_run(small_digits, name, cls, check):
    X, y = small_digits  # 400 samples, batch 32: 13 steps per epoch, 2 epochs
    clf = KerasClassifier(**TINY, learning_rate=0.01, lr_schedule=name).fit(X, y)
    schedule = clf.model_.optimizer._learning_rate
    assert type(schedule) is cls
    config = schedule.get_config()
    assert config["initial_learning_rate"] == 0.01
    for key, value in check.items():
        assert config[key] == value
    assert clf.model_.optimizer.learning_rate < 0.01


def test_lr_schedule_arguments_and_errors(small_digits):
    X, y = small_digits
    clf = KerasClassifier(**TINY, lr_schedule="cosine", lr_schedule__alpha=0.5,
                          lr_schedule__warmup_target=0.01, lr_schedule__warmup_steps=5).fit(X, y)
    config = clf.model_.optimizer._learning_rate.get_config()
    assert (config["alpha"], config["warmup_target"], config["warmup_steps"]) == (0.5, 0.01, 5)
    piecewise = KerasClassifier(**TINY, lr_schedule="piecewise_constant",
                                lr_schedule__boundaries=[5], lr_schedule__values=[0.01, 0.001])
    assert piecewise.fit(X, y).model_.optimizer.learning_rate == pytest.approx(0.001)
    with pytest.raises(ValueError, match="needs lr_schedule__boundaries, lr_schedule__values"):
        KerasClassifier(**TINY, lr_schedule="piecewise_constant").fit(X, y)
    message = "The 'lr_schedule' parameter of KerasClassifier must be None or a schedule name ("
    with pytest.raises(ValueError, match=re.escape(message)):
        KerasClassifier(**TINY, lr_schedule="staircase").fit(X, y)
    with pytest.raises(ValueError, match="lr_schedule__ parameters but lr_schedule is None"):
        KerasClassifier(**TINY, lr_schedule__alpha=0.1).fit(X, y)


def test_routed_parameters_recompile_a_compiled_model(small_digits):
    X, y = small_digits
    clf = KerasClassifier(build_fn=create_digits_model, optimizer="sgd",
                          optimizer__learning_rate=0.05, optimizer__momentum=0.5,
                          lr_schedule="exponential", loss__reduction="sum", epochs=1)
    clf.fit(X, y)
    opt = clf.model_.optimizer
    assert type(opt).__name__ == "SGD" and opt.momentum == 0.5
    assert opt._learning_rate.get_config()["initial_learning_rate"] == 0.05
    assert clf.model_.loss.get_config()["reduction"] == "sum"


def test_loss_arguments(small_digits):
    X, y = small_digits
    clf = KerasClassifier(**TINY, loss="categorical_crossentropy",
                          loss__label_smoothing=0.1).fit(X, y)
    assert clf.model_.loss.get_config()["label_smoothing"] == 0.1
    assert clf.model_.compiled_loss_name == "categorical_crossentropy"
    # from_logits on the default loss: the built-in output is linear, probabilities still sum to 1.
    logits = KerasClassifier(**TINY, learning_rate=0.01, loss__from_logits=True).fit(X, y)
    assert str(logits.model_.layers[-1].activation) == "<activation linear>"
    np.testing.assert_allclose(logits.predict_proba(X[:5]).sum(axis=1), 1.0)
    # Same training as softmax + cross-entropy: the same probabilities.
    plain = KerasClassifier(**TINY, learning_rate=0.01).fit(X, y)
    np.testing.assert_allclose(logits.predict_proba(X), plain.predict_proba(X), atol=1e-4)
    reg = KerasRegressor(**TINY, loss="huber", loss__delta=0.5).fit(X, y / 10.0)
    assert reg.model_.loss.get_config()["delta"] == 0.5


# ----------------------------------------------------------------------
# callbacks
# ----------------------------------------------------------------------
def test_callbacks_are_copied_and_routed(small_digits):
    X, y = small_digits
    stop = callbacks.EarlyStopping(monitor="loss", patience=1)
    clf = KerasClassifier(**TINY, callbacks=[stop], callbacks__0__patience=4).fit(X, y)
    assert stop.model is None and stop.patience == 1  # the parameter is untouched
    used = clf.callbacks_[0]
    assert used is not stop and used.patience == 4 and used.monitor == "loss"
    recorded = []
    runtime = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: recorded.append(epoch))
    clf.fit(X, y, callbacks=[runtime])
    assert recorded == [0, 1]  # fit-time callbacks are used as given
    with pytest.raises(ValueError, match=r"callbacks__<i>__<arg> with i in \[0, 1\)"):
        KerasClassifier(**TINY, callbacks=[stop], callbacks__3__patience=2).fit(X, y)
    with pytest.raises(ValueError, match=r"has no argument\(s\) \['patients'\]"):
        KerasClassifier(**TINY, callbacks=[stop], callbacks__0__patients=2).fit(X, y)


def test_early_stopping_stops(small_digits):
    X, y = small_digits
    stop = callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=0)
    clf = KerasClassifier(**{**TINY, "epochs": 20}, callbacks=[stop]).fit(X, y)
    assert len(clf.history_["loss"]) == 2


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_grid_search_over_nested_and_routed_parameters(small_digits):
    X, y = small_digits
    grid = GridSearchCV(
        KerasClassifier(hidden_layer_sizes=(8,), epochs=2, optimizer="sgd", random_state=0),
        {
            "kernel_regularizer__l2": [0.0, 1e-3],
            "lr_schedule": [None, "cosine"],
            "optimizer__learning_rate": [0.05, schedules.ExponentialDecay(0.05, 5, 0.5)],
        },
        cv=2,
    )
    # lr_schedule together with a schedule in optimizer__learning_rate is an error: the
    # search records it as a failed candidate (NaN score) and keeps going.
    with pytest.warns(FitFailedWarning, match="both lr_schedule and a schedule"):
        grid.fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert np.isfinite(scores).sum() == 6
    assert grid.best_estimator_.model_.layers[0].kernel_regularizer.l2 in (0.0, 1e-3)


def test_optimizer_instance_is_copied_and_keeps_its_settings(iris_like):
    X, y = iris_like
    sgd = optimizers.SGD(learning_rate=0.05, momentum=0.5)
    clf = KerasClassifier(hidden_layer_sizes=(8,), epochs=2, optimizer=sgd,
                          learning_rate=0.9).fit(X, y)
    assert clf.model_.optimizer is not sgd
    assert clf.model_.optimizer.learning_rate == pytest.approx(0.05)
    assert clf.model_.optimizer.momentum == pytest.approx(0.5)
    assert sgd.iterations == 0
