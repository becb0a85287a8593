"""The records of the normalisation layers of issue 18: ``BatchNorm3d``, ``InstanceNorm1d``,
``InstanceNorm2d`` and ``LocalResponseNorm``: their cases in both dtypes and their negative
controls (:data:`REACH_NORM_LAYERS`, gathered by :mod:`comparisons.cases.catalog`).

Hard spots: ``momentum=None`` (batch norm's cumulative average; instance norm's no update),
eval mode with running statistics (constants: the one-term backward), ``bias=False``, an
empty batch, a constant channel (variance 0: only ``eps`` keeps the scale finite),
unbatched instance-norm inputs, local response norm with an even ``size`` (the window one
channel longer backwards), a window wider than the channels, and 3-d to 5-d inputs. The
running buffers are compared after the step (``running_mean``, ``running_var``,
``num_batches_tracked`` rows). Shapes are tiny: finite differences cost one forward per
input element.

Data only: importing this module changes nothing anywhere else."""

from __future__ import annotations

from comparisons.cases.info import LayerControl, LayerInfo, fails, layer_cases
from comparisons.slips.reach_norms import (BatchNorm3dBiasedRunningVar, InstanceNorm1dOverBatch,
                                           InstanceNorm2dOverBatch,
                                           LocalResponseNormDirectTermOnly,
                                           lrn_divisor_held_constant)
from comparisons.slips.norms import statistics_held_constant
from manual.layers import BatchNorm3d, InstanceNorm1d, InstanceNorm2d, LocalResponseNorm

__all__ = ["REACH_NORM_LAYERS"]

_ORACLES = ("torch", "fd", "taylor")
# A channel with variance 0 is scaled by 1/sqrt(eps) ~ 316 (its input gradients ~300) and
# the third derivative there grows like eps^(-3/2) ~ 3e7: the central difference's
# truncation, h^2/6 times that (h = 1e-5), is ~5e-4, as large as fd's own tolerance there
# (rtol 1e-6 of ~300), so fd would judge its own step, not the layer. torch (agreeing to
# ~1e-14 there) and Taylor's slope judge these cases.
_NO_FD = ("torch", "taylor")

_BATCHNORM3D = layer_cases(BatchNorm3d, [
    ("", {"num_features": 3}, ((2, 3, 2, 2, 2),), {"setup": "affine"}),
    ("momentum-none", {"num_features": 3, "momentum": None}, ((2, 3, 2, 1, 2),),
     {"setup": "stats"}),
    ("eval-stats", {"num_features": 3}, ((2, 3, 2, 2, 1),), {"setup": "stats", "mode": "eval"}),
    ("no-bias", {"num_features": 2, "bias": False}, ((2, 2, 2, 2, 1),), {"setup": "affine"}),
    ("no-track-no-affine-eval", {"num_features": 2, "track_running_stats": False,
                                 "affine": False}, ((2, 2, 2, 1, 2),), {"mode": "eval"}),
    ("constant-channel", {"num_features": 2}, ((2, 2, 1, 2, 2),),
     {"setup": "affine", "kind": "constant-channel", "oracles": _NO_FD}),
    ("empty-batch", {"num_features": 3, "momentum": 0.3}, ((0, 3, 2, 2, 2),),
     {"setup": "stats"}),
])
_INSTANCENORM1D = layer_cases(InstanceNorm1d, [
    ("", {"num_features": 3}, ((2, 3, 5),), {}),
    ("affine", {"num_features": 3, "affine": True}, ((2, 3, 4),), {"setup": "affine"}),
    ("affine-no-bias", {"num_features": 3, "affine": True, "bias": False}, ((2, 3, 4),),
     {"setup": "affine"}),
    ("track", {"num_features": 3, "momentum": 0.3, "track_running_stats": True},
     ((2, 3, 4),), {"setup": "stats"}),
    ("track-eval", {"num_features": 3, "affine": True, "track_running_stats": True},
     ((2, 3, 4),), {"setup": "stats", "mode": "eval"}),
    ("momentum-none", {"num_features": 2, "momentum": None, "track_running_stats": True},
     ((2, 2, 3),), {"setup": "stats"}),
    ("unbatched", {"num_features": 3, "affine": True}, ((3, 5),), {"setup": "affine"}),
    ("unbatched-track", {"num_features": 3, "track_running_stats": True}, ((3, 4),),
     {"setup": "stats"}),
])
_INSTANCENORM2D = layer_cases(InstanceNorm2d, [
    ("", {"num_features": 2}, ((2, 2, 3, 2),), {}),
    ("affine", {"num_features": 3, "affine": True}, ((2, 3, 2, 3),), {"setup": "affine"}),
    ("track", {"num_features": 2, "affine": True, "track_running_stats": True},
     ((2, 2, 2, 3),), {"setup": "stats"}),
    ("track-eval", {"num_features": 2, "track_running_stats": True}, ((2, 2, 3, 2),),
     {"setup": "stats", "mode": "eval"}),
    ("unbatched", {"num_features": 2, "affine": True}, ((2, 3, 3),), {"setup": "affine"}),
    ("constant-channel", {"num_features": 3, "affine": True}, ((2, 3, 2, 2),),
     {"setup": "affine", "kind": "constant-channel", "oracles": _NO_FD}),
])
_LRN = layer_cases(LocalResponseNorm, [
    # alpha of order 1 (torch's default 1e-4 makes the cross-channel term ~1e-4 of the
    # direct one): the first case, the one the default report runs, shows that term
    ("", {"size": 3, "alpha": 1.0, "beta": 0.75, "k": 1.0}, ((2, 5, 3),), {}),
    ("size2-custom", {"size": 2, "alpha": 0.5, "beta": 0.6, "k": 0.7}, ((2, 4, 3, 2),), {}),
    ("size4-even", {"size": 4, "alpha": 1.0, "beta": 0.75, "k": 1.0}, ((1, 6, 2, 2),), {}),
    ("wider-than-channels-5d", {"size": 5, "alpha": 2.0, "beta": 0.5, "k": 2.0},
     ((1, 3, 2, 2, 2),), {}),
    ("torch-defaults", {"size": 3}, ((2, 5, 3),), {}),
])

