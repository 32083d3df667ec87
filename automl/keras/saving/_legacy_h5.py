"""Keras's legacy HDF5 files: ``model.save("m.h5")`` and ``save_weights("w.h5")`` of Keras 2 / tf.keras / Keras 3.

A full-model file has JSON attributes ``model_config`` (and
``training_config`` when compiled) and a ``model_weights`` group; a weights
file is that group at the root. The group lists ``layer_names``; each layer's
subgroup lists ``weight_names`` (the datasets, in the layer's trainable then
non-trainable order). Weights load by topological order (the layers with
weights, in model order) or by layer name. The legacy optimizer state is not
restored (its layout differs between Keras versions): training resumes with a
fresh optimizer, with a warning.
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from ._bounded import h5_attr_json, h5_bytes, h5_datasets, h5_file

__all__ = ["is_legacy", "load_model", "load_weights", "write_model"]


def _names(obj, key) -> list[str]:
    """A list-of-strings attribute, also when Keras split it in chunks (``key0``, ``key1``...)."""
    def decode(values):
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v)
                for v in np.asarray(values).reshape(-1).tolist()]

    if key in obj.attrs:
        return decode(obj.attrs[key])
    out, chunk = [], 0
    while f"{key}{chunk}" in obj.attrs:
        out += decode(obj.attrs[f"{key}{chunk}"])
        chunk += 1
    return out


_LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                 "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error"}


def is_legacy(h5) -> bool:
    """Whether an open HDF5 file is in the legacy layout (full model or weights)."""
    return "model_weights" in h5 or "layer_names" in h5.attrs or "layer_names0" in h5.attrs


def _legacy_order(layer) -> list:
    weights = layer.weights
    return [w for w in weights if w.trainable] + [w for w in weights if not w.trainable]


def _saved_layers(source, group, what, limit) -> list[tuple[str, list[np.ndarray]]]:
    """``(layer name, arrays)`` for every layer of the file that has weights, in file order."""
    datasets = h5_datasets(source, group, what, limit)
    layers = []
    for name in _names(group, "layer_names"):
        if name not in group:
            raise source.error(f"{what} lists layer {name!r} but holds no group for it.")
        weight_names = _names(group[name], "weight_names")
        arrays = []
        for weight_name in weight_names:
            key = f"{name}/{weight_name}"
            if key not in datasets:
                raise source.error(f"{what} lists the weight {key!r} but does not hold it.")
            arrays.append(np.asarray(datasets[key][()]))
        if arrays:
            layers.append((name, arrays))
    return layers


def _assign_layer(source, layer, arrays, skip_mismatch, where) -> list:
    variables = _legacy_order(layer)
    problem = None
    if len(arrays) != len(variables):
        problem = (f"{where} holds {len(arrays)} weights but layer {layer.name!r} "
                   f"({type(layer).__name__}) has {len(variables)}.")
    else:
        for var, arr in zip(variables, arrays):
            if arr.shape != var.shape:
                problem = (f"{where} holds a weight of shape {arr.shape} for the variable "
                           f"{var.name!r} of shape {var.shape}.")
                break
    if problem is None:
        return list(zip(variables, arrays))
    if not skip_mismatch:
        raise source.error(problem)
    warnings.warn(f"Skipping layer {layer.name!r} while loading {source.name}: {problem}",
                  stacklevel=4)
    return []


def _model_layers_with_weights(model):
    return [layer for layer in model.layers if layer.weights]


def assign_group(source, group, model, what, limit, by_name=False, skip_mismatch=False):
    saved = _saved_layers(source, group, what, limit)
    pairs = []
    if by_name:
        by = {layer.name: layer for layer in model.layers}
        for name, arrays in saved:
            if name in by:
                pairs += _assign_layer(source, by[name], arrays, skip_mismatch, f"layer {name!r}")
    else:
        layers = _model_layers_with_weights(model)
        if len(saved) != len(layers):
            raise source.error(
                f"it holds weights for {len(saved)} layers but model {model.name!r} has "
                f"{len(layers)} layers with weights; load by_name=True to match layers by name."
            )
        for (name, arrays), layer in zip(saved, layers):
            pairs += _assign_layer(source, layer, arrays, skip_mismatch, f"layer {name!r}")
    for var, arr in pairs:
        var.assign(arr)


def load_weights(source, h5, model, limit, by_name, skip_mismatch):
    group = h5["model_weights"] if "model_weights" in h5 else h5
    assign_group(source, group, model, "the weights file", limit, by_name, skip_mismatch)


def load_model(source, custom_objects, compile, safe_mode, from_keras, rebuild, build_budget,
               weights_limit):
    with h5_file(source, source.data, "the file") as h5:
        config = h5_attr_json(source, h5, "model_config", "the file")
        if config is None:
            raise source.error("it is an HDF5 file without a 'model_config' attribute: a weights "
                               "file, not a model; build the model and call load_weights().")
        description = from_keras(source, config, custom_objects, safe_mode)
        training = h5_attr_json(source, h5, "training_config", "the file") if compile else None
        if isinstance(training, dict):
            from ._keras_config import _Reading, compile_from_keras

            description["compile_config"] = compile_from_keras(
                _Reading(source.error, custom_objects, safe_mode), training)
        else:
            description["compile_config"] = None
        model = rebuild(source, description, custom_objects, compile, build_budget(len(source.data)))
        if "model_weights" not in h5:
            raise source.error("the file has no 'model_weights' group.")
        assign_group(source, h5["model_weights"], model, "'model_weights'", weights_limit(model))
        if compile and model.compiled and "optimizer_weights" in h5:
            _restore_optimizer(source, h5["optimizer_weights"], model, weights_limit(model))
    return model


def _restore_optimizer(source, group, model, limit):
    from . import _weights_h5

    datasets = h5_datasets(source, group, "'optimizer_weights'", limit)
    names = _names(group, "weight_names")
    missing = [n for n in names if n not in datasets]
    if missing:
        raise source.error(f"'optimizer_weights' lists {missing[0]!r} but does not hold it.")
    arrays = [np.asarray(datasets[n][()]) for n in names]
    layout = group.attrs.get("automl_layout")
    layout = layout.decode("utf-8") if isinstance(layout, bytes) else layout
    _weights_h5.restore_optimizer(model, layout or _weights_h5.OPTIMIZER_VARS, arrays,
                                  source.error, source.name)


def write_model(model, keras_config: dict, keras_version: str, include_optimizer=True) -> bytes:
    """A legacy HDF5 full-model file, as Keras 3 writes for ``.h5`` names (weights only, no optimizer)."""
    compile_config = keras_config.pop("compile_config", None)
    keras_config.pop("build_config", None)

    def fill(f):
        f.attrs["keras_version"] = keras_version
        f.attrs["backend"] = "numpy"
        f.attrs["model_config"] = json.dumps(keras_config).encode("utf-8")
        if compile_config:  # Keras's legacy training_config: the optimizer as optimizer_config
            optimizer = compile_config.get("optimizer") or {}
            training = {key: compile_config.get(key)
                        for key in ("loss", "metrics", "weighted_metrics", "loss_weights")}
            if isinstance(training["loss"], str):  # Keras 3.15 cannot read back "mse" from .h5
                training["loss"] = _LOSS_ALIASES.get(training["loss"], training["loss"])
            training["optimizer_config"] = {"class_name": optimizer.get("class_name"),
                                            "config": optimizer.get("config")}
            f.attrs["training_config"] = json.dumps(training).encode("utf-8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [layer.name.encode("utf-8") for layer in model.layers]
        group.attrs["backend"] = b"numpy"
        group.attrs["keras_version"] = keras_version.encode("utf-8")
        for layer in sorted(model.layers, key=lambda la: la.name):
            layer_group = group.create_group(layer.name)
            weights = _legacy_order(layer)
            names = [w.name.encode("utf-8") for w in weights]
            layer_group.attrs["weight_names"] = names
            for name, w in zip(names, weights):
                layer_group.create_dataset(name.decode("utf-8"), data=w.numpy())
        group.create_group("top_level_model_weights").attrs["weight_names"] = []
        if include_optimizer and model.compiled and model.optimizer is not None:
            from . import _weights_h5

            layout, arrays = _weights_h5.optimizer_arrays(model)
            opt = f.create_group("optimizer_weights")
            names = [f"{model.optimizer.name}/{i}" for i in range(len(arrays))]
            opt.attrs["weight_names"] = [n.encode("utf-8") for n in names]
            opt.attrs["automl_layout"] = layout
            for name, arr in zip(names, arrays):
                opt.create_dataset(name, data=np.asarray(arr))

    return h5_bytes(fill)
