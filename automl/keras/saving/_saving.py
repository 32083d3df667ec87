"""Whole-model and weights-only files, in Keras 3's layout.

``model.save("m.keras")`` writes what Keras 3 writes: a zip archive of
``metadata.json`` (``keras_version``, ``date_saved``; plus ``automl_version``),
``config.json`` (the model in Keras's config layout, with ``build_config`` and
``compile_config``; see :mod:`._keras_config`) and ``model.weights.h5`` (the
variables in Keras's HDF5 layout, optimizer state included; see
:mod:`._weights_h5`). Keras 3 loads these files, and :func:`load_model` reads:

- Keras 3 ``.keras`` archives, and archives written by earlier automl versions
  (JSON plus ``model.weights.npz``);
- legacy HDF5 full-model files (``model.save("m.h5")`` of Keras 2 / tf.keras and
  Keras 3: a ``model_config`` attribute and a ``model_weights`` group).

:func:`load_weights` reads ``.weights.h5`` files (Keras 3's layout, or the
legacy layout by topological order or ``by_name``), ``.keras`` archives,
legacy ``.h5`` files and automl's ``.weights.npz`` files.

Loading never runs code from the file and reads with bounds: JSON is parsed
after its length and nesting are checked, class names resolve only through the
engine's registries, ``custom_objects`` and the user's registered objects; zip
members and HDF5 datasets are size-checked before they are read, and the model
is rebuilt under an allocation budget set by the size of its weights, so a
config asking for more memory than its file holds is refused before any
allocation. Every defect raises a ``ValueError`` naming the file and the problem.
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

import numpy as np

from ... import __version__ as _automl_version
from ... import _limits, _registry
from ..._validation import param_error
from . import _automl_v1, _keras_config, _legacy_h5, _weights_h5
from ._bounded import Source, h5_file, is_file_like

__all__ = [
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "clone_model",
    "model_from_json",
    "to_json",
]

KERAS_VERSION = "3.15.1"  # the Keras release whose layout these files follow
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
MODEL_SUFFIXES = (".keras", ".h5")
WEIGHTS_SUFFIXES = (".weights.h5", ".weights.npz")
_SLACK = 2**20  # bytes allowed beyond what the weights need (HDF5 headers, names)


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


def _check_suffix(filepath, suffixes, owner) -> None:
    if is_file_like(filepath):
        return
    if not isinstance(filepath, (str, os.PathLike)):
        raise param_error("filepath", owner, "a path or a binary file object", filepath, TypeError)
    if not os.fspath(filepath).endswith(suffixes):
        raise param_error("filepath", owner, "a path ending in " + " or ".join(suffixes), filepath)


def _write_bytes(filepath, data: bytes, overwrite: bool) -> None:
    """Write ``data`` to a file object, or atomically to a path."""
    if is_file_like(filepath):
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
        if hasattr(os, "fchmod"):  # mkstemp's 0600 -> the mode open() gives: 0666 minus the umask
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


def _weights_limit(model) -> int:
    """Most bytes a weights file for ``model`` may hold: its weights, optimizer slots, headers."""
    nbytes = sum(int(np.prod(v.shape)) * 8 for v in model.weights)
    return _SLACK + 64 * 1024 * len(model.weights) + 6 * nbytes


def _build_budget(declared: int) -> int:
    # Weights are stored uncompressed; float64 models may hold twice the float32 bytes.
    return 2 * int(declared) + _SLACK


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
    if isinstance(loss, dict) and "class_name" in loss:
        loss = losses.deserialize(loss, custom_objects=custom_objects)
    elif isinstance(loss, (dict, list)):
        loss = {k: losses.deserialize(v, custom_objects=custom_objects) if isinstance(v, dict) else v
                for k, v in loss.items()} if isinstance(loss, dict) else [
            losses.deserialize(v, custom_objects=custom_objects) if isinstance(v, dict) else v
            for v in loss]
    def one_metric(m):
        return metrics.deserialize(m, custom_objects=custom_objects) if (
            isinstance(m, dict) and "class_name" in m) else m

    def walk(specs):
        if isinstance(specs, list):
            return [walk(m) for m in specs]
        if isinstance(specs, dict) and "class_name" not in specs:
            return {key: walk(value) for key, value in specs.items()}
        return one_metric(specs)

    model.compile(optimizer=opt, loss=loss, loss_weights=compile_config.get("loss_weights"),
                  metrics=walk(compile_config.get("metrics")),
                  weighted_metrics=walk(compile_config.get("weighted_metrics")))


# -- writing ---------------------------------------------------------------
def _compile_config(model, include_optimizer=True):
    compile_config = model.get_compile_config() if model.compiled else None
    if compile_config is not None and model.optimizer is not None:
        from .. import optimizers

        compile_config = {**compile_config, "optimizer": optimizers.serialize(model.optimizer)}
    return compile_config


def _optimizer_state(model, include_optimizer):
    if include_optimizer and model.compiled and model.optimizer is not None:
        return _weights_h5.optimizer_arrays(model)
    return None


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True):
    """Save a model (config, weights, compile arguments and optimizer state).

    Parameters
    ----------
    model : Model
    filepath : str, path-like or binary file object
        ``.keras`` (or a file object): Keras 3's archive, which Keras 3 loads.
        ``.h5``: the legacy HDF5 full-model file of Keras (``model_config``
        attribute plus ``model_weights`` group).
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
    compile_config = _compile_config(model)
    if not is_file_like(filepath) and os.fspath(filepath).endswith(".h5"):
        data = _legacy_h5.write_model(model, _keras_config.to_keras(model, compile_config),
                                      KERAS_VERSION, include_optimizer)
        _write_bytes(filepath, data, overwrite)
        return
    config = _keras_config.to_keras(model, compile_config)
    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "automl_version": _automl_version,
    }
    weights = _weights_h5.write_weights(model, _optimizer_state(model, include_optimizer))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA_FILE, _dumps(metadata))
        archive.writestr(CONFIG_FILE, _dumps(config))
        archive.writestr(WEIGHTS_FILE, weights)
    _write_bytes(filepath, buf.getvalue(), overwrite)


