"""Hashing: categorical values to hash bins (Keras 3 semantics, bit-exact hashes).

Keras hashes each value's string form (integers in decimal, floats cast to
int64 first) with TensorFlow's ``Fingerprint64`` (FarmHash 1.1's
``farmhashna::Hash64``) or, with a ``salt``, with the keyed SipHash-2-4. Both
are written out below in plain Python integer arithmetic (masked to 64 bits)
and agree with the examples of the Keras and TensorFlow documentation. They run
once per *distinct* value of a batch (``np.unique``), so a batch of repeated
categories costs little; they are meant for preprocessing, not for hot loops.
"""

from __future__ import annotations

import numpy as np

from ..._validation import param_error
from ..backend import floatx
from ._base import LAYERS, Layer
from ._index_encoding import ENCODING_MODES, encode_indices, no_gradient

__all__ = ["Hashing"]

_M64 = 0xFFFFFFFFFFFFFFFF
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _fetch64(s, i):
    return int.from_bytes(s[i:i + 8], "little")


def _fetch32(s, i):
    return int.from_bytes(s[i:i + 4], "little")


def _rot(v, shift):
    return ((v >> shift) | (v << (64 - shift))) & _M64


def _shift_mix(v):
    return v ^ (v >> 47)


def _hash_len16(u, v, mul):
    a = ((u ^ v) * mul) & _M64
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M64
    b ^= b >> 47
    return (b * mul) & _M64


def _hash_len0to16(s, n):
    if n >= 8:
        mul = _K2 + n * 2
        a = (_fetch64(s, 0) + _K2) & _M64
        b = _fetch64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M64
        d = ((_rot(a, 25) + b) * mul) & _M64
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        a = _fetch32(s, 0)
        return _hash_len16((n + (a << 3)) & _M64, _fetch32(s, n - 4), mul)
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _M64) * _K2) & _M64
    return _K2


def _mix_ends(s, n, mul, key):
    """``a`` (the first word times ``key``) and the two words mixed from the first and last 16 bytes."""
    a = (_fetch64(s, 0) * key) & _M64
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _M64
    d = (_fetch64(s, n - 16) * _K2) & _M64
    return (a, (_rot((a + b) & _M64, 43) + _rot(c, 30) + d) & _M64,
            (a + _rot((b + _K2) & _M64, 18) + c) & _M64)


def _hash_len17to32(s, n):
    mul = _K2 + n * 2
    _, y, z = _mix_ends(s, n, mul, _K1)
    return _hash_len16(y, z, mul)


def _hash_len33to64(s, n):
    mul = _K2 + n * 2
    a, y, z = _mix_ends(s, n, mul, _K2)
    z = _hash_len16(y, z, mul)
    e = (_fetch64(s, 16) * mul) & _M64
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, n - 32)) * mul) & _M64
    h = ((z + _fetch64(s, n - 24)) * mul) & _M64
    return _hash_len16((_rot((e + f) & _M64, 43) + _rot(g, 30) + h) & _M64,
                       (e + _rot((f + a) & _M64, 18) + g) & _M64, mul)


