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
             ("maximize", {"lr": 0.001, "maximize": True})],
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

# --------------------------------------------------------------------------------------
# layers and Sequential networks (the table lives in comparisons/cases/layers.py)
# --------------------------------------------------------------------------------------
from comparisons.cases.layers import (  # noqa: E402  (the table imports nothing from here)
    LAYER_CASES,
    LAYER_CONTROLS,
    NETWORK_CASES,
    LayerCase,
    LayerControl,
    NetworkCase,
)

from comparisons.cases.norms import NORM_CASES, NORM_CONTROLS, NORM_NETWORK_CASES  # noqa: E402

LAYER_CASES += NORM_CASES  # in place: the one list every consumer reads
NETWORK_CASES += NORM_NETWORK_CASES
LAYER_CONTROLS += NORM_CONTROLS

__all__ += ["LAYER_CASES", "LAYER_CONTROLS", "NETWORK_CASES", "LayerCase", "LayerControl",
            "NetworkCase"]

# --------------------------------------------------------------------------------------
# recurrent layers (the table lives in comparisons/cases/recurrent.py)
# --------------------------------------------------------------------------------------
from comparisons.cases.recurrent import (  # noqa: E402
    RECURRENT_CASES,
    RECURRENT_CONTROLS,
    RECURRENT_NETWORKS,
)

LAYER_CASES += RECURRENT_CASES  # in place: the one list every consumer reads
LAYER_CONTROLS += RECURRENT_CONTROLS
NETWORK_CASES += RECURRENT_NETWORKS
__all__ += ["RECURRENT_CASES", "RECURRENT_CONTROLS", "RECURRENT_NETWORKS"]
