"""The layer records of the normalisation, dropout and embedding layers: their cases, with
their hard spots, networks, negative controls and benchmark workload
(:data:`NORM_LAYERS`, gathered by :mod:`comparisons.cases.catalog`).

Hard spots: a batch of one for layer norm, batch norm with a constant channel (variance 0:
only ``eps`` keeps :math:`1/\\sqrt{\\sigma^2+\\epsilon}` finite), ``momentum=None`` (the
cumulative average, from a counter that is not 0), eval mode before and after running
statistics, ``track_running_stats=False`` (batch statistics in eval mode too), several
normalised dims, an empty batch, repeated indices and ``padding_idx`` in embeddings,
dropout with ``p`` in {0, 0.3, 1} in train and eval mode. Batch norm's buffers are
compared after the step (``running_mean``, ``running_var``, ``num_batches_tracked`` rows).
"""

from __future__ import annotations

from typing import Any

from comparisons.cases import workloads
from comparisons.cases.info import (
    DTYPES,
    LAYER_ORACLES,
    N_TOKENS,
    LayerCase,
    LayerControl,
    LayerInfo,
    NetworkCase,
    fails,
    layer_cases,
)
from comparisons.cases.layers import cnn, depthwise_separable
from comparisons.slips.norms import (
    BatchNormConstantStatistics,
    DropoutBackwardNotRescaled,
    EmbeddingOverwritesRepeats,
    LayerNormWrongAxis,
    embedding_overwrite,
    statistics_held_constant,
)
from comparisons.twins.layers import dropout_sync
from manual.layers import BatchNorm1d, BatchNorm2d, Dropout, Embedding, GroupNorm, LayerNorm

__all__ = ["NORM_LAYERS"]

_TORCH_ONLY = ("torch",)

_BATCHNORM1D = layer_cases(BatchNorm1d, [
    ("", {"num_features": 4}, ((8, 4),), {"setup": "affine"}),
    ("3d", {"num_features": 3}, ((4, 3, 5),), {"setup": "affine"}),
    ("momentum-none", {"num_features": 4, "momentum": None}, ((6, 4),), {"setup": "stats"}),
    ("momentum0.3", {"num_features": 4, "momentum": 0.3}, ((6, 4),), {"setup": "stats"}),
    ("eval-fresh", {"num_features": 4}, ((5, 4),), {"setup": "affine", "mode": "eval"}),
    ("eval-stats", {"num_features": 3}, ((4, 3, 2),), {"setup": "stats", "mode": "eval"}),
    ("no-track", {"num_features": 4, "track_running_stats": False}, ((6, 4),),
     {"setup": "affine"}),
    ("no-track-eval", {"num_features": 4, "track_running_stats": False}, ((6, 4),),
     {"setup": "affine", "mode": "eval"}),
    ("no-affine", {"num_features": 4, "affine": False}, ((6, 4),), {}),
    ("constant-channel", {"num_features": 3}, ((8, 3),),
     {"setup": "affine", "kind": "constant-channel"}),
    ("eps0.1", {"num_features": 3, "eps": 0.1}, ((5, 3),), {"setup": "affine"}),
    ("empty-batch", {"num_features": 3}, ((0, 3),), {"setup": "stats"}),
])
_BATCHNORM2D = layer_cases(BatchNorm2d, [
    ("", {"num_features": 3}, ((4, 3, 3, 3),), {"setup": "affine"}),
    ("momentum-none", {"num_features": 3, "momentum": None}, ((2, 3, 3, 2),),
     {"setup": "stats"}),
    ("eval-stats", {"num_features": 3}, ((2, 3, 2, 2),), {"setup": "stats", "mode": "eval"}),
    ("constant-channel", {"num_features": 3}, ((3, 3, 2, 2),),
     {"setup": "affine", "kind": "constant-channel"}),
    ("batch1", {"num_features": 2}, ((1, 2, 3, 3),), {"setup": "affine"}),
    ("no-bias", {"num_features": 3, "bias": False}, ((4, 3, 3, 3),), {"setup": "affine"}),
    ("no-track-no-affine", {"num_features": 2, "track_running_stats": False, "affine": False},
     ((3, 2, 2, 2),), {"mode": "eval"}),
])
_LAYERNORM = layer_cases(LayerNorm, [
    ("", {"normalized_shape": 5}, ((4, 5),), {"setup": "affine"}),
    ("batch1", {"normalized_shape": 6}, ((1, 6),), {"setup": "affine"}),
    ("dims2", {"normalized_shape": (3, 4)}, ((2, 5, 3, 4),), {"setup": "affine"}),
    ("dims3", {"normalized_shape": (2, 2, 3)}, ((3, 2, 2, 3),), {"setup": "affine"}),
    ("unbatched", {"normalized_shape": 5}, ((5,),), {"setup": "affine"}),
    ("no-affine", {"normalized_shape": 4, "elementwise_affine": False}, ((3, 4),), {}),
    ("nobias", {"normalized_shape": 4, "bias": False}, ((3, 2, 4),), {"setup": "affine"}),
    ("eval", {"normalized_shape": 4}, ((3, 4),), {"setup": "affine", "mode": "eval"}),
])
_GROUPNORM = layer_cases(GroupNorm, [
    ("", {"num_groups": 2, "num_channels": 4}, ((3, 4, 5),), {"setup": "affine"}),
    ("instance", {"num_groups": 4, "num_channels": 4}, ((2, 4, 2, 3),), {"setup": "affine"}),
    ("one-group", {"num_groups": 1, "num_channels": 3}, ((2, 3, 4),), {"setup": "affine"}),
    ("no-affine", {"num_groups": 3, "num_channels": 6, "affine": False}, ((2, 6, 2),), {}),
    ("nobias", {"num_groups": 2, "num_channels": 4, "bias": False}, ((2, 4, 3),),
     {"setup": "affine"}),
    ("2d-input", {"num_groups": 1, "num_channels": 4}, ((3, 4),), {"setup": "affine"}),
])
_DROPOUT = [c for _mode in ("train", "eval") for c in layer_cases(Dropout, [
    (f"p{p}-{_mode}", {"p": p}, ((4, 6),), {"mode": _mode}) for p in (0.0, 0.3, 1.0)])]
