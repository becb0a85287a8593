"""Deliberately wrong linear layers, negative controls of the dense layer records
(``LayerInfo.controls``, :mod:`comparisons.cases.layers`), kept apart from the correct code.

Each is a subclass of the correct layer with one classic slip in its backward pass, so it
keeps the correct layer's torch twin (:func:`comparisons.run.bridge.twin_name` walks the
class hierarchy) and every comparison must catch it, naming the broken parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers import Linear

__all__ = ["LinearInputGradUntransposed", "LinearWeightGradTransposed", "linear_slips"]


class LinearWeightGradTransposed(Linear):
    """dW = x^T delta (the textbook (in, out) layout) stored as torch's (out, in) weight's
    gradient without transposing: on a square layer the shapes agree, the values do not."""

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx = super().backward(dout)
        self.grads["weight"] = self.grads["weight"].T.copy()
        return dx


class LinearInputGradUntransposed(Linear):
    """dx = delta W^T instead of delta W (square layer): the input gradient is wrong, and
    with it every layer below it in a network."""

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx = super().backward(dout)
        if dx is not None:
            dx = np.asarray(dout) @ self.params["weight"].T
        return dx


def linear_slips(layer: Any, inputs: tuple, dout: Any,
                 grads: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The input gradient of a linear layer (torch's (out, in) weight) that takes the
    weight untransposed once too often, ``dout @ W.T`` for ``dout @ W`` (a square layer):
    the record's hypothesis for :func:`comparisons.core.diagnosis.likely_slip`."""
    W = np.asarray(layer.params["weight"], dtype=np.float64)
    if not isinstance(dout, np.ndarray) or W.ndim != 2 or W.shape[0] != W.shape[1]:
        return {}
    return {"grad_input": {"dout @ W.T, where dout @ W belongs (torch's (out, in) weight "
                           "transposed once too often?)": np.asarray(dout, np.float64) @ W.T}}
