"""Central-difference gradient checks for layers, activations, losses and models.

Every backward pass of :mod:`automl.keras` is hand-written; these helpers
compare it with central differences of the forward pass in float64. Each
check raises ``AssertionError`` naming the quantity whose gradient is wrong
and returns the largest absolute error per quantity when everything agrees.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..keras import activations as _activations
from ..keras.backend import floatx, set_floatx
from ..keras.layers import Layer

__all__ = [
    "numeric_gradient",
    "floatx_scope",
    "check_layer_gradients",
    "check_activation_gradients",
    "check_loss_gradients",
    "check_fused_loss_gradients",
    "check_model_gradients",
]

_RTOL = 1e-5
_ATOL = 1e-7
_EPS = 1e-6


def numeric_gradient(f, x, eps=_EPS):
    """Gradient of the scalar function ``f`` at ``x`` by central differences.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : numpy.ndarray of float64
        Perturbed *in place*, one entry at a time, and restored before
        returning; ``f`` may therefore ignore its argument and read ``x``
        through another reference (a layer's weight array, for instance).
    eps : float, default=1e-6
        Half the width of each difference.

    Returns
    -------
    numpy.ndarray
        ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry ``i``,
        shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.testing import numeric_gradient
    >>> x = np.array([1.0, -2.0])
    >>> np.round(numeric_gradient(lambda v: float(np.sum(v**3)), x), 6)
    array([ 3., 12.])
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            "The 'x' argument of numeric_gradient must be a float64 numpy array (it is "
            f"perturbed in place). Got {type(x).__name__} of dtype {getattr(x, 'dtype', None)}."
        )
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        x[idx] = original + eps
        f_plus = float(f(x))
        x[idx] = original - eps
        f_minus = float(f(x))
        x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2.0 * eps)
    return grad


@contextlib.contextmanager
def floatx_scope(dtype="float64"):
    """Make ``dtype`` the engine's default float type inside the block, then restore it.

    >>> from automl.keras import backend
    >>> from automl.testing import floatx_scope
    >>> with floatx_scope("float64"):
    ...     backend.floatx()
    'float64'
    >>> backend.floatx()
    'float32'
    """
    saved = floatx()
    set_floatx(dtype)
    try:
        yield
    finally:
        set_floatx(saved)


def _assert_close(analytic, numeric, what, rtol, atol) -> float:
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise AssertionError(
            f"Gradient w.r.t. {what} has shape {analytic.shape}; expected {numeric.shape}."
        )
    np.testing.assert_allclose(
        analytic, numeric, rtol=rtol, atol=atol,
        err_msg=f"Analytic gradient w.r.t. {what} differs from central differences.",
    )
    return float(np.max(np.abs(analytic - numeric), initial=0.0))


def _make_layer(layer):
    if isinstance(layer, Layer):
        return layer
    if callable(layer):
        return layer()
    raise TypeError(
        "The 'layer' argument must be a Layer or a callable returning one. "
        f"Got {type(layer).__name__} instead."
    )


def check_layer_gradients(layer, input_shape, *, x=None, seed=0, training=True,
                          rtol=_RTOL, atol=_ATOL, eps=_EPS) -> dict:
    """Check a layer's ``backward`` against central differences, in float64.

    The scalar checked is ``sum(upstream * layer.call(x, training)) +
    layer.activity_penalty`` for a random ``upstream``; both the gradient
    returned by ``backward`` (w.r.t. the input) and the gradient written into
    every trainable weight's ``grad`` buffer are compared.

    Parameters
    ----------
    layer : Layer or callable
        An unbuilt layer created while ``floatx`` was ``"float64"``, or a
        callable (a class or a lambda) returning one; the callable is called
        with ``floatx`` set to ``"float64"``.
    input_shape : tuple of int
        Full input shape, batch dimension included.
    x : array-like, optional
        The input; standard normal values of ``input_shape`` when omitted.
    seed : int, default=0
        Seed of the random input and upstream gradient.
    training : bool, default=True
        Passed to ``call``. The layer must be deterministic for a fixed input.

    Returns
    -------
    dict
        Largest absolute error per checked quantity (``"inputs"`` and each
        weight's name).
    """
    with floatx_scope("float64"):
        layer = _make_layer(layer)
        if layer.built or np.dtype(layer.dtype) != np.float64:
            raise ValueError(
                f"check_layer_gradients needs an unbuilt float64 layer. Got {layer!r} with dtype "
                f"{layer.dtype}; pass a factory (e.g. lambda: Dense(3)) to build it in float64."
            )
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(input_shape) if x is None else np.array(x, dtype=np.float64)
        out = layer(x, training=training)
        upstream = rng.standard_normal(np.shape(out))

        def objective(_=None):
            y = layer.call(x, training=training)
            return float(np.sum(upstream * y)) + float(layer.activity_penalty)

        objective()
        grad_in = layer.backward(upstream.copy())
        if grad_in is None:
            raise AssertionError(f"{layer.name}.backward returned None for the input gradient.")
        weights = layer.trainable_weights
        analytic = {v.name: v.grad.copy() for v in weights}
        errors = {"inputs": _assert_close(grad_in, numeric_gradient(objective, x, eps),
                                          f"the inputs of {layer.name}", rtol, atol)}
        for var in weights:
            numeric = numeric_gradient(objective, var.value, eps)
            errors[var.name] = _assert_close(analytic[var.name], numeric, var.name, rtol, atol)
    return errors


