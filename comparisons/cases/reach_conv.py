"""The records of Conv3d, ConvTranspose1d, MaxPool3d and AdaptiveAvgPool1d (issue 18): their
cases in both dtypes (strides, paddings including 'same', dilation, groups, output_padding,
ceil_mode, ties, unbatched inputs), on tiny shapes (the finite differences cost a forward
per input element), and one negative control per layer.

Data only: importing this module changes nothing anywhere else."""

from __future__ import annotations

from comparisons.cases.info import LayerControl, LayerInfo, fails, layer_cases
from comparisons.slips.reach_conv import (AdaptiveAvgPool1dGradNotDivided,
                                          Conv3dWeightGradFirstDepthOnly,
                                          ConvTranspose1dOutputPaddingIgnored,
                                          MaxPool3dGradToWholeWindow)
from manual.layers import AdaptiveAvgPool1d, Conv3d, ConvTranspose1d, MaxPool3d

__all__ = ["REACH_CONV_LAYERS"]

_ORACLES = ("torch", "fd", "taylor")
_CONV3D = layer_cases(Conv3d, [
    ("2x2x2", {"in_channels": 2, "out_channels": 3, "kernel_size": 2}, ((2, 2, 3, 2, 3),), {}),
    ("stride-pad-dilation-groups2", {"in_channels": 2, "out_channels": 2,
                                     "kernel_size": (2, 1, 2), "stride": (1, 2, 1),
                                     "padding": (1, 0, 1), "dilation": (1, 1, 2),
                                     "groups": 2}, ((1, 2, 3, 4, 3),), {}),
    ("same-nobias-unbatched", {"in_channels": 2, "out_channels": 2, "kernel_size": (2, 3, 2),
                               "padding": "same", "bias": False}, ((2, 3, 3, 2),), {}),
    ("replicate-pad-1-0-2", {"in_channels": 1, "out_channels": 2, "kernel_size": 2,
                             "padding": (1, 0, 2), "padding_mode": "replicate"},
     ((1, 1, 2, 2, 2),), {}),
    ("reflect-same", {"in_channels": 1, "out_channels": 1, "kernel_size": 3,
                  "padding": "same", "padding_mode": "reflect"},
     ((1, 1, 2, 3, 2),), {}),
])
_CONVT1D = layer_cases(ConvTranspose1d, [
    ("k3", {"in_channels": 2, "out_channels": 3, "kernel_size": 3}, ((2, 2, 4),), {}),
    ("stride2-pad1-outpad1", {"in_channels": 2, "out_channels": 3, "kernel_size": 3,
                              "stride": 2, "padding": 1, "output_padding": 1},
     ((2, 2, 4),), {}),
    ("groups2-dilation2-outpad1-unbatched", {"in_channels": 4, "out_channels": 2,
                                             "kernel_size": 2, "groups": 2, "dilation": 2,
                                             "output_padding": 1}, ((4, 3),), {}),
])
_TORCH_ONLY = {"kind": "ties", "oracles": ("torch",)}  # a tie is a kink: no fd, no Taylor
_MAXPOOL3D = layer_cases(MaxPool3d, [
    ("2", {"kernel_size": 2}, ((2, 1, 4, 2, 4),), {"kind": "distinct"}),
    ("3-stride2-pad1-ceil", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
     ((1, 1, 4, 4, 3),), {"kind": "distinct"}),
    ("ties-overlap-dilation", {"kernel_size": 2, "stride": 1, "dilation": (1, 2, 1)},
     ((1, 2, 3, 4, 3),), _TORCH_ONLY),
    ("indices-unbatched", {"kernel_size": (1, 2, 2), "return_indices": True},
     ((2, 2, 4, 4),), {"kind": "distinct"}),
])
_ADAPTIVEAVGPOOL1D = layer_cases(AdaptiveAvgPool1d, [
    ("3-of-7", {"output_size": 3}, ((2, 3, 7),), {}),  # overlapping windows
    ("5-of-3-unbatched", {"output_size": 5}, ((3, 3),), {}),  # upsampling: repeats
])

#: the records, in report order
REACH_CONV_LAYERS: list[LayerInfo] = [
    LayerInfo(Conv3d, cases=tuple(_CONV3D), controls=(LayerControl(
        "Conv3d's weight gradient from the first output depth slice only: the sum over the "
        "output's depth forgotten", Conv3dWeightGradFirstDepthOnly, _CONV3D[0],
        fails(_ORACLES, ("weight",))),)),
    LayerInfo(ConvTranspose1d, cases=tuple(_CONVT1D), controls=(LayerControl(
        "ConvTranspose1d's backward ignoring output_padding: the gradient of the outputs it "
        "added dropped", ConvTranspose1dOutputPaddingIgnored, _CONVT1D[2],
        fails(_ORACLES, ("grad_input", "weight"))),)),
    LayerInfo(MaxPool3d, cases=tuple(_MAXPOOL3D), controls=(LayerControl(
        "3-d max-pooling gradient sent to every element of the window",
        MaxPool3dGradToWholeWindow, _MAXPOOL3D[0], fails(_ORACLES, ("grad_input",))),)),
    LayerInfo(AdaptiveAvgPool1d, cases=tuple(_ADAPTIVEAVGPOOL1D), controls=(LayerControl(
        "adaptive average pooling's backward without the 1/|window| of the mean",
        AdaptiveAvgPool1dGradNotDivided, _ADAPTIVEAVGPOOL1D[0],
        fails(_ORACLES, ("grad_input",))),)),
]
