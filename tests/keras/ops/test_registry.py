"""Every registered op, from its registry entry: gradient, reference values and output spec.

Parametrized over :data:`automl.keras.ops.REGISTRY` (not op by op): each entry's sample
inputs feed a float64 central-difference check of its VJP, a comparison with a NumPy /
SciPy reference, and a check of its output-spec rule against the real result.
"""

import importlib.util
import pathlib
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import scipy.special

from automl.keras import ops
from automl.testing import floatx_scope, numeric_gradient

_spec = importlib.util.spec_from_file_location(
    "op_references", pathlib.Path(__file__).with_name("op_references.py"))
_REFS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_REFS)

REGISTRY = ops.REGISTRY
DIFFERENTIABLE = sorted(n for n, e in REGISTRY.items() if e.differentiable)
CONSTANT = sorted(n for n, e in REGISTRY.items() if not e.differentiable)


def _samples(name, seed=0):
    entry = REGISTRY[name]
    assert entry.samples is not None, f"op {name!r} has no samples"
    return entry.samples(np.random.default_rng(seed))


def _bind(entry, args, kwargs):
    full = dict(zip(entry.params, args))
    if entry.varargs is not None:
        full[entry.varargs] = list(args[len(entry.params):])
    full.update(kwargs)
    return full


def _call(entry, full):
    return entry.public(**full) if entry.varargs is None else entry.public(
        *[full[p] for p in entry.params if p in full], *full[entry.varargs],
        **{k: v for k, v in full.items() if k not in entry.params and k != entry.varargs})


def _float_outputs(out):
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return [i for i, o in enumerate(outs) if np.asarray(ops.value_of(o)).dtype.kind == "f"]


