r"""Layers that only move numbers around: :class:`Flatten`.

Their backward is the inverse reshape: each output element *is* one input element, so the
Jacobian is a permutation and :math:`\partial L/\partial x` is :math:`\partial L/\partial y`
put back in the input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers.base import Layer

__all__ = ["Flatten"]


class Flatten(Layer):
    """``nn.Flatten(start_dim=1, end_dim=-1)``: merge dimensions ``start_dim..end_dim``."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for key, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"Flatten: {key} must be an integer, got {value!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)
        self.config = {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def forward(self, x: Any) -> np.ndarray:
        x = self.check_input(x, tuple(range(0, 33)))
        nd = max(x.ndim, 1)  # a 0-d input flattens to shape (1,), as torch
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not (0 <= start < nd and 0 <= end < nd):
            raise ValueError(f"Flatten: start_dim={self.start_dim}, end_dim={self.end_dim} out "
                             f"of range for an input of shape {x.shape}")
        if start > end:
            raise ValueError(f"Flatten: start_dim ({self.start_dim}) comes after end_dim "
                             f"({self.end_dim}) for an input of shape {x.shape}")
        shape = x.shape if x.ndim else (1,)
        out = x.reshape(shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:])
        self._cache, self._out_shape = x.shape, out.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self.check_dout(dout).reshape(self._cache)  # the inverse reshape
