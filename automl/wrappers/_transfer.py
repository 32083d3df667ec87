"""Transfer learning: a head over an ``automl.keras.applications`` base.

:func:`build_transfer` is the built-in ``model="transfer"`` builder: the whole
network (image input, base, global pooling, dense head), its last
``trainable_layers`` layers of the base trainable. While the base is frozen its
output never changes, so :class:`BaseFeatures` computes it once per data set
(in batches) and keeps it as memory-mapped ``.npy`` files in a cache folder,
keyed by the base, its weights, input shape, arguments and a fingerprint of
the data; a head trained on them (a plain MLP) reuses them.

Rows of ``X`` are images flattened in (height, width, channels) order, of
``image_shape`` (default: ``input_shape``); other sizes are resized to the
base's ``input_shape`` by nearest-neighbour sampling and one channel is
repeated to three (:func:`to_images`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .. import keras
from .._validation import Interval, Options, check_param
from ..keras import applications, layers
from ..keras.backend import seed_scope
from ._builders import _dense_block, _heads, _is_layer_sizes, _is_units, _regularizer, _Seeds

__all__ = ["BaseFeatures", "base_model", "build_transfer", "to_images"]

#: Seed of the base's initial weights (``weights=None``): every process builds the same base.
BASE_SEED = 0
POOLINGS = ("avg", "max")


def _shape(value, name, owner):
    try:
        shape = tuple(int(s) for s in value)
    except TypeError:
        shape = ()
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"The {name!r} parameter of {owner} must be (height, width[, channels]) "
                         f"of positive ints. Got {value!r} instead.")
    return shape


def base_model(base, weights=None, input_shape=(32, 32, 3), base_kwargs=None):
    """The base ``automl.keras.applications`` model without its top (``include_top=False``).

    With ``weights=None`` the initial weights are drawn from a fixed seed, so
    every process (and every trial) builds the same base.

    Examples
    --------
    >>> from automl.wrappers import base_model
    >>> base_model("MobileNetV2", None, (32, 32, 3), {"alpha": 0.35}).output_shape
    (None, 1, 1, 1280)
    """
    names = [n for n in applications.__all__ if n[0].isupper()]
    if not isinstance(base, str) or base not in names:
        raise ValueError(f"The 'base' of a transfer model must be one of {names}. "
                         f"Got {base!r} instead.")
    kwargs = dict(base_kwargs or {})
    for key in ("include_top", "input_shape", "weights", "input_tensor"):
        if key in kwargs:
            raise ValueError(f"The base arguments of a transfer model may not set {key!r} "
                             "(the transfer options own it).")
    fn = getattr(applications, base)
    with seed_scope(BASE_SEED):
        return fn(include_top=False, weights=weights,
                  input_shape=_shape(input_shape, "input_shape", "base_model"), **kwargs)


def to_images(X, image_shape, input_shape):
    """Rows of flattened ``image_shape`` images as a float32 ``(n, *input_shape)`` array.

    Resized by nearest-neighbour sampling; one channel is repeated to ``input_shape``'s.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.wrappers import to_images
    >>> to_images(np.arange(4).reshape(1, 4), (2, 2, 1), (4, 4, 3))[0, :, :, 0]
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]], dtype=float32)
    """
    src = _shape(image_shape, "image_shape", "to_images")
    dst = _shape(input_shape, "input_shape", "to_images")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != math.prod(src):
        raise ValueError(f"to_images expects rows of {math.prod(src)} features (images of "
                         f"{src}); got an array of shape {X.shape}.")
    images = X.reshape(len(X), *src)
    if src[:2] != dst[:2]:
        rows = np.arange(dst[0]) * src[0] // dst[0]
        cols = np.arange(dst[1]) * src[1] // dst[1]
        images = images[:, rows][:, :, cols]
    if src[2] != dst[2]:
        if src[2] != 1:
            raise ValueError(f"to_images can repeat one channel to {dst[2]}, not convert "
                             f"{src[2]} channels to {dst[2]}.")
        images = np.repeat(images, dst[2], axis=3)
    return np.ascontiguousarray(images)


def fingerprint(X) -> str:
    """A hex digest of the rows of ``X`` (values as float32 and shape)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    digest = hashlib.sha1(repr(X.shape).encode())
    digest.update(memoryview(X).cast("B"))
    return digest.hexdigest()[:20]


