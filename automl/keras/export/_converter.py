"""Walking a model's layer graph into ONNX nodes.

A :class:`LayerCall` describes one call of a layer: the ONNX names of its
input tensors, their Keras shapes (``None`` for the batch and other unknown
dimensions) and the shapes of its outputs. Layer converters are registered
per layer class with :func:`converts` and return the ONNX name of each
output. Sequential models are walked layer by layer, functional models node
by node in topological order (a shared layer is converted once per call, with
the same weights), and a nested model becomes its own nodes in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..layers import Layer
from ..models import Functional, Model, Sequential
from ._graph import Graph

__all__ = ["LayerCall", "converts", "describe", "convert_layer", "convert_model", "model_to_graph",
           "LAYER_CONVERTERS"]

#: Layer class -> converter ``fn(graph, call) -> str | list[str]``.
LAYER_CONVERTERS: dict = {}


def converts(*classes, call_options=(), takes_ints=False, masks="none"):
    """Register the decorated function as the ONNX converter of ``classes`` (exact types).

    ``call_options`` names the keyword options of a layer call (``use_causal_mask=...``)
    the converter reads from ``LayerCall.kwargs``; a call with any other option is refused.
    ``takes_ints``: the converter accepts integer tensors (others get them cast to float32).
    ``masks``: ``"none"`` (a masked input is refused, unless the layer passes its mask
    through unchanged or drops it, as the engine decides from ``supports_masking`` and
    ``compute_mask``), ``"ignore"`` (the mask does not change the inference values and
    passes through) or ``"handle"`` (the converter reads ``call.masks`` and records
    the masks of its outputs in ``graph.masks``).
    """

    def deco(fn):
        fn.call_options = frozenset(call_options)
        fn.takes_ints = bool(takes_ints)
        fn.masks = masks
        for cls in classes:
            LAYER_CONVERTERS[cls] = fn
        return fn

    return deco


def describe(layer) -> str:
    return f"layer {layer.name!r} ({type(layer).__name__})"


@dataclass
class LayerCall:
    """One call of ``layer`` in the graph being exported."""

    layer: object
    inputs: list
    shapes: list
    out_shapes: list
    kwargs: dict = field(default_factory=dict)
    #: The ONNX names of the input masks (bool, ``(batch, steps)``), None where unmasked.
    masks: list = field(default_factory=list)

    @property
    def x(self) -> str:
        return self.inputs[0]

    @property
    def shape(self) -> tuple:
        return tuple(self.shapes[0])

    @property
    def out_shape(self) -> tuple:
        return tuple(self.out_shapes[0])

    @property
    def base(self) -> str:
        return self.layer.name

    def error(self, problem) -> ValueError:
        return ValueError(f"Cannot export {describe(self.layer)} to ONNX: {problem}.")


def _shape_list(shape) -> list:
    return [tuple(s) for s in shape] if isinstance(shape, list) else [tuple(shape)]


def convert_layer(g: Graph, call: LayerCall) -> list[str]:
    """The ONNX output names of one layer call (a nested model's nodes, or its converter's)."""
    layer = call.layer
    if isinstance(layer, Model):
        outputs, _ = convert_model(g, layer, call.inputs, call.shapes)
        return outputs
    converter = LAYER_CONVERTERS.get(type(layer))
    if converter is None:
        names = sorted({cls.__name__ for cls in LAYER_CONVERTERS})
        raise ValueError(
            f"Cannot export {describe(layer)} to ONNX: {type(layer).__name__} has no ONNX mapping. "
            f"Exportable layers: {', '.join(names)}, and Sequential/functional models of them."
        )
    unknown = sorted(set(call.kwargs) - converter.call_options)
    if unknown:
        raise call.error(f"the call options {unknown} are not exported")
    call.masks = [g.masks.get(name) for name in call.inputs]
    mode = _mask_mode(call, converter)
    if not converter.takes_ints:  # integer model inputs reach float layers as floats (as in the engine)
        if any(name in g.strings for name in call.inputs):
            raise call.error("it takes strings, which only StringLookup is exported to read")
        call.inputs = [g.as_float(name) for name in call.inputs]
    out = converter(g, call)
    out = list(out) if isinstance(out, (list, tuple)) else [out]
    if mode == "pass":
        g.masks[out[0]] = call.masks[0]
    elif mode == "drop":  # a fresh name for an output that is an input, which keeps its mask
        out = [g.op("Identity", [name], f"{call.base}/unmasked") if name in call.inputs else name
               for name in out]
    return out


def _mask_mode(call, converter) -> str:
    """What happens to the input masks of ``call``: "none", "pass", "drop" or "handle"."""
    layer = call.layer
    if all(m is None for m in call.masks):
        return "none"
    if converter.masks == "handle":
        return "handle"
    if not layer.supports_masking:
        return "drop"  # the engine drops the mask (with a warning) and so does the export
    single = len(call.inputs) == 1 and len(call.out_shapes) == 1
    default_mask = type(layer).compute_mask is Layer.compute_mask
    if single and default_mask and (converter.masks == "ignore" or not layer._call_takes_mask):
        return "pass"
    raise call.error("it receives a mask (from Embedding(mask_zero=True) or Masking), and the masked "
                     f"computation of {type(layer).__name__} is not exported")


def convert_model(g: Graph, model, inputs: list, shapes: list):
    """Add the nodes of ``model`` fed by the ONNX tensors ``inputs``; return (outputs, output shapes)."""
    if isinstance(model, Sequential):
        return _convert_sequential(g, model, inputs, shapes)
    if isinstance(model, Functional):
        return _convert_functional(g, model, inputs, shapes)
    raise _subclassed_error(model)


def _subclassed_error(model):
    return ValueError(
        f"Cannot export model {model.name!r} ({type(model).__name__}) to ONNX: only Sequential and "
        "functional models (and models nested in them) are exported, not subclassed models."
    )


def _convert_sequential(g, model, inputs, shapes):
    if len(inputs) != 1:
        raise ValueError(f"Sequential model {model.name!r} takes one input. Got {len(inputs)}.")
    x, shape = inputs[0], tuple(shapes[0])
    for layer in model.layers:
        out_shape = layer.compute_output_shape(shape)
        call = LayerCall(layer, [x], [shape], _shape_list(out_shape))
        outs = convert_layer(g, call)
        if len(outs) != 1:
            raise call.error("a layer of a Sequential model must have one output")
        x, shape = outs[0], tuple(out_shape)
    return [x], [shape]


def _convert_functional(g, model, inputs, shapes):
    model_inputs = model.inputs
    if len(inputs) != len(model_inputs):
        raise ValueError(f"Model {model.name!r} takes {len(model_inputs)} inputs. Got {len(inputs)}.")
    values = {id(t): name for t, name in zip(model_inputs, inputs)}
    for node in model._nodes:  # the model's layer calls, producers first (as saving reads them)
        args = [values[id(t)] for t in node.inputs]
        outs_t = list(node.siblings) if node.siblings is not None else [node]
        call = LayerCall(node.layer, args, [t.shape for t in node.inputs], [t.shape for t in outs_t],
                         dict(node.call_kwargs or {}))
        outs = convert_layer(g, call)
        if len(outs) != len(outs_t):
            raise call.error(f"expected {len(outs_t)} output(s), the converter made {len(outs)}")
        for tensor, name in zip(outs_t, outs):
            values[id(tensor)] = name
    outputs = model.outputs
    return [values[id(t)] for t in outputs], [tuple(t.shape) for t in outputs]


def _input_spec(model):
    """[(name, dtype, shape)] of the model's inputs."""
    if isinstance(model, Functional):
        layers = [t.layer for t in model.inputs]
        shapes = [tuple(t.shape) for t in model.inputs]
    else:
        layer = getattr(model, "_input_layer", None)
        layers = [layer]
        shapes = [tuple(model.input_shape)]
    spec = []
    for layer, shape in zip(layers, shapes):
        dtype = np.float32
        if layer is not None:
            if layer.dtype == "string":
                dtype = "string"
            elif np.dtype(layer.dtype).kind in "iub":
                dtype = np.dtype(layer.dtype)
        name = layer.name if layer is not None else "input"
        spec.append((name, dtype, (None, *shape[1:])))
    return spec


def model_to_graph(model, graph_name=None) -> Graph:
    """The :class:`Graph` computing ``model``'s inference outputs from its inputs."""
    if not isinstance(model, Model):
        raise TypeError(f"The 'model' argument of export must be an automl.keras Model. Got {model!r} instead.")
    if not isinstance(model, (Sequential, Functional)):
        raise _subclassed_error(model)
    if not model.built or model.input_shape is None:
        raise ValueError(
            f"Cannot export model {model.name!r} to ONNX before it is built: give it an Input, "
            "call build(input_shape), or fit it first."
        )
    g = Graph(graph_name or model.name)
    spec = _input_spec(model)
    names = [g.add_input(name, dtype, shape) for name, dtype, shape in spec]
    outputs, out_shapes = convert_model(g, model, names, [shape for _, _, shape in spec])
    if isinstance(model, Functional):
        out_names = [t.layer.name for t in model.outputs]
    else:
        out_names = [model.layers[-1].name] if model.layers else ["output"]
    for source, name, shape in zip(outputs, out_names, out_shapes):
        g.add_output(source, name, np.float32, (None, *shape[1:]))
    return g

