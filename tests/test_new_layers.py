"""The layers of issue 18 (padding, PReLU, GLU, RMSNorm, Bilinear, Upsample, AvgPool1d,
AdaptiveMaxPool2d) against the torch module directly: the same weights copied in, the same
inputs, forward and the backward of every input and parameter for a random upstream
gradient, in float64 (rtol 1e-10, atol 1e-12: a handful of roundings either side) and
float32 (rtol 1e-5, atol 1e-6: ~100 ulp of float32), unbatched inputs where torch takes
them, bad input refused with a ValueError/TypeError naming the problem, and the functional
pairs the layers are built on."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from manual import layers
from manual.layers import (GLU, AdaptiveMaxPool2d, AvgPool1d, Bilinear, PReLU,
                           ReflectionPad2d, RMSNorm, Upsample, ZeroPad2d)

from _layers import DTYPES, arguments, compare, compare_module_db_sample, module_db_samples
from _layers import x_of as _x



def test_importing_manual_layers_does_not_load_torch():
    code = "import sys, manual.layers; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


@pytest.mark.parametrize("name", ["ZeroPad2d", "ReflectionPad2d", "PReLU", "GLU", "RMSNorm",
                                  "Bilinear", "Upsample", "AvgPool1d", "AdaptiveMaxPool2d",
                                  "pad2d_forward", "pad2d_backward", "prelu_forward",
                                  "prelu_backward", "glu_forward", "glu_backward",
                                  "rmsnorm_forward", "rmsnorm_backward", "bilinear_forward",
                                  "bilinear_backward", "upsample_forward", "upsample_backward",
                                  "avg_pool1d_forward", "avg_pool1d_backward",
                                  "adaptive_max_pool2d_forward",
                                  "adaptive_max_pool2d_backward"])
def test_exported(name):
    assert name in layers.__all__ and hasattr(layers, name)


NEW_LAYERS = ["ZeroPad2d", "ReflectionPad2d", "PReLU", "GLU", "RMSNorm", "Bilinear", "Upsample",
              "AvgPool1d", "AdaptiveMaxPool2d"]


@pytest.mark.parametrize("name", NEW_LAYERS)
def test_arguments_names_order_and_defaults_are_torchs(name):
    """The constructor as torch's (less ``device``/``dtype``, and our ``rng`` seed)."""
    assert arguments(getattr(layers, name)) == arguments(getattr(torch.nn, name))


# --------------------------------------------------------------------------------------
# padding
# --------------------------------------------------------------------------------------
PADS = [1, (1, 2, 0, 3), (0, 0, 0, 0), (-1, 2, 1, -2), (2, 0, -1, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding", PADS)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5)])
def test_padding_against_torch(dtype, padding, shape):
    for cls in (ZeroPad2d, ReflectionPad2d):
        compare(cls(padding), getattr(torch.nn, cls.__name__)(padding), [_x(shape)], dtype)


@pytest.mark.parametrize("shape", [(4, 5), (1, 2, 2, 4, 5)])
def test_zero_pad_any_rank(shape):
    compare(ZeroPad2d((1, -1, 2, 0)), torch.nn.ZeroPad2d((1, -1, 2, 0)), [_x(shape)],
            np.float64)


def test_reflection_adds_mirrored_gradients():
    x = np.arange(3.0)[None, None, None]  # (1, 1, 1, 3)
    layer = ReflectionPad2d((2, 1, 0, 0))
    assert layer.forward(x).tolist() == [[[[2.0, 1.0, 0.0, 1.0, 2.0, 1.0]]]]
    # x1 read three times, x2 twice, x0 once
    assert layer.backward(np.ones((1, 1, 1, 6))).tolist() == [[[[1.0, 3.0, 2.0]]]]


@pytest.mark.parametrize("cls, args, x, exc, match", [
    (ZeroPad2d, ((1, 2, 3),), None, ValueError, "4-tuple"),
    (ZeroPad2d, (1.5,), None, TypeError, "ints"),
    (ZeroPad2d, (1,), np.zeros(5), ValueError, r"\(\*, H, W\)"),
    (ZeroPad2d, (-3,), np.zeros((1, 4, 5)), ValueError, "crops more"),
    (ReflectionPad2d, (1,), np.zeros((4, 5)), ValueError, r"\(N, C, H, W\)"),
    (ReflectionPad2d, (4,), np.zeros((1, 1, 4, 5)), ValueError, "less than the dimension"),
    (ReflectionPad2d, (1,), [["a"]], TypeError, "real numbers"),
])
def test_padding_bad_input(cls, args, x, exc, match):
    with pytest.raises(exc, match=match):
        cls(*args).forward(x if x is not None else np.zeros((1, 1, 4, 5)))


# --------------------------------------------------------------------------------------
# PReLU, GLU
# --------------------------------------------------------------------------------------
def _with_zeros(shape, seed=1):
    x = _x(shape, seed)
    x.ravel()[::3] = 0.0  # the kink: torch's slope there is the weight
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_parameters, shape", [(1, (2, 3, 4)), (3, (2, 3, 4)),
                                                   (3, (5, 3)), (4, (2, 4, 3, 2)),
                                                   (1, (7,)), (1, ())])
