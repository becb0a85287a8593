"""The record of a layer, :class:`LayerInfo`, and the records it holds: sample cases
(:class:`LayerCase`, :class:`NetworkCase`), negative controls (:class:`LayerControl`) and
benchmark workloads (:class:`LayerBench`, :class:`Workload`, :class:`BenchCase`).

As PyTorch's ``torch/testing/_internal/common_modules.py`` keeps one ``ModuleInfo`` per
module, the suite keeps one :class:`LayerInfo` per manual layer class; the one list of them,
:data:`comparisons.cases.catalog.LAYER_INFOS`, drives pytest, the CLI (``--list``,
``layers.csv``, ``controls.csv``), the torch twins (:mod:`comparisons.run.bridge`), the
signature check (:mod:`comparisons.run.signatures`) and the benchmark. The functions at the end
(:func:`cases_of`, :func:`controls_of`, …) read any such list, so that a test can hand
them a list with one more record.

This module holds data and the functions that draw a case's inputs; importing it changes
nothing anywhere else.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["DTYPES", "INPUT_KINDS", "LAYER_SETUPS", "LAYER_ORACLES", "NETWORK_ORACLES", "BenchCase",
           "LayerBench", "LayerCase", "LayerControl", "LayerInfo", "NetworkCase", "Workload",
           "cases_of", "controls_of", "fails", "layer_cases", "networks_of", "pytest_params",
           "slips_of", "syncs_of", "twins_of", "workloads_of"]

#: the dtypes every case runs in
DTYPES = ("float64", "float32")
#: the oracles of a single layer, in report order: torch's autograd under the same random
#: upstream gradient, central finite differences, the Taylor-remainder test
LAYER_ORACLES = ("torch", "fd", "taylor")
#: the oracles of a network (:func:`comparisons.run.networks.compare_network`), in report
#: order: torch's autograd through the loss, torch's vector-Jacobian product of the network
#: under a random upstream gradient, central finite differences, the Taylor-remainder test
NETWORK_ORACLES = ("torch", "vjp", "fd", "taylor")
N_TOKENS = 6  # num_embeddings of the embedding cases: the "tokens" input kind draws below it


# --------------------------------------------------------------------------------------
# how a case's inputs are drawn, and what is set on a freshly built layer
# --------------------------------------------------------------------------------------
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


def _saturating(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal x 10: gate pre-activations of several units, sigmoid' ~ 1e-4."""
    return 10 * rng.standard_normal(shape)


#: input kind -> draw(rng, shape) (float64; cast to the case's dtype unless integer)
INPUT_KINDS: Mapping[str, Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]] = (
    MappingProxyType({"normal": _normal, "distinct": _distinct, "ties": _ties,
                      "constant-channel": _constant_channel, "tokens": _tokens,
                      "saturating": _saturating}))


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


#: setup name -> ``setup(layer, rng)``, run on a case's freshly built layer: state that no
#: constructor argument gives (batch norm's affine parameters away from torch's 1 and 0,
#: running statistics as after some training)
LAYER_SETUPS: Mapping[str, Callable[[Any, np.random.Generator], None]] = MappingProxyType(
    {"affine": _random_affine, "stats": _trained_stats})


