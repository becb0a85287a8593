r"""Padding: :class:`ZeroPad2d`, :class:`ReflectionPad2d`, and their CS231n-style pair
(described here); :func:`pad_nd_forward`/:func:`pad_nd_backward`, ``F.pad`` in its four
modes (zeros, reflect, replicate, circular) over any number of trailing axes, which the
convolutions' ``padding_mode`` and the N-d layers use (:class:`ZeroPad1d`,
:class:`ZeroPad3d`, :class:`ReflectionPad1d`, :class:`ReflectionPad3d`,
:class:`ReplicationPad1d`/``2d``/``3d``, :class:`CircularPad1d`/``2d``/``3d``).

Both pad the last two dims of the input with torch's padding tuple
``(left, right, top, bottom)`` (an int pads all four sides by the same amount); a negative
amount crops that side instead, as torch's. Each output position :math:`(i, j)` reads one
input position, :math:`(r(i), c(j))`, or nothing (zero padding):

.. math::
    y_{\dots ij} = \begin{cases} x_{\dots r(i) c(j)} & \text{if } (i, j)
    \text{ reads the input} \\ 0 & \text{otherwise (zero padding)} \end{cases}

with :math:`r(i) = i - \text{top}` for zero padding and, for reflection padding, the
mirror image about the edge (the edge itself not repeated):

.. math::
    r(i) = \begin{cases} -(i - \text{top}) & i - \text{top} < 0 \\
    2(H-1) - (i - \text{top}) & i - \text{top} \ge H \\ i - \text{top} & \text{otherwise}
    \end{cases}

(and :math:`c(j)` likewise with ``left`` and :math:`W`). Backward sends each output
gradient back to the position it read and *adds* where several outputs read the same
input element (reflection reads the rows and columns next to the edge twice):

.. math::
    \frac{\partial L}{\partial x_{\dots rc}} = \sum_{(i, j):\ r(i) = r,\ c(j) = c}
    \delta_{\dots ij}

As the map is separable, ``r`` and ``c`` are 0/1 selection matrices :math:`S_h`
(:math:`H_o \times H`) and :math:`S_w` (:math:`W_o \times W`): :math:`y = S_h x S_w^\top`
and :math:`\partial L/\partial x = S_h^\top \delta S_w`. The function is linear, so it has
no kinks.

>>> import numpy as np
>>> from manual.layers import ReflectionPad2d
>>> pad = ReflectionPad2d((2, 1, 0, 0))  # two columns on the left, one on the right
>>> pad.forward(np.array([[[[0.0, 1.0, 2.0]]]]))
array([[[[2., 1., 0., 1., 2., 1.]]]])
>>> pad.backward(np.ones((1, 1, 1, 6)))  # x1 is read three times, x2 twice, x0 once
array([[[[1., 3., 2.]]]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers.base import Layer

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ReflectionPad1d",
           "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "pad2d_backward",
           "pad2d_forward", "pad_nd_backward", "pad_nd_forward"]

_Pad4 = tuple[int, int, int, int]


def _check_padding(owner: str, padding: Any) -> _Pad4:
    """torch's padding argument: an int, or a 4-tuple ``(left, right, top, bottom)``."""
    items = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * 4
    if len(items) != 4:
        raise ValueError(f"{owner}: padding must be an int or a 4-tuple (left, right, top, "
                         f"bottom), got {padding!r}")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{owner}: padding must be an int or a 4-tuple of ints, got "
                            f"{padding!r}")
    return tuple(int(v) for v in items)  # type: ignore[return-value]


def _source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along one axis, the input position it reads (-1: none)."""
    i = np.arange(size + before + after) - before
    if mode == "reflect":
        i = np.abs(i)  # left/top edge: -i
        i = np.where(i >= size, 2 * (size - 1) - i, i)  # right/bottom edge
        return i
    return np.where((i >= 0) & (i < size), i, -1)


def _selection(index: np.ndarray, size: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) 0/1 matrix: row ``o`` picks input ``index[o]`` (a zero row for -1)."""
    return (index[:, None] == np.arange(size)[None, :]).astype(dtype)


