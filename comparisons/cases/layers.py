"""The layer records of the dense and shape layers, the activation layers, convolution and
pooling (:class:`~comparisons.cases.info.LayerInfo`): their sample cases, networks,
negative controls, signature differences and benchmark workloads, all data.

Each layer case names a class of :mod:`manual.layers` and its torch constructor arguments,
the input shape(s), how the inputs are drawn (``kind``: hard spots such as ties in a
max-pooling window), the dtype and the seed; its id (``conv2d-stride2-pad1-float64``) is
the pytest id and the ``case`` column of ``layers.csv``. ``exhaustive=True`` marks the
slow variants that run only on request (``pytest -m exhaustive``, ``backprop-compare
--exhaustive``). :mod:`comparisons.cases.catalog` gathers the records of every family.
"""

from __future__ import annotations

import itertools
from typing import Any

from comparisons.cases import workloads
from comparisons.cases.info import (
    DTYPES,
    LAYER_ORACLES,
    NETWORK_ORACLES,
    LayerCase,
    LayerControl,
    LayerInfo,
    NetworkCase,
    _kw,
    fails,
    layer_cases,
)
from comparisons.slips.conv import (
    Conv1dCircularGradCropped,
    Conv2dKernelTransposed,
    Conv2dUnflippedKernel,
    ConvTranspose2dPaddingOffByOne,
    MaxPool2dGradToWholeWindow,
)
from comparisons.slips.linear import (
    LinearInputGradUntransposed,
    LinearWeightGradTransposed,
    linear_slips,
)
from manual import layers
from manual.layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    Flatten,
    Linear,
    MaxPool1d,
    MaxPool2d,
)
# declared in the activation module (manual.layers re-exports them through a computed __all__)
from manual.layers.activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

__all__ = ["CONV_LAYERS", "DENSE_LAYERS", "LayerCase", "LayerControl", "NetworkCase",
           "cnn", "depthwise_separable"]

_fails = fails

# --------------------------------------------------------------------------------------
# dense layers, activations, shape
# --------------------------------------------------------------------------------------
_LINEAR = layer_cases(Linear, [
    ("", {"in_features": 5, "out_features": 3}, ((4, 5),), {}),
    ("nobias-3d", {"in_features": 5, "out_features": 2, "bias": False}, ((2, 3, 5),), {}),
    ("unbatched", {"in_features": 4, "out_features": 3}, ((4,),), {}),
    ("empty-batch", {"in_features": 4, "out_features": 3}, ((0, 4),), {}),
])


def _activation(cls: type, config: dict[str, Any] | None = None) -> LayerInfo:
    """An activation layer's record: one case on distinct values (no kink hit)."""
    return LayerInfo(cls, cases=tuple(layer_cases(cls, [("", config or {}, ((3, 4, 2),),
                                                          {"kind": "distinct"})])))


_FLATTEN = layer_cases(Flatten, [
    ("", {}, ((2, 3, 2, 2),), {}),
    ("dims0-1", {"start_dim": 0, "end_dim": 1}, ((2, 3, 2),), {}),
])


