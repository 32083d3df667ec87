"""Special functions in NumPy alone (the engine does not depend on SciPy)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["erf", "erfinv", "logsumexp", "periodic_window", "lu_factor"]

_ERF = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    """The error function, elementwise, to double precision (via :func:`math.erf`)."""
    x = np.asarray(x)
    out = np.asarray(_ERF(x.astype(np.float64)), dtype=np.float64)
    return out if x.dtype.kind != "f" else out.astype(x.dtype, copy=False)


def erfinv(y):
    """The inverse error function: Giles's approximation refined by Newton steps."""
    y = np.asarray(y, dtype=np.float64)
    w = -np.log(np.clip((1.0 - y) * (1.0 + y), 1e-300, None))
    small = w < 5.0
    ws = w - 2.5
    p_small = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p_small = c + p_small * ws
    wl = np.sqrt(np.maximum(w, 5.0)) - 3.0
    p_large = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        p_large = c + p_large * wl
    x = np.where(small, p_small, p_large) * y
    for _ in range(3):
        err = erf(x) - y
        x = x - err / (2.0 / np.sqrt(np.pi) * np.exp(-x * x))
    x = np.where(np.abs(y) == 1, np.sign(y) * np.inf, x)
    return np.where(np.abs(y) > 1, np.nan, x)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, shifted by the maximum for stability."""
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def periodic_window(name, n):
    """The periodic ('hann' or 'hamming') window of ``n`` points, as for spectral analysis."""
    k = np.arange(n)
    a = 0.5 if name == "hann" else 0.54
    return a - (1 - a) * np.cos(2 * np.pi * k / n)


def lu_factor(a):
    """LU with partial pivoting of one square matrix: packed ``lu`` and LAPACK-style pivots."""
    lu = np.array(a, dtype=np.float64 if a.dtype.kind != "f" else a.dtype, copy=True)
    n = lu.shape[0]
    piv = np.arange(n)
    for k in range(n):
        p = k + int(np.argmax(np.abs(lu[k:, k])))
        piv[k] = p
        if p != k:
            lu[[k, p]] = lu[[p, k]]
        if lu[k, k] != 0:
            lu[k + 1:, k] /= lu[k, k]
            lu[k + 1:, k + 1:] -= np.outer(lu[k + 1:, k], lu[k, k + 1:])
    return lu, piv