def pad2d_forward(x: np.ndarray, padding: _Pad4, mode: str = "constant", *,
                  owner: str = "pad2d") -> tuple[np.ndarray, tuple]:
    r"""``F.pad(x, padding, mode)`` over the last two dims of ``x`` (\*, H, W), ``mode``
    ``'constant'`` (zeros) or ``'reflect'``; ``padding`` is ``(left, right, top,
    bottom)``, a negative amount cropping. Returns ``(y, cache)``, ``y`` (\*, H_o, W_o)
    with :math:`H_o = H + \text{top} + \text{bottom}`; the backward is
    :func:`pad2d_backward`."""
    if mode not in ("constant", "reflect"):
        raise ValueError(f"{owner}: mode must be 'constant' or 'reflect', got {mode!r}")
    if x.ndim < 2:
        raise ValueError(f"{owner}: input must have at least 2 dims (*, H, W), got shape "
                         f"{x.shape}")
    left, right, top, bottom = padding
    H, W = x.shape[-2:]
    Ho, Wo = H + top + bottom, W + left + right
    if Ho < 0 or Wo < 0:
        raise ValueError(f"{owner}: padding {padding} crops more than the input of shape "
                         f"{x.shape} holds (output {Ho} x {Wo})")
    if mode == "reflect":
        for p, n, side in ((left, W, "left"), (right, W, "right"), (top, H, "top"),
                           (bottom, H, "bottom")):
            if p >= n:
                raise ValueError(f"{owner}: reflection padding must be less than the "
                                 f"dimension it pads, got {side}={p} for input of shape "
                                 f"{x.shape}")
    rows = _source_index(H, top, bottom, mode)
    cols = _source_index(W, left, right, mode)
    y = x[..., np.maximum(rows, 0)[:, None], np.maximum(cols, 0)[None, :]]
    if mode == "constant":
        y = np.where((rows[:, None] >= 0) & (cols[None, :] >= 0), y, np.zeros((), x.dtype))
    return y, (x.shape, rows, cols)


