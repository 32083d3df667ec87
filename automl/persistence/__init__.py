"""Saving fitted estimators as data: estimator archives load without running code.

A pickle names the functions that rebuild it, and loading it calls them: a
crafted ``.pkl`` runs whatever it names. :func:`dump` writes an estimator
archive instead -- a zip of a JSON tree of the object graph, ``.npy`` arrays
(read with ``allow_pickle=False``) and automl.keras networks as ``.keras``
archives (read in ``safe_mode``) -- and :func:`load` rebuilds it calling
nothing a file names outside a list of trusted classes (automl's wrappers and
tabular estimators, scikit-learn's pipeline, compose, preprocessing, impute,
linear_model and ensemble estimators, NumPy types) and functions
(:data:`TRUSTED_FUNCTIONS`). Objects are rebuilt as pickle would, with
``cls.__new__`` and their state; a name outside the lists, a path-like member
name, an array larger than its bytes or a graph nested deeper than
:data:`MAX_DEPTH` is a one-line ``ValueError``, before anything is imported.
"""

from ._archive import FORMAT, MAX_DEPTH, MAX_TREE_BYTES, dump, load
from ._trusted import TRUSTED_FUNCTIONS, TRUSTED_MODULES

__all__ = ["FORMAT", "MAX_DEPTH", "MAX_TREE_BYTES", "TRUSTED_FUNCTIONS", "TRUSTED_MODULES",
           "dump", "load"]
