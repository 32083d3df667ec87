"""Estimator archives: a fitted estimator saved as data, loaded without running code a file names.

An archive is a zip file::

    metadata.json        format name and version, library versions
    tree.json            the object graph as JSON nodes (see below)
    arrays/<n>.npy       NumPy arrays without objects (read with allow_pickle=False)
    bytes/<n>.bin        large byte strings (an automl.keras network's .keras archive)
    models/<n>.keras     automl.keras networks met outside a wrapper (safe_mode loading)

Every value of ``tree.json`` is a JSON scalar (None, bool, int, finite float,
str) or an object with a type tag ``"t"``: ``list``, ``tuple``, ``dict``,
``set``, ``frozenset``, ``float`` (non-finite), ``complex``, ``bytes``,
``slice``, ``array``/``objarray``/``scalar``, ``dtype``, ``generator``,
``type``, ``function``, ``object``, ``reduce``, ``keras`` or ``ref`` (a value
met earlier, so shared objects stay shared). An ``object`` is rebuilt as
``cls.__new__(cls)`` and its state set with ``__setstate__`` or
``__dict__.update``, as pickle does, and a ``reduce`` node calls a trusted
class with arguments; every class and function is checked against
:mod:`._trusted` *before* anything is imported.

Bounds: the arrays, byte strings and networks are stored uncompressed, so what
they allocate is at most the file's size (a ``.npy`` header must describe
exactly its member's bytes); ``tree.json`` is capped at
:data:`MAX_TREE_BYTES` and :data:`MAX_DEPTH` levels of nesting.
"""

from __future__ import annotations

import base64
import copyreg
import io
import json
import math
import os
import re
import types
import zipfile
from pathlib import Path

import numpy as np

from ._trusted import check_class, qualified_name, trusted_class, trusted_function

__all__ = ["dump", "load", "FORMAT", "MAX_DEPTH", "MAX_TREE_BYTES"]

FORMAT = "automl.persistence"
VERSION = 1
MAX_DEPTH = 100
MAX_TREE_BYTES = 64 * 2**20
_BIG_BYTES = 4096
_MEMBER = re.compile(r"^(metadata\.json|tree\.json|arrays/\d{1,9}\.npy|bytes/\d{1,9}\.bin|"
                     r"models/\d{1,9}\.keras)$")
_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _is_keras_model(obj) -> bool:
    from automl.keras import Model  # here: the engine loads only when a network is met

    return isinstance(obj, Model)


