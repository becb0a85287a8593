r"""Upsampling (``nn.Upsample``, ``F.interpolate``): :class:`Upsample` with
:func:`upsample_forward`/:func:`upsample_backward`.

Every mode here is *separable*: along each spatial dim :math:`d` the output is a fixed
linear map of the input, an interpolation matrix :math:`A_d` (:math:`O_d \times I_d`), so
for a 2-d image

.. math::
    y = A_h\, x\, A_w^\top, \qquad
    \frac{\partial L}{\partial x} = A_h^\top\, \delta\, A_w

(one product per spatial dim in general; the transpose sends every output gradient back to
the input elements it was made of, *adding* where several outputs read the same input).

Nearest (``mode='nearest'``, 1 to 3 spatial dims): row :math:`o` of :math:`A` is one 1 at
torch's source index :math:`\min(\lfloor o\,s \rfloor, I-1)`, with
:math:`s = 1/\text{scale\_factor}` when a scale factor is given (and not recomputed), else
:math:`I/O`, computed in float32 whatever the input's dtype, as torch does, so that the
same elements are picked. torch's 2-d forward kernel (4-d input) uses its legacy
``nearest_idx`` instead, which takes :math:`o` itself when :math:`O = I` and
:math:`\lfloor o/2 \rfloor` when :math:`O = 2I`; we follow it there too.

**A deviation from torch's backward, on purpose.** torch's nearest *backward* kernels
use the legacy ``nearest_idx`` for every rank, so for 1-d and 3-d inputs with a
``scale_factor`` other than 1 or 2 whose output size is still :math:`I` or :math:`2I`
(e.g. :math:`I = 3`, ``scale_factor=2.2``: :math:`O = 6`), torch's backward sends the
gradient to other input elements than its forward read: it is not the vector–Jacobian
product of its own forward. Ours is (:math:`A^\top\delta` for the :math:`A` the forward
used), so it differs from torch's gradient in exactly those cases; with ``size`` given,
``recompute_scale_factor=True``, a scale of 1 or 2, or a 4-d input the two agree.

Linear (``'linear'``, ``'bilinear'``, ``'trilinear'`` for 1, 2, 3 spatial dims): output
:math:`o` reads the source coordinate

.. math::
    u = \begin{cases} o\,\frac{I-1}{O-1} & \text{align\_corners (0 when } O = 1)\\
    \max\big(s\,(o + \tfrac12) - \tfrac12,\ 0\big) & \text{otherwise}\end{cases}

and blends its two neighbours :math:`i_0 = \min(\lfloor u\rfloor, I-1)`,
:math:`i_1 = \min(i_0 + 1, I-1)` with weights :math:`1-\lambda` and
:math:`\lambda = u - i_0`, as torch's CPU kernel (computed in the input's dtype, torch's
``opmath`` type). The map is linear in :math:`x`: there are no kinks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers.base import Layer

__all__ = ["Upsample", "upsample_backward", "upsample_forward"]

#: mode -> the number of spatial dims it takes (None: 1 to 3)
MODES: dict[str, int | None] = {"nearest": None, "linear": 1, "bilinear": 2, "trilinear": 3}


def _nearest_matrix(size: int, out: int, scale: float | None, legacy: bool) -> np.ndarray:
    """(out, size) 0/1 matrix of torch's nearest source index (float32 arithmetic;
    ``legacy``: with ``nearest_idx``'s shortcuts for O = I and O = 2I, torch's 2-d kernel)."""
    o = np.arange(out)
    if legacy and out == size:
        src = o
    elif legacy and out == 2 * size:
        src = o >> 1
    else:
        s = (np.float32(1.0 / scale) if scale is not None and scale > 0
             else np.float32(size) / np.float32(out))
        src = np.minimum(np.floor(o.astype(np.float32) * s).astype(np.int64), size - 1)
    return (src[:, None] == np.arange(size)[None, :]).astype(np.float64)


def _linear_matrix(size: int, out: int, scale: float | None, align_corners: bool,
                   dtype: np.dtype) -> np.ndarray:
    """(out, size) matrix of torch's linear interpolation weights, computed in ``dtype``."""
    t = dtype.type
    o = np.arange(out).astype(dtype)
    if out == size and not align_corners:
        return np.eye(size)
    if align_corners:
        ratio = t(size - 1) / t(out - 1) if out > 1 else t(0)
        u = ratio * o
    else:
        ratio = (t(1.0 / scale) if scale is not None and scale > 0
                 else t(size) / t(out))
        u = np.maximum(ratio * (o + t(0.5)) - t(0.5), t(0))
    i0 = np.minimum(np.floor(u).astype(np.int64), size - 1)
    lam1 = np.clip(u - i0.astype(dtype), 0, 1)
    i1 = i0 + (i0 < size - 1)
    A = np.zeros((out, size))
    rows = np.arange(out)
    np.add.at(A, (rows, i0), (1 - lam1).astype(np.float64))
    np.add.at(A, (rows, i1), lam1.astype(np.float64))
    return A


