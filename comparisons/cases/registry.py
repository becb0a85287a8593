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

from comparisons.cases.components import (
    COMPONENTS,
    PLANTED_BUGS,
    SAMPLES,
    ComponentInfo,
    sample_inputs,
)
from comparisons.cases.info import DTYPES
from manual import activations, losses

__all__ = ["ARCHITECTURES", "CASES", "COMPONENTS", "COMPONENT_CASES", "COMPONENT_VARIANTS",
           "PLANTED_BUGS",
           "KNOWN_DEVIATIONS", "SKIPPED", "Case", "ComponentCase", "Skipped", "by_id",
           "incompatibility"]

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
    """A keyword value as it appears in an id: arrays as 'array4' ('zeros4' when all 0)."""
    if isinstance(value, np.ndarray):
        return f"{'array' if np.any(value) else 'zeros'}{np.size(value)}"
    return str(value)


@dataclass(frozen=True)
class ComponentCase:
    """One activation or loss, with keyword arguments, on one sample of the case table
    (:data:`comparisons.cases.components.SAMPLES`), in one dtype."""

    kind: str  # "activation" or "loss"
    name: str
    dtype: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    sample: str = "points"

    @property
    def id(self) -> str:
        """e.g. ``sigmoid-float64``, ``mse-reduction=sum-float32``,
        ``cross_entropy-weight=array4-spatial-float64`` (the sample is named unless it is
        the default, ``points``)."""
        args = "".join(f"-{k}={_short(v)}" for k, v in self.kwargs)
        sample = "" if self.sample == "points" else f"-{self.sample}"
        return f"{self.name}{args}{sample}-{self.dtype}"

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    @property
    def info(self) -> ComponentInfo:
        """The case table's entry for this component."""
        return COMPONENTS[self.name]

    def build(self):
        module = activations if self.kind == "activation" else losses
        return module.get(self.name, **dict(self.kwargs))

    def inputs(self) -> dict[str, Any]:
        """The sample inputs (``z``, or ``pred``, ``target`` and ``extra``)."""
        return sample_inputs(self.kind, self.sample, self.build(), self.dtype)

    def deviations(self) -> dict[tuple[str, str], str]:
        """(quantity, oracle) -> reason, for the documented deviations this sample shows."""
        return {(d.parameter, d.oracle): d.reason for d in self.info.deviations
                if self.sample in d.samples}


#: Documented deviations from torch, (activation or loss name, row parameter, oracle) ->
#: reason, gathered from the case table. These rows are expected to FAIL, strictly: the
#: report marks them ``xfail``, and one that starts passing (``xpass``, say after a torch
#: fix) fails the run.
KNOWN_DEVIATIONS: dict[tuple[str, str, str], str] = {
    (name, d.parameter, d.oracle): d.reason
    for name, info in COMPONENTS.items() for d in info.deviations}

#: name -> extra keyword-argument sets checked besides the defaults (torch's names), from
#: the case table
COMPONENT_VARIANTS: dict[str, list[dict[str, Any]]] = {
    name: [dict(v) for v in info.variants] for name, info in COMPONENTS.items() if info.variants}


def _with_reductions(kind: str, name: str, variants: list[dict[str, Any]]
                     ) -> list[dict[str, Any]]:
    """Each variant of a loss, also with every other reduction torch offers for it."""
    if kind != "loss" or "reduction" not in losses.get(name).kwargs:
        return variants
    return variants + [{**v, "reduction": r} for v in variants
                       for r in losses.get(name).reductions if r != "mean" and "reduction" not in v]


def _component_cases() -> list[ComponentCase]:
    cases = []
    for kind, module in (("activation", activations), ("loss", losses)):
        for name in module.names():
            info = COMPONENTS[name]
            everything = _with_reductions(kind, name, [{}] + COMPONENT_VARIANTS.get(name, []))
            plain = _with_reductions(kind, name, [{}])
            for sample_name in ("points", *info.samples):
                sample = SAMPLES[sample_name]
                for kwargs in everything if sample.variants == "all" else plain:
                    if sample.rejects(kwargs):
                        continue
                    dtypes = DTYPES if sample_name == "points" else sample.dtypes
                    for dtype in dtypes:
                        cases.append(ComponentCase(kind, name, dtype, tuple(kwargs.items()),
                                                   sample_name))
    unique = {c.id: c for c in cases}  # kl_div's batchmean is a variant and a reduction
    return list(unique.values())


COMPONENT_CASES: list[ComponentCase] = _component_cases()


def by_id(case_id: str) -> Case:
    """The case with this id (ValueError listing close matches otherwise)."""
    for case in CASES:
        if case.id == case_id:
            return case
    close = [c.id for c in CASES if case_id.split("-")[0] in c.id][:10] or [
        c.id for c in CASES[:5]]
    raise ValueError(f"unknown case {case_id!r}; e.g. {', '.join(close)}")


