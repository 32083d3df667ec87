"""Exporting a fitted scikit-learn pipeline that ends in a Keras wrapper to one ONNX file.

The exported graph takes raw feature rows (float32 ``[N, n_features]``,
input ``features``). Its first nodes are the pipeline's preprocessing,
written from the fitted statistics of each step; then comes the network
(:func:`automl.keras.export.to_onnx`, joined with ``onnx.compose``); then the
wrapper's own post-processing: a classifier outputs ``probabilities`` (as
``predict_proba``) and ``label`` (as ``predict``), a regressor outputs
``predictions`` in the original units of ``y`` (a ``TransformedTargetRegressor``
around the wrapper has its linear target scaling folded in).

Supported steps: StandardScaler, MinMaxScaler, RobustScaler, MaxAbsScaler,
Normalizer, SimpleImputer (numeric, with ``add_indicator``), OneHotEncoder
(numeric categories, infrequent categories, ``drop``; unknown categories give
all-zero columns, as ``handle_unknown="ignore"``, or the infrequent column),
OrdinalEncoder and TargetEncoder (numeric categories), feature selectors
(``get_support``), ColumnTransformer over those (columns by index, boolean
mask, slice, or name when fitted on a DataFrame; remainder dropped or passed
through), FunctionTransformer without a function, nested Pipelines and
``"passthrough"``. Any other step raises a ValueError naming it. A graph
cannot raise: where scikit-learn would refuse an unknown category
(``handle_unknown="error"``), the exported graph encodes it as unknown.
"""

from __future__ import annotations

import os

import numpy as np

from ._base import output_losses

__all__ = ["export_pipeline", "pipeline_to_onnx"]

_OPSET = 17
_IR_VERSION = 8
_INPUT = "features"


def _import_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            'Exporting to ONNX needs the onnx package: pip install "automl[onnx]" (or pip install onnx). '
            f"({error})"
        ) from error
    return onnx


class _Nodes:
    """Nodes and initializers of one small graph; ``op`` returns the output name."""

    def __init__(self, onnx, prefix):
        self.onnx, self.prefix = onnx, prefix
        self.nodes, self.initializers = [], []
        self._count = 0

    def name(self, base):
        self._count += 1
        return f"{self.prefix}{base}_{self._count}"

    def const(self, value, base="c", dtype=np.float32):
        name = self.name(base)
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def ints(self, values, base="i"):
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), base, np.int64)

    def op(self, op_type, inputs, base=None, out=None, **attrs):
        """Add a node; its output is ``out`` if given, else a fresh name from ``base``."""
        out = out or self.name(base or op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    def model(self, inputs, outputs, name):
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(graph, producer_name="automl", opset_imports=[helper.make_opsetid("", _OPSET)])
        model.ir_version = _IR_VERSION
        return model


def _step_name(name, step):
    return f"step {name!r} ({type(step).__name__})"


def _unsupported(name, step, why=None):
    detail = f": {why}" if why else ""
    return ValueError(
        f"Cannot export {_step_name(name, step)} of the pipeline to ONNX{detail}. Supported steps: "
        "StandardScaler, MinMaxScaler, RobustScaler, MaxAbsScaler, Normalizer, SimpleImputer, OneHotEncoder, "
        "OrdinalEncoder, TargetEncoder, feature selectors, ColumnTransformer, FunctionTransformer(func=None), "
        "Pipeline and 'passthrough'."
    )


# -- preprocessing steps: (nodes, x, width, name, step) -> (tensor, width) ---------------------
def _transform(g, x, width, name, step):
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_selection import SelectorMixin
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        Normalizer,
        OneHotEncoder,
        OrdinalEncoder,
        RobustScaler,
        StandardScaler,
        TargetEncoder,
    )

    if step is None or (isinstance(step, str) and step == "passthrough"):
        return x, width
    kind = type(step)
    if kind is Pipeline:
        for sub_name, sub in step.steps:
            x, width = _transform(g, x, width, sub_name, sub)
        return x, width
    if kind is StandardScaler:
        if step.with_mean and step.mean_ is not None:
            x = g.op("Sub", [x, g.const(step.mean_, "mean")])
        if step.with_std and step.scale_ is not None:
            x = g.op("Div", [x, g.const(step.scale_, "scale")])
        return x, width
    if kind is MinMaxScaler:
        x = g.op("Add", [g.op("Mul", [x, g.const(step.scale_, "scale")]), g.const(step.min_, "min")])
        if step.clip:
            lo, hi = step.feature_range
            x = g.op("Clip", [x, g.const(lo), g.const(hi)])
        return x, width
    if kind is RobustScaler:
        if step.center_ is not None:
            x = g.op("Sub", [x, g.const(step.center_, "center")])
        if step.scale_ is not None:
            x = g.op("Div", [x, g.const(step.scale_, "scale")])
        return x, width
    if kind is MaxAbsScaler:
        return g.op("Div", [x, g.const(step.scale_, "scale")]), width
    if kind is SimpleImputer:
        return _imputer(g, x, width, name, step)
    if kind is OneHotEncoder:
        return _one_hot(g, x, width, name, step)
    if kind is OrdinalEncoder:
        return _ordinal(g, x, width, name, step)
    if kind is TargetEncoder:
        return _target_encoder(g, x, width, name, step)
    if kind is Normalizer:
        return _normalizer(g, x, step), width
    if isinstance(step, SelectorMixin):
        keep = np.flatnonzero(step.get_support())
        if not len(keep):
            raise _unsupported(name, step, "it keeps no feature")
        return g.op("Gather", [x, g.ints(keep, "selected")], axis=1), len(keep)
    if kind is ColumnTransformer:
        return _column_transformer(g, x, width, name, step)
    if kind is FunctionTransformer:
        if step.func is not None:
            raise _unsupported(name, step, "a FunctionTransformer with a function cannot be written as ONNX nodes")
        return x, width
    raise _unsupported(name, step)


