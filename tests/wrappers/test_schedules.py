"""lr_schedule names: each changes the learning rate during fit as documented."""

import numpy as np
import pytest

from automl.keras.callbacks import ReduceLROnPlateau
from automl.keras.optimizers import schedules
from automl.wrappers import SCHEDULE_NAMES, KerasClassifier, _base, make_lr_callbacks, make_schedule

# 200 samples, batch 50: 4 steps per epoch.
BASE = {"hidden_layer_sizes": (8,), "epochs": 6, "batch_size": 50, "learning_rate": 0.01,
        "random_state": 0}


@pytest.fixture(scope="module")
def data(small_digits):
    X, y = small_digits
    return X[:200], y[:200]


def _rates(clf):
    return np.array(clf.history_["learning_rate"])


def test_constant_keeps_the_rate(data):
    clf = KerasClassifier(**BASE, lr_schedule="constant").fit(*data)
    np.testing.assert_allclose(_rates(clf), 0.01)
    assert clf.model_.optimizer.learning_rate == pytest.approx(0.01)
    assert not callable(clf.model_.optimizer._learning_rate)
    with pytest.raises(ValueError, match=r"lr_schedule='constant' takes no lr_schedule__ param"):
        KerasClassifier(**BASE, lr_schedule="constant", lr_schedule__factor=0.5).fit(*data)


def test_step_multiplies_by_factor_every_step_epochs(data):
    clf = KerasClassifier(**BASE, lr_schedule="step", lr_schedule__factor=0.5,
                          lr_schedule__step_epochs=2).fit(*data)
    np.testing.assert_allclose(_rates(clf), [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025])
    schedule = clf.model_.optimizer._learning_rate
    assert type(schedule) is schedules.ExponentialDecay and schedule.staircase
    assert schedule.decay_steps == 2 * 4
    default = KerasClassifier(**BASE, lr_schedule="step").fit(*data)  # 0.5 every epochs // 3
    np.testing.assert_allclose(_rates(default), [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025])
    with pytest.raises(ValueError, match=r"has no argument\(s\) \['decay_rate'\]; its arguments "
                                         r"are \['factor', 'step_epochs'\]"):
        KerasClassifier(**BASE, lr_schedule="step", lr_schedule__decay_rate=0.5).fit(*data)


def test_exponential_decays_per_epoch_in_epochs_or_steps(data):
    clf = KerasClassifier(**BASE, lr_schedule="exponential",
                          lr_schedule__decay_rate=0.5).fit(*data)
    np.testing.assert_allclose(_rates(clf), 0.01 * 0.5 ** np.arange(6), rtol=1e-6)
    by_epochs = KerasClassifier(**BASE, lr_schedule="exponential", lr_schedule__decay_rate=0.5,
                                lr_schedule__decay_epochs=2).fit(*data)
    assert by_epochs.model_.optimizer._learning_rate.decay_steps == 8
    np.testing.assert_allclose(_rates(by_epochs), 0.01 * 0.5 ** (np.arange(6) / 2), rtol=1e-6)
    with pytest.raises(ValueError, match="both lr_schedule__decay_epochs and "
                                         "lr_schedule__decay_steps"):
        KerasClassifier(**BASE, lr_schedule="exponential", lr_schedule__decay_epochs=2,
                        lr_schedule__decay_steps=3).fit(*data)


def test_cosine_with_warmup_rises_then_decays(data):
    clf = KerasClassifier(**BASE, lr_schedule="cosine", lr_schedule__warmup_epochs=2).fit(*data)
    rates = _rates(clf)
    assert rates[0] == 0.0 and rates[1] == pytest.approx(0.005)  # linear from 0 ...
    assert rates[2] == pytest.approx(0.01)  # ... to learning_rate after 2 epochs
    assert np.all(np.diff(rates[2:]) < 0) and rates[-1] < 0.002  # then cosine to 0
    config = clf.model_.optimizer._learning_rate.get_config()
    assert (config["warmup_steps"], config["decay_steps"]) == (8, 24 - 8)
    assert config["warmup_target"] == 0.01 and config["initial_learning_rate"] == 0.0
    plain = KerasClassifier(**BASE, lr_schedule="cosine", lr_schedule__alpha=0.1).fit(*data)
    assert np.all(np.diff(_rates(plain)) < 0) and _rates(plain)[0] == 0.01
    assert plain.model_.optimizer.learning_rate == pytest.approx(0.001)  # alpha * lr at the end


