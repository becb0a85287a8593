"""The records of the layers courses teach beyond the core set: padding (``ZeroPad2d``,
``ReflectionPad2d``), ``PReLU`` and ``GLU``, ``RMSNorm``, ``Bilinear``, ``Upsample``,
``AvgPool1d`` and ``AdaptiveMaxPool2d``: their cases in both dtypes (unbatched inputs,
cropping paddings, align_corners, fractional scales), and negative controls.

Data only: importing this module changes nothing anywhere else."""

from __future__ import annotations

from comparisons.cases.info import LayerControl, LayerInfo, fails, layer_cases
from comparisons.slips.reach import (PReLUSlopeGradNotSummed, ReflectionPadGradCropped,
                                     RMSNormDirectTermOnly, padding_cropped, rms_held_constant)
from manual.layers import (GLU, AdaptiveMaxPool2d, AvgPool1d, Bilinear, PReLU,
                           ReflectionPad2d, RMSNorm, Upsample, ZeroPad2d)

__all__ = ["REACH_LAYERS"]

_ZEROPAD = layer_cases(ZeroPad2d, [
    ("", {"padding": (1, 2, 0, 1)}, ((2, 3, 4, 5),), {}),
    ("int-unbatched", {"padding": 1}, ((3, 4, 4),), {}),
    ("crop", {"padding": (-1, 1, 1, -1)}, ((2, 2, 4, 5),), {}),
])
_REFLECT = layer_cases(ReflectionPad2d, [
    ("", {"padding": (1, 2, 2, 1)}, ((2, 3, 4, 5),), {}),
    ("int-unbatched", {"padding": 2}, ((3, 4, 5),), {}),
])
# "distinct" inputs: none within 0.005 of PReLU's kink at 0 (torch alone judges a kink)
_PRELU = layer_cases(PReLU, [
    ("", {}, ((4, 5),), {"kind": "distinct"}),
    ("channels3", {"num_parameters": 3}, ((2, 3, 4),), {"kind": "distinct"}),
])
_GLU = layer_cases(GLU, [
    ("", {}, ((4, 6),), {}),
    ("dim1", {"dim": 1}, ((2, 4, 3),), {}),
])
_RMSNORM = layer_cases(RMSNorm, [
    ("", {"normalized_shape": 5}, ((4, 5),), {}),
    ("2d-eps", {"normalized_shape": (3, 4), "eps": 1e-6}, ((2, 3, 4),), {}),
    ("no-affine", {"normalized_shape": 5, "elementwise_affine": False}, ((4, 5),), {}),
])
_BILINEAR = layer_cases(Bilinear, [
    ("", {"in1_features": 3, "in2_features": 4, "out_features": 2}, ((5, 3), (5, 4)), {}),
    ("no-bias", {"in1_features": 3, "in2_features": 2, "out_features": 3, "bias": False},
     ((4, 3), (4, 2)), {}),
])
_UPSAMPLE = layer_cases(Upsample, [
    ("nearest-x2", {"scale_factor": 2.0, "mode": "nearest"}, ((2, 3, 4, 4),), {}),
    ("bilinear-size-align", {"size": (5, 7), "mode": "bilinear", "align_corners": True},
     ((2, 3, 4, 4),), {}),
    ("bilinear-x1.5", {"scale_factor": 1.5, "mode": "bilinear"}, ((1, 2, 4, 6),), {}),
])
_AVGPOOL1D = layer_cases(AvgPool1d, [
    ("k3-s2-p1", {"kernel_size": 3, "stride": 2, "padding": 1}, ((2, 3, 9),), {}),
])
# distinct values: no tie for the maximum, so that a finite-difference step keeps the argmax
_ADAPTIVE_MAX = layer_cases(AdaptiveMaxPool2d, [
    ("2x3", {"output_size": (2, 3)}, ((2, 3, 5, 7),), {"kind": "distinct"}),
])

#: the records, in report order
REACH_LAYERS: list[LayerInfo] = [
    LayerInfo(ZeroPad2d, cases=tuple(_ZEROPAD)),
    LayerInfo(ReflectionPad2d, cases=tuple(_REFLECT), controls=(LayerControl(
        "reflection padding's backward cropped like zero padding's: the mirrored "
        "gradients not added back", ReflectionPadGradCropped, _REFLECT[0],
        fails(("torch", "fd", "taylor"), ("grad_input",))),), slips=padding_cropped),
    LayerInfo(PReLU, cases=tuple(_PRELU), controls=(LayerControl(
        "PReLU's slope gradient from the first sample only: the sum over the batch "
        "forgotten", PReLUSlopeGradNotSummed, _PRELU[0],
        fails(("torch", "fd", "taylor"), ("weight",))),)),
    LayerInfo(GLU, cases=tuple(_GLU)),
    LayerInfo(RMSNorm, cases=tuple(_RMSNORM), controls=(LayerControl(
        "RMSNorm's backward with the root mean square held constant: the direct term "
        "alone", RMSNormDirectTermOnly, _RMSNORM[0],
        fails(("torch", "fd", "taylor"), ("grad_input",))),), slips=rms_held_constant),
    LayerInfo(Bilinear, cases=tuple(_BILINEAR)),
    LayerInfo(Upsample, cases=tuple(_UPSAMPLE)),
    LayerInfo(AvgPool1d, cases=tuple(_AVGPOOL1D)),
    LayerInfo(AdaptiveMaxPool2d, cases=tuple(_ADAPTIVE_MAX)),
]
