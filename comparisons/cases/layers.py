"""The layer case table: single layers (``LAYER_CASES``), whole ``Sequential`` networks with a
loss (``NETWORK_CASES``) and the negative controls (``LAYER_CONTROLS``), all data.

Each layer case names a class of :mod:`manual.layers` and its torch constructor arguments,
the input shape(s), how the inputs are drawn (``kind``: hard spots such as ties in a
max-pooling window), the dtype and the seed; its id (``conv2d-stride2-pad1-float64``) is
the pytest id and the ``case`` column of ``layers.csv``. ``exhaustive=True`` marks the
slow variants that run only on request (``pytest -m exhaustive``, ``backprop-compare
--exhaustive``). Other families append their cases to these lists.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["INPUT_KINDS", "LAYER_CASES", "LAYER_CONTROLS", "LAYER_SETUPS", "NETWORK_CASES",
           "LayerCase", "LayerControl", "NetworkCase", "layer_cases"]

DTYPES = ("float64", "float32")
ORACLES = ("torch", "fd", "taylor")
NETWORK_ORACLES = ("torch", "vjp", "fd", "taylor")


def _normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Distinct values 0.01 apart, shuffled, none within 0.005 of 0: no ties (max pooling's
    argmax stays put under a finite-difference step) and no kink at 0 (ReLU)."""
    n = int(np.prod(shape))
    return rng.permutation((np.arange(n) - n // 2 + 0.5) * 0.01).reshape(shape)


def _ties(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Small integers: most pooling windows hold a tie for the maximum."""
    return rng.integers(-2, 3, size=shape).astype(np.float64)


#: input kind -> draw(rng, shape) (float64; cast to the case's dtype unless integer)
INPUT_KINDS: dict[str, Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]] = {
    "normal": _normal, "distinct": _distinct, "ties": _ties,
}


#: setup name -> ``setup(layer, rng)``, run on a case's freshly built layer: state that no
#: constructor argument gives (batch norm's affine parameters away from torch's 1 and 0,
#: running statistics as after some training)
LAYER_SETUPS: dict[str, Callable[[Any, np.random.Generator], None]] = {}


def _kw(config: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(config.items())


def _build_layer(name: str, config: tuple[tuple[str, Any], ...], dtype: str, seed: int,
                 factory: Callable[..., Any] | None = None) -> Any:
    from manual import layers

    cls = factory or getattr(layers, name)
    kwargs = dict(config)
    params = inspect.signature(cls).parameters
    if "dtype" in params:
        kwargs["dtype"] = np.dtype(dtype)
    if "rng" in params:
        kwargs["rng"] = seed
    return cls(**kwargs)


@dataclass(frozen=True)
class LayerCase:
    """One layer compared with its torch module on seeded inputs."""

    layer: str  # class name in manual.layers (and torch.nn)
    config: tuple[tuple[str, Any], ...] = ()  # torch constructor arguments
    shapes: tuple[tuple[int, ...], ...] = ((4, 5),)  # one shape per forward input
    dtype: str = "float64"
    kind: str | tuple[str, ...] = "normal"  # INPUT_KINDS, one for all inputs or one each
    seed: int = 0
    exhaustive: bool = False
    variant: str = ""  # readable id part: "stride2-pad1"
    oracles: tuple[str, ...] = ORACLES
    mode: str = "train"  # "train" or "eval"
    setup: str = ""  # a key of LAYER_SETUPS: run on the built layer (random affine, stats)

    @property
    def id(self) -> str:
        """e.g. ``conv2d-stride2-pad1-float64``."""
        return "-".join(p for p in (self.layer.lower(), self.variant, self.dtype) if p)

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def build(self, factory: Callable[..., Any] | None = None) -> Any:
        """The manual layer (``factory``: another class taking the same arguments, e.g. a
        negative control's broken subclass), in the case's mode."""
        layer = _build_layer(self.layer, self.config, self.dtype, self.seed, factory)
        if self.setup:
            LAYER_SETUPS[self.setup](layer, np.random.default_rng(3000 + self.seed))
        return layer.train(self.mode == "train")

    def inputs(self) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(1000 + self.seed)
        kinds = (self.kind,) * len(self.shapes) if isinstance(self.kind, str) else self.kind
        out = []
        for shape, kind in zip(self.shapes, kinds):
            a = INPUT_KINDS[kind](rng, tuple(shape))
            out.append(a.astype(self.dtype) if a.dtype.kind == "f" else a)
        return tuple(out)


@dataclass(frozen=True)
class NetworkCase:
    """A ``Sequential`` of layers with a loss, compared like the MLP."""

    arch: str  # "cnn", "depthwise-separable", …
    layers: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
    loss: str
    input_shape: tuple[int, ...]
    dtype: str = "float64"
    n_classes: int = 3  # class-index targets for cross_entropy/nll; else targets like the output
    seed: int = 0
    mode: str = "train"
    exhaustive: bool = False
    oracles: tuple[str, ...] = NETWORK_ORACLES
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.arch}-{self.dtype}"

    def build(self, factories: dict[int, Callable[..., Any]] | None = None) -> Any:
        """The manual network; ``factories`` replaces the class of some layers (by index)."""
        from manual.layers import Sequential

        factories = factories or {}
        layers = [_build_layer(name, config, self.dtype, self.seed + i, factories.get(i))
                  for i, (name, config) in enumerate(self.layers)]
        return Sequential(*layers, loss=self.loss).train(self.mode == "train")

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(2000 + self.seed)
        X = rng.standard_normal(self.input_shape).astype(self.dtype)
        if self.loss in ("cross_entropy", "nll"):
            y = rng.integers(0, self.n_classes, size=self.input_shape[0])
        else:
            out = self.build().forward(X)
            y = rng.standard_normal(np.shape(out)).astype(self.dtype)
        return X, y


@dataclass(frozen=True)
class LayerControl:
    """A negative control: a deliberately broken layer (``broken``, a class in
    :mod:`comparisons.layer_slips`) in place of the correct one in ``case`` must fail
    exactly the rows ``fails`` ((oracle, parameter) pairs); the correct layer passes.
    For a network case, ``layer_index`` says which layer is replaced and
    ``first_divergence`` what the torch rows must name."""

    slip: str  # what went wrong, in words
    broken: str
    case: LayerCase | NetworkCase
    fails: frozenset[tuple[str, str]]
    layer_index: int | None = None
    first_divergence: str = ""

    @property
    def id(self) -> str:
        return f"{self.broken}-{self.case.id}"


def layer_cases(layer: str, variants: list[tuple[str, dict[str, Any], tuple, dict[str, Any]]],
                dtypes: tuple[str, ...] = DTYPES) -> list[LayerCase]:
    """``LayerCase`` for every (variant, config, shapes, extra fields) x dtype."""
    return [LayerCase(layer, _kw(config), shapes, dtype, variant=variant, **extra)
            for variant, config, shapes, extra in variants for dtype in dtypes]


# --------------------------------------------------------------------------------------
# dense layers, activations, shape
# --------------------------------------------------------------------------------------
LAYER_CASES: list[LayerCase] = []
LAYER_CASES += layer_cases("Linear", [
    ("", {"in_features": 5, "out_features": 3}, ((4, 5),), {}),
    ("nobias-3d", {"in_features": 5, "out_features": 2, "bias": False}, ((2, 3, 5),), {}),
    ("unbatched", {"in_features": 4, "out_features": 3}, ((4,),), {}),
    ("empty-batch", {"in_features": 4, "out_features": 3}, ((0, 4),), {}),
])
for _name, _config in [("ReLU", {}), ("Tanh", {}), ("Sigmoid", {}), ("GELU", {}),
                       ("LeakyReLU", {"negative_slope": 0.2}), ("Softmax", {"dim": 1})]:
    LAYER_CASES += layer_cases(_name, [("", _config, ((3, 4, 2),), {"kind": "distinct"})])
LAYER_CASES += layer_cases("Flatten", [
    ("", {}, ((2, 3, 2, 2),), {}),
    ("dims0-1", {"start_dim": 0, "end_dim": 1}, ((2, 3, 2),), {}),
])

# --------------------------------------------------------------------------------------
# convolution and pooling, with the hard spots: ties in max-pooling windows, padding beyond
# the kernel's reach, stride > kernel, groups = channels (depthwise), 'same'/'valid',
# dilation, ceil_mode, unbatched inputs, empty batches
# --------------------------------------------------------------------------------------
LAYER_CASES += layer_cases("Conv2d", [
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
])
LAYER_CASES += layer_cases("Conv1d", [
    ("stride2-pad1-dilation2", {"in_channels": 2, "out_channels": 3, "kernel_size": 3,
                                "stride": 2, "padding": 1, "dilation": 2}, ((2, 2, 11),), {}),
    ("same-groups2", {"in_channels": 2, "out_channels": 4, "kernel_size": 4,
                      "padding": "same", "groups": 2}, ((2, 2, 9),), {}),
    ("unbatched", {"in_channels": 2, "out_channels": 3, "kernel_size": 3}, ((2, 7),), {}),
])
LAYER_CASES += layer_cases("ConvTranspose2d", [
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
LAYER_CASES += layer_cases("MaxPool2d", [
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
LAYER_CASES += layer_cases("MaxPool1d", [
    ("3-stride2-pad1-ceil-ties", {"kernel_size": 3, "stride": 2, "padding": 1,
                                  "ceil_mode": True}, ((2, 3, 10),), _TORCH_ONLY),
    ("dilation2-indices-unbatched", {"kernel_size": 2, "dilation": 2, "return_indices": True},
     ((3, 9),), {"kind": "distinct"}),
])
LAYER_CASES += layer_cases("AvgPool2d", [
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
LAYER_CASES += layer_cases("AdaptiveAvgPool2d", [
    ("1", {"output_size": 1}, ((2, 3, 5, 6),), {}),
    ("3x4", {"output_size": (3, 4)}, ((2, 3, 7, 5),), {}),
    ("none-2-unbatched", {"output_size": (None, 2)}, ((3, 5, 5),), {}),
    ("4x7-upsample", {"output_size": (4, 7)}, ((2, 3, 3, 3),), {}),
])


def _exhaustive_conv2d() -> list[LayerCase]:
    """Every combination of stride, padding, dilation and groups on odd-sized inputs, two
    seeds: opt-in (``pytest -m exhaustive``). The convolutions run in float64 only: their
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
                               exhaustive=True, variant=variant))
    for stride, padding, outpad, seed in itertools.product((1, 2, 3), (0, 1, 2), (0, 1), (0,)):
        if outpad >= stride:  # torch: output_padding < max(stride, dilation)
            continue
        config = {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": stride,
                  "padding": padding, "output_padding": outpad, "groups": 2}
        variant = f"s{stride}-p{padding}-op{outpad}-g2-seed{seed}"
        cases.append(LayerCase("ConvTranspose2d", _kw(config), ((3, 4, 5, 4),), "float64",
                               seed=seed, exhaustive=True, variant=variant))
    for k, stride, padding, ceil, seed in itertools.product((2, 3), (1, 2, 3), (0, 1),
                                                            (False, True), (0, 1)):
        config = {"kernel_size": k, "stride": stride, "padding": padding, "ceil_mode": ceil}
        variant = f"k{k}-s{stride}-p{padding}-ceil{int(ceil)}-seed{seed}"
        cases += [LayerCase("MaxPool2d", _kw(config), ((2, 3, 9, 8),), dtype, "distinct", seed,
                            True, variant) for dtype in DTYPES]
        cases += [LayerCase("AvgPool2d", _kw({**config, "count_include_pad": bool(seed)}),
                            ((2, 3, 9, 8),), dtype, "normal", seed, True, variant)
                  for dtype in DTYPES]
    return cases


LAYER_CASES += _exhaustive_conv2d()

NETWORK_CASES: list[NetworkCase] = []
NETWORK_CASES += [
    NetworkCase("mlp-relu", (("Linear", _kw({"in_features": 4, "out_features": 6})),
                             ("ReLU", ()),
                             ("Linear", _kw({"in_features": 6, "out_features": 3}))),
                "cross_entropy", (8, 4), dtype)
    for dtype in DTYPES]


def _has_layer(name: str) -> bool:
    from manual import layers

    return hasattr(layers, name)


def _cnn(batch_norm: bool) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """Conv2d -> [BatchNorm2d ->] ReLU -> MaxPool2d -> Conv2d -> ReLU -> AdaptiveAvgPool2d ->
    Flatten -> Linear, on (N, 1, 8, 8) images, 3 classes."""
    bn = (("BatchNorm2d", _kw({"num_features": 4})),) if batch_norm else ()
    return ((("Conv2d", _kw({"in_channels": 1, "out_channels": 4, "kernel_size": 3,
                              "padding": 1})),) + bn + (
        ("ReLU", ()), ("MaxPool2d", _kw({"kernel_size": 2})),
        ("Conv2d", _kw({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "padding": 1})),
        ("ReLU", ()), ("AdaptiveAvgPool2d", _kw({"output_size": 1})), ("Flatten", ()),
        ("Linear", _kw({"in_features": 6, "out_features": 3}))))


def _depthwise_separable(batch_norm: bool) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """Depthwise 3x3 (groups = channels) -> [BatchNorm2d ->] ReLU -> pointwise 1x1 ->
    [BatchNorm2d ->] ReLU -> AvgPool2d -> Flatten -> Linear."""
    def bn(c: int) -> tuple:
        return (("BatchNorm2d", _kw({"num_features": c})),) if batch_norm else ()

    return ((("Conv2d", _kw({"in_channels": 3, "out_channels": 3, "kernel_size": 3,
                              "padding": 1, "groups": 3})),) + bn(3) + (("ReLU", ()),) + (
        ("Conv2d", _kw({"in_channels": 3, "out_channels": 6, "kernel_size": 1})),) + bn(6) + (
        ("ReLU", ()), ("AvgPool2d", _kw({"kernel_size": 2})), ("Flatten", ()),
        ("Linear", _kw({"in_features": 6 * 3 * 3, "out_features": 3}))))


NETWORK_CASES += [NetworkCase("cnn", _cnn(False), "cross_entropy", (6, 1, 8, 8), dtype)
                  for dtype in DTYPES]
NETWORK_CASES += [NetworkCase("depthwise-separable", _depthwise_separable(False),
                              "cross_entropy", (4, 3, 6, 6), dtype) for dtype in DTYPES]
if _has_layer("BatchNorm2d"):  # from the normalisation family (branch norms)
    NETWORK_CASES += [NetworkCase("cnn-bn", _cnn(True), "cross_entropy", (6, 1, 8, 8), dtype)
                      for dtype in DTYPES]
    NETWORK_CASES += [NetworkCase("depthwise-separable-bn", _depthwise_separable(True),
                                  "cross_entropy", (4, 3, 6, 6), dtype) for dtype in DTYPES]


def _fails(oracles: tuple[str, ...], params: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset((o, p) for o in oracles for p in params)


_SQUARE = LayerCase("Linear", _kw({"in_features": 4, "out_features": 4}), ((5, 4),),
                    variant="square")
_MLP_SQUARE = NetworkCase("mlp-square", (("Linear", _kw({"in_features": 4, "out_features": 4})),
                                         ("Tanh", ()),
                                         ("Linear", _kw({"in_features": 4, "out_features": 4})),
                                         ("Tanh", ()),
                                         ("Linear", _kw({"in_features": 4, "out_features": 3}))),
                          "cross_entropy", (6, 4))
LAYER_CONTROLS: list[LayerControl] = [
    LayerControl("Linear weight gradient not transposed to torch's (out, in) layout",
                 "LinearWeightGradTransposed", _SQUARE, _fails(ORACLES, ("weight",))),
    LayerControl("Linear input gradient with W transposed", "LinearInputGradUntransposed",
                 _SQUARE, _fails(ORACLES, ("grad_input",))),
    # in a network the wrong input gradient of layer 2 corrupts every gradient below it
    LayerControl("Linear input gradient with W transposed, inside a network",
                 "LinearInputGradUntransposed", _MLP_SQUARE,
                 _fails(NETWORK_ORACLES, ("0.weight", "0.bias")), layer_index=2,
                 first_divergence="backward dJ/d(input of 2.LinearInputGradUntransposed)"),
    # convolution and pooling
    LayerControl("convolution backward as a correlation with the kernel not flipped",
                 "Conv2dUnflippedKernel", LayerCase("Conv2d", _kw(
                     {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2,
                      "padding": 1}), ((2, 3, 7, 6),), variant="stride2-pad1"),
                 _fails(ORACLES, ("grad_input",))),
    LayerControl("convolution backward with the kernel's spatial axes transposed, not flipped",
                 "Conv2dKernelTransposed", LayerCase("Conv2d", _kw(
                     {"in_channels": 3, "out_channels": 4, "kernel_size": 3}),
                     ((2, 3, 6, 5),), variant="3x3"),
                 _fails(ORACLES, ("grad_input",))),
    LayerControl("max-pooling gradient sent to every element of the window",
                 "MaxPool2dGradToWholeWindow", LayerCase("MaxPool2d", _kw({"kernel_size": 2}),
                                                         ((2, 3, 6, 6),), kind="distinct",
                                                         variant="2x2"),
                 _fails(ORACLES, ("grad_input",))),
    LayerControl("transposed-convolution backward with its padding off by one pixel",
                 "ConvTranspose2dPaddingOffByOne", LayerCase("ConvTranspose2d", _kw(
                     {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2,
                      "padding": 1, "output_padding": 1}), ((2, 3, 4, 5),),
                     variant="stride2-pad1-outpad1"),
                 _fails(ORACLES, ("grad_input", "weight"))),
    # in the CNN: the second convolution's wrong input gradient reaches only the first
    # convolution's parameters, and the first divergence names the broken layer
    LayerControl("convolution backward with the kernel not flipped, inside the CNN",
                 "Conv2dUnflippedKernel", NetworkCase("cnn", _cnn(False), "cross_entropy",
                                                      (6, 1, 8, 8)),
                 _fails(NETWORK_ORACLES, ("0.weight", "0.bias")), layer_index=3,
                 first_divergence="backward dJ/d(input of 3.Conv2dUnflippedKernel)"),
]



# --------------------------------------------------------------------------------------
# attention and the transformer block (the table lives in comparisons/cases/attention.py)
# --------------------------------------------------------------------------------------
from comparisons.cases.attention import ATTENTION_CASES, attention_controls  # noqa: E402

LAYER_CASES += ATTENTION_CASES
LAYER_CONTROLS += attention_controls()
