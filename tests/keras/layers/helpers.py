"""Shared by the layer tests: random layers that replay the same draws."""

import copy


def replayed(cls, *args, **kwargs):
    """A factory for ``cls`` whose every training call reuses the same random draws."""

    class Replayed(cls):
        def call(self, inputs, training=False):
            if not hasattr(self, "_saved_rng"):
                self._saved_rng = copy.deepcopy(self._generator())
            self._rng = copy.deepcopy(self._saved_rng)
            return super().call(inputs, training)

    return lambda: Replayed(*args, **kwargs)
