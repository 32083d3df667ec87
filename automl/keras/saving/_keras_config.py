"""Model configs in Keras's JSON layout, both ways.

automl's layers mirror Keras's classes, arguments and weights, so a config
translates item by item: :func:`to_keras` turns a model into the object
Keras 3 writes as ``config.json`` (``module``, ``class_name``, ``config``,
``registered_name``, ``build_config``, ``compile_config``; ``DTypePolicy``
dtypes, ``batch_shape`` inputs, functional ``inbound_nodes``), and
:func:`from_keras` turns a config written by Keras 3, Keras 2 / tf.keras (in
a legacy ``.h5`` file) or automl back into automl's own description. Options
automl does not have are dropped when they are neutral (``None``, ``False``,
Keras's performance switches) and refused otherwise, naming the layer and the
option. Nothing here runs code: a ``Lambda`` saved with bytecode is refused in
safe mode, and otherwise its function comes only from ``custom_objects``.
"""

from __future__ import annotations

import functools
import inspect
import itertools

from ... import _registry

__all__ = ["from_keras", "to_keras"]

# Keys a config may hold that only tune how Keras computes, never what.
_IGNORED_OPTIONS = {
    "implementation", "unroll", "time_major", "zero_output_for_mask", "autocast",
    "build_input_shape", "renorm_momentum", "jit_compile", "is_legacy_optimizer",
    "optional", "ragged", "sparse", "vocabulary_size",
}
# What every layer's constructor takes besides its own arguments (Keras's base Layer kwargs).
_BASE_LAYER_OPTIONS = {"name", "trainable", "dtype", "input_shape", "input_dim",
                       "batch_input_shape", "weights"}
_KINDS = (  # registry attribute, Keras module
    ("layers", "LAYERS", "keras.layers"),
    ("initializers", "INITIALIZERS", "keras.initializers"),
    ("regularizers", "REGULARIZERS", "keras.regularizers"),
    ("constraints", "CONSTRAINTS", "keras.constraints"),
    ("losses", "LOSSES", "keras.losses"),
    ("metrics", "METRICS", "keras.metrics"),
    ("optimizers", "OPTIMIZERS", "keras.optimizers"),
)
_NO_TRAINABLE = ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "Discretization")
_DTYPE_POLICIES = ("DTypePolicy", "FloatDTypePolicy", "Policy")
_MODELS = {"Sequential": "keras", "Functional": "keras.src.models.functional"}
_LAMBDA_REFUSED = (
    "it holds a Lambda layer {name!r} whose function was saved as Python bytecode. Loading it "
    "could execute arbitrary code, so safe mode (the default) refuses it. If you trust this file, "
    "pass safe_mode=False and give the function in custom_objects={{{name!r}: fn}}: automl.keras "
    "never runs the saved bytecode."
)


def _registries():
    from .. import constraints, initializers, layers, losses, metrics, optimizers, regularizers
    from ..optimizers import schedules

    modules = {"layers": layers, "initializers": initializers, "regularizers": regularizers,
               "constraints": constraints, "losses": losses, "metrics": metrics,
               "optimizers": optimizers}
    found = [(getattr(modules[kind], attr), module) for kind, attr, module in _KINDS]
    found.append((schedules.SCHEDULES, "keras.optimizers.schedules"))
    return found


def _keras_module(class_name):
    if class_name in _MODELS:
        return _MODELS[class_name]
    for registry, module in _registries():
        if class_name in registry:
            return module
    return None


def _layer_class(class_name):
    from .. import layers

    return layers.LAYERS.lookup(class_name) if class_name in layers.LAYERS else None


# -- automl -> Keras -----------------------------------------------------------
def _policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