def test_prelu_against_torch(dtype, num_parameters, shape):
    ours = PReLU(num_parameters, init=0.1, dtype=dtype)
    ours.params["weight"][:] = np.linspace(-0.5, 0.7, num_parameters)
    compare(ours, torch.nn.PReLU(num_parameters), [_with_zeros(shape)], dtype)


def test_prelu_kink_uses_the_weight():
    layer = PReLU(init=0.3)
    layer.forward(np.array([-1.0, 0.0, 2.0]))
    assert layer.backward(np.ones(3)).tolist() == [0.3, 0.3, 1.0]
    assert layer.grads["weight"].tolist() == [-1.0]
    assert PReLU().params["weight"].tolist() == [0.25]  # torch's init


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim, shape", [(-1, (3, 4)), (0, (6, 2)), (1, (2, 4, 3)), (-1, (8,)),
                                        (2, (2, 3, 2))])
def test_glu_against_torch(dtype, dim, shape):
    x = _x(shape) * 10  # far into both tails of the sigmoid too
    compare(GLU(dim), torch.nn.GLU(dim), [x], dtype)


@pytest.mark.parametrize("layer, x, exc, match", [
    (PReLU(3), np.zeros(3), ValueError, r"num_parameters=3 needs an input \(N, 3, \*\)"),
    (PReLU(3), np.zeros((2, 4)), ValueError, "channels on dim 1"),
    (PReLU(), np.array([np.nan]), ValueError, "non-finite"),
    (GLU(), np.zeros((2, 3)), ValueError, "must be even"),
    (GLU(), np.zeros(()), ValueError, "at least 1-d"),
    (GLU(2), np.zeros((2, 4)), ValueError, "out of range"),
])
def test_activation_bad_input(layer, x, exc, match):
    with pytest.raises(exc, match=match):
        layer.forward(x)


@pytest.mark.parametrize("make, exc", [(lambda: PReLU(0), ValueError),
                                       (lambda: PReLU(1.5), TypeError),
                                       (lambda: PReLU(init="a"), TypeError),
                                       (lambda: GLU(dim=1.0), TypeError)])
def test_activation_badarguments(make, exc):
    with pytest.raises(exc):
        make()


def test_prelu_glu_functional_pairs():
    x = _with_zeros((2, 3, 4))
    w = np.array([0.1, 0.2, 0.3])
    y, cache = layers.prelu_forward(x, w)
    np.testing.assert_array_equal(y, np.where(x > 0, x, w[:, None] * x))
    dx, dw = layers.prelu_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(dx, np.where(x > 0, 1.0, np.broadcast_to(w[:, None], x.shape)))
    np.testing.assert_allclose(dw, np.where(x > 0, 0, x).sum(axis=(0, 2)), rtol=1e-15)
    y, cache = layers.glu_forward(x, 2)
    assert y.shape == (2, 3, 2) and layers.glu_backward(np.ones_like(y), cache).shape == x.shape


# --------------------------------------------------------------------------------------
# RMSNorm
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("normalized_shape, shape", [(4, (3, 4)), ((3, 4), (2, 3, 4)),
                                                     (4, (4,)), ([2, 3], (2, 3)),
                                                     (5, (2, 3, 5))])
@pytest.mark.parametrize("eps, affine", [(None, True), (1e-3, True), (None, False)])
def test_rmsnorm_against_torch(dtype, normalized_shape, shape, eps, affine):
    ours = RMSNorm(normalized_shape, eps=eps, elementwise_affine=affine, dtype=dtype)
    if affine:
        ours.params["weight"][:] = 1 + _x(ours.params["weight"].shape, seed=3)
    theirs = torch.nn.RMSNorm(normalized_shape, eps=eps, elementwise_affine=affine)
    compare(ours, theirs, [_x(shape)], dtype)