def save_weights(model, filepath, overwrite=True):
    """Save the model's weights.

    ``.weights.h5`` files use Keras 3's layout (Keras's ``load_weights`` reads
    them); ``.weights.npz`` files are automl's plain ``np.savez`` archive.
    Neither holds optimizer state.
    """
    _check_model(model, "save_weights")
    _check_suffix(filepath, WEIGHTS_SUFFIXES, "save_weights")
    if not is_file_like(filepath) and os.fspath(filepath).endswith(".weights.npz"):
        data = _automl_v1.npz_bytes(_automl_v1.weight_arrays(model))
    else:
        data = _weights_h5.write_weights(model)
    _write_bytes(filepath, data, overwrite)


# -- reading ---------------------------------------------------------------
def _rebuild(source, description, custom_objects, compile, budget):
    """Build (and compile) the model a description gives, within an allocation budget."""
    try:
        with _limits.weight_budget(budget, f"Cannot load {source.name}"):
            model = _model_from_config(description, custom_objects)
        compile_config = description.get("compile_config")
        if compile and compile_config:
            if not isinstance(compile_config, dict):
                raise ValueError(f"'compile_config' must be an object. Got {compile_config!r}.")
            _compile_from_config(model, compile_config, custom_objects)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        if str(exc).startswith("Cannot load"):
            raise
        raise source.error(f"invalid model config: {exc}") from exc
    except MemoryError:
        raise source.error("its config asks for more memory than is available.") from None
    return model


def _custom(custom_objects, owner):
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise param_error("custom_objects", owner, "a dict or None", custom_objects, TypeError)
    return _registry.effective_custom_objects(custom_objects, _registry.builtin_names())


def _from_keras(source, config, custom_objects, safe_mode):
    description, notes = _keras_config.from_keras(config, source.error, custom_objects, safe_mode)
    for note in notes:
        warnings.warn(f"While loading {source.name}: {note}", stacklevel=4)
    return description


