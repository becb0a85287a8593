"""Attention calls as layers of the protocol, so that the layer comparison
(:func:`comparisons.run.layers.compare_layer`) can compare them with torch: the forward's
options (masks, flags) are fixed at construction and the inputs are only the tensors that
get a gradient (query, key, value; or the encoder's ``src``).

- :class:`ScaledDotProductAttention` — :func:`manual.layers.scaled_dot_product_attention`
  with its gradient pair; its torch twin calls ``F.scaled_dot_product_attention``.
- :class:`MultiheadAttentionCall` — a ``MultiheadAttention`` whose forward passes fixed
  ``key_padding_mask``/``attn_mask``/``need_weights``/…; it returns ``attn_output`` alone
  when ``need_weights=False``, else ``(attn_output, attn_weights)``.
- :class:`TransformerEncoderLayerCall` — a ``TransformerEncoderLayer`` with fixed masks.

Their torch twins are built in :mod:`comparisons.twins.layers`, named by their records
(:mod:`comparisons.cases.attention`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers import MultiheadAttention, TransformerEncoderLayer
from manual.layers.attention import _check_sdpa, attention_backward, attention_forward
from manual.layers.base import Layer, layer_dtype

__all__ = ["MultiheadAttentionCall", "ScaledDotProductAttention", "TransformerEncoderLayerCall"]


class ScaledDotProductAttention(Layer):
    """``F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale)`` as a
    layer without parameters: ``forward(query, key, value)``, ``backward(dout) -> (dq, dk,
    dv)``. The kernel is the pair :func:`~manual.layers.attention_forward` /
    :func:`~manual.layers.attention_backward` (class attributes: a negative control
    replaces them). With ``dropout_p > 0`` the keep-mask ``dropout_mask`` is fixed, and the
    torch twin hands the same mask to torch's math kernel."""

    attention_forward = staticmethod(attention_forward)
    attention_backward = staticmethod(attention_backward)

    def __init__(self, attn_mask: np.ndarray | None = None, dropout_p: float = 0.0,
                 is_causal: bool = False, scale: float | None = None, dtype: Any = None,
                 dropout_mask: np.ndarray | None = None) -> None:
        super().__init__()
        self._dtype = layer_dtype("ScaledDotProductAttention", dtype)
        self.attn_mask, self.dropout_mask = attn_mask, dropout_mask
        self.config = {"dropout_p": float(dropout_p), "is_causal": bool(is_causal),
                       "scale": scale}

    def _retype(self, dtype: np.dtype) -> None:
        super()._retype(dtype)
        if self.attn_mask is not None and self.attn_mask.dtype.kind == "f":
            self.attn_mask = self.attn_mask.astype(dtype)

    # three inputs where Layer.forward takes one, as manual.MultiheadAttention does
    def forward(self, query: np.ndarray, key: np.ndarray,  # type: ignore[override]
                value: np.ndarray) -> np.ndarray:
        c = self.config
        q, k, v, mask = _check_sdpa(query, key, value, self.attn_mask, c["dropout_p"],
                                    c["is_causal"], c["scale"], False)
        q, k, v = (x.astype(self._dtype, copy=False) for x in (q, k, v))
        out, self._cache = self.attention_forward(q, k, v, mask, c["dropout_p"],
                                                  c["is_causal"], c["scale"],
                                                  dropout_mask=self.dropout_mask)
        self._out_shape = out.shape
        return out

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.attention_backward(self.check_dout(dout), self._cache)


class MultiheadAttentionCall(MultiheadAttention):
    """``MultiheadAttention`` with its forward options fixed (``call``: any of
    ``key_padding_mask``, ``need_weights``, ``attn_mask``, ``average_attn_weights``,
    ``is_causal``). ``forward(query, key, value)`` returns ``attn_output``, or
    ``(attn_output, attn_weights)`` when weights are asked for; ``backward`` takes the
    matching gradient (one array or a pair)."""

    def __init__(self, *args: Any, call: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = dict(call or {})

    # the options fixed at construction: fewer parameters than the parent's forward
    def forward(self, query: np.ndarray, key: np.ndarray,  # type: ignore[override]
                value: np.ndarray) -> Any:
        out, weights = super().forward(query, key, value, **self.call)
        return out if weights is None else (out, weights)

    # one argument (an array or the pair) matching this forward's one return
    def backward(self, dout: Any  # type: ignore[override]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | tuple[None, None, None]:
        if isinstance(dout, tuple):
            return super().backward(*dout)
        return super().backward(dout)


class TransformerEncoderLayerCall(TransformerEncoderLayer):
    """``TransformerEncoderLayer`` with fixed ``src_mask``/``src_key_padding_mask``/
    ``is_causal`` (``call``); ``forward(src)``."""

    def __init__(self, *args: Any, call: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = dict(call or {})

    def forward(self, src: np.ndarray) -> np.ndarray:  # type: ignore[override]
        return super().forward(src, **self.call)
