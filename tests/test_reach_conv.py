"""Conv3d, ConvTranspose1d, MaxPool3d and AdaptiveAvgPool1d (issue 18) against the torch
module directly: the same weights copied in, the same inputs, forward and the backward of
every input and parameter for a random upstream gradient, in float64 (rtol 1e-10,
atol 1e-12: a handful of roundings either side) and float32 (rtol 1e-5, atol 1e-6: ~100 ulp
of float32, for standard-normal inputs and sums of at most a few dozen terms, which the
shapes here keep), unbatched inputs as torch takes them, ties in max pooling as torch breaks
them, bad input refused with a ValueError/TypeError naming the problem, the functional pairs
the layers are built on, and torch's own module_db samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from manual import layers
from manual.layers import (AdaptiveAvgPool1d, Conv2d, Conv3d, ConvTranspose1d, MaxPool2d,
                           MaxPool3d)
from manual.layers.conv import input_grad, input_grad_flipped

from _layers import DTYPES, arguments, compare, compare_module_db_sample, module_db_samples
from _layers import x_of as _x

NEW = ["Conv3d", "ConvTranspose1d", "MaxPool3d", "AdaptiveAvgPool1d"]
PAIRS = ["conv3d_forward", "conv3d_backward", "conv_transpose1d_forward",
         "conv_transpose1d_backward", "max_pool3d_forward", "max_pool3d_backward",
         "adaptive_avg_pool1d_forward", "adaptive_avg_pool1d_backward"]


@pytest.mark.parametrize("name", NEW + PAIRS)
def test_exported(name):
    assert name in layers.__all__ and hasattr(layers, name)


@pytest.mark.parametrize("name", NEW)
def test_arguments_names_order_and_defaults_are_torchs(name):
    """The constructor as torch's (less ``device``/``dtype``, and our ``rng`` seed)."""
    assert arguments(getattr(layers, name)) == arguments(getattr(torch.nn, name))