def _apply(x: np.ndarray, mats: list[np.ndarray], transpose: bool = False) -> np.ndarray:
    """Multiply spatial dim ``d`` (axis ``2 + d``) of ``x`` by ``mats[d]`` (or its
    transpose: the backward)."""
    for d, A in enumerate(mats):
        M = (A if transpose else A.T).astype(x.dtype)
        x = np.moveaxis(np.moveaxis(x, 2 + d, -1) @ M, -1, 2 + d)
    return x


def upsample_forward(x: np.ndarray, size: tuple[int, ...] | None = None,
                     scale_factor: tuple[float, ...] | None = None, mode: str = "nearest",
                     align_corners: bool = False, recompute_scale_factor: bool = False
                     ) -> tuple[np.ndarray, list[np.ndarray]]:
    r"""``F.interpolate`` of ``x`` (N, C, \*spatial) to ``size`` (one per spatial dim) or by
    ``scale_factor`` (one per spatial dim; output :math:`\lfloor I\cdot\text{scale}\rfloor`),
    ``mode`` ``'nearest'``, ``'linear'``, ``'bilinear'`` or ``'trilinear'`` (module
    docstring). Arguments are taken as checked by :class:`Upsample`. Returns ``(y,
    cache)``, the cache the interpolation matrices."""
    spatial = x.shape[2:]
    if size is None:
        if scale_factor is None:
            raise ValueError("upsample_forward: either size or scale_factor should be defined")
        size = tuple(int(np.floor(n * s)) for n, s in zip(spatial, scale_factor))
    scales: tuple[float | None, ...] = ((None,) * len(spatial)
                                        if scale_factor is None or recompute_scale_factor
                                        else tuple(scale_factor))
    if min(size + spatial) < 1:
        raise ValueError(f"upsample: input and output sizes should be greater than 0, got "
                         f"input {spatial} and output {size}")
    if mode == "nearest":
        legacy = len(spatial) == 2  # torch's upsample_nearest2d kernel (module docstring)
        mats = [_nearest_matrix(n, o, s, legacy) for n, o, s in zip(spatial, size, scales)]
    else:
        mats = [_linear_matrix(n, o, s, align_corners, x.dtype)
                for n, o, s in zip(spatial, size, scales)]
    return _apply(x, mats), mats


def upsample_backward(dout: np.ndarray, cache: list[np.ndarray]) -> np.ndarray:
    r""":math:`\partial L/\partial x`: ``dout`` through the transposed interpolation matrix
    of each spatial dim, :math:`A_h^\top \delta A_w` for an image."""
    return _apply(dout, cache, transpose=True)


def _number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))


