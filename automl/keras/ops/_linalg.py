"""``keras.ops.linalg``: decompositions, solves, inverses and norms (batched over leading axes).

``cholesky`` and ``eigh`` read the symmetric part of their input, as Keras's JAX backend
does, so their gradients are the symmetric ones.
"""

from __future__ import annotations

import numpy as np

from ..backend import floatx
from . import _numpy as N
from . import _special
from ._registry import Spec, op, to_float
from ._samples import SPD, M, S

_ns = "linalg"


def _T(x):  # noqa: N802
    return np.swapaxes(x, -1, -2)


def _sym(x):
    return 0.5 * (x + _T(x))


def _float_dtype(spec):
    return to_float(np.zeros((), np.dtype(getattr(spec.dtype, "name", spec.dtype)))).dtype


def _same_spec(x, *args, **kwargs):
    return Spec(x.shape, _float_dtype(x))


def _square(x, name):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name} expects square matrices (shape (..., n, n)). Got shape {x.shape}.")


def _cholesky_vjp(g, out, needs, x, upper):
    low = _T(out) if upper else out
    gl = _T(np.asarray(g)) if upper else np.asarray(g)
    phi = np.tril(_T(low) @ gl)
    phi = phi - 0.5 * np.eye(low.shape[-1]) * phi
    inv = np.linalg.inv(low)
    return (_sym(_T(inv) @ phi @ inv),)


@op(_ns, vjp=_cholesky_vjp, spec=_same_spec, samples=S(SPD(3, 3)) + S(SPD(2, 3, 3), upper=True))
def cholesky(x, upper=False):
    """The Cholesky factor of the positive-definite ``x`` (lower, or upper if ``upper``)."""
    x = to_float(x)
    _square(x, "cholesky")
    low = np.linalg.cholesky(_sym(x))
    return _T(low).copy() if upper else low


def _inv_vjp(g, out, needs, x):
    return (-_T(out) @ np.asarray(g) @ _T(out),)


@op(_ns, vjp=_inv_vjp, spec=_same_spec, samples=S(M(3, 3)) + S(M(2, 3, 3)))
def inv(x):
    """The inverse of the square matrices ``x``."""
    x = to_float(x)
    _square(x, "inv")
    return np.linalg.inv(x)


def _det_vjp(g, out, needs, x):
    return ((np.asarray(g) * out)[..., None, None] * _T(np.linalg.inv(x)),)


@op(_ns, vjp=_det_vjp, spec=lambda x: Spec(x.shape[:-2], _float_dtype(x)),
    samples=S(M(3, 3)) + S(M(2, 3, 3)))
def det(x):
    """The determinant of the square matrices ``x``."""
    x = to_float(x)
    _square(x, "det")
    return np.asarray(np.linalg.det(x))


@op(_ns, spec=lambda x: (Spec(x.shape[:-1], np.result_type(_float_dtype(x), np.complex64)),
                         Spec(x.shape, np.result_type(_float_dtype(x), np.complex64))),
    samples=S(M(3, 3)))
def eig(x):
    """Eigenvalues and eigenvectors of the square matrices ``x`` (complex; no gradient)."""
    x = to_float(x)
    w, v = np.linalg.eig(x)
    dtype = np.result_type(x.dtype, np.complex64)
    return w.astype(dtype), v.astype(dtype)


def _eigh_vjp(g, out, needs, x):
    w, v = out
    gw, gv = np.asarray(g[0]), np.asarray(g[1])
    diff = w[..., None, :] - w[..., :, None]
    n = w.shape[-1]
    f = np.where(np.eye(n, dtype=bool), 0.0, 1.0 / np.where(diff == 0, np.inf, diff))
    inner = gw[..., :, None] * np.eye(n) + f * (_T(v) @ gv)
    return (_sym(v @ inner @ _T(v)),)


