"""Deliberately wrong N-d padding layers: the negative controls of
:mod:`comparisons.cases.padding_modes`, each a subclass of the correct layer with one
classic slip in its backward; the records hold the classes themselves (the circular
convolution's slip is :class:`comparisons.slips.conv.Conv1dCircularGradCropped`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers import CircularPad2d, ReplicationPad1d

__all__ = ["CircularPad2dGradCropped", "ReplicationPad1dEdgeGradOnce"]


class CircularPad2dGradCropped(CircularPad2d):
    """Circular padding's backward cropping the upstream gradient to the input's window, as
    zero padding's does: the wrapped copies read the input's opposite edges, and their
    gradients must be added back there."""

    def backward(self, dout: Any) -> np.ndarray:
        dout = self.check_dout(dout)
        left, right, top, bottom = self.padding
        H, W = dout.shape[-2] - top - bottom, dout.shape[-1] - left - right
        return np.ascontiguousarray(dout[..., top:top + H, left:left + W])


class ReplicationPad1dEdgeGradOnce(ReplicationPad1d):
    """Replication padding's backward as a scatter that *assigns* instead of accumulating:
    ``dx[..., index] = dout`` keeps one write per input position (the last), so each end
    element gets the gradient of one of its copies where it needs the sum of them all
    (``np.add.at``). The interior elements, read once, stay right."""

    def backward(self, dout: Any) -> np.ndarray:
        dout = self.check_dout(dout)
        x_shape, ((_, index),) = self._cache
        dx = np.zeros(x_shape, dtype=dout.dtype)
        dx[..., index] = dout  # repeated indices: the last write wins, nothing is added
        return dx
