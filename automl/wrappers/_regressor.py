"""KerasRegressor: single- and multi-output regression."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array

from ._base import BaseWrapper, ScoringMixin, fill_docstring, output_shapes

__all__ = ["KerasRegressor"]


class KerasRegressor(ScoringMixin, RegressorMixin, BaseWrapper):
    """Scikit-learn regressor around an ``automl.keras`` neural network.

    Targets of shape (n_samples,) or (n_samples, n_outputs) are fed to the
    network as float32 columns; ``predict`` returns the shape seen at ``fit``.
    The built-in MLP ends with ``n_outputs`` linear units and is trained with
    ``mean_squared_error`` unless ``loss`` says otherwise. A user model may
    also have several outputs: the target columns are split between them in
    order (their units must add up to ``n_outputs``) and the predictions are
    put back side by side. Scaling ``y`` (e.g. with
    ``TransformedTargetRegressor``) usually helps a lot.

    Parameters
    ----------
    %(parameters)s
    %(kwargs)s

    Attributes
    ----------
    %(fitted)s
    n_outputs_ : int
        Number of target columns.
    %(features)s

    See Also
    --------
    KerasClassifier : The classification counterpart.
    build_mlp : The built-in network.

    Notes
    -----
    %(notes)s

    Examples
    --------
    >>> import numpy as np
    >>> from automl.wrappers import KerasRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5])
    >>> reg = KerasRegressor(hidden_layer_sizes=(16,), epochs=5, random_state=0)
    >>> reg.fit(X, y).predict(X[:4]).shape
    (4,)
    >>> reg.fit(X, np.column_stack([y, -y])).predict(X[:4]).shape
    (4, 2)
    """

    _y_numeric = True

    def _prepare_target(self, y, reset, classes=None):
        y = np.asarray(y, dtype=np.float32)
        y2 = y.reshape(len(y), -1)
        if reset:
            self.n_outputs_ = y2.shape[1]
            self._target_ndim = y.ndim
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} outputs, but {self._owner()} was fitted with "
                f"{self.n_outputs_} (warm_start=True)."
            )
        return y2

    def _transform_target(self, y):
        y = check_array(y, ensure_2d=False, dtype=np.float32, input_name="y", estimator=self)
        y = y.reshape(len(y), -1)
        if y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} outputs, but {self._owner()} is expecting {self.n_outputs_}."
            )
        return y

    def _target_meta(self) -> dict:
        return {"target_type_": "continuous" if self.n_outputs_ == 1 else
                "continuous-multioutput", "n_outputs_": self.n_outputs_}

    def _default_head(self) -> tuple:
        return self.n_outputs_, "linear"

    def _default_losses(self, model):
        return ["mean_squared_error"] * len(output_shapes(model))

    def _encoding_for(self, model):
        """The target columns ``(start, stop)`` of each model output."""
        shapes = output_shapes(model)
        units = [s[-1] if len(s) == 2 else None for s in shapes]
        if None in units or sum(units) != self.n_outputs_:
            shape_text = shapes[0] if len(shapes) == 1 else shapes
            raise ValueError(
                f"The output layer of the model does not fit the targets of {self._owner()}: "
                f"the model output shape is {shape_text}, but y has {self.n_outputs_} output(s). "
                f"Expected an output shape of (None, {self.n_outputs_})"
                + ("." if len(shapes) == 1 else " or outputs whose units add up to it.")
            )
        bounds = np.cumsum([0, *units])
        return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))

    def _encode_target(self, y):
        parts = [y[:, start:stop] for start, stop in self._target_encoding]
        return parts[0] if len(parts) == 1 else parts

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions (float64), with the target shape seen at ``fit``.
        """
        raws = self._predict_raw(X)
        raw = raws[0] if len(raws) == 1 else np.hstack(raws)
        return raw[:, 0] if self._target_ndim == 1 else raw


KerasRegressor.__doc__ = fill_docstring(KerasRegressor.__doc__)