# --------------------------------------------------------------------------------------
# training trajectories: optimizer x activation/loss x data set x dtype, step by step
# --------------------------------------------------------------------------------------
#: the output activation each loss is trained with (the hidden layers use the case's)
TRAINING_OUTPUT = {"mse": "identity", "sse": "identity", "bce": "sigmoid",
                   "cross_entropy": "identity"}


@dataclass(frozen=True)
class TrajectoryCase:
    """One training run compared with torch at every step.

    ``optimizer_kwargs`` and ``scheduler_kwargs`` use torch's names; ``variant`` labels
    them in the id. ``freeze`` lists ``(parameter, first, last)``: the parameter gets no
    gradient from step ``first`` to step ``last`` (inclusive, counted from 1), as torch's
    ``p.grad = None``. ``epochs`` x batches per epoch gives the number of steps.
    """

    optimizer: str
    activation: str
    loss: str
    dtype: str
    optimizer_kwargs: tuple[tuple[str, Any], ...] = ()
    variant: str = ""
    dataset: str = "moons"
    hidden: tuple[int, ...] = (8,)
    epochs: int = 20
    batch_size: int = 20
    n_samples: int = 200  # synthetic data sets only
    scheduler: str | None = None
    scheduler_kwargs: tuple[tuple[str, Any], ...] = ()
    schedule_every: str = "step"
    freeze: tuple[tuple[str, int, int], ...] = ()
    seed: int = 0

    @property
    def output_activation(self) -> str:
        return TRAINING_OUTPUT.get(self.loss, "identity")

    @property
    def id(self) -> str:
        """e.g. ``adam-amsgrad-tanh-mse-float64``, ``sgd-momentum-relu-cross_entropy-iris-
        float32``; the data set is named unless it is the default (moons)."""
        parts = [self.optimizer, self.variant, self.activation, self.loss,
                 "" if self.dataset == "moons" else self.dataset, self.dtype]
        return "-".join(p for p in parts if p)

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)


#: optimizer -> [(variant, kwargs)]: the first entry is the optimizer's plain setting,
#: the others its torch options (a learning rate suited to these small problems is
#: given explicitly; everything else not named keeps torch's default)
OPTIMIZER_SETTINGS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "sgd": [("", {"lr": 0.1}),
            ("momentum", {"lr": 0.05, "momentum": 0.9}),
            ("nesterov", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
            ("dampening-wd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3,
                              "weight_decay": 1e-3}),
            ("maximize", {"lr": 0.002, "maximize": True})],
    "adagrad": [("", {"lr": 0.05}),
                ("decay-wd-init", {"lr": 0.05, "lr_decay": 1e-2, "weight_decay": 1e-3,
                                   "initial_accumulator_value": 0.1})],
    "rmsprop": [("", {"lr": 0.005}),
                ("centered", {"lr": 0.005, "centered": True}),
                ("centered-momentum", {"lr": 0.002, "centered": True, "momentum": 0.9}),
                ("wd", {"lr": 0.005, "weight_decay": 1e-2})],
    "adam": [("", {"lr": 0.01}),
             ("amsgrad", {"lr": 0.01, "amsgrad": True}),
             ("wd", {"lr": 0.01, "weight_decay": 1e-2}),
             ("decoupled-wd", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
             ("maximize", {"lr": 0.001, "maximize": True}),
             # beta1 < 0.5: torch's lerp takes its other branch, end - (end - start)(1 - w)
             ("low-beta1", {"lr": 0.01, "betas": (0.3, 0.999)})],
    "adamw": [("", {"lr": 0.01}),
              ("amsgrad", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1})],
    "adamax": [("", {"lr": 0.02}),
               ("wd", {"lr": 0.02, "weight_decay": 1e-2})],
    "nadam": [("", {"lr": 0.01}),
              ("decoupled-wd", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True})],
    "radam": [("", {"lr": 0.01}),
              ("decoupled-wd", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True})],
    "adadelta": [("", {"lr": 1.0}),
                 ("wd", {"lr": 1.0, "rho": 0.95, "weight_decay": 1e-2})],
}

#: (hidden activation, loss) pairs the optimizers train with
TRAINING_PAIRS = (("tanh", "mse"), ("sigmoid", "bce"), ("relu", "cross_entropy"))


