r"""Convolutions: :class:`Conv1d`, :class:`Conv2d`, :class:`Conv3d`,
:class:`ConvTranspose1d`, :class:`ConvTranspose2d`, and the CS231n-style functional pairs
they use (``conv2d_forward``/``conv2d_backward``, ``conv3d_*``, ``conv_transpose1d_*``, …).
The building blocks (:func:`windows`, :func:`im2col`, :func:`weight_grad`,
:func:`input_grad`) take any number of spatial dims; the formulas below are written in
2-d, and a 3-d convolution adds a depth axis to each (a sum over the kernel's depth in the
forward, over the output's depth in the weight gradient).

Forward (torch's ``Conv2d`` is a cross-correlation). For an input :math:`x` (N, C, H, W),
zero-padded to :math:`x_p`, a weight :math:`w` (O, C/G, kh, kw), stride :math:`s`, dilation
:math:`d` and :math:`G` groups (output channel :math:`o` sees only the input channels of
its group :math:`g(o)`):

.. math::
    y_{n,o,i,j} = b_o + \sum_{c \in g(o)} \sum_{p<kh} \sum_{q<kw}
        w_{o,c,p,q}\; x_{p;\,n,c,\; i s_h + p d_h,\; j s_w + q d_w}

Im2col turns it into one matrix product: every receptive field (a (C/G, kh, kw) window of
:math:`x_p`) becomes a row of ``cols`` (N·Ho·Wo, C/G·kh·kw), built as a strided view by
``np.lib.stride_tricks.sliding_window_view`` and copied once, and
:math:`Y = \text{cols}\; W^\top` with :math:`W` the weight as an (O, C/G·kh·kw) matrix
(one product per group).

Backward, given :math:`\delta = \partial L/\partial y` (N, O, Ho, Wo):

.. math::
    \frac{\partial L}{\partial b_o} = \sum_{n,i,j} \delta_{n,o,i,j}, \qquad
    \frac{\partial L}{\partial w_{o,c,p,q}} = \sum_{n,i,j} \delta_{n,o,i,j}\,
        x_{p;\,n,c,\,i s_h + p d_h,\, j s_w + q d_w}
        \quad (= \Delta^\top \text{cols}),

.. math::
    \frac{\partial L}{\partial x_{n,c,r,t}} = \sum_{o \in g(c)} \sum_{p,q}
        \hat\delta_{n,o,\; r + \text{pad}_h - p d_h,\; t + \text{pad}_w - q d_w}\;
        w_{o,c,p,q}

where :math:`\hat\delta` is :math:`\delta` with :math:`s-1` zeros inserted between its
entries (the stride undone) and zero outside. Substituting :math:`p \to kh-1-p` shows
that this is a *correlation of* :math:`\hat\delta` *with the kernel flipped in both spatial
axes and its in/out channels swapped*: the input gradient of a convolution is a
convolution of the upstream gradient with the flipped kernel (:func:`input_grad_flipped`,
the same im2col and one matrix product). The layers compute the same numbers by col2im,
the transpose of im2col (:func:`input_grad`: :math:`W^\top\Delta` gives each receptive
field's gradient, added back where the field was read), which is faster. It is also,
exactly, the forward pass of :class:`ConvTranspose2d`, whose backward is in turn a plain
convolution.

Padding modes (the layers :class:`Conv1d`, :class:`Conv2d`, :class:`Conv3d`; the
transposed convolutions take ``'zeros'`` only, as torch's). ``padding_mode='zeros'`` is the
:math:`x_p` above. ``'reflect'``, ``'replicate'`` and ``'circular'`` do what torch's
``_conv_forward`` does: pad the input with ``F.pad(x, pads, mode)``
(:func:`manual.layers.padding.pad_nd_forward`; ``pads`` the layer's (before, after)
amounts, the last axis first: with ``padding='same'`` and an even dilated kernel span the
odd one after, as for zeros), then convolve with no padding. Along each padded axis the
padded position :math:`i` (in input coordinates, :math:`n` the axis' size) reads

.. math::
    r_\text{reflect}(i) = \begin{cases} -i & i < 0 \\ 2(n-1) - i & i \ge n \\
    i & \text{otherwise} \end{cases}, \qquad
    r_\text{replicate}(i) = \min(\max(i, 0), n-1), \qquad
    r_\text{circular}(i) = i \bmod n,

so the input gradient is the convolution's gradient of the padded input,
:math:`\partial L/\partial x_p`, with every padded position's gradient *added back onto
the input position it copies* (:func:`manual.layers.padding.pad_nd_backward`):

.. math::
    \frac{\partial L}{\partial x_{n,c,r,t}} = \sum_{(i, j):\ r_h(i) = r,\ r_w(j) = t}
        \frac{\partial L}{\partial x_{p;\,n,c,i,j}}

(zero padding instead drops the padded positions' gradient: a crop). torch's refusals
hold: reflection padding must be less than the size it pads, circular padding at most
that size (one wrap), each refused with a ``ValueError`` at the forward.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from manual.layers.base import Layer, as_rng, check_positive_int, layer_dtype, uniform_init
from manual.layers.padding import pad_nd_backward, pad_nd_forward

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "conv1d_backward", "conv1d_forward", "conv2d_backward", "conv2d_forward",
           "conv3d_backward", "conv3d_forward", "conv_transpose1d_backward",
           "conv_transpose1d_forward", "conv_transpose2d_backward",
           "conv_transpose2d_forward", "im2col", "input_grad", "input_grad_flipped",
           "weight_grad"]

Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
#: the padding modes of torch's convolutions (the transposed ones: 'zeros' only)
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


# --------------------------------------------------------------------------------------
# argument normalisation (shared with pooling)
# --------------------------------------------------------------------------------------
@overload
def as_tuple(owner: str, key: str, value: Any, n: Literal[1], *, minimum: int = 1
             ) -> tuple[int]: ...
@overload
def as_tuple(owner: str, key: str, value: Any, n: Literal[2], *, minimum: int = 1
             ) -> tuple[int, int]: ...
@overload
def as_tuple(owner: str, key: str, value: Any, n: int, *, minimum: int = 1
             ) -> tuple[int, ...]: ...
def as_tuple(owner: str, key: str, value: Any, n: int, *, minimum: int = 1) -> tuple[int, ...]:
    """An int or an n-tuple of ints as an n-tuple, each ``>= minimum`` (torch's ``_pair``)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(items) != n:
        raise ValueError(f"{owner}: {key} must be an int or a tuple of {n} ints, got {value!r}")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{owner}: {key} must be an int or a tuple of {n} ints, "
                            f"got {value!r}")
        if v < minimum:
            raise ValueError(f"{owner}: {key} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


def conv_padding(owner: str, padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...],
                 dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """``padding`` (int, tuple, ``'valid'``, ``'same'``, or explicit ((before, after), …)
    pairs) as (before, after) per spatial dim.

    ``'same'`` pads :math:`d(k-1)` in total, the odd one after, as torch does
    (:math:`\\lfloor d(k-1)/2 \\rfloor` before); torch refuses it for stride > 1, so do we."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{owner}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride}), as in torch")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{owner}: padding must be an int, a tuple, 'valid' or 'same', got "
                         f"{padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == n and all(
            isinstance(v, (tuple, list)) for v in padding):  # explicit (before, after) pairs
        return tuple(as_tuple(owner, "padding", v, 2, minimum=0) for v in padding)
    p = as_tuple(owner, "padding", padding, n, minimum=0)
    return tuple((v, v) for v in p)


def _pad_or_crop(a: np.ndarray, axis: int, before: int, after: int) -> np.ndarray:
    """Zero-pad ``a`` along ``axis`` (a negative amount crops instead)."""
    n = a.shape[axis]
    start, stop = max(-before, 0), n - max(-after, 0)
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, max(stop, start))
    a = a[tuple(index)]
    if before > 0 or after > 0:
        width = [(0, 0)] * a.ndim
        width[axis] = (max(before, 0), max(after, 0))
        a = np.pad(a, width)
    return a


# --------------------------------------------------------------------------------------
# the three building blocks: im2col, the weight gradient, the input gradient, for any
# number of spatial dims (1, 2, 3: the same code; 2-d reads as the docstrings say)
# --------------------------------------------------------------------------------------
def windows(xp: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...],
            dilation: tuple[int, ...]) -> np.ndarray:
    """Every receptive field of the padded ``xp`` (N, C, *spatial) as a strided **view**
    (N, C, *out, *kernel): no copy; in 2-d (N, C, Ho, Wo, kh, kw), element
    [n, c, i, j, p, q] is ``xp[n, c, i*sh + p*dh, j*sw + q*dw]`` (likewise per axis in
    1-d and 3-d)."""
    n = len(kernel)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))  # the dilated extent
    v = sliding_window_view(xp, span, axis=tuple(range(2, 2 + n)))  # (N, C, *pos, *span)
    positions = tuple(slice(None, None, s) for s in stride)  # the stride over positions
    inside = tuple(slice(None, None, d) for d in dilation)  # the dilation inside windows
    return v[(slice(None), slice(None), *positions, *inside)]


def im2col(xp: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...],
           dilation: tuple[int, ...], groups: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """The im2col matrices of ``xp``: (G, C/G·kh·kw, N·Ho·Wo), for each group one column per
    receptive field (the one copy of the convolution), and the output size (Ho, Wo)
    (in n-d: (G, C/G·prod(kernel), N·prod(out)) and the n output sizes).

    Rows are ordered (c, p, q) like the weight's (C/G, kh, kw) axes, columns (n, i, j).
    With the samples inside the columns, each group's convolution is *one* matrix product
    over the whole batch, the shape BLAS is fastest at (a product per sample is 4x slower
    in float32, measured), and the copy reads rows of ``xp`` (``j`` innermost)."""
    N, C = xp.shape[:2]
    n = len(kernel)
    v = windows(xp, kernel, stride, dilation)  # (N, C, *out, *kernel), a view
    out = tuple(v.shape[2:2 + n])
    K = C // groups * int(np.prod(kernel))
    v = v.reshape(N, groups, C // groups, *out, *kernel)  # split channels into groups
    # (G, C/G, *kernel, N, *out): in 2-d the axes (1, 2, 5, 6, 0, 3, 4)
    order = (1, 2, *range(3 + n, 3 + 2 * n), 0, *range(3, 3 + n))
    cols = v.transpose(order).reshape(groups, K, N * int(np.prod(out)))  # the copy
    return cols, out


def cols_times_weight(cols: np.ndarray, w: np.ndarray, N: int, out_hw: tuple[int, ...]
                      ) -> np.ndarray:
    r""":math:`Y = W\,\text{cols}` per group, returned in (N, O, Ho, Wo) layout
    ((N, O, *out) in n-d)."""
    G = cols.shape[0]
    O = w.shape[0]
    wm = w.reshape(G, O // G, cols.shape[1])  # (G, O/G, C/G*kh*kw): the weight as a matrix
    y = np.matmul(wm, cols)  # (G, O/G, N*Ho*Wo): one BLAS product per group
    y = y.reshape(O, N, *out_hw).transpose(1, 0, *range(2, 2 + len(out_hw)))  # (N, O, ...)
    return np.ascontiguousarray(y)


def weight_grad(dout: np.ndarray, cols: np.ndarray, w_shape: tuple[int, ...]) -> np.ndarray:
    r""":math:`\partial L/\partial W = \Delta\, \text{cols}^\top` per group, with
    :math:`\Delta` the upstream gradient as an (O/G, N·Ho·Wo) matrix: every receptive field
    weighted by the gradient of the output it produced, summed over samples and positions
    (every spatial axis: in 3-d depth too) by the product."""
    d = dout_matrix(dout, cols.shape[0])  # (G, O/G, N*Ho*Wo)
    # cols @ d^T, then a transpose of the small result: BLAS runs the long inner dimension
    # (N*Ho*Wo) 3x faster this way round than as d @ cols^T (measured, float32)
    dw_t = np.matmul(cols, d.transpose(0, 2, 1))  # (G, C/G*kh*kw, O/G)
    return np.ascontiguousarray(dw_t.transpose(0, 2, 1)).reshape(w_shape)


def dout_matrix(dout: np.ndarray, groups: int) -> np.ndarray:
    """The upstream gradient (N, O, Ho, Wo) (or (N, O, *out)) as per-group matrices
    (G, O/G, N·Ho·Wo), the column order of :func:`im2col`."""
    N, O = dout.shape[:2]
    M = int(np.prod(dout.shape[2:]))  # Ho*Wo
    return dout.reshape(N, O, M).transpose(1, 0, 2).reshape(groups, O // groups, N * M)


def input_grad(dout: np.ndarray, w: np.ndarray, in_hw: tuple[int, ...],
               stride: tuple[int, ...], pad_before: tuple[int, ...],
               dilation: tuple[int, ...], groups: int) -> np.ndarray:
    r""":math:`\partial L/\partial x` of the convolution ``x -> y`` (input (N, C, *in_hw),
    padded by ``pad_before`` at the top/left) by col2im, the transpose of im2col:
    :math:`\partial L/\partial\,\text{cols} = W^\top \Delta` (one product per group)
    gives every receptive field's gradient, which is then added back where the field was
    read. Equal to :func:`input_grad_flipped`, the convolution of the stride-dilated
    ``dout`` with the flipped kernel (a test checks it), and faster: its product has the
    long side where BLAS wants it, 2x faster in float32 (measured). Any number of spatial
    dims (``in_hw``, ``stride``, … one entry each).

    The add-back loops over the kh·kw kernel offsets (9 for 3x3, in row-major order), each
    one vectorised add of a whole (C, N, Ho, Wo) slab: receptive fields overlap, so the
    scatter must accumulate, and NumPy's only loop-free accumulating scatters
    (``np.add.at``, ``np.bincount`` with an index per element of ``cols``) are several
    times slower than kh·kw strided adds."""
    N, O = dout.shape[:2]
    out = dout.shape[2:]
    kernel = w.shape[2:]
    Cg = w.shape[1]
    C = Cg * groups
    wm = w.reshape(groups, O // groups, Cg * int(np.prod(kernel)))  # (G, O/G, C/G*kh*kw)
    nd = len(kernel)
    # why batch_last: on narrow outputs the slabs added below are runs of Wo values, slow
    # to add; with the columns ordered (i, j, n) instead of (n, i, j) they are runs of
    # Wo*N (or N) values, at the price of a transposing copy of dout in and of dx out
    batch_last = out[-1] < 8
    rows = dout.transpose((1, *range(2, 2 + nd), 0) if batch_last
                          else (1, 0, *range(2, 2 + nd)))  # rows: output channels
    dcols = np.matmul(wm.transpose(0, 2, 1), rows.reshape(groups, O // groups, -1))  # (G, K, .)
    # a canvas holding the padded input and every position a window reaches
    canvas_shape = tuple(max(p + n, (o - 1) * s + d * (k - 1) + 1) for p, n, o, s, d, k in
                         zip(pad_before, in_hw, out, stride, dilation, kernel))
    # both as views in the (channel, *offset, N, *out) and (C, N, *canvas) order of the loop
    if batch_last:
        dcols = dcols.reshape(C, *kernel, *out, N).transpose(
            0, *range(1, 1 + nd), 1 + 2 * nd, *range(1 + nd, 1 + 2 * nd))
        canvas = np.zeros((C, *canvas_shape, N), dtype=dcols.dtype).transpose(
            0, 1 + nd, *range(1, 1 + nd))
    else:
        dcols = dcols.reshape(C, *kernel, N, *out)  # rows (g, c, p, q) = (channel, p, q)
        canvas = np.zeros((C, N, *canvas_shape), dtype=dcols.dtype)
    for offset in np.ndindex(*kernel):  # kernel offsets only: each adds one slab for all
        reach = tuple(slice(p * d, p * d + (o - 1) * s + 1, s)
                      for p, d, o, s in zip(offset, dilation, out, stride))
        canvas[(slice(None), slice(None), *reach)] += dcols[(slice(None), *offset)]
    crop = tuple(slice(p, p + n) for p, n in zip(pad_before, in_hw))  # drop the padding
    dx = canvas[(slice(None), slice(None), *crop)]
    return np.ascontiguousarray(dx.transpose(1, 0, *range(2, dx.ndim)))  # (N, C, H, W)


def input_grad_flipped(dout: np.ndarray, w: np.ndarray, in_hw: tuple[int, ...],
                       stride: tuple[int, ...], pad_before: tuple[int, ...],
                       dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """:math:`\\partial L/\\partial x` of the convolution ``x -> y`` (input (N, C, *in_hw),
    padded by ``pad_before`` at the top/left) as the correlation of the stride-dilated
    ``dout`` with the flipped, channel-transposed kernel (module docstring): the textbook
    identity, fully vectorised (one im2col of :math:`\\hat\\delta`, one product).
    :func:`input_grad` computes the same by col2im; the layers use that one.

    The padding of :math:`\\hat\\delta` is chosen so that the result is the gradient of the
    *unpadded* input directly: :math:`d(k-1) - \\text{pad}` zeros before (a crop when the
    padding exceeds the kernel's reach) and whatever makes the length ``in_hw`` after
    (rows no window reaches, below a stride's last step, get zeros)."""
    N, O = dout.shape[:2]
    n = dout.ndim - 2
    C = w.shape[1] * groups
    kernel = w.shape[2:]
    if all(s == 1 for s in stride):
        z = dout
    else:  # undo the stride: s - 1 zeros between the entries of dout
        z = np.zeros((N, O, *((o - 1) * s + 1 for o, s in zip(dout.shape[2:], stride))),
                     dtype=dout.dtype)
        z[(slice(None), slice(None), *(slice(None, None, s) for s in stride))] = dout
    for axis in range(n):
        k, d, p, n_in = kernel[axis], dilation[axis], pad_before[axis], in_hw[axis]
        before = d * (k - 1) - p
        after = n_in + d * (k - 1) - z.shape[2 + axis] - before  # output length n_in
        z = _pad_or_crop(z, 2 + axis, before, after)
    # flip every spatial axis, swap in/out channels within each group:
    # (G, O/G, C/G, *k) -> (G, C/G, O/G, *k) -> (C, O/G, *k)
    wf = w[(slice(None), slice(None), *(slice(None, None, -1),) * n)]
    wf = wf.reshape(groups, O // groups, C // groups, *kernel)
    wf = wf.transpose(0, 2, 1, *range(3, 3 + n)).reshape(C, O // groups, *kernel)
    cols, out_hw = im2col(z, tuple(kernel), (1,) * n, dilation, groups)
    return cols_times_weight(cols, wf, N, out_hw)


# --------------------------------------------------------------------------------------
# functional pairs (CS231n style)
# --------------------------------------------------------------------------------------
def _conv_forward(owner: str, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                  stride: Any, padding: Any, dilation: Any, groups: int
                  ) -> tuple[np.ndarray, tuple]:
    """The convolution of ``x`` (N, C, *spatial) with ``w`` (O, C/G, *kernel), any number of
    spatial dims (``w``'s): zero padding, im2col, one product per group."""
    n = w.ndim - 2
    kernel = tuple(w.shape[2:])
    stride = as_tuple(owner, "stride", stride, n)
    dilation = as_tuple(owner, "dilation", dilation, n)
    pads = conv_padding(owner, padding, kernel, stride, dilation)
    xp = _zero_pad(x, pads)  # (N, C, *padded), zeros around
    cols, out = im2col(xp, kernel, stride, dilation, groups)  # (G, C/G*prod(k), N*prod(out))
    y = cols_times_weight(cols, w, x.shape[0], out)  # (N, O, *out)
    if b is not None:
        y += b.reshape(-1, *(1,) * n)
    cache = (x.shape, w, cols, stride, pads, dilation, groups, b is not None)
    return y, cache


def _conv_backward(dout: np.ndarray, cache: tuple, need_dx: bool
                   ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dx, dw, db)`` of :func:`_conv_forward`, any number of spatial dims."""
    x_shape, w, cols, stride, pads, dilation, groups, has_bias = cache
    spatial = tuple(range(2, dout.ndim))
    db = dout.sum(axis=(0, *spatial)) if has_bias else None  # (O,)
    dw = weight_grad(dout, cols, w.shape)  # (O, C/G, *kernel)
    dx = None
    if need_dx:
        dx = input_grad(dout, w, x_shape[2:], stride, tuple(p[0] for p in pads), dilation,
                        groups)  # (N, C, *spatial)
    return dx, dw, db


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
                   ) -> tuple[np.ndarray, tuple]:
    r"""``F.conv2d``: :math:`y = b + w \star x` (cross-correlation, module docstring).

    ``x`` (N, C, H, W), ``w`` (O, C/groups, kh, kw), ``b`` (O,) or None; ``padding`` an
    int, a pair, ``'valid'``, ``'same'`` or explicit ((top, bottom), (left, right)).
    Returns ``(y, cache)``, ``y`` (N, O, Ho, Wo) with
    :math:`H_o = \lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1`."""
    return _conv_forward("conv2d", x, w, b, stride, padding, dilation, groups)


def _zero_pad(x: np.ndarray, pads: tuple[tuple[int, int], ...]) -> np.ndarray:
    """``np.pad(x, ((0, 0), (0, 0), *pads))`` with zeros, written as a copy into a zero
    array: the same array, 2-3x faster than ``np.pad``'s general machinery on small images."""
    xp = np.zeros((*x.shape[:2], *(n + a + b for n, (a, b) in zip(x.shape[2:], pads))),
                  dtype=x.dtype)
    xp[(slice(None), slice(None), *(slice(a, a + n) for n, (a, _) in
                                    zip(x.shape[2:], pads)))] = x
    return xp


def conv2d_backward(dout: np.ndarray, cache: tuple, need_dx: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    r"""Given :math:`\delta = \partial L/\partial y`, return ``(dx, dw, db)``: ``dw`` =
    :math:`\Delta^\top` cols, ``db`` the sum of :math:`\delta` over batch and positions
    (None without a bias), ``dx`` the correlation of the stride-dilated :math:`\delta` with
    the flipped kernel (None with ``need_dx=False``)."""
    return _conv_backward(dout, cache, need_dx)


def conv3d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
                   ) -> tuple[np.ndarray, tuple]:
    r"""``F.conv3d``: the 2-d convolution with a depth axis, computed by the same im2col
    (one column per (C/G, kd, kh, kw) receptive field) and one product per group:

    .. math::
        y_{n,o,t,i,j} = b_o + \sum_{c \in g(o)} \sum_{r<kd} \sum_{p<kh} \sum_{q<kw}
            w_{o,c,r,p,q}\; x_{p;\,n,c,\; t s_d + r d_d,\; i s_h + p d_h,\; j s_w + q d_w}

    ``x`` (N, C, D, H, W), ``w`` (O, C/groups, kd, kh, kw), ``b`` (O,) or None; ``padding``
    an int, a triple, ``'valid'``, ``'same'`` (stride 1) or explicit (before, after)
    pairs. Returns ``(y, cache)``, ``y`` (N, O, Do, Ho, Wo), each size
    :math:`\lfloor (n + 2p - d(k-1) - 1)/s \rfloor + 1`. The backward
    (:func:`conv3d_backward`):

    .. math::
        \frac{\partial L}{\partial w_{o,c,r,p,q}} = \sum_{n,t,i,j} \delta_{n,o,t,i,j}\,
            x_{p;\,n,c,\,t s_d + r d_d,\,i s_h + p d_h,\,j s_w + q d_w}, \qquad
        \frac{\partial L}{\partial b_o} = \sum_{n,t,i,j} \delta_{n,o,t,i,j}

    (summed over the output's depth as well as its rows and columns), and
    :math:`\partial L/\partial x` the correlation of the stride-dilated :math:`\delta`
    with the kernel flipped in all three spatial axes, computed by col2im."""
    return _conv_forward("conv3d", x, w, b, stride, padding, dilation, groups)


def conv3d_backward(dout: np.ndarray, cache: tuple, need_dx: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    r"""``(dx, dw, db)`` of :func:`conv3d_forward` given :math:`\delta` (N, O, Do, Ho, Wo):
    ``dw`` = :math:`\Delta^\top` cols (a sum over samples and every output position,
    depth included), ``db`` the sum of :math:`\delta` over (N, Do, Ho, Wo) (None without
    a bias), ``dx`` by col2im (None with ``need_dx=False``)."""
    return _conv_backward(dout, cache, need_dx)


def conv1d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
                   ) -> tuple[np.ndarray, tuple]:
    """``F.conv1d``: ``x`` (N, C, L), ``w`` (O, C/groups, k). A 1-d convolution is the 2-d
    one on an image of height 1 with a kernel of height 1, which is how it is computed."""
    s = as_tuple("conv1d", "stride", stride, 1)
    d = as_tuple("conv1d", "dilation", dilation, 1)
    (pad,) = conv_padding("conv1d", padding, tuple(w.shape[2:]), s, d)
    y, cache = conv2d_forward(x[:, :, None, :], w[:, :, None, :], b, (1, s[0]),
                              ((0, 0), pad), (1, d[0]), groups)  # (N, O, 1, Lo)
    return y[:, :, 0, :], cache


def conv1d_backward(dout: np.ndarray, cache: tuple, need_dx: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dx, dw, db)`` of :func:`conv1d_forward` (through the 2-d backward)."""
    dx, dw, db = conv2d_backward(dout[:, :, None, :], cache, need_dx)
    return (None if dx is None else dx[:, :, 0, :]), dw[:, :, 0, :], db


def _conv_transpose_forward(owner: str, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                            stride: Any, padding: Any, output_padding: Any, groups: int,
                            dilation: Any) -> tuple[np.ndarray, tuple]:
    """The transposed convolution of ``x`` (N, C, *spatial) with ``w`` (C, O/G, *kernel),
    any number of spatial dims: the input gradient of the convolution with the same
    arguments (:func:`input_grad`)."""
    n = w.ndim - 2
    stride = as_tuple(owner, "stride", stride, n)
    dilation = as_tuple(owner, "dilation", dilation, n)
    pad = as_tuple(owner, "padding", padding, n, minimum=0)
    opad = as_tuple(owner, "output_padding", output_padding, n, minimum=0)
    size = x.shape[2:]
    out = tuple((m - 1) * s - 2 * p + d * (k - 1) + op + 1 for m, s, p, d, k, op in
                zip(size, stride, pad, dilation, w.shape[2:], opad))
    if min(out) < 0:
        raise ValueError(f"{owner}: padding {pad} leaves a negative output size "
                         f"{out} for an input of spatial size {size}")
    y = input_grad(x, w, out, stride, pad, dilation, groups)  # the adjoint of the conv
    if b is not None:
        y += b.reshape(-1, *(1,) * n)
    return y, (x, w, stride, pad, dilation, groups, b is not None)


def _conv_transpose_backward(dout: np.ndarray, cache: tuple, need_dx: bool
                             ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dx, dw, db)`` of :func:`_conv_transpose_forward`, any number of spatial dims."""
    x, w, stride, pad, dilation, groups, has_bias = cache
    N, size = x.shape[0], x.shape[2:]
    spatial = tuple(range(2, dout.ndim))
    db = dout.sum(axis=(0, *spatial)) if has_bias else None
    dp = np.pad(dout, ((0, 0), (0, 0), *((p, p) for p in pad)))
    cols, out = im2col(dp, tuple(w.shape[2:]), stride, dilation, groups)
    # output_padding can leave one more window than there are input pixels: keep the
    # receptive fields that correspond to input pixels
    if out != size:
        G, K = cols.shape[:2]
        keep = (slice(None),) * 3 + tuple(slice(0, m) for m in size)
        cols = np.ascontiguousarray(cols.reshape(G, K, N, *out)[keep]).reshape(
            G, K, N * int(np.prod(size)))
    dx = cols_times_weight(cols, w, N, size) if need_dx else None  # conv(dout, w)
    # dw[c, o, p, q] = sum_{n,i,j} x[n, c, i, j] * dp[n, o, i*s + p*d, j*s + q*d]
    dw = weight_grad(x, cols, w.shape)
    return dx, dw, db


def conv_transpose2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                             stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                             groups: int = 1, dilation: Any = 1) -> tuple[np.ndarray, tuple]:
    r"""``F.conv_transpose2d`` (torch's argument order): the adjoint of ``conv2d`` — every
    input pixel scatters ``w`` times itself onto the output (stride apart), the overlaps
    add up, ``padding`` is cropped from each side and ``output_padding`` adds rows and
    columns at the bottom/right:

    .. math::
        y_{n,o,r,t} = b_o + \sum_{c \in g(o)} \sum_{p,q} \hat x_{n,c,\,r + \text{pad}_h -
            p d_h,\; t + \text{pad}_w - q d_w}\; w_{c,o,p,q}

    (:math:`\hat x`: :math:`x` with :math:`s-1` zeros between entries), i.e. exactly the
    input gradient of ``conv2d`` with the same arguments, computed as such (one im2col and
    one matrix product). ``x`` (N, C, H, W), ``w`` (C, O/groups, kh, kw); the output is
    (N, O, Ho, Wo) with :math:`H_o = (H-1)s - 2p + d(k-1) + \text{output\_padding} + 1`.

    Backward: :math:`\partial L/\partial x` is ``conv2d`` of :math:`\delta` with ``w``
    (same stride, padding, dilation, groups), :math:`\partial L/\partial w` the
    corresponding weight gradient with the roles of input and output swapped, and
    :math:`\partial L/\partial b` the sum of :math:`\delta`."""
    return _conv_transpose_forward("conv_transpose2d", x, w, b, stride, padding,
                                   output_padding, groups, dilation)


def conv_transpose2d_backward(dout: np.ndarray, cache: tuple, need_dx: bool = True
                              ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dx, dw, db)`` of :func:`conv_transpose2d_forward`: ``dx`` is the plain
    convolution of ``dout`` (padded by ``padding``) with ``w``; ``dw`` pairs every
    receptive field of ``dout`` with the input pixel that scattered into it."""
    return _conv_transpose_backward(dout, cache, need_dx)


def conv_transpose1d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                             stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                             groups: int = 1, dilation: Any = 1) -> tuple[np.ndarray, tuple]:
    r"""``F.conv_transpose1d`` (torch's argument order): every input element scatters
    ``w`` times itself onto the output, ``stride`` apart, the overlaps add, ``padding`` is
    cropped from both ends and ``output_padding`` adds positions at the end:

    .. math::
        y_{n,o,t} = b_o + \sum_{c \in g(o)} \sum_{q<k} \hat x_{n,c,\; t + \text{pad} - q d}
            \; w_{c,o,q}, \qquad L_o = (L-1)s - 2\,\text{pad} + d(k-1)
            + \text{output\_padding} + 1

    (:math:`\hat x`: :math:`x` with :math:`s-1` zeros between entries, zero outside): the
    input gradient of ``conv1d`` with the same arguments, computed as such. ``x``
    (N, C, L), ``w`` (C, O/groups, k), ``b`` (O,) or None. ``output_padding`` only
    lengthens the output, so that a strided ``conv1d``'s input length is recovered; the
    added positions are real outputs when ``output_padding <= padding`` (the crop at the
    end is shortened), zero-input positions (bias only) beyond that.

    Backward (:func:`conv_transpose1d_backward`), given :math:`\delta` (N, O, L_o):

    .. math::
        \frac{\partial L}{\partial x_{n,c,\ell}} = \sum_{o \in g(c)} \sum_q
            \delta_{p;\,n,o,\,\ell s + q d}\, w_{c,o,q}, \qquad
        \frac{\partial L}{\partial w_{c,o,q}} = \sum_{n,\ell} x_{n,c,\ell}\,
            \delta_{p;\,n,o,\,\ell s + q d}, \qquad
        \frac{\partial L}{\partial b_o} = \sum_{n,t} \delta_{n,o,t}

    with :math:`\delta_p` the upstream gradient zero-padded by ``padding`` at both ends:
    ``conv1d`` of :math:`\delta` with ``w``, including the positions ``output_padding``
    added (computed by the same N-d im2col)."""
    return _conv_transpose_forward("conv_transpose1d", x, w, b, stride, padding,
                                   output_padding, groups, dilation)


def conv_transpose1d_backward(dout: np.ndarray, cache: tuple, need_dx: bool = True
                              ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dx, dw, db)`` of :func:`conv_transpose1d_forward` (``dx`` None with
    ``need_dx=False``, ``db`` None without a bias)."""
    return _conv_transpose_backward(dout, cache, need_dx)


# --------------------------------------------------------------------------------------
# the layers
# --------------------------------------------------------------------------------------
class _ConvNd(Layer):
    """Shared construction, validation and unbatched-input handling of the convolutions
    (``nd`` spatial dims; ``transposed`` for ConvTranspose1d/2d)."""

    nd = 2
    transposed = False
    #: one int per spatial dim; a convolution (not transposed) also takes 'valid' or 'same'
    padding: str | tuple[int, ...]

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None,
                 output_padding: Any = None) -> None:
        super().__init__()
        owner, n = type(self).__name__, self.nd
        self.in_channels = check_positive_int(owner, "in_channels", in_channels)
        self.out_channels = check_positive_int(owner, "out_channels", out_channels)
        self.kernel_size = as_tuple(owner, "kernel_size", kernel_size, n)
        self.stride = as_tuple(owner, "stride", stride, n)
        self.dilation = as_tuple(owner, "dilation", dilation, n)
        self.groups = check_positive_int(owner, "groups", groups)
        for key, c in (("in_channels", in_channels), ("out_channels", out_channels)):
            if c % self.groups:
                raise ValueError(f"{owner}: {key} ({c}) must be divisible by groups "
                                 f"({self.groups})")
        if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
            raise ValueError(f"{owner}: padding_mode must be one of {PADDING_MODES}, got "
                             f"padding_mode={padding_mode!r}")
        if padding_mode != "zeros" and self.transposed:
            raise ValueError(f"{owner}: only padding_mode='zeros' is supported, as in torch; "
                             f"got {padding_mode!r}")
        self.padding_mode = padding_mode
        if self.transposed:
            if isinstance(padding, str):
                raise ValueError(f"{owner}: padding must be an int or a tuple, got {padding!r}")
            self.padding = as_tuple(owner, "padding", padding, n, minimum=0)
            self.output_padding = as_tuple(owner, "output_padding", output_padding or 0, n,
                                           minimum=0)
            for op, s, d in zip(self.output_padding, self.stride, self.dilation):
                if op >= max(s, d):
                    raise ValueError(f"{owner}: output_padding {self.output_padding} must be "
                                     f"smaller than either stride {self.stride} or dilation "
                                     f"{self.dilation}, as in torch")
        else:
            self.padding = padding if isinstance(padding, str) else as_tuple(
                owner, "padding", padding, n, minimum=0)
            self._pads = conv_padding(owner, self.padding, self.kernel_size, self.stride,
                                      self.dilation)
            # torch's _reversed_padding_repeated_twice: F.pad's amounts, the last axis first
            self._flat_pads = tuple(v for pair in reversed(self._pads) for v in pair)
            # what the convolution itself pads: the padding, or nothing after F.pad
            self._conv_pads = (self._pads if padding_mode == "zeros"
                               else ((0, 0),) * n)
        self.config = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                       "kernel_size": self.kernel_size, "stride": self.stride,
                       "padding": self.padding}
        if self.transposed:
            self.config["output_padding"] = self.output_padding
        self.config.update({"dilation": self.dilation, "groups": self.groups,
                            "bias": bool(bias), "padding_mode": padding_mode})
        dt = layer_dtype(owner, dtype)
        gen = as_rng(rng)
        if self.transposed:  # (in, out/groups, *k): torch's fan_in is weight.size(1) * k
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:  # (out, in/groups, *k)
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        fan_in = shape[1] * int(np.prod(self.kernel_size))
        bound = 1 / np.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), ...)
        self.params["weight"] = uniform_init(gen, bound, shape, dt)
        if bias:
            self.params["bias"] = uniform_init(gen, bound, (self.out_channels,), dt)

    def _check(self, x: Any) -> tuple[np.ndarray, bool]:
        """``x`` as a batched float array (N, C, *spatial), and whether it was unbatched."""
        owner, n = type(self).__name__, self.nd
        spatial = {1: "L", 2: "H, W", 3: "D, H, W"}[n]
        x = self.check_input(x, (n + 1, n + 2), what=f"(N, C, {spatial}) or (C, {spatial})")
        unbatched = x.ndim == n + 1
        if unbatched:
            x = x[None]
        if x.shape[1] != self.in_channels:
            raise ValueError(f"{owner}: expected {self.in_channels} input channels "
                             f"(in_channels={self.in_channels}), got input of shape "
                             f"{x.shape[1:] if unbatched else x.shape}")
        if not self.transposed:
            for size, (a, b), k, d in zip(x.shape[2:], self._pads, self.kernel_size,
                                          self.dilation):
                if size + a + b < d * (k - 1) + 1:
                    raise ValueError(
                        f"{owner}: the padded input ({x.shape[2:]} plus padding "
                        f"{self.padding}) is smaller than the dilated kernel "
                        f"{tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))}"
                        f" (kernel_size={self.kernel_size}, dilation={self.dilation}); input "
                        f"shape {x.shape}")
        return x, unbatched

    # the functional pair of the subclass
    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        raise NotImplementedError

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        raise NotImplementedError

    def _pad_forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple | None]:
        """``F.pad(x, pads, padding_mode)`` for a padding mode other than zeros (torch's
        ``_conv_forward``), and its cache; ``x`` itself and None for zeros (the
        convolution pads those)."""
        if self.padding_mode == "zeros":
            return x, None
        return pad_nd_forward(x, self._flat_pads, self.padding_mode,
                              owner=f"{type(self).__name__} (padding_mode="
                                    f"{self.padding_mode!r})")

    def _pad_backward(self, dxp: np.ndarray, pad_cache: tuple) -> np.ndarray:
        """The gradient of the padded input sent back through ``F.pad``: every copied
        position's gradient added onto its source."""
        return pad_nd_backward(dxp, pad_cache)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = self._check(x)
        x, pad_cache = self._pad_forward(x)
        y, cache = self._forward(x)  # the functional form, on a batch
        self._cache = (unbatched, cache, pad_cache)
        y = y[0] if unbatched else y  # (C, *) in, (C_out, *) out, as torch
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        unbatched, cache, pad_cache = self._cache
        if unbatched:
            dout = dout[None]
        dx, dw, db = self._backward(dout, cache, self.needs_input_grad)
        self.grads = {"weight": dw} if db is None else {"weight": dw, "bias": db}
        if dx is not None and pad_cache is not None:
            dx = self._pad_backward(dx, pad_cache)
        if dx is not None and unbatched:
            dx = dx[0]
        return dx