# --------------------------------------------------------------------------------------
# convolution and pooling, with the hard spots: ties in max-pooling windows, padding beyond
# the kernel's reach, stride > kernel, groups = channels (depthwise), 'same'/'valid',
# dilation, ceil_mode, unbatched inputs, empty batches
# --------------------------------------------------------------------------------------
_CONV2D = layer_cases(Conv2d, [
    ("3x3", {"in_channels": 3, "out_channels": 4, "kernel_size": 3}, ((2, 3, 6, 5),), {}),
    ("stride2-pad1", {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2,
                      "padding": 1}, ((2, 3, 7, 6),), {}),
    ("rect-dilation-groups2", {"in_channels": 4, "out_channels": 6, "kernel_size": (2, 3),
                               "stride": (2, 1), "padding": (1, 2), "dilation": (2, 1),
                               "groups": 2}, ((2, 4, 8, 7),), {}),
    ("depthwise", {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "padding": 1,
                   "groups": 4}, ((2, 4, 5, 5),), {}),
    ("depthwise-multiplier2", {"in_channels": 3, "out_channels": 6, "kernel_size": 3,
                               "groups": 3}, ((2, 3, 5, 6),), {}),
    ("same-even-kernel", {"in_channels": 2, "out_channels": 3, "kernel_size": 4,
                          "padding": "same"}, ((2, 2, 6, 5),), {}),
    ("same-dilation2", {"in_channels": 2, "out_channels": 3, "kernel_size": 3,
                        "padding": "same", "dilation": 2}, ((2, 2, 6, 7),), {}),
    ("valid", {"in_channels": 2, "out_channels": 3, "kernel_size": (3, 2),
               "padding": "valid"}, ((2, 2, 5, 4),), {}),
    ("pad-beyond-reach", {"in_channels": 2, "out_channels": 3, "kernel_size": 2,
                          "padding": 3}, ((2, 2, 4, 4),), {}),
    ("stride3-kernel2", {"in_channels": 2, "out_channels": 3, "kernel_size": 2, "stride": 3},
     ((2, 2, 8, 7),), {}),
    ("nobias-unbatched", {"in_channels": 2, "out_channels": 3, "kernel_size": 3,
                          "bias": False}, ((2, 5, 5),), {}),
    ("empty-batch", {"in_channels": 2, "out_channels": 3, "kernel_size": 3},
     ((0, 2, 5, 5),), {}),
    # padding_mode: F.pad in that mode, then an unpadded convolution (as torch)
    ("reflect-pad2", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": 2,
                      "padding_mode": "reflect"}, ((1, 2, 3, 4),), {}),
    ("replicate-stride2-dilation2", {"in_channels": 2, "out_channels": 2, "kernel_size": 2,
                                     "stride": 2, "padding": (1, 2), "dilation": 2,
                                     "padding_mode": "replicate"}, ((1, 2, 3, 4),), {}),
    ("circular-same-even-groups2", {"in_channels": 2, "out_channels": 2,
                                    "kernel_size": (2, 3), "padding": "same", "groups": 2,
                                    "padding_mode": "circular"}, ((1, 2, 3, 4),), {}),
])
_CONV1D = layer_cases(Conv1d, [
    ("stride2-pad1-dilation2", {"in_channels": 2, "out_channels": 3, "kernel_size": 3,
                                "stride": 2, "padding": 1, "dilation": 2}, ((2, 2, 11),), {}),
    ("same-groups2", {"in_channels": 2, "out_channels": 4, "kernel_size": 4,
                      "padding": "same", "groups": 2}, ((2, 2, 9),), {}),
    ("unbatched", {"in_channels": 2, "out_channels": 3, "kernel_size": 3}, ((2, 7),), {}),
    ("circular-pad3", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": 3,
                       "padding_mode": "circular"}, ((2, 2, 4),), {}),
    ("reflect-same-even-unbatched", {"in_channels": 2, "out_channels": 2, "kernel_size": 4,
                                     "padding": "same", "padding_mode": "reflect"},
     ((2, 5),), {}),
])
_CONVTRANSPOSE2D = layer_cases(ConvTranspose2d, [
    ("3x3", {"in_channels": 3, "out_channels": 4, "kernel_size": 3}, ((2, 3, 4, 5),), {}),
    ("stride2-pad1-outpad1", {"in_channels": 3, "out_channels": 4, "kernel_size": 3,
                              "stride": 2, "padding": 1, "output_padding": 1},
     ((2, 3, 4, 5),), {}),
    ("rect-groups2-dilation", {"in_channels": 4, "out_channels": 6, "kernel_size": (3, 2),
                               "stride": (2, 3), "padding": (2, 1), "output_padding": (1, 0),
                               "groups": 2, "dilation": (2, 1)}, ((2, 4, 4, 3),), {}),
    ("dilation3-outpad2", {"in_channels": 2, "out_channels": 2, "kernel_size": 2,
                           "dilation": 3, "output_padding": 2}, ((2, 2, 3, 3),), {}),
    ("stride2-unbatched", {"in_channels": 2, "out_channels": 3, "kernel_size": 3,
                           "stride": 2}, ((2, 3, 3),), {}),
])
_TORCH_ONLY = {"kind": "ties", "oracles": ("torch",)}  # a tie is a kink: no fd, no Taylor
_MAXPOOL2D = layer_cases(MaxPool2d, [
    ("2x2", {"kernel_size": 2}, ((2, 3, 6, 6),), {"kind": "distinct"}),
    ("2x2-ties", {"kernel_size": 2}, ((2, 3, 6, 6),), _TORCH_ONLY),
    ("3x3-stride1-pad1-ties", {"kernel_size": 3, "stride": 1, "padding": 1},
     ((2, 3, 5, 6),), _TORCH_ONLY),
    ("3x3-stride2-pad1-ceil", {"kernel_size": 3, "stride": 2, "padding": 1,
                               "ceil_mode": True}, ((2, 3, 6, 7),), {"kind": "distinct"}),
    ("rect-dilation", {"kernel_size": (2, 3), "stride": (3, 1), "padding": (1, 1),
                       "dilation": (2, 1)}, ((2, 3, 8, 7),), {"kind": "distinct"}),
    ("stride3-kernel2", {"kernel_size": 2, "stride": 3}, ((2, 3, 8, 7),),
     {"kind": "distinct"}),
    ("dilation2-ceil-ties", {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2,
                             "ceil_mode": True}, ((1, 2, 9, 10),), _TORCH_ONLY),
    ("indices-ties", {"kernel_size": 2, "return_indices": True}, ((2, 3, 6, 6),), _TORCH_ONLY),
    ("unbatched", {"kernel_size": 2}, ((3, 6, 6),), {"kind": "distinct"}),
    ("empty-batch", {"kernel_size": 2}, ((0, 3, 6, 6),),
     {"kind": "distinct", "oracles": ("torch", "fd")}),  # nothing to take a direction in
])
_MAXPOOL1D = layer_cases(MaxPool1d, [
    ("3-stride2-pad1-ceil-ties", {"kernel_size": 3, "stride": 2, "padding": 1,
                                  "ceil_mode": True}, ((2, 3, 10),), _TORCH_ONLY),
    ("dilation2-indices-unbatched", {"kernel_size": 2, "dilation": 2, "return_indices": True},
     ((3, 9),), {"kind": "distinct"}),
])
_AVGPOOL2D = layer_cases(AvgPool2d, [
    ("2x2", {"kernel_size": 2}, ((2, 3, 6, 6),), {}),
    ("3x3-stride2-pad1", {"kernel_size": 3, "stride": 2, "padding": 1}, ((2, 3, 7, 6),), {}),
    ("exclude-pad-ceil", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                          "count_include_pad": False}, ((2, 3, 6, 6),), {}),
    ("rect-ceil", {"kernel_size": (2, 3), "stride": 1, "padding": (1, 1), "ceil_mode": True},
     ((2, 3, 5, 6),), {}),
    ("divisor-override", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                          "divisor_override": 5}, ((2, 3, 6, 6),), {}),
    ("stride3-unbatched", {"kernel_size": 2, "stride": 3}, ((3, 7, 8),), {}),
])
_ADAPTIVEAVGPOOL2D = layer_cases(AdaptiveAvgPool2d, [
    ("1", {"output_size": 1}, ((2, 3, 5, 6),), {}),
    ("3x4", {"output_size": (3, 4)}, ((2, 3, 7, 5),), {}),
    ("none-2-unbatched", {"output_size": (None, 2)}, ((3, 5, 5),), {}),
    ("4x7-upsample", {"output_size": (4, 7)}, ((2, 3, 3, 3),), {}),
])



