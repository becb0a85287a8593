r"""Pooling: :class:`MaxPool1d`, :class:`MaxPool2d`, :class:`MaxPool3d`, :class:`AvgPool1d`,
:class:`AvgPool2d`, :class:`AdaptiveAvgPool1d`, :class:`AdaptiveAvgPool2d`,
:class:`AdaptiveMaxPool2d`, and their CS231n-style functional pairs. The formulas below
are written in 2-d; :class:`MaxPool3d` adds a depth axis to each (its window is a
(kd, kh, kw) box of the same strided view, scanned depth, then row, then column).

Every pooling window is a strided view of the padded input
(``np.lib.stride_tricks.sliding_window_view``, as for convolution): window
:math:`(i, j)` covers rows :math:`i s_h + p\,d_h` and columns :math:`j s_w + q\,d_w` of the
padded input, :math:`0 \le p < k_h`, :math:`0 \le q < k_w`. Output size (torch's):

.. math::
    H_o = \left\lfloor \frac{H + 2\,\text{pad} - d(k-1) - 1}{s} \right\rfloor + 1

(``ceil_mode``: rounded up instead, minus one if the last window would start in the
right-hand padding). Backward scatters each window's share of :math:`\delta` back to the
input positions the window read, *adding* where windows overlap; the scatter is one
``np.bincount`` over flat input indices (no loop over windows or channels).

Max pooling, :math:`y = \max_{(p, q)} x_p[\dots]`: the gradient of a window goes entirely to
its maximum,

.. math::
    \frac{\partial L}{\partial x_{r,t}} = \sum_{(i,j):\ (r,t) = \arg\max \text{ of window }
    (i,j)} \delta_{i,j} .

**Ties** (a window whose maximum occurs several times): torch's CPU kernel scans the window
row by row (``p`` then ``q``) and keeps the first maximum (it replaces the running maximum
only on a strictly greater value), so the *whole* gradient goes to the first maximal
element in row-major window order — checked against torch on inputs with ties. ``argmax``
over the window flattened in the same order returns exactly that element. Padding is
:math:`-\infty`, so a padded position is never the maximum (torch requires padding at most
half the kernel, which keeps a real element in every window).

Average pooling, :math:`y = \frac{1}{D}\sum_{(p,q)} x_p[\dots]`: every element of the
window receives :math:`\delta / D`, with torch's divisor :math:`D`: ``divisor_override``
if given, else the window's size within the zero-padded input (``count_include_pad=True``)
or within the input itself (``False``). Adaptive average pooling uses windows
:math:`[\lfloor iH/H_o \rfloor, \lceil (i+1)H/H_o \rceil)`, written as a pooling matrix
:math:`P` (:math:`H_o \times H`): :math:`y = P_h\, x\, P_w^\top`, so
:math:`\partial L/\partial x = P_h^\top \delta P_w`. Adaptive max pooling takes the
maximum over the same windows (which overlap when :math:`H_o` does not divide :math:`H`),
ties and the backward as max pooling's.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np

from manual.layers.base import Layer
from manual.layers.conv import as_tuple, windows

__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d",
           "AvgPool2d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "adaptive_avg_pool1d_backward",
           "adaptive_avg_pool1d_forward", "adaptive_avg_pool2d_backward",
           "adaptive_avg_pool2d_forward",
           "adaptive_max_pool2d_backward", "adaptive_max_pool2d_forward",
           "avg_pool1d_backward", "avg_pool1d_forward", "avg_pool2d_backward",
           "avg_pool2d_forward", "max_pool1d_backward", "max_pool1d_forward",
           "max_pool2d_backward", "max_pool2d_forward", "max_pool3d_backward",
           "max_pool3d_forward", "pool_output_size"]


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                     ceil_mode: bool) -> int:
    """torch's ``pooling_output_shape``: floor (or ceil) of the window count, and with
    ``ceil_mode`` one fewer if the last window would start in the right padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


_Pair = tuple[int, int]


@overload
def _pool_args(owner: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
               n: Literal[2] = ...) -> tuple[_Pair, _Pair, _Pair, _Pair]: ...
@overload
def _pool_args(owner: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
               n: int) -> tuple[tuple[int, ...], ...]: ...
def _pool_args(owner: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
               n: int = 2) -> tuple[tuple[int, ...], ...]:
    """Normalise and check pooling arguments as torch does (stride None: the kernel size;
    padding at most half the kernel)."""
    kernel = as_tuple(owner, "kernel_size", kernel_size, n)
    stride = kernel if stride is None or stride == () else as_tuple(owner, "stride", stride, n)
    pad = as_tuple(owner, "padding", padding, n, minimum=0)
    dil = as_tuple(owner, "dilation", dilation, n)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(f"{owner}: padding should be at most half of the kernel size "
                         f"(padding <= kernel_size // 2, as torch), got padding={pad} for "
                         f"kernel_size={kernel}")
    return kernel, stride, pad, dil


