"""The one registry of cases. pytest's parametrisation, the CLI and the CSV report all
read from here, so a case added here shows up everywhere.

The gradient matrix is every activation x every loss x every architecture x every
dtype, built from :func:`manual.activations.names` and :func:`manual.losses.names`:
a new activation or loss joins it by being registered. The activation is used in
every layer, the output included; a pair whose outputs can leave the loss's domain
(``relu`` feeding ``bce``) is skipped by the one rule in :func:`incompatibility`,
and the report lists each skipped pair with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np

from manual import activations, losses

__all__ = ["ARCHITECTURES", "CASES", "COMPONENT_CASES", "COMPONENT_VARIANTS", "DTYPES",
           "KNOWN_DEVIATIONS", "SKIPPED", "Case", "ComponentCase", "Skipped", "by_id",
           "incompatibility"]

DTYPES = ("float64", "float32")
N_CLASSES = 3  # output width of the matrix networks (cross-entropy needs >= 2)

#: hidden widths; the input width is the first entry, the output width comes from the loss
ARCHITECTURES: dict[str, tuple[int, ...]] = {
    "small": (4, 6),
    "deep": (5, 8, 8, 6),
}


@dataclass(frozen=True)
class Case:
    """One network comparison: architecture, activations, loss, dtype and seed."""

    activation: str
    loss: str
    arch: str
    dtype: str
    sizes: tuple[int, ...]
    output_activation: str | None = None  # None: the same as ``activation``
    seed: int = 0
    n_samples: int = 8
    loss_kwargs: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def out_activation(self) -> str:
        return self.output_activation or self.activation

    @property
    def id(self) -> str:
        """Readable test id, e.g. ``sigmoid-mse-small-float64``."""
        act = self.activation if self.output_activation in (None, self.activation) else (
            f"{self.activation}+{self.output_activation}")
        return f"{act}-{self.loss}-{self.arch}-{self.dtype}"

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def build(self):
        """The manual network of this case (its parameters seeded by ``seed``)."""
        from manual import MLP

        return MLP(list(self.sizes), self.activation, self.out_activation, self.loss,
                   seed=self.seed, dtype=self.np_dtype, loss_kwargs=dict(self.loss_kwargs))


@dataclass(frozen=True)
class Skipped:
    """A pair of the matrix that cannot be run, and why."""

    activation: str
    loss: str
    reason: str


def incompatibility(activation: str, loss: str, n_out: int = N_CLASSES) -> str | None:
    """Why ``activation`` at the output cannot feed ``loss`` (None if it can).

    The one rule: the activation's output range must lie inside the loss's natural
    input range (``natural_range``: [0, 1] for BCE, (-inf, 0] for the log-probabilities
    of NLL and KL), and classification losses need at least two outputs.
    """
    act = activations.get(activation)
    lo, hi = act.output_range
    loss_cls = losses.get(loss)
    p_lo, p_hi = loss_cls.natural_range
    if lo < p_lo or hi > p_hi:
        return (f"{loss} needs predictions in [{p_lo:g}, {p_hi:g}] but {activation} outputs "
                f"span [{lo:g}, {hi:g}]")
    if loss_cls.target_kind == "class_index" and n_out < 2:
        return f"{loss} needs at least 2 outputs, the network has {n_out}"
    return None


def _matrix() -> tuple[list[Case], list[Skipped]]:
    cases: list[Case] = []
    skipped: list[Skipped] = []
    for act, loss in product(activations.names(), losses.names()):
        reason = incompatibility(act, loss)
        if reason:
            skipped.append(Skipped(act, loss, reason))
            continue
        for arch, dtype in product(ARCHITECTURES, DTYPES):
            sizes = ARCHITECTURES[arch] + (N_CLASSES,)
            cases.append(Case(act, loss, arch, dtype, sizes))
    return cases, skipped


def _classics() -> list[Case]:
    """Named textbook networks, outside the matrix."""
    return [
        # the classic 3-2-1 network: inputs x1..x3, hidden units 4 and 5, output unit 6,
        # sigmoid everywhere, J = 1/2 sum (y - h(x))^2
        Case("sigmoid", "sse", "classic321", dtype, (3, 2, 1), n_samples=4)
        for dtype in DTYPES
    ] + [
        # the usual classifier: ReLU hidden layers, linear logits, cross-entropy
        Case("relu", "cross_entropy", "deep", dtype, ARCHITECTURES["deep"] + (N_CLASSES,),
             output_activation="identity")
        for dtype in DTYPES
    ]


_MATRIX, SKIPPED = _matrix()
CASES: list[Case] = _MATRIX + _classics()


# --------------------------------------------------------------------------------------
# single activations and losses, each compared on its own
# --------------------------------------------------------------------------------------
def _short(value: Any) -> str:
    """A keyword value as it appears in an id: arrays as 'array4'."""
    return f"array{np.size(value)}" if isinstance(value, np.ndarray) else str(value)


@dataclass(frozen=True)
class ComponentCase:
    """One activation or loss, with keyword arguments, in one dtype."""

    kind: str  # "activation" or "loss"
    name: str
    dtype: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        """e.g. ``sigmoid-float64``, ``mse-reduction=sum-float32``."""
        args = "".join(f"-{k}={_short(v)}" for k, v in self.kwargs)
        return f"{self.name}{args}-{self.dtype}"

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def build(self):
        module = activations if self.kind == "activation" else losses
        return module.get(self.name, **dict(self.kwargs))


#: Documented deviations from torch, (activation or loss name, row parameter, oracle) ->
#: reason. These rows are expected to FAIL, strictly: the report marks them ``xfail``,
#: and one that starts passing (``xpass``, say after a torch fix) fails the run.
KNOWN_DEVIATIONS: dict[tuple[str, str, str], str] = {
    ("mish", "second_derivative", "torch"): (
        "torch's double backward of mish evaluates exp(z) unguarded and returns NaN once it "
        "overflows (z = 1e4 here); ours returns the limit, 0"),
}

#: name -> extra keyword-argument sets checked besides the defaults (torch's names)
COMPONENT_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "leaky_relu": [{"negative_slope": 0.2}, {"negative_slope": -0.5}],
    "elu": [{"alpha": 0.5}],
    "celu": [{"alpha": 2.0}],
    "softplus": [{"beta": 2.0, "threshold": 5.0}],
    "hardtanh": [{"min_val": -2.0, "max_val": 3.0}],
    "softshrink": [{"lambd": 1.0}],
    "softmax": [{"dim": 0}],
    "log_softmax": [{"dim": 0}],
    "mse": [{"weight": np.linspace(0.5, 2.0, 24).reshape(6, 4)}],
    "mae": [{"weight": np.linspace(0.5, 2.0, 24).reshape(6, 4)}],
    "huber": [{"delta": 0.5}, {"weight": np.linspace(0.5, 2.0, 24).reshape(6, 4)}],
    "smooth_l1": [{"beta": 0.5}, {"beta": 0.0}],
    "gaussian_nll": [{"full": True}],
    "poisson_nll": [{"log_input": False}, {"full": True}],
    "bce": [{"weight": np.array([0.5, 1.0, 2.0, 1.5])}],
    "bce_with_logits": [{"pos_weight": np.array([0.5, 1.0, 2.0, 3.0])},
                        {"weight": np.array([0.5, 1.0, 2.0, 1.5]),
                         "pos_weight": np.array([2.0, 1.0, 1.0, 0.5])}],
    "cross_entropy": [{"weight": np.array([0.5, 1.0, 2.0, 1.5])}, {"ignore_index": 2},
                      {"label_smoothing": 0.1},
                      {"weight": np.array([0.5, 1.0, 2.0, 1.5]), "ignore_index": 0,
                       "label_smoothing": 0.2}],
    "nll": [{"weight": np.array([0.5, 1.0, 2.0, 1.5])}, {"ignore_index": 1}],
    "kl_div": [{"reduction": "batchmean"}, {"log_target": True}],
    "multi_margin": [{"p": 2}, {"margin": 0.5}, {"weight": np.array([0.5, 1.0, 2.0, 1.5])}],
}


def _component_cases() -> list[ComponentCase]:
    cases = []
    for kind, module in (("activation", activations), ("loss", losses)):
        for name in module.names():
            variants = [{}] + COMPONENT_VARIANTS.get(name, [])
            if kind == "loss":  # every reduction torch offers for this loss
                reductions = module.get(name).reductions
                if "reduction" in module.get(name).kwargs:
                    variants += [{**v, "reduction": r} for v in variants for r in reductions
                                 if r != "mean" and "reduction" not in v]
            for kwargs, dtype in product(variants, DTYPES):
                cases.append(ComponentCase(kind, name, dtype, tuple(kwargs.items())))
    return cases


COMPONENT_CASES: list[ComponentCase] = _component_cases()


def by_id(case_id: str) -> Case:
    """The case with this id (ValueError listing close matches otherwise)."""
    for case in CASES:
        if case.id == case_id:
            return case
    close = [c.id for c in CASES if case_id.split("-")[0] in c.id][:10] or [
        c.id for c in CASES[:5]]
    raise ValueError(f"unknown case {case_id!r}; e.g. {', '.join(close)}")