_DROPOUT += layer_cases(Dropout, [("3d", {"p": 0.5}, ((2, 3, 4),), {})])
_EMBEDDING = layer_cases(Embedding, [
    ("repeats", {"num_embeddings": N_TOKENS, "embedding_dim": 3}, ((3, 5),), {"kind": "tokens"}),
    # torch's conventions, not derivatives: the padding_idx row gets a zero gradient though
    # the output reads it, and scale_grad_by_freq divides by the counts; finite
    # differences see the true derivative, so only torch judges these
    ("padding", {"num_embeddings": N_TOKENS, "embedding_dim": 3, "padding_idx": 0},
     ((3, 5),), {"kind": "tokens", "oracles": _TORCH_ONLY}),
    ("padding-neg", {"num_embeddings": N_TOKENS, "embedding_dim": 2, "padding_idx": -1},
     ((4, 4),), {"kind": "tokens", "oracles": _TORCH_ONLY}),
    ("scale-freq", {"num_embeddings": N_TOKENS, "embedding_dim": 3,
                    "scale_grad_by_freq": True, "padding_idx": 2}, ((2, 6),),
     {"kind": "tokens", "oracles": _TORCH_ONLY}),
    # max_norm renormalises the looked-up rows in place in every forward (torch does it
    # under no_grad): a finite-difference step is renormalised away, so only torch judges
    ("max-norm", {"num_embeddings": N_TOKENS, "embedding_dim": 3, "max_norm": 1.0},
     ((3, 4),), {"kind": "tokens", "oracles": _TORCH_ONLY}),
    ("1d", {"num_embeddings": N_TOKENS, "embedding_dim": 4}, ((7,),), {"kind": "tokens"}),
])


_fails = fails


def _case(layer: str, config: dict[str, Any], shape: tuple[int, ...], **extra: Any
          ) -> LayerCase:
    return LayerCase(layer, tuple(config.items()), (shape,), "float64", **extra)


_CONTROLS: list[LayerControl] = [
    LayerControl("batch-norm backward treating the batch mean and variance as constants",
                 BatchNormConstantStatistics,
                 _case("BatchNorm1d", {"num_features": 4}, (8, 4), variant="control",
                       setup="affine"),
                 _fails(LAYER_ORACLES, ("grad_input",))),
    # the wrong axis changes the forward pass: torch catches the output and every gradient
    # that depends on the normalisation; fd and Taylor differentiate the manual layer's own
    # (wrong but self-consistent) function and pass, and so does the bias gradient
    LayerControl("layer norm normalising over the batch axis instead of the features",
                 LayerNormWrongAxis,
                 _case("LayerNorm", {"normalized_shape": 5}, (4, 5), variant="control",
                       setup="affine"),
                 _fails(("torch",), ("output", "grad_input", "weight"))),
    LayerControl("dropout backward not rescaled by 1/(1-p)", DropoutBackwardNotRescaled,
                 _case("Dropout", {"p": 0.3}, (4, 6), variant="control"),
                 _fails(LAYER_ORACLES, ("grad_input",))),
    LayerControl("embedding gradient written dW[idx] = dout: repeated indices lost",
                 EmbeddingOverwritesRepeats,
                 _case("Embedding", {"num_embeddings": N_TOKENS, "embedding_dim": 3}, (3, 5),
                       variant="control", kind="tokens"),
                 _fails(LAYER_ORACLES, ("weight",))),
]

