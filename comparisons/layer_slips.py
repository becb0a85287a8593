"""Deliberately wrong layers, the negative controls of the layer table
(:data:`comparisons.cases.layers.LAYER_CONTROLS`), kept apart from the correct code.

Each is a subclass of the correct layer with one classic slip in its backward pass, so it
keeps the correct layer's torch twin (:func:`comparisons.bridge.twin_name` walks the
class hierarchy) and every comparison must catch it, naming the broken parameter.
"""

from __future__ import annotations

import numpy as np

from comparisons.norm_slips import *  # noqa: F403  (batch norm, layer norm, dropout, embedding)
from comparisons.norm_slips import __all__ as _norm_slips
from manual.layers import Linear

__all__ = ["LinearInputGradUntransposed", "LinearWeightGradTransposed", *_norm_slips]


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


# convolution and pooling (comparisons/conv_slips.py)
from comparisons.conv_slips import *  # noqa: E402,F403
from comparisons.conv_slips import __all__ as _conv_slips  # noqa: E402

__all__ += _conv_slips