def _kw(config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(config.items())


def _build_layer(name: str, config: tuple[tuple[str, Any], ...], dtype: str, seed: int,
                 factory: Callable[..., Any] | None = None) -> Any:
    if factory is None:
        from manual import layers

        factory = getattr(layers, name)
    kwargs = dict(config)
    params = inspect.signature(factory).parameters
    if "dtype" in params:
        kwargs["dtype"] = np.dtype(dtype)
    if "rng" in params:
        kwargs["rng"] = seed
    return factory(**kwargs)


# --------------------------------------------------------------------------------------
# sample cases and negative controls
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerCase:
    """One layer compared with its torch module on seeded inputs.

    ``layer`` names the class (the id's first part); ``cls`` is the class itself when the
    record gives it (:func:`layer_cases`), else ``manual.layers.<layer>`` is built."""

    layer: str  # class name (in manual.layers, and torch.nn when the twin is generic)
    config: tuple[tuple[str, Any], ...] = ()  # torch constructor arguments
    shapes: tuple[tuple[int, ...], ...] = ((4, 5),)  # one shape per forward input
    dtype: str = "float64"
    kind: str | tuple[str, ...] = "normal"  # INPUT_KINDS, one for all inputs or one each
    seed: int = 0
    exhaustive: bool = False
    variant: str = ""  # readable id part: "stride2-pad1"
    oracles: tuple[str, ...] = LAYER_ORACLES
    mode: str = "train"  # "train" or "eval"
    setup: str = ""  # a key of LAYER_SETUPS: run on the built layer (random affine, stats)
    cls: type | None = field(default=None, compare=False, repr=False)

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
        layer = _build_layer(self.layer, self.config, self.dtype, self.seed,
                             factory or self.cls)
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
    """A negative control: a deliberately broken layer (``broken``, a class: a subclass of
    the correct one, from a ``*_slips`` module) in place of the correct one in ``case``
    must fail exactly the rows ``fails`` ((oracle, parameter) pairs); the correct layer
    passes. For a network case, ``layer_index`` says which layer is replaced and
    ``first_divergence`` what the torch rows must name."""

    slip: str  # what went wrong, in words
    broken: type
    case: Any  # a LayerCase (or a subclass: attention, recurrent) or a NetworkCase
    fails: frozenset[tuple[str, str]]
    layer_index: int | None = None
    first_divergence: str = ""

    @property
    def id(self) -> str:
        return f"{self.broken.__name__}-{self.case.id}"


def fails(oracles: Iterable[str], params: Iterable[str]) -> frozenset[tuple[str, str]]:
    """Every (oracle, parameter) pair: the rows a control must fail."""
    params = tuple(params)
    return frozenset((o, p) for o in oracles for p in params)


def layer_cases(layer: str | type, variants: list[tuple[str, dict[str, Any], tuple,
                                                        dict[str, Any]]],
                dtypes: tuple[str, ...] = DTYPES) -> list[LayerCase]:
    """``LayerCase`` for every (variant, config, shapes, extra fields) x dtype; ``layer``
    is the class (or, for a ``manual.layers`` class, its name)."""
    name, cls = (layer, None) if isinstance(layer, str) else (layer.__name__, layer)
    return [LayerCase(name, _kw(config), shapes, dtype, variant=variant, cls=cls, **extra)
            for variant, config, shapes, extra in variants for dtype in dtypes]


# --------------------------------------------------------------------------------------
# benchmark workloads
# --------------------------------------------------------------------------------------
@dataclass
class Workload:
    """Both sides of one benchmark case, built and ready to call."""

    manual: Callable[[], object]
    torch: Callable[[], object]
    #: floating-point operations of the manual call's matrix products (0: not counted)
    flops: float = 0.0


@dataclass(frozen=True)
class BenchCase:
    """One row per dtype of the benchmark table.

    ``make(dtype, batch)`` builds a :class:`Workload` (``batch`` is ``--batch``, scaled by
    the case); ``memory(dtype, batch)`` estimates the bytes it holds, checked against the
    free memory before any work starts."""

    name: str
    make: Callable[[np.dtype, int], Workload]
    memory: Callable[[np.dtype, int], float]
    dtypes: tuple[str, ...] = DTYPES


#: ``twin(layer, dtype) -> torch module``: :func:`comparisons.run.bridge.torch_twin`, handed to
#: a layer's workload by the benchmark (the records sit below the bridge)
TwinFn = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class LayerBench:
    """A layer's benchmark workload: ``make(dtype, batch, twin)`` builds the
    :class:`Workload`, with ``twin`` the function that builds a manual layer's torch twin;
    ``memory(dtype, batch)`` estimates its bytes."""

    name: str
    make: Callable[[np.dtype, int, TwinFn], Workload]
    memory: Callable[[np.dtype, int], float]
    dtypes: tuple[str, ...] = DTYPES

    def bench_case(self, twin: TwinFn) -> BenchCase:
        """The benchmark's row, with ``twin`` bound."""
        return BenchCase(self.name, lambda dtype, batch: self.make(dtype, batch, twin),
                         self.memory, self.dtypes)


# --------------------------------------------------------------------------------------
# the record
# --------------------------------------------------------------------------------------
#: ``build(layer, torch_dtype) -> nn.Module``; ``sync(layer, module, torch_inputs,
#: torch_outputs)``
TwinBuilder = Callable[[Any, Any], Any]
TwinSync = Callable[[Any, Any, tuple, Any], None]
#: ``slips(layer, inputs, dout, grads) -> {row name: {text: gradient}}``
LayerSlips = Callable[[Any, tuple, Any, dict], dict]


@dataclass(frozen=True)
class LayerInfo:
    """Everything the suite knows about one manual layer class.

    Parameters
    ----------
    manual
        The manual class (``manual.layers.Conv2d``, or a class of :mod:`comparisons`
        wrapping one, such as the attention calls).
    twin
        How to build its torch twin, ``twin(layer, torch_dtype) -> nn.Module``; ``None``:
        ``getattr(torch.nn, name)(**layer.config, dtype=...)``. The parameters and
        buffers are copied in by name afterwards unless the builder sets
        ``module._manual_state_loaded = True``.
    sync
        ``sync(layer, module, torch_inputs, torch_outputs)``, called after torch's
        forward and before the manual one: for what torch draws and NumPy cannot
        reproduce (a dropout mask).
    cases
        Its sample cases: shapes, options, dtypes, input kinds, modes.
    networks
        ``Sequential`` networks with a loss that exercise it.
    controls
        Its negative controls: broken subclasses (class references) and the rows they
        must fail.
    signature_of
        The torch class whose constructor it follows (``None``: ``torch.nn.<name>`` when
        there is one; no signature check otherwise).
    signature_differences
        Its documented differences from that signature: argument -> reason.
    benchmarks
        Its benchmark workloads.
    slips
        ``slips(layer, inputs, dout, grads) -> {row: {text: gradient}}``: the gradients
        of slips that only this layer's context can compute (an embedding's rows
        overwritten at repeated indices), for the rows (``weight``, ``grad_input``) of a
        failing comparison; named by :func:`comparisons.core.diagnosis.likely_slip` only
        where one explains the manual array exactly. ``grads``: the manual layer's.
    """

    manual: type
    twin: TwinBuilder | None = None
    sync: TwinSync | None = None
    cases: tuple[Any, ...] = ()
    networks: tuple[NetworkCase, ...] = ()
    controls: tuple[LayerControl, ...] = ()
    signature_of: Any = None
    signature_differences: Mapping[str, str] = field(default_factory=dict)
    benchmarks: tuple[LayerBench, ...] = ()
    slips: LayerSlips | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.manual, type):
            raise TypeError(f"LayerInfo.manual must be a class, got {self.manual!r}")
        for c in self.controls:
            if not (isinstance(c.broken, type) and issubclass(c.broken, self.manual)):
                raise TypeError(f"LayerInfo({self.name}): control {c.slip!r} breaks "
                                f"{c.broken!r}, which is not a subclass of {self.name}")

    @property
    def name(self) -> str:
        """The class name: what the twin is looked up by, and the cases' ``layer``."""
        return self.manual.__name__


