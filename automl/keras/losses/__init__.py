"""Losses (``automl.keras.losses``).

The base class, cross-entropies and mean squared error are in ``_losses``;
the other families are in ``_regression``, ``_hinge``, ``_probabilistic``,
``_overlap`` (segmentation) and ``_metric_learning``.
"""

from . import _hinge, _losses, _metric_learning, _overlap, _probabilistic, _regression
from ._custom import LossFunctionWrapper
from ._hinge import *  # noqa: F403
from ._losses import *  # noqa: F403
from ._losses import deserialize, get, mse, serialize
from ._metric_learning import *  # noqa: F403
from ._overlap import *  # noqa: F403
from ._probabilistic import *  # noqa: F403
from ._regression import *  # noqa: F403

__all__ = [
    *_losses.__all__,
    *_regression.__all__,
    *_hinge.__all__,
    *_probabilistic.__all__,
    *_overlap.__all__,
    *_metric_learning.__all__,
    "LossFunctionWrapper",
    "deserialize",
    "get",
    "mse",
    "serialize",
]