class Upsample(Layer):
    r"""``nn.Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None,
    recompute_scale_factor=None)`` on (N, C, L), (N, C, H, W) or (N, C, D, H, W), as
    torch (no unbatched input: torch's ``interpolate`` takes none).

    Exactly one of ``size`` (an int or one per spatial dim) and ``scale_factor`` (a float
    or one per spatial dim; output :math:`\lfloor I \cdot \text{scale}\rfloor`) is given.
    ``mode``: ``'nearest'`` (any of the three ranks), ``'linear'`` (3-d input),
    ``'bilinear'`` (4-d), ``'trilinear'`` (5-d); ``align_corners`` only for the linear ones
    (``None`` there is ``False``). ``recompute_scale_factor=True`` interpolates with the
    ratio of the sizes instead of the given scale factor.

    .. math::
        y = A_h\, x\, A_w^\top, \qquad
        \frac{\partial L}{\partial x} = A_h^\top\, \delta\, A_w

    with torch's interpolation matrices (module docstring); no parameters, no kinks. For
    1-d and 3-d ``'nearest'`` with a scale factor other than 1 or 2 that gives an output
    size of exactly 1 or 2 times the input's, torch's backward is not the gradient of its
    own forward; ours is (module docstring). The functional pair is
    :func:`upsample_forward`/:func:`upsample_backward`.
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: exactly one of size and scale_factor should be "
                             f"defined, got size={size!r}, scale_factor={scale_factor!r}")
        if mode not in MODES:
            raise ValueError(f"Upsample: mode must be one of {', '.join(map(repr, MODES))}, "
                             f"got {mode!r}")
        if mode == "nearest" and align_corners is not None:
            raise ValueError("Upsample: align_corners can only be set with the interpolating "
                             "modes linear, bilinear, trilinear")
        if recompute_scale_factor and size is not None:
            raise ValueError("Upsample: recompute_scale_factor is not meaningful with an "
                             "explicit size")
        items = size if size is not None else scale_factor
        for v in items if isinstance(items, (tuple, list)) else (items,):
            if size is not None and (isinstance(v, bool)
                                     or not isinstance(v, (int, np.integer))):
                raise TypeError(f"Upsample: size must be an int or a tuple of ints, got "
                                f"{size!r}")
            if size is None and not _number(v):
                raise TypeError(f"Upsample: scale_factor must be a float or a tuple of "
                                f"floats, got {scale_factor!r}")
            if not v > 0:
                raise ValueError(f"Upsample: size and scale_factor must be positive, got "
                                 f"{items!r}")
        self.size = (tuple(int(v) for v in size) if isinstance(size, (tuple, list))
                     else None if size is None else int(size))
        self.scale_factor = (tuple(float(v) for v in scale_factor)
                             if isinstance(scale_factor, (tuple, list))
                             else None if scale_factor is None else float(scale_factor))
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor
        self.config = {"size": self.size, "scale_factor": self.scale_factor, "mode": mode,
                       "align_corners": align_corners,
                       "recompute_scale_factor": recompute_scale_factor}

    def _per_dim(self, value: Any, x_shape: tuple[int, ...], key: str) -> tuple | None:
        if value is None:
            return None
        dims = len(x_shape) - 2
        if not isinstance(value, tuple):
            return (value,) * dims
        if len(value) != dims:
            raise ValueError(f"Upsample: {key}={value} must have one entry per spatial dim of "
                             f"the input, got shape {x_shape}")
        return value

    def forward(self, x: Any) -> np.ndarray:
        ndim = MODES[self.mode]
        ndims = (3, 4, 5) if ndim is None else (ndim + 2,)
        what = {3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}
        x = self.check_input(x, ndims, what=" or ".join(what[n] for n in ndims)
                             + f" for mode={self.mode!r}")
        y, cache = upsample_forward(x, self._per_dim(self.size, x.shape, "size"),
                                    self._per_dim(self.scale_factor, x.shape, "scale_factor"),
                                    self.mode, bool(self.align_corners),
                                    bool(self.recompute_scale_factor))
        self._cache, self._out_shape = cache, y.shape
        return y

    def backward(self, dout: Any) -> np.ndarray:
        return upsample_backward(self.check_dout(dout), self._cache)