def test_rmsnorm_default_eps_is_the_dtype_machine_epsilon():
    x = np.zeros((2, 3), dtype=np.float32)
    x[0, 0] = 1e-4  # mean square 3.3e-9, far below eps: eps dominates
    y = RMSNorm(3, dtype=np.float32).forward(x)
    np.testing.assert_allclose(y[0, 0], 1e-4 / np.sqrt(1e-8 / 3 + np.finfo(np.float32).eps),
                               rtol=1e-6)
    assert RMSNorm(3).config == {"normalized_shape": (3,), "eps": None,
                                 "elementwise_affine": True}


@pytest.mark.parametrize("make, x, exc, match", [
    (lambda: RMSNorm(3), np.zeros((2, 4)), ValueError, "does not end with"),
    (lambda: RMSNorm((2, 3)), np.zeros(3), ValueError, r"\(\*, 2, 3\)"),
    (lambda: RMSNorm(3), np.array([1.0, np.inf, 0.0]), ValueError, "non-finite"),
    (lambda: RMSNorm(3, eps=-1.0), None, ValueError, "eps must be >= 0"),
    (lambda: RMSNorm(3, eps="a"), None, TypeError, "eps must be a float"),
    (lambda: RMSNorm(()), None, ValueError, "at least one dim"),
    (lambda: RMSNorm(0), None, ValueError, "normalized_shape"),
])
def test_rmsnorm_bad_input(make, x, exc, match):
    with pytest.raises(exc, match=match):
        make().forward(x)


def test_rmsnorm_functional_pair():
    x, w = _x((4, 5)), _x(5, seed=2)
    y, cache = layers.rmsnorm_forward(x, w, 1, 1e-6)
    np.testing.assert_allclose(y, x / np.sqrt((x ** 2).mean(1, keepdims=True) + 1e-6) * w,
                               rtol=1e-14)
    dx, dw = layers.rmsnorm_backward(np.ones_like(y), cache)
    assert dx.shape == x.shape and dw.shape == w.shape


# --------------------------------------------------------------------------------------
# Bilinear
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lead", [(5,), (2, 3), ()])
def test_bilinear_against_torch(dtype, bias, lead):
    ours = Bilinear(3, 4, 2, bias=bias, dtype=dtype, rng=7)
    compare(ours, torch.nn.Bilinear(3, 4, 2, bias=bias), [_x((*lead, 3)), _x((*lead, 4), 2)],
            dtype)


def test_bilinear_init_is_torchs_distribution():
    w = Bilinear(16, 3, 50, rng=0).params["weight"]
    assert w.shape == (50, 16, 3) and np.abs(w).max() <= 0.25 and np.abs(w).max() > 0.24
    assert Bilinear(2, 3, 4, rng=1).config == {"in1_features": 2, "in2_features": 3,
                                               "out_features": 4, "bias": True}


@pytest.mark.parametrize("x1, x2, exc, match", [
    (np.zeros((5, 2)), np.zeros((4, 3)), ValueError, "leading dims must match"),
    (np.zeros((5, 3)), np.zeros((5, 3)), ValueError, r"must be \(\*, 2\) and \(\*, 3\)"),
    (np.zeros(()), np.zeros(()), ValueError, "input1 must be"),
    (np.zeros(2), None, TypeError, "two inputs"),
])
def test_bilinear_bad_input(x1, x2, exc, match):
    with pytest.raises(exc, match=match):
        Bilinear(2, 3, 4).forward(x1, x2)
    with pytest.raises(ValueError, match="in1_features must be >= 1"):
        Bilinear(0, 3, 4)


def test_bilinear_functional_pair():
    x1, x2, w, b = _x((4, 2)), _x((4, 3), 2), _x((5, 2, 3), 3), _x(5, 4)
    y, cache = layers.bilinear_forward(x1, x2, w, b)
    np.testing.assert_allclose(y, np.einsum("ni,kij,nj->nk", x1, w, x2) + b, rtol=1e-13)
    dx1, dx2, dw, db = layers.bilinear_backward(np.ones_like(y), cache)
    assert (dx1.shape, dx2.shape, dw.shape, db.shape) == (x1.shape, x2.shape, w.shape, b.shape)


