"""Orthogonality regularizer: penalizes the cosine similarity between rows (or columns)."""

from __future__ import annotations

import numpy as np

from ..._validation import Interval, Options, check_param
from ..backend import epsilon
from ._regularizers import REGULARIZERS, Regularizer

__all__ = ["OrthogonalRegularizer", "orthogonal_regularizer"]


@REGULARIZERS.register(aliases=("orthogonal_regularizer",))
class OrthogonalRegularizer(Regularizer):
    """Encourage the rows (or columns) of a rank-2 weight to be orthogonal.

    The rows (``mode="rows"``) or columns are L2-normalized, and the penalty
    is ``factor`` times the mean absolute cosine similarity over the
    ``n * (n - 1) / 2`` distinct pairs: ``factor * 0.5 * sum_{i != j} |u_i . u_j| / (n (n - 1) / 2)``.
    For a ``Dense`` kernel ``(input_dim, units)``, ``"rows"`` acts on the
    ``input_dim`` rows and ``"columns"`` on the ``units`` feature vectors.

    Parameters
    ----------
    factor : float, default=0.01
        Strength, ``>= 0``.
    mode : {"rows", "columns"}, default="rows"

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import regularizers
    >>> reg = regularizers.OrthogonalRegularizer(factor=1.0)
    >>> float(reg(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))) > 0
    True
    """

    def __init__(self, factor=0.01, mode="rows"):
        owner = type(self).__name__
        self.factor = float(check_param("factor", factor, [Interval(float, 0, None)], owner))
        self.mode = check_param("mode", mode, [Options(("rows", "columns"))], owner)

    def _vectors(self, w):
        if np.ndim(w) != 2:
            raise ValueError(
                f"The input of OrthogonalRegularizer must have rank 2. Got shape {np.shape(w)} "
                "instead."
            )
        return w if self.mode == "rows" else w.T

    @staticmethod
    def _normalize(v):
        norm = np.sqrt(np.maximum((v * v).sum(axis=1, keepdims=True), epsilon()))
        return v / norm, norm

    def _scale(self, n):
        pairs = n * (n - 1) / 2.0
        return self.factor * 0.5 / pairs if pairs else 0.0

    def __call__(self, w):
        v = self._vectors(np.asarray(w))
        u, _ = self._normalize(v)
        gram = u @ u.T
        np.fill_diagonal(gram, 0.0)
        return self._scale(v.shape[0]) * float(np.abs(gram).sum())

    def add_gradient(self, w, grad):
        v = self._vectors(w)
        n = v.shape[0]
        if n < 2 or not self.factor:
            return
        u, norm = self._normalize(v)
        sign = np.sign(u @ u.T)
        np.fill_diagonal(sign, 0.0)
        # d/du = 2 c sign(G) u (G symmetric); then through u = v / max(|v|, sqrt(eps)).
        du = (2.0 * self._scale(n)) * (sign @ u)
        radial = (u * du).sum(axis=1, keepdims=True)
        radial *= (norm * norm) > epsilon()  # the floored norm does not depend on v
        dv = (du - u * radial) / norm
        if self.mode == "rows":
            grad += dv
        else:
            grad += dv.T

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


orthogonal_regularizer = OrthogonalRegularizer