def _object_to_keras(obj):
    """A serialized object (or any JSON value) in Keras's layout, recursively."""
    if isinstance(obj, list):
        return [_object_to_keras(item) for item in obj]
    if not isinstance(obj, dict):
        return obj
    if "class_name" not in obj or "config" not in obj or obj["class_name"] in (
            "function", "__lambda__", "__numpy__", "__tensor__"):
        return {key: _object_to_keras(value) for key, value in obj.items()}
    class_name = obj["class_name"]
    module = _keras_module(class_name)
    registered = obj.get("registered_name")
    if module is None:  # a user's registered class keeps its own module and name
        module = obj.get("module")
        registered = registered or _registry.CUSTOM_NAMES.get(
            _registry.custom_object(class_name), class_name)
    inner = obj["config"]
    if isinstance(inner, dict):
        if class_name == "InputLayer":
            inner = _input_to_keras(inner)
        else:
            inner = {key: _object_to_keras(value) for key, value in inner.items()}
            if isinstance(inner.get("dtype"), str) and _layer_class(class_name) is not None:
                inner["dtype"] = _policy(inner["dtype"])
            if class_name in _NO_TRAINABLE:  # Keras's constructor takes no trainable
                inner.pop("trainable", None)
    out = {"module": module, "class_name": class_name, "config": inner,
           "registered_name": registered if registered != class_name else None}
    if "build_config" in obj:
        out["build_config"] = obj["build_config"]
    return out


def _input_to_keras(config):
    shape = list(config.get("shape") or [])
    return {"batch_shape": [config.get("batch_size"), *shape], "dtype": config.get("dtype"),
            "sparse": False, "name": config.get("name")}


def _layer_build_config(layer):
    shape = getattr(layer, "_build_shape", None) or getattr(layer, "input_shape", None)
    try:
        if shape is not None and getattr(layer, "built", False):
            return {"input_shape": _jsonable_shape(shape)}
    except (AttributeError, TypeError, ValueError):
        pass
    return None


def _jsonable_shape(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_jsonable_shape(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def _keras_layer(layer, serialize):
    obj = _object_to_keras(serialize(layer))
    build = _layer_build_config(layer)
    if build is not None and type(layer).__name__ != "InputLayer":
        obj["build_config"] = build
    return obj


def _keras_tensor(tensor, ref):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": _jsonable_shape(tensor.shape), "dtype": "float32",
                       "keras_history": [ref[0], ref[1], ref[2] if len(ref) > 2 else 0]}}


def _with_tensors(template, tensors):
    """A recorded call's arguments with ``{"__tensor__": i}`` replaced by Keras tensor entries."""
    if isinstance(template, dict) and set(template) == {"__tensor__"}:
        return tensors[template["__tensor__"]]
    if isinstance(template, list):
        return [_with_tensors(v, tensors) for v in template]
    if isinstance(template, dict):
        return {k: _with_tensors(v, tensors) for k, v in template.items()}
    return template


def _call_template(args, kwargs, class_name):
    """The automl call template of a Keras 3 node, or None for a plain ``layer(x)`` /
    ``layer([x, y])`` call.

    A template keeps what a plain call cannot: literal arguments, tensors passed as keyword
    arguments, and several positional tensors (``ops.subtract(a, b)``, ``layer(a, b)``; Keras's
    MultiHeadAttention, called as ``mha(query, value)``, is rebuilt from its inputs instead).

    Tensors become ``{"__tensor__": i}`` in the order :func:`_tensor_refs` lists them (args,
    then kwargs), which is the order of the rebuilt node's inputs.
    """
    def plain(value):
        if _is_keras_tensor(value):
            return True
        return isinstance(value, list) and all(_is_keras_tensor(v) for v in value)

    positional = len(args) > 1 and class_name != "MultiHeadAttention"
    if not positional and all(plain(a) for a in args) \
            and not any(_has_keras_tensor(v) for v in kwargs.values()):
        return None
    counter = itertools.count()

    def encode(value):
        if _is_keras_tensor(value):
            return {"__tensor__": next(counter)}
        if isinstance(value, list):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        return value

    return {"args": encode(list(args)), "kwargs": encode(dict(kwargs))}


def _is_keras_tensor(value):
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _has_keras_tensor(value):
    if _is_keras_tensor(value):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_keras_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(_has_keras_tensor(v) for v in value.values())
    return False


