"""Image kernels below layers, utils and preprocessing: affine resampling and resizing.

The image layers (``layers.Resizing``, ``CenterCrop``, the random affine
augmentations), the image file utilities (``utils.smart_resize``, image
datasets) and ``preprocessing.image`` all call these; they depend only on
NumPy. Batches are channels_last ``(n, height, width, channels)``.

Affine resampling
-----------------
Vectorized affine resampling of a whole batch of images (``affine_matrices``,
``affine_resample`` and its adjoint for the layers' backward pass).

Every image gets its own 3x3 matrix that maps *output* pixel coordinates to
*input* coordinates, written in ``(x, y) = (column, row)`` order around the
image centre; the batch is then resampled at once: one coordinate computation
for all ``B * H * W`` output pixels, index mapping for the fill mode, and four
gathers for bilinear interpolation (``order=1``, what Keras gets from
``scipy.ndimage`` with ``order=1``) or one for nearest (``order=0``).

Fill modes, for a row ``abcd`` (Keras's documentation):

- ``"constant"``: ``kkkk|abcd|kkkk`` with ``k = cval``; a point outside the
  image takes ``cval`` (no interpolation with ``cval`` across the edge, like
  ``scipy.ndimage`` mode ``"constant"``);
- ``"nearest"``: ``aaaa|abcd|dddd``;
- ``"reflect"``: ``abcddcba|abcd|dcbaabcd`` (the edge pixel repeated);
- ``"wrap"``: ``abcdabcd|abcd|abcdabcd``.

Resizing
--------
``resize_images`` (and the ``ResizePlan`` the layers cache per input size)
samples at half-pixel centres without antialiasing, as ``tf.image.resize``,
after an optional centred crop or padding to the target aspect ratio; the
plan's ``backward`` is the adjoint of the sampling.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FILL_MODES",
    "AxisSampler",
    "ResizePlan",
    "affine_matrices",
    "affine_resample",
    "affine_resample_adjoint",
    "is_identity",
    "resize_images",
]

FILL_MODES = ("constant", "nearest", "reflect", "wrap")

# A point this far outside [0, size - 1] still counts as inside (float error of the matrices).
_EDGE_TOLERANCE = 1e-6


def affine_matrices(height, width, theta=0.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0):
    """Per-image matrices ``(B, 3, 3)`` mapping output ``(x, y, 1)`` to input coordinates.

    Each parameter is a scalar or an array of length ``B``: ``theta`` and
    ``shear`` in degrees (counter-clockwise), ``tx`` / ``ty`` the shift in
    pixels along x (columns) / y (rows) -- the content moves by ``-tx`` /
    ``-ty`` -- and ``zx`` / ``zy`` the zoom factors (above 1 shrinks the
    content). The composition is rotation, shift, shear, zoom about the
    image centre, as in Keras.
    """
    params = np.broadcast_arrays(*(np.asarray(p, dtype=np.float64) for p in (theta, tx, ty, shear, zx, zy)))
    theta, tx, ty, shear, zx, zy = (np.atleast_1d(p) for p in params)
    n = theta.shape[0]
    t, s = np.deg2rad(theta), np.deg2rad(shear)
    cos_t, sin_t = np.cos(t), np.sin(t)
    # R(theta) @ T(tx, ty) @ S(shear) @ Z(zx, zy), multiplied out.
    a = cos_t * zx
    b = (-cos_t * np.sin(s) - sin_t * np.cos(s)) * zy
    c = cos_t * tx - sin_t * ty
    d = sin_t * zx
    e = (-sin_t * np.sin(s) + cos_t * np.cos(s)) * zy
    f = sin_t * tx + cos_t * ty
    # Conjugate by the translation to the centre: M_c = C @ M @ C^-1.
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    m = np.zeros((n, 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = a, b, c + cx - a * cx - b * cy
    m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = d, e, f + cy - d * cx - e * cy
    m[:, 2, 2] = 1.0
    return m


def is_identity(matrices):
    """Per-image mask of matrices equal to the identity (no resampling needed)."""
    return np.all(np.abs(matrices - np.eye(3)) < 1e-12, axis=(1, 2))


def _map_index(idx, size, fill_mode):
    """Map integer coordinates (any range) into ``[0, size)`` for the fill mode."""
    if fill_mode == "wrap":
        return np.mod(idx, size)
    if fill_mode == "reflect":
        idx = np.mod(idx, 2 * size)
        return np.where(idx >= size, 2 * size - 1 - idx, idx)
    return np.clip(idx, 0, size - 1)


def _corners(coord, size, fill_mode):
    """Along one axis: the first corner (mapped into the image), the step to the second, and its weight.

    ``coord`` (float, any range) is overwritten. The second corner is ``first + step``.
    """
    if fill_mode in ("nearest", "constant"):
        # Clamping the coordinate itself is exact for "nearest" (and "constant" masks its outside
        # points afterwards); the second corner is the next pixel except on the last one, where
        # the weight is 0.
        np.clip(coord, 0.0, size - 1.0, out=coord)
        first = coord.astype(np.intp)
        step = (first < size - 1).astype(np.intp)
    else:
        low = np.floor(coord)
        first = low.astype(np.intp)
        second = _map_index(first + 1, size, fill_mode)
        first = _map_index(first, size, fill_mode)
        step = second - first
        coord -= low
        return first, step, coord
    coord -= first
    return first, step, coord


def _source_coords(matrices, h, w, fill_mode):
    """Input column and row ``(B, H*W)`` of every output pixel, and (for "constant") the
    mask of those falling outside the image (None otherwise)."""
    p = h * w
    grid = np.ones((3, p))
    grid[1], grid[0] = np.divmod(np.arange(p, dtype=np.float64), w)  # rows, cols
    sx = matrices[:, 0, :] @ grid
    sy = matrices[:, 1, :] @ grid
    outside = None
    if fill_mode == "constant":
        low, high_x, high_y = -_EDGE_TOLERANCE, w - 1 + _EDGE_TOLERANCE, h - 1 + _EDGE_TOLERANCE
        outside = (sx < low) | (sx > high_x) | (sy < low) | (sy > high_y)
    return sx, sy, outside


def affine_resample(x, matrices, fill_mode="nearest", cval=0.0, order=1):
    """Resample a batch ``x`` of shape ``(B, H, W, C)`` through per-image matrices ``(B, 3, 3)``.

    Returns a new array of ``x``'s dtype. No Python loop over images or pixels.
    """
    b, h, w, c = x.shape
    p = h * w
    sx, sy, outside = _source_coords(matrices, h, w, fill_mode)
    flat = x.reshape(b * p, c)
    base = (np.arange(b) * p)[:, None]
    if order == 0:
        ix = _map_index(np.floor(sx + 0.5).astype(np.intp), w, fill_mode)
        iy = _map_index(np.floor(sy + 0.5).astype(np.intp), h, fill_mode)
        iy *= w
        iy += base
        iy += ix
        result = flat.take(iy, axis=0)
    else:
        x0, dx, wx = _corners(sx, w, fill_mode)
        y0, dy, wy = _corners(sy, h, fill_mode)
        wx = wx.astype(x.dtype)[..., None]
        wy = wy.astype(x.dtype)[..., None]
        y0 *= w
        y0 += base
        dy *= w
        y0 += x0  # top-left corner
        top = flat.take(y0, axis=0)
        y0 += dx  # top-right
        top_right = flat.take(y0, axis=0)
        y0 += dy  # bottom-right
        bottom_right = flat.take(y0, axis=0)
        y0 -= dx  # bottom-left
        bottom = flat.take(y0, axis=0)
        top_right -= top
        top_right *= wx
        top += top_right
        bottom_right -= bottom
        bottom_right *= wx
        bottom += bottom_right
        bottom -= top
        bottom *= wy
        top += bottom
        result = top
    if outside is not None:
        result[outside] = cval
    return result.reshape(b, h, w, c)


def affine_resample_adjoint(grad, matrices, fill_mode="nearest", order=1):
    """Transpose of ``affine_resample(x, matrices, fill_mode, cval, order)`` applied to ``grad``.

    Every output pixel read up to four input pixels with bilinear weights (one
    with weight 1 for nearest); its gradient is scatter-added back to them
    with the same weights. Output pixels filled with ``cval`` ("constant")
    send nothing back.
    """
    b, h, w, c = grad.shape
    p = h * w
    sx, sy, outside = _source_coords(matrices, h, w, fill_mode)
    base = (np.arange(b) * p)[:, None]
    if order == 0:
        ix = _map_index(np.floor(sx + 0.5).astype(np.intp), w, fill_mode)
        iy = _map_index(np.floor(sy + 0.5).astype(np.intp), h, fill_mode)
        taps = [(base + iy * w + ix, np.ones((b, p)))]
    else:
        x0, dx, wx = _corners(sx, w, fill_mode)
        y0, dy, wy = _corners(sy, h, fill_mode)
        top_left = base + y0 * w + x0
        dy = dy * w
        taps = [
            (top_left, (1.0 - wx) * (1.0 - wy)),
            (top_left + dx, wx * (1.0 - wy)),
            (top_left + dy, (1.0 - wx) * wy),
            (top_left + dy + dx, wx * wy),
        ]
    g = grad.reshape(b, p, c).astype(np.float64, copy=False)
    channels = np.arange(c)
    out = np.zeros(b * p * c)
    for index, weight in taps:
        if outside is not None:
            weight = weight * ~outside
        flat = (index[..., None] * c + channels).ravel()
        out += np.bincount(flat, weights=(g * weight[..., None]).ravel(), minlength=b * p * c)
    return out.reshape(grad.shape).astype(grad.dtype, copy=False)


# -- resizing ------------------------------------------------------------------------


class AxisSampler:
    """Samples ``n_in`` values at ``n_out`` half-pixel centres along one axis.

    Output ``i`` sits at input coordinate ``(i + 0.5) * n_in / n_out - 0.5``
    (``tf.image.resize`` without antialiasing). Bilinear mixes the two nearest
    inputs ``lo`` and ``hi`` (clamped at the edges) with weights ``1 - frac`` and
    ``frac``; nearest takes input ``floor((i + 0.5) * n_in / n_out)``. The forward
    pass gathers those inputs; the backward pass (the adjoint) sums the weighted
    output gradients back onto them. Both index arrays are non-decreasing, so
    the outputs reading one input form a contiguous run: ``np.add.reduceat``
    sums each run.
    """

    def __init__(self, n_in, n_out, method, dtype):
        self.n_in = n_in
        rows = np.arange(n_out)
        if method == "nearest":
            lo = np.minimum((2 * rows + 1) * n_in // (2 * n_out), n_in - 1)
            self.hi = self.frac = None
        else:
            src = np.clip((rows + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
            lo = np.floor(src).astype(np.intp)
            frac = src - lo
            self.hi = np.minimum(lo + 1, n_in - 1)
            self.frac = frac.astype(dtype) if np.any(frac) else None  # None: samples fall on inputs
        self.lo = lo
        self._runs = [np.unique(idx, return_index=True) for idx in (lo, self.hi) if idx is not None]

    def _weights(self, ndim, axis):
        frac = self.frac.reshape((-1,) + (1,) * (ndim - axis - 1))
        return 1 - frac, frac

    def forward(self, x, axis):
        out = np.take(x, self.lo, axis=axis)
        if self.frac is not None:
            w_lo, w_hi = self._weights(x.ndim, axis)
            out *= w_lo
            out += np.take(x, self.hi, axis=axis) * w_hi
        return out

    def backward(self, grad, axis):
        shape = list(grad.shape)
        shape[axis] = self.n_in
        out = np.zeros(shape, dtype=grad.dtype)
        weights = (None,) if self.frac is None else self._weights(grad.ndim, axis)
        lead = (slice(None),) * axis
        for (targets, starts), w in zip(self._runs, weights):
            part = grad if w is None else grad * w
            out[(*lead, targets)] += np.add.reduceat(part, starts, axis=axis)
        return out


class ResizePlan:
    """Crop (or pad), then resample to ``(height, width)``: a linear map with its adjoint."""

    def __init__(self, h, w, height, width, method, crop, pad, fill_value, dtype):
        self.in_hw = (h, w)
        self.crop = self.pad = None
        if crop:
            ch = max(min(h, int(w * height / width)), 1)
            cw = max(min(w, int(h * width / height)), 1)
            self.crop = ((h - ch) // 2, ch, (w - cw) // 2, cw)
            h, w = ch, cw
        elif pad:
            top = (max(h, int(w * height / width)) - h) // 2
            left = (max(w, int(h * width / height)) - w) // 2
            if top > 0:
                self.pad = (top, 0)
            elif left > 0:
                self.pad = (0, left)
            if self.pad:
                h, w = h + 2 * self.pad[0], w + 2 * self.pad[1]
        self.fill_value = fill_value
        self.rows = None if h == height else AxisSampler(h, height, method, dtype)
        self.cols = None if w == width else AxisSampler(w, width, method, dtype)

    def forward(self, x):
        if self.crop is not None:
            top, ch, left, cw = self.crop
            x = x[:, top:top + ch, left:left + cw]
        elif self.pad is not None:
            top, left = self.pad
            x = np.pad(x, ((0, 0), (top, top), (left, left), (0, 0)), constant_values=self.fill_value)
        if self.rows is not None:
            x = self.rows.forward(x, 1)
        if self.cols is not None:
            x = self.cols.forward(x, 2)
        if self.rows is None and self.cols is None and self.pad is None:
            x = x.copy()  # a crop is a view, the identity the input itself
        return x

    def backward(self, grad):
        if self.cols is not None:
            grad = self.cols.backward(grad, 2)
        if self.rows is not None:
            grad = self.rows.backward(grad, 1)
        n, c = grad.shape[0], grad.shape[3]
        if self.crop is not None:
            top, ch, left, cw = self.crop
            full = np.zeros((n, *self.in_hw, c), dtype=grad.dtype)
            full[:, top:top + ch, left:left + cw] = grad
            return full
        if self.pad is not None:
            top, left = self.pad
            return grad[:, top:top + self.in_hw[0], left:left + self.in_hw[1]].copy()
        return grad


def resize_images(images, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                  pad_to_aspect_ratio=False, fill_value=0.0):
    """Resize a float batch ``(n, h, w, c)`` to ``(n, height, width, c)`` as ``layers.Resizing`` does.

    Half-pixel sampling without antialiasing (``"bilinear"`` or
    ``"nearest"``), after an optional centred crop (or even padding with
    ``fill_value``) to the target aspect ratio. Returns a new array of the
    input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from automl.keras.backend.image import resize_images
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 2, 1)
    >>> resize_images(x, 1, 4)[0, :, :, 0].tolist()
    [[2.0, 2.25, 2.75, 3.0]]
    """
    images = np.asarray(images)
    plan = ResizePlan(images.shape[1], images.shape[2], height, width, interpolation,
                       crop_to_aspect_ratio, pad_to_aspect_ratio, fill_value, images.dtype)
    return plan.forward(images)
