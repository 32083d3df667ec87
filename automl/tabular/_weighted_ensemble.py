"""WeightedEnsemble: the fitted estimator that averages an ensemble's members."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["WeightedEnsemble"]


def _kind(estimators) -> str | None:
    """'classifier' or 'regressor' when every member is one, else None."""
    try:
        members = list(estimators)
    except TypeError:
        return None
    if members and all(is_classifier(e) for e in members):
        return "classifier"
    if members and all(is_regressor(e) for e in members):
        return "regressor"
    return None


def _classifier_members(self) -> bool:
    return _kind(self.estimators) == "classifier"


class WeightedEnsemble(BaseEstimator):
    """A weighted average of classifiers' probabilities or regressors' predictions.

    The model an ensemble selection returns (see :class:`EnsembleSelection`),
    as a scikit-learn estimator: it can end a
    :class:`~sklearn.pipeline.Pipeline`, be cloned, pickled and scored.
    Classifiers' ``predict_proba`` columns are aligned on the union of their
    ``classes_`` before averaging (a member that never saw a class gives it
    probability 0), and ``predict`` is the class of highest average probability.

    ``fit`` fits a clone of every member. To keep members already trained (the
    trials of a search), wrap them in :class:`sklearn.frozen.FrozenEstimator`:
    their ``fit`` does nothing, so ``fit`` only records ``classes_`` and the
    weights.

    Parameters
    ----------
    estimators : list of estimators
        The members: all classifiers (with ``predict_proba``) or all regressors.
        A member may appear once with its total weight.
    weights : array-like of shape (n_estimators,), default=None
        Non-negative weights, not all zero (normalized to sum to 1); ``None``
        weighs members equally.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    weights_ : ndarray of shape (n_estimators,)
        The normalized weights.
    classes_ : ndarray of shape (n_classes,)
        Classifiers: the sorted union of the members' classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from automl.tabular import WeightedEnsemble
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array(["no", "no", "yes", "yes"])
    >>> members = [LogisticRegression().fit(X, y), DecisionTreeClassifier().fit(X, y)]
    >>> ens = WeightedEnsemble([FrozenEstimator(m) for m in members], [0.75, 0.25])
    >>> ens = ens.fit(X, y)  # members kept as trained
    >>> ens.classes_
    array(['no', 'yes'], dtype='<U3')
    >>> ens.predict(X)
    array(['no', 'no', 'yes', 'yes'], dtype='<U3')
    >>> print(ens.predict_proba(X).sum(axis=1))
    [1. 1. 1. 1.]
    """

    def __init__(self, estimators, weights=None):
        self.estimators = estimators
        self.weights = weights

    def fit(self, X, y, **fit_params):
        """Fit a clone of every member on ``(X, y)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        **fit_params : dict
            Passed to every member's ``fit``.

        Returns
        -------
        self : WeightedEnsemble
        """
        owner = type(self).__name__
        members = list(self.estimators) if not isinstance(self.estimators, str) else []
        if not members:
            raise ValueError(
                f"The 'estimators' parameter of {owner} must be a non-empty list of "
                f"estimators. Got {self.estimators!r} instead."
            )
        kind = _kind(members)
        if kind is None:
            raise ValueError(
                f"The 'estimators' parameter of {owner} must hold only classifiers or only "
                f"regressors. Got {[type(e).__name__ for e in members]!r} instead."
            )
        if kind == "classifier":
            missing = [type(e).__name__ for e in members if not hasattr(e, "predict_proba")]
            if missing:
                raise ValueError(
                    f"The classifiers of {owner} must have predict_proba. "
                    f"Got {missing!r} without it."
                )
        self.weights_ = self._normalized_weights(len(members))
        self.estimators_ = [clone(e).fit(X, y, **fit_params) for e in members]
        if kind == "classifier":
            self.classes_ = np.unique(np.concatenate([e.classes_ for e in self.estimators_]))
        first = self.estimators_[0]
        for attribute in ("n_features_in_", "feature_names_in_"):
            if hasattr(first, attribute):
                setattr(self, attribute, getattr(first, attribute))
        return self

    def predict(self, X):
        """Class of highest average probability, or the weighted average prediction.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimators_")
        if hasattr(self, "classes_"):
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        out = None
        for weight, member in zip(self.weights_, self.estimators_):
            if weight == 0:
                continue
            pred = np.asarray(member.predict(X), dtype=np.float64) * weight
            out = pred if out is None else out + pred
        return out

    @available_if(_classifier_members)
    def predict_proba(self, X):
        """Weighted average of the members' probabilities, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimators_")
        out = None
        for weight, member in zip(self.weights_, self.estimators_):
            if weight == 0:
                continue
            proba = np.asarray(member.predict_proba(X), dtype=np.float64)
            if out is None:
                out = np.zeros((proba.shape[0], len(self.classes_)))
            columns = np.searchsorted(self.classes_, member.classes_)
            out[:, columns] += weight * proba
        return out

    def score(self, X, y, sample_weight=None):
        """Accuracy for classifiers, r² for regressors.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        metric = accuracy_score if hasattr(self, "classes_") else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        kind = _kind(self.estimators)
        if kind == "classifier":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        elif kind == "regressor":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        return tags

    def _normalized_weights(self, n: int) -> np.ndarray:
        owner = type(self).__name__
        if self.weights is None:
            return np.full(n, 1.0 / n)
        try:
            w = np.asarray(self.weights, dtype=np.float64)
        except (TypeError, ValueError):
            w = None
        if (
            w is None
            or w.shape != (n,)
            or not np.isfinite(w).all()
            or (w < 0).any()
            or w.sum() <= 0
        ):
            raise ValueError(
                f"The 'weights' parameter of {owner} must be {n} non-negative numbers, not all "
                f"zero (one per estimator). Got {self.weights!r} instead."
            )
        return w / w.sum()
