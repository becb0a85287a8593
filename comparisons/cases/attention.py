"""The attention case table: ``F.scaled_dot_product_attention`` (``sdpa-…``),
``nn.MultiheadAttention`` (``mha-…``) and ``nn.TransformerEncoderLayer`` (``encoder-…``),
each in float64 and float32, against torch, finite differences and the Taylor test, under a
random upstream gradient on every output (the attention weights included).

Masks are data too: a mask spec names how the mask is drawn from the case's seed
(:func:`draw_mask`), so that a case is a small frozen record. The inputs are only the
tensors that get a gradient (query, key, value; or ``src``); the masks and flags are fixed
on the layer (:mod:`comparisons.core.attention_calls`). Parameters are drawn as torch
initialises them and then shifted by seeded noise, so that the zero-initialised biases and
the layer norms' ones and zeros are generic numbers too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from comparisons.cases import workloads
from comparisons.cases.info import DTYPES, LAYER_ORACLES, LayerControl, LayerInfo, fails
from comparisons.core.attention_calls import (
    MultiheadAttentionCall,
    ScaledDotProductAttention,
    TransformerEncoderLayerCall,
)
from comparisons.slips.attention import (
    MhaBiasKvGradientAveragedOverBatch,
    MhaSoftmaxBackwardWithoutSubtraction,
    SdpaCausalMaskAfterSoftmax,
    SdpaScaleMissingInBackward,
    SdpaSoftmaxBackwardWithoutSubtraction,
)
from comparisons.twins.layers import encoder_twin, mha_sync, mha_twin, sdpa_twin
from comparisons.twins.transformers import torch_from_manual
from manual.layers import MultiheadAttention, TransformerEncoderLayer

__all__ = ["ATTENTION_CASES", "ATTENTION_LAYERS", "AttentionCase", "attention_cases", "draw_mask"]


def draw_mask(spec: tuple[Any, ...], rng: np.random.Generator) -> np.ndarray:
    """A mask from its spec ``(kind, shape)``:

    - ``"allow"``: bool, True where a query may attend (SDPA's convention), about 70 %,
      every row with at least one key;
    - ``"block"``: bool, True where it may **not** (``nn.MultiheadAttention``'s), the same
      pattern negated; ``"pad"``: a key padding mask, the same as ``"block"``;
    - ``"allow-dead"``/``"block-dead"``/``"pad-dead"``: as above with row 1 (for ``pad``,
      sample 0) fully masked;
    - ``"float"``: standard normal, added to the scores; ``"float-inf"``: the same with
      ``-inf`` where ``"block"`` would be True;
    - ``"causal-block"``: True above the diagonal (the causal mask ``nn.MultiheadAttention``
      takes with ``is_causal=True``);
    - ``"keep"``: a dropout keep-mask, True with probability 0.7.
    """
    kind, shape = spec[0], tuple(spec[1])
    if kind == "causal-block":
        return np.triu(np.ones(shape, dtype=bool), k=1)
    if kind == "float":
        return rng.standard_normal(shape)
    if kind == "keep":  # a dropout keep-mask, p = 0.3
        return rng.random(shape) >= 0.3
    allow = rng.random(shape) < 0.7
    allow[..., 0] = True  # every row keeps a key: a fully masked row only where asked
    if kind.endswith("-dead"):
        if kind.startswith("pad"):
            allow[0] = False  # sample 0: every key padded
        else:
            allow[..., 1, :] = False  # query 1 sees nothing
        kind = kind[: -len("-dead")]
    if kind == "allow":
        return allow
    if kind in ("block", "pad"):
        return ~allow
    if kind == "float-inf":
        return np.where(allow, rng.standard_normal(shape), -np.inf)
    raise ValueError(f"unknown mask kind {kind!r}")


@dataclass(frozen=True)
class AttentionCase:
    """One attention call compared with torch on seeded inputs and masks.

    ``family`` is ``"sdpa"``, ``"mha"`` or ``"encoder"``; ``config`` the constructor's
    arguments (torch's); ``call`` the forward options, a mask given by its spec
    (:func:`draw_mask`); ``shapes`` the inputs' shapes (query, key, value; or src)."""

    family: str
    variant: str
    config: tuple[tuple[str, Any], ...]
    shapes: tuple[tuple[int, ...], ...]
    call: tuple[tuple[str, Any], ...] = ()
    dtype: str = "float64"
    seed: int = 0
    exhaustive: bool = False
    oracles: tuple[str, ...] = LAYER_ORACLES
    mode: str = "train"
    note: str = ""

    @property
    def id(self) -> str:
        """e.g. ``mha-batch_first-kpm-float64``."""
        return "-".join(p for p in (self.family, self.variant, self.dtype) if p)

    @property
    def layer(self) -> str:
        return {"sdpa": "ScaledDotProductAttention", "mha": "MultiheadAttention",
                "encoder": "TransformerEncoderLayer"}[self.family]

    @property
    def input_names(self) -> tuple[str, ...]:
        """Row names of the input gradients: ``grad_query``, ``grad_key``, ``grad_value``."""
        return ("src",) if self.family == "encoder" else ("query", "key", "value")

    @property
    def output_names(self) -> tuple[str, ...]:
        if self.family != "mha":
            return ("output",)
        if dict(self.call).get("need_weights", True):
            return ("attn_output", "attn_weights")
        return ("attn_output",)

    def masks(self) -> dict[str, Any]:
        """The forward options with every mask spec drawn."""
        rng = np.random.default_rng(3000 + self.seed)
        return {k: draw_mask(v, rng) if isinstance(v, tuple) else v for k, v in self.call}

    def build(self, factory: Callable[..., Any] | None = None) -> Any:
        """The layer (``factory``: a class taking the same arguments, e.g. a negative
        control's broken one), its parameters shifted by seeded noise."""
        dtype = np.dtype(self.dtype)
        call = self.masks()
        if self.family == "sdpa":
            cls = factory or ScaledDotProductAttention
            layer = cls(**call, **dict(self.config), dtype=dtype)
        else:
            cls = factory or (MultiheadAttentionCall if self.family == "mha"
                              else TransformerEncoderLayerCall)
            layer = cls(**dict(self.config), dtype=dtype, rng=self.seed, call=call)
        return self.shifted(layer)

    def shifted(self, layer: Any) -> Any:
        """``layer`` with its parameters shifted by seeded noise (off torch's initial
        values), in the case's mode."""
        noise = np.random.default_rng(4000 + self.seed)
        for p in layer.params.values():  # in place: the layer computes with these arrays
            p += (0.1 * noise.standard_normal(p.shape)).astype(p.dtype)
        return layer.train(self.mode == "train")

    def inputs(self) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(1000 + self.seed)
        return tuple(rng.standard_normal(s).astype(self.dtype) for s in self.shapes)


def attention_cases(family: str, variants: list[tuple[str, dict, tuple, dict, dict]],
                    dtypes: tuple[str, ...] = DTYPES,
                    case: type[AttentionCase] | None = None) -> list[Any]:
    """(variant, config, shapes, call, extra fields) x dtype, as ``case`` (by default
    :class:`AttentionCase`; :class:`comparisons.cases.transformers.TransformerCase`)."""
    cls = case or AttentionCase
    return [cls(family, variant, tuple(config.items()), shapes, tuple(call.items()), dtype,
                **extra)
            for variant, config, shapes, call, extra in variants for dtype in dtypes]


_cases = attention_cases


# --------------------------------------------------------------------------------------
# F.scaled_dot_product_attention: (N, H, L, E) query, (N, H, S, E) key, (N, H, S, Ev) value
# --------------------------------------------------------------------------------------
_QKV = ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3))
_SQUARE = ((2, 2, 4, 4), (2, 2, 4, 4), (2, 2, 4, 3))
SDPA_CASES = _cases("sdpa", [
    ("", {}, _QKV, {}, {}),
    ("bool-mask", {}, _QKV, {"attn_mask": ("allow", (3, 5))}, {}),
    ("float-mask", {}, _QKV, {"attn_mask": ("float", (2, 1, 3, 5))}, {}),
    ("float-mask-inf", {}, _QKV, {"attn_mask": ("float-inf", (3, 5))}, {}),
    ("causal", {"is_causal": True}, _SQUARE, {}, {}),
    ("causal-rect", {"is_causal": True}, _QKV, {}, {}),  # L < S: top-left aligned
    ("scale", {"scale": 0.3}, _QKV, {}, {}),
    # query 1 sees no key: torch returns a zero row and zero gradients through it
    ("all-masked-row", {}, _QKV, {"attn_mask": ("allow-dead", (3, 5))}, {}),
    ("unbatched", {}, ((3, 4), (5, 4), (5, 2)), {}, {}),
    # dropout on the weights with a fixed keep-mask, handed to torch's math kernel too
    ("dropout", {"dropout_p": 0.3}, _QKV,
     {"attn_mask": ("allow", (3, 5)), "dropout_mask": ("keep", (2, 2, 3, 5))}, {}),
])

# --------------------------------------------------------------------------------------
# nn.MultiheadAttention: embed 8, 2 heads, L = 3 queries, S = 4 keys, batch 2
# --------------------------------------------------------------------------------------
_E = {"embed_dim": 8, "num_heads": 2}
_LNE = ((3, 2, 8), (4, 2, 8), (4, 2, 8))  # (L, N, E), (S, N, E), (S, N, E)
_NLE = ((2, 3, 8), (2, 4, 8), (2, 4, 8))  # batch_first
_NO_W = {"need_weights": False}
MHA_CASES = _cases("mha", [
    ("", _E, _LNE, {}, {}),
    ("batch_first", {**_E, "batch_first": True}, _NLE, {}, {}),
    ("batch_first-kpm", {**_E, "batch_first": True}, _NLE,
     {"key_padding_mask": ("pad", (2, 4))}, {}),
    ("kdim-vdim", {**_E, "kdim": 5, "vdim": 6}, ((3, 2, 8), (4, 2, 5), (4, 2, 6)), {}, {}),
    ("attn_mask-bool", _E, _LNE, {"attn_mask": ("block", (3, 4))}, {}),
    ("attn_mask-float-per-head", _E, _LNE, {"attn_mask": ("float", (4, 3, 4))}, {}),
    ("kpm-float-attn_mask-float", _E, _LNE,
     {"key_padding_mask": ("float", (2, 4)), "attn_mask": ("float", (3, 4))}, {}),
    ("no-weights", _E, _LNE, {**_NO_W, "attn_mask": ("block", (3, 4))}, {}),
    ("per-head-weights", _E, _LNE, {"average_attn_weights": False}, {}),
    ("causal", _E, ((4, 2, 8),) * 3,
     {**_NO_W, "attn_mask": ("causal-block", (4, 4)), "is_causal": True}, {}),
    ("nobias", {**_E, "bias": False}, _LNE, {}, {}),
    ("batch1", _E, ((3, 1, 8), (4, 1, 8), (4, 1, 8)), {}, {}),
    ("unbatched", _E, ((3, 8), (4, 8), (4, 8)), {"key_padding_mask": ("pad", (4,))}, {}),
    # sample 0 has every key padded: through SDPA (need_weights=False) its output is the
    # output projection's bias and no gradient flows through it, as torch ...
    ("kpm-all-masked", _E, _LNE, {**_NO_W, "key_padding_mask": ("pad-dead", (2, 4))}, {}),
    # ... while need_weights=True takes torch's plain softmax: NaN, and NaN gradients for
    # every parameter (finite differences of a NaN loss say nothing: torch only)
    ("kpm-all-masked-weights", _E, _LNE, {"key_padding_mask": ("pad-dead", (2, 4))},
     {"oracles": ("torch",)}),
    # dropout 0.3 on the attention weights, with the mask torch drew (bridge._sync_mha)
    ("dropout", {**_E, "dropout": 0.3}, _LNE, {"key_padding_mask": ("pad", (2, 4))}, {}),
    # add_bias_kv: bias_k/bias_v appended to the projected keys/values (S + 1 keys), the
    # masks padded with an "attend" column; add_zero_attn: a zero key/value per head
    ("bias_kv-kpm-attn_mask", {**_E, "add_bias_kv": True}, _LNE,
     {"key_padding_mask": ("pad", (2, 4)), "attn_mask": ("block", (3, 4))}, {}),
    ("zero_attn-batch_first-float-masks", {**_E, "add_zero_attn": True, "batch_first": True},
     _NLE, {"key_padding_mask": ("float", (2, 4)), "attn_mask": ("float", (4, 3, 4))}, {}),
    ("bias_kv-zero_attn-kdim-vdim-no-weights",
     {**_E, "add_bias_kv": True, "add_zero_attn": True, "kdim": 5, "vdim": 6},
     ((3, 2, 8), (4, 2, 5), (4, 2, 6)), {**_NO_W, "attn_mask": ("block", (3, 4))}, {}),
    ("bias_kv-zero_attn-unbatched-per-head-weights",
     {**_E, "add_bias_kv": True, "add_zero_attn": True}, ((3, 8), (4, 8), (4, 8)),
     {"key_padding_mask": ("pad", (4,)), "average_attn_weights": False}, {}),
    # sample 0 has every input key padded, but bias_k is never padded: finite, unlike
    # kpm-all-masked-weights
    ("bias_kv-kpm-all-padded", {**_E, "add_bias_kv": True}, _LNE,
     {"key_padding_mask": ("pad-dead", (2, 4))}, {}),
    # the is_causal hint through SDPA: the top-left triangle of (L, S + 1)
    ("zero_attn-causal", {**_E, "add_zero_attn": True}, ((4, 2, 8),) * 3,
     {**_NO_W, "attn_mask": ("causal-block", (4, 4)), "is_causal": True}, {}),
    # dropout on the (N, H, L, S + 2) weights, torch's mask (bridge: mha_sync)
    ("bias_kv-zero_attn-dropout", {**_E, "add_bias_kv": True, "add_zero_attn": True,
                                   "dropout": 0.3}, _LNE,
     {"key_padding_mask": ("pad", (2, 4))}, {}),
])

#: float32 runs in the default set: these variants; the other float32 ones are exhaustive
#: (budget: float64 checks every option against torch and both torch-free oracles)
_MHA_FLOAT32_DEFAULT = {"", "batch_first-kpm", "kdim-vdim", "unbatched", "dropout",
                        "bias_kv-kpm-attn_mask", "bias_kv-zero_attn-kdim-vdim-no-weights"}
MHA_CASES = [replace(c, exhaustive=True)
             if c.dtype == "float32" and c.variant not in _MHA_FLOAT32_DEFAULT else c
             for c in MHA_CASES]

# --------------------------------------------------------------------------------------
# nn.TransformerEncoderLayer: d_model 4, 2 heads, feed-forward 8, dropout 0, L = 3, batch 2
# --------------------------------------------------------------------------------------
_ENC = {"d_model": 4, "nhead": 2, "dim_feedforward": 8, "dropout": 0.0}
_SRC = ((3, 2, 4),)
_SLOW = {"exhaustive": True}
ENCODER_CASES = _cases("encoder", [
    ("post-norm-relu", _ENC, _SRC, {}, {}),
    ("pre-norm-gelu-causal", {**_ENC, "activation": "gelu", "norm_first": True}, _SRC,
     {"src_mask": ("causal-block", (3, 3)), "is_causal": True}, {}),
], ("float64",)) + _cases("encoder", [
    ("post-norm-relu", _ENC, _SRC, {}, {}),
], ("float32",)) + _cases("encoder", [
    ("pre-norm-relu-kpm", {**_ENC, "norm_first": True}, _SRC,
     {"src_key_padding_mask": ("pad", (2, 3))}, _SLOW),
    ("post-norm-gelu-batch_first-kpm", {**_ENC, "activation": "gelu", "batch_first": True},
     ((2, 3, 4),), {"src_key_padding_mask": ("pad", (2, 3))}, _SLOW),
    ("pre-norm-gelu-causal", {**_ENC, "activation": "gelu", "norm_first": True}, _SRC,
     {"src_mask": ("causal-block", (3, 3)), "is_causal": True}, _SLOW),
], ("float32",)) + _cases("encoder", [
    ("pre-norm-relu-kpm", {**_ENC, "norm_first": True}, _SRC,
     {"src_key_padding_mask": ("pad", (2, 3))}, {}),
    ("post-norm-gelu-batch_first-kpm", {**_ENC, "activation": "gelu", "batch_first": True},
     ((2, 3, 4),), {"src_key_padding_mask": ("pad", (2, 3))}, {}),
], ("float64",))

ATTENTION_CASES: list[AttentionCase] = SDPA_CASES + MHA_CASES + ENCODER_CASES


# --------------------------------------------------------------------------------------
# negative controls: the classic attention slips (comparisons/slips/attention.py) must fail
# exactly these rows, and the correct kernel must pass the same case
# --------------------------------------------------------------------------------------
_fails = fails


def _case(case_id: str) -> AttentionCase:
    return next(c for c in ATTENTION_CASES if c.id == case_id)


_QK = ("grad_query", "grad_key")
_SDPA_CONTROLS = (
    LayerControl("softmax backward without the - p (p . g) term",
                 SdpaSoftmaxBackwardWithoutSubtraction, _case("sdpa-float64"),
                 _fails(LAYER_ORACLES, _QK)),
    LayerControl("1/sqrt(d) scale missing in the backward pass",
                 SdpaScaleMissingInBackward, _case("sdpa-float64"), _fails(LAYER_ORACLES, _QK)),
    LayerControl("custom scale missing in the backward pass", SdpaScaleMissingInBackward,
                 _case("sdpa-scale-float64"), _fails(LAYER_ORACLES, _QK)),
    # a forward bug: torch sees the output (and every gradient) differ; finite
    # differences differentiate the broken forward itself, so they see only the
    # gradients that assumed a softmax (q and k), not v's, which is consistent with it
    LayerControl("causal mask applied after the softmax", SdpaCausalMaskAfterSoftmax,
                 _case("sdpa-causal-float64"),
                 _fails(("torch",), ("output", "grad_value")) | _fails(LAYER_ORACLES, _QK)),
)
# the projections of q and k inherit the wrong score gradient; v and the output
# projection do not depend on it
_MHA_CONTROLS = (
    LayerControl("softmax backward without the - p (p . g) term, inside multi-head attention",
                 MhaSoftmaxBackwardWithoutSubtraction, _case("mha-float64"),
                 _fails(LAYER_ORACLES, _QK + ("in_proj_weight", "in_proj_bias"))),
    # bias_k/bias_v are broadcast to every sample: their gradient is the batch's sum; the
    # mean (batch 2) is half of it, and nothing else depends on it
    LayerControl("bias_k/bias_v gradient averaged over the batch instead of summed",
                 MhaBiasKvGradientAveragedOverBatch, _case("mha-bias_kv-kpm-attn_mask-float64"),
                 _fails(LAYER_ORACLES, ("bias_k", "bias_v"))),
)

def _transformer_twin(layer: Any, dt: Any) -> Any:
    """A TransformerEncoderLayer's twin, its activation (a name or a manual layer) bridged."""
    return torch_from_manual(layer, dt)


#: the attention calls (their cases and controls), and the manual.layers classes they wrap
#: (their signatures, the benchmark)
ATTENTION_LAYERS: list[LayerInfo] = [
    LayerInfo(ScaledDotProductAttention, twin=sdpa_twin, cases=tuple(SDPA_CASES),
              controls=_SDPA_CONTROLS),
    LayerInfo(MultiheadAttentionCall, twin=mha_twin, sync=mha_sync, cases=tuple(MHA_CASES),
              controls=_MHA_CONTROLS),
    LayerInfo(TransformerEncoderLayerCall, twin=encoder_twin, cases=tuple(ENCODER_CASES)),
    LayerInfo(MultiheadAttention, benchmarks=(workloads.self_attention(MultiheadAttention),)),
    LayerInfo(TransformerEncoderLayer, twin=_transformer_twin, signature_differences={
        "activation": "given by name ('relu', 'gelu') or as a manual activation layer "
                      "(ReLU(), GELU(), ...); torch's default is the function F.relu, which "
                      "the name 'relu' stands for (comparisons.twins.transformers."
                      "manual_activation converts torch's)"}),
]
