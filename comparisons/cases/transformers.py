"""The transformer case table: ``nn.TransformerDecoderLayer`` (``decoder-layer-…``), the
stacks ``nn.TransformerEncoder`` (``encoder-stack-…``) and ``nn.TransformerDecoder``
(``decoder-stack-…``), and the encoder–decoder ``nn.Transformer`` (``transformer-…``), in
float64 and float32, against torch, finite differences and the Taylor test under a random
upstream gradient; and a negative control (the decoder's memory gradient from the key path
only).

Tiny on purpose (every case runs in the default report, and finite differences cost two
forwards per input and parameter element): d_model 4, 2 heads, feed-forward 8, dropout 0,
1–2 layers, sequences of 3 (target) and 4 (source/memory), batch 2. Masks are drawn from
the case's seed (:func:`comparisons.cases.attention.draw_mask`, ``nn.MultiheadAttention``'s
convention: True = may not attend) and fixed on the layer
(:mod:`comparisons.core.transformer_calls`); the inputs are only the tensors that get a
gradient. Parameters are drawn as the manual layers initialise them, then shifted by
seeded noise, so that the layer norms' ones and zeros and the zero biases are generic
numbers too.

Data only: importing this module changes nothing anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from comparisons.cases.attention import AttentionCase, attention_cases
from comparisons.cases.info import DTYPES, LAYER_ORACLES, LayerControl, LayerInfo, fails
from comparisons.core.transformer_calls import (PackedTransformer, TransformerCall,
                                                TransformerDecoderCall,
                                                TransformerDecoderLayerCall,
                                                TransformerEncoderCall)
from comparisons.slips.transformers import DecoderMemoryGradFromKeysOnly
from comparisons.twins.transformers import call_twin, packed_twin, torch_from_manual
from manual.layers import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                           TransformerEncoder)

__all__ = ["TRANSFORMER_CASES", "TRANSFORMER_LAYERS", "TransformerCase"]

#: family -> (the call class, the names of its inputs)
FAMILIES: dict[str, tuple[type, tuple[str, ...]]] = {
    "decoder-layer": (TransformerDecoderLayerCall, ("tgt", "memory")),
    "encoder-stack": (TransformerEncoderCall, ("src",)),
    "decoder-stack": (TransformerDecoderCall, ("tgt", "memory")),
    "transformer": (TransformerCall, ("src", "tgt")),
}


@dataclass(frozen=True)
class TransformerCase(AttentionCase):
    """One transformer module compared with torch on seeded inputs and masks.

    ``family`` a key of :data:`FAMILIES`; ``config`` the call class's arguments (the
    block's torch arguments, plus ``num_layers``/``final_norm`` for a stack); ``call`` the
    forward options, a mask given by its spec (:func:`draw_mask`); ``shapes`` the inputs'."""

    @property
    def layer(self) -> str:
        return FAMILIES[self.family][0].__name__

    @property
    def input_names(self) -> tuple[str, ...]:
        """Row names of the input gradients: ``grad_tgt``, ``grad_memory``, …"""
        return FAMILIES[self.family][1]

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("output",)

    def build(self, factory: Callable[..., Any] | None = None) -> Any:
        """The layer (``factory``: a class taking the same arguments, e.g. a negative
        control's), its parameters shifted by seeded noise."""
        cls = factory or FAMILIES[self.family][0]
        return self.shifted(cls(**dict(self.config), dtype=np.dtype(self.dtype),
                                rng=self.seed, call=self.masks()))


def _cases(family: str, variants: list[tuple[str, dict, tuple, dict, dict]],
           dtypes: tuple[str, ...] = DTYPES) -> list[TransformerCase]:
    """(variant, config, shapes, call, extra fields) x dtype."""
    return attention_cases(family, variants, dtypes, TransformerCase)


_BLOCK = {"d_model": 4, "nhead": 2, "dim_feedforward": 8, "dropout": 0.0}
_TM = ((3, 2, 4), (4, 2, 4))  # tgt (T, N, E), memory (S, N, E)
_TM_BF = ((2, 3, 4), (2, 4, 4))  # batch_first
_CAUSAL = {"tgt_mask": ("causal-block", (3, 3)), "tgt_is_causal": True}
_SLOW = {"exhaustive": True}
_SMALL = {**_BLOCK, "dim_feedforward": 4}
_TM_SHORT = ((2, 2, 4), (3, 2, 4))  # tgt (T, N, E), memory (S, N, E)
_CAUSAL_SHORT = {"tgt_mask": ("causal-block", (2, 2)), "tgt_is_causal": True}

DECODER_LAYER_CASES = _cases("decoder-layer", [
    # causal self-attention, padded memory keys
    ("post-norm-relu-causal-mpad", _BLOCK, _TM,
     {**_CAUSAL, "memory_key_padding_mask": ("pad", (2, 4))}, {}),
]) + _cases("decoder-layer", [
    # a memory mask and padded target keys, pre-norm, exact GELU
    ("pre-norm-gelu-masks", {**_BLOCK, "activation": "gelu", "norm_first": True}, _TM,
     {"memory_mask": ("block", (3, 4)), "tgt_key_padding_mask": ("pad", (2, 3))}, {}),
], ("float64",)) + _cases("decoder-layer", [
    ("pre-norm-gelu-masks", {**_BLOCK, "activation": "gelu", "norm_first": True}, _TM,
     {"memory_mask": ("block", (3, 4)), "tgt_key_padding_mask": ("pad", (2, 3))}, _SLOW),
], ("float32",)) + _cases("decoder-layer", [
    ("batch_first-float-masks", {**_BLOCK, "batch_first": True}, _TM_BF,
     {"tgt_mask": ("float", (3, 3)), "memory_mask": ("float", (3, 4))}, _SLOW),
    ("unbatched-nobias", {**_BLOCK, "bias": False}, ((3, 4), (4, 4)),
     {"memory_key_padding_mask": ("pad", (4,))}, _SLOW),
])

