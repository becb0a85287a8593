r"""Learning-rate schedules that follow ``torch.optim.lr_scheduler`` step for step.

A schedule wraps a :mod:`manual.optimizers` optimizer and sets its live ``lr`` (and,
for :class:`OneCycleLR`, its momentum or :math:`\beta_1`). As in torch, constructing
the schedule already applies the value for step 0, and each :meth:`LRScheduler.step`
(called after ``optimizer.step``) moves to the next:

>>> import numpy as np
>>> from manual import optimizers, schedules
>>> opt = optimizers.get("sgd", {"w": np.zeros(3)}, lr=1.0)
>>> sched = schedules.get("steplr", opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for _ in range(5):
...     lrs.append(opt.lr)
...     opt.step({"w": np.ones(3)})
...     sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]

torch computes most schedules **recursively**, multiplying the current ``lr`` by a
factor at each step (its closed forms, used only by the deprecated ``step(epoch)``,
differ in the last bits). The classes here apply the same recursions in the same order,
so the learning rates agree with torch's to the bit. Each docstring gives the
closed form :math:`\eta_t` (``t = last_epoch``, :math:`\eta_0` the optimizer's ``lr``)
and the recursion actually computed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

from manual._checks import Configurable, check_choice, check_number

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LinearLR", "MultiStepLR",
           "OneCycleLR", "StepLR", "get", "names", "register"]

_REGISTRY: dict[str, type[LRScheduler]] = {}

#: marks a hyperparameter that has no default (torch's required positional arguments)
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "<required>"})()


def register(cls: type[LRScheduler]) -> type[LRScheduler]:
    """Class decorator: add a schedule to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """The registered schedule names, in registration order."""
    return list(_REGISTRY)


def get(name: str, optimizer: Any, *args: Any, **kwargs: Any) -> LRScheduler:
    """The schedule called ``name`` (see :func:`names`) over ``optimizer``, with
    torch-named arguments."""
    if not isinstance(name, str):
        raise TypeError(f"schedule name must be a string, got {type(name).__name__}")
    check_choice(name, names(), "schedule")
    return _REGISTRY[name](optimizer, *args, **kwargs)


