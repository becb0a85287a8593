"""Deliberately wrong N-d padding layers: the negative controls of
:mod:`comparisons.cases.padding_modes`, each a subclass of the correct layer with one
classic slip in its backward; the records hold the classes themselves (the circular
convolution's slip is :class:`comparisons.slips.conv.Conv1dCircularGradCropped`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers import CircularPad2d, ReplicationPad1d

__all__ = ["CROPPED", "OVERWRITTEN", "CircularPad2dGradCropped", "ReplicationPad1dEdgeGradOnce",
           "pad_nd_slips"]


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


#: the words of :func:`pad_nd_slips`' hypotheses
CROPPED = ("dout cropped to the input's window, as zero padding's backward (the copies' "
           "gradients not added back onto their sources?)")
OVERWRITTEN = ("each input element the gradient of one of its copies only (dx[..., index] = "
               "dout, where repeated indices must accumulate: np.add.at?)")


def pad_nd_slips(layer: Any, inputs: tuple, dout: Any,
                 grads: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The input gradients of a padding layer's two classic slips (the records'
    hypotheses for :func:`comparisons.core.diagnosis.likely_slip`), from the layer's
    cache of ``(x_shape, ((axis, index), ...))``, ``index[o]`` the input position output
    ``o`` reads (-1: a zero): :data:`CROPPED`, the gradient of the positions that read
    their own place only; :data:`OVERWRITTEN`, an assigning scatter whose last write wins
    where several outputs read one input position."""
    cache = getattr(layer, "_cache", None)
    if not isinstance(dout, np.ndarray) or cache is None or len(cache) != 2:
        return {}
    x_shape, axes = cache
    cropped, overwritten = dout, dout
    for axis, index in axes:
        keep, size = index >= 0, x_shape[axis]
        # the unpadded window: where the output reads 0, 1, ..., size-1 in a row
        before = next((b for b in range(index.size - size + 1)
                       if np.array_equal(index[b:b + size], np.arange(size))), None)
        if before is not None:
            cropped = np.take(cropped, np.arange(before, before + size), axis=axis)
        src = np.moveaxis(overwritten, axis, 0)[keep]
        acc = np.zeros((x_shape[axis], *src.shape[1:]), dtype=dout.dtype)
        acc[index[keep]] = src  # repeated indices: one write survives, nothing is added
        overwritten = np.moveaxis(acc, 0, axis)
    out = {OVERWRITTEN: overwritten}
    if cropped.shape == tuple(x_shape):
        out[CROPPED] = cropped
    return {"grad_input": out}