class Conv2d(_ConvNd):
    r"""``nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros', dtype=None)``.

    ``params``: ``weight`` (out, in/groups, kh, kw) and ``bias`` (out,), both from
    :math:`U(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})`, fan_in = in/groups·kh·kw
    (torch's default init; drawn from ``rng``). ``padding``: int, pair, ``'valid'`` or
    ``'same'`` (stride 1 only, the odd padding after, as torch). ``groups = in_channels``
    is a depthwise convolution. Input (N, C, H, W) or unbatched (C, H, W); N may be 0.
    Forward, backward and their math: :func:`conv2d_forward`, :func:`conv2d_backward` and
    the module docstring. ``padding_mode``: ``'zeros'``, ``'reflect'``, ``'replicate'`` or
    ``'circular'`` (``F.pad`` in that mode, then an unpadded convolution, as torch; the
    backward adds each copied position's gradient back onto its source: module docstring).
    """

    nd = 2

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return conv2d_forward(x, self.params["weight"], self.params.get("bias"),
                              self.stride, self._conv_pads, self.dilation, self.groups)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        return conv2d_backward(dout, cache, need_dx)


class Conv1d(_ConvNd):
    r"""``nn.Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros', dtype=None)``: ``weight`` (out, in/groups,
    k), input (N, C, L) or (C, L). Computed as :class:`Conv2d` on an image of height 1
    (:func:`conv1d_forward`); the same init, options (``padding_mode`` included) and
    checks."""

    nd = 1

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return conv1d_forward(x, self.params["weight"], self.params.get("bias"),
                              self.stride, self._conv_pads, self.dilation, self.groups)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        return conv1d_backward(dout, cache, need_dx)


