"""Models (``automl.keras.models``)."""

from ..saving import clone_model, load_model, model_from_json
from . import symbolic  # noqa: F401  (registers OpLayer, the op nodes of functional graphs, for loading)
from ._functional import Functional
from ._model import Model
from ._sequential import Sequential

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json"]