# --------------------------------------------------------------------------------------
# Conv3d
# --------------------------------------------------------------------------------------
CONV3D = [
    (dict(in_channels=2, out_channels=3, kernel_size=2), (2, 2, 3, 4, 3)),
    (dict(in_channels=2, out_channels=2, kernel_size=(1, 2, 3), stride=(2, 1, 2),
          padding=(1, 0, 2)), (2, 2, 4, 3, 5)),
    (dict(in_channels=4, out_channels=2, kernel_size=2, dilation=(2, 1, 1), groups=2,
          bias=False), (1, 4, 5, 3, 3)),
    (dict(in_channels=2, out_channels=4, kernel_size=(2, 3, 2), padding="same",
          groups=2), (1, 2, 3, 4, 3)),
    (dict(in_channels=2, out_channels=2, kernel_size=3, padding="same", dilation=(1, 2, 1)),
     (1, 2, 3, 5, 3)),
    (dict(in_channels=2, out_channels=3, kernel_size=2, padding="valid", stride=3),
     (2, 2, 5, 4, 5)),
    (dict(in_channels=2, out_channels=3, kernel_size=2, padding=2), (2, 2, 2, 2, 2)),
    (dict(in_channels=2, out_channels=3, kernel_size=(2, 1, 2)), (2, 3, 3, 4)),  # unbatched
    (dict(in_channels=2, out_channels=3, kernel_size=2), (0, 2, 3, 3, 3)),  # empty batch
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs, shape", CONV3D)
def test_conv3d_against_torch(dtype, kwargs, shape):
    compare(Conv3d(**kwargs, dtype=dtype, rng=3), torch.nn.Conv3d(**kwargs), [_x(shape)],
            dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv3d_of_depth_one_is_conv2d_bit_for_bit(dtype):
    """A (1, kh, kw) kernel on a depth-1 input: the N-d im2col builds Conv2d's matrices
    exactly, so every number is identical, not merely close."""
    kw = dict(in_channels=4, out_channels=6, stride=(1, 2), padding=(1, 2), dilation=(2, 1),
              groups=2)
    c2 = Conv2d(kernel_size=(2, 3), **kw, dtype=dtype, rng=5)
    c3 = Conv3d(kernel_size=(1, 2, 3), stride=(1, 1, 2), padding=(0, 1, 2),
                dilation=(1, 2, 1), **{k: kw[k] for k in ("in_channels", "out_channels",
                                                           "groups")}, dtype=dtype, rng=5)
    c3.params["weight"][...] = c2.params["weight"][:, :, None]
    c3.params["bias"][...] = c2.params["bias"]
    x = _x((2, 4, 7, 6)).astype(dtype)
    y2, y3 = c2.forward(x), c3.forward(x[:, :, None])
    np.testing.assert_array_equal(y3[:, :, 0], y2)
    g = _x(y2.shape, seed=2).astype(dtype)
    np.testing.assert_array_equal(c3.backward(g[:, :, None])[:, :, 0], c2.backward(g))
    np.testing.assert_array_equal(c3.grads["weight"][:, :, 0], c2.grads["weight"])
    np.testing.assert_array_equal(c3.grads["bias"], c2.grads["bias"])


# --------------------------------------------------------------------------------------
# ConvTranspose1d
# --------------------------------------------------------------------------------------
CONVT1D = [
    (dict(in_channels=3, out_channels=2, kernel_size=3), (2, 3, 5)),
    (dict(in_channels=3, out_channels=2, kernel_size=3, stride=2, padding=1,
          output_padding=1), (2, 3, 5)),
    (dict(in_channels=4, out_channels=6, kernel_size=2, stride=3, padding=1,
          output_padding=2, groups=2), (2, 4, 4)),  # output_padding > padding: bias only
    (dict(in_channels=2, out_channels=3, kernel_size=2, dilation=3, output_padding=2,
          bias=False), (2, 2, 4)),
    (dict(in_channels=2, out_channels=2, kernel_size=3, padding=2), (2, 2, 4)),
    (dict(in_channels=2, out_channels=3, kernel_size=4, stride=2), (2, 5)),  # unbatched
    (dict(in_channels=2, out_channels=3, kernel_size=3), (0, 2, 4)),  # empty batch
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs, shape", CONVT1D)
def test_conv_transpose1d_against_torch(dtype, kwargs, shape):
    compare(ConvTranspose1d(**kwargs, dtype=dtype, rng=3), torch.nn.ConvTranspose1d(**kwargs),
            [_x(shape)], dtype)


def test_conv_transpose1d_output_padding_lengthens_the_output():
    kw = dict(in_channels=1, out_channels=1, kernel_size=3, stride=2, padding=1)
    assert ConvTranspose1d(**kw).forward(np.ones((1, 1, 4))).shape == (1, 1, 7)
    assert ConvTranspose1d(**kw, output_padding=1).forward(np.ones((1, 1, 4))).shape == (1, 1, 8)


# --------------------------------------------------------------------------------------
# MaxPool3d
# --------------------------------------------------------------------------------------
MAXPOOL3D = [
    ((2,), {}, (2, 2, 4, 4, 4)),
    ((2, 1), {}, (1, 2, 3, 4, 3)),
    ((3, 2, 1), {}, (1, 2, 4, 5, 5)),
    (((1, 2, 3), (1, 2, 2), (0, 1, 1)), dict(dilation=(2, 1, 1)), (1, 2, 5, 5, 6)),
    ((3, 2, 1), dict(ceil_mode=True), (1, 2, 4, 6, 5)),
    ((2, 2), dict(dilation=2, ceil_mode=True), (1, 1, 6, 5, 7)),
    ((2,), {}, (2, 4, 5, 4)),  # unbatched
    ((2,), {}, (0, 2, 4, 4, 4)),  # empty batch
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs, shape", MAXPOOL3D)
def test_max_pool3d_against_torch(dtype, args, kwargs, shape):
    compare(MaxPool3d(*args, **kwargs), torch.nn.MaxPool3d(*args, **kwargs), [_x(shape)],
            dtype)


def _with_indices_against_torch(ours, theirs, x, seed=5):
    """Forward and indices of a pooling layer with ``return_indices`` exactly (a maximum
    is an element), and its input gradient: a sum of the upstream entries of the windows
    whose maximum an element is, at most prod(kernel) of them (one per kernel offset).
    Torch adds them in the input's dtype, we in float64 rounded once: the two differ by at
    most prod(kernel) roundings of a partial sum below prod(kernel)·max|g| (tolerance
    prod(kernel)²·max|g|·eps, exact where no windows overlap)."""
    y, idx = ours.forward(x)
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = theirs(tx)
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(idx, tidx.numpy())
    assert idx.dtype == np.int64
    g = _x(y.shape, seed=seed).astype(x.dtype)
    ty.backward(torch.tensor(g))
    k = int(np.prod(ours.kernel_size))
    atol = k * k * np.abs(g).max(initial=0) * np.finfo(x.dtype).eps
    np.testing.assert_allclose(ours.backward((g, None)), tx.grad.numpy(), rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kwargs, shape", [
    ((2,), {}, (2, 3, 4, 4, 4)),
    ((3, 1, 1), {}, (1, 2, 4, 5, 3)),  # overlapping windows share maxima
    ((3, 2, 1), dict(ceil_mode=True, dilation=(1, 2, 1)), (1, 2, 5, 6, 5)),
    ((2, 1), {}, (2, 3, 4, 3)),  # unbatched
])
def test_max_pool3d_ties_and_indices_as_torch(dtype, args, kwargs, shape):
    """Rounded inputs (many ties): the gradient goes to the first maximum in (depth, row,
    column) window order, overlaps add, and the indices are torch's, in both dtypes."""
    x = np.round(_x(shape)).astype(dtype)
    _with_indices_against_torch(MaxPool3d(*args, return_indices=True, **kwargs),
                                torch.nn.MaxPool3d(*args, return_indices=True, **kwargs), x)


def test_max_pool3d_first_maximum_wins_a_tie():
    """A 2x2x2 window of equal values: torch and we send the whole gradient to element 0."""
    layer = MaxPool3d(2, return_indices=True)
    y, idx = layer.forward(np.zeros((1, 1, 2, 2, 2)))
    assert idx.ravel().tolist() == [0]
    assert layer.backward(np.ones_like(y)).ravel().tolist() == [1.0] + [0.0] * 7


def test_max_pool3d_of_depth_one_is_max_pool2d():
    x = _x((2, 3, 7, 6))
    y2 = MaxPool2d(3, 2, 1, ceil_mode=True).forward(x)
    layer = MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1), ceil_mode=True)
    np.testing.assert_array_equal(layer.forward(x[:, :, None])[:, :, 0], y2)


# --------------------------------------------------------------------------------------
# AdaptiveAvgPool1d
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_size", [1, 3, (4,), 7, 5])
@pytest.mark.parametrize("shape", [(2, 3, 7), (3, 5), (1, 2, 1)])
def test_adaptive_avg_pool1d_against_torch(dtype, output_size, shape):
    compare(AdaptiveAvgPool1d(output_size), torch.nn.AdaptiveAvgPool1d(output_size),
            [_x(shape)], dtype)


def test_adaptive_avg_pool1d_output_size_0_is_empty():
    """torch's forward gives an empty output; its backward then refuses the empty
    gradient (a RuntimeError), ours returns the true gradient, zeros."""
    layer, x = AdaptiveAvgPool1d(0), _x((2, 3, 4))
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.AdaptiveAvgPool1d(0)(tx)
    y = layer.forward(x)
    assert y.shape == tuple(ty.shape) == (2, 3, 0)
    with pytest.raises(RuntimeError, match="non-zero size"):
        ty.backward(torch.zeros(ty.shape, dtype=ty.dtype))
    np.testing.assert_array_equal(layer.backward(np.zeros(y.shape)), np.zeros_like(x))


def test_adaptive_avg_pool1d_overlapping_windows_add():
    layer = AdaptiveAvgPool1d(2)
    np.testing.assert_array_equal(layer.forward(np.array([[[1.0, 2.0, 6.0]]])),
                                  [[[1.5, 4.0]]])  # windows [0, 2) and [1, 3)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 2))), [[[0.5, 1.0, 0.5]]])


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, x, exc, match", [
    (lambda: Conv3d(2, 3, 2), np.zeros((1, 3, 3, 3, 3)), ValueError,
     "expected 2 input channels"),
    (lambda: Conv3d(2, 3, 2), np.zeros((2, 3, 3)), ValueError,
     r"\(N, C, D, H, W\) or \(C, D, H, W\)"),
    (lambda: Conv3d(2, 3, 3), np.zeros((1, 2, 2, 5, 5)), ValueError, "smaller than the dilated"),
    (lambda: Conv3d(2, 3, (2, 2)), None, ValueError, "tuple of 3 ints"),
    (lambda: Conv3d(2, 3, 2.0), None, TypeError, "kernel_size"),
    (lambda: Conv3d(2, 3, 2, stride=2, padding="same"), None, ValueError, "strided"),
    (lambda: Conv3d(2, 3, 2, padding="full"), None, ValueError, "'valid' or 'same'"),
    (lambda: Conv3d(2, 3, 2, groups=2, bias=True), None, ValueError, "divisible by groups"),
    (lambda: Conv3d(2, 3, 2, padding_mode="mirror"), None, ValueError, "padding_mode"),
    (lambda: Conv3d(2, 3, 2, padding=2, padding_mode="reflect"), np.zeros((1, 2, 2, 3, 3)),
     ValueError, "reflection padding must be less than"),
    (lambda: Conv3d(2, 3, 2), np.full((1, 2, 2, 2, 2), np.nan), ValueError, "non-finite"),
    (lambda: ConvTranspose1d(2, 3, 3), np.zeros((1, 2, 3, 4)), ValueError,
     r"\(N, C, L\) or \(C, L\)"),
    (lambda: ConvTranspose1d(2, 3, 3, stride=2, output_padding=2), None, ValueError,
     "output_padding"),
    (lambda: ConvTranspose1d(2, 3, 3, padding="same"), None, ValueError, "int or a tuple"),
    (lambda: ConvTranspose1d(2, 3, 3, padding_mode="circular"), None, ValueError,
     "padding_mode='zeros'"),
    (lambda: ConvTranspose1d(2, 3, 2, padding=3), np.zeros((1, 2, 2)), ValueError,
     "negative output size"),
    (lambda: MaxPool3d(2, padding=2), None, ValueError, "at most half"),
    (lambda: MaxPool3d((2, 2)), None, ValueError, "tuple of 3 ints"),
    (lambda: MaxPool3d(3), np.zeros((1, 1, 2, 4, 4)), ValueError, "too small"),
    (lambda: MaxPool3d(2), np.zeros((2, 4, 4)), ValueError, r"\(N, C, D, H, W\)"),
    (lambda: MaxPool3d(2, stride=0), None, ValueError, "stride must be >= 1"),
    (lambda: AdaptiveAvgPool1d((2, 3)), None, ValueError, "tuple of one int"),
    (lambda: AdaptiveAvgPool1d(None), None, TypeError, "output_size"),
    (lambda: AdaptiveAvgPool1d(-1), None, ValueError, ">= 0"),
    (lambda: AdaptiveAvgPool1d(2), np.zeros((1, 2, 0)), ValueError, "empty length"),
    (lambda: AdaptiveAvgPool1d(2), np.zeros((1, 2, 3, 4)), ValueError, r"\(N, C, L\)"),
    (lambda: AdaptiveAvgPool1d(2), [["a"]], TypeError, "real numbers"),
])
def test_bad_input(make, x, exc, match):
    with pytest.raises(exc, match=match):
        make().forward(x)


