"""The Keras tutorials' MNIST CNN and CIFAR-10 CNN, exactly as written there, train.

The images are scikit-learn's digits scaled up to the tutorials' input sizes (28x28x1 and
32x32x3), so the tests need no download and still learn real handwriting.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

from automl.keras import Input, Sequential, utils
from automl.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8)
    return x[:1200], y[:1200], x[1200:1500], y[1200:1500]


def _upscale(images, size, channels):
    factor = size // 8  # 8x8 -> 24x24 (padded to 28) or 32x32
    big = np.kron(images, np.ones((factor, factor), np.float32))
    pad = (size - big.shape[1]) // 2
    big = np.pad(big, ((0, 0), (pad, pad), (pad, pad)))
    return np.repeat(big[..., None], channels, axis=-1)


def _accuracy(model, x, y):
    return float((model.predict(x, verbose=0).argmax(-1) == y).mean())


def test_mnist_tutorial_cnn_trains(digits):
    x_train, y_train, x_test, y_test = digits
    utils.set_random_seed(0)
    model = Sequential([
        Input(shape=(28, 28, 1)),
        Conv2D(32, kernel_size=(3, 3), activation="relu"),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    with threadpool_limits(1):
        model.fit(_upscale(x_train, 28, 1), utils.to_categorical(y_train, 10), batch_size=32, epochs=2,
                  verbose=0)
        assert _accuracy(model, _upscale(x_test, 28, 1), y_test) > 0.9


def test_cifar10_tutorial_cnn_trains(digits):
    x_train, y_train, x_test, y_test = digits
    utils.set_random_seed(0)
    model = Sequential([
        Input(shape=(32, 32, 3)),
        Conv2D(32, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.count_params() == 896 + 18_496 + 2304 * 128 + 128 + 1290
    with threadpool_limits(1):
        history = model.fit(_upscale(x_train, 32, 3), y_train, batch_size=64, epochs=3, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0] / 2
        assert _accuracy(model, _upscale(x_test, 32, 3), y_test) > 0.85


def test_image_classification_tutorial_with_augmentation_trains_saves_and_loads(digits, tmp_path):
    # The TensorFlow image-classification tutorial's model as written there: a nested
    # augmentation Sequential (input_shape on its first layer), Rescaling(1./255), three
    # conv blocks, Dropout, logits with from_logits=True. Pixels in 0..255 as in the tutorial.
    from automl.keras import layers, losses, saving

    x_train, y_train, x_test, y_test = digits
    x_train, x_test = (_upscale(x, 32, 3) * 255.0 for x in (x_train, x_test))
    utils.set_random_seed(0)
    data_augmentation = Sequential([
        layers.RandomFlip("horizontal", input_shape=(32, 32, 3)),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
    ])
    model = Sequential([
        data_augmentation,
        layers.Rescaling(1.0 / 255),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.2),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, name="outputs"),
    ])
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    with threadpool_limits(1):
        history = model.fit(x_train, y_train, validation_data=(x_test, y_test), epochs=4, verbose=0)
        # Flipped and rotated digits are harder than the plain ones, yet well above chance.
        assert history.history["val_accuracy"][-1] > 0.8
        path = tmp_path / "flowers.keras"
        model.save(path)
        loaded = saving.load_model(path)
        np.testing.assert_array_equal(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