def _geometry(owner: str, shape: tuple[int, ...], kernel: tuple[int, ...],
              stride: tuple[int, ...], pad: tuple[int, ...], dil: tuple[int, ...],
              ceil_mode: bool) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Output size and the padding (before, after) per spatial dim (any number of them),
    the "after" part including the extra that ``ceil_mode``'s last window reaches past the
    padded input."""
    sizes = shape[2:]
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(sizes, kernel, stride, pad, dil))
    if min(out) < 1:
        raise ValueError(f"{owner}: input of shape {shape} is too small for kernel_size={kernel} "
                         f"(dilation={dil}, padding={pad}): output size {out}")
    pads = tuple((p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
                 for n, o, k, s, p, d in zip(sizes, out, kernel, stride, pad, dil))
    return out, pads


def _scatter(values: np.ndarray, plane_index: np.ndarray, nc: int, plane: int) -> np.ndarray:
    """Add ``values`` (NC, ...) into NC planes of ``plane`` elements at ``plane_index``
    (broadcast against ``values``): one ``np.bincount``, which adds up repeated indices
    (overlapping windows), as a ``+=`` with fancy indexing would not."""
    offset = (np.arange(nc) * plane).reshape((nc,) + (1,) * (values.ndim - 1))
    flat = np.broadcast_to(plane_index + offset, values.shape).ravel()
    out = np.bincount(flat, weights=values.ravel().astype(np.float64), minlength=nc * plane)
    return out.astype(values.dtype, copy=False)  # float64 sums, rounded once


# --------------------------------------------------------------------------------------
# max pooling
# --------------------------------------------------------------------------------------
def max_pool2d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0,
                       dilation: Any = 1, ceil_mode: bool = False, *,
                       owner: str = "max_pool2d") -> tuple[np.ndarray, tuple]:
    """``F.max_pool2d`` on ``x`` (N, C, H, W): ``(y, cache)``, ``y`` (N, C, Ho, Wo); the
    cache holds each window's argmax (the first maximum in row-major window order, as
    torch). ``owner`` names the caller in error messages."""
    kernel, stride, pad, dil = _pool_args(owner, kernel_size, stride, padding, dilation)
    out, pads = _geometry(owner, x.shape, kernel, stride, pad, dil, ceil_mode)
    if kernel == stride and dil == (1, 1) and not any(map(any, pads)):
        # why: tiling windows (no overlap, no padding) are x.reshape(N, C, Ho, kh, Wo, kw);
        # a running maximum over the kh*kw offsets is much faster than an argmax along a
        # short axis of a copied window array. Same y, argmax and cache
        y, arg = _tiled_max(x, kernel, out)
        xp_shape = x.shape
    else:
        xp = np.pad(x, ((0, 0), (0, 0), *pads), constant_values=-np.inf)  # -inf never wins
        win = windows(xp, kernel, stride, dil)[:, :, :out[0], :out[1]]  # (N, C, Ho, Wo, kh, kw)
        win = win.reshape(*win.shape[:4], kernel[0] * kernel[1])  # (N, C, Ho, Wo, kh*kw): a copy
        arg = np.argmax(win, axis=-1)  # (N, C, Ho, Wo): first maximum in row-major order
        y = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
        xp_shape = xp.shape
    # the argmax as (row, column) of the padded input
    p = arg // kernel[1]  # the window row; the column is arg - p kw (NumPy's % is slow)
    rows = np.arange(out[0])[:, None] * stride[0] + p * dil[0]
    cols = np.arange(out[1])[None, :] * stride[1] + (arg - p * kernel[1]) * dil[1]
    return y, (x.shape, xp_shape, pads, rows, cols)


def _tiled_max(x: np.ndarray, kernel: tuple[int, int], out: tuple[int, ...]
               ) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling with ``stride == kernel_size``, no padding, no dilation: ``(y, arg)``,
    ``arg`` the window-flat index of the first maximum in row-major window order, exactly
    ``np.argmax`` over each window (the first NaN, if any, wins)."""
    (kh, kw), (ho, wo) = kernel, out
    n, c = x.shape[:2]
    tiles = x[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)  # window (i, j): [i,:,j,:]
    offsets = [tiles[:, :, :, k // kw, :, k % kw] for k in range(kh * kw)]  # views, row-major
    y = offsets[0].copy()
    for v in offsets[1:]:
        np.maximum(y, v, out=y)  # NaN propagates, as argmax picks one
    nan = bool(np.isnan(y).any())
    # arg = the number of offsets before the first one equal to the maximum
    arg = np.zeros(y.shape, dtype=np.intp)
    not_yet = np.ones(y.shape, dtype=bool)
    for v in offsets[:-1]:
        hit = v == y
        if nan:
            hit |= v != v
        not_yet &= ~hit
        arg += not_yet
    return y, arg


def max_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x`: each window's :math:`\delta` to its argmax, summed
    where windows share their argmax (overlapping windows), zero elsewhere."""
    x_shape, xp_shape, pads, rows, cols = cache
    N, C, Hp, Wp = xp_shape
    flat = (rows * Wp + cols).reshape(N * C, *rows.shape[2:])  # index in the padded plane
    dxp = _scatter(dout.reshape(N * C, *dout.shape[2:]), flat, N * C, Hp * Wp)
    dxp = dxp.reshape(N, C, Hp, Wp)
    (top, _), (left, _) = pads
    return dxp[:, :, top:top + x_shape[2], left:left + x_shape[3]]


def max_pool1d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0,
                       dilation: Any = 1, ceil_mode: bool = False
                       ) -> tuple[np.ndarray, tuple]:
    """``F.max_pool1d`` on ``x`` (N, C, L): the 2-d pooling of a height-1 image."""
    k, s, p, d = _pool_args("max_pool1d", kernel_size, stride, padding, dilation, n=1)
    y, cache = max_pool2d_forward(x[:, :, None, :], (1, k[0]), (1, s[0]), (0, p[0]),
                                  (1, d[0]), ceil_mode)
    return y[:, :, 0, :], cache


def max_pool1d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """:math:`\\partial L/\\partial x` of :func:`max_pool1d_forward`."""
    return max_pool2d_backward(dout[:, :, None, :], cache)[:, :, 0, :]


# --------------------------------------------------------------------------------------
# average pooling
# --------------------------------------------------------------------------------------
def _avg_divisor(size: int, out: int, kernel: int, stride: int, pad: int,
                 count_include_pad: bool) -> np.ndarray:
    """Per output position along one axis: the window's extent within the padded input
    (``count_include_pad``) or within the input, as torch's ``avg_pool2d`` kernel."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool2d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0,
                       ceil_mode: bool = False, count_include_pad: bool = True,
                       divisor_override: int | None = None, *, owner: str = "avg_pool2d"
                       ) -> tuple[np.ndarray, tuple]:
    """``F.avg_pool2d`` on ``x`` (N, C, H, W): the window sums (zero padding) over torch's
    divisor. Returns ``(y, cache)``; ``owner`` names the caller in error messages."""
    kernel, stride, pad, dil = _pool_args(owner, kernel_size, stride, padding, 1)
    out, pads = _geometry(owner, x.shape, kernel, stride, pad, dil, ceil_mode)
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    win = windows(xp, kernel, stride, dil)[:, :, :out[0], :out[1]]  # (N, C, Ho, Wo, kh, kw)
    if divisor_override:
        div = np.full(out, float(divisor_override))
    else:
        dh, dw = (_avg_divisor(n, o, k, s, p, count_include_pad)
                  for n, o, k, s, p in zip(x.shape[2:], out, kernel, stride, pad))
        div = np.outer(dh, dw).astype(np.float64)  # (Ho, Wo)
    div = div.astype(x.dtype)
    y = win.sum(axis=(4, 5)) / div
    return y, (x.shape, xp.shape, pads, kernel, stride, div)


def avg_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x`: :math:`\delta_{i,j}/D_{i,j}` to every element of window
    :math:`(i, j)`, summed over the windows that share an element."""
    x_shape, xp_shape, pads, kernel, stride, div = cache
    N, C, Hp, Wp = xp_shape
    Ho, Wo = dout.shape[2:]
    g = (dout / div).reshape(N * C, Ho, Wo, 1, 1)  # each window's share per element
    rows = (np.arange(Ho) * stride[0])[:, None, None, None] + np.arange(kernel[0])[:, None]
    cols = (np.arange(Wo) * stride[1])[None, :, None, None] + np.arange(kernel[1])
    values = np.broadcast_to(g, (N * C, Ho, Wo, *kernel))
    dxp = _scatter(values, rows * Wp + cols, N * C, Hp * Wp).reshape(N, C, Hp, Wp)
    (top, _), (left, _) = pads
    return dxp[:, :, top:top + x_shape[2], left:left + x_shape[3]]


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row i averages [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)  # ceil
    h = np.arange(size)
    inside = (h >= start[:, None]) & (h < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d_forward(x: np.ndarray, output_size: tuple[int, int]
                                ) -> tuple[np.ndarray, tuple]:
    """``F.adaptive_avg_pool2d`` on ``x`` (N, C, H, W): :math:`y = P_h x P_w^\\top`."""
    Ph = _adaptive_matrix(x.shape[2], output_size[0], x.dtype)  # (Ho, H)
    Pw = _adaptive_matrix(x.shape[3], output_size[1], x.dtype)  # (Wo, W)
    y = Ph @ x @ Pw.T  # (N, C, Ho, Wo): broadcast over (N, C)
    return y, (Ph, Pw)


def adaptive_avg_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """:math:`\\partial L/\\partial x = P_h^\\top \\delta P_w`."""
    Ph, Pw = cache
    return Ph.T @ dout @ Pw


def avg_pool1d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0,
                       ceil_mode: bool = False, count_include_pad: bool = True, *,
                       owner: str = "avg_pool1d") -> tuple[np.ndarray, tuple]:
    r"""``F.avg_pool1d`` on ``x`` (N, C, L): the 2-d average pooling of a height-1 image
    (as torch computes it),

    .. math::
        y_{i} = \frac{1}{D_i}\sum_{p=0}^{k-1} x_{is + p - \text{pad}}

    (zero padding; :math:`D_i` the window's extent within the padded input, or within the
    input with ``count_include_pad=False``). Returns ``(y, cache)``."""
    k, s, p, _ = _pool_args(owner, kernel_size, stride, padding, 1, n=1)
    y, cache = avg_pool2d_forward(x[:, :, None, :], (1, k[0]), (1, s[0]), (0, p[0]),
                                  ceil_mode, count_include_pad, owner=owner)
    return y[:, :, 0, :], cache


def avg_pool1d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x_\ell = \sum_{i:\ \ell \in \text{window } i}
    \delta_i / D_i`, the backward of :func:`avg_pool1d_forward`."""
    return avg_pool2d_backward(dout[:, :, None, :], cache)[:, :, 0, :]


def _adaptive_windows(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """(out, kmax) input indices of each adaptive window (clipped) and which are inside it:
    window i is [floor(i*size/out), ceil((i+1)*size/out)), as torch's."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)  # ceil
    kmax = int((end - start).max())
    idx = start[:, None] + np.arange(kmax)[None, :]
    return np.minimum(idx, size - 1), idx < end[:, None]


def adaptive_max_pool2d_forward(x: np.ndarray, output_size: tuple[int, int]
                                ) -> tuple[np.ndarray, tuple]:
    r"""``F.adaptive_max_pool2d`` on ``x`` (N, C, H, W): the maximum over window
    :math:`[\lfloor iH/H_o\rfloor, \lceil (i+1)H/H_o\rceil) \times
    [\lfloor jW/W_o\rfloor, \lceil (j+1)W/W_o\rceil)`, ties to the first maximum in
    row-major window order (torch's CPU kernel). Returns ``(y, cache)``; the cache holds
    each window's argmax as (row, column) of the input."""
    N, C, H, W = x.shape
    rh, vh = _adaptive_windows(H, output_size[0])  # (Ho, kh)
    rw, vw = _adaptive_windows(W, output_size[1])  # (Wo, kw)
    win = x[:, :, rh[:, :, None, None], rw[None, None, :, :]]  # (N, C, Ho, kh, Wo, kw)
    inside = vh[:, :, None, None] & vw[None, None, :, :]
    win = np.where(inside, win, -np.inf).transpose(0, 1, 2, 4, 3, 5)  # (N, C, Ho, Wo, kh, kw)
    kh, kw = rh.shape[1], rw.shape[1]
    win = win.reshape(N, C, *output_size, kh * kw)
    arg = np.argmax(win, axis=-1)  # first maximum in row-major window order
    y = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0].astype(x.dtype, copy=False)
    rows = rh[np.arange(output_size[0])[:, None], arg // kw]  # (N, C, Ho, Wo)
    cols = rw[np.arange(output_size[1])[None, :], arg % kw]
    return y, (x.shape, rows, cols)


def adaptive_max_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x`: each window's :math:`\delta` to its argmax, added
    where overlapping windows share it, zero elsewhere:

    .. math::
        \frac{\partial L}{\partial x_{r,t}} = \sum_{(i,j):\ (r,t) = \arg\max
        \text{ of window } (i,j)} \delta_{i,j}"""
    (N, C, H, W), rows, cols = cache
    flat = (rows * W + cols).reshape(N * C, *rows.shape[2:])
    dx = _scatter(dout.reshape(N * C, *dout.shape[2:]), flat, N * C, H * W)
    return dx.reshape(N, C, H, W)


def _adaptive_output_size(owner: str, output_size: Any) -> tuple[int | None, int | None]:
    """An int or a pair of positive ints or None (None: keep the input's size)."""
    items = tuple(output_size) if isinstance(output_size, (tuple, list)) else (
        output_size, output_size)
    if len(items) != 2:
        raise ValueError(f"{owner}: output_size must be an int or a pair, got {output_size!r}")
    for v in items:
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
            raise TypeError(f"{owner}: output_size must hold ints or None, got "
                            f"{output_size!r}")
        if v is not None and v < 1:
            raise ValueError(f"{owner}: output_size must hold positive ints or None, got "
                             f"{output_size!r}")
    return (None if items[0] is None else int(items[0]),
            None if items[1] is None else int(items[1]))


# --------------------------------------------------------------------------------------
# 3-d max pooling, 1-d adaptive average pooling
# --------------------------------------------------------------------------------------
def max_pool3d_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0,
                       dilation: Any = 1, ceil_mode: bool = False, *,
                       owner: str = "max_pool3d") -> tuple[np.ndarray, tuple]:
    r"""``F.max_pool3d`` on ``x`` (N, C, D, H, W): ``(y, cache)``, ``y`` (N, C, Do, Ho, Wo),

    .. math::
        y_{t,i,j} = \max_{r<k_d,\ p<k_h,\ q<k_w}
            x_{p;\ t s_d + r d_d,\; i s_h + p d_h,\; j s_w + q d_w}

    over the :math:`-\infty`-padded input :math:`x_p`, each size
    :math:`\lfloor (n + 2\,\text{pad} - d(k-1) - 1)/s \rfloor + 1` (``ceil_mode``: torch's
    rounding up). The windows are the same strided view as 2-d pooling's, with a depth
    axis. The cache holds each window's argmax as a position of the padded input: the
    first maximum in (depth, row, column) window order, as torch's CPU kernel (it replaces
    its running maximum only on a strictly greater value); ``owner`` names the caller in
    error messages."""
    kernel, stride, pad, dil = _pool_args(owner, kernel_size, stride, padding, dilation, 3)
    out, pads = _geometry(owner, x.shape, kernel, stride, pad, dil, ceil_mode)
    xp = np.pad(x, ((0, 0), (0, 0), *pads), constant_values=-np.inf)  # -inf never wins
    win = windows(xp, kernel, stride, dil)  # (N, C, *positions, kd, kh, kw), a view
    win = win[(slice(None), slice(None), *(slice(0, o) for o in out))]
    win = win.reshape(*win.shape[:5], int(np.prod(kernel)))  # (N, C, Do, Ho, Wo, K): a copy
    arg = np.argmax(win, axis=-1)  # first maximum in row-major (depth, row, column) order
    y = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    # the argmax as (depth, row, column) of the padded input
    offsets = np.unravel_index(arg, kernel)
    coords = tuple(np.arange(o).reshape([-1 if a == i else 1 for a in range(3)]) * s
                   + off * d for i, (o, s, d, off) in enumerate(zip(out, stride, dil, offsets)))
    return y, (x.shape, xp.shape, pads, coords)


def max_pool3d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x` of :func:`max_pool3d_forward`: each window's
    :math:`\delta` to its argmax, summed where overlapping windows share their argmax,
    zero elsewhere,

    .. math::
        \frac{\partial L}{\partial x_{u,r,t}} = \sum_{(v,i,j):\ (u,r,t) = \arg\max
        \text{ of window } (v,i,j)} \delta_{v,i,j} ."""
    x_shape, xp_shape, pads, coords = cache
    N, C = xp_shape[:2]
    flat = np.ravel_multi_index(np.broadcast_arrays(*coords), xp_shape[2:])  # padded volume
    dxp = _scatter(dout.reshape(N * C, *dout.shape[2:]), flat.reshape(N * C, *flat.shape[2:]),
                   N * C, int(np.prod(xp_shape[2:]))).reshape(xp_shape)
    crop = tuple(slice(p[0], p[0] + n) for p, n in zip(pads, x_shape[2:]))
    return dxp[(slice(None), slice(None), *crop)]


def _adaptive_size_1d(owner: str, output_size: Any) -> int:
    """An int or a tuple of one int, ``>= 0`` (torch's ``adaptive_avg_pool1d``)."""
    items = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,)
    if len(items) != 1:
        raise ValueError(f"{owner}: output_size must be an int or a tuple of one int, got "
                         f"{output_size!r}")
    v = items[0]
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{owner}: output_size must be an int or a tuple of one int, got "
                        f"{output_size!r}")
    if v < 0:
        raise ValueError(f"{owner}: output_size must be >= 0, got {output_size!r}")
    return int(v)


def adaptive_avg_pool1d_forward(x: np.ndarray, output_size: Any
                                ) -> tuple[np.ndarray, tuple]:
    r"""``F.adaptive_avg_pool1d`` on ``x`` (N, C, L) (or any (\*, L)): the mean over the
    windows :math:`[\lfloor iL/L_o \rfloor, \lceil (i+1)L/L_o \rceil)`, which overlap
    when :math:`L_o` does not divide :math:`L` and repeat elements when :math:`L_o > L`,
    as one product with the pooling matrix :math:`P` (:math:`L_o \times L`, row :math:`i`
    holding :math:`1/|\text{window}_i|` on its window):

    .. math::
        y = x P^\top, \qquad \frac{\partial L}{\partial x} = \delta P, \quad
        \text{i.e.}\ \frac{\partial L}{\partial x_\ell} = \sum_{i:\ \ell \in
        \text{window}_i} \frac{\delta_i}{|\text{window}_i|} .

    ``output_size``: an int or a tuple of one int, 0 giving an empty output as torch.
    Returns ``(y, cache)``."""
    size = _adaptive_size_1d("adaptive_avg_pool1d", output_size)
    P = _adaptive_matrix(x.shape[-1], size, x.dtype)  # (Lo, L)
    return x @ P.T, (P,)


def adaptive_avg_pool1d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x = \delta P` (:func:`adaptive_avg_pool1d_forward`)."""
    (P,) = cache
    return dout @ P


# --------------------------------------------------------------------------------------
# the layers
# --------------------------------------------------------------------------------------
class _Pool2d(Layer):
    """Input checks and unbatched handling for the pooling layers (``nd`` spatial dims)."""

    nd = 2
    return_indices = False  # max pooling's option: forward returns (out, indices)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        """The functional backward of the subclass."""
        raise NotImplementedError

    def _batched(self, x: Any) -> tuple[np.ndarray, bool]:
        nd = self.nd
        spatial = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
        what = f"(N, C, {spatial}) or (C, {spatial})"
        x = self.check_input(x, (nd + 1, nd + 2), what=what)
        unbatched = x.ndim == nd + 1
        return (x[None] if unbatched else x), unbatched

    def _finish(self, y: np.ndarray, unbatched: bool, cache: Any) -> np.ndarray:
        self._cache = (unbatched, cache)
        y = y[0] if unbatched else y
        self._out_shape = y.shape
        return y

    def check_dout(self, dout: Any) -> np.ndarray:
        if self.return_indices and isinstance(dout, (tuple, list)):
            dout = dout[0]  # (dy, None): the indices carry no gradient
        return super().check_dout(dout)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout = self.check_dout(dout)
        unbatched, cache = self._cache
        dx = self._backward(dout[None] if unbatched else dout, cache)
        return dx[0] if unbatched else dx


class MaxPool2d(_Pool2d):
    r"""``nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
    ceil_mode=False)``; ``stride=None`` means ``kernel_size``. Padding above half the
    kernel is an error, as torch. With ``return_indices=True`` forward returns ``(y,
    indices)``, the flat index ``row * W + col`` of each window's maximum in its input
    plane (torch's), and backward takes the gradient of ``y`` (or ``(dy, None)``). Ties
    send the gradient to the first maximum in row-major window order, as torch's CPU
    kernel (module docstring). Input (N, C, H, W) or (C, H, W)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False, ceil_mode: bool = False
                 ) -> None:
        super().__init__()
        owner = type(self).__name__
        n = self.nd
        self.kernel_size, self.stride, self.padding, self.dilation = _pool_args(
            owner, kernel_size, stride, padding, dilation, n)
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)
        unpack = (lambda t: t[0]) if n == 1 else (lambda t: t)
        self.config = {"kernel_size": unpack(self.kernel_size), "stride": unpack(self.stride),
                       "padding": unpack(self.padding), "dilation": unpack(self.dilation),
                       "return_indices": self.return_indices, "ceil_mode": self.ceil_mode}

    def _pool(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return max_pool2d_forward(x, self.kernel_size, self.stride, self.padding,
                                  self.dilation, self.ceil_mode, owner=type(self).__name__)

    def forward(self, x: np.ndarray) -> Any:
        x, unbatched = self._batched(x)
        y, cache = self._pool(x)
        out = self._finish(y, unbatched, cache)
        if not self.return_indices:
            return out
        _, xp_shape, pads, rows, cols = cache
        width = x.shape[-1]
        idx = (rows - pads[0][0]) * width + (cols - pads[-1][0])  # in the unpadded plane
        idx = idx.reshape(out.shape).astype(np.int64)
        return out, idx

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        return max_pool2d_backward(dout, cache)


class MaxPool1d(MaxPool2d):
    """``nn.MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
    ceil_mode=False)`` on (N, C, L) or (C, L): :class:`MaxPool2d` of a height-1 image."""

    nd = 1

    def _pool(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        y, cache = max_pool2d_forward(x[:, :, None, :], (1, *self.kernel_size),
                                      (1, *self.stride), (0, *self.padding),
                                      (1, *self.dilation), self.ceil_mode,
                                      owner=type(self).__name__)
        return y[:, :, 0, :], cache

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        return max_pool2d_backward(dout[:, :, None, :], cache)[:, :, 0, :]


class AvgPool2d(_Pool2d):
    """``nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True, divisor_override=None)``: window means with torch's divisor
    (module docstring). Input (N, C, H, W) or (C, H, W)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        self.kernel_size, self.stride, self.padding, _ = _pool_args(
            owner, kernel_size, stride, padding, 1)
        if divisor_override is not None:
            if isinstance(divisor_override, bool) or not isinstance(divisor_override,
                                                                    (int, np.integer)):
                raise TypeError(f"{owner}: divisor_override must be an int or None, got "
                                f"{divisor_override!r}")
            if divisor_override == 0:
                raise ValueError(f"{owner}: divisor_override must be non-zero, got 0")
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override
        self.config = {"kernel_size": self.kernel_size, "stride": self.stride,
                       "padding": self.padding, "ceil_mode": self.ceil_mode,
                       "count_include_pad": self.count_include_pad,
                       "divisor_override": divisor_override}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = self._batched(x)
        y, cache = avg_pool2d_forward(x, self.kernel_size, self.stride, self.padding,
                                      self.ceil_mode, self.count_include_pad,
                                      self.divisor_override, owner=type(self).__name__)
        return self._finish(y, unbatched, cache)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        return avg_pool2d_backward(dout, cache)


class AdaptiveAvgPool2d(_Pool2d):
    """``nn.AdaptiveAvgPool2d(output_size)``: an int or a pair, ``None`` keeping that input
    dimension; windows :math:`[\\lfloor iH/H_o\\rfloor, \\lceil (i+1)H/H_o\\rceil)` as
    torch. Input (N, C, H, W) or (C, H, W)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        owner = type(self).__name__
        items = tuple(output_size) if isinstance(output_size, (tuple, list)) else (
            output_size, output_size)
        if len(items) != 2:
            raise ValueError(f"{owner}: output_size must be an int or a pair, got "
                             f"{output_size!r}")
        for v in items:
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))
                                  or v < 1):
                raise ValueError(f"{owner}: output_size must hold positive ints or None, got "
                                 f"{output_size!r}")
        self.output_size = tuple(None if v is None else int(v) for v in items)
        self.config = {"output_size": output_size if isinstance(output_size, int)
                       else self.output_size}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = self._batched(x)
        if min(x.shape[2:]) < 1:
            raise ValueError(f"{type(self).__name__}: input of shape {x.shape} has an empty "
                             f"spatial dimension")
        (H, W), (oh, ow) = x.shape[2:], self.output_size  # None keeps the input's size
        size = (H if oh is None else oh, W if ow is None else ow)
        y, cache = adaptive_avg_pool2d_forward(x, size)
        return self._finish(y, unbatched, cache)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        return adaptive_avg_pool2d_backward(dout, cache)


class AvgPool1d(_Pool2d):
    r"""``nn.AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True)`` on (N, C, L) or (C, L): :class:`AvgPool2d` of a height-1
    image, as torch computes it,

    .. math::
        y_i = \frac{1}{D_i}\sum_{p=0}^{k-1} x_{is + p - \text{pad}}, \qquad
        \frac{\partial L}{\partial x_\ell} = \sum_{i:\ \ell \in \text{window } i}
        \frac{\delta_i}{D_i}

    with torch's divisor :math:`D_i` (module docstring); linear, so no kinks. Padding above
    half the kernel is an error, as torch. The functional pair is :func:`avg_pool1d_forward`/
    :func:`avg_pool1d_backward`."""

    nd = 1

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        owner = type(self).__name__
        k, s, p, _ = _pool_args(owner, kernel_size, stride, padding, 1, 1)
        self.kernel_size, self.stride, self.padding = k[0], s[0], p[0]
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.config = {"kernel_size": self.kernel_size, "stride": self.stride,
                       "padding": self.padding, "ceil_mode": self.ceil_mode,
                       "count_include_pad": self.count_include_pad}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = self._batched(x)
        y, cache = avg_pool1d_forward(x, self.kernel_size, self.stride, self.padding,
                                      self.ceil_mode, self.count_include_pad,
                                      owner=type(self).__name__)
        return self._finish(y, unbatched, cache)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        return avg_pool1d_backward(dout, cache)


class AdaptiveMaxPool2d(_Pool2d):
    r"""``nn.AdaptiveMaxPool2d(output_size, return_indices=False)``: the maximum over the
    adaptive windows :math:`[\lfloor iH/H_o\rfloor, \lceil (i+1)H/H_o\rceil)` (and
    likewise for columns), ``output_size`` an int or a pair, ``None`` keeping that input
    dimension. Input (N, C, H, W) or (C, H, W).

    .. math::
        y_{ij} = \max_{(r,t) \in \text{window } (i,j)} x_{rt}, \qquad
        \frac{\partial L}{\partial x_{r,t}} = \sum_{(i,j):\ (r,t) = \arg\max
        \text{ of window } (i,j)} \delta_{i,j}

    Ties send the gradient to the first maximum in row-major window order, as torch's CPU
    kernel; overlapping windows that share their maximum add their gradients. With
    ``return_indices=True`` forward returns ``(y, indices)``, the flat index
    ``row * W + col`` of each maximum in its input plane (torch's), and backward takes the
    gradient of ``y`` (or ``(dy, None)``). The functional pair is
    :func:`adaptive_max_pool2d_forward`/:func:`adaptive_max_pool2d_backward`."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = _adaptive_output_size(type(self).__name__, output_size)
        self.return_indices = bool(return_indices)
        self.config = {"output_size": output_size if isinstance(output_size, int)
                       else self.output_size, "return_indices": self.return_indices}

    def forward(self, x: np.ndarray) -> Any:
        x, unbatched = self._batched(x)
        if min(x.shape[2:]) < 1:
            raise ValueError(f"{type(self).__name__}: input of shape {x.shape} has an empty "
                             f"spatial dimension")
        (H, W), (oh, ow) = x.shape[2:], self.output_size  # None keeps the input's size
        y, cache = adaptive_max_pool2d_forward(x, (H if oh is None else oh,
                                                   W if ow is None else ow))
        out = self._finish(y, unbatched, cache)
        if not self.return_indices:
            return out
        _, rows, cols = cache
        idx = (rows * W + cols).astype(np.int64)
        return out, (idx[0] if unbatched else idx)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        return adaptive_max_pool2d_backward(dout, cache)


class MaxPool3d(MaxPool2d):
    r"""``nn.MaxPool3d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
    ceil_mode=False)`` on (N, C, D, H, W) or (C, D, H, W): :class:`MaxPool2d` with a depth
    axis; ``kernel_size``, ``stride``, ``padding``, ``dilation`` an int or a triple,
    ``stride=None`` meaning ``kernel_size``, padding at most half the kernel (as torch).

    .. math::
        y_{t,i,j} = \max_{(r,p,q)\ \in\ \text{window}(t,i,j)} x_{r,p,q}, \qquad
        \frac{\partial L}{\partial x_{u,r,t}} = \sum_{(v,i,j):\ (u,r,t) = \arg\max
        \text{ of window } (v,i,j)} \delta_{v,i,j}

    Ties send the gradient to the first maximum in (depth, row, column) window order, as
    torch's CPU kernel; overlapping windows that share their maximum add their gradients.
    With ``return_indices=True`` forward returns ``(y, indices)``, the flat index
    ``(d * H + h) * W + w`` of each maximum in its input volume (torch's), and backward
    takes the gradient of ``y`` (or ``(dy, None)``). The functional pair is
    :func:`max_pool3d_forward`/:func:`max_pool3d_backward`."""

    nd = 3

    def _pool(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return max_pool3d_forward(x, self.kernel_size, self.stride, self.padding,
                                  self.dilation, self.ceil_mode, owner=type(self).__name__)

    def forward(self, x: np.ndarray) -> Any:
        x, unbatched = self._batched(x)
        y, cache = self._pool(x)
        out = self._finish(y, unbatched, cache)
        if not self.return_indices:
            return out
        _, _, pads, coords = cache
        unpadded = np.broadcast_arrays(*(c - p[0] for c, p in zip(coords, pads)))
        idx = np.ravel_multi_index(unpadded, x.shape[2:]).astype(np.int64)
        return out, np.ascontiguousarray(np.broadcast_to(idx, y.shape)).reshape(out.shape)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        return max_pool3d_backward(dout, cache)


class AdaptiveAvgPool1d(_Pool2d):
    r"""``nn.AdaptiveAvgPool1d(output_size)``: ``output_size`` an int or a tuple of one int
    (0: an empty output, as torch); the mean over the windows
    :math:`[\lfloor iL/L_o\rfloor, \lceil (i+1)L/L_o\rceil)` (torch's), which overlap
    when :math:`L_o` does not divide :math:`L`. Input (N, C, L) or (C, L), :math:`L \ge 1`.

    .. math::
        y_i = \frac{1}{|\text{window}_i|} \sum_{\ell \in \text{window}_i} x_\ell,
        \qquad \frac{\partial L}{\partial x_\ell} = \sum_{i:\ \ell \in
        \text{window}_i} \frac{\delta_i}{|\text{window}_i|}

    Linear, so no kinks. The functional pair is :func:`adaptive_avg_pool1d_forward`/
    :func:`adaptive_avg_pool1d_backward` (one product with the pooling matrix)."""

    nd = 1

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = _adaptive_size_1d(type(self).__name__, output_size)
        self.config = {"output_size": self.output_size if not isinstance(
            output_size, (tuple, list)) else (self.output_size,)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = self._batched(x)
        if x.shape[2] < 1:
            raise ValueError(f"{type(self).__name__}: input of shape {x.shape} has an empty "
                             f"length (L = 0); torch refuses it too")
        y, cache = adaptive_avg_pool1d_forward(x, self.output_size)
        return self._finish(y, unbatched, cache)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        return adaptive_avg_pool1d_backward(dout, cache)