class BaseFeatures(TransformerMixin, BaseEstimator):
    """The globally pooled output of a frozen base, cached on disk (the frozen-base trials' input).

    ``transform(X)`` looks the data up in ``cache_dir`` by its key (base,
    weights, input shape, base arguments, data fingerprint); when absent the base
    is run once in batches and both poolings (``avg`` and ``max``) are written
    as ``.npy`` files (atomically: concurrent workers never read a partial
    file); they are then memory-mapped, read-only. Each computation appends a
    line to ``cache_dir/computed.log``.

    Parameters
    ----------
    base : str
        An ``automl.keras.applications`` constructor name (``"MobileNetV2"``).
    weights : None, "imagenet" or str
        The base's weights (a local file path for offline use).
    input_shape : tuple of int
        The base's input shape.
    image_shape : tuple of int, optional
        Shape of the images in ``X``; by default ``input_shape``, or square
        one-channel images when ``n_features`` is not ``prod(input_shape)``.
    base_kwargs : dict, optional
        Other arguments of the constructor (``alpha``, ...).
    pooling : {"avg", "max"}, default="avg"
        Global pooling of the base's output.
    cache_dir : str, optional
        Folder of the cache (default: a ``automl-features`` folder in the temporary directory).
    batch_size : int, default=64
        Rows per forward pass of the base.
    verbose : int, default=0
        A progress bar while computing.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from automl.wrappers import BaseFeatures
    >>> feats = BaseFeatures("MobileNetV2", input_shape=(32, 32, 3), image_shape=(8, 8, 1),
    ...                      base_kwargs={"alpha": 0.35}, cache_dir=tempfile.mkdtemp())
    >>> feats.fit_transform(np.random.default_rng(0).random((3, 64))).shape
    (3, 1280)
    """

    def __init__(self, base="MobileNetV2", weights=None, input_shape=(32, 32, 3),
                 image_shape=None, base_kwargs=None, pooling="avg", cache_dir=None,
                 batch_size=64, verbose=0):
        self.base = base
        self.weights = weights
        self.input_shape = input_shape
        self.image_shape = image_shape
        self.base_kwargs = base_kwargs
        self.pooling = pooling
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.verbose = verbose

    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self):  # stateless: nothing to fit
        return True

    def _folder(self) -> Path:
        folder = self.cache_dir or os.path.join(tempfile.gettempdir(), "automl-features")
        return Path(folder)

    def key(self, X) -> str:
        """The cache key of data ``X``."""
        config = json.dumps([self.base, None if self.weights is None else str(self.weights),
                             [int(s) for s in self.input_shape],
                             None if self.image_shape is None else [int(s) for s in
                                                                    self.image_shape],
                             dict(sorted((self.base_kwargs or {}).items()))],
                            sort_keys=True, default=str)
        config_id = hashlib.sha1(config.encode()).hexdigest()[:12]
        return f"{self.base}-{config_id}-{fingerprint(X)}"

    def paths(self, X) -> dict:
        key = self.key(X)
        return {p: self._folder() / f"{key}-{p}.npy" for p in POOLINGS}

    def compute(self, X) -> dict:
        """Write the features of ``X`` unless cached; the paths by pooling."""
        paths = self.paths(X)
        if all(p.exists() for p in paths.values()):
            return paths
        base = base_model(self.base, self.weights, self.input_shape, self.base_kwargs)
        src = self.input_shape if self.image_shape is None else self.image_shape
        n = len(X)
        bs = int(self.batch_size)
        out = {p: None for p in POOLINGS}
        steps = range(0, n, bs)
        if self.verbose:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc=f"{self.base} features", unit="batch")
        for start in steps:
            rows = np.asarray(X[start:start + bs])
            fmap = np.asarray(base.predict(to_images(rows, src, self.input_shape),
                                           batch_size=bs, verbose=0), dtype=np.float32)
            for p, reduce in (("avg", np.mean), ("max", np.max)):
                pooled = reduce(fmap, axis=(1, 2))
                if out[p] is None:
                    out[p] = np.empty((n, pooled.shape[1]), dtype=np.float32)
                out[p][start:start + len(rows)] = pooled
        folder = self._folder()
        folder.mkdir(parents=True, exist_ok=True)
        for p, path in paths.items():
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npy.tmp")
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, out[p])
            os.replace(tmp, path)
        with open(folder / "computed.log", "a", encoding="utf-8") as fh:
            fh.write(f"{paths['avg'].name[:-8]} {n}\n")
        return paths

    def transform(self, X):
        check_param("pooling", self.pooling, [Options(POOLINGS)], "BaseFeatures")
        return np.load(self.compute(X)[self.pooling], mmap_mode="r")