def _trajectory_cases() -> list[TrajectoryCase]:
    cases: list[TrajectoryCase] = []

    def add(opt: str, act: str, loss: str, kwargs: dict[str, Any], variant: str = "",
            dtypes: tuple[str, ...] = DTYPES, **extra: Any) -> None:
        for dtype in dtypes:
            cases.append(TrajectoryCase(opt, act, loss, dtype, tuple(kwargs.items()), variant,
                                        **extra))

    k = 0
    for opt, settings in OPTIMIZER_SETTINGS.items():
        plain_variant, plain = settings[0]
        for act, loss in TRAINING_PAIRS:  # every optimizer's plain setting on every pair
            add(opt, act, loss, plain, plain_variant)
        for variant, kwargs in settings[1:]:  # each option on one pair, in rotation
            act, loss = TRAINING_PAIRS[k % len(TRAINING_PAIRS)]
            k += 1
            add(opt, act, loss, kwargs, variant)

    # the other synthetic data sets
    add("adam", "tanh", "cross_entropy", {"lr": 0.02}, dataset="spirals", hidden=(16, 16))
    add("sgd", "tanh", "bce", {"lr": 0.5, "momentum": 0.5}, "momentum", dataset="xor",
        hidden=(4,), batch_size=8, n_samples=40, epochs=40)
    # high learning rate stress: the loss oscillates (rising above its starting value),
    # and every rounding difference is amplified
    add("sgd", "tanh", "mse", {"lr": 1.0}, "stress", hidden=(16,))
    add("adam", "relu", "cross_entropy", {"lr": 0.1}, "stress", hidden=(16,))
    # float64 only: at lr 0.3 the run is chaotic enough that float32 rounding differences
    # (1e-7) grow to 2e-4 by step 200, past the float32 bound, while float64 stays within
    # 1e-9 (measured; README, "Optimizers and training trajectories")
    add("adam", "relu", "cross_entropy", {"lr": 0.3}, "stress-chaotic", ("float64",),
        hidden=(16,))
    # frozen parameters: no gradient for some steps (torch skips them: no decay, no
    # step count); from the first step, so their state is created late
    add("sgd", "tanh", "mse", {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2},
        "frozen", freeze=(("W1", 50, 120),))
    add("adam", "relu", "cross_entropy", {"lr": 0.01, "weight_decay": 1e-2}, "frozen",
        freeze=(("b2", 1, 40), ("W1", 100, 150)))
    add("adagrad", "sigmoid", "bce", {"lr": 0.05}, "frozen", freeze=(("W2", 1, 200),))
    # learning-rate schedules
    add("sgd", "tanh", "mse", {"lr": 0.1, "momentum": 0.9}, "steplr",
        scheduler="steplr", scheduler_kwargs=(("step_size", 30), ("gamma", 0.5)))
    add("rmsprop", "relu", "cross_entropy", {"lr": 0.01}, "multisteplr",
        scheduler="multisteplr", scheduler_kwargs=(("milestones", (50, 100, 100)),))
    add("adam", "sigmoid", "bce", {"lr": 0.02}, "exponentiallr",
        scheduler="exponentiallr", scheduler_kwargs=(("gamma", 0.98),))
    add("sgd", "tanh", "cross_entropy", {"lr": 0.1, "momentum": 0.9, "nesterov": True},
        "cosineannealinglr", scheduler="cosineannealinglr",
        scheduler_kwargs=(("T_max", 60), ("eta_min", 0.001)))
    add("adamw", "relu", "mse", {"lr": 0.02}, "linearlr", scheduler="linearlr",
        scheduler_kwargs=(("start_factor", 0.1), ("total_iters", 50)))
    add("adam", "tanh", "cross_entropy", {"lr": 0.01}, "onecyclelr", scheduler="onecyclelr",
        scheduler_kwargs=(("max_lr", 0.05), ("total_steps", 200)))
    add("sgd", "relu", "mse", {"lr": 0.05, "momentum": 0.9}, "onecyclelr-epoch",
        scheduler="onecyclelr", schedule_every="epoch",
        scheduler_kwargs=(("max_lr", 0.1), ("total_steps", 20), ("anneal_strategy", "linear")))
    return cases


#: real data sets bundled with scikit-learn (the optional ``data`` extra); the CLI and
#: the tests run these only when scikit-learn is installed
def _real_data_cases() -> list[TrajectoryCase]:
    cases: list[TrajectoryCase] = []
    runs = [("iris", "tanh", "cross_entropy", (16,), 15, 20),
            ("digits", "relu", "cross_entropy", (32,), 64, 7),
            ("breast_cancer", "sigmoid", "bce", (16,), 32, 12),
            ("diabetes", "tanh", "mse", (16,), 32, 15)]
    for dataset, act, loss, hidden, batch, epochs in runs:
        for opt, variant, kwargs in (("adam", "", {"lr": 0.01}),
                                     ("sgd", "momentum", {"lr": 0.05, "momentum": 0.9})):
            for dtype in DTYPES:
                cases.append(TrajectoryCase(opt, act, loss, dtype, tuple(kwargs.items()),
                                            variant, dataset=dataset, hidden=hidden,
                                            batch_size=batch, epochs=epochs))
    return cases


TRAJECTORY_CASES: list[TrajectoryCase] = _trajectory_cases()
REAL_DATA_CASES: list[TrajectoryCase] = _real_data_cases()
__all__ += ["OPTIMIZER_SETTINGS", "REAL_DATA_CASES", "TRAINING_OUTPUT", "TRAINING_PAIRS",
            "TRAJECTORY_CASES", "TrajectoryCase"]