def _leaves(entry, full):
    """(name, index or None) of each float array among the differentiable arguments."""
    found = []
    for name in entry.diff:
        v = full.get(name)
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            found.append((name, None))
        elif isinstance(v, (list, tuple)):
            found.extend((name, i) for i, item in enumerate(v)
                         if isinstance(item, np.ndarray) and item.dtype.kind == "f")
    return found


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_vjp_matches_central_differences(name):
    entry = REGISTRY[name]
    with floatx_scope("float64"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, (args, kwargs) in enumerate(_samples(name)):
            full = _bind(entry, args, kwargs)
            plain = _call(entry, full)
            outs = list(plain) if isinstance(plain, (list, tuple)) else [plain]
            chosen = _float_outputs(plain)
            rng = np.random.default_rng(k + 1)
            seeds = {i: rng.standard_normal(np.shape(outs[i])) for i in chosen}
            leaves = _leaves(entry, full)
            assert leaves, f"{name}: sample {k} has no float differentiable argument"

            def total(_=None, full=full, seeds=seeds, chosen=chosen):
                out = _call(entry, full)
                outs = list(out) if isinstance(out, (list, tuple)) else [out]
                return float(sum(np.sum(seeds[i] * np.asarray(outs[i])) for i in chosen))

            traced = dict(full)
            tensors = []
            for arg, i in leaves:
                if i is None:
                    traced[arg] = ops.Tensor(full[arg])
                    tensors.append(traced[arg])
                else:
                    items = list(traced[arg])
                    items[i] = ops.Tensor(full[arg][i])
                    traced[arg] = items
                    tensors.append(items[i])
            out = _call(entry, traced)
            outs_t = list(out) if isinstance(out, (list, tuple)) else [out]
            loss = 0.0
            for i in chosen:
                loss = loss + ops.sum(outs_t[i] * seeds[i])
            grads = ops.gradient(loss, tensors, seed=np.ones(()))
            for (arg, i), grad in zip(leaves, grads):
                target = full[arg] if i is None else full[arg][i]
                numeric = numeric_gradient(total, target, 1e-6)
                np.testing.assert_allclose(
                    np.asarray(grad, dtype=float), numeric, rtol=1e-4, atol=1e-6,
                    err_msg=f"{name}: gradient of {arg}{'' if i is None else f'[{i}]'}, sample {k}")


@pytest.mark.parametrize("name", CONSTANT)
def test_non_differentiable_ops_give_no_gradient(name):
    entry = REGISTRY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args, kwargs = _samples(name)[0]
        full = _bind(entry, args, kwargs)
        leaves = []
        for arg, value in full.items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                full[arg] = ops.Tensor(value)
                leaves.append(full[arg])
        out = _call(entry, full)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    for o in outs:
        if isinstance(o, ops.Tensor):
            assert not o.parents, f"{name} recorded a gradient"
            for leaf in leaves:
                np.testing.assert_array_equal(ops.gradient(o, leaf), 0)
        else:
            assert not isinstance(o, ops.Tensor)


# -- references ------------------------------------------------------------------------

def _softmax(x, axis=-1):
    return scipy.special.softmax(x, axis=axis)


def _np_same(name):
    fn = getattr(np, name)
    return lambda *a, **k: fn(*a, **k)


REFERENCES = {
    "abs": np.abs, "reciprocal": np.reciprocal, "get_item": lambda x, key: x[key],
    "clip": np.clip, "divide_no_nan": lambda a, b: np.where(b == 0, 0, a / np.where(b == 0, 1, b)),
    "empty": np.zeros, "empty_like": np.zeros_like,
    "full": lambda shape, fill: np.full(shape, fill),
    "max": lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
    "min": lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),
    "sum": lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    "bitwise_invert": np.invert, "bitwise_left_shift": np.left_shift,
    "bitwise_right_shift": np.right_shift,
    "reshape": lambda x, s: x.reshape(s),
    "stop_gradient": lambda x: x, "convert_to_tensor": lambda x: x, "array": lambda x: x,
    "cast": lambda x, d: x.astype(d), "saturate_cast": lambda x, d: x.astype(d),
    "slice": lambda x, start, shape: x[tuple(slice(s, s + n) for s, n in zip(start, shape))],
    "unstack": lambda x, axis=0: [np.take(x, i, axis=axis) for i in range(x.shape[axis])],
    "argpartition": None, "unique": lambda x: np.unique(x),
    "kaiser": lambda n, beta: np.kaiser(n, beta),
    "average": lambda x, axis=None, weights=None: np.average(x, axis=axis, weights=weights),
    "take_along_axis": lambda x, i, axis: np.take_along_axis(x, i, axis),
    "where": lambda c, a, b: np.where(c, a, b),
    "meshgrid": lambda *x, indexing="xy": np.meshgrid(*x, indexing=indexing),
    "trapezoid": lambda y, dx=1.0, axis=-1: np.trapezoid(y, dx=dx, axis=axis),
    "slogdet": lambda x: tuple(np.linalg.slogdet(x)),
    "view": lambda x, d: x.view(d),
}


def _slice_update_ref(x, start, u):
    y = x.copy()
    y[tuple(slice(s, s + n) for s, n in zip(start, u.shape))] = u
    return y


def _scatter_ref(indices, values, shape):
    out = np.zeros(shape)
    for idx, v in zip(indices, values):
        out[tuple(idx)] += v
    return out


def _scatter_update_ref(x, indices, updates):
    y = x.copy()
    for idx, v in zip(indices, updates):
        y[tuple(idx)] = v
    return y


REFERENCES.update({"slice_update": _slice_update_ref, "scatter": _scatter_ref,
                   "scatter_update": _scatter_update_ref})


def _eig_property(x, out):
    w, v = out
    np.testing.assert_allclose(x @ v, v * w[..., None, :], atol=1e-8)
    np.testing.assert_allclose(np.sort_complex(w), np.sort_complex(scipy.linalg.eigvals(x)), atol=1e-8)


def _eigh_property(x, out):
    w, v = out
    np.testing.assert_allclose(x @ v, v * w[..., None, :], atol=1e-8)
    np.testing.assert_allclose(np.swapaxes(v, -1, -2) @ v, np.broadcast_to(np.eye(x.shape[-1]), x.shape),
                               atol=1e-8)
    np.testing.assert_allclose(w, np.stack([scipy.linalg.eigvalsh(m) for m in x.reshape(-1, *x.shape[-2:])]
                                           ).reshape(w.shape), atol=1e-8)