def _exhaustive_conv2d(layer: str) -> list[LayerCase]:
    """The exhaustive cases of class ``layer``: every combination of stride, padding,
    dilation and groups on odd-sized inputs, two seeds: opt-in (``pytest -m exhaustive``).
    The convolutions run in float64 only: their
    weight and bias gradients sum 150 and more products with heavy cancellation, and in
    float32 both sides then stray past the float32 policy (atol 1e-6: ~100 roundings) —
    measured on conv2d s1-p2-d1-g1 seed 1, torch's float32 weight gradient lay 1.3e-5 from
    the float64 value and ours 4.3e-6. The default table covers float32 on shapes within
    the policy."""
    cases = []
    for stride, padding, dilation, groups, seed in itertools.product(
            (1, 2, 3), (0, 1, 2), (1, 2), (1, 2), (0, 1)):
        config = {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": stride,
                  "padding": padding, "dilation": dilation, "groups": groups}
        variant = f"s{stride}-p{padding}-d{dilation}-g{groups}-seed{seed}"
        cases.append(LayerCase("Conv2d", _kw(config), ((3, 4, 9, 8),), "float64", seed=seed,
                               exhaustive=True, variant=variant, cls=Conv2d))
    for stride, padding, outpad, seed in itertools.product((1, 2, 3), (0, 1, 2), (0, 1), (0,)):
        if outpad >= stride:  # torch: output_padding < max(stride, dilation)
            continue
        config = {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": stride,
                  "padding": padding, "output_padding": outpad, "groups": 2}
        variant = f"s{stride}-p{padding}-op{outpad}-g2-seed{seed}"
        cases.append(LayerCase("ConvTranspose2d", _kw(config), ((3, 4, 5, 4),), "float64",
                               seed=seed, exhaustive=True, variant=variant,
                               cls=ConvTranspose2d))
    for k, stride, padding, ceil, seed in itertools.product((2, 3), (1, 2, 3), (0, 1),
                                                            (False, True), (0, 1)):
        config = {"kernel_size": k, "stride": stride, "padding": padding, "ceil_mode": ceil}
        variant = f"k{k}-s{stride}-p{padding}-ceil{int(ceil)}-seed{seed}"
        cases += [LayerCase("MaxPool2d", _kw(config), ((2, 3, 9, 8),), dtype, "distinct", seed,
                            True, variant, cls=MaxPool2d) for dtype in DTYPES]
        cases += [LayerCase("AvgPool2d", _kw({**config, "count_include_pad": bool(seed)}),
                            ((2, 3, 9, 8),), dtype, "normal", seed, True, variant,
                            cls=AvgPool2d) for dtype in DTYPES]
    return [c for c in cases if c.layer == layer]




