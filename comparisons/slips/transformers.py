"""A deliberately wrong transformer decoder block: the negative control of
:mod:`comparisons.cases.transformers`, a subclass of the correct call with one classic slip;
the record holds the class itself."""

from __future__ import annotations

import numpy as np

from comparisons.core.transformer_calls import TransformerDecoderLayerCall
from manual.layers.transformer import _dx

__all__ = ["DecoderMemoryGradFromKeysOnly"]


class DecoderMemoryGradFromKeysOnly(TransformerDecoderLayerCall):
    r"""The cross-attention reads ``memory`` as its key **and** its value; this slip returns
    only the key path's gradient as :math:`\partial L/\partial m` (the value path, which
    carries most of it, forgotten). Every parameter gradient stays right."""

    def _mha_backward(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dq, dk, _ = self.multihead_attn.backward(_dx(self.dropout2.backward(d)))
        return _dx(dq), _dx(dk)
