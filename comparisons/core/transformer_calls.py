"""The transformer modules with their forward options fixed, so that the layer comparison
(:func:`comparisons.run.layers.compare_layer`) sees a layer whose inputs are only the
tensors that get a gradient:

- :class:`TransformerDecoderLayerCall` — ``forward(tgt, memory)``, ``backward -> (d tgt,
  d memory)``;
- :class:`TransformerEncoderCall` — ``forward(src)``;
- :class:`TransformerDecoderCall` — ``forward(tgt, memory)``;
- :class:`TransformerCall` — ``forward(src, tgt)``, ``backward -> (d src, d tgt)``.

Each is built from flat arguments (the block's configuration, the number of layers,
whether a final norm follows) so that a case is a small frozen record; ``call`` holds the
masks and flags. Their torch twins: :func:`comparisons.twins.transformers.call_twin`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers import (LayerNorm, Transformer, TransformerDecoder, TransformerDecoderLayer,
                           TransformerEncoder, TransformerEncoderLayer)

__all__ = ["PackedTransformer", "TransformerCall", "TransformerDecoderCall",
           "TransformerDecoderLayerCall",
           "TransformerEncoderCall"]


class TransformerDecoderLayerCall(TransformerDecoderLayer):
    """``TransformerDecoderLayer`` with fixed ``tgt_mask``/``memory_mask``/key padding masks/
    causal flags (``call``); ``forward(tgt, memory)``."""

    def __init__(self, *args: Any, call: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = dict(call or {})

    def forward(self, tgt: np.ndarray, memory: np.ndarray) -> np.ndarray:  # type: ignore[override]
        return super().forward(tgt, memory, **self.call)


def _stack_parts(block_cls: type, num_layers: int, final_norm: bool, dtype: Any, rng: Any,
                 block: dict[str, Any]) -> tuple[Any, int, Any]:
    layer = block_cls(**block, dtype=dtype, rng=rng)
    norm = (LayerNorm(layer.d_model, eps=block.get("layer_norm_eps", 1e-5),
                      bias=block.get("bias", True), dtype=dtype) if final_norm else None)
    return layer, num_layers, norm


class TransformerEncoderCall(TransformerEncoder):
    """``TransformerEncoder(TransformerEncoderLayer(**block), num_layers, norm)`` with fixed
    ``mask``/``src_key_padding_mask``/``is_causal`` (``call``); ``forward(src)``.
    ``final_norm``: a ``LayerNorm(d_model)`` after the stack. The clones are redrawn
    (``rng``) so that the layers differ, as after training."""

    def __init__(self, num_layers: int = 2, final_norm: bool = False, dtype: Any = None,
                 rng: Any = None, call: dict[str, Any] | None = None,
                 **block: Any) -> None:
        super().__init__(*_stack_parts(TransformerEncoderLayer, num_layers, final_norm, dtype,
                                       rng, block), rng=rng)
        self.call = dict(call or {})

    def forward(self, src: np.ndarray) -> np.ndarray:  # type: ignore[override]
        return super().forward(src, **self.call)


class TransformerDecoderCall(TransformerDecoder):
    """``TransformerDecoder(TransformerDecoderLayer(**block), num_layers, norm)`` with
    fixed masks (``call``); ``forward(tgt, memory)``."""

    def __init__(self, num_layers: int = 2, final_norm: bool = False, dtype: Any = None,
                 rng: Any = None, call: dict[str, Any] | None = None,
                 **block: Any) -> None:
        super().__init__(*_stack_parts(TransformerDecoderLayer, num_layers, final_norm, dtype,
                                       rng, block), rng=rng)
        self.call = dict(call or {})

    def forward(self, tgt: np.ndarray, memory: np.ndarray) -> np.ndarray:  # type: ignore[override]
        return super().forward(tgt, memory, **self.call)


class TransformerCall(Transformer):
    """``Transformer(**config)`` with fixed masks (``call``); ``forward(src, tgt)``."""

    def __init__(self, *args: Any, call: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = dict(call or {})

    def forward(self, src: np.ndarray, tgt: np.ndarray) -> np.ndarray:  # type: ignore[override]
        return super().forward(src, tgt, **self.call)


class PackedTransformer(Transformer):
    """Harness glue for the model trajectories, whose ``Sequential`` takes one input: a
    ``Transformer`` (``batch_first``) reading ``src`` and ``tgt`` packed along the sequence
    axis, ``x`` (N, src_len + T, E): ``src = x[:, :src_len]``, ``tgt = x[:, src_len:]``,
    the decoder's self-attention causal (``tgt_mask`` the causal mask, ``tgt_is_causal``).
    ``backward`` returns d x, the two gradients packed the same way. Parameters: the
    ``Transformer``'s, under its names. Its torch twin:
    :func:`comparisons.twins.transformers.packed_twin`."""

    def __init__(self, src_len: int, *args: Any, **kwargs: Any) -> None:
        if isinstance(src_len, bool) or not isinstance(src_len, int) or src_len < 1:
            raise ValueError(f"PackedTransformer: src_len must be an int >= 1, got {src_len!r}")
        if kwargs.get("batch_first", True) is not True:
            raise ValueError("PackedTransformer: batch_first is always True (x is (N, L, E))")
        kwargs["batch_first"] = True
        super().__init__(*args, **kwargs)
        self.src_len = src_len

    def forward(self, x: np.ndarray) -> np.ndarray:  # type: ignore[override]
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1] <= self.src_len:
            raise ValueError(f"PackedTransformer: x must be (N, src_len + T, E) with T >= 1 "
                             f"(src_len={self.src_len}), got shape {x.shape}")
        T = x.shape[1] - self.src_len
        causal = np.triu(np.ones((T, T), dtype=bool), k=1)
        return super().forward(x[:, :self.src_len], x[:, self.src_len:], tgt_mask=causal,
                               tgt_is_causal=True)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:  # type: ignore[override]
        dsrc, dtgt = super().backward(dout)
        if dsrc is None or dtgt is None:
            return None
        return np.concatenate([dsrc, dtgt], axis=1)
