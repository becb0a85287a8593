r"""Convolutions: :class:`Conv1d`, :class:`Conv2d`, :class:`ConvTranspose2d`, and the
CS231n-style functional pairs they use (``conv2d_forward``/``conv2d_backward``, …).

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

Only ``padding_mode='zeros'`` is implemented; ``'reflect'``, ``'replicate'`` and
``'circular'`` are rejected with a ``ValueError``.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from manual.layers.base import Layer, as_rng, check_positive_int, layer_dtype, uniform_init

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "conv1d_backward", "conv1d_forward",
           "conv2d_backward", "conv2d_forward", "conv_transpose2d_backward",
           "conv_transpose2d_forward", "im2col", "input_grad", "input_grad_flipped",
           "weight_grad"]

Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))


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
# the three building blocks: im2col, the weight gradient, the input gradient
# --------------------------------------------------------------------------------------
def windows(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int]) -> np.ndarray:
    """Every receptive field of the padded ``xp`` (N, C, Hp, Wp) as a strided **view**
    (N, C, Ho, Wo, kh, kw): no copy, element [n, c, i, j, p, q] is
    ``xp[n, c, i*sh + p*dh, j*sw + q*dw]``."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # the dilated kernel's extent
    v = sliding_window_view(xp, span, axis=(2, 3))  # (N, C, Hp-span+1, Wp-span+1, *span)
    return v[:, :, ::sh, ::sw, ::dh, ::dw]  # stride over positions, dilation inside windows


