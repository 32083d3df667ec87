"""Shared by the layer tests: random layers that replay the same draws, a probe that
flattens a recurrent layer's outputs for the gradient checks, the "same" padding of the
naive convolution references, padded token sequences, a timed binary-classifier fit, and the checks shared by several layer
kinds (config round trips, a layer leaving its arrays alone, layers without an input gradient)."""

import copy
import json
import math
import time

import numpy as np
import pytest

from automl.keras import Model, initializers, layers, models, optimizers
from automl.keras.layers import Layer
from automl.testing import check_model_gradients

#: A non-zero bias, so that the gradient checks see the bias term.
BIAS = initializers.RandomNormal(stddev=0.5, seed=3)


def same_pads(length, kernel, stride, dilation):
    """The (before, after) padding of one axis under ``padding="same"`` (TensorFlow's split)."""
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(length / stride) - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def assert_leaves_arrays_alone(layer, shape):
    """A training call and its backward modify neither the input nor the upstream gradient."""
    x = np.random.default_rng(0).standard_normal(shape)
    x_before = x.copy()
    layer(x, training=True)
    np.testing.assert_array_equal(x, x_before)
    grad = np.ones(shape)
    layer.backward(grad)
    np.testing.assert_array_equal(grad, 1.0)


def replayed(cls, *args, **kwargs):
    """A factory for ``cls`` whose every training call reuses the same random draws."""

    class Replayed(cls):
        def call(self, inputs, training=False):
            if not hasattr(self, "_saved_rng"):
                self._saved_rng = copy.deepcopy(self._generator())
            self._rng = copy.deepcopy(self._saved_rng)
            return super().call(inputs, training)

    return lambda: Replayed(*args, **kwargs)


class Probe(Layer):
    """Runs a recurrent layer with a fixed mask / initial state, its outputs flattened into one array.

    With ``seed``, the dropout generators of ``inner``'s cells are reset before every call, so
    that each call draws the same masks.
    """

    def __init__(self, inner, mask=None, initial_state=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.inner, self.mask, self.initial_state, self.seed = inner, mask, initial_state, seed

    def build(self, input_shape):
        self.inner._maybe_build(input_shape)
        self._variables = self.inner.weights

    def call(self, inputs, training=False):
        if self.seed is not None:  # the same dropout masks at every call
            cells = getattr(self.inner.cell, "cells", [self.inner.cell])
            for i, cell in enumerate(cells):
                cell._rng = np.random.default_rng(self.seed + i)
        self.inner._input_grad_needed = True
        args = inputs if self.initial_state is None else [inputs, *self.initial_state]
        out = self.inner.call(args, training, mask=self.mask)
        outs = out if isinstance(out, list) else [out]
        self._shapes = [o.shape for o in outs]
        return np.concatenate([o.reshape(o.shape[0], -1) for o in outs], axis=1)

    def backward(self, grad):
        pieces, start = [], 0
        for shape in self._shapes:
            size = int(np.prod(shape[1:]))
            pieces.append(grad[:, start:start + size].reshape(shape))
            start += size
        g = self.inner.backward(pieces if len(pieces) > 1 else pieces[0])
        return g[0] if isinstance(g, list) else g


def roundtrip(layer):
    """``layer`` through JSON serialization: the clone has the same type and config (returned)."""
    config = layer.get_config()
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(clone) is type(layer) and clone.get_config() == config
    return clone


def assert_model_gradients_and_clone(model, x, y):
    """Analytic gradients match finite differences, and the JSON-config clone predicts the same."""
    assert check_model_gradients(model, x, y) < 1e-6
    clone = Model.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-12)


def assert_no_input_gradient(layer, inputs, grad):
    """A layer without an input gradient: backward is None unless one is needed, then it raises."""
    layer(inputs)
    layer._input_grad_needed = False
    assert layer.backward(grad) is None
    layer._input_grad_needed = True
    with pytest.raises(ValueError, match="no gradient"):
        layer.backward(grad)


def padded_sequences(rng, n, length, vocabulary, shortest):
    """``n`` token sequences (ids 1..vocabulary-1) of random lengths >= shortest, zero-padded to ``length``."""
    x = rng.integers(1, vocabulary, (n, length))
    for row, size in zip(x, rng.integers(shortest, length + 1, n)):
        row[size:] = 0
    return x


def assert_fits_binary_task(model, x, y, epochs, loss_ratio, accuracy):
    """Adam(0.01) on binary cross-entropy: the fit takes under 10 s, the loss ends below
    ``loss_ratio`` times its first value and the training accuracy above ``accuracy``."""
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    assert time.perf_counter() - start < 10
    losses = history.history["loss"]
    assert losses[-1] < loss_ratio * losses[0]
    assert history.history["accuracy"][-1] > accuracy


def assert_survives_saving(model, path, x, expected):
    """``model`` saved to ``path`` and loaded back predicts ``expected`` (its list of outputs) on ``x``."""
    model.save(path)
    loaded = models.load_model(path)
    for a, b in zip(loaded.predict(x, verbose=0), expected):
        np.testing.assert_allclose(a, b, rtol=1e-6)
