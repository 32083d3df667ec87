"""Whole-model and weights-only files, in Keras 3's ``.keras`` archive layout.

A model file is a zip archive holding:

``config.json``
    ``{"class_name", "config", "build_config", "compile_config"}``: the
    model's ``get_config()``, its input shape, and its compile arguments with
    the optimizer serialized as it is at save time (current learning rate or
    schedule included).
``metadata.json``
    ``{"format", "format_version", "automl_version", "date_saved"}``.
``model.weights.npz``
    An ``np.savez`` archive: the model variables as ``layers/<index>/<name>``
    and the optimizer state (``optimizer.variables``: iterations then slots)
    as ``optimizer/<index>/<label>``, so a reloaded model continues training
    on the same trajectory.

Files named ``.h5`` are written in this same zip format, not HDF5 (h5py is
not a dependency): they only load back with automl. Weights-only files
(``.weights.npz`` or ``.weights.h5``) are a bare ``model.weights.npz``
without the optimizer state.

Loading never runs code from the file: JSON is parsed, arrays are read with
``allow_pickle=False``, and class names resolve only through the engine's
registries (layers, losses, metrics, optimizers, schedules), an explicit
``custom_objects`` mapping and the objects the user registered in the running
process (``register_keras_serializable``, ``get_custom_objects()``,
``custom_object_scope``). Any defect in the file raises a ``ValueError``
naming the file and the problem.
"""

from __future__ import annotations

import datetime
import inspect
import io
import json
import os
import tempfile
import warnings
import zipfile
import zlib

import numpy as np

from ... import __version__ as _automl_version
from ... import _registry
from ..._validation import param_error

__all__ = [
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "clone_model",
    "model_from_json",
    "to_json",
]

FORMAT = "automl.keras"
FORMAT_VERSION = "1.0"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.npz"
MODEL_SUFFIXES = (".keras", ".h5")
WEIGHTS_SUFFIXES = (".weights.npz", ".weights.h5")
_LAYERS, _OPTIMIZER = "layers", "optimizer"


# -- helpers ---------------------------------------------------------------
def _model_base():
    # Imported lazily: automl.keras.models re-exports this module's functions.
    from ..models import Model

    return Model


def _builtin_models() -> dict:
    from ..models import Functional, Sequential

    return {"Functional": Functional, "Model": Functional, "Sequential": Sequential}


def _check_model(model, owner):
    if not isinstance(model, _model_base()):
        raise param_error("model", owner, "a Model instance", model, TypeError)


def _is_file_like(obj) -> bool:
    return hasattr(obj, "read") or hasattr(obj, "write")


def _describe(filepath) -> str:
    return repr(os.fspath(filepath)) if not _is_file_like(filepath) else repr(filepath)


def _check_suffix(filepath, suffixes, owner) -> None:
    if _is_file_like(filepath):
        return
    if not isinstance(filepath, (str, os.PathLike)):
        raise param_error("filepath", owner, "a path or a binary file object", filepath, TypeError)
    if not os.fspath(filepath).endswith(suffixes):
        raise param_error("filepath", owner, "a path ending in " + " or ".join(suffixes), filepath)


def _write_bytes(filepath, data: bytes, overwrite: bool) -> None:
    """Write ``data`` to a file object, or atomically to a path."""
    if _is_file_like(filepath):
        filepath.write(data)
        return
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"Not overwriting the existing file {path!r} (overwrite=False).")
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    # Write beside the target then rename, so a crash never leaves a half-written file.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read_bytes(filepath) -> bytes:
    if _is_file_like(filepath):
        return filepath.read()
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such model or weights file: {path!r}.")
    with open(path, "rb") as f:
        return f.read()


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(
        f"Cannot save a config holding {obj!r} (of type {type(obj).__name__}): "
        "config values must be JSON-serializable."
    )


def _dumps(obj, **kwargs) -> str:
    return json.dumps(obj, default=_json_default, **kwargs)


def _npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _weight_arrays(model) -> dict:
    return {f"{_LAYERS}/{i:04d}/{v.name}": v.numpy() for i, v in enumerate(model.weights)}


def _optimizer_arrays(optimizer) -> dict:
    variables = optimizer.variables
    labels = ["iterations", *("slot" for _ in variables[1:])]
    return {f"{_OPTIMIZER}/{i:04d}/{label}": np.array(v) for i, (v, label) in
            enumerate(zip(variables, labels))}


