"""Deliberately wrong padding, PReLU and RMSNorm layers: the negative controls of
:mod:`comparisons.cases.reach`, each a subclass of the correct layer with one classic slip;
the records hold the classes themselves."""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers import PReLU, ReflectionPad2d, RMSNorm

__all__ = ["PReLUSlopeGradNotSummed", "ReflectionPadGradCropped", "RMSNormDirectTermOnly",
           "padding_cropped", "rms_held_constant"]


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


def padding_cropped(layer: Any, inputs: tuple, dout: Any,
                    grads: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The input gradient of a reflection (or replication) padding whose backward crops
    the upstream gradient to the input's window, as zero padding's does (the record's
    hypothesis for :func:`comparisons.core.diagnosis.likely_slip`)."""
    if not isinstance(dout, np.ndarray):
        return {}
    left, right, top, bottom = layer.padding
    H, W = dout.shape[-2] - top - bottom, dout.shape[-1] - left - right
    return {"grad_input": {
        "dout cropped to the input's window, as zero padding's backward (the mirrored "
        "positions' gradients not added back?)": dout[..., top:top + H, left:left + W]}}


def rms_held_constant(layer: Any, inputs: tuple, dout: Any,
                      grads: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    r"""RMSNorm's input gradient with the root mean square treated as a constant,
    :math:`\gamma\,g\,r` (the record's hypothesis for
    :func:`comparisons.core.diagnosis.likely_slip`)."""
    x = np.asarray(inputs[0])
    if not isinstance(dout, np.ndarray) or x.size == 0 or dout.shape != x.shape:
        return {}
    axes = tuple(range(x.ndim - len(layer.normalized_shape), x.ndim))
    eps = float(np.finfo(x.dtype).eps) if layer.eps is None else layer.eps
    x = x.astype(np.float64)
    r = 1 / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + eps)
    gamma = layer.params.get("weight")
    direct = np.asarray(dout, np.float64) * r
    return {"grad_input": {
        "gamma * dout / rms, the direct term alone (the root mean square treated as a "
        "constant: the path through it missing?)": direct if gamma is None else direct * gamma}}