def _functional_to_keras(model, config, serialize):
    by_name = {layer.name: layer for layer in model.layers}
    entries = {}
    for layer_config in config["layers"]:
        name = layer_config["config"]["name"]
        entry = _keras_layer(by_name[name], serialize)
        entry["name"] = name
        entry["inbound_nodes"] = []
        entries[name] = entry
    for node_config, node in zip(config["nodes"], model._nodes):
        tensors = [_keras_tensor(t, ref) for t, ref in zip(node.inputs, node_config["inputs"])]
        if not node_config["multi"]:
            args = tensors
        elif type(by_name[node_config["layer"]]).__name__ == "MultiHeadAttention":
            args = tensors  # Keras calls it as mha(query, value[, key])
        else:
            args = [tensors]
        entry = entries[node_config["layer"]]
        kwargs = dict(node_config.get("kwargs") or {})
        if "call" in node_config:  # a call with literal arguments (an op node): Keras's node layout
            args = _with_tensors(node_config["call"]["args"], tensors)
            kwargs.update(_with_tensors(node_config["call"].get("kwargs") or {}, tensors))
        entry["inbound_nodes"].append({"args": args, "kwargs": kwargs})
        if type(by_name[node_config["layer"]]).__name__ == "MultiHeadAttention":
            # Keras builds it from the shapes of its query, value (and key) inputs.
            shapes = dict(zip(("query_shape", "value_shape", "key_shape"),
                              (_jsonable_shape(t.shape) for t in node.inputs)))
            if len(node.inputs) == 1:
                shapes["value_shape"] = shapes["query_shape"]
            entry["build_config"] = {"shapes_dict": shapes}

    def refs(items):
        triples = [[r[0], r[1], r[2] if len(r) > 2 else 0] for r in items]
        return triples[0] if len(triples) == 1 else triples

    return {"name": config["name"], "trainable": config.get("trainable", True),
            "layers": list(entries.values()),
            "input_layers": [[r[0], r[1], 0] for r in config["input_layers"]],
            "output_layers": refs(config["output_layers"])}


def _model_inner_to_keras(model, serialize):
    from ..models import Functional, Sequential

    config = model.get_config()
    if isinstance(model, Sequential):
        layers = []
        if model._input_layer is not None:
            layers.append(_object_to_keras(serialize(model._input_layer)))
        layers += [_keras_model_or_layer(layer, serialize) for layer in model._stack]
        inner = {"name": config["name"], "trainable": config.get("trainable", True),
                 "dtype": _policy(config.get("dtype") or "float32"), "layers": layers}
        if model.built and model.input_shape is not None:
            inner["build_input_shape"] = _jsonable_shape(model.input_shape)
        return inner
    if isinstance(model, Functional):
        return _functional_to_keras(model, config, serialize)
    return _object_to_keras(config)


def _keras_model_or_layer(layer, serialize):
    from ..models import Functional, Model, Sequential

    if not isinstance(layer, (Sequential, Functional)) or not isinstance(layer, Model):
        return _keras_layer(layer, serialize)
    name = type(layer).__name__
    if name in _MODELS:
        module, registered = _MODELS[name], ("Functional" if name == "Functional" else None)
    else:  # a registered subclass keeps its own module and name
        from ._object_registration import get_registered_name

        module, registered = type(layer).__module__, get_registered_name(type(layer))
    out = {"module": module, "class_name": name,
           "config": _model_inner_to_keras(layer, serialize), "registered_name": registered}
    build = _layer_build_config(layer)
    if build is not None:
        out["build_config"] = build
    return out


def to_keras(model, compile_config=None) -> dict:
    """The ``config.json`` object Keras 3 writes for ``model``."""
    from ..models import Functional, Sequential
    from ._serialization import serialize_keras_object as serialize

    if isinstance(model, (Sequential, Functional)):
        out = _keras_model_or_layer(model, serialize)
    else:  # a registered subclassed model
        out = _object_to_keras(serialize(model))
    if isinstance(model, Sequential):
        out["build_config"] = ({"input_shape": _jsonable_shape(model.input_shape)}
                               if model.built and model.input_shape is not None else None)
    elif isinstance(model, Functional):
        out["build_config"] = {"input_shape": None}
    else:
        shape = getattr(model, "input_shape", None) if model.built else None
        out["build_config"] = {"input_shape": _jsonable_shape(shape)} if shape else None
    out["compile_config"] = _compile_to_keras(compile_config) if compile_config else None
    return out