class _Writer:
    def __init__(self, zf: zipfile.ZipFile, where: str):
        self.zf = zf
        self.where = where
        self.memo: dict[int, int] = {}
        self.alive: list = []  # keeps encoded objects alive so that their ids stay unique
        self.counts = {"arrays": 0, "bytes": 0, "models": 0}

    def member(self, kind: str, ext: str, data: bytes) -> str:
        name = f"{kind}/{self.counts[kind]}.{ext}"
        self.counts[kind] += 1
        self.zf.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        return name

    def remember(self, obj) -> int:
        n = len(self.memo)
        self.memo[id(obj)] = n
        self.alive.append(obj)
        return n

    def encode(self, obj, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ValueError(f"{self.where}: the object graph is nested more than {MAX_DEPTH} "
                             "levels deep.")
        t = type(obj)
        if obj is None or t in (bool, int, str):
            return obj
        if t is float:
            return obj if math.isfinite(obj) else {"t": "float", "v": repr(obj)}
        if id(obj) in self.memo:
            return {"t": "ref", "id": self.memo[id(obj)]}
        d = depth + 1
        if t is complex:
            return {"t": "complex", "v": [self.encode(obj.real, d), self.encode(obj.imag, d)]}
        if t is bytes:
            if len(obj) > _BIG_BYTES:
                return {"t": "bytes", "member": self.member("bytes", "bin", obj)}
            return {"t": "bytes", "b64": base64.b64encode(obj).decode("ascii")}
        if t is slice:
            return {"t": "slice", "v": [self.encode(v, d) for v in (obj.start, obj.stop, obj.step)]}
        if t in (list, dict, set, frozenset, tuple):
            return self.container(obj, t, d)
        if isinstance(obj, np.ndarray):
            return self.array(obj, d)
        if isinstance(obj, np.generic):
            return {"t": "scalar", "v": self.array(np.asarray(obj), d)}
        if isinstance(obj, np.dtype):
            return {"t": "dtype", "v": np.lib.format.dtype_to_descr(obj)}
        if isinstance(obj, np.random.Generator):
            bits = obj.bit_generator
            name = type(bits).__name__
            if name not in _GENERATORS:
                raise TypeError(f"{self.where}: cannot save a Generator on {name}.")
            return {"t": "generator", "id": self.remember(obj), "bit_generator": name,
                    "state": self.encode(bits.state, d)}
        if isinstance(obj, type):
            return {"t": "type", "name": check_class(obj, self.where)}
        if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, np.ufunc)):
            name = qualified_name(obj)
            if "<" in name or _lookup_name(name) is not obj:
                raise TypeError(f"{self.where}: the function {name} cannot be saved: it is not "
                                "reachable by its name (a lambda or a local function).")
            return {"t": "function", "name": name}
        if _is_keras_model(obj):
            return self.keras(obj)
        return self.instance(obj, d)

    def container(self, obj, t, d):
        node = {"t": t.__name__, "id": self.remember(obj)}
        if t is dict:
            node["v"] = [[self.encode(k, d), self.encode(v, d)] for k, v in obj.items()]
        else:
            node["v"] = [self.encode(v, d) for v in obj]
        return node

    def array(self, obj, d):
        if type(obj) is not np.ndarray:
            obj = np.asarray(obj)  # memmaps and other views as plain arrays
        if obj.dtype.hasobject:
            if obj.dtype != object:
                raise TypeError(f"{self.where}: cannot save a structured array holding objects.")
            return {"t": "objarray", "id": self.remember(obj), "shape": list(obj.shape),
                    "v": [self.encode(v, d) for v in obj.ravel(order="C")]}
        buffer = io.BytesIO()
        np.save(buffer, obj, allow_pickle=False)
        return {"t": "array", "id": self.remember(obj),
                "member": self.member("arrays", "npy", buffer.getvalue())}

    def keras(self, model):
        from automl.keras import saving

        buffer = io.BytesIO()
        try:
            saving.save_model(model, buffer)
        except Exception as exc:  # noqa: BLE001 - any failure: the network cannot be data
            raise TypeError(f"{self.where}: its automl.keras network cannot be saved as a .keras "
                            f"archive ({type(exc).__name__}: {exc}).") from exc
        return {"t": "keras", "id": self.remember(model),
                "member": self.member("models", "keras", buffer.getvalue())}

    def instance(self, obj, d):
        cls = type(obj)
        name = check_class(cls, self.where)
        try:
            reduced = obj.__reduce_ex__(4)
        except Exception as exc:  # noqa: BLE001 - name the object that cannot be saved
            raise TypeError(f"{self.where}: cannot save {name}: {exc}") from exc
        if isinstance(reduced, str) or len(reduced) < 2:
            raise TypeError(f"{self.where}: cannot save {name} (it pickles as a global name).")
        func, args, state, items, pairs = (tuple(reduced) + (None,) * 5)[:5]
        if func is copyreg.__newobj__ and args and args[0] is cls:
            node = {"t": "object", "id": self.remember(obj), "class": name}
            if len(args) > 1:
                node["args"] = self.encode(tuple(args[1:]), d)
        elif func is cls:
            node = {"t": "reduce", "id": self.remember(obj), "class": name,
                    "args": self.encode(tuple(args), d)}
        else:
            raise TypeError(f"{self.where}: cannot save {name}: it pickles through "
                            f"{getattr(func, '__qualname__', func)!r}, not its class.")
        if state is not None:
            node["state"] = self.encode(state, d)
        if items is not None:
            node["items"] = [self.encode(v, d) for v in items]
        if pairs is not None:
            node["pairs"] = [[self.encode(k, d), self.encode(v, d)] for k, v in pairs]
        return node