def _qr_property(x, out, mode="reduced"):
    q, r = out
    np.testing.assert_allclose(q @ r, x, atol=1e-8)
    np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.eye(q.shape[-1]) + 0 * (q[..., :1, :1]),
                               atol=1e-8)
    np.testing.assert_array_equal(np.tril(r, -1), 0)


#: Ops whose result is not unique (eigenvector phases, QR signs): checked by their defining
#: properties against SciPy instead of entry by entry.
PROPERTIES = {"eig": _eig_property, "eigh": _eigh_property, "qr": _qr_property}


def _reference(name):
    if name in REFERENCES:
        return REFERENCES[name]
    if name in PROPERTIES:
        return None
    if name in _REFS.REFERENCES:  # the nn / math / linalg / image references
        return _REFS.REFERENCES[name]
    fn = getattr(np, name, None)
    if fn is None:
        fn = getattr(np.linalg, name, None)
    return fn


def _close(actual, expected, name):
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), name
        for a, e in zip(actual, expected):
            _close(a, e, name)
        return
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_op_matches_reference(name):
    ref = _reference(name)
    if ref is None and name in REFERENCES:
        pytest.skip(f"{name} has no unique reference result")
    assert ref is not None or name in PROPERTIES, f"op {name!r} has no NumPy/SciPy reference"
    entry = REGISTRY[name]
    with floatx_scope("float64"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args, kwargs in _samples(name):
            full = _bind(entry, args, kwargs)
            actual = _call(entry, full)
            if ref is None:
                PROPERTIES[name](*args, actual, **kwargs)
                continue
            expected = ref(*args, **kwargs)
            _close(actual, expected, name)


# -- output specs ---------------------------------------------------------------------

def _spec_of(v):
    if isinstance(v, np.ndarray):
        return ops.Spec(v.shape, v.dtype)
    if isinstance(v, list) and any(isinstance(i, np.ndarray) for i in v):
        return [_spec_of(i) for i in v]
    return v


def _check_spec(spec, out, name, exact=True):
    if isinstance(out, (list, tuple)):
        assert isinstance(spec, (list, tuple)) and len(spec) == len(out), f"{name}: {spec}"
        for s, o in zip(spec, out):
            _check_spec(s, o, name, exact)
        return
    out = np.asarray(out)
    if exact:  # None: a size the spec cannot know (it depends on the data)
        assert len(spec.shape) == out.ndim and all(
            s is None or s == d for s, d in zip(spec.shape, out.shape)), \
            f"{name}: spec {spec.shape} != actual {out.shape}"
    else:
        assert len(spec.shape) == out.ndim and all(
            s is None or s == d for s, d in zip(spec.shape, out.shape)), f"{name}: {spec} vs {out.shape}"
    assert spec.dtype == out.dtype.name, f"{name}: spec dtype {spec.dtype} != {out.dtype}"


def _sample_calls(entry):
    """(bound arguments, real result) of each of ``entry``'s samples, float64 arrays as float32."""
    for args, kwargs in entry.samples(np.random.default_rng(0)):
        args = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64
                     else a for a in args)
        full = _bind(entry, args, kwargs)
        yield full, _call(entry, full)


def _entry_spec(entry, spec_args):
    """``entry.spec`` called with the bound ``spec_args`` (the varargs spread)."""
    if entry.varargs is not None:
        return entry.spec(*[spec_args[p] for p in entry.params], *spec_args[entry.varargs],
                          **{k: v for k, v in spec_args.items()
                             if k not in entry.params and k != entry.varargs})
    return entry.spec(**spec_args)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_output_spec_matches_result(name):
    entry = REGISTRY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for full, out in _sample_calls(entry):
            spec = _entry_spec(entry, {k: _spec_of(v) for k, v in full.items()})
            _check_spec(spec, out, name)


def test_ops_dispatch_to_symbolic_arguments():
    calls = []

    class Symbolic:
        shape, dtype = (None, 3), "float32"

        def _automl_symbolic_call(self, fn, args, kwargs):
            calls.append((fn, args, kwargs))
            return "node"

    sym = Symbolic()
    assert ops.add(np.ones(3), sym) == "node"
    assert ops.concatenate([np.ones((1, 3)), sym], axis=0) == "node"
    assert calls[0][0] is ops.add and calls[1][2] == {"axis": 0}