# --------------------------------------------------------------------------------------
# Upsample
# --------------------------------------------------------------------------------------
UPSAMPLE = [
    (dict(scale_factor=2), (2, 3, 4, 5)),
    (dict(scale_factor=3), (1, 2, 5)),
    (dict(scale_factor=1.7), (1, 2, 7, 3)),
    (dict(scale_factor=(0.5, 2.3)), (1, 2, 7, 3)),
    (dict(scale_factor=1.7, recompute_scale_factor=True), (1, 2, 7, 3)),
    (dict(size=(5, 11)), (2, 1, 3, 4)),
    (dict(size=4), (1, 2, 9, 7)),  # downsampling
    (dict(size=(2, 3, 5)), (1, 1, 3, 2, 4)),
    (dict(scale_factor=2.5), (1, 1, 3, 2, 4)),
]
LINEAR_MODE = {3: "linear", 4: "bilinear", 5: "trilinear"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs, shape", UPSAMPLE)
@pytest.mark.parametrize("mode", ["nearest", "linear-false", "linear-true"])
def test_upsample_against_torch(dtype, kwargs, shape, mode):
    if mode == "nearest":
        kw = dict(kwargs, mode="nearest")
    else:
        kw = dict(kwargs, mode=LINEAR_MODE[len(shape)], align_corners=mode.endswith("true"))
    compare(Upsample(**kw), torch.nn.Upsample(**kw), [_x(shape)], dtype)


@pytest.mark.parametrize("shape, scale", [((1, 2, 3), 2.2), ((1, 2, 3), 1.2),
                                          ((1, 1, 2, 3, 4), (1.0, 2.2, 1.3))])
def test_upsample_nearest_where_torchs_backward_is_not_its_forwards_gradient(shape, scale):
    """1-d/3-d nearest with a scale that is not 1 or 2 but gives O = I or 2I: torch's forward
    reads floor(o/scale), its backward uses the legacy shortcut (o, o // 2). Our forward is
    torch's, our backward the true vector-Jacobian product of it: <dx, x> = <g, y(x)> for
    the linear map y, checked against torch's forward, while torch's own gradient fails it."""
    x = _x(shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.Upsample(scale_factor=scale)(tx)
    layer = Upsample(scale_factor=scale)
    y = layer.forward(x)
    np.testing.assert_array_equal(y, ty.detach().numpy())
    g = _x(y.shape, seed=4)
    dx = layer.backward(g)
    ty.backward(torch.tensor(g))
    inner = float((g * y).sum())
    np.testing.assert_allclose((dx * x).sum(), inner, rtol=1e-12)
    assert not np.isclose((tx.grad.numpy() * x).sum(), inner, rtol=1e-6)  # torch's deviates


def test_upsample_bilinear_backward_adds_every_share():
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    layer = Upsample(scale_factor=2, mode="bilinear", align_corners=True)
    layer.forward(x)
    # the weights of each input element summed over the outputs: 16 outputs, 4 inputs
    np.testing.assert_allclose(layer.backward(np.ones((1, 1, 4, 4))).sum(), 16.0, rtol=1e-15)


@pytest.mark.parametrize("kwargs, x, exc, match", [
    (dict(), None, ValueError, "exactly one of size and scale_factor"),
    (dict(size=2, scale_factor=2), None, ValueError, "exactly one"),
    (dict(size=2, mode="bicubic"), None, ValueError, "mode must be one of"),
    (dict(size=2, align_corners=True), None, ValueError, "align_corners can only be set"),
    (dict(size=2, recompute_scale_factor=True), None, ValueError, "not meaningful"),
    (dict(size=2.5), None, TypeError, "size must be an int"),
    (dict(scale_factor="2"), None, TypeError, "scale_factor must be a float"),
    (dict(scale_factor=-1.0), None, ValueError, "positive"),
    (dict(size=2), np.zeros((2, 3)), ValueError, r"\(N, C, L\) or \(N, C, H, W\)"),
    (dict(size=2, mode="bilinear"), np.zeros((1, 2, 3)), ValueError,
     r"\(N, C, H, W\) for mode='bilinear'"),
    (dict(size=(2, 3)), np.zeros((1, 2, 3)), ValueError, "one entry per spatial dim"),
    (dict(scale_factor=0.1), np.zeros((1, 2, 3)), ValueError, "greater than 0"),
])
def test_upsample_bad_input(kwargs, x, exc, match):
    with pytest.raises(exc, match=match):
        Upsample(**kwargs).forward(x)


def test_upsample_functional_pair():
    x = _x((1, 2, 3, 4))
    y, cache = layers.upsample_forward(x, size=(6, 8))
    np.testing.assert_array_equal(y, x.repeat(2, axis=2).repeat(2, axis=3))
    dx = layers.upsample_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx, np.full_like(x, 4.0))


# --------------------------------------------------------------------------------------
# AvgPool1d, AdaptiveMaxPool2d
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs", [((3,), {}), ((3, 2, 1), {}),
                                          ((4, 3, 2), dict(ceil_mode=True)),
                                          ((3, 2, 1), dict(count_include_pad=False)),
                                          ((5, 2, 2), dict(ceil_mode=True,
                                                           count_include_pad=False))])