# --------------------------------------------------------------------------------------
# networks and negative controls
# --------------------------------------------------------------------------------------
def cnn(batch_norm: bool) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """Conv2d -> [BatchNorm2d ->] ReLU -> MaxPool2d -> Conv2d -> ReLU -> AdaptiveAvgPool2d ->
    Flatten -> Linear, on (N, 1, 8, 8) images, 3 classes."""
    bn = (("BatchNorm2d", _kw({"num_features": 4})),) if batch_norm else ()
    return ((("Conv2d", _kw({"in_channels": 1, "out_channels": 4, "kernel_size": 3,
                              "padding": 1})),) + bn + (
        ("ReLU", ()), ("MaxPool2d", _kw({"kernel_size": 2})),
        ("Conv2d", _kw({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "padding": 1})),
        ("ReLU", ()), ("AdaptiveAvgPool2d", _kw({"output_size": 1})), ("Flatten", ()),
        ("Linear", _kw({"in_features": 6, "out_features": 3}))))


def depthwise_separable(batch_norm: bool) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """Depthwise 3x3 (groups = channels) -> [BatchNorm2d ->] ReLU -> pointwise 1x1 ->
    [BatchNorm2d ->] ReLU -> AvgPool2d -> Flatten -> Linear."""
    def bn(c: int) -> tuple:
        return (("BatchNorm2d", _kw({"num_features": c})),) if batch_norm else ()

    return ((("Conv2d", _kw({"in_channels": 3, "out_channels": 3, "kernel_size": 3,
                              "padding": 1, "groups": 3})),) + bn(3) + (("ReLU", ()),) + (
        ("Conv2d", _kw({"in_channels": 3, "out_channels": 6, "kernel_size": 1})),) + bn(6) + (
        ("ReLU", ()), ("AvgPool2d", _kw({"kernel_size": 2})), ("Flatten", ()),
        ("Linear", _kw({"in_features": 6 * 3 * 3, "out_features": 3}))))