def test_compute_output_spec_with_unknown_sizes():
    x = ops.Spec((None, 4), "float32")
    assert ops.compute_output_spec(ops.matmul, x, ops.Spec((4, 2), "float32")) == ops.Spec((None, 2), "float32")
    assert ops.compute_output_spec(ops.mean, ops.Spec((None, 4), "int32"), axis=1) == ops.Spec((None,), "float32")
    assert ops.compute_output_spec(ops.reshape, x, (-1, 2, 2)) == ops.Spec((None, 2, 2), "float32")
    with pytest.raises(TypeError, match="automl.keras.ops"):
        ops.compute_output_spec(np.add, x, x)


def test_keras_dtype_rules():
    i = np.arange(4, dtype="int32")
    assert ops.mean(i).dtype == np.float32
    assert ops.divide(i, 2).dtype == np.float32
    assert ops.sqrt(i).dtype == np.float32
    assert ops.add(i, 2).dtype == np.int32
    assert ops.multiply(i, 1.5).dtype == np.float32
    assert ops.ones((2,)).dtype == np.float32
    assert ops.arange(3).dtype == np.int32
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.argmax(np.ones((2, 3)), axis=1).dtype == np.int32


def _with_unknown_batch(v):
    if isinstance(v, ops.Spec) and len(v.shape) >= 2:
        return ops.Spec((None, *v.shape[1:]), v.dtype)
    if isinstance(v, list):
        return [_with_unknown_batch(i) for i in v]
    return v


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_output_spec_with_an_unknown_batch_size(name):
    """With the leading size of every (2-D or more) array argument unknown, the spec still
    agrees with the real result wherever it gives a size."""
    entry = REGISTRY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for full, out in _sample_calls(entry):
            spec_args = {k: _with_unknown_batch(_spec_of(v)) for k, v in full.items()}
            try:
                spec = _entry_spec(entry, spec_args)
            except (ValueError, TypeError, IndexError) as exc:  # a size that the op needs to know
                pytest.skip(f"{name}: {exc}")
            _check_spec(spec, out, name, exact=False)


def _to_float32(v):
    if isinstance(v, np.ndarray) and v.dtype == np.float64:
        return v.astype(np.float32)
    if isinstance(v, list):
        return [_to_float32(i) for i in v]
    return v


@pytest.mark.parametrize("name", sorted(set(REGISTRY) - {"cast", "saturate_cast"}))
def test_float32_inputs_give_float32_results(name):
    """float32 stays float32 (no silent float64), as Keras's dtype rules."""
    entry = REGISTRY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args, kwargs in entry.samples(np.random.default_rng(0)):
            out = entry.public(*[_to_float32(a) for a in args],
                               **{k: _to_float32(v) for k, v in kwargs.items()})
            for o in out if isinstance(out, (list, tuple)) else [out]:
                assert np.asarray(o).dtype not in (np.float64, np.complex128), f"{name}: {np.asarray(o).dtype}"


@pytest.mark.parametrize("name", sorted(set(DIFFERENTIABLE) - {"cast", "saturate_cast"}))
def test_gradients_of_float32_inputs_are_float32(name):
    entry = REGISTRY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args, kwargs = entry.samples(np.random.default_rng(0))[0]
        full = _bind(entry, [_to_float32(a) for a in args], {k: _to_float32(v) for k, v in kwargs.items()})
        tensors = []
        for arg, i in _leaves(entry, full):
            if i is None:
                full[arg] = ops.Tensor(full[arg])
                tensors.append(full[arg])
            else:
                items = list(full[arg])
                items[i] = ops.Tensor(items[i])
                full[arg] = items
                tensors.append(items[i])
        out = _call(entry, full)
    loss = 0.0
    for o in out if isinstance(out, (list, tuple)) else [out]:
        if isinstance(o, ops.Tensor):
            loss = loss + ops.sum(o)
    for grad in ops.gradient(loss, tensors, seed=np.ones((), np.float32)):
        assert grad.dtype == np.float32, f"{name}: gradient dtype {grad.dtype}"
