"""Property-based tests (hypothesis): random shapes (0-d and empty included), dtypes, values
and keyword arguments for every activation and loss of the case table, against torch:
the same values, the same gradients, and the same verdict on whether the input is accepted
at all. The only "we reject, torch computes" outcomes allowed are the documented choices
of ``STRICTER_THAN_TORCH``. Bounded (``max_examples``) to a few seconds in all."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from comparisons.run.bridge import torch_kwargs
from comparisons.cases.components import COMPONENTS, STRICTER_THAN_TORCH
from comparisons.core.tolerances import tolerance_for
from manual import activations, losses

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DTYPES = st.sampled_from([np.float64, np.float32])
TORCH_ERRORS = (ValueError, TypeError, RuntimeError, IndexError, ZeroDivisionError)


def _kwargs(defaults: dict) -> st.SearchStrategy:
    """Each argument either keeps its default or takes a random value of its kind (floats
    in [-3, 3], dims in [-4, 3], booleans); weights stay None (the case table varies them)."""
    fields = {}
    for key, default in defaults.items():
        if isinstance(default, bool):
            fields[key] = st.booleans()
        elif key in ("dim", "ignore_index"):
            fields[key] = st.integers(-4, 3)
        elif key == "p":
            fields[key] = st.integers(0, 3)
        elif isinstance(default, float):
            fields[key] = st.one_of(st.just(default), st.floats(-3, 3, width=32))
        else:
            continue
        fields[key] = st.one_of(st.just(default), fields[key])
    return st.fixed_dictionaries({}, optional=fields)


def _close(mine, theirs, dtype) -> None:
    tol = tolerance_for(dtype, "torch")
    np.testing.assert_allclose(np.asarray(mine, dtype=np.float64),
                               np.asarray(theirs, dtype=np.float64), rtol=tol.rtol,
                               atol=tol.atol)


def _outcome(f):
    try:
        return True, f()
    except TORCH_ERRORS as err:
        return False, err


ACTIVATIONS = [c for c in COMPONENTS.values() if c.kind == "activation"]


@pytest.mark.parametrize("info", ACTIVATIONS, ids=lambda c: c.name)
@SETTINGS
@given(data=st.data(), dtype=DTYPES)
def test_activation_agrees_with_torch_on_random_input(info, data, dtype):
    kwargs = data.draw(_kwargs(activations.get(info.name).defaults), label="kwargs")
    z = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                     max_side=4),
                             elements=st.floats(-1e4, 1e4, width=32)), label="z")
    g = np.random.default_rng(0).standard_normal(z.shape).astype(dtype)

    def ours():
        act = activations.get(info.name, **kwargs)
        with np.errstate(all="ignore"):
            return act.forward(z), act.backward(z, g)

    def theirs():
        zt = torch.tensor(z, requires_grad=True)
        out = info.torch(zt, **_torch_kwargs_for(info, kwargs))
        (grad,) = torch.autograd.grad(out, zt, torch.from_numpy(g), allow_unused=True)
        return out.detach().numpy(), (np.zeros_like(z) if grad is None else grad.numpy())

    ok_m, res_m = _outcome(ours)
    ok_t, res_t = _outcome(theirs)
    if not ok_m:
        assert isinstance(res_m, (ValueError, TypeError)), res_m  # named, at our boundary
    assert ok_m == ok_t, f"{info.name}{kwargs} on {z.shape}: ours {res_m!r}, torch {res_t!r}"
    if ok_m:
        _close(res_m[0], res_t[0], dtype)
        _close(res_m[1], res_t[1], dtype)


def _torch_kwargs_for(info, kwargs: dict) -> dict:
    """What the harness hands torch for a component built with ``kwargs``."""
    module = activations if info.kind == "activation" else losses
    try:
        return torch_kwargs(module.get(info.name, **kwargs))
    except (ValueError, TypeError):  # ours rejects: hand torch the arguments as given
        return dict(kwargs)


LOSSES = [c for c in COMPONENTS.values() if c.kind == "loss"]
CLASS_LOSSES = {"cross_entropy", "nll", "multi_margin"}


def _loss_inputs(data, info, dtype):
    loss = losses.get(info.name)
    if info.name in CLASS_LOSSES:
        max_dims = 2 if info.name == "multi_margin" else 4
        shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1,
                                           max_side=3), label="shape")
        C = shape[0] if len(shape) == 1 else shape[1]
        label_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
        target = data.draw(hnp.arrays(np.int64, label_shape, elements=st.integers(0, C - 1)),
                           label="labels")
        pred = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-30, 30, width=32)),
                         label="pred")
        return pred, target
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
                      label="shape")
    lo, hi = loss.pred_range
    pred_el = st.floats(0, 1, width=32) if np.isfinite(hi) else st.floats(-30, 30, width=32)
    if info.name in ("poisson_nll",):
        pred_el = st.floats(0.0625, 5, width=32)
    target_el = {"real": st.floats(-30, 30, width=32), "probability": st.floats(0, 1, width=32),
                 "count": st.integers(0, 6).map(float),
                 "distribution": st.floats(0, 1, width=32)}[loss.target_kind]
    pred = data.draw(hnp.arrays(dtype, shape, elements=pred_el), label="pred")
    target = data.draw(hnp.arrays(dtype, shape, elements=target_el), label="target")
    return pred, target


@pytest.mark.parametrize("info", LOSSES, ids=lambda c: c.name)
@SETTINGS
@given(data=st.data(), dtype=DTYPES)
def test_loss_agrees_with_torch_on_random_input(info, data, dtype):
    defaults = losses.get(info.name).defaults
    kwargs = data.draw(_kwargs(defaults), label="kwargs")
    if "reduction" in defaults:
        kwargs["reduction"] = data.draw(st.sampled_from(losses.get(info.name).reductions))
    pred, target = _loss_inputs(data, info, dtype)
    extra = {"var": 1.0} if info.name == "gaussian_nll" else {}

    def ours():
        loss = losses.get(info.name, **kwargs)
        with np.errstate(all="ignore"):
            value = loss.forward(pred, target, **extra)
            g = np.ones(np.shape(value), dtype) if loss.kwargs.get("reduction") == "none" else None
            return value, loss.backward(pred, target, g, **extra)

    def theirs():
        pt = torch.tensor(pred, requires_grad=True)
        tt = torch.from_numpy(target)
        value = info.torch(pt, tt, **extra, **_torch_kwargs_for(info, kwargs))
        (grad,) = torch.autograd.grad(value, pt, torch.ones_like(value), allow_unused=True)
        return value.detach().numpy(), np.zeros_like(pred) if grad is None else grad.numpy()

    ok_m, res_m = _outcome(ours)
    ok_t, res_t = _outcome(theirs)
    if not ok_m:
        assert isinstance(res_m, (ValueError, TypeError)), res_m
    if ok_t and not ok_m:  # we reject what torch computes: only the documented choices
        assert any(name == info.name and key in kwargs and key in str(res_m)
                   for name, key in STRICTER_THAN_TORCH), (
            f"{info.name}{kwargs}: ours {res_m!r}, torch accepts")
        return
    assert ok_m == ok_t, f"{info.name}{kwargs} on {pred.shape}: ours {res_m!r}, torch {res_t!r}"
    if ok_m:
        _close(res_m[0], res_t[0], dtype)
        _close(res_m[1], res_t[1], dtype)