# --------------------------------------------------------------------------------------
# networks and exhaustive variants
# --------------------------------------------------------------------------------------
#: Sequential networks with normalisation layers (dropout's networks are trained step by
#: step in comparisons.run.model_trajectories, with torch's masks)
_NETWORKS: list[NetworkCase] = [
    NetworkCase(f"bn-ln-mlp{'-eval' if mode == 'eval' else ''}",
                (("Linear", (("in_features", 5), ("out_features", 6), ("bias", False))),
                 ("BatchNorm1d", (("num_features", 6),)),
                 ("Tanh", ()),
                 ("Linear", (("in_features", 6), ("out_features", 4))),
                 ("LayerNorm", (("normalized_shape", 4),)),
                 ("Linear", (("in_features", 4), ("out_features", 3)))),
                "cross_entropy", (8, 5), dtype, mode=mode)
    for mode in ("train", "eval") for dtype in DTYPES]

# more seeds and larger inputs, on request (pytest -m exhaustive, backprop-compare
# --exhaustive), in seed order within each layer
_SEEDS = (1, 2, 3)
_BATCHNORM2D += [c for _seed in _SEEDS for c in layer_cases(BatchNorm2d, [
    (f"seed{_seed}", {"num_features": 4}, ((6, 4, 5, 5),),
     {"setup": "stats", "seed": _seed, "exhaustive": True}),
    (f"momentum-none-seed{_seed}", {"num_features": 4, "momentum": None}, ((6, 4, 5, 5),),
     {"setup": "stats", "seed": _seed, "exhaustive": True})])]
_LAYERNORM += [c for _seed in _SEEDS for c in layer_cases(LayerNorm, [
    (f"dims2-seed{_seed}", {"normalized_shape": (6, 5)}, ((4, 3, 6, 5),),
     {"setup": "affine", "seed": _seed, "exhaustive": True})])]
_GROUPNORM += [c for _seed in _SEEDS for c in layer_cases(GroupNorm, [
    (f"seed{_seed}", {"num_groups": 3, "num_channels": 6}, ((4, 6, 4, 4),),
     {"setup": "affine", "seed": _seed, "exhaustive": True})])]
_EMBEDDING += [c for _seed in _SEEDS for c in layer_cases(Embedding, [
    (f"seed{_seed}", {"num_embeddings": N_TOKENS, "embedding_dim": 8}, ((16, 12),),
     {"kind": "tokens", "seed": _seed, "exhaustive": True})])]
_DROPOUT += [c for _seed in _SEEDS for c in layer_cases(Dropout, [
    (f"seed{_seed}", {"p": 0.5}, ((16, 32),), {"seed": _seed, "exhaustive": True})])]


def _controls(layer: type) -> tuple[LayerControl, ...]:
    return tuple(c for c in _CONTROLS if issubclass(c.broken, layer))


def _bn_network(arch: str, spec: tuple, shape: tuple[int, ...]) -> tuple[NetworkCase, ...]:
    return tuple(NetworkCase(arch, spec, "cross_entropy", shape, dtype) for dtype in DTYPES)


#: the normalisation, dropout and embedding layers
NORM_LAYERS: list[LayerInfo] = [
    LayerInfo(BatchNorm1d, cases=tuple(_BATCHNORM1D), controls=_controls(BatchNorm1d),
              slips=statistics_held_constant),
    LayerInfo(BatchNorm2d, cases=tuple(_BATCHNORM2D), slips=statistics_held_constant,
              networks=_bn_network("cnn-bn", cnn(True), (6, 1, 8, 8))
              + _bn_network("depthwise-separable-bn", depthwise_separable(True), (4, 3, 6, 6)),
              benchmarks=(workloads.forward_backward("BatchNorm2d(32)", BatchNorm2d,
                                                     {"num_features": 32},
                                                     (64, 32, 32, 32)),)),
    LayerInfo(LayerNorm, cases=tuple(_LAYERNORM), networks=tuple(_NETWORKS),
              controls=_controls(LayerNorm), slips=statistics_held_constant),
    LayerInfo(GroupNorm, cases=tuple(_GROUPNORM)),
    LayerInfo(Dropout, sync=dropout_sync, cases=tuple(_DROPOUT),
              controls=_controls(Dropout)),
    LayerInfo(Embedding, cases=tuple(_EMBEDDING), controls=_controls(Embedding),
              slips=embedding_overwrite),
]