def im2col(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
           dilation: tuple[int, int], groups: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The im2col matrices of ``xp``: (G, C/G·kh·kw, N·Ho·Wo), for each group one column per
    receptive field (the one copy of the convolution), and the output size (Ho, Wo).

    Rows are ordered (c, p, q) like the weight's (C/G, kh, kw) axes, columns (n, i, j).
    With the samples inside the columns, each group's convolution is *one* matrix product
    over the whole batch, the shape BLAS is fastest at (a product per sample is 4x slower
    in float32, measured), and the copy reads rows of ``xp`` (``j`` innermost)."""
    N, C = xp.shape[:2]
    v = windows(xp, kernel, stride, dilation)  # (N, C, Ho, Wo, kh, kw), a view
    Ho, Wo = v.shape[2:4]
    K = C // groups * kernel[0] * kernel[1]
    v = v.reshape(N, groups, C // groups, Ho, Wo, *kernel)  # split channels into groups
    cols = v.transpose(1, 2, 5, 6, 0, 3, 4).reshape(groups, K, N * Ho * Wo)  # the copy
    return cols, (Ho, Wo)


def cols_times_weight(cols: np.ndarray, w: np.ndarray, N: int, out_hw: tuple[int, int]
                      ) -> np.ndarray:
    r""":math:`Y = W\,\text{cols}` per group, returned in (N, O, Ho, Wo) layout."""
    G = cols.shape[0]
    O = w.shape[0]
    wm = w.reshape(G, O // G, cols.shape[1])  # (G, O/G, C/G*kh*kw): the weight as a matrix
    y = np.matmul(wm, cols)  # (G, O/G, N*Ho*Wo): one BLAS product per group
    y = y.reshape(O, N, *out_hw).transpose(1, 0, 2, 3)  # (N, O, Ho, Wo)
    return np.ascontiguousarray(y)


def weight_grad(dout: np.ndarray, cols: np.ndarray, w_shape: tuple[int, ...]) -> np.ndarray:
    r""":math:`\partial L/\partial W = \Delta\, \text{cols}^\top` per group, with
    :math:`\Delta` the upstream gradient as an (O/G, N·Ho·Wo) matrix: every receptive field
    weighted by the gradient of the output it produced, summed over samples and positions
    by the product."""
    d = dout_matrix(dout, cols.shape[0])  # (G, O/G, N*Ho*Wo)
    # cols @ d^T, then a transpose of the small result: BLAS runs the long inner dimension
    # (N*Ho*Wo) 3x faster this way round than as d @ cols^T (measured, float32)
    dw_t = np.matmul(cols, d.transpose(0, 2, 1))  # (G, C/G*kh*kw, O/G)
    return np.ascontiguousarray(dw_t.transpose(0, 2, 1)).reshape(w_shape)


def dout_matrix(dout: np.ndarray, groups: int) -> np.ndarray:
    """The upstream gradient (N, O, Ho, Wo) as per-group matrices (G, O/G, N·Ho·Wo), the
    column order of :func:`im2col`."""
    N, O = dout.shape[:2]
    M = int(np.prod(dout.shape[2:]))  # Ho*Wo
    return dout.reshape(N, O, M).transpose(1, 0, 2).reshape(groups, O // groups, N * M)


def input_grad(dout: np.ndarray, w: np.ndarray, in_hw: tuple[int, int],
               stride: tuple[int, int], pad_before: tuple[int, int],
               dilation: tuple[int, int], groups: int) -> np.ndarray:
    r""":math:`\partial L/\partial x` of the convolution ``x -> y`` (input (N, C, *in_hw),
    padded by ``pad_before`` at the top/left) by col2im, the transpose of im2col:
    :math:`\partial L/\partial\,\text{cols} = W^\top \Delta` (one product per group)
    gives every receptive field's gradient, which is then added back where the field was
    read. Equal to :func:`input_grad_flipped`, the convolution of the stride-dilated
    ``dout`` with the flipped kernel (a test checks it), and faster: its product has the
    long side where BLAS wants it, 2x faster in float32 (measured).

    The add-back loops over the kh·kw kernel offsets (9 for 3x3), each one vectorised add
    of a whole (C, N, Ho, Wo) slab: receptive fields overlap, so the scatter must
    accumulate, and NumPy's only loop-free accumulating scatters (``np.add.at``,
    ``np.bincount`` with an index per element of ``cols``) are several times slower than
    kh·kw strided adds."""
    N, O, Ho, Wo = dout.shape
    Cg, kh, kw = w.shape[1:]
    C = Cg * groups
    (sh, sw), (dh, dw) = stride, dilation
    wm = w.reshape(groups, O // groups, Cg * kh * kw)  # (G, O/G, C/G*kh*kw)
    # why batch_last: on narrow outputs the slabs added below are runs of Wo values, slow
    # to add; with the columns ordered (i, j, n) instead of (n, i, j) they are runs of
    # Wo*N (or N) values, at the price of a transposing copy of dout in and of dx out
    batch_last = Wo < 8
    d = dout.transpose((1, 2, 3, 0) if batch_last else (1, 0, 2, 3))  # rows: output channels
    dcols = np.matmul(wm.transpose(0, 2, 1), d.reshape(groups, O // groups, -1))  # (G, K, .)
    # a canvas holding the padded input and every position a window reaches
    hc = max(pad_before[0] + in_hw[0], (Ho - 1) * sh + dh * (kh - 1) + 1)
    wc = max(pad_before[1] + in_hw[1], (Wo - 1) * sw + dw * (kw - 1) + 1)
    # both as views in the (channel, p, q, N, Ho, Wo) and (C, N, hc, wc) order of the loop
    if batch_last:
        dcols = dcols.reshape(C, kh, kw, Ho, Wo, N).transpose(0, 1, 2, 5, 3, 4)
        canvas = np.zeros((C, hc, wc, N), dtype=dcols.dtype).transpose(0, 3, 1, 2)
    else:
        dcols = dcols.reshape(C, kh, kw, N, Ho, Wo)  # rows (g, c, p, q) = (channel, p, q)
        canvas = np.zeros((C, N, hc, wc), dtype=dcols.dtype)
    for p in range(kh):  # kernel offsets only: each step adds one slab for all pixels
        for q in range(kw):
            canvas[:, :, p * dh:p * dh + (Ho - 1) * sh + 1:sh,
                   q * dw:q * dw + (Wo - 1) * sw + 1:sw] += dcols[:, p, q]
    dx = canvas[:, :, pad_before[0]:pad_before[0] + in_hw[0],
                pad_before[1]:pad_before[1] + in_hw[1]]  # drop the padding
    return np.ascontiguousarray(dx.transpose(1, 0, 2, 3))  # (N, C, H, W)


def input_grad_flipped(dout: np.ndarray, w: np.ndarray, in_hw: tuple[int, int],
                       stride: tuple[int, int], pad_before: tuple[int, int],
                       dilation: tuple[int, int], groups: int) -> np.ndarray:
    """:math:`\\partial L/\\partial x` of the convolution ``x -> y`` (input (N, C, *in_hw),
    padded by ``pad_before`` at the top/left) as the correlation of the stride-dilated
    ``dout`` with the flipped, channel-transposed kernel (module docstring): the textbook
    identity, fully vectorised (one im2col of :math:`\\hat\\delta`, one product).
    :func:`input_grad` computes the same by col2im; the layers use that one.

    The padding of :math:`\\hat\\delta` is chosen so that the result is the gradient of the
    *unpadded* input directly: :math:`d(k-1) - \\text{pad}` zeros before (a crop when the
    padding exceeds the kernel's reach) and whatever makes the length ``in_hw`` after
    (rows no window reaches, below a stride's last step, get zeros)."""
    N, O, Ho, Wo = dout.shape
    C = w.shape[1] * groups
    (sh, sw), (dh, dw) = stride, dilation
    kh, kw = w.shape[2:]
    if (sh, sw) == (1, 1):
        z = dout
    else:  # undo the stride: s - 1 zeros between the entries of dout
        z = np.zeros((N, O, (Ho - 1) * sh + 1, (Wo - 1) * sw + 1), dtype=dout.dtype)
        z[:, :, ::sh, ::sw] = dout
    for axis, k, d, p, n_in in ((2, kh, dh, pad_before[0], in_hw[0]),
                                (3, kw, dw, pad_before[1], in_hw[1])):
        before = d * (k - 1) - p
        after = n_in + d * (k - 1) - z.shape[axis] - before  # output length n_in
        z = _pad_or_crop(z, axis, before, after)
    # flip both spatial axes, swap in/out channels within each group:
    # (G, O/G, C/G, kh, kw) -> (G, C/G, O/G, kh, kw) -> (C, O/G, kh, kw)
    wf = w[:, :, ::-1, ::-1].reshape(groups, O // groups, C // groups, kh, kw)
    wf = wf.transpose(0, 2, 1, 3, 4).reshape(C, O // groups, kh, kw)
    cols, out_hw = im2col(z, (kh, kw), (1, 1), dilation, groups)
    return cols_times_weight(cols, wf, N, out_hw)


# --------------------------------------------------------------------------------------
# functional pairs (CS231n style)
# --------------------------------------------------------------------------------------
def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
                   ) -> tuple[np.ndarray, tuple]:
    r"""``F.conv2d``: :math:`y = b + w \star x` (cross-correlation, module docstring).

    ``x`` (N, C, H, W), ``w`` (O, C/groups, kh, kw), ``b`` (O,) or None; ``padding`` an
    int, a pair, ``'valid'``, ``'same'`` or explicit ((top, bottom), (left, right)).
    Returns ``(y, cache)``, ``y`` (N, O, Ho, Wo) with
    :math:`H_o = \lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1`."""
    kernel = tuple(w.shape[2:])
    stride = as_tuple("conv2d", "stride", stride, 2)
    dilation = as_tuple("conv2d", "dilation", dilation, 2)
    pads = conv_padding("conv2d", padding, kernel, stride, dilation)
    xp = _zero_pad(x, pads)  # (N, C, Hp, Wp), zeros around
    cols, out_hw = im2col(xp, kernel, stride, dilation, groups)  # (G, N*Ho*Wo, C/G*kh*kw)
    y = cols_times_weight(cols, w, x.shape[0], out_hw)  # (N, O, Ho, Wo)
    if b is not None:
        y += b[:, None, None]
    cache = (x.shape, w, cols, stride, pads, dilation, groups, b is not None)
    return y, cache


def _zero_pad(x: np.ndarray, pads: tuple[tuple[int, int], ...]) -> np.ndarray:
    """``np.pad(x, ((0, 0), (0, 0), *pads))`` with zeros, written as a copy into a zero
    array: the same array, 2-3x faster than ``np.pad``'s general machinery on small images."""
    (top, bottom), (left, right) = pads
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=x.dtype)
    xp[:, :, top:top + H, left:left + W] = x
    return xp


def conv2d_backward(dout: np.ndarray, cache: tuple, need_dx: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    r"""Given :math:`\delta = \partial L/\partial y`, return ``(dx, dw, db)``: ``dw`` =
    :math:`\Delta^\top` cols, ``db`` the sum of :math:`\delta` over batch and positions
    (None without a bias), ``dx`` the correlation of the stride-dilated :math:`\delta` with
    the flipped kernel (None with ``need_dx=False``)."""
    x_shape, w, cols, stride, pads, dilation, groups, has_bias = cache
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None  # (O,)
    dw = weight_grad(dout, cols, w.shape)  # (O, C/G, kh, kw)
    dx = None
    if need_dx:
        dx = input_grad(dout, w, x_shape[2:], stride, (pads[0][0], pads[1][0]), dilation,
                        groups)  # (N, C, H, W)
    return dx, dw, db


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
    stride = as_tuple("conv_transpose2d", "stride", stride, 2)
    dilation = as_tuple("conv_transpose2d", "dilation", dilation, 2)
    pad = as_tuple("conv_transpose2d", "padding", padding, 2, minimum=0)
    opad = as_tuple("conv_transpose2d", "output_padding", output_padding, 2, minimum=0)
    H, W = x.shape[2:]
    kh, kw = w.shape[2:]
    out_hw = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                   for n, s, p, d, k, op in zip((H, W), stride, pad, dilation, (kh, kw), opad))
    if min(out_hw) < 0:
        raise ValueError(f"conv_transpose2d: padding {pad} leaves a negative output size "
                         f"{out_hw} for an input of spatial size {(H, W)}")
    y = input_grad(x, w, out_hw, stride, pad, dilation, groups)  # the adjoint of conv2d
    if b is not None:
        y += b[:, None, None]
    return y, (x, w, stride, pad, dilation, groups, b is not None)


def conv_transpose2d_backward(dout: np.ndarray, cache: tuple, need_dx: bool = True
                              ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dx, dw, db)`` of :func:`conv_transpose2d_forward`: ``dx`` is the plain
    convolution of ``dout`` (padded by ``padding``) with ``w``; ``dw`` pairs every
    receptive field of ``dout`` with the input pixel that scattered into it."""
    x, w, stride, pad, dilation, groups, has_bias = cache
    N, C, H, W = x.shape
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    dp = np.pad(dout, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    cols, out_hw = im2col(dp, tuple(w.shape[2:]), stride, dilation, groups)
    # output_padding can leave one more window than there are input pixels: keep the H x W
    # receptive fields that correspond to input pixels
    if out_hw != (H, W):
        G, K = cols.shape[:2]
        cols = np.ascontiguousarray(
            cols.reshape(G, K, N, *out_hw)[..., :H, :W]).reshape(G, K, N * H * W)
    dx = cols_times_weight(cols, w, N, (H, W)) if need_dx else None  # conv2d(dout, w)
    # dw[c, o, p, q] = sum_{n,i,j} x[n, c, i, j] * dp[n, o, i*s + p*d, j*s + q*d]
    dw = weight_grad(x, cols, w.shape)
    return dx, dw, db


# --------------------------------------------------------------------------------------
# the layers
# --------------------------------------------------------------------------------------
class _ConvNd(Layer):
    """Shared construction, validation and unbatched-input handling of Conv1d/Conv2d."""

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
        if padding_mode != "zeros":
            raise ValueError(f"{owner}: padding_mode={padding_mode!r} is not implemented; only "
                             f"'zeros' (torch also has 'reflect', 'replicate', 'circular')")
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
        spatial = "L" if n == 1 else "H, W"
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

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = self._check(x)
        y, cache = self._forward(x)  # the functional form, on a batch
        self._cache = (unbatched, cache)
        y = y[0] if unbatched else y  # (C, *) in, (C_out, *) out, as torch
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        unbatched, cache = self._cache
        if unbatched:
            dout = dout[None]
        dx, dw, db = self._backward(dout, cache, self.needs_input_grad)
        self.grads = {"weight": dw} if db is None else {"weight": dw, "bias": db}
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
    the module docstring. Only ``padding_mode='zeros'``; others raise ``ValueError``.
    """

    nd = 2

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return conv2d_forward(x, self.params["weight"], self.params.get("bias"),
                              self.stride, self._pads, self.dilation, self.groups)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        return conv2d_backward(dout, cache, need_dx)


class Conv1d(_ConvNd):
    r"""``nn.Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros', dtype=None)``: ``weight`` (out, in/groups,
    k), input (N, C, L) or (C, L). Computed as :class:`Conv2d` on an image of height 1
    (:func:`conv1d_forward`); the same init, options and checks."""

    nd = 1

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return conv1d_forward(x, self.params["weight"], self.params.get("bias"),
                              self.stride, self._pads, self.dilation, self.groups)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        return conv1d_backward(dout, cache, need_dx)


class ConvTranspose2d(_ConvNd):
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
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, rng=rng,
                         output_padding=output_padding)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return conv_transpose2d_forward(x, self.params["weight"], self.params.get("bias"),
                                        self.stride, self.padding, self.output_padding,
                                        self.groups, self.dilation)

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        return conv_transpose2d_backward(dout, cache, need_dx)