# the stacks in the exhaustive set only (the default report's budget): the transformer
# case runs an encoder and a decoder stack with their final norms by default, and
# tests/test_transformers.py the two-layer stacks and d memory's sum over the blocks
ENCODER_STACK_CASES = _cases("encoder-stack", [
    # two blocks and the final norm; padded keys
    ("2-layers-norm-pad", {**_SMALL, "num_layers": 2, "final_norm": True}, ((3, 2, 4),),
     {"src_key_padding_mask": ("pad", (2, 3))}, _SLOW),
]) + _cases("encoder-stack", [
    # the causal mask detected (is_causal=None), as torch's encoder does
    ("pre-norm-causal-detected", {**_SMALL, "num_layers": 2, "norm_first": True},
     ((3, 2, 4),), {"mask": ("causal-block", (3, 3))}, _SLOW),
])

DECODER_STACK_CASES = _cases("decoder-stack", [
    # memory read by both blocks: its gradient is the sum of the two
    ("2-layers-norm-causal", {**_SMALL, "num_layers": 2, "final_norm": True}, _TM_SHORT,
     {**_CAUSAL_SHORT, "memory_key_padding_mask": ("pad", (2, 3))}, _SLOW),
])

# the stacks and the whole model: a narrower feed-forward (4) and shorter sequences, as
# their parameter count sets the finite differences' cost
_TR = {**_SMALL, "num_encoder_layers": 1, "num_decoder_layers": 1}
_SRC_TGT = ((3, 2, 4), (2, 2, 4))  # src (S, N, E), tgt (T, N, E)
_TR_MASKS = {"src_key_padding_mask": ("pad", (2, 3)), "tgt_mask": ("causal-block", (2, 2)),
             "memory_key_padding_mask": ("pad", (2, 3))}
# float32 of the whole model in the exhaustive set only (the default report's budget: the
# decoder layer's float32 case runs the same blocks by default)
TRANSFORMER_CASES_ = _cases("transformer", [
    ("post-norm-masks", _TR, _SRC_TGT, _TR_MASKS, {}),
], ("float64",)) + _cases("transformer", [
    ("post-norm-masks", _TR, _SRC_TGT, _TR_MASKS, _SLOW),
], ("float32",)) + _cases("transformer", [
    ("pre-norm-gelu-batch_first", {**_TR, "activation": "gelu", "norm_first": True,
                                   "batch_first": True}, ((2, 3, 4), (2, 2, 4)),
     {"src_mask": ("block", (3, 3)), "tgt_key_padding_mask": ("pad", (2, 2))}, _SLOW),
    ("unbatched", _TR, ((3, 4), (2, 4)), {"tgt_mask": ("causal-block", (2, 2))}, _SLOW),
])

TRANSFORMER_CASES: list[TransformerCase] = (DECODER_LAYER_CASES + ENCODER_STACK_CASES
                                            + DECODER_STACK_CASES + TRANSFORMER_CASES_)


def _case(case_id: str) -> TransformerCase:
    return next(c for c in TRANSFORMER_CASES if c.id == case_id)


_DECODER_CONTROLS = (
    LayerControl("cross-attention's memory gradient from the key path only: the value "
                 "path forgotten", DecoderMemoryGradFromKeysOnly,
                 _case("decoder-layer-post-norm-relu-causal-mpad-float64"),
                 fails(LAYER_ORACLES, ("grad_memory",))),
)

_ACTIVATION = ("given by name ('relu', 'gelu') or as a manual activation layer (ReLU(), "
               "GELU(), ...); torch's default is the function F.relu, which the name 'relu' "
               "stands for (comparisons.twins.transformers.manual_activation converts "
               "torch's)")


def _twin(layer: Any, dt: Any) -> Any:
    return torch_from_manual(layer, dt)


#: the transformer calls (their cases and control) and the manual.layers classes
TRANSFORMER_LAYERS: list[LayerInfo] = [
    LayerInfo(TransformerDecoderLayerCall, twin=call_twin, cases=tuple(DECODER_LAYER_CASES),
              controls=_DECODER_CONTROLS),
    LayerInfo(TransformerEncoderCall, twin=call_twin, cases=tuple(ENCODER_STACK_CASES)),
    LayerInfo(TransformerDecoderCall, twin=call_twin, cases=tuple(DECODER_STACK_CASES)),
    LayerInfo(TransformerCall, twin=call_twin, cases=tuple(TRANSFORMER_CASES_)),
    LayerInfo(TransformerDecoderLayer, twin=_twin,
              signature_differences={"activation": _ACTIVATION}),
    LayerInfo(TransformerEncoder, twin=_twin, signature_differences={
        "encoder_layer": "a manual TransformerEncoderLayer (torch: its own)",
        "enable_nested_tensor": "accepted and ignored: torch's nested-tensor fast path runs "
                                "only in eval mode without autograd"}),
    LayerInfo(TransformerDecoder, twin=_twin, signature_differences={
        "decoder_layer": "a manual TransformerDecoderLayer (torch: its own)"}),
    LayerInfo(Transformer, twin=_twin, signature_differences={
        "activation": _ACTIVATION,
        "custom_encoder": "a manual TransformerEncoder (torch: any module)",
        "custom_decoder": "a manual TransformerDecoder (torch: any module)"}),
    # harness glue of the copy-task trajectory (comparisons/run/model_trajectories.py)
    LayerInfo(PackedTransformer, twin=packed_twin),
]