def build_transfer(
    n_features,
    n_outputs,
    output_activation,
    base="MobileNetV2",
    weights=None,
    input_shape=(32, 32, 3),
    image_shape=None,
    base_kwargs=None,
    trainable_layers=0,
    pooling="avg",
    hidden_layer_sizes=(),
    activation="relu",
    dropout=0.0,
    batch_norm=False,
    kernel_initializer="glorot_uniform",
    l1=0.0,
    l2=0.0,
    kernel_regularizer=None,
    seed=None,
):
    """Build an uncompiled transfer network: a base from ``automl.keras.applications`` and a head.

    The network is ``Input(n_features) -> Reshape(image_shape) -> (Resizing to
    input_shape, nearest; one channel repeated) -> base (no top)
    -> Global{Average,Max}Pooling2D -> [Dense -> activation -> (Dropout)]* ->
    Dense(n_outputs, output_activation)``; only the last ``trainable_layers``
    layers of the base train (0: a frozen base). The head's parameters are those
    of :func:`build_mlp`.

    Parameters
    ----------
    n_features, n_outputs, output_activation
        As for :func:`build_mlp`; ``n_features`` must equal ``prod(input_shape)``.
    base : str, default="MobileNetV2"
        The ``automl.keras.applications`` constructor.
    weights : None, "imagenet" or str, default=None
        The base's weights (None: seeded random ones, the same in every process).
    input_shape : tuple of int, default=(32, 32, 3)
    image_shape : tuple of int, optional
        Shape of the images in ``X`` (default: ``input_shape``).
    base_kwargs : dict, optional
        Other constructor arguments (``alpha``, ...).
    trainable_layers : int, default=0
        How many of the base's last layers train.
    pooling : {"avg", "max"}, default="avg"
    hidden_layer_sizes, activation, dropout, batch_norm, kernel_initializer, l1, l2,
    kernel_regularizer, seed
        The head, as for :func:`build_mlp`.

    Examples
    --------
    >>> from automl.wrappers import build_transfer
    >>> model = build_transfer(32 * 32 * 3, 10, "softmax", base_kwargs={"alpha": 0.35},
    ...                        hidden_layer_sizes=(16,), seed=0)
    >>> model.output_shape
    (None, 10)
    >>> build_transfer(64, 3, "softmax", base_kwargs={"alpha": 0.35}).input_shape  # 8x8 digits
    (None, 64)
    """
    owner = "build_transfer"
    shape = _shape(input_shape, "input_shape", owner)
    if image_shape is not None:
        src = _shape(image_shape, "image_shape", owner)
    elif int(n_features) == math.prod(shape):
        src = shape
    else:  # square one-channel images (8x8 digits, 28x28 MNIST), as build_cnn guesses
        side = math.isqrt(int(n_features))
        src = (side, side, 1)
    if int(n_features) != math.prod(src):
        raise ValueError(f"build_transfer got {n_features} features, but images of {src} "
                         f"(image_shape, default input_shape) need {math.prod(src)}.")
    if src[2] not in (1, shape[2]):
        raise ValueError(f"build_transfer can repeat one channel to {shape[2]}, not convert "
                         f"{src[2]} channels (image_shape {src}).")
    check_param("n_outputs", n_outputs, [_is_units], owner)
    check_param("trainable_layers", trainable_layers, [Interval(int, 0, None)], owner)
    check_param("pooling", pooling, [Options(POOLINGS)], owner)
    check_param("hidden_layer_sizes", hidden_layer_sizes, [_is_layer_sizes], owner)
    check_param("dropout", dropout, [Interval(float, 0, 1, closed="left")], owner)
    model = base_model(base, weights, shape, base_kwargs)
    k = int(trainable_layers)
    for i, layer in enumerate(model.layers):
        layer.trainable = i >= len(model.layers) - k
    sizes = [int(s) for s in hidden_layer_sizes]
    n_heads = 1 if isinstance(n_outputs, int) else len(list(n_outputs))
    seeds = _Seeds(seed, 2 * len(sizes) + n_heads)
    inputs = layers.Input(shape=(int(n_features),))
    x = layers.Reshape(src)(inputs)
    if src[:2] != shape[:2]:
        x = layers.Resizing(shape[0], shape[1], interpolation="nearest")(x)
    if src[2] != shape[2]:
        x = layers.Concatenate()([x] * shape[2])
    x = model(x)
    pool = layers.GlobalAveragePooling2D if pooling == "avg" else layers.GlobalMaxPooling2D
    x = pool()(x)
    regularizer = _regularizer(kernel_regularizer, l1, l2)
    for units in sizes:
        x = _dense_block(x, units, activation=activation, dropout=dropout, batch_norm=batch_norm,
                         kernel_initializer=kernel_initializer,
                         kernel_regularizer=regularizer, seeds=seeds)
    outputs = _heads(x, n_outputs, output_activation, kernel_initializer=kernel_initializer,
                     kernel_regularizer=regularizer, seeds=seeds)
    # Functional: the channel repeat joins one tensor three times (not a Sequential chain).
    return keras.Model(inputs, outputs)