@op(_ns, vjp=_eigh_vjp, spec=lambda x: (Spec(x.shape[:-1], _float_dtype(x)), Spec(x.shape, _float_dtype(x))),
    samples=S(SPD(3, 3)) + S(SPD(2, 3, 3)))
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of the symmetric matrices ``x``."""
    x = to_float(x)
    _square(x, "eigh")
    w, v = np.linalg.eigh(_sym(x))
    return w, v


@op(_ns, spec=lambda x: (Spec(x.shape, _float_dtype(x)), Spec(x.shape[:-1], "int32")),
    samples=S(M(3, 3)))
def lu_factor(x):
    """The packed LU factorization of ``x`` and its pivot indices (no gradient)."""
    x = to_float(x)
    _square(x, "lu_factor")
    flat = x.reshape(-1, *x.shape[-2:])
    lus, pivots = zip(*[_special.lu_factor(m) for m in flat]) if len(flat) else ((), ())
    return (np.stack(lus).reshape(x.shape).astype(x.dtype),
            np.stack(pivots).reshape(*x.shape[:-2], x.shape[-1]).astype(np.int32))


@op(_ns, vjp="traced", samples=S((3, 4)) + S((3, 4), ord=1, axis=1) + S((2, 3), ord="fro", axis=(0, 1))
    + S((3, 4), ord=np.inf, axis=-1, keepdims=True) + S((3, 3), ord=1, axis=(0, 1))
    + S((4,), ord=3))
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 (Keras's name)
    """Vector or matrix norm of ``x`` (``ord`` and ``axis`` as NumPy's)."""
    value = getattr(x, "value", x)
    ndim = np.ndim(value)
    if axis is None:
        axis = tuple(range(ndim)) if ord is None or ndim == 1 else (ndim - 2, ndim - 1)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) == 1 or ord is None or ord == "fro":
        if ord is None or ord == 2 or ord == "fro":
            return N.sqrt(N.sum(N.square(x), axis=axes, keepdims=keepdims))
        if ord == np.inf:
            return N.max(N.absolute(x), axis=axes, keepdims=keepdims)
        if ord == -np.inf:
            return N.min(N.absolute(x), axis=axes, keepdims=keepdims)
        if ord == 0:
            return N.sum(N.not_equal(value, 0).astype(value.dtype), axis=axes, keepdims=keepdims)
        p = float(ord)
        return N.power(N.sum(N.power(N.absolute(x), p), axis=axes, keepdims=keepdims), 1.0 / p)
    a0, a1 = (a % ndim for a in axes)
    if ord in (1, -1):
        col = N.sum(N.absolute(x), axis=a0, keepdims=True)
        red = N.max if ord == 1 else N.min
        out = red(col, axis=a1, keepdims=True)
    elif ord in (np.inf, -np.inf):
        row = N.sum(N.absolute(x), axis=a1, keepdims=True)
        red = N.max if ord == np.inf else N.min
        out = red(row, axis=a0, keepdims=True)
    elif ord in (2, -2, "nuc"):
        moved = N.moveaxis(x, (a0, a1), (-2, -1))
        s = svd(moved, compute_uv=False)
        out = N.max(s, axis=-1) if ord == 2 else N.min(s, axis=-1) if ord == -2 else N.sum(s, axis=-1)
        out = N.expand_dims(N.expand_dims(out, -1), -1)
        out = N.moveaxis(out, (-2, -1), (a0, a1))
    else:
        raise ValueError(f"The 'ord' argument {ord!r} is not a valid matrix norm order.")
    return out if keepdims else N.squeeze(out, axis=(a0, a1))


def _qr_tall_vjp(q, r, gq, gr):
    """The VJP of a QR with a square invertible ``r`` (m >= n, reduced)."""
    m_ = r @ _T(gr) - _T(gq) @ q
    copyltu = np.tril(m_) + _T(np.tril(m_, -1))
    rhs = gq + q @ copyltu
    return _T(np.linalg.solve(r, _T(rhs)))


def _qr_vjp(g, out, needs, x, mode):
    q, r = out
    gq, gr = np.asarray(g[0]), np.asarray(g[1])
    m, n = x.shape[-2:]
    if m >= n:
        return (_qr_tall_vjp(q, r, gq, gr),)
    # m < n: x = [a | b] with a square, a = q u and r = [u | q^T b]; the gradient of b's
    # part goes to b directly and, through q, to a's square QR.
    u, gu, gv = r[..., :m], gr[..., :m], gr[..., m:]
    ga = _qr_tall_vjp(q, u, gq + np.asarray(x)[..., m:] @ _T(gv), gu)
    return (np.concatenate([ga, q @ gv], axis=-1),)


@op(_ns, vjp=_qr_vjp, samples=S(M(3, 3)) + S((4, 3)) + S((2, 4, 2)) + S((2, 4)) + S((2, 3, 5))
    + S((2, 3), mode="complete"))
