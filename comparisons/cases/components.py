"""The case table of activations and losses, in the spirit of PyTorch's OpInfo.

One :class:`ComponentInfo` per activation and per loss carries everything the harness
knows about it:

- ``torch``: torch's own callable (``F.softplus``; a composition of torch ops only where
  torch has no built-in, and then ``torch_note`` says so);
- ``signature_of``: the torch callable or ``torch.nn`` class whose argument names and
  defaults ours must have (``default_differences``: the documented exceptions, with
  reasons; :mod:`comparisons.run.signatures` compares them);
- ``variants``: keyword-argument sets checked besides the defaults (every reduction a loss
  offers is added to each);
- ``samples``: the sample inputs besides ``points`` (see :data:`SAMPLES`): random points,
  the kinks exactly and beside them, the extremes +-1e4, and every shape torch accepts
  (0-d, empty, 3-d, torch's spatial (N, C, d1, d2) for cross-entropy and NLL);
- ``deviations``: documented deviations from torch (strict: the report marks the rows
  ``xfail`` while they deviate, ``xpass`` and a failed run once they no longer do);
- ``bugs``: planted bugs (negative controls), each with the exact set of
  ``(oracle, quantity)`` rows it must fail.

pytest's parametrisation (``tests/test_components.py``), the CLI's ``components.csv``, the
negative controls and the gallery (:data:`PLANTED_BUGS`) are generated from this table;
:mod:`comparisons.cases.registry` gathers it (``COMPONENT_CASES``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import reference
from comparisons.cases.data import EXTREME, KINK_MARGIN, TARGET_SAMPLERS
from comparisons.cases.info import DTYPES
from comparisons.slips.components import (
    ElementwiseSoftmax,
    ELUWithoutAlpha,
    FlippedExponentSigmoid,
    FlippedSigmoid,
    GeluWithoutDensityTerm,
    HuberWrongDefault,
    LeakyAtZeroOne,
    MSEWithoutMean,
    NearlyRightSigmoid,
    NoSmoothingGradient,
    ReLUOneAtZero,
    SoftplusAlwaysCurved,
    SteepHuber,
    TanhNotSquared,
    UnweightedNLLGradient,
)
from manual import activations, losses

__all__ = ["COMPONENTS", "DEFAULT_BUGS", "PLANTED_BUGS", "SAMPLES", "ComponentInfo",
           "DefaultBug", "Deviation", "PlantedBug", "Sample", "sample_inputs"]

Inputs = dict[str, Any]  # {"z": ...} for an activation; {"pred", "target", "extra"} for a loss


# ======================================================================================
# sample inputs
# ======================================================================================
FEATURES = 5  # width of the feature axis of activation inputs (softmax mixes along it)


def _activation_points(act: Any, dtype: np.dtype) -> Inputs:
    """(rows, 5): random N(0, 3^2) rows, then the special points: 0, +-1, the kinks exactly
    (where torch's one-sided choice shows), points KINK_MARGIN beside them, and the
    extremes -1e4, -800, -50, 50, 800, 1e4 (finite, and equal to torch)."""
    rng = np.random.default_rng(0)
    special = [0.0, 1.0, -1.0, -EXTREME, EXTREME, -800.0, -50.0, 50.0, 800.0]
    for k in getattr(act, "kinks", ()):
        special += [k, k - KINK_MARGIN, k + KINK_MARGIN]
    pad = (-len(special)) % FEATURES
    points = np.concatenate([special, 3 * rng.standard_normal(pad)])
    z = np.vstack([3 * rng.standard_normal((6, FEATURES)), points.reshape(-1, FEATURES)])
    return {"z": z.astype(dtype)}


def _shape(shape: tuple[int, ...]) -> Callable[[Any, np.dtype], Inputs]:
    def make(act: Any, dtype: np.dtype) -> Inputs:
        return {"z": (2 * np.random.default_rng(1).standard_normal(shape)).astype(dtype)}
    return make


def _loss_points(loss: Any, dtype: np.dtype, n: int = 6, k: int = 4) -> Inputs:
    """``(pred, target)`` inside the loss's natural domain: predictions N(0, 2^2);
    U(0.02, 0.98) for a loss on probabilities; log-probabilities (a log-softmax) for NLL
    and KL; rates U(0.1, 4) for a Poisson loss on rates. Targets from
    :data:`~comparisons.cases.data.TARGET_SAMPLERS`; for classification, one sample is given
    the ``ignore_index`` label when the case sets one."""
    rng = np.random.default_rng(0)
    pred = _pred_in_domain(loss, rng, (n, k))
    target = TARGET_SAMPLERS[loss.target_kind](rng, n, k, dtype)
    ignore = loss.kwargs.get("ignore_index")
    if ignore is not None and ignore != -100:
        target[1] = ignore
    return {"pred": pred.astype(dtype), "target": target}


def _pred_in_domain(loss: Any, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    lo, hi = loss.natural_range
    if np.isfinite(lo) and np.isfinite(hi):
        return rng.uniform(lo + 0.02 * (hi - lo), hi - 0.02 * (hi - lo), shape)
    if hi == 0:  # log-probabilities along torch's class axis
        z = 2 * rng.standard_normal(shape)
        axis = 0 if len(shape) == 1 else 1 if loss.target_kind == "class_index" else -1
        return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
    if lo == 0:  # rates
        return rng.uniform(0.1, 4.0, shape)
    return 2 * rng.standard_normal(shape)


def _loss_shape(shape: tuple[int, ...]) -> Callable[[Any, np.dtype], Inputs]:
    """An elementwise loss on a 0-d, empty or 3-d prediction (target of the same shape)."""
    def make(loss: Any, dtype: np.dtype) -> Inputs:
        rng = np.random.default_rng(2)
        pred = _pred_in_domain(loss, rng, shape)
        target = TARGET_SAMPLERS[loss.target_kind](rng, int(np.prod(shape)), 1, dtype)
        return {"pred": pred.astype(dtype), "target": target.reshape(shape)}
    return make


def _extreme_logits(loss: Any, dtype: np.dtype) -> Inputs:
    """Logits of +-1e4 beside ordinary ones: finite, and equal to torch."""
    pred = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, 1e4, 1e4, -2.0]], dtype=dtype)
    target = (np.array([0, 2]) if loss.target_kind == "class_index"
              else np.array([[0.0, 1.0, 0.5, 1.0], [1.0, 0.0, 1.0, 0.0]], dtype=dtype))
    return {"pred": pred, "target": target}


def _probability_edges(loss: Any, dtype: np.dtype) -> Inputs:
    """BCE at predictions of exactly 0 and 1: torch clamps each log at -100."""
    pred = np.array([[0.0, 1.0, 0.0, 1.0], [0.5, 0.3, 1.0, 0.0]], dtype=dtype)
    target = np.array([[1.0, 0.0, 0.0, 1.0], [1.0, 0.5, 0.0, 1.0]], dtype=dtype)
    return {"pred": pred, "target": target}


def _probability_targets(shape: tuple[int, ...]) -> Callable[[Any, np.dtype], Inputs]:
    """Cross-entropy with class probabilities of pred's shape (classes on axis 1)."""
    def make(loss: Any, dtype: np.dtype) -> Inputs:
        rng = np.random.default_rng(3)
        pred = 2 * rng.standard_normal(shape)
        other = shape[:1] + shape[2:]
        target = np.moveaxis(rng.dirichlet(np.ones(shape[1]), other), -1, 1)
        return {"pred": pred.astype(dtype), "target": target.astype(dtype)}
    return make


def _labels(shape: tuple[int, ...]) -> Callable[[Any, np.dtype], Inputs]:
    """A class loss on (C,) with a 0-d label, or torch's spatial (N, C, d1, d2)."""
    def make(loss: Any, dtype: np.dtype) -> Inputs:
        rng = np.random.default_rng(4)
        pred = _pred_in_domain(loss, rng, shape)
        axis = 0 if len(shape) == 1 else 1
        target = rng.integers(0, shape[axis], shape[:axis] + shape[axis + 1:])
        ignore = loss.kwargs.get("ignore_index")
        if ignore is not None and ignore != -100 and target.ndim:
            target.flat[1] = ignore
        return {"pred": pred.astype(dtype), "target": target}
    return make


def _var(shape: tuple[int, ...]) -> Callable[[Any, np.dtype], Inputs]:
    """gaussian_nll with an array var in one of torch's layouts for a (4, 4) pred: (4,),
    one variance per row (N = C, where broadcasting along the wrong axis would still run);
    (1, 4), one shared along an axis; (4, 4), one per element. The first entry is below eps
    (clamped, its gradient passing through, as torch); where it applies the target equals
    the prediction, so that the loss stays O(1) and finite differences stay exact."""
    def make(loss: Any, dtype: np.dtype) -> Inputs:
        rng = np.random.default_rng(5)
        pred, target = rng.standard_normal((2, 4, 4)).astype(dtype)
        var = rng.uniform(0.5, 2.0, shape)
        var.flat[0] = 1e-9
        layout = losses.GaussianNLL._var_layout(shape, pred.shape)
        target = np.where(np.broadcast_to(var.reshape(layout), pred.shape) < 1e-6, pred, target)
        return {"pred": pred, "target": target, "extra": {"var": var.astype(dtype)}}
    return make


def _zero_targets(loss: Any, dtype: np.dtype) -> Inputs:
    """kl_div with target probabilities that are exactly 0 (0 log 0 = 0, as torch's xlogy)."""
    inputs = _loss_points(loss, dtype)
    target = inputs["target"].copy()
    target[::2, 1:3] = 0
    inputs["target"] = (target / target.sum(axis=-1, keepdims=True)).astype(dtype)
    return inputs


def _var_float(loss: Any, dtype: np.dtype) -> Inputs:
    """gaussian_nll with a Python-float var other than 1 (one variance for every element)."""
    pred, target = np.random.default_rng(6).standard_normal((2, 3, 4)).astype(dtype)
    return {"pred": pred, "target": target, "extra": {"var": 0.5}}


@dataclass(frozen=True)
class Sample:
    """A named set of sample inputs: ``make(component, dtype) -> inputs``. ``dtypes`` are
    the dtypes it runs in; ``variants`` is ``"all"`` (every keyword-argument variant of
    the component) or ``"plain"`` (the defaults, with every reduction)."""

    name: str
    make: Callable[[Any, np.dtype], Inputs]
    dtypes: tuple[str, ...] = DTYPES
    variants: str = "all"
    #: keyword-argument names torch rejects on this sample (those variants are left out)
    rejects_kwargs: tuple[str, ...] = ()

    def rejects(self, kwargs: dict[str, Any]) -> bool:
        return any(k in kwargs for k in self.rejects_kwargs)


#: every sample the table refers to, by name; ``points`` runs for every component
SAMPLES: dict[str, Sample] = {s.name: s for s in [
    Sample("points", _activation_points),
    Sample("shape-0d", _shape(()), ("float64",), "plain"),
    Sample("shape-empty", _shape((0, 3)), ("float64",), "plain"),
    Sample("shape-3d", _shape((2, 3, 4)), ("float64",)),
    Sample("loss-points", _loss_points),
    Sample("loss-0d", _loss_shape(()), ("float64",), "plain"),
    Sample("loss-empty", _loss_shape((0, 4)), ("float64",), "plain"),
    Sample("loss-3d", _loss_shape((2, 3, 4)), ("float64",), "plain"),
    Sample("extreme-logits", _extreme_logits, variants="plain"),
    Sample("probability-edges", _probability_edges, variants="plain"),
    # torch: "ignore_index is not supported for floating point target"
    Sample("probability-targets", _probability_targets((5, 4)), ("float64",),
           rejects_kwargs=("ignore_index",)),
    Sample("spatial-probability-targets", _probability_targets((2, 4, 1, 2)), ("float64",),
           rejects_kwargs=("ignore_index",)),
    Sample("unbatched", _labels((4,)), ("float64",)),
    Sample("spatial", _labels((2, 4, 1, 2)), ("float64",)),
    Sample("var-per-row", _var((4,)), variants="plain"),
    Sample("var-per-column", _var((1, 4)), ("float64",), "plain"),
    Sample("var-per-element", _var((4, 4)), ("float64",), "plain"),
    Sample("var-float", _var_float, ("float64",), "plain"),
    Sample("zero-targets", _zero_targets, ("float64",), rejects_kwargs=("log_target",)),
]}


def sample_inputs(kind: str, sample: str, component: Any, dtype: Any) -> Inputs:
    """The inputs of ``sample`` for a built component in ``dtype``; ``points`` is the
    default sample of an activation (``loss-points`` of a loss)."""
    if sample == "points" and kind == "loss":
        sample = "loss-points"
    return SAMPLES[sample].make(component, np.dtype(dtype))


# ======================================================================================
# deviations, planted bugs
# ======================================================================================
@dataclass(frozen=True)
class Deviation:
    """A documented deviation from torch: the ``(quantity, oracle)`` row that differs, why,
    and the samples on which it shows (there it must fail, strictly)."""

    parameter: str
    oracle: str
    reason: str
    samples: tuple[str, ...] = ("points",)


@dataclass(frozen=True)
class PlantedBug:
    """A negative control: a deliberately wrong subclass (``broken``, built with
    ``kwargs``), run on ``inputs``, must fail exactly the ``(oracle, quantity)`` rows in
    ``fails`` (and the correct class on the same inputs must pass)."""

    id: str
    broken: type
    inputs: Callable[[np.dtype], Inputs]
    fails: frozenset[tuple[str, str]]
    kwargs: tuple[tuple[str, Any], ...] = ()

    def build(self) -> Any:
        return self.broken(**dict(self.kwargs))

    def correct(self) -> Any:
        return type(self.build()).__mro__[1](**dict(self.kwargs))


@dataclass(frozen=True)
class DefaultBug:
    """A planted wrong default: ``broken`` is the component with ``defaults`` changed; the
    signature check (and the rows against torch) must name ``argument``."""

    id: str
    broken: type
    argument: str


@dataclass(frozen=True)
class ComponentInfo:
    """One activation or loss: its torch callable, constructor, samples, keyword-argument
    variants, documented deviations and planted bugs."""

    kind: str  # "activation" or "loss"
    name: str
    torch: Callable[..., Any]
    #: the torch function or torch.nn class whose argument names and defaults ours follow
    signature_of: Callable[..., Any] | None = None
    torch_note: str = ""  # where torch has no built-in: what ``torch`` composes
    variants: tuple[dict[str, Any], ...] = ()
    samples: tuple[str, ...] = ()
    deviations: tuple[Deviation, ...] = ()
    bugs: tuple[PlantedBug, ...] = ()
    #: argument -> why our default (or its absence) differs from torch's constructor
    default_differences: dict[str, str] = field(default_factory=dict)

    def manual(self, **kwargs: Any) -> Any:
        module = activations if self.kind == "activation" else losses
        return module.get(self.name, **kwargs)


def _z(values: Any) -> Callable[[np.dtype], Inputs]:
    return lambda dtype: {"z": np.asarray(values, dtype=dtype)}


def _pair(make: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
          ) -> Callable[[np.dtype], Inputs]:
    def inputs(dtype: np.dtype) -> Inputs:
        pred, target = make(np.random.default_rng(7))
        return {"pred": pred.astype(dtype), "target": target}
    return inputs


_DERIVATIVE = frozenset({("torch", "derivative"), ("torch", "backward")})
#: a wrong f' fails the torch-free oracles twice: against f, and as the f that f'' derives
_FREE_BOTH = frozenset({(o, q) for o in ("fd", "complex-step")
                        for q in ("derivative", "second_derivative")})
_GRADIENT = frozenset({("torch", "gradient"), ("fd", "gradient"), ("complex-step", "gradient")})

# ---- the table ---------------------------------------------------------------------------
_WEIGHT_6x4 = np.linspace(0.5, 2.0, 24).reshape(6, 4)
_CLASS_WEIGHT = np.array([0.5, 1.0, 2.0, 1.5])
_MISH_DEVIATION = Deviation(
    "second_derivative", "torch",
    "torch's double backward of mish evaluates exp(z) unguarded and returns NaN once it "
    "overflows (z = 1e4 here); ours returns the limit, 0")
_SOFTMAX_DIM = ("torch's dim=None picks a legacy, deprecated dimension (0 for 0-, 1- and 3-d "
                "input, else 1) with a warning; the functions default to the last axis, as "
                "every current torch example passes explicitly; an explicit dim=None takes torch's "
                "legacy choice (the layers in manual.layers keep torch's default dim=None)")
_INPLACE = "NumPy code never overwrites its input: there is nothing to make in-place"
_SPLIT_GELU = ("torch's one approximate='none'|'tanh' argument is two names here, gelu and "
               "gelu_tanh (the layer manual.layers.GELU keeps the argument)")


def _act(name: str, fn: Callable[..., Any], module: str | None = None, **kw: Any
         ) -> ComponentInfo:
    return ComponentInfo("activation", name, fn, getattr(torch.nn, module) if module else None,
                         **kw)


def _loss(name: str, fn: Callable[..., Any], signature_of: Callable[..., Any] | None = None,
          **kw: Any) -> ComponentInfo:
    return ComponentInfo("loss", name, fn, signature_of or (None if "torch_note" in kw else fn),
                         **kw)


_SHAPES = ("shape-0d", "shape-empty", "shape-3d")
_LOSS_SHAPES = ("loss-0d", "loss-empty", "loss-3d")

COMPONENTS: dict[str, ComponentInfo] = {c.name: c for c in [
    _act("identity", torch.nn.Identity(), "Identity", samples=_SHAPES),
    _act("sigmoid", torch.sigmoid, "Sigmoid", samples=_SHAPES, bugs=(
        # sigma'' is built on the (flipped) sigma', so it is wrong against torch but
        # consistent with the flipped derivative under fd and the complex step
        PlantedBug("sigmoid-derivative-flipped", FlippedSigmoid, _z(np.linspace(-3, 3, 11)),
                   _DERIVATIVE | {("torch", "second_derivative"), ("fd", "derivative"),
                                  ("complex-step", "derivative")}),
        PlantedBug("sigmoid-exponent-sign", FlippedExponentSigmoid, _z(np.linspace(-4, 4, 9)),
                   frozenset({("torch", "forward"), ("fd", "derivative"),
                              ("complex-step", "derivative")})),
        # 1e-7 relative: beyond torch's float64 tolerance and the complex step's, within
        # finite differences' 1e-6
        PlantedBug("sigmoid-one-part-in-1e7", NearlyRightSigmoid, _z(np.linspace(-3, 3, 11)),
                   _DERIVATIVE | {("torch", "second_derivative"),
                                  ("complex-step", "derivative")}),
    )),
    _act("tanh", torch.tanh, "Tanh", samples=_SHAPES, bugs=(
        PlantedBug("tanh-derivative-not-squared", TanhNotSquared, _z(np.linspace(-3, 3, 13)),
                   _DERIVATIVE | {("fd", "derivative"), ("complex-step", "derivative"),
                                  ("fd", "second_derivative"),
                                  ("complex-step", "second_derivative")}),
    )),
    _act("relu", torch.relu, "ReLU", samples=_SHAPES,
         default_differences={"inplace": _INPLACE}, bugs=(
             PlantedBug("relu-derivative-at-zero", ReLUOneAtZero,
                        _z([-1.0, -1e-3, 0.0, 1e-3, 1.0]), _DERIVATIVE),
         )),
    _act("leaky_relu", F.leaky_relu, "LeakyReLU", samples=_SHAPES,
         variants=({"negative_slope": 0.2}, {"negative_slope": -0.5}),
         default_differences={"inplace": _INPLACE}, bugs=(
             PlantedBug("leaky_relu-at-0", LeakyAtZeroOne, _z([-1.0, 0.0, 2.0]), _DERIVATIVE),
         )),
    _act("elu", F.elu, "ELU", samples=_SHAPES, variants=({"alpha": 0.5},),
         default_differences={"inplace": _INPLACE}, bugs=(
             PlantedBug("elu-alpha-forgotten", ELUWithoutAlpha, _z([-2.0, -0.5, 0.5, 1.0]),
                        _DERIVATIVE | _FREE_BOTH, (("alpha", 0.5),)),
         )),
    _act("selu", F.selu, "SELU", samples=_SHAPES, default_differences={"inplace": _INPLACE}),
    # alpha = 0.3 is not exact in float32: torch's backward rounds it (reproduced)
    _act("celu", F.celu, "CELU", samples=_SHAPES, variants=({"alpha": 2.0}, {"alpha": 0.3}),
         default_differences={"inplace": _INPLACE}),
    _act("gelu", partial(F.gelu, approximate="none"), "GELU", samples=_SHAPES,
         default_differences={"approximate": _SPLIT_GELU}, bugs=(
             # f'' (right) is no longer the derivative of the (wrong) f' either
             PlantedBug("gelu-product-rule", GeluWithoutDensityTerm, _z(np.linspace(-3, 3, 7)),
                        _DERIVATIVE | _FREE_BOTH),
         )),
    _act("gelu_tanh", partial(F.gelu, approximate="tanh"), "GELU", samples=_SHAPES,
         default_differences={"approximate": _SPLIT_GELU}),
    _act("softplus", F.softplus, "Softplus", samples=_SHAPES,
         # any real beta, as torch: beta < 0 mirrors the curve, beta = 0 gives log 2 / 0 = inf
         variants=({"beta": 2.0, "threshold": 5.0}, {"beta": -1.0},
                   {"beta": -2.0, "threshold": 5.0}, {"beta": 0.0}), bugs=(
             # above the threshold f = z: the torch-free oracles see f' = 1 and f'' = 0 there
             PlantedBug("softplus-threshold", SoftplusAlwaysCurved,
                        _z([-1.0, 0.5, 2.5, 30.0]), _DERIVATIVE | _FREE_BOTH,
                        (("threshold", 2.0),)),
         )),
    _act("silu", F.silu, "SiLU", samples=_SHAPES, default_differences={"inplace": _INPLACE}),
    _act("mish", F.mish, "Mish", samples=_SHAPES, default_differences={"inplace": _INPLACE},
         deviations=(_MISH_DEVIATION,)),
    _act("softsign", F.softsign, "Softsign", samples=_SHAPES),
    _act("hardtanh", F.hardtanh, "Hardtanh", samples=_SHAPES,
         variants=({"min_val": -2.0, "max_val": 3.0}, {"min_val": 0.5, "max_val": 0.5}),
         default_differences={
             "inplace": _INPLACE,
             "min_value": "deprecated torch alias of min_val", "max_value":
             "deprecated torch alias of max_val"}),
    _act("hardsigmoid", F.hardsigmoid, "Hardsigmoid", samples=_SHAPES,
         default_differences={"inplace": _INPLACE}),
    _act("hardswish", F.hardswish, "Hardswish", samples=_SHAPES,
         default_differences={"inplace": _INPLACE}),
    _act("relu6", F.relu6, "ReLU6", samples=_SHAPES, default_differences={"inplace": _INPLACE}),
    _act("logsigmoid", F.logsigmoid, "LogSigmoid", samples=_SHAPES),
    _act("tanhshrink", F.tanhshrink, "Tanhshrink", samples=_SHAPES),
    _act("lecun_tanh", reference.activations.lecun_tanh, None, samples=_SHAPES,
         torch_note="torch has no built-in: LeCun et al. (1998) define it as 1.7159 tanh(2z/3), "
                    "composed here from torch.tanh (cross-checked with finite differences)"),
    _act("softmax", F.softmax, "Softmax", samples=_SHAPES,
         variants=({"dim": 0}, {"dim": 1}), default_differences={"dim": _SOFTMAX_DIM},
         bugs=(PlantedBug("softmax-elementwise", ElementwiseSoftmax,
                          lambda dtype: {"z": np.random.default_rng(5).standard_normal(
                              (3, 4)).astype(dtype)},
                          frozenset({("torch", "backward")})),)),
    _act("log_softmax", F.log_softmax, "LogSoftmax", samples=_SHAPES,
         variants=({"dim": 0}, {"dim": 1}), default_differences={"dim": _SOFTMAX_DIM}),
    _act("softshrink", F.softshrink, "Softshrink", samples=_SHAPES, variants=({"lambd": 1.0},)),
    _act("softmin", F.softmin, "Softmin", samples=_SHAPES,
         variants=({"dim": 0}, {"dim": 1}), default_differences={"dim": _SOFTMAX_DIM}),
    # ---- losses ----
    # all-zero weights: torch's weighted mean is 0/0, NaN, and so is its gradient
    _loss("mse", F.mse_loss, samples=_LOSS_SHAPES,
          variants=({"weight": _WEIGHT_6x4}, {"weight": np.zeros((6, 4))}), bugs=(
        PlantedBug("mean-forgotten", MSEWithoutMean,
                   _pair(lambda rng: tuple(rng.standard_normal((2, 4, 3)))), _GRADIENT),
    )),
    _loss("sse", reference.losses.sse, samples=_LOSS_SHAPES,
          torch_note="torch has no built-in: J = 1/2 sum (y - yhat)^2 is torch's own "
                     "F.mse_loss(reduction='sum') / 2 (cross-checked with finite differences)"),
    _loss("quadratic", reference.losses.quadratic, samples=_LOSS_SHAPES,
          torch_note="torch has no built-in: C = 1/(2N) sum_n ||yhat_n - y_n||^2 with N the "
                     "number of rows, F.mse_loss(reduction='sum') / 2 / N (cross-checked with "
                     "finite differences)"),
    _loss("mae", F.l1_loss, samples=_LOSS_SHAPES,
          variants=({"weight": _WEIGHT_6x4}, {"weight": np.zeros((6, 4))})),
    _loss("huber", F.huber_loss, samples=_LOSS_SHAPES,
          variants=({"delta": 0.5}, {"weight": _WEIGHT_6x4}), bugs=(
              PlantedBug("huber-wrong-slope", SteepHuber,
                         _pair(lambda rng: tuple(2 * rng.standard_normal((2, 6, 4)))),
                         _GRADIENT, (("delta", 0.5),)),
          )),
    _loss("smooth_l1", F.smooth_l1_loss, samples=_LOSS_SHAPES,
          variants=({"beta": 0.5}, {"beta": 0.0})),
    _loss("gaussian_nll", F.gaussian_nll_loss,
          samples=_LOSS_SHAPES + ("var-per-row", "var-per-column", "var-per-element",
                                  "var-float"),
          variants=({"full": True},)),
    _loss("poisson_nll", F.poisson_nll_loss, samples=_LOSS_SHAPES,
          variants=({"log_input": False}, {"full": True})),
    _loss("bce", F.binary_cross_entropy, samples=_LOSS_SHAPES + ("probability-edges",),
          variants=({"weight": _CLASS_WEIGHT},)),
    _loss("bce_with_logits", F.binary_cross_entropy_with_logits,
          samples=_LOSS_SHAPES + ("extreme-logits",),
          variants=({"pos_weight": np.array([0.5, 1.0, 2.0, 3.0])},
                    {"weight": _CLASS_WEIGHT, "pos_weight": np.array([2.0, 1.0, 1.0, 0.5])})),
    _loss("cross_entropy", F.cross_entropy,
          samples=("extreme-logits", "probability-targets", "spatial-probability-targets",
                   "unbatched", "spatial"),
          variants=({"weight": _CLASS_WEIGHT}, {"ignore_index": 2}, {"label_smoothing": 0.1},
                    {"weight": _CLASS_WEIGHT, "ignore_index": 0, "label_smoothing": 0.2},
                    {"weight": np.zeros(4)}),  # 0/0: NaN, as torch
          bugs=(PlantedBug("ce-smoothing-forgotten", NoSmoothingGradient,
                           _pair(lambda rng: (rng.standard_normal((6, 4)),
                                              rng.integers(0, 4, 6))),
                           _GRADIENT, (("label_smoothing", 0.2),)),)),
    _loss("nll", F.nll_loss, samples=("unbatched", "spatial"),
          variants=({"weight": _CLASS_WEIGHT}, {"ignore_index": 1}, {"weight": np.zeros(4)}),
          bugs=(PlantedBug("nll-weight-dropped", UnweightedNLLGradient,
                           _pair(lambda rng: (-rng.uniform(0.1, 3, (6, 4)),
                                              rng.integers(0, 4, 6))),
                           _GRADIENT, (("weight", _CLASS_WEIGHT),)),)),
    _loss("kl_div", reference.losses.kl_div, F.kl_div, samples=_LOSS_SHAPES + ("zero-targets",),
          variants=({"reduction": "batchmean"}, {"log_target": True})),
    _loss("multi_margin", F.multi_margin_loss, samples=("unbatched",),
          variants=({"p": 2}, {"margin": 0.5}, {"weight": _CLASS_WEIGHT},
                    {"p": 2, "weight": np.array([0.5, 2.0, 3.0, 1.0])})),
]}

#: planted bugs across the table, by id (the gallery and the negative controls use these)
PLANTED_BUGS: dict[str, PlantedBug] = {b.id: b for c in COMPONENTS.values() for b in c.bugs}

#: planted wrong defaults: the signature check must catch each
DEFAULT_BUGS: tuple[DefaultBug, ...] = (DefaultBug("huber-delta-1.5", HuberWrongDefault, "delta"),)

# the loss modules (torch.nn.MSELoss, ...) hold the same defaults as F's functions; the F
# function's signature is the one compared (it has no deprecated constructor-only arguments)
_LOSS_SIGNATURE_EXTRAS = {"size_average": "deprecated torch argument (use reduction)",
                          "reduce": "deprecated torch argument (use reduction)"}
for _info in COMPONENTS.values():
    if _info.kind == "loss":
        _info.default_differences.update(_LOSS_SIGNATURE_EXTRAS)
_gnll = COMPONENTS["gaussian_nll"].default_differences
_gnll["var"] = ("torch's third input, here a keyword of forward/backward with default 1.0 "
                "(unit variance), so that the loss fits the two-argument loss protocol")

#: where we deliberately stay stricter than torch: (component, argument or input) -> why.
#: Each is a documented, tested choice (tests/test_torch_agreement.py); the property tests
#: (tests/test_properties.py) allow exactly these "we reject, torch computes" outcomes.
STRICTER_THAN_TORCH: dict[tuple[str, str], str] = {
    ("poisson_nll", "eps"): "eps guards log(rate + eps); a negative eps can only make the log "
                            "undefined, torch computes with it anyway",
    ("gaussian_nll", "eps"): "eps is the floor var is clamped at; a negative floor means no "
                             "clamp, which is what eps exists to prevent",
    ("cross_entropy", "label_smoothing"): "a negative smoothing is not a distribution; torch "
                                          "rejects only values above 1",
    ("kl_div", "target"): "probability targets must be >= 0 (torch returns NaN for a "
                          "negative one)",
    ("poisson_nll", "target"): "counts must be >= 0 (torch computes a meaningless loss)",
    ("*", "target shape"): "pred and target must have the same shape: torch broadcasts them "
                           "with only a warning, the classic silent (N,) vs (N, 1) bug "
                           "(gaussian_nll, whose torch documentation allows a target that "
                           "broadcasts to pred's shape, takes one)",
    ("*", "non-finite target"): "a NaN or inf target is reported with its index at the API "
                                "boundary, where torch propagates NaN",
}
__all__ += ["STRICTER_THAN_TORCH"]
