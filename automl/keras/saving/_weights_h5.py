"""Weights in Keras 3's HDF5 layout (``model.weights.h5`` and ``.weights.h5`` files).

Keras 3 stores each layer's variables under the path of the layer in the
model: ``layers/<key>/vars/0``, ``1``, ... where ``<key>`` is the snake-case
class name, numbered when repeated (``dense``, ``dense_1``), and sublayers
under the attribute holding them (``lstm/cell/vars``,
``bidirectional/forward_layer/cell/vars``, ``multi_head_attention/query_dense/vars``,
``time_distributed/layer/vars``, ``rnn/cell/cells/lstm_cell/vars``). automl's
layers hold the same variables in the same order, so :func:`weight_paths`
names the path of every ``model.weights`` entry.

The optimizer is stored as ``optimizer/vars/0`` (iterations), ``1`` (the
learning rate, unless it is a schedule) and then its slot variables, per
model variable as Keras creates them. automl keeps slots packed over all
parameters and, for Adam, scaled; :func:`optimizer_arrays` and
:func:`restore_optimizer` convert both ways for the optimizers whose Keras
state has the same meaning (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta,
Adamax, Ftrl, Lion). Other optimizers (or EMA and gradient accumulation) keep
automl's own packed state under ``optimizer/automl_vars``, which Keras ignores.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from ._bounded import h5_bytes, h5_datasets

__all__ = ["optimizer_arrays", "read_weights", "restore_optimizer", "weight_paths",
           "write_weights"]

OPTIMIZER_VARS = "optimizer/vars"
AUTOML_OPTIMIZER_VARS = "optimizer/automl_vars"


def snake_case(name: str) -> str:
    """Keras's snake-case of a class name (``BatchNormalization`` -> ``batch_normalization``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _keys(objects) -> list[str]:
    """Keras's unique keys of objects in one container (``dense``, ``dense_1``, ...)."""
    used: dict[str, int] = {}
    keys = []
    for obj in objects:
        base = snake_case(type(obj).__name__)
        if base in used:
            used[base] += 1
            keys.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            keys.append(base)
    return keys


def _own(prefix, count):
    return [f"{prefix}vars/{i}" for i in range(count)]


def layer_paths(layer, prefix: str) -> list[str]:
    """The HDF5 path of each of ``layer.weights``, in order."""
    from ..models import Model

    name = type(layer).__name__
    count = len(layer.weights)
    if isinstance(layer, Model):
        return model_paths(layer, prefix)
    if name in ("SimpleRNN", "LSTM", "GRU"):
        return _own(prefix + "cell/", count)
    if name == "RNN":
        return cell_paths(layer.cell, prefix + "cell/")
    if name == "StackedRNNCells":
        return cell_paths(layer, prefix)
    if name == "Bidirectional":
        return (layer_paths(layer.forward_layer, prefix + "forward_layer/")
                + layer_paths(layer.backward_layer, prefix + "backward_layer/"))
    if name == "TimeDistributed":
        return layer_paths(layer.layer, prefix + "layer/")
    if name == "MultiHeadAttention" and count % 4 == 0:
        per = count // 4
        return [path for part in ("query_dense", "key_dense", "value_dense", "output_dense")
                for path in _own(f"{prefix}{part}/", per)]
    return _own(prefix, count)


def cell_paths(cell, prefix):
    if type(cell).__name__ == "StackedRNNCells":
        return [path for key, sub in zip(_keys(cell.cells), cell.cells)
                for path in layer_paths(sub, f"{prefix}cells/{key}/")]
    return _own(prefix, len(cell.weights))


def _model_layers(model):
    from ..models import Sequential

    layers = list(model._stack) if isinstance(model, Sequential) else list(model.layers)
    return [layer for layer in layers if type(layer).__name__ != "InputLayer"]


def model_paths(model, prefix="") -> list[str]:
    layers = _model_layers(model)
    paths = []
    for key, layer in zip(_keys(layers), layers):
        paths += layer_paths(layer, f"{prefix}layers/{key}/")
    return paths


def weight_paths(model) -> list[tuple[str, object]]:
    """``(path, variable)`` for every weight of ``model``, in ``model.weights`` order.

    Falls back to automl's order when a layer's sublayers do not add up (a
    custom layer holding weights in an unusual way).
    """
    from ..models import Functional, Sequential

    variables = model.weights
    if isinstance(model, (Sequential, Functional)):
        paths = model_paths(model)
    else:  # a subclassed model: its layers in tracking order
        paths = model_paths_tracked(model)
    if len(paths) != len(variables):
        raise ValueError(f"the weights of model {model.name!r} do not map onto Keras's layout "
                         f"({len(paths)} paths for {len(variables)} variables).")
    return list(zip(paths, variables))