def test_backward_checks_dout():
    layer = Conv3d(2, 3, 2)
    layer.forward(np.zeros((1, 2, 3, 3, 3)))
    with pytest.raises(ValueError, match="expected the output's shape"):
        layer.backward(np.zeros((1, 3, 2, 2, 3)))


# --------------------------------------------------------------------------------------
# functional pairs
# --------------------------------------------------------------------------------------
def test_conv3d_pair_is_the_textbook_sum():
    x, w, b = _x((2, 3, 4, 3, 5)), _x((4, 3, 2, 2, 3), 2), _x(4, 3)
    y, cache = layers.conv3d_forward(x, w, b, stride=(1, 1, 2))
    win = np.lib.stride_tricks.sliding_window_view(x, (2, 2, 3), axis=(2, 3, 4))
    ref = np.einsum("nctijrpq,ocrpq->notij", win[:, :, :, :, ::2], w) + b[:, None, None, None]
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    dx, dw, db = layers.conv3d_backward(np.ones_like(y), cache)
    np.testing.assert_allclose(dw, np.einsum("nctijrpq->crpq", win[:, :, :, :, ::2])[None]
                               .repeat(4, axis=0), rtol=1e-12)
    np.testing.assert_allclose(db, np.full(4, y[0, 0].size * 2.0), rtol=1e-15)
    assert dx.shape == x.shape
    _, dw2, db2 = layers.conv3d_backward(np.ones_like(y), cache, need_dx=False)
    np.testing.assert_array_equal(dw2, dw)


