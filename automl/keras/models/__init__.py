"""Models (``automl.keras.models``)."""

from ..saving import clone_model, load_model, model_from_json
from ._functional import Functional
from ._model import Model
from ._sequential import Sequential
from . import _symbolic  # noqa: F401  (registers OpLayer, the op nodes of functional graphs, for loading)

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json"]
