"""The initializer, regularizer and constraint of a layer's weights, resolved and serialized in one place.

Keras layers take three arguments per weight (``kernel_initializer``,
``kernel_regularizer``, ``kernel_constraint``; the same for ``bias``,
``depthwise``, ``pointwise``, ...). A :class:`WeightOptions` names a layer's
weights once: ``resolve`` turns the constructor's arguments into attributes
of those names (through each kind's ``get``), ``add_weight`` creates a weight
with its options, and ``config`` writes them back for ``get_config`` in
Keras's order (every initializer, every regularizer then the activity
regularizer, every constraint).
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import constraints, initializers, regularizers

__all__ = ["WeightOptions"]


class WeightOptions:
    """The ``<prefix>_initializer / _regularizer / _constraint`` arguments of a layer.

    Parameters
    ----------
    *prefixes : str
        The weights' argument prefixes, in Keras's order (``"kernel", "bias"``).
    activity_regularizer : bool, default=False
        Whether the layer also takes ``activity_regularizer`` (resolved and
        serialized with the weight regularizers).

    Examples
    --------
    >>> from automl.keras.layers._weight_spec import WeightOptions
    >>> class Layer:
    ...     pass
    >>> options = WeightOptions("kernel", "bias")
    >>> layer = Layer()
    >>> options.resolve(layer, {"kernel_initializer": "ones", "bias_initializer": "zeros",
    ...                         "kernel_regularizer": None, "bias_regularizer": None,
    ...                         "kernel_constraint": "non_neg", "bias_constraint": None})
    >>> type(layer.kernel_initializer).__name__, type(layer.kernel_constraint).__name__
    ('Ones', 'NonNeg')
    >>> list(options.config(layer))[:3]
    ['kernel_initializer', 'bias_initializer', 'kernel_regularizer']
    """

    def __init__(self, *prefixes: str, activity_regularizer: bool = False):
        self.prefixes = prefixes
        self.activity_regularizer = activity_regularizer

    def _keys(self):
        """(attribute, kind module) pairs in Keras's config order."""
        keys = [(f"{p}_initializer", initializers) for p in self.prefixes]
        keys += [(f"{p}_regularizer", regularizers) for p in self.prefixes]
        if self.activity_regularizer:
            keys.append(("activity_regularizer", regularizers))
        keys += [(f"{p}_constraint", constraints) for p in self.prefixes]
        return keys

    def resolve(self, layer, arguments: Mapping) -> None:
        """Set each option on ``layer`` from ``arguments`` (the constructor's ``locals()``)."""
        for key, kind in self._keys():
            setattr(layer, key, kind.get(arguments[key]))

    def add_weight(self, layer, prefix: str, shape, name: str | None = None):
        """``layer.add_weight`` of the weight ``prefix`` (named ``name``, default ``prefix``)."""
        return layer.add_weight(
            shape,
            getattr(layer, f"{prefix}_initializer"),
            name or prefix,
            regularizer=getattr(layer, f"{prefix}_regularizer"),
            constraint=getattr(layer, f"{prefix}_constraint"),
        )

    def config(self, layer) -> dict:
        """The options of ``layer`` serialized for ``get_config``."""
        return {key: kind.serialize(getattr(layer, key)) for key, kind in self._keys()}