@pytest.mark.parametrize("in_size, stride, pad, dilation, groups", [
    ((5, 4, 6), (2, 1, 3), (1, 0, 2), (1, 2, 1), 2),
    ((4, 4, 4), (1, 1, 1), (3, 0, 1), (1, 1, 2), 1),  # padding beyond the kernel's reach
    ((9,), (2,), (1,), (3,), 2),
])
def test_col2im_is_the_flipped_kernel_correlation_in_any_dims(in_size, stride, pad, dilation,
                                                              groups):
    """The N-d :func:`input_grad` (col2im, what the layers use) equals the textbook
    correlation of the stride-dilated upstream gradient with the flipped kernel, in 1-d and
    3-d as the 2-d test checks it."""
    n = len(in_size)
    w = _x((4, 4 // groups, *(2,) * n), 2)
    x = _x((2, 4, *in_size))
    forward = layers.conv3d_forward if n == 3 else layers.conv1d_forward
    y, _ = forward(x, w, None, stride, pad, dilation, groups)
    dy = _x(y.shape, 3)
    a = input_grad(dy, w, in_size, stride, pad, dilation, groups)
    b = input_grad_flipped(dy, w, in_size, stride, pad, dilation, groups)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_conv_transpose1d_pair_is_the_adjoint_of_conv1d():
    """<conv_transpose1d(u), v> = <u, conv1d(v)> with the same weight and arguments, and the
    backward's dx is that conv1d."""
    u, w = _x((2, 4, 5)), _x((4, 3, 3), 2)  # w: (in=4, out=3, k) for the transpose
    kw = dict(stride=2, padding=1, dilation=1, groups=1)
    y, cache = layers.conv_transpose1d_forward(u, w, None, output_padding=1, **kw)
    v = _x(y.shape, 3)
    cv, _ = layers.conv1d_forward(v, w, None, **kw)
    np.testing.assert_allclose((y * v).sum(), (u * cv).sum(), rtol=1e-12)
    dx, dw, db = layers.conv_transpose1d_backward(v, cache)
    np.testing.assert_allclose(dx, cv, rtol=1e-12, atol=1e-13)
    assert dw.shape == w.shape and db is None


def test_max_pool3d_pair():
    x = _x((2, 3, 4, 6, 2))
    y, cache = layers.max_pool3d_forward(x, 2)
    np.testing.assert_array_equal(y, x.reshape(2, 3, 2, 2, 3, 2, 1, 2).max(axis=(3, 5, 7)))
    dx = layers.max_pool3d_backward(np.ones_like(y), cache)
    assert dx.sum() == y.size and set(np.unique(dx)) <= {0.0, 1.0}
    np.testing.assert_array_equal(dx * x, np.where(dx > 0, x, 0.0))


def test_adaptive_avg_pool1d_pair():
    x = _x((2, 3, 8))
    y, cache = layers.adaptive_avg_pool1d_forward(x, 4)
    np.testing.assert_allclose(y, x.reshape(2, 3, 4, 2).mean(-1), rtol=1e-15)
    np.testing.assert_allclose(layers.adaptive_avg_pool1d_backward(np.ones_like(y), cache),
                               np.full_like(x, 0.5), rtol=1e-15)


# --------------------------------------------------------------------------------------
# torch's own samples: module_db
# --------------------------------------------------------------------------------------
def test_module_db_samples_agree_with_torch():
    """Every sample torch's module_db has for these four modules (constructor arguments and
    inputs, unbatched ones and padding='same' included), forward and every gradient, in
    float64 (elementwise, TOL). MaxPool3d with ``return_indices`` returns ``(y, indices)``
    as torch does: the values and the indices are compared exactly and the gradient of
    ``y`` flows back. None of these samples is one torch refuses."""
    samples = module_db_samples(NEW)
    assert {name for name, _, _ in samples} == set(NEW)
    for name, info, sample in samples:
        c = sample.constructor_input
        if c.kwargs.get("return_indices"):
            x = sample.forward_input.args[0].detach().numpy()
            _with_indices_against_torch(MaxPool3d(*c.args, **c.kwargs),
                                        info.module_cls(*c.args, **c.kwargs), x)
        else:
            compare_module_db_sample(name, info, sample)
    assert len(samples) >= 13, len(samples)