def _weak_hash32(s, i, a, b):
    w, x, y, z = (_fetch64(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & _M64
    b = _rot((b + a + z) & _M64, 21)
    c = a
    a = (a + x + y) & _M64
    b = (b + _rot(a, 44)) & _M64
    return (a + z) & _M64, (b + c) & _M64


def fingerprint64(data: bytes) -> int:
    """FarmHash ``Fingerprint64`` of ``data`` (TensorFlow's ``Fingerprint64``), an unsigned 64-bit int."""
    s, n = data, len(data)
    if n <= 16:
        return _hash_len0to16(s, n)
    if n <= 32:
        return _hash_len17to32(s, n)
    if n <= 64:
        return _hash_len33to64(s, n)
    seed = 81
    y = (seed * _K1 + 113) & _M64
    z = (_shift_mix((y * _K2 + 113) & _M64) * _K2) & _M64
    v0 = v1 = w0 = w1 = 0
    x = (seed * _K2 + _fetch64(s, 0)) & _M64
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rot((x + y + v0 + _fetch64(s, i + 8)) & _M64, 37) * _K1) & _M64
        y = (_rot((y + v1 + _fetch64(s, i + 48)) & _M64, 42) * _K1) & _M64
        x ^= w1
        y = (y + v0 + _fetch64(s, i + 40)) & _M64
        z = (_rot((z + w0) & _M64, 33) * _K1) & _M64
        v0, v1 = _weak_hash32(s, i, (v1 * _K1) & _M64, (x + w0) & _M64)
        w0, w1 = _weak_hash32(s, i + 32, (z + w1) & _M64, (y + _fetch64(s, i + 16)) & _M64)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w0 = (w0 + ((n - 1) & 63)) & _M64
    v0 = (v0 + w0) & _M64
    w0 = (w0 + v0) & _M64
    x = (_rot((x + y + v0 + _fetch64(s, i + 8)) & _M64, 37) * mul) & _M64
    y = (_rot((y + v1 + _fetch64(s, i + 48)) & _M64, 42) * mul) & _M64
    x ^= (w1 * 9) & _M64
    y = (y + v0 * 9 + _fetch64(s, i + 40)) & _M64
    z = (_rot((z + w0) & _M64, 33) * mul) & _M64
    v0, v1 = _weak_hash32(s, i, (v1 * mul) & _M64, (x + w0) & _M64)
    w0, w1 = _weak_hash32(s, i + 32, (z + w1) & _M64, (y + _fetch64(s, i + 16)) & _M64)
    z, x = x, z
    return _hash_len16((_hash_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z) & _M64,
                       (_hash_len16(v1, w1, mul) + x) & _M64, mul)


def _rotl(v, shift):
    return ((v << shift) | (v >> (64 - shift))) & _M64


def siphash24(key, data: bytes) -> int:
    """Keyed SipHash-2-4 of ``data`` with the two 64-bit halves ``key = (k0, k1)``."""
    k0, k1 = (int(k) & _M64 for k in key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rounds(count):
        v0, v1, v2, v3 = v
        for _ in range(count):
            v0 = (v0 + v1) & _M64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _M64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _M64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _M64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)
        v[:] = [v0, v1, v2, v3]

    n = len(data)
    full = n - n % 8
    for i in range(0, full, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    m = int.from_bytes(data[full:], "little") | ((n & 0xFF) << 56)
    v[3] ^= m
    rounds(2)
    v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def as_hash_keys(values, encoding="utf-8") -> np.ndarray:
    """The values as they are hashed: str / bytes as is, numbers as decimal strings (floats cast to int64)."""
    x = np.asarray(values)
    if x.dtype.kind == "f":
        x = x.astype(np.int64)
    if x.dtype.kind in "biu":
        return x.astype(str)
    return x


def _to_bytes(value, encoding):
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value)
    return str(value).encode(encoding)


def hash_buckets(values, num_buckets, salt=None, encoding="utf-8") -> np.ndarray:
    """``hash(value) % num_buckets`` for every value (int64, the shape of ``values``).

    FarmHash ``Fingerprint64`` when ``salt`` is None, else SipHash-2-4 keyed by
    the pair ``salt`` (TensorFlow's ``to_hash_bucket_fast`` / ``_strong``).
    Each distinct value is hashed once.
    """
    keys = as_hash_keys(values)
    flat = keys.reshape(-1)
    if flat.size == 0:
        return np.zeros(keys.shape, dtype=np.int64)
    uniq, inverse = np.unique(flat, return_inverse=True)
    if salt is None:
        hashed = [fingerprint64(_to_bytes(u, encoding)) % num_buckets for u in uniq.tolist()]
    else:
        hashed = [siphash24(salt, _to_bytes(u, encoding)) % num_buckets for u in uniq.tolist()]
    return np.asarray(hashed, dtype=np.int64)[inverse.reshape(-1)].reshape(keys.shape)


@LAYERS.register
class Hashing(Layer):
    """Hashes categorical values (strings or integers) into ``num_bins`` bins.

    Each value is hashed in its string form (integers in decimal; floats are
    cast to int64 first) with FarmHash ``Fingerprint64``, exactly as Keras
    (TensorFlow's ``tf.strings.to_hash_bucket_fast``), so bins match Keras
    bit for bit. With a ``salt`` the keyed SipHash-2-4 is used instead
    (``tf.strings.to_hash_bucket_strong``). Both are implemented here in pure
    Python, run once per distinct value of a batch.

    Parameters
    ----------
    num_bins : int
        Number of bins, including the mask bin when ``mask_value`` is set.
    mask_value : str or int, optional
        Values equal to it go to bin 0 and the others to ``[1, num_bins)``.
    salt : int or pair of int, optional
        Key of SipHash (an int ``s`` means ``(s, s)``).
    output_mode : {"int", "one_hot", "multi_hot", "count"}, default="int"
        ``"int"``: the bins (int64, the input's shape). The others encode them
        as in ``CategoryEncoding`` (float outputs).
    sparse : bool, default=False
        Only False (dense NumPy outputs).

    Examples
    --------
    >>> from automl.keras.layers import Hashing
    >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).ravel().tolist()
    [1, 0, 1, 1, 2]
    >>> Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]).ravel().tolist()
    [1, 1, 0, 2, 2]
    """

    _cast_inputs = False

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else floatx()
        super().__init__(**kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
            raise param_error("num_bins", "Hashing", "an int in the range [1, inf)", num_bins)
        if output_mode not in ENCODING_MODES:
            raise param_error("output_mode", "Hashing", "one of {" + ", ".join(map(repr, ENCODING_MODES)) + "}",
                              output_mode)
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise param_error("dtype", "Hashing", "'int32' or 'int64' when output_mode='int'", self.dtype)
        if sparse:
            raise param_error("sparse", "Hashing", "False (automl.keras returns dense NumPy arrays)", sparse)
        if salt is not None:
            if isinstance(salt, (list, tuple)) and len(salt) == 2 and all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in salt
            ):
                salt = [int(s) for s in salt]
            elif isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
                salt = [int(salt), int(salt)]
            else:
                raise param_error("salt", "Hashing", "an int or a pair of ints", salt)
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = False

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        if self.output_mode == "one_hot" and not (len(shape) > 1 and shape[-1] == 1):
            return (*shape, self.num_bins)
        if len(shape) == 1:
            return (shape[0], self.num_bins)
        return (*shape[:-1], self.num_bins)

    def call(self, inputs, training=False):
        x = np.asarray(inputs)
        scalar = x.ndim == 0
        if scalar:
            x = x.reshape(1)
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = x == self.mask_value
        out = hash_buckets(x, bins, self.salt)
        if mask is not None:
            out += 1
            out[mask] = 0
        if self.output_mode == "int":
            out = out.astype(self.dtype, copy=False)
            return out[0] if scalar else out
        return encode_indices(out, self.output_mode, self.num_bins, self.dtype)

    def backward(self, grad):
        return no_gradient(self, "hash bins")

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode, "sparse": self.sparse}
