"""Gradient clipping against ``torch.nn.utils``: the clipped gradients and the returned total
norm for every norm type and both dtypes, non-finite gradients (with and without
``error_if_nonfinite``), clipping by value, and a training run with clipping against
torch's own clipping inside ``reference.training``."""

import math

import numpy as np
import pytest
import torch

from comparisons.run.bridge import MLPTwin
from comparisons.twins.state import optimizer_from_manual, train_twin
from comparisons.core.compare import compare_arrays
from comparisons.core.tolerances import tolerance_for
from comparisons.run.trajectories import compare_histories
from manual import MLP, optimizers, train
from manual.clipping import clip_grad_norm_, clip_grad_value_, total_norm
from manual.datasets import xor


def _grads(dtype, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return {"w": (scale * rng.standard_normal((3, 4))).astype(dtype),
            "b": (scale * rng.standard_normal(4)).astype(dtype),
            "v": (scale * rng.standard_normal((2, 2, 2))).astype(dtype)}


def _torch_params(grads):
    params = []
    for g in grads.values():
        p = torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        params.append(p)
    return params


def _check(ours, params, norm_m, norm_t, dtype):
    tol = tolerance_for(dtype, "torch")
    assert np.asarray(norm_m).dtype == np.dtype(dtype)
    c = compare_arrays(norm_m, norm_t.numpy(), tol, "total_norm")
    assert c.passed, c.message()
    for (k, g), p in zip(ours.items(), params):
        c = compare_arrays(g, p.grad.numpy(), tol, k)
        assert c.passed, c.message()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, 0.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipped, and left alone (factor 1)
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    ours = _grads(dtype)
    params = _torch_params(ours)
    norm_m = clip_grad_norm_(ours, max_norm, norm_type)
    norm_t = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    _check(ours, params, norm_m, norm_t, dtype)
    if max_norm < float(norm_t):  # really clipped: the new norm is max_norm
        assert float(total_norm(ours, norm_type)) == pytest.approx(max_norm, rel=1e-5)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_gradients_as_torch(bad):
    ours = _grads("float64")
    ours["b"][1] = bad
    params = _torch_params(ours)
    norm_m = clip_grad_norm_(ours, 1.0)
    norm_t = torch.nn.utils.clip_grad_norm_(params, 1.0)
    assert not np.isfinite(norm_m) and (np.isnan(norm_m) == bool(torch.isnan(norm_t)))
    for (k, g), p in zip(ours.items(), params):  # NaN where torch has NaN, the same values
        np.testing.assert_array_equal(np.isnan(g), torch.isnan(p.grad).numpy(), err_msg=k)
        assert compare_arrays(g, p.grad.numpy(), tolerance_for("float64"), k).passed
    ours = _grads("float64")
    ours["w"][0, 0] = bad
    before = {k: v.copy() for k, v in ours.items()}
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(_torch_params(before), 1.0, error_if_nonfinite=True)
    for k in ours:  # nothing was scaled before the error
        np.testing.assert_array_equal(ours[k], before[k])


def test_zero_empty_and_missing_gradients():
    zeros = {"a": np.zeros(3), "b": None}  # None: a parameter without a gradient
    norm_m = clip_grad_norm_(zeros, 1.0)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    p.grad = torch.zeros(3, dtype=torch.float64)
    q = torch.zeros(2, requires_grad=True)  # q.grad is None: skipped by torch
    assert float(norm_m) == float(torch.nn.utils.clip_grad_norm_([p, q], 1.0)) == 0.0
    assert float(clip_grad_norm_({}, 1.0)) == float(torch.nn.utils.clip_grad_norm_([], 1.0))
    one = np.array([3.0, 4.0])
    assert float(clip_grad_norm_(one, 1.0)) == 5.0  # a single array, as torch takes a tensor
    np.testing.assert_allclose(one, [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_clip_grad_value_matches_torch(dtype):
    ours = _grads(dtype, scale=2.0)
    params = _torch_params(ours)
    assert clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(params, 0.7)
    for (k, g), p in zip(ours.items(), params):
        np.testing.assert_array_equal(g, p.grad.numpy(), err_msg=k)  # clamping is exact
    assert max(np.abs(g).max() for g in ours.values()) == pytest.approx(0.7)


def test_bad_arguments():
    with pytest.raises(TypeError, match="clip_grad_norm_: every gradient"):
        clip_grad_norm_({"a": [1.0, 2.0]}, 1.0)
    with pytest.raises(TypeError, match="clip_grad_norm_: max_norm"):
        clip_grad_norm_({"a": np.ones(2)}, "1")
    with pytest.raises(TypeError, match="norm_type"):
        clip_grad_norm_({"a": np.ones(2)}, 1.0, norm_type="two")
    with pytest.raises(TypeError, match="clip_grad_value_: clip_value"):
        clip_grad_value_({"a": np.ones(2)}, None)
    with pytest.raises(TypeError, match="clip_grad_value_: every gradient"):
        clip_grad_value_({"a": np.ones(2, dtype=int)}, 1.0)


@pytest.mark.parametrize("clip", [{"clip_grad_norm": 0.05}, {"clip_grad_value": 0.01},
                                  {"clip_grad_norm": 0.05, "clip_grad_value": 0.02}])
def test_training_with_clipping_follows_torch(clip):
    X, y = xor(n=32, seed=0)
    net = MLP([2, 6, 2], activation="tanh", loss="cross_entropy", seed=0)
    opt = optimizers.get("sgd", net.params, lr=0.5, momentum=0.9)
    tnet = MLPTwin.from_manual(net)
    topt = optimizer_from_manual(opt, tnet)
    hist_m = train(net, X, y, opt, epochs=30, batch_size=8, seed=0, record=True, **clip)
    hist_r = train_twin(tnet, X, y, topt, hist_m.order, record=True, **clip)
    df = compare_histories(hist_m, hist_r, np.float64)
    assert len(df) == 120 and df["passed"].all(), df[~df["passed"]].head()
    # and clipping really acted: without it, the run differs
    net2 = MLP([2, 6, 2], activation="tanh", loss="cross_entropy", seed=0)
    hist_0 = train(net2, X, y, optimizers.get("sgd", net2.params, lr=0.5, momentum=0.9),
                   epochs=30, batch_size=8, seed=0, record=True)
    assert not np.allclose(hist_0.params[-1]["W1"], hist_m.params[-1]["W1"])
