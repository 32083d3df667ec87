"""Greedy ensemble selection with replacement (Caruana et al., 2004)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import get_scorer
from sklearn.utils.validation import check_is_fitted

from .._validation import Interval, validate_params

__all__ = ["EnsembleSelection"]

_DEFAULT_SCORING = {"classification": "neg_log_loss", "regression": "r2"}


class _FixedProbabilities(ClassifierMixin, BaseEstimator):
    """A classifier whose answer is given: lets any scikit-learn scorer score predictions."""

    def __init__(self, classes, probabilities):
        self.classes = classes
        self.probabilities = probabilities

    @property
    def classes_(self):
        return self.classes

    def predict_proba(self, X):
        return self.probabilities

    def predict(self, X):
        return self.classes[np.argmax(self.probabilities, axis=1)]


class _FixedValues(RegressorMixin, BaseEstimator):
    """A regressor whose answer is given (see :class:`_FixedProbabilities`)."""

    def __init__(self, values):
        self.values = values

    def predict(self, X):
        return self.values


def _stack_predictions(predictions, owner: str) -> np.ndarray:
    try:
        P = np.asarray(
            predictions if isinstance(predictions, np.ndarray) else list(predictions),
            dtype=np.float64,
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The 'predictions' argument of {owner} must be a stack of models' predictions of "
            f"one shape, (n_models, n_samples) or (n_models, n_samples, n_classes). ({exc})"
        ) from None
    if P.ndim not in (2, 3) or P.shape[0] == 0 or P.shape[1] == 0:
        raise ValueError(
            f"The 'predictions' argument of {owner} must have shape (n_models, n_samples) for "
            "regression or (n_models, n_samples, n_classes) for classification probabilities. "
            f"Got shape {P.shape} instead."
        )
    if not np.isfinite(P).all():
        raise ValueError(f"The 'predictions' argument of {owner} must be finite.")
    if P.ndim == 3:
        # Probabilities computed in float32 sum to one only to ~1e-7; make it exact so that
        # scorers do not warn, but refuse anything that is not probabilities at all.
        sums = P.sum(axis=2, keepdims=True)
        if (P < 0).any() or np.abs(sums - 1.0).max() > 1e-4:
            raise ValueError(
                f"The 'predictions' argument of {owner} must hold class probabilities "
                "(non-negative, each row summing to 1) for classification. Got rows summing "
                f"to {float(sums.min()):.6g}..{float(sums.max()):.6g}."
            )
        P = P / sums
    return P


def _first_max(values) -> int:
    """Index of the first value equal to the maximum up to rounding (1e-12 relative).

    Two ensembles that are equal in exact arithmetic, such as ``(a + a + b) / 3``
    and ``(a + b + b) / 3`` for symmetric errors, can score a few ulps apart;
    ties must still go to the lowest index.
    """
    values = np.asarray(values)
    best = values.max()
    return int(np.flatnonzero(values >= best - 1e-12 * max(1.0, abs(best)))[0])


def _scorer_callable(value) -> bool:
    """a scorer callable scorer(estimator, X, y)"""
    return callable(value)


class EnsembleSelection(BaseEstimator):
    """Greedy ensemble selection with replacement over models' validation predictions.

    Caruana et al.'s (2004) forward selection, as auto-sklearn uses it: start
    from an empty ensemble (or from the ``n_init`` best models, each once:
    "sorted ensemble initialization"), then ``ensemble_size`` times in all add
    the model, possibly one already in, whose addition gives the best score of
    the averaged predictions; ties (equal up to a relative 1e-12, so rounding
    cannot break them) go to the lowest model index. The ensemble kept is the
    best-scoring prefix of these additions (the smallest on ties),
    and its weights are how often each model was added divided by its size.
    The first addition is always the best single model, so the ensemble's
    score is at least the best single model's on the predictions it was fitted
    on (a validation split: score it on other data to see what it is worth).

    Parameters
    ----------
    ensemble_size : int, default=50
        Number of additions (the ensemble's largest size).
    scoring : str, callable or None, default=None
        A scikit-learn scorer name (``"neg_log_loss"``, ``"accuracy"``,
        ``"roc_auc"``, ``"r2"``, ``"neg_mean_squared_error"``...) or a scorer
        callable ``scorer(estimator, X, y)`` as :func:`~sklearn.metrics.make_scorer`
        makes; higher is better. ``None``: ``"neg_log_loss"`` for
        classification, ``"r2"`` for regression.
    n_init : int, default=0
        Number of best single models the ensemble starts from.

    Notes
    -----
    Each step scores every model as a candidate. For ``"neg_log_loss"``,
    ``"accuracy"``, ``"r2"``, ``"neg_mean_squared_error"``,
    ``"neg_root_mean_squared_error"`` and ``"neg_mean_absolute_error"`` given
    by name, the candidates are scored together with NumPy (30 models, 600
    samples, 50 steps: about 1 s instead of 14 s for log-loss through the
    scorer); any other scorer is called once per candidate. ``trajectory_``
    and ``score_`` always come from the scorer itself.

    Attributes
    ----------
    weights_ : ndarray of shape (n_models,)
        Each model's weight in the kept ensemble (non-negative, summing to 1).
    indices_ : ndarray of shape (ensemble_size,)
        The model added at each step, in order.
    trajectory_ : ndarray of shape (ensemble_size,)
        Score of the ensemble after each addition.
    size_ : int
        Number of additions in the kept ensemble (the best prefix).
    score_ : float
        Score of the kept ensemble, ``trajectory_[size_ - 1]``.
    single_scores_ : ndarray of shape (n_models,)
        Score of each model alone.
    best_index_ : int
        Index of the best single model.
    classes_ : ndarray
        For classification: the labels of the probability columns.

    References
    ----------
    R. Caruana, A. Niculescu-Mizil, G. Crew and A. Ksikes, "Ensemble selection
    from libraries of models", ICML 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.tabular import EnsembleSelection
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> predictions = [y + 1.0, y - 1.0, y + 3.0]  # two opposite errors average out
    >>> ens = EnsembleSelection(ensemble_size=4, scoring="r2").fit(predictions, y)
    >>> ens.weights_
    array([0.5, 0.5, 0. ])
    >>> print(round(ens.score_, 6), round(ens.single_scores_[ens.best_index_], 6))
    1.0 0.2
    >>> ens.predict(predictions)
    array([0., 1., 2., 3.])
    """

    _parameter_constraints = {
        "ensemble_size": [Interval(int, 1, None)],
        "n_init": [Interval(int, 0, None)],
        "scoring": [None, str, _scorer_callable],
    }

    def __init__(self, ensemble_size=50, *, scoring=None, n_init=0):
        self.ensemble_size = ensemble_size
        self.scoring = scoring
        self.n_init = n_init

    def fit(self, predictions, y, *, classes=None):
        """Select the ensemble from the models' predictions on a validation split.

        Parameters
        ----------
        predictions : array-like of shape (n_models, n_samples) or (n_models, n_samples, n_classes)
            Each model's predictions: values for regression, class probabilities
            (columns in the order of ``classes``) for classification.
        y : array-like of shape (n_samples,)
            The true targets of those samples.
        classes : array-like of shape (n_classes,), default=None
            Labels of the probability columns; by default the sorted distinct
            values of ``y`` (which must then number ``n_classes``).

        Returns
        -------
        self : EnsembleSelection
        """
        owner = type(self).__name__
        validate_params(self.get_params(), self._parameter_constraints, owner)
        P = _stack_predictions(predictions, owner)
        n_models = P.shape[0]
        if self.n_init > min(self.ensemble_size, n_models):
            raise ValueError(
                f"The 'n_init' parameter of {owner} must be at most ensemble_size "
                f"({self.ensemble_size}) and the number of models ({n_models}). "
                f"Got {self.n_init!r} instead."
            )
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != P.shape[1]:
            raise ValueError(
                f"The 'y' argument of {owner}.fit must be 1-D with one value per predicted "
                f"sample ({P.shape[1]}). Got shape {y.shape} instead."
            )
        task = "classification" if P.ndim == 3 else "regression"
        scorer = get_scorer(self.scoring or _DEFAULT_SCORING[task])
        if task == "classification":
            self.classes_ = self._classes(y, classes, P.shape[2])

            def score(pred):
                return scorer(_FixedProbabilities(self.classes_, pred), None, y)

        else:

            def score(pred):
                return scorer(_FixedValues(pred), None, y)

        def safe_score(pred):
            value = float(score(pred))
            return value if np.isfinite(value) else -np.inf

        single = np.array([safe_score(p) for p in P])
        best = _first_max(single)
        order = np.r_[best, [m for m in np.argsort(-single, kind="stable") if m != best]]
        fast = self._vectorized_scores(P, y)
        total = np.zeros_like(P[0])
        indices, trajectory = [], []
        for step in range(self.ensemble_size):
            if step < max(self.n_init, 1):
                # The first addition is the best single model, whatever the search below.
                chosen = int(order[step])
            elif fast is not None:
                chosen = _first_max(fast(total, step + 1))
            else:
                chosen = _first_max([safe_score((total + p) / (step + 1)) for p in P])
            total += P[chosen]
            indices.append(chosen)
            # Scored by the scorer itself, whichever way the candidate was found.
            trajectory.append(single[chosen] if step == 0 else safe_score(total / (step + 1)))
        self.single_scores_ = single
        self.best_index_ = best
        self.indices_ = np.asarray(indices)
        self.trajectory_ = np.asarray(trajectory)
        self.size_ = _first_max(self.trajectory_) + 1
        self.score_ = float(self.trajectory_[self.size_ - 1])
        counts = np.bincount(self.indices_[: self.size_], minlength=n_models)
        self.weights_ = counts / self.size_
        self.scorer_ = scorer
        return self

    def predict(self, predictions) -> np.ndarray:
        """The ensemble's prediction: the weighted average of the models' predictions.

        Parameters
        ----------
        predictions : array-like of shape (n_models, n_samples[, n_classes])
            The same models' predictions on new samples, in the same order.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self, "weights_")
        P = _stack_predictions(predictions, type(self).__name__)
        if P.shape[0] != len(self.weights_) or (P.ndim == 3) != hasattr(self, "classes_"):
            raise ValueError(
                f"The 'predictions' argument of {type(self).__name__}.predict must stack the "
                f"{len(self.weights_)} models' predictions as at fit. Got shape {P.shape} instead."
            )
        return np.tensordot(self.weights_, P, axes=1)

    def _vectorized_scores(self, P, y):
        """``scores(total, size)`` of adding each model to the ensemble summing to ``total``.

        For the common scorer names the candidates are scored all at once with
        NumPy (the same formulas as scikit-learn's metrics); other scorers are
        called once per candidate. Only the choice of candidate uses these
        values: the trajectory is scored by the scorer itself.
        """
        name = self.scoring or _DEFAULT_SCORING["classification" if P.ndim == 3 else "regression"]
        if not isinstance(name, str):
            return None
        if P.ndim == 3:
            target = np.searchsorted(self.classes_, y)
            if name == "neg_log_loss":
                true = np.take_along_axis(P, target[None, :, None], axis=2)[:, :, 0]
                eps = np.finfo(P.dtype).eps

                def scores(total, size):
                    total_true = np.take_along_axis(total, target[:, None], axis=1)[:, 0]
                    p = np.clip((true + total_true) / size, eps, 1 - eps)
                    return np.log(p).mean(axis=1)

                return scores
            if name == "accuracy":
                buffer = np.empty_like(P)

                def scores(total, size):
                    np.add(P, total, out=buffer)
                    return (buffer.argmax(axis=2) == target).mean(axis=1)

                return scores
            return None
        buffer = np.empty_like(P)
        sst = float(((y - y.mean()) ** 2).sum())
        kinds = {
            "r2": lambda d: 1.0 - (d**2).sum(axis=1) / sst,
            "neg_mean_squared_error": lambda d: -(d**2).mean(axis=1),
            "neg_root_mean_squared_error": lambda d: -np.sqrt((d**2).mean(axis=1)),
            "neg_mean_absolute_error": lambda d: -np.abs(d).mean(axis=1),
        }
        if name not in kinds or (name == "r2" and sst == 0):
            return None
        metric = kinds[name]

        def scores(total, size):
            np.add(P, total, out=buffer)
            np.divide(buffer, size, out=buffer)
            np.subtract(buffer, y, out=buffer)
            return metric(buffer)

        return scores

    @staticmethod
    def _classes(y, classes, n_columns):
        owner = EnsembleSelection.__name__
        classes = np.unique(y) if classes is None else np.asarray(classes)
        if len(classes) != n_columns:
            raise ValueError(
                f"The 'classes' of {owner}.fit must label the {n_columns} probability columns. "
                f"Got {len(classes)} classes ({list(classes)!r}); pass classes= when the "
                "validation targets do not show every class."
            )
        unknown = np.setdiff1d(y, classes)
        if len(unknown):
            raise ValueError(
                f"The 'y' argument of {owner}.fit holds labels not in classes: {list(unknown)!r}."
            )
        return classes
