"""Layer cases of the normalisation, dropout and embedding layers, with their hard spots,
and their negative controls; :mod:`comparisons.registry` appends them to
:data:`comparisons.cases.layers.LAYER_CASES` and ``LAYER_CONTROLS``.

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

import numpy as np

from comparisons.cases.layers import (INPUT_KINDS, LAYER_SETUPS, ORACLES, LayerCase,
                                      LayerControl, NetworkCase, layer_cases)

__all__ = ["NORM_CASES", "NORM_CONTROLS", "NORM_NETWORK_CASES"]

N_TOKENS = 6  # num_embeddings of the embedding cases


def _constant_channel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal, with channel 1 (axis 1) one constant value: its variance is 0."""
    x = rng.standard_normal(shape)
    x[:, 1] = 0.75
    return x


def _tokens(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """int64 indices in [0, N_TOKENS), with repeats (more positions than tokens, and the
    first two equal), the first and the last token both present."""
    idx = rng.integers(0, N_TOKENS, size=shape).reshape(-1)
    idx[1] = idx[0]
    idx[2], idx[-1] = 0, N_TOKENS - 1
    return idx.reshape(shape).astype(np.int64)


INPUT_KINDS.update({"constant-channel": _constant_channel, "tokens": _tokens})


def _random_affine(layer: Any, rng: np.random.Generator) -> None:
    """weight ~ 1 + N(0, 0.5²), bias ~ N(0, 0.5²), in place: torch's 1 and 0 would hide a
    gamma forgotten in the backward or a bias gradient taken as zero."""
    for name, p in layer.params.items():
        p[...] = rng.normal(1.0 if name == "weight" else 0.0, 0.5, size=p.shape)


def _trained_stats(layer: Any, rng: np.random.Generator) -> None:
    """Random affine parameters and running statistics as after 3 batches."""
    _random_affine(layer, rng)
    b = layer.buffers
    b["running_mean"][...] = rng.normal(0.0, 0.5, size=b["running_mean"].shape)
    b["running_var"][...] = rng.uniform(0.5, 2.0, size=b["running_var"].shape)
    b["num_batches_tracked"][...] = 3


LAYER_SETUPS.update({"affine": _random_affine, "stats": _trained_stats})

_TORCH_ONLY = ("torch",)

NORM_CASES: list[LayerCase] = []
NORM_CASES += layer_cases("BatchNorm1d", [
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
NORM_CASES += layer_cases("BatchNorm2d", [
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
NORM_CASES += layer_cases("LayerNorm", [
    ("", {"normalized_shape": 5}, ((4, 5),), {"setup": "affine"}),
    ("batch1", {"normalized_shape": 6}, ((1, 6),), {"setup": "affine"}),
    ("dims2", {"normalized_shape": (3, 4)}, ((2, 5, 3, 4),), {"setup": "affine"}),
    ("dims3", {"normalized_shape": (2, 2, 3)}, ((3, 2, 2, 3),), {"setup": "affine"}),
    ("unbatched", {"normalized_shape": 5}, ((5,),), {"setup": "affine"}),
    ("no-affine", {"normalized_shape": 4, "elementwise_affine": False}, ((3, 4),), {}),
    ("nobias", {"normalized_shape": 4, "bias": False}, ((3, 2, 4),), {"setup": "affine"}),
    ("eval", {"normalized_shape": 4}, ((3, 4),), {"setup": "affine", "mode": "eval"}),
])
NORM_CASES += layer_cases("GroupNorm", [
    ("", {"num_groups": 2, "num_channels": 4}, ((3, 4, 5),), {"setup": "affine"}),
    ("instance", {"num_groups": 4, "num_channels": 4}, ((2, 4, 2, 3),), {"setup": "affine"}),
    ("one-group", {"num_groups": 1, "num_channels": 3}, ((2, 3, 4),), {"setup": "affine"}),
    ("no-affine", {"num_groups": 3, "num_channels": 6, "affine": False}, ((2, 6, 2),), {}),
    ("nobias", {"num_groups": 2, "num_channels": 4, "bias": False}, ((2, 4, 3),),
     {"setup": "affine"}),
    ("2d-input", {"num_groups": 1, "num_channels": 4}, ((3, 4),), {"setup": "affine"}),
])
for _mode in ("train", "eval"):
    NORM_CASES += layer_cases("Dropout", [
        (f"p{p}-{_mode}", {"p": p}, ((4, 6),), {"mode": _mode}) for p in (0.0, 0.3, 1.0)])
NORM_CASES += layer_cases("Dropout", [("3d", {"p": 0.5}, ((2, 3, 4),), {})])
NORM_CASES += layer_cases("Embedding", [
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


def _fails(oracles: tuple[str, ...], params: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset((o, p) for o in oracles for p in params)


def _case(layer: str, config: dict[str, Any], shape: tuple[int, ...], **extra: Any
          ) -> LayerCase:
    return LayerCase(layer, tuple(config.items()), (shape,), "float64", **extra)


NORM_CONTROLS: list[LayerControl] = [
    LayerControl("batch-norm backward treating the batch mean and variance as constants",
                 "BatchNormConstantStatistics",
                 _case("BatchNorm1d", {"num_features": 4}, (8, 4), variant="control",
                       setup="affine"),
                 _fails(ORACLES, ("grad_input",))),
    # the wrong axis changes the forward pass: torch catches the output and every gradient
    # that depends on the normalisation; fd and Taylor differentiate the manual layer's own
    # (wrong but self-consistent) function and pass, and so does the bias gradient
    LayerControl("layer norm normalising over the batch axis instead of the features",
                 "LayerNormWrongAxis",
                 _case("LayerNorm", {"normalized_shape": 5}, (4, 5), variant="control",
                       setup="affine"),
                 _fails(("torch",), ("output", "grad_input", "weight"))),
    LayerControl("dropout backward not rescaled by 1/(1-p)", "DropoutBackwardNotRescaled",
                 _case("Dropout", {"p": 0.3}, (4, 6), variant="control"),
                 _fails(ORACLES, ("grad_input",))),
    LayerControl("embedding gradient written dW[idx] = dout: repeated indices lost",
                 "EmbeddingOverwritesRepeats",
                 _case("Embedding", {"num_embeddings": N_TOKENS, "embedding_dim": 3}, (3, 5),
                       variant="control", kind="tokens"),
                 _fails(ORACLES, ("weight",))),
]

# --------------------------------------------------------------------------------------
# networks and exhaustive variants
# --------------------------------------------------------------------------------------
#: Sequential networks with normalisation layers (dropout's networks are trained step by
#: step in comparisons.model_trajectories, with torch's masks)
NORM_NETWORK_CASES: list[NetworkCase] = [
    NetworkCase(f"bn-ln-mlp{'-eval' if mode == 'eval' else ''}",
                (("Linear", (("in_features", 5), ("out_features", 6), ("bias", False))),
                 ("BatchNorm1d", (("num_features", 6),)),
                 ("Tanh", ()),
                 ("Linear", (("in_features", 6), ("out_features", 4))),
                 ("LayerNorm", (("normalized_shape", 4),)),
                 ("Linear", (("in_features", 4), ("out_features", 3)))),
                "cross_entropy", (8, 5), dtype, mode=mode)
    for mode in ("train", "eval") for dtype in ("float64", "float32")]

# more seeds and larger inputs, on request (pytest -m exhaustive, backprop-compare
# --exhaustive)
for _seed in (1, 2, 3):
    NORM_CASES += layer_cases("BatchNorm2d", [
        (f"seed{_seed}", {"num_features": 4}, ((6, 4, 5, 5),),
         {"setup": "stats", "seed": _seed, "exhaustive": True}),
        (f"momentum-none-seed{_seed}", {"num_features": 4, "momentum": None}, ((6, 4, 5, 5),),
         {"setup": "stats", "seed": _seed, "exhaustive": True})])
    NORM_CASES += layer_cases("LayerNorm", [
        (f"dims2-seed{_seed}", {"normalized_shape": (6, 5)}, ((4, 3, 6, 5),),
         {"setup": "affine", "seed": _seed, "exhaustive": True})])
    NORM_CASES += layer_cases("GroupNorm", [
        (f"seed{_seed}", {"num_groups": 3, "num_channels": 6}, ((4, 6, 4, 4),),
         {"setup": "affine", "seed": _seed, "exhaustive": True})])
    NORM_CASES += layer_cases("Embedding", [
        (f"seed{_seed}", {"num_embeddings": N_TOKENS, "embedding_dim": 8}, ((16, 12),),
         {"kind": "tokens", "seed": _seed, "exhaustive": True})])
    NORM_CASES += layer_cases("Dropout", [
        (f"seed{_seed}", {"p": 0.5}, ((16, 32),), {"seed": _seed, "exhaustive": True})])