def dump(obj, file) -> None:
    """Save ``obj`` (a fitted estimator, a Pipeline, ...) as an estimator archive.

    Parameters
    ----------
    obj : object
        Built only of trusted classes (automl's wrappers and tabular estimators,
        scikit-learn's pipeline, compose, preprocessing, impute, linear_model,
        ensemble estimators), NumPy arrays and scalars, automl.keras
        networks and Python containers.
    file : str, Path or binary file object

    Raises
    ------
    TypeError
        When ``obj`` holds an object of a class outside the trusted list, or a
        function not reachable by its name (a lambda); nothing is written. A
        function outside ``TRUSTED_FUNCTIONS`` is saved by name and loaded only
        when listed in ``load(..., trusted=...)``.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from automl import persistence
    >>> scaler = StandardScaler().fit(np.array([[0.0], [2.0]]))
    >>> buffer = io.BytesIO()
    >>> persistence.dump(scaler, buffer)
    >>> persistence.load(io.BytesIO(buffer.getvalue())).mean_
    array([1.])
    """
    where = f"Cannot save {type(obj).__name__}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        tree = _Writer(zf, where).encode(obj)
        import sklearn

        from automl import __version__

        meta = {"format": FORMAT, "version": VERSION, "automl": __version__,
                "sklearn": sklearn.__version__, "numpy": np.__version__}
        zf.writestr("metadata.json", json.dumps(meta), compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("tree.json", json.dumps(tree, allow_nan=False),
                    compress_type=zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    if hasattr(file, "write"):
        file.write(data)
    else:
        Path(file).write_bytes(data)


# ---------------------------------------------------------------------------
# Loading


def _lookup_name(name: str):
    """The object ``module.qualname`` names, if its module is already imported (else None)."""
    import sys

    module, _, qualname = name.rpartition(".")
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, where: str, trusted=()):
        self.zf = zf
        self.where = where
        self.trusted = tuple(trusted)
        self.memo: dict[int, object] = {}

    def error(self, message: str) -> ValueError:
        return ValueError(f"{self.where}: {message}")

    def member(self, name) -> bytes:
        if not isinstance(name, str) or not _MEMBER.match(name):
            raise self.error(f"the member name {name!r} is not one of the archive's.")
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise self.error(f"the member {name!r} is missing.") from None
        if info.compress_type != zipfile.ZIP_STORED:
            raise self.error(f"the member {name!r} is compressed; arrays, byte strings and "
                             "networks must be stored as they are.")
        return self.zf.read(info)

    def keep(self, node, obj):
        ident = node.get("id")
        if ident is not None:
            if type(ident) is not int or ident in self.memo:
                raise self.error(f"the node id {ident!r} is invalid or repeated.")
            self.memo[ident] = obj
        return obj

    def decode(self, node, depth: int = 0):
        if depth > MAX_DEPTH:
            raise self.error(f"the object graph is nested more than {MAX_DEPTH} levels deep.")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is not dict or type(node.get("t")) is not str:
            raise self.error(f"a value of tree.json is not a node: {_short(node)}.")
        handler = _HANDLERS.get(node["t"])
        if handler is None:
            raise self.error(f"unknown node type {_short(node['t'])}.")
        return handler(self, node, depth + 1)

    def list_of(self, node, key, depth):
        values = node.get(key, [])
        if type(values) is not list:
            raise self.error(f"the {key!r} of a {node['t']!r} node is not a list.")
        return values

    # -- scalars and containers --------------------------------------------
    def _ref(self, node, d):
        try:
            return self.memo[node.get("id")]
        except (KeyError, TypeError):
            raise self.error(f"the reference {node.get('id')!r} points at no earlier value.") from None

    def _float(self, node, d):
        if node.get("v") not in ("nan", "inf", "-inf"):
            raise self.error(f"invalid float {node.get('v')!r}.")
        return float(node["v"])

    def _complex(self, node, d):
        re_, im = (self.decode(v, d) for v in self.list_of(node, "v", d)[:2])
        return complex(float(re_), float(im))

    def _bytes(self, node, d):
        if "member" in node:
            return self.member(node["member"])
        try:
            return base64.b64decode(node.get("b64", ""), validate=True)
        except (ValueError, TypeError):
            raise self.error("invalid base64 bytes.") from None

    def _slice(self, node, d):
        parts = [self.decode(v, d) for v in self.list_of(node, "v", d)]
        if len(parts) != 3 or any(p is not None and type(p) is not int for p in parts):
            raise self.error(f"invalid slice {_short(node)}.")
        return slice(*parts)

    def _list(self, node, d):
        out = self.keep(node, [])
        out.extend(self.decode(v, d) for v in self.list_of(node, "v", d))
        return out

    def _tuple(self, node, d):
        return self.keep(node, tuple(self.decode(v, d) for v in self.list_of(node, "v", d)))

    def _set(self, node, d):
        out = self.keep(node, set())
        out.update(self.decode(v, d) for v in self.list_of(node, "v", d))
        return out

    def _frozenset(self, node, d):
        return self.keep(node, frozenset(self.decode(v, d) for v in self.list_of(node, "v", d)))

    def _pairs(self, node, key, d):
        for pair in self.list_of(node, key, d):
            if type(pair) is not list or len(pair) != 2:
                raise self.error(f"a dict entry is not a [key, value] pair: {_short(pair)}.")
            yield self.decode(pair[0], d), self.decode(pair[1], d)

    def _dict(self, node, d):
        out = self.keep(node, {})
        for k, v in self._pairs(node, "v", d):
            out[k] = v
        return out

    # -- NumPy ---------------------------------------------------------------
    def _array(self, node, d):
        name = node.get("member")
        data = self.member(name)
        buffer = io.BytesIO(data)
        try:
            version = np.lib.format.read_magic(buffer)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(buffer)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(buffer)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, SyntaxError, TypeError) as exc:
            raise self.error(f"{name}: not a .npy array ({exc}).") from None
        if dtype.hasobject:
            raise self.error(f"{name}: the array's dtype {dtype} holds Python objects; refusing.")
        count = math.prod(shape)
        body = memoryview(data)[buffer.tell():]
        if count * dtype.itemsize != len(body):
            raise self.error(f"{name}: the header declares {shape} of {dtype} "
                             f"({count * dtype.itemsize:,} bytes) but the member holds "
                             f"{len(body):,} bytes.")
        array = np.frombuffer(body, dtype=dtype, count=count).reshape(
            shape, order="F" if fortran else "C").copy(order="K")
        return self.keep(node, array)

    def _objarray(self, node, d):
        shape = node.get("shape")
        if type(shape) is not list or not all(type(s) is int and s >= 0 for s in shape):
            raise self.error(f"invalid object-array shape {_short(shape)}.")
        values = self.list_of(node, "v", d)
        if math.prod(shape) != len(values):
            raise self.error(f"an object array of shape {tuple(shape)} has {len(values)} values.")
        array = self.keep(node, np.empty(tuple(shape), dtype=object))
        flat = array.reshape(-1)
        for i, v in enumerate(values):
            flat[i] = self.decode(v, d)
        return array

    def _scalar(self, node, d):
        array = self.decode(node.get("v"), d)
        if not isinstance(array, np.ndarray) or array.shape != ():
            raise self.error("a NumPy scalar node does not hold a 0-d array.")
        return array[()]

    def _dtype(self, node, d):
        descr = node.get("v")
        try:
            return np.lib.format.descr_to_dtype(_tuples(descr))
        except (TypeError, ValueError, KeyError) as exc:
            raise self.error(f"invalid dtype {_short(descr)} ({exc}).") from None

    def _generator(self, node, d):
        name = node.get("bit_generator")
        if name not in _GENERATORS:
            raise self.error(f"unknown bit generator {name!r}; expected one of {_GENERATORS}.")
        bits = getattr(np.random, name)()
        try:
            bits.state = self.decode(node.get("state"), d)
        except (TypeError, ValueError, KeyError) as exc:
            raise self.error(f"invalid {name} state ({exc}).") from None
        return self.keep(node, np.random.Generator(bits))

    # -- names and objects -----------------------------------------------------
    def _type(self, node, d):
        return trusted_class(node.get("name"), self.where)

    def _function(self, node, d):
        return trusted_function(node.get("name"), self.where, self.trusted)

    def _keras(self, node, d):
        from automl.keras import saving

        data = self.member(node.get("member"))
        return self.keep(node, saving.load_model(io.BytesIO(data), safe_mode=True))

    def _object(self, node, d):
        cls = trusted_class(node.get("class"), self.where)
        args = self.decode(node["args"], d) if "args" in node else ()
        if type(args) is not tuple:
            raise self.error("the arguments of an object node are not a tuple.")
        obj = self.keep(node, cls.__new__(cls, *args))
        self._fill(obj, node, d)
        return obj

    def _reduce(self, node, d):
        cls = trusted_class(node.get("class"), self.where)
        args = self.decode(node.get("args"), d)
        if type(args) is not tuple:
            raise self.error("the arguments of a reduce node are not a tuple.")
        obj = self.keep(node, cls(*args))
        self._fill(obj, node, d)
        return obj

    def _fill(self, obj, node, d):
        self._fill_state(obj, node, d)
        check = _CHECKS.get(node.get("class"))
        if check is not None:
            check(obj, self.error)

    def _fill_state(self, obj, node, d):
        if "state" in node:
            state = self.decode(node["state"], d)
            setstate = getattr(obj, "__setstate__", None)
            if setstate is not None:
                setstate(state)
            else:
                slots = None
                if type(state) is tuple and len(state) == 2:
                    state, slots = state
                if state:
                    if type(state) is not dict:
                        raise self.error(f"the state of {node['class']} is not a dict.")
                    obj.__dict__.update(state)
                for k, v in (slots or {}).items():
                    setattr(obj, k, v)
        for v in self.list_of(node, "items", d):
            obj.append(self.decode(v, d))
        for k, v in self._pairs(node, "pairs", d):
            obj[k] = v


