"""``keras.ops.image``: resize, patches, padding and cropping, color spaces, affine, perspective
and elastic sampling, scale_and_translate, Gaussian blur, Sobel edges and SSIM.

Images are ``(height, width, channels)`` or batched ``(batch, height, width, channels)``
(``data_format="channels_first"`` moves the channels first). Resizing is separable: one
interpolation matrix per spatial axis (half-pixel centers, weights renormalized at the
borders, as Keras's JAX/NumPy backends), so its VJP is the transposed matrices.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import _numpy as N
from ._nn import _depthwise_forward, _depthwise_vjp, _prepare, _unpad, _window
from ._registry import Spec, convert, fused, op, to_float
from ._samples import Draw, L, S
from ._tensor import Tensor

_ns = "image"


def _last(images, data_format):
    """``images`` as batched channels-last, and how to undo it."""
    x = to_float(images)
    first = (data_format or "channels_last") == "channels_first"
    if (data_format or "channels_last") not in ("channels_last", "channels_first"):
        raise ValueError(f"The 'data_format' argument must be 'channels_last' or 'channels_first'. "
                         f"Got {data_format!r} instead.")
    if x.ndim not in (3, 4):
        raise ValueError(f"images must be 3-D (h, w, c) or 4-D (batch, h, w, c). Got shape {x.shape}.")
    single = x.ndim == 3
    if single:
        x = x[None]
    if first:
        x = np.moveaxis(x, 1, -1)
    return x, (single, first)


def _back(x, layout):
    single, first = layout
    if first:
        x = np.moveaxis(x, -1, 1)
    return x[0] if single else x


def _to_last(g, layout):
    single, first = layout
    g = np.asarray(g)
    if single:
        g = g[None]
    return np.moveaxis(g, 1, -1) if first else g


def _kernel(name):
    if name == "bilinear":
        return lambda t: np.maximum(0.0, 1.0 - np.abs(t)), 1.0
    if name == "bicubic":  # Keys, a = -0.5
        def cubic(t):
            t = np.abs(t)
            return np.where(t <= 1, ((1.5 * t - 2.5) * t) * t + 1,
                            np.where(t < 2, ((-0.5 * t + 2.5) * t - 4) * t + 2, 0.0))
        return cubic, 2.0
    if name in ("lanczos3", "lanczos5"):
        a = 3.0 if name == "lanczos3" else 5.0
        return lambda t: np.where(np.abs(t) < a, np.sinc(t) * np.sinc(t / a), 0.0), a
    raise ValueError(f"The 'interpolation' argument must be one of 'bilinear', 'nearest', "
                     f"'bicubic', 'lanczos3', 'lanczos5'. Got {name!r} instead.")


def _resize_matrix(n_in, n_out, interpolation, antialias):
    """The (n_out, n_in) interpolation matrix of one axis."""
    scale = n_out / n_in
    centers = (np.arange(n_out) + 0.5) / scale - 0.5
    if interpolation == "nearest":
        src = np.clip(np.floor((np.arange(n_out) + 0.5) / scale).astype(int), 0, n_in - 1)
        w = np.zeros((n_out, n_in))
        w[np.arange(n_out), src] = 1.0
        return w
    kernel, _ = _kernel(interpolation)
    shrink = min(scale, 1.0) if antialias else 1.0
    t = (centers[:, None] - np.arange(n_in)[None, :]) * shrink
    w = kernel(t)
    total = w.sum(axis=1, keepdims=True)
    return w / np.where(total == 0, 1.0, total)


def _aspect_box(h, w, target_h, target_w, mode):
    """Crop (or pad) sizes that give the target's aspect ratio, centered."""
    if mode == "crop":
        ch = min(h, int(round(w * target_h / target_w)))
        cw = min(w, int(round(h * target_w / target_h)))
        return (h - ch) // 2, ch, (w - cw) // 2, cw
    ph = max(h, int(round(w * target_h / target_w)))
    pw = max(w, int(round(h * target_w / target_h)))
    return (ph - h) // 2, ph, (pw - w) // 2, pw


def _resize_parts(images, size, interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio,
                  data_format):
    x, layout = _last(images, data_format)
    th, tw = (int(size[0]), int(size[1]))
    h, w = x.shape[1:3]
    box = None
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True.")
    if crop_to_aspect_ratio:
        box = ("crop", *_aspect_box(h, w, th, tw, "crop"))
    elif pad_to_aspect_ratio:
        box = ("pad", *_aspect_box(h, w, th, tw, "pad"))
    inner = (h, w) if box is None else (box[2], box[4])
    wh = _resize_matrix(inner[0], th, interpolation, antialias).astype(x.dtype)
    ww = _resize_matrix(inner[1], tw, interpolation, antialias).astype(x.dtype)
    return x, layout, box, wh, ww


@op(_ns, vjp=lambda g, out, needs, images, size, interpolation, antialias, crop_to_aspect_ratio,
    pad_to_aspect_ratio, fill_mode, fill_value, data_format: (_resize_vjp(
        g, images, size, interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio,
        data_format),),
    samples=S((2, 4, 5, 2), L((6, 3))) + S((3, 4, 1), L((2, 7)), interpolation="nearest")
    + S((1, 5, 4, 2), L((3, 3)), interpolation="bicubic", antialias=True)
    + S((1, 4, 6, 1), L((3, 3)), crop_to_aspect_ratio=True)
    + S((1, 4, 6, 1), L((3, 3)), pad_to_aspect_ratio=True)
    + S((1, 2, 3, 4), L((5, 2)), data_format="channels_first"))
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """``images`` resized to ``size = (height, width)``."""
    x, layout, box, wh, ww = _resize_parts(images, size, interpolation, antialias, crop_to_aspect_ratio,
                                           pad_to_aspect_ratio, data_format)
    if box is not None and box[0] == "crop":
        x = x[:, box[1]:box[1] + box[2], box[3]:box[3] + box[4]]
    elif box is not None:
        padded = np.full((x.shape[0], box[2], box[4], x.shape[-1]), fill_value, dtype=x.dtype)
        padded[:, box[1]:box[1] + x.shape[1], box[3]:box[3] + x.shape[2]] = x
        x = padded
    out = np.einsum("oh,nhwc,pw->nopc", wh, x, ww, optimize=True)
    return _back(out, layout)


