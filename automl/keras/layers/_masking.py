"""Masking: skip the timesteps whose features all equal ``mask_value``.

Besides the layer, this module holds the helper that turns the mask of a
model's output into per-timestep loss weights, the way Keras weights a loss
computed on a masked output (see :func:`mask_to_sample_weight`).
"""

from __future__ import annotations

import numpy as np

from ._base import LAYERS, Layer

__all__ = ["Masking", "mask_to_sample_weight"]


@LAYERS.register
class Masking(Layer):
    """Masks a sequence: timesteps whose features all equal ``mask_value`` are skipped.

    The output is the input with those timesteps set to zero, and the layer
    emits the mask ``any(inputs != mask_value, axis=-1)`` for the layers
    downstream (recurrent layers carry their state over masked timesteps).

    Parameters
    ----------
    mask_value : float, default=0.0

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import Masking
    >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
    >>> Masking()(x)[0].tolist()
    [[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]
    >>> Masking().compute_mask(x).tolist()
    [[True, False, True]]
    """

    supports_masking = True
    _cache_attrs = ("_keep",)

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        return np.any(np.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs, training=False):
        keep = np.any(np.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        self._keep = keep
        return inputs * keep

    def backward(self, grad):
        return grad * self._keep

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


def mask_to_sample_weight(mask, sample_weight=None, reduction="sum_over_batch_size", dtype=np.float32):
    """Per-timestep loss weights for a masked output, as Keras computes them.

    Keras multiplies the loss of each timestep by the mask and, for averaging
    reductions (``"sum_over_batch_size"``/``"mean"``), rescales the mask by
    ``mask.size / mask.sum()`` so that the mean runs over the unmasked
    timesteps only; a per-sample ``sample_weight`` multiplies each sample's row.

    Parameters
    ----------
    mask : array of bool, shape (batch, timesteps, ...)
        The mask of the output (True = keep).
    sample_weight : array of shape (batch,), optional
    reduction : str, default="sum_over_batch_size"
        The loss's reduction.
    dtype : dtype, default=float32

    Returns
    -------
    numpy.ndarray of shape ``mask.shape``

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.layers import mask_to_sample_weight
    >>> mask_to_sample_weight(np.array([[True, True], [True, False]]), dtype=np.float64).round(3).tolist()
    [[1.333, 1.333], [1.333, 0.0]]
    """
    weights = np.asarray(mask, dtype=dtype)
    if reduction in ("sum_over_batch_size", "mean"):
        valid = float(weights.sum())
        weights *= weights.size / (valid + 1e-7)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=dtype).reshape(-1)
        weights *= sw.reshape(sw.shape + (1,) * (weights.ndim - 1))
    return weights