def pad2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x = S_h^\top \delta S_w`: every output gradient added to
    the input position it read (padded zeros read nothing)."""
    x_shape, rows, cols = cache
    Sh = _selection(rows, x_shape[-2], dout.dtype)  # (Ho, H)
    Sw = _selection(cols, x_shape[-1], dout.dtype)  # (Wo, W)
    return Sh.T @ dout @ Sw


# --------------------------------------------------------------------------------------
# N-d padding in the four modes of F.pad (used by the convolutions' padding_mode)
# --------------------------------------------------------------------------------------
#: F.pad's modes that this module computes
PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _nd_source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along one axis of length ``size`` padded by ``before`` and
    ``after`` (a negative amount crops), the input position it reads; -1 reads nothing
    (constant padding). Circular padding wraps the *cropped* input, as torch's does."""
    i = np.arange(size + before + after) - before  # the position in input coordinates
    if mode == "reflect":
        i = np.abs(i)  # the start edge: -i
        return np.where(i >= size, 2 * (size - 1) - i, i)  # the end edge
    if mode == "replicate":
        return np.clip(i, 0, size - 1)
    if mode == "circular":
        start, stop = max(-before, 0), size - max(-after, 0)  # the kept (uncropped) part
        return start + (i - start) % (stop - start)
    return np.where((i >= 0) & (i < size), i, -1)


def _check_nd_padding(owner: str, shape: tuple[int, ...], pads: tuple[int, ...],
                      mode: str) -> None:
    """torch's refusals for ``F.pad(x, pads, mode)`` on an input of ``shape``, as
    ``ValueError``: reflection needs each amount below the size it pads, replication and
    reflection a non-empty axis and a non-empty output along at least one padded axis,
    circular padding at most one wrap."""
    out = [shape[len(shape) - 1 - k] + pads[2 * k] + pads[2 * k + 1]
           for k in range(len(pads) // 2)]
    if mode in ("reflect", "replicate") and out and max(out) == 0:
        raise ValueError(f"{owner}: the input of shape {shape} is too small for {mode} "
                         f"padding {pads}: the output is empty along every padded axis, "
                         f"as torch refuses it")
    for k in range(len(pads) // 2):
        before, after = pads[2 * k], pads[2 * k + 1]
        axis = len(shape) - 1 - k
        size = shape[axis]
        where = f"(pads {pads[2 * k:2 * k + 2]} of axis {axis}, input of shape {shape})"
        if size + before + after < 0:
            raise ValueError(f"{owner}: the padding crops more than the input holds {where}")
        if mode in ("reflect", "replicate") and size == 0 and (before or after):
            raise ValueError(f"{owner}: {mode} padding of an empty axis {where}")
        if mode == "reflect" and (before >= size or after >= size):
            raise ValueError(f"{owner}: reflection padding must be less than the size of the "
                             f"axis it pads {where}, as in torch")
        kept = size - max(-before, 0) - max(-after, 0)
        if mode == "circular" and (before > kept or after > kept):
            # torch checks the uncropped size, then raises an aliasing error or (in some
            # N-d cases) returns memory it never wrote: refused here in every case
            raise ValueError(f"{owner}: circular padding must be at most the size of the "
                             f"(cropped) axis it pads, else it wraps around more than once "
                             f"{where}")


def pad_nd_forward(x: np.ndarray, pads: Any, mode: str = "constant", *,
                   owner: str = "pad_nd") -> tuple[np.ndarray, tuple]:
    r"""``F.pad(x, pads, mode)``: pad the last ``len(pads) // 2`` axes of ``x``.

    ``pads`` is torch's flat tuple, the *last* axis first: ``(left, right)`` pads the last
    axis, ``(left, right, top, bottom)`` the last two, ``(left, right, top, bottom, front,
    back)`` the last three; a negative amount crops that side. ``mode``: ``'constant'``
    (zeros), ``'reflect'`` (the mirror image about the edge, the edge not repeated; each
    amount less than the size), ``'replicate'`` (the edge repeated) or ``'circular'``
    (the other end wrapped round; at most one wrap). Along each padded axis every output
    position :math:`o` reads one input position :math:`r(o)` (or nothing, for zeros):
    with :math:`i = o - \text{before}` and :math:`n` the axis' size,

    .. math::
        r_\text{reflect}(i) = \begin{cases} -i & i < 0 \\ 2(n-1) - i & i \ge n \\
        i & \text{otherwise} \end{cases}, \qquad
        r_\text{replicate}(i) = \min(\max(i, 0), n - 1), \qquad
        r_\text{circular}(i) = i \bmod n,

    applied axis by axis (the map is separable:
    :math:`y_{\dots o_1 o_2 o_3} = x_{\dots r_1(o_1) r_2(o_2) r_3(o_3)}`). With a cropped
    side, circular padding wraps the kept part, as torch's does. Returns ``(y, cache)``;
    the backward is :func:`pad_nd_backward`."""
    if mode not in PAD_MODES:
        raise ValueError(f"{owner}: mode must be one of {PAD_MODES}, got {mode!r}")
    items = tuple(pads) if isinstance(pads, (tuple, list)) else None
    if items is None or len(items) % 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in items):
        raise TypeError(f"{owner}: pads must be a tuple of an even number of ints (before, "
                        f"after per axis, the last axis first), got {pads!r}")
    pads = tuple(int(v) for v in items)
    if len(pads) // 2 > x.ndim:
        raise ValueError(f"{owner}: {len(pads)} padding amounts pad {len(pads) // 2} axes, "
                         f"but the input has shape {x.shape}")
    _check_nd_padding(owner, x.shape, pads, mode)
    y, axes = x, []
    for k in range(len(pads) // 2):
        axis = x.ndim - 1 - k
        index = _nd_source_index(x.shape[axis], pads[2 * k], pads[2 * k + 1], mode)
        y = np.take(y, np.maximum(index, 0), axis=axis)  # one gather per axis
        if mode == "constant":
            inside = (index >= 0).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
            y = np.where(inside, y, np.zeros((), x.dtype))
        axes.append((axis, index))
    return y, (x.shape, tuple(axes))


def pad_nd_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x` of :func:`pad_nd_forward`: every output gradient added
    to the input position it read,

    .. math::
        \frac{\partial L}{\partial x_{\dots r}} = \sum_{o:\ r(o) = r} \delta_{\dots o}

    one axis at a time (``np.add.at`` on the axis' index array: the accumulating scatter
    that reflection, replication and circular padding need, as several outputs read the
    same input position; zero padding reads nothing and crops the gradient)."""
    x_shape, axes = cache
    d = dout
    for axis, index in axes:
        keep = index >= 0
        src = np.moveaxis(d, axis, 0)[keep]  # (outputs that read something, ...)
        acc = np.zeros((x_shape[axis], *src.shape[1:]), dtype=dout.dtype)
        np.add.at(acc, index[keep], src)
        d = np.moveaxis(acc, 0, axis)
    return np.ascontiguousarray(d)


class _Pad2d(Layer):
    """The shared layer: torch's padding argument, input checks, forward and backward."""

    mode = "constant"
    ndims: tuple[int, ...] = (3, 4)
    layout = "(N, C, H, W) or (C, H, W)"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _check_padding(type(self).__name__, padding)
        self.config = {"padding": padding if isinstance(padding, (int, np.integer))
                       else self.padding}

    def forward(self, x: Any) -> np.ndarray:
        x = self.check_input(x, self.ndims, what=self.layout)
        y, cache = pad2d_forward(x, self.padding, self.mode, owner=type(self).__name__)
        self._cache, self._out_shape = cache, y.shape
        return y

    def backward(self, dout: Any) -> np.ndarray:
        dout = self.check_dout(dout)
        return pad2d_backward(dout, self._cache)