class _ConvTransposeNd(_ConvNd):
    """The transposed convolutions' shared constructor (torch's argument order) and calls
    of their functional pair ``_pair`` = (forward, backward)."""

    transposed = True
    _pair: tuple[Any, Any]

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, rng=rng,
                         output_padding=output_padding)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return self._pair[0](x, self.params["weight"], self.params.get("bias"), self.stride,
                             self.padding, self.output_padding, self.groups, self.dilation)

    def _backward(self, dout: np.ndarray, cache: tuple,  # type: ignore[override]
                  need_dx: bool) -> tuple:
        return self._pair[1](dout, cache, need_dx)


class ConvTranspose2d(_ConvTransposeNd):
    r"""``nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', dtype=None)``
    (torch's order: ``output_padding`` before ``groups``, ``dilation`` after ``bias``).

    ``params``: ``weight`` (in, out/groups, kh, kw) and ``bias`` (out,), from
    :math:`U(-1/\sqrt{\text{fan\_in}}, \cdot)` with torch's fan_in = out/groups·kh·kw (it
    reads the weight's second axis). ``output_padding`` must be smaller than the stride or
    the dilation, as torch. Input (N, C, H, W) or (C, H, W). Math:
    :func:`conv_transpose2d_forward` (the input gradient of a convolution) and
    :func:`conv_transpose2d_backward`. Only ``padding_mode='zeros'``.
    """

    nd = 2
    _pair = (conv_transpose2d_forward, conv_transpose2d_backward)  # a tuple: never bound