def _compile_to_keras(config):
    return {
        "optimizer": _object_to_keras(config.get("optimizer")),
        "loss": _object_to_keras(config.get("loss")),
        "loss_weights": config.get("loss_weights"),
        "metrics": _object_to_keras(config.get("metrics")),
        "weighted_metrics": _object_to_keras(config.get("weighted_metrics")),
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


# -- Keras -> automl -----------------------------------------------------------
class _Reading:
    """State of one conversion: the error factory and the loading options."""

    def __init__(self, error, custom_objects, safe_mode):
        self.error = error
        self.custom_objects = custom_objects or {}
        self.safe_mode = safe_mode
        self.warnings: list[str] = []


def _resolve_class(reading, obj, kind_hint):
    """The automl class a Keras ``class_name`` names, or a ValueError saying what to do."""
    class_name, registered = obj.get("class_name"), obj.get("registered_name")
    module = obj.get("module") or ""
    if not isinstance(class_name, str):
        raise reading.error(f"a config entry has no valid class_name: {str(obj)[:200]}.")
    if class_name.startswith("Custom>") and not module:  # tf.keras names its optimizers so
        class_name = class_name.split(">", 1)[1]
    for key in (registered, class_name):
        if isinstance(key, str) and key in reading.custom_objects:
            return reading.custom_objects[key]
        found = _registry.custom_object(key, bare=False) if isinstance(key, str) else None
        if found is not None:
            return found
    if class_name in ("Functional", "Model", "Sequential"):
        from .. import models

        return models.Functional if class_name == "Model" else getattr(models, class_name)
    for registry, _ in _registries():
        if class_name in registry:
            return registry.lookup(class_name)
    found = _registry.custom_object(class_name)
    if found is not None:
        return found
    if module.startswith(("keras", "tf_keras", "tensorflow")) or not module:
        raise reading.error(
            f"it uses the {kind_hint} {class_name!r}"
            + (f" ({module})" if module else "")
            + ", which automl.keras does not have; it cannot be loaded yet. Replace it in the "
            "model, or register an automl.keras implementation under that name with "
            "register_keras_serializable() or pass it in custom_objects."
        )
    raise reading.error(
        f"it uses the custom {kind_hint} {class_name!r} (module {module!r}"
        + (f", registered name {registered!r}" if registered else "")
        + "), which is not registered. Pass it in custom_objects={"
        + repr(registered or class_name) + ": ...}, wrap load_model in custom_object_scope, or "
        "decorate the class with register_keras_serializable(). Nothing is imported from the "
        "module the file names."
    )


@functools.cache
def _accepted(cls):
    """Names ``cls(**config)`` accepts, or None if it takes any keyword."""
    from ..layers import Layer

    names: set = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names - {"self"}
        if klass is Layer:
            return (names | _BASE_LAYER_OPTIONS) - {"self"}
    # Every constructor passes **kwargs on: automl's own classes check them at the base,
    # a user's class may take anything.
    return names - {"self"} if cls.__module__.startswith("automl.") else None


# Options automl does not take but whose Keras default is what automl does anyway.
_DEFAULTS = {"data_format": "channels_last", "oov_method": "floormod"}


def _neutral(value, key=None) -> bool:
    if key in _DEFAULTS and value == _DEFAULTS[key]:
        return True
    return value is None or value is False or value == 0 or value in ([], {}, "")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fit_options(reading, cls, config, where):
    accepted = _accepted(cls)
    if accepted is None:
        return config
    out = {}
    for key, value in config.items():
        if key in accepted:
            out[key] = value
        elif key in _IGNORED_OPTIONS or _neutral(value, key):
            continue
        else:
            raise reading.error(
                f"{where} has the option {key}={_short(value)}, which automl.keras's "
                f"{cls.__name__} does not support; it cannot be loaded yet."
            )
    return out


def _dtype_name(reading, dtype):
    if isinstance(dtype, dict):
        name = (dtype.get("config") or {}).get("name")
        if not isinstance(name, str):
            raise reading.error(f"a dtype policy names no dtype: {dtype!r}.")
        dtype = name
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        reading.warnings.append(
            f"the mixed-precision policy {dtype!r} is loaded as float32 (automl.keras computes "
            "in one float type)."
        )
        return "float32"
    return dtype


def _function_from_keras(reading, spec, layer_name, what):
    """A Lambda's function entry: never bytecode; named functions by name only."""
    if isinstance(spec, (list, tuple)):  # Keras 2: [base64 bytecode, defaults, closure]
        spec = {"class_name": "__lambda__", "config": {"code": spec[:1]}}
    if isinstance(spec, str):
        return {"class_name": "function", "config": spec}
    if isinstance(spec, dict) and spec.get("class_name") == "__lambda__":
        if "code" in (spec.get("config") or {}) and reading.safe_mode:
            raise reading.error(_LAMBDA_REFUSED.format(name=layer_name))
        # automl's own lambdas are saved without code; either way the function must
        # come from custom_objects (automl's Lambda.from_config says so).
        return {"class_name": "__lambda__", "config": {}}
    return spec


def _object_from_keras(reading, obj, kind_hint="object"):
    """A nested serialized object (initializer, regularizer, inner layer...) for automl."""
    if isinstance(obj, list):
        return [_object_from_keras(reading, item, kind_hint) for item in obj]
    if not isinstance(obj, dict):
        return obj
    if "class_name" not in obj or "config" not in obj:
        return {key: _object_from_keras(reading, value, kind_hint) for key, value in obj.items()}
    if obj["class_name"] in ("function", "__numpy__"):
        return obj
    if obj["class_name"] in _DTYPE_POLICIES:
        return _dtype_name(reading, obj)
    if obj["class_name"] == "__lambda__":
        raise reading.error("it holds a Python lambda outside a Lambda layer; it is refused.")
    cls = _resolve_class(reading, obj, kind_hint)
    from ..layers import Layer

    if isinstance(cls, type) and issubclass(cls, Layer):
        return layer_from_keras(reading, obj)
    inner = obj["config"]
    if isinstance(inner, dict) and isinstance(cls, type):
        inner = {key: _object_from_keras(reading, value) for key, value in inner.items()}
        if "lr" in inner and "learning_rate" not in inner:  # Keras 2 optimizers
            inner["learning_rate"] = inner.pop("lr")
        inner = _fit_options(reading, cls, inner, f"the {obj['class_name']} config")
    class_name = obj["class_name"]
    if class_name.startswith("Custom>") and not obj.get("module"):
        class_name = class_name.split(">", 1)[1]
    out = {"class_name": class_name, "config": inner}
    if obj.get("registered_name") not in (None, obj["class_name"]):
        out["registered_name"] = obj["registered_name"]
    return out


def _input_from_keras(reading, config):
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if shape is None and config.get("shape") is not None:
        return {"name": config.get("name"), "dtype": _dtype_name(reading, config.get("dtype")),
                "shape": list(config["shape"]), "batch_size": config.get("batch_size")}
    if not isinstance(shape, list) or not shape:
        raise reading.error(f"the InputLayer {config.get('name')!r} has no valid batch_shape.")
    if config.get("sparse") or config.get("ragged"):
        raise reading.error(f"the InputLayer {config.get('name')!r} takes sparse or ragged "
                            "tensors, which automl.keras does not support.")
    _check_dims(reading, shape[1:], f"the InputLayer {config.get('name')!r}")
    return {"name": config.get("name"), "dtype": _dtype_name(reading, config.get("dtype")),
            "shape": list(shape[1:]), "batch_size": shape[0]}


def _check_dims(reading, dims, where):
    for d in dims:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 0):
            raise reading.error(f"{where} has the invalid dimension {d!r}; dimensions must be "
                                "non-negative integers or null.")