def _check_hist_gradient_boosting(model, error) -> None:
    """The trees of a HistGradientBoosting model must be trees over its features.

    Their prediction loops are compiled code that follows the child indices and
    reads the feature columns and bitsets the nodes name without bounds checks:
    a crafted index would read outside the arrays (or loop forever).
    """
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    n_features = getattr(model, "n_features_in_", None)
    for trees in getattr(model, "_predictors", None) or ():
        for tree in trees:
            nodes = getattr(tree, "nodes", None)
            if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE \
                    or nodes.ndim != 1 or len(nodes) == 0:
                raise error("a HistGradientBoosting tree has no valid node array.")
            inner = np.flatnonzero(nodes["is_leaf"] == 0)
            index = inner.astype(np.int64)
            left, right = nodes["left"][inner].astype(np.int64), nodes["right"][inner].astype(np.int64)
            features = nodes["feature_idx"][inner]
            bitsets = [getattr(tree, name, None) for name in
                       ("binned_left_cat_bitsets", "raw_left_cat_bitsets")]
            n_bitsets = min(len(b) if isinstance(b, np.ndarray) else 0 for b in bitsets)
            categorical = nodes["is_categorical"][inner] != 0
            if ((left <= index) | (left >= len(nodes)) | (right <= index)
                    | (right >= len(nodes))).any() or (features < 0).any() \
                    or (n_features is not None and (features >= n_features).any()) \
                    or (nodes["bitset_idx"][inner][categorical] >= n_bitsets).any():
                raise error("a HistGradientBoosting tree has node indices outside its arrays.")