class Conv3d(_ConvNd):
    r"""``nn.Conv3d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros', dtype=None)``: ``weight`` (out, in/groups,
    kd, kh, kw) and ``bias`` (out,) from :math:`U(-1/\sqrt{\text{fan\_in}}, \cdot)`,
    fan_in = in/groups·kd·kh·kw (torch's init, drawn from ``rng``). ``kernel_size``,
    ``stride``, ``padding``, ``dilation``: an int or a triple; ``padding`` also
    ``'valid'`` or ``'same'`` (stride 1 only, the odd padding after, as torch). Input
    (N, C, D, H, W) or unbatched (C, D, H, W). The same im2col as :class:`Conv2d` with a
    depth axis (:func:`conv3d_forward`, :func:`conv3d_backward`): the weight and bias
    gradients sum over the output's depth, rows and columns. ``padding_mode``: ``'zeros'``,
    ``'reflect'``, ``'replicate'`` or ``'circular'``, as :class:`Conv2d`."""

    nd = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, rng=rng)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return conv3d_forward(x, self.params["weight"], self.params.get("bias"),
                              self.stride, self._conv_pads, self.dilation, self.groups)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        return conv3d_backward(dout, cache, need_dx)


class ConvTranspose1d(_ConvTransposeNd):
    r"""``nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', dtype=None)``
    (torch's order). ``params``: ``weight`` (in, out/groups, k) and ``bias`` (out,), from
    :math:`U(-1/\sqrt{\text{fan\_in}}, \cdot)` with torch's fan_in = out/groups·k.
    ``output_padding`` (added at the end of the output) must be smaller than the stride or
    the dilation, as torch. Input (N, C, L) or (C, L); output length
    :math:`(L-1)s - 2p + d(k-1) + \text{output\_padding} + 1`. Math:
    :func:`conv_transpose1d_forward` and :func:`conv_transpose1d_backward`. Only
    ``padding_mode='zeros'``, as torch."""

    nd = 1
    _pair = (conv_transpose1d_forward, conv_transpose1d_backward)  # a tuple: never bound

