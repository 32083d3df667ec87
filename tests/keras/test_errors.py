"""User errors: type and message (the argument, what was expected, what was given)."""

import numpy as np
import pytest

from automl.keras import Sequential, utils
from automl.keras.layers import Dense, Dropout


def _digits_model(loss="categorical_crossentropy", compile=True):
    model = Sequential([Dense(8, input_shape=(64,), activation="relu"), Dense(10, activation="softmax")])
    if compile:
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


X = np.zeros((6, 64))
Y = utils.to_categorical([0, 1, 2, 3, 4, 5], 10)
LABELS = np.array([0, 1, 2, 3, 4, 5])

# -- unknown names ---------------------------------------------------------------------------


def test_unknown_optimizer_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier: 'adamz'\. Expected one of: .*Adam.*RMSprop.*SGD"):
        _digits_model(compile=False).compile(optimizer="adamz", loss="mse")


def test_unknown_loss_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret loss identifier: 'crossentropy'\. Expected one of: .*categorical_crossentropy.*mse"):
        _digits_model(compile=False).compile(optimizer="adam", loss="crossentropy")


def test_unknown_activation_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret activation identifier: 'rellu'\. Expected one of: celu, elu, .*linear, .*relu, .*sigmoid, .*softmax, .*tanh"):
        Dense(3, activation="rellu")


def test_unknown_metric_name_fails_at_compile():
    with pytest.raises(ValueError, match=r"Could not interpret metric identifier: 'acuracy'"):
        _digits_model(compile=False).compile(optimizer="adam", loss="mse", metrics=["acuracy"])


def test_missing_loss_and_bad_metrics_container():
    model = _digits_model(compile=False)
    model.compile(optimizer="adam")  # Keras 3: no loss is fine until fit, unless layers add losses
    with pytest.raises(ValueError, match=r"No loss to compute .* Provide a 'loss' argument in compile\(\)"):
        model.fit(np.ones((4, 64)), np.zeros((4, 10)), verbose=0)
    with pytest.raises(TypeError, match=r"The 'metrics' parameter of compile must be a list"):
        _digits_model(compile=False).compile(optimizer="adam", loss="mse", metrics=42)


# -- training before compile ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch"])
def test_training_before_compile(method):
    model = _digits_model(compile=False)
    with pytest.raises(RuntimeError, match=rf"You must call compile\(\) on Sequential .* before {method}\(\)"):
        getattr(model, method)(X, Y)


# -- x ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_input_shape_mismatch_names_x_and_both_shapes(method):
    model = _digits_model()
    args = (np.zeros((6, 10)),) if method == "predict" else (np.zeros((6, 10)), Y)
    with pytest.raises(ValueError, match=rf"The 'x' argument of Sequential\.{method} must have shape \(None, 64\) .*Got an array of shape \(6, 10\)"):
        getattr(model, method)(*args, verbose=0)


def test_input_rank_mismatch():
    with pytest.raises(ValueError, match=r"must have shape \(None, 64\).*shape \(6, 8, 8\)"):
        _digits_model().fit(np.zeros((6, 8, 8)), Y, verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_non_finite_x(bad, method):
    x = X.copy()
    x[3, 7] = bad
    args = (x,) if method == "predict" else (x, Y)
    with pytest.raises(ValueError, match=rf"The 'x' argument of Sequential\.{method} must not contain NaN or infinite values\. Got .*{bad}.* at index \(3, 7\)"):
        getattr(_digits_model(), method)(*args, verbose=0)


def test_empty_none_and_non_numeric_x():
    with pytest.raises(ValueError, match=r"The 'x' argument of Sequential\.fit must hold at least one sample"):
        _digits_model().fit(np.zeros((0, 64)), np.zeros((0, 10)), verbose=0)
    with pytest.raises(ValueError, match=r"The 'x' argument of Sequential\.fit must be an array\. Got None"):
        _digits_model().fit(None, Y, verbose=0)
    with pytest.raises(ValueError, match=r"The 'x' argument of Sequential\.predict must be a numeric array"):
        _digits_model().predict([["a"] * 64], verbose=0)


# -- y ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_non_finite_y(bad, method):
    y = Y.copy()
    y[2, 1] = bad
    with pytest.raises(ValueError, match=rf"The 'y' argument of Sequential\.{method} must not contain NaN or infinite values.*index \(2, 1\)"):
        getattr(_digits_model(), method)(X, y, verbose=0)


def test_y_length_differs_from_x_length():
    with pytest.raises(ValueError, match=r"The 'x' and 'y' arguments of Sequential\.fit must hold the same number of samples\. Got 6 and 5"):
        _digits_model().fit(X, Y[:5], verbose=0)


def test_one_hot_of_the_wrong_width_for_categorical_crossentropy():
    with pytest.raises(ValueError, match=r"The 'y' argument of Sequential\.fit must have shape \(None, 10\) .*'categorical_crossentropy'\. Got y of shape \(6, 6\)"):
        _digits_model().fit(X, utils.to_categorical(LABELS), verbose=0)


def test_integer_labels_with_categorical_crossentropy_point_to_the_shape():
    with pytest.raises(ValueError, match=r"must have shape \(None, 10\).*Got y of shape \(6,\)"):
        _digits_model().fit(X, LABELS, verbose=0)


@pytest.mark.parametrize("labels, got", [([0, 1, 2, 3, 4, 10], r"\[.*0.*, .*10.*\]"), ([-1, 1, 2, 3, 4, 5], r"\[.*-1.*, .*5.*\]")])
def test_sparse_labels_outside_the_output_units(labels, got):
    with pytest.raises(ValueError, match=rf"The 'y' argument of Sequential\.fit must hold class labels in \[0, 9\] to match the model's 10 output units\. Got labels in {got}"):
        _digits_model("sparse_categorical_crossentropy").fit(X, np.array(labels), verbose=0)


def test_sparse_labels_that_are_not_integers():
    with pytest.raises(ValueError, match=r"must hold integer class labels .*non-integer values such as .*0\.5"):
        _digits_model("sparse_categorical_crossentropy").fit(X, np.array([0, 1, 2, 3, 4, 0.5]), verbose=0)


def test_one_hot_labels_with_sparse_loss():
    with pytest.raises(ValueError, match=r"must hold integer class labels of shape \(None,\).*Got y of shape \(6, 10\)"):
        _digits_model("sparse_categorical_crossentropy").fit(X, Y, verbose=0)


def test_string_labels():
    with pytest.raises(ValueError, match=r"The 'y' argument of Sequential\.fit must be numeric\. Got an array of dtype <U"):
        _digits_model("sparse_categorical_crossentropy").fit(X, np.array(list("abcdef")), verbose=0)


def test_sample_weight_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"The 'sample_weight' argument of Sequential\.fit must hold one weight per sample \(6\)\. Got 4"):
        _digits_model().fit(X, Y, sample_weight=np.ones(4), verbose=0)


