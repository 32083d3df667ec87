"""Datasets (``automl.keras.datasets``, mirrors ``keras.datasets``).

One public module per dataset, each with Keras's ``load_data`` signature and
return values: :mod:`.mnist`, :mod:`.fashion_mnist`, :mod:`.cifar10`,
:mod:`.cifar100`, :mod:`.imdb` (and ``imdb.get_word_index``),
:mod:`.reuters` (and ``get_word_index``, ``get_label_names``),
:mod:`.boston_housing`, :mod:`.california_housing`.

Files are kept in ``$AUTOML_DATA_DIR`` (default ``~/.automl/datasets``),
downloaded on first use and verified against the published checksums. Every
loader also reads a local copy given as ``path=``; MNIST and Fashion-MNIST
also read ``$AUTOML_DATASETS_DIR/<name>.npz``. Nothing is unpickled except
through an unpickler restricted to rebuilding NumPy arrays.
"""

from ..utils.downloads import DatasetNotAvailableError
from . import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = [
    "DatasetNotAvailableError",
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]
