"""``text_dataset_from_directory``: ``.txt`` files in class folders, as batches of strings."""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

from ..._validation import param_error
from ..backend import make_rng
from ..backend._config import floatx
from ._py_dataset import PyDataset

__all__ = ["TextDataset", "text_dataset_from_directory"]

_OWNER = "text_dataset_from_directory"


class TextDataset(PyDataset):
    """Batches of file contents and labels (see :func:`text_dataset_from_directory`).

    Files are read when their batch is requested.

    Attributes
    ----------
    class_names : list of str or None
        The class names, in label order (None when ``labels`` was not
        ``"inferred"``).
    file_paths : list of str
        The files of this dataset, in the order served this epoch.
    """

    def __init__(self, file_paths, labels, *, class_names, label_mode, num_classes, batch_size,
                 max_length, shuffle, rng):
        super().__init__()
        self.file_paths = list(file_paths)
        self._labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.class_names = class_names
        self.label_mode, self.num_classes = label_mode, num_classes
        self.batch_size, self.max_length = batch_size, max_length
        self.shuffle, self._rng = shuffle, rng

    def __len__(self):
        return math.ceil(len(self.file_paths) / (self.batch_size or 1))

    def _read(self, path):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        return text if self.max_length is None else text[:self.max_length]

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
        texts = np.array([self._read(p) for p in self.file_paths[sl]], dtype=object)
        labels = None
        if self._labels is not None and self.label_mode is not None:
            labels = self._encode(self._labels[sl])
        if self.batch_size is None:
            texts = texts[0]
            labels = None if labels is None else labels[0]
        return texts if labels is None else (texts, labels)

    def on_epoch_end(self):
        if self.shuffle:
            order = self._rng.permutation(len(self.file_paths))
            self.file_paths = [self.file_paths[i] for i in order]
            if self._labels is not None:
                self._labels = self._labels[order]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


def _list_files(directory, follow_links):
    paths = []
    for root, dirs, files in os.walk(directory, followlinks=follow_links):
        dirs.sort()
        paths.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(".txt"))
    return paths


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
        (exactly two classes), or not returned.
    class_names : list of str, optional
        With ``labels="inferred"``: the folders to use, in label order.
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
    if not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory):
        raise param_error("directory", _OWNER, "the path of an existing directory", directory)
    directory = os.fspath(directory)
    if label_mode not in ("int", "categorical", "binary", None):
        raise param_error("label_mode", _OWNER, "one of 'int', 'categorical', 'binary', None",
                          label_mode)
    explicit = not isinstance(labels, str) and labels is not None
    if isinstance(labels, str) and labels != "inferred":
        raise param_error("labels", _OWNER, "'inferred', None or a list of int labels", labels)
    if labels is None:
        label_mode = None
    if class_names is not None and labels != "inferred":
        raise ValueError(
            "The 'class_names' parameter of text_dataset_from_directory is only valid with "
            f"labels='inferred'. Got labels={labels!r} instead."
        )
    if batch_size is not None and (isinstance(batch_size, bool) or
                                   not isinstance(batch_size, numbers.Integral) or batch_size < 1):
        raise param_error("batch_size", _OWNER, "None or an int in the range [1, inf)", batch_size)
    if max_length is not None and (isinstance(max_length, bool) or
                                   not isinstance(max_length, numbers.Integral) or max_length < 0):
        raise param_error("max_length", _OWNER, "None or a non-negative int", max_length)
    if validation_split is not None and not (isinstance(validation_split, numbers.Real)
                                             and 0 < validation_split < 1):
        raise param_error("validation_split", _OWNER, "None or a float in the range (0, 1)",
                          validation_split)
    if validation_split is not None and subset not in ("training", "validation", "both"):
        raise param_error("subset", _OWNER, "'training', 'validation' or 'both' when "
                          "validation_split is set", subset)
    if validation_split is None and subset is not None:
        raise param_error("subset", _OWNER, "None when validation_split is not set", subset)
    if validation_split is not None and shuffle and seed is None:
        raise ValueError(
            "The 'seed' parameter of text_dataset_from_directory must be set when using "
            "validation_split with shuffle=True, so the training and validation subsets do not "
            "overlap. Got None instead."
        )

    label_ids = None
    if labels == "inferred":
        folders = sorted(d for d in os.listdir(directory)
                         if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None:
            missing = sorted(set(class_names) - set(folders))
            if missing or len(set(class_names)) != len(class_names):
                raise ValueError(
                    f"The 'class_names' parameter of text_dataset_from_directory must list "
                    f"distinct subfolders of {directory!r} (found: {folders}). Got "
                    f"{list(class_names)!r} instead."
                )
            folders = list(class_names)
        class_names = folders
        paths, label_ids = [], []
        for i, name in enumerate(class_names):
            found = _list_files(os.path.join(directory, name), follow_links)
            paths.extend(found)
            label_ids.extend([i] * len(found))
    else:
        paths = _list_files(directory, follow_links)
        if explicit:
            label_ids = list(labels)
            if len(label_ids) != len(paths):
                raise ValueError(
                    f"The 'labels' parameter of text_dataset_from_directory must hold one label "
                    f"per .txt file: {len(paths)} files were found in {directory!r}. Got "
                    f"{len(label_ids)} labels instead."
                )
    num_classes = len(class_names) if class_names is not None else (
        int(max(label_ids)) + 1 if label_ids else 0)
    if label_mode == "binary" and label_ids is not None and num_classes != 2:
        raise ValueError(
            f"label_mode='binary' needs exactly 2 classes; {directory!r} has {num_classes}. "
            "Use label_mode='int' or 'categorical'."
        )
    if not paths:
        raise ValueError(f"No .txt files found in directory {directory!r}.")
    rng = make_rng(seed)
    order = rng.permutation(len(paths)) if shuffle else np.arange(len(paths))
    paths = [paths[i] for i in order]
    label_ids = None if label_ids is None else np.asarray(label_ids, dtype=np.int64)[order]
    if verbose:
        print(f"Found {len(paths)} files" +
              (f" belonging to {num_classes} classes." if class_names is not None else "."))

    def make(sl):
        return TextDataset(paths[sl], None if label_ids is None else label_ids[sl],
                           class_names=class_names, label_mode=label_mode,
                           num_classes=num_classes, batch_size=batch_size,
                           max_length=max_length, shuffle=shuffle, rng=rng)

    if validation_split is None:
        return make(slice(None))
    n_val = int(validation_split * len(paths))
    train, val = slice(0, len(paths) - n_val), slice(len(paths) - n_val, None)
    if verbose and subset in ("training", "both"):
        print(f"Using {len(paths) - n_val} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {n_val} files for validation.")
    if subset == "training":
        return make(train)
    if subset == "validation":
        return make(val)
    return [make(train), make(val)]
