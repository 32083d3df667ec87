"""``text_dataset_from_directory``: ``.txt`` files in class folders, as batches of strings."""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

from ..._validation import param_error
from ..backend import floatx, make_rng
from ._py_dataset import PyDataset
from .dataset_utils import list_files

__all__ = ["TextDataset", "text_dataset_from_directory"]

# FileDataset and dataset_from_directory are shared with _image_dataset.py.

_OWNER = "text_dataset_from_directory"


class FileDataset(PyDataset):
    """Batches of files read on demand, with their labels: the base of the ``*_from_directory`` datasets.

    A subclass implements ``_load_batch(paths)``, returning the batch of
    inputs read from ``paths``. Labels are encoded per ``label_mode``; with
    ``shuffle`` the files are reshuffled (with ``rng``) after every epoch.

    Attributes
    ----------
    class_names : list of str or None
        The class names, in label order (None without labels).
    file_paths : list of str
        The files of this dataset, in the order served this epoch.
    """

    def __init__(self, file_paths, labels, *, class_names, label_mode, num_classes, batch_size,
                 shuffle, rng):
        super().__init__()
        self.file_paths = list(file_paths)
        self._labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.class_names = class_names
        self.label_mode, self.num_classes = label_mode, num_classes
        self.batch_size = batch_size
        self.shuffle, self._rng = shuffle, rng

    def __len__(self):
        return math.ceil(len(self.file_paths) / (self.batch_size or 1))

    def _load_batch(self, paths):
        raise NotImplementedError

    def _encode(self, labels):
        if self.label_mode == "int":
            return labels.astype(np.int32)
        if self.label_mode == "binary":
            return labels.astype(floatx())[:, None]
        out = np.zeros((len(labels), self.num_classes), dtype=floatx())
        out[np.arange(len(labels)), labels] = 1
        return out

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        index %= len(self)
        size = self.batch_size or 1
        sl = slice(index * size, (index + 1) * size)
        inputs = self._load_batch(self.file_paths[sl])
        labels = None
        if self._labels is not None and self.label_mode is not None:
            labels = self._encode(self._labels[sl])
        if self.batch_size is None:
            inputs = inputs[0]
            labels = None if labels is None else labels[0]
        return inputs if labels is None else (inputs, labels)

    def on_epoch_end(self):
        if self.shuffle:
            order = self._rng.permutation(len(self.file_paths))
            self.file_paths = [self.file_paths[i] for i in order]
            if self._labels is not None:
                self._labels = self._labels[order]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


class TextDataset(FileDataset):
    """Batches of file contents and labels (see :func:`text_dataset_from_directory`).

    Files are read when their batch is requested.

    Attributes
    ----------
    class_names : list of str or None
        The class names, in label order (None without labels).
    file_paths : list of str
        The files of this dataset, in the order served this epoch.
    """

    def __init__(self, file_paths, labels, *, max_length=None, **kwargs):
        super().__init__(file_paths, labels, **kwargs)
        self.max_length = max_length

    def _read(self, path):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        return text if self.max_length is None else text[:self.max_length]

    def _load_batch(self, paths):
        return np.array([self._read(p) for p in paths], dtype=object)


def check_positive_or_none(value, name, owner):
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)
                              or value < 1):
        raise param_error(name, owner, "None or an int in the range [1, inf)", value)
    return value