def _normalizer(g, x, step):
    """Rows scaled to unit l1 / l2 / max norm (zero rows stay zero, as sklearn)."""
    if step.norm == "l1":
        norm = g.op("ReduceSum", [g.op("Abs", [x]), g.ints([1])], keepdims=1)
    elif step.norm == "l2":
        norm = g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [x, x]), g.ints([1])], keepdims=1)])
    else:
        norm = g.op("ReduceMax", [g.op("Abs", [x])], axes=[1], keepdims=1)
    safe = g.op("Where", [g.op("Equal", [norm, g.const(0.0)]), g.const(1.0), norm])
    return g.op("Div", [x, safe])


def _missing_mask(g, x, missing):
    if isinstance(missing, float) and np.isnan(missing):
        return g.op("IsNaN", [x])
    if missing is None or isinstance(missing, str) or not np.isscalar(missing):
        return None
    return g.op("Equal", [x, g.const(missing)])


def _imputer(g, x, width, name, step):
    stats = np.asarray(step.statistics_, dtype=np.float64)
    if stats.dtype.kind not in "fiu":
        raise _unsupported(name, step, "only numeric imputation is exported")
    mask = _missing_mask(g, x, step.missing_values)
    if mask is None:
        raise _unsupported(name, step, f"missing_values={step.missing_values!r} is not numeric")
    filled = g.op("Where", [mask, g.const(np.nan_to_num(stats, nan=0.0), "statistics"), x])
    keep = np.flatnonzero(~np.isnan(stats)) if not getattr(step, "keep_empty_features", False) else None
    out, out_width = filled, width
    if keep is not None and len(keep) < width:
        out = g.op("Gather", [filled, g.ints(keep, "kept")], axis=1)
        out_width = len(keep)
    if step.add_indicator:
        features = np.asarray(step.indicator_.features_)
        if len(features):
            picked = g.op("Gather", [mask, g.ints(features, "indicator")], axis=1)
            indicator = g.op("Cast", [picked], to=g.onnx.TensorProto.FLOAT)
            out = g.op("Concat", [out, indicator], axis=1)
            out_width += len(features)
    return out, out_width


def _numeric_categories(name, step, j, cats):
    cats = np.asarray(cats)
    if cats.dtype.kind not in "fiub":
        raise _unsupported(name, step, f"feature {j} has non-numeric categories")
    return cats.astype(np.float64)


def _category_hits(g, x, j, cats):
    """``(N, len(cats))`` float32: 1 where column ``j`` equals each category (NaN matches a NaN category)."""
    column = g.op("Gather", [x, g.ints([j], "column")], axis=1)  # (N, 1)
    finite = cats[~np.isnan(cats)]
    hits = g.op("Equal", [column, g.const(finite.reshape(1, -1), "categories")])
    if len(finite) < len(cats):  # sklearn sorts NaN last among the categories
        hits = g.op("Concat", [hits, g.op("IsNaN", [column])], axis=1)
    return g.op("Cast", [hits], to=g.onnx.TensorProto.FLOAT)


