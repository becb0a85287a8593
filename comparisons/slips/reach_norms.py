"""Deliberately wrong BatchNorm3d, instance norm and local response norm layers: the negative
controls of :mod:`comparisons.cases.reach_norms`, each a subclass of the correct layer with
one classic slip; the records hold the classes themselves."""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers import BatchNorm3d, InstanceNorm1d, InstanceNorm2d, LocalResponseNorm
from manual.layers.normalization import NormCache, normalize_forward

__all__ = ["BatchNorm3dBiasedRunningVar", "InstanceNorm1dOverBatch", "InstanceNorm2dOverBatch",
           "LocalResponseNormDirectTermOnly", "lrn_divisor_held_constant"]


class BatchNorm3dBiasedRunningVar(BatchNorm3d):
    r"""The running variance updated with the batch's *biased* variance (the one the
    normalisation uses) instead of the unbiased :math:`\frac{M}{M-1}\sigma^2`: the output
    and every gradient are right, the ``running_var`` buffer drifts low."""

    def _update_running_stats(self, cache: NormCache, m: int) -> None:
        nbt = self.buffers["num_batches_tracked"]
        nbt += 1
        if m == 0:
            return
        f = 1.0 / float(nbt) if self.momentum is None else self.momentum
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        rm *= 1 - f
        rm += f * cache.mean.reshape(-1)
        rv *= 1 - f
        rv += f * cache.var.reshape(-1)  # the slip: no Bessel's correction


class _OverBatch:
    """Instance norm normalising each channel over the batch *and* its positions (batch
    norm's set) instead of each sample's channel over its own positions: the forward pass
    itself is wrong, and every gradient with it."""

    params: dict[str, np.ndarray]
    eps: float
    _cache: Any

    def forward(self, x: Any) -> np.ndarray:
        out = super().forward(x)  # type: ignore[misc]  # the checks and the shapes
        cache = self._cache
        xb = np.asarray(x, dtype=out.dtype).reshape(cache.xhat.shape)
        wrong = normalize_forward(xb, (0,) + cache.axes, self.eps)  # the slip: axis 0 too
        wrong.param_axes, wrong.gamma = cache.param_axes, cache.gamma
        self._cache = wrong
        y = wrong.xhat
        if wrong.gamma is not None:
            y = y * wrong.gamma
        if "bias" in self.params:
            y = y + self.params["bias"].reshape((1, -1) + (1,) * (y.ndim - 2))
        return y.reshape(out.shape)


class InstanceNorm1dOverBatch(_OverBatch, InstanceNorm1d):
    __doc__ = _OverBatch.__doc__


class InstanceNorm2dOverBatch(_OverBatch, InstanceNorm2d):
    __doc__ = _OverBatch.__doc__


class LocalResponseNormDirectTermOnly(LocalResponseNorm):
    r"""Local response norm's backward with the divisor held constant: :math:`g/d^\beta`,
    the direct term alone, without the path through the window's other channels."""

    def backward(self, dout: Any) -> np.ndarray | None:
        g = self.check_dout(dout)
        x, d, y, size, alpha, beta = self._cache
        return g / d ** beta  # the slip: no cross-channel term


def lrn_divisor_held_constant(layer: Any, inputs: tuple, dout: Any,
                              grads: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    r"""Local response norm's input gradient with the divisor held constant,
    :math:`g/d^\beta`, :math:`d = k + \frac{\alpha}{n}\sum_{c' \in \text{window}(c)}
    x_{c'}^2` (channels zero-padded by ``size // 2`` before and ``(size - 1) // 2``
    after, as torch): the record's hypothesis for
    :func:`comparisons.core.diagnosis.likely_slip`."""
    x = np.asarray(inputs[0], dtype=np.float64)
    if not isinstance(dout, np.ndarray) or x.ndim < 3 or dout.shape != x.shape:
        return {}
    n = layer.size
    pad = [(0, 0)] * x.ndim
    pad[1] = (n // 2, (n - 1) // 2)
    squares = np.cumsum(np.pad(x * x, pad), axis=1)
    squares = np.concatenate([np.zeros_like(squares[:, :1]), squares], axis=1)
    window = squares[:, n:] - squares[:, :-n]  # the sum over each channel's window
    d = layer.k + layer.alpha / n * window
    return {"grad_input": {
        "dout / d**beta, the direct term alone (the divisor d treated as a constant: the "
        "path through the window's other channels missing?)": dout / d ** layer.beta}}
