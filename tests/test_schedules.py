"""Learning-rate schedules against torch.optim.lr_scheduler: the same learning rate (and,
for OneCycleLR, momentum or beta1) at every step, to the bit."""

import inspect

import numpy as np
import pytest
import torch

import reference
from manual import optimizers, schedules

CASES = [
    ("steplr", {"step_size": 7}),
    ("steplr", {"step_size": 3, "gamma": 0.7}),
    ("multisteplr", {"milestones": [5, 20, 20, 90]}),
    ("multisteplr", {"milestones": [0, 10], "gamma": 0.5}),
    ("exponentiallr", {"gamma": 0.97}),
    ("cosineannealinglr", {"T_max": 50}),
    ("cosineannealinglr", {"T_max": 13, "eta_min": 0.01}),  # past T_max: it rises again
    ("linearlr", {}),
    ("linearlr", {"start_factor": 0.25, "end_factor": 0.5, "total_iters": 40}),
    ("onecyclelr", {"max_lr": 0.5, "total_steps": 150}),
    ("onecyclelr", {"max_lr": 0.5, "epochs": 10, "steps_per_epoch": 15,
                    "anneal_strategy": "linear", "three_phase": True}),
    ("onecyclelr", {"max_lr": 0.5, "total_steps": 150, "cycle_momentum": False}),
]


def _pair(opt_name, sched_name, kwargs, **opt_kwargs):
    opt = optimizers.get(opt_name, {"w": np.zeros(2)}, lr=0.1, **opt_kwargs)
    topt = reference.optimizers.get(opt_name, [torch.zeros(2, requires_grad=True)], lr=0.1,
                                    **opt_kwargs)
    return (opt, schedules.get(sched_name, opt, **kwargs),
            topt, reference.schedules.get(sched_name, topt, **kwargs))


@pytest.mark.parametrize("opt_name, opt_kwargs", [("sgd", {"momentum": 0.9}), ("adam", {})])
@pytest.mark.parametrize("name, kwargs", CASES,
                         ids=[f"{n}-{'-'.join(map(str, k.values())) or 'defaults'}"
                              for n, k in CASES])
def test_schedule_matches_torch_bit_for_bit(name, kwargs, opt_name, opt_kwargs):
    opt, sched, topt, tsched = _pair(opt_name, name, kwargs, **opt_kwargs)
    steps = 150 if name == "onecyclelr" else 200
    for t in range(steps):
        group = topt.param_groups[0]
        assert opt.lr == group["lr"], f"step {t}: lr {opt.lr!r} vs torch {group['lr']!r}"
        assert sched.get_last_lr() == tsched.get_last_lr()
        if opt_name == "sgd":
            assert opt.momentum == group["momentum"], f"step {t}"
        else:
            assert opt.betas == tuple(group["betas"]), f"step {t}"
        topt.step()  # no gradients: nothing moves, torch only wants the call order
        sched.step()
        tsched.step()


def test_closed_forms_are_what_the_recursions_approximate():
    """The docstrings' closed forms hold to rounding (torch's recursions differ from them
    only in the last bits)."""
    opt = optimizers.get("sgd", {"w": np.zeros(1)}, lr=0.1)
    sched = schedules.get("cosineannealinglr", opt, T_max=40, eta_min=0.001)
    for t in range(1, 120):
        sched.step()
        closed = 0.001 + 0.5 * (0.1 - 0.001) * (1 + np.cos(np.pi * t / 40))
        assert opt.lr == pytest.approx(closed, rel=1e-12, abs=1e-15)
    opt = optimizers.get("sgd", {"w": np.zeros(1)}, lr=0.1)
    sched = schedules.get("linearlr", opt, start_factor=0.2, total_iters=10)
    for t in range(1, 30):
        sched.step()
        assert opt.lr == pytest.approx(0.1 * (0.2 + 0.8 * min(t, 10) / 10), rel=1e-14)


@pytest.mark.parametrize("name", schedules.names())
def test_names_and_defaults_are_torchs(name):
    cls = schedules._REGISTRY[name]
    torch_cls = getattr(torch.optim.lr_scheduler, cls.torch_name)
    sig = inspect.signature(torch_cls.__init__).parameters
    torch_args = [k for k in sig if k not in ("self", "optimizer")]
    assert list(cls.defaults) == torch_args  # same names, same positional order
    for key in torch_args:
        default = sig[key].default
        if default is not inspect.Parameter.empty:
            assert cls.defaults[key] == default, f"{name}.{key}"
        else:
            assert cls.defaults[key] is schedules.REQUIRED


def test_positional_arguments_as_in_torch():
    opt = optimizers.get("sgd", {"w": np.zeros(1)}, lr=1.0)
    sched = schedules.StepLR(opt, 2, 0.5)
    assert (sched.step_size, sched.gamma) == (2, 0.5)
    with pytest.raises(TypeError, match="multiple values for argument 'step_size'"):
        schedules.StepLR(opt, 2, step_size=3)
