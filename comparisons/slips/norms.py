"""Deliberately wrong normalisation, dropout and embedding layers: the negative controls of
:mod:`comparisons.cases.norms`, each a subclass of the correct layer with one classic slip;
the records hold the classes themselves."""

from __future__ import annotations

import numpy as np

from typing import Any

from manual.layers import BatchNorm1d, Dropout, Embedding, LayerNorm
from manual.layers.dropout import dropout_backward
from manual.layers.normalization import normalize_forward

__all__ = ["BatchNormConstantStatistics", "DropoutBackwardNotRescaled",
           "EmbeddingOverwritesRepeats", "LayerNormWrongAxis", "embedding_overwrite",
           "statistics_held_constant"]


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



#: the words of :func:`embedding_overwrite`'s hypothesis (after "your dweight is ...")
OVERWRITE = ("the gradient with repeated indices overwritten instead of accumulated (each "
             "row holds one occurrence's dout, not their sum: dW[idx] = dout where "
             "np.add.at(dW, idx, dout) belongs?)")


def embedding_overwrite(layer: Any, inputs: tuple, dout: Any,
                        grads: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The weight gradient an embedding's backward gives when it assigns the rows of
    ``dout`` to the rows of dW instead of adding them (``dW[idx] = dout``): for each token,
    one occurrence's row. Which write survives an assignment with repeated indices is not
    specified by NumPy, so each token's row is the occurrence nearest the student's
    (``grads["weight"]``; the last one without it): the hypothesis holds when every row is
    one of its writes. The ``padding_idx`` row stays 0; none under ``scale_grad_by_freq``
    (the record's hypotheses for :func:`comparisons.core.diagnosis.likely_slip`)."""
    if getattr(layer, "scale_grad_by_freq", False) or not isinstance(dout, np.ndarray):
        return {}
    weight = layer.params["weight"]
    idx = np.asarray(inputs[0]).reshape(-1)
    g = np.asarray(dout, dtype=np.float64).reshape(idx.size, -1)
    mine = grads.get("weight")
    mine = mine if mine is not None and np.shape(mine) == weight.shape else None
    alt = np.zeros(weight.shape)
    for token in np.unique(idx):
        rows = g[idx == token]
        k = (len(rows) - 1 if mine is None
             else int(np.argmin(np.abs(rows - mine[token]).max(axis=1))))
        alt[token] = rows[k]
    if layer.padding_idx is not None:
        alt[layer.padding_idx] = 0.0
    return {"weight": {OVERWRITE: alt}}


#: the words of :func:`statistics_held_constant`'s hypothesis
CONSTANT_STATISTICS = ("gamma * dout / std, the direct term alone (the mean and the variance "
                       "treated as constants: the paths through them missing?)")


def statistics_held_constant(layer: Any, inputs: tuple, dout: Any,
                             grads: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    r"""The input gradient of a batch or layer norm whose backward treats the statistics
    as constants, :math:`\gamma\,g/\sqrt{\sigma^2+\epsilon}`, with :math:`\sigma^2` the
    biased variance of the input over the normalised axes (the record's hypothesis for
    :func:`comparisons.core.diagnosis.likely_slip`; none for a batch norm using its
    running statistics, which are constants)."""
    x = np.asarray(inputs[0], dtype=np.float64)
    if not isinstance(dout, np.ndarray) or x.size == 0 or dout.shape != x.shape:
        return {}
    gamma: Any = layer.params.get("weight")
    if isinstance(layer, LayerNorm):
        axes = tuple(range(x.ndim - len(layer.normalized_shape), x.ndim))
    elif not (layer.training or not layer.track_running_stats):
        return {}  # eval-mode batch norm: the running statistics are constants, rightly
    else:  # batch norm in train mode: every axis but the channels'
        axes = tuple(a for a in range(x.ndim) if a != 1)
        if gamma is not None:
            gamma = np.reshape(gamma, [-1 if a == 1 else 1 for a in range(x.ndim)])
    var = x.var(axis=axes, keepdims=True)
    direct = np.asarray(dout, np.float64) / np.sqrt(var + layer.eps)
    return {"grad_input": {CONSTANT_STATISTICS: direct if gamma is None else direct * gamma}}
