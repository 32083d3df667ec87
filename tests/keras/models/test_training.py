"""compile / fit / evaluate / predict: gradients, the seed program, reproducibility, weights, I/O."""

import pickle

import numpy as np
import pytest

from automl.keras import Input, Sequential, backend, losses, optimizers, regularizers, utils
from automl.keras.layers import Activation, Dense, Dropout, Flatten
from automl.testing import check_model_gradients, numeric_gradient

# -- whole-model gradient checks (float64) ----------------------------------------------


def _onehot(n, k, seed):
    return utils.to_categorical(np.random.default_rng(seed).integers(0, k, n), k)


GRADIENT_CASES = {
    # name: (layers, loss, y, sample_weight, expected fused)
    "relu_softmax_l2_cce": (
        lambda: [Input(shape=(4,)), Dense(5, activation="relu", kernel_regularizer=regularizers.L2(0.05)),
                 Dense(3, activation="softmax", kernel_regularizer=regularizers.L2(0.05))],
        "categorical_crossentropy", _onehot(6, 3, 1), None, True),
    "cce_label_smoothing": (
        lambda: [Input(shape=(4,)), Dense(5, activation="relu"), Dense(3, activation="softmax")],
        losses.CategoricalCrossentropy(label_smoothing=0.1), _onehot(6, 3, 1), None, True),
    "cce_from_logits_bias_l1": (
        lambda: [Input(shape=(4,)), Dense(5, activation="tanh", bias_regularizer=regularizers.L1(0.1),
                                          bias_initializer="random_normal"), Dense(3)],
        losses.CategoricalCrossentropy(from_logits=True), _onehot(6, 3, 1), None, False),
    "sparse_activity_weighted": (
        lambda: [Input(shape=(4,)), Dense(5, activation="sigmoid", activity_regularizer=regularizers.L2(0.01)),
                 Dense(3, activation="softmax")],
        "sparse_categorical_crossentropy", np.array([0, 2, 1, 1, 0, 2]), np.linspace(0.2, 2.0, 6), True),
    "bce_multilabel_weighted": (
        lambda: [Input(shape=(4,)), Dense(5, activation="relu", bias_regularizer=regularizers.L1L2(0.01, 0.1),
                                          bias_initializer="random_normal"), Dense(2, activation="sigmoid")],
        "binary_crossentropy", np.random.default_rng(2).integers(0, 2, (6, 2)), np.linspace(2.0, 0.5, 6), True),
    "mse_activity_on_output": (
        lambda: [Input(shape=(4,)), Dense(5, activation="tanh", kernel_regularizer=regularizers.L1(0.01)),
                 Dense(2, activity_regularizer=regularizers.L2(0.1))],
        "mse", np.random.default_rng(3).standard_normal((6, 2)), None, False),
    "softmax_output_with_activity_regularizer": (
        lambda: [Input(shape=(4,)), Dense(5, activation="relu"),
                 Dense(3, activation="softmax", activity_regularizer=regularizers.L2(0.1))],
        "categorical_crossentropy", _onehot(6, 3, 1), None, False),
    "flatten_then_activation_layer": (
        lambda: [Input(shape=(2, 3)), Flatten(), Dense(4, activation="relu"), Dense(3), Activation("softmax")],
        "categorical_crossentropy", _onehot(6, 3, 1), None, True),
    "dense_on_3d_inputs": (
        lambda: [Input(shape=(2, 3)), Dense(4, activation="tanh"), Dense(3, activation="softmax")],
        "categorical_crossentropy", utils.to_categorical(np.random.default_rng(4).integers(0, 3, (6, 2)), 3),
        None, True),
    "frozen_first_layer": (
        lambda: [Input(shape=(4,)), Dense(5, activation="relu", trainable=False),
                 Dense(3, activation="softmax", kernel_regularizer="l2")],
        "categorical_crossentropy", _onehot(6, 3, 1), None, True),
}


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_packed_gradient_buffer_matches_central_differences(name, float64):
    build, loss, y, sw, fused = GRADIENT_CASES[name]
    with backend.seed_scope(0):
        model = Sequential(build())
    model.compile(optimizer="sgd", loss=loss)
    state = model._prepare_training()
    assert state["fused"] is fused
    assert state["params"].dtype == np.float64
    assert state["grads"].size == sum(v.value.size for v in model.trainable_weights)
    shape = (6, *model.input_shape[1:])
    x = np.random.default_rng(0).standard_normal(shape)
    check_model_gradients(model, x, y, sw, rtol=1e-5, atol=1e-7)