class ZeroPad2d(_Pad2d):
    r"""``nn.ZeroPad2d(padding)``: zeros around the last two dims; ``padding`` an int or
    ``(left, right, top, bottom)``, a negative amount cropping (as torch's). Input
    (\*, H, W) with at least 2 dims, as torch accepts; output
    (\*, H + top + bottom, W + left + right).

    .. math::
        y_{\dots ij} = x_{\dots, i-\text{top}, j-\text{left}} \text{ (inside, else 0)},
        \qquad \frac{\partial L}{\partial x_{\dots rc}} =
        \delta_{\dots, r+\text{top}, c+\text{left}}

    (the cropped positions get zero gradient). The math is :func:`pad2d_forward`.
    """

    mode = "constant"
    ndims = tuple(range(2, 33))
    layout = "(*, H, W)"


class ReflectionPad2d(_Pad2d):
    r"""``nn.ReflectionPad2d(padding)``: the mirror image of the input about each edge (the
    edge row/column not repeated); ``padding`` an int or ``(left, right, top, bottom)``,
    each less than the dimension it pads (negative crops, as torch's). Input
    (N, C, H, W) or (C, H, W).

    .. math::
        y_{\dots ij} = x_{\dots r(i) c(j)}, \qquad
        \frac{\partial L}{\partial x_{\dots rc}} =
        \sum_{(i, j):\ r(i) = r,\ c(j) = c} \delta_{\dots ij}

    so the rows/columns next to the edges receive their own gradient plus their mirror
    images' (module docstring). The math is :func:`pad2d_forward`.
    """

    mode = "reflect"


# --------------------------------------------------------------------------------------
# the N-d padding layers: F.pad in one mode over the last 1, 2 or 3 axes
# --------------------------------------------------------------------------------------
_AXES = {1: "W", 2: "H, W", 3: "D, H, W"}


def _check_nd_module_padding(owner: str, padding: Any, n: int) -> tuple[int, ...]:
    """torch's padding argument of an ``n``-axis padding layer: an int (every side), or
    ``2n`` ints ``(left, right[, top, bottom[, front, back]])``."""
    items = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * n)
    if len(items) != 2 * n:
        raise ValueError(f"{owner}: padding must be an int or a {2 * n}-tuple (before, after "
                         f"per axis, the last axis first), got {padding!r}")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{owner}: padding must be an int or a {2 * n}-tuple of ints, "
                            f"got {padding!r}")
    return tuple(int(v) for v in items)