class _Reader:
    """Reads one file, turning every defect into a ValueError naming the file."""

    def __init__(self, filepath):
        self.name = _describe(filepath)
        self.data = _read_bytes(filepath)

    def error(self, problem) -> ValueError:
        return ValueError(f"Cannot load {self.name}: {problem}")

    def open_zip(self, data=None, what="a .keras archive") -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(io.BytesIO(self.data if data is None else data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            head = (self.data if data is None else data)[:8]
            if head.startswith(b"\x89HDF"):
                raise self.error(f"it is an HDF5 file, not {what}; automl.keras reads only its "
                                 "own zip archives (even for names ending in .h5).") from None
            raise self.error(f"it is not {what} (not a valid zip file: {exc}); "
                             "the file may be truncated or corrupted.") from None

    def member(self, archive: zipfile.ZipFile, name: str) -> bytes:
        try:
            return archive.read(name)
        except KeyError:
            raise self.error(f"the archive has no {name!r} member; it is truncated or not a "
                             "model saved by automl.keras.") from None
        except (zipfile.BadZipFile, EOFError, zlib.error, ValueError) as exc:
            raise self.error(f"the archive member {name!r} is corrupted ({exc}).") from None

    def json_member(self, archive, name) -> dict:
        try:
            obj = json.loads(self.member(archive, name).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.error(f"{name!r} is not valid JSON ({exc}).") from None
        if not isinstance(obj, dict):
            raise self.error(f"{name!r} must hold a JSON object. Got {type(obj).__name__}.")
        return obj

    def arrays(self, data: bytes, what: str) -> dict:
        """The arrays of an npz archive, grouped by prefix and ordered by index."""
        self.open_zip(data, what).close()
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                raw = [(key, npz[key]) for key in npz.files]
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as exc:
            raise self.error(f"{what} is corrupted ({exc}).") from None
        groups: dict[str, list] = {_LAYERS: [], _OPTIMIZER: []}
        for key, arr in raw:
            prefix, index, label = (key.split("/", 2) + ["", ""])[:3]
            if prefix not in groups or not index.isdigit():
                raise self.error(f"unexpected array {key!r} in {what}.")
            if arr.dtype.kind not in "biuf":
                raise self.error(f"array {key!r} in {what} has the non-numeric dtype {arr.dtype}.")
            groups[prefix].append((int(index), label, arr))
        for prefix, items in groups.items():
            items.sort(key=lambda item: item[0])
            if [i for i, _, _ in items] != list(range(len(items))):
                raise self.error(f"the {prefix} arrays in {what} are not numbered 0..{len(items) - 1}.")
        return groups


def _assign_weights(reader, model, saved: list, skip_mismatch=False) -> None:
    """Check every saved array against ``model.weights``, then assign them all."""
    variables = model.weights
    if len(saved) != len(variables) and not skip_mismatch:
        raise reader.error(
            f"it holds {len(saved)} weight arrays but model {model.name!r} has "
            f"{len(variables)} variables."
        )
    pairs = []
    for var, (_, label, arr) in zip(variables, saved):
        if arr.shape != var.shape:
            problem = (f"the saved array {label!r} has shape {arr.shape} but the variable "
                       f"{var.name!r} of model {model.name!r} has shape {var.shape}.")
            if not skip_mismatch:
                raise reader.error(problem)
            warnings.warn(f"Skipping a weight while loading {reader.name}: {problem}", stacklevel=3)
            continue
        pairs.append((var, arr))
    for var, arr in pairs:
        var.assign(arr)


# -- model configs ---------------------------------------------------------
def _model_class(class_name, custom_objects):
    if not isinstance(class_name, str):
        raise ValueError(f"the model config has no valid 'class_name'. Got {class_name!r}.")
    builtin = _builtin_models()
    if custom_objects and class_name in custom_objects:
        cls = custom_objects[class_name]
    elif class_name in builtin:
        cls = builtin[class_name]
    elif _registry.custom_object(class_name) is not None:
        cls = _registry.custom_object(class_name)
    else:
        raise ValueError(
            f"Unknown model class {class_name!r}: expected one of {', '.join(sorted(builtin))}, "
            "or pass the class in custom_objects."
        )
    if not (isinstance(cls, type) and issubclass(cls, _model_base())):
        raise ValueError(f"custom_objects[{class_name!r}] must be a Model subclass. Got {cls!r}.")
    return cls


def _model_from_config(config: dict, custom_objects=None):
    """Rebuild (and build, when the input shape is known) a model from its description."""
    cls = _model_class(config.get("class_name"), custom_objects)
    inner = config.get("config")
    if not isinstance(inner, dict):
        raise ValueError(f"the model config must hold a 'config' object. Got {inner!r}.")
    params = inspect.signature(cls.from_config).parameters
    if "custom_objects" in params:
        model = cls.from_config(inner, custom_objects=custom_objects)
    else:
        model = cls.from_config(inner)
    build_config = config.get("build_config") or {}
    shape = build_config.get("input_shape") if isinstance(build_config, dict) else None
    if not model.built and shape is not None:
        model.build(tuple(shape))
    return model


def _model_description(model) -> dict:
    return {
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "build_config": {"input_shape": list(model.input_shape)} if model.built else None,
    }


def _compile_from_config(model, compile_config: dict, custom_objects):
    from .. import losses, metrics, optimizers
    from ..optimizers import schedules

    opt = compile_config.get("optimizer", "rmsprop")
    if isinstance(opt, dict):
        cls = optimizers.OPTIMIZERS.lookup(opt.get("class_name"), custom_objects,
                                           case_insensitive=True)
        inner = dict(opt.get("config") or {})
        if isinstance(inner.get("learning_rate"), dict):
            inner["learning_rate"] = schedules.deserialize(inner["learning_rate"], custom_objects)
        opt = cls.from_config(inner)
    loss = compile_config.get("loss")
    if isinstance(loss, dict):
        loss = losses.deserialize(loss, custom_objects=custom_objects)
    specs = [
        metrics.deserialize(m, custom_objects=custom_objects) if isinstance(m, dict) else m
        for m in compile_config.get("metrics") or []
    ]
    model.compile(optimizer=opt, loss=loss, metrics=specs)


def _restore_optimizer(reader, model, saved: list) -> None:
    if not saved:
        return
    optimizer = model.optimizer
    arrays = [arr for _, _, arr in saved]
    if len(arrays) > 1:
        model._prepare_training()  # builds the slots for the packed parameter buffer
        variables = optimizer.variables
        shapes = [v.shape for v in variables[1:]]
        if [a.shape for a in arrays[1:]] != shapes:
            raise reader.error(
                f"the saved optimizer state ({len(arrays) - 1} slot arrays of shapes "
                f"{[a.shape for a in arrays[1:]]}) does not fit optimizer "
                f"{type(optimizer).__name__} of this model (shapes {shapes})."
            )
        for dst, src in zip(variables[1:], arrays[1:]):
            dst[...] = src
    optimizer.iterations = int(arrays[0])


# -- public API ------------------------------------------------------------
def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True):
    """Save a model (config, weights, compile arguments and optimizer state).

    Parameters
    ----------
    model : Model
    filepath : str, path-like or binary file object
        Must end in ``.keras`` (or ``.h5``, written in the same zip format).
    overwrite : bool, default=True
        When False, refuse to replace an existing file.
    zipped : None or True
        Only the zipped archive is supported.
    include_optimizer : bool, default=True
        Whether to store the optimizer state.

    Examples
    --------
    >>> import os, tempfile
    >>> from automl.keras import Sequential, Input, layers, saving
    >>> model = Sequential([Input(shape=(3,)), layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> saving.save_model(model, path)
    >>> saving.load_model(path).get_config() == model.get_config()
    True
    """
    _check_model(model, "save_model")
    _check_suffix(filepath, MODEL_SUFFIXES, "save_model")
    if zipped is not None and not zipped:
        raise param_error("zipped", "save_model", "None or True", zipped)
    description = _model_description(model)
    compile_config = model.get_compile_config() if model.compiled else None
    if compile_config is not None and model.optimizer is not None:
        from .. import optimizers

        compile_config = {**compile_config, "optimizer": optimizers.serialize(model.optimizer)}
    description["compile_config"] = compile_config
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "automl_version": _automl_version,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    arrays = _weight_arrays(model)
    if include_optimizer and compile_config is not None:
        arrays.update(_optimizer_arrays(model.optimizer))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA_FILE, _dumps(metadata, indent=2))
        archive.writestr(CONFIG_FILE, _dumps(description, indent=2))
        archive.writestr(WEIGHTS_FILE, _npz_bytes(arrays))
    _write_bytes(filepath, buf.getvalue(), overwrite)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    filepath : str, path-like or binary file object
    custom_objects : dict, optional
        Extra ``name -> class`` entries for classes outside the registries.
        Objects registered with ``register_keras_serializable`` (or in
        ``get_custom_objects()`` or an active ``custom_object_scope``) resolve
        without being listed here.
    compile : bool, default=True
        Recompile with the saved compile arguments and restore the optimizer state.
    safe_mode : bool, default=True
        Accepted for Keras compatibility; loading never runs code from the file.

    Raises
    ------
    ValueError
        If the file is not a valid archive, misses a member, holds invalid
        JSON, names a class outside the registries and ``custom_objects``, or
        holds weights whose shapes do not fit the model.
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise param_error("custom_objects", "load_model", "a dict or None", custom_objects, TypeError)
    custom_objects = _registry.effective_custom_objects(custom_objects, _registry.builtin_names())
    reader = _Reader(filepath)
    with reader.open_zip() as archive:
        metadata = reader.json_member(archive, METADATA_FILE)
        if metadata.get("format") != FORMAT:
            raise reader.error(
                "it was not saved by automl.keras (its metadata.json names no "
                f"{FORMAT!r} format); archives written by Keras itself are not supported."
            )
        version = str(metadata.get("format_version", ""))
        if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
            raise reader.error(
                f"unsupported format version {version!r} (this automl reads version "
                f"{FORMAT_VERSION!r}); it was saved by automl {metadata.get('automl_version')!r}."
            )
        config = reader.json_member(archive, CONFIG_FILE)
        weights = reader.member(archive, WEIGHTS_FILE)
    groups = reader.arrays(weights, repr(WEIGHTS_FILE))
    try:
        model = _model_from_config(config, custom_objects)
        compile_config = config.get("compile_config")
        if compile and compile_config:
            if not isinstance(compile_config, dict):
                raise ValueError(f"'compile_config' must be an object. Got {compile_config!r}.")
            _compile_from_config(model, compile_config, custom_objects)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        if str(exc).startswith("Cannot load"):
            raise
        raise reader.error(f"invalid model config: {exc}") from exc
    _assign_weights(reader, model, groups[_LAYERS])
    if compile and model.compiled:
        _restore_optimizer(reader, model, groups[_OPTIMIZER])
    return model


def save_weights(model, filepath, overwrite=True):
    """Save the model's weights to a ``.weights.npz`` (or ``.weights.h5``) file.

    The file is a plain ``np.savez`` archive (also for ``.weights.h5``); it holds
    no optimizer state.
    """
    _check_model(model, "save_weights")
    _check_suffix(filepath, WEIGHTS_SUFFIXES, "save_weights")
    _write_bytes(filepath, _npz_bytes(_weight_arrays(model)), overwrite)


def load_weights(model, filepath, skip_mismatch=False):
    """Load weights saved by :func:`save_weights` (or from a whole-model file).

    The arrays are matched to ``model.weights`` by position and checked for
    shape before any is assigned. With ``skip_mismatch=True`` arrays whose
    shape does not fit are skipped with a warning.
    """
    _check_model(model, "load_weights")
    reader = _Reader(filepath)
    data = reader.data
    with reader.open_zip(what="a weights file or a .keras archive") as archive:
        if CONFIG_FILE in archive.namelist():
            data = reader.member(archive, WEIGHTS_FILE)
    if not model.built:
        raise ValueError(
            f"Cannot load weights into model {model.name!r} before it is built: start it with "
            "Input(shape=...), call build(), or fit it first."
        )
    groups = reader.arrays(data, "the weights file")
    _assign_weights(reader, model, groups[_LAYERS], skip_mismatch=skip_mismatch)


def to_json(model, **kwargs) -> str:
    """Return the model's architecture as a JSON string (``json.dumps`` kwargs apply)."""
    _check_model(model, "to_json")
    return _dumps(_model_description(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """Rebuild a model (fresh weights) from :func:`to_json` output.

    >>> from automl.keras import Sequential, Input, layers, models, saving
    >>> model = Sequential([Input(shape=(3,)), layers.Dense(2)])
    >>> models.model_from_json(saving.to_json(model)).get_config() == model.get_config()
    True
    """
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"Cannot read a model from JSON: {exc}.") from None
    if not isinstance(config, dict):
        raise ValueError(f"Cannot read a model from JSON: expected an object. Got {config!r}.")
    custom_objects = _registry.effective_custom_objects(custom_objects, _registry.builtin_names())
    return _model_from_config(config, custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """Return a new model with the same architecture and freshly initialized weights.

    Parameters
    ----------
    model : Model
    clone_function : callable, optional
        For a ``Sequential`` model, ``layer -> new layer`` applied to every
        layer (default: ``type(layer).from_config(layer.get_config())``).

    Examples
    --------
    >>> from automl.keras import Sequential, Input, layers, models
    >>> model = Sequential([Input(shape=(3,)), layers.Dense(2)])
    >>> clone = models.clone_model(model)
    >>> clone.get_config() == model.get_config(), clone.weights[0] is model.weights[0]
    (True, False)
    """
    _check_model(model, "clone_model")
    if input_tensors is not None or call_function is not None or kwargs:
        raise NotImplementedError(
            "clone_model supports only 'model' and 'clone_function' for now."
        )
    Sequential = _builtin_models()["Sequential"]  # noqa: N806
    if clone_function is None or not isinstance(model, Sequential):
        clone = type(model).from_config(model.get_config())
    else:
        clone = Sequential(name=model.name, trainable=model.trainable, dtype=model.dtype)
        if model._input_layer is not None:
            layer = model._input_layer
            clone.add(type(layer).from_config(layer.get_config()))
        for layer in model.layers:
            clone.add(clone_function(layer))
    if model.built and not clone.built:
        clone.build(model.input_shape)
    return clone