@pytest.mark.parametrize("shape", [(2, 3, 11), (3, 10)])
def test_avg_pool1d_against_torch(dtype, args, kwargs, shape):
    compare(AvgPool1d(*args, **kwargs), torch.nn.AvgPool1d(*args, **kwargs), [_x(shape)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_size", [3, (2, 4), (None, 3), (5, 1), (7, 6)])
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (3, 5, 9), (1, 1, 4, 4)])
def test_adaptive_max_pool2d_against_torch(dtype, output_size, shape):
    compare(AdaptiveMaxPool2d(output_size), torch.nn.AdaptiveMaxPool2d(output_size),
            [_x(shape)], dtype)


@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (3, 6, 4)])
def test_adaptive_max_pool2d_ties_and_indices_as_torch(shape):
    """Rounded inputs (many ties) and overlapping windows: the gradient goes to the first
    maximum in row-major window order and overlaps add, exactly as torch; the indices too."""
    x = np.round(_x(shape))
    layer = AdaptiveMaxPool2d((3, 3), return_indices=True)
    y, idx = layer.forward(x)
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = torch.nn.AdaptiveMaxPool2d((3, 3), return_indices=True)(tx)
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(idx, tidx.numpy())
    g = _x(y.shape, seed=5)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(layer.backward((g, None)), tx.grad.numpy(), rtol=1e-15,
                               atol=0)


@pytest.mark.parametrize("make, x, exc, match", [
    (lambda: AvgPool1d(3), np.zeros((1, 2, 3, 4)), ValueError, r"\(N, C, L\) or \(C, L\)"),
    (lambda: AvgPool1d(2, padding=2), None, ValueError, "at most half"),
    (lambda: AvgPool1d(5), np.zeros((1, 2, 3)), ValueError, "too small"),
    (lambda: AvgPool1d(2.0), None, TypeError, "kernel_size"),
    (lambda: AdaptiveMaxPool2d((1, 2, 3)), None, ValueError, "int or a pair"),
    (lambda: AdaptiveMaxPool2d(0), None, ValueError, "positive"),
    (lambda: AdaptiveMaxPool2d(2.5), None, TypeError, "ints or None"),
    (lambda: AdaptiveMaxPool2d(2), np.zeros((2, 3)), ValueError, r"\(N, C, H, W\)"),
    (lambda: AdaptiveMaxPool2d(2), np.zeros((1, 2, 0, 3)), ValueError, "empty spatial"),
])
def test_pool_bad_input(make, x, exc, match):
    with pytest.raises(exc, match=match):
        make().forward(x)


def test_pool_functional_pairs():
    x = _x((2, 3, 8))
    y, cache = layers.avg_pool1d_forward(x, 2)
    np.testing.assert_allclose(y, x.reshape(2, 3, 4, 2).mean(-1), rtol=1e-15)
    np.testing.assert_array_equal(layers.avg_pool1d_backward(np.ones_like(y), cache),
                                  np.full_like(x, 0.5))
    x = _x((2, 3, 4, 6))
    y, cache = layers.adaptive_max_pool2d_forward(x, (2, 3))
    np.testing.assert_array_equal(y, x.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5)))
    dx = layers.adaptive_max_pool2d_backward(np.ones_like(y), cache)
    assert dx.sum() == y.size and set(np.unique(dx)) <= {0.0, 1.0}


# --------------------------------------------------------------------------------------
# torch's own samples: module_db
# --------------------------------------------------------------------------------------
def test_module_db_samples_agree_with_torch():
    """Every sample torch's module_db has for these layers (constructor arguments and
    inputs, unbatched ones included), forward and every gradient, in float64 (elementwise,
    TOL). Not in float32: the samples reach 9 and sum thousands of terms (RMSNorm's and
    PReLU's weight gradients, Bilinear's products) that cancel, so an element's float32
    rounding error is relative to its terms, not to itself, and an elementwise 1e-5 is
    not a bound float32 arithmetic gives there (the float32 comparisons above use
    standard-normal inputs, a few dozen terms per sum)."""
    samples = module_db_samples(NEW_LAYERS)
    assert {name for name, _, _ in samples} >= set(NEW_LAYERS) - {"Upsample"}
    for name, info, sample in samples:
        compare_module_db_sample(name, info, sample)
    assert len(samples) >= 30, len(samples)