def test_gradient_check_catches_a_wrong_penalty_gradient(float64):
    # The model check must fail if a regularizer's gradient is off.
    class BadL2(regularizers.L2):
        def add_gradient(self, w, grad):
            grad += 3.0 * self.l2 * w  # should be 2 * l2 * w

    with backend.seed_scope(0):
        model = Sequential([Input(shape=(3,)), Dense(2, activation="softmax", kernel_regularizer=BadL2(0.5))])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(AssertionError, match="kernel"):
        check_model_gradients(model, np.ones((4, 3)), _onehot(4, 2, 0))


def test_sgd_step_in_fit_is_minus_lr_times_the_true_gradient(float64):
    # End to end: one train_on_batch with plain SGD moves every weight by -lr * dLoss/dw,
    # where dLoss/dw comes from central differences of evaluate().
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), _onehot(8, 2, 5)
    with backend.seed_scope(0):
        model = Sequential([Input(shape=(3,)), Dense(4, activation="tanh", kernel_regularizer="l2"),
                            Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="categorical_crossentropy")

    def objective(_):
        return model.evaluate(x, y, batch_size=8, verbose=0)

    objective(None)  # packs the weights into the training buffer (re-pointing var.value) first
    expected = []
    for var in model.trainable_weights:
        expected.append(var.numpy() - 0.5 * numeric_gradient(objective, var.value))
    model.train_on_batch(x, y)
    for var, exp in zip(model.trainable_weights, expected):
        np.testing.assert_allclose(var.value, exp, rtol=1e-6, atol=1e-8)


def test_clipnorm_in_fit_clips_each_weight_separately(float64):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), _onehot(8, 2, 5)
    with backend.seed_scope(0):
        model = Sequential([Input(shape=(3,)), Dense(4, activation="tanh"), Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=1.0, clipnorm=1e-3), loss="categorical_crossentropy")
    before = model.get_weights()
    model.train_on_batch(x, y)
    steps = [np.linalg.norm(a - b) for a, b in zip(model.get_weights(), before)]
    np.testing.assert_allclose(steps, 1e-3, rtol=1e-6)  # every gradient here is larger than 1e-3


# -- the seed program -----------------------------------------------------------------------