# -- fit arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "32", True])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_bad_batch_size(batch_size, method):
    args = (X,) if method == "predict" else (X, Y)
    with pytest.raises(ValueError, match=rf"The 'batch_size' parameter of Sequential\.{method} must be an int in the range \[1, inf\)\. Got {batch_size!r}"):
        getattr(_digits_model(), method)(*args, batch_size=batch_size, verbose=0)


@pytest.mark.parametrize("epochs", [-1, 1.5, "10", None])
def test_bad_epochs(epochs):
    with pytest.raises(ValueError, match=rf"The 'epochs' parameter of Sequential\.fit must be an int in the range \[0, inf\)\. Got {epochs!r}"):
        _digits_model().fit(X, Y, epochs=epochs, verbose=0)


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5, "0.2", None])
def test_bad_validation_split(split):
    with pytest.raises(ValueError, match=rf"The 'validation_split' parameter of Sequential\.fit must be a float in the range \[0, 1\)\. Got {split!r}"):
        _digits_model().fit(X, Y, validation_split=split, verbose=0)


def test_validation_split_that_leaves_no_training_samples():
    with pytest.raises(ValueError, match=r"'validation_split' parameter of Sequential\.fit leaves no training or no validation samples with 6 samples"):
        _digits_model().fit(X, Y, validation_split=0.9, verbose=0)


def test_bad_validation_data():
    with pytest.raises(ValueError, match=r"The 'validation_data' parameter of Sequential\.fit must be a tuple"):
        _digits_model().fit(X, Y, validation_data=X, verbose=0)
    with pytest.raises(ValueError, match=r"The 'x' argument of Sequential\.fit validation_data must have shape \(None, 64\)"):
        _digits_model().fit(X, Y, validation_data=(np.zeros((3, 5)), Y[:3]), verbose=0)


def test_epochs_zero_trains_nothing():
    model = _digits_model()
    before = model.get_weights()
    history = model.fit(X, Y, epochs=0, verbose=0)
    assert history.epoch == [] and all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


# -- layer arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize("units", [0, -1, 2.5, "8", None, True])
def test_bad_dense_units(units):
    with pytest.raises(ValueError, match=rf"The 'units' parameter of Dense must be an int in the range \[1, inf\)\. Got {units!r} instead\."):
        Dense(units)


@pytest.mark.parametrize("rate", [1.5, 1.0, -0.5])
def test_bad_dropout_rate(rate):
    with pytest.raises(ValueError, match=rf"The 'rate' parameter of Dropout must be a float in the range \[0, 1\)\. Got {rate!r} instead\."):
        Dropout(rate)


@pytest.mark.parametrize("make", [lambda: Dense(3, activaton="relu"), lambda: Dropout(0.5, sed=1)])
def test_unknown_layer_keyword_argument(make):
    with pytest.raises(TypeError, match=r"got unexpected keyword argument\(s\): (activaton|sed)\."):
        make()


def test_unknown_sequential_keyword_argument():
    with pytest.raises(TypeError, match=r"unexpected keyword argument"):
        Sequential(layer=[Dense(2)])