def _one_hot(g, x, width, name, step):
    infrequent = getattr(step, "infrequent_categories_", None)
    drop = getattr(step, "drop_idx_", None)
    if infrequent is not None and drop is not None:
        raise _unsupported(name, step, "drop together with infrequent categories is not exported")
    unknown_to_infrequent = step.handle_unknown == "infrequent_if_exist"
    parts, out_width = [], 0
    for j, cats in enumerate(step.categories_):
        cats = _numeric_categories(name, step, j, cats)
        rare = None if infrequent is None else infrequent[j]
        if drop is not None and drop[j] is not None:
            cats = np.delete(cats, int(drop[j]))
        if rare is not None:
            rare = np.asarray(rare, dtype=np.float64)
            is_rare = np.isin(cats, rare) | (np.isnan(cats) & np.isnan(rare).any())
            frequent = cats[~is_rare]
        else:
            frequent = cats
        if len(frequent):
            parts.append(_category_hits(g, x, j, frequent))
            out_width += len(frequent)
        if rare is not None:  # one last column for the infrequent (and, if asked, unknown) categories
            if unknown_to_infrequent and len(frequent):  # whatever is not a frequent category
                known = g.op("ReduceMax", [parts[-1]], axes=[1], keepdims=1)
                column = g.op("Sub", [g.const(1.0), known])
            elif unknown_to_infrequent:  # every category is infrequent: all ones
                shape = g.op("Shape", [g.op("Gather", [x, g.ints([j])], axis=1)])
                column = g.op("Expand", [g.const(np.ones((1, 1))), shape])
            else:
                column = g.op("ReduceMax", [_category_hits(g, x, j, rare)], axes=[1], keepdims=1)
            parts.append(column)
            out_width += 1
    if not parts:
        raise _unsupported(name, step, "it outputs no column")
    return (parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)), out_width


def _ordinal(g, x, width, name, step):
    """Category ``k`` of feature ``j`` -> ``k``; unknown -> ``unknown_value``; NaN -> ``encoded_missing_value``."""
    if getattr(step, "infrequent_categories_", None) is not None:
        raise _unsupported(name, step, "infrequent categories are not exported")
    unknown = step.unknown_value if step.handle_unknown == "use_encoded_value" else np.nan
    parts = []
    for j, cats in enumerate(step.categories_):
        cats = _numeric_categories(name, step, j, cats)
        finite = cats[~np.isnan(cats)]
        hits = _category_hits(g, x, j, finite)  # (N, k)
        code = g.op("MatMul", [hits, g.const(np.arange(len(finite)).reshape(-1, 1), "codes")])
        known = g.op("Cast", [g.op("ReduceMax", [hits], axes=[1], keepdims=1)], to=g.onnx.TensorProto.BOOL)
        code = g.op("Where", [known, code, g.const(unknown)])
        if len(finite) < len(cats):  # NaN is a category: its code is encoded_missing_value
            column = g.op("Gather", [x, g.ints([j])], axis=1)
            code = g.op("Where", [g.op("IsNaN", [column]), g.const(step.encoded_missing_value), code])
        parts.append(code)
    return (parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)), len(parts)


def _target_encoder(g, x, width, name, step):
    """Each category's fitted encoding (one column per feature, per class for multiclass); unknown -> the mean."""
    n_features = len(step.categories_)
    per_feature = len(step.encodings_) // n_features
    means = np.atleast_1d(np.asarray(step.target_mean_, dtype=np.float64))
    parts = []
    for j, cats in enumerate(step.categories_):
        cats = _numeric_categories(name, step, j, cats)
        hits = _category_hits(g, x, j, cats)  # a NaN category matches NaN
        table = np.column_stack([step.encodings_[j * per_feature + c] for c in range(per_feature)])
        encoded = g.op("MatMul", [hits, g.const(table, "encodings")])
        unknown = g.op("Sub", [g.const(1.0), g.op("ReduceMax", [hits], axes=[1], keepdims=1)])
        parts.append(g.op("Add", [encoded, g.op("Mul", [unknown, g.const(means.reshape(1, -1), "mean")])]))
    out = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)
    return out, n_features * per_feature