# --------------------------------------------------------------------------------------
# what the consumers read from a list of records
# --------------------------------------------------------------------------------------
def cases_of(infos: Iterable[LayerInfo]) -> list[Any]:
    """Every layer case, record by record."""
    return [c for info in infos for c in info.cases]


def networks_of(infos: Iterable[LayerInfo]) -> list[NetworkCase]:
    """Every network case, record by record."""
    return [n for info in infos for n in info.networks]


def controls_of(infos: Iterable[LayerInfo]) -> list[LayerControl]:
    """Every negative control, record by record."""
    return [c for info in infos for c in info.controls]


def twins_of(infos: Iterable[LayerInfo]) -> dict[str, TwinBuilder]:
    """class name -> twin builder, for the records that have one."""
    return {info.name: info.twin for info in infos if info.twin is not None}


def syncs_of(infos: Iterable[LayerInfo]) -> dict[str, TwinSync]:
    """class name -> post-forward sync, for the records that have one."""
    return {info.name: info.sync for info in infos if info.sync is not None}


def slips_of(infos: Iterable[LayerInfo]) -> dict[str, LayerSlips]:
    """class name -> the record's slip hypotheses, for the records that have them."""
    return {info.name: info.slips for info in infos if info.slips is not None}


def workloads_of(infos: Iterable[LayerInfo]) -> list[LayerBench]:
    """Every benchmark workload, record by record."""
    return [w for info in infos for w in info.benchmarks]


def pytest_params(items: Iterable[Any]) -> list[Any]:
    """``pytest.param(item, id=item.id)`` for each case or control, the exhaustive ones
    marked ``exhaustive`` (run with ``pytest -m exhaustive``)."""
    import pytest

    return [pytest.param(c, id=c.id,
                         marks=[pytest.mark.exhaustive] if getattr(c, "exhaustive", False)
                         else [])
            for c in items]