def _load_v1(source, archive, metadata, custom_objects, compile):
    _automl_v1.check_version(source, metadata)
    config = source.json_member(archive, CONFIG_FILE)
    info = source.check_member(archive, _automl_v1.WEIGHTS_FILE, 2**40)
    model = _rebuild(source, config, custom_objects, compile, _build_budget(info.file_size))
    limit = _weights_limit(model)
    data = source.member(archive, _automl_v1.WEIGHTS_FILE, limit)
    groups = _automl_v1.read_npz(source, data, repr(_automl_v1.WEIGHTS_FILE), limit)
    _automl_v1.assign(source, model, groups[_automl_v1.LAYERS])
    if compile and model.compiled:
        arrays = [arr for _, _, arr in groups[_automl_v1.OPTIMIZER]]
        _weights_h5.restore_optimizer(model, _weights_h5.AUTOML_OPTIMIZER_VARS, arrays,
                                      source.error, source.name)
    return model


def _load_archive(source, custom_objects, compile, safe_mode):
    with source.open_zip() as archive:
        names = set(archive.namelist())
        metadata = source.json_member(archive, METADATA_FILE) if METADATA_FILE in names else {}
        if metadata.get("format") == _automl_v1.FORMAT:
            return _load_v1(source, archive, metadata, custom_objects, compile)
        config = source.json_member(archive, CONFIG_FILE)
        assets = sorted(n for n in names if n.startswith("assets/") and not n.endswith("/"))
        if assets:
            raise source.error(
                f"it holds assets ({assets[0]!r}...: the vocabulary of an adapted lookup or "
                "TextVectorization layer), which automl.keras does not read yet; give the "
                "layer its vocabulary in the constructor before saving it with Keras.")
        if WEIGHTS_FILE not in names and "model.weights.npz" in names:
            raise source.error("its weights are in Keras's npz layout (weights_format='npz'), "
                               "which automl.keras does not read; save it with the default h5.")
        info = source.check_member(archive, WEIGHTS_FILE, 2**40)
        description = _from_keras(source, config, custom_objects, safe_mode)
        model = _rebuild(source, description, custom_objects, compile,
                         _build_budget(info.file_size))
        limit = _weights_limit(model)
        data = source.member(archive, WEIGHTS_FILE, limit)
    _assign_keras_h5(source, model, data, repr(WEIGHTS_FILE), limit,
                     include_optimizer=compile and model.compiled)
    return model