# more seeds and larger inputs, on request (pytest -m exhaustive, backprop-compare
# --exhaustive), in seed order within each layer
_SEEDS = (1, 2, 3)
_BATCHNORM3D += [c for _seed in _SEEDS for c in layer_cases(BatchNorm3d, [
    (f"momentum-none-seed{_seed}", {"num_features": 4, "momentum": None}, ((3, 4, 3, 3, 3),),
     {"setup": "stats", "seed": _seed, "exhaustive": True})])]
_INSTANCENORM2D += [c for _seed in _SEEDS for c in layer_cases(InstanceNorm2d, [
    (f"track-seed{_seed}", {"num_features": 4, "affine": True, "track_running_stats": True},
     ((3, 4, 5, 5),), {"setup": "stats", "seed": _seed, "exhaustive": True})])]
_LRN += [c for _seed in _SEEDS for c in layer_cases(LocalResponseNorm, [
    (f"size5-seed{_seed}", {"size": 5, "alpha": 1.0, "beta": 0.75, "k": 1.0}, ((3, 8, 4, 4),),
     {"seed": _seed, "exhaustive": True})])]

#: the records, in report order
REACH_NORM_LAYERS: list[LayerInfo] = [
    LayerInfo(BatchNorm3d, cases=tuple(_BATCHNORM3D), controls=(LayerControl(
        "BatchNorm3d's running variance updated with the biased batch variance (no "
        "M/(M-1))", BatchNorm3dBiasedRunningVar, _BATCHNORM3D[0],
        fails(("torch",), ("running_var",))),), slips=statistics_held_constant),
    # the wrong set changes the forward pass: torch catches the output and the gradients
    # that depend on the normalisation; fd and Taylor differentiate the manual layer's own
    # (wrong but self-consistent) function and pass, and so does the bias gradient
    LayerInfo(InstanceNorm1d, cases=tuple(_INSTANCENORM1D), controls=(LayerControl(
        "instance norm normalising over the batch too (batch norm's statistics)",
        InstanceNorm1dOverBatch, _INSTANCENORM1D[2],
        fails(("torch",), ("output", "grad_input", "weight"))),)),
    LayerInfo(InstanceNorm2d, cases=tuple(_INSTANCENORM2D), controls=(LayerControl(
        "instance norm normalising over the batch too (batch norm's statistics)",
        InstanceNorm2dOverBatch, _INSTANCENORM2D[2],
        fails(("torch",), ("output", "grad_input", "weight"))),)),
    LayerInfo(LocalResponseNorm, cases=tuple(_LRN), controls=(LayerControl(
        "local response norm's backward with the divisor held constant: the cross-channel "
        "term missing", LocalResponseNormDirectTermOnly, _LRN[2],
        fails(_ORACLES, ("grad_input",))),), slips=lrn_divisor_held_constant),
]