def qr(x, mode="reduced"):
    """The QR decomposition of ``x`` (``mode`` 'reduced' or 'complete')."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"The 'mode' argument must be 'reduced' or 'complete'. Got {mode!r}.")
    x = to_float(x)
    q, r = np.linalg.qr(x, mode=mode)
    return q, r


def _solve_vjp(g, out, needs, a, b):
    a = np.asarray(a)
    vector = np.ndim(b) == a.ndim - 1
    g = np.asarray(g)
    gb = np.linalg.solve(_T(a), g[..., None] if vector else g)
    x = out[..., None] if vector else out
    ga = -gb @ _T(x)
    return ga, (gb[..., 0] if vector else gb)


def _solve_spec(a, b, lower=False):
    return Spec(b.shape, np.result_type(_float_dtype(a), _float_dtype(b)))


@op(_ns, vjp=_solve_vjp, diff=("a", "b"), spec=_solve_spec, samples=S(M(3, 3), (3, 2)) + S(M(2, 3, 3), (2, 3, 1)))
def solve(a, b):
    """The solution ``x`` of ``a @ x = b``."""
    a, b = to_float(a), to_float(b)
    _square(a, "solve")
    if b.ndim == a.ndim - 1:
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


def _solve_triangular_vjp(g, out, needs, a, b, lower):
    tri = np.tril(a) if lower else np.triu(a)
    ga, gb = _solve_vjp(g, out, needs, tri, b)
    return (np.tril(ga) if lower else np.triu(ga)), gb


@op(_ns, vjp=_solve_triangular_vjp, diff=("a", "b"), spec=_solve_spec,
    samples=S(M(3, 3), (3, 2)) + S(M(3, 3), (3, 2), lower=True))
def solve_triangular(a, b, lower=False):
    """The solution of ``a @ x = b`` for the triangular part of ``a`` (upper unless ``lower``)."""
    a, b = to_float(a), to_float(b)
    tri = np.tril(a) if lower else np.triu(a)
    if b.ndim == a.ndim - 1:
        return np.linalg.solve(tri, b[..., None])[..., 0]
    return np.linalg.solve(tri, b)


def _svd_vjp(g, out, needs, x, full_matrices, compute_uv):
    if not compute_uv:
        u, s, vt = np.linalg.svd(x, full_matrices=False)
        return ((u * np.asarray(g)[..., None, :]) @ vt,)
    u, s, vt = out
    gu, gs, gvt = (np.asarray(v) for v in g)
    if np.any(gu) or np.any(gvt):
        raise NotImplementedError("ops.linalg.svd has a gradient through its singular values only "
                                  "(use compute_uv=False, or only the second output).")
    k = s.shape[-1]
    return ((u[..., :, :k] * gs[..., None, :]) @ vt[..., :k, :],)


@op(_ns, vjp=_svd_vjp, samples=S((3, 4), compute_uv=False) + S((2, 4, 3), compute_uv=False))
def svd(x, full_matrices=True, compute_uv=True):
    """The singular value decomposition ``u, s, v`` of ``x`` (``s`` alone if not ``compute_uv``)."""
    x = to_float(x)
    if not compute_uv:
        return np.linalg.svd(x, compute_uv=False)
    u, s, vt = np.linalg.svd(x, full_matrices=full_matrices)
    return u, s, vt


@op(_ns, vjp="traced", diff=("a", "b"), samples=S((5, 3), (5, 2)) + S((4, 2), (4,)))
def lstsq(a, b, rcond=None):
    """The least-squares solution ``x`` of ``a @ x = b`` (the gradient assumes full column rank)."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        a, b = to_float(a), to_float(b)
        return np.linalg.lstsq(a, b, rcond=rcond)[0]
    at = N.swapaxes(a, -1, -2)
    return solve(N.matmul(at, a), N.matmul(at, b))


@op(_ns, vjp="traced", samples=S(M(3, 3)) + S(M(2, 3, 3), upper=True))
def cholesky_inverse(input, upper=False):  # noqa: A002 (Keras's name)
    """The inverse of ``L @ L.T`` (or ``U.T @ U`` if ``upper``) from its Cholesky factor."""
    factor = N.tril(input) if not upper else N.triu(input)
    t = N.swapaxes(factor, -1, -2)
    return inv(N.matmul(t, factor) if upper else N.matmul(factor, t))


def jvp(fun, primals, tangents, has_aux=False):
    """The Jacobian-vector product of ``fun`` at ``primals`` along ``tangents`` (Keras's
    ``ops.linalg.jvp``): ``(fun(*primals), J @ tangents)``, plus ``aux`` with ``has_aux``.

    The engine differentiates in reverse mode, so the product is assembled from one
    vector-Jacobian product per output entry (exact, for the small functions it suits).

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras import ops
    >>> out, tangent = ops.linalg.jvp(lambda x: x * x, (np.array([1.0, 3.0]),), (np.array([1.0, 1.0]),))
    >>> tangent.tolist()
    [2.0, 6.0]
    """
    from ._tensor import Tensor, gradient

    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp expects as many tangents as primals. Got {len(primals)} primals and "
                         f"{len(tangents)} tangents.")
    leaves = [Tensor(to_float(p)) for p in primals]
    result = fun(*leaves)
    out, aux = result if has_aux else (result, None)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    tans = [np.asarray(to_float(t)) for t in tangents]
    products = []
    for o in outs:
        value = np.asarray(o.value if isinstance(o, Tensor) else o)
        flat = np.zeros(value.size, dtype=np.result_type(value, *tans) if value.dtype.kind == "f" else floatx())
        if isinstance(o, Tensor) and o.parents:
            for k in range(value.size):
                seed = np.zeros(value.size, dtype=value.dtype)
                seed[k] = 1.0
                rows = gradient(o, leaves, seed=seed.reshape(value.shape))
                flat[k] = sum(float(np.sum(r * t)) for r, t in zip(rows, tans))
        products.append(flat.reshape(value.shape))
    values = [np.asarray(o.value if isinstance(o, Tensor) else o) for o in outs]
    if isinstance(out, (list, tuple)):
        values, products = type(out)(values), type(out)(products)
    else:
        values, products = values[0], products[0]
    if has_aux:
        aux = aux.value if isinstance(aux, Tensor) else aux
        return values, products, aux
    return values, products


__all__ = sorted(
    name for name, value in dict(globals()).items()
    if callable(value) and hasattr(value, "_op") and value._op.namespace == _ns
) + ["jvp"]