def _resize_vjp(g, images, size, interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio,
                data_format):
    x, layout, box, wh, ww = _resize_parts(images, size, interpolation, antialias, crop_to_aspect_ratio,
                                           pad_to_aspect_ratio, data_format)
    g = _to_last(g, layout)
    gi = np.einsum("oh,nopc,pw->nhwc", wh, g, ww, optimize=True)
    if box is not None and box[0] == "crop":
        full = np.zeros(x.shape, dtype=gi.dtype)
        full[:, box[1]:box[1] + box[2], box[3]:box[3] + box[4]] = gi
        gi = full
    elif box is not None:
        gi = gi[:, box[1]:box[1] + x.shape[1], box[3]:box[3] + x.shape[2]]
    return _back(gi, layout)


def _patch_parts(images, size, strides, dilation_rate, padding, data_format):
    x, layout = _last(images, data_format)
    ks = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    strides = ks if strides is None else strides
    _, x, xp, strides, dilation, pads, outs = _prepare(x, ks, strides, padding, dilation_rate, None)
    return x, layout, ks, xp, strides, dilation, pads, outs


def _extract_patches_vjp(g, out, needs, images, size, strides, dilation_rate, padding, data_format):
    x, layout, ks, xp, strides, dilation, pads, outs = _patch_parts(images, size, strides, dilation_rate,
                                                                    padding, data_format)
    g = _to_last(g, layout)
    c = x.shape[-1]
    g = g.reshape(*g.shape[:-1], len(list(itertools.product(*[range(k) for k in ks]))), c)
    gx = np.zeros_like(xp, dtype=g.dtype)
    for i, offset in enumerate(itertools.product(*[range(k) for k in ks])):
        _window(gx, offset, dilation, strides, outs)[...] += g[..., i, :]
    return (_back(_unpad(gx, pads), layout),)


