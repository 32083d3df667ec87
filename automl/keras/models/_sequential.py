"""Sequential: a plain stack of layers."""

from __future__ import annotations

import warnings

from ...keras import layers as _layers
from ..layers import InputLayer, KerasTensor, Layer
from ._accumulate import GradientSums, shares_weights
from ._model import Model

__all__ = ["Sequential"]


@_layers.LAYERS.register  # a Sequential nested in a model is one of its layers
class Sequential(Model):
    """A linear stack of layers.

    Parameters
    ----------
    layers : list of Layer, optional
        The layers, in order; the first may be ``Input(shape)``.
    name : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import Sequential, Input, utils
    >>> from automl.keras.layers import Dense
    >>> utils.set_random_seed(0)
    >>> model = Sequential([Input(shape=(4,)), Dense(8, activation="relu"), Dense(3, activation="softmax")])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).random((64, 4)); y = (x.sum(axis=1) > 2).astype(int)
    >>> history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss']
    >>> model.predict(x[:2], verbose=0).shape
    (2, 3)
    """

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._symbolic: list | None = []  # the symbolic output of each layer (None: no graph)
        for layer in layers or []:
            self.add(layer)

    def add(self, layer) -> None:
        """Append ``layer`` (or an ``Input``) to the stack."""
        if isinstance(layer, KerasTensor) and isinstance(layer.layer, InputLayer):
            layer = layer.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"The 'layer' argument of Sequential.add must be a Layer instance. Got {layer!r} instead."
            )
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._stack:
                raise ValueError("An Input can only be the first layer of a Sequential model.")
            self._input_layer = layer
            self._set_input_shape((layer.batch_size, *layer.shape))
            return
        if not self._stack and self._input_layer is None and layer._declared_input_shape is not None:
            self._input_layer = InputLayer(shape=layer._declared_input_shape)
            self._set_input_shape((None, *layer._declared_input_shape))
        self._stack.append(layer)
        self._train_state = None
        if self.input_shape is not None:
            self.build()

    def pop(self) -> Layer:
        layer = self._stack.pop()
        if self._symbolic is not None:
            del self._symbolic[len(self._stack):]
        self._train_state = None
        self.output_shape = self._stack[-1].output_shape if self._stack else self.input_shape
        return layer

    def _set_input_shape(self, shape):
        self.input_shape = tuple(shape)

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    def _input_dtypes(self):
        return [self._data_dtype(self._input_layer, self._stack[0] if self._stack else None)]

    def build(self, input_shape=None):
        if input_shape is None:
            input_shape = self.input_shape
        if input_shape is None:
            raise ValueError(
                f"Sequential model {self.name!r} cannot be built without knowing its input shape: "
                "start it with Input(shape=...), pass input_shape= to the first layer, or call fit()."
            )
        shape = tuple(input_shape)
        self.input_shape = shape
        for layer in self._stack:
            layer._maybe_build(shape)
            shape = layer.output_shape
            if isinstance(shape, list):
                raise ValueError(
                    f"All layers in a Sequential model should have a single output tensor. Layer "
                    f"{layer.name!r} has {len(shape)} outputs; use the functional API instead."
                )
        self.output_shape = shape
        self.built = True
        self._mark_input_grads()
        self._extend_graph()

    # -- graph accessors: the stack as a graph from its Input (Keras semantics) ------
    def _extend_graph(self):
        """Call the new layers on symbolic tensors, so that ``layer.output`` and ``model.outputs`` exist."""
        if self._input_layer is None or self._symbolic is None:
            return
        try:
            tail = self._symbolic[-1] if self._symbolic else self._input_layer.output
            for layer in self._stack[len(self._symbolic):]:
                tail = layer(tail)
                self._symbolic.append(tail)
        except Exception:  # noqa: BLE001 -- a layer without a symbolic call: no graph accessors
            self._symbolic = None

    def _graph(self, which):
        if self._input_layer is None or self._symbolic is None or len(self._symbolic) != len(self._stack):
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined {which}: start it with Input(shape=...) "
                "(or give the first layer an input_shape) to use it as a graph."
            )
        return [self._input_layer.output] if which == "inputs" else [self._symbolic[-1] if self._stack
                                                                     else self._input_layer.output]

    @property
    def inputs(self):
        return self._graph("inputs")

    @property
    def outputs(self):
        return self._graph("outputs")

    @property
    def input(self):
        return self._graph("inputs")[0]

    @property
    def output(self):
        return self._graph("outputs")[0]

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(tuple(input_shape))

    def _mark_input_grads(self):
        # Layers up to the first one with trainable weights need no input gradient,
        # unless this model is nested and its own input gradient is needed.
        stack = self._stack
        groups = [layer.trainable_weights for layer in stack]
        if self._input_grad_needed:
            first = -1
        else:
            first = next((i for i, group in enumerate(groups) if group), len(stack))
        self._backward_stop = max(first, 0)
        for i, layer in enumerate(stack):
            layer._input_grad_needed = i > first
            if isinstance(layer, Model):
                layer._mark_input_grads()
        # A layer in the stack twice (or two entries sharing a weight): each call's state is
        # saved after it, and the weight gradients are summed (the general, slower path).
        self._reuse = (len({id(la) for la in stack}) < len(stack) or shares_weights(groups)) and (
            groups, self.trainable_weights)

    # Masks (Keras semantics) travel beside the data: each layer gets the mask of its
    # input and gives the mask of its output (see Layer._call_masked). The mask of the
    # model's output is kept in ``_output_mask`` for the loss and for enclosing models.
    supports_masking = True
    _output_mask = None
    _reuse = False
    _states = None
    _cache_attrs = ("_output_mask", "_states")

    def _state_sublayers(self):
        return list({id(la): la for la in self._stack}.values()) if not self._reuse else []

    def call(self, inputs, training=False, mask=None):
        return self._forward(inputs, training, mask)

    def compute_mask(self, inputs, mask=None):
        return self._output_mask

    @property
    def _output_masks(self):
        """The output mask as a list (one entry per output, as for functional models) or None."""
        return None if self._output_mask is None else [self._output_mask]

    def _forward(self, x, training=False, mask=None):
        if self._reuse and training:
            states = self._states = []
            for layer in self._stack:
                x, mask = layer._call_masked(x, training, mask)
                states.append(layer._call_state())
        else:
            for layer in self._stack:
                x, mask = layer._call_masked(x, training, mask)
        self._output_mask = mask
        return x

    def _backward(self, grad, fused=False):
        stack = self._stack
        last = len(stack) - 1
        if self._reuse:
            return self._backward_reused(grad, fused)
        for i in range(last, self._backward_stop - 1, -1):
            layer = stack[i]
            grad = layer.backward_from_logits(grad) if fused and i == last else layer.backward(grad)
        return grad

    def _backward_reused(self, grad, fused):
        stack, (groups, all_variables) = self._stack, self._reuse
        last = len(stack) - 1
        sums = GradientSums()
        for i in range(last, self._backward_stop - 1, -1):
            layer = stack[i]
            layer._restore_call_state(self._states[i])
            run = layer.backward_from_logits if fused and i == last else layer.backward
            grad = sums.backward(groups[i], run, grad)
        sums.zero_untouched(all_variables)
        return grad

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices (deprecated Keras 2 API; use ``predict`` and ``argmax``)."""
        warnings.warn(
            "`model.predict_classes()` is deprecated; use `np.argmax(model.predict(x), axis=-1)` "
            "(softmax outputs) or `(model.predict(x) > 0.5).astype('int32')` (sigmoid outputs).",
            DeprecationWarning,
            stacklevel=2,
        )
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def predict_proba(self, x, batch_size=32, verbose=0):
        """Model outputs (deprecated Keras 2 API; use ``predict``)."""
        warnings.warn("`model.predict_proba()` is deprecated; use `model.predict()`.",
                      DeprecationWarning, stacklevel=2)
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def get_config(self):
        layer_configs = [_layers.serialize(layer) for layer in self._stack]
        if self._input_layer is not None:
            layer_configs.insert(0, _layers.serialize(self._input_layer))
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype, "layers": layer_configs}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer_configs = config.pop("layers")
        model = cls(**config)
        for layer_config in layer_configs:
            model.add(_layers.LAYERS.deserialize(layer_config, custom_objects=custom_objects))
        if model.input_shape is not None:
            model.build()
        return model