def model_paths_tracked(model):
    layers = list(model.layers)
    own = len(model.weights) - sum(len(layer.weights) for layer in layers)
    paths = _own("", own) if own > 0 else []
    for key, layer in zip(_keys(layers), layers):
        paths += layer_paths(layer, f"layers/{key}/")
    return paths


# -- optimizer state -------------------------------------------------------------
def _slot_layout(optimizer):
    """Keras's slot groups (automl slot indices) and value scales, or None if unknown."""
    name = type(optimizer).__name__
    if getattr(optimizer, "use_ema", False) or getattr(optimizer, "gradient_accumulation_steps", None):
        return None
    if name == "SGD":
        return ([[0]] if optimizer.momentum else []), {}
    if name in ("Adam", "AdamW"):
        groups = [[0, 1]] + ([[2]] if optimizer.amsgrad else [])
        b1, b2 = optimizer.beta_1, optimizer.beta_2
        return groups, {0: 1.0 - b1, 1: 1.0 - b2, 2: 1.0 - b2}
    if name == "RMSprop":
        return [[0]] + ([[1]] if optimizer.momentum else []) + ([[2]] if optimizer.centered else []), {}
    if name in ("Adagrad", "Lion"):
        return [[0]], {}
    if name in ("Adadelta", "Adamax", "Ftrl"):
        return [[0, 1]], {}
    return None


def _trainable_sizes(model):
    return [(v.shape, int(np.prod(v.shape))) for v in model.trainable_weights]


def optimizer_arrays(model) -> tuple[str, list[np.ndarray]]:
    """``(group, arrays)``: the optimizer state in Keras's order, or automl's when unmapped."""
    optimizer = model.optimizer
    layout = _slot_layout(optimizer)
    slots = (optimizer._slots or [None])[0] if optimizer._slots else None
    if layout is None:
        return AUTOML_OPTIMIZER_VARS, [np.asarray(v) for v in optimizer.variables]
    arrays = [np.array(optimizer.iterations, dtype=np.int64)]
    if not callable(optimizer._learning_rate):
        arrays.append(np.array(optimizer.learning_rate, dtype=np.float32))
    if slots is None:
        return OPTIMIZER_VARS, arrays
    groups, scales = layout
    sizes = _trainable_sizes(model)
    for group in groups:
        offset = 0
        for shape, size in sizes:
            for k in group:
                flat = slots[k][offset:offset + size]
                if k in scales:  # float64 so that reading back (dividing) restores automl's exact slot
                    flat = flat.astype(np.float64) * scales[k]
                arrays.append(flat.reshape(shape))
            offset += size
    return OPTIMIZER_VARS, arrays


def _iterations(error, value, what) -> int:
    arr = np.asarray(value)
    if arr.shape != () or arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and arr != int(arr)):
        raise error(f"the optimizer iterations in {what} must be a scalar integer. Got an array "
                    f"of shape {arr.shape} and dtype {arr.dtype}.")
    if int(arr) < 0:
        raise error(f"the optimizer iterations in {what} must be >= 0. Got {int(arr)}.")
    return int(arr)