def _assign_keras_h5(source, model, data, what, limit, include_optimizer, skip_mismatch=False):
    with h5_file(source, data, what) as h5:
        arrays = _weights_h5.read_weights(source, h5, what, limit)
    _weights_h5.assign(model, arrays, source.error, source.name, skip_mismatch=skip_mismatch)
    if include_optimizer:
        group, state = _weights_h5.optimizer_from(arrays)
        _weights_h5.restore_optimizer(model, group, state, source.error, source.name)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model from a ``.keras`` archive or a legacy ``.h5`` file.

    Reads Keras 3 archives (also those written by automl), archives of earlier
    automl versions, and legacy HDF5 full-model files written by Keras 2,
    tf.keras or Keras 3 (``model.save("m.h5")``).

    Parameters
    ----------
    filepath : str, path-like or binary file object
    custom_objects : dict, optional
        Extra ``name -> class or function`` entries for objects outside the
        registries (and the functions of ``Lambda`` layers). Objects
        registered with ``register_keras_serializable`` (or in
        ``get_custom_objects()`` or an active ``custom_object_scope``) resolve
        without being listed here.
    compile : bool, default=True
        Recompile with the saved compile arguments and restore the optimizer
        state when the file has them.
    safe_mode : bool, default=True
        Refuse files holding Python bytecode (a ``Lambda`` saved from a Python
        lambda). With ``safe_mode=False`` such a layer loads, but its function
        comes from ``custom_objects`` (keyed by the layer's name): saved code
        is never run.

    Raises
    ------
    ValueError
        If the file is not a model file, is truncated or crafted (sizes,
        nesting or shapes beyond what it can hold), holds bytecode in safe
        mode, names a class automl.keras does not have or that is not
        registered, or holds weights that do not fit the model.
    """
    custom_objects = _custom(custom_objects, "load_model")
    source = Source(filepath)
    if source.kind == "hdf5":
        return _legacy_h5.load_model(source, custom_objects, compile, safe_mode,
                                     _from_keras, _rebuild, _build_budget, _weights_limit)
    if source.kind != "zip":
        raise source.error("it is neither a .keras archive (zip) nor an HDF5 file; the file may "
                           "be truncated or corrupted.")
    return _load_archive(source, custom_objects, compile, safe_mode)


def load_weights(model, filepath, skip_mismatch=False, by_name=False, include_optimizer=False):
    """Load weights into ``model`` in place.

    Parameters
    ----------
    model : Model
        A built model with the architecture the file was saved from.
    filepath : str, path-like or binary file object
        A ``.weights.h5`` file (Keras 3's layout, or the legacy layout of
        ``save_weights`` in Keras 2 / tf.keras), a ``.keras`` archive, a legacy
        ``.h5`` full-model file, or an automl ``.weights.npz`` file.
    skip_mismatch : bool, default=False
        Skip (with a warning) weights whose shape or count does not fit,
        instead of raising.
    by_name : bool, default=False
        Legacy ``.h5`` files only: match layers by name instead of by
        topological order.
    include_optimizer : bool, default=False
        Also restore the optimizer state a ``.keras`` archive holds into the
        compiled ``model`` (to resume training).

    Examples
    --------
    >>> import os, tempfile
    >>> from automl.keras import Sequential, Input, layers, saving
    >>> model = Sequential([Input(shape=(3,)), layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.weights.h5")
    >>> saving.save_weights(model, path)
    >>> other = Sequential([Input(shape=(3,)), layers.Dense(2)])
    >>> saving.load_weights(other, path)
    >>> bool((other.get_weights()[0] == model.get_weights()[0]).all())
    True
    """
    _check_model(model, "load_weights")
    source = Source(filepath)
    if not model.built:
        raise ValueError(
            f"Cannot load weights into model {model.name!r} before it is built: start it with "
            "Input(shape=...), call build(), or fit it first."
        )
    include_optimizer = include_optimizer and model.compiled and model.optimizer is not None
    limit = _weights_limit(model)
    if source.kind == "hdf5":
        with h5_file(source, source.data, "the weights file") as h5:
            if _legacy_h5.is_legacy(h5):
                _legacy_h5.load_weights(source, h5, model, limit, by_name, skip_mismatch)
                return
        if by_name:
            raise source.error("by_name=True applies to legacy .h5 files only; this file is in "
                               "Keras 3's .weights.h5 layout, matched by layer path.")
        _assign_keras_h5(source, model, source.data, "the weights file", limit,
                         include_optimizer, skip_mismatch)
        return
    if source.kind != "zip":
        raise source.error("it is not a weights file (neither HDF5 nor zip); the file may be "
                           "truncated or corrupted.")
    with source.open_zip(what="a weights file or a .keras archive") as archive:
        names = set(archive.namelist())
        if CONFIG_FILE not in names:  # a bare automl .weights.npz
            groups = _automl_v1.read_npz(source, source.data, "the weights file", limit)
            _automl_v1.assign(source, model, groups[_automl_v1.LAYERS], skip_mismatch)
            return
        if _automl_v1.WEIGHTS_FILE in names and WEIGHTS_FILE not in names:
            data = source.member(archive, _automl_v1.WEIGHTS_FILE, limit)
            groups = _automl_v1.read_npz(source, data, repr(_automl_v1.WEIGHTS_FILE), limit)
            _automl_v1.assign(source, model, groups[_automl_v1.LAYERS], skip_mismatch)
            if include_optimizer:
                arrays = [arr for _, _, arr in groups[_automl_v1.OPTIMIZER]]
                _weights_h5.restore_optimizer(model, _weights_h5.AUTOML_OPTIMIZER_VARS, arrays,
                                              source.error, source.name)
            return
        data = source.member(archive, WEIGHTS_FILE, limit)
    _assign_keras_h5(source, model, data, repr(WEIGHTS_FILE), limit, include_optimizer,
                     skip_mismatch)


def to_json(model, **kwargs) -> str:
    """Return the model's architecture as a JSON string (``json.dumps`` kwargs apply)."""
    _check_model(model, "to_json")
    config = _keras_config.to_keras(model)
    config.pop("compile_config", None)
    return _dumps(config, **kwargs)


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
    inner = config.get("config")
    if not (isinstance(inner, dict) and "nodes" in inner):  # Keras's layout (automl's own has nodes)
        source = Source("<json>", data=b"")
        source.name = "the JSON model"
        config = _from_keras(source, config, custom_objects, safe_mode=True)
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