def layer_from_keras(reading, obj) -> dict:
    """One layer (or nested model) config for automl's ``layers.deserialize``."""
    class_name = obj["class_name"]
    inner = obj.get("config")
    if not isinstance(inner, dict):
        raise reading.error(f"the {class_name} entry has no config object.")
    cls = _resolve_class(reading, obj, "layer")
    name = inner.get("name", class_name)
    where = f"layer {name!r} ({class_name})"
    if class_name == "InputLayer":
        return {"class_name": "InputLayer", "config": _input_from_keras(reading, inner)}
    kind = _model_kind(cls)
    if kind is not None:
        out = {"class_name": "Functional" if class_name == "Model" else class_name,
               "config": model_inner_from_keras(reading, kind, inner)}
        if obj.get("registered_name") not in (None, class_name):
            out["registered_name"] = obj["registered_name"]
        return out
    config = {}
    for key, value in inner.items():
        if key == "dtype":
            config[key] = _dtype_name(reading, value)
        elif class_name == "Lambda" and key in ("function", "output_shape", "mask") and (
                isinstance(value, (dict, list)) and not (key != "function" and _is_shape(value))):
            config[key] = _function_from_keras(reading, value, name, key)
        elif class_name == "Lambda" and key == "function_type":
            continue
        elif key in ("layer", "backward_layer", "cell", "cells", "layers"):
            config[key] = _object_from_keras(reading, value, "layer")
        else:
            config[key] = _object_from_keras(reading, value)
    if class_name == "BatchNormalization" and isinstance(config.get("axis"), list) \
            and len(config["axis"]) == 1:
        config["axis"] = config["axis"][0]  # Keras 2 stores the built axis as a list
    if class_name == "MultiHeadAttention" and isinstance(config.get("attention_axes"), list):
        # A built Keras layer writes the default (every axis but batch and features) out.
        shapes = (obj.get("build_config") or {}).get("shapes_dict") or {}
        rank = len(shapes.get("query_shape") or [None, None, None])
        if config["attention_axes"] == list(range(1, rank - 1)):
            config["attention_axes"] = None
    if isinstance(cls, type):
        config = _fit_options(reading, cls, config, where)
    out = {"class_name": class_name, "config": config}
    if obj.get("registered_name") not in (None, class_name):
        out["registered_name"] = obj["registered_name"]
    return out