class _PadNd(Layer):
    """The shared N-d padding layer: ``F.pad(x, padding, mode)`` over the last ``n`` axes
    (:func:`pad_nd_forward`, :func:`pad_nd_backward`)."""

    n = 1
    mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _check_nd_module_padding(type(self).__name__, padding, self.n)
        self.config = {"padding": padding if isinstance(padding, (int, np.integer))
                       else self.padding}

    def forward(self, x: Any) -> np.ndarray:
        axes = _AXES[self.n]
        if self.mode == "constant":  # torch's ConstantPadNd takes any leading dims
            x = self.check_input(x, tuple(range(self.n, 33)), what=f"(*, {axes})")
        else:  # batched or unbatched, as torch's reflect/replicate/circular modules
            x = self.check_input(x, (self.n + 1, self.n + 2),
                                 what=f"(N, C, {axes}) or (C, {axes})")
        y, cache = pad_nd_forward(x, self.padding, self.mode, owner=type(self).__name__)
        self._cache, self._out_shape = cache, y.shape
        return y

    def backward(self, dout: Any) -> np.ndarray:
        dout = self.check_dout(dout)
        return pad_nd_backward(dout, self._cache)


class ZeroPad1d(_PadNd):
    r"""``nn.ZeroPad1d(padding)``: zeros at both ends of the last axis; ``padding`` an int
    or ``(left, right)``, a negative amount cropping (as torch's). Input (\*, W), output
    (\*, W + left + right).

    .. math::
        y_{\dots j} = x_{\dots, j-\text{left}} \text{ (inside, else 0)}, \qquad
        \frac{\partial L}{\partial x_{\dots c}} = \delta_{\dots, c+\text{left}}

    The math is :func:`pad_nd_forward` (``mode='constant'``)."""

    n = 1
    mode = "constant"


class ZeroPad3d(_PadNd):
    r"""``nn.ZeroPad3d(padding)``: zeros around the last three axes; ``padding`` an int or
    ``(left, right, top, bottom, front, back)``, a negative amount cropping. Input
    (\*, D, H, W).

    .. math::
        y_{\dots tij} = x_{\dots, t-\text{front}, i-\text{top}, j-\text{left}}
        \text{ (inside, else 0)}, \qquad
        \frac{\partial L}{\partial x_{\dots drc}} =
        \delta_{\dots, d+\text{front}, r+\text{top}, c+\text{left}}

    (cropped positions get zero gradient). The math is :func:`pad_nd_forward`."""

    n = 3
    mode = "constant"


class ReflectionPad1d(_PadNd):
    r"""``nn.ReflectionPad1d(padding)``: the mirror image of the last axis about each end,
    the end not repeated; ``padding`` an int or ``(left, right)``, each less than the
    length (negative crops). Input (N, C, W) or (C, W).

    .. math::
        y_{\dots j} = x_{\dots r(j)}, \quad r(j) = \begin{cases} -i & i < 0 \\
        2(W-1) - i & i \ge W \\ i & \text{otherwise} \end{cases}
        \ (i = j - \text{left}), \qquad
        \frac{\partial L}{\partial x_{\dots c}} = \sum_{j:\ r(j) = c} \delta_{\dots j}

    (the positions next to the ends get their mirror images' gradient too)."""

    n = 1
    mode = "reflect"


class ReflectionPad3d(_PadNd):
    r"""``nn.ReflectionPad3d(padding)``: the mirror image about each face of the last three
    axes; ``padding`` an int or ``(left, right, top, bottom, front, back)``, each less
    than the size it pads. Input (N, C, D, H, W) or (C, D, H, W).

    .. math::
        y_{\dots tij} = x_{\dots r_D(t) r_H(i) r_W(j)}, \qquad
        \frac{\partial L}{\partial x_{\dots drc}} =
        \sum_{(t, i, j):\ r_D(t) = d,\ r_H(i) = r,\ r_W(j) = c} \delta_{\dots tij}

    with each :math:`r` :class:`ReflectionPad1d`'s along its axis."""

    n = 3
    mode = "reflect"


