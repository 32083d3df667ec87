"""Functional models: ``Model(inputs, outputs)`` over a graph of layer calls.

Each layer call on symbolic tensors made a node (a :class:`KerasTensor` that
remembers its layer and input tensors). The model runs the nodes in
topological order; backward walks them in reverse, summing gradients where a
tensor feeds several layers. A layer called more than once (a shared layer)
has its per-call cache saved after each forward call and restored before the
matching backward call, and its weight gradients summed over its calls.

A layer call with several outputs (an RNN with ``return_state``) is one node
whose output tensors are siblings (``KerasTensor.siblings``); its backward gets
the list of their gradients, ``None`` for outputs that received none.

Masks (Keras semantics) travel beside the values: each node gets the masks of
its input tensors and records the mask of each output (see
``Layer._call_masked``); ``_output_masks`` keeps the masks of the model's
outputs (None entries where unmasked) after each forward pass.
"""

from __future__ import annotations

from ...keras import layers as _layers
from ..layers import InputLayer, KerasTensor, Layer, recording
from ._accumulate import GradientSums
from ._model import Model
from .subclassing import call_node, deserialize_template, serialize_template

__all__ = ["Functional"]


def _as_list(tensors):
    if isinstance(tensors, dict):
        return list(tensors.values())
    if isinstance(tensors, (list, tuple)):
        return list(tensors)
    return [tensors]


def _topological_nodes(outputs):
    """Every non-input node reachable from ``outputs``, producers before consumers."""
    order, state = [], {}

    def visit(tensor):
        tensor = tensor.node
        mark = state.get(id(tensor))
        if mark == "done":
            return
        if mark == "active":
            raise ValueError("The layer graph has a cycle.")
        state[id(tensor)] = "active"
        for parent in tensor.inputs:
            visit(parent)
        state[id(tensor)] = "done"
        if not isinstance(tensor.layer, InputLayer):
            order.append(tensor)

    for out in outputs:
        visit(out)
    return order


def _keras_layer_order(outputs):
    """The model's layers in Keras's order (``model.layers``, weight files, configs).

    As Keras's ``map_graph``: by decreasing depth (the longest path from the
    layer to an output), ties in the order a depth-first walk from the outputs
    first reaches them. Keras's topological weight loading and the per-class
    names of ``.weights.h5`` files follow this order, so branchy models (a
    ResNet's shortcut convolution) load Keras's files only in it.
    """
    index, finished, post = {}, set(), []
    for out in outputs:
        stack = [(out.node, 0)]
        while stack:
            node, i = stack[-1]
            if i == 0:
                if id(node) in finished:
                    stack.pop()
                    continue
                index.setdefault(id(node.layer), len(index))
            parents = () if isinstance(node.layer, InputLayer) else node.inputs
            if i < len(parents):
                stack[-1] = (node, i + 1)
                if id(parents[i].node) not in finished:
                    stack.append((parents[i].node, 0))
            else:
                stack.pop()
                finished.add(id(node))
                post.append(node)
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(post):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        node_depth[id(node)] = layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        if not isinstance(node.layer, InputLayer):
            for parent in node.inputs:
                key = id(parent.node)
                node_depth[key] = max(depth + 1, node_depth.get(key, 0))
    return sorted(layers.values(), key=lambda la: (-layer_depth[id(la)], index[id(la)]))