@op(_ns, vjp=_extract_patches_vjp,
    samples=S((2, 6, 6, 2), 2) + S((5, 5, 1), L((2, 3)), strides=1) + S((1, 5, 5, 2), 3, strides=2, padding="same")
    + S((1, 2, 6, 6), 2, dilation_rate=2, strides=1, data_format="channels_first"))
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` from ``images``, flattened into the channel axis
    (``size_h * size_w * channels`` values per output position)."""
    x, layout, ks, xp, strides, dilation, pads, outs = _patch_parts(images, size, strides, dilation_rate,
                                                                    padding, data_format)
    windows = [_window(xp, offset, dilation, strides, outs)
               for offset in itertools.product(*[range(k) for k in ks])]
    out = np.stack(windows, axis=-2)
    return _back(out.reshape(*out.shape[:-2], -1), layout)


def _sides(top, bottom, target, size, what):
    if target is not None:
        if top is None and bottom is None:
            raise ValueError(f"{what}: give a top/left amount together with the target size.")
        if top is None:
            top = target - size - bottom
        elif bottom is None:
            bottom = target - size - top
    top, bottom = int(top or 0), int(bottom or 0)
    if top < 0 or bottom < 0:
        raise ValueError(f"{what}: the amounts must be non-negative. Got {top} and {bottom}.")
    return top, bottom


def _pad_amounts(images, data_format, top, left, bottom, right, target_height, target_width):
    x, layout = _last(images, data_format)
    t, b = _sides(top, bottom, target_height, x.shape[1], "pad_images")
    lft, r = _sides(left, right, target_width, x.shape[2], "pad_images")
    return x, layout, (t, b, lft, r)


@op(_ns, vjp=lambda g, out, needs, images, top_padding, left_padding, bottom_padding, right_padding,
    target_height, target_width, data_format: (_pad_vjp(
        g, images, top_padding, left_padding, bottom_padding, right_padding, target_height, target_width,
        data_format),),
    samples=S((2, 3, 4, 2), 1, 2, 0, 1) + S((3, 3, 1), 1, 0, target_height=5, target_width=4))
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format=None):
    """``images`` padded with zeros on each side (amounts, or a target size)."""
    x, layout, (t, b, lft, r) = _pad_amounts(images, data_format, top_padding, left_padding,
                                             bottom_padding, right_padding, target_height, target_width)
    return _back(np.pad(x, [(0, 0), (t, b), (lft, r), (0, 0)]), layout)


def _pad_vjp(g, images, top, left, bottom, right, target_height, target_width, data_format):
    x, layout, (t, b, lft, r) = _pad_amounts(images, data_format, top, left, bottom, right,
                                             target_height, target_width)
    g = _to_last(g, layout)
    return _back(g[:, t:t + x.shape[1], lft:lft + x.shape[2]], layout)


def _crop_box(images, data_format, top, left, bottom, right, target_height, target_width):
    x, layout = _last(images, data_format)
    h, w = x.shape[1:3]
    if target_height is not None:
        top = (h - target_height - (bottom or 0)) if top is None else top
        bottom = h - target_height - top
    if target_width is not None:
        left = (w - target_width - (right or 0)) if left is None else left
        right = w - target_width - left
    t, b, lft, r = (int(v or 0) for v in (top, bottom, left, right))
    if min(t, b, lft, r) < 0 or t + b >= h or lft + r >= w:
        raise ValueError(f"crop_images: the cropping ({t}, {b}, {lft}, {r}) does not fit images of size "
                         f"{h}x{w}.")
    return x, layout, (t, h - b, lft, w - r)


@op(_ns, vjp=lambda g, out, needs, images, top_cropping, left_cropping, bottom_cropping, right_cropping,
    target_height, target_width, data_format: (_crop_vjp(
        g, images, top_cropping, left_cropping, bottom_cropping, right_cropping, target_height,
        target_width, data_format),),
    samples=S((2, 5, 6, 2), 1, 2, 1, 0) + S((5, 5, 1), 1, 0, target_height=3, target_width=4))
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    """``images`` cropped on each side (amounts, or a target size)."""
    x, layout, (t0, t1, l0, l1) = _crop_box(images, data_format, top_cropping, left_cropping,
                                            bottom_cropping, right_cropping, target_height, target_width)
    return _back(x[:, t0:t1, l0:l1].copy(), layout)


def _crop_vjp(g, images, top, left, bottom, right, target_height, target_width, data_format):
    x, layout, (t0, t1, l0, l1) = _crop_box(images, data_format, top, left, bottom, right,
                                            target_height, target_width)
    full = np.zeros(x.shape, dtype=np.asarray(g).dtype)
    full[:, t0:t1, l0:l1] = _to_last(g, layout)
    return _back(full, layout)


_GRAY = np.array([0.2989, 0.5870, 0.1140])


@op(_ns, vjp=lambda g, out, needs, images, data_format: (_gray_vjp(g, images, data_format),),
    samples=S((2, 3, 4, 3)) + S((1, 3, 2, 2), data_format="channels_first"))
def rgb_to_grayscale(images, data_format=None):
    """Luma of RGB ``images`` (weights 0.2989, 0.5870, 0.1140), keeping one channel."""
    x, layout = _last(images, data_format)
    if x.shape[-1] != 3:
        raise ValueError(f"rgb_to_grayscale expects 3 channels. Got {x.shape[-1]}.")
    return _back(x @ _GRAY.astype(x.dtype)[:, None], layout)


def _gray_vjp(g, images, data_format):
    _, layout = _last(images, data_format)
    return _back(_to_last(g, layout) * _GRAY.astype(np.asarray(g).dtype), layout)


def _channels(x, data_format):
    axis = 1 if (data_format or "channels_last") == "channels_first" else -1
    if np.ndim(x) == 3 and axis == 1:
        axis = 0
    return axis


@op(_ns, vjp="traced", samples=S(Draw((2, 3, 4, 3), "prob")) + S(Draw((3, 2, 2), "prob"), data_format="channels_first"))
def rgb_to_hsv(images, data_format=None):
    """RGB ``images`` (values in [0, 1]) as hue, saturation and value in [0, 1]."""
    axis = _channels(getattr(images, "value", images), data_format)
    r, g, b = (N.take(images, [i], axis=axis) for i in range(3))
    v = N.maximum(N.maximum(r, g), b)
    c = N.subtract(v, N.minimum(N.minimum(r, g), b))
    s = N.divide_no_nan(c, v)
    hr = N.divide_no_nan(N.subtract(g, b), c)
    hg = N.add(2.0, N.divide_no_nan(N.subtract(b, r), c))
    hb = N.add(4.0, N.divide_no_nan(N.subtract(r, g), c))
    vv = getattr(v, "value", v)
    h = N.where(vv == getattr(r, "value", r), hr, N.where(vv == getattr(g, "value", g), hg, hb))
    h = N.mod(N.divide(h, 6.0), 1.0)
    h = N.where(getattr(c, "value", c) > 0, h, 0.0)
    return N.concatenate([h, s, v], axis=axis)


@op(_ns, vjp="traced", samples=S(Draw((2, 3, 4, 3), "prob")) + S(Draw((3, 2, 2), "prob"), data_format="channels_first"))
def hsv_to_rgb(images, data_format=None):
    """HSV ``images`` (values in [0, 1]) as RGB."""
    axis = _channels(getattr(images, "value", images), data_format)
    h, s, v = (N.take(images, [i], axis=axis) for i in range(3))
    dh = N.multiply(h, 6.0)
    r = N.clip(N.subtract(N.absolute(N.subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    g = N.clip(N.subtract(2.0, N.absolute(N.subtract(dh, 2.0))), 0.0, 1.0)
    b = N.clip(N.subtract(2.0, N.absolute(N.subtract(dh, 4.0))), 0.0, 1.0)
    rgb = N.concatenate([r, g, b], axis=axis)
    return N.multiply(N.add(N.multiply(N.subtract(rgb, 1.0), s), 1.0), v)


# -- coordinate sampling -----------------------------------------------------------------

def _fill_index(i, n, mode):
    """Map the integer coordinates ``i`` into ``[0, n)`` by ``mode``; returns (index, inside)."""
    if mode == "constant":
        return np.clip(i, 0, n - 1), (i >= 0) & (i < n)
    if mode == "nearest":
        return np.clip(i, 0, n - 1), np.ones(i.shape, bool)
    if mode == "wrap":
        return np.mod(i, n), np.ones(i.shape, bool)
    if mode == "mirror":  # ... 2 1 | 0 1 2 ... n-1 | n-2 ...
        if n == 1:
            return np.zeros_like(i), np.ones(i.shape, bool)
        period = 2 * (n - 1)
        k = np.mod(i, period)
        return np.where(k >= n, period - k, k), np.ones(i.shape, bool)
    if mode == "reflect":  # ... 1 0 | 0 1 ... n-1 | n-1 ...
        period = 2 * n
        k = np.mod(i, period)
        return np.where(k >= n, period - 1 - k, k), np.ones(i.shape, bool)
    raise ValueError(f"The 'fill_mode' argument must be one of 'constant', 'nearest', 'wrap', "
                     f"'mirror', 'reflect'. Got {mode!r} instead.")


def _taps(coordinates, shape, order, fill_mode):
    """For each sampled point: the flat input indices and weights of its interpolation taps."""
    coords = [np.asarray(c, dtype=np.float64) for c in coordinates]
    if order == 0:
        corners = [[(np.floor(c + 0.5).astype(np.int64), np.ones(c.shape))] for c in coords]
    elif order == 1:
        corners = []
        for c in coords:
            lo = np.floor(c).astype(np.int64)
            frac = c - lo
            corners.append([(lo, 1 - frac), (lo + 1, frac)])
    else:
        raise ValueError(f"The 'order' argument must be 0 or 1. Got {order!r} instead.")
    taps = []
    for combo in itertools.product(*corners):
        flat = 0
        weight = 1.0
        inside = True
        for (i, w), n in zip(combo, shape):
            idx, ok = _fill_index(i, n, fill_mode)
            flat = flat * n + idx
            weight = weight * w
            inside = inside & ok
        taps.append((flat, weight, inside))
    return taps


def _map_coordinates_vjp(g, out, needs, inputs, coordinates, order, fill_mode, fill_value):
    x = np.asarray(inputs)
    g = np.asarray(g)
    grad = np.zeros(x.size, dtype=g.dtype)
    for flat, weight, inside in _taps(coordinates, x.shape, order, fill_mode):
        w = np.where(inside, weight, 0.0) * g
        np.add.at(grad, flat.ravel(), w.ravel())
    return (grad.reshape(x.shape),)


@op(_ns, vjp=_map_coordinates_vjp,
    samples=S((4, 5), [np.array([[0.3, 1.7, 3.2], [2.5, 0.1, 2.9]]), np.array([[0.4, 3.6, 1.1],
                                                                             [4.4, 2.2, 0.6]])], 1)
    + S((4, 5), [np.array([0.2, -0.7, 3.9]), np.array([4.6, 1.3, -0.2])], 1, fill_mode="reflect")
    + S((3, 4), [np.array([0.2, 2.6]), np.array([3.4, 1.2])], 0, fill_mode="wrap"))
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """``inputs`` sampled at ``coordinates`` (one array per axis) by nearest (``order=0``) or
    linear (``order=1``) interpolation."""
    x = to_float(inputs)
    if len(coordinates) != x.ndim:
        raise ValueError(f"map_coordinates needs one coordinate array per input axis ({x.ndim}). "
                         f"Got {len(coordinates)}.")
    flat_x = x.ravel()
    out = 0.0
    outside = None
    for flat, weight, inside in _taps(coordinates, x.shape, order, fill_mode):
        out = out + np.where(inside, weight * flat_x[flat], 0.0)
        if fill_mode == "constant":
            missing = np.where(inside, 0.0, weight)
            outside = missing if outside is None else outside + missing
    if fill_mode == "constant" and outside is not None:
        out = out + outside * fill_value
    return np.asarray(out, dtype=x.dtype)


def _affine_coordinates(shape, transform):
    """Input coordinates (y, x) of each output pixel for each image's 8-parameter transform."""
    h, w = shape
    t = np.asarray(transform, dtype=np.float64)
    t = t[None] if t.ndim == 1 else t
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i, None, None] for i in range(8))
    k = c0 * xs + c1 * ys + 1.0
    return (b0 * xs + b1 * ys + b2) / k, (a0 * xs + a1 * ys + a2) / k


def _affine_parts(images, transform, data_format):
    x, layout = _last(images, data_format)
    ys, xs = _affine_coordinates(x.shape[1:3], transform)
    if ys.shape[0] == 1 and x.shape[0] > 1:
        ys = np.broadcast_to(ys, (x.shape[0], *ys.shape[1:]))
        xs = np.broadcast_to(xs, (x.shape[0], *xs.shape[1:]))
    n, h, w, c = x.shape
    coords = [np.broadcast_to(np.arange(n)[:, None, None, None], (n, h, w, c)).astype(float),
              np.broadcast_to(ys[..., None], (n, h, w, c)), np.broadcast_to(xs[..., None], (n, h, w, c)),
              np.broadcast_to(np.arange(c)[None, None, None, :], (n, h, w, c)).astype(float)]
    return x, layout, coords


def _affine_vjp(g, out, needs, images, transform, interpolation, fill_mode, fill_value, data_format):
    x, layout, coords = _affine_parts(images, transform, data_format)
    order = 0 if interpolation == "nearest" else 1
    g = _to_last(g, layout)
    grad = np.zeros(x.size, dtype=g.dtype)
    for flat, weight, inside in _affine_taps(coords, x.shape, order, fill_mode):
        np.add.at(grad, flat.ravel(), (np.where(inside, weight, 0.0) * g).ravel())
    return (_back(grad.reshape(x.shape), layout),)


def _affine_taps(coords, shape, order, fill_mode):
    # batch and channel coordinates are exact integers: sample them as nearest, inside.
    batch, ys, xs, chan = coords
    taps = _taps([ys, xs], shape[1:3], order, fill_mode)
    n_idx = batch.astype(np.int64)
    c_idx = chan.astype(np.int64)
    h, w, c = shape[1:]
    result = []
    for flat, weight, inside in taps:
        full = (n_idx * (h * w) + flat) * c + c_idx
        result.append((full, weight, inside))
    return result


@op(_ns, vjp=_affine_vjp,
    samples=S((2, 4, 5, 2), np.array([[1.0, 0.1, 0.3, -0.2, 0.9, 0.4, 0.0, 0.0],
                                      [0.8, 0.0, 0.5, 0.1, 1.1, -0.3, 0.01, 0.02]]))
    + S((4, 4, 1), np.array([0.9, 0.2, 0.1, 0.1, 1.0, 0.2, 0.0, 0.0]), interpolation="nearest",
        fill_mode="reflect"))
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
                     data_format=None):
    """``images`` resampled through the projective ``transform`` ``[a0, a1, a2, b0, b1, b2, c0,
    c1]`` mapping each output pixel ``(x, y)`` to the input point
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``."""
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"The 'interpolation' argument must be 'bilinear' or 'nearest'. "
                         f"Got {interpolation!r} instead.")
    x, layout, coords = _affine_parts(images, transform, data_format)
    order = 0 if interpolation == "nearest" else 1
    flat_x = x.ravel()
    out = 0.0
    outside = 0.0
    for flat, weight, inside in _affine_taps(coords, x.shape, order, fill_mode):
        out = out + np.where(inside, weight * flat_x[flat], 0.0)
        outside = outside + np.where(inside, 0.0, weight)
    if fill_mode == "constant":
        out = out + outside * fill_value
    return _back(np.asarray(out, dtype=x.dtype), layout)


# -- filters (gaussian blur, Sobel edges) -----------------------------------------------------
def _gaussian_1d(size, sigma):
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def _gaussian_parts(images, kernel_size, sigma, data_format):
    x, layout = _last(images, data_format)
    size = (kernel_size, kernel_size) if np.isscalar(kernel_size) else tuple(int(k) for k in kernel_size)
    sig = (float(sigma),) * 2 if np.isscalar(sigma) else tuple(float(v) for v in sigma)
    if len(size) != 2 or len(sig) != 2 or min(size) < 1 or min(sig) <= 0:
        raise ValueError(f"gaussian_blur expects kernel_size as two positive ints and sigma as two positive "
                         f"floats. Got kernel_size={kernel_size!r} and sigma={sigma!r}.")
    # As Keras's NumPy backend: the (size[1], size[0]) outer product of the two 1-D kernels.
    k2 = np.outer(_gaussian_1d(size[1], sig[1]), _gaussian_1d(size[0], sig[0])).astype(x.dtype)
    kernel = np.ascontiguousarray(np.broadcast_to(k2[:, :, None, None], (*k2.shape, x.shape[-1], 1)))
    return x, layout, kernel


def _gaussian_vjp(g, out, needs, images, kernel_size, sigma, data_format):
    x, layout, kernel = _gaussian_parts(images, kernel_size, sigma, data_format)
    gx, _ = _depthwise_vjp(_to_last(g, layout), None, (True, False), x, kernel, 1, "same", None, 1)
    return (_back(gx, layout),)


@op(_ns, vjp=_gaussian_vjp, samples=S((2, 5, 6, 3)) + S((4, 5, 2), L((3, 5)), L((1.0, 2.0)))
    + S((1, 2, 5, 5), 5, 1.5, data_format="channels_first"))
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blur with a normalized Gaussian kernel per channel (zero padding, same size)."""
    x, layout, kernel = _gaussian_parts(images, kernel_size, sigma, data_format)
    return _back(_depthwise_forward(x, kernel, 1, "same", None, 1), layout)


_SMOOTH, _DIFF = np.array([1.0, 2.0, 1.0]), np.array([-1.0, 0.0, 1.0])


def _sobel_parts(images, data_format):
    x, layout = _last(images, data_format)
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="symmetric")  # SciPy's "reflect"
    k = np.stack([np.outer(_DIFF, _SMOOTH), np.outer(_SMOOTH, _DIFF)], -1).astype(x.dtype)  # [dy, dx]
    kernel = np.ascontiguousarray(np.broadcast_to(k[:, :, None, :], (3, 3, x.shape[-1], 2)))
    return x, xp, layout, kernel


def _edges_back(e, layout):
    single, first = layout
    if first:
        e = np.moveaxis(e, 3, 1)
    return e[0] if single else e


def _sobel_vjp(g, out, needs, images, data_format):
    x, xp, layout, kernel = _sobel_parts(images, data_format)
    single, first = layout
    g = np.asarray(g)
    if single:
        g = g[None]
    if first:
        g = np.moveaxis(g, 1, 3)
    g = g.reshape(*g.shape[:3], -1)
    gp, _ = _depthwise_vjp(g, None, (True, False), xp, kernel, 1, "valid", None, 1)
    for axis in (1, 2):  # the adjoint of the one-pixel symmetric padding
        gp = np.moveaxis(gp, axis, 0)
        inner = gp[1:-1].copy()
        inner[0] += gp[0]
        inner[-1] += gp[-1]
        gp = np.moveaxis(inner, 0, axis)
    return (_back(gp, layout),)


@op(_ns, vjp=_sobel_vjp, samples=S((2, 5, 6, 3)) + S((4, 4, 1)) + S((1, 2, 4, 5), data_format="channels_first"))
def sobel_edges(images, data_format=None):
    """Sobel gradients ``[dy, dx]`` in a new last axis: ``(batch, height, width, channels, 2)``
    (``(batch, channels, height, width, 2)`` for channels_first); borders mirrored as SciPy's
    ``ndimage.sobel`` (Keras's NumPy backend)."""
    x, xp, layout, kernel = _sobel_parts(images, data_format)
    e = _depthwise_forward(xp, kernel, 1, "valid", None, 1)
    return _edges_back(e.reshape(*e.shape[:3], x.shape[-1], 2), layout)


def _volumes(volumes, data_format):
    x = to_float(volumes)
    first = (data_format or "channels_last") == "channels_first"
    if x.ndim not in (4, 5):
        raise ValueError(f"volumes must be 4-D (d, h, w, c) or 5-D (batch, d, h, w, c). Got shape {x.shape}.")
    single = x.ndim == 4
    x = x[None] if single else x
    return (np.moveaxis(x, 1, -1) if first else x), (single, first)


def _patch3d_parts(volumes, size, strides, dilation_rate, padding, data_format):
    x, layout = _volumes(volumes, data_format)
    ks = (size,) * 3 if isinstance(size, (int, np.integer)) else tuple(size)
    strides = ks if strides is None else strides
    _, x, xp, strides, dilation, pads, outs = _prepare(x, ks, strides, padding, dilation_rate, None)
    return x, layout, ks, xp, strides, dilation, pads, outs


def _extract_patches_3d_vjp(g, out, needs, volumes, size, strides, dilation_rate, padding, data_format):
    x, layout, ks, xp, strides, dilation, pads, outs = _patch3d_parts(volumes, size, strides,
                                                                      dilation_rate, padding, data_format)
    offsets = list(itertools.product(*[range(k) for k in ks]))
    g = _to_last(g, layout)
    g = g.reshape(*g.shape[:-1], len(offsets), x.shape[-1])
    gx = np.zeros_like(xp, dtype=g.dtype)
    for i, offset in enumerate(offsets):
        _window(gx, offset, dilation, strides, outs)[...] += g[..., i, :]
    return (_back(_unpad(gx, pads), layout),)


@op(_ns, vjp=_extract_patches_3d_vjp,
    samples=S((1, 4, 4, 4, 2), 2) + S((4, 5, 4, 1), L((2, 3, 2)), strides=1, padding="same"))
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """3-D patches of ``size`` from ``volumes``, flattened into the channel axis."""
    x, layout, ks, xp, strides, dilation, pads, outs = _patch3d_parts(volumes, size, strides,
                                                                      dilation_rate, padding, data_format)
    windows = [_window(xp, offset, dilation, strides, outs)
               for offset in itertools.product(*[range(k) for k in ks])]
    out = np.stack(windows, axis=-2)
    return _back(out.reshape(*out.shape[:-2], -1), layout)


# -- perspective and elastic warps, SSIM --------------------------------------------------------
def _homography(start_points, end_points):
    """The 8 projective parameters mapping each output point (an end point) to its input point
    (the matching start point), per image: ``(n, 8)``, in the layout of affine_transform."""
    s, e = np.asarray(start_points, np.float64), np.asarray(end_points, np.float64)
    for name, v in (("start_points", s), ("end_points", e)):
        if v.ndim not in (2, 3) or v.shape[-2:] != (4, 2):
            raise ValueError(f"The '{name}' argument must have shape (4, 2) or (batch, 4, 2). "
                             f"Got shape {v.shape} instead.")
    if s.shape != e.shape:
        raise ValueError(f"start_points and end_points must have the same shape. Got {s.shape} and "
                         f"{e.shape} instead.")
    s, e = s.reshape(-1, 4, 2), e.reshape(-1, 4, 2)
    ex, ey, sx, sy = e[..., 0], e[..., 1], s[..., 0], s[..., 1]
    zero, one = np.zeros_like(ex), np.ones_like(ex)
    rows_x = np.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], axis=-1)
    rows_y = np.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], axis=-1)
    a = np.concatenate([rows_x, rows_y], axis=1)
    b = np.concatenate([sx, sy], axis=1)
    return np.linalg.solve(a, b[..., None])[..., 0]


def _check_interpolation(interpolation):
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"The 'interpolation' argument must be 'bilinear' or 'nearest'. "
                         f"Got {interpolation!r} instead.")


def _perspective_vjp(g, out, needs, images, start_points, end_points, interpolation, fill_value,
                     data_format):
    return _affine_vjp(g, out, needs, images, _homography(start_points, end_points), interpolation,
                       "constant", fill_value, data_format)


def _perspective_spec(images, start_points, end_points, interpolation="bilinear", fill_value=0,
                      data_format=None):
    return Spec(images.shape, to_float(np.zeros((), images.dtype)).dtype)


_SQUARE = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 3.0], [0.0, 3.0]])


@op(_ns, vjp=_perspective_vjp, spec=_perspective_spec,
    samples=S((2, 4, 5, 2), _SQUARE, _SQUARE + np.array([[0.3, 0.2], [-0.4, 0.1], [0.2, -0.3], [0.1, 0.4]]))
    + S((2, 3, 5, 4), np.stack([_SQUARE, _SQUARE * 0.8]), np.stack([_SQUARE * 0.9 + 0.3, _SQUARE + 0.45]),
        interpolation="nearest", fill_value=0.5, data_format="channels_first")
    + S((5, 4, 1), _SQUARE, _SQUARE * 1.1 - 0.2))
def perspective_transform(images, start_points, end_points, interpolation="bilinear", fill_value=0,
                          data_format=None):
    """``images`` warped by the perspective transform taking the four ``start_points`` (x, y)
    to the four ``end_points`` (one set, or one per image); points mapped from outside the
    image are ``fill_value``."""
    _check_interpolation(interpolation)
    transform = _homography(start_points, end_points)
    return affine_transform(to_float(images), transform, interpolation, "constant", fill_value, data_format)


def _elastic_fwd(images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, seed=None, data_format=None):
    _check_interpolation(interpolation)
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise TypeError(f"The 'seed' argument of elastic_transform must be an int or None. Got {seed!r}.")
    x, layout = _last(images, data_format)
    n, h, w, c = x.shape
    alpha, sigma = float(alpha), float(sigma)
    rng = np.random.default_rng(seed)
    size = int(6 * sigma) | 1
    # Smooth random displacements (standard normal draws times sigma, blurred by a Gaussian of
    # width sigma), scaled by alpha; the draws are saved for the backward pass.
    dx, dy = (gaussian_blur((rng.standard_normal((n, h, w)).astype(x.dtype) * sigma)[..., None],
                            (size, size), (sigma, sigma))[..., 0] for _ in range(2))
    ys = np.arange(h, dtype=np.float64)[None, :, None] + alpha * dy
    xs = np.arange(w, dtype=np.float64)[None, None, :] + alpha * dx
    coords = [np.broadcast_to(np.arange(n)[:, None, None, None], x.shape).astype(float),
              np.broadcast_to(ys[..., None], x.shape), np.broadcast_to(xs[..., None], x.shape),
              np.broadcast_to(np.arange(c)[None, None, None, :], x.shape).astype(float)]
    taps = _affine_taps(coords, x.shape, 0 if interpolation == "nearest" else 1, fill_mode)
    flat_x = x.ravel()
    out = 0.0
    outside = 0.0
    for flat, weight, inside in taps:
        out = out + np.where(inside, weight * flat_x[flat], 0.0)
        outside = outside + np.where(inside, 0.0, weight)
    if fill_mode == "constant":
        out = out + outside * fill_value
    return _back(np.asarray(out, dtype=x.dtype), layout), (taps, x.shape, x.dtype, layout)


def _elastic_bwd(g, saved, needs, into=None):
    taps, shape, dtype, layout = saved
    g = _to_last(g, layout)
    grad = np.zeros(int(np.prod(shape)), dtype=g.dtype)
    for flat, weight, inside in taps:
        np.add.at(grad, flat.ravel(), (np.where(inside, weight, 0.0) * g).ravel())
    return (_back(grad.reshape(shape), layout),)


elastic_transform = fused(
    _ns, bwd=_elastic_bwd, diff=("images",),
    samples=S((2, 6, 7, 2), 2.0, 1.0, seed=3) + S((5, 6, 1), 3.0, 0.8, "nearest", seed=1)
    + S((1, 2, 5, 5), 1.5, 1.0, fill_mode="constant", fill_value=0.3, seed=4, data_format="channels_first"),
    name="elastic_transform")(_elastic_fwd)
elastic_transform.__doc__ = """``images`` displaced by a smooth random field (Simard et al., 2003): per pixel, two standard
normal draws (from ``numpy.random.default_rng(seed)``) times ``sigma``, blurred by a Gaussian of
width ``sigma``, scaled by ``alpha``, then sampled by ``interpolation`` with ``fill_mode``."""


def _valid_gaussian(n, size, sigma, dtype):
    """The matrix of a 1-D normalized Gaussian filter over ``n`` samples, "valid" outputs only."""
    g = _gaussian_1d(size, sigma)
    m = np.zeros((n - size + 1, n), dtype=dtype)
    for i in range(n - size + 1):
        m[i, i:i + size] = g
    return m


@op(_ns, vjp="traced", diff=("image1", "image2"),
    samples=S(Draw((2, 7, 8, 2), "prob"), Draw((2, 7, 8, 2), "prob"), filter_size=3)
    + S((6, 6, 1), (6, 6, 1), 2.0, 5, 1.0)
    + S(Draw((1, 2, 5, 6), "prob"), Draw((1, 2, 5, 6), "prob"), filter_size=3, k1=0.05,
        data_format="channels_first"))
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """The structural similarity index (Wang et al., 2004) of two images or batches: local
    means, variances and covariance under a Gaussian window (valid positions only), the SSIM
    map averaged over positions and channels; one value per image (a scalar for 3-D inputs)."""
    shape = np.shape(getattr(image1, "value", image1))
    if len(shape) not in (3, 4) or np.shape(getattr(image2, "value", image2)) != shape:
        raise ValueError(f"ssim expects two images of the same 3-D (h, w, c) or 4-D (batch, h, w, c) "
                         f"shape. Got {shape} and {np.shape(getattr(image2, 'value', image2))}.")
    if (data_format or "channels_last") not in ("channels_last", "channels_first"):
        raise ValueError(f"The 'data_format' argument must be 'channels_last' or 'channels_first'. "
                         f"Got {data_format!r} instead.")
    x1, x2 = (v if isinstance(v, Tensor) else to_float(v) for v in (image1, image2))
    single = len(shape) == 3
    if single:
        x1, x2 = N.expand_dims(x1, 0), N.expand_dims(x2, 0)
    if data_format == "channels_first":
        x1, x2 = N.moveaxis(x1, 1, -1), N.moveaxis(x2, 1, -1)
    h, w = np.shape(getattr(x1, "value", x1))[1:3]
    size = int(filter_size)
    if size < 1 or size > min(h, w):
        raise ValueError(f"The 'filter_size' argument of ssim must be between 1 and the image size "
                         f"({min(h, w)}). Got {filter_size!r} instead.")
    dtype = getattr(x1, "dtype", None)
    ah, aw = (_valid_gaussian(n, size, float(filter_sigma), dtype) for n in (h, w))

    def window_mean(t):
        return N.einsum("ph,bhwc,qw->bpqc", ah, t, aw)

    mu1, mu2 = window_mean(x1), window_mean(x2)
    mu11, mu22, mu12 = N.multiply(mu1, mu1), N.multiply(mu2, mu2), N.multiply(mu1, mu2)
    var1 = N.subtract(window_mean(N.multiply(x1, x1)), mu11)
    var2 = N.subtract(window_mean(N.multiply(x2, x2)), mu22)
    cov = N.subtract(window_mean(N.multiply(x1, x2)), mu12)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    num = N.multiply(N.add(N.multiply(mu12, 2.0), c1), N.add(N.multiply(cov, 2.0), c2))
    den = N.multiply(N.add(N.add(mu11, mu22), c1), N.add(N.add(var1, var2), c2))
    result = N.mean(N.divide(num, den), axis=(1, 2, 3))
    return N.squeeze(result, 0) if single else result


# -- scale_and_translate -------------------------------------------------------------------------
_SCALE_METHODS = {"linear": "bilinear", "bilinear": "bilinear", "trilinear": "bilinear", "triangle": "bilinear",
                  "cubic": "bicubic", "bicubic": "bicubic", "tricubic": "bicubic",
                  "lanczos3": "lanczos3", "lanczos5": "lanczos5"}


def _scale_matrix(m, n, scale, translation, kernel, antialias):
    """The (m, n) weights taking an axis of m samples to n: output j samples the input at
    ``(j + 0.5 - translation) / scale - 0.5`` with the kernel widened by ``1 / scale`` when
    shrinking (``antialias``), weights renormalized, and zero outside the input."""
    centers = (np.arange(n) + 0.5 - translation) / scale - 0.5
    width = max(1.0 / scale, 1.0) if antialias else 1.0
    w = kernel(np.abs(centers[None, :] - np.arange(m)[:, None]) / width)
    total = w.sum(axis=0, keepdims=True)
    w = np.where(np.abs(total) > 1000.0 * np.finfo(np.float32).eps, w / np.where(total == 0, 1.0, total), 0.0)
    return np.where((centers >= -0.5) & (centers <= m - 0.5), w, 0.0)


def _scale_parts(images, output_shape, scale, translation, spatial_dims, method, antialias):
    if method not in _SCALE_METHODS:
        raise ValueError(f"The 'method' argument must be one of {sorted(_SCALE_METHODS)}. Got {method!r} instead.")
    x = convert(images)
    dims = [int(d) % x.ndim for d in np.ravel(spatial_dims)]
    scale, translation = np.ravel(np.asarray(scale, np.float64)), np.ravel(np.asarray(translation, np.float64))
    if len(tuple(output_shape)) != x.ndim or len(scale) != len(dims) or len(translation) != len(dims):
        raise ValueError(f"scale_and_translate needs output_shape with one size per axis of images ({x.ndim}) "
                         f"and one scale and translation per spatial dim ({len(dims)}). Got output_shape="
                         f"{tuple(output_shape)}, scale={scale.tolist()}, translation={translation.tolist()}.")
    if np.any(scale <= 0):
        raise ValueError(f"The 'scale' argument must be positive. Got {scale.tolist()}.")
    kernel, _ = _kernel(_SCALE_METHODS[method])
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    mats = [_scale_matrix(x.shape[d], int(tuple(output_shape)[d]), sc, tr, kernel, antialias).astype(dtype)
            for d, sc, tr in zip(dims, scale, translation)]
    return x, dims, mats


def _apply_axes(x, dims, mats):
    for d, w in zip(dims, mats):
        x = np.moveaxis(np.tensordot(x, w, axes=(d, 0)), -1, d)
    return x


def _scale_and_translate_vjp(g, out, needs, images, output_shape, scale, translation, spatial_dims, method,
                             antialias):
    _, dims, mats = _scale_parts(images, output_shape, scale, translation, spatial_dims, method, antialias)
    return (_apply_axes(np.asarray(g), dims, [w.T for w in mats]),)


@op(_ns, vjp=_scale_and_translate_vjp,
    samples=S((2, 5, 6, 3), L((2, 7, 4, 3)), L((1.4, 0.7)), L((0.5, -0.3)), L((1, 2)), "linear")
    + S((6, 5), L((4, 9)), L((0.6, 1.8)), L((0.0, 1.0)), L((0, 1)), "cubic", antialias=False)
    + S((1, 7, 2), L((1, 5, 2)), L((0.7,)), L((0.2,)), L((1,)), "lanczos3"))
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """``images`` resampled along ``spatial_dims`` to ``output_shape``: output sample ``j`` of an
    axis reads the input at ``(j + 0.5 - translation) / scale - 0.5`` through the ``method``
    kernel (``"linear"``, ``"cubic"``, ``"lanczos3"``, ``"lanczos5"`` and their aliases),
    widened when shrinking with ``antialias``; samples outside the input are zero."""
    x, dims, mats = _scale_parts(images, output_shape, scale, translation, spatial_dims, method, antialias)
    out = _apply_axes(x if x.dtype.kind == "f" else x.astype(np.float32), dims, mats)
    if x.dtype.kind in "iu":  # as Keras: rounded back into the input's range and dtype
        out = np.clip(np.round(out), x.min(), x.max()).astype(x.dtype)
    return out


__all__ = sorted(
    name for name, value in dict(globals()).items()
    if callable(value) and hasattr(value, "_op") and value._op.namespace == _ns
)