_SQUARE = LayerCase("Linear", _kw({"in_features": 4, "out_features": 4}), ((5, 4),),
                    variant="square")
_MLP_SQUARE = NetworkCase("mlp-square", (("Linear", _kw({"in_features": 4, "out_features": 4})),
                                         ("Tanh", ()),
                                         ("Linear", _kw({"in_features": 4, "out_features": 4})),
                                         ("Tanh", ()),
                                         ("Linear", _kw({"in_features": 4, "out_features": 3}))),
                          "cross_entropy", (6, 4))
_LINEAR_CONTROLS = [
    LayerControl("Linear weight gradient not transposed to torch's (out, in) layout",
                 LinearWeightGradTransposed, _SQUARE, _fails(LAYER_ORACLES, ("weight",))),
    LayerControl("Linear input gradient with W transposed", LinearInputGradUntransposed,
                 _SQUARE, _fails(LAYER_ORACLES, ("grad_input",))),
    # in a network the wrong input gradient of layer 2 corrupts every gradient below it
    LayerControl("Linear input gradient with W transposed, inside a network",
                 LinearInputGradUntransposed, _MLP_SQUARE,
                 _fails(NETWORK_ORACLES, ("0.weight", "0.bias")), layer_index=2,
                 first_divergence="backward dJ/d(input of 2.LinearInputGradUntransposed)"),
]
_CONV2D_CONTROLS = [
    LayerControl("convolution backward as a correlation with the kernel not flipped",
                 Conv2dUnflippedKernel, LayerCase("Conv2d", _kw(
                     {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2,
                      "padding": 1}), ((2, 3, 7, 6),), variant="stride2-pad1"),
                 _fails(LAYER_ORACLES, ("grad_input",))),
    LayerControl("convolution backward with the kernel's spatial axes transposed, not flipped",
                 Conv2dKernelTransposed, LayerCase("Conv2d", _kw(
                     {"in_channels": 3, "out_channels": 4, "kernel_size": 3}),
                     ((2, 3, 6, 5),), variant="3x3"),
                 _fails(LAYER_ORACLES, ("grad_input",))),
    # in the CNN: the second convolution's wrong input gradient reaches only the first
    # convolution's parameters, and the first divergence names the broken layer
    LayerControl("convolution backward with the kernel not flipped, inside the CNN",
                 Conv2dUnflippedKernel, NetworkCase("cnn", cnn(False), "cross_entropy",
                                                    (6, 1, 8, 8)),
                 _fails(NETWORK_ORACLES, ("0.weight", "0.bias")), layer_index=3,
                 first_divergence="backward dJ/d(input of 3.Conv2dUnflippedKernel)"),
]
_MAXPOOL2D_CONTROLS = [
    LayerControl("max-pooling gradient sent to every element of the window",
                 MaxPool2dGradToWholeWindow, LayerCase("MaxPool2d", _kw({"kernel_size": 2}),
                                                       ((2, 3, 6, 6),), kind="distinct",
                                                       variant="2x2"),
                 _fails(LAYER_ORACLES, ("grad_input",))),
]
_CONVTRANSPOSE2D_CONTROLS = [
    LayerControl("transposed-convolution backward with its padding off by one pixel",
                 ConvTranspose2dPaddingOffByOne, LayerCase("ConvTranspose2d", _kw(
                     {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2,
                      "padding": 1, "output_padding": 1}), ((2, 3, 4, 5),),
                     variant="stride2-pad1-outpad1"),
                 _fails(LAYER_ORACLES, ("grad_input", "weight"))),
]