def _check_int(owner: str, key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{owner}: {key} must be an integer >= {low}, got {value!r}")
    return value


class LRScheduler(Configurable):
    """Base class: ``Schedule(optimizer, *args, **kwargs)`` with torch's argument names,
    order and defaults (``last_epoch`` is accepted only as -1, a fresh schedule).

    Attributes
    ----------
    optimizer
        The wrapped optimizer; its ``lr`` attribute is what the schedule sets.
    base_lr
        The optimizer's learning rate when the schedule was made (torch's ``initial_lr``).
    last_epoch
        Number of :meth:`step` calls so far (0 right after construction).
    """

    name: ClassVar[str] = ""
    torch_name: ClassVar[str] = ""  # the class in torch.optim.lr_scheduler

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        order = list(self.defaults)
        if len(args) > len(order):
            raise TypeError(f"{self.name} takes at most {len(order)} positional arguments "
                            f"after the optimizer ({', '.join(order)}), got {len(args)}")
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError(f"{self.name} got multiple values for argument {key!r}")
            kwargs[key] = value
        self.optimizer = optimizer
        super().__init__(**kwargs)
        if not hasattr(optimizer, "lr") or not hasattr(optimizer, "kwargs"):
            raise TypeError(f"{self.name}: optimizer must be a manual.optimizers optimizer, "
                            f"got {type(optimizer).__name__}")
        self._prepare()
        self.base_lr: float = float(optimizer.lr)
        self.last_epoch = -1
        self._step_count = 0
        self._initial = True  # torch's _initial_mode during the constructor's step
        self.step()
        self._initial = False

    def _check_params(self) -> None:
        missing = [k for k, v in self.kwargs.items() if v is REQUIRED]
        if missing:
            raise TypeError(f"{self.name} missing required argument(s): {', '.join(missing)}")
        if self.kwargs.get("last_epoch", -1) != -1:
            raise ValueError(f"{self.name}: only last_epoch=-1 (a fresh schedule) is "
                             f"supported, got {self.kwargs['last_epoch']!r}")

    def _prepare(self) -> None:
        """Set up the optimizer before the first step (OneCycleLR)."""

    def step(self) -> None:
        """Advance one step (call it after ``optimizer.step``) and set the optimizer's lr."""
        self._step_count += 1
        self.last_epoch += 1
        self.optimizer.lr = self._next_lr(self.optimizer.lr)
        self.last_lr = self.optimizer.lr

    def get_last_lr(self) -> list[float]:
        """The learning rate now in force, as a one-element list (one per param group,
        like torch)."""
        return [self.last_lr]

    def _next_lr(self, lr: float) -> float:
        raise NotImplementedError


@register
class StepLR(LRScheduler):
    r"""Decay by ``gamma`` every ``step_size`` steps, as ``lr_scheduler.StepLR``.

    .. math::
        \eta_t = \eta_0\,\gamma^{\lfloor t / \text{step\_size} \rfloor}, \qquad
        \text{computed as } \eta_t = \eta_{t-1}\gamma \text{ when } t > 0 \text{ and }
        \text{step\_size} \mid t, \text{ else } \eta_{t-1}
    """

    name = "steplr"
    torch_name = "StepLR"
    defaults: ClassVar[dict[str, Any]] = {"step_size": REQUIRED, "gamma": 0.1, "last_epoch": -1}
    step_size: int
    gamma: float

    def _check_params(self) -> None:
        super()._check_params()
        self.step_size = _check_int(self.name, "step_size", self.step_size, 1)
        self.gamma = check_number(self.name, "gamma", self.gamma)

    def _next_lr(self, lr: float) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lr
        return lr * self.gamma


@register
class MultiStepLR(LRScheduler):
    r"""Decay by ``gamma`` at each milestone, as ``lr_scheduler.MultiStepLR``.

    .. math::
        \eta_t = \eta_0\,\gamma^{\#\{m \in \text{milestones}:\, m \le t\}}, \qquad
        \text{computed as } \eta_t = \eta_{t-1}\,\gamma^{c(t)}

    with :math:`c(t)` the number of times :math:`t` appears among the milestones
    (a repeated milestone decays repeatedly, as in torch).
    """

    name = "multisteplr"
    torch_name = "MultiStepLR"
    defaults: ClassVar[dict[str, Any]] = {"milestones": REQUIRED, "gamma": 0.1, "last_epoch": -1}
    milestones: Sequence[int]
    gamma: float

    def _check_params(self) -> None:
        super()._check_params()
        ms = self.milestones
        if isinstance(ms, (str, bytes)) or not isinstance(ms, Sequence):
            raise TypeError(f"{self.name}: milestones must be a list of step indices, got "
                            f"{ms!r}")
        for m in ms:
            _check_int(self.name, "every milestone", m, 0)
        self.kwargs["milestones"] = list(ms)
        self._counts = Counter(ms)
        self.gamma = check_number(self.name, "gamma", self.gamma)

    def _next_lr(self, lr: float) -> float:
        if self.last_epoch not in self._counts:
            return lr
        return lr * self.gamma ** self._counts[self.last_epoch]


@register
class ExponentialLR(LRScheduler):
    r"""Decay by ``gamma`` every step, as ``lr_scheduler.ExponentialLR``.

    .. math::
        \eta_t = \eta_0\,\gamma^t, \qquad \text{computed as } \eta_t = \eta_{t-1}\gamma
    """

    name = "exponentiallr"
    torch_name = "ExponentialLR"
    defaults: ClassVar[dict[str, Any]] = {"gamma": REQUIRED, "last_epoch": -1}
    gamma: float

    def _check_params(self) -> None:
        super()._check_params()
        self.gamma = check_number(self.name, "gamma", self.gamma)

    def _next_lr(self, lr: float) -> float:
        return lr if self._initial else lr * self.gamma


@register
class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from :math:`\eta_0` down to ``eta_min`` over ``T_max`` steps,
    as ``lr_scheduler.CosineAnnealingLR`` (without restarts: past ``T_max`` the
    cosine carries on, rising again).

    .. math::
        \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})
                 \big(1 + \cos(\pi t / T_{max})\big)

    computed, as torch does, by the recursion

    .. math::
        \eta_t = \eta_{min} + (\eta_{t-1} - \eta_{min})\,
                 \frac{1 + \cos(\pi t / T_{max})}{1 + \cos(\pi (t-1) / T_{max})}

    except where the denominator vanishes, :math:`(t - 1 - T_{max}) \bmod 2T_{max} = 0`,
    where torch adds :math:`(\eta_0 - \eta_{min})(1 - \cos(\pi/T_{max}))/2` instead.
    """

    name = "cosineannealinglr"
    torch_name = "CosineAnnealingLR"
    defaults: ClassVar[dict[str, Any]] = {"T_max": REQUIRED, "eta_min": 0.0, "last_epoch": -1}
    T_max: int
    eta_min: float

    def _check_params(self) -> None:
        super()._check_params()
        self.T_max = _check_int(self.name, "T_max", self.T_max, 1)
        self.eta_min = check_number(self.name, "eta_min", self.eta_min)

    def _next_lr(self, lr: float) -> float:
        t, T = self.last_epoch, self.T_max
        if self._initial:
            return lr
        if (t - 1 - T) % (2 * T) == 0:
            return lr + (self.base_lr - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
        return ((1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - self.eta_min) + self.eta_min)


@register
class LinearLR(LRScheduler):
    r"""Scale the learning rate by a factor moving linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` steps, as ``lr_scheduler.LinearLR``.

    .. math::
        \eta_t = \eta_0 \Big(s + (e - s)\,\frac{\min(t, T)}{T}\Big)

    (:math:`s, e, T` = ``start_factor, end_factor, total_iters``), computed as torch
    does: :math:`\eta_0 s` at :math:`t = 0`, then for :math:`0 < t \le T`

    .. math::
        \eta_t = \eta_{t-1}\Big(1 + \frac{e - s}{T s + (t - 1)(e - s)}\Big)

    and unchanged after :math:`T`.
    """

    name = "linearlr"
    torch_name = "LinearLR"
    defaults: ClassVar[dict[str, Any]] = {
        "start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5, "last_epoch": -1}
    start_factor: float
    end_factor: float
    total_iters: int

    def _check_params(self) -> None:
        super()._check_params()
        self.start_factor = check_number(self.name, "start_factor", self.start_factor)
        self.end_factor = check_number(self.name, "end_factor", self.end_factor)
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"{self.name}: start_factor must lie in (0, 1], got "
                             f"{self.start_factor}")
        if not 0 <= self.end_factor <= 1:
            raise ValueError(f"{self.name}: end_factor must lie in [0, 1], got "
                             f"{self.end_factor}")
        self.total_iters = _check_int(self.name, "total_iters", self.total_iters, 1)

    def _next_lr(self, lr: float) -> float:
        t = self.last_epoch
        if t == 0:
            return lr * self.start_factor
        if t > self.total_iters:
            return lr
        delta = self.end_factor - self.start_factor
        return lr * (1.0 + delta / (self.total_iters * self.start_factor + (t - 1) * delta))


@register
class OneCycleLR(LRScheduler):
    r"""The 1cycle policy, as ``lr_scheduler.OneCycleLR``: warm up from
    :math:`\eta_{max}/\text{div\_factor}` to ``max_lr`` over the first ``pct_start`` of
    ``total_steps``, then anneal to :math:`\eta_{max}/(\text{div\_factor}\cdot
    \text{final\_div\_factor})`; momentum (SGD, RMSprop) or :math:`\beta_1` (Adam family)
    is cycled inversely between ``max_momentum`` and ``base_momentum``.

    Within a phase from step :math:`a` to :math:`b` (torch's ``end_step`` values
    :math:`\text{pct\_start}\cdot N - 1` and :math:`N - 1`), with
    :math:`p = (t - a)/(b - a)`:

    .. math::
        \text{cos: } \eta_t = \eta_{end} + \frac{\eta_{start} - \eta_{end}}{2}
                               (1 + \cos\pi p), \qquad
        \text{linear: } \eta_t = (\eta_{end} - \eta_{start})\,p + \eta_{start}

    (closed form, as torch computes it). ``three_phase=True`` adds a symmetric
    warm-down before the final annealing. Stepping past ``total_steps`` raises.
    """

    name = "onecyclelr"
    torch_name = "OneCycleLR"
    defaults: ClassVar[dict[str, Any]] = {
        "max_lr": REQUIRED, "total_steps": None, "epochs": None, "steps_per_epoch": None,
        "pct_start": 0.3, "anneal_strategy": "cos", "cycle_momentum": True, "base_momentum": 0.85,
        "max_momentum": 0.95, "div_factor": 25.0, "final_div_factor": 1e4, "three_phase": False,
        "last_epoch": -1}
    # the hyperparameters, set from ``defaults`` by Configurable and checked below
    max_lr: float
    total_steps: int | None
    epochs: int | None
    steps_per_epoch: int | None
    pct_start: float
    anneal_strategy: str
    cycle_momentum: bool
    base_momentum: float
    max_momentum: float
    div_factor: float
    final_div_factor: float
    three_phase: bool

    def _check_params(self) -> None:
        super()._check_params()
        if self.total_steps is not None:
            self._total = _check_int(self.name, "total_steps", self.total_steps, 1)
        elif self.epochs is not None and self.steps_per_epoch is not None:
            self._total = (_check_int(self.name, "epochs", self.epochs, 1)
                           * _check_int(self.name, "steps_per_epoch", self.steps_per_epoch, 1))
        else:
            raise ValueError(f"{self.name}: give total_steps, or epochs and steps_per_epoch")
        self.max_lr = check_number(self.name, "max_lr", self.max_lr)
        if not isinstance(self.pct_start, float) or not 0 <= self.pct_start <= 1:
            raise ValueError(f"{self.name}: pct_start must be a float in [0, 1], got "
                             f"{self.pct_start!r}")
        check_choice(self.anneal_strategy, ("cos", "linear"), f"{self.name} anneal_strategy")
        for key in ("base_momentum", "max_momentum", "div_factor", "final_div_factor"):
            setattr(self, key, check_number(self.name, key, getattr(self, key)))
        if not isinstance(self.cycle_momentum, bool) or not isinstance(self.three_phase, bool):
            raise TypeError(f"{self.name}: cycle_momentum and three_phase must be True or False")
        N, pct = self._total, self.pct_start
        if self.three_phase:
            self._phases = [(float(pct * N) - 1, "initial", "max", "max_m", "base_m"),
                            (float(2 * pct * N) - 2, "max", "initial", "base_m", "max_m"),
                            (N - 1, "initial", "min", "max_m", "max_m")]
        else:
            self._phases = [(float(pct * N) - 1, "initial", "max", "max_m", "base_m"),
                            (N - 1, "max", "min", "base_m", "max_m")]

    def _prepare(self) -> None:
        opt = self.optimizer
        initial = self.max_lr / self.div_factor
        self._values = {"initial": initial, "max": self.max_lr,
                        "min": initial / self.final_div_factor,
                        "max_m": self.max_momentum, "base_m": self.base_momentum}
        if self.cycle_momentum:
            self._use_beta1 = "betas" in opt.kwargs
            if not self._use_beta1 and "momentum" not in opt.kwargs:
                raise ValueError(f"{self.name}: cycle_momentum needs an optimizer with momentum "
                                 f"or betas, {opt.name} has neither")
            self._set_momentum(self.max_momentum)
        opt.lr = initial  # torch sets group["initial_lr"], which becomes the lr at step 0

    def _set_momentum(self, value: float) -> None:
        if self._use_beta1:
            self.optimizer.betas = (value, self.optimizer.betas[1])
        else:
            self.optimizer.momentum = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _next_lr(self, lr: float) -> float:
        t = self.last_epoch
        if t > self._total:
            raise ValueError(f"{self.name}: tried to step {t} times; total_steps is "
                             f"{self._total}")
        start = 0.0
        for i, (end, lr_a, lr_b, m_a, m_b) in enumerate(self._phases):
            if t <= end or i == len(self._phases) - 1:
                pct = (t - start) / (end - start)
                new_lr = self._anneal(self._values[lr_a], self._values[lr_b], pct)
                if self.cycle_momentum:
                    self._set_momentum(self._anneal(self._values[m_a], self._values[m_b], pct))
                return new_lr
            start = end
        raise AssertionError("unreachable")