def dataset_from_directory(owner, directory, *, labels, label_mode, class_names, batch_size,
                           shuffle, seed, validation_split, subset, follow_links, verbose, formats,
                           noun, make):
    """The shared body of the ``*_dataset_from_directory`` functions (Keras's rules).

    Checks the common arguments, lists the files with an extension in
    ``formats`` (``noun`` names them in messages, e.g. ``".txt file"``),
    infers or checks the labels, shuffles once with ``seed``, splits off the
    last ``validation_split`` fraction, and builds each dataset with
    ``make(paths, label_ids, class_names=..., label_mode=..., num_classes=...,
    batch_size=..., shuffle=..., rng=...)`` (a :class:`FileDataset` subclass).
    """
    if not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory):
        raise param_error("directory", owner, "the path of an existing directory", directory)
    directory = os.fspath(directory)
    if label_mode not in ("int", "categorical", "binary", None):
        raise param_error("label_mode", owner, "one of 'int', 'categorical', 'binary', None",
                          label_mode)
    if isinstance(labels, str) and labels != "inferred":
        raise param_error("labels", owner, "'inferred', None or a list of int labels", labels)
    if class_names is not None and labels != "inferred":
        raise ValueError(
            f"The 'class_names' parameter of {owner} is only valid with labels='inferred'. "
            f"Got labels={labels!r} instead."
        )
    if labels is None or label_mode is None:  # Keras: no labels at all, the folders are ignored
        labels = label_mode = None
    check_positive_or_none(batch_size, "batch_size", owner)
    if validation_split is not None and not (isinstance(validation_split, numbers.Real)
                                             and 0 < validation_split < 1):
        raise param_error("validation_split", owner, "None or a float in the range (0, 1)",
                          validation_split)
    if validation_split is not None and subset not in ("training", "validation", "both"):
        raise param_error("subset", owner, "'training', 'validation' or 'both' when "
                          "validation_split is set", subset)
    if validation_split is None and subset is not None:
        raise param_error("subset", owner, "None when validation_split is not set", subset)
    if validation_split is not None and shuffle and seed is None:
        raise ValueError(
            f"The 'seed' parameter of {owner} must be set when using validation_split with "
            "shuffle=True, so the training and validation subsets do not overlap. Got None instead."
        )

    label_ids = None
    if labels == "inferred":
        folders = sorted(d for d in os.listdir(directory)
                         if os.path.isdir(os.path.join(directory, d)) and not d.startswith("."))
        if class_names is not None:
            missing = sorted(set(class_names) - set(folders))
            if missing or len(set(class_names)) != len(class_names):
                raise ValueError(
                    f"The 'class_names' parameter of {owner} must list distinct subfolders of "
                    f"{directory!r} (found: {folders}). Got {list(class_names)!r} instead."
                )
            folders = list(class_names)
        class_names = folders
        paths, label_ids = [], []
        for i, name in enumerate(class_names):
            found = list_files(os.path.join(directory, name), follow_links, formats)
            paths.extend(found)
            label_ids.extend([i] * len(found))
        num_classes = len(class_names)
    else:
        paths = list_files(directory, follow_links, formats)
        num_classes = 0
        if labels is not None:
            label_ids = [int(v) for v in labels]
            if len(label_ids) != len(paths):
                raise ValueError(
                    f"The 'labels' parameter of {owner} must hold one label per {noun}: "
                    f"{len(paths)} files were found in {directory!r}. Got {len(label_ids)} labels "
                    "instead."
                )
            class_names = [str(v) for v in sorted(set(label_ids))]  # as Keras
            num_classes = max(len(class_names), max(label_ids, default=-1) + 1)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            f"label_mode='binary' needs exactly 2 classes; {directory!r} has {len(class_names)} "
            f"({class_names}). Use label_mode='int' or 'categorical'."
        )
    if not paths:
        raise ValueError(f"No {noun}s found in directory {directory!r}. Allowed formats: {formats}.")
    rng = make_rng(seed)
    order = rng.permutation(len(paths)) if shuffle else np.arange(len(paths))
    paths = [paths[i] for i in order]
    label_ids = None if label_ids is None else np.asarray(label_ids, dtype=np.int64)[order]
    if verbose:
        print(f"Found {len(paths)} files" +
              (f" belonging to {len(class_names)} classes." if labels is not None else "."))

    def build(sl, shuffled):
        return make(paths[sl], None if label_ids is None else label_ids[sl],
                    class_names=class_names, label_mode=label_mode, num_classes=num_classes,
                    batch_size=batch_size, shuffle=shuffled, rng=rng)

    if validation_split is None:
        return build(slice(None), shuffle)
    n_val = int(validation_split * len(paths))
    train, val = slice(0, len(paths) - n_val), slice(len(paths) - n_val, None)
    for name, part, size in (("training", "training", len(paths) - n_val),
                             ("validation", "validation", n_val)):
        if subset in (part, "both") and size == 0:
            raise ValueError(
                f"No {name} {noun}s left in {directory!r} with validation_split="
                f"{validation_split!r} of {len(paths)} files."
            )
    if verbose and subset in ("training", "both"):
        print(f"Using {len(paths) - n_val} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {n_val} files for validation.")
    if subset == "training":
        return build(train, shuffle)
    if subset == "validation":
        return build(val, shuffle)
    return [build(train, shuffle), build(val, False)]  # Keras does not reshuffle this validation set


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                batch_size=32, max_length=None, shuffle=True, seed=None,
                                validation_split=None, subset=None, follow_links=False,
                                verbose=True):
    """Batches of texts read from ``.txt`` files, labeled by their class folder.

    With ``labels="inferred"``, ``directory`` holds one folder per class
    (``directory/pos/*.txt``, ``directory/neg/*.txt``; files in nested
    folders count for the class); the classes are the folder names in
    alphanumeric order, label ``i`` being ``class_names[i]``.

    Parameters
    ----------
    directory : str or path-like
    labels : "inferred", None, or list of int
        ``"inferred"`` from the folders; None for no labels; or one label per
        file, in the alphanumeric order of the file paths.
    label_mode : {"int", "categorical", "binary", None}, default="int"
        Labels as int32 indices, float one-hot rows, float ``(batch, 1)``
        (exactly two classes), or None: no labels, as with ``labels=None``.
    class_names : list of str, optional
        With ``labels="inferred"``: the folders to use, in label order
        (folders whose name starts with ``.`` are never classes). With a list
        of labels, ``class_names`` becomes their sorted distinct values as
        strings, as in Keras.
    batch_size : int or None, default=32
        None serves one text at a time.
    max_length : int, optional
        Keep at most this many characters of each text.
    shuffle : bool, default=True
        Shuffle the files (once here, and again after every epoch); otherwise
        they are served in alphanumeric order.
    seed : int, optional
        Seed for shuffling and splitting; needed with ``validation_split`` and
        ``shuffle``.
    validation_split : float, optional
        Fraction in (0, 1) of the files kept for validation.
    subset : {"training", "validation", "both"}, optional
        With ``validation_split``: which part to return (``"both"``: a list
        ``[training, validation]``).
    follow_links : bool, default=False
        Visit folders behind symbolic links.
    verbose : bool, default=True
        Print how many files and classes were found.

    Returns
    -------
    TextDataset
        A :class:`~automl.keras.utils.PyDataset` of ``(texts, labels)``
        batches (``texts`` alone without labels): ``texts`` is an object
        array of Python ``str`` (files are read as UTF-8; Keras returns byte
        strings). It has ``class_names`` and ``file_paths`` attributes.

    Examples
    --------
    >>> import os, tempfile
    >>> from automl.keras.utils import text_dataset_from_directory
    >>> root = tempfile.mkdtemp()
    >>> for label, text in [("neg", "bad"), ("pos", "good")]:
    ...     os.makedirs(os.path.join(root, label))
    ...     with open(os.path.join(root, label, "a.txt"), "w") as f:
    ...         _ = f.write(text)
    >>> ds = text_dataset_from_directory(root, shuffle=False, verbose=False)
    >>> texts, labels = ds[0]
    >>> ds.class_names, texts.tolist(), labels.tolist()
    (['neg', 'pos'], ['bad', 'good'], [0, 1])
    """
    if max_length is not None and (isinstance(max_length, bool) or
                                   not isinstance(max_length, numbers.Integral) or max_length < 0):
        raise param_error("max_length", _OWNER, "None or a non-negative int", max_length)

    def make(paths, label_ids, **kwargs):
        return TextDataset(paths, label_ids, max_length=max_length, **kwargs)

    return dataset_from_directory(
        _OWNER, directory, labels=labels, label_mode=label_mode, class_names=class_names,
        batch_size=batch_size, shuffle=shuffle, seed=seed, validation_split=validation_split,
        subset=subset, follow_links=follow_links, verbose=verbose, formats=(".txt",),
        noun=".txt file", make=make,
    )