def _network(arch: str, spec: tuple, shape: tuple[int, ...]) -> tuple[NetworkCase, ...]:
    return tuple(NetworkCase(arch, spec, "cross_entropy", shape, dtype) for dtype in DTYPES)


_MLP_RELU = _network("mlp-relu", (("Linear", _kw({"in_features": 4, "out_features": 6})),
                                  ("ReLU", ()),
                                  ("Linear", _kw({"in_features": 6, "out_features": 3}))),
                     (8, 4))

#: dense, activation and shape layers; every activation layer has a record (the signature
#: check reads them), those with a case first
DENSE_LAYERS: list[LayerInfo] = [
    LayerInfo(Linear, cases=tuple(_LINEAR), networks=_MLP_RELU, controls=tuple(_LINEAR_CONTROLS),
              slips=linear_slips),
    _activation(ReLU), _activation(Tanh), _activation(Sigmoid),
    _activation(GELU), _activation(LeakyReLU, {"negative_slope": 0.2}),
    _activation(Softmax, {"dim": 1}),
    LayerInfo(Flatten, cases=tuple(_FLATTEN)),
    *[LayerInfo(getattr(layers, name)) for name in (
        "ELU", "SELU", "CELU", "Softplus", "SiLU", "Mish", "Softsign", "Hardtanh", "ReLU6",
        "Hardsigmoid", "Hardswish", "LogSigmoid", "Tanhshrink", "Softshrink", "LogSoftmax",
        "Softmin", "Identity", "Sequential")],
]

_CONV_DIFFERENCE = ("a keyword-only extra of the manual convolution (its code is shared with "
                    "ConvTranspose2d); torch's {} has none")

#: convolution and pooling
CONV_LAYERS: list[LayerInfo] = [
    LayerInfo(Conv2d, cases=tuple(_CONV2D + _exhaustive_conv2d("Conv2d")),
              networks=_network("cnn", cnn(False), (6, 1, 8, 8))
              + _network("depthwise-separable", depthwise_separable(False), (4, 3, 6, 6)),
              controls=tuple(_CONV2D_CONTROLS),
              signature_differences={"output_padding": _CONV_DIFFERENCE.format("Conv2d")},
              benchmarks=(workloads.forward_backward(
                  "Conv2d(16->32, 3x3, padding=1)", Conv2d,
                  {"in_channels": 16, "out_channels": 32, "kernel_size": 3, "padding": 1}),)),
    LayerInfo(Conv1d, cases=tuple(_CONV1D), controls=(LayerControl(
        "circular padding's backward cropped like zero padding's: the gradient of the "
        "wrapped copies not added back onto the positions they copy",
        Conv1dCircularGradCropped, next(c for c in _CONV1D if c.variant == "circular-pad3"),
        _fails(LAYER_ORACLES, ("grad_input",))),),
              signature_differences={"output_padding": _CONV_DIFFERENCE.format("Conv1d")}),
    LayerInfo(ConvTranspose2d, cases=tuple(_CONVTRANSPOSE2D
                                           + _exhaustive_conv2d("ConvTranspose2d")),
              controls=tuple(_CONVTRANSPOSE2D_CONTROLS)),
    LayerInfo(MaxPool2d, cases=tuple(_MAXPOOL2D + _exhaustive_conv2d("MaxPool2d")),
              controls=tuple(_MAXPOOL2D_CONTROLS),
              benchmarks=(workloads.forward_backward("MaxPool2d(2)", MaxPool2d,
                                                     {"kernel_size": 2}),)),
    LayerInfo(MaxPool1d, cases=tuple(_MAXPOOL1D)),
    LayerInfo(AvgPool2d, cases=tuple(_AVGPOOL2D + _exhaustive_conv2d("AvgPool2d"))),
    LayerInfo(AdaptiveAvgPool2d, cases=tuple(_ADAPTIVEAVGPOOL2D)),
]