class ReplicationPad1d(_PadNd):
    r"""``nn.ReplicationPad1d(padding)``: the end elements of the last axis repeated;
    ``padding`` an int or ``(left, right)`` (negative crops). Input (N, C, W) or (C, W).

    .. math::
        y_{\dots j} = x_{\dots r(j)}, \quad r(j) = \min(\max(j - \text{left}, 0), W-1),
        \qquad \frac{\partial L}{\partial x_{\dots c}} = \sum_{j:\ r(j) = c}
        \delta_{\dots j}

    so each end element collects the gradient of all its copies."""

    n = 1
    mode = "replicate"


class ReplicationPad2d(_PadNd):
    r"""``nn.ReplicationPad2d(padding)``: the edge rows and columns repeated; ``padding`` an
    int or ``(left, right, top, bottom)``. Input (N, C, H, W) or (C, H, W).

    .. math::
        y_{\dots ij} = x_{\dots r_H(i) r_W(j)}, \qquad
        \frac{\partial L}{\partial x_{\dots rc}} =
        \sum_{(i, j):\ r_H(i) = r,\ r_W(j) = c} \delta_{\dots ij}

    with each :math:`r` :class:`ReplicationPad1d`'s (a corner element collects the whole
    padded corner's gradient)."""

    n = 2
    mode = "replicate"


class ReplicationPad3d(_PadNd):
    r"""``nn.ReplicationPad3d(padding)``: the faces of the last three axes repeated;
    ``padding`` an int or ``(left, right, top, bottom, front, back)``. Input
    (N, C, D, H, W) or (C, D, H, W).

    .. math::
        y_{\dots tij} = x_{\dots r_D(t) r_H(i) r_W(j)}, \qquad
        \frac{\partial L}{\partial x_{\dots drc}} =
        \sum_{(t, i, j):\ r_D(t) = d,\ r_H(i) = r,\ r_W(j) = c} \delta_{\dots tij}

    with each :math:`r` :class:`ReplicationPad1d`'s."""

    n = 3
    mode = "replicate"


class CircularPad1d(_PadNd):
    r"""``nn.CircularPad1d(padding)``: the last axis wrapped round, the end copied before
    the start and the start after the end; ``padding`` an int or ``(left, right)``, each at
    most the length (one wrap; negative crops, and the wrap reads the kept part). Input
    (N, C, W) or (C, W).

    .. math::
        y_{\dots j} = x_{\dots r(j)}, \quad r(j) = (j - \text{left}) \bmod W, \qquad
        \frac{\partial L}{\partial x_{\dots c}} = \sum_{j:\ r(j) = c} \delta_{\dots j}

    (the first and last elements get the gradient of their wrapped copies too)."""

    n = 1
    mode = "circular"


class CircularPad2d(_PadNd):
    r"""``nn.CircularPad2d(padding)``: the last two axes wrapped round (a torus);
    ``padding`` an int or ``(left, right, top, bottom)``, each at most the size it pads.
    Input (N, C, H, W) or (C, H, W).

    .. math::
        y_{\dots ij} = x_{\dots r_H(i) r_W(j)}, \qquad
        \frac{\partial L}{\partial x_{\dots rc}} =
        \sum_{(i, j):\ r_H(i) = r,\ r_W(j) = c} \delta_{\dots ij}

    with each :math:`r` :class:`CircularPad1d`'s along its axis."""

    n = 2
    mode = "circular"


class CircularPad3d(_PadNd):
    r"""``nn.CircularPad3d(padding)``: the last three axes wrapped round; ``padding`` an int
    or ``(left, right, top, bottom, front, back)``, each at most the size it pads. Input
    (N, C, D, H, W) or (C, D, H, W).

    .. math::
        y_{\dots tij} = x_{\dots r_D(t) r_H(i) r_W(j)}, \qquad
        \frac{\partial L}{\partial x_{\dots drc}} =
        \sum_{(t, i, j):\ r_D(t) = d,\ r_H(i) = r,\ r_W(j) = c} \delta_{\dots tij}

    with each :math:`r` :class:`CircularPad1d`'s along its axis."""

    n = 3
    mode = "circular"