def _column_indices(ct, columns, width, name):
    if isinstance(columns, slice):
        return list(range(width))[columns]
    cols = np.asarray(columns if not np.isscalar(columns) else [columns])
    if cols.dtype == bool:
        return np.flatnonzero(cols).tolist()
    if cols.dtype.kind in "iu":
        return [int(c) % width for c in cols]
    names = getattr(ct, "feature_names_in_", None)
    if names is not None and cols.dtype.kind in "UO":
        lookup = {str(n): i for i, n in enumerate(names)}
        if all(str(c) in lookup for c in cols):
            return [lookup[str(c)] for c in cols]
    raise _unsupported(name, ct, f"columns {columns!r} are not integer indices, a mask, a slice or known names")


def _column_transformer(g, x, width, name, ct):
    parts, out_width = [], 0
    for sub_name, trans, columns in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        idx = _column_indices(ct, columns, width, name)
        if not idx:
            continue
        sub = g.op("Gather", [x, g.ints(idx, "columns")], axis=1)
        sub, sub_width = _transform(g, sub, len(idx), sub_name, trans)
        parts.append(sub)
        out_width += sub_width
    if not parts:
        raise _unsupported(name, ct, "it outputs no column")
    return (parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)), out_width


# -- the final estimator -------------------------------------------------------
def _split(estimator):
    """(preprocessing steps [(name, step)], wrapper, target transformer or None)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline

    from ._base import BaseWrapper

    steps = []
    if isinstance(estimator, Pipeline):
        steps = list(estimator.steps[:-1])
        estimator = estimator.steps[-1][1]
    target = None
    if isinstance(estimator, TransformedTargetRegressor):
        if not hasattr(estimator, "regressor_"):
            raise ValueError("The TransformedTargetRegressor to export is not fitted: call fit first.")
        target = estimator
        estimator = estimator.regressor_
    if not isinstance(estimator, BaseWrapper):
        raise TypeError(
            "The 'pipeline_or_estimator' argument of export_pipeline must be a fitted KerasClassifier or "
            "KerasRegressor, or a Pipeline ending in one. "
            f"Got a final step of type {type(estimator).__name__} instead."
        )
    if not hasattr(estimator, "model_"):
        raise ValueError(f"The {type(estimator).__name__} to export is not fitted: call fit first.")
    if getattr(estimator, "feature_encoder", None) is not None:
        raise ValueError(f"Cannot export {type(estimator).__name__} with a feature_encoder to ONNX: "
                         "the encoder is Python code.")
    return steps, estimator, target


def _target_inverse(g, y, ttr):
    """Nodes of ``ttr``'s inverse target transform (linear scalers only)."""
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

    if ttr.func is not None or ttr.inverse_func is not None:
        raise ValueError("Cannot export a TransformedTargetRegressor with func/inverse_func to ONNX.")
    t = ttr.transformer_
    kind = type(t).__name__
    if type(t) is StandardScaler:
        if t.with_std and t.scale_ is not None:
            y = g.op("Mul", [y, g.const(t.scale_)])
        return g.op("Add", [y, g.const(t.mean_)]) if (t.with_mean and t.mean_ is not None) else y
    if type(t) is MinMaxScaler:
        return g.op("Div", [g.op("Sub", [y, g.const(t.min_)]), g.const(t.scale_)])
    if type(t) is RobustScaler:
        if t.scale_ is not None:
            y = g.op("Mul", [y, g.const(t.scale_)])
        return g.op("Add", [y, g.const(t.center_)]) if t.center_ is not None else y
    if type(t) is MaxAbsScaler:
        return g.op("Mul", [y, g.const(t.scale_)])
    if kind == "FunctionTransformer" and t.func is None and t.inverse_func is None:
        return y
    raise ValueError(f"Cannot export the target transformer {kind} of TransformedTargetRegressor to ONNX.")


