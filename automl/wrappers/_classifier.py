"""KerasClassifier: targets of every scikit-learn kind, class weights and probabilities."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from .. import keras
from ._base import BaseWrapper, ScoringMixin, fill_docstring, output_losses, output_shapes
from ._routing import make_loss

__all__ = ["KerasClassifier"]

# Loss families: which output layout and targets each expects.
_BINARY_LOSSES = ("binary_crossentropy", "binary_focal_crossentropy")
_SINGLE_OUTPUT = ("binary", "multiclass", "onehot")


def _loss_family(loss) -> str:
    """"sparse" (integer labels), "binary" (sigmoid units) or "categorical" (one-hot rows)."""
    name = getattr(loss, "function_name", None) or ""
    if name.startswith("sparse_"):
        return "sparse"
    if name in _BINARY_LOSSES:
        return "binary"
    return "categorical"


def _is_class_weight(value) -> bool:
    """None, "balanced" or a dict mapping labels to weights"""
    return value is None or value == "balanced" or isinstance(value, dict)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _normalize_rows(p):
    np.clip(p, 0.0, None, out=p)
    total = p.sum(axis=1, keepdims=True)
    empty = total[:, 0] <= 0
    if empty.any():
        p[empty] = 1.0
        total = p.sum(axis=1, keepdims=True)
    p /= total
    return p


class KerasClassifier(ScoringMixin, ClassifierMixin, BaseWrapper):
    """Scikit-learn classifier around an ``automl.keras`` neural network.

    Every kind of classification target is supported, with the usual
    scikit-learn conventions:

    ========================  ==================================  =======================================
    target (``y``)            built-in network                    ``predict_proba``
    ========================  ==================================  =======================================
    binary                    1 sigmoid unit, binary crossentropy (n, 2)
    multiclass                softmax, sparse categorical CE      (n, n_classes)
    one-hot rows (2-d 0/1,    softmax, categorical CE             (n, n_classes); ``predict`` returns
    one 1 per row)                                                one-hot rows
    multilabel (2-d 0/1)      sigmoid per label, binary CE        (n, n_labels)
    multiclass-multioutput    one softmax output per column       list of (n, n_classes_j)
    ========================  ==================================  =======================================

    Labels may be ints, strings or bools. A user model's output layer(s) and
    compiled loss decide the targets it receives: integer labels for a
    ``sparse_*`` loss, one column for one unit with ``binary_crossentropy``,
    one-hot rows otherwise; a multiclass-multioutput target needs one output
    per column.

    Parameters
    ----------
    %(parameters)s
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes (binary, multiclass and one-hot targets), keyed
        by the original labels (by column index for one-hot targets);
        "balanced" weighs classes inversely to their (sample-weighted)
        frequency. They multiply ``sample_weight``.
    %(kwargs)s

    Attributes
    ----------
    %(fitted)s
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels (one array per column for multiclass-multioutput targets;
        the label indices for multilabel and one-hot targets).
    n_classes_ : int or list of int
        Number of classes (per column for multiclass-multioutput targets).
    n_outputs_ : int
        Number of target columns (1 for binary, multiclass and one-hot targets).
    target_type_ : str
        ``"binary"``, ``"multiclass"``, ``"onehot"``, ``"multilabel"`` or
        ``"multiclass-multioutput"``.
    %(features)s

    See Also
    --------
    KerasRegressor : The regression counterpart.
    build_mlp : The built-in network.

    Notes
    -----
    %(notes)s

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from automl.wrappers import KerasClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = KerasClassifier(hidden_layer_sizes=(16,), epochs=5, random_state=0)
    >>> clf.fit(X, y)
    KerasClassifier(epochs=5, hidden_layer_sizes=(16,), random_state=0)
    >>> clf.classes_
    array([0, 1, 2])
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> clf.history_df_.shape
    (5, 1)

    The classic Keras wrapper style, with a model-building function whose
    arguments become searchable parameters:

    >>> from automl.keras import Sequential
    >>> from automl.keras.layers import Dense, Input
    >>> def create_model(units=8, activation="relu"):
    ...     model = Sequential([Input(shape=(4,)), Dense(units, activation=activation),
    ...                         Dense(3, activation="softmax")])
    ...     model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ...     return model
    >>> clf = KerasClassifier(build_fn=create_model, units=4, epochs=2, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **BaseWrapper._parameter_constraints,
        "class_weight": [_is_class_weight],
    }

    def __init__(
        self,
        model=None,
        *,
        build_fn=None,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        kernel_initializer="glorot_uniform",
        l1=0.0,
        l2=0.0,
        optimizer="adam",
        learning_rate=0.001,
        lr_schedule=None,
        loss=None,
        metrics=None,
        callbacks=None,
        epochs=10,
        batch_size=32,
        validation_split=0.0,
        shuffle=True,
        feature_encoder=None,
        scoring=None,
        verbose=0,
        random_state=None,
        warm_start=False,
        class_weight=None,
        **kwargs,
    ):
        super().__init__(
            model,
            build_fn=build_fn,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            kernel_initializer=kernel_initializer,
            l1=l1,
            l2=l2,
            optimizer=optimizer,
            learning_rate=learning_rate,
            lr_schedule=lr_schedule,
            loss=loss,
            metrics=metrics,
            callbacks=callbacks,
            epochs=epochs,
            batch_size=batch_size,
            validation_split=validation_split,
            shuffle=shuffle,
            feature_encoder=feature_encoder,
            scoring=scoring,
            verbose=verbose,
            random_state=random_state,
            warm_start=warm_start,
            **kwargs,
        )
        self.class_weight = class_weight

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_kwargs):
        """Train for one epoch on ``(X, y)``, building the model on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        classes : array-like of shape (n_classes,), default=None
            All the classes (binary and multiclass targets), needed on the first
            call when a batch may miss some of them; later calls ignore it.
        sample_weight : array-like of shape (n_samples,), default=None
        **fit_kwargs
            As for :meth:`fit`.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, fit_kwargs, partial=True, classes=classes)

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    def _prepare_target(self, y, reset, classes=None):
        y = y.toarray() if sp.issparse(y) else np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if not reset:
            return self._transform_target(y)
        check_classification_targets(y)
        kind = type_of_target(y)
        owner = self._owner()
        self._y_dtype = y.dtype
        if kind == "multilabel-indicator":
            y = y.astype(np.int64) if y.dtype == bool else y
            one_hot = bool(np.all(y.sum(axis=1) == 1))
            self.target_type_ = "onehot" if one_hot else "multilabel"
            self.classes_ = np.arange(y.shape[1])
            self.n_classes_ = y.shape[1]
            self.n_outputs_ = 1 if one_hot else y.shape[1]
            if one_hot:
                return np.argmax(y, axis=1).astype(np.int64)
            return (np.asarray(y) > 0).astype(np.int64)
        if kind == "multiclass-multioutput":
            columns = [np.unique(y[:, j]) for j in range(y.shape[1])]
            for j, cls in enumerate(columns):
                if len(cls) < 2:
                    raise ValueError(
                        f"{owner} needs at least 2 classes in every target column, but column "
                        f"{j} contains only one class: {cls.tolist()[0]!r}."
                    )
            self.target_type_ = kind
            self.classes_ = columns
            self.n_classes_ = [len(c) for c in columns]
            self.n_outputs_ = y.shape[1]
            return np.column_stack(
                [np.searchsorted(c, y[:, j]) for j, c in enumerate(columns)]
            ).astype(np.int64)
        # binary or multiclass
        if classes is not None:
            labels = np.unique(np.asarray(classes))
            unseen = np.setdiff1d(np.unique(y), labels)
            if len(unseen):
                raise ValueError(
                    f"y contains labels not in 'classes' of {owner}.partial_fit: "
                    f"{unseen.tolist()[:5]}."
                )
        else:
            labels = np.unique(y)
        if len(labels) < 2:
            raise ValueError(
                f"{owner} needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {labels.tolist()[0]!r}."
            )
        self.target_type_ = "binary" if len(labels) == 2 else "multiclass"
        self.classes_ = labels
        self.n_classes_ = len(labels)
        self.n_outputs_ = 1
        return np.searchsorted(labels, y).astype(np.int64)

    def _transform_target(self, y):
        """Codes of ``y`` under the encoding fitted by the first ``fit``."""
        y = y.toarray() if sp.issparse(y) else np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        kind = self.target_type_
        owner = self._owner()
        if kind in ("onehot", "multilabel"):
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y must have {len(self.classes_)} columns like the {kind} targets "
                    f"{owner} was fitted on. Got shape {y.shape}."
                )
            return np.argmax(y, axis=1).astype(np.int64) if kind == "onehot" else (
                (y > 0).astype(np.int64))
        if kind == "multiclass-multioutput":
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y must have {len(self.classes_)} columns like the targets {owner} was "
                    f"fitted on. Got shape {y.shape}."
                )
            return np.column_stack(
                [self._codes(y[:, j], c) for j, c in enumerate(self.classes_)]
            ).astype(np.int64)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-d like the targets {owner} was fitted on. Got {y.shape}.")
        return self._codes(y, self.classes_)

    def _codes(self, y, classes):
        known = np.isin(y, classes)
        if not known.all():
            unseen = list(dict.fromkeys(y[~known].tolist()))[:5]
            raise ValueError(
                f"y contains labels not seen in the training data of {self._owner()}: "
                f"{unseen}. Known classes are {np.asarray(classes).tolist()}."
            )
        return np.searchsorted(classes, y).astype(np.int64)

    def _target_meta(self) -> dict:
        return {
            "target_type_": self.target_type_,
            "classes_": self.classes_,
            "n_classes_": self.n_classes_,
            "n_outputs_": self.n_outputs_,
        }

    def _stratify_codes(self, y_codes):
        return y_codes if self.target_type_ in _SINGLE_OUTPUT else None

    def _check_weighted_target(self, y_codes, first):
        if first and self.target_type_ in _SINGLE_OUTPUT and len(np.unique(y_codes)) < 2:
            label = self.classes_[int(y_codes[0])]
            raise ValueError(
                f"{self._owner()} needs samples of at least 2 classes with a positive weight, "
                f"but only class {label!r} has any (after sample_weight and class_weight)."
            )

    def _row_weights(self, y_codes, sw, class_weight):
        cw = self.class_weight if class_weight is None else class_weight
        if cw is None:
            return sw
        owner = self._owner()
        if not _is_class_weight(cw):
            raise ValueError(
                f"The 'class_weight' parameter of {owner} must be None, 'balanced' or a dict. "
                f"Got {cw!r} instead."
            )
        if self.target_type_ not in _SINGLE_OUTPUT:
            raise ValueError(
                f"{owner} supports class_weight for binary, multiclass and one-hot targets "
                f"only, not {self.target_type_} targets; use sample_weight instead."
            )
        base = np.ones(len(y_codes)) if sw is None else sw
        k = len(self.classes_)
        if isinstance(cw, str):
            per_class = np.bincount(y_codes, weights=base, minlength=k)
            present = per_class > 0
            factor = np.ones(k)
            factor[present] = per_class.sum() / (present.sum() * per_class[present])
        else:
            labels = list(cw)
            codes = self._codes(np.asarray(labels), self.classes_) if labels else []
            factor = np.ones(k)
            for code, label in zip(codes, labels):
                factor[code] = float(cw[label])
            if (factor < 0).any() or not np.isfinite(factor).all():
                raise ValueError(f"The class weights of {owner} must be finite and non-negative.")
        return base * factor[y_codes]

    # ------------------------------------------------------------------
    # Network heads and target encodings
    # ------------------------------------------------------------------
    def _user_loss(self):
        if self.loss is None:
            return None

        return keras.losses._get_loss_instance(make_loss(self.loss, self._routed("loss"), self._owner()))

    def _default_head(self) -> tuple:
        loss = self._user_loss()
        if loss is None and self._routed("loss"):
            default = "binary_crossentropy" if self.target_type_ == "binary" else (
                "sparse_categorical_crossentropy")
            loss = keras.losses._get_loss_instance(make_loss(default, self._routed("loss"), self._owner()))
        family = None if loss is None else _loss_family(loss)
        logits = bool(getattr(loss, "from_logits", False))

        def act(name):
            return "linear" if logits else name

        kind = self.target_type_
        if kind == "binary":
            if family in (None, "binary"):
                return 1, act("sigmoid")
            return 2, act("softmax")
        if kind in ("multiclass", "onehot"):
            return self.n_classes_, act("sigmoid" if family == "binary" else "softmax")
        if kind == "multilabel":
            return self.n_outputs_, act("sigmoid")
        return list(self.n_classes_), [act("softmax")] * self.n_outputs_

    def _default_losses(self, model) -> list:
        kind = self.target_type_
        shapes = output_shapes(model)
        if kind == "multilabel":
            return ["binary_crossentropy"] * len(shapes)
        if kind == "onehot":
            return ["categorical_crossentropy"]
        out = []
        for shape in shapes:
            out.append("binary_crossentropy" if shape[-1] == 1 else
                       "sparse_categorical_crossentropy")
        return out

    def _encoding_for(self, model):
        """One ``(columns, encoding, n_classes)`` per model output.

        ``columns`` is None (the whole target) or the target column the output
        predicts; ``encoding`` is "sparse", "onehot", "binary" or "indicator".
        Raises a ValueError when the outputs cannot represent the target.
        """
        shapes = output_shapes(model)
        losses = output_losses(model)
        kind = self.target_type_

        def single(shape, loss, k):
            units = shape[-1] if len(shape) == 2 else None
            family = _loss_family(loss)
            if family == "sparse":
                return "sparse" if units == k else None
            if units == 1 and k == 2:
                return "binary"
            return "onehot" if units == k else None

        encodings = None
        if kind in _SINGLE_OUTPUT and len(shapes) == 1:
            enc = single(shapes[0], losses[0], self.n_classes_)
            encodings = None if enc is None else [(None, enc, self.n_classes_)]
        elif kind == "multilabel":
            if len(shapes) == 1 and len(shapes[0]) == 2 and shapes[0][-1] == self.n_outputs_:
                encodings = [(None, "indicator", self.n_outputs_)]
            elif len(shapes) == self.n_outputs_:
                encs = [single(s, loss, 2) for s, loss in zip(shapes, losses)]
                if None not in encs:
                    encodings = [(j, e, 2) for j, e in enumerate(encs)]
        elif kind == "multiclass-multioutput" and len(shapes) == self.n_outputs_:
            encs = [single(s, loss, k) for s, loss, k in zip(shapes, losses, self.n_classes_)]
            if None not in encs:
                encodings = [(j, e, k) for j, (e, k) in enumerate(zip(encs, self.n_classes_))]
        if encodings is None:
            names = [getattr(loss, "function_name", None) for loss in losses]
            shape_text = shapes[0] if len(shapes) == 1 else shapes
            loss_text = names[0] if len(names) == 1 else names
            raise ValueError(
                f"The output layer of the model does not fit the labels of {self._owner()}: "
                f"the model output shape is {shape_text} with loss {loss_text!r}, but y is "
                f"{self._target_description()}. Expected {self._expected_outputs()}."
            )
        return encodings

    def _target_description(self) -> str:
        kind = self.target_type_
        if kind in _SINGLE_OUTPUT:
            return f"{kind} with {self.n_classes_} classes {np.asarray(self.classes_).tolist()[:10]}"
        if kind == "multilabel":
            return f"multilabel with {self.n_outputs_} labels"
        return f"multiclass-multioutput with {self.n_outputs_} columns of {self.n_classes_} classes"

    def _expected_outputs(self) -> str:
        kind = self.target_type_
        if kind in _SINGLE_OUTPUT:
            n = self.n_classes_
            return (f"an output shape of (None, 1) or (None, {n})" if n == 2
                    else f"an output shape of (None, {n})")
        if kind == "multilabel":
            return (f"an output shape of (None, {self.n_outputs_}) or {self.n_outputs_} outputs "
                    "of shape (None, 1)")
        return f"{self.n_outputs_} outputs of shapes {[(None, k) for k in self.n_classes_]}"

    def _encode_target(self, y_codes):
        arrays = []
        for column, encoding, k in self._target_encoding:
            codes = y_codes if column is None else y_codes[:, column]
            if encoding == "sparse":
                arrays.append(np.asarray(codes, dtype=np.int64))
            elif encoding == "onehot":
                arrays.append(np.eye(k, dtype=np.float32)[codes])
            elif encoding == "binary":
                arrays.append(np.asarray(codes, dtype=np.float32).reshape(-1, 1))
            else:
                arrays.append(np.asarray(codes, dtype=np.float32))
        return arrays[0] if len(arrays) == 1 else arrays

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _output_probabilities(self, X) -> list[np.ndarray]:
        """Per model output: (n, k) class probabilities, or (n, L) label probabilities."""
        raws = self._predict_raw(X)
        losses = output_losses(self.model_)
        probs = []
        for raw, loss, (_, encoding, _k) in zip(raws, losses, self._target_encoding):
            logits = bool(getattr(loss, "from_logits", False))
            if encoding in ("binary", "indicator"):
                p = _sigmoid(raw) if logits else np.clip(raw, 0.0, 1.0)
                probs.append(np.hstack([1.0 - p, p]) if encoding == "binary" else p)
            else:
                probs.append(_normalize_rows(_softmax(raw) if logits else raw))
        return probs

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), or list of such arrays
            For binary, multiclass and one-hot targets: the probability of each
            class in the order of ``classes_`` (rows sum to 1; with one sigmoid
            unit the columns are ``1 - p`` and ``p``). For multilabel targets:
            the probability of each label, shape (n_samples, n_labels). For
            multiclass-multioutput targets: one such array per column.
        """
        check_is_fitted(self)
        probs = self._output_probabilities(X)
        kind = self.target_type_
        if kind == "multilabel":
            if len(probs) == 1:
                return probs[0]
            return np.column_stack([p[:, 1] for p in probs])
        if kind == "multiclass-multioutput":
            return probs
        return probs[0]

    def decision_function(self, X):
        """Log-odds of the predicted probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Binary targets: ``log(p1) - log(p0)`` (positive where class
            ``classes_[1]`` is predicted). Multiclass and one-hot targets:
            ``log(p)`` per class. Multilabel targets: the log-odds of each label.
            Infinite where a probability is exactly 0 or 1.

        Raises
        ------
        ValueError
            For multiclass-multioutput targets, which have no decision function.
        """
        check_is_fitted(self)
        kind = self.target_type_
        if kind == "multiclass-multioutput":
            raise ValueError(
                f"{self._owner()}.decision_function is not defined for multiclass-multioutput "
                "targets; use predict_proba."
            )
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            if kind == "multilabel":
                return np.log(proba) - np.log1p(-proba)
            log_p = np.log(proba)
        if kind == "binary":
            return log_p[:, 1] - log_p[:, 0]
        return log_p

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Labels in the original space: the most probable class (binary,
            multiclass), one-hot rows (one-hot targets), 0/1 per label above 0.5
            (multilabel), or the most probable class of each column.
        """
        check_is_fitted(self)
        proba = self.predict_proba(X)
        kind = self.target_type_
        if kind in ("binary", "multiclass"):
            return self.classes_[np.argmax(proba, axis=1)]
        if kind == "onehot":
            out = np.zeros(proba.shape, dtype=self._y_dtype)
            out[np.arange(len(proba)), np.argmax(proba, axis=1)] = 1
            return out
        if kind == "multilabel":
            return (proba > 0.5).astype(self._y_dtype)
        return np.column_stack(
            [c[np.argmax(p, axis=1)] for c, p in zip(self.classes_, proba)]
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


KerasClassifier.__doc__ = fill_docstring(KerasClassifier.__doc__)
