"""The convolution and pooling functions: the identities their docstrings state, the
functional pairs against the classes, and torch's routing of max-pooling ties."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from manual.layers import (Conv2d, ConvTranspose2d, MaxPool2d, conv2d_backward,
                           conv2d_forward, conv_transpose2d_forward, max_pool2d_backward,
                           max_pool2d_forward)
from manual.layers.conv import input_grad, input_grad_flipped

# (in, out, kernel, stride, padding, dilation, groups, input size)
GEOMETRIES = [(3, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, (6, 5)),
              (4, 6, (2, 3), (2, 1), (1, 2), (2, 1), 2, (8, 7)),
              (2, 3, (2, 2), (3, 3), (3, 3), (1, 1), 1, (5, 4)),  # padding beyond the reach
              (4, 4, (3, 3), (2, 2), (0, 0), (2, 2), 4, (9, 9))]  # depthwise, rows unread


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: "-".join(map(str, g[2:7])))
def test_col2im_equals_the_convolution_with_the_flipped_kernel(geometry):
    c_in, c_out, k, s, p, d, g, hw = geometry
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, c_in, *hw))
    w = rng.standard_normal((c_out, c_in // g, *k))
    y, _ = conv2d_forward(x, w, None, s, p, d, g)
    dy = rng.standard_normal(y.shape)
    a = input_grad(dy, w, hw, s, p, d, g)
    b = input_grad_flipped(dy, w, hw, s, p, d, g)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    xt = torch.tensor(x, requires_grad=True)
    (dx_t,) = torch.autograd.grad(F.conv2d(xt, torch.tensor(w), None, s, p, d, g), xt,
                                  torch.tensor(dy))
    np.testing.assert_allclose(a, dx_t.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("geometry", GEOMETRIES[:2], ids=["3x3", "rect-groups"])
def test_transposed_convolution_is_the_adjoint(geometry):
    """<conv2d(x), y> = <x, conv_transpose2d(y)> with the same weight and arguments."""
    c_in, c_out, k, s, p, d, g, hw = geometry
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, c_in, *hw))
    w = rng.standard_normal((c_out, c_in // g, *k))
    y, _ = conv2d_forward(x, w, None, s, p, d, g)
    v = rng.standard_normal(y.shape)
    extra = tuple(n + 2 * pp - dd * (kk - 1) - 1 - (m - 1) * ss for n, pp, dd, kk, m, ss in
                  zip(hw, p, d, k, y.shape[2:], s))  # rows below the last window
    xt, _ = conv_transpose2d_forward(v, w, None, s, p, extra, g, d)
    assert xt.shape == x.shape
    np.testing.assert_allclose(np.sum(y * v), np.sum(x * xt), rtol=1e-12)


def test_functional_pair_matches_the_layer():
    layer = Conv2d(3, 4, 3, stride=2, padding=1, rng=0)
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6))
    y = layer.forward(x)
    dy = np.random.default_rng(3).standard_normal(y.shape)
    dx = layer.backward(dy)
    y2, cache = conv2d_forward(x, layer.params["weight"], layer.params["bias"], 2, 1)
    dx2, dw2, db2 = conv2d_backward(dy, cache)
    assert np.array_equal(y, y2) and np.array_equal(dx, dx2)
    assert np.array_equal(layer.grads["weight"], dw2) and np.array_equal(layer.grads["bias"], db2)
    layer.needs_input_grad = False
    layer.forward(x)
    assert layer.backward(dy) is None and np.array_equal(layer.grads["weight"], dw2)


def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order_as_torch():
    """A window [[1, 1], [1, 0]] sends its whole gradient to (0, 0); [[0, 1], [1, 1]] to
    (0, 1): torch's CPU kernel keeps the first strictly greater value, scanning rows."""
    x = np.array([[[[1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0]]]])
    y, cache = max_pool2d_forward(x, 2)
    dx = max_pool2d_backward(np.array([[[[2.0, 3.0]]]]), cache)
    expected = np.array([[[[2.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]]]])
    assert np.array_equal(dx, expected)
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2).backward(torch.tensor([[[[2.0, 3.0]]]], dtype=torch.float64))
    assert np.array_equal(xt.grad.numpy(), expected)


def test_overlapping_windows_accumulate_and_indices_match_torch():
    x = np.array([[[[0.0, 5.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]])
    layer = MaxPool2d(2, stride=1, return_indices=True)
    y, idx = layer.forward(x)
    dx = layer.backward((np.ones_like(y), None))
    assert dx[0, 0, 0, 1] == 2.0 and dx.sum() == 4.0  # two windows share the 5
    _, idx_t = F.max_pool2d(torch.tensor(x), 2, stride=1, return_indices=True)
    assert np.array_equal(idx, idx_t.numpy())


def test_transposed_layer_shapes_follow_torch():
    layer = ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1, rng=0)
    assert layer.params["weight"].shape == (3, 4, 3, 3)
    assert layer.forward(np.ones((2, 3, 4, 5))).shape == (2, 4, 8, 10)