def _classifier_outputs(g, onnx, wrapper, raws):
    if len(raws) != 1 or wrapper.target_type_ not in ("binary", "multiclass", "onehot", "multilabel"):
        raise ValueError(
            f"Cannot export a KerasClassifier with target type {wrapper.target_type_!r} and "
            f"{len(raws)} model output(s) to ONNX: one output of binary, multiclass, one-hot or "
            "multilabel targets is supported."
        )
    raw = raws[0]
    loss = output_losses(wrapper.model_)[0]
    logits = bool(getattr(loss, "from_logits", False))
    _, encoding, _ = wrapper._target_encoding[0]
    if encoding in ("binary", "indicator"):
        p = g.op("Sigmoid", [raw]) if logits else g.op("Clip", [raw, g.const(0.0), g.const(1.0)])
        if encoding == "binary":
            p = g.op("Concat", [g.op("Sub", [g.const(1.0), p]), p], axis=1)
    elif logits:
        p = g.op("Softmax", [raw], axis=1)
    else:  # the wrapper's row normalization: clip at 0, rows of zeros become uniform
        clipped = g.op("Max", [raw, g.const(0.0)])
        total = g.op("ReduceSum", [clipped, g.ints([1])], keepdims=1)
        empty = g.op("LessOrEqual", [total, g.const(0.0)])
        safe = g.op("Where", [empty, g.const(1.0), clipped])
        p = g.op("Div", [safe, g.op("ReduceSum", [safe, g.ints([1])], keepdims=1)])
    tp = onnx.TensorProto
    if wrapper.target_type_ == "multilabel":
        label = g.op("Cast", [g.op("Greater", [p, g.const(0.5)])], to=tp.INT64)
        return p, label, tp.INT64, ["batch", _n_classes(wrapper)]
    index = g.op("ArgMax", [p], axis=1, keepdims=0)
    if wrapper.target_type_ == "onehot":
        depth = g.ints([wrapper.n_classes_])
        label = g.op("OneHot", [index, depth, g.ints([0, 1])], axis=-1)
        return p, label, tp.INT64, ["batch", wrapper.n_classes_]
    classes = np.asarray(wrapper.classes_)
    if classes.dtype.kind in "iub":
        label = g.op("Gather", [g.const(classes, "classes", np.int64), index], axis=0)
        return p, label, tp.INT64, ["batch"]
    if classes.dtype.kind == "f":
        label = g.op("Gather", [g.const(classes, "classes", np.float32), index], axis=0)
        return p, label, tp.FLOAT, ["batch"]
    if classes.dtype.kind in "UO" and all(isinstance(c, str) for c in classes):
        names = g.name("classes")
        g.initializers.append(onnx.helper.make_tensor(names, tp.STRING, [len(classes)],
                                                      [c.encode("utf-8") for c in classes]))
        return p, g.op("Gather", [names, index], axis=0), tp.STRING, ["batch"]
    return p, index, tp.INT64, ["batch"]


def _n_classes(wrapper):
    return int(wrapper.n_classes_) if np.isscalar(wrapper.n_classes_) else None


def pipeline_to_onnx(pipeline_or_estimator):
    """The ``onnx.ModelProto`` of a fitted pipeline ending in a Keras wrapper (see :func:`export_pipeline`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from automl.wrappers import KerasRegressor, pipeline_to_onnx
    >>> X = np.random.default_rng(0).normal(size=(40, 2)); y = X.sum(axis=1)
    >>> pipe = make_pipeline(MinMaxScaler(), KerasRegressor(hidden_layer_sizes=(4,), epochs=1,
    ...                                                     random_state=0)).fit(X, y)
    >>> proto = pipeline_to_onnx(pipe)
    >>> [i.name for i in proto.graph.input], [o.name for o in proto.graph.output]
    (['features'], ['predictions'])
    """
    onnx = _import_onnx()
    from onnx import compose

    from ..keras.export import to_onnx

    steps, wrapper, target = _split(pipeline_or_estimator)
    fitted = [s for _, s in steps if not (s is None or isinstance(s, str))] + [wrapper]
    n_features = getattr(fitted[0], "n_features_in_", None)
    if n_features is None:
        raise ValueError("Cannot tell the number of input features of the pipeline (n_features_in_).")
    helper, tp = onnx.helper, onnx.TensorProto

    # 1. preprocessing: features -> the network's input
    pre = _Nodes(onnx, "pre/")
    x, width = pre.op("Identity", [_INPUT]), int(n_features)
    for name, step in steps:
        x, width = _transform(pre, x, width, name, step)
    network = to_onnx(wrapper.model_)
    net_inputs = network.graph.input
    if len(net_inputs) != 1:
        raise ValueError(f"Cannot export a network with {len(net_inputs)} inputs behind a pipeline: one is supported.")
    net_shape = [d.dim_value if d.HasField("dim_value") else None
                 for d in net_inputs[0].type.tensor_type.shape.dim]
    if len(net_shape) != 2:  # the wrappers feed rows (the built-in CNN reshapes them itself)
        raise ValueError(f"Cannot export a network with input shape {net_shape} behind a pipeline: the "
                         "wrappers feed it rows of shape (batch, n_features).")
    if net_shape[1] is not None and net_shape[1] != width:
        raise ValueError(
            f"The preprocessing of the pipeline outputs {width} columns but the network takes {net_shape[1]}."
        )
    if net_inputs[0].type.tensor_type.elem_type != tp.FLOAT:
        x = pre.op("Cast", [x], to=net_inputs[0].type.tensor_type.elem_type)
    pre_out = pre.op("Identity", [x], "preprocessed")
    pre_model = pre.model(
        [helper.make_tensor_value_info(_INPUT, tp.FLOAT, ["batch", int(n_features)])],
        [helper.make_tensor_value_info(pre_out, net_inputs[0].type.tensor_type.elem_type, None)],
        "preprocessing",
    )
    merged = compose.merge_models(pre_model, network, io_map=[(pre_out, net_inputs[0].name)],
                                  prefix2="network/", producer_name="automl")

    # 2. post-processing: the network's outputs -> probabilities / label, or predictions
    post = _Nodes(onnx, "post/")
    raw_names = [o.name for o in merged.graph.output]
    raws = [post.op("Flatten", [n], axis=1) for n in raw_names]
    if hasattr(wrapper, "classes_"):
        probs, label, label_type, label_shape = _classifier_outputs(post, onnx, wrapper, raws)
        post.op("Identity", [probs], out="probabilities")
        post.op("Identity", [label], out="label")
        value_infos = [helper.make_tensor_value_info("probabilities", tp.FLOAT, ["batch", _n_classes(wrapper)]),
                       helper.make_tensor_value_info("label", label_type, label_shape)]
    else:
        y = raws[0] if len(raws) == 1 else post.op("Concat", raws, axis=1)
        if target is not None:
            y = _target_inverse(post, y, target)
        if getattr(wrapper, "_target_ndim", 2) == 1:  # predict returns (N,), as the wrapper's
            y = post.op("Squeeze", [y, post.ints([1])])
            shape = ["batch"]
        else:
            shape = ["batch", int(wrapper.n_outputs_)]
        post.op("Identity", [y], out="predictions")
        value_infos = [helper.make_tensor_value_info("predictions", tp.FLOAT, shape)]
    post_inputs = [helper.make_tensor_value_info(n, tp.FLOAT, None) for n in raw_names]
    post_model = post.model(post_inputs, value_infos, "postprocessing")
    model = compose.merge_models(merged, post_model, io_map=[(n, n) for n in raw_names], producer_name="automl",
                                 name="automl_pipeline")
    onnx.checker.check_model(model)
    return model