_CHECKS = {
    f"sklearn.ensemble._hist_gradient_boosting.gradient_boosting.{name}":
        _check_hist_gradient_boosting
    for name in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")
}

_HANDLERS = {name: getattr(_Reader, "_" + name) for name in (
    "ref", "float", "complex", "bytes", "slice", "list", "tuple", "set", "frozenset", "dict",
    "array", "objarray", "scalar", "dtype", "generator", "type", "function", "keras", "object",
    "reduce")}


def _tuples(descr):
    """A dtype description read from JSON, with its lists as the tuples NumPy expects."""
    if not isinstance(descr, list):
        return descr
    fields = []
    for field in descr:
        if not isinstance(field, list) or len(field) not in (2, 3):
            raise TypeError(f"a field is not [name, dtype] or [name, dtype, shape]: {field!r}")
        name = tuple(field[0]) if isinstance(field[0], list) else field[0]
        entry = (name, _tuples(field[1]))
        if len(field) == 3:
            entry += (tuple(field[2]) if isinstance(field[2], list) else field[2],)
        fields.append(entry)
    return fields


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load(file, *, trusted=(), where: str | None = None):
    """Rebuild the object saved by :func:`dump`, without running code the file names.

    Parameters
    ----------
    file : str, Path or binary file object
    trusted : sequence of str, default=()
        Further functions the archive may name (``"package.module.function"``), beyond
        :data:`TRUSTED_FUNCTIONS`: e.g. a study's own model builder. Their modules are
        imported, which runs their code: list only functions whose module you trust.
    where : str, optional
        How errors name the source (default: the path).

    Returns
    -------
    object

    Raises
    ------
    ValueError
        A one-line error when the file is not an estimator archive, names a
        class or function outside the trusted list, or is inconsistent
        (path-like member names, arrays larger than their bytes, nesting deeper
        than ``MAX_DEPTH``).

    Examples
    --------
    See :func:`dump`.
    """
    if where is None:
        where = f"Cannot load {str(file)!r}" if isinstance(file, (str, os.PathLike)) else \
            "Cannot load the estimator archive"
    try:
        zf = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{where}: not an estimator archive (a zip file): {exc}") from None
    with zf:
        names = zf.namelist()
        for name in names:
            if not _MEMBER.match(name):
                raise ValueError(f"{where}: unexpected member {name!r} (paths outside the "
                                 "archive's layout are refused).")
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: the archive has repeated member names.")
        reader = _Reader(zf, where, trusted)
        for required in ("metadata.json", "tree.json"):
            if required not in names:
                raise ValueError(f"{where}: not an estimator archive (no {required}).")
            if zf.getinfo(required).file_size > MAX_TREE_BYTES:
                raise ValueError(f"{where}: {required} is larger than {MAX_TREE_BYTES:,} bytes.")
        try:
            meta = json.loads(zf.read("metadata.json"))
            tree = json.loads(zf.read("tree.json"))
        except RecursionError:
            raise ValueError(f"{where}: tree.json is nested too deeply.") from None
        except (ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{where}: unreadable JSON ({exc}).") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{where}: not an {FORMAT} archive (metadata.json says "
                             f"{_short(meta)}).")
        if meta.get("version") != VERSION:
            raise ValueError(f"{where}: archive version {meta.get('version')!r}; this automl "
                             f"reads version {VERSION}.")
        try:
            return reader.decode(tree)
        except RecursionError:
            raise ValueError(f"{where}: the object graph is nested too deeply.") from None
        except zipfile.BadZipFile as exc:
            raise ValueError(f"{where}: a member is corrupt ({exc}).") from None
        except (TypeError, AttributeError, KeyError, IndexError, OverflowError) as exc:
            raise ValueError(f"{where}: the archive is inconsistent "
                             f"({type(exc).__name__}: {exc}).") from None