@_layers.LAYERS.register  # a functional model nested in a model is one of its layers
class Functional(Model):
    """A model defined by its input and output tensors (the Keras functional API).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import Input, Model, layers
    >>> inputs = Input(shape=(4,))
    >>> hidden = layers.Dense(8, activation="relu")(inputs)
    >>> outputs = layers.Dense(1, activation="sigmoid")(hidden)
    >>> model = Model(inputs, outputs)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")
    >>> x = np.random.default_rng(0).random((32, 4)); y = (x[:, 0] > 0.5).astype(int)
    >>> _ = model.fit(x, y, epochs=1, verbose=0)
    >>> model.predict(x[:3], verbose=0).shape
    (3, 1)
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._inputs = _as_list(inputs)
        self._outputs = _as_list(outputs)
        for i, tensor in enumerate(self._inputs):
            if not isinstance(tensor, KerasTensor) or not isinstance(tensor.layer, InputLayer):
                raise TypeError(
                    f"The 'inputs' argument of Model must hold tensors made by Input(). "
                    f"Got {tensor!r} at position {i} instead."
                )
        for i, tensor in enumerate(self._outputs):
            if not isinstance(tensor, KerasTensor):
                raise TypeError(
                    f"The 'outputs' argument of Model must hold tensors returned by layer calls. "
                    f"Got {tensor!r} at position {i} instead."
                )
        self._nodes = _topological_nodes(self._outputs)
        reachable_inputs = {id(t) for n in self._nodes for t in n.inputs} | {id(t) for t in self._outputs}
        for tensor in self._inputs:
            if id(tensor) not in reachable_inputs:
                raise ValueError(f"Input {tensor.name!r} is not connected to the outputs.")
        self._input_layers = [t.layer for t in self._inputs]
        self._all_layers = _keras_layer_order(self._outputs)
        calls: dict[int, int] = {}
        for node in self._nodes:
            calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
        self._shared = {lid for lid, count in calls.items() if count > 1}
        single_in, single_out = len(self._inputs) == 1, len(self._outputs) == 1
        self.input_shape = self._inputs[0].shape if single_in else [t.shape for t in self._inputs]
        self.output_shape = self._outputs[0].shape if single_out else [t.shape for t in self._outputs]
        self.built = True
        self._input_grad_needed = False
        self._mark_input_grads()

    @property
    def layers(self) -> list[Layer]:
        return list(self._all_layers)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._inputs[0] if len(self._inputs) == 1 else list(self._inputs)

    @property
    def output(self):
        return self._outputs[0] if len(self._outputs) == 1 else list(self._outputs)

    @property
    def output_layer(self) -> Layer:
        return self._outputs[0].layer

    def _output_layers(self):
        return [t.layer for t in self._outputs]

    def _output_names(self):
        return [t.layer.name for t in self._outputs]

    def _input_names(self):
        return [t.layer.name for t in self._inputs]

    def _input_shapes(self):
        return [t.shape for t in self._inputs]

    def _input_dtypes(self):
        return [self._data_dtype(layer) for layer in self._input_layers]

    def _output_shapes(self):
        return [t.shape for t in self._outputs]

    def _mark_input_grads(self):
        # A tensor needs a gradient if something trainable lies upstream of it.
        needs: dict[int, bool] = {id(t): self._input_grad_needed for t in self._inputs}
        layer_needs: dict[int, bool] = {}
        for node in self._nodes:
            upstream = any(needs.get(id(t), False) for t in node.inputs)
            layer_needs[id(node.layer)] = layer_needs.get(id(node.layer), False) or upstream
            for tensor in node.siblings or (node,):
                needs[id(tensor)] = upstream or bool(node.layer.trainable_weights)
        for node in self._nodes:
            node.layer._input_grad_needed = layer_needs[id(node.layer)]
            if isinstance(node.layer, Model):
                node.layer._mark_input_grads()
        self._tensor_needs = needs
        self._node_variables = None

    def _backward_variables(self):
        """Per node, the trainable weights its backward writes; and all of the model's."""
        if getattr(self, "_node_variables", None) is None:
            self._node_variables = (
                {id(node): node.layer.trainable_weights for node in self._nodes},
                self.trainable_weights,
            )
        return self._node_variables

    supports_masking = True
    _output_masks = None
    #: Per-call state: the saved states of shared layers' calls and the output masks
    #: (the other layers' states are added by ``_call_state``).
    _cache_attrs = ("_caches", "_output_masks")

    def _state_sublayers(self):
        return [layer for layer in self._all_layers if id(layer) not in self._shared]

    def call(self, inputs, training=False, mask=None):
        return self._forward(inputs, training, mask)

    def compute_mask(self, inputs, mask=None):
        masks = self._output_masks
        if masks is None:
            return None
        return masks[0] if len(masks) == 1 else list(masks)

    def _forward(self, x, training=False, mask=None):
        n_in = len(self._inputs)
        inputs = _as_list(x) if n_in > 1 else [x]
        if len(inputs) != n_in:
            raise ValueError(
                f"Model {self.name!r} expects {n_in} inputs. Got {len(inputs)} instead."
            )
        values = {id(t): v for t, v in zip(self._inputs, inputs)}
        masks = {}
        if mask is not None:
            for t, m in zip(self._inputs, mask if n_in > 1 else [mask]):
                if m is not None:
                    masks[id(t)] = m
        caches = self._caches = {}
        shared = self._shared
        outer_training = training
        for node in self._nodes:
            layer = node.layer
            training = outer_training if node.call_training is None else node.call_training
            args = [values[id(t)] for t in node.inputs]
            if masks:
                in_masks = [masks.get(id(t)) for t in node.inputs]
                node_mask = in_masks if node.multi else in_masks[0]
                if node.multi and all(m is None for m in in_masks):
                    node_mask = None
            else:
                node_mask = None
            saved = recording.STATE.record_inference
            if outer_training and not training:  # a training step through a training=False call
                recording.STATE.record_inference = True
            try:
                if node.call_spec is not None:  # a user-defined layer called on any structure of tensors
                    first_mask = node_mask[0] if isinstance(node_mask, list) else node_mask
                    out, out_mask = call_node(layer, node.call_spec, args, training, first_mask)
                elif node.call_kwargs:
                    out, out_mask = layer._call_masked(args if node.multi else args[0], training, node_mask,
                                                       **node.call_kwargs)
                else:
                    out, out_mask = layer._call_masked(args if node.multi else args[0], training, node_mask)
            finally:
                recording.STATE.record_inference = saved
            if node.siblings is None:
                values[id(node)] = out
                if out_mask is not None:
                    masks[id(node)] = out_mask
            else:
                out_masks = out_mask if isinstance(out_mask, (list, tuple)) else [out_mask]
                for i, tensor in enumerate(node.siblings):
                    values[id(tensor)] = out[i]
                    if i < len(out_masks) and out_masks[i] is not None:
                        masks[id(tensor)] = out_masks[i]
            if id(layer) in shared:
                caches[id(node)] = layer._call_state()
        out_masks = [masks.get(id(t)) for t in self._outputs]
        self._output_masks = None if all(m is None for m in out_masks) else out_masks
        outs = [values[id(t)] for t in self._outputs]
        return outs[0] if len(outs) == 1 else outs

    def _backward(self, grad, fused=False):
        multi = len(self._outputs) > 1
        grads = dict(zip((id(t) for t in self._outputs), grad if multi else [grad]))
        flags = fused if multi else [fused]
        fused_nodes = {id(t) for t, f in zip(self._outputs, flags) if f}
        needs = self._tensor_needs
        node_variables, all_variables = self._backward_variables()
        sums = GradientSums()  # a weight reached by several calls gets the sum of their gradients
        for node in reversed(self._nodes):
            if node.siblings is None:
                g = grads.pop(id(node), None)
                if g is None:
                    continue
            else:
                g = [grads.pop(id(t), None) for t in node.siblings]
                if all(gi is None for gi in g):
                    continue
            layer = node.layer
            if id(layer) in self._shared:
                layer._restore_call_state(self._caches[id(node)])
            run = layer.backward_from_logits if id(node) in fused_nodes else layer.backward
            g_in = sums.backward(node_variables[id(node)], run, g)
            if g_in is None:
                continue
            for tensor, gi in zip(node.inputs, g_in if node.multi else [g_in]):
                if gi is None or (not needs.get(id(tensor), False) and not isinstance(tensor.layer, InputLayer)):
                    continue
                key = id(tensor)
                grads[key] = gi if key not in grads else grads[key] + gi
        sums.zero_untouched(all_variables)  # weights of calls that got no gradient
        outs = [grads.get(id(t)) for t in self._inputs]
        return outs[0] if len(outs) == 1 else outs

    def compute_output_shape(self, input_shape):
        return self.output_shape

    # -- serialization -----------------------------------------------------
    def get_config(self):
        index_of = {id(layer): i for i, layer in enumerate(self._all_layers)}
        node_index: dict[int, int] = {}
        counters: dict[int, int] = {}
        for tensor in self._inputs:
            node_index[id(tensor)] = 0
        nodes = []

        def ref(t):
            # [layer name, call index] (+ output index for calls with several outputs)
            r = [t.layer.name, node_index[id(t)]]
            return r if t.index is None else [*r, t.index]

        for node in self._nodes:
            lid = id(node.layer)
            for tensor in node.siblings or (node,):
                node_index[id(tensor)] = counters.get(lid, 0)
            counters[lid] = counters.get(lid, 0) + 1
            entry = {
                "layer": node.layer.name,
                "inputs": [ref(t) for t in node.inputs],
                "multi": bool(node.multi),
            }
            if node.call_kwargs:
                entry["kwargs"] = dict(node.call_kwargs)
            if node.call_spec is not None:
                entry["call"] = serialize_template(node.call_spec)
            if node.call_training is not None:
                entry["training"] = node.call_training
            nodes.append(entry)

        return {
            "name": self.name,
            "trainable": self.trainable,
            # Each entry carries the layer's name (as Keras's do): a custom layer's
            # get_config may leave it out, and the nodes refer to layers by name.
            "layers": [{**_layers.serialize(layer), "name": layer.name}
                       for layer in sorted(self._all_layers, key=lambda la: index_of[id(la)])],
            "nodes": nodes,
            "input_layers": [ref(t) for t in self._inputs],
            "output_layers": [ref(t) for t in self._outputs],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        by_name = {}
        for layer_config in config["layers"]:
            layer = _layers.LAYERS.deserialize(layer_config, custom_objects=custom_objects)
            name = layer_config.get("name") or layer_config.get("config", {}).get("name") or layer.name
            layer.name = name
            by_name[name] = layer
        tensors: dict[tuple, KerasTensor] = {}
        for name, layer in by_name.items():
            if isinstance(layer, InputLayer):
                tensors[(name, 0)] = layer.output
        counters: dict[str, int] = {}

        def lookup(ref):
            out = tensors[(ref[0], ref[1])]
            if isinstance(out, list):  # a call with several outputs
                return out[ref[2] if len(ref) > 2 else 0]
            return out

        for node in config["nodes"]:
            layer = by_name[node["layer"]]
            args = [lookup(ref) for ref in node["inputs"]]
            fixed = {"training": node["training"]} if "training" in node else {}
            if "call" in node:
                call_args, call_kwargs = deserialize_template(node["call"], args)
                out = layer(*call_args, **call_kwargs, **fixed)
            else:
                out = layer(args if node["multi"] else args[0], **node.get("kwargs", {}), **fixed)
            tensors[(node["layer"], counters.get(node["layer"], 0))] = out
            counters[node["layer"]] = counters.get(node["layer"], 0) + 1
        inputs = [lookup(ref) for ref in config["input_layers"]]
        outputs = [lookup(ref) for ref in config["output_layers"]]
        return cls(
            inputs if len(inputs) > 1 else inputs[0],
            outputs if len(outputs) > 1 else outputs[0],
            name=config.get("name"),
            trainable=config.get("trainable", True),
        )