def test_polynomial_decays_to_zero_over_the_run(data):
    clf = KerasClassifier(**BASE, lr_schedule="polynomial", lr_schedule__power=2.0).fit(*data)
    rates = _rates(clf)
    np.testing.assert_allclose(rates, 0.01 * (1 - np.arange(6) / 6) ** 2, rtol=1e-6)
    assert clf.model_.optimizer.learning_rate == 0.0
    # The class name keeps Keras's default end_learning_rate.
    keras_like = KerasClassifier(**BASE, lr_schedule="PolynomialDecay").fit(*data)
    assert keras_like.model_.optimizer._learning_rate.end_learning_rate == 0.0001


def test_reduce_on_plateau_lowers_the_rate(data, monkeypatch):
    never_improves = {"lr_schedule__patience": 0, "lr_schedule__min_delta": 100.0}
    clf = KerasClassifier(**BASE, lr_schedule="reduce_on_plateau", lr_schedule__factor=0.5,
                          **never_improves).fit(*data)
    np.testing.assert_allclose(_rates(clf), 0.01 * 0.5 ** np.array([0, 0, 1, 2, 3, 4]))
    assert clf.callbacks_ == []  # the estimator's callbacks parameter is untouched
    # It watches val_loss when there is validation data, loss otherwise.
    made = []

    def recording(*args, **kwargs):
        made.extend(_base.make_lr_callbacks.__wrapped__(*args, **kwargs))
        return made[-1:]

    recording.__wrapped__ = make_lr_callbacks
    monkeypatch.setattr(_base, "make_lr_callbacks", recording)
    KerasClassifier(**BASE, lr_schedule="reduce_on_plateau", validation_split=0.25).fit(*data)
    KerasClassifier(**BASE, lr_schedule="reduce_on_plateau").fit(*data)
    assert [(type(cb), cb.monitor, cb.patience) for cb in made] == [
        (ReduceLROnPlateau, "val_loss", 1), (ReduceLROnPlateau, "loss", 1)]  # 6 // 10 -> 1
    assert make_lr_callbacks("reduce_on_plateau", {}, has_validation=True, epochs=30,
                             owner="x")[0].patience == 3
    with pytest.raises(ValueError, match=r"\(ReduceLROnPlateau\) has no argument\(s\) "
                                         r"\['decay_rate'\]"):
        KerasClassifier(**BASE, lr_schedule="reduce_on_plateau",
                        lr_schedule__decay_rate=0.5).fit(*data)


def test_every_name_is_accepted_and_changes_or_keeps_the_rate(data):
    extra = {"piecewise_constant": {"lr_schedule__boundaries": [8],
                                    "lr_schedule__values": [0.01, 0.001]},
             "reduce_on_plateau": {"lr_schedule__patience": 0, "lr_schedule__min_delta": 100.0}}
    for name in SCHEDULE_NAMES:
        clf = KerasClassifier(**BASE, lr_schedule=name, **extra.get(name, {})).fit(*data)
        rates = _rates(clf)
        assert len(rates) == 6
        if name == "constant":
            assert np.ptp(rates) == 0
        else:
            assert rates[-1] < rates[0] or name == "cosine_restarts", name
            assert np.ptp(rates) > 0, name


def test_no_learning_rate_log_without_a_schedule(data):
    clf = KerasClassifier(**BASE).fit(*data)
    assert "learning_rate" not in clf.history_


def test_make_schedule_epoch_arguments_and_instances():
    cosine = make_schedule("cosine_restarts", 0.1, {"first_decay_epochs": 1.5},
                           steps_per_epoch=10, epochs=5, owner="x")
    assert cosine.first_decay_steps == 15
    instance = schedules.CosineDecay(0.1, decay_steps=100)
    copy = make_schedule(instance, 0.5, {"decay_epochs": 2}, steps_per_epoch=10, epochs=5,
                         owner="x")
    assert copy is not instance and copy.decay_steps == 20 and instance.decay_steps == 100
    with pytest.raises(ValueError, match="The 'lr_schedule__decay_epochs' parameter of x must be"):
        make_schedule("exponential", 0.1, {"decay_epochs": 0}, steps_per_epoch=10, epochs=5,
                      owner="x")
    with pytest.raises(ValueError, match=r"of x must be None, a LearningRateSchedule or one of "
                                         r"\['constant', 'step', "):
        make_schedule("staircase", 0.1, {}, steps_per_epoch=10, epochs=5, owner="x")


def test_fit_callbacks_see_the_learning_rate(data):
    from automl.keras.callbacks import LambdaCallback

    seen = []
    spy = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs["learning_rate"]))
    clf = KerasClassifier(**BASE, lr_schedule="step", lr_schedule__step_epochs=1,
                          lr_schedule__factor=0.5)
    clf.fit(*data, callbacks=[spy])
    np.testing.assert_allclose(seen, 0.01 * 0.5 ** np.arange(6))
