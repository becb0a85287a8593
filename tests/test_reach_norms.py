"""BatchNorm3d, InstanceNorm1d/2d and LocalResponseNorm (issue 18) against the torch modules
directly: the same weights, inputs and upstream gradient, the output and every gradient in
float64 (rtol 1e-10, atol 1e-12) and float32 (rtol 1e-5, atol 1e-6: ~100 ulp of float32 for
standard-normal inputs and sums of a few dozen terms), the running buffers after every
training step, bad input refused with a ValueError/TypeError naming the problem (where
torch refuses it), the constructors' signatures, the functional pairs, and every sample of
torch's own module_db."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from manual import layers
from manual.layers import BatchNorm3d, InstanceNorm1d, InstanceNorm2d, LocalResponseNorm

from _layers import (DTYPES, TOL, TORCH_DTYPE, arguments, compare, compare_module_db_sample,
                     module_db_samples)
from _layers import x_of as _x

NEW_NORMS = ["BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "LocalResponseNorm"]


@pytest.mark.parametrize("name", NEW_NORMS + ["instancenorm_forward", "instancenorm_backward",
                                              "local_response_norm_forward",
                                              "local_response_norm_backward"])
def test_exported(name):
    assert name in layers.__all__ and hasattr(layers, name)


@pytest.mark.parametrize("name", NEW_NORMS)
def test_arguments_names_order_and_defaults_are_torchs(name):
    """The constructor as torch's (less ``device``/``dtype``), keyword-only ``bias``
    included."""
    assert arguments(getattr(layers, name)) == arguments(getattr(torch.nn, name))


def _buffers_agree(ours, theirs, dtype, step):
    tb = dict(theirs.named_buffers())
    assert sorted(tb) == sorted(ours.buffers), (sorted(tb), sorted(ours.buffers))
    for k, v in tb.items():
        assert ours.buffers[k].dtype == (np.int64 if k == "num_batches_tracked" else dtype), k
        np.testing.assert_allclose(ours.buffers[k], v.numpy(), **TOL[dtype],
                                   err_msg=f"buffer {k} after step {step}")


def _steps(ours, theirs, shapes, dtype):
    """One train-mode :func:`compare` per shape (the running buffers compared after each),
    then one in eval mode on the last shape (the buffers unchanged by it). The input and
    the upstream gradient never share a seed: dout = x would make instance norm's input
    gradient vanish (x lies in the span the backward projects out), leaving rounding."""
    theirs = theirs.to(TORCH_DTYPE[dtype])
    if ours.params:  # away from torch's 1 and 0: a forgotten gamma or beta shows
        for name, p in ours.params.items():
            p[...] = _x(p.shape, seed=9) * 0.5 + (1.0 if name == "weight" else 0.0)
    for step, shape in enumerate(shapes):
        theirs.zero_grad(set_to_none=True)  # torch accumulates: each step's own gradients
        compare(ours.train(), theirs.train(), [_x(shape, seed=step + 1)], dtype, seed=step)
        _buffers_agree(ours, theirs, dtype, step)
    theirs.zero_grad(set_to_none=True)
    compare(ours.eval(), theirs.eval(), [_x(shapes[-1], seed=8)], dtype, seed=7)
    _buffers_agree(ours, theirs, dtype, "eval")


# --------------------------------------------------------------------------------------
# BatchNorm3d
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [
    {}, {"momentum": None}, {"momentum": 0.7, "eps": 1e-3}, {"affine": False},
    {"track_running_stats": False}, {"bias": False},
    {"affine": False, "track_running_stats": False, "momentum": None},
])
def test_batchnorm3d_against_torch(dtype, kwargs):
    """Three training steps (the cumulative average of momentum=None needs more than one),
    the buffers after each, then eval mode."""
    _steps(BatchNorm3d(3, dtype=dtype, **kwargs), torch.nn.BatchNorm3d(3, **kwargs),
           [(2, 3, 2, 3, 2), (3, 3, 1, 2, 2), (2, 3, 2, 2, 2)], dtype)


def test_batchnorm3d_empty_batch_counts_but_moves_nothing():
    ours, theirs = BatchNorm3d(2, momentum=None), torch.nn.BatchNorm3d(2, momentum=None).double()
    compare(ours, theirs, [np.zeros((0, 2, 2, 2, 2))], np.float64)
    _buffers_agree(ours, theirs, np.float64, "empty")
    assert int(ours.buffers["num_batches_tracked"]) == 1
    assert ours.buffers["running_var"].tolist() == [1.0, 1.0]


# --------------------------------------------------------------------------------------
# InstanceNorm1d, InstanceNorm2d
# --------------------------------------------------------------------------------------
IN_KWARGS = [
    {}, {"affine": True}, {"affine": True, "bias": False}, {"eps": 1e-3, "momentum": 0.3},
    {"track_running_stats": True}, {"track_running_stats": True, "momentum": 0.6, "affine": True},
    {"track_running_stats": True, "momentum": None},
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", IN_KWARGS)
@pytest.mark.parametrize("cls, shapes", [
    (InstanceNorm1d, [(2, 3, 5), (4, 3, 3)]),
    (InstanceNorm1d, [(3, 5), (3, 4)]),  # unbatched
    (InstanceNorm2d, [(2, 3, 3, 2), (1, 3, 2, 4)]),
    (InstanceNorm2d, [(3, 2, 3), (3, 3, 3)]),  # unbatched
])
def test_instancenorm_against_torch(dtype, kwargs, cls, shapes):
    """Train steps (running statistics, where tracked, updated as torch: the batch average
    of the per-instance mean and unbiased variance; momentum=None no update at all), then
    eval mode (normalised with them, the one-term backward)."""
    _steps(cls(3, dtype=dtype, **kwargs), getattr(torch.nn, cls.__name__)(3, **kwargs),
           shapes, dtype)


def test_instancenorm_is_per_sample_and_channel():
    """Each (sample, channel) row of the output has mean 0 and biased variance
    1 - eps/(var + eps); the samples do not see each other."""
    x = _x((3, 2, 6)) * np.array([1.0, 5.0])[:, None] + 2.0
    y = InstanceNorm1d(2, eps=0.0).forward(x)
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-14)
    np.testing.assert_allclose(y.var(-1), 1.0, rtol=1e-13)
    y1 = InstanceNorm1d(2, eps=0.0).forward(x[:1])
    np.testing.assert_allclose(y1, y[:1], rtol=1e-13, atol=1e-15)


def test_instancenorm_channel_mismatch_warns_or_refuses_as_torch():
    x = _x((2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        ours = InstanceNorm1d(3).forward(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.InstanceNorm1d(3).double()(torch.tensor(x))
    np.testing.assert_allclose(ours, theirs.numpy(), **TOL[np.float64])
    for kwargs in ({"affine": True}, {"track_running_stats": True}):
        with pytest.raises(ValueError, match=r"InstanceNorm1d: input has 4 channels on dim 1 "
                                             r"\(shape \(2, 4, 5\)\), expected num_features=3"):
            InstanceNorm1d(3, **kwargs).forward(x)
        with pytest.raises((ValueError, RuntimeError)), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns before it fails
            torch.nn.InstanceNorm1d(3, **kwargs).double()(torch.tensor(x))


@pytest.mark.parametrize("make, shape, match", [
    (lambda: InstanceNorm1d(3), (2, 3, 1), "expected more than 1 spatial element"),
    (lambda: InstanceNorm2d(3), (3, 1, 1), "expected more than 1 spatial element"),
    (lambda: InstanceNorm1d(3), (2, 3, 2, 2), r"must be \(N, C, L\) or \(C, L\)"),
    (lambda: InstanceNorm2d(3), (3, 4), r"must be \(N, C, H, W\) or \(C, H, W\)"),
    (lambda: BatchNorm3d(3), (2, 3, 2, 2), r"must be \(N, C, D, H, W\)"),
    (lambda: BatchNorm3d(3), (2, 4, 2, 2, 2), "input has 4 channels"),
    (lambda: BatchNorm3d(3), (1, 3, 1, 1, 1), "expected more than 1 value per channel"),
])
def test_bad_input_refused_where_torch_refuses_it(make, shape, match):
    layer = make()
    with pytest.raises(ValueError, match=f"{type(layer).__name__}: .*{match}"):
        layer.forward(_x(shape))
    twin = getattr(torch.nn, type(layer).__name__)(*[layer.config[k] for k in ("num_features",)],
                                                   **{k: v for k, v in layer.config.items()
                                                      if k != "num_features"}).double()
    with pytest.raises((ValueError, RuntimeError, IndexError)):
        twin(torch.tensor(_x(shape)))


def test_instancenorm_refuses_an_empty_batch_when_updating_running_statistics():
    """torch refuses it with affine parameters (IndexError) and, without, writes NaN into
    its running statistics; we refuse it always, naming the problem."""
    x = np.zeros((0, 3, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm1d: an empty batch \(input of shape "
                                         r"\(0, 3, 4\)\) cannot update the running statistics"):
        InstanceNorm1d(3, track_running_stats=True).forward(x)
    with pytest.raises(IndexError):
        torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True)(torch.tensor(x))
    theirs = torch.nn.InstanceNorm1d(3, track_running_stats=True).double()
    theirs(torch.tensor(x))
    assert torch.isnan(theirs.running_mean).all()
    assert InstanceNorm1d(3, track_running_stats=True).eval().forward(x).shape == x.shape


def test_instancenorm_accepts_what_torch_accepts():
    """One position is fine in eval mode with running statistics, an empty batch without
    them, and no positions at all; as torch."""
    for layer, shape in [(InstanceNorm1d(3, track_running_stats=True).eval(), (2, 3, 1)),
                         (InstanceNorm1d(3), (0, 3, 4)), (InstanceNorm2d(3), (2, 3, 0, 2))]:
        theirs = getattr(torch.nn, type(layer).__name__)(3, **{
            k: v for k, v in layer.config.items() if k != "num_features"}).double()
        theirs.train(layer.training)
        compare(layer, theirs, [_x(shape)], np.float64)


@pytest.mark.parametrize("build, error, match", [
    (lambda: InstanceNorm1d(0), ValueError, "InstanceNorm1d: num_features must be >= 1"),
    (lambda: InstanceNorm2d(3, eps=-1.0), ValueError, "InstanceNorm2d: eps must be >= 0"),
    (lambda: InstanceNorm2d(3, momentum="0.1"), TypeError, "momentum must be a float"),
    (lambda: BatchNorm3d(2.0), TypeError, "BatchNorm3d: num_features must be an integer"),
    (lambda: BatchNorm3d(3, dtype=np.int32), TypeError, "dtype must be float32 or float64"),
    (lambda: LocalResponseNorm(0), ValueError, "LocalResponseNorm: size must be >= 1"),
    (lambda: LocalResponseNorm(2.5), TypeError, "LocalResponseNorm: size must be an integer"),
    (lambda: LocalResponseNorm(2, alpha="a"), TypeError, "alpha must be a real number"),
    (lambda: LocalResponseNorm(2, beta=np.nan), ValueError, "beta must be finite"),
    (lambda: LocalResponseNorm(2, k=True), TypeError, "k must be a real number"),
])
def test_bad_constructor_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_instancenorm_functional_pair():
    """instancenorm_forward is group norm with one channel per group; with running
    statistics (use_input_stats=False) the backward is the one-term one."""
    x, dout = _x((3, 4, 5)), _x((3, 4, 5), seed=2)
    g, b = _x(4, seed=3), _x(4, seed=4)
    y, cache = layers.instancenorm_forward(x, g, b, 1e-5)
    y_gn, cache_gn = layers.groupnorm_forward(x, g, b, 4, 1e-5)
    np.testing.assert_allclose(y, y_gn, rtol=1e-13, atol=1e-14)
    for a, a_gn in zip(layers.instancenorm_backward(dout, cache),
                       layers.groupnorm_backward(dout, cache_gn, 4)):
        np.testing.assert_allclose(a, a_gn, rtol=1e-12, atol=1e-13)
    rm, rv = _x(4, seed=5), np.linspace(0.5, 2.0, 4)
    y, cache = layers.instancenorm_forward(x, g, None, 1e-5, rm, rv, use_input_stats=False)
    s = 1 / np.sqrt(rv + 1e-5)[:, None]
    np.testing.assert_allclose(y, (x - rm[:, None]) * s * g[:, None], rtol=1e-13)
    dx, dg, db = layers.instancenorm_backward(dout, cache, has_beta=False)
    np.testing.assert_allclose(dx, dout * g[:, None] * s, rtol=1e-13)
    assert db is None and dg.shape == (4,)
    with pytest.raises(TypeError, match="needs running_mean and running_var"):
        layers.instancenorm_forward(x, None, None, use_input_stats=False)


# --------------------------------------------------------------------------------------
# LocalResponseNorm
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [
    {"size": 1}, {"size": 2}, {"size": 3}, {"size": 4, "alpha": 1.0},
    {"size": 5, "alpha": 0.5, "beta": 0.6, "k": 0.7}, {"size": 9, "alpha": 2.0, "k": 2.0},
    {"size": 3, "alpha": 1.5, "beta": 1.0, "k": 1.0},
])
@pytest.mark.parametrize("shape", [(2, 6, 3), (2, 5, 3, 2), (1, 4, 2, 2, 3), (1, 3, 2, 1, 2, 2),
                                   (2, 1, 4)])
def test_local_response_norm_against_torch(dtype, kwargs, shape):
    """3-d to 6-d inputs, even and odd windows, windows wider than the channels, alpha of
    order 1 (the cross-channel term as large as the direct one)."""
    compare(LocalResponseNorm(**kwargs), torch.nn.LocalResponseNorm(**kwargs), [_x(shape)],
            dtype)


def _lrn_loops(x, size, alpha, beta, k):
    """The definition, one channel at a time: y_c = x_c / (k + alpha/n sum_W(c) x^2)^beta."""
    C = x.shape[1]
    y = np.empty_like(x)
    for c in range(C):
        lo, hi = max(0, c - size // 2), min(C - 1, c + (size - 1) // 2)
        y[:, c] = x[:, c] / (k + alpha / size * (x[:, lo:hi + 1] ** 2).sum(1)) ** beta
    return y


def test_local_response_norm_functional_pair():
    """The forward is the definition; the backward is its vector-Jacobian product, checked
    by central differences on the definition (h = 1e-6: truncation ~h^2 f'''/6 ~ 1e-12,
    rounding ~1e-16/h ~ 1e-10 of values O(1): rtol 1e-7 holds with room)."""
    x, g = _x((2, 5, 3)), _x((2, 5, 3), seed=2)
    args = (4, 0.8, 0.7, 1.3)
    y, cache = layers.local_response_norm_forward(x, *args)
    np.testing.assert_allclose(y, _lrn_loops(x, *args), rtol=1e-14)
    dx = layers.local_response_norm_backward(g, cache)
    h = 1e-6
    fd = np.empty_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        fd[i] = ((_lrn_loops(x + e, *args) - _lrn_loops(x - e, *args)) * g).sum() / (2 * h)
    np.testing.assert_allclose(dx, fd, rtol=1e-7, atol=1e-9)
    # the gradient reaches every channel of the window: one upstream entry moves n inputs
    e = np.zeros_like(x)
    e[0, 2, 1] = 1.0
    reached = np.flatnonzero(layers.local_response_norm_backward(e, cache)[0, :, 1])
    assert reached.tolist() == [0, 1, 2, 3]  # channels 2-2 .. 2+1 for n = 4


def test_local_response_norm_empty_and_bad_input():
    layer = LocalResponseNorm(3)
    for shape in [(0, 4, 3), (2, 0, 3)]:
        assert layer.forward(np.zeros(shape)).shape == shape
        assert layer.backward(np.zeros(shape)).shape == shape
    with pytest.raises(ValueError, match=r"LocalResponseNorm: input must be \(N, C, \*\) "
                                         r"with at least one dim after C"):
        layer.forward(_x((2, 5)))
    with pytest.raises(ValueError):
        torch.nn.LocalResponseNorm(3)(torch.tensor(_x((2, 5))))
    with pytest.raises(ValueError, match="non-finite"):
        layer.forward(np.full((1, 2, 2), np.inf))
    assert layer.forward(_x((2, 3, 2), seed=3).astype(np.float32)).dtype == np.float32


# --------------------------------------------------------------------------------------
# torch's own samples: module_db
# --------------------------------------------------------------------------------------
def test_module_db_samples_agree_with_torch():
    """Every module_db sample of the four (positional constructor arguments such as
    ``(3, 0.001, 0.3, False, True)``, unbatched inputs, an empty batch), forward and every
    gradient in float64, each passing (torch refuses none of them)."""
    samples = module_db_samples(NEW_NORMS)
    assert {name for name, _, _ in samples} == set(NEW_NORMS)
    for name, info, sample in samples:
        compare_module_db_sample(name, info, sample)
    assert len(samples) >= 20, len(samples)
