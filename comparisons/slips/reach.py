"""Deliberately wrong padding, PReLU and RMSNorm layers: the negative controls of
:mod:`comparisons.cases.reach`, each a subclass of the correct layer with one classic slip;
the records hold the classes themselves."""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers import PReLU, ReflectionPad2d, RMSNorm

__all__ = ["PReLUSlopeGradNotSummed", "ReflectionPadGradCropped", "RMSNormDirectTermOnly"]


class ReflectionPadGradCropped(ReflectionPad2d):
    """Reflection padding's backward cropping the upstream gradient to the input's window,
    as zero padding's does: the mirrored positions read input elements too, and their
    gradients must be added back."""

    def backward(self, dout: Any) -> np.ndarray:
        dout = self.check_dout(dout)
        left, right, top, bottom = self.padding
        H, W = dout.shape[-2] - top - bottom, dout.shape[-1] - left - right
        return np.ascontiguousarray(dout[..., top:top + H, left:left + W])


class RMSNormDirectTermOnly(RMSNorm):
    r"""RMSNorm's backward treating the root mean square as a constant: dx = r (gamma *
    dout), the direct term alone, without :math:`\partial r/\partial x`."""

    def backward(self, dout: Any) -> np.ndarray | None:
        super().backward(dout)
        xhat, r, weight, _ = self._cache
        g = self.check_dout(dout)
        return r * (g if weight is None else g * weight)


class PReLUSlopeGradNotSummed(PReLU):
    """PReLU's slope gradient taken from the first sample only (the sum over the batch
    forgotten); the input gradient stays right."""

    def backward(self, dout: Any) -> np.ndarray | None:
        dx = super().backward(dout)
        x, _ = self._cache
        d = np.asarray(self.check_dout(dout))
        contrib = np.where(x > 0, 0, x * d)[:1]  # the first sample's share only
        axes = tuple(i for i in range(contrib.ndim) if i != 1 or self.num_parameters == 1)
        self.grads["weight"] = np.asarray(contrib.sum(axis=axes)).reshape(-1).astype(x.dtype)
        return dx