def restore_optimizer(model, group: str, arrays: list, error, what: str) -> None:
    """Load optimizer state read by :func:`read_weights` into the compiled ``model``."""
    if not arrays:
        return
    optimizer = model.optimizer
    iterations = _iterations(error, arrays[0], what)
    if group == AUTOML_OPTIMIZER_VARS:
        if len(arrays) > 1:
            model._prepare_training()  # builds the slots over the packed parameters
            variables = optimizer.variables
            shapes = [v.shape for v in variables[1:]]
            if [np.shape(a) for a in arrays[1:]] != shapes:
                raise error(f"the saved optimizer state ({len(arrays) - 1} arrays of shapes "
                            f"{[np.shape(a) for a in arrays[1:]]}) does not fit optimizer "
                            f"{type(optimizer).__name__} of this model (shapes {shapes}).")
            for dst, src in zip(variables[1:], arrays[1:]):
                dst[...] = src
        optimizer.iterations = iterations
        return
    layout = _slot_layout(optimizer)
    rest = arrays[1 + (not callable(optimizer._learning_rate)):]
    sizes = _trainable_sizes(model)
    groups, scales = layout if layout is not None else ([], {})
    expected = sum(len(g) for g in groups) * len(sizes)
    if len(arrays) - 1 == expected:  # no learning-rate variable (Keras 2 files)
        rest = arrays[1:]
    if layout is None or len(rest) != expected:
        if rest or layout is None:
            warnings.warn(
                f"Not restoring the optimizer state of {what}: it holds {len(arrays)} variables, "
                f"which do not match {type(optimizer).__name__}'s state in automl.keras; "
                "training restarts the optimizer from its initial state.", stacklevel=3)
            return
    if rest:
        model._prepare_training()
        slots = optimizer._slots[0]
        position = 0
        for group in groups:
            offset = 0
            for shape, size in sizes:
                for k in group:
                    src = np.asarray(rest[position])
                    position += 1
                    if src.shape != tuple(shape):
                        raise error(f"the optimizer slot {position - 1} in {what} has shape "
                                    f"{src.shape}, but its variable has shape {tuple(shape)}.")
                    slots[k][offset:offset + size] = src.reshape(-1) / scales.get(k, 1.0)
                offset += size
    optimizer.iterations = iterations


# -- files -----------------------------------------------------------------------
def write_weights(model, optimizer_state=None) -> bytes:
    """HDF5 bytes in Keras's layout; ``optimizer_state`` is ``(group, arrays)``."""
    return h5_bytes(lambda f: _fill(f, model, optimizer_state))


def _fill(f, model, optimizer_state):
    f.create_group("vars").attrs["name"] = model.name
    for path, var in weight_paths(model):
        group_path, index = path.rsplit("/", 1)
        group = f.require_group(group_path)
        if "name" not in group.attrs:
            group.attrs["name"] = var.name.rsplit("/", 1)[0]
        group.create_dataset(index, data=var.value)
    if optimizer_state is not None:
        group_path, arrays = optimizer_state
        group = f.require_group(group_path)
        group.attrs["name"] = model.optimizer.name
        for i, arr in enumerate(arrays):
            group.create_dataset(str(i), data=np.asarray(arr))


def read_weights(source, h5, what: str, limit: int) -> dict:
    """``{path: array}`` of every dataset in a Keras-layout HDF5 file, checked before reading."""
    found = h5_datasets(source, h5, what, limit)
    return {path: dataset[()] for path, dataset in found.items()}


def optimizer_from(arrays: dict) -> tuple[str, list]:
    """The optimizer group present in ``arrays`` and its arrays in index order."""
    for group in (OPTIMIZER_VARS, AUTOML_OPTIMIZER_VARS):
        keys = [k for k in arrays if k.startswith(group + "/")]
        if keys:
            indices = sorted(int(k.rsplit("/", 1)[1]) for k in keys
                             if k.rsplit("/", 1)[1].isdigit())
            return group, [arrays[f"{group}/{i}"] for i in indices]
    return OPTIMIZER_VARS, []


def assign(model, arrays: dict, error, what: str, skip_mismatch=False) -> None:
    """Check every model weight against ``arrays`` (Keras paths), then assign them all."""
    pairs = []
    used = set()
    for path, var in weight_paths(model):
        if path not in arrays:
            layer = path.split("/vars/")[0]
            problem = (f"it has no weight {path!r} for variable {var.name!r} of model "
                       f"{model.name!r} (layer group {layer!r}); the file was saved from a "
                       "different model.")
            if not skip_mismatch:
                raise error(problem)
            warnings.warn(f"Skipping a weight while loading {what}: {problem}", stacklevel=3)
            continue
        arr = arrays[path]
        used.add(path)
        if arr.shape != var.shape:
            problem = (f"the saved weight {path!r} has shape {arr.shape} but the variable "
                       f"{var.name!r} of model {model.name!r} has shape {var.shape}.")
            if not skip_mismatch:
                raise error(problem)
            warnings.warn(f"Skipping a weight while loading {what}: {problem}", stacklevel=3)
            continue
        pairs.append((var, arr))
    # Keras also stores metric and optimizer variables; only layers' weights must all fit.
    extra = sorted(p for p in arrays if p not in used and p.startswith(("layers/", "vars/")))
    if extra and not skip_mismatch:
        raise error(f"it holds {len(extra)} weight(s) that model {model.name!r} has no variable "
                    f"for (first: {extra[0]!r}); the file was saved from a different model.")
    for var, arr in pairs:
        var.assign(arr)