def _is_shape(value):
    return isinstance(value, list) and all(isinstance(v, int) or v is None for v in value)


# -- functional graphs -----------------------------------------------------------
def _tensor_refs(reading, value, where):
    """``[name, node, index]`` triples of the Keras tensors in a node's args (Keras 3 layout)."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        if not (isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)):
            raise reading.error(f"{where} has a tensor without a valid keras_history.")
        return [history]
    if isinstance(value, (list, tuple)):
        return [ref for item in value for ref in _tensor_refs(reading, item, where)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _tensor_refs(reading, item, where)]
    return []


def _nodes_of(reading, layer_config):
    """Each call of a layer as ``(input refs, multi, kwargs)``, for Keras 3 and Keras 2 layouts."""
    name = layer_config.get("name") or (layer_config.get("config") or {}).get("name")
    where = f"layer {name!r}"
    calls = []
    for node in layer_config.get("inbound_nodes") or []:
        if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            args, kwargs = node.get("args") or [], dict(node.get("kwargs") or {})
            kwargs.pop("training", None)  # decided when the model is called, as in Keras
            mask = kwargs.pop("mask", None)
            template = _call_template(args, kwargs, layer_config.get("class_name"))
            refs = _tensor_refs(reading, [args, kwargs], where)
            multi = len(args) > 1 or (len(args) == 1 and isinstance(args[0], list))
            if template is not None:  # literal or keyword tensor arguments: kept as a template
                kwargs = {"__call__": template}
            if mask is not None:
                kwargs["__mask__"] = _tensor_refs(reading, mask, where)
        elif isinstance(node, list):  # Keras 2: [[name, node, index, kwargs], ...]
            refs, kwargs = [], {}
            for entry in node:
                if not (isinstance(entry, list) and len(entry) >= 3):
                    raise reading.error(f"{where} has an invalid inbound node {str(entry)[:80]}.")
                refs.append(list(entry[:3]))
                if len(entry) > 3 and isinstance(entry[3], dict):
                    kwargs.update(entry[3])
            multi = len(refs) > 1
        else:
            raise reading.error(f"{where} has an invalid inbound node {str(node)[:80]}.")
        calls.append((refs, multi, kwargs))
    return name, calls


_MASKING = ("Masking", "Embedding")  # automl propagates their masks by itself


def _without_mask_ops(reading, entries):
    """Drop the ``keras.ops`` nodes Keras 3 writes to compute a mask passed as ``mask=``.

    Keras 3 records ``Masking -> LSTM`` as ``NotEqual -> Any`` op nodes feeding the
    LSTM's ``mask`` argument; automl.keras propagates the Masking (or Embedding
    ``mask_zero``) layer's mask itself, so those nodes and the argument are dropped
    when the masked input comes from such a layer, and refused otherwise.
    """
    by_name = {(c.get("name") or (c.get("config") or {}).get("name")): c for c in entries}
    ops = {name for name, c in by_name.items() if str(c.get("module") or "").startswith("keras.src.ops")}
    if not ops:
        return entries
    kept_ops: set = set()
    for name, c in by_name.items():
        if name in ops:
            continue
        for node in c.get("inbound_nodes") or []:
            if not isinstance(node, dict):
                continue
            mask = (node.get("kwargs") or {}).get("mask")
            refs = _tensor_refs(reading, node.get("args") or [], f"layer {name!r}")
            if mask is not None:
                source = by_name.get(refs[0][0]) if refs else None
                if source is None or source.get("class_name") not in _MASKING:
                    raise reading.error(
                        f"layer {name!r} is called with an explicit mask= computed by Keras ops; "
                        "automl.keras rebuilds masks only from Masking or Embedding(mask_zero) "
                        "layers.")
            for ref in refs:  # ops feeding real inputs must stay (and will be refused)
                if ref[0] in ops:
                    kept_ops.add(ref[0])
    return [c for c in entries
            if (c.get("name") or (c.get("config") or {}).get("name")) not in ops - kept_ops]


def _layer_refs(reading, refs, where):
    if isinstance(refs, list) and len(refs) == 3 and isinstance(refs[0], str):
        refs = [refs]  # a single [name, node, index]
    if not isinstance(refs, list) or not all(isinstance(r, list) and len(r) >= 2 for r in refs):
        raise reading.error(f"{where} is not a list of [layer, node, index] entries.")
    return [list(r[:3]) for r in refs]


def _functional_from_keras(reading, inner):
    layers, pending = [], []
    entries = [c for c in inner.get("layers") or []]
    if not all(isinstance(c, dict) for c in entries):
        raise reading.error("a functional model's layer entry is not an object.")
    entries = _without_mask_ops(reading, entries)
    for layer_config in entries:
        name, calls = _nodes_of(reading, layer_config)
        converted = layer_from_keras(reading, layer_config)
        converted["config"]["name"] = name
        layers.append(converted)
        for index, call in enumerate(calls):
            pending.append((name, index, call))
    names = {layer["config"]["name"] for layer in layers}
    ready = {(layer["config"]["name"], 0) for layer in layers
             if layer["class_name"] == "InputLayer"}
    nodes = []
    while pending:  # calls in an order where each one's inputs already exist
        for i, (name, index, (refs, multi, kwargs)) in enumerate(pending):
            missing = [r for r in refs if r[0] not in names]
            if missing:
                raise reading.error(f"layer {name!r} takes an input from the unknown layer "
                                    f"{missing[0][0]!r}.")
            if all((r[0], r[1]) in ready for r in refs):
                node = {"layer": name, "inputs": [list(r) for r in refs], "multi": multi}
                if "__call__" in kwargs:
                    node["call"] = kwargs["__call__"]
                kwargs = {k: v for k, v in kwargs.items() if k not in ("__mask__", "__call__")}
                if kwargs:
                    node["kwargs"] = kwargs
                nodes.append(node)
                ready.add((name, index))
                del pending[i]
                break
        else:
            raise reading.error("the functional graph has calls whose inputs never become "
                                f"available (first: layer {pending[0][0]!r}).")
    return {
        "name": inner.get("name"),
        "trainable": inner.get("trainable", True),
        "layers": layers,
        "nodes": nodes,
        "input_layers": _layer_refs(reading, inner.get("input_layers"), "input_layers"),
        "output_layers": _layer_refs(reading, inner.get("output_layers"), "output_layers"),
    }


def _model_kind(cls):
    """``"Sequential"`` or ``"Functional"`` for those classes and their subclasses, else None."""
    from ..models import Functional, Sequential

    if isinstance(cls, type) and issubclass(cls, Sequential):
        return "Sequential"
    if isinstance(cls, type) and issubclass(cls, Functional):
        return "Functional"
    return None


def model_inner_from_keras(reading, class_name, inner):
    if not isinstance(inner, dict):
        raise reading.error(f"the {class_name} entry has no config object.")
    if class_name == "Sequential":
        layers = inner.get("layers")
        if not isinstance(layers, list):
            raise reading.error("the Sequential config has no list of layers.")
        return {"name": inner.get("name"), "trainable": inner.get("trainable", True),
                "dtype": _dtype_name(reading, inner.get("dtype")) or None,
                "layers": [layer_from_keras(reading, layer) for layer in layers]}
    return _functional_from_keras(reading, inner)


def from_keras(config: dict, error, custom_objects=None, safe_mode=True):
    """automl's model description (``class_name``, ``config``, ``build_config``,
    ``compile_config``) from a Keras config, plus warnings to show."""
    reading = _Reading(error, custom_objects, safe_mode)
    class_name = config.get("class_name")
    if class_name == "Model":
        class_name = "Functional"
    kind = _model_kind(_resolve_class(reading, config, "model class")) if isinstance(
        class_name, str) else None
    if kind is not None:
        inner = model_inner_from_keras(reading, kind, config.get("config"))
    else:  # a registered subclassed model: its own config, converted item by item
        _resolve_class(reading, config, "model class")
        inner = _object_from_keras(reading, config.get("config") or {})
    build = config.get("build_config")
    if not isinstance(build, dict):
        build = {}
    shape = build.get("input_shape")
    if shape is not None and not (isinstance(shape, list) and shape and not isinstance(shape[0], list)):
        shape = None
    if shape is not None:
        _check_dims(reading, shape[1:], "the build_config")
    compile_config = config.get("compile_config")
    if isinstance(compile_config, dict) and compile_config:
        compile_config = compile_from_keras(reading, compile_config)
    else:
        compile_config = None
    description = {"class_name": class_name, "config": inner,
                   "build_config": {"input_shape": shape} if shape else None,
                   "compile_config": compile_config}
    return description, reading.warnings


def compile_from_keras(reading, config: dict) -> dict:
    """Compile arguments from a Keras 3 ``compile_config`` or a Keras 2 ``training_config``."""
    optimizer = config.get("optimizer", config.get("optimizer_config", "rmsprop"))
    out = {"optimizer": _object_from_keras(reading, optimizer, "optimizer"),
           "loss": _object_from_keras(reading, config.get("loss"), "loss"),
           "loss_weights": config.get("loss_weights"),
           "metrics": _metrics_from_keras(reading, _single_output(config.get("metrics"))),
           "weighted_metrics": _metrics_from_keras(
               reading, _single_output(config.get("weighted_metrics")))}
    return out


def _single_output(metrics):
    """Keras 2 writes one list of metrics per output: ``[[...]]`` for a single output."""
    if isinstance(metrics, list) and len(metrics) == 1 and isinstance(metrics[0], list):
        return metrics[0]
    return metrics


def _metrics_from_keras(reading, metrics):
    """Metric names and configs; Keras 2's ``MeanMetricWrapper(fn=...)`` becomes its function name."""
    if metrics is None:
        return None
    if isinstance(metrics, dict) and "class_name" not in metrics:
        return {key: _metrics_from_keras(reading, value) for key, value in metrics.items()}
    if isinstance(metrics, list):
        return [_metrics_from_keras(reading, m) for m in metrics]
    if isinstance(metrics, dict):
        if metrics.get("class_name") == "MeanMetricWrapper":
            inner = metrics.get("config") or {}
            return inner.get("fn") or inner.get("name")
        return _object_from_keras(reading, metrics, "metric")
    return metrics