def export_pipeline(pipeline_or_estimator, path, *, format="onnx"):  # noqa: A002
    """Write a fitted pipeline ending in a KerasClassifier/KerasRegressor for use outside Python.

    Parameters
    ----------
    pipeline_or_estimator : Pipeline, KerasClassifier, KerasRegressor or TransformedTargetRegressor
        Fitted. Earlier pipeline steps must be among those listed in the module
        docstring; a TransformedTargetRegressor around a KerasRegressor has its
        (linear) target scaler folded in.
    path : str or path-like
        The file to write.
    format : {"onnx", "keras"}, default="onnx"
        ``"onnx"``: one graph from raw float32 rows ``features [N, n_features]``
        to ``probabilities`` and ``label`` (classifiers) or ``predictions``
        (regressors). ``"keras"``: the network alone as a ``.keras`` file
        (refused when the pipeline has preprocessing, which a ``.keras`` file
        cannot hold).

    Returns
    -------
    str
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from automl.wrappers import KerasClassifier, export_pipeline
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
    >>> pipe = make_pipeline(StandardScaler(), KerasClassifier(hidden_layer_sizes=(8,), epochs=2,
    ...                                                         random_state=0)).fit(X, y)
    >>> path = export_pipeline(pipe, os.path.join(tempfile.mkdtemp(), "best.onnx"))
    >>> import onnx
    >>> [o.name for o in onnx.load(path).graph.output]
    ['probabilities', 'label']
    """
    path = os.fspath(path)
    if format == "keras":
        steps, wrapper, target = _split(pipeline_or_estimator)
        identity = all(s is None or (isinstance(s, str) and s == "passthrough") for _, s in steps)
        if not identity or target is not None:
            raise ValueError(
                "Cannot export a pipeline with preprocessing (or a target transformer) to a .keras file, "
                "which holds the network only: use format='onnx', or save the pipeline with joblib."
            )
        wrapper.model_.save(path)
        return path
    if format != "onnx":
        raise ValueError(f"The 'format' parameter of export_pipeline must be 'onnx' or 'keras'. Got {format!r} instead.")
    model = pipeline_to_onnx(pipeline_or_estimator)
    _import_onnx().save_model(model, path)
    return path