def test_seed_program_on_digits(digits_split):
    x_train, x_test, y_train, y_test = digits_split
    utils.set_random_seed(1)
    model = Sequential()
    model.add(Dense(128, input_shape=(64,), activation="relu"))
    model.add(Dense(64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=10, batch_size=32, validation_split=0.2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 10 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.96  # seed 1 gives 0.9644; MLPClassifier gets 0.961 on this split
    assert loss < 0.2
    proba = model.predict(x_test[:5], verbose=0)
    assert proba.shape == (5, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_keras2_style_positional_metrics_are_not_silently_dropped(digits_split):
    x_train, _, y_train, _ = digits_split
    model = Sequential([Dense(8, input_shape=(64,), activation="relu"), Dense(10, activation="softmax")])
    with pytest.warns(UserWarning, match="third positional argument"):
        model.compile("adam", "categorical_crossentropy", ["accuracy"])
    history = model.fit(x_train[:64], y_train[:64], epochs=1, verbose=0)
    assert "accuracy" in history.history


# -- reproducibility ------------------------------------------------------------------------


def _small_run(digits_split, seed=None, dropout_seed=None):
    x_train, _, y_train, _ = digits_split
    if seed is not None:
        utils.set_random_seed(seed)
    model = Sequential([Dense(16, input_shape=(64,), activation="relu"), Dropout(0.3, seed=dropout_seed),
                        Dense(10, activation="softmax")])
    initial = model.get_weights()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train[:300], y_train[:300], epochs=3, batch_size=32, validation_split=0.2, verbose=0)
    return initial, history.history, model.get_weights()


def _same(run_a, run_b):
    (init_a, hist_a, final_a), (init_b, hist_b, final_b) = run_a, run_b
    return (all(np.array_equal(a, b) for a, b in zip(init_a, init_b)) and hist_a == hist_b
            and all(np.array_equal(a, b) for a, b in zip(final_a, final_b)))


def test_same_seed_gives_identical_weights_and_history(digits_split):
    assert _same(_small_run(digits_split, seed=1), _small_run(digits_split, seed=1))


def test_different_seeds_give_different_weights_and_history(digits_split):
    (init_a, hist_a, _), (init_b, hist_b, _) = _small_run(digits_split, 1), _small_run(digits_split, 2)
    assert not np.array_equal(init_a[0], init_b[0]) and hist_a != hist_b


def test_seed_scope_reproduces_like_set_random_seed(digits_split):
    with backend.seed_scope(5):
        a = _small_run(digits_split)
    with backend.seed_scope(5):
        b = _small_run(digits_split)
    assert _same(a, b)
    utils.set_random_seed(5)
    c = _small_run(digits_split)
    assert _same(a, c)


def test_dropout_seed_alone_fixes_the_masks(digits_split):
    # Same global seed, different Dropout seeds: same initial weights, different training.
    a = _small_run(digits_split, seed=1, dropout_seed=3)
    b = _small_run(digits_split, seed=1, dropout_seed=3)
    c = _small_run(digits_split, seed=1, dropout_seed=4)
    assert _same(a, b)
    assert all(np.array_equal(x, y) for x, y in zip(a[0], c[0])) and a[1] != c[1]


def test_dropout_is_inactive_in_predict_and_evaluate(digits_split):
    x_train, x_test, y_train, y_test = digits_split
    utils.set_random_seed(0)
    model = Sequential([Dense(16, input_shape=(64,), activation="relu"), Dropout(0.5),
                        Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x_train[:100], y_train[:100], epochs=1, verbose=0)
    np.testing.assert_array_equal(model.predict(x_test[:20], verbose=0), model.predict(x_test[:20], verbose=0))
    assert model.evaluate(x_test, y_test, verbose=0) == model.evaluate(x_test, y_test, verbose=0)


# -- progress output ------------------------------------------------------------------------------


def _tiny():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    model = Sequential([Dense(1, input_shape=(3,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return model, x, y


def test_verbose_1_prints_epochs_and_a_progress_bar(capsys):
    model, x, y = _tiny()
    model.fit(x, y, epochs=2, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("Epoch")] == ["Epoch 1/2", "Epoch 2/2"]
    bars = [line for line in lines if "\u2501" in line]
    assert len(bars) == 2 and all(b.startswith("3/3 ") and " - accuracy: " in b and " - loss: " in b for b in bars)


def test_verbose_auto_is_verbose_1(capsys):
    model, x, y = _tiny()
    model.fit(x, y, epochs=1)
    assert "Epoch 1/1" in capsys.readouterr().out


def test_verbose_2_prints_one_line_per_epoch(capsys):
    model, x, y = _tiny()
    model.fit(x, y, epochs=3, batch_size=16, verbose=2, validation_split=0.25)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert all(line.startswith("2/2 - ") and "val_loss: " in line and "\u2501" not in line for line in lines[1::2])


def test_verbose_0_prints_nothing(capsys):
    model, x, y = _tiny()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


# -- sample and class weights ------------------------------------------------------------------


def test_evaluate_with_sample_weight_uses_keras_sum_over_batch_size(float64):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 3)), _onehot(10, 3, 1)
    model = Sequential([Dense(3, input_shape=(3,), activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    sw = rng.uniform(0, 2, 10)
    per_sample = losses.categorical_crossentropy(y, model.predict(x, verbose=0))
    assert model.evaluate(x, y, sample_weight=sw, verbose=0) == pytest.approx((per_sample * sw).sum() / 10)
    assert model.evaluate(x, y, sample_weight=sw, batch_size=3, verbose=0) == pytest.approx(
        (per_sample * sw).sum() / 10)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(per_sample.mean())


def _weighted_fit(digits_split, **kwargs):
    x_train, _, y_train, _ = digits_split
    utils.set_random_seed(0)
    model = Sequential([Dense(10, input_shape=(64,), activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    history = model.fit(x_train[:200], y_train[:200], epochs=2, verbose=0, **kwargs)
    return history.history["loss"], model.get_weights()


def test_class_weight_equals_the_matching_sample_weight(digits_split):
    _, _, y_train, _ = digits_split
    class_weight = {c: 1.0 + c for c in range(10)}
    sw = 1.0 + y_train[:200].argmax(axis=1)
    loss_cw, w_cw = _weighted_fit(digits_split, class_weight=class_weight)
    loss_sw, w_sw = _weighted_fit(digits_split, sample_weight=sw)
    loss_none, w_none = _weighted_fit(digits_split)
    np.testing.assert_allclose(loss_cw, loss_sw, rtol=1e-6)
    for a, b in zip(w_cw, w_sw):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert loss_cw[0] > 2 * loss_none[0]  # mean weight is 5.5
    assert not np.allclose(w_cw[0], w_none[0])


def test_sparse_labels_and_class_weight(digits_split):
    x_train, _, y_train, _ = digits_split
    labels = y_train[:200].argmax(axis=1)
    utils.set_random_seed(0)
    model = Sequential([Dense(10, input_shape=(64,), activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    zero_weight = model.fit(x_train[:200], labels, epochs=1, verbose=0,
                            class_weight={c: 0.0 for c in range(10)}).history["loss"]
    assert zero_weight == [0.0]
    before = model.get_weights()
    model.fit(x_train[:200], labels, epochs=1, verbose=0, class_weight={c: 0.0 for c in range(10)})
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)  # zero gradients: Adam's update is exactly 0


# -- other learning problems ---------------------------------------------------------------------


def test_binary_classification_on_breast_cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(x_train)
    utils.set_random_seed(0)
    model = Sequential([Dense(16, input_shape=(30,), activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(scaler.transform(x_train), y_train, epochs=20, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(scaler.transform(x_test), y_test, verbose=0)
    assert accuracy > 0.9
    proba = model.predict(scaler.transform(x_test), verbose=0)
    assert proba.shape == (len(y_test), 1) and np.all((proba > 0) & (proba < 1))
    assert type(model.compiled_metrics[0]).__name__ == "BinaryAccuracy"


def test_linear_regression_with_mse_reaches_a_low_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4))
    w, b = np.array([[1.5], [-2.0], [0.5], [3.0]]), 0.7
    y = x @ w + b + 0.01 * rng.standard_normal((256, 1))
    utils.set_random_seed(0)
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.05), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=60, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 1e-3
    np.testing.assert_allclose(model.layers[0].kernel.value, w, atol=0.02)
    np.testing.assert_allclose(model.layers[0].bias.value, [b], atol=0.02)
    assert model.evaluate(x, y.ravel(), verbose=0)[0] < 1e-3  # (n,) targets for a 1-unit output


# -- persistence ---------------------------------------------------------------------------------


def test_pickle_round_trip_predicts_identically_and_continues_training(digits_split):
    x_train, x_test, y_train, _ = digits_split
    utils.set_random_seed(0)
    model = Sequential([Dense(16, input_shape=(64,), activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[:200], y_train[:200], epochs=2, verbose=0)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
    assert clone.optimizer.iterations == model.optimizer.iterations > 0
    # The optimizer state travels with the model: both continue the same way.
    utils.set_random_seed(9)
    h_model = model.fit(x_train[:200], y_train[:200], epochs=2, verbose=0).history
    utils.set_random_seed(9)
    h_clone = clone.fit(x_train[:200], y_train[:200], epochs=2, verbose=0).history
    assert h_model == h_clone
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_get_config_from_config_then_set_weights_predicts_identically(digits_split):
    x_train, x_test, y_train, _ = digits_split
    model = Sequential([Dense(16, input_shape=(64,), activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x_train[:100], y_train[:100], epochs=1, verbose=0)
    clone = Sequential.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x_test, verbose=0), model.predict(x_test, verbose=0))


def test_compile_config_is_recorded():
    model = Sequential([Dense(2, input_shape=(3,), activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.3), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    config = model.get_compile_config()
    assert config["loss"] == "categorical_crossentropy" and config["metrics"] == ["accuracy"]
    assert config["optimizer"]["class_name"] == "SGD"
    assert config["optimizer"]["config"]["learning_rate"] == 0.3


# -- fit / evaluate semantics ----------------------------------------------------------------------


def test_validation_split_takes_the_last_samples_before_shuffling(digits_split):
    x_train, _, y_train, _ = digits_split
    x, y = x_train[:100], y_train[:100]

    def run(**kwargs):
        utils.set_random_seed(0)
        model = Sequential([Dense(10, input_shape=(64,), activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        return model.fit(epochs=2, verbose=0, **kwargs).history

    split = run(x=x, y=y, validation_split=0.2)
    explicit = run(x=x[:80], y=y[:80], validation_data=(x[80:], y[80:]))
    assert split == explicit


def test_evaluate_is_batch_size_invariant_and_returns_keras_forms(digits_split):
    x_train, x_test, y_train, y_test = digits_split
    model = Sequential([Dense(10, input_shape=(64,), activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    result = model.evaluate(x_test, y_test, verbose=0)  # before any fit
    assert isinstance(result, list) and len(result) == 2
    model.fit(x_train[:200], y_train[:200], epochs=1, verbose=0)
    a = model.evaluate(x_test, y_test, batch_size=7, verbose=0)
    b = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    as_dict = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    assert list(as_dict) == ["loss", "accuracy"] and model.metrics_names == ["loss", "accuracy"]
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    assert isinstance(model.evaluate(x_test, y_test, verbose=0), float)


def test_loss_includes_the_weight_penalty(float64):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 3)), _onehot(10, 2, 0)
    model = Sequential([Dense(2, input_shape=(3,), activation="softmax", kernel_regularizer=regularizers.L2(0.3))])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    data_loss = losses.CategoricalCrossentropy()(y, model.predict(x, verbose=0))
    penalty = 0.3 * np.sum(model.layers[0].kernel.value ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(data_loss + penalty)
    assert model.train_on_batch(x, y) == pytest.approx(data_loss + penalty)


@pytest.mark.parametrize("with_kernel_regularizer", [False, True])
def test_evaluate_includes_the_activity_penalty_of_the_evaluated_data(float64, with_kernel_regularizer):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 3)), _onehot(20, 2, 0)
    hidden = Dense(4, input_shape=(3,), activation="relu", activity_regularizer=regularizers.L2(0.1),
                   kernel_regularizer=regularizers.L2(0.01) if with_kernel_regularizer else None)
    model = Sequential([hidden, Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(x[:5], y[:5], epochs=1, verbose=0)
    expected = losses.CategoricalCrossentropy()(y, model.predict(x, verbose=0))
    expected += 0.1 * np.sum(hidden(x) ** 2)
    if with_kernel_regularizer:
        expected += 0.01 * np.sum(hidden.kernel.value ** 2)
    assert model.evaluate(x, y, batch_size=20, verbose=0) == pytest.approx(expected, rel=1e-9)


def _assert_fit_changes_only(model, x, y, epochs, frozen, trained):
    """Fitting leaves the weights of layer ``frozen`` as they were and changes layer ``trained``'s."""
    before_frozen, before_trained = model.layers[frozen].get_weights(), model.layers[trained].get_weights()
    model.fit(x, y, epochs=epochs, verbose=0)
    for a, b in zip(model.layers[frozen].get_weights(), before_frozen):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(model.layers[trained].get_weights()[0], before_trained[0])


def test_frozen_layer_does_not_change_during_fit(digits_split):
    x_train, _, y_train, _ = digits_split
    model = Sequential([Dense(16, input_shape=(64,), activation="relu"), Dense(10, activation="softmax")])
    model.layers[0].trainable = False
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    _assert_fit_changes_only(model, x_train[:100], y_train[:100], 2, frozen=0, trained=1)


def test_freezing_after_training_started_takes_effect(digits_split):
    x_train, _, y_train, _ = digits_split
    model = Sequential([Dense(16, input_shape=(64,), activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x_train[:100], y_train[:100], epochs=1, verbose=0)
    model.layers[1].trainable = False
    _assert_fit_changes_only(model, x_train[:100], y_train[:100], 1, frozen=1, trained=0)


def test_initial_epoch_and_steps_per_epoch(digits_split):
    x_train, _, y_train, _ = digits_split
    model = Sequential([Dense(10, input_shape=(64,), activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model.fit(x_train[:64], y_train[:64], epochs=3, initial_epoch=1, verbose=0).epoch == [1, 2]
    iterations = model.optimizer.iterations
    model.fit(x_train[:64], y_train[:64], epochs=2, batch_size=8, steps_per_epoch=3, verbose=0)
    assert model.optimizer.iterations == iterations + 6


def test_repeated_fit_continues_from_the_current_weights_and_optimizer_state(digits_split):
    x_train, _, y_train, _ = digits_split
    utils.set_random_seed(0)
    model = Sequential([Dense(10, input_shape=(64,), activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    first = model.fit(x_train[:200], y_train[:200], epochs=2, batch_size=50, verbose=0).history["loss"]
    second = model.fit(x_train[:200], y_train[:200], epochs=2, batch_size=50, verbose=0).history["loss"]
    assert second[0] < first[0] and model.optimizer.iterations == 16


def test_train_test_and_predict_on_batch(digits_split):
    x_train, _, y_train, _ = digits_split
    model = Sequential([Dense(10, input_shape=(64,), activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.train_on_batch(x_train[:32], y_train[:32])
    assert loss > 0 and 0 <= accuracy <= 1
    assert set(model.test_on_batch(x_train[:32], y_train[:32], return_dict=True)) == {"loss", "accuracy"}
    assert model.predict_on_batch(x_train[:32]).shape == (32, 10)
    assert model.optimizer.iterations == 1


def test_sequential_without_input_shape_builds_on_fit(digits_split):
    x_train, _, y_train, _ = digits_split
    model = Sequential([Dense(8, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x_train[:50], y_train[:50], epochs=1, verbose=0)
    assert model.input_shape == (None, 64) and model.count_params() == 64 * 8 + 8 + 8 * 10 + 10
