"""Deliberately wrong normalisation, dropout and embedding layers: the negative controls of
:mod:`comparisons.cases.norms`, each a subclass of the correct layer with one classic slip;
the records hold the classes themselves."""

from __future__ import annotations

import numpy as np

from manual.layers import BatchNorm1d, Dropout, Embedding, LayerNorm
from manual.layers.dropout import dropout_backward
from manual.layers.normalization import normalize_forward

__all__ = ["BatchNormConstantStatistics", "DropoutBackwardNotRescaled",
           "EmbeddingOverwritesRepeats", "LayerNormWrongAxis"]


class BatchNormConstantStatistics(BatchNorm1d):
    """The batch mean and variance treated as constants in backward: dx = gamma * dout / s,
    the direct term alone (right in eval mode, wrong in train mode)."""

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        super().backward(dout)
        cache = self._cache
        return self.check_dout(dout) * cache.gamma * cache.inv_std


class LayerNormWrongAxis(LayerNorm):
    """Layer norm normalising each feature over the batch (axis 0) instead of each sample
    over its features: the forward pass itself is wrong, and every gradient with it."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        super().forward(x)  # the checks, and the shapes
        cache = self._cache
        wrong = normalize_forward(np.asarray(x, dtype=self.dtype), (0,), self.eps)  # the slip
        wrong.param_axes, wrong.gamma = cache.param_axes, cache.gamma
        self._cache = wrong
        out = wrong.xhat
        if cache.gamma is not None:
            out = out * cache.gamma
        if "bias" in self.params:
            out = out + self.params["bias"]
        return out


class DropoutBackwardNotRescaled(Dropout):
    """Backward applies the mask but forgets the factor 1/(1-p) the forward applied."""

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        kept, scale = self._cache
        if kept is None:
            return dropout_backward(dout, self._cache)
        return dout * (kept != 0)  # the mask without its scale


class EmbeddingOverwritesRepeats(Embedding):
    """dW[idx] = dout: NumPy's fancy assignment keeps the last write to a row, so an index
    seen twice in the batch gets one of its gradients only."""

    def backward(self, dout: np.ndarray) -> None:
        super().backward(dout)
        idx, (num, dim) = self._cache
        dW = np.zeros((num, dim), dtype=self.dtype)
        dW[idx.reshape(-1)] = self.check_dout(dout).reshape(-1, dim)  # the slip
        if self.padding_idx is not None:
            dW[self.padding_idx] = 0
        self.grads["weight"] = dW
        return None