def check_activation_gradients(activation, x, *, seed=0, rtol=_RTOL, atol=_ATOL, eps=_EPS) -> float:
    """Check ``activation.backward`` against central differences at ``x`` (float64).

    The scalar checked is ``sum(upstream * activation(x))`` for a random
    ``upstream``. Returns the largest absolute error.

    >>> import numpy as np
    >>> from automl.testing import check_activation_gradients
    >>> check_activation_gradients("tanh", np.linspace(-2, 2, 5)) < 1e-8
    True
    """
    act = _activations.get(activation)
    x = np.array(x, dtype=np.float64)
    upstream = np.random.default_rng(seed).standard_normal(x.shape)
    y = act.forward(x.copy())
    grad = act.backward(upstream.copy(), y, x.copy() if act.needs_input else None)

    def objective(z):
        return float(np.sum(upstream * act.forward(z.copy())))

    return _assert_close(grad, numeric_gradient(objective, x.copy(), eps),
                         f"the input of activation {act.__name__}", rtol, atol)


def _scalar(value) -> float:
    # Reduction "none" returns per-sample values; their sum has the same gradient.
    return float(np.sum(value))


def check_loss_gradients(loss, y_true, y_pred, sample_weight=None, *,
                         rtol=_RTOL, atol=_ATOL, eps=_EPS) -> float:
    """Check ``loss.value_and_grad`` against central differences w.r.t. ``y_pred``.

    ``y_true`` goes through ``loss.prepare_targets`` first, as in ``fit``.
    Returns the largest absolute error.
    """
    y_pred = np.array(y_pred, dtype=np.float64)
    y_true = loss.prepare_targets(np.asarray(y_true), y_pred.shape)
    _, grad = loss.value_and_grad(y_true, y_pred.copy(), sample_weight)

    def objective(p):
        return _scalar(loss.value_and_grad(y_true, p.copy(), sample_weight)[0])

    return _assert_close(grad, numeric_gradient(objective, y_pred.copy(), eps),
                         f"y_pred of {type(loss).__name__}", rtol, atol)


def check_fused_loss_gradients(loss, y_true, logits, sample_weight=None, *,
                               rtol=_RTOL, atol=_ATOL, eps=_EPS) -> float:
    """Check ``loss.fused_value_and_grad`` against the loss of ``activation(logits)``.

    ``fused_value_and_grad(y_true, probs)`` must return the value of the loss
    at ``probs = activation(logits)`` (``loss.fused_activation``) and its
    gradient w.r.t. ``logits``. Returns the largest absolute gradient error.
    """
    act = _activations.get(loss.fused_activation)
    logits = np.array(logits, dtype=np.float64)
    probs = act.forward(logits.copy())
    y_true = loss.prepare_targets(np.asarray(y_true), logits.shape)
    value, grad = loss.fused_value_and_grad(y_true, probs.copy(), sample_weight)
    unfused, _ = loss.value_and_grad(y_true, probs.copy(), sample_weight)
    np.testing.assert_allclose(value, unfused, rtol=1e-10, atol=1e-12,
                               err_msg=f"Fused value of {type(loss).__name__} differs from its value.")

    def objective(z):
        return _scalar(loss.value_and_grad(y_true, act.forward(z.copy()), sample_weight)[0])

    return _assert_close(grad, numeric_gradient(objective, logits.copy(), eps),
                         f"the logits of fused {type(loss).__name__}", rtol, atol)


def check_model_gradients(model, x, y, sample_weight=None, *,
                          rtol=_RTOL, atol=_ATOL, eps=_EPS) -> float:
    """Check a compiled model's packed gradient buffer against central differences.

    Runs one training step as ``fit`` does (forward in training mode, the fused
    or plain loss gradient, backward, regularization penalties) without the
    optimizer update, and compares the model's gradient buffer with central
    differences of ``loss + penalties`` w.r.t. every trainable weight.

    The model must have float64 weights (build it inside :func:`floatx_scope`)
    and be deterministic in training mode (no active Dropout). Returns the
    largest absolute error.
    """
    state = model._prepare_training()
    params = state["params"]
    if params.dtype != np.float64:
        raise ValueError(
            f"check_model_gradients needs float64 weights. Got {params.dtype}; build the model "
            "inside floatx_scope('float64')."
        )
    with floatx_scope("float64"):
        x = model._as_inputs(x, "check_model_gradients")
        first = next(iter(x.values())) if isinstance(x, dict) else x[0] if isinstance(x, list) else x
        n = first.shape[0]
        y = model._as_targets(y, n, "check_model_gradients")
        sw = model._sample_weights(sample_weight, None, y, n, "check_model_gradients")

    model._clear_added_losses()
    value, grad, _ = model._loss_and_grad(model._forward(x, training=True), y, sw, state)
    value += model._added_loss_total()  # terms of Layer.add_loss
    model._backward(grad, state["fused"])
    if state["regularized"] or state["activity"]:
        value += model._penalty(state, with_grad=True)
    analytic = state["grads"].copy()

    def objective(_=None):
        # The plain (unfused) losses, so that the fused gradient is checked independently.
        model._clear_added_losses()
        out = model._forward(x, training=True)
        outs, ys = (out, y) if isinstance(out, list) else ([out], [y])
        total = sum(h.weight * h.loss(t, o, model._masked_weights(i, o, sw, h.loss.reduction))
                    for i, (h, o, t) in enumerate(zip(model._heads, outs, ys)))
        return float(total) + float(model._penalty(state, with_grad=False)) + model._added_loss_total()

    np.testing.assert_allclose(value, objective(), rtol=1e-10, atol=1e-12,
                               err_msg="Training-step loss differs from loss + penalties.")
    numeric = numeric_gradient(objective, params, eps)
    errors = []
    offset = 0
    for var in model.trainable_weights:
        size = var.value.size
        errors.append(_assert_close(analytic[offset:offset + size].reshape(var.shape),
                                    numeric[offset:offset + size].reshape(var.shape),
                                    var.name, rtol, atol))
        offset += size
    return max(errors, default=0.0)
